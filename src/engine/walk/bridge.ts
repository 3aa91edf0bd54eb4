// A Linux bridge, as net/bridge/br_input.c and br_forward.c take a frame: br_handle_frame for one
// that came in by a port (br_dev_xmit for one the host sends), the FDB lookup (lookup/fdb.ts): the
// frame goes up to the host, out of the port its MAC is behind, or out of every other port (br_flood);
// br_forward out of one port (state, then br_dev_queue_push_xmit's MTU check). The bridge family's
// netfilter hooks and br_netfilter's calls of the inet ones sit where the kernel runs them (hooks.ts).
import { Mac } from '../../net/addr';
import { brFdbLookup } from '../lookup/fdb';
import { isResolved, neighLookup } from '../lookup/neigh';
import type { FdbRecord } from '../../parsers';
import { evidence, forwards, type Iface, type Netns } from '../netns';
import type { Step } from '../trace';
import { brNetfilter, bridgeHookCalls, hooks } from './hooks';
import type { Frame, Packet } from './packet';
import { drop, fibLookup, linkEv, next, routeDevs, routeEv, step, withSteps, type Action, type Goto, type GotoOf, type Stage, type Walk } from './stage';
import { allowedEgress, brAllowedEgress, brAllowedIngress, vlanFiltering, vlanTableMissing } from './vlan';

/**
 * The frame goes up to the host's IP layer on the bridge device (after the bridge family's INPUT). On
 * a VLAN-aware bridge, br_pass_frame_up first treats the bridge as a port: its own VLANs must hold the
 * frame's (br_allowed_egress), and br_handle_vlan strips the tag where the bridge's VLAN is untagged;
 * a frame still tagged is received on the bridge again, where a VLAN device (br0.10) takes it.
 */
function upTheStack(w: Walk, ns: Netns, br: Iface, inPort: Iface, frame: Frame, steps: Step[]): Action {
  const fam = frame.pkt.dst.family;
  if (vlanFiltering(br)) {
    const out = brAllowedEgress(ns, br, br.name, frame, 'up');
    if (!out.ok) return withSteps(steps, out.action);
    steps = [...steps, ...out.steps];
    frame = out.frame;
  }
  const tagged = frame.vlans?.length ? frame : undefined;
  // br_netfilter ran the inet PREROUTING on the bridge already: ip_rcv does not run it again.
  const up = (p: Packet): Goto => {
    const pkt = brNetfilter(ns, fam) ? { ...p, prerouted: true as const } : p;
    return tagged ? { stage: 'netif_receive_skb', ns, dev: br, frame: { ...tagged, pkt } } : { stage: 'ip_rcv', ns, iif: br, pkt };
  };
  return next(hooks(w, bridgeHookCalls(w, ns, fam, 'input', { bridge: br.name, physIn: inPort.name }), frame.pkt, up), { steps });
}

/**
 * br_handle_frame / br_dev_xmit: the bridge's own MAC or a local FDB entry (up to the host), an FDB
 * hit (out of that port), or a flood. `inPort` is the ingress port, undefined when the host itself
 * sends into the bridge.
 */
export const brHandleFrame: Stage<'br_handle_frame'> = (w, _here, at) => {
  const { ns, br, inPort, frame } = at;
  if (!br.up) return drop('link-down', { type: 'bridge-down', ns: ns.name, bridge: br.name }, br.name, [linkEv(ns, br)]);
  // NF_BR_PRE_ROUTING (and br_netfilter's inet PREROUTING) for a frame that came in by a port.
  if (inPort && !at.prerouted && w.netfilter) {
    return next(hooks(w, bridgeHookCalls(w, ns, frame.pkt.dst.family, 'prerouting', { bridge: br.name, physIn: inPort.name }), frame.pkt, (p) => afterPrerouting(ns, br, at, p)));
  }
  if (at.dnat) return withSteps([at.dnat], brHandleFrame(w, _here, { ...at, dnat: undefined }));
  if (vlanFiltering(br)) {
    // br_handle_frame_finish (br_dev_xmit for the host's own frames) starts with br_allowed_ingress.
    const missing = vlanTableMissing(ns, br);
    if (missing) return missing;
    const vin = brAllowedIngress(ns, br, inPort, frame);
    if (!vin.ok) return vin.action;
    return withSteps(vin.steps, brSwitch(w, ns, br, inPort, vin.frame, vin.frame.vlans![0]!));
  }
  return brSwitch(w, ns, br, inPort, frame, undefined);
};

/**
 * The bridge's decision for a frame let in (br_handle_frame_finish, br_dev_xmit): up to the host, out
 * of the port the FDB has the MAC behind (in `vid`, on a VLAN-aware bridge), or a flood.
 */
function brSwitch(w: Walk, ns: Netns, br: Iface, inPort: Iface | undefined, frame: Frame, vid: number | undefined): Action {
  const mac = frame.dstMac;
  if (inPort && mac && br.mac?.equals(mac)) {
    return upTheStack(w, ns, br, inPort, frame, [step('bridge', { type: 'bridge-own-mac', ns: ns.name, bridge: br.name, port: inPort.name, mac: mac.toString() }, [linkEv(ns, inPort), linkEv(ns, br)])]);
  }
  const inPortName = inPort ? { inPort: inPort.name } : {};
  if (!mac) {
    if (!frame.dstNic) return drop('insufficient-data', { type: 'bridge-no-mac', bridge: br.name }, br.name);
    // The MAC of a pod the capture holds no tables for: no forwarding entry can be matched to it.
    return flood(w, ns, br, inPort, frame, { why: 'unknown-mac', nic: { host: frame.dstNic.ns.name, dev: frame.dstNic.iface.name } }, true, []);
  }
  const found = brFdbLookup(ns, br, mac, inPort !== undefined, vid ?? 0);
  if (found.kind === 'local') {
    return upTheStack(w, ns, br, inPort!, frame, [step('fdb', { type: 'fdb-local', ns: ns.name, bridge: br.name, ...(inPort ? { port: inPort.name } : {}), mac: mac.toString() }, [evidence(ns, 'fdb', found.entry.src)])]);
  }
  if (found.kind === 'hit') {
    const hit = found.entry;
    const port = ns.ifaces.get(hit.dev);
    const ev = evidence(ns, 'fdb', hit.src);
    if (!port) return drop('insufficient-data', { type: 'fdb-port-unknown', ns: ns.name, bridge: br.name, mac: mac.toString(), port: hit.dev }, br.name, [ev]);
    if (port.master !== br.name) return drop('no-fdb-entry', { type: 'fdb-not-port', bridge: br.name, mac: mac.toString(), port: hit.dev }, br.name, [ev, linkEv(ns, port)]);
    const state = hit.state === 'permanent' || hit.state === 'static' ? hit.state : 'learned';
    const steps = [step('fdb', { type: 'fdb-hit', ns: ns.name, bridge: br.name, ...inPortName, mac: mac.toString(), port: port.name, state, ...(state === 'learned' && hit.updated !== undefined ? { age: hit.updated } : {}), ...(vid !== undefined ? { vlan: vid } : {}) }, [ev])];
    if (inPort && port.name === inPort.name) {
      if (!port.link?.bridgePort?.hairpin) return drop('wrong-destination', { type: 'hairpin-off', mac: mac.toString(), port: port.name }, port.name, [linkEv(ns, port)], false, { steps });
      steps.push(step('bridge', { type: 'hairpin', bridge: br.name, port: port.name }, [linkEv(ns, port)]));
    }
    return next({ stage: 'br_forward', ns, br, inPort, port, frame }, { steps });
  }
  return flood(w, ns, br, inPort, frame, { why: 'miss', mac: mac.toString(), fdbKnown: found.known }, !found.known, found.otherVlans ?? []);
}

/**
 * br_nf_pre_routing_finish: when PREROUTING rewrote the destination (a DNAT to a Service endpoint),
 * the frame is routed anew: a route out of this same bridge keeps it bridged, to the new destination's
 * MAC from the neighbour table (a pod on this node; back out of its own port for a hairpin); any other
 * route sends it up to the IP layer, addressed to the bridge's own MAC.
 */
function afterPrerouting(ns: Netns, br: Iface, at: GotoOf<'br_handle_frame'>, p: Packet): Goto {
  const frame = at.frame;
  const done = { ...at, frame: { ...frame, pkt: p }, prerouted: true as const };
  if (p.dst.equals(frame.pkt.dst) || !brNetfilter(ns, p.dst.family)) return done;
  const ans = fibLookup(ns, p, br.name);
  if (ans.kind === 'route' && ans.route.rec.type === 'unicast' && routeDevs(ans.route).every((d) => d === br.name)) {
    const nexthop = ans.route.rec.gateway ?? p.dst;
    const found = neighLookup(ns, br.name, nexthop);
    if (isResolved(found)) {
      const mac = Mac.parse(found.lladdr);
      if (mac.ok) {
        const s = step('bridge', { type: 'br-nf-dnat', ns: ns.name, bridge: br.name, dst: p.dst.toString(), how: 'bridged', mac: found.lladdr }, [routeEv(ns, ans.route), evidence(ns, found.probe, found.entry.src)]);
        return { ...done, frame: { pkt: p, dstMac: mac.value, nexthop, ...(frame.vlans ? { vlans: frame.vlans } : {}) }, dnat: s };
      }
    }
  }
  if (!br.mac) return done;
  const s = step('bridge', { type: 'br-nf-dnat', ns: ns.name, bridge: br.name, dst: p.dst.toString(), how: 'routed', mac: br.mac.toString() }, ans.kind === 'route' ? [routeEv(ns, ans.route)] : []);
  return { ...done, frame: { ...frame, pkt: p, dstMac: br.mac }, dnat: s };
}

/**
 * br_flood: a copy out of every other port that is up and forwarding, each a path of its own. On a
 * VLAN-aware bridge only the ports that are members of the frame's VLAN (should_deliver ->
 * br_allowed_egress); when none is, the frame goes nowhere. `otherVlans`: the FDB's entries for the
 * MAC in other VLANs (what the drop then names).
 */
function flood(w: Walk, ns: Netns, br: Iface, inPort: Iface | undefined, frame: Frame, why: { why: 'miss'; mac: string; fdbKnown: boolean } | { why: 'unknown-mac'; nic: { host: string; dev: string } }, inferred: boolean, otherVlans: FdbRecord[]): Action {
  const candidates = w.net.topology.ports(ns, br.name).filter((p) => p !== inPort && forwards(p));
  const vid = vlanFiltering(br) ? frame.vlans?.[0] : undefined;
  const outPorts = vid === undefined ? candidates : candidates.filter((p) => allowedEgress(ns, p.name, vid));
  if (vid !== undefined && outPorts.length === 0 && candidates.length > 0) {
    const fdb = otherVlans.filter((e) => e.vlan !== undefined).map((e) => ({ port: e.dev, vlan: e.vlan! }));
    const d = { type: 'vlan-flood-none' as const, ns: ns.name, bridge: br.name, vlan: vid, ...(inPort ? { inPort: inPort.name } : {}), ...(why.why === 'miss' ? { mac: why.mac } : {}), ports: candidates.map((p) => p.name), ...(fdb.length ? { fdb } : {}) };
    return drop('vlan-filtered', d, br.name, [...candidates.flatMap((p) => (ns.bridgeVlans.get(p.name) ?? []).map((v) => evidence(ns, 'bridgevlan', v.src))), ...otherVlans.map((e) => evidence(ns, 'fdb', e.src))]);
  }
  const steps = [step('flood', { type: 'flood', ns: ns.name, bridge: br.name, ...(inPort ? { inPort: inPort.name } : {}), ports: outPorts.map((p) => p.name), ...why, ...(vid !== undefined ? { vlan: vid } : {}) }, [], inferred ? { inferred } : {})];
  if (outPorts.length === 0) return drop('no-fdb-entry', { type: 'flood-no-port', bridge: br.name, to: frame.dstMac?.toString() ?? (frame.dstNic ? `${frame.dstNic.ns.name}` : 'its destination') }, br.name, [], false, { steps });
  return {
    kind: 'fork',
    steps,
    branches: outPorts.map((p) => ({ fork: { kind: 'flood', host: ns.name, bridge: br.name, port: p.name }, floodCopy: true, copy: 'flood', next: { stage: 'br_forward', ns, br, inPort, port: p, frame } })),
  };
}

/**
 * br_forward out of `port`: it must be up and forwarding; then NF_BR_FORWARD (br_netfilter's inet
 * FORWARD for a frame from a port; NF_BR_LOCAL_OUT for one the host sent) and NF_BR_POST_ROUTING.
 */
export const brForward: Stage<'br_forward'> = (w, _here, { ns, br, inPort, port, frame: arriving }) => {
  let frame = arriving;
  const out = port.name;
  if (!port.up) return drop('link-down', { type: 'port-down', bridge: br.name, port: port.name }, port.name, [linkEv(ns, port)], false, { out });
  if (port.link?.bridgePort?.state !== undefined && port.link.bridgePort.state !== 'forwarding') {
    return drop('link-down', { type: 'port-blocked', bridge: br.name, port: port.name, state: port.link.bridgePort.state, at: 'egress' }, port.name, [linkEv(ns, port)], false, { out });
  }
  // should_deliver's br_allowed_egress, then br_handle_vlan (__br_forward), before the hooks.
  let vsteps: Step[] = [];
  if (vlanFiltering(br)) {
    const v = brAllowedEgress(ns, br, port.name, frame, 'egress');
    if (!v.ok) return { ...v.action, out };
    vsteps = v.steps;
    frame = v.frame;
  }
  const fam = frame.pkt.dst.family;
  const ports = { bridge: br.name, physIn: inPort?.name, physOut: port.name };
  const calls = [...bridgeHookCalls(w, ns, fam, inPort ? 'forward' : 'output', ports), ...bridgeHookCalls(w, ns, fam, 'postrouting', ports)];
  const sent = frame;
  return next(hooks(w, calls, frame.pkt, (p) => ({ stage: 'br_dev_queue_push_xmit', ns, br, port, frame: { ...sent, pkt: p } })), { out, ...(vsteps.length ? { steps: vsteps } : {}) });
};

/**
 * br_dev_queue_push_xmit: a frame over the port's MTU is dropped without a word to the sender. With
 * br_netfilter on (kube-proxy needs it) the limit is the MTU itself; the plain bridge checks before it
 * pushes the Ethernet header (is_skb_forwardable: MTU + Ethernet + VLAN headers), so IP packets up to
 * MTU + 18 pass. Not captured: Kubernetes nodes run with br_netfilter; elsewhere the plain bridge.
 */
export const brDevQueuePushXmit: Stage<'br_dev_queue_push_xmit'> = (_w, _here, { ns, port, frame }) => {
  // bridge-nf-call-iptables decides it for both families, as netpath has always read it.
  const limit = port.mtu + (brNetfilter(ns, 4) ? 0 : 18);
  if (frame.pkt.size > limit) return drop('mtu-exceeded', { type: 'port-too-big', port: port.name, size: frame.pkt.size, mtu: port.mtu, limit }, port.name, [linkEv(ns, port)]);
  if (port.type === 'vxlan') return next({ stage: 'vxlan_xmit', ns, dev: port, frame });
  return next({ stage: 'dev_queue_xmit', ns, dev: port, frame });
};
