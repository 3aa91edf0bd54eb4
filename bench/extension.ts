// Benchmarks of the VS Code extension (`npm run bench`): the size of the production bundle and the
// cost of activating it. The bundle is built into a temporary directory exactly as
// `scripts/build.mjs --production` builds dist/extension.js (so dist/ is left alone), then loaded in
// fresh Node processes (a cold start each, as the extension host has) with a stub `vscode` module
// that implements only what activate() may touch. Each run times require() of the bundle plus
// activate() with a fake ExtensionContext, and records every file, network and process call made
// meanwhile: activate() must register the command table and do nothing else (STYLE.md).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { median, type Report } from './engine';

const ROOT = join(__dirname, '..');
const BUNDLE_TARGET_KIB = 2048;
const ACTIVATE_TARGET_MS = 50;
const RUNS = 9;

/** What one child process reports (see CHILD below). */
interface ChildResult {
  requireMs: number;
  activateMs: number;
  /** vscode API members activate() used, e.g. "window.createOutputChannel". */
  api: string[];
  /** Members it asked for that the stub does not have (activate() then throws). */
  missing: string[];
  commands: string[];
  views: string[];
  subscriptions: number;
  undisposable: number;
  /** File, network and process calls between require() and the end of activate(), the bundle itself excepted. */
  io: string[];
  timers: string[];
  error?: string;
}

// The child: plain CommonJS for a bare `node` (no tsx hooks in the timings). argv: bundle path.
// Everything it sees is recorded; the stub's namespaces are Proxies, so an API member the stub does
// not implement is reported by name instead of failing somewhere inside the bundle.
const CHILD = String.raw`
'use strict';
const Module = require('node:module');
const fs = require('node:fs');
const path = require('node:path');
const bundle = process.argv[2];
const io = [];
const timers = [];
const api = new Set();
const missing = new Set();
let recording = false;
const note = (list, what) => { if (recording) list.push(what); };

// --- I/O recorders: every public entry point of fs, net, tls, http(s), dns, child_process, fetch.
const arg0 = (a) => (typeof a === 'string' ? a : a && typeof a === 'object' && 'href' in a ? String(a.href) : a && typeof a === 'object' ? JSON.stringify(a).slice(0, 80) : String(a));
function wrap(obj, name, label) {
  const orig = obj[name];
  if (typeof orig !== 'function') return;
  obj[name] = function (...args) {
    const what = label + '.' + name + '(' + arg0(args[0]) + ')';
    // The module loader reads the bundle itself through fs: that is loading, not activate()'s I/O.
    if (!(label === 'fs' && typeof args[0] === 'string' && path.resolve(args[0]) === bundle)) note(io, what);
    return orig.apply(this, args);
  };
}
const fsNames = ['readFileSync', 'readFile', 'openSync', 'open', 'readdirSync', 'readdir', 'statSync', 'stat', 'lstatSync', 'lstat', 'existsSync', 'accessSync', 'access', 'createReadStream', 'createWriteStream', 'writeFileSync', 'writeFile', 'watch', 'watchFile', 'mkdirSync', 'mkdir'];
for (const n of fsNames) wrap(fs, n, 'fs');
for (const n of ['readFile', 'open', 'readdir', 'stat', 'lstat', 'access', 'writeFile', 'mkdir', 'watch']) wrap(fs.promises, n, 'fs.promises');
const net = require('node:net');
for (const n of ['connect', 'createConnection', 'createServer']) wrap(net, n, 'net');
wrap(net.Socket.prototype, 'connect', 'net.Socket');
for (const m of ['tls', 'http', 'https']) { const mod = require('node:' + m); for (const n of ['connect', 'request', 'get', 'createServer']) wrap(mod, n, m); }
const dns = require('node:dns');
for (const n of ['lookup', 'resolve', 'resolve4', 'resolve6']) wrap(dns, n, 'dns');
const cp = require('node:child_process');
for (const n of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) wrap(cp, n, 'child_process');
if (typeof globalThis.fetch === 'function') { const f = globalThis.fetch; globalThis.fetch = (...a) => { note(io, 'fetch(' + arg0(a[0]) + ')'); return f(...a); }; }
for (const n of ['setTimeout', 'setInterval', 'setImmediate']) {
  const orig = globalThis[n];
  globalThis[n] = function (fn, ms, ...rest) { note(timers, n + '(' + (typeof ms === 'number' ? ms : '') + ')'); return orig.call(this, fn, ms, ...rest); };
}

// --- the stub vscode module.
const commands = [];
const views = [];
const disposable = () => ({ dispose() {} });
class EventEmitter {
  constructor() { this.listeners = new Set(); this.event = (l) => { this.listeners.add(l); return { dispose: () => this.listeners.delete(l) }; }; }
  fire(e) { for (const l of this.listeners) l(e); }
  dispose() { this.listeners.clear(); }
}
class Uri {
  constructor(p) { this.scheme = 'file'; this.path = p; this.fsPath = p; }
  static file(p) { return new Uri(p); }
  static joinPath(u, ...parts) { return new Uri(path.join(u.path, ...parts)); }
  toString() { return 'file://' + this.path; }
}
const config = { get: (_k, def) => def, has: () => false, inspect: () => undefined, update: async () => {} };
const impl = {
  EventEmitter,
  Uri,
  Disposable: class { constructor(f) { this.f = f; } dispose() { this.f?.(); } static from(...ds) { return { dispose: () => ds.forEach((d) => d.dispose()) }; } },
  StatusBarAlignment: { Left: 1, Right: 2 },
  TreeItemCollapsibleState: { None: 0, Collapsed: 1, Expanded: 2 },
  ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
  QuickPickItemKind: { Separator: -1, Default: 0 },
  ViewColumn: { Active: -1, Beside: -2, One: 1 },
  window: {
    createOutputChannel: () => ({ name: 'netpath', append() {}, appendLine() {}, clear() {}, show() {}, hide() {}, dispose() {} }),
    createStatusBarItem: () => ({ text: '', tooltip: '', command: undefined, show() {}, hide() {}, dispose() {} }),
    registerTreeDataProvider: (id) => { views.push(id); return disposable(); },
    // Registering a serializer only tells VS Code how to restore a panel later: no work now.
    registerWebviewPanelSerializer: () => disposable(),
  },
  workspace: {
    getConfiguration: () => config,
    onDidChangeConfiguration: () => disposable(),
    // A content provider for read-only capture views: registering it reads nothing.
    registerTextDocumentContentProvider: () => disposable(),
  },
  languages: { registerHoverProvider: () => disposable() },
  commands: { registerCommand: (id) => { commands.push(id); return disposable(); } },
};
// Records what is used; an unknown member is recorded as missing and throws with its name.
function recorder(target, prefix) {
  return new Proxy(target, {
    get(t, key) {
      if (typeof key === 'symbol' || key === 'then' || key === '__esModule' || key === 'default') return key === 'default' ? stub : t[key];
      const name = prefix ? prefix + '.' + key : key;
      if (!(key in t)) { missing.add(name); throw new Error('the vscode stub has no ' + name); }
      if (recording) api.add(name);
      const v = t[key];
      return v && typeof v === 'object' && !Array.isArray(v) && prefix === '' && /^[a-z]/.test(key) ? recorder(v, name) : v;
    },
  });
}
const stub = recorder(impl, '');
const STUB_ID = path.join(path.dirname(bundle), '__vscode_stub__.js');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) { return request === 'vscode' ? STUB_ID : resolve.call(this, request, ...rest); };
const stubModule = new Module(STUB_ID);
stubModule.filename = STUB_ID;
stubModule.loaded = true;
stubModule.exports = stub;
require.cache[STUB_ID] = stubModule;

// --- the fake ExtensionContext: what activate() reads from it is recorded too.
const memento = { get: (_k, d) => d, update: async () => {}, keys: () => [] };
const context = recorder({
  subscriptions: [],
  extensionUri: Uri.file(path.dirname(path.dirname(bundle))),
  extensionPath: path.dirname(path.dirname(bundle)),
  globalState: memento,
  workspaceState: memento,
  secrets: { get: async () => undefined, store: async () => {}, delete: async () => {}, onDidChange: () => disposable() },
  extensionMode: 1,
  asAbsolutePath: (p) => path.join(path.dirname(path.dirname(bundle)), p),
  storageUri: undefined,
  globalStorageUri: Uri.file('/nonexistent/global-storage'),
  logUri: Uri.file('/nonexistent/log'),
}, 'context');

const out = { requireMs: 0, activateMs: 0, api: [], missing: [], commands, views, subscriptions: 0, undisposable: 0, io, timers };
try {
  recording = true;
  const t0 = process.hrtime.bigint();
  const ext = require(bundle);
  const t1 = process.hrtime.bigint();
  ext.activate(context);
  const t2 = process.hrtime.bigint();
  recording = false;
  out.requireMs = Number(t1 - t0) / 1e6;
  out.activateMs = Number(t2 - t1) / 1e6;
  const subs = context.subscriptions;
  out.subscriptions = subs.length;
  out.undisposable = subs.filter((d) => !d || typeof d.dispose !== 'function').length;
  ext.deactivate?.();
  for (const d of subs) d?.dispose?.();
} catch (e) {
  recording = false;
  out.error = e && e.stack ? e.stack : String(e);
}
out.api = [...api].sort();
out.missing = [...missing].sort();
process.stdout.write(JSON.stringify(out));
process.exit(0);
`;

// An extension that reads a file, opens a connection, runs a process and starts a timer on
// activation: the probe must report each of them.
const CONTROL = `'use strict';
const vscode = require('vscode');
exports.activate = (context) => {
  require('node:fs').readFileSync(require('node:path').join(__dirname, '..', '..', 'activate-probe.cjs'));
  require('node:net').connect(9, '127.0.0.1').on('error', () => {}).destroy();
  require('node:child_process').spawnSync(process.execPath, ['--version']);
  setTimeout(() => {}, 1);
  context.subscriptions.push(vscode.commands.registerCommand('control.command', () => {}));
};
`;

/**
 * Builds the extension the way `scripts/build.mjs --production` does, into `dir`: the entry that
 * activate() runs (dist/extension.js) and the app it loads on first use (dist/app.js).
 */
async function buildProductionBundle(dir: string): Promise<{ file: string; app: string; inputs: { path: string; bytes: number }[] }> {
  const file = join(dir, 'dist', 'extension.js');
  const app = join(dir, 'dist', 'app.js');
  const inputs: { path: string; bytes: number }[] = [];
  for (const [entry, outfile] of [
    ['extension.ts', file],
    ['app.ts', app],
  ] as const) {
    const result = await build({
      bundle: true,
      sourcemap: false,
      minify: true,
      logLevel: 'warning',
      legalComments: 'none',
      entryPoints: [join(ROOT, 'src', 'vscode', entry)],
      outfile,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: ['vscode'],
      absWorkingDir: ROOT,
      metafile: true,
    });
    const out = Object.values(result.metafile.outputs)[0];
    inputs.push(...Object.entries(out?.inputs ?? {}).map(([path, v]) => ({ path, bytes: v.bytesInOutput })));
  }
  return { file, app, inputs };
}

/** The largest contributors to the bundle, grouped by npm package (or `src/<dir>`). */
function topContributors(inputs: { path: string; bytes: number }[], n = 4): string {
  const groups = new Map<string, number>();
  for (const i of inputs) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(i.path);
    const key = m ? m[1]! : (/^src\/[^/]+/.exec(i.path)?.[0] ?? i.path);
    groups.set(key, (groups.get(key) ?? 0) + i.bytes);
  }
  return [...groups.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, b]) => `${k} ${(b / 1024).toFixed(0)} KiB`)
    .join(', ');
}

function runChild(childFile: string, bundle: string): ChildResult {
  const r = spawnSync(process.execPath, [childFile, bundle], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NODE_OPTIONS: '' } });
  if (r.status !== 0 || !r.stdout) throw new Error(`the activation probe exited ${r.status ?? r.signal}: ${r.stderr.slice(0, 2000)}`);
  return JSON.parse(r.stdout) as ChildResult;
}

/**
 * Reports the production bundles' size (target < 2 MiB minified) and the activation: the median over
 * several cold starts of require() + activate() (target < 50 ms), which must make no file, network
 * or process call and register exactly the commands package.json contributes.
 */
export async function benchExtension(report: Report, opts: { runs?: number } = {}): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'netpath-bench-ext-'));
  try {
    const { file, app, inputs } = await buildProductionBundle(dir);
    const entryKib = statSync(file).size / 1024;
    const kib = entryKib + statSync(app).size / 1024;
    report(kib < BUNDLE_TARGET_KIB ? 'PASS' : 'FAIL', 'extension bundles (esbuild, minified, as scripts/build.mjs --production)', {
      figure: `${kib.toFixed(0)} KiB`,
      target: `< ${BUNDLE_TARGET_KIB} KiB`,
      detail: `dist/extension.js ${entryKib.toFixed(1)} KiB (what activation loads) + dist/app.js ${(kib - entryKib).toFixed(0)} KiB (loaded on first use); largest: ${topContributors(inputs)}`,
    });

    const childFile = join(dir, 'activate-probe.cjs');
    writeFileSync(childFile, CHILD);
    // The probe itself, on an extension that does what activate() must not: it must see all of it,
    // so that "no I/O" below means something.
    const control = join(dir, 'control', 'dist', 'extension.js');
    mkdirSync(join(control, '..'), { recursive: true });
    writeFileSync(control, CONTROL);
    const seen = runChild(childFile, control);
    const caught = ['fs.readFileSync(', 'net.connect(', 'child_process.spawnSync('].filter((w) => seen.io.some((c) => c.startsWith(w)));
    if (caught.length !== 3 || !seen.timers.length || seen.error) {
      report('FAIL', `the activation probe does not see what an extension does (it saw ${JSON.stringify(seen.io)}, timers ${JSON.stringify(seen.timers)}${seen.error ? `, error ${seen.error}` : ''}): fix bench/extension.ts`);
      return;
    }
    const runs: ChildResult[] = [];
    for (let i = 0; i < (opts.runs ?? RUNS); i++) runs.push(runChild(childFile, file));
    const failed = runs.find((r) => r.error);
    if (failed) {
      report('FAIL', `activate() threw${failed.missing.length ? ` (it uses vscode API the stub lacks: ${failed.missing.join(', ')}; add them to bench/extension.ts if they are fine at activation)` : ''}: ${failed.error!.split('\n').slice(0, 4).join(' | ')}`);
      return;
    }

    const total = runs.map((r) => r.requireMs + r.activateMs);
    const med = median(total);
    const first = runs[0]!;
    report(med < ACTIVATE_TARGET_MS ? 'PASS' : 'FAIL', `extension activation (fresh node, require + activate(), ${runs.length} runs)`, {
      figure: `median ${med.toFixed(1)} ms`,
      target: `< ${ACTIVATE_TARGET_MS} ms`,
      detail:
        `require ${median(runs.map((r) => r.requireMs)).toFixed(1)} ms + activate() ${median(runs.map((r) => r.activateMs)).toFixed(2)} ms, ` +
        `min ${Math.min(...total).toFixed(1)}, max ${Math.max(...total).toFixed(1)} ms`,
    });

    // activate() is a composition root: registrations only, no I/O, no timers.
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { contributes: { commands: { command: string }[]; views: Record<string, { id: string }[]> } };
    const contributed = pkg.contributes.commands.map((c) => c.command).sort();
    const views = Object.values(pkg.contributes.views).flat().map((v) => v.id).sort();
    const io = [...new Set(runs.flatMap((r) => r.io))];
    const timers = [...new Set(runs.flatMap((r) => r.timers))];
    const problems: string[] = [];
    if (io.length) problems.push(`file/network/process calls while loading and activating: ${io.slice(0, 8).join(', ')}${io.length > 8 ? `, ... (${io.length})` : ''}`);
    if (timers.length) problems.push(`timers started: ${timers.join(', ')}`);
    if (JSON.stringify([...first.commands].sort()) !== JSON.stringify(contributed)) problems.push(`registered commands ${JSON.stringify([...first.commands].sort())} != package.json's ${JSON.stringify(contributed)}`);
    if (JSON.stringify([...first.views].sort()) !== JSON.stringify(views)) problems.push(`tree views ${JSON.stringify(first.views)} != package.json's ${JSON.stringify(views)}`);
    if (first.undisposable) problems.push(`${first.undisposable} subscriptions without dispose()`);
    report(problems.length ? 'FAIL' : 'PASS', 'activate() only registers', {
      figure: problems.length ? `${problems.length} problems` : 'no file, network or process call, no timer',
      target: 'none of them',
      detail: problems.length
        ? problems.join('; ')
        : `the probe sees them in a control extension; it registered ${first.commands.length} commands and ${first.views.length} tree view ` +
          `(${first.subscriptions} disposables) with ${first.api.filter((a) => a.includes('.') && !a.startsWith('context.')).join(', ')}`,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// `node --import tsx bench/extension.ts` runs just this benchmark.
if (require.main === module) {
  let failed = 0;
  void benchExtension((status, text) => {
    if (status === 'FAIL') failed++;
    console.log(`${status}  ${text}`);
  }).then(
    () => (process.exitCode = failed ? 1 : 0),
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
