// The engine's entry point: resolve `--from`/`--to`, walk the packet, and fold the paths into one
// TraceResult. `simulate()` is deterministic: the same network and request give the same result.
import { diagnose, unchecked } from './diagnose';
import type { Host } from '../capture/document';
import { Addr } from '../net/addr';
import { buildNetwork, netnsOf, type Network } from './network';
import type { Packet } from './walk/packet';
import { Walker } from './walk/driver';
import { unnarrated } from './walk/stage';
import { annotate, detectDataplanes } from './dataplane';
import type { Diagnosis, Flow, TraceResult } from './trace';
import { servicePortNotServed } from './narrate';
import type { Netns } from './netns';
import { NetfilterAdapter } from './netfilterHooks';
import { findingsForTrace } from './serviceFindings';
import { applyPolicy } from './policyTrace';
import { createClusterCheck, type ClusterCheck, type ClusterCheckOptions, type ClusterCheckReport } from './clusterCheck';
import { isServiceRef, resolveServiceRef, serviceIndexOf, servicesAt, type ServiceMatch } from './services';

export { buildNetwork, type Network } from './network';
export { causeKey, mergeClusterChecks, representatives, type Cause, type CauseGroup, type CheckFailure, type CheckPair, type ClusterCheck, type ClusterCheckOptions, type ClusterCheckReport, type Representative } from './clusterCheck';
export * from './trace';
// The netfilter evaluator plugs into the walk's hook points through these (walk/hooks.ts).
export type { HookCall, HookOutcome, NetfilterHooks } from './walk/packet';
export { netfilterStep } from './walk/hooks';

export interface TraceRequest {
  from: string;
  to: string;
  /** IP packet length in bytes (default 64). */
  size?: number;
  proto?: Flow['proto'];
  /** Destination port (tcp, udp, sctp). */
  port?: number;
  /** Source port (tcp, udp, sctp); unset, rules that match a source port cannot decide. */
  sport?: number;
}

export type TraceOutcome = { ok: true; result: TraceResult } | { ok: false; error: string };

export interface SimulateOptions {
  /**
   * For callers that need only whether the packet is delivered (the cluster check, 500,000 traces): a
   * delivered result comes without the steps' sentences and evidence text, `reason`, findings,
   * `unchecked` and Cilium's marks. Any other verdict is traced again in full: that result is exactly
   * what simulate() without the option gives. Default off.
   */
  lean?: boolean;
}

const DEFAULT_SIZE = 64;

function hostLabel(h: Host): string {
  return h.role === 'pod' && h.namespace !== undefined ? `${h.namespace}/${h.pod ?? h.name}` : h.name;
}

function listHosts(net: Network): string {
  const names = net.capture.hosts.map(hostLabel);
  return names.slice(0, 12).join(', ') + (names.length > 12 ? `, ... (${names.length} in all)` : '');
}

/** A host by name, `namespace/pod`, or one of its IPs. */
export function findHost(net: Network, ref: string): Host | undefined {
  const byName = net.hosts.get(ref);
  if (byName) return byName.host;
  const pod = net.pods.get(ref);
  if (pod) return pod;
  const a = Addr.parse(ref);
  if (a.ok) return hostOfIp(net, a.value);
  return undefined;
}

/** The host an IP belongs to: Kubernetes-reported IPs first (pods before nodes), then interface addresses. */
export function hostOfIp(net: Network, ip: Addr): Host | undefined {
  const s = ip.toString();
  const reported = net.reported.get(s) ?? [];
  const pick = reported.find((h) => h.role === 'pod' && !h.hostNetwork) ?? reported[0];
  if (pick) return pick;
  return net.owners.get(s)?.[0]?.ns.host;
}

function primaryIp(net: Network, h: Host, family?: 4 | 6): Addr | undefined {
  const ips = (h.ips ?? []).map((x) => Addr.parse(x)).flatMap((r) => (r.ok ? [r.value] : []));
  const pick = ips.find((a) => family === undefined || a.family === family) ?? (family === undefined ? ips[0] : undefined);
  if (pick) return pick;
  const ns = netnsOf(net, h.name);
  for (const i of ns?.ifaces.values() ?? []) {
    const a = i.addrs.find((x) => (family === undefined || x.family === family) && x.scope === 'global' && !x.local.isLoopback());
    if (a) return a.local;
  }
  return undefined;
}

export function simulate(net: Network, req: TraceRequest, opts: SimulateOptions = {}): TraceOutcome {
  const fromHost = findHost(net, req.from);
  if (!fromHost) return { ok: false, error: `--from "${req.from}" is not a host, namespace/pod or IP in this capture; hosts: ${listHosts(net)}` };
  const toAddr = Addr.parse(req.to);
  let dst: Addr | undefined;
  let toHost: Host | undefined;
  let proto = req.proto ?? 'icmp';
  let port = req.port;
  let service: string | undefined;
  if (isServiceRef(req.to)) {
    // --to svc/NAMESPACE/NAME[:PORT]: the Service's ClusterIP (of the source's family), port and protocol.
    const family = fromHost.role === 'pod' ? primaryIp(net, fromHost)?.family : undefined;
    const res = resolveServiceRef(serviceIndexOf(net), req.to, { ...(req.proto !== undefined ? { proto: req.proto } : {}), ...(req.port !== undefined ? { port: req.port } : {}), ...(family !== undefined ? { family } : {}) });
    if (!res.ok) return { ok: false, error: res.error };
    dst = Addr.must(res.value.ip);
    proto = res.value.proto;
    port = res.value.port;
    service = res.value.service;
  } else if (toAddr.ok) {
    dst = toAddr.value;
    toHost = hostOfIp(net, dst);
  } else {
    toHost = findHost(net, req.to);
    if (!toHost) return { ok: false, error: `--to "${req.to}" is not an IP, host or namespace/pod in this capture; hosts: ${listHosts(net)}` };
    dst = primaryIp(net, toHost);
    if (!dst) return { ok: false, error: `--to "${req.to}" has no IP address in the capture; give an IP instead` };
  }
  const size = req.size ?? DEFAULT_SIZE;
  if (!Number.isInteger(size) || size < 20 || size > 65535) return { ok: false, error: `--size ${req.size} is not a valid IP packet length (20..65535 bytes)` };
  for (const [flag, v] of [['--port', port], ['--sport', req.sport]] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 1 || v > 65535)) return { ok: false, error: `${flag} ${v} is not a port (1..65535)` };
  }
  const ns = netnsOf(net, fromHost.name)!;
  const srcIp = fromHost.role === 'pod' ? primaryIp(net, fromHost, dst.family) : undefined;
  const pkt: Packet = {
    src: srcIp ?? (dst.family === 4 ? Addr.fromV4(0) : Addr.fromV6(0n)),
    dst,
    proto,
    dport: proto === 'icmp' ? undefined : port,
    sport: proto === 'icmp' ? undefined : req.sport,
    size,
    ttl: 64,
    // DF as Linux sets it with path MTU discovery on (the default): on for TCP and for ping.
    df: true,
    mark: 0,
    connection: 'new',
  };
  const target = { dst, host: toHost ? (netnsOf(net, toHost.name)?.name ?? toHost.name) : null };
  const sim = new Walker(net, target);
  // A pod with no probes starts the path too: its namespace is inferred from its node (network.ts).
  if (opts.lean) unnarrated(() => sim.originate(ns, pkt));
  else sim.originate(ns, pkt);
  const traces = sim.traces;
  const flow: Flow = { src: pkt.src.toString(), dst: dst.toString(), proto, ...(pkt.sport !== undefined ? { sport: pkt.sport } : {}), ...(pkt.dport !== undefined ? { dport: pkt.dport } : {}), size, df: pkt.df };
  if (pkt.src.isUnspecified() && sim.pickedSrc) flow.src = sim.pickedSrc.toString();
  // NetworkPolicy: a step at the pods it governs; an enforced denial stops the path there.
  const policy = applyPolicy(net, flow, fromHost, traces);

  // A copy discarded by a host it was not for is what flooding (or a VXLAN default entry) does: no failure.
  // A path the rules pick with no chance at all (a quiesced IPVS server, probability 0) is no failure.
  const relevant = traces.filter((t) => t.ending !== 'discarded' && t.probability !== 0);
  const delivered = traces.filter((t) => t.verdict === 'delivered');
  const nonFloodFailures = relevant.filter((t) => !t.floodCopy && t.verdict !== 'delivered');
  // Among a Service's endpoints, a definite drop says more than an endpoint whose tables are missing.
  const failure = traces.some((t) => t.endpoint) ? (nonFloodFailures.find((t) => t.verdict !== 'insufficient-data') ?? nonFloodFailures[0]) : nonFloodFailures[0];
  const top = delivered.length && nonFloodFailures.length === 0 ? delivered[0] : (failure ?? relevant.find((t) => t.verdict !== 'delivered') ?? traces[0]);
  if (!top) return { ok: false, error: 'the engine produced no path (this is a bug: please report the capture and the command)' };
  const inferred = traces.some((t) => t.hops.some((h) => h.steps.some((s) => s.inferred)));
  const result: TraceResult = {
    verdict: top.verdict,
    hops: top.hops,
    dropAt: top.dropAt,
    reason: top.reason,
    flow,
    from: { host: fromHost.name, ip: flow.src },
    to: { host: toHost?.name ?? null, ip: dst.toString() },
    paths: traces,
    inferred,
    needs: [...sim.needs].sort(),
  };
  if (service !== undefined) result.service = service;
  if (opts.lean) {
    if (result.verdict !== 'delivered') return simulate(net, req);
    if (top.ending) result.ending = top.ending;
    return { ok: true, result };
  }
  // Where the API and the first node's kube-proxy rules disagree about the Service traced to.
  const adapter = net.netfilter instanceof NetfilterAdapter ? net.netfilter : undefined;
  const findings = findingsForTrace(net, result, { ...(service !== undefined ? { service } : {}), ...(adapter ? { rulesetOf: (n: Netns) => adapter.ruleset(n) } : {}) });
  findings.push(...policy.findings);
  if (findings.length) result.findings = findings;
  // A denial by NetworkPolicy: the policy objects are where the cause lives.
  const denied = policy.diagnosis.get(top);
  const diagnosis: Diagnosis[] = [];
  if (denied) diagnosis.push(denied);
  else if (result.verdict !== 'delivered' && service === undefined && !traces.some((t) => t.endpoint !== undefined)) {
    const d = servicePortDiagnosis(net, fromHost, dst, proto, pkt.dport);
    if (d) diagnosis.push(d);
  }
  // Where the tables differ from the cluster's intent on the way, then the drop explained.
  if (result.verdict !== 'delivered' && result.verdict !== 'policy-denied') diagnosis.push(...diagnose(net, result));
  if (diagnosis.length) result.diagnosis = diagnosis;
  const missed = unchecked(net, result);
  if (missed.length) result.unchecked = missed;
  // Nodes on the paths whose packets Cilium's eBPF programs move: the steps the tables cannot vouch for.
  markUnvouched(net, result, () => service !== undefined || traces.some((t) => t.endpoint !== undefined) || serviceFrontendsAt(net, dst).length > 0);
  const settles = [...sim.settles].filter((h) => !sim.needs.has(h)).sort();
  if (settles.length) result.settles = settles;
  if (top.ending) result.ending = top.ending;
  return { ok: true, result };
}

/**
 * A packet to a Service's address (ClusterIP, externalIP, LoadBalancer IP) on a protocol or port the
 * Service does not serve: kube-proxy left it alone, which is why it went nowhere. Undefined when `dst`
 * is no Service address, or the Service serves that port (the rules decided, and the trace says how).
 */
function servicePortDiagnosis(net: Network, from: Host, dst: Addr, proto: Flow['proto'], dport: number | undefined): Diagnosis | undefined {
  const matches = serviceFrontendsAt(net, dst);
  if (matches.length === 0) return undefined;
  if (proto !== 'icmp' && matches.some((m) => m.port.protocol.toLowerCase() === proto && m.port.port === dport)) return undefined;
  const svc = matches[0]!.service;
  const ports = matches.filter((m) => m.service === svc).map((m) => m.port);
  const node = from.role === 'pod' ? from.node : from.role === 'node' ? from.name : undefined;
  const rules = node !== undefined ? (['iptables', 'nft', 'ipvs'] as const).find((p) => net.hosts.get(node)?.host.probes?.[p]?.trim()) : undefined;
  const words = servicePortNotServed({ ip: dst.toString(), service: svc.key, ports, proto, port: dport, node });
  return { kind: 'service-port-not-served', host: rules && node !== undefined ? node : 'kubernetes', probe: rules ?? svc.evidence.probe, owner: 'kube-proxy', ...words };
}

/** The Service ports answering at `dst` as a Service address (ClusterIP, externalIP, LoadBalancer IP; not a node's NodePorts). */
function serviceFrontendsAt(net: Network, dst: Addr): ServiceMatch[] {
  return servicesAt(serviceIndexOf(net), dst.toString()).filter((m) => m.via !== 'node-port');
}

/** `serviceTarget` is asked only when a Cilium node is on the path (it walks the Service index). */
function markUnvouched(net: Network, result: TraceResult, serviceTarget: () => boolean): void {
  const onPath = new Set<string>();
  for (const p of result.paths) {
    for (const h of p.hops) {
      const host = net.hosts.get(h.host)?.host;
      onPath.add(host?.role === 'pod' && host.node !== undefined ? host.node : h.host);
    }
  }
  const nodes = detectDataplanes(net.capture, net.hosts, onPath);
  if (nodes.size === 0) return;
  const met = annotate(result, nodes, (name) => net.hosts.get(name)?.host, serviceTarget());
  if (met.length) result.dataplanes = met;
}

/** Builds the network and traces in one call (for one-off use; keep the Network to trace many). */
export function traceCapture(capture: Parameters<typeof buildNetwork>[0], req: TraceRequest): TraceOutcome {
  return simulate(buildNetwork(capture), req);
}

/**
 * The whole-cluster check (clusterCheck.ts) as a run: `step(n)` does at most n traces (or nodes' table
 * checks) and says when it is done, so a shell can show progress, yield and cancel between calls.
 */
export function startClusterCheck(net: Network, opts: ClusterCheckOptions = {}): ClusterCheck {
  return createClusterCheck(net, opts, simulate);
}

/** The whole check at once (tests, scripts); shells with a UI step startClusterCheck's run. */
export function runClusterCheck(net: Network, opts: ClusterCheckOptions = {}): ClusterCheckReport {
  const run = startClusterCheck(net, opts);
  while (!run.step(1000));
  return run.report();
}
