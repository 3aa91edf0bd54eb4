// Pods with no probes at all (distroless images: no ip, no BusyBox, no cat) on the demo capture: such a
// pod is still a host on the path, its namespace inferred from its node's tables and the IPs
// Kubernetes reports, and the ordinary walk runs through it. test/lab/toolless.test.ts checks the same
// against the kernel.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseCapture, type Capture } from '../../../src/capture/document';
import { buildNetwork, simulate, type TraceRequest, type TraceResult } from '../../../src/engine';
import { inferredNetnsText } from '../../../src/engine/narrate';

const demoText = readFileSync(join(__dirname, '../../../examples/demo-flannel-vxlan.json'), 'utf8');

function demo(...probeless: string[]): Capture {
  const r = parseCapture(demoText);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  for (const name of probeless) delete r.capture.hosts.find((h) => h.name === name)!.probes;
  return r.capture;
}

function edit(c: Capture, host: string, probe: string, f: (lines: string[]) => string[]): Capture {
  const h = c.hosts.find((x) => x.name === host)!;
  const lines = h.probes![probe]!.split('\n');
  const out = f(lines);
  assert.notDeepEqual(out, lines, `the edit of ${host} ${probe} changed nothing`);
  h.probes![probe] = out.join('\n');
  return c;
}

function trace(c: Capture, req: TraceRequest): TraceResult {
  const r = simulate(buildNetwork(c), req);
  if (!r.ok) throw new Error(r.error);
  return r.result;
}

const hosts = (r: TraceResult) => r.hops.map((h) => h.host);
const explain = (r: TraceResult) => [`${r.verdict}: ${r.reason}`, ...r.hops.flatMap((h) => [`  ${h.host} (${h.in ?? '-'} > ${h.out ?? '-'})`, ...h.steps.map((s) => `    ${s.inferred ? '*' : ' '}${s.kind}: ${s.text}`)])].join('\n');

const WEB0 = 'web-0'; // 10.244.0.3 on k8s-node1, behind veth53842afe
const DNS1 = 'coredns-6d8c4cb4d-xk7t2'; // 10.244.0.2 on k8s-node1, behind veth5baf738a
const WEB0_PORT = 'veth53842afe';
const DNS1_PORT = 'veth5baf738a';

/** node1 forgets web-0 (and optionally coredns): no neighbour entry, no learned FDB entry, as after `ip neigh flush` and `bridge fdb del`. */
function forget(c: Capture, ...ips: string[]): Capture {
  const macs = ips.map((ip) => `0a:58:${ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join(':')}`);
  edit(c, 'k8s-node1', 'neigh', (ls) => ls.filter((l) => !ips.some((ip) => l.startsWith(`${ip} `))));
  edit(c, 'k8s-node1', 'arp', (ls) => ls.filter((l) => !ips.some((ip) => l.includes(`(${ip})`))));
  return edit(c, 'k8s-node1', 'fdb', (ls) => ls.filter((l) => !macs.some((m) => l.startsWith(`${m} `))));
}

describe('a pod with no probes gets a namespace inferred from its node', () => {
  test('the bridge CNI layout: its IP on eth0 in cni0\'s subnet, the subnet on-link, the default via cni0\'s address; MTU and MAC from node1', () => {
    const net = buildNetwork(demo(WEB0));
    const ns = net.hosts.get(WEB0)!;
    assert.ok(ns.inferred);
    assert.equal(ns.inferred.node, 'k8s-node1');
    const eth0 = ns.ifaces.get('eth0')!;
    assert.deepEqual([[...ns.ifaces.keys()], eth0.mtu, eth0.mac?.toString(), eth0.addrs.map((a) => `${a.local}/${a.prefixlen}`)], [['eth0'], 1450, '0a:58:0a:f4:00:03', ['10.244.0.3/24']]);
    const def = ns.fib[4].lookup({ dst: net.hosts.get('web-1')!.ifaces.get('eth0')!.addrs[0]!.local });
    assert.ok(def.kind === 'route' && def.route.inferred);
    assert.equal(def.kind === 'route' && `${def.route.rec.gateway} ${def.route.rec.dev}`, '10.244.0.1 eth0');
    assert.match(inferredNetnsText(ns.inferred.facts), /no tables for default\/web-0[\s\S]*10\.244\.0\.3\/24 on eth0 with "10\.244\.0\.0\/24 dev eth0" and "default via 10\.244\.0\.1 dev eth0"[\s\S]*MAC 0a:58:0a:f4:00:03[\s\S]*MTU 1450/);
    // What it was inferred from: node1's route to it, the neighbour entry, cni0's address.
    assert.deepEqual(ns.inferred.basis.map((e) => `${e.host} ${e.probe}`), ['k8s-node1 routes4', 'k8s-node1 neigh', 'k8s-node1 addrs']);
    // The pod is found behind its port through node1's neighbour and FDB entries.
    const a = net.topology.attachments(net.hosts.get('k8s-node1')!).byPod.get(eth0)!;
    assert.deepEqual([a.how, a.ports.map((p) => p.name)], ['fdb', [WEB0_PORT]]);
  });

  test('as the source: the first hop, every step of it but the packet\'s creation inferred, then node1\'s real tables', () => {
    const r = trace(demo(WEB0), { from: 'default/web-0', to: 'default/web-1' });
    assert.equal(r.verdict, 'delivered', explain(r));
    assert.deepEqual(hosts(r), [WEB0, 'k8s-node1', 'tor', 'k8s-node2', 'web-1']);
    const first = r.hops[0]!;
    assert.deepEqual(first.steps.map((s) => s.kind), ['origin', 'inferred', 'route', 'arp', 'veth']);
    assert.ok(first.steps.slice(1).every((s) => s.inferred), explain(r));
    assert.match(first.steps[3]!.text, /web-0's neighbour table is not in the capture; with no entry for gateway 10\.244\.0\.1 on eth0 it would send an ARP request, and k8s-node1 \(cni0\) answers/);
    assert.match(first.steps[4]!.text, new RegExp(`other end, ${WEB0_PORT} in k8s-node1 \\(inferred: k8s-node1's neighbour entry gives 10\\.244\\.0\\.3 the MAC 0a:58:0a:f4:00:03, which cni0's forwarding table places behind ${WEB0_PORT}\\)`));
    assert.equal(r.hops[1]!.in, WEB0_PORT);
    assert.ok(!r.hops.slice(1).some((h) => h.steps.some((s) => s.inferred)), explain(r));
    assert.deepEqual(r.needs, [WEB0]);
  });

  test('as the destination: the last hop, entered by eth0, delivered with its side inferred', () => {
    const r = trace(demo(WEB0), { from: 'default/web-1', to: 'default/web-0' });
    assert.equal(r.verdict, 'delivered', explain(r));
    assert.deepEqual(hosts(r), ['web-1', 'k8s-node2', 'tor', 'k8s-node1', WEB0]);
    const last = r.hops.at(-1)!;
    assert.deepEqual([last.in, last.out], ['eth0', null]);
    assert.deepEqual(last.steps.map((s) => s.kind), ['inferred', 'route', 'deliver']);
    assert.ok(last.steps.every((s) => s.inferred));
    assert.equal(r.hops[3]!.out, WEB0_PORT);
  });

  test('the same node, and both ends without probes', () => {
    for (const [from, to, probeless] of [[`default/${WEB0}`, '10.244.0.2', [WEB0]], [`kube-system/${DNS1}`, '10.244.0.3', [WEB0]], [`default/${WEB0}`, '10.244.0.2', [WEB0, DNS1]]] as const) {
      const r = trace(demo(...probeless), { from, to });
      assert.equal(r.verdict, 'delivered', explain(r));
      assert.equal(hosts(r).length, 3, explain(r));
      assert.equal(hosts(r)[1], 'k8s-node1');
      assert.deepEqual(r.needs, [...probeless].sort());
    }
    const across = trace(demo(WEB0, 'web-1'), { from: `default/${WEB0}`, to: 'default/web-1' });
    assert.equal(across.verdict, 'delivered', explain(across));
    assert.deepEqual(hosts(across), [WEB0, 'k8s-node1', 'tor', 'k8s-node2', 'web-1']);
  });

  test('a packet larger than the MTU inferred for it stops at its eth0, as the kernel refuses it (EMSGSIZE)', () => {
    const r = trace(demo(WEB0), { from: 'default/web-0', to: 'default/web-1', size: 1451 });
    assert.equal(r.verdict, 'mtu-exceeded');
    assert.deepEqual(r.dropAt, { host: WEB0, dev: 'eth0' });
    assert.ok(r.hops[0]!.steps.at(-1)!.inferred);
    assert.equal(trace(demo(WEB0), { from: 'default/web-0', to: 'default/web-1', size: 1450 }).verdict, 'delivered');
  });

  test('no node in the capture either: the pod is still the first hop, and the trace says what is missing', () => {
    const c = demo(WEB0);
    c.hosts = c.hosts.filter((h) => h.name !== 'k8s-node1');
    delete c.links;
    const r = trace(c, { from: 'default/web-0', to: 'default/web-1' });
    assert.equal(r.verdict, 'insufficient-data');
    assert.deepEqual(r.dropAt, { host: WEB0, dev: null });
    assert.match(r.hops[0]!.steps.find((s) => s.kind === 'inferred')!.text, /k8s-node1 is not in the capture either/);
  });
});

describe('when node1\'s neighbour and FDB entries for the pod are gone', () => {
  test('the only port of cni0 whose other end is unknown leads to it (elimination), and the bridge floods: the copy that reaches it is delivered', () => {
    const c = forget(demo(WEB0), '10.244.0.3');
    const r = trace(c, { from: 'default/web-1', to: 'default/web-0' });
    assert.equal(r.verdict, 'delivered', explain(r));
    assert.deepEqual(hosts(r), ['web-1', 'k8s-node2', 'tor', 'k8s-node1', WEB0]);
    const node1 = r.hops[3]!;
    assert.match(node1.steps.find((s) => s.kind === 'arp')!.text, /no neighbour entry for 10\.244\.0\.3 on cni0[\s\S]*web-0 \(eth0\) answers \(its MAC is not in the capture\)/);
    const flood = node1.steps.find((s) => s.kind === 'flood')!;
    assert.ok(flood.inferred);
    assert.match(flood.text, new RegExp(`the frame is for web-0's eth0, whose MAC the capture does not show[\\s\\S]*\\(${DNS1_PORT}, ${WEB0_PORT}\\)`));
    const veth = node1.steps.find((s) => s.kind === 'veth')!;
    assert.ok(veth.inferred);
    assert.match(veth.text, new RegExp(`${WEB0_PORT} is the only one whose other end the capture does not show \\(the others lead to pods whose tables it has: ${DNS1_PORT} to ${DNS1}\\)`));
    // The copy to coredns is refused there: it is not coredns's MAC.
    const other = r.paths.find((p) => p.hops.some((h) => h.host === DNS1))!;
    assert.deepEqual([other.verdict, other.floodCopy, other.dropAt], ['wrong-destination', true, { host: DNS1, dev: 'eth0' }]);
    // The same from coredns, on the node: its own neighbour entry is gone too, so it ARPs across cni0.
    const same = trace(edit(edit(c, DNS1, 'neigh', (ls) => ls.filter((l) => !l.startsWith('10.244.0.3 '))), DNS1, 'arp', (ls) => ls.filter((l) => !l.includes('(10.244.0.3)'))), { from: `kube-system/${DNS1}`, to: '10.244.0.3' });
    assert.equal(same.verdict, 'delivered', explain(same));
    assert.deepEqual(hosts(same), [DNS1, 'k8s-node1', WEB0]);
  });

  test('two pods without probes and without entries: the engine says which ports may lead to each and follows every possibility', () => {
    const c = forget(demo(WEB0, DNS1), '10.244.0.3', '10.244.0.2');
    const net = buildNetwork(c);
    const att = net.topology.attachments(net.hosts.get('k8s-node1')!);
    const eth0 = net.hosts.get(WEB0)!.ifaces.get('eth0')!;
    assert.deepEqual([att.byPod.get(eth0)!.how, att.byPod.get(eth0)!.ports.map((p) => p.name).sort()], ['candidates', [DNS1_PORT, WEB0_PORT].sort()]);
    const r = trace(c, { from: `kube-system/${DNS1}`, to: 'default/web-0' });
    assert.equal(r.verdict, 'delivered', explain(r));
    assert.deepEqual(hosts(r), [DNS1, 'k8s-node1', WEB0]);
    assert.match(r.hops[0]!.steps.find((s) => s.kind === 'veth')!.text, /lead to coredns-6d8c4cb4d-xk7t2, web-0 in an order nothing in the capture gives/);
    // Each port coredns may be behind is a branch of its own, and each delivers to web-0.
    const ins = new Set(r.paths.filter((p) => p.verdict === 'delivered').map((p) => p.hops[1]!.in));
    assert.deepEqual([...ins].sort(), [DNS1_PORT, WEB0_PORT].sort());
    assert.ok(r.paths.every((p) => p.verdict === 'delivered' || (p.verdict === 'wrong-destination' && p.floodCopy)), explain(r));
  });
});

describe('what a collector should read', () => {
  test('a pod without probes that only flood copies reach is not needed; the pods whose tables would settle an ambiguous port are named apart', () => {
    // web-1 -> web-0: node1 forgot both its pods, neither was read. The flood copies reach both.
    const r = trace(forget(demo(WEB0, DNS1), '10.244.0.3', '10.244.0.2'), { from: 'default/web-1', to: 'default/web-0' });
    assert.equal(r.verdict, 'delivered', explain(r));
    assert.ok(r.paths.some((p) => p.hops.some((h) => h.host === DNS1)), 'a copy reaches coredns');
    assert.deepEqual(r.needs, [WEB0]);
    assert.deepEqual(r.settles, [DNS1]);
    // With coredns's tables its port is known, web-0's follows by elimination: nothing to settle.
    const settled = trace(forget(demo(WEB0), '10.244.0.3', '10.244.0.2'), { from: 'default/web-1', to: 'default/web-0' });
    assert.deepEqual([settled.needs, settled.settles], [[WEB0], undefined]);
  });
});

describe('faults with a pod without probes', () => {
  test('its port on node1 down: the kernel flushed the port\'s FDB entry, the flood skips the port, coredns refuses the copy', () => {
    let c = demo(WEB0);
    c = edit(c, 'k8s-node1', 'links', (ls) => ls.map((l) => (l.startsWith(`7: ${WEB0_PORT}@`) ? l.replace('<BROADCAST,MULTICAST,UP,LOWER_UP>', '<BROADCAST,MULTICAST>').replace('state UP', 'state DOWN') : l)));
    c = edit(c, 'k8s-node1', 'fdb', (ls) => ls.filter((l) => !l.startsWith('0a:58:0a:f4:00:03 ')));
    const r = trace(c, { from: 'default/web-1', to: 'default/web-0' });
    assert.equal(r.verdict, 'wrong-destination', explain(r));
    assert.deepEqual(r.dropAt, { host: DNS1, dev: 'eth0' });
    assert.ok(!r.paths.some((p) => p.hops.some((h) => h.host === WEB0)), 'no copy reaches web-0');
  });

  test('a trace that needs a pod nobody can read ends: the pod stays needed, the result does not change', () => {
    const c = demo(WEB0);
    const first = trace(c, { from: 'default/web-1', to: 'default/web-0' });
    assert.deepEqual(first.needs, [WEB0]);
    // A collector that tried and could not read it traces the same capture again: the same answer.
    const again = trace(c, { from: 'default/web-1', to: 'default/web-0' });
    assert.deepEqual(JSON.stringify(again), JSON.stringify(first));
  });
});

describe('Calico\'s layout (a veth on no bridge, proxy ARP), IPv4 and IPv6', () => {
  // node1's web-0 rewired as Calico's CNI plugin wires a pod: veth53842afe leaves cni0, gets
  // ee:ee:ee:ee:ee:ee and proxy_arp, node1 routes the pod's /32 and /128 to it; web-0 has an IPv6
  // address too, and node1 an IPv6 address on eth0.
  const calico = () => {
    let c = demo(WEB0);
    c.hosts.find((h) => h.name === WEB0)!.ips = ['10.244.0.3', 'fd00:244::3'];
    c = edit(c, 'k8s-node1', 'links', (ls) => ls.map((l, i) => (l.startsWith(`7: ${WEB0_PORT}@`) ? l.replace(' master cni0', '') : ls[i - 1]?.startsWith(`7: ${WEB0_PORT}@`) ? l.replace(/link\/ether \S+/, 'link/ether ee:ee:ee:ee:ee:ee') : l)));
    c = edit(c, 'k8s-node1', 'addrs', (ls) => ls.flatMap((l) => (l.startsWith('    inet 10.4.7.21/24') ? [l, '       valid_lft forever preferred_lft forever', '    inet6 fd00:4:7::21/64 scope global '] : l.includes('fe80::50d4:d5ff:fef3:50d/64') ? ['    inet6 fe80::ecee:eeff:feee:eeee/64 scope link '] : [l])));
    c = edit(c, 'k8s-node1', 'routes4', (ls) => [`10.244.0.3 dev ${WEB0_PORT} scope link `, ...ls]);
    c = edit(c, 'k8s-node1', 'routes6', (ls) => [`fd00:244::3 dev ${WEB0_PORT} metric 1024 pref medium`, 'fd00:4:7::/64 dev eth0 proto kernel metric 256 pref medium', 'local fd00:4:7::21 dev eth0 table local proto kernel metric 0 pref medium', ...ls]);
    c = edit(c, 'k8s-node1', 'neigh', (ls) => ls.filter((l) => !l.startsWith('10.244.0.3 ')));
    c = edit(c, 'k8s-node1', 'arp', (ls) => ls.filter((l) => !l.includes('(10.244.0.3)')));
    c = edit(c, 'k8s-node1', 'fdb', (ls) => ls.filter((l) => !l.includes(WEB0_PORT)));
    return edit(c, 'k8s-node1', 'sysctl', (ls) => [...ls, `net.ipv4.conf.${WEB0_PORT}.proxy_arp = 1`, 'net.ipv6.conf.all.forwarding = 1']);
  };

  test('inferred: its address alone, the default via 169.254.1.1 (IPv4) and via the veth\'s link-local address (IPv6)', () => {
    const net = buildNetwork(calico());
    const ns = net.hosts.get(WEB0)!;
    const eth0 = ns.ifaces.get('eth0')!;
    assert.deepEqual(eth0.addrs.map((a) => `${a.local}/${a.prefixlen}`), ['10.244.0.3/32', 'fd00:244::3/128']);
    const gw = (dst: string, f: 4 | 6) => {
      const a = ns.fib[f].lookup({ dst: net.hosts.get('k8s-node1')!.ifaces.get('eth0')!.addrs.find((x) => x.local.toString() === dst)!.local });
      return a.kind === 'route' ? `${a.route.rec.gateway} ${a.route.rec.dev}` : a.kind;
    };
    assert.equal(gw('10.4.7.21', 4), '169.254.1.1 eth0');
    assert.equal(gw('fd00:4:7::21', 6), 'fe80::ecee:eeff:feee:eeee eth0');
    assert.match(inferredNetnsText(ns.inferred!.facts), /a veth on no bridge: Calico's layout/);
    const a = net.topology.attachments(net.hosts.get('k8s-node1')!).byPod.get(eth0)!;
    assert.deepEqual([a.how, a.ports.map((p) => p.name)], ['route', [WEB0_PORT]]);
  });

  test('IPv4 from it: proxy ARP answers 169.254.1.1; to it: node1\'s /32 route and ARP across the veth', () => {
    const out = trace(calico(), { from: 'default/web-0', to: 'default/web-1' });
    assert.equal(out.verdict, 'delivered', explain(out));
    assert.deepEqual(hosts(out), [WEB0, 'k8s-node1', 'tor', 'k8s-node2', 'web-1']);
    assert.match(out.hops[0]!.steps.find((s) => s.kind === 'arp')!.text, new RegExp(`169\\.254\\.1\\.1[\\s\\S]*k8s-node1 \\(${WEB0_PORT}, proxy_arp\\) answers with ee:ee:ee:ee:ee:ee`));
    const back = trace(calico(), { from: 'default/web-1', to: 'default/web-0' });
    assert.equal(back.verdict, 'delivered', explain(back));
    assert.equal(back.hops[3]!.out, WEB0_PORT);
    assert.match(back.hops[3]!.steps.find((s) => s.kind === 'route' && /10\.244\.0\.3/.test(s.text))!.evidence, new RegExp(`^10\\.244\\.0\\.3 dev ${WEB0_PORT} scope link`));
  });

  test('its route gone and rp_filter on: its place comes from node1\'s neighbour entry, and proxy ARP ignores its request, so nothing leaves it', () => {
    let c = calico();
    c = edit(c, 'k8s-node1', 'routes4', (ls) => ls.filter((l) => !l.startsWith('10.244.0.3 dev') && !l.startsWith('10.244.0.0/24 dev cni0')));
    c = edit(c, 'k8s-node1', 'neigh', (ls) => [`10.244.0.3 dev ${WEB0_PORT} lladdr 0a:58:0a:f4:00:03 STALE`, ...ls]);
    c = edit(c, 'k8s-node1', 'sysctl', (ls) => [...ls, `net.ipv4.conf.${WEB0_PORT}.rp_filter = 1`]);
    const net = buildNetwork(c);
    assert.match(inferredNetnsText(net.hosts.get(WEB0)!.inferred!.facts), new RegExp(`k8s-node1's neighbour entry for 10\\.244\\.0\\.3 is on ${WEB0_PORT}, a veth on no bridge`));
    const r = trace(c, { from: 'default/web-0', to: 'default/web-1' });
    assert.equal(r.verdict, 'neighbor-failed', explain(r));
    assert.deepEqual(r.dropAt, { host: WEB0, dev: 'eth0' });
    assert.match(r.reason, new RegExp(`k8s-node1 would answer for 169\\.254\\.1\\.1 on ${WEB0_PORT} by proxy_arp, and its reverse-path filter \\(strict\\) sends replies to 10\\.244\\.0\\.3 out of eth0, not ${WEB0_PORT}`));
    // Without rp_filter the request is answered and the packet leaves (where it goes then is node1's business).
    const loose = trace(edit(c, 'k8s-node1', 'sysctl', (ls) => [...ls, `net.ipv4.conf.${WEB0_PORT}.rp_filter = 0`, 'net.ipv4.conf.all.rp_filter = 0']), { from: 'default/web-0', to: 'default/web-1' });
    assert.equal(loose.hops[1]?.host, 'k8s-node1', explain(loose));
  });

  test('IPv6 from it: neighbour discovery finds the veth\'s link-local gateway; to it: the /128 route and ND across the veth', () => {
    const out = trace(calico(), { from: 'default/web-0', to: 'fd00:4:7::21' });
    assert.equal(out.verdict, 'delivered', explain(out));
    assert.deepEqual(hosts(out), [WEB0, 'k8s-node1']);
    const nd = out.hops[0]!.steps.find((s) => s.kind === 'arp')!;
    assert.match(nd.text, new RegExp(`no entry for gateway fe80::ecee:eeff:feee:eeee on eth0 it would send a neighbour solicitation, and k8s-node1 \\(${WEB0_PORT}\\) answers with ee:ee:ee:ee:ee:ee`));
    const back = trace(calico(), { from: 'k8s-node1', to: 'fd00:244::3' });
    assert.equal(back.verdict, 'delivered', explain(back));
    assert.deepEqual(hosts(back), ['k8s-node1', WEB0]);
    assert.match(back.hops[0]!.steps.find((s) => s.kind === 'arp')!.text, /neighbour solicitation, and web-0 \(eth0\) answers \(its MAC is not in the capture\)/);
  });
});
