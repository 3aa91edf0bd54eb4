// The Node Bridges tree as plain tagged data (no vscode here): cluster -> nodes -> bridges -> ports ->
// the pod behind each port, and each node's tunnels and routes. Problems the tables already show are
// attached to the node they concern. TreeItems are made from these in the view.
import type { Host } from '../../capture/document';
import { Prefix } from '../../net/addr';
import type { Iface, Netns, Network } from '../../engine/network';

export interface Problem {
  text: string;
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
      for (const i of ns.ifaces.values()) if (['vxlan', 'ipip', 'wireguard'].includes(i.type)) out.push(tunnelEntry(ns, i));
      const count = routeCount(ns);
      out.push({ kind: 'routes', node: ns.name, count });
      return out;
    }
    case 'bridge':
      return net.topology.ports(ns, parent.name).map((p) => portEntry(ns, parent.name, p));
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
  const problems: Problem[] = [];
  if (!br.up) problems.push({ text: `${br.name} is down` });
  // An FDB entry that names a device which is not a port of this bridge (stale or wrong).
  for (const [k, list] of ns.fdb) {
    if (!k.startsWith(`${br.name}|`)) continue;
    for (const e of list) {
      if (e.dev === br.name) continue;
      const port = ns.ifaces.get(e.dev);
      if (!port) problems.push({ text: `FDB entry ${e.mac} points at ${e.dev}, which does not exist` });
      else if (port.master !== br.name) problems.push({ text: `FDB entry ${e.mac} points at ${e.dev}, which is not a port of ${br.name}` });
    }
  }
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

function portEntry(ns: Netns, bridge: string, p: Iface): BridgeNode {
  const problems: Problem[] = [];
  const state = p.link?.bridgePort?.state;
  if (!p.up) problems.push({ text: `${p.name} is down` });
  else if (!p.lowerUp) problems.push({ text: `${p.name} has no carrier (its peer is down)` });
  if (state !== undefined && state !== 'forwarding') problems.push({ text: `port state ${state}: it does not forward` });
  const br = ns.ifaces.get(bridge);
  if (br && p.mtu < br.mtu) problems.push({ text: `MTU ${p.mtu} is smaller than ${bridge}'s ${br.mtu}: larger frames are dropped here` });
  return { kind: 'port', node: ns.name, bridge, name: p.name, mtu: p.mtu, up: p.up && p.lowerUp, ...(state ? { state } : {}), problems };
}

function tunnelEntry(ns: Netns, t: Iface): BridgeNode {
  const v = t.link?.vxlan;
  const problems: Problem[] = [];
  if (!t.up) problems.push({ text: `${t.name} is down` });
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

/** Problems visible on a node without tracing: a missing route to another node's podCIDR. */
export function nodeProblems(net: Network, ns: Netns): Problem[] {
  if (!ns.probes.has('routes4')) return [];
  const out: Problem[] = [];
  for (const other of net.capture.hosts) {
    if (other.role !== 'node' || other.name === ns.name) continue;
    for (const cidr of other.podCIDRs ?? []) {
      const p = Prefix.parse(cidr);
      if (!p.ok || p.value.family !== 4) continue;
      const ans = ns.fib[4].lookup({ dst: p.value.masked().addr });
      const r = ans.kind === 'route' ? ans.route.rec : undefined;
      // The default route does not count: pod traffic to it would leave the cluster network.
      if (!r || r.dst.length === 0 || r.type !== 'unicast') out.push({ text: `no route to ${other.name}'s podCIDR ${cidr}${r && r.type !== 'unicast' ? ` (${r.type} route)` : ''}` });
    }
  }
  return out;
}
