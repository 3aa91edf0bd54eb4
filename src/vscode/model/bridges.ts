// The Node Bridges tree as plain tagged data (no vscode here): cluster -> nodes -> bridges -> ports ->
// the pod behind each port, and each node's tunnels and routes. Problems the tables already show are
// attached to the node they concern. TreeItems are made from these in the view.
import type { Host } from '../../capture/document';
import { checksFor, type Discrepancy } from '../../engine/checks';
import type { Iface, Netns, Network } from '../../engine/network';

/** A discrepancy the checks found (engine/checks.ts: the same ones a failed trace's diagnosis names). */
export interface Problem {
  text: string;
  fix?: string;
  owner?: string;
}

export type BridgeNode =
  | { kind: 'node'; node: string; ips: string[]; podCIDRs: string[]; hasTables: boolean; problems: Problem[] }
  | { kind: 'bridge'; node: string; name: string; mtu: number; up: boolean; mac?: string; addrs: string[]; ports: number; problems: Problem[] }
  | { kind: 'port'; node: string; bridge: string; name: string; mtu: number; up: boolean; state?: string; problems: Problem[] }
  | { kind: 'pod'; node: string; port: string; host: string; namespace: string; pod: string; ip?: string; mac?: string; inferred: boolean }
  | { kind: 'tunnel'; node: string; name: string; type: string; vni?: number; local?: string; dstport?: number; mtu: number; up: boolean; problems: Problem[] }
  | { kind: 'vtep'; node: string; tunnel: string; mac: string; dst: string; peer?: string }
  | { kind: 'routes'; node: string; count: number }
  | { kind: 'route'; node: string; text: string; line: number }
  | { kind: 'message'; text: string };

export function nodeEntries(net: Network): BridgeNode[] {
  return net.capture.hosts
    .filter((h) => h.role === 'node')
    .map((h) => {
      const ns = net.hosts.get(h.name)!;
      return { kind: 'node', node: h.name, ips: h.ips ?? [], podCIDRs: h.podCIDRs ?? [], hasTables: ns.probes.size > 0, problems: nodeProblems(net, ns) };
    });
}

export function childrenOf(net: Network, parent: BridgeNode): BridgeNode[] {
  const ns = 'node' in parent ? net.hosts.get(parent.node) : undefined;
  if (!ns) return [];
  switch (parent.kind) {
    case 'node': {
      if (ns.probes.size === 0) return [{ kind: 'message', text: 'tables not read yet' }];
      const out: BridgeNode[] = [];
      for (const i of ns.ifaces.values()) if (i.type === 'bridge') out.push(bridgeEntry(net, ns, i));
      for (const i of ns.ifaces.values()) if (['vxlan', 'ipip', 'wireguard'].includes(i.type)) out.push(tunnelEntry(net, ns, i));
      const count = routeCount(ns);
      out.push({ kind: 'routes', node: ns.name, count });
      return out;
    }
    case 'bridge':
      return net.topology.ports(ns, parent.name).map((p) => portEntry(net, ns, parent.name, p));
    case 'port': {
      const pod = podBehindPort(net, ns, parent.name);
      if (pod) return [pod];
      // Only elimination narrows it: several pods without tables may be behind this port.
      const port = ns.ifaces.get(parent.name);
      const maybe = port ? (net.topology.attachments(ns).byPort.get(port) ?? []) : [];
      return maybe.length ? [{ kind: 'message', text: `one of ${maybe.map((a) => a.pod.host.pod ?? a.pod.name).join(', ')} (inferred: their tables are not in the capture)` }] : [];
    }
    case 'tunnel': {
      const out: BridgeNode[] = [];
      for (const [k, list] of ns.fdb) {
        if (!k.startsWith(`${parent.name}|`)) continue;
        for (const e of list) {
          if (!e.dst) continue;
          const peer = net.owners.get(e.dst.toString())?.[0]?.ns.name ?? net.capture.hosts.find((h) => h.ips?.includes(e.dst!.toString()))?.name;
          out.push({ kind: 'vtep', node: ns.name, tunnel: parent.name, mac: e.mac, dst: e.dst.toString(), ...(peer ? { peer } : {}) });
        }
      }
      return out;
    }
    case 'routes': {
      const text = ns.host.probes?.routes4 ?? '';
      return text
        .split('\n')
        .map((raw, i) => ({ raw: raw.trimEnd(), line: i + 1 }))
        .filter((l) => l.raw !== '' && !/\btable (local|255)\b/.test(l.raw))
        .map((l): BridgeNode => ({ kind: 'route', node: ns.name, text: l.raw, line: l.line }));
    }
    default:
      return [];
  }
}

function routeCount(ns: Netns): number {
  return (ns.host.probes?.routes4 ?? '').split('\n').filter((l) => l.trim() !== '' && !/\btable (local|255)\b/.test(l)).length;
}

function bridgeEntry(net: Network, ns: Netns, br: Iface): BridgeNode {
  const problems = placed(net, ns).bridge.get(br.name) ?? [];
  return {
    kind: 'bridge',
    node: ns.name,
    name: br.name,
    mtu: br.mtu,
    up: br.up,
    ...(br.mac ? { mac: br.mac.toString() } : {}),
    addrs: br.addrs.map((a) => `${a.local}/${a.prefixlen}`),
    ports: net.topology.ports(ns, br.name).length,
    problems,
  };
}

function portEntry(net: Network, ns: Netns, bridge: string, p: Iface): BridgeNode {
  const problems = placed(net, ns).dev.get(p.name) ?? [];
  const state = p.link?.bridgePort?.state;
  return { kind: 'port', node: ns.name, bridge, name: p.name, mtu: p.mtu, up: p.up && p.lowerUp, ...(state ? { state } : {}), problems };
}

function tunnelEntry(net: Network, ns: Netns, t: Iface): BridgeNode {
  const v = t.link?.vxlan;
  const problems = placed(net, ns).dev.get(t.name) ?? [];
  return {
    kind: 'tunnel',
    node: ns.name,
    name: t.name,
    type: t.type,
    mtu: t.mtu,
    up: t.up,
    ...(v ? { vni: v.id, dstport: v.dstport, ...(v.local ? { local: v.local.toString() } : {}) } : {}),
    problems,
  };
}

/**
 * The pod whose eth0 is the other end of this port's veth, found by ifindex, or (a pod whose tables the
 * capture lacks) through the node's route, neighbour and FDB entries or by elimination (engine/attach.ts).
 */
export function podBehindPort(net: Network, node: Netns, portName: string): BridgeNode | undefined {
  const port = node.ifaces.get(portName);
  if (!port) return undefined;
  const pods = net.podsOnNode.get(node.name) ?? [];
  const idx = port.link?.linkIndex;
  for (const pod of pods) {
    const eth = idx !== undefined ? pod.byIndex.get(idx) : undefined;
    if (eth && (eth.link?.linkIndex === undefined || eth.link.linkIndex === port.ifindex)) {
      const ip = eth.addrs.find((a) => a.family === 4)?.local.toString() ?? pod.host.ips?.[0];
      return podNode(node.name, portName, pod.host, ip, eth.mac?.toString(), false);
    }
  }
  const att = net.topology.attachments(node).byPort.get(port);
  if (att?.length === 1 && att[0]!.ports.length === 1) {
    const a = att[0]!;
    const ip = a.iface.addrs.find((x) => x.family === 4)?.local.toString() ?? a.pod.host.ips?.[0];
    return podNode(node.name, portName, a.pod.host, ip, a.iface.mac?.toString(), true);
  }
  return undefined;
}

function podNode(node: string, port: string, h: Host, ip: string | undefined, mac: string | undefined, inferred: boolean): BridgeNode {
  return { kind: 'pod', node, port, host: h.name, namespace: h.namespace ?? 'default', pod: h.pod ?? h.name, ...(ip ? { ip } : {}), ...(mac ? { mac } : {}), inferred };
}

/** The problems of a node that no bridge, port or tunnel of it shows: routes, forwarding, its pods' own. */
export function nodeProblems(net: Network, ns: Netns): Problem[] {
  return placed(net, ns).node;
}

const placements = new WeakMap<Netns, { node: Problem[]; bridge: Map<string, Problem[]>; dev: Map<string, Problem[]> }>();

/**
 * The checks of a node (and of the pods on it) placed on the most specific entry of the tree they
 * name: a port or tunnel by its device, a bridge by its name, else the node itself.
 */
function placed(net: Network, ns: Netns): { node: Problem[]; bridge: Map<string, Problem[]>; dev: Map<string, Problem[]> } {
  let p = placements.get(ns);
  if (p) return p;
  p = { node: [], bridge: new Map(), dev: new Map() };
  // The node's own checks and its pods' (checksFor the node gives both).
  const mine: Discrepancy[] = checksFor(net, [ns.name]).all;
  for (const d of mine) {
    const problem: Problem = { text: d.text, fix: d.fix, owner: d.owner };
    const dev = d.host === ns.name && d.about.dev !== undefined ? ns.ifaces.get(d.about.dev) : undefined;
    const add = (m: Map<string, Problem[]>, k: string) => m.set(k, [...(m.get(k) ?? []), problem]);
    if (dev && dev.type !== 'bridge' && (dev.master !== undefined || ['vxlan', 'ipip', 'wireguard'].includes(dev.type)) && !d.about.prefix) add(p.dev, dev.name);
    else if (d.host === ns.name && d.about.bridge !== undefined && !d.about.prefix) add(p.bridge, d.about.bridge);
    else if (dev?.type === 'bridge' && !d.about.prefix) add(p.bridge, dev.name);
    else p.node.push(problem);
  }
  placements.set(ns, p);
  return p;
}
