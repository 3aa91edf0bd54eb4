// Inferred Service rules: where a node's rules cannot be read (its capture has no iptables, ip6tables,
// nft or ipvs probe), the Service index (services.ts) stands in for what kube-proxy programs there. At
// the node's PREROUTING (packets from pods and from outside) and OUTPUT (the node's own processes), a
// new connection to a Service frontend — ClusterIP, externalIP, LoadBalancer IP, or a NodePort on one
// of the node's addresses — is rewritten to one of the endpoints kube-proxy would pick, each equally
// likely (iptables statistic, nft numgen, IPVS rr), honouring internalTrafficPolicy and
// externalTrafficPolicy Local by node (pod and node-local traffic to an external address of a Local
// Service goes to every endpoint, as kube-proxy's KUBE-EXT chain short-circuits it); a Service port
// with no endpoint rejects, one with endpoints only elsewhere under Local drops. Every outcome is
// marked inferred and quotes the API objects it rests on. kube-proxy's masquerade is inferred too: the
// connections it marks (KUBE-MARK-MASQ) take the address of their outgoing device at POSTROUTING. Same
// shapes as the evaluator's answers (walk/packet.ts HookCall -> HookOutcome[]), so the netfilter adapter
// can ask it for a host without rule probes. Not inferred: rules that are not kube-proxy's (a FORWARD
// policy, a CNI's own masquerade).
import { Addr, type Family } from '../net/addr';
import { fromCluster, programmedEndpoints, servicesAt, type ServiceIndex, type ServiceMatch, type ServiceProto } from './services';
import type { Evidence, ServiceInferredDetail, ServiceMasqueradeInferredDetail, Step } from './trace';
import type { HookCall, HookOutcome } from './walk/packet';
import { step } from './walk/stage';

export type { ServiceInferredDetail } from './trace';

/** The rule probes whose absence makes the Service index stand in for a node's rules. */
const RULE_PROBES = ['iptables', 'ip6tables', 'nft', 'ipvs'] as const;

/** Whether a host's rules can be read: it has at least one non-empty rule probe. */
export function hasRuleProbes(probes: Readonly<Record<string, string>> | undefined): boolean {
  return RULE_PROBES.some((p) => (probes?.[p] ?? '').trim() !== '');
}

function inferredStep(d: ServiceInferredDetail, records: Evidence[]): Step {
  return step('inferred', d, records, { inferred: true });
}

/** The Service frontend a packet is sent to on this node, if any: ClusterIP/externalIP/LoadBalancer IP first, then a NodePort on a node address. */
function frontendFor(ix: ServiceIndex, call: HookCall, proto: ServiceProto, dport: number): ServiceMatch | undefined {
  const dst = call.packet.dst.toString();
  const matches = servicesAt(ix, dst, dport, proto);
  const direct = matches.find((m) => m.via !== 'node-port');
  if (direct) return direct;
  const np = matches.find((m) => m.via === 'node-port');
  // A NodePort answers on the node's own addresses only (addrtype LOCAL): those of this namespace.
  if (np) return ix.nodeAddrs.get(dst) === call.ns.host.name || ownsAddress(call, call.packet.dst) ? np : undefined;
  if (ownsAddress(call, call.packet.dst)) return ix.nodePorts.get(`${proto}|${dport}`);
  return undefined;
}

function ownsAddress(call: HookCall, a: Addr): boolean {
  for (const i of call.ns.ifaces.values()) if (i.addrs.some((x) => x.local.equals(a))) return true;
  return (call.ns.host.ips ?? []).some((ip) => {
    const r = Addr.parse(ip);
    return r.ok && r.value.equals(a);
  });
}

/** kube-proxy's masquerade bit (--masquerade-bit 14): KUBE-MARK-MASQ ORs it in, KUBE-POSTROUTING masquerades what carries it. */
export const MASQUERADE_MARK = 0x4000;

/** The address MASQUERADE gives a packet leaving by `dev` (the netfilter adapter's inet_select_addr). */
export type MasqueradeAddress = (dev: string, family: Family, dst: Addr) => Addr | undefined;

/**
 * What kube-proxy's rules would do with this packet at this hook of a node whose rules the capture
 * lacks; undefined when they would not touch it (not a node, a node with rule probes, not a new
 * connection, not a Service frontend). As in kube-proxy's tables: the nat hooks (PREROUTING, OUTPUT)
 * rewrite to an endpoint and mark for masquerade; the filter hooks (FORWARD, INPUT, OUTPUT) reject a
 * frontend with no endpoint and drop one with none this node may use; POSTROUTING masquerades what
 * was marked.
 */
export function inferServiceHook(ix: ServiceIndex, call: HookCall, masqueradeAddress?: MasqueradeAddress): HookOutcome[] | undefined {
  if (call.layer !== 'inet') return undefined;
  const ns = call.ns;
  if (ns.host.role !== 'node' || hasRuleProbes(ns.host.probes)) return undefined;
  if (call.hook === 'postrouting') return inferMasquerade(call, masqueradeAddress);
  const pkt = call.packet;
  if (pkt.connection !== 'new' || pkt.dport === undefined) return undefined;
  // SCTP too, once the walk carries it (a Packet's proto grows with the CLI's --proto).
  const proto = String(pkt.proto) as ServiceProto;
  if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') return undefined;
  const m = frontendFor(ix, call, proto, pkt.dport);
  if (!m) return undefined;
  const family = pkt.dst.family;
  const node = ns.host.name;
  const external = m.via !== 'cluster-ip';
  const srcLocal = call.hook === 'output' || ownsAddress(call, pkt.src);
  const podTraffic = fromCluster(ix, pkt.src);
  // kube-proxy sends pod traffic and the node's own traffic to an external address of a Local Service
  // to every endpoint (KUBE-EXT-*: "pod traffic for ... external destinations", "route LOCAL traffic").
  const local = m.service.externalTrafficPolicy === 'Local';
  const shortCircuit = external && local && (podTraffic || srcLocal);
  const traffic = !external ? 'internal' : shortCircuit ? 'cluster' : 'external';
  const chosen = programmedEndpoints(ix, m.service, m.port, family, node, traffic);
  const base = {
    type: 'service-inferred' as const,
    ns: ns.name,
    hook: call.hook,
    service: m.label,
    via: m.via,
    frontend: { ip: pkt.dst.toString(), port: pkt.dport, proto },
    policy: chosen.policy,
    traffic: external ? ('external' as const) : ('internal' as const),
    terminatingFallback: chosen.terminatingFallback,
    ...(m.service.affinityTimeout !== undefined ? { affinity: m.service.affinityTimeout } : {}),
  };
  if (chosen.endpoints.length === 0) {
    // The nat table has no rule for it; the filter table's (KUBE-SERVICES / KUBE-EXTERNAL-SERVICES,
    // nft's service-endpoints-check) stops it where the packet is forwarded, delivered or sent.
    if (call.hook === 'prerouting') return undefined;
    const verdict = chosen.none ?? 'reject';
    return [{ verdict, packet: pkt, probability: 1, steps: [inferredStep({ ...base, of: 0, probability: 1, verdict }, [m.service.evidence])] }];
  }
  if (call.hook !== 'prerouting' && call.hook !== 'output') return undefined;
  // KUBE-MARK-MASQ: a ClusterIP reached from outside the cluster; external traffic under Cluster; the
  // node's own traffic to an external address of a Local Service; and in each endpoint chain, the
  // endpoint's own traffic (hairpin).
  const why = !external ? (podTraffic ? undefined : 'outside-cluster') : !local ? 'external' : srcLocal && !podTraffic ? 'local-external' : undefined;
  const n = chosen.endpoints.length;
  return chosen.endpoints.map((e, i) => {
    const masquerade = why ?? (e.ip === pkt.src.toString() ? 'hairpin' : undefined);
    const d: ServiceInferredDetail = {
      ...base,
      endpoint: { ip: e.ip, port: e.port, ...(e.pod !== undefined ? { pod: e.pod } : {}), ...(e.nodeName !== undefined ? { nodeName: e.nodeName } : {}) },
      choice: i + 1,
      of: n,
      probability: 1 / n,
      verdict: 'dnat',
      ...(masquerade ? { masquerade } : {}),
    };
    return {
      verdict: 'accept' as const,
      packet: { ...pkt, dst: Addr.must(e.ip), dport: e.port, mark: masquerade ? pkt.mark | MASQUERADE_MARK : pkt.mark },
      probability: 1 / n,
      steps: [inferredStep(d, [m.service.evidence, e.evidence])],
      endpoint: { ip: e.ip, port: e.port },
    };
  });
}

/** KUBE-POSTROUTING: a packet marked for masquerade takes the address of the device it leaves by. */
function inferMasquerade(call: HookCall, masqueradeAddress: MasqueradeAddress | undefined): HookOutcome[] | undefined {
  const pkt = call.packet;
  if ((pkt.mark & MASQUERADE_MARK) === 0 || call.oif === undefined || !masqueradeAddress) return undefined;
  const to = masqueradeAddress(call.oif, pkt.dst.family, pkt.dst);
  if (!to) return undefined;
  const d: ServiceMasqueradeInferredDetail = { type: 'service-masquerade-inferred', ns: call.ns.name, hook: 'postrouting', dev: call.oif, from: pkt.src.toString(), to: to.toString() };
  return [{ verdict: 'accept', packet: { ...pkt, src: to, mark: pkt.mark ^ MASQUERADE_MARK }, probability: 1, steps: [step('inferred', d, [], { inferred: true })] }];
}
