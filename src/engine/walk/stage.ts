// What a stage of the walk is: a function from the packet where it is (a `Goto`) to what happens next
// (an `Action`): continue to the next stage, fork into several (ECMP next hops, flood copies, VXLAN
// copies, candidate ports, netfilter outcomes), deliver, or drop — with the typed steps it adds. The
// driver (driver.ts) runs the stages and keeps the paths; the stages themselves keep no state.
import { Mac, type Addr, type Result } from '../../net/addr';
import type { FibAnswer, FibRoute } from '../fib';
import type { Network } from '../network';
import type { Iface, Netns } from '../netns';
import { evidence } from '../netns';
import { narrate } from '../narrate';
import type { CopyKind, Evidence, ForkChoice, RouteView, Step, StepDetail, StepKind, Verdict } from '../trace';
import type { Wire } from '../topology';
import type { Frame, HookCall, NetfilterHooks, Packet, WalkTarget } from './packet';

export type { HookCall, HookOutcome, NetfilterHooks } from './packet';

/** A route answer that found a route. */
export type RouteAnswer = Extract<FibAnswer, { kind: 'route' }>;

/** Where the packet is and which stage takes it next, in the kernel's words. */
export type Goto =
  /** A socket in `ns` sends `pkt` (the first stage of every walk). */
  | { stage: 'sock_sendmsg'; ns: Netns; pkt: Packet }
  /** A socket (or a tunnel device) sends `pkt`: the output route lookup (ip_route_output_key). */
  | { stage: 'ip_route_output'; ns: Netns; pkt: Packet; oif?: string | undefined }
  /** `pkt` arrives on `iif` at the IP layer (ip_rcv): PREROUTING, then the input route lookup. */
  | { stage: 'ip_rcv'; ns: Netns; iif: Iface; pkt: Packet }
  /** ip_route_input: the route lookup of a received packet, and rp_filter for one to deliver locally. */
  | { stage: 'ip_route_input'; ns: Netns; iif: Iface; pkt: Packet }
  /** What the route decides (dst_input / dst_output): drop, deliver locally, forward or send. */
  | { stage: 'fib_result'; ns: Netns; iif: Iface | null; pkt: Packet; ans: FibAnswer }
  /** ip_forward: forwarding enabled on the input device, the TTL. */
  | { stage: 'ip_forward'; ns: Netns; iif: Iface; pkt: Packet; ans: RouteAnswer }
  /** fib_select_path: the route that won, and one path per live next hop. */
  | { stage: 'fib_select_path'; ns: Netns; iif: Iface | null; pkt: Packet; ans: RouteAnswer }
  /** ip_output for one next hop: the device, the source address, rp_filter; then FORWARD or OUTPUT. */
  | { stage: 'ip_output'; ns: Netns; iif: Iface | null; pkt: Packet; gateway: Addr | undefined; dev: string | undefined; route: FibRoute }
  /** ip_finish_output: after POSTROUTING, the MTU (DF: drop; else fragment). */
  | { stage: 'ip_finish_output'; ns: Netns; pkt: Packet; gateway: Addr | undefined; dev: Iface; route: FibRoute }
  /** neigh_output: the next hop's link-layer address (neighbour table, else ARP/ND). */
  | { stage: 'neigh_output'; ns: Netns; dev: Iface; nexthop: Addr; pkt: Packet; viaGateway: boolean }
  /** dev_queue_xmit: the frame goes to the device (the driver checks for loops first). */
  | { stage: 'dev_queue_xmit'; ns: Netns; dev: Iface; frame: Frame }
  /** A veth or NIC puts the frame on its wire: which far end(s) take it. */
  | { stage: 'wire_xmit'; ns: Netns; dev: Iface; frame: Frame }
  /** The frame crosses to one far end. */
  | { stage: 'wire_cross'; ns: Netns; dev: Iface; end: Wire; frame: Frame }
  /** netif_receive_skb: a frame arrives on `dev` (a bridge port, or an interface with addresses). */
  | { stage: 'netif_receive_skb'; ns: Netns; dev: Iface; frame: Frame }
  /** br_handle_frame (from `inPort`) or br_dev_xmit (from the host): local, FDB hit, or flood. */
  | { stage: 'br_handle_frame'; ns: Netns; br: Iface; inPort: Iface | undefined; frame: Frame; prerouted?: true; dnat?: Step }
  /** br_forward: the frame out of one port (its state), then the bridge's FORWARD and POSTROUTING hooks. */
  | { stage: 'br_forward'; ns: Netns; br: Iface; inPort: Iface | undefined; port: Iface; frame: Frame }
  /** br_dev_queue_push_xmit: the port's MTU, then the port's device. */
  | { stage: 'br_dev_queue_push_xmit'; ns: Netns; br: Iface; port: Iface; frame: Frame }
  /** vxlan_xmit: the VXLAN FDB entry for the inner destination MAC picks the VTEP(s). */
  | { stage: 'vxlan_xmit'; ns: Netns; dev: Iface; frame: Frame }
  /** vxlan_encap: the outer UDP packet to one VTEP, routed again. */
  | { stage: 'vxlan_encap'; ns: Netns; dev: Iface; frame: Frame; vtep: Addr; port: number; vni: number }
  | { stage: 'ipip_xmit'; ns: Netns; dev: Iface; frame: Frame }
  | { stage: 'ipip_rcv'; ns: Netns; pkt: Packet; iif: Iface | null }
  | { stage: 'wg_xmit'; ns: Netns; dev: Iface; frame: Frame }
  | { stage: 'wg_rcv'; ns: Netns; pkt: Packet; iif: Iface | null }
  /** ip_local_deliver: a tunnel's outer packet is decapsulated, anything else reaches a socket. */
  | { stage: 'ip_local_deliver'; ns: Netns; pkt: Packet; iif: Iface | null }
  /** A netfilter hook (hooks.ts): its outcomes, each continuing with the packet as the rules left it. */
  | { stage: 'nf_hook'; call: HookCall; then: (pkt: Packet) => Goto }
  /** The rules at a hook dropped or rejected the packet. */
  | { stage: 'nf_verdict'; call: HookCall; verdict: 'drop' | 'reject'; by?: 'ipvs' }
  /**
   * IPVS at LOCAL_IN (ip_vs_remote_request) or LOCAL_OUT (ip_vs_local_request): a packet for a virtual
   * service is DNATed to a real server and sent on (`xmit`: routed to it); any other goes on (`then`).
   */
  | { stage: 'ip_vs'; call: HookCall; then: (pkt: Packet) => Goto; xmit: (pkt: Packet) => Goto };

export type GotoOf<S extends Goto['stage']> = Extract<Goto, { stage: S }>;

/** The path a stage is on, read only: how far it is and whether it is a copy. */
export interface Here {
  /** Hops so far (1 in the namespace where the packet was created). */
  hops: number;
  floodCopy: boolean;
  /** A DNAT on the way rewrote the destination to this endpoint. */
  endpoint?: { ip: string; port?: number } | undefined;
}

/** What the stages share across paths: the network, the target, what the trace needs from a collector. */
export interface Walk {
  readonly net: Network;
  readonly target: WalkTarget;
  readonly netfilter: NetfilterHooks | undefined;
  /** Hosts whose tables the walk needed but the capture lacks. */
  readonly needs: Set<string>;
  /** Hosts whose tables would settle which port leads to a pod the capture holds no interfaces for. */
  readonly settles: Set<string>;
  /** The source address the kernel chose for the traced packet, when the socket left it unset. */
  pickedSrc: Addr | undefined;
  /** Hosts that Kubernetes says own `ip` and whose tables the capture lacks are needed. */
  wantOwnersOf(ip: Addr | undefined): void;
}

type Ev = Evidence | undefined;

/** What any action may do first, in this order: name the device the packet leaves by, add steps, enter the next host, set the path's endpoint. */
export interface Effects {
  out?: string;
  steps?: Step[];
  enter?: { ns: Netns; dev: string };
  /** A DNAT (one outcome, no fork) rewrote the destination: the path now goes to this endpoint. */
  endpoint?: { ip: string; port?: number };
}

export interface Branch {
  fork: ForkChoice;
  /** Whether the copy's end at a host it is not for is expected (see TracePath.floodCopy). */
  floodCopy: boolean;
  /** What makes it such a copy, when it becomes one here. */
  copy?: CopyKind;
  /** Steps on the branch only, after the fork. */
  steps?: Step[];
  next: Goto;
  /** A netfilter outcome's chance and DNAT endpoint. */
  probability?: number;
  endpoint?: { ip: string; port?: number };
}

export type Action = Effects &
  (
    | { kind: 'continue'; next: Goto }
    | { kind: 'fork'; branches: Branch[] }
    | { kind: 'deliver'; detail: StepDetail; records?: Ev[]; inferred?: boolean }
    | { kind: 'drop'; verdict: Verdict; detail: StepDetail; dev: string | null; records?: Ev[]; inferred?: boolean }
  );

export type Stage<S extends Goto['stage']> = (w: Walk, here: Here, at: GotoOf<S>) => Action;

// ---- helpers the stages share ---------------------------------------------------------------

/** Off while a walk runs for its verdict only (`unnarrated`): steps then carry no sentence and no evidence text. */
let narrating = true;

/**
 * Runs `walk` with steps that carry their detail but no sentence (`text` ''), no evidence (`evidence`
 * '', `records` []). For a caller that needs only where each path ends (the cluster check's
 * verdicts): no decision of the walk reads a step's text or evidence.
 */
export function unnarrated<T>(walk: () => T): T {
  const was = narrating;
  narrating = false;
  try {
    return walk();
  } finally {
    narrating = was;
  }
}

/** A step: its sentence made from its detail, its evidence lines. */
export function step(kind: StepKind, detail: StepDetail, records: Ev[] = [], extra: Partial<Step> = {}): Step {
  if (!narrating) return { kind, text: '', evidence: '', records: [], ...extra, detail };
  const recs = records.filter((r): r is Evidence => r !== undefined);
  return { kind, text: narrate(detail), evidence: recs.map((r) => r.raw).join('\n'), records: recs, ...extra, detail };
}

export const next = (g: Goto, effects: Effects = {}): Action => ({ kind: 'continue', next: g, ...effects });

export function drop(verdict: Verdict, detail: StepDetail, dev: string | null, records: Ev[] = [], inferred = false, effects: Effects = {}): Action {
  return { kind: 'drop', verdict, detail, dev, records, ...(inferred ? { inferred } : {}), ...effects };
}

/** An action with steps added before its own. */
export function withSteps(steps: Step[], a: Action): Action {
  return steps.length ? { ...a, steps: [...steps, ...(a.steps ?? [])] } : a;
}

export function linkEv(ns: Netns, iface: Iface | undefined): Ev {
  return narrating && iface?.link ? evidence(ns, 'links', iface.link.src) : undefined;
}

/** The `addrs` line of an address record (none while tracing lean). */
export function addrEv(ns: Netns, rec: { src: { line: number; raw: string } } | undefined): Ev {
  return narrating && rec ? evidence(ns, 'addrs', rec.src) : undefined;
}

export function routeEv(ns: Netns, r: FibRoute): Evidence {
  return evidence(ns, r.probe, r.rec.src);
}

/** The route as the trace shows it. */
export function routeView(r: FibRoute): RouteView {
  const rec = r.rec;
  const dst = rec.dst.length === 0 ? 'default' : rec.dst.length === rec.dst.addr.bits ? rec.dst.addr.toString() : rec.dst.toString();
  return {
    type: rec.type,
    dst,
    ...(rec.gateway ? { gateway: rec.gateway.toString() } : rec.unresolvedGateway ? { gatewayName: rec.unresolvedGateway.name } : {}),
    ...(rec.dev !== undefined ? { dev: rec.dev } : {}),
    table: rec.table,
    ...(rec.metric !== undefined ? { metric: rec.metric } : {}),
    ...(rec.prefsrc ? { prefsrc: rec.prefsrc.toString() } : {}),
  };
}

/** The devices a route leaves by (each next hop's), as rp_filter compares them. */
export function routeDevs(r: FibRoute): string[] {
  return (r.rec.nexthops?.length ? r.rec.nexthops.map((n) => n.dev) : [r.rec.dev]).map((d) => d ?? '');
}

/** fib_lookup for `pkt` in `ns`: locally created packets use `lo` as the input device and no source when unset. */
export function fibLookup(ns: Netns, pkt: Packet, iif: string | null, oif?: string): FibAnswer {
  return ns.fib[pkt.dst.family].lookup({ dst: pkt.dst, src: iif === null && pkt.src.isUnspecified() ? undefined : pkt.src, iif: iif ?? 'lo', oif, fwmark: pkt.mark, proto: pkt.proto, dport: pkt.dport });
}

const macs = new WeakMap<Network, Map<string, Result<Mac>>>();
/**
 * A link-layer address as a neighbour entry prints it, parsed once per network (a Mac does not
 * change): every node holds an entry for the same few thousand MACs of its cluster.
 */
export function macOf(net: Network, lladdr: string): Result<Mac> {
  let m = macs.get(net);
  if (!m) macs.set(net, (m = new Map()));
  let mac = m.get(lladdr);
  if (!mac) m.set(lladdr, (mac = Mac.parse(lladdr)));
  return mac;
}
