// The device layer: dev_queue_xmit hands the frame to the device's own transmit (a bridge, VXLAN,
// IPIP, WireGuard, loopback, dummy, a bond or macvlan/ipvlan: bond.ts, macvlan.ts), or a veth / NIC
// puts it on its wire (topology.ts says what is at the far end); netif_receive_skb takes a frame in on
// the far end: to a macvlan/ipvlan on it, into a bridge or bond, or up to IP.
import { hasAddress, ifacePrefixes } from '../netns';
import type { Wire } from '../topology';
import type { StepDetail } from '../trace';
import { bondHandleFrame, bondXmit } from './bond';
import { hook } from './hooks';
import { upperRx, upperXmit } from './macvlan';
import type { Packet } from './packet';
import { drop, linkEv, next, step, type Stage } from './stage';
import { vlanDevXmit, vlanDoReceive } from './vlan';

/** dev_queue_xmit by device type (the driver has checked the frame for a forwarding loop). */
export const devQueueXmit: Stage<'dev_queue_xmit'> = (w, here, { ns, dev, frame }) => {
  switch (dev.type) {
    case 'bridge':
      // br_dev_xmit: the host sends into its bridge.
      return next({ stage: 'br_handle_frame', ns, br: dev, inPort: undefined, frame }, { steps: [step('bridge', { type: 'bridge-xmit', ns: ns.name, bridge: dev.name, ...(frame.dstMac ? { mac: frame.dstMac.toString() } : {}) }, [linkEv(ns, dev)])] });
    case 'vxlan':
      return next({ stage: 'vxlan_xmit', ns, dev, frame });
    case 'loopback': {
      // loopback_xmit -> netif_rx: the packet comes back in on lo (PREROUTING, INPUT) to be delivered.
      const deliver = (p: Packet) => ({ stage: 'ip_local_deliver' as const, ns, pkt: p, iif: dev });
      return next(hook(w, { ns, hook: 'prerouting', layer: 'inet', packet: frame.pkt, iif: dev.name }, (p) => hook(w, { ns, hook: 'input', layer: 'inet', packet: p, iif: dev.name }, deliver)));
    }
    case 'ipip':
      return next({ stage: 'ipip_xmit', ns, dev, frame });
    case 'wireguard':
      return next({ stage: 'wg_xmit', ns, dev, frame });
    case 'bond':
      return bondXmit(w, here, ns, dev, frame);
    case 'macvlan':
    case 'macvtap':
    case 'ipvlan':
    case 'ipvtap':
      return upperXmit(w, ns, dev, frame);
    case 'dummy':
      return drop('blackhole', { type: 'dummy', dev: dev.name }, dev.name, [linkEv(ns, dev)]);
    case 'veth':
    case 'device':
      return next({ stage: 'wire_xmit', ns, dev, frame });
    case 'vlan':
      return vlanDevXmit(ns, dev, frame);
    default:
      return drop('insufficient-data', { type: 'unsupported-dev', dev: dev.name, devType: dev.type }, dev.name, [linkEv(ns, dev)]);
  }
};

/** A veth or NIC sends the frame on its wire: the far end that takes it, or each candidate port. */
export const wireXmit: Stage<'wire_xmit'> = (w, here, { ns, dev, frame }) => {
  const topo = w.net.topology;
  // An implicit segment: the frame reaches the NIC that owns the destination MAC. Found by MAC
  // first, so that a segment of hundreds of nodes is listed only when no NIC has it.
  const segment = topo.isSegment(ns, dev);
  let targets: Wire[];
  if (segment) {
    w.wantOwnersOf(frame.nexthop);
    w.wantOwnersOf(frame.pkt.dst);
    targets = frame.dstMac !== undefined ? topo.wiresTo(ns, dev, frame.dstMac.toString()) : [];
    // No NIC has the MAC: the one that owns the packet's destination takes it, if any.
    if (targets.length === 0) targets = topo.segmentOwners(ns, dev, frame.pkt.dst);
    if (targets.length === 0 && !topo.hasSegmentMember(ns, dev)) return drop('insufficient-data', { type: 'unwired', ns: ns.name, dev: dev.name, veth: dev.type === 'veth' }, dev.name, [linkEv(ns, dev)]);
    if (targets.length === 0) return drop('insufficient-data', { type: 'segment-no-owner', ns: ns.name, dev: dev.name, ...(frame.dstMac ? { mac: frame.dstMac.toString() } : {}) }, dev.name);
  } else {
    targets = topo.wires(ns, dev);
    if (targets.length === 0) {
      w.wantOwnersOf(frame.nexthop);
      w.wantOwnersOf(frame.pkt.dst);
      return drop('insufficient-data', { type: 'unwired', ns: ns.name, dev: dev.name, veth: dev.type === 'veth' }, dev.name, [linkEv(ns, dev)]);
    }
  }
  if (targets.length > 1 && targets[0]!.how === 'veth') {
    // Only elimination narrows which port leads to a pod the capture holds no interfaces for: every
    // candidate is followed. From the node's side a candidate that is not the frame's owner drops
    // it, as a flood copy would; from the pod's side every candidate must deliver.
    const fromNode = ns.host.role !== 'pod';
    return {
      kind: 'fork',
      branches: targets.map((e) => ({
        fork: { kind: 'candidate', host: ns.name, dev: dev.name, peer: e.ns.name, peerDev: e.iface.name, of: targets.length },
        floodCopy: fromNode || here.floodCopy,
        copy: 'candidate',
        next: { stage: 'wire_cross', ns, dev, end: e, frame },
      })),
    };
  }
  return next({ stage: 'wire_cross', ns, dev, end: targets[0]!, frame });
};

/**
 * The frame crosses to the far end, which becomes the packet's next hop. A veth hands a frame to its
 * peer only if it fits the peer's MTU plus the Ethernet and VLAN headers (is_skb_forwardable: IP
 * length up to MTU + 4); else the peer counts it in rx_dropped. The skb's mark does not cross into
 * another namespace (skb_scrub_packet).
 */
export const wireCross: Stage<'wire_cross'> = (w, _here, { ns, dev, end, frame }) => {
  if (end.via?.how === 'candidates') {
    // Only elimination placed the pod, among several: the tables of those pods would settle it.
    const node = w.net.topology.attachments(end.via.node);
    for (const p of end.via.ports) for (const a of node.byPort.get(p) ?? []) w.settles.add(a.pod.name);
  }
  const records = [linkEv(ns, dev), linkEv(end.ns, end.iface), ...(end.via?.basis ?? [])].filter((r, i, all) => r === undefined || all.findIndex((x) => x?.host === r.host && x.probe === r.probe && x.line === r.line) === i);
  const wire = { type: 'wire' as const, how: end.how, ns: ns.name, dev: dev.name, peer: end.ns.name, peerDev: end.iface.name, ...(end.via ? { via: end.via.facts } : {}), ...(frame.vlans?.length ? { vlans: [...frame.vlans] } : {}) };
  const extra = end.inferred ? { inferred: true } : {};
  const enter = { ns: end.ns, dev: end.iface.name };
  if (end.how === 'veth' && frame.pkt.size > end.iface.mtu + 4) {
    return drop('mtu-exceeded', { type: 'veth-too-big', ns: end.ns.name, dev: end.iface.name, size: frame.pkt.size, mtu: end.iface.mtu }, end.iface.name, [linkEv(end.ns, end.iface)], end.iface.link === undefined && end.ns.inferred !== undefined, {
      steps: [step('veth', { ...wire, peerMtu: end.iface.mtu }, records, extra)],
      enter,
    });
  }
  const detail: StepDetail = end.how === 'segment' ? { ...wire, segment: ifacePrefixes(dev, frame.pkt.dst.family)[0]?.toString() ?? 'shared', to: (frame.dstMac ?? frame.pkt.dst).toString() } : wire;
  const crossed = frame.pkt.mark === 0 ? frame : { ...frame, pkt: { ...frame.pkt, mark: 0 } };
  return next({ stage: 'netif_receive_skb', ns: end.ns, dev: end.iface, frame: crossed }, { steps: [step(end.how === 'veth' ? 'veth' : 'underlay', detail, records, extra)], enter });
};

/** netif_receive_skb: a bridge port hands the frame to its bridge; an interface takes frames for its own MAC up to IP. */
export const netifReceiveSkb: Stage<'netif_receive_skb'> = (w, _here, { ns, dev, frame }) => {
  if (!dev.up) return drop('link-down', { type: 'rx-down', ns: ns.name, dev: dev.name }, dev.name, [linkEv(ns, dev)]);
  // A tagged frame: its VLAN device takes it first (vlan_do_receive runs before a bridge's rx_handler).
  const tagged = frame.vlans?.length ? vlanDoReceive(ns, dev, frame) : undefined;
  if (tagged) return tagged;
  // The lower device of macvlans/ipvlans: their rx_handler gives them the frames that are theirs.
  const upper = upperRx(w, ns, dev, frame);
  if (upper) return upper;
  if (dev.master !== undefined) {
    const br = ns.ifaces.get(dev.master);
    if (!br) return drop('insufficient-data', { type: 'master-unknown', ns: ns.name, dev: dev.name, master: dev.master }, dev.name);
    if (br.type === 'bond') return bondHandleFrame(ns, dev, br, frame);
    if (br.type !== 'bridge') return drop('insufficient-data', { type: 'master-unknown', ns: ns.name, dev: dev.name, master: dev.master, masterType: br.type }, dev.name);
    const state = dev.link?.bridgePort?.state;
    if (state !== undefined && state !== 'forwarding') return drop('link-down', { type: 'port-blocked', bridge: br.name, port: dev.name, state, at: 'ingress' }, dev.name, [linkEv(ns, dev)]);
    return next({ stage: 'br_handle_frame', ns, br, inPort: dev, frame });
  }
  const mac = frame.dstMac;
  if (mac && dev.mac && !mac.equals(dev.mac) && !mac.isBroadcast() && !mac.isMulticast()) {
    return drop('wrong-destination', { type: 'otherhost', ns: ns.name, dev: dev.name, why: 'mac', mac: mac.toString(), devMac: dev.mac.toString() }, dev.name, [linkEv(ns, dev)]);
  }
  if (frame.dstNic && frame.dstNic.iface !== dev) {
    return drop('wrong-destination', { type: 'otherhost', ns: ns.name, dev: dev.name, why: 'nic', nic: { host: frame.dstNic.ns.name, dev: frame.dstNic.iface.name } }, dev.name, [linkEv(ns, dev)]);
  }
  if (mac && !dev.mac && ns.inferred && frame.nexthop && !hasAddress(dev, frame.nexthop) && !mac.isBroadcast() && !mac.isMulticast()) {
    // A pod whose MAC the capture does not show takes frames only for the addresses it has.
    return drop('wrong-destination', { type: 'otherhost', ns: ns.name, dev: dev.name, why: 'address', mac: mac.toString(), nexthop: frame.nexthop.toString() }, dev.name, [], true);
  }
  return next({ stage: 'ip_rcv', ns, iif: dev, pkt: frame.pkt });
};

