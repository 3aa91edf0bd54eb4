// Which device of a node leads to each pod whose interfaces the capture does not show (a pod with no
// probes, whose namespace is inferred, or one read from /proc): the node's own tables say it — a route
// to a veth on no bridge (Calico's cali*), the neighbour entry's MAC that the bridge's FDB places
// behind a port — or, failing those, elimination among the bridge's ports whose other ends the capture
// does not show. Every answer is an inference and says what it was inferred from.
import type { Addr } from '../net/addr';
import { evidence, fdbKey, neighKey, type Iface, type Namespaces, type Netns } from './netns';
import type { Evidence } from './trace';

export interface Attachment {
  node: Netns;
  pod: Netns;
  /** The pod's interface (eth0). */
  iface: Iface;
  /** The node-side devices that may lead to the pod: one when known, several when elimination leaves more. */
  ports: Iface[];
  how: 'route' | 'neigh' | 'fdb' | 'elimination' | 'candidates';
  /** What was inferred from what, to follow "inferred: ". */
  text: string;
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
    const known = all.filter((p) => shown.has(p)).map((p) => `${p.name} to ${label(shown.get(p)!)}`);
    const others = known.length ? ` (the others lead to pods whose tables it has: ${known.join(', ')})` : '';
    for (const o of here) {
      const nothing = `nothing in ${node.name}'s tables (no neighbour or forwarding entry for ${o.ips.join(', ')}) says which port of ${bridge.name} leads to ${label(o.pod)}`;
      const single = unknown.length === 1 && here.length === 1;
      const names = unknown.map((p) => p.name).join(', ');
      const text = single
        ? `${nothing}; ${unknown[0]!.name} is the only one whose other end the capture does not show${others}`
        : here.length > 1
          ? `${nothing}; the ports whose other ends the capture does not show, ${names}, lead to ${here.map((h) => label(h.pod)).join(', ')} in an order nothing in the capture gives${others}`
          : `${nothing}; it is behind one of ${names}, the ports whose other ends the capture does not show${others}`;
      add({ node, pod: o.pod, iface: o.iface, ports: unknown, how: single ? 'elimination' : 'candidates', text, basis: unknown.flatMap((p) => (p.link ? [evidence(node, 'links', p.link.src)] : [])) });
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
      return { node, pod, iface, ports: [routed], how: 'route', text: `${node.name}'s route "${ev.raw.trim()}" sends ${ip} to ${routed.name}`, basis: [ev] };
    }
    // The bridge the route uses, else any the node has a neighbour entry for the address on (a route may be missing).
    const devs = routed?.type === 'bridge' ? [routed] : [...node.ifaces.values()].filter((i) => (i.type === 'bridge' || (i.type === 'veth' && i.master === undefined)) && node.neigh.has(neighKey(i.name, ip)));
    for (const dev of devs) {
      const n = node.neigh.get(neighKey(dev.name, ip));
      const nEv = n ? evidence(node, node.neighProbe.get(n) ?? 'neigh', n.src) : undefined;
      if (dev.type === 'veth') {
        return { node, pod, iface, ports: [dev], how: 'neigh', text: `${node.name}'s neighbour entry for ${ip} is on ${dev.name}, a veth on no bridge`, basis: nEv ? [nEv] : [] };
      }
      bridge ??= dev;
      const usable = n?.lladdr !== undefined && !n.state.some((s) => s === 'FAILED' || s === 'INCOMPLETE');
      if (!usable) continue;
      const hit = (node.fdb.get(fdbKey(dev.name, n.lladdr!)) ?? []).find((e) => e.dev !== dev.name && node.ifaces.get(e.dev)?.master === dev.name);
      if (!hit) continue;
      return {
        node, pod, iface, ports: [node.ifaces.get(hit.dev)!], how: 'fdb',
        text: `${node.name}'s neighbour entry gives ${ip} the MAC ${n.lladdr}, which ${dev.name}'s forwarding table places behind ${hit.dev}`,
        basis: [nEv!, evidence(node, 'fdb', hit.src)],
      };
    }
  }
  return { bridge };
}
