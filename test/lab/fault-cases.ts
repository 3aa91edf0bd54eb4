// Faults for the demo flannel VXLAN cluster (test/lab/demo-cluster.ts), each made with the real
// `ip` / `bridge` / `sysctl` command an operator or a broken agent would run, with its repair and the
// probes that show it. faults.test.ts breaks the lab, captures it, runs the engine, sends the real
// packet with the oracle (test/lab/oracle.ts), compares, and repairs.
//
// `expect` is what the KERNEL does (found by running each case; the comments say which kernel rule
// explains it). `engineTodo` names a known disagreement of the engine with the kernel: the engine
// test is then marked todo.
import type { Verdict } from '../../src/engine/trace';
import type { Lab } from './netns';
import { strict as assert } from 'node:assert';
import { describeObservation, observe, type Observation, type ObserveOptions, type OracleFlow } from './oracle';
import { hostVethName, type BuiltCluster, type NodePlan, type PodPlan } from './topology';

export interface FaultContext {
  lab: Lab;
  built: BuiltCluster;
  /** br_netfilter is active in the nodes (net.bridge.bridge-nf-call-iptables = 1): bridged IPv4 meets the port MTU exactly. */
  brNetfilter: boolean;
  /** python3 is installed (UDP probes). */
  python: boolean;
}

export interface KernelExpectation {
  delivered: boolean;
  /** Where the kernel dropped it (dev null: the counters do not name a device). */
  drop?: { host: string; dev: string | null };
  /** The engine verdict that names what the kernel did. */
  verdict?: Verdict;
  /** Exactly the hosts whose interfaces received the probe (the source included). */
  seenBy: string[];
}

export interface FaultProbe {
  name: string;
  flow: OracleFlow;
  expect: KernelExpectation;
  /** Set when the engine disagrees with the kernel: what the engine gets wrong. */
  engineTodo?: string;
  /** Only for the kernel: the engine cannot know (e.g. state a capture does not hold). Says why. */
  kernelOnly?: string;
  /** Runs the probe only where this holds; otherwise it is skipped with the reason returned. */
  skip?: (ctx: FaultContext) => string | undefined;
  observe?: ObserveOptions;
  /** Further facts about what the kernel did, checked on the observation. */
  check?: (obs: Observation) => void;
}

export interface FaultCase {
  name: string;
  /** What the kernel does, in a sentence, for the test name and the report. */
  kernel: string;
  /** Breaks the lab (may be async); its return value is ignored. */
  apply?: (ctx: FaultContext) => unknown;
  repair?: (ctx: FaultContext) => unknown;
  probes: FaultProbe[];
}

export function node(ctx: FaultContext, name: string): NodePlan {
  const n = ctx.built.plan.nodes.find((x) => x.name === name);
  if (!n) throw new Error(`no node ${name}`);
  return n;
}

export function pod(ctx: FaultContext, name: string): PodPlan {
  for (const n of ctx.built.plan.nodes) for (const p of n.pods) if (p.name === name) return p;
  throw new Error(`no pod ${name}`);
}

const N1 = 'k8s-node1';
const N2 = 'k8s-node2';
const N3 = 'k8s-node3';
const WEB0 = 'web-0'; // 10.244.0.3 on node1
const DNS1 = 'coredns-6d8c4cb4d-xk7t2'; // 10.244.0.2 on node1
const WEB1 = 'web-1'; // 10.244.1.3 on node2
const DNS2 = 'coredns-6d8c4cb4d-q9m4r'; // 10.244.1.2 on node2
const TOR = 'tor';
const GW = 'gw';

const CROSS = [WEB0, N1, N2, WEB1, TOR];
/** web-0's host-side veth on node1 (the CNI's name, derived from the pod as topology.ts does). */
const WEB0_VETH = hostVethName('default', WEB0);

/** flanneld's three entries on `on` for `peer`, as topology.ts programs them. */
function restorePeer(ctx: FaultContext, on: string, peer: string): void {
  const p = node(ctx, peer);
  const vtepIp = p.podCIDR.masked().addr.toString();
  ctx.lab.ip(on, 'route', 'replace', p.podCIDR.masked().toString(), 'via', vtepIp, 'dev', 'flannel.1', 'onlink');
  ctx.lab.ip(on, 'neigh', 'replace', vtepIp, 'lladdr', p.vtepMac, 'dev', 'flannel.1', 'nud', 'permanent');
  ctx.lab.bridge(on, 'fdb', 'replace', p.vtepMac, 'dev', 'flannel.1', 'dst', p.ip, 'self', 'permanent');
}

/**
 * node2's neighbour entry for web-1, pinned for a case about the bridge: a learned entry goes STALE,
 * DELAY and PROBE on the kernel's own timers (15-45 s reachable, 5 s delay), and its unicast probes are
 * lost once web-1's port is gone, so whether the kernel sends the frame or drops it as neighbour FAILED
 * would depend on when the last packet to web-1 passed — on how busy the machine is. A permanent
 * entry (the MAC it had) takes the timers out; `unpinWeb1` makes it a learned one again.
 */
function pinWeb1(ctx: FaultContext): void {
  const p = pod(ctx, WEB1);
  ctx.lab.ip(N2, 'neigh', 'replace', p.ip, 'lladdr', p.mac, 'dev', 'cni0', 'nud', 'permanent');
}

/** Back to a learned (REACHABLE) entry with the same MAC, so the next case finds node2 as a cluster that carried traffic leaves it. */
function unpinWeb1(ctx: FaultContext): void {
  const p = pod(ctx, WEB1);
  ctx.lab.ip(N2, 'neigh', 'replace', p.ip, 'lladdr', p.mac, 'dev', 'cni0', 'nud', 'reachable');
}

/** The outer VXLAN packet left node1 in fragments and node2 reassembled it. */
function fragmented(obs: Observation): void {
  assert.ok((obs.deltas[N1]?.['Ip.FragCreates'] ?? 0) >= 2, `node1 did not fragment: ${JSON.stringify(obs.deltas[N1])}`);
  assert.ok((obs.deltas[N2]?.['Ip.ReasmOKs'] ?? 0) >= 1, `node2 did not reassemble: ${JSON.stringify(obs.deltas[N2])}`);
}

function notFragmented(obs: Observation): void {
  assert.equal(obs.deltas[N1]?.['Ip.FragCreates'] ?? 0, 0, `node1 fragmented: ${JSON.stringify(obs.deltas[N1])}`);
}

const cross = (size = 84): OracleFlow => ({ from: WEB0, to: '10.244.1.3', size });
const needPython = (ctx: FaultContext) => (ctx.python ? undefined : 'python3 is not installed (UDP probes)');
const withBrNf = (ctx: FaultContext) => (ctx.brNetfilter ? undefined : 'br_netfilter is not active here');
const withoutBrNf = (ctx: FaultContext) => (ctx.brNetfilter ? 'br_netfilter is active here' : undefined);

export const FAULT_CASES: FaultCase[] = [
  {
    name: 'healthy cluster',
    kernel: 'delivers same-node pod traffic over cni0 and cross-node traffic over flannel.1 and the switch',
    probes: [
      { name: 'same node (cni0)', flow: { from: WEB0, to: '10.244.0.2', size: 84 }, expect: { delivered: true, seenBy: [WEB0, N1, DNS1] } },
      { name: 'across nodes (VXLAN)', flow: cross(), expect: { delivered: true, seenBy: CROSS } },
      { name: 'across nodes, UDP', flow: { from: WEB0, to: '10.244.1.3', size: 200, proto: 'udp', port: 8080 }, skip: needPython, expect: { delivered: true, seenBy: CROSS } },
      { name: 'across nodes, the largest packet the pod MTU allows (1450)', flow: cross(1450), expect: { delivered: true, seenBy: CROSS } },
      { name: 'node to a remote pod', flow: { from: N1, to: '10.244.1.3', size: 84 }, expect: { delivered: true, seenBy: [N1, N2, WEB1, TOR] } },
      { name: 'one byte over the pod MTU: the socket refuses it (EMSGSIZE)', flow: cross(1451), expect: { delivered: false, drop: { host: WEB0, dev: 'eth0' }, verdict: 'mtu-exceeded', seenBy: [WEB0] } },
    ],
  },
  {
    name: 'missing VXLAN FDB entry for the remote VTEP',
    kernel: 'vxlan_xmit finds no FDB entry for the inner destination MAC (nor 00:00:00:00:00:00) and drops it: tx_dropped on flannel.1, nothing leaves eth0',
    apply: (ctx) => ctx.lab.bridge(N1, 'fdb', 'del', node(ctx, N2).vtepMac, 'dev', 'flannel.1', 'dst', node(ctx, N2).ip, 'self'),
    repair: (ctx) => restorePeer(ctx, N1, N2),
    probes: [{ name: 'web-0 -> web-1', flow: cross(), expect: { delivered: false, drop: { host: N1, dev: 'flannel.1' }, verdict: 'no-fdb-entry', seenBy: [WEB0, N1] } }],
  },
  {
    name: "wrong VXLAN FDB entry (node2's VTEP MAC pointing at node3)",
    kernel: "node3 decapsulates (same VNI) but the inner frame is for node2's flannel.1 MAC: PACKET_OTHERHOST, dropped before IP (only the outer UDP counts in Ip)",
    apply: (ctx) => ctx.lab.bridge(N1, 'fdb', 'replace', node(ctx, N2).vtepMac, 'dev', 'flannel.1', 'dst', node(ctx, N3).ip, 'self', 'permanent'),
    repair: (ctx) => restorePeer(ctx, N1, N2),
    probes: [{ name: 'web-0 -> web-1', flow: cross(), expect: { delivered: false, drop: { host: N3, dev: 'flannel.1' }, verdict: 'wrong-destination', seenBy: [WEB0, N1, N3, TOR] } }],
  },
  {
    name: "missing neighbour entry for node2's flannel.1 address",
    kernel: 'the packet waits on ARP for 10.244.1.0; the request is a broadcast on flannel.1, which has no VXLAN FDB entry for it (dropped, tx_dropped): after 3 probes the entry is FAILED, the queued packet dropped and ICMP host unreachable sent',
    apply: (ctx) => ctx.lab.ip(N1, 'neigh', 'del', '10.244.1.0', 'dev', 'flannel.1'),
    repair: (ctx) => restorePeer(ctx, N1, N2),
    probes: [{ name: 'web-0 -> web-1', flow: cross(), expect: { delivered: false, drop: { host: N1, dev: 'flannel.1' }, verdict: 'neighbor-failed', seenBy: [WEB0, N1] } }],
  },
  {
    name: "FAILED neighbour entry for node2's flannel.1 address (an earlier packet gave up)",
    kernel: 'a FAILED entry is probed again by the next packet (__neigh_event_send: FAILED -> INCOMPLETE), fails again and the packet is dropped the same way',
    apply: async (ctx) => {
      ctx.lab.ip(N1, 'neigh', 'del', '10.244.1.0', 'dev', 'flannel.1');
      await observe(ctx.lab, ctx.built, cross());
      const st = ctx.lab.ip(N1, 'neigh', 'show', '10.244.1.0', 'dev', 'flannel.1');
      if (!/FAILED/.test(st)) throw new Error(`expected a FAILED entry for 10.244.1.0, got: ${st}`);
    },
    repair: (ctx) => restorePeer(ctx, N1, N2),
    probes: [{ name: 'web-0 -> web-1', flow: cross(), expect: { delivered: false, drop: { host: N1, dev: 'flannel.1' }, verdict: 'neighbor-failed', seenBy: [WEB0, N1] } }],
  },
  {
    name: "wrong PERMANENT neighbour entry (wrong MAC) for node2's flannel.1 address",
    kernel: 'the inner frame is addressed to a MAC the VXLAN FDB does not know: vxlan_xmit drops it (tx_dropped on flannel.1)',
    apply: (ctx) => ctx.lab.ip(N1, 'neigh', 'replace', '10.244.1.0', 'lladdr', '02:00:00:00:00:99', 'dev', 'flannel.1', 'nud', 'permanent'),
    repair: (ctx) => restorePeer(ctx, N1, N2),
    probes: [{ name: 'web-0 -> web-1', flow: cross(), expect: { delivered: false, drop: { host: N1, dev: 'flannel.1' }, verdict: 'no-fdb-entry', seenBy: [WEB0, N1] } }],
  },
  {
    name: 'deleted pod-subnet route',
    kernel: 'node1 falls back to its default route via the gateway, which has no route to 10.244.1.0/24: IpExt InNoRoutes and ICMP net unreachable on gw',
    apply: (ctx) => ctx.lab.ip(N1, 'route', 'del', '10.244.1.0/24'),
    repair: (ctx) => restorePeer(ctx, N1, N2),
    probes: [{ name: 'web-0 -> web-1', flow: cross(), expect: { delivered: false, drop: { host: GW, dev: null }, verdict: 'no-route', seenBy: [WEB0, N1, TOR, GW] } }],
  },
  {
    name: 'routing loop between node1 and the gateway',
    kernel: 'node1 sends 10.244.1.0/24 to gw and gw sends it back, each forward taking one from the TTL: node1 forwards it 32 times (TTL 64, 62, ... 2) and gw receives it with TTL 1: ip_forward counts Ip InHdrErrors there. No ICMP time exceeded comes back (gw has no route to 10.244.0.3) and no redirect is sent (the source is not on-link)',
    apply: (ctx) => {
      ctx.lab.ip(N1, 'route', 'replace', '10.244.1.0/24', 'via', '10.4.7.1', 'dev', 'eth0');
      ctx.lab.ip(GW, 'route', 'replace', '10.244.1.0/24', 'via', node(ctx, N1).ip, 'dev', 'eth0');
    },
    repair: (ctx) => {
      ctx.lab.ip(GW, 'route', 'del', '10.244.1.0/24');
      restorePeer(ctx, N1, N2);
    },
    probes: [{
      name: 'web-0 -> web-1',
      flow: cross(),
      expect: { delivered: false, drop: { host: GW, dev: 'eth0' }, verdict: 'ttl-exceeded', seenBy: [WEB0, N1, TOR, GW] },
      check: (obs) => {
        assert.equal(obs.devices.find((d) => d.host === N1 && d.dev === 'eth0')?.tx, 32, describeObservation(obs));
        assert.equal(obs.deltas[GW]?.['Ip.InHdrErrors'], 1, describeObservation(obs));
      },
    }],
  },
  {
    name: 'blackhole route for the remote pod subnet',
    kernel: 'forwarded: the input route is a blackhole, ip_error with EINVAL drops it silently (only Ip InReceives moves); sent by the node itself: connect()/sendmsg fails with EINVAL',
    apply: (ctx) => ctx.lab.ip(N1, 'route', 'replace', 'blackhole', '10.244.1.0/24'),
    repair: (ctx) => restorePeer(ctx, N1, N2),
    probes: [
      { name: 'web-0 -> web-1 (forwarded)', flow: cross(), expect: { delivered: false, drop: { host: N1, dev: null }, verdict: 'blackhole', seenBy: [WEB0, N1] } },
      { name: 'web-0 -> web-1, UDP (forwarded)', flow: { from: WEB0, to: '10.244.1.3', size: 200, proto: 'udp', port: 8080 }, skip: needPython, expect: { delivered: false, drop: { host: N1, dev: null }, verdict: 'blackhole', seenBy: [WEB0, N1] } },
      { name: 'node1 -> web-1 (local: EINVAL)', flow: { from: N1, to: '10.244.1.3', size: 84 }, expect: { delivered: false, drop: { host: N1, dev: null }, verdict: 'blackhole', seenBy: [N1] } },
    ],
  },
  {
    name: "web-1's veth down on node2",
    kernel: "the port is disabled and its learned FDB entries flushed (br_stp_disable_port): cni0 floods the frame, but only to ports in forwarding state: the one copy goes to coredns, which drops it as not its MAC",
    apply: (ctx) => {
      pinWeb1(ctx);
      ctx.lab.ip(N2, 'link', 'set', pod(ctx, WEB1).hostVeth, 'down');
    },
    repair: (ctx) => {
      ctx.lab.ip(N2, 'link', 'set', pod(ctx, WEB1).hostVeth, 'up');
      unpinWeb1(ctx);
    },
    probes: [{
      name: 'web-0 -> web-1',
      flow: cross(),
      expect: { delivered: false, drop: { host: DNS2, dev: 'eth0' }, verdict: 'wrong-destination', seenBy: [WEB0, N1, N2, DNS2, TOR] },
    }],
  },
  {
    name: "web-1's veth taken out of cni0",
    kernel: 'the port leaves the bridge with its FDB entries (br_fdb_delete_by_port): cni0 floods to the remaining port, where coredns drops the frame as not its MAC',
    apply: (ctx) => {
      pinWeb1(ctx);
      ctx.lab.ip(N2, 'link', 'set', pod(ctx, WEB1).hostVeth, 'nomaster');
    },
    repair: (ctx) => {
      const v = pod(ctx, WEB1).hostVeth;
      ctx.lab.ip(N2, 'link', 'set', v, 'master', 'cni0');
      ctx.lab.bridge(N2, 'link', 'set', 'dev', v, 'hairpin', 'on');
      unpinWeb1(ctx);
    },
    probes: [{ name: 'web-0 -> web-1', flow: cross(), expect: { delivered: false, drop: { host: DNS2, dev: 'eth0' }, verdict: 'wrong-destination', seenBy: [WEB0, N1, N2, DNS2, TOR] } }],
  },
  {
    name: "stale bridge FDB entry (web-1's MAC on coredns's port)",
    kernel: 'cni0 sends the frame out of the wrong port; coredns drops it as not its MAC (PACKET_OTHERHOST)',
    // Sticky: any frame from web-1 (its own ARP refresh of the gateway, on its timers) would move a
    // plain entry back to web-1's port (br_fdb_update moves all but sticky entries), and the fault would
    // vanish or not depending on when web-1 last spoke.
    apply: (ctx) => ctx.lab.bridge(N2, 'fdb', 'replace', pod(ctx, WEB1).mac, 'dev', pod(ctx, DNS2).hostVeth, 'master', 'static', 'sticky'),
    repair: (ctx) => ctx.lab.bridge(N2, 'fdb', 'del', pod(ctx, WEB1).mac, 'dev', pod(ctx, DNS2).hostVeth, 'master'),
    probes: [{ name: 'web-0 -> web-1', flow: cross(), expect: { delivered: false, drop: { host: DNS2, dev: 'eth0' }, verdict: 'wrong-destination', seenBy: [WEB0, N1, N2, DNS2, TOR] } }],
  },
  {
    name: 'ip_forward=0 on node1',
    kernel: 'ip_route_input_slow: !IN_DEV_FORWARD(cni0) -> EHOSTUNREACH; ip_error counts Ip InAddrErrors and sends nothing. Bridged traffic is not routed and still flows',
    apply: (ctx) => ctx.lab.sysctl(N1, 'net.ipv4.ip_forward=0'),
    repair: (ctx) => ctx.lab.sysctl(N1, 'net.ipv4.ip_forward=1'),
    probes: [
      { name: 'web-0 -> web-1', flow: cross(), expect: { delivered: false, drop: { host: N1, dev: 'cni0' }, verdict: 'forwarding-disabled', seenBy: [WEB0, N1] } },
      { name: 'web-0 -> coredns on the same node (bridged, not routed)', flow: { from: WEB0, to: '10.244.0.2', size: 84 }, expect: { delivered: true, seenBy: [WEB0, N1, DNS1] } },
    ],
  },
  {
    name: 'forwarding disabled on flannel.1 of node2 only',
    kernel: 'the decapsulated packet arrives on flannel.1, whose conf forwarding is 0: dropped there (InAddrErrors), though ip_forward is 1',
    apply: (ctx) => ctx.lab.sysctl(N2, 'net.ipv4.conf.flannel/1.forwarding=0'),
    repair: (ctx) => ctx.lab.sysctl(N2, 'net.ipv4.conf.flannel/1.forwarding=1'),
    probes: [{ name: 'web-0 -> web-1', flow: cross(), expect: { delivered: false, drop: { host: N2, dev: 'flannel.1' }, verdict: 'forwarding-disabled', seenBy: [WEB0, N1, N2, TOR] } }],
  },
  {
    name: 'strict rp_filter on node2 with the route back to web-0 via eth0',
    kernel: 'fib_validate_source: the route back to 10.244.0.3 leaves by eth0, not flannel.1 where the packet came in: TcpExt IPReversePathFilter',
    apply: (ctx) => {
      ctx.lab.ip(N2, 'route', 'replace', '10.244.0.0/24', 'via', '10.4.7.1', 'dev', 'eth0');
      ctx.lab.sysctl(N2, 'net.ipv4.conf.all.rp_filter=1', 'net.ipv4.conf.flannel/1.rp_filter=1');
    },
    repair: (ctx) => {
      ctx.lab.sysctl(N2, 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.flannel/1.rp_filter=0');
      restorePeer(ctx, N2, N1);
    },
    probes: [{ name: 'web-0 -> web-1', flow: cross(), expect: { delivered: false, drop: { host: N2, dev: 'flannel.1' }, verdict: 'rp-filter', seenBy: [WEB0, N1, N2, TOR] } }],
  },
  {
    name: 'loose rp_filter on node2 with the same asymmetric route back',
    kernel: 'rp_filter=2 only needs some route back to the source: delivered',
    apply: (ctx) => {
      ctx.lab.ip(N2, 'route', 'replace', '10.244.0.0/24', 'via', '10.4.7.1', 'dev', 'eth0');
      ctx.lab.sysctl(N2, 'net.ipv4.conf.all.rp_filter=2', 'net.ipv4.conf.flannel/1.rp_filter=2');
    },
    repair: (ctx) => {
      ctx.lab.sysctl(N2, 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.flannel/1.rp_filter=0');
      restorePeer(ctx, N2, N1);
    },
    probes: [{ name: 'web-0 -> web-1', flow: cross(), expect: { delivered: true, seenBy: CROSS } }],
  },
  {
    name: "web-0's cni0 port (host veth) with MTU 1000, the pod's eth0 still 1450",
    kernel: "pod -> port: veth_xmit refuses frames longer than the peer's MTU + 18 (is_skb_forwardable: mtu + ETH_HLEN + VLAN_HLEN), so IP packets up to 1004 bytes pass; the drop counts as rx_dropped on the node's veth (tx_dropped on the pod's eth0) and the socket gets ENOBUFS. port <- bridge: with br_netfilter the limit is the port MTU exactly (br_nf_dev_queue_xmit: DF -> FragFails, no ICMP); without it, br_dev_queue_push_xmit allows mtu + 18. Routed into cni0: the bridge took its smallest port's MTU (1000): ip_forward FragFails + ICMP frag needed",
    apply: (ctx) => ctx.lab.ip(N1, 'link', 'set', pod(ctx, WEB0).hostVeth, 'mtu', '1000'),
    repair: (ctx) => {
      ctx.lab.ip(N1, 'link', 'set', pod(ctx, WEB0).hostVeth, 'mtu', '1450');
      const mtu = /mtu (\d+)/.exec(ctx.lab.ip(N1, 'link', 'show', 'cni0'))?.[1];
      if (mtu !== '1450') throw new Error(`cni0 did not return to MTU 1450 (${mtu})`);
    },
    probes: [
      { name: 'web-0 -> coredns 1004 bytes (frame 1018 = 1000 + 14 + 4)', flow: { from: WEB0, to: '10.244.0.2', size: 1004 }, expect: { delivered: true, seenBy: [WEB0, N1, DNS1] } },
      {
        name: 'web-0 -> coredns 1005 bytes',
        flow: { from: WEB0, to: '10.244.0.2', size: 1005 },
        expect: { delivered: false, drop: { host: N1, dev: WEB0_VETH }, verdict: 'mtu-exceeded', seenBy: [WEB0, N1] },
      },
      { name: 'coredns -> web-0 1000 bytes', flow: { from: DNS1, to: '10.244.0.3', size: 1000 }, expect: { delivered: true, seenBy: [DNS1, N1, WEB0] } },
      {
        name: 'coredns -> web-0 1001 bytes, br_netfilter active',
        flow: { from: DNS1, to: '10.244.0.3', size: 1001 },
        skip: withBrNf,
        expect: { delivered: false, drop: { host: N1, dev: null }, verdict: 'mtu-exceeded', seenBy: [DNS1, N1] },
      },
      {
        name: 'coredns -> web-0 1018 bytes, no br_netfilter',
        flow: { from: DNS1, to: '10.244.0.3', size: 1018 },
        skip: withoutBrNf,
        expect: { delivered: true, seenBy: [DNS1, N1, WEB0] },
      },
      { name: 'coredns -> web-0 1019 bytes', flow: { from: DNS1, to: '10.244.0.3', size: 1019 }, expect: { delivered: false, drop: { host: N1, dev: null }, verdict: 'mtu-exceeded', seenBy: [DNS1, N1] } },
      { name: 'web-1 -> web-0 1000 bytes (routed into cni0)', flow: { from: WEB1, to: '10.244.0.3', size: 1000 }, expect: { delivered: true, seenBy: [WEB1, N2, TOR, N1, WEB0] } },
      { name: 'web-1 -> web-0 1001 bytes (routed into cni0)', flow: { from: WEB1, to: '10.244.0.3', size: 1001 }, expect: { delivered: false, drop: { host: N1, dev: 'cni0' }, verdict: 'mtu-exceeded', seenBy: [WEB1, N2, TOR, N1] } },
    ],
  },
  {
    name: "node1's eth0 MTU lowered to 1400 under flannel.1's 1450",
    kernel: "the VXLAN outer packet is sent with DF clear, so an inner packet over 1350 bytes is carried in two outer fragments (FragCreates on node1, ReasmOKs on node2) and delivered, every time: skb_tunnel_check_pmtu records PMTU 1350 for the inner destination, but forwarded packets ignore learned PMTU (ip_dst_mtu_maybe_forward, ip_forward_use_pmtu = 0). node1's own sockets do honour it: after the first packet, node1's next one fails with EMSGSIZE (mtu 1350)",
    apply: (ctx) => ctx.lab.ip(N1, 'link', 'set', 'eth0', 'mtu', '1400'),
    repair: (ctx) => {
      ctx.lab.ip(N1, 'link', 'set', 'eth0', 'mtu', '1500');
      ctx.lab.ip(N1, 'route', 'flush', 'cache');
    },
    probes: [
      { name: 'web-0 -> web-1 1350 bytes (outer 1400)', flow: cross(1350), expect: { delivered: true, seenBy: CROSS }, check: notFragmented },
      { name: 'web-0 -> web-1 1351 bytes (outer 1401: fragmented)', flow: cross(1351), expect: { delivered: true, seenBy: CROSS }, check: fragmented },
      {
        name: 'web-0 -> web-1 1450 bytes twice (forwarded: learned PMTU ignored)',
        flow: cross(1450),
        observe: { flushRouteCache: false },
        expect: { delivered: true, seenBy: CROSS },
        check: fragmented,
      },
      { name: 'node1 -> web-1 1400 bytes (its own socket, first packet)', flow: { from: N1, to: '10.244.1.3', size: 1400 }, expect: { delivered: true, seenBy: [N1, N2, WEB1, TOR] }, check: fragmented },
      {
        name: 'node1 -> web-1 1400 bytes again (PMTU 1350 learned by the first)',
        flow: { from: N1, to: '10.244.1.3', size: 1400 },
        observe: { flushRouteCache: false },
        kernelOnly: 'the learned PMTU lives in the route cache (ip route get shows "mtu 1350"), which a capture does not hold',
        expect: { delivered: false, drop: { host: N1, dev: 'flannel.1' }, verdict: 'mtu-exceeded', seenBy: [N1] },
      },
    ],
  },
];
