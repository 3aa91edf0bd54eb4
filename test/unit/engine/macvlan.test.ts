// macvlan and ipvlan pods (Multus): golden captures built by hand in the shapes `ip -d link` prints
// inside a pod whose interface is a macvlan/ipvlan moved there (`eth0@if2 ... link-netnsid 0` then
// `macvlan mode bridge ...`, as test/fixtures/parsers/links/lab-detail.txt shows for mv0 on this
// machine and iproute2's ip/iplink_macvlan.c / ip/iplink_ipvlan.c print), with each expected verdict
// derived from the kernel functions named in the test. The macvlan cases are also judged by a real
// kernel in test/lab/macvlan.test.ts (this machine's kernel has no ipvlan, so those are not). Two nodes, each with eth0 cabled to a top-of-rack switch `tor` (a
// Linux bridge br0, port p1 to node-1, p2 to node-2; its FDB has learned every MAC).
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { validateCapture, type Capture } from '../../../src/capture/document';
import { buildNetwork, simulate, type TraceResult } from '../../../src/engine';

const D = ' promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 ';
const lo = `1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00${D}`;
const loAddr = `1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    inet 127.0.0.1/8 scope host lo
       valid_lft forever preferred_lft forever`;

const NODE = { 'node-1': { ip: '10.20.0.11', mac: '52:54:00:20:00:11' }, 'node-2': { ip: '10.20.0.12', mac: '52:54:00:20:00:12' } } as const;
type NodeName = keyof typeof NODE;
interface PodDef {
  name: string;
  node: NodeName;
  ip: string;
  mac: string;
}
const PODS: PodDef[] = [
  { name: 'pod-a', node: 'node-1', ip: '10.20.0.101', mac: '6a:11:22:33:44:a1' },
  { name: 'pod-b', node: 'node-1', ip: '10.20.0.102', mac: '6a:11:22:33:44:b2' },
  { name: 'pod-c', node: 'node-2', ip: '10.20.0.103', mac: '6a:11:22:33:44:c3' },
];

interface Opts {
  driver: 'macvlan' | 'ipvlan';
  /** `mode bridge`, `mode private`, `mode l3`, `mode l2 private` ... (the kind line after the driver). */
  kind: string;
  hairpin?: boolean;
  /** The ifindex in its node that pod-a's eth0 names (`@ifN`). */
  podALink?: number;
  /** The nodes' eth0 is a veth cabled to the switch (a node that is a namespace, as in the netns lab). */
  nodeNic?: 'veth';
  /** No neighbour entries anywhere: every first packet asks ARP. */
  noNeigh?: boolean;
  /** The capture has no links (cables): a kind node's eth0 goes to a bridge outside the capture. */
  noCables?: boolean;
}

/** Everyone's neighbour entries: in ipvlan the pods share their node's MAC. */
function macOf(o: Opts, ip: string): string {
  const p = PODS.find((x) => x.ip === ip);
  if (p) return o.driver === 'ipvlan' ? NODE[p.node].mac : p.mac;
  return Object.values(NODE).find((n) => n.ip === ip)!.mac;
}
const allIps = [...Object.values(NODE).map((n) => n.ip), ...PODS.map((p) => p.ip)];
const neighOf = (o: Opts, self: string, dev: string) =>
  o.noNeigh ? '' : allIps
    .filter((ip) => ip !== self)
    .map((ip) => `${ip} dev ${dev} lladdr ${macOf(o, ip)} REACHABLE\n`)
    .join('');

function pod(o: Opts, p: PodDef) {
  const mac = o.driver === 'ipvlan' ? NODE[p.node].mac : p.mac;
  const link = p.name === 'pod-a' ? (o.podALink ?? 2) : 2;
  const flags = o.driver === 'ipvlan' && !o.kind.includes('l2') ? 'BROADCAST,MULTICAST,NOARP,UP,LOWER_UP' : 'BROADCAST,MULTICAST,UP,LOWER_UP';
  return {
    name: p.name,
    role: 'pod' as const,
    node: p.node,
    namespace: 'default',
    pod: p.name,
    ips: [p.ip],
    probes: {
      links: `${lo}
3: eth0@if${link}: <${flags}> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000
    link/ether ${mac} brd ff:ff:ff:ff:ff:ff link-netnsid 0${D}
    ${o.driver} ${o.kind} ${o.driver === 'macvlan' ? 'bcqueuelen 1000 usedbcqueuelen 1000 ' : ''}addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 
`,
      addrs: `${loAddr}
3: eth0@if${link}: <${flags}> mtu 1500 qdisc noqueue state UP group default qlen 1000
    link/ether ${mac} brd ff:ff:ff:ff:ff:ff link-netnsid 0
    inet ${p.ip}/24 brd 10.20.0.255 scope global eth0
       valid_lft forever preferred_lft forever
`,
      routes4: `10.20.0.0/24 dev eth0 proto kernel scope link src ${p.ip} 
local ${p.ip} dev eth0 table local proto kernel scope host src ${p.ip} 
`,
      neigh: neighOf(o, p.ip, 'eth0'),
    },
  };
}

function node(o: Opts, name: NodeName) {
  const n = NODE[name];
  return {
    name,
    role: 'node' as const,
    ips: [n.ip],
    probes: {
      links: `${lo}
${o.nodeNic === 'veth' ? `2: eth0@if${name === 'node-1' ? 2 : 3}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000
    link/ether ${n.mac} brd ff:ff:ff:ff:ff:ff link-netnsid 1${D}
    veth addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 ` : `2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP mode DEFAULT group default qlen 1000
    link/ether ${n.mac} brd ff:ff:ff:ff:ff:ff${D}`}
`,
      addrs: `${loAddr}
2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP group default qlen 1000
    link/ether ${n.mac} brd ff:ff:ff:ff:ff:ff
    inet ${n.ip}/24 brd 10.20.0.255 scope global eth0
       valid_lft forever preferred_lft forever
`,
      routes4: `10.20.0.0/24 dev eth0 proto kernel scope link src ${n.ip} 
local ${n.ip} dev eth0 table local proto kernel scope host src ${n.ip} 
`,
      neigh: neighOf(o, n.ip, 'eth0'),
      sysctl: 'net.ipv4.ip_forward = 1\n',
    },
  };
}

function tor(o: Opts) {
  const port = (i: number, p: string, mac: string) => `${i}: ${p}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel master br0 state UP mode DEFAULT group default qlen 1000
    link/ether ${mac} brd ff:ff:ff:ff:ff:ff${D}
    bridge_slave state forwarding priority 32 cost 4 hairpin ${o.hairpin ? 'on' : 'off'} guard off root_block off fastleave off learning on flood on port_id 0x800${i} port_no 0x${i} `;
  const behind = (n: NodeName) => [NODE[n].mac, ...(o.driver === 'macvlan' ? PODS.filter((p) => p.node === n).map((p) => p.mac) : [])];
  return {
    name: 'tor',
    role: 'switch' as const,
    probes: {
      links: `${lo}
${port(2, 'p1', '52:54:00:99:00:01')}
${port(3, 'p2', '52:54:00:99:00:02')}
4: br0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000
    link/ether 52:54:00:99:00:01 brd ff:ff:ff:ff:ff:ff${D}
    bridge forward_delay 1500 hello_time 200 max_age 2000 ageing_time 30000 stp_state 0 priority 32768 vlan_filtering 0 
`,
      fdb: [...behind('node-1').map((m) => `${m} dev p1 master br0 \n`), ...behind('node-2').map((m) => `${m} dev p2 master br0 \n`)].join(''),
    },
  };
}

function capture(o: Opts): Capture {
  const doc = {
    apiVersion: 'netpath/v1',
    kind: 'Capture',
    metadata: { cluster: `multus-${o.driver}` },
    hosts: [node(o, 'node-1'), node(o, 'node-2'), tor(o), ...PODS.map((p) => pod(o, p))],
    ...(o.noCables
      ? {}
      : {
          links: [
            { a: { host: 'node-1', dev: 'eth0' }, b: { host: 'tor', dev: 'p1' } },
            { a: { host: 'node-2', dev: 'eth0' }, b: { host: 'tor', dev: 'p2' } },
          ],
        }),
  };
  const r = validateCapture(doc);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.capture;
}

function trace(c: Capture, from: string, to: string): TraceResult {
  const r = simulate(buildNetwork(c), { from, to });
  if (!r.ok) throw new Error(r.error);
  return r.result;
}

const details = (r: TraceResult, type: string) => r.hops.flatMap((h) => h.steps.map((s) => s.detail as unknown as { type: string } & Record<string, unknown>)).filter((d) => d?.type === type);
const kinds = (r: TraceResult) => r.hops.map((h) => `${h.host}:${h.steps.map((s) => s.kind).join(',')}`);

describe('macvlan', () => {
  test('bridge mode, pod to pod on one lower device: onto the lower device\'s receive path, which gives it to the sibling (macvlan_queue_xmit: dev_forward_skb(lowerdev))', () => {
    const r = trace(capture({ driver: 'macvlan', kind: 'mode bridge' }), 'default/pod-a', '10.20.0.102');
    assert.equal(r.verdict, 'delivered', r.reason);
    // The lab's kernel counts the frame on the node's eth0 ingress (test/lab/macvlan.test.ts): the node is a hop.
    assert.deepEqual(r.hops.map((h) => [h.host, h.in, h.out]), [['pod-a', null, 'eth0'], ['node-1', 'eth0', null], ['pod-b', 'eth0', null]]);
    const x = details(r, 'macvlan-xmit')[0]!;
    assert.deepEqual([x.to, x.lower, x.lowerNs, x.sibling], ['sibling', 'eth0', 'node-1', { ns: 'pod-b', dev: 'eth0' }]);
    assert.match(r.hops[0]!.steps.find((s) => s.kind === 'macvlan')!.text, /the destination MAC is eth0's in pod-b, a bridge-mode macvlan on the same lower device, so macvlan_queue_xmit puts the frame on eth0's receive path \(dev_forward_skb\)/);
    const rx = details(r, 'macvlan-rx')[0]!;
    assert.deepEqual([rx.lower, rx.upperNs, rx.by], ['eth0', 'pod-b', 'mac']);
  });

  test('a node NIC that is a veth cabled to the switch (a node that is itself a namespace) carries its pods\' macvlans too', () => {
    const r = trace(capture({ driver: 'macvlan', kind: 'mode bridge', nodeNic: 'veth' }), 'default/pod-a', '10.20.0.103');
    assert.equal(r.verdict, 'delivered', r.reason);
    assert.deepEqual(r.hops.map((h) => h.host), ['pod-a', 'tor', 'node-2', 'pod-c']);
    assert.equal(details(r, 'macvlan-rx')[0]!.by, 'mac');
    const sib = trace(capture({ driver: 'macvlan', kind: 'mode bridge', nodeNic: 'veth' }), 'default/pod-a', '10.20.0.102');
    assert.deepEqual(sib.hops.map((h) => h.host), ['pod-a', 'node-1', 'pod-b']);
  });

  test('a kind node: eth0 is a veth into a bridge the capture does not hold, and it holds the node\'s InternalIP: it carries its pods\' macvlans', () => {
    const kind = capture({ driver: 'macvlan', kind: 'mode bridge', nodeNic: 'veth', noCables: true });
    const r = trace(kind, 'default/pod-a', '10.20.0.102');
    assert.equal(r.verdict, 'delivered', r.reason);
    assert.deepEqual(r.hops.map((h) => h.host), ['pod-a', 'node-1', 'pod-b']);
    // Without the InternalIP on it, a veth with no cable is no NIC of the node (it could be a pod's
    // veth): the pods on it are not looked for, and the frame goes out to a wire nobody owns.
    const other = kind.hosts.find((h) => h.name === 'node-1')!;
    other.ips = ['10.99.0.1'];
    const lost = trace(kind, 'default/pod-a', '10.20.0.102');
    assert.equal(lost.verdict, 'insufficient-data');
    assert.deepEqual(lost.hops.map((h) => h.host), ['pod-a']);
    assert.equal(lost.hops[0]!.steps.at(-1)!.detail?.type, 'segment-no-owner');
  });

  test('private mode, pod to pod: out of the lower device; the switch does not send it back out of p1 (br_forward: hairpin off)', () => {
    const r = trace(capture({ driver: 'macvlan', kind: 'mode private' }), 'default/pod-a', '10.20.0.102');
    assert.equal(r.verdict, 'wrong-destination');
    assert.deepEqual(r.hops.map((h) => h.host), ['pod-a', 'tor']);
    assert.equal(details(r, 'macvlan-xmit')[0]!.to, 'lower');
    assert.equal(details(r, 'hairpin-off').length, 1);
  });

  test('vepa mode with a hairpinning switch: the frame comes back in on eth0 and macvlan_handle_frame gives it to pod-b', () => {
    const r = trace(capture({ driver: 'macvlan', kind: 'mode vepa', hairpin: true }), 'default/pod-a', '10.20.0.102');
    assert.equal(r.verdict, 'delivered', r.reason);
    assert.deepEqual(r.hops.map((h) => h.host), ['pod-a', 'tor', 'node-1', 'pod-b']);
    const rx = details(r, 'macvlan-rx')[0]!;
    assert.deepEqual([rx.lower, rx.upper, rx.upperNs, rx.by], ['eth0', 'eth0', 'pod-b', 'mac']);
  });

  test('to a pod on another node: out of eth0, across the switch, macvlan_handle_frame on node-2 eth0 by MAC', () => {
    const r = trace(capture({ driver: 'macvlan', kind: 'mode bridge' }), 'default/pod-a', '10.20.0.103');
    assert.equal(r.verdict, 'delivered', r.reason);
    assert.deepEqual(r.hops.map((h) => h.host), ['pod-a', 'tor', 'node-2', 'pod-c']);
    assert.deepEqual(kinds(r).slice(2), ['node-2:macvlan', 'pod-c:route,deliver']);
  });

  test('a macvlan pod cannot reach its own node: the frame goes out of eth0, never into it, and the switch does not send it back', () => {
    const r = trace(capture({ driver: 'macvlan', kind: 'mode bridge' }), 'default/pod-a', '10.20.0.11');
    assert.equal(r.verdict, 'wrong-destination');
    // As the lab's kernel did (test/lab/macvlan.test.ts): out of the lower device, dropped by the switch.
    assert.deepEqual(r.dropAt, { host: 'tor', dev: 'p1' });
    assert.deepEqual(r.hops.map((h) => h.host), ['pod-a', 'tor']);
    assert.equal(details(r, 'hairpin-off').length, 1);
    assert.match(r.hops[0]!.steps.find((s) => s.kind === 'macvlan')!.text, /10\.20\.0\.11, an address of node-1, whose eth0 is eth0's own lower device: macvlan_queue_xmit puts the frame on eth0's transmit, never on its receive path, so it leaves on eth0's wire and node-1 sees it only if the switch sends it back/);
    const d = r.diagnosis?.[0];
    assert.ok(d, 'a diagnosis');
    assert.match(d.text, /node-1 never receives what pod-a's macvlan eth0 sends/);
    assert.match(d.fix, /give the host its own macvlan interface on eth0 \(ip link add mv-host link eth0 type macvlan mode bridge/);
    assert.equal(d.host, 'node-1');
  });

  test('a macvlan pod reaches its own node through a hairpinning switch: back in on eth0, no macvlan claims the node\'s MAC, node-1 takes it', () => {
    const r = trace(capture({ driver: 'macvlan', kind: 'mode bridge', hairpin: true }), 'default/pod-a', '10.20.0.11');
    assert.equal(r.verdict, 'delivered', r.reason);
    assert.deepEqual(r.hops.map((h) => h.host), ['pod-a', 'tor', 'node-1']);
    assert.equal(details(r, 'macvlan-rx').length, 0);
  });

  test('the node reaches other nodes\' macvlan pods: node-1 -> pod-c', () => {
    const r = trace(capture({ driver: 'macvlan', kind: 'mode bridge' }), 'node-1', '10.20.0.103');
    assert.equal(r.verdict, 'delivered', r.reason);
    assert.deepEqual(r.hops.map((h) => h.host), ['node-1', 'tor', 'node-2', 'pod-c']);
  });

  test('ARP from a bridge-mode macvlan: its bridge-mode sibling gets the broadcast (macvlan_broadcast) and answers; the node owning the lower does not', () => {
    const r = trace(capture({ driver: 'macvlan', kind: 'mode bridge', noNeigh: true }), 'default/pod-a', '10.20.0.102');
    assert.equal(r.verdict, 'delivered', r.reason);
    assert.deepEqual(r.hops.map((h) => h.host), ['pod-a', 'node-1', 'pod-b']);
    assert.match(r.hops[0]!.steps.find((s) => s.kind === 'arp')!.text, /pod-b/);
    const home = trace(capture({ driver: 'macvlan', kind: 'mode bridge', noNeigh: true }), 'default/pod-a', '10.20.0.11');
    assert.equal(home.verdict, 'neighbor-failed', home.reason);
  });

  test('ARP from a private-mode macvlan: out of the lower only, the sibling never hears it (neighbor-failed); a pod on another node does', () => {
    const r = trace(capture({ driver: 'macvlan', kind: 'mode private', noNeigh: true }), 'default/pod-a', '10.20.0.102');
    assert.equal(r.verdict, 'neighbor-failed', r.reason);
    assert.deepEqual(r.dropAt, { host: 'pod-a', dev: 'eth0' });
    const across = trace(capture({ driver: 'macvlan', kind: 'mode private', noNeigh: true }), 'default/pod-a', '10.20.0.103');
    assert.equal(across.verdict, 'delivered', across.reason);
    assert.deepEqual(across.hops.map((h) => h.host), ['pod-a', 'tor', 'node-2', 'pod-c']);
  });

  test('ARP with a hairpinning switch: a vepa macvlan\'s broadcast comes back to the lower, which gives it to its siblings and its own stack; a private one\'s only to itself', () => {
    const vepa = capture({ driver: 'macvlan', kind: 'mode vepa', hairpin: true, noNeigh: true });
    const r = trace(vepa, 'default/pod-a', '10.20.0.102');
    assert.equal(r.verdict, 'delivered', r.reason);
    assert.deepEqual(r.hops.map((h) => h.host), ['pod-a', 'tor', 'node-1', 'pod-b']);
    const home = trace(vepa, 'default/pod-a', '10.20.0.11');
    assert.equal(home.verdict, 'delivered', home.reason);
    assert.match(home.hops[0]!.steps.find((s) => s.kind === 'arp')!.text, /node-1/);
    const priv = trace(capture({ driver: 'macvlan', kind: 'mode private', hairpin: true, noNeigh: true }), 'default/pod-a', '10.20.0.102');
    assert.equal(priv.verdict, 'neighbor-failed', priv.reason);
  });

  test('ARP from a node reaches the macvlan pods on the other nodes\' lower devices (the broadcast from the wire goes to every macvlan)', () => {
    const r = trace(capture({ driver: 'macvlan', kind: 'mode bridge', noNeigh: true }), 'node-1', '10.20.0.103');
    assert.equal(r.verdict, 'delivered', r.reason);
    assert.match(r.hops[0]!.steps.find((s) => s.kind === 'arp')!.text, /pod-c/);
  });

  test('a pod whose lower device is not in its node: insufficient-data, saying so', () => {
    const r = trace(capture({ driver: 'macvlan', kind: 'mode bridge', podALink: 9 }), 'default/pod-a', '10.20.0.103');
    assert.equal(r.verdict, 'insufficient-data');
    assert.equal(details(r, 'macvlan-no-lower')[0]!.linkIndex, 9);
    assert.match(r.reason, /eth0 in pod-a is a macvlan device, but the capture does not show its lower device \(ifindex 9 in its node\)/);
  });
});

describe('ipvlan', () => {
  test('l3: pod to pod on one lower device, by the address owner (ipvlan_addr_lookup)', () => {
    const r = trace(capture({ driver: 'ipvlan', kind: ' mode l3 bridge' }), 'default/pod-a', '10.20.0.102');
    assert.equal(r.verdict, 'delivered', r.reason);
    assert.deepEqual(r.hops.map((h) => h.host), ['pod-a', 'pod-b']);
    assert.equal(details(r, 'macvlan-xmit')[0]!.to, 'sibling');
  });

  test('l3 private: the sibling\'s address is dropped', () => {
    const r = trace(capture({ driver: 'ipvlan', kind: ' mode l3 private' }), 'default/pod-a', '10.20.0.102');
    assert.equal(r.verdict, 'wrong-destination');
    assert.equal(details(r, 'ipvlan-private').length, 1);
  });

  test('l3 to a pod on another node: routed in node-1 out of eth0; node-2 eth0 gives it to the ipvlan owning 10.20.0.103', () => {
    const r = trace(capture({ driver: 'ipvlan', kind: ' mode l3 bridge' }), 'default/pod-a', '10.20.0.103');
    assert.equal(r.verdict, 'delivered', r.reason);
    assert.deepEqual(r.hops.map((h) => h.host), ['pod-a', 'node-1', 'tor', 'node-2', 'pod-c']);
    assert.equal(details(r, 'macvlan-xmit')[0]!.to, 'route');
    assert.equal(details(r, 'macvlan-rx')[0]!.by, 'ip');
  });

  test('l2: a frame for the shared MAC to the node\'s own address goes up the node\'s stack (dev_forward_skb)', () => {
    const r = trace(capture({ driver: 'ipvlan', kind: ' mode l2 bridge' }), 'default/pod-a', '10.20.0.11');
    assert.equal(r.verdict, 'delivered', r.reason);
    assert.deepEqual(r.hops.map((h) => h.host), ['pod-a', 'node-1']);
    assert.equal(details(r, 'macvlan-xmit')[0]!.to, 'lower-stack');
  });

  test('l3 to its own node\'s address: never received (wrong-destination)', () => {
    const r = trace(capture({ driver: 'ipvlan', kind: ' mode l3 bridge' }), 'default/pod-a', '10.20.0.11');
    assert.equal(r.verdict, 'wrong-destination');
    assert.equal(details(r, 'macvlan-to-lower')[0]!.driver, 'ipvlan');
  });
});
