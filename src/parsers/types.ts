// The typed records every probe parser produces. Field names follow iproute2's own JSON output
// (`ip -j`, `bridge -j`) in camelCase, so the text and JSON forms of a probe parse to the same shape.
// Every record keeps where it came from (`src`): the engine quotes that line as evidence.
import type { Addr, Family, Prefix } from '../engine/addr';

/** Where a record came from: 1-based line in the probe text, and the line itself. */
export interface Source {
  line: number;
  raw: string;
}

/** A line (or JSON element) a parser could not use. Parsers never throw; they report these. */
export interface ParseIssue {
  line: number;
  raw: string;
  message: string;
}

/** The form the probe text was recognised as. */
export type ProbeFormat = 'iproute2' | 'json' | 'busybox' | 'net-tools' | 'procps' | 'bridge-utils' | 'iptables-save' | 'empty';

export interface ParseResult<R> {
  format: ProbeFormat;
  records: R[];
  issues: ParseIssue[];
}

// ---- links: `ip -d link show` ----------------------------------------------------------------

export interface VxlanInfo {
  id: number;
  remote?: Addr;
  group?: Addr;
  local?: Addr;
  dev?: string;
  srcport?: [number, number];
  dstport: number;
  learning: boolean;
  ttl?: number;
  ageing?: number;
  udpCsum?: boolean;
  external?: boolean;
}

export interface TunnelInfo {
  /** ipip, gre, sit ...: the tunnel's outer endpoints. */
  remote?: Addr;
  local?: Addr;
  ttl?: number;
  dev?: string;
}

export interface LinkRecord {
  kind: 'link';
  ifindex: number;
  ifname: string;
  /** `@name` after the interface name: the lower device (vlan, macvlan) or a veth peer in the same netns. */
  link?: string;
  /** `@ifN`: the peer's ifindex, in another network namespace (veth pairs across netns). */
  linkIndex?: number;
  /** `link-netnsid N`: which peer netns, as numbered in this netns. */
  linkNetnsid?: number;
  flags: string[];
  mtu: number;
  qdisc?: string;
  master?: string;
  /** `state` (operstate): UP, DOWN, UNKNOWN, LOWERLAYERDOWN, DORMANT, NOTPRESENT. */
  operstate?: string;
  mode?: string;
  group?: string;
  qlen?: number;
  /** `link/ether`, `link/loopback`, `link/none`, `link/ipip`, ... without the `link/`. */
  linkType?: string;
  address?: string;
  broadcast?: string;
  /** Whether the link is administratively up (`UP` in the flags). */
  up: boolean;
  /** Whether the carrier is present (`LOWER_UP` in the flags). */
  lowerUp: boolean;
  /** From `ip -d`: veth, bridge, vxlan, ipip, wireguard, dummy, vlan, bond, ...; absent for plain devices. */
  type?: string;
  /** From `ip -d`: the enslaved-to kind, e.g. `bridge_slave`, `bond_slave`. */
  slaveKind?: string;
  vxlan?: VxlanInfo;
  vlan?: { id: number; protocol?: string };
  tunnel?: TunnelInfo;
  bridge?: { stpState?: number; vlanFiltering?: boolean; ageingTime?: number };
  /** bridge_slave details: port state and learning/flood flags. */
  bridgePort?: { state?: string; learning?: boolean; flood?: boolean; hairpin?: boolean };
  bond?: { mode?: string };
  src: Source;
}

// ---- addrs: `ip addr show` --------------------------------------------------------------------

export interface AddrRecord {
  kind: 'addr';
  ifindex?: number;
  dev: string;
  family: Family;
  local: Addr;
  prefixlen: number;
  /** local/prefixlen, host bits kept. */
  prefix: Prefix;
  peer?: Prefix;
  broadcast?: Addr;
  scope?: string;
  label?: string;
  /** dynamic, secondary, noprefixroute, tentative, dadfailed, deprecated, permanent, ... */
  flags: string[];
  validLft?: number | 'forever';
  preferredLft?: number | 'forever';
  src: Source;
}

// ---- routes: `ip route show table all`, `route -n`, `netstat -rn` -------------------------

export type RouteType = 'unicast' | 'local' | 'broadcast' | 'blackhole' | 'unreachable' | 'prohibit' | 'throw' | 'multicast' | 'anycast' | 'nat';

export interface Nexthop {
  gateway?: Addr;
  dev?: string;
  weight: number;
  flags: string[];
}

export interface RouteRecord {
  kind: 'route';
  family: Family;
  type: RouteType;
  /** The destination; `default` parses to 0.0.0.0/0 or ::/0. */
  dst: Prefix;
  /** `main` when the line names no table. */
  table: string;
  tos?: string;
  protocol?: string;
  scope?: string;
  metric?: number;
  gateway?: Addr;
  dev?: string;
  prefsrc?: Addr;
  /** onlink, linkdown, dead, pervasive, offload, ... */
  flags: string[];
  /** Multipath routes: one record, every next hop here (and no top-level gateway/dev). */
  nexthops?: Nexthop[];
  /** Route id of a `nhid N` reference. */
  nhid?: number;
  expires?: number;
  pref?: string;
  /** mtu, advmss, ... (`ip route` metrics), as printed. */
  metrics?: Record<string, string>;
  src: Source;
}

// ---- rules: `ip rule show` --------------------------------------------------------------------

export interface RuleRecord {
  kind: 'rule';
  family: Family;
  priority: number;
  not: boolean;
  /** `all` is 0.0.0.0/0 or ::/0. */
  from: Prefix;
  to?: Prefix;
  iif?: string;
  oif?: string;
  fwmark?: { value: number; mask?: number };
  tos?: string;
  ipproto?: string;
  sport?: string;
  dport?: string;
  uidrange?: string;
  l3mdev?: boolean;
  action: 'lookup' | 'goto' | 'nop' | 'blackhole' | 'unreachable' | 'prohibit';
  table?: string;
  goto?: number;
  suppressPrefixlength?: number;
  suppressIfgroup?: string;
  realms?: string;
  protocol?: string;
  src: Source;
}

// ---- neighbours: `ip neigh show`, `arp -an`, `arp -n` -------------------------------------------

export type NudState = 'INCOMPLETE' | 'REACHABLE' | 'STALE' | 'DELAY' | 'PROBE' | 'FAILED' | 'NOARP' | 'PERMANENT' | 'NONE';

export interface NeighRecord {
  kind: 'neigh';
  family: Family;
  dst: Addr;
  dev?: string;
  lladdr?: string;
  /** One or more NUD states (the kernel may print several, e.g. `REACHABLE` or `NOARP PERMANENT`). */
  state: NudState[];
  router: boolean;
  proxy: boolean;
  externLearn: boolean;
  src: Source;
}

// ---- bridge FDB: `bridge fdb show` ----------------------------------------------------------

export interface FdbRecord {
  kind: 'fdb';
  mac: string;
  dev: string;
  master?: string;
  vlan?: number;
  /** VXLAN: the remote VTEP. */
  dst?: Addr;
  vni?: number;
  srcVni?: number;
  port?: number;
  via?: string;
  /** `self`: entry in the device's own table (e.g. the VXLAN device's); `master`: in the bridge's. */
  self: boolean;
  masterFlag: boolean;
  state: 'permanent' | 'static' | 'dynamic';
  /** extern_learn, offload, sticky, router, ... */
  flags: string[];
  src: Source;
}

// ---- brctl show -----------------------------------------------------------------------------

export interface BridgePortRecord {
  kind: 'bridge-port';
  bridge: string;
  bridgeId: string;
  stp: boolean;
  /** The enslaved interface; null for a bridge with no ports (one record then stands for the bridge). */
  port: string | null;
  src: Source;
}

// ---- sysctl -----------------------------------------------------------------------------------

export interface SysctlRecord {
  kind: 'sysctl';
  /** The key as the kernel's /proc/sys path with dots: `net.ipv4.conf.flannel.1.rp_filter` is ambiguous, so see `conf`. */
  key: string;
  value: string;
  /** For `net.ipv4.conf.<if>.<param>` and `net.ipv6.conf.<if>.<param>`: the parts, interface name unmangled. */
  conf?: { family: Family; iface: string; param: string };
  src: Source;
}

// ---- iptables-save ----------------------------------------------------------------------------

export interface IptablesChainRecord {
  kind: 'iptables-chain';
  table: string;
  chain: string;
  /** ACCEPT/DROP for built-in chains, undefined (`-`) for user chains. */
  policy?: string;
  packets?: number;
  bytes?: number;
  src: Source;
}

export interface IptablesRuleRecord {
  kind: 'iptables-rule';
  table: string;
  chain: string;
  /** The rule split into shell-like tokens, quotes removed (`-A` and the chain name excluded). */
  tokens: string[];
  /** The `-j`/`-g` target, with its own options left in `tokens`. */
  target?: string;
  goto: boolean;
  packets?: number;
  bytes?: number;
  src: Source;
}

export type ProbeRecord =
  | LinkRecord
  | AddrRecord
  | RouteRecord
  | RuleRecord
  | NeighRecord
  | FdbRecord
  | BridgePortRecord
  | SysctlRecord
  | IptablesChainRecord
  | IptablesRuleRecord;
