// macvlan (drivers/net/macvlan.c) and ipvlan (drivers/net/ipvlan): devices stacked on a lower device,
// often moved into a pod (Multus). Egress: macvlan_queue_xmit hands a bridge-mode frame for a sibling's
// MAC to the lower device's receive path (dev_forward_skb(lowerdev), "for its network taps"), whose
// rx_handler gives it to the sibling, and sends everything else out of the lower device; ipvlan_queue_xmit
// finds the sibling that owns the destination address (ipvlan_addr_lookup), else l2 sends by MAC and
// l3/l3s routes in the lower device's namespace. Ingress: the lower device's rx_handler
// (macvlan_handle_frame, ipvlan_handle_frame) gives the frame to the upper device whose MAC / address it
// is for. A frame a macvlan sends to its lower device's own MAC leaves on the wire like any other: the
// lower's stack sees it only if the switch sends it back (hairpin); an l3 ipvlan cannot reach the
// addresses of its own host's namespace at all.
import { hasAddress, ownsAddress, type Iface, type Netns } from '../netns';
import { upperDriver, upperMode, type Endpoint } from '../topology';
import type { Frame } from './packet';
import { drop, linkEv, next, step, type Action, type Walk } from './stage';

/** The frame or packet enters `to`: a hop of its own when that is another namespace. */
const enterIf = (from: Netns, to: Endpoint) => (to.ns === from ? {} : { enter: { ns: to.ns, dev: to.iface.name } });

/** dev_queue_xmit on a macvlan or ipvlan. */
export function upperXmit(w: Walk, ns: Netns, dev: Iface, frame: Frame): Action {
  const driver = upperDriver(dev);
  const topo = w.net.topology;
  const low = topo.lowerOf(ns, dev);
  if (!low) {
    const l = dev.link;
    return drop('insufficient-data', { type: 'macvlan-no-lower', driver, ns: ns.name, dev: dev.name, ...(l?.link !== undefined ? { lower: l.link } : {}), ...(l?.linkIndex !== undefined ? { linkIndex: l.linkIndex } : {}) }, dev.name, [linkEv(ns, dev)]);
  }
  const mode = upperMode(dev);
  const flag = dev.link?.ipvlan?.flag;
  const base = { type: 'macvlan-xmit' as const, driver, ns: ns.name, dev: dev.name, mode, ...(flag ? { flag } : {}), lower: low.iface.name, lowerNs: low.ns.name };
  const ev = [linkEv(ns, dev), linkEv(low.ns, low.iface)];
  const pkt = frame.pkt;
  const toLower = (addr: string) => drop('wrong-destination', { type: 'macvlan-to-lower', driver, ns: ns.name, dev: dev.name, mode, lower: low.iface.name, lowerNs: low.ns.name, addr }, dev.name, ev);
  const outOfLower = () => next({ stage: 'dev_queue_xmit', ns: low.ns, dev: low.iface, frame }, { out: dev.name, steps: [step('macvlan', { ...base, to: 'lower' }, ev)] });
  const siblings = topo.uppersOf(low.ns, low.iface).filter((u) => u.iface !== dev && upperDriver(u.iface) === driver);
  const mac = frame.dstMac;

  if (driver === 'macvlan') {
    if (mac && !mac.isMulticast() && !mac.isBroadcast()) {
      if (mode === 'bridge') {
        // macvlan_hash_lookup(port, h_dest): for a bridge-mode sibling, dev_forward_skb(lowerdev) puts
        // the frame on the lower device's receive path, and its rx_handler (upperRx) gives it to the sibling.
        const sib = siblings.find((u) => u.iface.mac?.equals(mac) && upperMode(u.iface) === 'bridge');
        if (sib) {
          return next({ stage: 'netif_receive_skb', ns: low.ns, dev: low.iface, frame }, { out: dev.name, steps: [step('macvlan', { ...base, to: 'sibling', sibling: { ns: sib.ns.name, dev: sib.iface.name } }, [...ev, linkEv(sib.ns, sib.iface)])], ...enterIf(ns, low) });
        }
      }
    }
    // For the lower device's own MAC or an address of its namespace: out of the wire like any frame
    // (macvlan_queue_xmit never hands it to the lower's own stack); only a switch that sends it back
    // out of the port it came in on (hairpin) returns it, and then the lower device takes it.
    const forLower = mac !== undefined && low.iface.mac?.equals(mac) ? (frame.nexthop ?? pkt.dst) : frame.nexthop && ownsAddress(low.ns, frame.nexthop) ? frame.nexthop : undefined;
    if (forLower) {
      return next({ stage: 'dev_queue_xmit', ns: low.ns, dev: low.iface, frame }, { out: dev.name, steps: [step('macvlan', { type: 'macvlan-to-lower', driver, ns: ns.name, dev: dev.name, mode, lower: low.iface.name, lowerNs: low.ns.name, addr: forLower.toString() }, ev)] });
    }
    return outOfLower();
  }

  // ipvlan: the slaves share the lower device's MAC; the destination address decides (ipvlan_addr_lookup).
  const vepa = flag === 'vepa';
  const owner = siblings.find((u) => hasAddress(u.iface, pkt.dst));
  const toSibling = (sib: Endpoint): Action =>
    flag === 'private'
      ? drop('wrong-destination', { type: 'ipvlan-private', ns: ns.name, dev: dev.name, sibling: { ns: sib.ns.name, dev: sib.iface.name }, addr: pkt.dst.toString() }, dev.name, [...ev, linkEv(sib.ns, sib.iface)])
      : next({ stage: 'ip_rcv', ns: sib.ns, iif: sib.iface, pkt }, { out: dev.name, steps: [step('macvlan', { ...base, to: 'sibling', sibling: { ns: sib.ns.name, dev: sib.iface.name } }, [...ev, linkEv(sib.ns, sib.iface)])], ...enterIf(ns, sib) });
  if (mode === 'l2') {
    // ipvlan_xmit_mode_l2: a frame for the shared MAC goes to the slave owning the address, else up
    // the lower device's own stack (dev_forward_skb); any other MAC out of the lower device.
    const shared = mac !== undefined && dev.mac !== undefined && mac.equals(dev.mac);
    if (!vepa && shared) {
      if (owner) return toSibling(owner);
      return next({ stage: 'ip_rcv', ns: low.ns, iif: low.iface, pkt }, { out: dev.name, steps: [step('macvlan', { ...base, to: 'lower-stack' }, ev)], ...enterIf(ns, low) });
    }
    return outOfLower();
  }
  // ipvlan_xmit_mode_l3 (l3, l3s): a sibling's address, else routed in the lower namespace (ipvlan_process_outbound).
  if (!vepa && owner) return toSibling(owner);
  if (ownsAddress(low.ns, pkt.dst)) return toLower(pkt.dst.toString());
  return next({ stage: 'ip_route_output', ns: low.ns, pkt, oif: low.iface.name }, { out: dev.name, steps: [step('macvlan', { ...base, to: 'route' }, ev)], ...enterIf(ns, low) });
}

/**
 * The lower device's rx_handler: macvlan_handle_frame gives a frame to the macvlan whose MAC it is
 * for (or to the one passthru macvlan); ipvlan_handle_frame to the ipvlan that owns the destination
 * address. Undefined: no upper device takes it, the lower device does (RX_HANDLER_PASS).
 */
export function upperRx(w: Walk, ns: Netns, dev: Iface, frame: Frame): Action | undefined {
  const topo = w.net.topology;
  const mac = frame.dstMac;
  // Asked on every frame a device receives: the pods' devices only on a device they can sit on, and
  // only when the frame may be for one of them (a MAC not the device's own, or a packet for an address
  // this namespace does not own).
  const forPods = topo.mayCarryPodUppers(ns, dev) && ((mac !== undefined && dev.mac !== undefined && !mac.equals(dev.mac) && !mac.isBroadcast() && !mac.isMulticast()) || !ownsAddress(ns, frame.pkt.dst));
  const local = topo.localUppersOf(ns, dev);
  const uppers = forPods ? [...local, ...topo.podUppersOf(ns, dev)] : local;
  if (uppers.length === 0) return undefined;
  const take = (u: Endpoint, by: 'mac' | 'ip' | 'passthru'): Action => {
    const s = step('macvlan', { type: 'macvlan-rx', driver: upperDriver(u.iface), ns: ns.name, lower: dev.name, upperNs: u.ns.name, upper: u.iface.name, mode: upperMode(u.iface), by }, [linkEv(ns, dev), linkEv(u.ns, u.iface)]);
    const enter = enterIf(ns, u);
    return by === 'ip' ? next({ stage: 'ip_rcv', ns: u.ns, iif: u.iface, pkt: frame.pkt }, { steps: [s], ...enter }) : next({ stage: 'netif_receive_skb', ns: u.ns, dev: u.iface, frame }, { steps: [s], ...enter });
  };
  const macvlans = uppers.filter((u) => upperDriver(u.iface) === 'macvlan');
  const passthru = macvlans.find((u) => upperMode(u.iface) === 'passthru');
  if (passthru) return take(passthru, 'passthru');
  if (mac && !mac.isMulticast() && !mac.isBroadcast()) {
    const byMac = macvlans.find((u) => u.iface.mac?.equals(mac) && upperMode(u.iface) !== 'source');
    if (byMac) return take(byMac, 'mac');
  }
  const ipv = uppers.find((u) => upperDriver(u.iface) === 'ipvlan' && hasAddress(u.iface, frame.pkt.dst));
  if (ipv) return take(ipv, 'ip');
  return undefined;
}
