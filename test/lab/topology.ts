// A declarative description of a cluster's data plane, and the code that builds it in a Lab with
// the same `ip`/`bridge` commands the real components run, so the tables the lab produces are the
// tables a real node shows.
//
// The shape: an underlay (one switch namespace with a Linux bridge, one port per node and for the
// optional router; more segments, each its own subnet and switch, joined by the router), nodes with
// an eth0 on their segment's switch, and a CNI that wires pods to nodes and nodes to each other.
// CNIs are plugins keyed by `cni.kind`: flannel's VXLAN backend (here), flannel host-gw and the
// bridge plugin with dual-stack host-gw routes (cni-bridge.ts), Calico's routed veths with proxy
// ARP and its VXLAN overlay (cni-calico.ts). A new one adds a variant to `CniSpec` and an entry in
// `CNI_PLUGINS`; the underlay, the pods' namespaces and the capture stay as they are.
import type { CaptureLink, Role } from '../../src/capture/document';
import { Addr, Mac, Prefix } from '../../src/net/addr';
import { bridgeDualStack, flannelHostGw, type BridgeSpec, type FlannelHostGwSpec } from './cni-bridge';
import { calicoVxlan, type CalicoVxlanSpec } from './cni-calico';
import { bridgeSubnetReserved, cniPodMac, hostVethName, IFNAME_RE, nth, stableMac } from './cni-util';
import type { Lab } from './netns';

export { bridgeSubnetReserved, cniPodMac, hostVethName, stableMac } from './cni-util';

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
  /** The same segment's IPv6 subnet (dual-stack nodes), e.g. fd00:4:7::/64. */
  cidr6?: string;
  /** eth0 MTU of nodes and router (default 1500). */
  mtu?: number;
  /** The L2 segment: a namespace holding a Linux bridge with one port per node (and router). */
  switch: SwitchSpec;
  /** An L3 hop on the segment; when present it is every node's default gateway. */
  router?: { name: string; ip: string; mac?: string };
  /**
   * More L2 segments, each with its own subnet and switch, joined to the first one by the router
   * (which needs to be present): its eth1, eth2... A node belongs to the segment whose cidr holds its
   * ip, and its default gateway is the router's address there.
   */
  segments?: SegmentSpec[];
}

export interface SwitchSpec {
  name: string;
  bridge?: string;
  mac?: string;
}

export interface SegmentSpec {
  cidr: string;
  switch: SwitchSpec;
  /** The router's address on this segment. */
  routerIp: string;
  routerMac?: string;
}

export interface NodeSpec {
  name: string;
  /** eth0 address (Kubernetes InternalIP), inside underlay.cidr (or a segment's cidr). */
  ip: string;
  /** eth0 IPv6 address (the second InternalIP of a dual-stack node), inside underlay.cidr6. */
  ip6?: string;
  /** spec.podCIDR, inside the CNI's network (for Calico: the node's IPAM block). */
  podCIDR: string;
  /** The IPv6 spec.podCIDRs entry of a dual-stack node, inside the CNI's network6. */
  podCIDR6?: string;
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
  /** The pod's IPv6 address (dual stack), inside its node's podCIDR6. */
  ip6?: string;
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

/** One variant per CNI the lab can build; a new one goes here and in CNI_PLUGINS. */
export type CniSpec = FlannelVxlanSpec | FlannelHostGwSpec | BridgeSpec | CalicoVxlanSpec;

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
  underlay: { prefix: Prefix; prefix6?: Prefix; mtu: number; switchName: string; bridge: string; bridgeMac: string };
  /** Every L2 segment; [0] is the underlay above. */
  segments: SegmentPlan[];
  router?: { name: string; ip: string; mac: string; port: PortPlan; legs: RouterLeg[] };
  nodes: NodePlan[];
}

export interface SegmentPlan {
  prefix: Prefix;
  prefix6?: Prefix;
  switchName: string;
  bridge: string;
  bridgeMac: string;
  /** The router's address on this segment (every node's default gateway there). */
  routerIp?: string;
}

/** One interface of the router: eth0 on segment 0, eth1... on the others. */
export interface RouterLeg {
  dev: string;
  segment: number;
  ip: string;
  mac: string;
  port: PortPlan;
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
  ip6?: string;
  mac: string;
  vtepMac: string;
  podCIDR: Prefix;
  podCIDR6?: Prefix;
  docker0: { mac: string } | undefined;
  /** Index into ClusterPlan.segments. */
  segment: number;
  port: PortPlan;
  pods: PodPlan[];
}

export interface PodPlan {
  name: string;
  namespace: string;
  ip: string;
  ip6?: string;
  mac: string;
  /** The node side of the pod's veth pair. */
  hostVeth: string;
  hostVethMac: string;
}

/** Validates a spec and fixes every derived value. Throws one error listing every problem. */
export function planCluster(spec: ClusterSpec): ClusterPlan {
  const problems: string[] = [];
  const need = <T>(r: { ok: true; value: T } | { ok: false; error: string }, where: string): T | undefined => {
    if (!r.ok) problems.push(`${where}: ${r.error}`);
    return r.ok ? r.value : undefined;
  };
  const cni: CniPlugin = CNI_PLUGINS[spec.cni.kind] as CniPlugin;
  const underlay = need(Prefix.parse(spec.underlay.cidr), 'underlay.cidr');
  if (underlay && underlay.family !== 4) problems.push('underlay.cidr: only IPv4 underlays are supported so far');
  const underlay6 = spec.underlay.cidr6 === undefined ? undefined : need(Prefix.parse(spec.underlay.cidr6), 'underlay.cidr6');
  if (underlay6 && underlay6.family !== 6) problems.push(`underlay.cidr6: ${spec.underlay.cidr6} is not an IPv6 subnet`);
  const network = need(Prefix.parse(spec.cni.network), 'cni.network');
  const network6Text = 'network6' in spec.cni ? spec.cni.network6 : undefined;
  const network6 = network6Text === undefined ? undefined : need(Prefix.parse(network6Text), 'cni.network6');
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
  const extra = spec.underlay.segments ?? [];
  const segPrefixes: (Prefix | undefined)[] = [underlay];
  extra.forEach((sg, k) => {
    const w = `underlay.segments[${k}]`;
    const p = need(Prefix.parse(sg.cidr), `${w}.cidr`);
    if (p && p.family !== 4) problems.push(`${w}.cidr: only IPv4 segments are supported so far`);
    for (const [o, q] of segPrefixes.entries()) if (p && q?.overlaps(p)) problems.push(`${w}.cidr: ${sg.cidr} overlaps ${o === 0 ? 'underlay.cidr' : `underlay.segments[${o - 1}].cidr`}`);
    segPrefixes.push(p);
  });
  if (extra.length && !spec.underlay.router) problems.push('underlay.segments: segments are joined by the router, so underlay.router is required');
  /** The segment an underlay address belongs to, or -1. */
  const segmentOf = (a: Addr) => segPrefixes.findIndex((p) => p?.contains(a) ?? false);
  const inUnderlay = (ip: string, where: string, segment?: number): number => {
    const a = need(Addr.parse(ip), where);
    let seg = -1;
    if (a) {
      seg = segmentOf(a);
      if (segment !== undefined && seg !== segment) problems.push(`${where}: ${ip} is outside ${segment === 0 ? `the underlay ${underlay}` : `segment ${extra[segment - 1]!.cidr}`}`);
      else if (seg < 0 && underlay) problems.push(`${where}: ${ip} is outside the underlay ${[underlay, ...extra.map((x) => x.cidr)].join(' and ')}`);
    }
    claimIp(ip, where);
    return seg;
  };

  claim(spec.underlay.switch.name, 'underlay.switch');
  checkMac(spec.underlay.switch.mac, 'underlay.switch.mac');
  const bridge = spec.underlay.switch.bridge ?? 'br0';
  extra.forEach((sg, k) => {
    claim(sg.switch.name, `underlay.segments[${k}].switch`);
    checkMac(sg.switch.mac, `underlay.segments[${k}].switch.mac`);
    checkMac(sg.routerMac, `underlay.segments[${k}].routerMac`);
    inUnderlay(sg.routerIp, `underlay.segments[${k}].routerIp`, k + 1);
  });
  if (spec.underlay.router) {
    claim(spec.underlay.router.name, 'underlay.router');
    inUnderlay(spec.underlay.router.ip, 'underlay.router.ip', 0);
    checkMac(spec.underlay.router.mac, 'underlay.router.mac');
  }
  const podCIDRs: { p: Prefix; where: string }[] = [];
  const nodeSegments: number[] = [];
  spec.nodes.forEach((n, i) => {
    const w = `nodes[${i}]`;
    claim(n.name, w);
    nodeSegments.push(Math.max(0, inUnderlay(n.ip, `${w}.ip`)));
    checkMac(n.mac, `${w}.mac`);
    checkMac(n.vtepMac, `${w}.vtepMac`);
    if (n.ip6 !== undefined) {
      const a6 = need(Addr.parse(n.ip6), `${w}.ip6`);
      if (a6 && !underlay6) problems.push(`${w}.ip6: the node has an IPv6 address but underlay.cidr6 is not set`);
      else if (a6 && underlay6 && !underlay6.contains(a6)) problems.push(`${w}.ip6: ${n.ip6} is outside the underlay ${underlay6}`);
      claimIp(n.ip6, `${w}.ip6`);
    }
    const pc = need(Prefix.parse(n.podCIDR), `${w}.podCIDR`);
    if (pc) {
      if (!pc.isMasked()) problems.push(`${w}.podCIDR: ${n.podCIDR} has host bits set (did you mean ${pc.masked()}?)`);
      if (network && !network.covers(pc)) problems.push(`${w}.podCIDR: ${n.podCIDR} is outside the CNI network ${network}`);
      if (pc.length > 30) problems.push(`${w}.podCIDR: ${n.podCIDR} is too small for a gateway and pods`);
      for (const o of podCIDRs) if (o.p.overlaps(pc)) problems.push(`${w}.podCIDR: ${n.podCIDR} overlaps ${o.where}.podCIDR ${o.p}`);
      podCIDRs.push({ p: pc, where: w });
    }
    const pc6 = n.podCIDR6 === undefined ? undefined : need(Prefix.parse(n.podCIDR6), `${w}.podCIDR6`);
    if (n.podCIDR6 !== undefined && !network6) problems.push(`${w}.podCIDR6: the node has an IPv6 podCIDR but the CNI has no network6`);
    if (pc6) {
      if (!pc6.isMasked()) problems.push(`${w}.podCIDR6: ${n.podCIDR6} has host bits set (did you mean ${pc6.masked()}?)`);
      if (network6 && !network6.covers(pc6)) problems.push(`${w}.podCIDR6: ${n.podCIDR6} is outside the CNI network6 ${network6}`);
      for (const o of podCIDRs) if (o.p.overlaps(pc6)) problems.push(`${w}.podCIDR6: ${n.podCIDR6} overlaps ${o.where} ${o.p}`);
      podCIDRs.push({ p: pc6, where: `${w}.podCIDR6` });
    }
    n.pods.forEach((p, j) => {
      const pw = `${w}.pods[${j}]`;
      claim(p.name, pw);
      checkMac(p.mac, `${pw}.mac`);
      const a = need(Addr.parse(p.ip), `${pw}.ip`);
      if (a && pc) {
        if (!pc.contains(a)) problems.push(`${pw}.ip: ${p.ip} is outside the node's podCIDR ${n.podCIDR}`);
        const bad = cni.reservedPodAddress(pc, a);
        if (bad) problems.push(`${pw}.ip: ${p.ip} is ${bad} of ${n.podCIDR}`);
      }
      claimIp(p.ip, `${pw}.ip`);
      if (p.ip6 !== undefined) {
        const a6 = need(Addr.parse(p.ip6), `${pw}.ip6`);
        if (a6 && !pc6) problems.push(`${pw}.ip6: the pod has an IPv6 address but its node has no podCIDR6`);
        else if (a6 && pc6) {
          if (!pc6.contains(a6)) problems.push(`${pw}.ip6: ${p.ip6} is outside the node's podCIDR6 ${n.podCIDR6}`);
          const bad = cni.reservedPodAddress(pc6, a6);
          if (bad) problems.push(`${pw}.ip6: ${p.ip6} is ${bad} of ${n.podCIDR6}`);
        }
        claimIp(p.ip6, `${pw}.ip6`);
      }
      if (!p.namespace) problems.push(`${pw}.namespace: a pod needs a Kubernetes namespace`);
    });
  });
  const cniBridge = 'bridge' in spec.cni ? spec.cni.bridge : undefined;
  for (const dev of [bridge, ...extra.map((sg) => sg.switch.bridge ?? 'br0'), cniBridge ?? 'cni0']) if (!IFNAME_RE.test(dev)) problems.push(`interface name "${dev}" is not a valid Linux interface name (1-15 characters)`);
  if (problems.length) throw new Error(`invalid cluster spec "${spec.name}":\n- ${problems.join('\n- ')}`);

  // Ports are numbered per switch, in the order nodes and then the router are cabled.
  const portNos = new Map<string, number>();
  const port = (sw: string, owner: string): PortPlan => {
    const no = (portNos.get(sw) ?? 0) + 1;
    portNos.set(sw, no);
    return { name: `p${no}`, mac: stableMac(`${sw}/${owner}`) };
  };
  const segments: SegmentPlan[] = [
    {
      prefix: underlay!,
      ...(underlay6 ? { prefix6: underlay6 } : {}),
      switchName: spec.underlay.switch.name,
      bridge,
      bridgeMac: spec.underlay.switch.mac ?? stableMac(`${spec.underlay.switch.name}/${bridge}`),
      ...(spec.underlay.router ? { routerIp: spec.underlay.router.ip } : {}),
    },
    ...extra.map((sg): SegmentPlan => {
      const br = sg.switch.bridge ?? 'br0';
      return { prefix: Prefix.must(sg.cidr), switchName: sg.switch.name, bridge: br, bridgeMac: sg.switch.mac ?? stableMac(`${sg.switch.name}/${br}`), routerIp: sg.routerIp };
    }),
  ];
  const nodes = spec.nodes.map((n, i): NodePlan => {
    const segment = nodeSegments[i]!;
    const plan: NodePlan = {
      spec: n,
      name: n.name,
      ip: n.ip,
      mac: n.mac ?? stableMac(`${n.name}/eth0`, [0x52, 0x54, 0x00]),
      vtepMac: n.vtepMac ?? stableMac(`${n.name}/vtep`),
      podCIDR: Prefix.must(n.podCIDR),
      docker0: n.docker0 === false ? undefined : { mac: stableMac(`${n.name}/docker0`, [0x02, 0x42]) },
      segment,
      port: port(segments[segment]!.switchName, n.name),
      pods: n.pods.map((p): PodPlan => {
        const names = cni.podNames(p);
        return {
          name: p.name,
          namespace: p.namespace,
          ip: p.ip,
          ...(p.ip6 !== undefined ? { ip6: p.ip6 } : {}),
          mac: p.mac ?? names.mac,
          hostVeth: names.hostVeth,
          hostVethMac: names.hostVethMac,
        };
      }),
    };
    if (n.ip6 !== undefined) plan.ip6 = n.ip6;
    if (n.podCIDR6 !== undefined) plan.podCIDR6 = Prefix.must(n.podCIDR6);
    return plan;
  });
  const r = spec.underlay.router;
  const plan: ClusterPlan = {
    underlay: {
      prefix: underlay!,
      ...(underlay6 ? { prefix6: underlay6 } : {}),
      mtu: spec.underlay.mtu ?? 1500,
      switchName: spec.underlay.switch.name,
      bridge,
      bridgeMac: segments[0]!.bridgeMac,
    },
    segments,
    nodes,
  };
  if (r) {
    const mac = r.mac ?? stableMac(`${r.name}/eth0`, [0x52, 0x54, 0x00]);
    const eth0: RouterLeg = { dev: 'eth0', segment: 0, ip: r.ip, mac, port: port(segments[0]!.switchName, r.name) };
    const legs = [
      eth0,
      ...extra.map((sg, k): RouterLeg => ({
        dev: `eth${k + 1}`,
        segment: k + 1,
        ip: sg.routerIp,
        mac: sg.routerMac ?? stableMac(`${r.name}/eth${k + 1}`, [0x52, 0x54, 0x00]),
        port: port(sg.switch.name, r.name),
      })),
    ];
    plan.router = { name: r.name, ip: r.ip, mac, port: eth0.port, legs };
  }
  return plan;
}

// ---------------------------------------------------------------------------------------------
// CNI plugins

/** What a CNI does to a cluster, in the order the lab calls it. */
export interface CniPlugin<S extends CniSpec = CniSpec> {
  /** Why a pod may not have address `a` of its node's `podCIDR` ("the gateway (.1)"), or undefined. */
  reservedPodAddress(podCIDR: Prefix, a: Addr): string | undefined;
  /** The CNI's own names for a pod's devices: pod eth0 MAC (unless the spec sets one), host-side veth name and MAC. */
  podNames(pod: PodSpec): { mac: string; hostVeth: string; hostVethMac: string };
  /** What Kubernetes reports as the node's spec.podCIDRs (default: podCIDR, then podCIDR6). */
  reportedPodCIDRs?(node: NodePlan): string[] | undefined;
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

/**
 * flannel's VXLAN backend (flanneld's vxlan_network.go / device.go) with the bridge CNI plugin and
 * host-local IPAM that flannel's CNI plugin delegates to.
 */
const flannelVxlan: CniPlugin<FlannelVxlanSpec> = {
  reservedPodAddress: bridgeSubnetReserved,
  podNames: (p) => ({ mac: cniPodMac(p.ip), hostVeth: hostVethName(p.namespace, p.name), hostVethMac: stableMac(`${p.namespace}/${p.name}/host`) }),

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
  'flannel-host-gw': flannelHostGw,
  bridge: bridgeDualStack,
  'calico-vxlan': calicoVxlan,
};

// ---------------------------------------------------------------------------------------------
// Building

/**
 * Builds the cluster in `lab`. Deterministic: the same spec creates the same namespaces, devices,
 * MACs and addresses in the same order, so interface indexes and netns ids repeat too.
 */
export function buildCluster(lab: Lab, spec: ClusterSpec): BuiltCluster {
  const plan = planCluster(spec);
  const cni = CNI_PLUGINS[spec.cni.kind] as CniPlugin;
  const cniProblems = cni.check(spec.cni, plan);
  if (cniProblems.length) throw new Error(`invalid cluster spec "${spec.name}":\n- ${cniProblems.join('\n- ')}`);
  const u = plan.underlay;
  const segs = plan.segments;

  // Namespaces first, in a fixed order.
  for (const sg of segs) lab.addNamespace(sg.switchName);
  if (plan.router) lab.addNamespace(plan.router.name);
  for (const node of plan.nodes) lab.addNamespace(node.name);
  for (const node of plan.nodes) for (const pod of node.pods) lab.addNamespace(pod.name);

  // Each switch: a plain learning bridge, no STP (ports forward at once), no address.
  for (const sg of segs) {
    lab.ip(sg.switchName, 'link', 'add', sg.bridge, 'address', sg.bridgeMac, 'type', 'bridge', 'stp_state', '0');
    lab.ip(sg.switchName, 'link', 'set', sg.bridge, 'up');
  }

  const links: CaptureLink[] = [];
  const cable = (host: string, dev: string, mac: string, segment: number, port: PortPlan) => {
    const { switchName: sw, bridge } = segs[segment]!;
    lab.ip(sw, 'link', 'add', port.name, 'address', port.mac, 'mtu', String(u.mtu), 'type', 'veth',
      'peer', 'name', dev, 'address', mac, 'mtu', String(u.mtu), 'netns', lab.ns(host));
    lab.ip(sw, 'link', 'set', port.name, 'master', bridge);
    lab.ip(sw, 'link', 'set', port.name, 'up');
    lab.ip(host, 'link', 'set', dev, 'up');
    links.push({ a: { host, dev }, b: { host: sw, dev: port.name } });
  };

  for (const node of plan.nodes) {
    const sg = segs[node.segment]!;
    cable(node.name, 'eth0', node.mac, node.segment, node.port);
    // As the article's nodes show it: prefix route and default route with metric 100 (NetworkManager).
    lab.ip(node.name, 'addr', 'add', `${node.ip}/${sg.prefix.length}`, 'brd', '+', 'dev', 'eth0', 'metric', '100');
    if (node.ip6 !== undefined && sg.prefix6) lab.ip(node.name, '-6', 'addr', 'add', `${node.ip6}/${sg.prefix6.length}`, 'dev', 'eth0', 'metric', '100');
    if (sg.routerIp !== undefined) lab.ip(node.name, 'route', 'add', 'default', 'via', sg.routerIp, 'dev', 'eth0', 'proto', 'static', 'metric', '100');
    lab.sysctl(node.name, 'net.ipv4.ip_forward=1');
  }
  if (plan.router) {
    const r = plan.router;
    for (const leg of r.legs) {
      cable(r.name, leg.dev, leg.mac, leg.segment, leg.port);
      lab.ip(r.name, 'addr', 'add', `${leg.ip}/${segs[leg.segment]!.prefix.length}`, 'brd', '+', 'dev', leg.dev);
    }
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
  for (const node of plan.nodes) {
    const podCIDRs = cni.reportedPodCIDRs ? cni.reportedPodCIDRs(node) : [node.podCIDR.toString(), ...(node.podCIDR6 ? [node.podCIDR6.toString()] : [])];
    hosts.push({ name: node.name, role: 'node', ips: [node.ip, ...(node.ip6 !== undefined ? [node.ip6] : [])], ...(podCIDRs ? { podCIDRs } : {}) });
  }
  for (const node of plan.nodes) {
    for (const pod of node.pods) hosts.push({ name: pod.name, role: 'pod', node: node.name, namespace: pod.namespace, pod: pod.name, ips: [pod.ip, ...(pod.ip6 !== undefined ? [pod.ip6] : [])] });
  }
  for (const sg of segs) hosts.push({ name: sg.switchName, role: 'switch' });
  if (plan.router) hosts.push({ name: plan.router.name, role: 'router', ips: plan.router.legs.map((l) => l.ip) });
  return { spec, hosts, links, plan };
}

/** Every address of the lab (nodes, pods, router legs; both families): nothing else may be the target of a packet. */
export function labAddresses(built: BuiltCluster): Set<string> {
  const s = new Set<string>();
  for (const h of built.hosts) for (const ip of h.ips ?? []) s.add(Addr.must(ip).toString());
  return s;
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
