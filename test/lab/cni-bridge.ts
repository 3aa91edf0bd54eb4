// Bridge-based CNIs without a tunnel: pods sit on a node bridge (the bridge CNI plugin with host-local
// IPAM), and nodes reach each other's pod subnets by plain routes through the underlay.
//
// - `flannel-host-gw`: flanneld's host-gw backend (flannel pkg/backend/hostgw/hostgw.go and the
//   RouteNetwork it returns): for every other node's lease one route `<subnet> via <its PublicIP>
//   dev <external interface>`, no protocol, no onlink, so the peer must be on the node's own L2
//   segment. MTU is the external interface's (no encapsulation). Pods are wired by flannel's CNI
//   plugin, which delegates to the bridge plugin exactly as with the VXLAN backend: cni0 holding the
//   subnet's first address, hairpin on, isDefaultGateway, a route to the flannel network.
// - `bridge`: the reference bridge plugin (containernetworking/plugins plugins/main/bridge/bridge.go)
//   in dual stack: host-local ranges for an IPv4 and an IPv6 subnet per node, isDefaultGateway (a
//   default route per family via the bridge's gateway address), the gateways on the bridge with
//   accept_ra=0 on it, accept_dad=0 and arp_notify=1 on the pod's eth0, forwarding on for both
//   families. Between nodes: one route per family and remote node, via the peer's address of that
//   family on eth0, as a host-gw route agent (flannel host-gw with EnableIPv6) programs them.
import { bridgeSubnetReserved, cniPodMac, hostVethName, nth, stableMac } from './cni-util';
import type { Lab } from './netns';
import type { ClusterPlan, CniPlugin, NodePlan, PodPlan, PodSpec } from './topology';

/** flannel with its host-gw backend and the bridge CNI plugin with host-local IPAM, as flannel deploys them. */
export interface FlannelHostGwSpec {
  kind: 'flannel-host-gw';
  /** FLANNEL_NETWORK, e.g. 10.244.0.0/16: pods get a route to it via their gateway. */
  network: string;
  /** The bridge CNI plugin's bridge (default cni0). */
  bridge?: string;
  /** hairpinMode of flannel's default CNI config (default true). */
  hairpin?: boolean;
}

/** The bridge CNI plugin with host-local IPAM in dual stack, and host-gw routes for both families. */
export interface BridgeSpec {
  kind: 'bridge';
  /** The IPv4 cluster network (every node's podCIDR is inside it). */
  network: string;
  /** The IPv6 cluster network (every node's podCIDR6 is inside it). */
  network6: string;
  /** Bridge name (default cni0). */
  bridge?: string;
  /** Bridge and veth MTU (default: the underlay's, nothing is encapsulated). */
  mtu?: number;
  /** hairpinMode (the plugin's default: false). */
  hairpin?: boolean;
}

interface BridgeWiring {
  bridge: string;
  mtu: number;
  hairpin: boolean;
  /** IPv4 destinations the pod routes via its gateway (host-local `routes`), `default` included. */
  routes4: string[];
  /** The same for IPv6 (dual stack only). */
  routes6: string[];
  /** Set the bridge plugin's per-interface sysctls (accept_dad, arp_notify, accept_ra). */
  pluginSysctls: boolean;
}

/** The bridge plugin's bridge: created with the MTU, accept_ra off, the gateway of each family. */
function setupBridge(lab: Lab, node: NodePlan, w: BridgeWiring): void {
  const n = node.name;
  lab.ip(n, 'link', 'add', w.bridge, 'address', stableMac(`${n}/${w.bridge}`), 'mtu', String(w.mtu), 'type', 'bridge');
  // "we want to own the routes for this interface" (ensureBridge).
  if (w.pluginSysctls) lab.sysctl(n, `net.ipv6.conf.${w.bridge}.accept_ra=0`);
  lab.ip(n, 'addr', 'add', `${nth(node.podCIDR, 1)}/${node.podCIDR.length}`, 'brd', '+', 'dev', w.bridge);
  if (node.podCIDR6) lab.ip(n, '-6', 'addr', 'add', `${nth(node.podCIDR6, 1)}/${node.podCIDR6.length}`, 'dev', w.bridge);
  lab.ip(n, 'link', 'set', w.bridge, 'up');
}

/** The bridge plugin's ADD: a veth into the bridge, the pod's addresses and its routes via the gateways. */
function attachBridgePod(lab: Lab, node: NodePlan, pod: PodPlan, w: BridgeWiring): void {
  const mtu = String(w.mtu);
  const n = node.name;
  // Created in the node's namespace with the peer directly in the pod's, so nothing ever appears in
  // the machine's own namespace (the plugin creates it in the pod and moves the host end: same result).
  lab.ip(n, 'link', 'add', pod.hostVeth, 'address', pod.hostVethMac, 'mtu', mtu, 'type', 'veth',
    'peer', 'name', 'eth0', 'address', pod.mac, 'mtu', mtu, 'netns', lab.ns(pod.name));
  lab.ip(n, 'link', 'set', pod.hostVeth, 'master', w.bridge);
  if (w.hairpin) lab.bridge(n, 'link', 'set', 'dev', pod.hostVeth, 'hairpin', 'on');
  lab.ip(n, 'link', 'set', pod.hostVeth, 'up');
  // Before any address: no DAD on the pod's point of attachment (enableDad is off by default).
  if (w.pluginSysctls) lab.sysctl(pod.name, 'net.ipv6.conf.eth0.accept_dad=0', 'net.ipv4.conf.eth0.arp_notify=1');
  lab.ip(pod.name, 'addr', 'add', `${pod.ip}/${node.podCIDR.length}`, 'brd', '+', 'dev', 'eth0');
  if (pod.ip6 !== undefined && node.podCIDR6) lab.ip(pod.name, '-6', 'addr', 'add', `${pod.ip6}/${node.podCIDR6.length}`, 'dev', 'eth0');
  lab.ip(pod.name, 'link', 'set', 'eth0', 'up');
  const gw = nth(node.podCIDR, 1);
  for (const dst of w.routes4) lab.ip(pod.name, 'route', 'add', dst, 'via', gw, 'dev', 'eth0');
  if (node.podCIDR6 && pod.ip6 !== undefined) {
    const gw6 = nth(node.podCIDR6, 1);
    for (const dst of w.routes6) lab.ip(pod.name, '-6', 'route', 'add', dst, 'via', gw6, 'dev', 'eth0');
  }
}

function flannelHostGwWiring(spec: FlannelHostGwSpec, plan: ClusterPlan): BridgeWiring {
  // flannel's CNI plugin: host-local routes [{dst: FLANNEL_NETWORK}] plus isDefaultGateway's default.
  return { bridge: spec.bridge ?? 'cni0', mtu: plan.underlay.mtu, hairpin: spec.hairpin ?? true, routes4: [spec.network, 'default'], routes6: [], pluginSysctls: false };
}

function bridgeWiring(spec: BridgeSpec, plan: ClusterPlan): BridgeWiring {
  return { bridge: spec.bridge ?? 'cni0', mtu: spec.mtu ?? plan.underlay.mtu, hairpin: spec.hairpin ?? false, routes4: ['default'], routes6: ['default'], pluginSysctls: true };
}

/** flannel's bridge plugin MAC rule and the lab's veth names, as for the VXLAN backend. */
function flannelPodNames(p: PodSpec) {
  return { mac: cniPodMac(p.ip), hostVeth: hostVethName(p.namespace, p.name), hostVethMac: stableMac(`${p.namespace}/${p.name}/host`) };
}

/** Peers must be reachable on-link: host-gw routes have a gateway on the node's own segment. */
function sameSegmentProblems(plan: ClusterPlan, what: string): string[] {
  const segs = new Set(plan.nodes.map((n) => n.segment));
  return segs.size > 1 ? [`${what} needs every node on one L2 segment (its routes go via the peer's own address on eth0); these nodes are on ${segs.size} segments`] : [];
}

export const flannelHostGw: CniPlugin<FlannelHostGwSpec> = {
  reservedPodAddress: bridgeSubnetReserved,
  podNames: flannelPodNames,
  check(spec, plan) {
    return [...sameSegmentProblems(plan, 'flannel host-gw'), ...plan.nodes.filter((n) => n.podCIDR6).map((n) => `${n.name}: flannel-host-gw is IPv4 only here; use kind "bridge" for dual stack`)];
  },
  setupNode(lab, spec, plan, node) {
    setupBridge(lab, node, flannelHostGwWiring(spec, plan));
  },
  attachPod(lab, spec, plan, node, pod) {
    attachBridgePod(lab, node, pod, flannelHostGwWiring(spec, plan));
  },
  addPeer(lab, _spec, _plan, node, peer) {
    // RouteNetwork.GetRoute: Dst = the lease's subnet, Gw = its PublicIP, LinkIndex = the external interface.
    lab.ip(node.name, 'route', 'add', peer.podCIDR.masked().toString(), 'via', peer.ip, 'dev', 'eth0');
  },
};

export const bridgeDualStack: CniPlugin<BridgeSpec> = {
  reservedPodAddress: bridgeSubnetReserved,
  podNames: (p) => ({ mac: stableMac(`${p.namespace}/${p.name}/eth0`), hostVeth: hostVethName(p.namespace, p.name), hostVethMac: stableMac(`${p.namespace}/${p.name}/host`) }),
  check(spec, plan) {
    const out = sameSegmentProblems(plan, 'the bridge plugin with host-gw routes');
    if (!plan.underlay.prefix6) out.push('underlay.cidr6: dual stack needs an IPv6 subnet on the underlay');
    for (const n of plan.nodes) {
      if (n.ip6 === undefined) out.push(`${n.name}: dual stack needs the node's IPv6 address (ip6)`);
      if (!n.podCIDR6) out.push(`${n.name}: dual stack needs an IPv6 podCIDR (podCIDR6)`);
      for (const p of n.pods) if (p.ip6 === undefined) out.push(`${p.name}: dual stack needs the pod's IPv6 address (ip6)`);
    }
    const mtu = spec.mtu ?? plan.underlay.mtu;
    if (mtu < 1280 || mtu > plan.underlay.mtu) out.push(`cni.mtu: ${mtu} must be between 1280 (IPv6 minimum) and the underlay MTU ${plan.underlay.mtu}`);
    return out;
  },
  setupNode(lab, spec, plan, node) {
    setupBridge(lab, node, bridgeWiring(spec, plan));
    // enableIPForward for each family that got a gateway.
    lab.sysctl(node.name, 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1');
  },
  attachPod(lab, spec, plan, node, pod) {
    attachBridgePod(lab, node, pod, bridgeWiring(spec, plan));
  },
  addPeer(lab, _spec, _plan, node, peer) {
    lab.ip(node.name, 'route', 'add', peer.podCIDR.masked().toString(), 'via', peer.ip, 'dev', 'eth0');
    if (peer.podCIDR6 && peer.ip6 !== undefined) lab.ip(node.name, '-6', 'route', 'add', peer.podCIDR6.masked().toString(), 'via', peer.ip6, 'dev', 'eth0');
  },
};
