// A declarative description of a cluster's data plane, and the code that builds it in a Lab with
// the same `ip`/`bridge` commands the real components run, so the tables the lab produces are the
// tables a real node shows.
//
// The shape: an underlay (one switch namespace with a Linux bridge, one port per node and for the
// optional router), nodes with an eth0 on that switch, and a CNI that wires pods to nodes and nodes
// to each other. CNIs are plugins keyed by `cni.kind`; flannel's VXLAN backend is the first. A new
// one (flannel host-gw, Calico's routed veths with proxy ARP, IPIP...) adds a variant to `CniSpec`
// and an entry in `CNI_PLUGINS`; the underlay, the pods' namespaces and the capture stay as they are.
import { createHash } from 'node:crypto';
import type { CaptureLink, Role } from '../../src/capture/document';
import { Addr, Mac, Prefix } from '../../src/engine/addr';
import type { Lab } from './netns';

// ---------------------------------------------------------------------------------------------
// The description

export interface ClusterSpec {
  /** Goes to the capture's metadata.cluster. */
  name: string;
  underlay: UnderlaySpec;
  cni: CniSpec;
  nodes: NodeSpec[];
}

export interface UnderlaySpec {
  /** The nodes' subnet, e.g. 10.4.7.0/24. */
  cidr: string;
  /** eth0 MTU of nodes and router (default 1500). */
  mtu?: number;
  /** The L2 segment: a namespace holding a Linux bridge with one port per node (and router). */
  switch: { name: string; bridge?: string; mac?: string };
  /** An L3 hop on the segment; when present it is every node's default gateway. */
  router?: { name: string; ip: string; mac?: string };
}

export interface NodeSpec {
  name: string;
  /** eth0 address (Kubernetes InternalIP), inside underlay.cidr. */
  ip: string;
  /** spec.podCIDR, inside the CNI's network. */
  podCIDR: string;
  /** eth0 MAC; derived from the name when absent. */
  mac?: string;
  /** MAC of the node's tunnel device (flannel.1); derived from the name when absent. */
  vtepMac?: string;
  /** A docker0 bridge (172.17.0.1/16, no ports) as on nodes that also run Docker. Default true. */
  docker0?: boolean;
  pods: PodSpec[];
}

export interface PodSpec {
  name: string;
  namespace: string;
  ip: string;
  /** Pod eth0 MAC; the CNI's own rule when absent (flannel's bridge plugin: 0a:58 + the IP). */
  mac?: string;
}

/** flannel with its VXLAN backend and the bridge CNI plugin with host-local IPAM, as flannel deploys them. */
export interface FlannelVxlanSpec {
  kind: 'flannel-vxlan';
  /** FLANNEL_NETWORK, e.g. 10.244.0.0/16: pods get a route to it via their gateway. */
  network: string;
  /** VNI (flannel's default 1, device flannel.<vni>). */
  vni?: number;
  /** UDP port (flannel's default 8472, the Linux VXLAN port). */
  port?: number;
  /** FLANNEL_MTU: underlay MTU minus 50 bytes of VXLAN overhead by default. */
  mtu?: number;
  /** The bridge CNI plugin's bridge (default cni0). */
  bridge?: string;
  /** hairpinMode of flannel's default CNI config (default true). */
  hairpin?: boolean;
}

/** One variant per CNI the lab can build; add host-gw, Calico, ... here and in CNI_PLUGINS. */
export type CniSpec = FlannelVxlanSpec;

// ---------------------------------------------------------------------------------------------
// What a build produces: the hosts to capture and the wiring the tables cannot show

export interface LabHost {
  name: string;
  role: Role;
  node?: string;
  namespace?: string;
  pod?: string;
  ips?: string[];
  podCIDRs?: string[];
}

export interface BuiltCluster {
  spec: ClusterSpec;
  hosts: LabHost[];
  links: CaptureLink[];
  /** Resolved plan (every MAC, port and device name), for tests and connectivity checks. */
  plan: ClusterPlan;
}

// ---------------------------------------------------------------------------------------------
// The resolved plan: every name, address and MAC fixed before anything is created

export interface ClusterPlan {
  underlay: { prefix: Prefix; mtu: number; switchName: string; bridge: string; bridgeMac: string };
  router?: { name: string; ip: string; mac: string; port: PortPlan };
  nodes: NodePlan[];
}

export interface PortPlan {
  /** Port name in the switch namespace. */
  name: string;
  mac: string;
}

export interface NodePlan {
  spec: NodeSpec;
  name: string;
  ip: string;
  mac: string;
  vtepMac: string;
  podCIDR: Prefix;
  docker0: { mac: string } | undefined;
  port: PortPlan;
  pods: PodPlan[];
}

export interface PodPlan {
  name: string;
  namespace: string;
  ip: string;
  mac: string;
  /** The node side of the pod's veth pair. */
  hostVeth: string;
  hostVethMac: string;
}

/**
 * A MAC that looks random but is derived from `seed`, so every build gives every device the same
 * address (and the same IPv6 link-local address). Locally administered unicast unless an OUI is given.
 */
export function stableMac(seed: string, oui: readonly number[] = []): string {
  const h = createHash('sha256').update(seed).digest();
  const bytes = [...oui, ...h.subarray(0, 6 - oui.length)];
  if (oui.length === 0) bytes[0] = (bytes[0]! & 0xfc) | 0x02;
  return Mac.must(bytes.map((b) => b.toString(16).padStart(2, '0')).join(':')).toString();
}

/** flannel's bridge plugin: 0a:58 followed by the pod's IPv4 address (10.244.1.3 -> 0a:58:0a:f4:01:03). */
export function cniPodMac(ip: string): string {
  const a = Addr.must(ip);
  if (a.family !== 4) throw new Error(`cniPodMac: ${ip} is not IPv4`);
  const o = [a.v4 >>> 24, (a.v4 >>> 16) & 255, (a.v4 >>> 8) & 255, a.v4 & 255];
  return ['0a', '58', ...o.map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/** `veth` + 8 hex digits, the shape of the CNI's host-side names (random there, derived from the pod here). */
export function hostVethName(namespace: string, pod: string): string {
  return 'veth' + createHash('sha256').update(`${namespace}/${pod}`).digest('hex').slice(0, 8);
}

const IFNAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;

/** Validates a spec and fixes every derived value. Throws one error listing every problem. */
export function planCluster(spec: ClusterSpec): ClusterPlan {
  const problems: string[] = [];
  const need = <T>(r: { ok: true; value: T } | { ok: false; error: string }, where: string): T | undefined => {
    if (!r.ok) problems.push(`${where}: ${r.error}`);
    return r.ok ? r.value : undefined;
  };
  const underlay = need(Prefix.parse(spec.underlay.cidr), 'underlay.cidr');
  if (underlay && underlay.family !== 4) problems.push('underlay.cidr: only IPv4 underlays are supported so far');
  const network = need(Prefix.parse(spec.cni.network), 'cni.network');
  const names = new Map<string, string>();
  const claim = (name: string, where: string) => {
    if (names.has(name)) problems.push(`${where}: host name "${name}" is also used by ${names.get(name)}`);
    else names.set(name, where);
  };
  const usedIps = new Map<string, string>();
  const claimIp = (ip: string, where: string) => {
    if (usedIps.has(ip)) problems.push(`${where}: ${ip} is also used by ${usedIps.get(ip)}`);
    else usedIps.set(ip, where);
  };
  const checkMac = (m: string | undefined, where: string) => {
    if (m !== undefined) need(Mac.parse(m), where);
  };
  const inUnderlay = (ip: string, where: string) => {
    const a = need(Addr.parse(ip), where);
    if (a && underlay && !underlay.contains(a)) problems.push(`${where}: ${ip} is outside the underlay ${underlay}`);
    claimIp(ip, where);
  };

  claim(spec.underlay.switch.name, 'underlay.switch');
  checkMac(spec.underlay.switch.mac, 'underlay.switch.mac');
  const bridge = spec.underlay.switch.bridge ?? 'br0';
  if (spec.underlay.router) {
    claim(spec.underlay.router.name, 'underlay.router');
    inUnderlay(spec.underlay.router.ip, 'underlay.router.ip');
    checkMac(spec.underlay.router.mac, 'underlay.router.mac');
  }
  const podCIDRs: { p: Prefix; where: string }[] = [];
  spec.nodes.forEach((n, i) => {
    const w = `nodes[${i}]`;
    claim(n.name, w);
    inUnderlay(n.ip, `${w}.ip`);
    checkMac(n.mac, `${w}.mac`);
    checkMac(n.vtepMac, `${w}.vtepMac`);
    const pc = need(Prefix.parse(n.podCIDR), `${w}.podCIDR`);
    if (pc) {
      if (!pc.isMasked()) problems.push(`${w}.podCIDR: ${n.podCIDR} has host bits set (did you mean ${pc.masked()}?)`);
      if (network && !network.covers(pc)) problems.push(`${w}.podCIDR: ${n.podCIDR} is outside the CNI network ${network}`);
      if (pc.length > 30) problems.push(`${w}.podCIDR: ${n.podCIDR} is too small for a gateway and pods`);
      for (const o of podCIDRs) if (o.p.overlaps(pc)) problems.push(`${w}.podCIDR: ${n.podCIDR} overlaps ${o.where}.podCIDR ${o.p}`);
      podCIDRs.push({ p: pc, where: w });
    }
    n.pods.forEach((p, j) => {
      const pw = `${w}.pods[${j}]`;
      claim(p.name, pw);
      checkMac(p.mac, `${pw}.mac`);
      const a = need(Addr.parse(p.ip), `${pw}.ip`);
      if (a && pc) {
        if (!pc.contains(a)) problems.push(`${pw}.ip: ${p.ip} is outside the node's podCIDR ${n.podCIDR}`);
        const host = a.v4 - pc.masked().addr.v4;
        if (host <= 1 || host >= 2 ** (32 - pc.length) - 1) problems.push(`${pw}.ip: ${p.ip} is the network, gateway (.1) or broadcast address of ${n.podCIDR}`);
      }
      claimIp(p.ip, `${pw}.ip`);
      if (!p.namespace) problems.push(`${pw}.namespace: a pod needs a Kubernetes namespace`);
    });
  });
  for (const dev of [bridge, spec.cni.bridge ?? 'cni0']) if (!IFNAME_RE.test(dev)) problems.push(`interface name "${dev}" is not a valid Linux interface name (1-15 characters)`);
  if (problems.length) throw new Error(`invalid cluster spec "${spec.name}":\n- ${problems.join('\n- ')}`);

  let portNo = 0;
  const port = (owner: string): PortPlan => ({ name: `p${++portNo}`, mac: stableMac(`${spec.underlay.switch.name}/${owner}`) });
  const nodes = spec.nodes.map(
    (n): NodePlan => ({
      spec: n,
      name: n.name,
      ip: n.ip,
      mac: n.mac ?? stableMac(`${n.name}/eth0`, [0x52, 0x54, 0x00]),
      vtepMac: n.vtepMac ?? stableMac(`${n.name}/vtep`),
      podCIDR: Prefix.must(n.podCIDR),
      docker0: n.docker0 === false ? undefined : { mac: stableMac(`${n.name}/docker0`, [0x02, 0x42]) },
      port: port(n.name),
      pods: n.pods.map((p) => ({
        name: p.name,
        namespace: p.namespace,
        ip: p.ip,
        mac: p.mac ?? cniPodMac(p.ip),
        hostVeth: hostVethName(p.namespace, p.name),
        hostVethMac: stableMac(`${p.namespace}/${p.name}/host`),
      })),
    }),
  );
  const r = spec.underlay.router;
  const plan: ClusterPlan = {
    underlay: {
      prefix: underlay!,
      mtu: spec.underlay.mtu ?? 1500,
      switchName: spec.underlay.switch.name,
      bridge,
      bridgeMac: spec.underlay.switch.mac ?? stableMac(`${spec.underlay.switch.name}/${bridge}`),
    },
    nodes,
  };
  if (r) plan.router = { name: r.name, ip: r.ip, mac: r.mac ?? stableMac(`${r.name}/eth0`, [0x52, 0x54, 0x00]), port: port(r.name) };
  return plan;
}

// ---------------------------------------------------------------------------------------------
// CNI plugins

/** What a CNI does to a cluster, in the order the lab calls it. */
export interface CniPlugin<S extends CniSpec = CniSpec> {
  /** Checks CNI-specific parts of the spec; returns problems. */
  check(spec: S, plan: ClusterPlan): string[];
  /** Node-wide devices the CNI creates before any pod (tunnels, bridges). */
  setupNode(lab: Lab, spec: S, plan: ClusterPlan, node: NodePlan): void;
  /** Connects one pod's namespace to its node (the CNI plugin's ADD). */
  attachPod(lab: Lab, spec: S, plan: ClusterPlan, node: NodePlan, pod: PodPlan): void;
  /** What the CNI's agent programs on `node` so it reaches `peer`'s pods. */
  addPeer(lab: Lab, spec: S, plan: ClusterPlan, node: NodePlan, peer: NodePlan): void;
}

function flannelDefaults(spec: FlannelVxlanSpec, plan: ClusterPlan) {
  const vni = spec.vni ?? 1;
  return {
    vni,
    port: spec.port ?? 8472,
    mtu: spec.mtu ?? plan.underlay.mtu - 50,
    bridge: spec.bridge ?? 'cni0',
    hairpin: spec.hairpin ?? true,
    vtep: `flannel.${vni}`,
  };
}

/** The address of host number `n` in a prefix (0 = the network address). */
function nth(prefix: Prefix, n: number): string {
  return Addr.fromV4(prefix.masked().addr.v4 + n).toString();
}

/**
 * flannel's VXLAN backend (flanneld's vxlan_network.go / device.go) with the bridge CNI plugin and
 * host-local IPAM that flannel's CNI plugin delegates to.
 */
const flannelVxlan: CniPlugin<FlannelVxlanSpec> = {
  check(spec, plan) {
    const d = flannelDefaults(spec, plan);
    const out: string[] = [];
    if (!Number.isInteger(d.vni) || d.vni < 0 || d.vni > 0xffffff) out.push(`cni.vni: ${d.vni} is not a 24-bit VNI`);
    if (!Number.isInteger(d.port) || d.port < 1 || d.port > 65535) out.push(`cni.port: ${d.port} is not a UDP port`);
    if (d.mtu < 68 || d.mtu > plan.underlay.mtu - 50) out.push(`cni.mtu: ${d.mtu} does not fit VXLAN (50 bytes) into the underlay MTU ${plan.underlay.mtu}`);
    if (!IFNAME_RE.test(d.vtep)) out.push(`cni.vni: device name ${d.vtep} is too long`);
    return out;
  },

  setupNode(lab, spec, plan, node) {
    const d = flannelDefaults(spec, plan);
    const n = node.name;
    // flanneld: the VTEP, bound to the node's underlay address; flanneld programs FDB and neighbours
    // itself, so learning is off.
    lab.ip(n, 'link', 'add', d.vtep, 'address', node.vtepMac, 'mtu', String(d.mtu), 'type', 'vxlan', 'id', String(d.vni),
      'local', node.ip, 'dev', 'eth0', 'dstport', String(d.port), 'nolearning');
    // flanneld gives the VTEP the network address of the node's subnet as a /32.
    lab.ip(n, 'addr', 'add', `${nth(node.podCIDR, 0)}/32`, 'dev', d.vtep);
    lab.ip(n, 'link', 'set', d.vtep, 'up');
    // The bridge plugin: the pods' bridge holds the gateway (first address of the subnet).
    lab.ip(n, 'link', 'add', d.bridge, 'address', stableMac(`${n}/${d.bridge}`), 'mtu', String(d.mtu), 'type', 'bridge');
    lab.ip(n, 'addr', 'add', `${nth(node.podCIDR, 1)}/${node.podCIDR.length}`, 'brd', '+', 'dev', d.bridge);
    lab.ip(n, 'link', 'set', d.bridge, 'up');
  },

  attachPod(lab, spec, plan, node, pod) {
    const d = flannelDefaults(spec, plan);
    const mtu = String(d.mtu);
    const n = node.name;
    const gw = nth(node.podCIDR, 1);
    // Created in the node's namespace with the peer directly in the pod's, as the plugin does
    // (`ip link add ... netns`): nothing ever appears in the machine's own namespace.
    lab.ip(n, 'link', 'add', pod.hostVeth, 'address', pod.hostVethMac, 'mtu', mtu, 'type', 'veth',
      'peer', 'name', 'eth0', 'address', pod.mac, 'mtu', mtu, 'netns', lab.ns(pod.name));
    lab.ip(n, 'link', 'set', pod.hostVeth, 'master', d.bridge);
    if (d.hairpin) lab.bridge(n, 'link', 'set', 'dev', pod.hostVeth, 'hairpin', 'on');
    lab.ip(n, 'link', 'set', pod.hostVeth, 'up');
    lab.ip(pod.name, 'addr', 'add', `${pod.ip}/${node.podCIDR.length}`, 'brd', '+', 'dev', 'eth0');
    lab.ip(pod.name, 'link', 'set', 'eth0', 'up');
    // host-local IPAM's routes from flannel's CNI config: the cluster network, and the default
    // route for isDefaultGateway.
    lab.ip(pod.name, 'route', 'add', spec.network, 'via', gw, 'dev', 'eth0');
    lab.ip(pod.name, 'route', 'add', 'default', 'via', gw, 'dev', 'eth0');
  },

  addPeer(lab, spec, plan, node, peer) {
    const d = flannelDefaults(spec, plan);
    const n = node.name;
    const peerVtepIp = nth(peer.podCIDR, 0);
    // flanneld's three entries per remote subnet: route via the remote VTEP address (onlink, it is
    // not on any local subnet), a permanent ARP entry for it, and the FDB entry that names the
    // remote node as the tunnel's destination.
    lab.ip(n, 'route', 'add', peer.podCIDR.masked().toString(), 'via', peerVtepIp, 'dev', d.vtep, 'onlink');
    lab.ip(n, 'neigh', 'replace', peerVtepIp, 'lladdr', peer.vtepMac, 'dev', d.vtep, 'nud', 'permanent');
    lab.bridge(n, 'fdb', 'append', peer.vtepMac, 'dev', d.vtep, 'dst', peer.ip, 'self', 'permanent');
  },
};

export const CNI_PLUGINS: { [K in CniSpec['kind']]: CniPlugin<Extract<CniSpec, { kind: K }>> } = {
  'flannel-vxlan': flannelVxlan,
};

// ---------------------------------------------------------------------------------------------
// Building

/**
 * Builds the cluster in `lab`. Deterministic: the same spec creates the same namespaces, devices,
 * MACs and addresses in the same order, so interface indexes and netns ids repeat too.
 */
export function buildCluster(lab: Lab, spec: ClusterSpec): BuiltCluster {
  const plan = planCluster(spec);
  const cni = CNI_PLUGINS[spec.cni.kind];
  const cniProblems = cni.check(spec.cni, plan);
  if (cniProblems.length) throw new Error(`invalid cluster spec "${spec.name}":\n- ${cniProblems.join('\n- ')}`);
  const u = plan.underlay;
  const sw = u.switchName;

  // Namespaces first, in a fixed order.
  lab.addNamespace(sw);
  if (plan.router) lab.addNamespace(plan.router.name);
  for (const node of plan.nodes) lab.addNamespace(node.name);
  for (const node of plan.nodes) for (const pod of node.pods) lab.addNamespace(pod.name);

  // The switch: a plain learning bridge, no STP (ports forward at once), no address.
  lab.ip(sw, 'link', 'add', u.bridge, 'address', u.bridgeMac, 'type', 'bridge', 'stp_state', '0');
  lab.ip(sw, 'link', 'set', u.bridge, 'up');

  const links: CaptureLink[] = [];
  const cable = (host: string, mac: string, port: PortPlan) => {
    lab.ip(sw, 'link', 'add', port.name, 'address', port.mac, 'mtu', String(u.mtu), 'type', 'veth',
      'peer', 'name', 'eth0', 'address', mac, 'mtu', String(u.mtu), 'netns', lab.ns(host));
    lab.ip(sw, 'link', 'set', port.name, 'master', u.bridge);
    lab.ip(sw, 'link', 'set', port.name, 'up');
    lab.ip(host, 'link', 'set', 'eth0', 'up');
    links.push({ a: { host, dev: 'eth0' }, b: { host: sw, dev: port.name } });
  };

  for (const node of plan.nodes) {
    cable(node.name, node.mac, node.port);
    // As the article's nodes show it: prefix route and default route with metric 100 (NetworkManager).
    lab.ip(node.name, 'addr', 'add', `${node.ip}/${u.prefix.length}`, 'brd', '+', 'dev', 'eth0', 'metric', '100');
    if (plan.router) lab.ip(node.name, 'route', 'add', 'default', 'via', plan.router.ip, 'dev', 'eth0', 'proto', 'static', 'metric', '100');
    lab.sysctl(node.name, 'net.ipv4.ip_forward=1');
  }
  if (plan.router) {
    const r = plan.router;
    cable(r.name, r.mac, r.port);
    lab.ip(r.name, 'addr', 'add', `${r.ip}/${u.prefix.length}`, 'brd', '+', 'dev', 'eth0');
    lab.sysctl(r.name, 'net.ipv4.ip_forward=1');
  }

  for (const node of plan.nodes) {
    if (node.docker0) {
      lab.ip(node.name, 'link', 'add', 'docker0', 'address', node.docker0.mac, 'type', 'bridge');
      lab.ip(node.name, 'addr', 'add', '172.17.0.1/16', 'brd', '+', 'dev', 'docker0');
      lab.ip(node.name, 'link', 'set', 'docker0', 'up');
    }
    cni.setupNode(lab, spec.cni, plan, node);
    for (const pod of node.pods) cni.attachPod(lab, spec.cni, plan, node, pod);
  }
  for (const node of plan.nodes) for (const peer of plan.nodes) if (peer !== node) cni.addPeer(lab, spec.cni, plan, node, peer);

  const hosts: LabHost[] = [];
  for (const node of plan.nodes) hosts.push({ name: node.name, role: 'node', ips: [node.ip], podCIDRs: [node.podCIDR.toString()] });
  for (const node of plan.nodes) {
    for (const pod of node.pods) hosts.push({ name: pod.name, role: 'pod', node: node.name, namespace: pod.namespace, pod: pod.name, ips: [pod.ip] });
  }
  hosts.push({ name: sw, role: 'switch' });
  if (plan.router) hosts.push({ name: plan.router.name, role: 'router', ips: [plan.router.ip] });
  return { spec, hosts, links, plan };
}

/** Waits until no namespace of the lab has a tentative IPv6 address (DAD done), so captures do not catch it half-way. */
export async function settle(lab: Lab, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const busy = lab.hostNames().filter((h) => lab.ip(h, '-6', 'addr', 'show', 'tentative').trim() !== '');
    if (busy.length === 0) return;
    if (Date.now() > deadline) throw new Error(`IPv6 duplicate address detection did not finish within ${timeoutMs} ms in: ${busy.join(', ')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
