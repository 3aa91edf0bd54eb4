// The forwarding state of every network namespace in a capture, parsed and indexed once, so that
// a trace is only lookups. A node's netns and each pod's netns are separate `Netns`; a hostNetwork
// pod shares its node's.
import type { Capture, Host } from '../capture/document';
import {
  isProbeName,
  parseProbe,
  type AddrRecord,
  type FdbRecord,
  type LinkRecord,
  type NeighRecord,
  type ParseIssue,
  type ProbeName,
  type RouteRecord,
  type RuleRecord,
  type SysctlRecord,
  type WgInterfaceRecord,
  type WgPeerRecord,
} from '../parsers';
import { Addr, Mac, Prefix, type Family } from '../net/addr';
import { Fib } from './fib';
import type { Evidence } from './trace';

export interface Iface {
  name: string;
  ifindex: number;
  /** undefined when the interface is known only by inference (no `links` probe). */
  link: LinkRecord | undefined;
  type: string;
  mtu: number;
  up: boolean;
  lowerUp: boolean;
  mac: Mac | undefined;
  master: string | undefined;
  noarp: boolean;
  addrs: AddrRecord[];
}

export interface Netns {
  /** The capture host this namespace belongs to. */
  host: Host;
  name: string;
  ifaces: Map<string, Iface>;
  byIndex: Map<number, Iface>;
  fib: Record<Family, Fib>;
  /** Neighbour entries by `dev|addr`. */
  neigh: Map<string, NeighRecord>;
  /** Proxy neighbour entries (`ip neigh add proxy ADDR dev DEV`) by `dev|addr`: this host answers ARP/ND for them. */
  proxies: Map<string, NeighRecord>;
  /** Which probe each neighbour entry came from (`neigh` or `arp`). */
  neighProbe: Map<NeighRecord, ProbeName>;
  /** Bridge FDB entries by `bridge|mac` (entries with `master`), VXLAN entries by `dev|mac` (self). */
  fdb: Map<string, FdbRecord[]>;
  /** sysctl values by key with interface names unmangled (`net.ipv4.conf.flannel.1.rp_filter`). */
  sysctl: Map<string, { value: string; rec: SysctlRecord }>;
  /** WireGuard devices by name (from the `wg` probe): their own key and port, and their peers. */
  wg: Map<string, { dev: WgInterfaceRecord | undefined; peers: WgPeerRecord[] }>;
  /** Probes the capture holds for this host. */
  probes: Set<ProbeName>;
  issues: { probe: ProbeName; issue: ParseIssue }[];
  /** Set when the capture holds no tables for this namespace and it was inferred (a pod with no probes). */
  inferred?: InferredNetns;
}

/** A namespace the capture holds no tables for, built from what its node and Kubernetes say. */
export interface InferredNetns {
  /** The node whose tables it was inferred from; undefined when that node is not in the capture either. */
  node: string | undefined;
  /** One sentence: what was inferred, from what. */
  text: string;
  /** The node's lines it was inferred from. */
  basis: Evidence[];
}

export interface Network {
  capture: Capture;
  hosts: Map<string, Netns>;
  /** Which pods run on a node (for veth peer matching). */
  podsOnNode: Map<string, Netns[]>;
  /** Every address owned by an interface, for "who owns this IP": `addr` -> owners. */
  owners: Map<string, { ns: Netns; iface: Iface; rec: AddrRecord }[]>;
}

export function evidence(ns: Netns, probe: ProbeName, src: { line: number; raw: string }): Evidence {
  return { host: ns.host.name, probe, line: src.line, raw: src.raw };
}

export const neighKey = (dev: string, a: Addr) => `${dev}|${a.toString()}`;
export const fdbKey = (dev: string, mac: string) => `${dev}|${mac.toLowerCase()}`;

function parse<R>(host: Host, probe: ProbeName, issues: Netns['issues']): R[] {
  const text = host.probes?.[probe];
  if (text === undefined) return [];
  const r = parseProbe(probe, text);
  for (const issue of r.issues) issues.push({ probe, issue });
  return r.records as R[];
}

export function buildNetns(host: Host): Netns {
  const issues: Netns['issues'] = [];
  const probes = new Set(Object.keys(host.probes ?? {}).filter(isProbeName));
  const links = parse<LinkRecord>(host, 'links', issues);
  const addrs = parse<AddrRecord>(host, 'addrs', issues);
  const routes4 = parse<RouteRecord>(host, 'routes4', issues);
  const routes6 = parse<RouteRecord>(host, 'routes6', issues);
  const rules = [...parse<RuleRecord>(host, 'rules4', issues), ...parse<RuleRecord>(host, 'rules6', issues)];
  const neighs = parse<NeighRecord>(host, 'neigh', issues);
  const arps = parse<NeighRecord>(host, 'arp', issues);
  const fdbs = parse<FdbRecord>(host, 'fdb', issues);
  const sysctls = parse<SysctlRecord>(host, 'sysctl', issues);
  const wgRecords = parse<WgInterfaceRecord | WgPeerRecord>(host, 'wg', issues);

  const ifaces = new Map<string, Iface>();
  const byIndex = new Map<number, Iface>();
  for (const l of links) {
    const mac = l.address !== undefined && l.linkType === 'ether' ? Mac.parse(l.address) : undefined;
    const iface: Iface = {
      name: l.ifname,
      ifindex: l.ifindex,
      link: l,
      // Without `ip -d`, the kind is not printed: `link/ipip` still names IPIP, and `@ifN` (a peer in
      // another namespace) is how a veth shows itself.
      type: l.type ?? (l.linkType === 'loopback' ? 'loopback' : l.linkType === 'ipip' ? 'ipip' : l.linkIndex !== undefined ? 'veth' : 'device'),
      mtu: l.mtu,
      up: l.up,
      lowerUp: l.lowerUp,
      mac: mac?.ok ? mac.value : undefined,
      master: l.master,
      noarp: l.flags.includes('NOARP'),
      addrs: [],
    };
    ifaces.set(iface.name, iface);
    byIndex.set(iface.ifindex, iface);
  }
  for (const a of addrs) {
    let iface = ifaces.get(a.dev);
    if (!iface) {
      // Addresses name their interface even without a `links` probe: know it by inference.
      iface = { name: a.dev, ifindex: a.ifindex ?? -1, link: undefined, type: a.dev === 'lo' ? 'loopback' : 'device', mtu: 1500, up: true, lowerUp: true, mac: undefined, master: undefined, noarp: a.dev === 'lo', addrs: [] };
      ifaces.set(a.dev, iface);
      if (a.ifindex !== undefined) byIndex.set(a.ifindex, iface);
    }
    iface.addrs.push(a);
  }

  // A pod read from /proc (no ip, no BusyBox): its routes name its devices, Kubernetes names its IPs.
  // The interfaces are inferred from those, with no MTU limit of their own (the node side still checks).
  if (host.role === 'pod' && links.length === 0 && addrs.length === 0 && routes4.length + routes6.length > 0) {
    for (const a of inferPodAddrs(host, [...routes4, ...routes6])) {
      let iface = ifaces.get(a.dev);
      if (!iface) {
        iface = { name: a.dev, ifindex: -1, link: undefined, type: 'veth', mtu: 65535, up: true, lowerUp: true, mac: undefined, master: undefined, noarp: false, addrs: [] };
        ifaces.set(a.dev, iface);
      }
      iface.addrs.push(a);
      addrs.push(a);
    }
  }

  const fib: Record<Family, Fib> = { 4: new Fib(4), 6: new Fib(6) };
  // `ip route show table all` lists IPv6 routes too on current kernels: each route is filed under its
  // own family, and a route present in both probes is kept once.
  const seen = new Set<string>();
  for (const [probe, list] of [['routes4', routes4], ['routes6', routes6]] as const) {
    for (const r of list) {
      const k = `${r.family}|${r.table}|${r.type}|${r.dst}|${r.metric ?? 0}|${r.dev ?? ''}|${r.gateway ?? r.unresolvedGateway?.name ?? ''}`;
      if (seen.has(k)) continue;
      seen.add(k);
      fib[r.family].addRoute(r, probe);
    }
  }
  for (const r of rules) fib[r.family].addRule(r, r.family === 4 ? 'rules4' : 'rules6');
  for (const f of [4, 6] as const) {
    const hasLocalTable = [...routes4, ...routes6].some((r) => r.family === f && r.table === 'local');
    fib[f].finish(hasLocalTable ? undefined : addrs.filter((a) => a.family === f));
  }

  const neigh = new Map<string, NeighRecord>();
  // `ip neigh` knows the NUD state; `arp` (legacy) only fills in what `ip neigh` did not capture.
  const neighProbe = new Map<NeighRecord, ProbeName>();
  const proxies = new Map<string, NeighRecord>();
  for (const [probe, list] of [['arp', arps], ['neigh', neighs]] as const) {
    for (const n of list) {
      if (n.dev !== undefined && n.proxy) proxies.set(neighKey(n.dev, n.dst), n);
      if (n.dev === undefined || n.proxy) continue;
      neigh.set(neighKey(n.dev, n.dst), n);
      neighProbe.set(n, probe);
    }
  }
  const fdb = new Map<string, FdbRecord[]>();
  for (const e of fdbs) {
    const owner = e.master !== undefined && !e.self ? e.master : e.dev;
    const k = fdbKey(owner, e.mac);
    const list = fdb.get(k);
    if (list) list.push(e);
    else fdb.set(k, [e]);
  }
  const sysctl = new Map<string, { value: string; rec: SysctlRecord }>();
  for (const s of sysctls) {
    const key = s.conf ? `net.ipv${s.conf.family}.conf.${s.conf.iface}.${s.conf.param}` : s.key;
    sysctl.set(key, { value: s.value, rec: s });
  }
  const wg = new Map<string, { dev: WgInterfaceRecord | undefined; peers: WgPeerRecord[] }>();
  for (const r of wgRecords) {
    const entry = wg.get(r.ifname) ?? { dev: undefined, peers: [] };
    if (r.kind === 'wg-interface') entry.dev = r;
    else entry.peers.push(r);
    wg.set(r.ifname, entry);
  }
  return { host, name: host.name, ifaces, byIndex, fib, neigh, neighProbe, proxies, fdb, sysctl, wg, probes, issues };
}

/** The pod's reported IPs, each on the device its own routes reach it by (the default route's otherwise). */
function inferPodAddrs(host: Host, routes: RouteRecord[]): AddrRecord[] {
  const out: AddrRecord[] = [];
  for (const text of host.ips ?? []) {
    const ip = Addr.parse(text);
    if (!ip.ok) continue;
    const fam = routes.filter((r) => r.family === ip.value.family && r.dev !== undefined && r.type === 'unicast');
    // A route through a gateway printed by name (`route` without -n) is not on-link either.
    const onLink = fam.filter((r) => r.gateway === undefined && r.unresolvedGateway === undefined && r.dst.length > 0 && r.dst.contains(ip.value)).sort((x, y) => y.dst.length - x.dst.length)[0];
    const dev = onLink?.dev ?? fam.find((r) => r.dst.length === 0)?.dev ?? fam[0]?.dev;
    if (dev === undefined) continue;
    const len = onLink?.dst.length ?? ip.value.bits;
    out.push({
      kind: 'addr',
      dev,
      family: ip.value.family,
      local: ip.value,
      prefixlen: len,
      prefix: Prefix.of(ip.value, len),
      scope: 'global',
      flags: [],
      src: { line: 0, raw: `${ip.value}/${len} dev ${dev} (inferred: the pod IP Kubernetes reports, on the device its routes use)` },
    });
  }
  return out;
}

/** A pod (not on the host network) whose interfaces, addresses and routes the capture does not hold. */
function hasNoInterfaceTables(ns: Netns): boolean {
  const h = ns.host;
  return h.role === 'pod' && !h.hostNetwork && !(['links', 'addrs', 'routes4', 'routes6'] as const).some((p) => ns.probes.has(p));
}

/** How the node reaches one pod address: the device its route (or, failing that, its neighbour entry) uses. */
interface PodSide {
  dev: Iface;
  ev: Evidence;
  /** The node's route to the address, when that is what led to `dev`. */
  route: RouteRecord | undefined;
}

function podSideOnNode(node: Netns, ip: Addr): PodSide | undefined {
  const podFacing = (i: Iface | undefined) => i !== undefined && (i.type === 'bridge' || (i.type === 'veth' && i.master === undefined));
  const ans = node.fib[ip.family].lookup({ dst: ip });
  // Only a route straight onto the device (no gateway) says the pod is there: a default route's does not.
  if (ans.kind === 'route' && ans.route.rec.type === 'unicast' && ans.route.rec.dev !== undefined && ans.route.rec.gateway === undefined) {
    const dev = node.ifaces.get(ans.route.rec.dev);
    if (dev && podFacing(dev)) return { dev, ev: evidence(node, ans.route.probe, ans.route.rec.src), route: ans.route.rec };
  }
  // No route leads there (a fault): the node's neighbour entry still tells which device the pod is on.
  for (const dev of node.ifaces.values()) {
    const n = node.neigh.get(neighKey(dev.name, ip));
    if (n && podFacing(dev)) return { dev, ev: evidence(node, node.neighProbe.get(n) ?? 'neigh', n.src), route: undefined };
  }
  return undefined;
}

/** The IPv6 link-local address of a device: its own (from `addrs`), else the EUI-64 one its MAC gives. */
function linkLocalOf(dev: Iface): Addr | undefined {
  const own = dev.addrs.find((a) => a.family === 6 && a.local.isLinkLocal());
  if (own) return own.local;
  if (!dev.mac) return undefined;
  const o = dev.mac.octets;
  const iid = [o[0]! ^ 2, o[1]!, o[2]!, 0xff, 0xfe, o[3]!, o[4]!, o[5]!].reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
  return Addr.fromV6((0xfe80n << 112n) | iid);
}

function inferredRoute(family: Family, dst: Prefix, raw: string, extra: Partial<RouteRecord>): RouteRecord {
  return { kind: 'route', family, type: 'unicast', dst, table: 'main', dev: 'eth0', flags: [], ...extra, src: { line: 0, raw } };
}

/**
 * A pod with no probes (an image without ip, BusyBox or cat) is still a host on the path: its namespace
 * is built from the IPs Kubernetes reports (on eth0) and from how its node reaches them, with the routes
 * its CNI sets up. The node's route to a bridge means the bridge plugin's layout (the subnet on-link,
 * the default route via the bridge's address); to a veth with no master, Calico's (a /32 or /128, the
 * default via 169.254.1.1, answered by proxy ARP, or via the veth's IPv6 link-local address). The MTU
 * is the node-side device's, the MAC the node's neighbour entry's. Every fact is marked inferred.
 */
function inferPodNetns(pod: Netns, node: Netns | undefined): void {
  const h = pod.host;
  const label = h.namespace !== undefined ? `${h.namespace}/${h.pod ?? h.name}` : h.name;
  const eth0: Iface = { name: 'eth0', ifindex: -1, link: undefined, type: 'veth', mtu: 65535, up: true, lowerUp: true, mac: undefined, master: undefined, noarp: false, addrs: [] };
  const routes: RouteRecord[] = [];
  const parts: string[] = [];
  const basis: Evidence[] = [];
  const from = node?.name ?? h.node ?? 'its node';
  const ips = (h.ips ?? []).map((x) => Addr.parse(x)).flatMap((r) => (r.ok ? [r.value] : []));
  let mtu: { value: number; dev: string } | undefined;
  let macPart: string | undefined;
  for (const ip of ips) {
    const side = node ? podSideOnNode(node, ip) : undefined;
    let len: number = ip.bits;
    if (side) {
      basis.push(side.ev);
      const dev = side.dev;
      const how = side.route ? `${from} routes ${ip} to ${dev.name}` : `${from}'s neighbour entry for ${ip} is on ${dev.name}`;
      if (!mtu || dev.mtu < mtu.value) mtu = { value: dev.mtu, dev: dev.name };
      const n = node!.neigh.get(neighKey(dev.name, ip));
      if (n?.lladdr !== undefined && !n.state.some((x) => x === 'FAILED' || x === 'INCOMPLETE') && !eth0.mac) {
        const m = Mac.parse(n.lladdr);
        if (m.ok) {
          eth0.mac = m.value;
          if (side.route) basis.push(evidence(node!, node!.neighProbe.get(n) ?? 'neigh', n.src));
          macPart = `MAC ${m.value} (${from}'s neighbour entry for ${ip} on ${dev.name})`;
        }
      }
      if (dev.type === 'bridge') {
        // The bridge plugin: the pod's address in the bridge's subnet, that subnet on-link, the bridge's address as gateway.
        const gw = dev.addrs.find((a) => a.family === ip.family && !a.local.isLinkLocal() && (a.peer ?? a.prefix).masked().contains(ip) && !a.local.equals(ip));
        const onLink = gw?.prefixlen ?? (side.route && side.route.dst.length < ip.bits ? side.route.dst.length : undefined);
        if (gw) basis.push(evidence(node!, 'addrs', gw.src));
        if (onLink !== undefined) {
          len = onLink;
          const subnet = Prefix.of(ip, len).masked();
          routes.push(inferredRoute(ip.family, subnet, `${subnet} dev eth0 proto kernel scope link src ${ip} (inferred: ${dev.name} on ${from} is on ${subnet})`, { protocol: 'kernel', scope: 'link', prefsrc: ip }));
        }
        if (gw) routes.push(inferredRoute(ip.family, Prefix.any(ip.family), `default via ${gw.local} dev eth0 (inferred: the address of ${dev.name} on ${from})`, { gateway: gw.local }));
        parts.push(`${ip}/${len} on eth0 with ${onLink !== undefined ? `"${Prefix.of(ip, len).masked()} dev eth0"` : 'no on-link route'}${gw ? ` and "default via ${gw.local} dev eth0"` : ''} (${how}, a bridge: the bridge CNI plugin's layout${gw ? `, ${dev.name}'s address as the gateway` : ''})`);
      } else {
        // A routed veth (Calico): the pod's address alone, the default route through a gateway the node answers for.
        const own = dev.addrs.find((a) => a.family === ip.family && !a.local.isLinkLocal());
        const gw = own?.local ?? (ip.family === 4 ? Addr.must('169.254.1.1') : linkLocalOf(dev));
        if (gw) {
          const why = own ? `the address of ${dev.name} on ${from}` : ip.family === 4 ? `the gateway Calico's CNI plugin gives every pod; ${dev.name} answers ARP for it` : `the link-local address of ${dev.name} on ${from}, Calico's IPv6 gateway`;
          if (ip.family === 4 || !gw.isLinkLocal()) routes.push(inferredRoute(ip.family, Prefix.of(gw, gw.bits), `${gw} dev eth0 scope link (inferred: ${why})`, { scope: 'link' }));
          routes.push(inferredRoute(ip.family, Prefix.any(ip.family), `default via ${gw} dev eth0 (inferred: ${why})`, { gateway: gw }));
        }
        parts.push(`${ip}/${len} on eth0${gw ? ` with "default via ${gw} dev eth0"` : ''} (${how}, a veth on no bridge: Calico's layout)`);
      }
    } else {
      parts.push(`${ip}/${len} on eth0, with no routes: ${node ? `nothing in ${from}'s tables leads to ${ip}` : `${from} is not in the capture either`}`);
    }
    const addr: AddrRecord = { kind: 'addr', dev: 'eth0', family: ip.family, local: ip, prefixlen: len, prefix: Prefix.of(ip, len), scope: 'global', flags: [], src: { line: 0, raw: `${ip}/${len} dev eth0 (inferred: the pod IP Kubernetes reports)` } };
    eth0.addrs.push(addr);
  }
  if (ips.some((a) => a.family === 6)) routes.push(inferredRoute(6, Prefix.must('fe80::/64'), 'fe80::/64 dev eth0 proto kernel (inferred: every IPv6 interface has it)', { protocol: 'kernel' }));
  if (macPart) parts.push(macPart);
  if (mtu) {
    eth0.mtu = mtu.value;
    parts.push(`MTU ${mtu.value} (${mtu.dev}'s: the CNI gives both ends of the veth the same)`);
  }
  pod.ifaces = new Map([['eth0', eth0]]);
  pod.byIndex = new Map();
  const fib: Record<Family, Fib> = { 4: new Fib(4), 6: new Fib(6) };
  for (const r of routes) fib[r.family].addRoute(r, r.family === 4 ? 'routes4' : 'routes6', true);
  for (const f of [4, 6] as const) fib[f].finish(eth0.addrs.filter((a) => a.family === f));
  pod.fib = fib;
  const what = ips.length ? parts.join('; ') : 'Kubernetes reports no IP for it, so nothing';
  pod.inferred = {
    node: node?.name,
    text: `The capture holds no tables for ${label} (a pod whose image has no ip, BusyBox or cat, or one not read), so its namespace is inferred from ${node ? `${from}'s tables` : 'Kubernetes alone'} and the IPs Kubernetes reports: ${what}.`,
    basis,
  };
}

export function buildNetwork(capture: Capture): Network {
  const hosts = new Map<string, Netns>();
  const podsOnNode = new Map<string, Netns[]>();
  for (const h of capture.hosts) {
    const ns = buildNetns(h);
    hosts.set(h.name, ns);
  }
  for (const ns of hosts.values()) {
    if (hasNoInterfaceTables(ns)) inferPodNetns(ns, ns.host.node !== undefined ? hosts.get(ns.host.node) : undefined);
  }
  for (const ns of hosts.values()) {
    const h = ns.host;
    if (h.role === 'pod' && h.node !== undefined && !h.hostNetwork) {
      const list = podsOnNode.get(h.node) ?? [];
      list.push(ns);
      podsOnNode.set(h.node, list);
    }
  }
  const owners = new Map<string, { ns: Netns; iface: Iface; rec: AddrRecord }[]>();
  for (const ns of hosts.values()) {
    for (const iface of ns.ifaces.values()) {
      for (const rec of iface.addrs) {
        const k = rec.local.toString();
        const list = owners.get(k) ?? [];
        list.push({ ns, iface, rec });
        owners.set(k, list);
      }
    }
  }
  return { capture, hosts, podsOnNode, owners };
}

/** Lookups a trace makes again and again, built once per network on first use. */
export interface NetworkIndex {
  /** `namespace/pod` -> pod host. */
  pods: Map<string, Host>;
  /** Kubernetes-reported IPs (`ips`) -> hosts. */
  reported: Map<string, Host[]>;
  /** Masked prefix of a NIC (nodes, routers, switches; not pods; not link-local) -> the NICs on it. */
  subnets: Map<string, { ns: Netns; iface: Iface }[]>;
  /** Capture links by `host|dev` -> the other ends. */
  cables: Map<string, { host: string; dev: string }[]>;
  /** Results of `wire()` per `host|dev`, which depend only on the network. */
  wires: Map<string, unknown>;
}

const indexes = new WeakMap<Network, NetworkIndex>();

export function networkIndex(net: Network): NetworkIndex {
  let ix = indexes.get(net);
  if (ix) return ix;
  ix = { pods: new Map(), reported: new Map(), subnets: new Map(), cables: new Map(), wires: new Map() };
  for (const h of net.capture.hosts) {
    if (h.role === 'pod' && h.namespace !== undefined) ix.pods.set(`${h.namespace}/${h.pod ?? h.name}`, h);
    for (const ip of h.ips ?? []) {
      const a = Addr.parse(ip);
      if (!a.ok) continue;
      const k = a.value.toString();
      const list = ix.reported.get(k) ?? [];
      list.push(h);
      ix.reported.set(k, list);
    }
  }
  for (const ns of net.hosts.values()) {
    if (ns.host.role === 'pod') continue;
    for (const iface of ns.ifaces.values()) {
      if (iface.type !== 'device' && iface.type !== 'veth') continue;
      for (const p of segmentPrefixes(iface)) {
        const k = p.toString();
        const list = ix.subnets.get(k) ?? [];
        list.push({ ns, iface });
        ix.subnets.set(k, list);
      }
    }
  }
  for (const l of net.capture.links ?? []) {
    for (const [from, to] of [[l.a, l.b], [l.b, l.a]] as const) {
      const k = `${from.host}|${from.dev}`;
      ix.cables.set(k, [...(ix.cables.get(k) ?? []), { host: to.host, dev: to.dev }]);
    }
  }
  indexes.set(net, ix);
  return ix;
}

/** The subnets a NIC is on, for finding the hosts that share its wire (link-local prefixes say nothing). */
export function segmentPrefixes(iface: Iface): Prefix[] {
  return ifacePrefixes(iface, 4)
    .concat(ifacePrefixes(iface, 6))
    .filter((p) => p.length > 0 && p.length < p.addr.bits && !p.addr.isLinkLocal());
}

/** The netns a host's packets really use: a hostNetwork pod uses its node's. */
export function netnsOf(net: Network, name: string): Netns | undefined {
  const ns = net.hosts.get(name);
  if (ns && ns.host.role === 'pod' && ns.host.hostNetwork && ns.host.node !== undefined) return net.hosts.get(ns.host.node) ?? ns;
  return ns;
}

/** Reads a per-interface IPv4/IPv6 conf value, with `all`, as the kernel combines them for `param`. */
export function confValue(ns: Netns, family: Family, iface: string, param: string): { value: number | undefined; all: number | undefined; evidence: Evidence[] } {
  const one = ns.sysctl.get(`net.ipv${family}.conf.${iface}.${param}`);
  const all = ns.sysctl.get(`net.ipv${family}.conf.all.${param}`);
  const ev = [one, all].filter((x) => x !== undefined).map((x) => evidence(ns, 'sysctl', x.rec.src));
  const n = (x: typeof one) => (x === undefined || !/^-?\d+$/.test(x.value.trim()) ? undefined : Number(x.value.trim()));
  return { value: n(one), all: n(all), evidence: ev };
}

export function ifacePrefixes(iface: Iface, family: Family): Prefix[] {
  return iface.addrs.filter((a) => a.family === family).map((a) => (a.peer ?? a.prefix).masked());
}
