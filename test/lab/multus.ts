// A second network for pods, as Multus gives it with the macvlan CNI plugin: every node gets a second
// NIC (eth1) cabled to a second L2 segment's switch, and pods get an extra interface (net1) that is a
// macvlan of their node's eth1. Built on top of a cluster that buildCluster made (the pods keep their
// eth0 from the cluster's CNI), with the plugin's own commands: the macvlan is created in the node's
// namespace on the master device, moved into the pod's namespace, renamed, addressed and brought up
// there (containernetworking/plugins' macvlan: `ip link add link eth1 name mvX type macvlan mode M`,
// `ip link set mvX netns POD`, `ip link set mvX name net1`).
import { Addr, Prefix } from '../../src/net/addr';
import { stableMac } from './cni-util';
import type { Lab } from './netns';
import type { BuiltCluster, LabHost } from './topology';

/** The kernel's macvlan modes (ip-link(8): `type macvlan mode {private|vepa|bridge|passthru|source}`). */
export type MacvlanMode = 'private' | 'vepa' | 'bridge' | 'passthru';

export interface MacvlanNetworkSpec {
  /** The second network's subnet, e.g. 192.168.50.0/24. */
  cidr: string;
  /** The second segment's switch: a namespace holding a Linux bridge (default bridge br0). */
  switch: { name: string; bridge?: string };
  /** The node device every macvlan sits on (the plugin's `master`), cabled to the switch. Default eth1. */
  master?: string;
  /** Nodes cabled to the switch, with an address of their own on it when `ip` is set. */
  nodes: { node: string; ip?: string }[];
  /** Pods of the cluster that get a macvlan of their node's master device. */
  pods: { pod: string; ip: string; mode: MacvlanMode; ifname?: string }[];
}

export interface MacvlanNetwork {
  /** The cluster with the second switch, the new cables and the pods' and nodes' new addresses. */
  built: BuiltCluster;
  prefix: Prefix;
  switchName: string;
  bridge: string;
  master: string;
  /** Per node: its master device's MAC and the switch port it is cabled to. */
  nodes: Map<string, { mac: string; port: string }>;
  /** Per pod: its macvlan's name in the pod, MAC and node. */
  pods: Map<string, { ifname: string; mac: string; node: string; ip: string }>;
}

/** Builds the second network in `lab` over `built`; throws on a spec that does not fit the cluster. */
export function addMacvlanNetwork(lab: Lab, built: BuiltCluster, spec: MacvlanNetworkSpec): MacvlanNetwork {
  const prefix = Prefix.must(spec.cidr);
  const master = spec.master ?? 'eth1';
  const bridge = spec.switch.bridge ?? 'br0';
  const sw = spec.switch.name;
  const problems: string[] = [];
  const nodeOfPod = new Map(built.plan.nodes.flatMap((n) => n.pods.map((p) => [p.name, n.name] as const)));
  for (const n of spec.nodes) if (!built.plan.nodes.some((x) => x.name === n.node)) problems.push(`nodes: ${n.node} is not a node of ${built.spec.name}`);
  for (const p of spec.pods) {
    const node = nodeOfPod.get(p.pod);
    if (!node) problems.push(`pods: ${p.pod} is not a pod of ${built.spec.name}`);
    else if (!spec.nodes.some((n) => n.node === node)) problems.push(`pods: ${p.pod}'s node ${node} is not cabled to ${sw}`);
  }
  for (const ip of [...spec.nodes.flatMap((n) => (n.ip ? [n.ip] : [])), ...spec.pods.map((p) => p.ip)]) if (!prefix.contains(Addr.must(ip))) problems.push(`${ip} is outside ${spec.cidr}`);
  if (problems.length) throw new Error(`invalid macvlan network:\n- ${problems.join('\n- ')}`);

  lab.addNamespace(sw);
  lab.ip(sw, 'link', 'add', bridge, 'address', stableMac(`${sw}/${bridge}`), 'type', 'bridge', 'stp_state', '0');
  lab.ip(sw, 'link', 'set', bridge, 'up');
  const nodes = new Map<string, { mac: string; port: string }>();
  const links = [...built.links];
  spec.nodes.forEach((n, i) => {
    const port = `p${i + 1}`;
    const mac = stableMac(`${n.node}/${master}`, [0x52, 0x54, 0x00]);
    nodes.set(n.node, { mac, port });
    lab.ip(sw, 'link', 'add', port, 'address', stableMac(`${sw}/${n.node}`), 'type', 'veth', 'peer', 'name', master, 'address', mac, 'netns', lab.ns(n.node));
    lab.ip(sw, 'link', 'set', port, 'master', bridge);
    lab.ip(sw, 'link', 'set', port, 'up');
    lab.ip(n.node, 'link', 'set', master, 'up');
    if (n.ip) lab.ip(n.node, 'addr', 'add', `${n.ip}/${prefix.length}`, 'brd', '+', 'dev', master);
    links.push({ a: { host: n.node, dev: master }, b: { host: sw, dev: port } });
  });

  const pods = new Map<string, { ifname: string; mac: string; node: string; ip: string }>();
  spec.pods.forEach((p, i) => {
    const node = nodeOfPod.get(p.pod)!;
    const ifname = p.ifname ?? 'net1';
    const tmp = `mv${i}`;
    const mac = stableMac(`${p.pod}/${ifname}`);
    // passthru takes the master's MAC (macvlan_common_newlink: eth_hw_addr_inherit), so none is given.
    lab.ip(node, 'link', 'add', 'link', master, 'name', tmp, ...(p.mode === 'passthru' ? [] : ['address', mac]), 'type', 'macvlan', 'mode', p.mode);
    lab.ip(node, 'link', 'set', tmp, 'netns', lab.ns(p.pod));
    lab.ip(p.pod, 'link', 'set', tmp, 'name', ifname);
    lab.ip(p.pod, 'addr', 'add', `${p.ip}/${prefix.length}`, 'brd', '+', 'dev', ifname);
    lab.ip(p.pod, 'link', 'set', ifname, 'up');
    pods.set(p.pod, { ifname, mac: p.mode === 'passthru' ? nodes.get(node)!.mac : mac, node, ip: p.ip });
  });

  const extraIps = new Map<string, string[]>([...spec.nodes.flatMap((n) => (n.ip ? [[n.node, [n.ip]] as [string, string[]]] : [])), ...spec.pods.map((p) => [p.pod, [p.ip]] as [string, string[]])]);
  const hosts: LabHost[] = built.hosts.map((h) => (extraIps.has(h.name) ? { ...h, ips: [...(h.ips ?? []), ...extraIps.get(h.name)!] } : h));
  hosts.push({ name: sw, role: 'switch' });
  return { built: { ...built, hosts, links }, prefix, switchName: sw, bridge, master, nodes, pods };
}
