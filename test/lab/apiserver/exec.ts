// pods/exec over WebSocket, as the kubelet's streaming server speaks it (channel.k8s.io protocols
// v4 and v5): every binary frame starts with its channel byte (0 stdin, 1 stdout, 2 stderr, 3 status,
// 4 resize, 255 close in v5), the status is a metav1.Status on channel 3, then a close frame 1000.
// The server never sends a 255 frame: client-node 1.4 throws `Unknown stream: 255` on it.
//
// The command runs in the lab host whose network namespace the container shares (the pod's own, or
// the node's for hostNetwork pods), through that host's probe view (see Lab.tryProbeAsync): a
// process in the namespace with a private mount namespace where /run/netns is empty, so `ip` prints
// what it prints in a real container. It is an argv handed to execve, never a shell string.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readlinkSync, renameSync, statSync, symlinkSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { posix } from 'node:path';
import type { WebSocket } from 'ws';
import { which, type Lab } from '../netns';
import type { Fault } from './faults';
import { DEFAULT_CONTAINER_PATH, type ExecTarget, type ImageSpec, type MissingBinaryMode } from './model';
import { execExitCode, execInternalError, execSuccess, type Status } from './status';

export const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;
const CLOSE = 255;

export interface ExecRequest {
  namespace: string;
  pod: string;
  container: string | undefined;
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

export type ExecOutcome = 'exited' | 'missing-binary' | 'hung' | 'dropped' | 'client-closed' | 'killed' | 'error';

export interface ExecRecord {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  /** The lab host the command ran in. */
  labHost: string;
  outcome: ExecOutcome;
  exitCode?: number;
  /** ms since the epoch */
  at: number;
}

/** Parses the exec query: `command` may repeat; booleans are `true`/`1`. */
export function parseExecQuery(namespace: string, pod: string, q: URLSearchParams): ExecRequest {
  const bool = (k: string) => ['true', '1'].includes((q.get(k) ?? '').toLowerCase());
  return {
    namespace,
    pod,
    container: q.get('container') || undefined,
    command: q.getAll('command'),
    stdin: bool('stdin'),
    stdout: bool('stdout'),
    stderr: bool('stderr'),
    tty: bool('tty'),
  };
}

// ---------------------------------------------------------------------------------------------
// Running a command in a lab host

function isExecutableFile(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** What an OCI runtime says when the command is not in the image. */
export function runtimeNotFoundMessage(cmd: string): string {
  const why = cmd.includes('/') ? `stat ${cmd}: no such file or directory` : 'executable file not found in $PATH';
  return `OCI runtime exec failed: exec failed: unable to start container process: exec: "${cmd}": ${why}: unknown`;
}

/** The absolute path of argv[0] in an image, or undefined when the image does not have it. */
export function resolveInImage(cmd: string, image: ImageSpec): string | undefined {
  if ((image.lacks ?? []).includes(posix.basename(cmd))) return undefined;
  if (cmd.includes('/')) return isExecutableFile(cmd) ? cmd : undefined;
  for (const dir of (image.path ?? DEFAULT_CONTAINER_PATH).split(':').filter(Boolean)) {
    const p = posix.join(dir, cmd);
    if (isExecutableFile(p)) return p;
  }
  return undefined;
}

/**
 * What a shell in the container finds on its PATH: a directory of links to the executables of the
 * image's PATH, first one of each name, minus those it lacks. Without it a shell (the collector's
 * probe script) would find the machine's `ip` in an image that lacks it. Made once per PATH and set
 * of missing names, under `root`.
 */
export class ImageBins {
  private readonly made = new Map<string, string>();

  constructor(private readonly root: string) {}

  /** The PATH a command in such a container gets: `path` itself when nothing is missing. */
  pathFor(path: string, lacks: readonly string[]): string {
    if (lacks.length === 0) return path;
    const missing = [...new Set(lacks)].sort();
    const key = createHash('sha256').update(`${path}\0${missing.join('\0')}`).digest('hex').slice(0, 16);
    const known = this.made.get(key);
    if (known) return known;
    const dir = posix.join(this.root, key);
    if (!existsSync(dir)) {
      // Built aside and renamed: a command never sees a half-made directory.
      const tmp = `${dir}.${process.pid}.${randomBytes(4).toString('hex')}`;
      mkdirSync(tmp, { recursive: true });
      const seen = new Set(missing);
      for (const d of path.split(':').filter(Boolean)) {
        let names: string[];
        try {
          names = readdirSync(d);
        } catch {
          continue;
        }
        for (const name of names) {
          if (seen.has(name) || !isExecutableFile(posix.join(d, name))) continue;
          seen.add(name);
          symlinkSync(posix.join(d, name), posix.join(tmp, name));
        }
      }
      renameSync(tmp, dir);
    }
    this.made.set(key, dir);
    return dir;
  }
}

/** Starts argv in a lab host's probe view, streaming. */
export class LabRunner {
  private readonly pids = new Map<string, number>();
  private readonly nsenter: string;

  constructor(private readonly lab: Lab) {
    const n = which('nsenter');
    if (!n) throw new Error('nsenter is not installed: install util-linux (apt-get install util-linux)');
    this.nsenter = n;
  }

  private static netnsOf(pid: number): string | undefined {
    try {
      return readlinkSync(`/proc/${pid}/ns/net`);
    } catch {
      return undefined;
    }
  }

  /** The pid of the host's probe view (started on first use); found by its network namespace inode. */
  private async viewPid(host: string): Promise<number> {
    const want = `net:[${statSync(`/run/netns/${this.lab.ns(host)}`).ino}]`;
    const cached = this.pids.get(host);
    if (cached !== undefined && LabRunner.netnsOf(cached) === want) return cached;
    const r = await this.lab.tryProbeAsync(host, ['true']);
    if (r.code !== 0) throw new Error(`could not enter lab host ${host}: ${r.spawnError?.message ?? r.stderr.trim()}`);
    for (const pid of this.lab.probeViewPids()) {
      if (LabRunner.netnsOf(pid) === want) {
        this.pids.set(host, pid);
        return pid;
      }
    }
    throw new Error(`lab host ${host} has no probe view`);
  }

  async spawn(host: string, path: string, args: readonly string[], env: NodeJS.ProcessEnv, stdin: boolean): Promise<ChildProcess> {
    const pid = await this.viewPid(host);
    return spawn(this.nsenter, ['-t', String(pid), '-m', '-n', '--', path, ...args], { env, stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  }
}

// ---------------------------------------------------------------------------------------------
// One exec session

export interface SessionOptions {
  ws: WebSocket;
  req: ExecRequest;
  target: ExecTarget & { labHost: string };
  image: ImageSpec;
  runner: LabRunner;
  /** The PATH directories of images that lack something (so that a shell lacks it too). */
  bins: ImageBins;
  /** Exec faults that apply (already counted). */
  faults: Fault[];
  onEnd: (record: ExecRecord) => void;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });

export class ExecSession {
  private child: ChildProcess | undefined;
  private readonly closed = new AbortController();
  private outcome: ExecOutcome = 'client-closed';
  private exitCode: number | undefined;
  private ended = false;
  private sent = 0;
  private killedByServer = false;
  private readonly stdin: Buffer[] = [];
  private stdinEnded = false;
  /** Settles when the last frame sent has been handed to the socket. */
  private lastWrite: Promise<void> = Promise.resolve();

  constructor(private readonly o: SessionOptions) {}

  get namespace(): string {
    return this.o.req.namespace;
  }
  get pod(): string {
    return this.o.req.pod;
  }

  /** The container is gone (pod deleted): kill the command; the client gets its exit status. */
  kill(): void {
    this.killedByServer = true;
    this.child?.kill('SIGKILL');
  }

  /** Server shutdown: cut the connection. */
  destroy(): void {
    this.child?.kill('SIGKILL');
    this.o.ws.terminate();
  }

  async run(): Promise<void> {
    const { ws, req, faults } = this.o;
    ws.on('close', () => {
      this.closed.abort();
      this.child?.kill('SIGKILL');
      this.finish();
    });
    ws.on('error', () => {});
    // Stdin may arrive before the command has started: keep it until then.
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary || data.length === 0 || !req.stdin) return;
      if (data[0] === STDIN) this.stdin.push(data.subarray(1));
      if (data[0] === CLOSE && data[1] === STDIN) this.stdinEnded = true;
      this.pumpStdin();
    });

    if (faults.some((f) => f.kind === 'exec-hang')) {
      this.outcome = 'hung';
      return;
    }
    for (const f of faults) if (f.kind === 'exec-delay') await sleep(f.ms, this.closed.signal);
    if (this.closed.signal.aborted) return;

    const cmd = req.command[0]!;
    const missing = faults.find((f): f is Extract<Fault, { kind: 'exec-missing-binary' }> => f.kind === 'exec-missing-binary' && (f.binary ?? cmd) === posix.basename(cmd));
    const path = missing ? undefined : resolveInImage(cmd, this.o.image);
    if (path === undefined) {
      this.missingBinary(cmd, missing?.mode ?? this.o.image.missing ?? 'exit-127');
      return;
    }
    const { pod, container } = this.o.target;
    // What the image lacks, and what a fault names as missing, a shell in it does not find either.
    const lacks = [...(this.o.image.lacks ?? []), ...faults.flatMap((f) => (f.kind === 'exec-missing-binary' && f.binary !== undefined ? [f.binary] : []))];
    const env: NodeJS.ProcessEnv = {
      PATH: this.o.bins.pathFor(this.o.image.path ?? DEFAULT_CONTAINER_PATH, lacks),
      HOSTNAME: pod.spec.hostNetwork ? (pod.spec.nodeName ?? pod.metadata.name) : pod.metadata.name,
      HOME: '/root',
      ...(req.tty ? { TERM: 'xterm' } : {}),
      KUBERNETES_SERVICE_HOST: '10.96.0.1',
      KUBERNETES_SERVICE_PORT: '443',
      KUBERNETES_SERVICE_PORT_HTTPS: '443',
      ...this.o.image.env,
      ...Object.fromEntries((container.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value])),
    };
    let child: ChildProcess;
    try {
      child = await this.o.runner.spawn(this.o.target.labHost, path, req.command.slice(1), env, req.stdin);
    } catch (e) {
      this.outcome = 'error';
      this.sendStatus(execInternalError(`error executing command in container: ${(e as Error).message}`));
      return;
    }
    if (this.closed.signal.aborted) {
      child.kill('SIGKILL');
      return;
    }
    this.child = child;
    // Deleted while it was starting: the container is gone.
    if (this.killedByServer) child.kill('SIGKILL');
    child.stdin?.on('error', () => {});
    this.pumpStdin();
    const drop = faults.find((f): f is Extract<Fault, { kind: 'exec-drop' }> => f.kind === 'exec-drop');
    const forward = (channel: number, wanted: boolean) => (chunk: Buffer) => {
      if (!wanted || this.ended) return;
      if (drop) {
        const room = (drop.afterBytes ?? 16) - this.sent;
        if (chunk.length >= room) {
          if (room > 0) this.send(channel, chunk.subarray(0, room));
          this.drop();
          return;
        }
      }
      this.send(channel, chunk);
    };
    child.stdout!.on('data', forward(STDOUT, req.stdout || req.tty));
    child.stderr!.on('data', forward(STDERR, req.stderr && !req.tty));
    child.on('error', (e) => {
      if (this.ended) return;
      this.outcome = 'error';
      this.sendStatus(execInternalError(`error executing command in container: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      if (this.ended) return;
      if (drop) {
        // Output ended before the cut: cut before the status.
        this.drop();
        return;
      }
      const rc = code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0);
      this.outcome = this.killedByServer ? 'killed' : 'exited';
      this.exitCode = rc;
      this.sendStatus(rc === 0 ? execSuccess() : execExitCode(req.command, rc));
    });
  }

  private pumpStdin(): void {
    const stdin = this.child?.stdin;
    if (!stdin) return;
    for (const chunk of this.stdin.splice(0)) stdin.write(chunk);
    if (this.stdinEnded) stdin.end();
  }

  private missingBinary(cmd: string, mode: MissingBinaryMode): void {
    this.outcome = 'missing-binary';
    const message = runtimeNotFoundMessage(cmd);
    if (mode === 'internal-error') {
      const execId = randomBytes(32).toString('hex');
      this.sendStatus(execInternalError(`error executing command in container: failed to exec in container: failed to start exec "${execId}": ${message}`));
      return;
    }
    this.exitCode = 127;
    if (this.o.req.stderr || this.o.req.tty) this.send(this.o.req.tty ? STDOUT : STDERR, Buffer.from(`${message}\r\n`));
    this.sendStatus(execExitCode(this.o.req.command, 127));
  }

  private send(channel: number, data: Buffer): void {
    if (this.o.ws.readyState !== this.o.ws.OPEN) return;
    this.sent += data.length;
    this.lastWrite = new Promise((resolve) => this.o.ws.send(Buffer.concat([Buffer.from([channel]), data]), () => resolve()));
  }

  private sendStatus(status: Status): void {
    this.send(STATUS, Buffer.from(JSON.stringify(status)));
    this.o.ws.close(1000);
    this.finish();
  }

  /** Cuts the connection once what was sent has reached the socket: the client sees output, then a reset. */
  private drop(): void {
    this.outcome = 'dropped';
    this.child?.kill('SIGKILL');
    this.finish();
    void this.lastWrite.then(() => this.o.ws.terminate());
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    const { req, target } = this.o;
    this.o.onEnd({
      namespace: req.namespace,
      pod: req.pod,
      container: target.container.name,
      command: req.command,
      labHost: target.labHost,
      outcome: this.outcome,
      ...(this.exitCode !== undefined ? { exitCode: this.exitCode } : {}),
      at: Date.now(),
    });
  }
}
