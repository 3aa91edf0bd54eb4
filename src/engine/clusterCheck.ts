// The whole-cluster check (`netpath check`): a trace from one pod on every node to one pod on every other
// node, from every node's address to every other node's, and (when the capture has Services) from one pod
// to every Service port, each endpoint's path judged on its own. Failures are grouped by their most likely
// cause, the first entry of the trace's diagnosis[] (diagnose.ts), so one broken entry that fails many
// pairs is said once with the pairs it fails. Then what the tables show without any trace (checks.ts).
//
// Incremental: `startClusterCheck` returns a run whose `step(n)` does at most n units of work (a unit is
// one trace; reading a host's tables and one node's table checks count 50) so that a shell can yield to
// its event loop between calls, show `done` of `total` and stop when the user cancels. Pure and
// deterministic, like simulate().
import { kubernetesOf, type Host } from '../capture/document';
import { nodeIntents, checksFor, type Discrepancy } from './checks';
import { diagnose } from './diagnose';
import type { Network } from './network';
import { listServices, portEndpoints, serviceIndexOf } from './services';
import type { ServiceFinding } from './serviceFindings';
import type { Diagnosis, Evidence, TracePath, TraceResult, Verdict } from './trace';

/** The pod that stands for its node: see `representatives`. */
export interface Representative {
  node: string;
  /** `namespace/name`. */
  pod: string;
  ip: string;
  /** True when the capture holds no tables of the pod's own (its namespace is inferred from its node). */
  inferred: boolean;
}

/** What was traced, in the words `netpath trace` takes (`from`, `to`) and by node. */
export interface CheckPair {
  kind: 'pod' | 'node' | 'service';
  /** As `netpath trace --from` takes it: `namespace/pod` or a node name. */
  from: string;
  /** As `--to` takes it: `namespace/pod`, a node IP, or `svc/NAMESPACE/NAME:PORT`. */
  to: string;
  /** Pod pairs: the destination pod's address traced to (its first IPv4 address, else its first). */
  toIp?: string;
  fromNode: string;
  /** The destination's node (for a Service: the endpoint's node, when the API says). */
  toNode?: string;
  /** Service pairs: the endpoint (`ip:port`) whose path failed; absent when the Service as a whole did. */
  endpoint?: string;
}

export interface CheckFailure extends CheckPair {
  /** The path's verdict; `not-translated` for a Service endpoint no path was translated to. */
  verdict: Verdict | 'not-translated';
  dropAt: { host: string; dev: string | null } | null;
  /** The failed path's own sentence: how it ended. */
  reason: string;
}

/**
 * What failed the pairs of a group: the first entry of their traces' diagnosis[]; for a Service endpoint
 * no path was translated to, what the node's kube-proxy rules and the API disagree about; else nothing
 * netpath can name, and the group is the verdict and where the packets stopped.
 */
export type Cause =
  | { type: 'diagnosis'; diagnosis: Diagnosis }
  | { type: 'service-finding'; finding: ServiceFinding }
  | { type: 'undiagnosed'; verdict: CheckFailure['verdict']; dropAt: { host: string; dev: string | null } | null };

/** One cause and every pair it fails. */
export interface CauseGroup {
  /** Stable identity of the cause: its kind, host, probe, sentence and evidence lines (see causeKey). */
  key: string;
  cause: Cause;
  failures: CheckFailure[];
  /** Other causes the same failures' diagnoses also name (less likely than `cause`). */
  alsoNamed: Diagnosis[];
}

export interface ClusterCheckOptions {
  /** Only traces from these nodes (names); default every node. */
  fromNodes?: readonly string[];
  /** Which traces to run (default all that apply). */
  pods?: boolean;
  nodes?: boolean;
  services?: boolean;
  /** Table checks (checks.ts) of every node; default on. */
  tables?: boolean;
  /**
   * One part of the check, for running it in `of` processes or threads at once (mergeClusterChecks
   * puts the parts back together): the pod and node pairs from every `of`-th source, starting at the
   * `index`-th; the Service traces and the table checks in part 0 only.
   */
  part?: { index: number; of: number };
}

export interface ClusterCheckReport {
  /** False when the run was stopped before its end: the counts say how far it got. */
  complete: boolean;
  representatives: Representative[];
  /** Nodes no pod-to-pod trace starts or ends at, and why (no pod of the pod network with an IP). */
  withoutPod: { node: string; why: string }[];
  traced: { pod: number; node: number; service: number };
  /** Pairs that failed, by kind. */
  failed: { pod: number; node: number; service: number };
  /** Most pairs first, then by key. */
  groups: CauseGroup[];
  /** Traces that could not be asked (a reference simulate() refused): the request and its error. */
  errors: { pair: CheckPair; error: string }[];
  /** What the tables show without a trace: every node's checks (checks.ts), by node. */
  tables: Discrepancy[];
  /** Services not traced, and why (headless, ExternalName, no ClusterIP, no ready endpoint). */
  servicesSkipped: { service: string; why: string }[];
}

export interface ClusterCheck {
  /** Units of work in all: reading each host traced (50 each), the traces (one each), each node's table checks (50 each). */
  readonly total: number;
  readonly done: number;
  /** Does at most `units` more (or one read or node's table checks, 50, which a step never splits); true once everything is done. */
  step(units: number): boolean;
  /** The findings so far (`complete` tells whether the run got to its end). */
  report(): ClusterCheckReport;
}

const podRef = (h: Host) => `${h.namespace ?? 'default'}/${h.pod ?? h.name}`;

/**
 * One pod per node stands for the node's pod network: of the pods on the node that are not hostNetwork
 * and have an IPv4 (else any) address, those whose tables the capture holds first, then by
 * `namespace/name`. The first of that order; deterministic for the same capture.
 */
export function representatives(net: Network): { reps: Representative[]; withoutPod: { node: string; why: string }[] } {
  const byNode = new Map<string, Host[]>();
  for (const h of net.capture.hosts) {
    if (h.role !== 'pod' || h.hostNetwork || h.node === undefined || !(h.ips ?? []).length) continue;
    const list = byNode.get(h.node) ?? [];
    list.push(h);
    byNode.set(h.node, list);
  }
  const reps: Representative[] = [];
  const withoutPod: { node: string; why: string }[] = [];
  // 0 when the capture holds some table of the pod, else 1; asked once per pod, reading its probes
  // only up to the first that is not empty (a capture file's probe text is read from disk on access).
  const tablesKnown = new Map<Host, 0 | 1>();
  const hasTables = (h: Host): 0 | 1 => {
    let v = tablesKnown.get(h);
    if (v === undefined) {
      v = 1;
      for (const name in h.probes ?? {}) {
        const t = h.probes![name];
        if (typeof t === 'string' && t.trim() !== '') {
          v = 0;
          break;
        }
      }
      tablesKnown.set(h, v);
    }
    return v;
  };
  for (const node of nodeNames(net)) {
    const pods = byNode.get(node) ?? [];
    pods.sort((a, b) => hasTables(a) - hasTables(b) || (podRef(a) < podRef(b) ? -1 : podRef(a) > podRef(b) ? 1 : 0));
    const pick = pods[0];
    if (!pick) {
      withoutPod.push({ node, why: 'the capture lists no pod of the pod network (not hostNetwork) with an IP on this node' });
      continue;
    }
    const ip = pick.ips!.find((x) => !x.includes(':')) ?? pick.ips![0]!;
    reps.push({ node, pod: podRef(pick), ip, inferred: hasTables(pick) === 1 });
  }
  return { reps, withoutPod };
}

/** The capture's nodes (hosts with role node), in capture order. */
function nodeNames(net: Network): string[] {
  return net.capture.hosts.filter((h) => h.role === 'node').map((h) => h.name);
}

/** A node's own address to trace to: its first IPv4 address (else first) as the capture reports it. */
function nodeAddress(net: Network, name: string): string | undefined {
  const h = net.hosts.get(name)?.host;
  const ips = h?.ips ?? [];
  return ips.find((x) => !x.includes(':')) ?? ips[0] ?? nodeIntents(net).find((n) => n.name === name)?.ips[0];
}

interface ServiceJob {
  service: string;
  ref: string;
  /** The ready endpoints (`ip:port` -> node). */
  endpoints: Map<string, string | undefined>;
}

/** What reading one host's tables counts for in `step()`'s units (one unit is one trace). */
const READ_UNITS = 50;
/**
 * What one node's table checks (checks.ts) count for: on the 500-node capture a node's checks take
 * ~13 ms, a lean trace 0.05-0.15 ms; counted as one unit, the last step did all 500 nodes (6.7 s).
 */
const TABLE_UNITS = 50;

/**
 * simulate() (index.ts), passed in: index.ts exports the check, so this module cannot import it back.
 * The pod and node pairs ask it `lean`: a delivered pair's result is only read for its verdict, and
 * any other comes back as the full trace.
 */
export type Simulate = (net: Network, req: { from: string; to: string }, opts?: { lean?: boolean }) => { ok: true; result: TraceResult } | { ok: false; error: string };

/** The check as a run to step through; index.ts's startClusterCheck passes simulate(). */
export function createClusterCheck(net: Network, opts: ClusterCheckOptions, simulate: Simulate): ClusterCheck {
  const { reps, withoutPod } = representatives(net);
  const nodes = nodeNames(net);
  const from = opts.fromNodes ? new Set(opts.fromNodes) : undefined;
  const part = opts.part ?? { index: 0, of: 1 };
  if (!Number.isInteger(part.of) || part.of < 1 || !Number.isInteger(part.index) || part.index < 0 || part.index >= part.of) throw new Error(`createClusterCheck: part ${part.index} of ${part.of} is not a part`);
  const mine = (_: unknown, i: number) => i % part.of === part.index;
  const allSrcReps = reps.filter((r) => !from || from.has(r.node));
  const srcReps = allSrcReps.filter(mine);
  const srcNodes = nodes.filter((n) => !from || from.has(n)).filter(mine);
  const podPairs = opts.pods === false ? 0 : srcReps.length * reps.length - srcReps.filter((r) => reps.includes(r)).length;
  const addrs = nodes.map((n) => nodeAddress(net, n));
  const nodePairs = opts.nodes === false ? 0 : srcNodes.length * nodes.length - srcNodes.length;

  const servicesSkipped: { service: string; why: string }[] = [];
  const serviceJobs: ServiceJob[] = [];
  // The Service traces start at the first representative traced from (a pod of the pod network).
  const svcSource = allSrcReps[0];
  if (opts.services !== false && part.index === 0 && svcSource && kubernetesOf(net.capture).services.length) {
    const ix = serviceIndexOf(net);
    // simulate() picks the ClusterIP of the family of the source pod's first address: its endpoints are that family's.
    const first = net.pods.get(svcSource.pod)?.ips?.[0] ?? svcSource.ip;
    const family = first.includes(':') ? 6 : 4;
    for (const s of listServices(ix)) {
      if (s.untraceable) {
        servicesSkipped.push({ service: s.key, why: s.untraceable });
        continue;
      }
      const view = ix.byKey.get(s.key)!;
      for (const p of s.ports) {
        const port = view.ports.find((x) => x.name === p.name && x.protocol === p.protocol && x.port === p.port)!;
        const eps = portEndpoints(ix, view, port, family).filter((e) => e.ready);
        if (eps.length === 0) {
          servicesSkipped.push({ service: p.ref, why: `no ready IPv${family} endpoint in its EndpointSlices (kube-proxy rejects its connections; the Service's pods are not ready or its selector matches none)` });
          continue;
        }
        serviceJobs.push({ service: p.label, ref: p.ref, endpoints: new Map(eps.map((e) => [`${e.ip}:${e.port}`, e.nodeName])) });
      }
    }
  }
  const tableNodes = opts.tables === false || part.index !== 0 ? [] : nodeIntents(net).map((n) => n.name);
  // First, each node's and each representative's tables are read (parsed), one host per call of
  // read(): the capture's namespaces are built as traces first reach them (network.ts), and a node of
  // a 500-node cluster takes as long as ~READ_UNITS traces, which would otherwise all fall into the
  // first steps and keep a shell from its event loop for seconds.
  const toRead = [...new Set([...nodes, ...reps.map((r) => net.pods.get(r.pod)?.name ?? r.pod)])].filter((h) => net.hosts.has(h));
  const total = toRead.length * READ_UNITS + podPairs + nodePairs + serviceJobs.length + tableNodes.length * TABLE_UNITS;

  const groups = new Map<string, CauseGroup>();
  const errors: { pair: CheckPair; error: string }[] = [];
  const tables: Discrepancy[] = [];
  const traced = { pod: 0, node: 0, service: 0 };
  const failed = { pod: 0, node: 0, service: 0 };
  let done = 0;
  // Cursors: source index, destination index, per phase.
  let pi = 0;
  let pj = 0;
  let ni = 0;
  let nj = 0;
  let si = 0;
  let ti = 0;

  const record = (f: CheckFailure, diagnosis: readonly Diagnosis[], finding?: ServiceFinding) => {
    failed[f.kind]++;
    const [first, ...rest] = diagnosis;
    const cause: Cause = first ? { type: 'diagnosis', diagnosis: first } : finding ? { type: 'service-finding', finding } : { type: 'undiagnosed', verdict: f.verdict, dropAt: f.dropAt };
    const key = causeKeyOf(cause);
    let g = groups.get(key);
    if (!g) {
      g = { key, cause, failures: [], alsoNamed: [] };
      groups.set(key, g);
    }
    g.failures.push(f);
    for (const d of rest) if (!g.alsoNamed.some((x) => causeKey(x) === causeKey(d))) g.alsoNamed.push(d);
  };

  const tracePair = (pair: CheckPair, req: { from: string; to: string }) => {
    traced[pair.kind]++;
    const o = simulate(net, req, { lean: true });
    if (!o.ok) {
      errors.push({ pair, error: o.error });
      return;
    }
    const r = o.result;
    if (r.verdict === 'delivered') return;
    record({ ...pair, verdict: r.verdict, dropAt: r.dropAt, reason: r.reason }, r.diagnosis ?? []);
  };

  const traceService = (job: ServiceJob) => {
    const pair: CheckPair = { kind: 'service', from: svcSource!.pod, to: job.ref, fromNode: svcSource!.node };
    traced.service++;
    const o = simulate(net, { from: pair.from, to: job.ref });
    if (!o.ok) {
      errors.push({ pair, error: o.error });
      return;
    }
    const r = o.result;
    // Flood copies count here: an endpoint reached by no copy at all is not reached.
    const withEndpoint = r.paths.filter((p) => p.endpoint && p.probability !== 0);
    if (withEndpoint.length === 0) {
      // No path reached a DNAT to any endpoint: the Service as a whole failed (or, delivered, went nowhere it should).
      const missing = [...job.endpoints.keys()].join(', ');
      if (r.verdict !== 'delivered') record({ ...pair, verdict: r.verdict, dropAt: r.dropAt, reason: r.reason }, r.diagnosis ?? []);
      else record({ ...pair, verdict: 'not-translated', dropAt: null, reason: `delivered, but to no endpoint of the Service: no rule on the way translated it to ${missing}` }, []);
      return;
    }
    for (const [ep, node] of job.endpoints) {
      const ip = ep.slice(0, ep.lastIndexOf(':'));
      const paths = withEndpoint.filter((p) => endpointKey(p) === ep || p.endpoint!.ip === ip);
      const epPair: CheckPair = { ...pair, endpoint: ep, ...(node !== undefined ? { toNode: node } : {}) };
      if (paths.length === 0) {
        const finding = r.findings?.find((x) => x.kind === 'endpoint-missing' && x.endpoint?.ip === ip);
        record({ ...epPair, verdict: 'not-translated', dropAt: null, reason: `no path was translated to ${ep}: the rules the packet met do not send this Service's connections to it` }, [], finding);
        continue;
      }
      if (paths.some((p) => p.verdict === 'delivered')) continue;
      const bad = paths.find((p) => !p.floodCopy) ?? paths[0]!;
      record({ ...epPair, verdict: bad.verdict, dropAt: bad.dropAt, reason: bad.reason }, endpointDiagnosis(net, r, paths, bad, ip));
    }
  };

  let ri = 0;
  const tracing = () => (opts.pods !== false && pi < srcReps.length) || (opts.nodes !== false && ni < srcNodes.length) || si < serviceJobs.length;
  const step = (units: number): boolean => {
    let left = units;
    while (left > 0 && done < total) {
      // A read or a node's table checks is never split: it starts a step, or fits in what is left of it.
      const weight = ri < toRead.length ? READ_UNITS : tracing() ? 1 : TABLE_UNITS;
      if (weight > left && left < units) break;
      if (ri < toRead.length) {
        void net.hosts.get(toRead[ri++]!)?.fib;
        done += READ_UNITS;
        left -= READ_UNITS;
        continue;
      }
      if (opts.pods !== false && pi < srcReps.length) {
        const a = srcReps[pi]!;
        const b = reps[pj]!;
        if (++pj >= reps.length) {
          pj = 0;
          pi++;
        }
        if (a === b) continue;
        tracePair({ kind: 'pod', from: a.pod, to: b.pod, toIp: b.ip, fromNode: a.node, toNode: b.node }, { from: a.pod, to: b.ip });
      } else if (opts.nodes !== false && ni < srcNodes.length) {
        const a = srcNodes[ni]!;
        const b = nodes[nj]!;
        const addr = addrs[nj];
        if (++nj >= nodes.length) {
          nj = 0;
          ni++;
        }
        if (a === b) continue;
        const pair: CheckPair = { kind: 'node', from: a, to: addr ?? b, fromNode: a, toNode: b };
        if (addr === undefined) {
          done++;
          left--;
          errors.push({ pair, error: `node ${b} has no address in the capture (neither its host entry nor its Node object reports one)` });
          continue;
        }
        tracePair(pair, { from: a, to: addr });
      } else if (si < serviceJobs.length) {
        traceService(serviceJobs[si++]!);
      } else if (ti < tableNodes.length) {
        tables.push(...checksFor(net, [tableNodes[ti++]!]).all);
        done += TABLE_UNITS;
        left -= TABLE_UNITS;
        continue;
      } else break;
      done++;
      left--;
    }
    return done >= total;
  };

  const report = (): ClusterCheckReport => ({
    complete: done >= total,
    representatives: reps,
    withoutPod,
    traced: { ...traced },
    failed: { ...failed },
    groups: sortGroups([...groups.values()].map((g) => ({ ...g, alsoNamed: sortByCause(g.alsoNamed) }))),
    errors: [...errors],
    tables: [...tables],
    servicesSkipped,
  });

  return {
    total,
    get done() {
      return done;
    },
    step,
    report,
  };
}

/** Most pairs first, then by key. */
const sortGroups = (gs: CauseGroup[]) => gs.sort((a, b) => b.failures.length - a.failures.length || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
/** Diagnoses in the order of their causeKey: the same whatever order the pairs naming them were traced in. */
const sortByCause = (ds: Diagnosis[]) => ds.map((d) => [causeKey(d), d] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, d]) => d);

/**
 * The parts of one check (its `part` option, 0..of-1, each run on the same capture with the same
 * options) as one report, the same as the whole check run at once would give: counts summed, each
 * cause's pairs and the refused traces back in the order one run traces them (pod pairs by source
 * then destination, in node order, then node pairs, then Services), a cause said as the first pair
 * naming it says it. `complete` only when every part is.
 */
export function mergeClusterChecks(net: Network, parts: readonly ClusterCheckReport[]): ClusterCheckReport {
  const first = parts[0];
  if (!first) throw new Error('mergeClusterChecks: no parts');
  const nodeIx = new Map(nodeNames(net).map((n, i) => [n, i]));
  const kindIx = { pod: 0, node: 1, service: 2 } as const;
  // Pod pairs go by representative, node pairs by node: both follow node order. Services keep part 0's order.
  const rank = (p: CheckPair): [number, number, number] => (p.kind === 'service' ? [2, 0, 0] : [kindIx[p.kind], nodeIx.get(p.fromNode) ?? 0, nodeIx.get(p.toNode ?? '') ?? 0]);
  const before = (a: CheckPair, b: CheckPair) => {
    const x = rank(a);
    const y = rank(b);
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
  };
  const sum = (k: 'traced' | 'failed') => ({ pod: parts.reduce((n, r) => n + r[k].pod, 0), node: parts.reduce((n, r) => n + r[k].node, 0), service: parts.reduce((n, r) => n + r[k].service, 0) });
  const groups = new Map<string, CauseGroup>();
  for (const r of parts) {
    for (const g of r.groups) {
      const had = groups.get(g.key);
      if (!had) {
        groups.set(g.key, { ...g, failures: [...g.failures], alsoNamed: [...g.alsoNamed] });
        continue;
      }
      // The cause as the pair traced first says it.
      if (before(g.failures[0]!, had.failures[0]!) < 0) had.cause = g.cause;
      had.failures.push(...g.failures);
      for (const d of g.alsoNamed) if (!had.alsoNamed.some((x) => causeKey(x) === causeKey(d))) had.alsoNamed.push(d);
    }
  }
  for (const g of groups.values()) {
    g.failures.sort(before);
    g.alsoNamed = sortByCause(g.alsoNamed);
  }
  return {
    complete: parts.every((r) => r.complete),
    representatives: first.representatives,
    withoutPod: first.withoutPod,
    traced: sum('traced'),
    failed: sum('failed'),
    groups: sortGroups([...groups.values()]),
    errors: parts.flatMap((r) => r.errors).sort((a, b) => before(a.pair, b.pair)),
    tables: parts.flatMap((r) => r.tables),
    servicesSkipped: first.servicesSkipped,
  };
}

/** The identity of a cause: the same state on the same host says the same sentence about the same lines. */
export function causeKey(d: Diagnosis): string {
  const lines = (d.evidence ?? []).map((e: Evidence) => `${e.host}:${e.probe}:${e.line}`).join(',');
  return `${d.kind}|${d.host}|${d.probe}|${d.text}|${lines}`;
}

const endpointKey = (p: TracePath) => (p.endpoint ? (p.endpoint.port !== undefined ? `${p.endpoint.ip}:${p.endpoint.port}` : p.endpoint.ip) : '');

/**
 * The causes for one endpoint no path delivered to. The trace's own diagnosis when it failed there;
 * else (the trace counts as delivered when another endpoint is, and a flood copy's end as no failure)
 * the diagnosis of the trace restricted to that endpoint's paths, copies included: none reached it.
 */
function endpointDiagnosis(net: Network, r: TraceResult, paths: TracePath[], bad: TracePath, ip: string): Diagnosis[] {
  const hosts = new Set(bad.hops.map((h) => h.host));
  const own = (r.diagnosis ?? []).filter((d) => hosts.has(d.host) || d.host === 'kubernetes');
  if (r.verdict !== 'delivered' && !bad.floodCopy && own.length) return own;
  const owner = net.reported.get(ip)?.[0]?.name ?? null;
  const only: TraceResult = { ...r, verdict: bad.verdict, hops: bad.hops, dropAt: bad.dropAt, reason: bad.reason, to: { host: owner, ip }, flow: { ...r.flow, dst: ip }, paths: paths.map((p) => ({ ...p, floodCopy: false })) };
  return diagnose(net, only);
}

/** The key of a group's cause (see causeKey); an undiagnosed failure's is its verdict and where it stopped. */
function causeKeyOf(c: Cause): string {
  if (c.type === 'diagnosis') return causeKey(c.diagnosis);
  if (c.type === 'service-finding') return `finding|${c.finding.kind}|${c.finding.host}|${c.finding.probe}|${c.finding.text}`;
  return `undiagnosed|${c.verdict}|${c.dropAt?.host ?? ''}|${c.dropAt?.dev ?? ''}`;
}
