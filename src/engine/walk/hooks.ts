// The netfilter hook points of the walk, where the kernel runs NF_HOOK:
//   prerouting   ip_rcv, before the input route lookup (ip_rcv -> NF_INET_PRE_ROUTING -> ip_rcv_finish)
//   input        before local delivery (ip_local_deliver -> NF_INET_LOCAL_IN)
//   forward      after the forward decision, per next hop (ip_forward -> NF_INET_FORWARD)
//   output       after the output route lookup of a locally created packet (__ip_local_out); a rewritten
//                destination or mark routes it again (ip_route_me_harder)
//   postrouting  before the MTU check and neighbour output (ip_output -> NF_INET_POST_ROUTING)
// and, for bridged frames, the bridge family's own hooks and br_netfilter's calls of the inet ones
// (bridge-nf-call-iptables / -ip6tables): prerouting as a frame enters by a port (br_nf_pre_routing,
// iif the bridge, physIn the port), forward and postrouting as it leaves by another (br_nf_forward_ip,
// br_nf_post_routing, with physIn/physOut). A frame br_netfilter passed up to the host does not run
// PREROUTING again (ip_sabotage_in).
//
// Without an evaluator (Network.netfilter) every hook accepts the packet unchanged and adds nothing.
import type { NfHook, Step } from '../trace';
import type { Netns } from '../netns';
import type { Packet } from './packet';
import type { NfStep } from '../netfilter/types';
import { drop, next, step, type Action, type Branch, type Goto, type HookCall, type HookOutcome, type Stage, type Walk } from './stage';

/** A step of the rules at a hook, for an evaluator's outcome (`HookOutcome.steps`). */
export function netfilterStep(call: Pick<HookCall, 'ns' | 'hook' | 'layer'>, s: NfStep): Step {
  const ev = 'evidence' in s && s.evidence ? [s.evidence] : [];
  return step('netfilter', { type: 'netfilter', ns: call.ns.name, hook: call.hook, layer: call.layer, step: s }, ev);
}

/**
 * A hook point: run `call`, then go on with the packet the rules leave (`then`). Without an evaluator
 * there is nothing to ask: straight on, with the packet unchanged.
 */
export function hook(w: Walk, call: HookCall, then: (pkt: Packet) => Goto): Goto {
  return w.netfilter ? { stage: 'nf_hook', call, then } : then(call.packet);
}

/** Hook points in order: each one's outcome is the next one's packet. */
export function hooks(w: Walk, calls: ((pkt: Packet) => HookCall)[], pkt: Packet, then: (pkt: Packet) => Goto): Goto {
  if (calls.length === 0 || !w.netfilter) return then(pkt);
  const [first, ...rest] = calls;
  return hook(w, first!(pkt), (p) => hooks(w, rest, p, then));
}

/**
 * Whether br_netfilter hands bridged IP frames of `family` to the inet hooks: bridge-nf-call-iptables
 * (ip6tables) = 1. Not captured (or neither 0 nor 1): a Kubernetes node runs with it (kube-proxy needs
 * it); elsewhere, not. The bridge's MTU check reads it too (bridge.ts).
 */
export function brNetfilter(ns: Netns, family: 4 | 6): boolean {
  const v = ns.sysctl.get(family === 4 ? 'net.bridge.bridge-nf-call-iptables' : 'net.bridge.bridge-nf-call-ip6tables')?.value.trim();
  if (v === '1') return true;
  if (v === '0') return false;
  return ns.host.role === 'node';
}

/**
 * The bridge's hook calls for a frame of `family` at `hook`: the bridge family's own chains, then the
 * inet ones when br_netfilter calls them (prerouting, forward, postrouting of a frame that came in by
 * a port), which see the bridge as the device and the ports as physIn / physOut.
 */
export function bridgeHookCalls(w: Walk, ns: Netns, family: 4 | 6, hook: NfHook, ports: { bridge: string; physIn?: string | undefined; physOut?: string | undefined }): ((pkt: Packet) => HookCall)[] {
  if (!w.netfilter) return [];
  const calls: ((pkt: Packet) => HookCall)[] = [(packet) => ({ ns, hook, layer: 'bridge', packet, iif: ports.physIn, oif: ports.physOut })];
  if (ports.physIn !== undefined && hook !== 'input' && hook !== 'output' && brNetfilter(ns, family)) {
    calls.push((packet) => ({
      ns,
      hook,
      layer: 'inet',
      packet,
      ...(hook === 'postrouting' ? {} : { iif: ports.bridge }),
      ...(hook === 'prerouting' ? {} : { oif: ports.bridge }),
      physIn: ports.physIn,
      physOut: ports.physOut,
    }));
  }
  return calls;
}

/**
 * nf_hook: the evaluator's outcomes. One accept goes on with the packet as the rules left it; a drop
 * or reject ends the path (`filtered`, `rejected`); several outcomes fork, each path carrying its
 * chance and, after a DNAT, its endpoint.
 */
export const nfHook: Stage<'nf_hook'> = (w, _here, at) => {
  const call = at.call;
  const outcomes = w.netfilter?.run(call);
  if (!outcomes || outcomes.length === 0) return next(at.then(call.packet));
  return outcomesAction(call, outcomes, at.then);
};

/** What a hook's outcomes do: go on (one), fork (several), or end at nf_verdict (a drop or reject). */
function outcomesAction(call: HookCall, outcomes: HookOutcome[], then: (pkt: Packet) => Goto, by?: 'ipvs'): Action {
  const after = (o: HookOutcome): Goto => (o.verdict === 'accept' ? then(o.packet) : { stage: 'nf_verdict', call: { ...call, packet: o.packet }, verdict: o.verdict, ...(by ? { by } : {}) });
  if (outcomes.length === 1) {
    const o = outcomes[0]!;
    return next(after(o), { steps: o.steps, ...(o.endpoint && o.verdict === 'accept' ? { endpoint: o.endpoint } : {}) });
  }
  const branches: Branch[] = outcomes.map((o, i) => ({
    fork: { kind: 'netfilter', host: call.ns.name, hook: call.hook, choice: i + 1, probability: o.probability, ...(o.endpoint ? { endpoint: o.endpoint } : {}) },
    floodCopy: false,
    steps: o.steps,
    next: after(o),
    probability: o.probability,
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
  }));
  return { kind: 'fork', branches };
}

/**
 * An IPVS point (LOCAL_IN for a received packet, LOCAL_OUT for a local one): without an evaluator that
 * knows IPVS, straight on.
 */
export function ipvsPoint(w: Walk, call: HookCall, then: (pkt: Packet) => Goto, xmit: (pkt: Packet) => Goto): Goto {
  return w.netfilter?.ipvs ? { stage: 'ip_vs', call, then, xmit } : then(call.packet);
}

/**
 * ip_vs: a packet for a virtual service is DNATed to each real server that can take a new connection
 * (a path each, with the scheduler's chance) and sent on to it (ip_vs_nat_xmit routes it and passes
 * it to LOCAL_OUT and POSTROUTING); a service with no real server answers port unreachable.
 */
export const ipVs: Stage<'ip_vs'> = (w, _here, at) => {
  const outcomes = w.netfilter?.ipvs?.(at.call);
  if (!outcomes || outcomes.length === 0) return next(at.then(at.call.packet));
  return outcomesAction(at.call, outcomes, at.xmit, 'ipvs');
};

/** The rules dropped (DROP rule or policy) or rejected (REJECT) the packet at a hook. */
export const nfVerdict: Stage<'nf_verdict'> = (_w, _here, at) => {
  const c = at.call;
  return drop(at.verdict === 'drop' ? 'filtered' : 'rejected', { type: 'nf-verdict', ns: c.ns.name, hook: c.hook, layer: c.layer, verdict: at.verdict, ...(at.by ? { by: at.by } : {}) }, c.iif ?? c.oif ?? null);
};
