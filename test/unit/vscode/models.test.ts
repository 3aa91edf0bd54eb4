// The extension's tree, hover and quick-pick logic, without VS Code: plain data from the demo capture.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseCapture, type Capture } from '../../../src/capture/document';
import { buildNetwork } from '../../../src/engine';
import { childrenOf, nodeEntries, type BridgeNode } from '../../../src/vscode/model/bridges';
import { hoverMarkdown, indexAddresses, ipAt } from '../../../src/vscode/model/hover';
import { destinationEntries, sourceEntries } from '../../../src/vscode/model/picks';

function demo(): Capture {
  const r = parseCapture(readFileSync(join(__dirname, '../../../examples/demo-flannel-vxlan.json'), 'utf8'));
  if (!r.ok) throw new Error('demo');
  return r.capture;
}

function edit(c: Capture, host: string, probe: string, f: (l: string[]) => string[]): Capture {
  const h = c.hosts.find((x) => x.name === host)!;
  h.probes![probe] = f(h.probes![probe]!.split('\n')).join('\n');
  return c;
}

const find = <K extends BridgeNode['kind']>(list: BridgeNode[], kind: K, name?: string) =>
  list.find((n) => n.kind === kind && (name === undefined || ('name' in n && n.name === name))) as Extract<BridgeNode, { kind: K }> | undefined;

describe('Node Bridges tree', () => {
  test('cluster -> node -> cni0 -> veth port -> the pod behind it', () => {
    const net = buildNetwork(demo());
    const nodes = nodeEntries(net);
    assert.deepEqual(nodes.map((n) => n.kind === 'node' && n.node), ['k8s-node1', 'k8s-node2', 'k8s-node3']);
    const node1 = nodes[0]!;
    assert.ok(node1.kind === 'node' && node1.problems.length === 0 && node1.podCIDRs[0] === '10.244.0.0/24');
    const kids = childrenOf(net, node1);
    const cni0 = find(kids, 'bridge', 'cni0')!;
    assert.equal(cni0.ports, 2);
    assert.deepEqual(cni0.addrs, ['10.244.0.1/24', 'fe80::10f1:86ff:fea7:b2ae/64']);
    const docker0 = find(kids, 'bridge', 'docker0')!;
    assert.equal(docker0.ports, 0);
    const ports = childrenOf(net, cni0);
    assert.equal(ports.length, 2);
    const pods = ports.flatMap((p) => childrenOf(net, p));
    assert.deepEqual(pods.map((p) => p.kind === 'pod' && `${p.namespace}/${p.pod} ${p.ip} ${p.mac}`).sort(), ['default/web-0 10.244.0.3 0a:58:0a:f4:00:03', 'kube-system/coredns-6d8c4cb4d-xk7t2 10.244.0.2 0a:58:0a:f4:00:02']);
    const tunnel = find(kids, 'tunnel', 'flannel.1')!;
    assert.deepEqual([tunnel.vni, tunnel.local, tunnel.dstport], [1, '10.4.7.21', 8472]);
    const vteps = childrenOf(net, tunnel);
    assert.deepEqual(vteps.map((v) => v.kind === 'vtep' && `${v.peer} ${v.dst}`).sort(), ['k8s-node2 10.4.7.22', 'k8s-node3 10.4.7.23']);
    const routes = find(kids, 'routes')!;
    assert.ok(childrenOf(net, routes).some((r) => r.kind === 'route' && r.text === '10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink'));
  });

  test('a pod without tables is still found behind its port through the node\'s FDB and neighbours', () => {
    const c = demo();
    delete c.hosts.find((h) => h.name === 'web-0')!.probes;
    const net = buildNetwork(c);
    const cni0 = find(childrenOf(net, nodeEntries(net)[0]!), 'bridge', 'cni0')!;
    const pods = childrenOf(net, cni0).flatMap((p) => childrenOf(net, p));
    const web = pods.find((p) => p.kind === 'pod' && p.pod === 'web-0');
    assert.ok(web && web.kind === 'pod' && web.inferred && web.ip === '10.244.0.3');
  });

  test('without node entries for it, a pod without tables is behind the one port left (elimination); with two such pods, the port says "one of"', () => {
    const forget = (c: Capture, ips: string[], macs: string[]) => {
      edit(c, 'k8s-node1', 'neigh', (ls) => ls.filter((l) => !ips.some((ip) => l.startsWith(`${ip} `))));
      edit(c, 'k8s-node1', 'arp', (ls) => ls.filter((l) => !ips.some((ip) => l.includes(`(${ip})`))));
      return edit(c, 'k8s-node1', 'fdb', (ls) => ls.filter((l) => !macs.some((m) => l.startsWith(`${m} `))));
    };
    const behind = (c: Capture) => {
      const net = buildNetwork(c);
      const cni0 = find(childrenOf(net, nodeEntries(net)[0]!), 'bridge', 'cni0')!;
      return childrenOf(net, cni0).map((p) => [p.kind === 'port' && p.name, childrenOf(net, p).map((x) => (x.kind === 'pod' ? `${x.pod}${x.inferred ? ' (inferred)' : ''}` : x.kind === 'message' ? x.text : x.kind))]);
    };
    const one = demo();
    delete one.hosts.find((h) => h.name === 'web-0')!.probes;
    assert.deepEqual(behind(forget(one, ['10.244.0.3'], ['0a:58:0a:f4:00:03'])), [['veth5baf738a', ['coredns-6d8c4cb4d-xk7t2']], ['veth53842afe', ['web-0 (inferred)']]]);
    const two = demo();
    for (const h of two.hosts) if (h.name === 'web-0' || h.name === 'coredns-6d8c4cb4d-xk7t2') delete h.probes;
    const maybe = 'one of coredns-6d8c4cb4d-xk7t2, web-0 (inferred: their tables are not in the capture)';
    assert.deepEqual(behind(forget(two, ['10.244.0.2', '10.244.0.3'], ['0a:58:0a:f4:00:02', '0a:58:0a:f4:00:03'])), [['veth5baf738a', [maybe]], ['veth53842afe', [maybe]]]);
  });

  test('problems the tables show are marked: a port down, an FDB entry to a missing port, a missing podCIDR route', () => {
    let c = edit(demo(), 'k8s-node1', 'links', (ls) => ls.map((l) => (/^\d+: veth5baf738a@/.test(l) ? l.replace('<BROADCAST,MULTICAST,UP,LOWER_UP>', '<BROADCAST,MULTICAST>').replace('state UP', 'state DOWN') : l)));
    c = edit(c, 'k8s-node1', 'fdb', (ls) => [...ls, '0a:58:0a:f4:00:09 dev vethgone0 master cni0']);
    c = edit(c, 'k8s-node1', 'routes4', (ls) => ls.filter((l) => !l.startsWith('10.244.2.0/24')));
    const net = buildNetwork(c);
    const node1 = nodeEntries(net)[0]!;
    assert.ok(node1.kind === 'node');
    assert.deepEqual(node1.problems.map((p) => p.text), ["k8s-node1 has no route to k8s-node3's podCIDR 10.244.2.0/24"]);
    const cni0 = find(childrenOf(net, node1), 'bridge', 'cni0')!;
    assert.deepEqual(cni0.problems.map((p) => p.text), ["k8s-node1's cni0 FDB entry for 0a:58:0a:f4:00:09 points at vethgone0, which does not exist"]);
    const down = find(childrenOf(net, cni0), 'port', 'veth5baf738a')!;
    assert.deepEqual(down.problems.map((p) => p.text), ["k8s-node1's cni0 port veth5baf738a is down"]);
  });
});

describe('hovers on IP addresses', () => {
  test('finds the address under the cursor, IPv4 and IPv6, and nothing elsewhere', () => {
    const line = 'podIP: 10.244.1.3 and fd00::1:2, version 1.2.3.4.5';
    assert.deepEqual(ipAt(line, 10), { ip: '10.244.1.3', start: 7, end: 17 });
    assert.deepEqual(ipAt(line, 25)?.ip, 'fd00::1:2');
    assert.equal(ipAt(line, 2), undefined);
    assert.equal(ipAt(line, 45), undefined, 'a version string is not an address');
  });

  test('a pod IP shows the pod, node, veth, bridge and MAC with trace links', () => {
    const net = buildNetwork(demo());
    const md = hoverMarkdown(indexAddresses(net).get('10.244.1.3'))!;
    assert.match(md, /^\*\*pod\*\* `default\/web-1` — 10\\\.244\\\.1\\\.3/);
    assert.match(md, /node k8s\\-node2/);
    assert.match(md, /veth veth96603d4d · bridge cni0 · MAC 0a:58:0a:f4:01:03/);
    assert.match(md, /\[Trace from here\]\(command:netpath\.traceFrom\?%5B%7B%22ref%22%3A%22default%2Fweb-1%22%7D%5D\)/);
    assert.match(md, /\[Trace to here\]\(command:netpath\.traceTo\?/);
    assert.match(hoverMarkdown(indexAddresses(net).get('10.4.7.22'))!, /^\*\*node\*\* `k8s-node2`/);
    assert.equal(hoverMarkdown(indexAddresses(net).get('8.8.8.8')), undefined);
  });

  test('a hostile pod name stays text: no HTML, no link injection', () => {
    const c = demo();
    const pod = c.hosts.find((h) => h.name === 'web-1')!;
    pod.pod = '<img src=x onerror=alert(1)>](command:evil)';
    const md = hoverMarkdown(indexAddresses(buildNetwork(c)).get('10.244.1.3'))!;
    // Inside a code span the name is literal text; the only command links are netpath's own two.
    assert.ok(md.startsWith('**pod** `default/<img src=x onerror=alert(1)>](command:evil)`'), md);
    const outsideCode = md.split('`').filter((_, i) => i % 2 === 0).join('');
    assert.deepEqual(outsideCode.match(/\]\(command:[\w.]+/g), ['](command:netpath.traceFrom', '](command:netpath.traceTo']);
    assert.ok(!outsideCode.includes('<img'));
  });
});

describe('Trace Pod Path quick picks', () => {
  test('pods grouped by namespace with IP and node, then nodes; the destination offers any IP', () => {
    const c = demo();
    const src = sourceEntries(c);
    assert.deepEqual(src.filter((e) => e.kind === 'separator').map((e) => e.label), ['default', 'kube-system', 'monitoring', 'nodes']);
    const web0 = src.find((e) => e.kind === 'host' && e.ref === 'default/web-0');
    assert.ok(web0 && web0.kind === 'host' && web0.description === '10.244.0.3 on k8s-node1');
    const dst = destinationEntries(c, 'default/web-0');
    assert.equal(dst[0]!.kind, 'custom-ip');
    assert.ok(!dst.some((e) => e.kind === 'host' && e.ref === 'default/web-0'));
    assert.ok(dst.some((e) => e.kind === 'host' && e.ref === 'k8s-node2'));
  });
});
