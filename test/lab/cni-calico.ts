// Calico with its VXLAN overlay (IP pool vxlanMode Always, BIRD as calico_backend), built the way
// the real components build it:
//
// - the Calico CNI plugin (calico cni-plugin/pkg/dataplane/linux/dataplane_linux.go, DoNetworking):
//   a veth per pod, host end `cali` + the first 11 hex digits of sha1("<namespace>.<pod>") (libcalico
//   VethNameForWorkload) with MAC ee:ee:ee:ee:ee:ee and no address, not on any bridge; in the pod the
//   address as a /32, `169.254.1.1 dev eth0 scope link` and `default via 169.254.1.1 dev eth0`; on the
//   host end route_localnet=1, neigh proxy_delay=0, proxy_arp=1 and forwarding=1 (configureSysctls),
//   then the host route `<pod IP> dev cali... scope link` (SetupRoutes). The pod learns the MAC of
//   169.254.1.1 only when it asks: the node answers by proxy ARP.
// - Felix (felix/dataplane/linux/endpoint_mgr.go configureInterface): rp_filter=1 (strict) and
//   accept_ra=0 on every cali interface. Its VXLAN manager (vxlan_mgr.go, vxlanfdb/vxlan_fdb.go,
//   routetable): the device vxlan.calico (VNI 4096, UDP 4789, local = node IP, parent eth0, learning
//   off, MTU underlay - 50) holding the node's tunnel address as a /32 (the first address of its IPAM
//   block); per remote node a permanent ARP entry for its tunnel IP with its VTEP MAC, a permanent
//   `self` FDB entry sending that MAC to the node's real IP, and the route `<remote block> via
//   <remote tunnel IP> dev vxlan.calico onlink` (TargetTypeVXLAN: scope universe, RTNH_F_ONLINK).
// - BIRD (calico_backend bird): `blackhole <local block> proto bird` for the node's own IPAM block,
//   so an address of the block that no pod holds is dropped here instead of leaving by the default.
//
// A node's NodeSpec.podCIDR is its IPAM block (default /26 from the IP pool in `network`); Calico's
// IPAM does not use Kubernetes' spec.podCIDRs, so the capture reports none.
import { createHash } from 'node:crypto';
import { IFNAME_RE, nth, stableMac } from './cni-util';
import type { ClusterPlan, CniPlugin } from './topology';

export interface CalicoVxlanSpec {
  kind: 'calico-vxlan';
  /** The IP pool (CALICO_IPV4POOL_CIDR), e.g. 10.48.0.0/16; every node's podCIDR is one of its blocks. */
  network: string;
  /** FelixConfiguration vxlanVNI (default 4096). */
  vni?: number;
  /** FelixConfiguration vxlanPort (default 4789). */
  port?: number;
  /** vxlanMTU / veth MTU (default: underlay MTU minus 50 bytes of VXLAN overhead). */
  mtu?: number;
}

/** The device name Felix uses for the IPv4 VXLAN tunnel. */
export const CALICO_VXLAN_DEV = 'vxlan.calico';
/** The MAC the Calico CNI plugin gives every host-side veth. */
export const CALICO_HOST_VETH_MAC = 'ee:ee:ee:ee:ee:ee';
/** The link-local next hop every Calico pod routes through (answered by proxy ARP). */
export const CALICO_POD_GATEWAY = '169.254.1.1';

/** libcalico-go's VethNameForWorkload: `cali` + sha1("<namespace>.<pod>") truncated to 11 hex digits. */
export function calicoVethName(namespace: string, pod: string): string {
  return 'cali' + createHash('sha1').update(`${namespace}.${pod}`).digest('hex').slice(0, 11);
}

/** The node's VXLAN tunnel address: the first address of its IPAM block. */
export function calicoTunnelIp(block: ClusterPlan['nodes'][number]['podCIDR']): string {
  return nth(block, 0);
}

function defaults(spec: CalicoVxlanSpec, plan: ClusterPlan) {
  return { vni: spec.vni ?? 4096, port: spec.port ?? 4789, mtu: spec.mtu ?? plan.underlay.mtu - 50 };
}

export const calicoVxlan: CniPlugin<CalicoVxlanSpec> = {
  reservedPodAddress(block, a) {
    return block.masked().addr.equals(a) ? 'the VXLAN tunnel address (the first address of the IPAM block)' : undefined;
  },
  podNames: (p) => ({ mac: stableMac(`${p.namespace}/${p.name}/eth0`), hostVeth: calicoVethName(p.namespace, p.name), hostVethMac: CALICO_HOST_VETH_MAC }),
  reportedPodCIDRs: () => undefined,

  check(spec, plan) {
    const d = defaults(spec, plan);
    const out: string[] = [];
    if (!Number.isInteger(d.vni) || d.vni < 0 || d.vni > 0xffffff) out.push(`cni.vni: ${d.vni} is not a 24-bit VNI`);
    if (!Number.isInteger(d.port) || d.port < 1 || d.port > 65535) out.push(`cni.port: ${d.port} is not a UDP port`);
    if (d.mtu < 68 || d.mtu > plan.underlay.mtu - 50) out.push(`cni.mtu: ${d.mtu} does not fit VXLAN (50 bytes) into the underlay MTU ${plan.underlay.mtu}`);
    for (const n of plan.nodes) {
      if (n.podCIDR.length < 20 || n.podCIDR.length > 30) out.push(`${n.name}: podCIDR ${n.podCIDR} is not a Calico IPAM block size (/20../30; default /26)`);
      if (n.podCIDR6) out.push(`${n.name}: the Calico lab is IPv4 only`);
      for (const p of n.pods) if (!IFNAME_RE.test(p.hostVeth)) out.push(`${p.name}: ${p.hostVeth} is not a valid interface name`);
    }
    return out;
  },

  setupNode(lab, spec, plan, node) {
    const d = defaults(spec, plan);
    const n = node.name;
    // Felix's VXLAN manager: the tunnel device bound to the node's address on eth0, learning off.
    lab.ip(n, 'link', 'add', CALICO_VXLAN_DEV, 'address', node.vtepMac, 'mtu', String(d.mtu), 'type', 'vxlan', 'id', String(d.vni),
      'local', node.ip, 'dev', 'eth0', 'dstport', String(d.port), 'nolearning');
    lab.ip(n, 'addr', 'add', `${calicoTunnelIp(node.podCIDR)}/32`, 'dev', CALICO_VXLAN_DEV);
    lab.ip(n, 'link', 'set', CALICO_VXLAN_DEV, 'up');
    // BIRD's static route for the node's own block (protocol bird = 12).
    lab.ip(n, 'route', 'add', 'blackhole', node.podCIDR.masked().toString(), 'proto', 'bird');
  },

  attachPod(lab, spec, plan, node, pod) {
    const d = defaults(spec, plan);
    const mtu = String(d.mtu);
    const n = node.name;
    const cali = pod.hostVeth;
    lab.ip(n, 'link', 'add', cali, 'address', pod.hostVethMac, 'mtu', mtu, 'type', 'veth',
      'peer', 'name', 'eth0', 'address', pod.mac, 'mtu', mtu, 'netns', lab.ns(pod.name));
    lab.ip(n, 'link', 'set', cali, 'up');
    lab.ip(pod.name, 'link', 'set', 'eth0', 'up');
    // A connected route to a dummy next hop, so that a default route can be set through it.
    lab.ip(pod.name, 'route', 'add', CALICO_POD_GATEWAY, 'dev', 'eth0', 'scope', 'link');
    lab.ip(pod.name, 'route', 'add', 'default', 'via', CALICO_POD_GATEWAY, 'dev', 'eth0');
    lab.ip(pod.name, 'addr', 'add', `${pod.ip}/32`, 'dev', 'eth0');
    // configureSysctls on the host end, then Felix's configureInterface.
    lab.sysctl(n, `net.ipv4.conf.${cali}.route_localnet=1`, `net.ipv4.neigh.${cali}.proxy_delay=0`, `net.ipv4.conf.${cali}.proxy_arp=1`,
      `net.ipv4.conf.${cali}.forwarding=1`, `net.ipv4.conf.${cali}.rp_filter=1`, `net.ipv6.conf.${cali}.accept_ra=0`);
    // SetupRoutes: the pod's /32 on the host, out of its veth.
    lab.ip(n, 'route', 'add', pod.ip, 'dev', cali, 'scope', 'link');
  },

  addPeer(lab, _spec, _plan, node, peer) {
    const n = node.name;
    const tunnel = calicoTunnelIp(peer.podCIDR);
    // vxlanfdb: the ARP entry (inner destination MAC for the remote tunnel IP) and the FDB entry
    // (which node's real address that MAC lives behind), both permanent; then the route.
    lab.ip(n, 'neigh', 'replace', tunnel, 'lladdr', peer.vtepMac, 'dev', CALICO_VXLAN_DEV, 'nud', 'permanent');
    lab.bridge(n, 'fdb', 'replace', peer.vtepMac, 'dev', CALICO_VXLAN_DEV, 'dst', peer.ip, 'self', 'permanent');
    lab.ip(n, 'route', 'add', peer.podCIDR.masked().toString(), 'via', tunnel, 'dev', CALICO_VXLAN_DEV, 'onlink');
  },
};
