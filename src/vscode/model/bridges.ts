// The Node Bridges tree as plain tagged data (no vscode here): cluster -> nodes -> bridges -> ports ->
// the pod behind each port, each node's bonds (with their slaves), the devices that carry VLAN
// sub-interfaces or macvlan/ipvlan devices (with them, and the pods whose interface is a macvlan or
// ipvlan on them), tunnels and routes. Problems the tables already show are attached to the node they
// concern. TreeItems are made from these in the view.
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
  | { kind: 'port'; node: string; bridge: string; name: string; mtu: number; up: boolean; state?: string; vlan?: VlanOf; problems: Problem[] }
  | { kind: 'pod'; node: string; port: string; host: string; namespace: string; pod: string; ip?: string; mac?: string; inferred: boolean; on?: UpperOf }
  /** A bond (drivers/net/bonding) and how it picks a slave. */
  | { kind: 'bond'; node: string; name: string; mode?: string; activeSlave?: string; xmitHashPolicy?: string; mtu: number; up: boolean; slaves: number; problems: Problem[] }
  /** A bond's slave: ACTIVE or BACKUP, and its MII link status (`bond_slave state ... mii_status ...`). */
  | { kind: 'slave'; node: string; bond: string; name: string; state?: string; miiStatus?: string; mtu: number; up: boolean; problems: Problem[] }
  /** A device that is neither bridge nor bond but carries VLAN sub-interfaces or macvlan/ipvlan devices (a NIC). */
  | { kind: 'lower'; node: string; name: string; type?: string; mtu: number; up: boolean; uppers: number; problems: Problem[] }
  /** An 802.1Q sub-interface under its parent (`eth0.100@eth0 ... vlan protocol 802.1Q id 100`). */
  /** `uppers`: the devices and pods on the VLAN device (macvlans, stacked VLANs), listed under it. */
  | { kind: 'vlan'; node: string; name: string; id: number; protocol?: string; parent: string; master?: string; mtu: number; up: boolean; uppers: number; problems: Problem[] }
  /** A macvlan or ipvlan device under its parent, with its mode. */
  | { kind: 'macvlan'; node: string; name: string; type: 'macvlan' | 'ipvlan'; mode?: string; flag?: string; parent: string; mtu: number; up: boolean; problems: Problem[] }
  | { kind: 'tunnel'; node: string; name: string; type: string; vni?: number; local?: string; dstport?: number; mtu: number; up: boolean; problems: Problem[] }
  | { kind: 'vtep'; node: string; tunnel: string; mac: string; dst: string; peer?: string }
  | { kind: 'routes'; node: string; count: number }
  | { kind: 'route'; node: string; text: string; line: number }
  | { kind: 'message'; text: string };

/** A bridge port that is an 802.1Q sub-interface: its id and lower device. */
export interface VlanOf {
  id: number;
  parent: string;
}

/** A pod whose interface is a macvlan/ipvlan (or an 802.1Q sub-interface) on a node's device. */
export interface UpperOf {
  type: 'macvlan' | 'ipvlan' | 'vlan';
  /** The pod's device (eth0, net1). */
  dev: string;
  /** The macvlan/ipvlan mode, or the VLAN id. */
  mode?: string;
  id?: number;
}

const UPPER_TYPES = ['vlan', 'macvlan', 'ipvlan'];

/** A VLAN or macvlan/ipvlan device whose lower device is in the same namespace: the tree shows it under that device. */
function shownUnderParent(ns: Netns, i: Iface): boolean {
  return UPPER_TYPES.includes(i.type) && i.link?.link !== undefined && ns.ifaces.has(i.link.link);
}

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
      for (const i of ns.ifaces.values()) if (i.type === 'bond') out.push(bondEntry(net, ns, i));
      // The devices VLANs and macvlans hang from, when they are not a bridge or bond (shown above) or
      // themselves such a device (shown under their own parent).
      for (const i of ns.ifaces.values()) {
        if (i.type === 'bridge' || i.type === 'bond' || shownUnderParent(ns, i)) continue;
        const n = uppers(net, ns, i).length;
        if (n) out.push({ kind: 'lower', node: ns.name, name: i.name, ...(i.link?.type ? { type: i.link.type } : {}), mtu: i.mtu, up: i.up && i.lowerUp, uppers: n, problems: placed(net, ns).dev.get(i.name) ?? [] });
      }
      for (const i of ns.ifaces.values()) if (['vxlan', 'ipip', 'wireguard'].includes(i.type)) out.push(tunnelEntry(net, ns, i));
      const count = routeCount(ns);
      out.push({ kind: 'routes', node: ns.name, count });
      return out;
    }
    case 'bridge': {
      const ports = net.topology.ports(ns, parent.name).map((p) => portEntry(net, ns, parent.name, p));
      const br = ns.ifaces.get(parent.name);
      return br ? [...ports, ...uppers(net, ns, br)] : ports;
    }
    case 'bond': {
      const bond = ns.ifaces.get(parent.name);
      return bond ? [...slaves(net, ns, bond), ...uppers(net, ns, bond)] : [];
    }
    case 'lower':
    case 'vlan': {
      const dev = ns.ifaces.get(parent.name);
      return dev ? uppers(net, ns, dev) : [];
    }
    case 'port': {
      const pod = podBehindPort(net, ns, parent.name);
      if (pod) return [pod];
      const self = ns.ifaces.get(parent.name);
      if (self?.type === 'bond') return slaves(net, ns, self);
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
  const v = p.link?.vlan;
  const vlan = v && p.link?.link !== undefined ? { vlan: { id: v.id, parent: p.link.link } } : {};
  return { kind: 'port', node: ns.name, bridge, name: p.name, mtu: p.mtu, up: p.up && p.lowerUp, ...(state ? { state } : {}), ...vlan, problems };
}

function bondEntry(net: Network, ns: Netns, b: Iface): BridgeNode {
  const bond = b.link?.bond;
  return {
    kind: 'bond',
    node: ns.name,
    name: b.name,
    ...(bond?.mode ? { mode: bond.mode } : {}),
    ...(bond?.activeSlave ? { activeSlave: bond.activeSlave } : {}),
    ...(bond?.xmitHashPolicy ? { xmitHashPolicy: bond.xmitHashPolicy } : {}),
    mtu: b.mtu,
    up: b.up && b.lowerUp,
    slaves: [...ns.ifaces.values()].filter((i) => i.master === b.name).length,
    problems: placed(net, ns).dev.get(b.name) ?? [],
  };
}

/** A bond's slaves in ifindex order, each with its ACTIVE/BACKUP state and MII status. */
function slaves(net: Network, ns: Netns, bond: Iface): BridgeNode[] {
  return [...ns.ifaces.values()]
    .filter((i) => i.master === bond.name)
    .sort((a, b) => a.ifindex - b.ifindex)
    .map((i): BridgeNode => {
      const p = i.link?.bondPort;
      return { kind: 'slave', node: ns.name, bond: bond.name, name: i.name, ...(p?.state ? { state: p.state } : {}), ...(p?.miiStatus ? { miiStatus: p.miiStatus } : {}), mtu: i.mtu, up: i.up && i.lowerUp, problems: placed(net, ns).dev.get(i.name) ?? [] };
    });
}

/**
 * What hangs from a device: its VLAN sub-interfaces and macvlan/ipvlan devices on this node (their
 * lower device is `@dev`), then the pods whose interface is one of these on it (a macvlan moved
 * into the pod's namespace shows `@ifN` with the ifindex of its parent on the node).
 */
function uppers(net: Network, ns: Netns, dev: Iface): BridgeNode[] {
  const out: BridgeNode[] = [];
  const problems = (i: Iface) => placed(net, ns).dev.get(i.name) ?? [];
  for (const i of [...ns.ifaces.values()].sort((a, b) => a.ifindex - b.ifindex)) {
    if (i.link?.link !== dev.name) continue;
    if (i.type === 'vlan' && i.link.vlan) {
      const v = i.link.vlan;
      out.push({ kind: 'vlan', node: ns.name, name: i.name, id: v.id, ...(v.protocol ? { protocol: v.protocol } : {}), parent: dev.name, ...(i.master ? { master: i.master } : {}), mtu: i.mtu, up: i.up && i.lowerUp, uppers: uppers(net, ns, i).length, problems: problems(i) });
    } else if (i.type === 'macvlan' || i.type === 'ipvlan') {
      const m = i.type === 'macvlan' ? i.link.macvlan : i.link.ipvlan;
      const flag = i.type === 'ipvlan' ? i.link.ipvlan?.flag : undefined;
      out.push({ kind: 'macvlan', node: ns.name, name: i.name, type: i.type, ...(m?.mode ? { mode: m.mode } : {}), ...(flag ? { flag } : {}), parent: dev.name, mtu: i.mtu, up: i.up && i.lowerUp, problems: problems(i) });
    }
  }
  for (const pod of net.podsOnNode.get(ns.name) ?? []) {
    for (const eth of pod.ifaces.values()) {
      if (!UPPER_TYPES.includes(eth.type) || eth.link?.linkIndex !== dev.ifindex || eth.link.link !== undefined) continue;
      const t = eth.type as UpperOf['type'];
      const mode = t === 'macvlan' ? eth.link.macvlan?.mode : t === 'ipvlan' ? eth.link.ipvlan?.mode : undefined;
      const on: UpperOf = { type: t, dev: eth.name, ...(mode ? { mode } : {}), ...(t === 'vlan' && eth.link.vlan ? { id: eth.link.vlan.id } : {}) };
      const ip = eth.addrs.find((a) => a.family === 4)?.local.toString() ?? pod.host.ips?.[0];
      out.push({ ...(podNode(ns.name, dev.name, pod.host, ip, eth.mac?.toString(), false) as Extract<BridgeNode, { kind: 'pod' }>), on });
    }
  }
  return out;
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
    if (dev && dev.type !== 'bridge' && (dev.master !== undefined || ['vxlan', 'ipip', 'wireguard', 'bond'].includes(dev.type) || shownUnderParent(ns, dev)) && !d.about.prefix) add(p.dev, dev.name);
    else if (d.host === ns.name && d.about.bridge !== undefined && !d.about.prefix) add(p.bridge, d.about.bridge);
    else if (dev?.type === 'bridge' && !d.about.prefix) add(p.bridge, dev.name);
    else p.node.push(problem);
  }
  placements.set(ns, p);
  return p;
}

type Device = Extract<BridgeNode, { kind: 'bond' | 'slave' | 'lower' | 'vlan' | 'macvlan' }>;

/** How the tree shows a bond, slave, lower device, VLAN sub-interface or macvlan/ipvlan (problems are added by the view). */
export function deviceText(n: Device): { label: string; description: string; tooltip: string[] } {
  const join = (parts: (string | undefined)[]) => parts.filter(Boolean).join(' · ');
  const down = n.up ? undefined : 'DOWN';
  switch (n.kind) {
    case 'bond':
      return {
        label: n.name,
        description: join(['bond', n.mode, `${n.slaves} slave${n.slaves === 1 ? '' : 's'}`, n.activeSlave ? `active ${n.activeSlave}` : undefined, `mtu ${n.mtu}`, down]),
        tooltip: [`bond ${n.name} on ${n.node}`, `mode ${n.mode ?? '?'}${n.xmitHashPolicy ? `, xmit_hash_policy ${n.xmitHashPolicy}` : ''}`, ...(n.activeSlave ? [`active slave ${n.activeSlave}`] : [])],
      };
    case 'slave':
      return {
        label: n.name,
        description: join([n.state ?? 'state ?', `MII ${n.miiStatus ?? '?'}`, `mtu ${n.mtu}`, down]),
        tooltip: [`slave ${n.name} of bond ${n.bond} on ${n.node}`, `${n.state ?? 'state not in the capture'}, MII link ${n.miiStatus ?? '?'}`],
      };
    case 'lower':
      return {
        label: n.name,
        description: join([n.type, `${n.uppers} on it`, `mtu ${n.mtu}`, down]),
        tooltip: [`${n.name} on ${n.node}: the lower device of ${n.uppers} VLAN, macvlan or ipvlan device${n.uppers === 1 ? '' : 's'} or pod interface${n.uppers === 1 ? '' : 's'}`],
      };
    case 'vlan':
      return {
        label: `${n.name} (VLAN ${n.id})`,
        description: join([`${n.protocol ?? '802.1Q'} on ${n.parent}`, n.master ? `port of ${n.master}` : undefined, `mtu ${n.mtu}`, down]),
        tooltip: [vlanWords(n.name, n.id, n.parent, n.protocol)],
      };
    case 'macvlan':
      return {
        label: n.name,
        description: join([`${n.type}${n.mode ? ` ${n.mode}` : ''}${n.flag ? ` ${n.flag}` : ''} on ${n.parent}`, `mtu ${n.mtu}`, down]),
        tooltip: [`${n.name} on ${n.node}: ${upperWords({ type: n.type, ...(n.mode ? { mode: n.mode } : {}), ...(n.flag ? { flag: n.flag } : {}) })} on ${n.parent}`],
      };
  }
}

/** A bridge port that is an 802.1Q sub-interface, in words (empty for other ports). */
export function portVlanWords(n: Extract<BridgeNode, { kind: 'port' }>): string[] {
  return n.vlan ? [vlanWords(n.name, n.vlan.id, n.vlan.parent)] : [];
}

/** The first line of a pod's tooltip: behind a bridge port, or its interface a macvlan/ipvlan/VLAN on a node device. */
export function podOnWords(n: Extract<BridgeNode, { kind: 'pod' }>): string {
  if (!n.on) return `pod ${n.namespace}/${n.pod} behind ${n.port} on ${n.node}`;
  return `pod ${n.namespace}/${n.pod} on ${n.port} of ${n.node}: its ${n.on.dev} is ${upperWords(n.on)} on ${n.port}`;
}

function vlanWords(name: string, id: number, parent: string, protocol = '802.1Q'): string {
  return `${name} is the ${protocol} sub-interface for VLAN ${id} on ${parent}: it tags what it sends with ${id}, and takes the frames ${parent} receives tagged ${id}, untagged`;
}

/** "a macvlan in bridge mode", "an ipvlan in l3 mode (bridge)", "the 802.1Q sub-interface for VLAN 100". */
export function upperWords(on: { type: UpperOf['type']; mode?: string; flag?: string; id?: number }): string {
  if (on.type === 'vlan') return `the 802.1Q sub-interface for VLAN ${on.id ?? '?'}`;
  return `a${on.type === 'ipvlan' ? 'n' : ''} ${on.type}${on.mode ? ` in ${on.mode} mode` : ''}${on.flag ? ` (${on.flag})` : ''}`;
}
