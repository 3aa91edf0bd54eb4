// What the cluster intends, set against what each host's tables hold. The intent comes from the cluster
// itself: the nodes' podCIDRs and addresses (capture hosts and Node objects), flannel's node annotations
// (VTEP MAC, public IP, backend) or, without them, the peer's own VTEP device. Every place where a table
// differs is a Discrepancy with the host and probe it lives in, expected against actual, the component
// that owns that state and the likely fix.
//
// One set of checks serves the Node Bridges tree's problem marks, a pod IP's hover and the diagnosis of
// a failed trace (diagnose.ts), so the three cannot disagree. Computed once per Network.
import { kubernetesOf } from '../capture/document';
import { sourceOf, type KubeNode } from '../capture/kubernetes';
import { Addr, Prefix } from '../net/addr';
import type { FdbRecord, ProbeName } from '../parsers';
import { neighKey, type Iface, type Netns, type Network } from './network';
import { evidence, fdbKey } from './netns';
import type { DiscrepancyKind, Evidence } from './trace';

export type { DiscrepancyKind } from './trace';

/** What a discrepancy is about: matched against a trace's path, and where the tree shows it. */
export interface DiscrepancySubject {
  /** A pod network (a node's podCIDR) whose packets the state decides. */
  prefix?: string;
  /** The node that prefix belongs to. */
  peer?: string;
  /** The device the state is on (or the device that is wrong). */
  dev?: string;
  /** The bridge, for a port or FDB problem. */
  bridge?: string;
  mac?: string;
  /** The pod address behind the device (a bridge port's pod), when the state decides packets for it. */
  ip?: string;
}

export interface Discrepancy {
  kind: DiscrepancyKind;
  /** The host whose tables hold the wrong (or lack the right) state. */
  host: string;
  probe: ProbeName;
  /** One sentence, complete on its own (the tree shows only this). */
  text: string;
  expected: string;
  actual: string;
  /** The component that owns that state, on that host (`flanneld on k8s-node1`). */
  owner: string;
  fix: string;
  /** The lines that show the wrong state (none when the state is absent). */
  evidence: Evidence[];
  /** When something is absent: the table that was searched for it. */
  searched?: Evidence[];
  about: DiscrepancySubject;
}

/** flannel's backend, its VXLAN header overhead over IPv4 (outer IP 20 + UDP 8 + VXLAN 8 + inner Ethernet 14). */
export const VXLAN4_OVERHEAD = 50;

type Backend = 'flannel-vxlan' | 'flannel-host-gw' | 'calico' | 'unknown';

/** A node as the cluster intends it. */
export interface NodeIntent {
  name: string;
  ns: Netns | undefined;
  ips: string[];
  /** Where its pods' addresses come from: its podCIDRs, or (Calico) the IPAM blocks affine to it. */
  podCIDRs: Prefix[];
  /** The word for those prefixes in sentences. */
  podNet: 'podCIDR' | 'IPAM block';
  backend: Backend;
  /** The VTEP's own IPv4 address (flannel.1's is its podCIDR's first address; vxlan.calico's, one of its block). */
  vtepAddr?: string;
  /** flannel's VTEP device on the node (`flannel.1`). */
  vtepDev?: Iface;
  /** The VTEP MAC peers should use, and where it was read. */
  vtepMac?: { mac: string; from: 'annotation' | 'device'; where: string };
  /** The address peers should send VXLAN to (flannel's public-ip annotation, else the node's address). */
  publicIp?: string;
}

const FLANNEL = 'flannel.alpha.coreos.com/';

export interface Checks {
  nodes: NodeIntent[];
  all: Discrepancy[];
  /** By host. */
  byHost: Map<string, Discrepancy[]>;
}

const memo = new WeakMap<Network, Checks>();

/** Every discrepancy in the capture, computed once per Network. */
export function checksOf(net: Network): Checks {
  let c = memo.get(net);
  if (!c) {
    c = runChecks(net);
    memo.set(net, c);
  }
  return c;
}

/** The node intents of the capture: capture hosts with role node, merged with the Node objects. */
export function nodeIntents(net: Network): NodeIntent[] {
  return contextOf(net).nodes;
}

function readNodeIntents(net: Network): NodeIntent[] {
  const kube = kubernetesOf(net.capture);
  const objects = new Map<string, KubeNode>(kube.nodes.map((n) => [n.metadata.name, n]));
  const names = new Set<string>([...net.capture.hosts.filter((h) => h.role === 'node').map((h) => h.name), ...objects.keys()]);
  const out: NodeIntent[] = [];
  const hostOf = new Map(net.capture.hosts.filter((h) => h.role === 'node').map((h) => [h.name, h]));
  for (const name of names) {
    const host = hostOf.get(name);
    const obj = objects.get(name);
    const ann = obj?.metadata.annotations ?? {};
    const internal = obj?.status.addresses.filter((a) => a.type === 'InternalIP').map((a) => a.address) ?? [];
    const ips = [...new Set([...(host?.ips ?? []), ...internal])];
    const cidrs = [...new Set([...(host?.podCIDRs ?? []), ...(obj?.spec.podCIDRs ?? [])])]
      .map((c) => Prefix.parse(c))
      .flatMap((r) => (r.ok ? [r.value.masked()] : []));
    const uniq = new Map(cidrs.map((p) => [p.toString(), p]));
    const backendAnn = ann[`${FLANNEL}backend-type`];
    const data = parseBackendData(ann[`${FLANNEL}backend-data`]);
    // What needs the node's interfaces (or, for Calico, its routes) is worked out when first asked
    // for: the intents of 500 nodes are read for every diagnosis, the devices of a few.
    const ns = once(() => (host ? net.hosts.get(name) : undefined));
    const ifaces = once(() => [...(ns()?.ifaces.values() ?? [])]);
    const vtepDev = once(() => ifaces().find((i) => i.type === 'vxlan' && /^flannel\.\d+$/.test(i.name)) ?? ifaces().find((i) => i.type === 'vxlan' && i.name === 'vxlan.calico'));
    const backend = once((): Backend => {
      if (backendAnn === 'vxlan') return 'flannel-vxlan';
      const fl = ifaces().some((i) => i.type === 'vxlan' && /^flannel\.\d+$/.test(i.name));
      if (fl) return 'flannel-vxlan';
      if (backendAnn === 'host-gw') return 'flannel-host-gw';
      if (ifaces().some((i) => i.name === 'vxlan.calico' || i.name === 'tunl0' || i.name.startsWith('cali'))) return 'calico';
      return 'unknown';
    });
    // Calico gives pods addresses from IPAM blocks, not the podCIDR; it blackholes each block affine to the node.
    const blocks = once(() => {
      const n = backend() === 'calico' ? ns() : undefined;
      return n ? n.fib[4].tableRoutes('main').filter((r) => r.rec.type === 'blackhole' && (r.rec.protocol === 'bird' || r.rec.protocol === '80')).map((r) => r.rec.dst.masked()) : [];
    });
    const intent = { name, ips } as NodeIntent;
    Object.defineProperties(intent, {
      ns: { enumerable: true, get: ns },
      backend: { enumerable: true, get: backend },
      podCIDRs: { enumerable: true, get: () => (blocks().length ? blocks() : [...uniq.values()]) },
      podNet: { enumerable: true, get: () => (blocks().length ? 'IPAM block' : 'podCIDR') },
      vtepDev: { enumerable: true, get: vtepDev },
      vtepAddr: { enumerable: true, get: () => vtepDev()?.addrs.find((x) => x.family === 4)?.local.toString() },
      vtepMac: {
        enumerable: true,
        get: once(() => {
          if (data?.mac) return { mac: data.mac, from: 'annotation', where: `${sourceOf(obj!) ?? `node ${name}`} annotation ${FLANNEL}backend-data` };
          const d = vtepDev();
          return d?.mac ? { mac: d.mac.toString(), from: 'device', where: `${d.name} on ${name}` } : undefined;
        }),
      },
      publicIp: { enumerable: true, get: once(() => ann[`${FLANNEL}public-ip`] ?? vtepDev()?.link?.vxlan?.local?.toString() ?? ips.find((ip) => !ip.includes(':'))) },
    });
    out.push(intent);
  }
  return out;
}

/** `f`, computed on the first call and then kept. */
function once<T>(f: () => T): () => T {
  let done = false;
  let v: T;
  return () => {
    if (!done) {
      v = f();
      done = true;
    }
    return v;
  };
}

function parseBackendData(raw: string | undefined): { mac?: string } | undefined {
  if (!raw) return undefined;
  try {
    const v: unknown = JSON.parse(raw);
    if (typeof v === 'object' && v !== null && 'VtepMAC' in v && typeof v.VtepMAC === 'string') return { mac: v.VtepMAC.toLowerCase() };
  } catch {
    // A malformed annotation gives no intent: the peer's device stands in.
  }
  return {};
}

function ownerOf(node: NodeIntent, what: 'routes' | 'vtep' | 'cni' | 'host'): string {
  if (what === 'host') return `the node's own network configuration on ${node.name}`;
  if (what === 'cni') return node.backend.startsWith('flannel') ? `the CNI plugin on ${node.name} (flannel's bridge plugin; its MTU comes from /run/flannel/subnet.env)` : `the CNI plugin on ${node.name}`;
  if (node.backend.startsWith('flannel')) return `flanneld on ${node.name}`;
  if (node.backend === 'calico') return `calico-node on ${node.name} (BIRD/Felix)`;
  return `the CNI's node agent on ${node.name}`;
}

function agentOf(node: NodeIntent): string {
  return node.backend.startsWith('flannel') ? 'flanneld' : node.backend === 'calico' ? 'calico-node' : "the CNI's node agent";
}

function restartAgent(node: NodeIntent): string {
  if (node.backend.startsWith('flannel')) return `restart flanneld on ${node.name} (delete its kube-flannel pod; it rewrites the route, neighbour and FDB entry of every node's lease), and read its log for errors about the lease`;
  if (node.backend === 'calico') return `restart calico-node on ${node.name} and check its BIRD/Felix logs`;
  return `restart the CNI's node agent on ${node.name}`;
}

const ev = (ns: Netns, probe: ProbeName, src: { line: number; raw: string }) => evidence(ns, probe, src);

/** What every per-node check shares, computed once per Network. */
interface Context {
  nodes: NodeIntent[];
  byName: Map<string, NodeIntent>;
  nodeIps: Map<string, NodeIntent>;
  /** Per node: its own checks and its pods' (computed on first use). */
  perNode: Map<string, Discrepancy[]>;
  /** Per node: what every node's tables say about reaching its pods (discrepanciesFor), on first use. */
  reaching: Map<string, Discrepancy[]>;
}

const contexts = new WeakMap<Network, Context>();

function contextOf(net: Network): Context {
  let c = contexts.get(net);
  if (!c) {
    const nodes = readNodeIntents(net);
    const nodeIps = new Map<string, NodeIntent>();
    for (const n of nodes) for (const ip of [...n.ips, ...(n.publicIp ? [n.publicIp] : [])]) nodeIps.set(ip, n);
    c = { nodes, byName: new Map(nodes.map((n) => [n.name, n])), nodeIps, perNode: new Map(), reaching: new Map() };
    contexts.set(net, c);
  }
  return c;
}

function runChecks(net: Network): Checks {
  const ctx = contextOf(net);
  const all = ctx.nodes.flatMap((n) => nodeChecks(net, ctx, n));
  return { nodes: ctx.nodes, all, byHost: groupByHost(all) };
}

function groupByHost(all: readonly Discrepancy[]): Map<string, Discrepancy[]> {
  const byHost = new Map<string, Discrepancy[]>();
  for (const d of all) {
    const list = byHost.get(d.host) ?? [];
    list.push(d);
    byHost.set(d.host, list);
  }
  return byHost;
}

/**
 * The checks that concern these hosts only: each node's own (against every peer) and its pods', for the
 * nodes the hosts are or run on. A trace's diagnosis and a tree node need no more than that, which keeps
 * a failed trace on a big cluster from checking every pair of nodes.
 */
export function checksFor(net: Network, hosts: Iterable<string>): Checks {
  const ctx = contextOf(net);
  const names = new Set<string>();
  for (const h of hosts) {
    const host = net.hosts.get(h)?.host;
    const node = host?.role === 'pod' ? host.node : h;
    if (node !== undefined && ctx.byName.has(node)) names.add(node);
  }
  const all = [...names].flatMap((name) => nodeChecks(net, ctx, ctx.byName.get(name)!));
  return { nodes: ctx.nodes, all, byHost: groupByHost(all) };
}

/** A node's own checks against every peer, and its pods' (host = the pod), memoized. */
function nodeChecks(net: Network, ctx: Context, n: NodeIntent): Discrepancy[] {
  const memo = ctx.perNode.get(n.name);
  if (memo) return memo;
  const all: Discrepancy[] = [];
  const nodes = ctx.nodes;
  if (n.ns) {
    const peers = nodes.filter((p) => p !== n);
    all.push(...routeChecks(n, peers));
    if (n.vtepDev) {
      const same = peers.filter((p) => p.backend === n.backend);
      all.push(...vtepChecks(n, same, ctx.nodeIps), ...staleVtepEntries(n, same, ctx.nodeIps));
      all.push(...mtuChecks(net, n));
    }
    all.push(...deviceChecks(net, n));
    if (n.backend.startsWith('flannel')) {
      const d = forwardPolicyCheck(n, nodes);
      if (d) all.push(d);
    }
    const fwd = n.ns.sysctl.get('net.ipv4.ip_forward');
    // ip_forward sets every device's forwarding; a device's own value, read later, is what the kernel uses.
    const devOn = [...n.ns.ifaces.values()].some((i) => (i.type === 'bridge' || i === n.vtepDev) && n.ns!.sysctl.get(`net.ipv4.conf.${i.name}.forwarding`)?.value.trim() === '1');
    if (fwd && fwd.value.trim() === '0' && !devOn) {
      all.push({
        kind: 'forwarding-disabled',
        host: n.name,
        probe: 'sysctl',
        text: `${n.name} does not forward IPv4 (net.ipv4.ip_forward = 0): no pod's packet gets through it`,
        expected: 'net.ipv4.ip_forward = 1',
        actual: 'net.ipv4.ip_forward = 0',
        owner: ownerOf(n, 'host'),
        fix: `sysctl -w net.ipv4.ip_forward=1 on ${n.name}, and make it last (a file in /etc/sysctl.d); flanneld and the container runtime set it at start, so something reset it`,
        evidence: [ev(n.ns, 'sysctl', fwd.rec.src)],
        about: {},
      });
    }
  }
  all.push(...podChecks(net, nodes, n));
  ctx.perNode.set(n.name, all);
  return all;
}

/**
 * flanneld accepts the pod network in the filter table's FORWARD (`-A FORWARD -j FLANNEL-FWD`), because
 * Docker and hardened hosts set FORWARD's policy to DROP. A node with that policy and without the jump
 * drops every pod packet it forwards.
 */
function forwardPolicyCheck(n: NodeIntent, nodes: NodeIntent[]): Discrepancy | undefined {
  const ns = n.ns!;
  const text = ns.host.probes?.iptables;
  if (!text) return undefined;
  const lines = text.split('\n');
  let table = '';
  let policy: { line: number; raw: string } | undefined;
  let jump = false;
  lines.forEach((raw, i) => {
    const l = raw.trim();
    if (l.startsWith('*')) table = l.slice(1);
    else if (table === 'filter' && /^:FORWARD DROP\b/.test(l)) policy = { line: i + 1, raw };
    else if (table === 'filter' && /^-A FORWARD\b.*-j FLANNEL-FWD\b/.test(l)) jump = true;
  });
  if (!policy || jump) return undefined;
  const net = flannelNetwork(nodes);
  return {
    kind: 'missing-forward-accept',
    host: n.name,
    probe: 'iptables',
    text: `${n.name}'s filter FORWARD chain has policy DROP and no jump to flanneld's FLANNEL-FWD: pod packets it forwards are dropped`,
    expected: `-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD${net ? `, accepting ${net} both ways` : ''}`,
    actual: `"${policy.raw.trim()}" and no FLANNEL-FWD jump`,
    owner: `flanneld on ${n.name}`,
    fix: `restart flanneld on ${n.name} (it adds FLANNEL-FWD), or check what flushed FORWARD (a firewall service, Docker's restart)${net ? `; by hand: iptables -A FORWARD -s ${net} -j ACCEPT && iptables -A FORWARD -d ${net} -j ACCEPT` : ''}`,
    evidence: [{ host: n.name, probe: 'iptables', line: policy.line, raw: policy.raw }],
    about: net ? { prefix: net.toString() } : {},
  };
}

/**
 * flannel's network (its net-conf.json `Network`): read from flanneld's own rules on any node (FLANNEL-FWD
 * accepts it, FLANNEL-POSTRTG masquerades from it), else the smallest prefix holding every podCIDR.
 */
function flannelNetwork(nodes: NodeIntent[]): Prefix | undefined {
  for (const n of nodes) {
    const m = /^-A (?:FLANNEL-FWD|FLANNEL-POSTRTG) -s (\S+) (?:-m comment|! -d 224\.0\.0\.0\/4)/m.exec(n.ns?.host.probes?.iptables ?? '');
    const p = m ? Prefix.parse(m[1]!) : undefined;
    if (p?.ok && p.value.family === 4) return p.value.masked();
  }
  const cidrs = nodes.flatMap((x) => x.podCIDRs.filter((p) => p.family === 4));
  return cidrs.length ? covering(cidrs) : undefined;
}

/** The smallest IPv4 prefix that holds every one of these. */
function covering(ps: Prefix[]): Prefix {
  let len = Math.min(...ps.map((p) => p.length));
  const first = ps[0]!.addr;
  while (len > 0 && !ps.every((p) => Prefix.of(first, len).masked().contains(p.addr))) len--;
  return Prefix.of(first, len).masked();
}

/** The routes of a host's main table as `ip route` printed them (the table a missing route was searched in). */
function mainTable(ns: Netns): Evidence[] {
  const out: Evidence[] = [];
  for (const r of ns.fib[4].tableRoutes('main')) if (!r.inferred) out.push(ev(ns, r.probe, r.rec.src));
  return out.sort((a, b) => a.line - b.line);
}

function routeChecks(n: NodeIntent, peers: NodeIntent[]): Discrepancy[] {
  const ns = n.ns!;
  if (!ns.probes.has('routes4')) return [];
  const out: Discrepancy[] = [];
  for (const peer of peers) {
    for (const p of peer.podCIDRs) {
      if (p.family !== 4) continue;
      const ans = ns.fib[4].lookup({ dst: p.addr });
      const r = ans.kind === 'route' ? ans.route : undefined;
      const rec = r?.rec;
      const want = expectedRoute(n, peer, p);
      const about: DiscrepancySubject = { prefix: p.toString(), peer: peer.name };
      const base = { host: n.name, probe: 'routes4' as const, owner: ownerOf(n, 'routes'), about };
      if (!rec || rec.dst.length === 0 || rec.type !== 'unicast' || rec.dst.length > p.length) {
        const actual = !rec
          ? 'no route matches it at all'
          : rec.dst.length === 0
            ? `none: the lookup falls to the default route "${rec.src.raw.trim()}", which takes pod traffic out of the cluster network`
            : rec.type !== 'unicast'
              ? `a ${rec.type} route "${rec.src.raw.trim()}"`
              : `only the narrower route "${rec.src.raw.trim()}"`;
        out.push({
          ...base,
          kind: rec && rec.type !== 'unicast' && rec.dst.length > 0 ? 'wrong-route' : 'missing-route',
          text: rec && rec.type !== 'unicast' && rec.dst.length > 0 ? `${n.name}'s route to ${peer.name}'s ${peer.podNet} ${p} is a ${rec.type} route: the kernel drops what it matches` : `${n.name} has no route to ${peer.name}'s ${peer.podNet} ${p}`,
          expected: want ?? `a route to ${p} toward ${peer.name}`,
          actual,
          fix: want ? `${restartAgent(n)}; by hand: ip route replace ${want} on ${n.name}` : restartAgent(n),
          evidence: rec && r && !r.inferred ? [ev(ns, r.probe, rec.src)] : [],
          searched: mainTable(ns),
        });
        continue;
      }
      if (n.vtepDev && (n.backend === 'flannel-vxlan' || n.vtepDev.name === 'vxlan.calico') && !rec.nexthops?.length) {
        const gw = vtepGateway(peer, p);
        if (rec.dev !== n.vtepDev.name || rec.gateway?.toString() !== gw || rec.dst.length !== p.length) {
          out.push({
            ...base,
            kind: 'wrong-route',
            text: `${n.name}'s route to ${peer.name}'s ${peer.podNet} ${p} does not lead to ${n.vtepDev.name}`,
            expected: want!,
            actual: `"${rec.src.raw.trim()}"`,
            fix: `${restartAgent(n)}; by hand: ip route replace ${want} on ${n.name}`,
            evidence: r && !r.inferred ? [ev(ns, r.probe, rec.src)] : [],
          });
        }
      } else if (n.backend === 'flannel-host-gw' && peer.publicIp && rec.gateway?.toString() !== peer.publicIp && !rec.nexthops?.length) {
        out.push({
          ...base,
          kind: 'wrong-route',
          text: `${n.name}'s route to ${peer.name}'s podCIDR ${p} does not go via ${peer.name} (${peer.publicIp})`,
          expected: want!,
          actual: `"${rec.src.raw.trim()}"`,
          fix: `${restartAgent(n)}; by hand: ip route replace ${want} on ${n.name}`,
          evidence: r && !r.inferred ? [ev(ns, r.probe, rec.src)] : [],
        });
      }
    }
  }
  return out;
}

/** The gateway a node's route to a peer's pod network names: the peer VTEP's address (flannel: the podCIDR's first). */
/**
 * The gateway a node's route and neighbour entry for a peer's pod network use: flanneld writes the
 * lease subnet's own address (the podCIDR's first), whatever the peer's flannel.1 holds; Calico
 * the peer's vxlan.calico address.
 */
function vtepGateway(peer: NodeIntent, p: Prefix): string {
  if (peer.backend.startsWith('flannel')) return p.addr.toString();
  return peer.vtepAddr ?? p.addr.toString();
}

function expectedRoute(n: NodeIntent, peer: NodeIntent, p: Prefix): string | undefined {
  if (n.vtepDev && (n.backend === 'flannel-vxlan' || n.vtepDev.name === 'vxlan.calico')) return `${p} via ${vtepGateway(peer, p)} dev ${n.vtepDev.name} onlink`;
  if (n.backend === 'flannel-host-gw' && peer.publicIp) return `${p} via ${peer.publicIp}`;
  return undefined;
}

function vtepChecks(n: NodeIntent, peers: NodeIntent[], nodeIps: Map<string, NodeIntent>): Discrepancy[] {
  const ns = n.ns!;
  const dev = n.vtepDev!;
  const out: Discrepancy[] = [];
  const hasNeigh = ns.probes.has('neigh') || ns.probes.has('arp');
  const hasFdb = ns.probes.has('fdb');
  const owner = ownerOf(n, 'vtep');
  for (const peer of peers) {
    if (!peer.vtepMac && !peer.vtepDev) continue;
    for (const p of peer.podCIDRs) {
      if (p.family !== 4) continue;
      const about: DiscrepancySubject = { prefix: p.toString(), peer: peer.name, dev: dev.name };
      const gwParsed = Addr.parse(vtepGateway(peer, p));
      if (!gwParsed.ok) continue;
      const gw = gwParsed.value;
      const entry = ns.neigh.get(neighKey(dev.name, gw));
      const mac = peer.vtepMac?.mac;
      const neighProbe: ProbeName = entry ? (ns.neighProbe.get(entry) ?? 'neigh') : ns.probes.has('neigh') ? 'neigh' : 'arp';
      const unusable = entry && (!entry.lladdr || entry.state.some((st) => st === 'FAILED' || st === 'INCOMPLETE'));
      if (hasNeigh && (!entry || unusable)) {
        out.push({
          kind: 'missing-vtep-neigh',
          host: n.name,
          probe: neighProbe,
          text: entry
            ? `${n.name}'s neighbour entry for ${peer.name}'s VTEP gateway ${gw} on ${dev.name} is ${entry.state.join(' ') || 'unresolved'}: ${agentOf(n)} writes it PERMANENT with the VTEP MAC${dev.noarp ? `, and ARP cannot fill it (${dev.name} is NOARP)` : ''}`
            : `${n.name} has no neighbour entry for ${peer.name}'s VTEP gateway ${gw} on ${dev.name}`,
          expected: `${gw} dev ${dev.name} lladdr ${mac ?? `(${peer.name}'s VTEP MAC)`} PERMANENT${mac ? ` (${peer.vtepMac!.where})` : ''}`,
          actual: entry ? `"${entry.src.raw.trim()}"` : `no entry for ${gw} on ${dev.name}`,
          owner,
          fix: `${restartAgent(n)}${mac ? `; by hand: ip neigh replace ${gw} lladdr ${mac} dev ${dev.name} nud permanent` : ''}`,
          evidence: entry ? [ev(ns, neighProbe, entry.src)] : [],
          ...(entry ? {} : { searched: neighLines(ns, dev.name) }),
          about,
        });
      } else if (entry && mac && entry.lladdr && entry.lladdr.toLowerCase() !== mac) {
        out.push({
          kind: 'wrong-vtep-neigh',
          host: n.name,
          probe: neighProbe,
          text: `${n.name}'s neighbour entry for ${peer.name}'s VTEP gateway ${gw} has MAC ${entry.lladdr}, not ${peer.name}'s VTEP MAC ${mac}`,
          expected: `${gw} dev ${dev.name} lladdr ${mac} PERMANENT (${peer.vtepMac!.where})`,
          actual: `"${entry.src.raw.trim()}"`,
          owner,
          fix: `${restartAgent(n)}; by hand: ip neigh replace ${gw} lladdr ${mac} dev ${dev.name} nud permanent`,
          evidence: [ev(ns, neighProbe, entry.src)],
          about: { ...about, mac: entry.lladdr.toLowerCase() },
        });
      }
      // The FDB entry for the MAC the neighbour entry (or the annotation) names.
      const fdbMac = mac ?? entry?.lladdr?.toLowerCase();
      if (!hasFdb || !fdbMac || !peer.publicIp) continue;
      const fdb = (ns.fdb.get(fdbKey(dev.name, fdbMac)) ?? []).filter((e) => e.dst);
      if (fdb.length === 0) {
        out.push({
          kind: 'missing-vtep-fdb',
          host: n.name,
          probe: 'fdb',
          text: `${n.name}'s ${dev.name} has no FDB entry for ${fdbMac}, ${peer.name}'s VTEP at ${peer.publicIp}`,
          expected: `${fdbMac} dev ${dev.name} dst ${peer.publicIp} self permanent`,
          actual: `no entry for ${fdbMac} in ${dev.name}'s forwarding table`,
          owner,
          fix: `${restartAgent(n)}; by hand: bridge fdb append ${fdbMac} dev ${dev.name} dst ${peer.publicIp}`,
          evidence: [],
          searched: fdbLines(ns, dev.name),
          about: { ...about, mac: fdbMac },
        });
      } else if (!fdb.some((e) => e.dst?.toString() === peer.publicIp)) {
        const e = fdb[0]!;
        const other = nodeIps.get(e.dst!.toString());
        out.push({
          kind: 'wrong-vtep-fdb',
          host: n.name,
          probe: 'fdb',
          text: `${n.name}'s FDB entry for ${peer.name}'s VTEP ${fdbMac} sends to ${e.dst}${other ? ` (${other.name})` : ', no node'}, not ${peer.publicIp}`,
          expected: `${fdbMac} dev ${dev.name} dst ${peer.publicIp} self permanent`,
          actual: `"${e.src.raw.trim()}"`,
          owner,
          fix: `${restartAgent(n)}; by hand: bridge fdb replace ${fdbMac} dev ${dev.name} dst ${peer.publicIp}`,
          evidence: [ev(ns, 'fdb', e.src)],
          about: { ...about, mac: fdbMac },
        });
      }
    }
  }
  // The node's own VTEP against what it told the cluster.
  if (n.vtepMac?.from === 'annotation' && dev.mac && dev.mac.toString() !== n.vtepMac.mac && dev.link) {
    out.push({
      kind: 'vtep-mac-mismatch',
      host: n.name,
      probe: 'links',
      text: `${n.name}'s ${dev.name} has MAC ${dev.mac}, but its node annotation tells the other nodes ${n.vtepMac.mac}: their packets for its pods are addressed to a MAC it does not have`,
      expected: `${dev.name} link/ether ${n.vtepMac.mac} (${n.vtepMac.where})`,
      actual: `"${dev.link.src.raw.trim()}"`,
      owner,
      fix: `restart flanneld on ${n.name}: it publishes the device's MAC again, and every other node's flanneld rewrites its entries`,
      evidence: [ev(ns, 'links', dev.link.src)],
      about: { dev: dev.name, mac: n.vtepMac.mac, ...(n.podCIDRs[0] ? { prefix: n.podCIDRs[0].toString(), peer: n.name } : {}) },
    });
  }
  return out;
}

/** FDB entries on a node's VTEP that send to an address no node has: left behind by a node that is gone (or renumbered). */
function staleVtepEntries(n: NodeIntent, peers: NodeIntent[], nodeIps: Map<string, NodeIntent>): Discrepancy[] {
  const ns = n.ns!;
  const dev = n.vtepDev!;
  const out: Discrepancy[] = [];
  const owner = ownerOf(n, 'vtep');
  const peerMacs = new Set(peers.flatMap((p) => (p.vtepMac ? [p.vtepMac.mac] : [])));
  if (ns.probes.has('fdb')) {
    for (const [k, list] of ns.fdb) {
      if (!k.startsWith(`${dev.name}|`)) continue;
      for (const e of list) {
        // A node's VTEP MAC sent to the wrong address is wrong-vtep-fdb above, not a leftover.
        if (!e.dst || nodeIps.has(e.dst.toString()) || e.mac === '00:00:00:00:00:00' || peerMacs.has(e.mac.toLowerCase())) continue;
        out.push({
          kind: 'stale-vtep-fdb',
          host: n.name,
          probe: 'fdb',
          text: `${n.name}'s ${dev.name} FDB entry for ${e.mac} sends to ${e.dst}, which is no node's address`,
          expected: `FDB entries on ${dev.name} only for the current nodes' VTEPs`,
          actual: `"${e.src.raw.trim()}"`,
          owner,
          fix: `bridge fdb del ${e.mac} dev ${dev.name} dst ${e.dst} on ${n.name}; ${agentOf(n)} removes the entries of a node that leaves, so check for a node deleted while it was down`,
          evidence: [ev(ns, 'fdb', e.src)],
          about: { dev: dev.name, mac: e.mac },
        });
      }
    }
  }
  return out;
}

function neighLines(ns: Netns, dev: string): Evidence[] {
  const out: Evidence[] = [];
  for (const r of ns.neigh.values()) if (r.dev === dev) out.push(ev(ns, ns.neighProbe.get(r) ?? 'neigh', r.src));
  return out;
}

function fdbLines(ns: Netns, dev: string): Evidence[] {
  const out: Evidence[] = [];
  for (const [k, list] of ns.fdb) if (k.startsWith(`${dev}|`)) for (const e of list) out.push(ev(ns, 'fdb', e.src));
  return out.sort((a, b) => a.line - b.line);
}

/** The device VXLAN packets leave by: the vxlan's `dev`, else the device with the public address. */
function underlayOf(n: NodeIntent): Iface | undefined {
  const ns = n.ns!;
  const named = n.vtepDev?.link?.vxlan?.dev;
  if (named) return ns.ifaces.get(named);
  const local = n.vtepDev?.link?.vxlan?.local?.toString() ?? n.publicIp;
  return local ? [...ns.ifaces.values()].find((i) => i.addrs.some((a) => a.local.toString() === local)) : undefined;
}

function mtuChecks(net: Network, n: NodeIntent): Discrepancy[] {
  const ns = n.ns!;
  const dev = n.vtepDev!;
  const out: Discrepancy[] = [];
  const under = underlayOf(n);
  const linkEv = (i: Iface, on: Netns = ns) => (i.link ? [ev(on, 'links', i.link.src)] : []);
  if (under && dev.mtu > under.mtu - VXLAN4_OVERHEAD) {
    out.push({
      kind: 'mtu-mismatch',
      host: n.name,
      probe: 'links',
      text: `${n.name}'s ${dev.name} has MTU ${dev.mtu}, more than ${under.name}'s ${under.mtu} − ${VXLAN4_OVERHEAD} bytes of VXLAN header = ${under.mtu - VXLAN4_OVERHEAD}: encapsulated packets above that do not fit ${under.name}`,
      expected: `${dev.name} mtu ${under.mtu - VXLAN4_OVERHEAD} or less`,
      actual: `${dev.name} mtu ${dev.mtu}`,
      owner: ownerOf(n, 'vtep'),
      fix: `let flanneld set the MTU from ${under.name} (remove an MTU override from its net-conf.json), or raise ${under.name}'s MTU to ${dev.mtu + VXLAN4_OVERHEAD}`,
      evidence: [...linkEv(dev), ...linkEv(under)],
      about: { dev: dev.name },
    });
  }
  // The bridge and the pods behind it should not offer more than the tunnel carries.
  for (const br of ns.ifaces.values()) {
    if (br.type !== 'bridge' || net.topology.ports(ns, br.name).length === 0 || br.mtu <= dev.mtu) continue;
    if (!(br.addrs.some((a) => n.podCIDRs.some((p) => p.contains(a.local))))) continue;
    out.push({
      kind: 'mtu-mismatch',
      host: n.name,
      probe: 'links',
      text: `${n.name}'s ${br.name} has MTU ${br.mtu}, more than ${dev.name}'s ${dev.mtu}: pods' packets between ${dev.mtu} and ${br.mtu} bytes to other nodes are dropped at ${dev.name}`,
      expected: `${br.name} mtu ${dev.mtu} (the VXLAN MTU: ${under ? `${under.mtu} − ${VXLAN4_OVERHEAD}` : `${dev.name}'s`})`,
      actual: `${br.name} mtu ${br.mtu}`,
      owner: ownerOf(n, 'cni'),
      fix: `set the CNI config's mtu to ${dev.mtu} (flannel writes FLANNEL_MTU=${dev.mtu} to /run/flannel/subnet.env), then recreate the pods on ${n.name}`,
      evidence: [...linkEv(br), ...linkEv(dev)],
      about: { dev: br.name, bridge: br.name },
    });
  }
  for (const pod of net.podsOnNode.get(n.name) ?? []) {
    if (pod.inferred || !pod.probes.has('links')) continue;
    for (const i of pod.ifaces.values()) {
      if (i.type === 'loopback' || i.name === 'lo' || i.mtu <= dev.mtu || !i.addrs.some((a) => a.family === 4)) continue;
      out.push({
        kind: 'mtu-mismatch',
        host: pod.name,
        probe: 'links',
        text: `${pod.name}'s ${i.name} has MTU ${i.mtu}, more than ${n.name}'s ${dev.name} (${dev.mtu}): its packets between ${dev.mtu} and ${i.mtu} bytes to other nodes are dropped at ${dev.name}`,
        expected: `${i.name} mtu ${dev.mtu}`,
        actual: `${i.name} mtu ${i.mtu}`,
        owner: ownerOf(n, 'cni'),
        fix: `set the CNI config's mtu to ${dev.mtu} on ${n.name} and recreate the pod`,
        evidence: [...linkEv(i, pod), ...linkEv(dev)],
        about: { dev: i.name },
      });
    }
  }
  return out;
}

function deviceChecks(net: Network, n: NodeIntent): Discrepancy[] {
  const ns = n.ns!;
  if (!ns.probes.has('links')) return [];
  const out: Discrepancy[] = [];
  const linkEv = (i: Iface) => (i.link ? [ev(ns, 'links', i.link.src)] : []);
  const down = (i: Iface, what: string, owner: string, fix: string, ip?: string): Discrepancy => ({
    kind: 'device-down',
    host: n.name,
    probe: 'links',
    text: `${n.name}'s ${what} ${i.name} is ${i.up ? 'without carrier' : 'down'}`,
    expected: `${i.name} UP, LOWER_UP`,
    actual: i.up ? `${i.name} UP without LOWER_UP (no carrier${i.type === 'veth' ? ': its peer is down' : ''})` : `${i.name} DOWN`,
    owner,
    fix,
    evidence: linkEv(i),
    about: { dev: i.name, ...(i.master ? { bridge: i.master } : {}), ...(ip ? { ip } : {}) },
  });
  const fwdAll = ns.sysctl.get('net.ipv4.ip_forward')?.value.trim();
  for (const i of ns.ifaces.values()) {
    const f = ns.sysctl.get(`net.ipv4.conf.${i.name}.forwarding`);
    if (fwdAll !== '0' && f?.value.trim() === '0' && (i.type === 'bridge' || i === n.vtepDev || i.addrs.some((a) => n.ips.includes(a.local.toString())))) {
      out.push({
        kind: 'forwarding-disabled',
        host: n.name,
        probe: 'sysctl',
        text: `${n.name} does not forward what arrives on ${i.name} (net.ipv4.conf.${i.name}.forwarding = 0)`,
        expected: `net.ipv4.conf.${i.name}.forwarding = 1`,
        actual: `net.ipv4.conf.${i.name}.forwarding = 0`,
        owner: ownerOf(n, 'host'),
        fix: `sysctl -w net.ipv4.conf.${i.name}.forwarding=1 on ${n.name}, and find what set it to 0`,
        evidence: [ev(ns, 'sysctl', f.rec.src)],
        about: { dev: i.name },
      });
    }
  }
  for (const i of ns.ifaces.values()) {
    if (i.type === 'bridge') {
      if (!i.up) out.push(down(i, 'bridge', ownerOf(n, 'cni'), `ip link set ${i.name} up on ${n.name}`));
      for (const [k, list] of ns.fdb) {
        if (!k.startsWith(`${i.name}|`)) continue;
        for (const e of list) {
          if (e.dev === i.name) continue;
          const port = ns.ifaces.get(e.dev);
          if (port && port.master === i.name) {
            // A learned MAC behind one port that a pod behind another port has: it moved, and the entry did not.
            if (e.state === 'permanent' || e.self) continue;
            const owner = macOwners(net, ns).get(e.mac.toLowerCase());
            if (owner && owner.port !== e.dev) {
              out.push({
                kind: 'stale-bridge-fdb',
                host: n.name,
                probe: 'fdb',
                text: `${n.name}'s ${i.name} has ${e.mac} (${owner.pod}'s MAC) behind ${e.dev}, but ${owner.pod} is behind ${owner.port}: frames for it go to the wrong pod until the entry ages out`,
                expected: `${e.mac} dev ${owner.port} master ${i.name}`,
                actual: `"${e.src.raw.trim()}"`,
                owner: `${i.name}'s address learning on ${n.name} (a MAC seen on the wrong port, e.g. a pod recreated with the same address)`,
                fix: `bridge fdb del ${e.mac} dev ${e.dev} master on ${n.name}`,
                evidence: [ev(ns, 'fdb', e.src)],
                about: { bridge: i.name, dev: e.dev, mac: e.mac.toLowerCase(), ...(owner.ip ? { ip: owner.ip } : {}) },
              });
            }
            continue;
          }
          out.push(fdbNotPort(n, ns, i, e, port));
        }
      }
    } else if (i.type === 'vxlan' && i === n.vtepDev) {
      if (!i.up) out.push(down(i, 'VTEP', ownerOf(n, 'vtep'), `ip link set ${i.name} up on ${n.name}, or restart flanneld there`));
    } else if (i.master && ns.ifaces.get(i.master)?.type === 'bridge') {
      const br = ns.ifaces.get(i.master)!;
      const pod = podBehind(net, ns, i);
      const ip = pod?.ip;
      const whose = pod ? ` (${pod.pod.name}'s veth)` : '';
      if (!i.up || !i.lowerUp) out.push(down(i, `${br.name} port`, ownerOf(n, 'cni'), i.type === 'veth' ? `ip link set ${i.name} up on ${n.name}; if it goes down again, recreate the pod behind it${pod ? ` (${pod.pod.name})` : ''}` : `ip link set ${i.name} up on ${n.name}`, ip));
      if (pod && i.mtu < pod.iface.mtu) {
        out.push({
          kind: 'mtu-mismatch',
          host: n.name,
          probe: 'links',
          text: `${n.name}'s ${i.name}${whose} has MTU ${i.mtu}, less than ${pod.pod.name}'s ${pod.iface.name} (${pod.iface.mtu}) at the other end: frames of ${i.mtu + 1}–${pod.iface.mtu} bytes from the pod are dropped there`,
          expected: `${i.name} mtu ${pod.iface.mtu} (both ends of a veth alike)`,
          actual: `${i.name} mtu ${i.mtu}`,
          owner: ownerOf(n, 'cni'),
          fix: `ip link set ${i.name} mtu ${pod.iface.mtu} on ${n.name} (the bridge takes its ports' smallest MTU, so ${br.name} follows), and check the CNI config's mtu`,
          evidence: [...linkEv(i), ...(pod.iface.link ? [ev(pod.pod, 'links', pod.iface.link.src)] : [])],
          about: { dev: i.name, bridge: br.name, ...(ip ? { ip } : {}) },
        });
      }
      const state = i.link?.bridgePort?.state;
      if (state !== undefined && state !== 'forwarding' && i.up) {
        out.push({
          kind: 'port-blocked',
          host: n.name,
          probe: 'links',
          text: `${n.name}'s ${br.name} port ${i.name} is in state ${state}: it does not forward`,
          expected: `${i.name} state forwarding`,
          actual: `${i.name} state ${state}`,
          owner: ownerOf(n, 'cni'),
          fix: `check STP on ${br.name} (the bridge plugin leaves it off); bridge link set dev ${i.name} state 3`,
          evidence: linkEv(i),
          about: { dev: i.name, bridge: br.name },
        });
      }
      if (i.mtu < br.mtu) {
        out.push({
          kind: 'mtu-mismatch',
          host: n.name,
          probe: 'links',
          text: `${n.name}'s ${br.name} port ${i.name} has MTU ${i.mtu}, smaller than ${br.name}'s ${br.mtu}: larger frames are dropped there`,
          expected: `${i.name} mtu ${br.mtu}`,
          actual: `${i.name} mtu ${i.mtu}`,
          owner: ownerOf(n, 'cni'),
          fix: `ip link set ${i.name} mtu ${br.mtu} on ${n.name}, and align the CNI config's mtu`,
          evidence: [...linkEv(i), ...linkEv(br)],
          about: { dev: i.name, bridge: br.name },
        });
      }
    } else if (i.type === 'veth' && !i.master) {
      // A pod's veth outside the bridge that serves its subnet: nothing bridges its frames.
      const pod = podBehind(net, ns, i);
      const podIp = pod?.ip !== undefined ? Addr.parse(pod.ip) : undefined;
      const br = podIp?.ok ? [...ns.ifaces.values()].find((b) => b.type === 'bridge' && b.addrs.some((a) => a.family === 4 && Prefix.of(a.local, a.prefixlen).masked().contains(podIp.value))) : undefined;
      if (pod && br) {
        out.push({
          kind: 'veth-not-in-bridge',
          host: n.name,
          probe: 'links',
          text: `${n.name}'s ${i.name}, ${pod.pod.name}'s veth, is not a port of ${br.name}, the bridge of its subnet: frames for ${pod.ip} reach no port`,
          expected: `${i.name} master ${br.name}`,
          actual: `"${i.link?.src.raw.trim() ?? i.name}" (no master)`,
          owner: ownerOf(n, 'cni'),
          fix: `ip link set ${i.name} master ${br.name} on ${n.name}, or recreate ${pod.pod.name}`,
          evidence: linkEv(i),
          about: { dev: i.name, bridge: br.name, ip: pod.ip! },
        });
      }
    } else if (i.addrs.some((a) => a.family === 4 && n.ips.includes(a.local.toString())) && (!i.up || !i.lowerUp)) {
      out.push(down(i, 'NIC', ownerOf(n, 'host'), `bring ${i.name} up on ${n.name} (ip link set ${i.name} up) and check its cable or virtual switch`));
    }
  }
  void net;
  return out;
}

/** The pod whose interface is the far end of a node's veth (by the `@ifN` peer index both ways), and its IPv4 address. */
function podBehind(net: Network, node: Netns, port: Iface): { pod: Netns; iface: Iface; ip?: string } | undefined {
  const idx = port.link?.linkIndex;
  if (idx === undefined) return undefined;
  for (const pod of net.podsOnNode.get(node.name) ?? []) {
    if (pod.inferred) continue;
    const eth = pod.byIndex.get(idx);
    if (!eth || (eth.link?.linkIndex !== undefined && eth.link.linkIndex !== port.ifindex)) continue;
    const ip = eth.addrs.find((a) => a.family === 4)?.local.toString() ?? pod.host.ips?.[0];
    return { pod, iface: eth, ...(ip ? { ip } : {}) };
  }
  return undefined;
}

const owners = new WeakMap<Netns, Map<string, { pod: string; port: string; ip?: string }>>();

/** MAC -> the pod that has it and the node port it is behind (pods whose interfaces the capture holds). */
function macOwners(net: Network, node: Netns): Map<string, { pod: string; port: string; ip?: string }> {
  let m = owners.get(node);
  if (m) return m;
  m = new Map();
  for (const port of node.ifaces.values()) {
    if (port.type !== 'veth') continue;
    const p = podBehind(net, node, port);
    if (p?.iface.mac) m.set(p.iface.mac.toString(), { pod: p.pod.name, port: port.name, ...(p.ip ? { ip: p.ip } : {}) });
  }
  owners.set(node, m);
  return m;
}

function fdbNotPort(n: NodeIntent, ns: Netns, br: Iface, e: FdbRecord, port: Iface | undefined): Discrepancy {
  return {
    kind: 'fdb-not-port',
    host: n.name,
    probe: 'fdb',
    text: port ? `${n.name}'s ${br.name} FDB entry for ${e.mac} points at ${e.dev}, which is not a port of ${br.name}` : `${n.name}'s ${br.name} FDB entry for ${e.mac} points at ${e.dev}, which does not exist`,
    expected: `FDB entries of ${br.name} only on its ports`,
    actual: `"${e.src.raw.trim()}"`,
    owner: ownerOf(n, 'cni'),
    fix: `bridge fdb del ${e.mac} dev ${e.dev} master on ${n.name}`,
    evidence: [ev(ns, 'fdb', e.src)],
    about: { bridge: br.name, dev: e.dev, mac: e.mac },
  };
}

/** A pod (with its own tables) that has no route to other nodes' pods. */
function podChecks(net: Network, nodes: NodeIntent[], node: NodeIntent): Discrepancy[] {
  const out: Discrepancy[] = [];
  const other = nodes.find((n) => n.name !== node.name && n.podCIDRs.some((p) => p.family === 4));
  const target = other?.podCIDRs.find((p) => p.family === 4);
  if (!other || !target) return out;
  for (const pod of net.podsOnNode.get(node.name) ?? []) {
    if (pod.inferred || !pod.probes.has('routes4')) continue;
    const ans = pod.fib[4].lookup({ dst: target.addr });
    if (ans.kind === 'route' && ans.route.rec.type === 'unicast') continue;
    out.push({
      kind: 'pod-no-route',
      host: pod.name,
      probe: 'routes4',
      text: `${pod.name} has no route to pods on other nodes (${other.name}'s ${target})`,
      expected: `a default route (or the cluster's pod network) via its node's bridge gateway`,
      actual: ans.kind === 'route' ? `a ${ans.route.rec.type} route "${ans.route.rec.src.raw.trim()}"` : 'no route matches',
      owner: ownerOf(node, 'cni'),
      fix: `recreate the pod: the CNI plugin writes its routes when the sandbox is created`,
      evidence: [],
      searched: mainTable(pod),
      about: { prefix: target.toString(), peer: other.name },
    });
  }
  return out;
}

/** The discrepancies that concern reaching `ip` (a pod's address): routes and VTEP entries for its podCIDR. */
export function discrepanciesFor(net: Network, ip: Addr): Discrepancy[] {
  const ctx = contextOf(net);
  const owner = ctx.nodes.find((n) => n.podCIDRs.some((p) => p.contains(ip)));
  if (!owner) return [];
  let found = ctx.reaching.get(owner.name);
  if (!found) {
    // Every other node's routes and VTEP entries for the owner's pod network (one peer each: linear),
    // and the owner's own checks (its VTEP's MAC).
    found = [];
    for (const n of ctx.nodes) {
      if (n === owner || !n.ns) continue;
      found.push(...routeChecks(n, [owner]));
      if (n.vtepDev && owner.backend === n.backend) found.push(...vtepChecks(n, [owner], ctx.nodeIps).filter((d) => d.kind !== 'vtep-mac-mismatch'));
    }
    found.push(...nodeChecks(net, ctx, owner).filter((d) => d.about.prefix !== undefined));
    ctx.reaching.set(owner.name, found);
  }
  return found.filter((d) => {
    const p = d.about.prefix !== undefined ? Prefix.parse(d.about.prefix) : undefined;
    return p?.ok === true && p.value.contains(ip) && d.kind !== 'pod-no-route';
  });
}
