// The packet and frame the walk carries from stage to stage: the IP header fields the FIB and
// netfilter look at, the skb's mark and conntrack view, and for a tunnel's outer packet what is inside.
import type { Addr, Mac } from '../../net/addr';
import type { Iface, Netns } from '../netns';
import type { Flow, NfHook, NfLayer, Step } from '../trace';

/** VXLAN over IPv4 adds outer Ethernet 14 + IP 20 + UDP 8 + VXLAN 8 bytes; over IPv6, 20 more. */
export const VXLAN_OVERHEAD = { 4: 50, 6: 70 } as const;
/** IPIP adds an outer IPv4 header. */
export const IPIP_OVERHEAD = 20;
/** WireGuard adds outer IP + UDP 8 + its 16-byte header and 16-byte tag (before padding). */
export const WIREGUARD_OVERHEAD = { 4: 60, 6: 80 } as const;

export interface Packet {
  src: Addr;
  dst: Addr;
  proto: Flow['proto'] | 'ipip';
  sport?: number | undefined;
  dport?: number | undefined;
  /** IP packet length in bytes. */
  size: number;
  ttl: number;
  df: boolean;
  /** skb->mark: policy routing matches it (`fwmark`), netfilter sets and matches it; cleared between namespaces. */
  mark: number;
  /** Conntrack's view: the traced packet opens a connection ('new') for its whole first trip. */
  connection: 'new' | 'established' | 'untracked';
  /** Conntrack's NAT status of the connection in the namespace `ns` (conntrack is per namespace: elsewhere it means nothing). */
  ctStatus?: { ns: string; status: ('dnat' | 'snat')[] } | undefined;
  /** Routed again after OUTPUT rewrote it (ip_route_me_harder) or IPVS sent it on: OUTPUT does not run a second time. */
  rerouted?: true | undefined;
  /** br_netfilter ran the inet PREROUTING hook on this frame already: ip_rcv does not run it again (ip_sabotage_in). */
  prerouted?: true | undefined;
  /** For an encapsulated packet: the frame inside it. */
  inner?: Frame | undefined;
  /** VXLAN network identifier of an encapsulated packet. */
  vni?: number | undefined;
  /** A WireGuard datagram: the sending device's public key (when the capture has it). */
  wgFrom?: { key: string | undefined } | undefined;
  /** The tunnel device that made this outer packet: where the kernel counts its transmit errors. */
  tunnelDev?: string | undefined;
}

export interface Frame {
  pkt: Packet;
  /** Destination MAC; undefined when the next hop needs no link-layer address (NOARP devices). */
  dstMac: Mac | undefined;
  /** The next hop the route chose (the gateway, or the destination itself): tunnels use it. */
  nexthop?: Addr | undefined;
  /**
   * When `dstMac` is unknown because the capture does not show the MAC of the interface that answered
   * ARP/ND (a pod whose namespace is inferred): that interface. Only it takes the frame.
   */
  dstNic?: { ns: Netns; iface: Iface } | undefined;
  /**
   * The 802.1Q tags on the frame (VLAN ids), outermost first; absent for an untagged frame. A VLAN
   * device pushes one (vlan_dev_hard_start_xmit), vlan_do_receive pops one, a VLAN-aware bridge gives
   * an untagged frame its port's PVID (br_allowed_ingress) and strips it where the VLAN leaves untagged
   * (br_handle_vlan).
   */
  vlans?: readonly number[] | undefined;
}

export interface WalkTarget {
  /** The address being traced to. */
  dst: Addr;
  /** The host that should receive it, when known. */
  host: string | null;
}

/** What netfilter is asked at a hook point. */
export interface HookCall {
  ns: Netns;
  hook: NfHook;
  /** The IP layer's hooks, or the bridge family's own (nft `bridge` tables). */
  layer: NfLayer;
  packet: Packet;
  /** Input and output devices as the hook sees them: for br_netfilter's inet calls the bridge, for the bridge family's own the ports. */
  iif?: string | undefined;
  oif?: string | undefined;
  /** br_netfilter: the bridge ports a bridged frame came in on and goes out of. */
  physIn?: string | undefined;
  physOut?: string | undefined;
}

/** One outcome of the rules at a hook. */
export interface HookOutcome {
  verdict: 'accept' | 'drop' | 'reject';
  /** The packet as the rules left it (NAT, marks): the next stage gets it. */
  packet: Packet;
  /** The chance of this outcome for a new connection (statistic, numgen), 0..1. */
  probability: number;
  /** The rules' steps (kind `netfilter`, detail type `netfilter`), in order. */
  steps: Step[];
  /** A DNAT's new destination: the path is the one to this endpoint. */
  endpoint?: { ip: string; port?: number };
}

/**
 * The evaluator the hook points call (src/engine/netfilter's runHook behind an adapter). A Network
 * without one accepts everything unchanged: the walk is then exactly what it was before the hooks.
 * `run` returns undefined when the host has no rules at that hook (accept, no steps).
 */
export interface NetfilterHooks {
  run(call: HookCall): HookOutcome[] | undefined;
  /**
   * IPVS at LOCAL_IN / LOCAL_OUT (kube-proxy's IPVS mode): one accepted outcome per real server, its
   * packet DNATed to it, or a reject when the virtual service has none; undefined: no virtual service.
   */
  ipvs?(call: HookCall): HookOutcome[] | undefined;
}
