// neigh_output: the next hop's link-layer address. The neighbour table answers (lookup/neigh.ts);
// with no usable entry the kernel asks the segment (ARP, neighbour discovery), and who would answer
// is read from the other hosts' tables: the address's owner, a proxy neighbour entry, or proxy_arp —
// which ignores a request whose sender fails its rp_filter (arp_process -> ip_route_input_noref).
import type { Addr, Mac } from '../../net/addr';
import { isResolved, neighLookup, pneighLookup } from '../lookup/neigh';
import { confValue, evidence, ownsAddress, type Iface, type Netns } from '../netns';
import { hearsWire } from '../topology';
import type { Answerer, Evidence, RpFailure } from '../trace';
import type { Frame, Packet } from './packet';
import { drop, macOf, next, routeDevs, routeEv, routeView, step, type Action, type Stage, type Walk } from './stage';

type Ev = Evidence | undefined;

/** A host that would answer by proxy_arp but ignores the request, and why. */
type Refusal = { refusal: { host: string; dev: string; ip: string; rp: RpFailure }; ev: Ev[] };

type Answer = { who: Answerer; mac: Mac | undefined; ev: Ev; nic: { ns: Netns; iface: Iface } };

export const neighOutput: Stage<'neigh_output'> = (w, _here, { ns, dev, nexthop, pkt, viaGateway }) => {
  // Devices with no link layer to resolve: the frame goes out as it is.
  if (dev.noarp || dev.type === 'loopback' || dev.type === 'ipip' || dev.type === 'wireguard') return next({ stage: 'dev_queue_xmit', ns, dev, frame: { pkt, dstMac: undefined, nexthop } });
  return resolve(w, ns, dev, nexthop, pkt, viaGateway);
};

/** The frame for `nexthop` on `dev`: from the neighbour table, else from who answers on the segment. */
function resolve(w: Walk, ns: Netns, dev: Iface, nexthop: Addr, pkt: Packet, viaGateway: boolean): Action {
  const found = neighLookup(ns, dev.name, nexthop);
  const where = { ns: ns.name, dev: dev.name, nexthop: nexthop.toString(), gateway: viaGateway };
  const family = nexthop.family;
  const xmit = (frame: Frame, s: ReturnType<typeof step>) => next({ stage: 'dev_queue_xmit', ns, dev, frame }, { steps: [s] });
  const answered = (answer: Answer): Frame => ({ pkt, dstMac: answer.mac, nexthop, ...(answer.mac ? {} : { dstNic: answer.nic }) });
  if (found.kind !== 'missing') {
    const entry = found.entry;
    const ev = evidence(ns, found.probe, entry.src);
    const state = entry.state.join(' ') || 'resolved';
    if (isResolved(found)) {
      const mac = macOf(w.net, found.lladdr);
      const s = step('neigh', { type: 'neigh', ...where, nud: found.kind, state, lladdr: found.lladdr, ...(entry.confirmed !== undefined ? { confirmed: entry.confirmed } : {}) }, [ev]);
      return xmit({ pkt, dstMac: mac.ok ? mac.value : undefined, nexthop }, s);
    }
    // FAILED / INCOMPLETE: the kernel asks again; whether it succeeds depends on who answers.
    const answer = askSegment(w, ns, dev, nexthop, arpSender(ns, dev, pkt));
    if (answer) {
      return xmit(answered(answer), step('arp', { type: 'arp', ...where, family, entry: { nud: found.kind, state }, nsInferred: ns.inferred !== undefined, answer: answer.who }, [ev, answer.ev], { inferred: true }));
    }
    return drop('neighbor-failed', { type: 'neigh-failed', ...where, family, nud: found.kind, state }, dev.name, [ev]);
  }
  const refused: Refusal[] = [];
  const answer = askSegment(w, ns, dev, nexthop, arpSender(ns, dev, pkt), refused);
  // A namespace inferred for a pod without probes has no neighbour table in the capture: taken as empty.
  const nsInferred = ns.inferred !== undefined;
  if (answer) return xmit(answered(answer), step('arp', { type: 'arp', ...where, family, nsInferred, answer: answer.who }, [answer.ev], { inferred: true }));
  if (refused.length) {
    const r = refused[0]!;
    return drop('neighbor-failed', { type: 'arp-refused', ...where, nsInferred, refusal: r.refusal }, dev.name, r.ev, nsInferred);
  }
  const known = ns.probes.has('neigh') || ns.probes.has('arp') || nsInferred;
  w.wantOwnersOf(nexthop);
  // Hosts still needed whose namespaces are inferred (pods without probes) were searched like any
  // other: what is unknown is only a host with no tables and nothing inferred for it.
  const unread = [...w.needs].some((h) => !w.net.hosts.get(h)?.inferred);
  const owners = (w.net.reported.get(nexthop.toString()) ?? []).map((h) => w.net.hosts.get(h.name)).filter((o): o is Netns => o !== undefined && o !== ns);
  const placed = owners.filter((o) => o.inferred);
  return drop(known && !unread ? 'neighbor-failed' : 'insufficient-data', { type: 'neigh-unanswered', ...where, family, placed: placed.map((o) => o.name), tableKnown: known }, dev.name, [], placed.length > 0 || nsInferred);
}

/**
 * The sender address of the ARP request `ns` sends on `dev` for `pkt` (arp_solicit): the packet's own
 * source when it is a local address, else the device's.
 */
function arpSender(ns: Netns, dev: Iface, pkt: Packet): Addr | undefined {
  if (pkt.dst.family !== 4) return undefined;
  const local = !pkt.src.isUnspecified() && ownsAddress(ns, pkt.src);
  return local ? pkt.src : dev.addrs.find((a) => a.family === 4 && a.scope !== 'host')?.local;
}

/**
 * Who would answer ARP/ND for `ip` sent out of `dev`: an owner on the segment, or proxy ARP. A proxy
 * that would answer but whose reverse-path filter rejects the request's sender is put in `refused`.
 */
function askSegment(w: Walk, ns: Netns, dev: Iface, ip: Addr, sender?: Addr, refused: Refusal[] = []): Answer | undefined {
  const reach = w.net.topology.segment(ns, dev);
  const who = (ep: { ns: Netns; iface: Iface }, by: Answerer['by']): Answerer => ({ host: ep.ns.name, dev: ep.iface.name, by, ...(ep.iface.mac ? { mac: ep.iface.mac.toString() } : {}) });
  for (const ep of reach) {
    const owned = ep.iface.addrs.find((a) => a.local.equals(ip));
    if (owned) return { who: who(ep, 'owner'), mac: ep.iface.mac, ev: evidence(ep.ns, 'addrs', owned.src), nic: ep };
  }
  // A pod's macvlan hears what its lower device hears from the wire (macvlan_handle_frame): asked from
  // the address's owners, whose lower device must be on the segment.
  for (const o of w.net.owners.get(ip.toString()) ?? []) {
    if (o.ns.host.role !== 'pod' || !hearsWire(o.iface)) continue;
    const low = w.net.topology.lowerOf(o.ns, o.iface);
    if (low && reach.some((e) => e.ns === low.ns && e.iface === low.iface)) return { who: who(o, 'owner'), mac: o.iface.mac, ev: evidence(o.ns, 'addrs', o.rec.src), nic: o };
  }
  for (const ep of reach) {
    const proxy = pneighLookup(ep.ns, ep.iface.name, ip);
    if (proxy.kind === 'proxy') return { who: who(ep, 'proxy-entry'), mac: ep.iface.mac, ev: evidence(ep.ns, 'neigh', proxy.entry.src), nic: ep };
  }
  if (ip.family === 4) {
    for (const ep of reach) {
      const conf = confValue(ep.ns, 4, ep.iface.name, 'proxy_arp');
      if (Math.max(conf.value ?? 0, conf.all ?? 0) === 0) continue;
      const back = ep.ns.fib[4].lookup({ dst: ip, iif: ep.iface.name });
      if (back.kind === 'route' && back.route.rec.type === 'unicast' && back.route.rec.dev !== ep.iface.name) {
        // arp_process answers only a request whose input route is valid (ip_route_input_noref):
        // with rp_filter on, the sender's address must route back (fib_validate_source).
        const rpf = sender ? reversePathRefuses(ep.ns, ep.iface, sender, ip) : undefined;
        if (rpf) {
          refused.push({ refusal: { host: ep.ns.name, dev: ep.iface.name, ip: ip.toString(), rp: rpf.rp }, ev: [conf.evidence[0], ...rpf.ev] });
          continue;
        }
        return { who: who(ep, 'proxy_arp'), mac: ep.iface.mac, ev: conf.evidence[0], nic: ep };
      }
    }
  }
  return undefined;
}

/** fib_validate_source for a packet from `src` arriving on `iif` (no steps): why rp_filter drops it, or undefined. */
function reversePathRefuses(ns: Netns, iif: Iface, src: Addr, dst: Addr): { rp: RpFailure; ev: Ev[] } | undefined {
  const conf = confValue(ns, 4, iif.name, 'rp_filter');
  const mode = Math.max(conf.value ?? 0, conf.all ?? 0);
  if (mode === 0) return undefined;
  const name = mode === 1 ? 'strict' : 'loose';
  const rev = ns.fib[4].lookup({ dst: src, src: dst, iif: 'lo' });
  if (rev.kind !== 'route' || rev.route.rec.type !== 'unicast') {
    return { rp: { result: 'no-route', mode: name, src: src.toString(), ...(rev.kind === 'route' ? { route: routeView(rev.route) } : {}) }, ev: [...conf.evidence, ...(rev.kind === 'route' ? [routeEv(ns, rev.route)] : [])] };
  }
  const devs = routeDevs(rev.route);
  if (mode === 1 && !devs.includes(iif.name)) return { rp: { result: 'wrong-dev', mode: 'strict', src: src.toString(), iif: iif.name, devs, route: routeView(rev.route) }, ev: [...conf.evidence, routeEv(ns, rev.route)] };
  return undefined;
}
