// Faults a test arms on a running lab API server: what goes wrong, for which requests, how often.
// Each is a situation a client of a real cluster meets: a slow or stuck kubelet, RBAC that allows
// `get pods` but not `pods/exec`, a connection cut while output streams, a pod that goes away while
// a trace runs, an image without `ip`.
import type { MissingBinaryMode } from './model';

/** Which exec requests a fault applies to; every given field must match. */
export interface ExecMatch {
  namespace?: string;
  /** Pod name, or a pattern. */
  pod?: string | RegExp;
  container?: string;
  /** The command's argv[0] (`ip`), compared by basename. */
  command?: string;
}

export type Fault =
  /** The exec is accepted and the command runs, but only after `ms`. */
  | { kind: 'exec-delay'; ms: number; match?: ExecMatch; times?: number }
  /**
   * The exec never answers. `upgrade` (default): the WebSocket handshake gets no response (a kubelet
   * that does not answer); `stream`: the handshake succeeds and then nothing ever arrives. Either way
   * it lasts until the client gives up (or the server closes).
   */
  | { kind: 'exec-hang'; stage?: 'upgrade' | 'stream'; match?: ExecMatch; times?: number }
  /** RBAC denies `create pods/exec` (403 with the apiserver's Forbidden Status). */
  | { kind: 'exec-forbidden'; user?: string; match?: ExecMatch; times?: number }
  /** The connection is cut (TCP reset, no close frame, no status) after `afterBytes` of output (default 16). */
  | { kind: 'exec-drop'; afterBytes?: number; match?: ExecMatch; times?: number }
  /** The pod is deleted as this exec arrives: the exec and every later request get NotFound. */
  | { kind: 'pod-deleted'; match?: ExecMatch; times?: number }
  /** The container lacks the executable (`binary`, default the command's argv[0]). */
  | { kind: 'exec-missing-binary'; binary?: string; mode?: MissingBinaryMode; match?: ExecMatch; times?: number }
  /** Any HTTP request whose method and path match answers `code` with a Status. */
  | { kind: 'http-error'; method?: string; path: string | RegExp; code: number; reason?: string; message?: string; times?: number };

export interface ArmedFault {
  readonly fault: Fault;
  /** How many requests it has applied to. */
  readonly hits: number;
  /** Disarms it. */
  remove(): void;
}

export interface ExecRequestInfo {
  namespace: string;
  pod: string;
  container: string | undefined;
  command: readonly string[];
}

function matches(m: ExecMatch | undefined, r: ExecRequestInfo): boolean {
  if (!m) return true;
  if (m.namespace !== undefined && m.namespace !== r.namespace) return false;
  if (m.pod !== undefined && !(typeof m.pod === 'string' ? m.pod === r.pod : m.pod.test(r.pod))) return false;
  if (m.container !== undefined && m.container !== r.container) return false;
  if (m.command !== undefined && (r.command[0] ?? '').split('/').pop() !== m.command) return false;
  return true;
}

class Armed implements ArmedFault {
  hits = 0;
  constructor(
    readonly fault: Fault,
    private readonly set: FaultSet,
  ) {}
  remove(): void {
    this.set.remove(this);
  }
}

/** The faults armed on one server. */
export class FaultSet {
  private readonly armed: Armed[] = [];

  /** Arms a fault; it applies to matching requests until removed or `times` is used up. */
  add(fault: Fault): ArmedFault {
    const a = new Armed(fault, this);
    this.armed.push(a);
    return a;
  }

  remove(a: ArmedFault): void {
    const i = this.armed.indexOf(a as Armed);
    if (i >= 0) this.armed.splice(i, 1);
  }

  clear(): void {
    this.armed.length = 0;
  }

  list(): ArmedFault[] {
    return [...this.armed];
  }

  private take(a: Armed): void {
    a.hits++;
    if (a.fault.times !== undefined && a.hits >= a.fault.times) this.remove(a);
  }

  /** The exec faults that apply to a request, each counted once. */
  forExec(r: ExecRequestInfo): Fault[] {
    const out: Fault[] = [];
    for (const a of [...this.armed]) {
      if (a.fault.kind === 'http-error') continue;
      if (!matches(a.fault.match, r)) continue;
      this.take(a);
      out.push(a.fault);
    }
    return out;
  }

  /** The first http-error fault that applies to a request, counted. */
  forHttp(method: string, path: string): Extract<Fault, { kind: 'http-error' }> | undefined {
    for (const a of this.armed) {
      const f = a.fault;
      if (f.kind !== 'http-error') continue;
      if (f.method !== undefined && f.method.toUpperCase() !== method.toUpperCase()) continue;
      if (!(typeof f.path === 'string' ? f.path === path : f.path.test(path))) continue;
      this.take(a);
      return f;
    }
    return undefined;
  }
}
