// The typed detail of every step a trace can hold: what each stage of the walk found, as data. The
// sentence of a step (`Step.text`) and of a path (`Trace.reason`) is made from these in one place
// (narrate.ts), so a view reads facts here and never parses a sentence. Values are JSON: names as the
// capture gives them, addresses and MACs as strings, as `ip` prints them.
//
// Details are only ever added to (the trace JSON grows by adding fields, shared/spec/capture-v1.md).
import type { ChainRef, Hook, Layer, NfStep, RuleAction, Unevaluated } from './netfilter/types';

/** A route as the FIB holds it, with what `ip route` prints of it. */
export interface RouteView {
  type: 'unicast' | 'local' | 'broadcast' | 'blackhole' | 'unreachable' | 'prohibit' | 'throw' | 'multicast' | 'anycast' | 'nat';
  /** The destination as `ip route` prints it: `default`, a bare address for a host route, else the prefix. */
  dst: string;
  gateway?: string;
  /** A gateway `route` printed by name (its address unknown). */
  gatewayName?: string;
  dev?: string;
  table: string;
  metric?: number;
  /** The route's preferred source (`src`). */
  prefsrc?: string;
}

/** Who answers an ARP request or neighbour solicitation. */
export interface Answerer {
  host: string;
  dev: string;
  /** The address's owner, a proxy neighbour entry, or proxy_arp on the interface. */
  by: 'owner' | 'proxy-entry' | 'proxy_arp';
  /** Its MAC, when the capture shows it. */
  mac?: string;
}

/** fib_validate_source that fails: no unicast route back, or (strict) one that leaves by another device. */
export type RpFailure =
  | { result: 'no-route'; mode: 'strict' | 'loose'; src: string; route?: RouteView }
  | { result: 'wrong-dev'; mode: 'strict'; src: string; iif: string; devs: string[]; route: RouteView };

/** How a pod the capture holds no interfaces for was placed behind a node port (attach.ts). */
export type AttachmentFacts =
  /** The node's route to the pod's address names a veth on no bridge (Calico). */
  | { how: 'route'; node: string; ip: string; dev: string; route: string }
  /** The node's neighbour entry for the address is on a veth on no bridge. */
  | { how: 'neigh'; node: string; ip: string; dev: string }
  /** The neighbour entry's MAC is behind a port in the bridge's forwarding table. */
  | { how: 'fdb'; node: string; ip: string; mac: string; bridge: string; port: string }
  /**
   * Nothing in the node's tables says: the bridge's ports whose far ends the capture does not show.
   * `elimination` when one port is left for one pod, else `candidates`.
   */
  | {
      how: 'elimination' | 'candidates';
      node: string;
      bridge: string;
      /** The pod (its name) and its addresses. */
      pod: string;
      ips: string[];
      /** The ports it may be behind. */
      ports: string[];
      /** Every pod left among those ports, when more than one. */
      pods: string[];
      /** The other ports, whose far ends the capture shows. */
      known: { port: string; pod: string }[];
    };

/** One address of a pod whose namespace is inferred, and the CNI layout its node's tables show. */
export type InferredIp =
  /** The node routes it to a bridge: the bridge plugin (the subnet on-link, the bridge's address as gateway). */
  | { layout: 'bridge'; ip: string; len: number; dev: string; via: 'route' | 'neigh'; subnet?: string; gateway?: string }
  /** The node routes it to a veth on no bridge: Calico (the default via a gateway the node answers for). */
  | { layout: 'calico'; ip: string; len: number; dev: string; via: 'route' | 'neigh'; gateway?: string }
  /** Nothing in the node's tables leads to it (or the node is not in the capture). */
  | { layout: 'none'; ip: string; len: number };

/** What a namespace the capture holds no tables for was inferred from (network.ts). */
export interface InferredNetnsFacts {
  /** The pod as users name it (`namespace/pod`). */
  pod: string;
  /** The node it was inferred from (or the pod's node name, or "its node"). */
  from: string;
  /** Whether that node is in the capture. */
  nodeInCapture: boolean;
  ips: InferredIp[];
  mac?: { mac: string; ip: string; dev: string };
  mtu?: { mtu: number; dev: string };
}

/** A WireGuard peer as the sending device chose it: from the `wg` probe, or inferred from podCIDRs. */
export type WgPeerRef = { key: string; allowedIps: string[] } | { node: string };

/** The end of a path caught in a forwarding loop: where it went round and how often. */
export interface LoopNote {
  hosts: string[];
  host: string;
  dev: string;
  /** Times the packet left `dev` of `host`. */
  times: number;
}

/** The netfilter hooks (the inet family's; br_netfilter calls the same ones for bridged frames). */
export type NfHook = Hook;

/** Which hook set: the IP layer's, or the bridge family's own chains. */
export type NfLayer = Layer;

export type StepDetail = (
  // ---- ip_local_out, routing -------------------------------------------------------------------
  | { type: 'origin'; ns: string; proto: string; size: number; src?: string; dst: string; dport?: number; df: boolean }
  | { type: 'rule'; priority: number; action: 'lookup' | 'blackhole' | 'unreachable' | 'prohibit'; table?: string; gaveNoRoute: number[] }
  | {
      type: 'route';
      ns: string;
      /** The packet's destination. */
      dst: string;
      route: RouteView;
      /** The table the lookup found it in. */
      table: string;
      /** What the route decides: forward (unicast), local delivery, a broadcast/multicast/anycast route, reject, or a forward the host refuses. */
      outcome: 'forward' | 'local' | 'cast' | 'reject' | 'not-local';
      /** Live next hops of a forwarding route (each is its own path when several). */
      nexthops?: number;
    }
  | { type: 'no-routes-captured'; ns: string; family: 4 | 6; dst: string }
  | { type: 'no-route'; ns: string; dst: string; tables: string[] }
  | { type: 'rule-reject'; ns: string; priority: number; action: 'blackhole' | 'unreachable' | 'prohibit' }
  | { type: 'route-reject'; routeType: 'blackhole' | 'unreachable' | 'prohibit' }
  | { type: 'route-unusable'; route: RouteView }
  | {
      type: 'gateway-name';
      ns: string;
      name: string;
      maybeTruncated: boolean;
      /** The route's device (names are matched on it). */
      dev?: string;
      outcome: 'found' | 'ambiguous' | 'none';
      entries: { addr: string; dev?: string; hostname: string }[];
      /** Why nothing matched: names that do not match, `arp` without names (-n), or no `arp` at all. */
      why?: 'no-match' | 'no-names' | 'no-arp';
    }
  // ---- ip_forward --------------------------------------------------------------------------------
  | { type: 'forward'; ns: string; sysctl: string; ttl: number }
  | { type: 'forward-assumed'; ns: string; role: string }
  | { type: 'forwarding-disabled'; ns: string; iif: string; sysctl: string; assumed: boolean }
  | { type: 'ttl-exceeded'; ns: string; ttl: number }
  | { type: 'rp-filter'; ns: string; mode: 'strict' | 'loose'; src: string; devs: string[] }
  | ({ type: 'rp-filter-drop'; ns: string } & RpFailure)
  // ---- ip_output ---------------------------------------------------------------------------------
  | { type: 'route-dev-unknown'; ns: string; dev?: string }
  | { type: 'dev-down'; ns: string; dev: string; state: 'down' | 'no-carrier' }
  /**
   * `from`: the route's src, the destination itself (a local route), an address of the out device
   * (`nexthop` when its subnet holds the next hop, as inet_select_addr prefers), or, when the out device
   * has none in the route's scope, the namespace's first (`addrDev`, the device it is on).
   */
  | { type: 'src'; addr: string; from: 'route' | 'device' | 'destination' | 'namespace'; dev: string; addrDev?: string; nexthop?: string }
  | { type: 'mtu'; ns: string; dev: string; size: number; mtu: number; result: 'fragment' | 'too-big'; inferredMtu?: boolean }
  // ---- neigh_output ------------------------------------------------------------------------------
  | {
      type: 'neigh';
      ns: string;
      dev: string;
      nexthop: string;
      gateway: boolean;
      nud: 'reachable' | 'stale' | 'delay' | 'probe' | 'permanent' | 'noarp' | 'none' | 'resolved';
      /** The NUD state words as printed ("resolved" when `arp` printed none). */
      state: string;
      lladdr: string;
      confirmed?: number;
    }
  | {
      type: 'arp';
      ns: string;
      dev: string;
      nexthop: string;
      gateway: boolean;
      family: 4 | 6;
      /** The unusable entry asked again (FAILED, INCOMPLETE), or none. */
      entry?: { nud: 'failed' | 'incomplete'; state: string };
      /** The namespace's neighbour table is inferred (a pod without probes). */
      nsInferred: boolean;
      answer: Answerer;
    }
  | { type: 'neigh-failed'; ns: string; dev: string; nexthop: string; gateway: boolean; family: 4 | 6; nud: 'failed' | 'incomplete'; state: string }
  | {
      type: 'arp-refused';
      ns: string;
      dev: string;
      nexthop: string;
      gateway: boolean;
      nsInferred: boolean;
      /** The host that would answer by proxy_arp, and its reverse-path filter that refuses the request's sender. */
      refusal: { host: string; dev: string; ip: string; rp: RpFailure };
    }
  | {
      type: 'neigh-unanswered';
      ns: string;
      dev: string;
      nexthop: string;
      gateway: boolean;
      family: 4 | 6;
      /** Hosts that own the address but whose place was inferred and which the broadcast does not reach. */
      placed: string[];
      /** The capture has the neighbour table (or it is inferred): the absence is real. */
      tableKnown: boolean;
    }
  // ---- dev_queue_xmit ----------------------------------------------------------------------------
  | { type: 'loop'; ns: string; dev: string }
  | { type: 'l2-loop'; hosts: string[] }
  | { type: 'too-many-hops'; max: number }
  | { type: 'dummy'; dev: string }
  | { type: 'unsupported-dev'; dev: string; devType: string }
  | { type: 'unwired'; ns: string; dev: string; veth: boolean }
  | { type: 'segment-no-owner'; ns: string; dev: string; mac?: string }
  | {
      type: 'wire';
      /** A veth pair, a capture link, or an implicit segment (hosts sharing a subnet). */
      how: 'veth' | 'link' | 'segment';
      ns: string;
      dev: string;
      peer: string;
      peerDev: string;
      /** A veth whose far end's MTU the packet exceeds: that MTU. */
      peerMtu?: number;
      /** How the far end (a pod without interface tables) was placed. */
      via?: AttachmentFacts;
      /** A segment: its prefix, and the address the frame is for there. */
      segment?: string;
      to?: string;
      /** The 802.1Q tags (VLAN ids) on the frame as it crosses, outermost first; absent when untagged. */
      vlans?: number[];
    }
  | { type: 'veth-too-big'; ns: string; dev: string; size: number; mtu: number }
  // ---- 802.1Q (net/8021q) -----------------------------------------------------------------------
  /** vlan_dev_hard_start_xmit: the VLAN device `dev` pushes tag `id` and hands the frame to `parent`. */
  | { type: 'vlan-push'; ns: string; dev: string; parent: string; id: number; protocol?: string }
  /** vlan_do_receive: a frame tagged `id` arrives on `parent`; the VLAN device `dev` takes it, the tag popped. */
  | { type: 'vlan-pop'; ns: string; dev: string; parent: string; id: number }
  /** A VLAN device whose lower device or id the capture does not show (no `ip -d link`). */
  | { type: 'vlan-parent-unknown'; ns: string; dev: string; parent?: string }
  /**
   * A tagged frame on `dev` with no VLAN device for its outer tag: the kernel marks it PACKET_OTHERHOST
   * and ip_rcv drops it. `devices`: the VLAN devices `dev` has, by id; `unknown`: upper devices of
   * `dev` whose kind the capture does not show (then it cannot say).
   */
  | { type: 'vlan-no-dev'; ns: string; dev: string; id: number; devices: { dev: string; id: number }[]; unknown?: string[] }
  // ---- VLAN-aware bridges (vlan_filtering 1) ----------------------------------------------------
  /** br_allowed_ingress let the frame in on `port` (the bridge itself for its own VLANs) in `vlan`: an untagged frame took the port's PVID, a tagged one is a member. */
  | { type: 'vlan-ingress'; ns: string; bridge: string; port: string; vlan: number; how: 'pvid' | 'tagged' }
  /** br_handle_vlan on the way out of `port` (the bridge itself: up to the host): the tag stays, or is stripped (Egress Untagged). */
  | { type: 'vlan-egress'; ns: string; bridge: string; port: string; vlan: number; tagged: boolean }
  /**
   * A VLAN-aware bridge drops the frame: at ingress (no PVID for an untagged frame, or the tag's VLAN
   * is not on the port), at egress (the VLAN is not on the out port), or up to the host (not among the
   * bridge's own VLANs). `member`: the port's VLANs as `bridge vlan show` lists them (empty: none).
   */
  | { type: 'vlan-filtered'; ns: string; bridge: string; port: string; at: 'ingress' | 'egress' | 'up'; why: 'no-pvid' | 'not-member' | 'state'; vlan?: number; state?: string; member: string[] }
  /**
   * br_flood within `vlan` found no other port that is a member of it (should_deliver ->
   * br_allowed_egress): `ports` are the other forwarding ports, none in the VLAN; `fdb`: where the
   * forwarding table has the MAC in other VLANs.
   */
  | { type: 'vlan-flood-none'; ns: string; bridge: string; vlan: number; inPort?: string; mac?: string; ports: string[]; fdb?: { port: string; vlan: number }[] }
  /** A VLAN-filtering bridge on a host whose capture has no `bridgevlan` probe: its VLAN table is unknown. */
  | { type: 'vlan-table-missing'; ns: string; bridge: string; probe: 'bridgevlan' }
  // ---- netif_receive_skb -------------------------------------------------------------------------
  | { type: 'netns-inferred'; ns: string; facts: InferredNetnsFacts }
  | { type: 'rx-down'; ns: string; dev: string }
  | { type: 'master-unknown'; ns: string; dev: string; master: string; masterType?: string }
  | { type: 'port-blocked'; bridge: string; port: string; state: string; at: 'ingress' | 'egress' }
  | { type: 'otherhost'; ns: string; dev: string; why: 'mac'; mac: string; devMac: string }
  | { type: 'otherhost'; ns: string; dev: string; why: 'nic'; nic: { host: string; dev: string } }
  | { type: 'otherhost'; ns: string; dev: string; why: 'address'; mac: string; nexthop: string }
  // ---- bonds (drivers/net/bonding), macvlan and ipvlan (drivers/net/macvlan.c, drivers/net/ipvlan) ----
  /**
   * bond_start_xmit: the slave the bond sends the frame out of. `how`: the active slave of an
   * active-backup bond (named by `active_slave`, or the slave whose state is ACTIVE), the transmit
   * hash (`hash`, `index` into the `of` usable slaves), or the only usable slave.
   */
  | {
      type: 'bond-xmit';
      ns: string;
      bond: string;
      mode: string;
      slave: string;
      how: 'active-slave' | 'active-state' | 'hash' | 'only-slave';
      policy?: string;
      hash?: number;
      index?: number;
      of?: number;
      /** The usable slaves in the order the hash indexes them (ifindex order: the capture does not show enslave order). */
      slaves?: string[];
    }
  /** The bond's choice is not fixed by the capture: one path per usable slave follows (balance-rr, tlb/alb, a hash whose inputs are missing, broadcast). */
  | { type: 'bond-spread'; ns: string; bond: string; mode: string; why: 'round-robin' | 'load' | 'hash-inputs' | 'broadcast'; policy?: string; slaves: string[] }
  /** No slave can carry the frame: each slave and why not. */
  | { type: 'bond-no-slave'; ns: string; bond: string; mode: string; slaves: { name: string; up: boolean; mii?: string; state?: string }[] }
  /** bond_handle_frame: a frame that arrived on a slave is the bond's. */
  | { type: 'bond-rx'; ns: string; bond: string; slave: string; state?: string }
  /** bond_handle_frame on an inactive (BACKUP) slave: RX_HANDLER_EXACT, no protocol takes it. */
  | { type: 'bond-inactive-slave'; ns: string; bond: string; slave: string; mode: string; state: string }
  /**
   * A macvlan or ipvlan sends: to a sibling on the same lower device directly (macvlan bridge mode by
   * MAC, macvlan_queue_xmit; ipvlan by the owner of the destination IP, ipvlan_addr_lookup), or out of
   * the lower device (`to: 'lower'`); ipvlan l3/l3s routes in the lower device's namespace (`to: 'route'`).
   */
  | {
      type: 'macvlan-xmit';
      driver: 'macvlan' | 'ipvlan';
      ns: string;
      dev: string;
      mode: string;
      flag?: string;
      lower: string;
      lowerNs: string;
      to: 'sibling' | 'lower' | 'route' | 'lower-stack';
      sibling?: { ns: string; dev: string };
    }
  /** macvlan_handle_frame / ipvlan_handle_frame on the lower device: the upper device that owns the destination takes the frame. */
  | { type: 'macvlan-rx'; driver: 'macvlan' | 'ipvlan'; ns: string; lower: string; upperNs: string; upper: string; mode: string; by: 'mac' | 'ip' | 'passthru' }
  /** A macvlan/ipvlan whose lower device the capture does not identify. */
  | { type: 'macvlan-no-lower'; driver: 'macvlan' | 'ipvlan'; ns: string; dev: string; lower?: string; linkIndex?: number }
  /**
   * A macvlan/ipvlan sends to an address of its own lower device's namespace: the frame goes out of
   * the lower device's transmit, never into its receive path, so that namespace never sees it.
   */
  | { type: 'macvlan-to-lower'; driver: 'macvlan' | 'ipvlan'; ns: string; dev: string; mode: string; lower: string; lowerNs: string; addr: string }
  /** ipvlan private: slaves on one lower device do not talk to each other. */
  | { type: 'ipvlan-private'; ns: string; dev: string; sibling: { ns: string; dev: string }; addr: string }
  // ---- bridge ------------------------------------------------------------------------------------
  | { type: 'bridge-xmit'; ns: string; bridge: string; mac?: string }
  | { type: 'bridge-own-mac'; ns: string; bridge: string; port: string; mac: string }
  | { type: 'fdb-local'; ns: string; bridge: string; port?: string; mac: string }
  | { type: 'fdb-hit'; ns: string; bridge: string; inPort?: string; mac: string; port: string; state: 'permanent' | 'static' | 'learned'; age?: number; vlan?: number }
  | { type: 'hairpin'; bridge: string; port: string }
  | {
      type: 'flood';
      ns: string;
      bridge: string;
      inPort?: string;
      /** The ports a copy goes out of. */
      ports: string[];
      /** The MAC is not in the forwarding table, or it is the MAC (not in the capture) of `nic`. */
      why: 'miss' | 'unknown-mac';
      mac?: string;
      fdbKnown?: boolean;
      nic?: { host: string; dev: string };
      /** A VLAN-aware bridge floods within this VLAN only (its member ports). */
      vlan?: number;
    }
  | { type: 'bridge-down'; ns: string; bridge: string }
  | { type: 'bridge-no-mac'; bridge: string }
  | { type: 'fdb-port-unknown'; ns: string; bridge: string; mac: string; port: string }
  | { type: 'fdb-not-port'; bridge: string; mac: string; port: string }
  | { type: 'hairpin-off'; mac: string; port: string }
  | { type: 'flood-no-port'; bridge: string; to: string }
  | { type: 'port-down'; bridge: string; port: string }
  | { type: 'port-too-big'; port: string; size: number; mtu: number; limit: number }
  // ---- tunnels -----------------------------------------------------------------------------------
  | { type: 'vxlan-fdb'; ns: string; dev: string; vni: number; mac: string; vtep: string; default: boolean }
  | { type: 'vxlan-remote'; ns: string; dev: string; mac: string; remote: string }
  | { type: 'vxlan-no-details'; dev: string }
  | { type: 'vxlan-no-mac'; dev: string }
  | { type: 'vxlan-fdb-miss'; dev: string; vni: number; mac: string; fdbKnown: boolean }
  | { type: 'vxlan-encap'; ns: string; dev: string; size: number; vni: number; vtep: string; port: number; local?: string; overhead: number; total: number }
  | { type: 'vxlan-decap'; ns: string; dev: string; vni: number; port: number; src: string; dst: string }
  | { type: 'vxlan-no-dev'; ns: string; vni?: number; port?: number }
  | { type: 'ipip-encap'; ns: string; dev: string; size: number; remote: string; fixed: boolean; total: number }
  | { type: 'ipip-decap'; ns: string; dev: string; from: string; src: string; dst: string }
  | { type: 'ipip-no-remote'; dev: string }
  | { type: 'ipip-no-dev'; ns: string; from: string }
  | { type: 'wg-encap'; ns: string; dev: string; dst: string; peer: WgPeerRef; endpoint: string; port: number; overhead: number; total: number }
  | { type: 'wg-decap'; ns: string; dev: string; port?: number; src: string; dst: string; peerChecked: boolean }
  | { type: 'wg-no-peer'; dev: string; dst: string }
  | { type: 'wg-no-table'; dev: string; dst: string }
  | { type: 'wg-no-endpoint'; dev: string; dst: string; peer: WgPeerRef }
  | { type: 'wg-no-listener'; ns: string; port?: number }
  | { type: 'wg-unknown-peer'; ns: string; dev: string }
  | { type: 'wg-source'; dev: string; src: string; allowed: string[] }
  // ---- ip_local_deliver --------------------------------------------------------------------------
  | { type: 'deliver'; ns: string; dst: string; dev?: string }
  | { type: 'not-target'; ns: string; dst: string; target: string }
  // ---- netfilter hooks ---------------------------------------------------------------------------
  /** A base chain, rule, policy or return at a hook, as the evaluator reports it (netfilter/types.ts). */
  /** `service`: the Kubernetes Service a kube-proxy rule's comment or chain name names (`default/web:http`). */
  | { type: 'netfilter'; ns: string; hook: NfHook; layer: NfLayer; step: NfStep; service?: string }
  /**
   * One base chain's decision at a hook in a line, the way one reads iptables-save: the chains it went
   * through to the rule that decided (with the rule's comment: `default/web:http cluster IP`), what
   * the rules did there (MARK, DNAT, ACCEPT, ...; a `policy` when the chain ran out) and the chance of
   * the random choices on the way. The rule-by-rule steps follow it.
   */
  | {
      type: 'nf-summary';
      ns: string;
      hook: NfHook;
      layer: NfLayer;
      chain: ChainRef;
      path: { chain: string; comment?: string }[];
      did: (RuleAction | { kind: 'policy'; policy: 'accept' | 'drop' })[];
      probability?: number;
      service?: string;
    }
  /** A rule set's verdict that ends the path at a hook (the evaluator's own steps come before it). */
  | { type: 'nf-verdict'; ns: string; hook: NfHook; layer: NfLayer; verdict: 'drop' | 'reject'; by?: 'ipvs' }
  /** A rule netpath could not evaluate at a hook, and what it assumed instead (the step is `inferred`). */
  | { type: 'nf-unevaluated'; ns: string; hook: NfHook; layer: NfLayer; rule: Unevaluated }
  /**
   * br_netfilter after a DNAT at a bridged frame's PREROUTING (br_nf_pre_routing_finish): the new
   * destination routes out of the same bridge (`bridged`: the frame goes to its MAC) or elsewhere
   * (`routed`: up to the IP layer, to the bridge's own MAC).
   */
  | { type: 'br-nf-dnat'; ns: string; bridge: string; dst: string; how: 'bridged' | 'routed'; mac: string }
  /** NFQUEUE: userspace decides; netpath cannot see it and takes the packet as accepted (`inferred`). */
  | { type: 'nf-queue'; ns: string; hook: NfHook; layer: NfLayer }
  /** Rules in the capture netpath could not use at all (parse issues, rules with no table): named, never silently ignored. */
  | { type: 'nf-ruleset-note'; ns: string; note: string }
  /**
   * IPVS (kube-proxy's IPVS mode) at LOCAL_IN (ip_vs_remote_request) or LOCAL_OUT (ip_vs_local_request):
   * the virtual service the packet's destination matched and the real server this path goes to
   * (DNAT), with the scheduler's chance for a new connection; no `server`: the service has none.
   */
  | {
      type: 'ipvs';
      ns: string;
      hook: NfHook;
      service: { protocol: string; addr?: string; port?: number; fwmark?: number; scheduler: string; persistent?: number };
      server?: { addr: string; port: number; weight: number; forward: string; probability: number };
      servers: number;
      model: 'weight-proportional' | 'equal' | 'hash';
      k8sService?: string;
    }
  /** kube-proxy's DNAT inferred from the API where a node's rules are not in the capture (serviceHooks.ts). */
  | ServiceInferredDetail
  /** kube-proxy's masquerade of a packet it marked, inferred where the node's rules are not in the capture. */
  | ServiceMasqueradeInferredDetail
  /** What the cluster's NetworkPolicies (and admin policies) say of the flow, at the pod they govern. */
  | PolicyStepDetail
) & {
  /** On the step that ends a path caught in a forwarding loop. */
  loop?: LoopNote;
};


/**
 * What kube-proxy would do with a new connection to a Service frontend on a node whose rules the
 * capture lacks, from the API objects (serviceHooks.ts): the DNAT to one endpoint, or reject/drop.
 */
export interface ServiceInferredDetail {
  type: 'service-inferred';
  ns: string;
  hook: NfHook;
  /** kube-proxy's name for the Service port: `default/web:http`. */
  service: string;
  via: 'cluster-ip' | 'external-ip' | 'load-balancer' | 'node-port';
  frontend: { ip: string; port: number; proto: 'tcp' | 'udp' | 'sctp' };
  /** Which policy chose the endpoints, and of what traffic. */
  policy: 'Cluster' | 'Local';
  traffic: 'internal' | 'external';
  /** The endpoint of this outcome (absent when there is none: reject or drop). */
  endpoint?: { ip: string; port: number; pod?: string; nodeName?: string };
  /** 1-based choice among `of` endpoints. */
  choice?: number;
  of: number;
  probability: number;
  /** No ready endpoint: kube-proxy falls back to serving endpoints that are terminating. */
  terminatingFallback: boolean;
  verdict: 'dnat' | 'reject' | 'drop';
  /** ClientIP session affinity's timeout (s): a returning client keeps its endpoint; a new one picks as here. */
  affinity?: number;
  /**
   * Why kube-proxy marks this connection for masquerade (KUBE-MARK-MASQ / mark-for-masquerade), if it
   * does: a ClusterIP reached from outside the cluster's pod CIDRs, external traffic under the Cluster
   * policy, the node's own traffic to an external address of a Local Service, a pod sent to itself.
   */
  masquerade?: 'outside-cluster' | 'external' | 'local-external' | 'hairpin';
}

/**
 * A NetworkPolicy decision on the path (policyTrace.ts): egress at the source pod's node, ingress at
 * the destination pod's node, as the API defines it (src/engine/policy), with what carries it out.
 */
export interface PolicyStepDetail {
  type: 'policy';
  direction: 'egress' | 'ingress';
  /** The pod the direction is about (`namespace/name`) and the other end (a pod or an address). */
  subject: string;
  peer: string;
  /** What the API's policies decide for this direction. */
  verdict: 'allowed' | 'denied';
  /** Which tier decided: an admin rule, NetworkPolicy isolation, a baseline rule, or nothing (default allow). */
  tier: 'admin' | 'networkpolicy' | 'baseline' | 'default';
  /** The NetworkPolicies that select the subject for the direction. */
  policies: string[];
  /** The rules that allow it (`policy`, `rule`, `peer`, `port` indexes as in `netpath policy`). */
  allowedBy: { policy: string; rule: number; peer?: number; port?: number; portName?: string; tier?: string }[];
  /** The admin rule that denied it, if one did. */
  deniedBy?: { policy: string; rule: number; ruleName?: string; priority?: number; tier: string }[];
  /** The evaluator's sentence for this direction. */
  explanation: string;
  /** Whether the cluster carries policies out: yes (who), no (only a CNI that does not), unknown. */
  enforced: 'yes' | 'no' | 'unknown';
  /** Who enforces it, and the CNIs found that do not, by the projects' own names (`Calico`, `flannel`). */
  enforcers: string[];
  nonEnforcing: string[];
  /** What the step does to the path: drop it (policy-denied), nothing (allowed), or only say what the API intends. */
  effect: 'drop' | 'allow' | 'not-enforced' | 'rules-decide';
}

/** The masquerade kube-proxy's POSTROUTING rule does to a packet it marked (inferred: serviceHooks.ts). */
export interface ServiceMasqueradeInferredDetail {
  type: 'service-masquerade-inferred';
  ns: string;
  hook: 'postrouting';
  /** The device the packet leaves by, whose address it takes. */
  dev: string;
  from: string;
  to: string;
}

/** One fork on the way: which alternative this path took, with its label as `branch` shows it. */
export type Fork = ForkChoice & { label: string };

/** Which alternative a path took at a fork. */
export type ForkChoice =
  /** One next hop of a multipath route. */
  | { kind: 'ecmp'; host: string; gateway?: string; dev?: string }
  /** A bridge's flood copy out of one port. */
  | { kind: 'flood'; host: string; bridge: string; port: string }
  /** A copy to one of several VTEPs of a VXLAN forwarding entry (or of the default entries). */
  | { kind: 'vxlan'; host: string; dev: string; vtep: string; default: boolean }
  /** One of the ports that may lead to a pod the capture holds no interfaces for. */
  | { kind: 'candidate'; host: string; dev: string; peer: string; peerDev: string; of: number }
  /** One slave of a bond whose choice the capture does not fix (balance-rr, tlb/alb, a hash without its inputs). */
  | { kind: 'bond'; host: string; bond: string; slave: string; of: number }
  /** One outcome of the rules at a netfilter hook (a random choice: a Service endpoint, say). */
  | { kind: 'netfilter'; host: string; hook: NfHook; choice: number; probability: number; endpoint?: { ip: string; port?: number } };

/**
 * Why a path is a copy whose end at a host it is not for is expected: a bridge flood, a VXLAN
 * default (all-zero) entry's copy to every VTEP, or a candidate port tried from the node's side.
 */
export type CopyKind = 'flood' | 'vxlan-default' | 'candidate';

/**
 * How a path ended: delivered; dropped (any verdict but these); discarded (a copy that reached a host
 * it is not for, as a flood or a VXLAN default entry's copy does: not a failure); undecided (the
 * capture lacks the data, verdict insufficient-data).
 */
export type Ending = 'delivered' | 'dropped' | 'discarded' | 'undecided';
