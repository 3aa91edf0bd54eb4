// The engine on the demo capture (real kernel tables from the lab) and on faults made by editing
// those tables the way a broken node would have them.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseCapture, type Capture } from '../../../src/capture/document';
import { buildNetwork, simulate, type TraceRequest, type TraceResult } from '../../../src/engine';

const demoText = readFileSync(join(__dirname, '../../../examples/demo-flannel-vxlan.json'), 'utf8');

function demo(): Capture {
  const r = parseCapture(demoText);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.capture;
}

/** Edits one probe of one host: each function gets the lines and returns the new ones. */
function edit(c: Capture, host: string, probe: string, f: (lines: string[]) => string[]): Capture {
  const h = c.hosts.find((x) => x.name === host);
  if (!h?.probes?.[probe]) throw new Error(`${host} has no ${probe}`);
  const lines = h.probes[probe].split('\n');
  const out = f(lines);
  assert.notDeepEqual(out, lines, `the edit of ${host} ${probe} changed nothing`);
  h.probes[probe] = out.join('\n');
  return c;
}

function trace(c: Capture, req: TraceRequest): TraceResult {
  const r = simulate(buildNetwork(c), req);
  if (!r.ok) throw new Error(r.error);
  return r.result;
}

const hosts = (r: TraceResult) => r.hops.map((h) => h.host);
const kinds = (r: TraceResult) => r.hops.flatMap((h) => h.steps.map((s) => s.kind));

describe('healthy demo cluster (flannel VXLAN)', () => {
  test('pod to pod across nodes goes pod -> node -> VXLAN over the switch -> node -> pod', () => {
    const r = trace(demo(), { from: 'default/web-0', to: 'default/web-1' });
    assert.equal(r.verdict, 'delivered');
    assert.equal(r.dropAt, null);
    assert.deepEqual(hosts(r), ['web-0', 'k8s-node1', 'tor', 'k8s-node2', 'web-1']);
    assert.deepEqual(r.hops.map((h) => [h.in, h.out]), [[null, 'eth0'], [r.hops[1]!.in, 'eth0'], ['p1', 'p2'], ['eth0', r.hops[3]!.out], ['eth0', null]]);
    assert.match(r.hops[1]!.in!, /^veth/);
    const k = kinds(r);
    assert.ok(k.indexOf('vxlan-encap') < k.indexOf('vxlan-decap'));
    const encap = r.hops[1]!.steps.find((s) => s.kind === 'vxlan-encap')!;
    assert.match(encap.text, /VNI 1.*10\.4\.7\.22:8472 from 10\.4\.7\.21.*114 bytes/);
    const vtep = r.hops[1]!.steps.find((s) => s.kind === 'fdb')!;
    assert.match(vtep.evidence, /^[0-9a-f:]{17} dev flannel\.1 dst 10\.4\.7\.22 (used \d+\/\d+ )?self permanent$/);
    assert.equal(vtep.records[0]!.host, 'k8s-node1');
    assert.equal(vtep.records[0]!.probe, 'fdb');
    assert.equal(r.flow.src, '10.244.0.3');
    assert.equal(r.flow.dst, '10.244.1.3');
  });

  test('every step quotes the line that decided it, from the host it names', () => {
    const c = demo();
    const r = trace(c, { from: 'default/web-0', to: '10.244.2.3' });
    assert.equal(r.verdict, 'delivered');
    for (const h of r.hops) {
      for (const s of h.steps) {
        for (const e of s.records) {
          if (e.line === 0) continue;
          const text = c.hosts.find((x) => x.name === e.host)!.probes![e.probe]!;
          assert.equal(text.split('\n')[e.line - 1], e.raw, `${e.host} ${e.probe}:${e.line}`);
        }
      }
    }
    assert.ok(r.hops.every((h) => h.steps.some((s) => s.records.length > 0)));
  });

  test('pods on one node talk through the cni0 bridge only', () => {
    const r = trace(demo(), { from: 'default/web-0', to: 'kube-system/coredns-6d8c4cb4d-xk7t2' });
    assert.equal(r.verdict, 'delivered');
    assert.deepEqual(hosts(r), ['web-0', 'k8s-node1', 'coredns-6d8c4cb4d-xk7t2']);
    assert.ok(!kinds(r).includes('vxlan-encap'));
  });

  test('a node reaches the router through the switch', () => {
    const r = trace(demo(), { from: 'k8s-node3', to: '10.4.7.1' });
    assert.equal(r.verdict, 'delivered');
    assert.deepEqual(hosts(r), ['k8s-node3', 'tor', 'gw']);
    assert.equal(r.flow.src, '10.4.7.23');
  });

  test('a packet larger than the pod MTU stops at the pod with the size that fits', () => {
    const r = trace(demo(), { from: 'default/web-0', to: 'default/web-1', size: 1451 });
    assert.equal(r.verdict, 'mtu-exceeded');
    assert.deepEqual(r.dropAt, { host: 'web-0', dev: 'eth0' });
    assert.match(r.reason, /1451 bytes.*at most 1450/);
    assert.equal(trace(demo(), { from: 'default/web-0', to: 'default/web-1', size: 1450 }).verdict, 'delivered');
  });

  test('unknown endpoints are errors that list the hosts', () => {
    const r = simulate(buildNetwork(demo()), { from: 'default/nope', to: '10.244.1.3' });
    assert.ok(!r.ok && /--from "default\/nope" is not a host.*default\/web-0/.test(r.error));
  });
});

describe('faults', () => {
  test('a missing VXLAN FDB entry for the remote VTEP drops at flannel.1', () => {
    const c = edit(demo(), 'k8s-node1', 'fdb', (ls) => ls.filter((l) => !/dev flannel\.1 dst 10\.4\.7\.22 /.test(l)));
    const r = trace(c, { from: 'default/web-0', to: 'default/web-1' });
    assert.equal(r.verdict, 'no-fdb-entry');
    assert.deepEqual(r.dropAt, { host: 'k8s-node1', dev: 'flannel.1' });
  });

  test('a blackhole route drops where it is', () => {
    const c = edit(demo(), 'k8s-node1', 'routes4', (ls) => ['blackhole 10.244.1.0/25 proto static', ...ls]);
    const r = trace(c, { from: 'default/web-0', to: 'default/web-1' });
    assert.equal(r.verdict, 'blackhole');
    assert.deepEqual(r.dropAt, { host: 'k8s-node1', dev: null });
    assert.equal(r.hops[1]!.steps.find((s) => s.kind === 'route')!.evidence, 'blackhole 10.244.1.0/25 proto static');
  });

  test('forwarding disabled on the node drops the pod\'s packet there', () => {
    const c = edit(demo(), 'k8s-node1', 'sysctl', (ls) => ls.map((l) => l.replace(/^(net\.ipv4\.conf\.cni0\.forwarding) = 1/, '$1 = 0')));
    const r = trace(c, { from: 'default/web-0', to: 'default/web-1' });
    assert.equal(r.verdict, 'forwarding-disabled');
    assert.equal(r.dropAt!.host, 'k8s-node1');
  });

  test('a FAILED neighbour for the remote flannel.1 address with nobody answering', () => {
    const c = edit(demo(), 'k8s-node1', 'neigh', (ls) => ls.map((l) => (l.startsWith('10.244.1.0 ') ? '10.244.1.0 dev flannel.1 FAILED' : l)));
    const r = trace(c, { from: 'default/web-0', to: 'default/web-1' });
    assert.equal(r.verdict, 'neighbor-failed');
    assert.deepEqual(r.dropAt, { host: 'k8s-node1', dev: 'flannel.1' });
  });

  test('a missing pod-network route sends the packet to the default gateway, which has no route', () => {
    const c = edit(demo(), 'k8s-node1', 'routes4', (ls) => ls.filter((l) => !l.startsWith('10.244.1.0/24')));
    const r = trace(c, { from: 'default/web-0', to: 'default/web-1' });
    assert.deepEqual(hosts(r).slice(0, 4), ['web-0', 'k8s-node1', 'tor', 'gw']);
    assert.notEqual(r.verdict, 'delivered');
  });

  test('two routers pointing at each other: a loop that ends where the TTL runs out', () => {
    let c = edit(demo(), 'k8s-node1', 'routes4', (ls) => ls.map((l) => (l.startsWith('10.244.1.0/24') ? '10.244.1.0/24 via 10.4.7.1 dev eth0' : l)));
    c = edit(c, 'gw', 'routes4', (ls) => ['10.244.1.0/24 via 10.4.7.21 dev eth0', ...ls]);
    const r = trace(c, { from: 'default/web-0', to: 'default/web-1' });
    // As the kernel does (checked in the lab, test/lab/faults.test.ts): round and round until the TTL
    // runs out at gw, which receives the packet with TTL 1; node1 sends it 32 times.
    assert.equal(r.verdict, 'ttl-exceeded');
    assert.deepEqual(r.dropAt, { host: 'gw', dev: 'eth0' });
    assert.match(r.reason, /forwarding loop \(k8s-node1 -> tor -> gw and back\), sent out of eth0 of k8s-node1 32 times in all/);
    assert.ok(r.hops.some((h) => h.steps.some((s) => /second time with the same addresses: this is a forwarding loop/.test(s.text))));
    assert.ok(r.hops.length < 10, 'the repeated rounds are not recorded hop by hop');
  });

  test('a pod with no probes is the first hop, its side inferred from its node\'s tables', () => {
    const c = demo();
    delete c.hosts.find((h) => h.name === 'web-0')!.probes;
    const r = trace(c, { from: 'default/web-0', to: 'default/web-1' });
    assert.equal(r.verdict, 'delivered');
    assert.equal(r.inferred, true);
    assert.deepEqual(hosts(r), ['web-0', 'k8s-node1', 'tor', 'k8s-node2', 'web-1']);
    assert.deepEqual([r.hops[0]!.in, r.hops[0]!.out, r.hops[1]!.in], [null, 'eth0', webPort()]);
    // Everything in web-0 but the packet's creation is inferred; node1 onwards is read from tables.
    assert.ok(r.hops[0]!.steps.slice(1).every((s) => s.inferred), JSON.stringify(r.hops[0]!.steps));
    assert.ok(!r.hops[1]!.steps.some((s) => s.inferred));
  });

  test('a bridge FDB miss floods; only the copy that reaches the owner is delivered', () => {
    const c = edit(demo(), 'k8s-node2', 'fdb', (ls) => ls.filter((l) => !l.startsWith('0a:58:0a:f4:01:03 ')));
    const r = trace(c, { from: 'default/web-0', to: 'default/web-1' });
    assert.equal(r.verdict, 'delivered');
    assert.ok(kinds(r).includes('flood'));
    assert.ok(r.paths.length >= 2);
    assert.ok(r.paths.some((p) => p.verdict === 'wrong-destination'));
  });
});

describe('more kernel behaviour on the demo', () => {
  test('a destination pod with no probes is reached through its node\'s tables, inferred', () => {
    const c = demo();
    delete c.hosts.find((h) => h.name === 'web-1')!.probes;
    const r = trace(c, { from: 'default/web-0', to: 'default/web-1' });
    assert.equal(r.verdict, 'delivered', r.reason);
    assert.equal(r.inferred, true);
    assert.deepEqual(hosts(r), ['web-0', 'k8s-node1', 'tor', 'k8s-node2', 'web-1']);
    assert.equal(r.hops[4]!.in, 'eth0');
    assert.ok(r.hops[4]!.steps.every((s) => s.inferred));
    assert.deepEqual(r.hops[4]!.steps.map((s) => s.kind), ['inferred', 'route', 'deliver']);
  });

  test('hairpin: a frame the bridge must send back out of its ingress port needs hairpin mode', () => {
    // web-0's own MAC learned behind its own port: the bridge would send the frame back to it.
    const withHairpin = edit(demo(), 'k8s-node1', 'fdb', (ls) => ls.map((l) => (l.startsWith('0a:58:0a:f4:00:02 ') ? l.replace(/dev veth\w+/, `dev ${webPort()}`) : l)));
    const r = trace(withHairpin, { from: 'default/web-0', to: '10.244.0.2' });
    // The lab's ports have hairpin on (flannel's default): the frame goes back to web-0, which drops it.
    assert.ok(r.hops[1]!.steps.some((s) => /has hairpin mode on/.test(s.text)));
    assert.equal(r.verdict, 'wrong-destination');
    assert.deepEqual(r.dropAt, { host: 'web-0', dev: 'eth0' });
    // With hairpin off the bridge itself drops it.
    const off = edit(withHairpin, 'k8s-node1', 'links', (ls) => ls.map((l) => l.replace('hairpin on', 'hairpin off')));
    const r2 = trace(off, { from: 'default/web-0', to: '10.244.0.2' });
    assert.equal(r2.verdict, 'wrong-destination');
    assert.equal(r2.dropAt!.host, 'k8s-node1');
    assert.match(r2.reason, /hairpin mode is off/);
  });

  test('a proxy neighbour entry answers ARP for an address nobody owns', () => {
    let c = edit(demo(), 'web-0', 'routes4', (ls) => ['10.96.0.10 dev eth0 scope link', ...ls]);
    c = edit(c, 'k8s-node1', 'neigh', (ls) => ['10.96.0.10 dev cni0  proxy', ...ls]);
    const r = trace(c, { from: 'default/web-0', to: '10.96.0.10' });
    const arp = r.hops[0]!.steps.find((s) => s.kind === 'arp');
    assert.ok(arp, JSON.stringify(r.hops[0]!.steps.map((s) => s.text)));
    assert.match(arp.text, /k8s-node1 \(cni0, proxy neighbour entry\)/);
  });
});

function webPort(): string {
  const c = demo();
  const links = c.hosts.find((h) => h.name === 'web-0')!.probes!.links!;
  const peer = /eth0@if(\d+)/.exec(links)![1];
  const node = c.hosts.find((h) => h.name === 'k8s-node1')!.probes!.links!;
  return new RegExp(`^${peer}: (veth\\w+)@`, 'm').exec(node)![1]!;
}

test('with `bridge -s fdb` and `ip -s neigh` the steps say how fresh the entries are', () => {
  // The demo is captured with -s; pin the counters to known values.
  let c = edit(demo(), 'k8s-node2', 'fdb', (ls) => ls.map((l) => (l.startsWith('0a:58:0a:f4:01:03 ') ? l.replace(/ used \d+\/\d+/, '').replace(' master cni0', ' used 3/12 master cni0') : l)));
  c = edit(c, 'k8s-node2', 'neigh', (ls) => ls.map((l) => (l.startsWith('10.244.1.3 ') ? `10.244.1.3 dev cni0 lladdr 0a:58:0a:f4:01:03 ref 1 used 4/2/2probes 1 REACHABLE` : l)));
  const r = trace(c, { from: 'default/web-0', to: 'default/web-1' });
  const node2 = r.hops[3]!;
  assert.match(node2.steps.find((s) => s.kind === 'fdb')!.text, /found it behind port veth\w+, learned 12 s ago\./);
  assert.match(node2.steps.find((s) => s.kind === 'neigh')!.text, /\(REACHABLE, confirmed 2 s ago\)/);
});

test('a trace names the hosts whose tables it needs, so a collector can fetch just those and trace again', () => {
  const full = demo();
  // What the Kubernetes API alone gives: every node and pod, their IPs and podCIDRs, no tables.
  const skeleton = demo();
  delete skeleton.links;
  skeleton.hosts = skeleton.hosts.filter((h) => h.role === 'node' || h.role === 'pod');
  for (const h of skeleton.hosts) delete h.probes;
  const fetched: string[][] = [];
  const collect = (names: string[]) => {
    fetched.push(names);
    for (const n of names) skeleton.hosts.find((h) => h.name === n)!.probes = full.hosts.find((h) => h.name === n)!.probes!;
  };
  collect(['web-0', 'k8s-node1']); // the source pod and its node
  let r = trace(skeleton, { from: 'default/web-0', to: 'default/web-1' });
  for (let round = 0; r.needs.length > 0 && round < 5; round++) {
    collect(r.needs);
    r = trace(skeleton, { from: 'default/web-0', to: 'default/web-1' });
  }
  assert.equal(r.verdict, 'delivered', r.reason);
  assert.deepEqual(r.needs, []);
  assert.deepEqual(fetched, [['web-0', 'k8s-node1'], ['k8s-node2'], ['web-1']]);
  // Nothing else was needed: node3 and its pods were never asked for.
  assert.ok(!fetched.flat().some((n) => /node3|nginx|prometheus/.test(n)));
});

describe('rules the lab showed the kernel follows', () => {
  // Port MTUs as the fault lab sets them: web-0's node-side veth (a cni0 port) at 1000, web-0 at 1450.
  const smallPort = (nf?: '0' | '1') => {
    const port = webPort();
    let c = edit(demo(), 'k8s-node1', 'links', (ls) => ls.map((l) => (l.startsWith(`${/^(\d+):/.exec(ls.find((x) => x.includes(`: ${port}@`))!)![1]}: ${port}@`) ? l.replace('mtu 1450', 'mtu 1000') : l)));
    if (nf) c = edit(c, 'k8s-node1', 'sysctl', (ls) => [...ls, `net.bridge.bridge-nf-call-iptables = ${nf}`]);
    return c;
  };

  test('bridging into a smaller port: the MTU with br_netfilter, MTU + 18 without', () => {
    assert.equal(trace(smallPort('1'), { from: 'kube-system/coredns-6d8c4cb4d-xk7t2', to: '10.244.0.3', size: 1000 }).verdict, 'delivered');
    const over = trace(smallPort('1'), { from: 'kube-system/coredns-6d8c4cb4d-xk7t2', to: '10.244.0.3', size: 1001 });
    assert.equal(over.verdict, 'mtu-exceeded');
    assert.deepEqual(over.dropAt, { host: 'k8s-node1', dev: webPort() });
    assert.equal(trace(smallPort('0'), { from: 'kube-system/coredns-6d8c4cb4d-xk7t2', to: '10.244.0.3', size: 1018 }).verdict, 'delivered');
    assert.equal(trace(smallPort('0'), { from: 'kube-system/coredns-6d8c4cb4d-xk7t2', to: '10.244.0.3', size: 1019 }).verdict, 'mtu-exceeded');
  });

  test('a veth hands its peer frames up to the peer MTU + 4 bytes of IP; larger ones are dropped at the peer', () => {
    assert.equal(trace(smallPort('1'), { from: 'default/web-0', to: '10.244.0.2', size: 1004 }).verdict, 'delivered');
    const r = trace(smallPort('1'), { from: 'default/web-0', to: '10.244.0.2', size: 1005 });
    assert.equal(r.verdict, 'mtu-exceeded');
    assert.deepEqual(r.dropAt, { host: 'k8s-node1', dev: webPort() });
    assert.match(r.reason, /No buffer space available/);
  });

  test('a down port loses its learned FDB entries and gets no flood copies', () => {
    const c = edit(demo(), 'k8s-node2', 'links', (ls) => ls.map((l) => (/^\d+: veth96603d4d@/.test(l) ? l.replace('<BROADCAST,MULTICAST,UP,LOWER_UP>', '<BROADCAST,MULTICAST>').replace('state UP', 'state DOWN') : l)));
    const r = trace(c, { from: 'default/web-0', to: 'default/web-1' });
    // The only copy goes to coredns's port, whose pod discards it (not its MAC).
    assert.equal(r.verdict, 'wrong-destination');
    assert.equal(r.dropAt!.host, 'coredns-6d8c4cb4d-q9m4r');
    assert.ok(!r.paths.some((p) => p.dropAt?.dev === 'veth96603d4d'));
  });
});

describe('a pod read from /proc only (no ip, no BusyBox: cat /proc/net/route and /proc/net/arp)', () => {
  const le = (ip: string) => ip.split('.').reverse().map((o) => Number(o).toString(16).padStart(2, '0').toUpperCase()).join('');
  const procRoute = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT                                                       ',
    `eth0\t${le('0.0.0.0')}\t${le('10.244.1.1')}\t0003\t0\t0\t0\t${le('0.0.0.0')}\t0\t0\t0`,
    `eth0\t${le('10.244.1.0')}\t${le('0.0.0.0')}\t0001\t0\t0\t0\t${le('255.255.255.0')}\t0\t0\t0`,
    `eth0\t${le('10.244.0.0')}\t${le('10.244.1.1')}\t0003\t0\t0\t0\t${le('255.255.0.0')}\t0\t0\t0`,
  ].join('\n');
  const procPod = () => {
    const c = demo();
    // The gateway's MAC as the pod's ARP cache has it: node2's cni0.
    const cni0 = /\d+: cni0: [^\n]*\n\s+link\/ether (\S+)/.exec(c.hosts.find((h) => h.name === 'k8s-node2')!.probes!.links!)![1]!;
    const procArp = ['IP address       HW type     Flags       HW address            Mask     Device', `10.244.1.1       0x1         0x2         ${cni0}     *        eth0`].join('\n');
    const web1 = c.hosts.find((h) => h.name === 'web-1')!;
    web1.probes = { routes4: procRoute, neigh: procArp };
    return c;
  };

  test('as the destination: delivered through its node\'s veth, its own side marked inferred', () => {
    const r = trace(procPod(), { from: 'default/web-0', to: 'default/web-1' });
    assert.equal(r.verdict, 'delivered', r.reason);
    assert.deepEqual(hosts(r), ['web-0', 'k8s-node1', 'tor', 'k8s-node2', 'web-1']);
    const veth = r.hops[3]!.steps.find((s) => s.kind === 'veth')!;
    assert.equal(veth.inferred, true);
    assert.ok(r.hops[4]!.steps.some((s) => s.kind === 'deliver' && s.inferred));
  });

  test('as the source: its real /proc routes decide, the veth to its node is found through the node\'s tables', () => {
    const r = trace(procPod(), { from: 'default/web-1', to: 'default/web-0' });
    assert.equal(r.verdict, 'delivered', r.reason);
    assert.deepEqual(hosts(r), ['web-1', 'k8s-node2', 'tor', 'k8s-node1', 'web-0']);
    const route = r.hops[0]!.steps.find((s) => s.kind === 'route')!;
    assert.match(route.evidence, /^eth0\t0000F40A\t0101F40A\t0003/);
    assert.ok(!route.inferred);
    assert.equal(r.hops[1]!.in, 'veth96603d4d');
  });
});
