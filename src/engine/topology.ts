// What is wired to what, computed from the captured tables once per network (each answer on first
// use, then kept by the Network that owns this object): the far end of every device's wire (a veth
// peer by `@ifN` both ways, a capture link, or the hosts sharing an implicit L2 segment), bridge
// ports, what a broadcast reaches, the VTEPs a VXLAN device floods to, and which node port leads to
// each pod whose interfaces the capture does not show (attach.ts).
import { computeAttachments, type Attachment, type NodeAttachments } from './attach';
import { ZERO_MAC } from './lookup/fdb';
import { Addr, Mac } from '../net/addr';
import { addressKeys, candidateIndex, fdbKey, forwards, hasAddress, segmentPrefixes, type Iface, type Namespaces, type Netns } from './netns';

/** The far end of a device's wire; `via` says how a pod the capture holds no interfaces for was placed there. */
export interface Wire {
  ns: Netns;
  iface: Iface;
  how: 'veth' | 'link' | 'segment';
  inferred: boolean;
  via?: Attachment;
}

/** An L3 endpoint: an interface with addresses in a namespace. */
export interface Endpoint {
  ns: Netns;
  iface: Iface;
}

/** Anything shaped like a MAC address in text (six groups of one or two hex digits). */
const MAC_TOKEN = /[0-9a-fA-F]{1,2}(?:[:-][0-9a-fA-F]{1,2}){5}/g;

export class Topology {
  /** Capture links by `host|dev` -> the other ends. */
  private readonly cables = new Map<string, { host: string; dev: string }[]>();
  /** Masked prefix of a NIC (nodes, routers, switches; not pods; not link-local) -> the NICs on it. */
  private subnetIndex: Map<string, Endpoint[]> | undefined;
  private readonly wireCache = new Map<Iface, Wire[]>();
  private readonly byMacCache = new Map<Iface, Map<string, Wire[]>>();
  private readonly portCache = new Map<Netns, Map<string, Iface[]>>();
  private readonly segmentCache = new Map<Iface, Endpoint[]>();
  private readonly vxlanCache = new Map<Iface, Endpoint[]>();
  private readonly attachCache = new Map<Netns, NodeAttachments>();
  private readonly upperCache = new Map<Netns, Map<Iface, Endpoint[]>>();
  private readonly podUpperCache = new Map<Netns, Map<Iface, Endpoint[]>>();
  /** MAC -> the hosts (not pods; capture indexes, in order) whose `links` text shows it. */
  private macIndex: Map<string, number[]> | undefined;
  /** Address -> the hosts (not pods; capture indexes, in order) whose `addrs` text shows it. */
  private addrIndex: Map<string, number[]> | undefined;
  private readonly segmentToCache = new Map<Iface, Map<string, Wire[]>>();
  private readonly prefixKeyCache = new WeakMap<Iface, string[]>();

  constructor(private readonly net: Namespaces) {
    for (const l of net.capture.links ?? []) {
      for (const [from, to] of [[l.a, l.b], [l.b, l.a]] as const) {
        const k = `${from.host}|${from.dev}`;
        this.cables.set(k, [...(this.cables.get(k) ?? []), { host: to.host, dev: to.dev }]);
      }
    }
  }

  /** The devices enslaved to `bridge` in `ns`, in the order of its links. */
  ports(ns: Netns, bridge: string): Iface[] {
    let perNs = this.portCache.get(ns);
    if (!perNs) {
      perNs = new Map();
      this.portCache.set(ns, perNs);
    }
    let list = perNs.get(bridge);
    if (!list) {
      list = [...ns.ifaces.values()].filter((i) => i.master === bridge);
      perNs.set(bridge, list);
    }
    return list;
  }

  /**
   * The lower device of a macvlan/ipvlan (`name@lower` in its own namespace, or, for one moved into a
   * pod (Multus), `eth0@ifN` with `link-netnsid`: ifindex N in the pod's node, as a pod's veth is
   * paired). Undefined when the capture does not show it.
   */
  lowerOf(ns: Netns, dev: Iface): Endpoint | undefined {
    const l = dev.link;
    if (!l) return undefined;
    if (l.link !== undefined) {
      const same = ns.ifaces.get(l.link);
      return same ? { ns, iface: same } : undefined;
    }
    if (l.linkIndex === undefined || ns.host.role !== 'pod' || ns.host.node === undefined) return undefined;
    const node = this.net.hosts.get(ns.host.node);
    const iface = node?.byIndex.get(l.linkIndex);
    return node && iface ? { ns: node, iface } : undefined;
  }

  /** The macvlan/ipvlan devices whose lower device is `lower`: in its namespace, and moved into the pods of its node. */
  uppersOf(ns: Netns, lower: Iface): Endpoint[] {
    return [...this.localUppersOf(ns, lower), ...this.podUppersOf(ns, lower)];
  }

  /** The macvlan/ipvlan devices on `lower` in its own namespace (`name@lower`), indexed once per namespace. */
  localUppersOf(ns: Netns, lower: Iface): Endpoint[] {
    let perNs = this.upperCache.get(ns);
    if (!perNs) {
      perNs = new Map();
      for (const i of ns.ifaces.values()) {
        const l = isUpper(i) && i.link?.link !== undefined ? ns.ifaces.get(i.link.link) : undefined;
        if (l) perNs.set(l, [...(perNs.get(l) ?? []), { ns, iface: i }]);
      }
      this.upperCache.set(ns, perNs);
    }
    return perNs.get(lower) ?? [];
  }

  /**
   * The macvlan/ipvlan devices on `lower` moved into the pods of its node (`eth0@ifN`, N its ifindex),
   * indexed once per node from the pods' namespaces (which a node's veth peers need anyway).
   */
  podUppersOf(ns: Netns, lower: Iface): Endpoint[] {
    if (!this.mayCarryPodUppers(ns, lower)) return [];
    return this.podUpperIndex(ns).get(lower) ?? [];
  }

  private podUpperIndex(ns: Netns): Map<Iface, Endpoint[]> {
    let perNode = this.podUpperCache.get(ns);
    if (!perNode) {
      perNode = new Map();
      for (const pod of this.net.podsOnNode.get(ns.name) ?? []) {
        for (const i of pod.ifaces.values()) {
          const l = isUpper(i) && i.link?.link === undefined && i.link?.linkIndex !== undefined ? ns.byIndex.get(i.link.linkIndex) : undefined;
          if (l) perNode.set(l, [...(perNode.get(l) ?? []), { ns: pod, iface: i }]);
        }
      }
      this.podUpperCache.set(ns, perNode);
    }
    return perNode;
  }

  /**
   * Whether pods' macvlan/ipvlan devices can sit on `lower`: a node's NIC, bond or VLAN device (Multus'
   * `master`), or a veth that a pod's device names as its lower and that is the node's own NIC: cabled
   * to a switch by the capture's links (a node that is itself a namespace, as in the netns lab) or
   * holding the node's InternalIP (a kind node, whose eth0 is a veth into a bridge the capture does not
   * hold); never a bridge or a bridge's port (macvlan_port_create: its rx_handler is taken), and not the
   * veths of the node's pods, so frames a node takes from them build no other pod.
   */
  mayCarryPodUppers(ns: Netns, lower: Iface): boolean {
    if (ns.host.role !== 'node') return false;
    if (POD_LOWER_TYPES.has(lower.type)) return true;
    if (lower.type !== 'veth' || lower.master !== undefined) return false;
    const nodeNic = this.cables.has(`${ns.host.name}|${lower.name}`) || lower.addrs.some((a) => ns.host.ips?.includes(a.local.toString()));
    return nodeNic && this.podUpperIndex(ns).has(lower);
  }

  /** The attachments of the pods on `node` whose interfaces the capture does not show. */
  attachments(node: Netns): NodeAttachments {
    let a = this.attachCache.get(node);
    if (!a) {
      a = computeAttachments(this.net, node, (ns, br) => this.ports(ns, br));
      this.attachCache.set(node, a);
    }
    return a;
  }

  /** What is at the other end of a device's wire: a veth peer, a cabled link, or an implicit segment. */
  wires(ns: Netns, dev: Iface): Wire[] {
    let w = this.wireCache.get(dev);
    if (!w) {
      w = this.wireOf(ns, dev);
      this.wireCache.set(dev, w);
    }
    return w;
  }

  /**
   * Whether `dev`'s wire is an implicit segment (the hosts whose NICs share its subnet), decided
   * without listing them: the same conditions as wires() takes that branch on.
   */
  isSegment(ns: Netns, dev: Iface): boolean {
    const known = this.wireCache.get(dev);
    if (known) return known.length > 0 && known[0]!.how === 'segment';
    if ((this.cables.get(`${ns.host.name}|${dev.name}`) ?? []).length) return false;
    if (dev.type === 'veth' && (this.vethPeers(ns, dev).length > 0 || ns.host.role === 'pod')) return false;
    if (!onSegment(dev)) return false;
    return segmentPrefixes(dev).length > 0 && (this.net.capture.links ?? []).length === 0;
  }

  /** The far ends of `dev`'s wire whose MAC is `mac` (on a segment of hundreds of hosts, a map lookup). */
  wiresTo(ns: Netns, dev: Iface, mac: string): Wire[] {
    let byMac = this.byMacCache.get(dev);
    // A segment: only the hosts that show this MAC are built, not every host on the subnet.
    if (!byMac && !this.wireCache.has(dev) && this.isSegment(ns, dev)) return this.segmentWiresTo(ns, dev, mac);
    if (!byMac) {
      byMac = new Map();
      for (const w of this.wires(ns, dev)) {
        if (!w.iface.mac) continue;
        const k = w.iface.mac.toString();
        const list = byMac.get(k);
        if (list) list.push(w);
        else byMac.set(k, [w]);
      }
      this.byMacCache.set(dev, byMac);
    }
    return byMac.get(mac) ?? [];
  }

  /** The L3 endpoints a broadcast from `dev` reaches: across veths, bridges, cabled links and segments. */
  segment(ns: Netns, dev: Iface): Endpoint[] {
    let s = this.segmentCache.get(dev);
    if (!s) {
      s = this.segmentOf(ns, dev);
      this.segmentCache.set(dev, s);
    }
    return s;
  }

  /** The VXLAN devices of the VTEPs that `dev`'s default (all-zero) FDB entries flood to. */
  vxlanPeers(ns: Netns, dev: Iface): Endpoint[] {
    let p = this.vxlanCache.get(dev);
    if (!p) {
      const zero = ns.fdb.get(fdbKey(dev.name, ZERO_MAC)) ?? [];
      const vni = dev.link?.vxlan?.id;
      p = zero.flatMap((e) => {
        const owner = e.dst ? this.net.owners.get(e.dst.toString())?.[0] : undefined;
        if (!owner) return [];
        const vx = [...owner.ns.ifaces.values()].find((i) => i.type === 'vxlan' && i.link?.vxlan?.id === (e.vni ?? vni));
        return vx ? [{ ns: owner.ns, iface: vx }] : [];
      });
      this.vxlanCache.set(dev, p);
    }
    return p;
  }

  /**
   * wires(ns, dev) of a segment, filtered to the NICs whose MAC is `mac`, in the same order; built
   * from the hosts whose `links` text shows that MAC (macIndex), not from every host on the subnet.
   */
  private segmentWiresTo(ns: Netns, dev: Iface, mac: string): Wire[] {
    let perMac = this.segmentToCache.get(dev);
    if (!perMac) {
      perMac = new Map();
      this.segmentToCache.set(dev, perMac);
    }
    const known = perMac.get(mac);
    if (known) return known;
    const res = this.segmentMembers(ns, dev, (this.macIndex ??= this.indexMacs()).get(mac) ?? [], (i) => i.mac?.toString() === mac);
    perMac.set(mac, res);
    return res;
  }

  /**
   * The NICs on `dev`'s segment that own `addr` (wires(ns, dev) filtered so, in the same order),
   * from the hosts whose `addrs` text shows it; [] for a device that is no segment.
   */
  segmentOwners(ns: Netns, dev: Iface, addr: Addr): Wire[] {
    if (!this.isSegment(ns, dev)) return [];
    const k = addr.toString();
    return this.segmentMembers(ns, dev, (this.addrIndex ??= this.indexAddrs()).get(k) ?? [], (i) => hasAddress(i, addr));
  }

  /** Whether anything else is on `dev`'s segment (wires(ns, dev) is not empty), building as few hosts as it can. */
  hasSegmentMember(ns: Netns, dev: Iface): boolean {
    const known = this.wireCache.get(dev);
    if (known) return known.length > 0;
    if (!this.isSegment(ns, dev)) return this.wires(ns, dev).length > 0;
    const ix = (this.addrIndex ??= this.indexAddrs());
    for (const p of segmentPrefixes(dev)) {
      const hosts = new Set<number>();
      for (const [a, list] of ix) {
        const parsed = Addr.parse(a);
        if (parsed.ok && parsed.value.family === p.family && p.contains(parsed.value)) for (const i of list) hosts.add(i);
      }
      const k = p.toString();
      for (const i of [...hosts].sort((x, y) => x - y)) {
        const m = this.net.hosts.get(this.net.capture.hosts[i]!.name);
        if (!m || m === ns) continue;
        for (const iface of m.ifaces.values()) if (onSegment(iface) && segmentPrefixes(iface).some((q) => q.toString() === k)) return true;
      }
    }
    return false;
  }

  /** segmentPrefixes(iface) as strings, kept per interface (a check asks for the same NICs 250,000 times). */
  private prefixKeys(iface: Iface): readonly string[] {
    let k = this.prefixKeyCache.get(iface);
    if (!k) {
      k = segmentPrefixes(iface).map((p) => p.toString());
      this.prefixKeyCache.set(iface, k);
    }
    return k;
  }

  /** Of the segment's NICs, those on `hosts` (capture indexes, in order) that `keep` says, in wires()' order. */
  private segmentMembers(ns: Netns, dev: Iface, hosts: readonly number[], keep: (i: Iface) => boolean): Wire[] {
    const res: Wire[] = [];
    const seen = new Set<Iface>();
    for (const k of this.prefixKeys(dev)) {
      for (const i of hosts) {
        const m = this.net.hosts.get(this.net.capture.hosts[i]!.name);
        if (!m || m === ns) continue;
        for (const iface of m.ifaces.values()) {
          if (!onSegment(iface)) continue;
          if (seen.has(iface) || !keep(iface)) continue;
          if (!this.prefixKeys(iface).includes(k)) continue;
          seen.add(iface);
          res.push({ ns: m, iface, how: 'segment', inferred: true });
        }
      }
    }
    return res;
  }

  /** Every address-looking token of each non-pod host's `addrs` text: a superset of its NICs' addresses. */
  private indexAddrs(): Map<string, number[]> {
    return candidateIndex(this.net.capture.hosts, (h) => (h.role === 'pod' ? [] : addressKeys(h.probes?.addrs ?? '')));
  }


  /** Every MAC-looking token of each non-pod host's `links` text: a superset of its interfaces' MACs. */
  private indexMacs(): Map<string, number[]> {
    const macs = (text: string) => (text.match(MAC_TOKEN) ?? []).flatMap((t) => Mac.text(t) ?? []);
    return candidateIndex(this.net.capture.hosts, (h) => (h.role === 'pod' ? [] : macs(h.probes?.links ?? '')));
  }


  private get subnets(): Map<string, Endpoint[]> {
    if (this.subnetIndex) return this.subnetIndex;
    const ix = new Map<string, Endpoint[]>();
    for (const h of this.net.capture.hosts) {
      // Pods are never on a node's segment: skip them before building their namespaces.
      if (h.role === 'pod') continue;
      const ns = this.net.hosts.get(h.name);
      if (!ns) continue;
      for (const iface of ns.ifaces.values()) {
        if (!onSegment(iface)) continue;
        for (const p of segmentPrefixes(iface)) {
          const k = p.toString();
          const list = ix.get(k) ?? [];
          list.push({ ns, iface });
          ix.set(k, list);
        }
      }
    }
    this.subnetIndex = ix;
    return ix;
  }

  private segmentOf(ns: Netns, dev: Iface): Endpoint[] {
    const out: Endpoint[] = [];
    const seen = new Set<string>([`${ns.name}|${dev.name}`]);
    const queue: Endpoint[] = [];
    const push = (n: Netns, i: Iface) => {
      const k = `${n.name}|${i.name}`;
      if (seen.has(k)) return;
      seen.add(k);
      queue.push({ ns: n, iface: i });
    };
    for (const next of this.wires(ns, dev)) push(next.ns, next.iface);
    if (dev.type === 'bridge') for (const p of this.ports(ns, dev.name)) push(ns, p);
    if (dev.type === 'vxlan') for (const v of this.vxlanPeers(ns, dev)) push(v.ns, v.iface);
    if (isMacvlan(dev)) {
      // macvlan_queue_xmit of a broadcast: a bridge-mode macvlan hands it to its bridge-mode siblings
      // (macvlan_broadcast), every mode sends it out of the lower device onto its wire; the lower's
      // own stack never sees it, so the lower is not on the segment.
      const low = this.lowerOf(ns, dev);
      if (!low) return [];
      seen.add(`${low.ns.name}|${low.iface.name}`);
      const mode = upperMode(dev);
      const siblings = this.uppersOf(low.ns, low.iface).filter((u) => u.iface !== dev && hearsWire(u.iface));
      if (mode === 'bridge') for (const u of siblings) if (upperMode(u.iface) === 'bridge') push(u.ns, u.iface);
      const wire = this.wires(low.ns, low.iface);
      for (const next of wire) push(next.ns, next.iface);
      // A switch port with hairpin on sends the broadcast back out to the lower device, whose
      // macvlan_handle_frame knows it by its source: a private macvlan's own broadcast goes back only
      // to itself; a vepa one's to the lower and the other vepa and bridge macvlans; a bridge one's to
      // the lower and the vepa macvlans (the bridge ones had it on the way out).
      const reflected = wire.some((x) => x.iface.master !== undefined && x.iface.link?.bridgePort?.hairpin === true && forwards(x.iface));
      if (reflected && mode !== 'private') {
        out.push(low);
        const takes = mode === 'vepa' ? ['vepa', 'bridge'] : ['vepa'];
        for (const u of siblings) if (takes.includes(upperMode(u.iface))) push(u.ns, u.iface);
      }
    }
    while (queue.length) {
      const { ns: n, iface: i } = queue.shift()!;
      if (i.master !== undefined) {
        // A port that is down or not forwarding neither floods the broadcast nor takes it in (br_flood).
        if (!forwards(i)) continue;
        // A bridge port has no address of its own: the broadcast reaches the bridge, its other ports,
        // and whatever is at the far end of this port's own wire (the pod behind a veth, a cabled host).
        const br = n.ifaces.get(i.master);
        if (br) {
          push(n, br);
          for (const p of this.ports(n, br.name)) push(n, p);
        }
        for (const next of this.wires(n, i)) push(next.ns, next.iface);
        continue;
      }
      out.push({ ns: n, iface: i });
      if (i.type === 'bridge') for (const p of this.ports(n, i.name)) push(n, p);
      // A broadcast from the wire reaches the lower device and every macvlan on it (macvlan_handle_frame
      // -> macvlan_broadcast_enqueue, any mode but source). Those in its own namespace are listed here;
      // those moved into pods are found from the address asked for (hearsWire), so that a segment of
      // many nodes does not build every node's pods.
      for (const u of this.localUppersOf(n, i)) if (hearsWire(u.iface)) push(u.ns, u.iface);
      for (const next of this.wires(n, i)) push(next.ns, next.iface);
    }
    return out;
  }

  private wireOf(ns: Netns, dev: Iface): Wire[] {
    const cabled = this.cables.get(`${ns.host.name}|${dev.name}`) ?? [];
    if (cabled.length) {
      return cabled.flatMap((e) => {
        const n = this.net.hosts.get(e.host);
        const i = n?.ifaces.get(e.dev);
        return n && i ? [{ ns: n, iface: i, how: 'link' as const, inferred: false }] : [];
      });
    }
    if (dev.type === 'veth') {
      const peers = this.vethPeers(ns, dev);
      if (peers.length) return peers;
      // A node's uplink can be a veth too (a VM's or a lab's): without its peer, fall back to the subnet.
      if (ns.host.role === 'pod') return [];
    }
    if (onSegment(dev)) {
      // No cabling in the capture: hosts whose NICs share a subnet with this one are one L2 segment.
      // Link-local prefixes (fe80::/64 on every NIC) say nothing about which hosts share a wire.
      const mine = segmentPrefixes(dev);
      if (mine.length === 0 || (this.net.capture.links ?? []).length > 0) return [];
      const res: Wire[] = [];
      const seen = new Set<Iface>();
      for (const p of mine) {
        for (const m of this.subnets.get(p.toString()) ?? []) {
          if (m.ns === ns || seen.has(m.iface)) continue;
          seen.add(m.iface);
          res.push({ ns: m.ns, iface: m.iface, how: 'segment', inferred: true });
        }
      }
      return res;
    }
    return [];
  }

  /** A veth's peer: named by `@ifN` both ways, pods only against their own node. */
  private vethPeers(ns: Netns, dev: Iface): Wire[] {
    const l = dev.link;
    const veth = (n: Netns, iface: Iface): Wire => ({ ns: n, iface, how: 'veth', inferred: false });
    if (!l) {
      // A pod whose interfaces the capture does not show: its node's tables place it (attach.ts).
      const node = ns.host.role === 'pod' && ns.host.node !== undefined ? this.net.hosts.get(ns.host.node) : undefined;
      const att = node ? this.attachments(node).byPod.get(dev) : undefined;
      return att ? att.ports.map((p) => ({ ns: att.node, iface: p, how: 'veth', inferred: true, via: att })) : [];
    }
    if (l.link !== undefined && l.linkIndex === undefined) {
      const same = ns.ifaces.get(l.link);
      return same ? [veth(ns, same)] : [];
    }
    if (l.linkIndex === undefined) return [];
    const idx = l.linkIndex;
    const matches = (n: Netns) => {
      const i = n.byIndex.get(idx);
      return i && i.type === 'veth' && (i.link?.linkIndex === undefined || i.link.linkIndex === dev.ifindex) ? i : undefined;
    };
    const candidates: Netns[] = [];
    if (ns.host.role === 'pod' && ns.host.node !== undefined) {
      const node = this.net.hosts.get(ns.host.node);
      if (node) candidates.push(node);
    } else if (ns.host.role === 'node') {
      candidates.push(...(this.net.podsOnNode.get(ns.name) ?? []));
    }
    for (const n of candidates) {
      const i = matches(n);
      if (i) return [veth(n, i)];
    }
    if (ns.host.role === 'node') {
      // The pods whose interfaces the capture does not show and whose place the node's tables give
      // as this device (or, by elimination, as possibly this device).
      const atts = this.attachments(ns).byPort.get(dev) ?? [];
      if (atts.length) return atts.map((a) => ({ ns: a.pod, iface: a.iface, how: 'veth', inferred: true, via: a }));
    }
    if (ns.host.role === 'pod' || candidates.length > 0) return [];
    // Between nodes, switches and routers (a lab cabled with veths and no capture links): the one
    // other host whose veth names this one as its peer, both ways. Pods are never guessed.
    const found: Wire[] = [];
    for (const h of this.net.capture.hosts) {
      if (h.role === 'pod') continue;
      const n = this.net.hosts.get(h.name);
      if (!n || n === ns) continue;
      const i = matches(n);
      if (i && i.link?.linkIndex === dev.ifindex) found.push(veth(n, i));
    }
    return found.length === 1 ? found : [];
  }
}

/**
 * A device whose addresses put it on an implicit L2 segment: a NIC, a veth, or a bond (whose slaves
 * carry no addresses of their own: without capture links the bond stands for them on the segment).
 */
function onSegment(i: Iface): boolean {
  return i.type === 'device' || i.type === 'veth' || i.type === 'bond';
}

/** The devices a pod's macvlan/ipvlan can have as its lower device in the node. */
const POD_LOWER_TYPES = new Set(['device', 'bond', 'vlan', 'team']);

/** The driver of an upper device (isUpper): macvlan/macvtap or ipvlan/ipvtap. */
export const upperDriver = (i: Iface): 'macvlan' | 'ipvlan' => (i.type.startsWith('macv') ? 'macvlan' : 'ipvlan');
/** An upper device's mode; the kernel's defaults when it is not printed: MACVLAN_MODE_VEPA, IPVLAN_MODE_L3. */
export const upperMode = (i: Iface): string => i.link?.macvlan?.mode ?? i.link?.ipvlan?.mode ?? (upperDriver(i) === 'macvlan' ? 'vepa' : 'l3');
const isMacvlan = (i: Iface): boolean => isUpper(i) && upperDriver(i) === 'macvlan';
/** A macvlan that gets the broadcasts its lower device receives from the wire (every mode but source). */
export const hearsWire = (i: Iface): boolean => isMacvlan(i) && upperMode(i) !== 'source';

/** A macvlan/macvtap or ipvlan/ipvtap device. */
export function isUpper(i: Iface): boolean {
  return i.type === 'macvlan' || i.type === 'macvtap' || i.type === 'ipvlan' || i.type === 'ipvtap';
}
