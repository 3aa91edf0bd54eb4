// A synthetic flannel-VXLAN cluster of any size, as a capture whose probes are the text the lab's
// collector records (examples/demo-flannel-vxlan.json shows the shapes): each node has eth0 on one
// shared subnet, a VXLAN device flannel.1 with a route, a PERMANENT neighbour and an FDB entry for
// every peer node, a bridge cni0 with one veth per pod; each pod has its links, addrs, routes and
// neighbours. No switch and no capture links: nodes whose addresses share a subnet are one segment.
// Pods carry the probes a pod image with iproute2 gives (links, addrs, routes4, neigh); nodes also
// rules4, fdb and sysctl.
// Deterministic: the same options give the same text.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { API_VERSION, type Capture, type Host } from '../src/capture/document';
import { prng } from './generate';

export interface SyntheticOptions {
  nodes: number;
  podsPerNode: number;
  seed?: number;
  /**
   * Share of its peers each node holds an eth0 neighbour entry for (1 = every peer; the rest it
   * would have to ARP for). Default 1: in a cluster whose pods talk to each other, flannel sends
   * to every peer node all the time.
   */
  underlayNeighCoverage?: number;
  /** Same-node pods each pod holds a neighbour entry for, besides its gateway (default 2). */
  podPeerNeighs?: number;
  /**
   * Every probe a collector records, as big as a real cluster's (default false: the routing probes
   * only). Adds, from the demo capture's own text (examples/demo-flannel-vxlan.json) renumbered for
   * each host: the whole `sysctl` (IPv4 and IPv6 conf of every device), routes6, rules6, `arp -a`,
   * `brctl show`, a pod's `bridge fdb`, and on nodes kube-proxy's and flanneld's iptables-save and
   * nft rules; and a `kubernetes` section (Nodes with flannel's annotations, Pods, the demo's
   * Services and EndpointSlices).
   */
  full?: boolean;
}

export interface SyntheticPod {
  /** `namespace/pod`, as a user names it. */
  ref: string;
  host: string;
  ip: string;
  node: number;
}

export interface SyntheticCluster {
  capture: Capture;
  pods: SyntheticPod[];
  nodeNames: string[];
}

/** The cluster network: room for 1,024 /24 podCIDRs (flannel's `Network` in net-conf.json). */
const CLUSTER_CIDR = '10.244.0.0/14';
/** Nodes share 10.4.0.0/22 behind a gateway that is not in the capture. */
const NODE_SUBNET_LEN = 22;
const NODE_BRD = '10.4.3.255';
const GATEWAY = '10.4.0.1';
const VXLAN_MTU = 1450;

const hex2 = (n: number) => (n & 255).toString(16).padStart(2, '0');
const macOf = (b: number[]) => b.map(hex2).join(':');

function ipv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** Node i's address: 10.4.0.11 onwards. */
const nodeIp = (i: number) => ipv4(((10 << 24) | (4 << 16)) + 11 + i);
/** The first address of node i's podCIDR (10.244.0.0/24, 10.244.1.0/24, ... 10.245.243.0/24 ...). */
const podNet = (i: number) => ((10 << 24) | (244 << 16)) + (i << 8);

/** The IPv6 link-local address the kernel derives from a MAC (EUI-64), printed as inet_ntop does. */
function linkLocal(mac: number[]): string {
  const b = [mac[0]! ^ 2, mac[1]!, mac[2]!, 0xff, 0xfe, mac[3]!, mac[4]!, mac[5]!];
  const groups = [0xfe80, 0, 0, 0, (b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!, (b[4]! << 8) | b[5]!, (b[6]! << 8) | b[7]!];
  // RFC 5952: the longest run of two or more zero groups becomes `::`.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hx = (g: number[]) => g.map((x) => x.toString(16)).join(':');
  return best < 0 ? hx(groups) : `${hx(groups.slice(0, best))}::${hx(groups.slice(best + bestLen))}`;
}

const LO_LINK =
  '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\n' +
  '    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00 promiscuity 0  allmulti 0 minmtu 0 maxmtu 0 addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 \n';
const LO_ADDR =
  '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n' +
  '    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n' +
  '    inet 127.0.0.1/8 scope host lo\n' +
  '       valid_lft forever preferred_lft forever\n' +
  '    inet6 ::1/128 scope host \n' +
  '       valid_lft forever preferred_lft forever\n';
const LO_LOCAL_ROUTES =
  'local 127.0.0.0/8 dev lo table local proto kernel scope host src 127.0.0.1 \n' +
  'local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.1 \n' +
  'broadcast 127.255.255.255 dev lo table local proto kernel scope link src 127.0.0.1 \n';
const TAIL = 'addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 ';
const VETH_TAIL = 'addrgenmode eui64 numtxqueues 2 numrxqueues 2 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 ';
const BRIDGE_DETAIL = (mac: number[]) => {
  const id = mac.map((x) => x.toString(16)).join(':');
  return `bridge forward_delay 1500 hello_time 200 max_age 2000 ageing_time 30000 stp_state 0 priority 32768 vlan_filtering 0 bridge_id 8000.${id} designated_root 8000.${id} root_port 0 root_path_cost 0 topology_change 0 topology_change_detected 0 hello_timer    0.00 tcn_timer    0.00 topology_change_timer    0.00 gc_timer  297.62 group_fwd_mask 0 group_address 01:80:c2:00:00:00 mcast_snooping 1 no_linklocal_learn 0 mcast_vlan_snooping 0 mcast_router 1 mcast_query_use_ifaddr 0 mcast_querier 0 mcast_hash_elasticity 16 mcast_hash_max 4096 mcast_last_member_count 2 mcast_startup_query_count 2 mcast_last_member_interval 100 mcast_membership_interval 26000 mcast_querier_interval 25500 mcast_query_interval 12500 mcast_query_response_interval 1000 mcast_startup_query_interval 3124 mcast_stats_enabled 0 mcast_igmp_version 2 mcast_mld_version 1 nf_call_iptables 0 nf_call_ip6tables 0 nf_call_arptables 0 ${TAIL}`;
};
const RULES4 = '0:\tfrom all lookup local\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n';

/** `sysctl net.ipv4.conf` parameters, with the values a lab node prints (`all` and `lo` differ). */
const CONF_PARAMS: [string, string][] = [
  ['accept_local', '0'], ['accept_redirects', '1'], ['accept_source_route', '1'], ['arp_accept', '0'], ['arp_announce', '0'],
  ['arp_evict_nocarrier', '1'], ['arp_filter', '0'], ['arp_ignore', '0'], ['arp_notify', '0'], ['bc_forwarding', '0'],
  ['bootp_relay', '0'], ['disable_policy', '0'], ['disable_xfrm', '0'], ['drop_gratuitous_arp', '0'], ['drop_unicast_in_l2_multicast', '0'],
  ['force_igmp_version', '0'], ['forwarding', '1'], ['igmpv2_unsolicited_report_interval', '10000'], ['igmpv3_unsolicited_report_interval', '1000'],
  ['ignore_routes_with_linkdown', '0'], ['log_martians', '0'], ['mc_forwarding', '0'], ['medium_id', '0'], ['promote_secondaries', '0'],
  ['proxy_arp', '0'], ['proxy_arp_pvlan', '0'], ['route_localnet', '0'], ['rp_filter', '0'], ['secure_redirects', '1'],
  ['send_redirects', '1'], ['shared_media', '1'], ['src_valid_mark', '0'], ['tag', '0'],
];

function sysctlText(ifaces: string[], full = false): string {
  const out = ['net.ipv4.ip_forward = 1', 'net.ipv6.conf.all.forwarding = 0'];
  const names = ['all', 'default', ...ifaces.map((x) => x.replace(/\./g, '/'))].sort();
  for (const i of names) {
    for (const [p, v] of CONF_PARAMS) {
      let value = v;
      if (i === 'all' && (p === 'accept_redirects' || p === 'accept_source_route')) value = '0';
      if (i === 'lo' && (p === 'disable_policy' || p === 'disable_xfrm')) value = '1';
      out.push(`net.ipv4.conf.${i}.${p} = ${value}`);
    }
  }
  if (full) {
    // IPv6's conf for every device, as the demo's node prints it for eth0; and br_netfilter.
    for (const i of names) for (const l of demo().ipv6Conf) out.push(`net.ipv6.conf.${i}.${l}`);
    out.push('net.bridge.bridge-nf-call-iptables = 1');
  }
  return out.join('\n') + '\n';
}

/** What the full capture takes from the demo capture's text. */
interface DemoText {
  /** `param = value` of `net.ipv6.conf.eth0.*` on the demo's k8s-node1. */
  ipv6Conf: string[];
  iptables: string;
  nft: string;
  kubernetes: Record<string, unknown>;
  /** A pod's `bridge fdb` (multicast entries of eth0 only). */
  podFdb: string;
}

let demoText: DemoText | undefined;
function demo(): DemoText {
  if (demoText) return demoText;
  const doc = JSON.parse(readFileSync(join(__dirname, '../examples/demo-flannel-vxlan.json'), 'utf8')) as Capture;
  const node = doc.hosts.find((h) => h.name === 'k8s-node1')!.probes!;
  const pod = doc.hosts.find((h) => h.name === 'web-0')!.probes!;
  demoText = {
    ipv6Conf: node.sysctl!.split('\n').filter((l) => l.startsWith('net.ipv6.conf.eth0.')).map((l) => l.slice('net.ipv6.conf.eth0.'.length)),
    iptables: node.iptables!,
    nft: node.nft!,
    kubernetes: doc.kubernetes as Record<string, unknown>,
    podFdb: pod.fdb!,
  };
  return demoText;
}

/** The demo node's rules as node `ip` with podCIDR `cidr` writes them: its address, its podCIDR, the cluster's network. */
function renumberRules(text: string, ip: string, cidr: string): string {
  return text.replaceAll('10.244.0.0/16', CLUSTER_CIDR).replaceAll('10.244.0.0/24', cidr).replaceAll('10.4.7.21', ip);
}

/** `ip -6 route show table all` for these devices: fe80::/64 on each and its link-local address in the local table. */
function routes6Text(devs: [string, number[]][]): string {
  const out = devs.map(([d]) => `fe80::/64 dev ${d} proto kernel metric 256 pref medium`);
  out.push('local ::1 dev lo table local proto kernel metric 0 pref medium');
  for (const [d, mac] of devs) out.push(`local ${linkLocal(mac)} dev ${d} table local proto kernel metric 0 pref medium`);
  for (const [d] of devs) out.push(`multicast ff00::/8 dev ${d} table local proto kernel metric 256 pref medium`);
  return out.join('\n') + '\n';
}
const RULES6 = '0:\tfrom all lookup local\n32766:\tfrom all lookup main\n';

/** `arp -a` (net-tools) for the IPv4 entries of `ip neigh` lines. */
function arpText(neighLines: string[]): string {
  return (
    neighLines
      .map((l) => /^(\S+) dev (\S+) lladdr (\S+)/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null && !m[1]!.includes(':'))
      .map((m) => `? (${m[1]}) at ${m[3]} [ether] ${m[2] === 'flannel.1' ? 'PERM ' : ''}on ${m[2]}`)
      .join('\n') + '\n'
  );
}

/**
 * `ip -s neigh show` and `bridge -s fdb show` (the probes' first commands) add how long ago an
 * entry was used, confirmed and updated; iproute2 6.x glues `probes` to those figures.
 */
function neighLine(rnd: () => number, ip: string, dev: string, mac: string, state: string): string {
  const s = () => Math.floor(rnd() * 60);
  return `${ip} dev ${dev} lladdr ${mac} ${state === 'PERMANENT' ? '' : ' ref 1'} used ${s()}/${s()}/${s()}probes 0 ${state} `;
}

function fdbUsed(rnd: () => number): string {
  return `used ${Math.floor(rnd() * 300)}/${Math.floor(rnd() * 300)}`;
}

const NAMESPACES = ['default', 'kube-system', 'shop', 'payments', 'monitoring', 'ingress', 'batch', 'search'];
const APPS = ['web', 'api', 'cart', 'checkout', 'redis', 'worker', 'coredns', 'prometheus', 'nginx', 'queue'];
const NEIGH_STATES = ['REACHABLE', 'STALE', 'DELAY', 'REACHABLE', 'STALE'];

interface NodePlan {
  name: string;
  ip: string;
  eth0Mac: number[];
  vtepMac: number[];
  cni0Mac: number[];
  dockerMac: number[];
  pods: { host: Host; ip: string; mac: number[]; vethName: string; vethMac: number[]; ifindex: number }[];
}

export function syntheticCapture(opts: SyntheticOptions): SyntheticCluster {
  const { nodes, podsPerNode } = opts;
  if (nodes < 2 || nodes > 1000) throw new Error('syntheticCapture: 2..1000 nodes (the podCIDRs come from a /14)');
  if (podsPerNode < 1 || podsPerNode > 250) throw new Error('syntheticCapture: 1..250 pods per node (a /24 each)');
  const rnd = prng(opts.seed ?? 7);
  const full = opts.full ?? false;
  const coverage = opts.underlayNeighCoverage ?? 1;
  const podPeers = Math.min(opts.podPeerNeighs ?? 2, podsPerNode - 1);
  const byte = () => Math.floor(rnd() * 256);
  const localMac = () => [(byte() & 0xfc) | 0x02, byte(), byte(), byte(), byte(), byte()];
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 16).toString(16)).join('');
  const base36 = (n: number, w: number) => n.toString(36).padStart(w, '0');

  const plans: NodePlan[] = [];
  const pods: SyntheticPod[] = [];
  for (let i = 0; i < nodes; i++) {
    const name = `k8s-node${String(i + 1).padStart(3, '0')}`;
    const plan: NodePlan = { name, ip: nodeIp(i), eth0Mac: [0x52, 0x54, 0x00, byte(), byte(), byte()], vtepMac: localMac(), cni0Mac: localMac(), dockerMac: [0x02, 0x42, byte(), byte(), byte(), byte()], pods: [] };
    for (let k = 0; k < podsPerNode; k++) {
      const ipN = podNet(i) + 2 + k;
      const ip = ipv4(ipN);
      const app = APPS[Math.floor(rnd() * APPS.length)]!;
      const namespace = NAMESPACES[Math.floor(rnd() * NAMESPACES.length)]!;
      // Unique by construction: the last part counts pods.
      const pod = `${app}-${hex(9)}-${base36(pods.length, 5)}`;
      const host: Host = { name: pod, role: 'pod', node: name, namespace, pod, ips: [ip], hostNetwork: false, probes: {} };
      plan.pods.push({ host, ip, mac: [0x0a, 0x58, (ipN >>> 24) & 255, (ipN >>> 16) & 255, (ipN >>> 8) & 255, ipN & 255], vethName: `veth${hex(8)}`, vethMac: localMac(), ifindex: 6 + k });
      pods.push({ ref: `${namespace}/${pod}`, host: pod, ip, node: i });
    }
    plans.push(plan);
  }

  const hosts: Host[] = [];
  for (let i = 0; i < nodes; i++) {
    const n = plans[i]!;
    const net = podNet(i);
    hosts.push({ name: n.name, role: 'node', ips: [n.ip], podCIDRs: [`${ipv4(net)}/24`], probes: nodeProbes(n, i) });
    for (const [k, p] of n.pods.entries()) p.host.probes = podProbes(n, i, k);
  }
  for (const n of plans) for (const p of n.pods) hosts.push(p.host);

  function nodeProbes(n: NodePlan, i: number): Record<string, string> {
    const net = podNet(i);
    const gwIp = ipv4(net + 1);
    const links: string[] = [
      LO_LINK,
      `2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP mode DEFAULT group default qlen 1000\n    link/ether ${macOf(n.eth0Mac)} brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 ${TAIL}parentbus virtio parentdev virtio0 \n`,
      `3: docker0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state DOWN mode DEFAULT group default qlen 1000\n    link/ether ${macOf(n.dockerMac)} brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 \n    ${BRIDGE_DETAIL(n.dockerMac)}\n`,
      `4: flannel.1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu ${VXLAN_MTU} qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\n    link/ether ${macOf(n.vtepMac)} brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 \n    vxlan id 1 local ${n.ip} dev eth0 srcport 0 0 dstport 8472 nolearning ttl auto ageing 300 udpcsum noudp6zerocsumtx noudp6zerocsumrx ${TAIL}\n`,
      `5: cni0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu ${VXLAN_MTU} qdisc noqueue state UP mode DEFAULT group default qlen 1000\n    link/ether ${macOf(n.cni0Mac)} brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 \n    ${BRIDGE_DETAIL(n.cni0Mac)}\n`,
    ];
    const bridgeId = n.cni0Mac.map((x) => x.toString(16)).join(':');
    for (const [k, p] of n.pods.entries()) {
      const portNo = (k + 1).toString(16);
      links.push(
        `${p.ifindex}: ${p.vethName}@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu ${VXLAN_MTU} qdisc noqueue master cni0 state UP mode DEFAULT group default qlen 1000\n` +
          `    link/ether ${macOf(p.vethMac)} brd ff:ff:ff:ff:ff:ff link-netnsid ${k + 1} promiscuity 1  allmulti 1 minmtu 68 maxmtu 65535 \n` +
          '    veth \n' +
          `    bridge_slave state forwarding priority 32 cost 2 hairpin on guard off root_block off fastleave off learning on flood on port_id 0x${(0x8000 + k + 1).toString(16)} port_no 0x${portNo} designated_port ${32768 + k + 1} designated_cost 0 designated_bridge 8000.${bridgeId} designated_root 8000.${bridgeId} hold_timer    0.00 message_age_timer    0.00 forward_delay_timer    0.00 topology_change_ack 0 config_pending 0 proxy_arp off proxy_arp_wifi off mcast_router 1 mcast_fast_leave off mcast_flood on bcast_flood on mcast_to_unicast off neigh_suppress off group_fwd_mask 0 group_fwd_mask_str 0x0 vlan_tunnel off isolated off locked off ${VETH_TAIL}\n`,
      );
    }

    const addrs: string[] = [
      LO_ADDR,
      `2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP group default qlen 1000\n    link/ether ${macOf(n.eth0Mac)} brd ff:ff:ff:ff:ff:ff\n    inet ${n.ip}/${NODE_SUBNET_LEN} metric 100 brd ${NODE_BRD} scope global eth0\n       valid_lft forever preferred_lft forever\n    inet6 ${linkLocal(n.eth0Mac)}/64 scope link \n       valid_lft forever preferred_lft forever\n`,
      `3: docker0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state DOWN group default qlen 1000\n    link/ether ${macOf(n.dockerMac)} brd ff:ff:ff:ff:ff:ff\n    inet 172.17.0.1/16 brd 172.17.255.255 scope global docker0\n       valid_lft forever preferred_lft forever\n`,
      `4: flannel.1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu ${VXLAN_MTU} qdisc noqueue state UNKNOWN group default qlen 1000\n    link/ether ${macOf(n.vtepMac)} brd ff:ff:ff:ff:ff:ff\n    inet ${ipv4(net)}/32 scope global flannel.1\n       valid_lft forever preferred_lft forever\n    inet6 ${linkLocal(n.vtepMac)}/64 scope link \n       valid_lft forever preferred_lft forever\n`,
      `5: cni0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu ${VXLAN_MTU} qdisc noqueue state UP group default qlen 1000\n    link/ether ${macOf(n.cni0Mac)} brd ff:ff:ff:ff:ff:ff\n    inet ${gwIp}/24 brd ${ipv4(net + 255)} scope global cni0\n       valid_lft forever preferred_lft forever\n    inet6 ${linkLocal(n.cni0Mac)}/64 scope link \n       valid_lft forever preferred_lft forever\n`,
    ];
    for (const [k, p] of n.pods.entries()) {
      addrs.push(
        `${p.ifindex}: ${p.vethName}@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu ${VXLAN_MTU} qdisc noqueue master cni0 state UP group default qlen 1000\n` +
          `    link/ether ${macOf(p.vethMac)} brd ff:ff:ff:ff:ff:ff link-netnsid ${k + 1}\n` +
          `    inet6 ${linkLocal(p.vethMac)}/64 scope link \n       valid_lft forever preferred_lft forever\n`,
      );
    }

    // The main table in the kernel's (prefix) order, then the local table.
    const routes: string[] = [`default via ${GATEWAY} dev eth0 proto static metric 100 `, `10.4.0.0/${NODE_SUBNET_LEN} dev eth0 proto kernel scope link src ${n.ip} metric 100 `];
    for (let j = 0; j < nodes; j++) {
      const pn = ipv4(podNet(j));
      routes.push(j === i ? `${pn}/24 dev cni0 proto kernel scope link src ${gwIp} ` : `${pn}/24 via ${pn} dev flannel.1 onlink `);
    }
    routes.push(
      '172.17.0.0/16 dev docker0 proto kernel scope link src 172.17.0.1 linkdown ',
      `local ${n.ip} dev eth0 table local proto kernel scope host src ${n.ip} `,
      `broadcast ${NODE_BRD} dev eth0 table local proto kernel scope link src ${n.ip} `,
      `local ${ipv4(net)} dev flannel.1 table local proto kernel scope host src ${ipv4(net)} `,
      `local ${gwIp} dev cni0 table local proto kernel scope host src ${gwIp} `,
      `broadcast ${ipv4(net + 255)} dev cni0 table local proto kernel scope link src ${gwIp} `,
    );
    const routesText = routes.join('\n') + '\n' + LO_LOCAL_ROUTES +
      'local 172.17.0.1 dev docker0 table local proto kernel scope host src 172.17.0.1 \n' +
      'broadcast 172.17.255.255 dev docker0 table local proto kernel scope link src 172.17.0.1 linkdown \n';

    // Neighbours in hash order (shuffled): every peer VTEP (PERMANENT, written by flanneld), the
    // gateway, peer nodes on eth0, and every local pod on cni0 (the kubelet's probes keep them fresh).
    const state = () => NEIGH_STATES[Math.floor(rnd() * NEIGH_STATES.length)]!;
    const neigh: string[] = [neighLine(rnd, GATEWAY, 'eth0', '52:54:00:f8:fb:1c', 'REACHABLE')];
    for (let j = 0; j < nodes; j++) {
      if (j === i) continue;
      const peer = plans[j]!;
      neigh.push(neighLine(rnd, ipv4(podNet(j)), 'flannel.1', macOf(peer.vtepMac), 'PERMANENT'));
      if (rnd() < coverage) neigh.push(neighLine(rnd, peer.ip, 'eth0', macOf(peer.eth0Mac), state()));
    }
    for (const p of n.pods) neigh.push(neighLine(rnd, p.ip, 'cni0', macOf(p.mac), state()));
    shuffle(neigh, rnd);

    const fdb: string[] = [
      '33:33:00:00:00:01 dev eth0 self permanent',
      '01:00:5e:00:00:01 dev eth0 self permanent',
      `33:33:ff:${macOf(n.eth0Mac.slice(3))} dev eth0 self permanent`,
      '33:33:00:00:00:01 dev docker0 self permanent',
      '01:00:5e:00:00:6a dev docker0 self permanent',
      '33:33:00:00:00:6a dev docker0 self permanent',
      '01:00:5e:00:00:01 dev docker0 self permanent',
      `${macOf(n.dockerMac)} dev docker0 ${fdbUsed(rnd)} master docker0 permanent`,
    ];
    for (let j = 0; j < nodes; j++) if (j !== i) fdb.push(`${macOf(plans[j]!.vtepMac)} dev flannel.1 dst ${plans[j]!.ip} ${fdbUsed(rnd)} self permanent`);
    fdb.push(
      '33:33:00:00:00:01 dev cni0 self permanent',
      '01:00:5e:00:00:6a dev cni0 self permanent',
      '33:33:00:00:00:6a dev cni0 self permanent',
      '01:00:5e:00:00:01 dev cni0 self permanent',
      `33:33:ff:${macOf(n.cni0Mac.slice(3))} dev cni0 self permanent`,
      `${macOf(n.cni0Mac)} dev cni0 ${fdbUsed(rnd)} master cni0 permanent`,
    );
    for (const p of n.pods) {
      fdb.push(
        `${macOf(p.mac)} dev ${p.vethName} ${fdbUsed(rnd)} master cni0 `,
        `${macOf(p.vethMac)} dev ${p.vethName} ${fdbUsed(rnd)} master cni0 permanent`,
        `33:33:00:00:00:01 dev ${p.vethName} self permanent`,
        `01:00:5e:00:00:01 dev ${p.vethName} self permanent`,
        `33:33:ff:${macOf(p.vethMac.slice(3))} dev ${p.vethName} self permanent`,
      );
    }

    const devs = ['lo', 'eth0', 'docker0', 'flannel.1', 'cni0', ...n.pods.map((p) => p.vethName)];
    const probes: Record<string, string> = {
      links: links.join(''),
      addrs: addrs.join(''),
      routes4: routesText,
      rules4: RULES4,
      neigh: neigh.join('\n') + '\n',
      fdb: fdb.join('\n') + '\n',
      sysctl: sysctlText(devs, full),
    };
    if (full) {
      const cidr = `${ipv4(net)}/24`;
      Object.assign(probes, {
        routes6: routes6Text([['eth0', n.eth0Mac], ['flannel.1', n.vtepMac], ['cni0', n.cni0Mac], ...n.pods.map((p): [string, number[]] => [p.vethName, p.vethMac])]),
        rules6: RULES6,
        arp: arpText(neigh),
        brctl:
          'bridge name\tbridge id\t\tSTP enabled\tinterfaces\n' +
          n.pods.map((p, k) => (k === 0 ? `cni0\t\t8000.${macOf(n.cni0Mac).replaceAll(':', '')}\tno\t\t${p.vethName}` : `\t\t\t\t\t\t\t${p.vethName}`)).join('\n') +
          `\ndocker0\t\t8000.${macOf(n.dockerMac).replaceAll(':', '')}\tno\t\t\n`,
        iptables: renumberRules(demo().iptables, n.ip, cidr),
        ip6tables: '',
        nft: renumberRules(demo().nft, n.ip, cidr),
        ipset: '',
      });
    }
    return probes;
  }

  function podProbes(n: NodePlan, i: number, k: number): Record<string, string> {
    const p = n.pods[k]!;
    const net = podNet(i);
    const gwIp = ipv4(net + 1);
    const links =
      LO_LINK +
      `2: eth0@if${p.ifindex}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu ${VXLAN_MTU} qdisc noqueue state UP mode DEFAULT group default qlen 1000\n` +
      `    link/ether ${macOf(p.mac)} brd ff:ff:ff:ff:ff:ff link-netnsid 0 promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 \n` +
      `    veth ${VETH_TAIL}\n`;
    const addrs =
      LO_ADDR +
      `2: eth0@if${p.ifindex}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu ${VXLAN_MTU} qdisc noqueue state UP group default qlen 1000\n` +
      `    link/ether ${macOf(p.mac)} brd ff:ff:ff:ff:ff:ff link-netnsid 0\n` +
      `    inet ${p.ip}/24 brd ${ipv4(net + 255)} scope global eth0\n       valid_lft forever preferred_lft forever\n` +
      `    inet6 ${linkLocal(p.mac)}/64 scope link \n       valid_lft forever preferred_lft forever\n`;
    const routes4 =
      `default via ${gwIp} dev eth0 \n` +
      `${ipv4(net)}/24 dev eth0 proto kernel scope link src ${p.ip} \n` +
      `${CLUSTER_CIDR} via ${gwIp} dev eth0 \n` +
      `local ${p.ip} dev eth0 table local proto kernel scope host src ${p.ip} \n` +
      `broadcast ${ipv4(net + 255)} dev eth0 table local proto kernel scope link src ${p.ip} \n` +
      LO_LOCAL_ROUTES;
    const neigh = [neighLine(rnd, gwIp, 'eth0', macOf(n.cni0Mac), 'REACHABLE')];
    // A few same-node pods it talked to recently.
    for (let m = 1; m <= podPeers; m++) {
      const q = n.pods[(k + m * 7) % n.pods.length]!;
      if (q !== p) neigh.push(neighLine(rnd, q.ip, 'eth0', macOf(q.mac), 'STALE'));
    }
    const probes: Record<string, string> = { links, addrs, routes4, neigh: neigh.join('\n') + '\n' };
    if (full) {
      Object.assign(probes, {
        routes6: routes6Text([['eth0', p.mac]]),
        rules4: RULES4,
        rules6: RULES6,
        fdb: demo().podFdb,
        sysctl: sysctlText(['lo', 'eth0'], true),
        arp: arpText(neigh),
        brctl: '',
        iptables: '',
        ip6tables: '',
        nft: '',
        ipset: '',
      });
    }
    return probes;
  }

  const capture: Capture = {
    apiVersion: API_VERSION,
    kind: 'Capture',
    metadata: { cluster: `synthetic-flannel-vxlan-${nodes}x${podsPerNode}${full ? '-full' : ''}`, capturedAt: '2026-11-24T21:59:12Z' },
    hosts,
  };
  if (full) capture.kubernetes = kubernetesSection(plans);
  return { capture, pods, nodeNames: plans.map((p) => p.name) };
}

/** The API objects a collector lists: Nodes (with flannel's annotations), Pods, and the demo's namespaces, Services and EndpointSlices. */
function kubernetesSection(plans: NodePlan[]): Record<string, unknown> {
  const d = demo().kubernetes;
  const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, uid: `00000000-0000-4000-8000-${name.length.toString(16).padStart(4, '0')}${(hashOf(name) >>> 0).toString(16).padStart(8, '0')}`, resourceVersion: '4242', creationTimestamp: '2026-11-24T10:00:00Z', ...extra });
  const nodes = plans.map((n, i) => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: meta(n.name, {
      labels: { 'kubernetes.io/hostname': n.name, 'kubernetes.io/os': 'linux' },
      annotations: {
        'flannel.alpha.coreos.com/backend-data': JSON.stringify({ VNI: 1, VtepMAC: macOf(n.vtepMac) }),
        'flannel.alpha.coreos.com/backend-type': 'vxlan',
        'flannel.alpha.coreos.com/kube-subnet-manager': 'true',
        'flannel.alpha.coreos.com/public-ip': n.ip,
      },
    }),
    spec: { podCIDR: `${ipv4(podNet(i))}/24`, podCIDRs: [`${ipv4(podNet(i))}/24`] },
    status: { addresses: [{ type: 'InternalIP', address: n.ip }, { type: 'Hostname', address: n.name }] },
  }));
  const pods = plans.flatMap((n) =>
    n.pods.map((p) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: meta(p.host.name, { namespace: p.host.namespace, labels: { app: p.host.name.split('-')[0], 'pod-template-hash': p.host.name.split('-')[1] } }),
      spec: { nodeName: n.name, containers: [{ name: 'main', image: 'registry.k8s.io/e2e-test-images/agnhost:2.52', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }], restartPolicy: 'Always', dnsPolicy: 'ClusterFirst' },
      status: { phase: 'Running', hostIP: n.ip, hostIPs: [{ ip: n.ip }], podIP: p.ip, podIPs: [{ ip: p.ip }], startTime: '2026-11-24T10:00:00Z' },
    })),
  );
  return { namespaces: d.namespaces, nodes, pods, services: d.services, endpointSlices: d.endpointSlices };
}

function hashOf(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h;
}

function shuffle<T>(xs: T[], rnd: () => number): void {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
}
