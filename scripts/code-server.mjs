// Real VS Code for this machine: code-server (VS Code's workbench and extension host served to a
// browser) from the npm registry, because @vscode/test-electron and @vscode/test-web download VS Code
// from update servers this network cannot reach. The recipe is /work/shared/notes/code-server.md:
// code-server's own postinstall fails here (kerberos wants libkrb5-dev, @vscode/ripgrep downloads rg
// from GitHub), so the steps it would run are done by hand with scripts off.
//
//   node scripts/code-server.mjs install          install into .cache/code-server (skipped when done)
//   node scripts/code-server.mjs start [--port N] [--folder DIR]
//                                                  package the extension, serve it, print the URL
//
// test/e2e/harness.ts imports the same functions, so the tests and `npm run vscode` run VS Code the
// same way. Everything listens on 127.0.0.1 only.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { clearTimeout, setTimeout } from 'node:timers';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CODE_SERVER_VERSION = '4.100.3';
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const cacheDir = join(repoRoot, '.cache');
export const installDir = join(cacheDir, 'code-server');
const marker = join(installDir, '.netpath-installed.json');
const demoCapture = join(repoRoot, 'examples', 'demo-flannel-vxlan.json');

/** Settings for a fresh profile: no trust prompt, no welcome page, nothing that phones home. */
export const testSettings = {
  'security.workspace.trust.enabled': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'update.mode': 'none',
};

/** An error whose message says what went wrong and what to do about it. */
export class SetupError extends Error {
  constructor(message) {
    super(message);
    this.name = 'SetupError';
  }
}

const log = (msg) => process.stderr.write(`[code-server] ${msg}\n`);

// What must be true of an installation for it to be reused: the version, and the Node ABI its native
// modules (node-pty, spdlog, argon2, ...) were rebuilt for.
function wanted() {
  return { version: CODE_SERVER_VERSION, nodeModules: process.versions.modules };
}

function readMarker() {
  try {
    return JSON.parse(readFileSync(marker, 'utf8'));
  } catch {
    return undefined;
  }
}

export function isInstalled() {
  const m = readMarker();
  const w = wanted();
  return m?.version === w.version && m?.nodeModules === w.nodeModules && existsSync(join(installDir, 'out', 'node', 'entry.js'));
}

function which(cmd) {
  const r = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

// Runs one step; on failure the error carries the step, the tail of its output and the hint.
function run(step, cmd, args, { cwd, env, hint }) {
  const t = Date.now();
  const r = spawnSync(cmd, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.error || r.status !== 0) {
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-25).join('\n');
    throw new SetupError(`installing code-server ${CODE_SERVER_VERSION}: ${step} failed (${r.error ? r.error.message : `exit ${r.status}`}) in ${cwd}\n` + `  $ ${cmd} ${args.join(' ')}\n${out.replace(/^/gm, '  | ')}\n${hint}`);
  }
  log(`${step} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  return r.stdout;
}

function checkPrerequisites() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major !== 20) {
    throw new SetupError(`code-server ${CODE_SERVER_VERSION} needs Node 20 and this is Node ${process.versions.node}; run with Node 20 (newer code-server releases want Node 22, but this one is pinned to match netpath's engines)`);
  }
  for (const [cmd, fix] of [
    ['npm', 'install Node 20 with its npm'],
    ['tar', 'apt-get install tar'],
    ['rg', 'run `node scripts/system-deps.mjs` as root, or apt-get install ripgrep (VS Code search uses it; @vscode/ripgrep would download it from GitHub)'],
  ]) {
    if (!which(cmd)) throw new SetupError(`installing code-server needs \`${cmd}\`, which is not on PATH: ${fix}`);
  }
}

/**
 * Installs code-server into .cache/code-server unless the same version is already there. The work is
 * done in a staging directory that is renamed into place at the end, so an interrupted install never
 * looks finished; a lock directory keeps two installs from running at once.
 */
export function ensureCodeServer({ quiet = false } = {}) {
  const started = Date.now();
  fenceCache();
  const done = () => ({ dir: installDir, installed: false, seconds: (Date.now() - started) / 1000 });
  if (isInstalled()) {
    if (!quiet) log(`code-server ${CODE_SERVER_VERSION} already installed in ${installDir}`);
    return done();
  }
  checkPrerequisites();
  // One install at a time (e2e test files run in parallel); whoever waited finds it done.
  return withInstallLock(() => (isInstalled() ? done() : install(started)));
}

// .cache holds some 6,000 files of someone else's JavaScript (one with its own eslint.config.mjs,
// which makes typescript-eslint refuse to lint anything): keep git and ESLint out of it from inside,
// so the repository works whatever its own ignore lists say. ESLint 10 takes the nearest config.
function fenceCache() {
  mkdirSync(cacheDir, { recursive: true });
  const fences = {
    '.gitignore': '# Written by scripts/code-server.mjs: everything here is downloaded or generated.\n*\n',
    'eslint.config.mjs': '// Written by scripts/code-server.mjs: nothing here is netpath source.\nexport default [{ ignores: [\'**\'] }];\n',
  };
  for (const [name, text] of Object.entries(fences)) {
    const file = join(cacheDir, name);
    if (!existsSync(file) || readFileSync(file, 'utf8') !== text) writeFileSync(file, text);
  }
}

const lockDir = join(cacheDir, 'code-server.lock');
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
};

function withInstallLock(fn) {
  mkdirSync(cacheDir, { recursive: true });
  const deadline = Date.now() + 15 * 60_000;
  let said = false;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
    let holder;
    try {
      holder = Number(readFileSync(join(lockDir, 'pid'), 'utf8'));
    } catch {
      holder = undefined; // just created, pid not written yet
    }
    if (holder && !alive(holder)) {
      rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new SetupError(`another code-server install (pid ${holder}) has held ${lockDir} for 15 minutes; if no install is running, delete that directory`);
    if (!said) log(`waiting for another code-server install (pid ${holder ?? '?'}) to finish`);
    said = true;
    sleep(1000);
  }
  try {
    return fn();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

function install(started) {
  const staging = mkdtempSync(join(cacheDir, 'code-server.partial-'));
  try {
    log(`installing code-server ${CODE_SERVER_VERSION} into ${installDir} (half a minute to two minutes)`);
    const net = 'is the npm registry reachable? (npm config get registry)';
    const tgz = run('npm pack', 'npm', ['pack', `code-server@${CODE_SERVER_VERSION}`, '--silent'], { cwd: staging, hint: net }).trim().split('\n').pop();
    run('unpack', 'tar', ['xzf', tgz], { cwd: staging, hint: 'the tarball from npm pack could not be unpacked; delete .cache/code-server* and try again' });
    const pkg = join(staging, 'package');
    const vscode = join(pkg, 'lib', 'vscode');
    const install = ['install', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'];
    for (const [step, cwd] of [
      ['npm install lib/vscode', vscode],
      ['npm install lib/vscode/extensions', join(vscode, 'extensions')],
      ['npm install code-server', pkg],
    ]) {
      run(step, 'npm', install, { cwd, hint: net });
    }
    const native = 'the native modules build with node-gyp: apt-get install python3 make g++';
    // node-pty's install script runs `npx node-gyp`, which waits for a yes without npm_config_yes.
    run('npm rebuild (lib/vscode native modules)', 'npm', ['rebuild', 'node-pty', '@vscode/spdlog', 'native-watchdog', '@parcel/watcher', '@vscode/deviceid'], {
      cwd: vscode,
      env: { npm_config_yes: 'true' },
      hint: native,
    });
    // kerberos is loaded only to answer a proxy's Negotiate challenge, and builds only against
    // libkrb5-dev's headers: build it when they are there, otherwise do without it.
    if (existsSync('/usr/include/gssapi/gssapi.h')) {
      run('npm rebuild kerberos', 'npm', ['rebuild', 'kerberos'], { cwd: vscode, hint: native });
    } else {
      log('skipped kerberos (only for Kerberos proxy authentication; apt-get install libkrb5-dev to build it)');
    }
    run('npm rebuild argon2', 'npm', ['rebuild', 'argon2'], { cwd: pkg, hint: native });

    // What the skipped postinstall would have made: Debian's rg instead of the GitHub download, and
    // the symlinks from code-server's postinstall.sh.
    const rgDir = join(vscode, 'node_modules', '@vscode', 'ripgrep', 'bin');
    mkdirSync(rgDir, { recursive: true });
    copyFileSync(which('rg'), join(rgDir, 'rg'));
    chmodSync(join(rgDir, 'rg'), 0o755);
    for (const [target, link] of [
      ['node_modules', join(vscode, 'node_modules.asar')],
      ['code-linux.sh', join(vscode, 'bin', 'remote-cli', 'code-server')],
      ['browser-linux.sh', join(vscode, 'bin', 'helpers', 'browser.sh')],
    ]) {
      rmSync(link, { force: true, recursive: true });
      symlinkSync(target, link);
    }

    const version = run('smoke test', process.execPath, [join(pkg, 'out', 'node', 'entry.js'), '--version'], { cwd: pkg, hint: 'code-server was unpacked but does not start; delete .cache/code-server and run again' });
    if (!version.includes(CODE_SERVER_VERSION)) throw new SetupError(`code-server --version printed ${JSON.stringify(version.trim())}, expected ${CODE_SERVER_VERSION}`);
    writeFileSync(join(pkg, '.netpath-installed.json'), `${JSON.stringify({ ...wanted(), installedAt: new Date().toISOString() }, null, 2)}\n`);

    rmSync(installDir, { recursive: true, force: true });
    renameSync(pkg, installDir);
    const seconds = (Date.now() - started) / 1000;
    log(`installed code-server ${CODE_SERVER_VERSION} in ${seconds.toFixed(0)} s`);
    return { dir: installDir, installed: true, seconds };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

const entry = () => join(installDir, 'out', 'node', 'entry.js');

// code-server keeps its config.yaml (with a generated password), logs and heartbeat under the XDG
// directories, i.e. in $HOME by default: point them into the profile so a run leaves nothing behind.
const serverEnv = (userDataDir) => ({ ...process.env, XDG_CONFIG_HOME: join(userDataDir, 'xdg-config'), XDG_DATA_HOME: join(userDataDir, 'xdg-data') });

/**
 * Builds the .vsix with `npm run package`. With `isolated`, it does so in a temporary copy of the
 * sources (node_modules linked), so that tests never rewrite the dist/ that other tests are reading.
 * Returns the path of the .vsix.
 */
export function packageVsix({ isolated = false } = {}) {
  const t = Date.now();
  let cwd = repoRoot;
  if (isolated) {
    cwd = mkdtempSync(join(tmpdir(), 'netpath-vsix-'));
    // Everything the build or vsce might read; not the big or generated directories.
    const leaveOut = new Set(['node_modules', '.git', '.cache', 'dist', 'test', 'test-artifacts']);
    for (const name of readdirSync(repoRoot)) {
      if (!leaveOut.has(name)) cpSync(join(repoRoot, name), join(cwd, name), { recursive: true });
    }
    symlinkSync(join(repoRoot, 'node_modules'), join(cwd, 'node_modules'));
  }
  const r = spawnSync('npm', ['run', '--silent', 'package'], { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const vsix = join(cwd, 'dist', 'netpath.vsix');
  if (r.status !== 0 || !existsSync(vsix)) {
    throw new SetupError(`\`npm run package\` failed (exit ${r.status}) in ${cwd}:\n${`${r.stdout}${r.stderr}`.trim().replace(/^/gm, '  | ')}\nfix the build (npm run build, npm run typecheck) and try again`);
  }
  log(`packaged ${vsix} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  return { vsix, cleanup: () => isolated && rmSync(cwd, { recursive: true, force: true }) };
}

/**
 * A fresh profile: installs the .vsix into `extensionsDir` and writes the user settings. Unless
 * `demo` is false, `folder` gets a copy of the demo capture so there is something to open.
 */
export function prepareProfile({ vsix, userDataDir, extensionsDir, folder, settings = testSettings, demo = true }) {
  const t = Date.now();
  for (const d of [userDataDir, extensionsDir, folder]) mkdirSync(d, { recursive: true });
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  writeFileSync(join(userDataDir, 'User', 'settings.json'), `${JSON.stringify(settings, null, 2)}\n`);
  if (demo) copyFileSync(demoCapture, join(folder, 'demo-flannel-vxlan.json'));
  const r = spawnSync(process.execPath, [entry(), '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, '--install-extension', vsix], { encoding: 'utf8', env: serverEnv(userDataDir) });
  if (r.status !== 0 || !/successfully installed/i.test(`${r.stdout}${r.stderr}`)) {
    throw new SetupError(`code-server --install-extension ${vsix} failed (exit ${r.status}):\n${`${r.stdout}${r.stderr}`.trim().replace(/^/gm, '  | ')}`);
  }
  log(`installed the extension into ${extensionsDir} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
}

/**
 * Serves the workbench on 127.0.0.1:`port` (0 picks a free port) and resolves once it listens.
 * The server runs in its own process group so `stop()` ends it together with the extension host
 * and the other processes it forks.
 */
export function startServer({ port = 0, userDataDir, extensionsDir, folder, onOutput }) {
  const args = [entry(), '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, folder];
  const child = spawn(process.execPath, args, { cwd: installDir, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: serverEnv(userDataDir) });
  let output = '';
  let exited = false;
  let listening = false;
  const stop = () =>
    new Promise((done) => {
      if (exited || child.pid === undefined) return done();
      child.once('exit', () => done());
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        return done();
      }
      setTimeout(() => {
        try {
          if (!exited) process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }, 5000).unref();
    });
  return new Promise((resolveStart, reject) => {
    const t = Date.now();
    const timer = setTimeout(() => fail(new SetupError(`code-server did not start listening within 60 s; its output:\n${output}`)), 60_000);
    const fail = (e) => {
      clearTimeout(timer);
      void stop().then(() => reject(e));
    };
    const onData = (chunk) => {
      const s = chunk.toString();
      output += s;
      onOutput?.(s);
      const m = /HTTP server listening on (http:\/\/127\.0\.0\.1:(\d+)\/?)/.exec(output);
      if (m && !listening) {
        listening = true;
        clearTimeout(timer);
        resolveStart({ url: `http://127.0.0.1:${m[2]}/`, port: Number(m[2]), pid: child.pid, seconds: (Date.now() - t) / 1000, output: () => output, stop });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (e) => fail(new SetupError(`cannot start code-server: ${e.message}`)));
    child.on('exit', (code, signal) => {
      exited = true;
      if (!listening) {
        const busy = /EADDRINUSE/.test(output) ? `port ${port} is in use: pick another with --port (0 for any free port). ` : '';
        fail(new SetupError(`${busy}code-server exited (${signal ?? `exit ${code}`}) before it listened; its output:\n${output}`));
      }
    });
  });
}

async function main(argv) {
  const [mode = 'install', ...rest] = argv;
  const opt = (name, fallback) => {
    const i = rest.indexOf(`--${name}`);
    return i >= 0 && rest[i + 1] !== undefined ? rest[i + 1] : fallback;
  };
  if (mode === 'install') {
    ensureCodeServer();
    return;
  }
  if (mode !== 'start') {
    console.error('usage: node scripts/code-server.mjs install | start [--port N] [--folder DIR]');
    process.exit(2);
  }
  ensureCodeServer();
  const { vsix } = packageVsix();
  // A fresh profile every time, so what you see is what a new user of the .vsix sees.
  const run = join(cacheDir, 'code-server-run');
  rmSync(run, { recursive: true, force: true });
  const own = opt('folder', undefined);
  const folder = resolve(own ?? join(run, 'workspace'));
  prepareProfile({ vsix, userDataDir: join(run, 'user-data'), extensionsDir: join(run, 'extensions'), folder, demo: !own });
  const port = Number(opt('port', process.env.PORT ?? '8080'));
  const server = await startServer({ port, userDataDir: join(run, 'user-data'), extensionsDir: join(run, 'extensions'), folder, onOutput: (s) => process.stderr.write(s) });
  const stop = () => void server.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  console.log(`\nVS Code (code-server ${CODE_SERVER_VERSION}) with netpath: ${server.url}`);
  console.log(`Open it in a browser, then run "netpath: Load Demo Capture" from the command palette (Ctrl+Shift+P). Ctrl+C stops it.`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(e instanceof SetupError ? `error: ${e.message}` : e);
    process.exit(1);
  });
}
