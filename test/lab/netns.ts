// Running commands on the host and inside network namespaces, and the `Lab` that owns the namespaces
// of one lab run. Commands are argv arrays handed to execve (never a shell string), so nothing taken
// from a topology or a capture can be interpreted by a shell.
//
// Everything a lab creates lives in namespaces named `np<pid>-<seq>-<host>`: the pid says which
// process owns them, so a sweep can tell a crashed run's leftovers from a run still in progress, and
// nothing else on the machine (other namespaces, the host's own links) is ever touched.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync, readlinkSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Extra directories searched for tools: `ip` and `bridge` live in /usr/sbin, often missing from a user's PATH. */
const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin'];
const SEARCH_PATH = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...SBIN]
  .filter((d, i, all) => all.indexOf(d) === i)
  .join(delimiter);
/** C locale and a PATH with sbin, so tools print the same words on every machine. */
const CHILD_ENV: NodeJS.ProcessEnv = { ...process.env, PATH: SEARCH_PATH, LC_ALL: 'C', LANG: 'C' };
const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_BUFFER = 64 * 1024 * 1024;

export interface RunResult {
  argv: readonly string[];
  /** Exit code, or null when the process was killed by a signal or could not start. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Set when the process could not be started (ENOENT: not installed) or timed out. */
  spawnError?: NodeJS.ErrnoException;
}

export interface RunOptions {
  timeoutMs?: number;
  input?: string;
}

/** A command that did not exit 0: says which command, how it ended, and what it printed on stderr. */
export class CommandError extends Error {
  constructor(readonly result: RunResult) {
    super(describeFailure(result));
    this.name = 'CommandError';
  }
}

/** Quotes an argv for messages only (it is never executed as a string). */
export function formatArgv(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

function describeFailure(r: RunResult): string {
  const cmd = formatArgv(r.argv);
  if (r.spawnError?.code === 'ENOENT') return `${cmd}: ${r.argv[0]} is not installed (not found in ${SEARCH_PATH})`;
  if (r.spawnError?.code === 'ETIMEDOUT') return `${cmd}: timed out and was killed`;
  if (r.spawnError) return `${cmd}: could not run: ${r.spawnError.message}`;
  const how = r.signal ? `killed by ${r.signal}` : `exit code ${r.code}`;
  const err = r.stderr.trim();
  return `${cmd}: failed (${how})${err ? `\n  stderr: ${err.split('\n').join('\n          ')}` : ''}`;
}

/** Runs argv synchronously and returns whatever happened; never throws. */
export function tryRun(argv: readonly string[], opts: RunOptions = {}): RunResult {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error('tryRun: empty argv');
  const r = spawnSync(file, args, {
    env: CHILD_ENV,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxBuffer: MAX_BUFFER,
    input: opts.input,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out: RunResult = { argv, code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  if (r.error) out.spawnError = r.error as NodeJS.ErrnoException;
  return out;
}

/** Runs argv synchronously; throws a CommandError unless it exits 0. Returns stdout. */
export function run(argv: readonly string[], opts: RunOptions = {}): string {
  const r = tryRun(argv, opts);
  if (r.spawnError || r.code !== 0) throw new CommandError(r);
  return r.stdout;
}

/** Runs argv asynchronously and returns whatever happened; never rejects. */
export function tryRunAsync(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.reject(new Error('tryRunAsync: empty argv'));
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { env: CHILD_ENV, encoding: 'utf8', timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, maxBuffer: MAX_BUFFER },
      (error, stdout, stderr) => {
        const e = error as (NodeJS.ErrnoException & { code?: string | number; killed?: boolean; signal?: NodeJS.Signals }) | null;
        const out: RunResult = { argv, code: 0, signal: null, stdout, stderr };
        if (e) {
          if (typeof e.code === 'number') out.code = e.code;
          else {
            out.code = null;
            out.spawnError = e;
          }
          if (e.signal) {
            out.code = null;
            out.signal = e.signal;
          }
        }
        resolve(out);
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/** The absolute path of an executable found on PATH (plus the sbin directories), or undefined. */
export function which(name: string): string | undefined {
  if (name.includes('/')) return isExecutable(name) ? name : undefined;
  for (const dir of SEARCH_PATH.split(delimiter)) {
    const p = join(dir, name);
    if (isExecutable(p)) return p;
  }
  return undefined;
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Namespace names

/** Distinguishes labs (and prerequisite probes) of one process. */
let nextSeq = 0;

const NAME_RE = /^np(\d+)-(\d+)-([A-Za-z0-9][A-Za-z0-9_.-]*)$/;
/** A host name usable in a namespace name (it becomes a file under /run/netns). */
const HOST_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/** Which process and lab a namespace name belongs to, if it follows the lab's naming pattern. */
export function parseLabNamespace(name: string): { pid: number; seq: number; host: string } | undefined {
  const m = NAME_RE.exec(name);
  return m ? { pid: Number(m[1]), seq: Number(m[2]), host: m[3]! } : undefined;
}

/** Every named network namespace on the machine (`ip netns list`), names only. */
export function listNamespaces(): string[] {
  return run(['ip', 'netns', 'list'])
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface SweepResult {
  removed: string[];
  failed: { name: string; error: string }[];
}

/**
 * Deletes namespaces left behind by lab runs that are no longer running (their owner pid is gone).
 * Only names that follow the lab's own pattern are considered; a live run's namespaces are kept.
 */
export function sweepStaleNamespaces(): SweepResult {
  const result: SweepResult = { removed: [], failed: [] };
  for (const name of listNamespaces()) {
    const owner = parseLabNamespace(name);
    if (!owner || owner.pid === process.pid || isAlive(owner.pid)) continue;
    const r = tryRun(['ip', 'netns', 'delete', name]);
    if (r.code === 0) result.removed.push(name);
    else result.failed.push({ name, error: describeFailure(r) });
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Prerequisites

export interface Prerequisite {
  what: string;
  ok: boolean;
  /** For a failed check: what is missing and how to get it. */
  fix?: string;
  /** Optional prerequisites only warn. */
  optional?: boolean;
}

const TOOLS: { name: string; fix: string; optional?: boolean; alternative?: string }[] = [
  { name: 'ip', fix: 'install iproute2 (Debian/Ubuntu: apt-get install iproute2; Fedora/RHEL: dnf install iproute; Alpine: apk add iproute2)' },
  { name: 'bridge', fix: 'install iproute2, which ships `bridge` (Debian/Ubuntu: apt-get install iproute2; Fedora/RHEL: dnf install iproute)' },
  { name: 'nsenter', fix: 'install util-linux (apt-get install util-linux; dnf install util-linux-core), which ships nsenter' },
  { name: 'sysctl', alternative: 'busybox', fix: 'install procps (apt-get install procps; dnf install procps-ng) or busybox' },
  { name: 'ping', alternative: 'busybox', fix: 'install iputils-ping (apt-get install iputils-ping; dnf install iputils) or busybox' },
  { name: 'brctl', optional: true, fix: 'optional, for the brctl probe: apt-get install bridge-utils (dnf install bridge-utils)' },
  { name: 'iptables-save', optional: true, fix: 'optional, for the iptables probe: apt-get install iptables (dnf install iptables)' },
  { name: 'arp', optional: true, fix: 'optional, for the arp probe: apt-get install net-tools (dnf install net-tools)' },
];

/**
 * Checks what the lab needs: root, `ip netns`, the tools, and kernel support for veth, bridge and
 * VXLAN (tried for real in a throwaway namespace of the lab's own naming pattern).
 */
export function checkPrerequisites(): Prerequisite[] {
  const out: Prerequisite[] = [];
  const root = process.getuid?.() === 0;
  out.push({
    what: 'running as root',
    ok: root,
    fix: `the lab creates network namespaces, which needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN): run it with sudo, e.g. sudo -E npm run lab:demo (uid is ${process.getuid?.() ?? 'unknown'})`,
  });
  for (const t of TOOLS) {
    const found = which(t.name) ?? (t.alternative ? which(t.alternative) : undefined);
    out.push({ what: `${t.name} installed`, ok: found !== undefined, fix: `${t.name} not found in ${SEARCH_PATH}: ${t.fix}`, optional: t.optional ?? false });
  }
  if (!root || !which('ip')) return out;
  const probe = `np${process.pid}-${nextSeq++}-probe`;
  const add = tryRun(['ip', 'netns', 'add', probe]);
  out.push({
    what: '`ip netns add` works',
    ok: add.code === 0,
    fix: `${describeFailure(add)}\n  network namespaces are unavailable: the kernel needs CONFIG_NET_NS, /run/netns must be writable, and in a container the lab needs --privileged (or CAP_SYS_ADMIN with an unconfined seccomp/apparmor profile)`,
  });
  if (add.code !== 0) return out;
  try {
    const kernel: [string, string[], string][] = [
      ['veth pairs', ['link', 'add', 'npv0', 'type', 'veth', 'peer', 'name', 'npv1'], 'kernel module veth (CONFIG_VETH): modprobe veth'],
      ['Linux bridges', ['link', 'add', 'npbr0', 'type', 'bridge'], 'kernel module bridge (CONFIG_BRIDGE): modprobe bridge'],
      ['VXLAN devices', ['link', 'add', 'npvx0', 'type', 'vxlan', 'id', '1', 'dstport', '8472', 'local', '192.0.2.1', 'nolearning'], 'kernel module vxlan (CONFIG_VXLAN): modprobe vxlan'],
    ];
    for (const [what, args, fix] of kernel) {
      const r = tryRun(['ip', '-n', probe, ...args]);
      out.push({ what: `kernel supports ${what}`, ok: r.code === 0, fix: `${describeFailure(r)}\n  needs the ${fix}` });
    }
  } finally {
    tryRun(['ip', 'netns', 'delete', probe]);
  }
  return out;
}

/** Human-readable list of failed checks; empty when everything required is there. */
export function describeMissing(checks: readonly Prerequisite[], includeOptional = false): string {
  return checks
    .filter((c) => !c.ok && (includeOptional || !c.optional))
    .map((c) => `- ${c.what}: NO\n  ${c.fix ?? ''}`)
    .join('\n');
}

/** Throws one error naming everything required that is missing. */
export function requirePrerequisites(): Prerequisite[] {
  const checks = checkPrerequisites();
  const missing = describeMissing(checks);
  if (missing) throw new Error(`the netns lab cannot run here:\n${missing}`);
  return checks;
}

// ---------------------------------------------------------------------------------------------
// The lab

const liveLabs = new Set<Lab>();
let handlersInstalled = false;

function onExit(): void {
  for (const lab of [...liveLabs]) lab.disposeQuietly();
}

function onSignal(signal: NodeJS.Signals): void {
  process.stderr.write(`\nnetns lab: ${signal} received, removing lab namespaces\n`);
  onExit();
  uninstallHandlers();
  // Die by the same signal so the parent sees how we ended (exit status 128+n).
  process.kill(process.pid, signal);
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', onExit);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
}

function uninstallHandlers(): void {
  if (!handlersInstalled) return;
  handlersInstalled = false;
  process.off('exit', onExit);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('SIGHUP', onSignal);
}

export interface LabOptions {
  /** Called with progress lines (commands are not logged unless `trace` is set). */
  log?: (line: string) => void;
  /** Log every command before it runs. */
  trace?: boolean;
}

/**
 * One lab run: the namespaces it created and the commands it runs in them. Always dispose it
 * (`withLab` does): namespaces outlive the process otherwise. If the process exits or is signalled
 * first, the handlers installed here remove them.
 */
export class Lab {
  /** `np<pid>-<seq>-`: every namespace of this lab starts with it. */
  readonly prefix: string;
  private readonly created: string[] = [];
  private readonly hosts = new Map<string, string>();
  private readonly views = new Map<string, ProbeView>();
  private disposed = false;
  private readonly log: (line: string) => void;
  private readonly trace: boolean;

  constructor(opts: LabOptions = {}) {
    this.prefix = `np${process.pid}-${nextSeq++}-`;
    this.log = opts.log ?? (() => {});
    this.trace = opts.trace ?? false;
    liveLabs.add(this);
    installHandlers();
  }

  /** Creates a namespace for a host (with `lo` up) and returns its full name. */
  addNamespace(host: string): string {
    this.assertLive();
    if (!HOST_RE.test(host)) throw new Error(`lab host name "${host}" must match ${HOST_RE} (it becomes a namespace name)`);
    if (this.hosts.has(host)) throw new Error(`lab host "${host}" already has a namespace (${this.hosts.get(host)})`);
    const ns = this.prefix + host;
    this.exec(['ip', 'netns', 'add', ns]);
    // Recorded as soon as it exists, so a failure below still gets it removed.
    this.created.push(ns);
    this.hosts.set(host, ns);
    this.ip(host, 'link', 'set', 'lo', 'up');
    return ns;
  }

  /** The namespace name of a host of this lab. */
  ns(host: string): string {
    this.assertLive();
    const ns = this.hosts.get(host);
    if (ns === undefined) throw new Error(`lab host "${host}" has no namespace in this lab (known: ${[...this.hosts.keys()].join(', ') || 'none'})`);
    return ns;
  }

  /** Host names in creation order. */
  hostNames(): string[] {
    return [...this.hosts.keys()];
  }

  /** Namespaces this lab created and has not removed, in creation order. */
  namespaces(): string[] {
    return [...this.created];
  }

  /** `ip -n <ns> ARGS...` */
  ip(host: string, ...args: string[]): string {
    return this.exec(['ip', '-n', this.ns(host), ...args]);
  }

  /** `bridge -n <ns> ARGS...` */
  bridge(host: string, ...args: string[]): string {
    return this.exec(['bridge', '-n', this.ns(host), ...args]);
  }

  /** `ip netns exec <ns> ARGV...`: any program inside a host's namespace; throws unless it exits 0. */
  execIn(host: string, argv: readonly string[], opts: RunOptions = {}): string {
    return this.exec(['ip', 'netns', 'exec', this.ns(host), ...argv], opts);
  }

  /** Like execIn but returns the result instead of throwing. */
  tryExecIn(host: string, argv: readonly string[], opts: RunOptions = {}): RunResult {
    this.assertLive();
    const full = ['ip', 'netns', 'exec', this.ns(host), ...argv];
    if (this.trace) this.log(`$ ${formatArgv(full)}`);
    return tryRun(full, opts);
  }

  /**
   * Runs a probe command in a host's namespace the way it runs on a real machine: through the host's
   * probe view (see ProbeView), where the lab's namespace names are not visible. Never rejects.
   */
  async tryProbeAsync(host: string, argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    this.assertLive();
    let view = this.views.get(host);
    if (!view || view.dead) {
      view = new ProbeView(this.ns(host));
      this.views.set(host, view);
    }
    const pid = await view.ready;
    const full = ['nsenter', '-t', String(pid), '-m', '-n', '--', ...argv];
    if (this.trace) this.log(`$ ${formatArgv(full)}`);
    return tryRunAsync(full, opts);
  }

  /** Pids of the running probe views (for tests that check nothing outlives the lab). */
  probeViewPids(): number[] {
    return [...this.views.values()].flatMap((v) => (v.dead || v.pid === undefined ? [] : [v.pid]));
  }

  /** Sets sysctls inside a host's namespace (`key=value` pairs). */
  sysctl(host: string, ...settings: string[]): void {
    const tool = which('sysctl') ? ['sysctl'] : ['busybox', 'sysctl'];
    this.execIn(host, [...tool, '-q', '-w', ...settings]);
  }

  private exec(argv: readonly string[], opts: RunOptions = {}): string {
    this.assertLive();
    if (this.trace) this.log(`$ ${formatArgv(argv)}`);
    return run(argv, opts);
  }

  private assertLive(): void {
    if (this.disposed) throw new Error(`lab ${this.prefix}* has been disposed`);
  }

  /**
   * Removes every namespace this lab created (their links, veth peers and routes go with them) and
   * checks that none is left. Idempotent. Throws if something could not be removed.
   */
  dispose(): void {
    const problems = this.teardown();
    if (problems.length) throw new Error(`lab ${this.prefix}*: could not remove everything:\n${problems.join('\n')}`);
  }

  /** dispose() for exit paths: reports problems on stderr instead of throwing. */
  disposeQuietly(): void {
    const problems = this.teardown();
    if (problems.length) process.stderr.write(`netns lab ${this.prefix}*: could not remove everything:\n${problems.join('\n')}\n`);
  }

  private teardown(): string[] {
    const problems: string[] = [];
    if (!this.disposed) {
      this.disposed = true;
      liveLabs.delete(this);
      if (liveLabs.size === 0) uninstallHandlers();
      for (const v of this.views.values()) v.kill();
      this.views.clear();
      for (const ns of [...this.created].reverse()) {
        const r = tryRun(['ip', 'netns', 'delete', ns]);
        if (r.code !== 0 && !/No such file|does not exist/i.test(r.stderr)) problems.push(describeFailure(r));
      }
      this.created.length = 0;
      this.hosts.clear();
      this.log(`lab ${this.prefix}*: namespaces removed`);
    }
    const listed = tryRun(['ip', 'netns', 'list']);
    if (listed.code === 0) {
      const left = listed.stdout.split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '').filter((n) => n.startsWith(this.prefix));
      if (left.length) problems.push(`namespaces still present: ${left.join(', ')} (remove with: ip netns delete NAME)`);
    }
    return problems;
  }
}

/**
 * A parked process (`cat`, reading a pipe from us, so it also ends when this process dies) inside a
 * host's namespace, started by `ip netns exec` (which gives it a mount namespace with that
 * namespace's /sys), with an empty tmpfs mounted over /run/netns. Probes enter it with nsenter.
 *
 * Why: iproute2 prints a veth peer's namespace by name (`link-netns np123-0-k8s-node1`) when it can
 * find that name under /run/netns. On a real node the peer is the root namespace, which has no name,
 * and iproute2 prints `link-netnsid 0`. Hiding the lab's names makes the lab's tables read like a
 * real node's and keeps the pid-based names out of captures.
 */
class ProbeView {
  readonly ready: Promise<number>;
  dead = false;
  private readonly child: ChildProcess;

  constructor(readonly ns: string) {
    this.child = spawn('ip', ['netns', 'exec', ns, 'cat'], { env: CHILD_ENV, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    this.child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    this.child.on('exit', () => (this.dead = true));
    this.child.on('error', () => (this.dead = true));
    this.child.unref();
    (this.child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    (this.child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
    this.ready = this.start(() => stderr);
  }

  private async start(stderr: () => string): Promise<number> {
    const pid = this.child.pid;
    if (pid === undefined) throw new Error(`could not start a probe view in ${this.ns}: ip netns exec did not start`);
    const ownMnt = readlinkSync('/proc/self/ns/mnt');
    const deadline = Date.now() + 10_000;
    // `ip netns exec` sets up the mount namespace, then execs cat in the same process.
    for (;;) {
      if (this.dead) throw new Error(`probe view in ${this.ns} ended early: ${stderr().trim() || 'no message'}`);
      try {
        if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'cat' && readlinkSync(`/proc/${pid}/ns/mnt`) !== ownMnt) break;
      } catch {
        // Not there yet, or gone: the dead flag says which.
      }
      if (Date.now() > deadline) throw new Error(`probe view in ${this.ns} did not start within 10 s`);
      await new Promise((r) => setTimeout(r, 5));
    }
    run(['nsenter', '-t', String(pid), '-m', '--', 'mount', '-t', 'tmpfs', '-o', 'size=64k,mode=0755', 'netpath-lab-empty', '/run/netns']);
    return pid;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  kill(): void {
    if (this.dead || this.child.pid === undefined) return;
    try {
      process.kill(this.child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
    this.dead = true;
  }
}

/** Runs `body` with a fresh lab and always disposes it, also when `body` throws. */
export async function withLab<T>(body: (lab: Lab) => Promise<T> | T, opts: LabOptions = {}): Promise<T> {
  const lab = new Lab(opts);
  let failed = true;
  try {
    const value = await body(lab);
    failed = false;
    return value;
  } finally {
    // When body failed, its error is the one to report; a teardown problem is only printed.
    if (failed) lab.disposeQuietly();
    else lab.dispose();
  }
}
