// Which device of a node leads to each pod whose interfaces the capture does not show (a pod with no
// probes, whose namespace is inferred, or one read from /proc): the node's own tables say it — a route
// to a veth on no bridge (Calico's cali*), the neighbour entry's MAC that the bridge's FDB places
// behind a port — or, failing those, elimination among the bridge's ports whose other ends the capture
// does not show. Every answer is an inference and says what it was inferred from.
import type { Addr } from '../net/addr';
import { isResolved, neighLookup } from './lookup/neigh';
import { evidence, fdbKey, type Iface, type Namespaces, type Netns } from './netns';
import type { AttachmentFacts, Evidence } from './trace';

export interface Attachment {
  node: Netns;
  pod: Netns;
  /** The pod's interface (eth0). */
  iface: Iface;
  /** The node-side devices that may lead to the pod: one when known, several when elimination leaves more. */
  ports: Iface[];
  how: AttachmentFacts['how'];
  /** What was inferred from what (narrate.ts's attachmentText says it). */
  facts: AttachmentFacts;
  basis: Evidence[];
}

export interface NodeAttachments {
  byPod: Map<Iface, Attachment>;
  byPort: Map<Iface, Attachment[]>;
}

const label = (ns: Netns) => ns.host.pod ?? ns.name;

/** The attachments of the pods on `node` whose interfaces the capture does not show (Topology keeps them). */
export function computeAttachments(net: Namespaces, node: Netns, portsOf: (ns: Netns, bridge: string) => Iface[]): NodeAttachments {
  const out: NodeAttachments = { byPod: new Map(), byPort: new Map() };
  const pods = net.podsOnNode.get(node.name) ?? [];
  const hidden = pods.filter((p) => !p.probes.has('links'));
  if (hidden.length === 0) return out;
  // Node-side veths whose other end the capture shows: a pod's interface names it by @ifN, both ways.
  const shown = new Map<Iface, Netns>();
  for (const p of pods) {
    if (!p.probes.has('links')) continue;
    for (const i of p.ifaces.values()) {
      if (i.link?.linkIndex === undefined) continue;
      const peer = node.byIndex.get(i.link.linkIndex);
      if (peer && peer.type === 'veth' && (peer.link?.linkIndex === undefined || peer.link.linkIndex === i.ifindex)) shown.set(peer, p);
    }
  }
  const add = (a: Attachment) => {
    out.byPod.set(a.iface, a);
    for (const port of a.ports) out.byPort.set(port, [...(out.byPort.get(port) ?? []), a]);
  };
  const open: { pod: Netns; iface: Iface; bridge: Iface; ips: Addr[] }[] = [];
  for (const pod of hidden) {
    for (const iface of pod.ifaces.values()) {
      if (iface.type === 'loopback' || iface.addrs.length === 0) continue;
      const found = fromTables(node, pod, iface);
      if ('ports' in found) add(found);
      else if (found.bridge) open.push({ pod, iface, bridge: found.bridge, ips: iface.addrs.map((a) => a.local) });
    }
  }
  const taken = new Set([...out.byPod.values()].flatMap((a) => a.ports));
  for (const bridge of new Set(open.map((o) => o.bridge))) {
    const here = open.filter((o) => o.bridge === bridge);
    const all = portsOf(node, bridge.name).filter((p) => p.type === 'veth');
    const unknown = all.filter((p) => !shown.has(p) && !taken.has(p));
    if (unknown.length === 0) continue;
    const known = all.filter((p) => shown.has(p)).map((p) => ({ port: p.name, pod: label(shown.get(p)!) }));
    const pods = here.map((h) => label(h.pod));
    for (const o of here) {
      const how = unknown.length === 1 && here.length === 1 ? ('elimination' as const) : ('candidates' as const);
      const facts: AttachmentFacts = { how, node: node.name, bridge: bridge.name, pod: label(o.pod), ips: o.ips.map((a) => a.toString()), ports: unknown.map((p) => p.name), pods, known };
      add({ node, pod: o.pod, iface: o.iface, ports: unknown, how, facts, basis: unknown.flatMap((p) => (p.link ? [evidence(node, 'links', p.link.src)] : [])) });
    }
  }
  return out;
}

/** What the node's route, neighbour and FDB entries say about where the pod's interface is. */
function fromTables(node: Netns, pod: Netns, iface: Iface): Attachment | { bridge: Iface | undefined } {
  let bridge: Iface | undefined;
  for (const a of iface.addrs) {
    const ip = a.local;
    const ans = node.fib[ip.family].lookup({ dst: ip });
    // Only a route straight onto a device (no gateway) places the pod there.
    const routed = ans.kind === 'route' && ans.route.rec.type === 'unicast' && ans.route.rec.dev !== undefined && ans.route.rec.gateway === undefined ? node.ifaces.get(ans.route.rec.dev) : undefined;
    if (ans.kind === 'route' && routed?.type === 'veth' && routed.master === undefined) {
      const ev = evidence(node, ans.route.probe, ans.route.rec.src);
      return { node, pod, iface, ports: [routed], how: 'route', facts: { how: 'route', node: node.name, ip: ip.toString(), dev: routed.name, route: ev.raw.trim() }, basis: [ev] };
    }
    // The bridge the route uses, else any the node has a neighbour entry for the address on (a route may be missing).
    const devs = routed?.type === 'bridge' ? [routed] : [...node.ifaces.values()].filter((i) => (i.type === 'bridge' || (i.type === 'veth' && i.master === undefined)) && neighLookup(node, i.name, ip).kind !== 'missing');
    for (const dev of devs) {
      const n = neighLookup(node, dev.name, ip);
      const nEv = n.kind !== 'missing' ? evidence(node, n.probe, n.entry.src) : undefined;
      if (dev.type === 'veth') {
        return { node, pod, iface, ports: [dev], how: 'neigh', facts: { how: 'neigh', node: node.name, ip: ip.toString(), dev: dev.name }, basis: nEv ? [nEv] : [] };
      }
      bridge ??= dev;
      if (!isResolved(n)) continue;
      // Any entry that places the MAC behind a port, whatever its state: where the pod was last seen.
      const hit = (node.fdb.get(fdbKey(dev.name, n.lladdr)) ?? []).find((e) => e.dev !== dev.name && node.ifaces.get(e.dev)?.master === dev.name);
      if (!hit) continue;
      return {
        node, pod, iface, ports: [node.ifaces.get(hit.dev)!], how: 'fdb',
        facts: { how: 'fdb', node: node.name, ip: ip.toString(), mac: n.lladdr, bridge: dev.name, port: hit.dev },
        basis: [nEv!, evidence(node, 'fdb', hit.src)],
      };
    }
  }
  return { bridge };
}
