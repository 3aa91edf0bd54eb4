// The typed records every probe parser produces. Field names follow iproute2's own JSON output
// (`ip -j`, `bridge -j`) in camelCase, so the text and JSON forms of a probe parse to the same shape.
// Every record keeps where it came from (`src`): the engine quotes that line as evidence.
import type { Addr, Family, Prefix } from '../net/addr';

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
  /**
   * The line's record was kept all the same; the issue says what it lacks (a gateway printed as a
   * name, say). Absent: the line gave no record.
   */
  kept?: true;
}

/** The form the probe text was recognised as. */
export type ProbeFormat =
  | 'iproute2'
  | 'json'
  | 'busybox'
  | 'net-tools'
  | 'procps'
  | 'bridge-utils'
  | 'iptables-save'
  | 'iptables-S'
  | 'wireguard-tools'
  | 'procfs'
  | 'nft'
  | 'nft-json'
  | 'ipset-list'
  | 'ipset-save'
  | 'ipvsadm'
  | 'empty';

/** What the caller knows that a probe's text may not say. */
export interface ParseOptions {
  /**
   * iptables: the table of `iptables -S` lines that the text does not place (no `*table` block, no
   * pasted `iptables -t TABLE -S` line before them), as `netpath parse iptables --table nat` gives it.
   */
  table?: string;
}

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
  /** `link-netns NAME`: text only, when `ip` could name the peer netns (JSON always gives `linkNetnsid`). */
  linkNetns?: string;
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
  /**
   * bond details (iproute2 ip/iplink_bond.c bond_print_opt): the mode (`balance-rr`, `active-backup`,
   * `balance-xor`, `broadcast`, `802.3ad`, `balance-tlb`, `balance-alb`), the active slave (printed by
   * name, or by ifindex when `ip` cannot name it), the transmit hash policy (`layer2`, `layer3+4`,
   * `layer2+3`, `encap2+3`, `encap3+4`, `vlan+srcmac`), the MII polling interval and whether backup
   * slaves take frames too (`all_slaves_active`).
   */
  bond?: { mode?: string; activeSlave?: string; xmitHashPolicy?: string; miimon?: number; allSlavesActive?: boolean };
  /**
   * bond_slave details (ip/iplink_bond_slave.c): ACTIVE/BACKUP, the MII link status, how often the
   * link failed, and the slave's own (permanent) MAC, which the bond may have replaced.
   */
  bondPort?: { state?: string; miiStatus?: string; linkFailureCount?: number; permHwaddr?: string };
  /** macvlan/macvtap details (ip/iplink_macvlan.c): `private`, `vepa`, `bridge`, `passthru` or `source`; `nopromisc` (passthru). */
  macvlan?: { mode: string; nopromisc?: boolean };
  /** ipvlan/ipvtap details (ip/iplink_ipvlan.c): mode `l2`, `l3` or `l3s`; the `bridge`/`private`/`vepa` flag where printed. */
  ipvlan?: { mode: string; flag?: string };
  /** `alias TEXT` (the interface description). */
  ifalias?: string;
  /** `altname NAME` lines. */
  altnames?: string[];
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
  /** `metric N`: the priority of the prefix route the kernel adds for this address. */
  metric?: number;
  src: Source;
}

// ---- routes: `ip route show table all`, `route -n`, `netstat -rn` -------------------------

export type RouteType = 'unicast' | 'local' | 'broadcast' | 'blackhole' | 'unreachable' | 'prohibit' | 'throw' | 'multicast' | 'anycast' | 'nat';

/**
 * An address that `route` or `netstat -r` without `-n` printed as a name: a host name from /etc/hosts
 * or DNS (`gateway`, systemd's `_gateway`), or a network name from /etc/networks. Nothing in a capture
 * says which address such a name stands for.
 */
export interface PrintedName {
  /** The name exactly as printed. */
  name: string;
  /**
   * The name fills the IPv4 table's 15-character column, which net-tools and BusyBox cut names to
   * (`qcloud-offline-`): it may be the start of a longer name. IPv6 tables never cut names.
   */
  maybeTruncated: boolean;
}

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
  /** Metrics printed with `lock` (`mtu lock 1400`). Text form only: `ip -j` does not print locks. */
  lockedMetrics?: string[];
  /** Source-specific routes: `from PREFIX` (IPv6 subtrees). */
  from?: Prefix;
  /** `error N` (rta_error) as a signed errno, e.g. -113 (EHOSTUNREACH) on IPv6 unreachable routes. */
  error?: number;
  /** Cached routes (`cache` continuation line, PMTU/redirect exceptions): their cache flags, e.g. `redirected`. */
  cache?: string[];
  /** `realm TO` / `realms FROM/TO` (iproute2 JSON `flow`). */
  flow?: { from?: string; to: string };
  /** Lightweight-tunnel encapsulation type (`encap mpls ...`, `encap ip ...`): the type only. */
  encap?: string;
  /** `route -n` / `netstat -rn`: the Flags column as printed (U, G, H, !, D, M, ...). */
  rtFlags?: string;
  /**
   * `route` / `netstat -r` without `-n` printed the gateway as a name (flag G): the route goes through
   * a gateway whose address the capture does not hold, so `gateway` is absent and the route is never
   * on-link. The engine looks the name up in the host's `arp -a` output, or stops with insufficient-data.
   */
  unresolvedGateway?: PrintedName;
  /**
   * `route` / `netstat -r` without `-n` printed the destination as one of the names Debian's and Ubuntu's
   * stock /etc/networks give (`link-local` = 169.254.0.0, `loopback` = 127.0.0.0): `dst` holds that
   * address with the Genmask's length. Taken at its conventional meaning; the capture cannot confirm
   * the host's own /etc/networks.
   */
  dstName?: { name: string; meaning: 'well-known' };
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
  /** `iif X [detached]`: the named input device does not exist (yet), so the rule matches nothing. */
  iifDetached?: boolean;
  oif?: string;
  oifDetached?: boolean;
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
  /**
   * One or more NUD states (the kernel may print several, e.g. `REACHABLE` or `NOARP PERMANENT`).
   * iproute2 prints no state word for NUD_NONE (state 0), which includes proxy entries: that parses
   * to `['NONE']`. `[]` means the source does not say: net-tools/BusyBox `arp` reads /proc/net/arp,
   * which only tells resolved (flag `C`: the kernel state is REACHABLE, STALE, DELAY, PROBE or
   * PERMANENT) from unresolved (no `C`: INCOMPLETE, FAILED or NONE). So an `arp` record has
   * `['PERMANENT']` when it says PERM (flag `M`, exact), otherwise `[]` with `arpFlags` telling
   * "resolved, freshness unknown" (`C`) from "not resolved".
   */
  state: NudState[];
  router: boolean;
  proxy: boolean;
  externLearn: boolean;
  /** Other flags iproute2 prints: `managed`, `offload`, `extern_valid`, ... (absent when none). */
  flags?: string[];
  /** `proto X`: who installed the entry. */
  protocol?: string;
  /** `ip -s neigh`: `ref N` (absent when 0). */
  refcnt?: number;
  /** `ip -s neigh`: `used A/B/C`, seconds since the entry was last used, confirmed, updated. */
  used?: number;
  confirmed?: number;
  updated?: number;
  /** `ip -s neigh`: `probes N`. */
  probes?: number;
  /**
   * `arp` only: the ATF flags of /proc/net/arp as net-tools letters, whichever form printed them:
   * `C` complete (resolved), `M` permanent (`PERM`), `P` published, i.e. a proxy entry (`PUB`, BusyBox `PUP`),
   * `A` (`AUTO`), `!` (`DONTPUB`), `T` (`TRAIL`). `arp` cannot tell router or extern_learn entries.
   */
  arpFlags?: string[];
  /** `arp` only: the hardware type (`ether`, `infiniband`, ...). */
  hwType?: string;
  /**
   * `arp -a` without `-n`: the host name printed before the address (`gateway (10.0.0.1) at ...`), from
   * /etc/hosts or DNS; absent when it printed `?`. Lets the engine place a gateway `route` printed by name.
   */
  hostname?: string;
  src: Source;
}

// ---- bridge FDB: `bridge fdb show` ----------------------------------------------------------

export interface FdbRecord {
  kind: 'fdb';
  mac: string;
  /** The port or device; '' when the output leaves it out (`bridge fdb show dev X` prints no `dev`). */
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
  /**
   * iproute2's words: `permanent` (NUD_PERMANENT: a local address), `static` (NUD_NOARP), `stale` (a
   * learned entry past its ageing time, not yet collected), `dynamic` (NUD_REACHABLE: no word printed).
   */
  state: 'permanent' | 'static' | 'dynamic' | 'stale';
  /** extern_learn, offload, sticky, router, locked, activity_notify, inactive; an unknown state as `state=0x..`. */
  flags: string[];
  /** `via ifindex N`: the outgoing device is in another netns (see `linkNetnsid`). */
  viaIfindex?: number;
  /** `nhid N`: the remote VTEPs come from an FDB nexthop group. */
  nhid?: number;
  /** `link-netnsid N`. */
  linkNetnsid?: number;
  /** `bridge -s fdb`: seconds since the entry was last used and updated. */
  used?: number;
  updated?: number;
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

// ---- bridge vlan show -------------------------------------------------------------------------

/** One VLAN (or range of VLANs) of a port of a VLAN-aware bridge (`bridge vlan show`). */
export interface BridgeVlanRecord {
  kind: 'bridge-vlan';
  /** The bridge port, or the bridge itself for its own (`self`) VLANs. */
  port: string;
  /** The VLAN id, or the first of a range. */
  vlan: number;
  /** The last id of a range (`10-20`); absent for one VLAN. */
  vlanEnd?: number;
  /** Untagged frames that arrive on the port are taken into this VLAN (the port's PVID). */
  pvid: boolean;
  /** Frames of this VLAN leave the port without a tag ("Egress Untagged"). */
  untagged: boolean;
  /** `bridge -d vlan show`: the VLAN's STP state on the port (forwarding, learning, blocking ...). */
  state?: string;
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

// ---- iptables-save, iptables -S --------------------------------------------------------------

export interface IptablesChainRecord {
  kind: 'iptables-chain';
  /**
   * The `*table` block, or for `iptables -S` output the table its pasted command line names (`-t nat`;
   * `filter` without `-t`) or the caller gives (ParseOptions.table). Absent when the text does not say.
   */
  table?: string;
  /** From the `# Generated by ip6tables-save` comment, or the `ip6tables`/`iptables` of a pasted command line. */
  family?: Family;
  chain: string;
  /** ACCEPT/DROP for built-in chains, undefined (`-`) for user chains. */
  policy?: string;
  packets?: number;
  bytes?: number;
  src: Source;
}

export interface IptablesRuleRecord {
  kind: 'iptables-rule';
  /** As IptablesChainRecord.table: absent when the text does not say which table the rule is in. */
  table?: string;
  /** As IptablesChainRecord.family. */
  family?: Family;
  chain: string;
  /** The rule split into shell-like tokens, quotes removed (`-A` and the chain name excluded). */
  tokens: string[];
  /** The `-j`/`-g` target, with its own options left in `tokens`. */
  target?: string;
  goto: boolean;
  packets?: number;
  bytes?: number;
  /**
   * The rule's matches in order, from `tokens`: the built-in ones (`-s`, `-d`, `-i`, `-o`, `-p`, `-f`)
   * under module `''`, each `-m MODULE` with the options that follow it (an option after `-p tcp` with
   * no `-m` belongs to the protocol's implicit module, as iptables reads it).
   */
  matches: IptablesMatch[];
  /** The target's options (`--to-destination 10.0.0.1:80`, `--set-xmark 0x4000/0x4000`), in order. */
  targetOptions: IptablesOption[];
  src: Source;
}

/** One `-m MODULE` of a rule (module `''` holds the built-in matches). */
export interface IptablesMatch {
  module: string;
  options: IptablesOption[];
}

/**
 * One option and its values as printed: `--dport 53` is `{name: 'dport', values: ['53']}`, `! -s 10.0.0.0/8`
 * is `{name: 'source', values: ['10.0.0.0/8'], negated: true}`. Short built-in names are given their long
 * names (`-s` source, `-d` destination, `-i` in-interface, `-o` out-interface, `-p` protocol, `-f` fragment),
 * and aliases their usual names (`--destination-port` dport, `--source-ports` sports).
 */
export interface IptablesOption {
  name: string;
  values: string[];
  negated?: true;
}

// ---- WireGuard: `wg show all dump` ---------------------------------------------------------------

/** A WireGuard interface (the first dump line of each device). Private keys are never kept. */
export interface WgInterfaceRecord {
  kind: 'wg-interface';
  ifname: string;
  publicKey: string;
  listenPort?: number;
  fwmark?: number;
  src: Source;
}

/** A WireGuard peer: cryptokey routing sends to it what its allowed IPs cover. */
export interface WgPeerRecord {
  kind: 'wg-peer';
  ifname: string;
  publicKey: string;
  /** `ip:port` of the peer's UDP endpoint; absent until known. */
  endpoint?: { addr: Addr; port: number };
  allowedIps: Prefix[];
  /** Unix seconds of the last handshake; 0 = never. */
  latestHandshake?: number;
  rxBytes?: number;
  txBytes?: number;
  persistentKeepalive?: number;
  src: Source;
}

// ---- nftables: `nft list ruleset`, `nft -j list ruleset` --------------------------------------
// Both forms give these records. Expressions follow libnftables' JSON schema (nft -j), with numbers as
// numbers (`0x00004000` and 16384 alike), the implicit operator made explicit (`==`, or `in` for flag
// types such as `ct state`), a list of values as `{set: [...]}`, and `@name` as `{ref: name}`.

/** A verdict, as a statement or as the data of a verdict map element. */
export interface NftVerdict {
  verdict: 'accept' | 'drop' | 'continue' | 'return' | 'jump' | 'goto' | 'queue';
  /** jump/goto: the chain. */
  target?: string;
}

/** A constant or set on the right of a match, a set element, a map's data. */
export type NftValue =
  | string
  | number
  | { prefix: { addr: string; len: number } }
  | { range: [NftValue, NftValue] }
  | { concat: NftValue[] }
  | { set: NftElement[] }
  | { ref: string }
  | NftVerdict;

/** An element of a set (key only) or a map (key and data); a comment when printed. */
export interface NftElement {
  key: NftValue;
  data?: NftValue;
  comment?: string;
}

/** What a match or statement reads from the packet. */
export type NftExpr =
  | { payload: { protocol: string; field: string } }
  | { meta: string }
  | { ct: { key: string; dir?: string; family?: string } }
  | { fib: { flags: string[]; result: string } }
  | { numgen: { mode: string; mod: number; offset: number } }
  | { concat: NftExpr[] }
  | { binop: { op: '&' | '|' | '^' | '<<' | '>>'; left: NftExpr; right: NftValue } }
  | { unknown: string };

export type NftStatement =
  | { match: { op: '==' | '!=' | '<' | '>' | '<=' | '>=' | 'in'; left: NftExpr; right: NftValue } }
  | NftVerdict
  | { vmap: { key: NftExpr; data: NftValue } }
  | { nat: { type: 'dnat' | 'snat' | 'masquerade' | 'redirect'; family?: string; addr?: string; addrTo?: string; port?: number; portTo?: number; flags?: string[] } }
  | { reject: { type?: string; code?: string } }
  | { mangle: { key: NftExpr; value: NftExpr | NftValue } }
  | { setop: { op: string; set: string; elem: NftExpr } }
  | { counter: true }
  | { log: true }
  | { notrack: true }
  /** A statement netpath does not model, as printed (text) or as its JSON (json form). */
  | { unknown: string };

export interface NftTableRecord {
  kind: 'nft-table';
  /** ip, ip6, inet, arp, bridge, netdev. */
  family: string;
  name: string;
  handle?: number;
  src: Source;
}

export interface NftChainRecord {
  kind: 'nft-chain';
  family: string;
  table: string;
  name: string;
  /** Base chains only: filter, nat, route. */
  type?: string;
  hook?: string;
  /** Base chains: the priority as a number (`dstnat - 10` is -110). */
  priority?: number;
  policy?: 'accept' | 'drop';
  device?: string;
  handle?: number;
  src: Source;
}

export interface NftRuleRecord {
  kind: 'nft-rule';
  family: string;
  table: string;
  chain: string;
  statements: NftStatement[];
  comment?: string;
  handle?: number;
  src: Source;
}

export interface NftSetRecord {
  kind: 'nft-set';
  family: string;
  table: string;
  name: string;
  /** A map (`map NAME { type K : V }`): elements carry data; `verdict` data makes it a verdict map. */
  map: boolean;
  /** The key's types, one per part of a concatenation (`ipv4_addr . inet_proto . inet_service`). */
  keyType: string[];
  dataType?: string;
  /** Default element timeout in seconds (`timeout 3h`). */
  timeout?: number;
  elements: NftElement[];
  handle?: number;
  src: Source;
}

// ---- ipset: `ipset list`, `ipset save` --------------------------------------------------------

/** A set (`Name:` block of `ipset list`, or `create` line of `ipset save`). */
export interface IpsetRecord {
  kind: 'ipset';
  name: string;
  /** `hash:ip,port`, `bitmap:port`, `list:set`, ... */
  type: string;
  /** `family inet` (4) or `inet6` (6); absent for types without one (bitmap:port, list:set). */
  family?: Family;
  /** The header's other `key value` words (hashsize, maxelem, timeout, range, ...); flags as `true`. */
  options: Record<string, string | true>;
  src: Source;
}

/** One member (a `Members:` line of `ipset list`, or an `add` line of `ipset save`). */
export interface IpsetMemberRecord {
  kind: 'ipset-member';
  set: string;
  /** The element as printed: `10.96.0.1,tcp:443`, `10.0.0.0/8`, `30080`, `10.1.1.1,udp:53,10.1.1.1`. */
  entry: string;
  /** Words after the element (`timeout 100`, `nomatch`, `comment "x"`), flags as `true`. */
  options?: Record<string, string | true>;
  src: Source;
}

// ---- IPVS: `ipvsadm -Ln` -------------------------------------------------------------------------

/** A virtual service: `TCP  10.96.0.1:443 rr` (or `FWM  1 rr`), with persistence if printed. */
export interface IpvsServiceRecord {
  kind: 'ipvs-service';
  protocol: 'TCP' | 'UDP' | 'SCTP' | 'FWM';
  /** Absent for a firewall-mark service. */
  addr?: Addr;
  port?: number;
  fwmark?: number;
  scheduler: string;
  /** `persistent N` (seconds), `mask M`, `ops` and scheduler flags (`flag-1,flag-2`), as printed. */
  persistent?: number;
  netmask?: string;
  flags?: string[];
  src: Source;
}

/** A real server of the virtual service above it: `-> 10.244.1.5:6443 Masq 1 0 0`. */
export interface IpvsDestRecord {
  kind: 'ipvs-dest';
  /** The virtual service, as `TCP 10.96.0.1:443` / `FWM 1` (the key of the service record above). */
  service: string;
  addr: Addr;
  port: number;
  /** `Masq`, `Local`, `Route`, `Tunnel`. */
  forward: string;
  weight: number;
  activeConn: number;
  inactConn: number;
  src: Source;
}

// ---- xt_recent: /proc/net/xt_recent/* and the clock from /proc/timer_list ----------------------
// kube-proxy's iptables mode pins a Service's clients to an endpoint (sessionAffinity ClientIP) with
// the `recent` match: `-m recent --set --name KUBE-SEP-...` in the endpoint chain, `--rcheck --seconds N
// --reap` in the Service chain. Its lists say which client was last seen when, in jiffies.

/** One client of one `recent` list: `KUBE-SEP-X:src=10.244.2.3 ttl: 64 last_seen: 4300825947 oldest_pkt: 4 ...`. */
export interface XtRecentEntryRecord {
  kind: 'xt-recent-entry';
  /** The list (`--name`), which is its file name under /proc/net/xt_recent. */
  list: string;
  /** The client address the list keys on (`--rsource`: the packet's source; `--rdest`: its destination). */
  client: Addr;
  /** TTL of the last packet recorded (`--rttl` compares it). */
  ttl?: number;
  /** Jiffies when the client was last seen (what `--rcheck --seconds` compares with now). */
  lastSeen: number;
  /** Jiffies of the packets kept (at most the list's ring size), oldest first (the kernel prints its ring). */
  hits: number[];
  src: Source;
}

/**
 * The kernel's clock when the lists were read, from /proc/timer_list: `now at N nsecs` (CLOCK_MONOTONIC,
 * nanoseconds since boot) and `.last_jiffies : N` (the jiffies counter as the first CPU's tick last read
 * it: it lags while that CPU idles without a tick). One record for both lines, `src.raw` holding them
 * joined by a newline; either may be absent.
 */
export interface XtRecentClockRecord {
  kind: 'xt-recent-clock';
  /** Past 2^53 ns (104 days of uptime) the number is rounded to a few nanoseconds. */
  nowNs?: number;
  jiffies?: number;
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
  | BridgeVlanRecord
  | SysctlRecord
  | IptablesChainRecord
  | IptablesRuleRecord
  | WgInterfaceRecord
  | WgPeerRecord
  | IpsetRecord
  | IpsetMemberRecord
  | IpvsServiceRecord
  | IpvsDestRecord
  | NftTableRecord
  | NftChainRecord
  | NftRuleRecord
  | NftSetRecord
  | XtRecentEntryRecord
  | XtRecentClockRecord;
