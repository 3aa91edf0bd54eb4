// One network namespace of a capture, parsed and indexed once so that a trace is only lookups:
// interfaces by name and ifindex, a FIB per family, neighbours, proxy entries, FDB entries, sysctls
// and WireGuard peers. A node's netns and each pod's netns are separate `Netns`; a hostNetwork pod
// shares its node's (network.ts).
import type { Capture, Host } from '../capture/document';
import {
  isProbeName,
  parseProbe,
  type AddrRecord,
  type BridgeVlanRecord,
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
import type { Evidence, InferredNetnsFacts } from './trace';

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
  /**
   * The `arp -a` entries that carry a host name (not proxies), in the probe's order: a gateway that
   * `route` printed by name is placed from them (names.ts). Kept apart from `neigh`, which prefers
   * `ip neigh` entries, which never print names.
   */
  namedArp: NeighRecord[];
  /** Bridge FDB entries by `bridge|mac` (entries with `master`), VXLAN entries by `dev|mac` (self). */
  fdb: Map<string, FdbRecord[]>;
  /**
   * A VLAN-aware bridge's VLAN table (`bridgevlan` probe, `bridge vlan show`) by port name, the bridge
   * itself among them for its own (`self`) VLANs. Empty when the capture has no such probe.
   */
  bridgeVlans: Map<string, BridgeVlanRecord[]>;
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

/** An address and the interface that owns it. */
export interface Owner {
  ns: Netns;
  iface: Iface;
  rec: AddrRecord;
}

/**
 * The namespaces of a capture and the indexes over them that the topology and every lookup start
 * from (a `Network` without its computed topology). Each namespace is built the first time it is
 * asked for (`hosts.get`); iterating `hosts` builds them all.
 */
export interface Namespaces {
  capture: Capture;
  hosts: ReadonlyMap<string, Netns>;
  /** Which pods (not on the host network) run on a node. */
  podsOnNode: { get(node: string): Netns[] | undefined };
  /** Every address owned by an interface, for "who owns this IP": `addr` -> owners, in capture order. */
  owners: { get(addr: string): Owner[] | undefined };
}

/** A namespace the capture holds no tables for, built from what its node and Kubernetes say. */
export interface InferredNetns {
  /** The node whose tables it was inferred from; undefined when that node is not in the capture either. */
  node: string | undefined;
  /** What was inferred, from what (narrate.ts says it in a sentence). */
  facts: InferredNetnsFacts;
  /** The node's lines it was inferred from. */
  basis: Evidence[];
}

export function evidence(ns: Netns, probe: ProbeName, src: { line: number; raw: string }): Evidence {
  return { host: ns.host.name, probe, line: src.line, raw: src.raw };
}

export const neighKey = (dev: string, a: Addr) => `${dev}|${a.toString()}`;
export const fdbKey = (dev: string, mac: string) => `${dev}|${mac.toLowerCase()}`;

/** The probes whose parse issues a namespace lists, in this order. */
const ISSUE_ORDER: readonly ProbeName[] = ['links', 'addrs', 'routes4', 'routes6', 'rules4', 'rules6', 'neigh', 'arp', 'fdb', 'bridgevlan', 'sysctl', 'wg'];

/** The fields `buildNetns` computes only when first read: the tables a trace may never look at. */
type Tables = Pick<Netns, 'fib' | 'neigh' | 'neighProbe' | 'namedArp' | 'proxies' | 'fdb' | 'bridgeVlans' | 'sysctl' | 'wg' | 'issues'>;
const TABLE_FIELDS: readonly (keyof Tables)[] = ['fib', 'neigh', 'neighProbe', 'namedArp', 'proxies', 'fdb', 'bridgeVlans', 'sysctl', 'wg', 'issues'];

/**
 * One namespace of a capture. Its interfaces (`links`, `addrs`) are parsed at once: the network's
 * indexes and the topology need them. Its tables (routes and rules, neighbours, FDB, sysctls,
 * WireGuard) are parsed the first time any of them is read, all together, and then kept: a trace
 * through 3 hosts of a 500-node capture parses 3 hosts' tables. The result is the same either way.
 */
export function buildNetns(host: Host): Netns {
  const probes = new Set(Object.keys(host.probes ?? {}).filter(isProbeName));
  const issuesBy = new Map<ProbeName, ParseIssue[]>();
  const parse = <R>(probe: ProbeName): R[] => {
    const text = host.probes?.[probe];
    if (text === undefined) return [];
    const r = parseProbe(probe, text);
    if (r.issues.length) issuesBy.set(probe, r.issues);
    return r.records as R[];
  };
  const links = parse<LinkRecord>('links');
  const addrs = parse<AddrRecord>('addrs');
  let routes: { routes4: RouteRecord[]; routes6: RouteRecord[] } | undefined;
  const routesOf = () => (routes ??= { routes4: parse<RouteRecord>('routes4'), routes6: parse<RouteRecord>('routes6') });
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
  if (host.role === 'pod' && links.length === 0 && addrs.length === 0 && routesOf().routes4.length + routesOf().routes6.length > 0) {
    for (const a of inferPodAddrs(host, [...routesOf().routes4, ...routesOf().routes6])) {
      let iface = ifaces.get(a.dev);
      if (!iface) {
        iface = { name: a.dev, ifindex: -1, link: undefined, type: 'veth', mtu: 65535, up: true, lowerUp: true, mac: undefined, master: undefined, noarp: false, addrs: [] };
        ifaces.set(a.dev, iface);
      }
      iface.addrs.push(a);
      addrs.push(a);
    }
  }

  const ns = { host, name: host.name, ifaces, byIndex, probes } as Netns;
  defineLazy(ns, () => buildTables(addrs, routesOf, parse, issuesBy));
  return ns;
}

/** Makes the table fields of `ns` computed by `make` on the first read (or write) of any of them. */
function defineLazy(ns: Netns, make: () => Tables): void {
  let done = false;
  const materialize = () => {
    if (done) return;
    done = true;
    const t = make();
    for (const k of TABLE_FIELDS) Object.defineProperty(ns, k, { value: t[k], writable: true, enumerable: true, configurable: true });
  };
  for (const k of TABLE_FIELDS) {
    Object.defineProperty(ns, k, {
      enumerable: true,
      configurable: true,
      get() {
        materialize();
        return (ns as unknown as Record<string, unknown>)[k];
      },
      set(v: unknown) {
        materialize();
        (ns as unknown as Record<string, unknown>)[k] = v;
      },
    });
  }
}

function buildTables(
  addrs: AddrRecord[],
  routesOf: () => { routes4: RouteRecord[]; routes6: RouteRecord[] },
  parse: <R>(probe: ProbeName) => R[],
  issuesBy: Map<ProbeName, ParseIssue[]>,
): Tables {
  const { routes4, routes6 } = routesOf();
  const rules = [...parse<RuleRecord>('rules4'), ...parse<RuleRecord>('rules6')];
  const neighs = parse<NeighRecord>('neigh');
  const arps = parse<NeighRecord>('arp');
  const fdbs = parse<FdbRecord>('fdb');
  const sysctls = parse<SysctlRecord>('sysctl');
  const vlanRecords = parse<BridgeVlanRecord>('bridgevlan');
  const wgRecords = parse<WgInterfaceRecord | WgPeerRecord>('wg');
  const issues: Netns['issues'] = ISSUE_ORDER.flatMap((probe) => (issuesBy.get(probe) ?? []).map((issue) => ({ probe, issue })));

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
  const bridgeVlans = new Map<string, BridgeVlanRecord[]>();
  for (const v of vlanRecords) {
    const list = bridgeVlans.get(v.port);
    if (list) list.push(v);
    else bridgeVlans.set(v.port, [v]);
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
  const namedArp = arps.filter((n) => n.hostname !== undefined && !n.proxy);
  return { fib, neigh, neighProbe, namedArp, proxies, fdb, bridgeVlans, sysctl, wg, issues };
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

/** The subnets a NIC is on, for finding the hosts that share its wire (link-local prefixes say nothing). */
export function segmentPrefixes(iface: Iface): Prefix[] {
  return ifacePrefixes(iface, 4)
    .concat(ifacePrefixes(iface, 6))
    .filter((p) => p.length > 0 && p.length < p.addr.bits && !p.addr.isLinkLocal());
}


export interface ConfValue {
  value: number | undefined;
  all: number | undefined;
  evidence: Evidence[];
}

/**
 * Answers of confValue, per namespace: its sysctl table does not change once read, and every packet a
 * node forwards asks for the same few (rp_filter, forwarding, proxy_arp of a device). Shared: callers
 * copy the evidence, never change it.
 */
const confs = new WeakMap<Netns, Map<string, ConfValue>>();

/** Whether `iface` has `addr` as one of its own addresses. */
export function hasAddress(iface: Iface, addr: Addr): boolean {
  return iface.addrs.some((a) => a.local.equals(addr));
}

/** Whether some interface of `ns` has `addr` as its own address (a local address of the namespace). */
export function ownsAddress(ns: Netns, addr: Addr): boolean {
  for (const i of ns.ifaces.values()) if (hasAddress(i, addr)) return true;
  return false;
}

/**
 * An address or route scope as the kernel numbers it (RT_SCOPE_*): universe (global) 0, site 200,
 * link 253, host 254, nowhere 255; a smaller number reaches further. Unprinted is universe, as
 * iproute2 leaves out `scope global`.
 */
export function scopeRank(scope: string | undefined): number {
  switch (scope) {
    case undefined:
    case 'global':
    case 'universe':
      return 0;
    case 'site':
      return 200;
    case 'link':
      return 253;
    case 'host':
      return 254;
    case 'nowhere':
      return 255;
    default: {
      const n = Number(scope);
      return Number.isInteger(n) && n >= 0 && n <= 255 ? n : 0;
    }
  }
}

/**
 * inet_select_addr(dev, dst, scope): the IPv4 source the kernel gives a packet that leaves by `dev`.
 * Of the device's primary (not `secondary`) addresses whose scope is within `scope`, the one whose
 * subnet holds `dst` (the next hop), else the first. A device with none, such as a Calico veth, lends
 * none: then the first primary address of any device in the namespace, in ifindex order (lo first),
 * that is not link-scoped and is within `scope`. `via` says which device the address is on.
 */
export function inetSelectAddr(ns: Netns, dev: Iface, dst: Addr | undefined, scope: number): { addr: Addr; rec: AddrRecord; via: Iface; matched: boolean } | undefined {
  const primary = (i: Iface) => i.addrs.filter((a) => a.family === 4 && !a.flags.includes('secondary') && scopeRank(a.scope) <= scope);
  const own = primary(dev);
  if (own.length) {
    const hit = dst ? own.find((a) => a.prefix.masked().contains(dst)) : undefined;
    const rec = hit ?? own[0]!;
    return { addr: rec.local, rec, via: dev, matched: hit !== undefined };
  }
  for (const i of [...ns.ifaces.values()].sort((a, b) => a.ifindex - b.ifindex)) {
    const rec = primary(i).find((x) => scopeRank(x.scope) !== 253);
    if (rec) return { addr: rec.local, rec, via: i, matched: false };
  }
  return undefined;
}

/** Reads a per-interface IPv4/IPv6 conf value, with `all`, as the kernel combines them for `param`. */
export function confValue(ns: Netns, family: Family, iface: string, param: string): ConfValue {
  let known = confs.get(ns);
  if (!known) confs.set(ns, (known = new Map()));
  const key = `${family} ${iface} ${param}`;
  let v = known.get(key);
  if (!v) known.set(key, (v = readConf(ns, family, iface, param)));
  return v;
}

function readConf(ns: Netns, family: Family, iface: string, param: string): ConfValue {
  const one = ns.sysctl.get(`net.ipv${family}.conf.${iface}.${param}`);
  const all = ns.sysctl.get(`net.ipv${family}.conf.all.${param}`);
  const ev = [one, all].filter((x) => x !== undefined).map((x) => evidence(ns, 'sysctl', x.rec.src));
  const n = (x: typeof one) => (x === undefined || !/^-?\d+$/.test(x.value.trim()) ? undefined : Number(x.value.trim()));
  return { value: n(one), all: n(all), evidence: ev };
}

export function ifacePrefixes(iface: Iface, family: Family): Prefix[] {
  return iface.addrs.filter((a) => a.family === family).map((a) => (a.peer ?? a.prefix).masked());
}

/** A port that is up, has carrier, and is in the forwarding state (when the capture says). */
export function forwards(p: Iface | undefined): boolean {
  if (!p || !p.up) return false;
  if (p.link !== undefined && !p.lowerUp) return false;
  const state = p.link?.bridgePort?.state;
  return state === undefined || state === 'forwarding';
}

/**
 * Every token of `ip addr`, `ip -j addr`, BusyBox or `ifconfig` output that may be an address: cut
 * at whitespace, quotes, brackets, `/` (prefix length), `%` (zone) and `=`, with `addr:` (ifconfig)
 * dropped. A superset: Addr.parse decides.
 */
export function addressTokens(text: string): string[] {
  const out: string[] = [];
  for (let t of text.split(/[\s"',[\]{}()=/%]+/)) {
    if (t.startsWith('addr:')) t = t.slice(5);
    if (t.length < 2 || t.length > 45 || !/^[0-9a-fA-F:.]+$/.test(t) || !/[.:]/.test(t)) continue;
    out.push(t);
  }
  return out;
}

/** The canonical addresses among `addressTokens(text)` (and `extra`, such as a host's reported IPs). */
export function addressKeys(text: string, extra: readonly string[] = []): string[] {
  const out: string[] = [];
  for (const t of [...addressTokens(text), ...extra]) {
    const a = Addr.parse(t);
    if (a.ok) out.push(a.value.toString());
  }
  return out;
}

/**
 * Key -> the indexes (in order) of the hosts whose raw text shows it, from `keysOf` (canonical keys,
 * repeats allowed). A superset index over text nobody has parsed yet: whoever asks verifies the
 * candidates on their built namespaces.
 */
export function candidateIndex(hosts: readonly Host[], keysOf: (h: Host) => Iterable<string>): Map<string, number[]> {
  const ix = new Map<string, number[]>();
  hosts.forEach((h, i) => {
    for (const k of keysOf(h)) {
      const list = ix.get(k);
      if (!list) ix.set(k, [i]);
      else if (list[list.length - 1] !== i) list.push(i);
    }
  });
  return ix;
}
