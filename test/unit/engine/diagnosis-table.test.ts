// Broken captures and the diagnosis each must give: the right host, the missing or wrong entry, and the
// component that owns it. Two sets: the lab's own faults (test/fixtures/captures/demo-fault-*, the
// demo cluster broken in network namespaces with the command an operator or a broken agent would run,
// then captured), and the demo capture (itself a lab capture) with one real line removed or changed.
// Each case also proves the tree's problem marks and the trace agree: the diagnosis's first entry is
// one of the capture's checks (checks.ts), word for word.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { parseCapture, type Capture } from '../../../src/capture/document';
import { buildNetwork, simulate, type TraceRequest } from '../../../src/engine';
import { checksOf } from '../../../src/engine/checks';
import type { Diagnosis, TraceResult, Verdict } from '../../../src/engine/trace';

const root = join(__dirname, '../../..');

function load(text: string): Capture {
  const r = parseCapture(text);
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.path}: ${e.message}`).join('; '));
  return r.capture;
}

const demoText = readFileSync(join(root, 'examples/demo-flannel-vxlan.json'), 'utf8');

/** A capture's JSON text with one line of one host's probe removed (`to` undefined) or rewritten. */
function withLine(text: string, host: string, probe: string, line: RegExp, to?: string): Capture {
  const doc = JSON.parse(text) as { hosts: { name: string; probes: Record<string, string> }[] };
  const h = doc.hosts.find((x) => x.name === host)!;
  const lines = h.probes[probe]!.split('\n');
  const i = lines.findIndex((l) => line.test(l));
  assert.ok(i >= 0, `${host} ${probe} has a line matching ${line}`);
  if (to === undefined) lines.splice(i, 1);
  else lines[i] = lines[i]!.replace(line, to);
  h.probes[probe] = lines.join('\n');
  return load(JSON.stringify(doc));
}

/** The demo with one line removed or rewritten. */
const demoWith = (host: string, probe: string, line: RegExp, to?: string) => withLine(demoText, host, probe, line, to);

/** A lab capture kept in test/fixtures/captures with one line removed or rewritten. */
const fixtureWith = (name: string, host: string, probe: string, line: RegExp, to?: string) => withLine(gunzipSync(readFileSync(join(root, 'test/fixtures/captures', `${name}.json.gz`))).toString('utf8'), host, probe, line, to);

function labFault(name: string): Capture {
  return load(gunzipSync(readFileSync(join(root, 'test/fixtures/captures', `${name}.json.gz`))).toString('utf8'));
}

interface Expect {
  verdict: Verdict;
  /** The first (most likely) cause. */
  first: { host: string; probe: string; kind: Diagnosis['kind']; owner: RegExp; entry: RegExp };
  /** It comes from the same check the Node Bridges tree shows (false for a drop explained, not a table's fault). */
  fromChecks: boolean;
}

interface Case {
  name: string;
  capture: () => Capture;
  flow: TraceRequest;
  expect: Expect;
}

const web0to1: TraceRequest = { from: 'default/web-0', to: '10.244.1.3' };
const flanneld1 = /^flanneld on k8s-node1$/;
const cni = (node: string) => new RegExp(`^the CNI plugin on ${node}\\b`);
const nodeConfig = (node: string) => new RegExp(`^the node's own network configuration on ${node}\\b`);

const LAB: Case[] = ([
  { name: 'demo-fault-02-missing-vxlan-fdb-entry-for-the-remote-vtep', flow: web0to1, expect: { verdict: 'no-fdb-entry', first: { host: 'k8s-node1', probe: 'fdb', kind: 'missing-vtep-fdb', owner: flanneld1, entry: /42:20:2d:f5:4d:c4.*k8s-node2's VTEP at 10\.4\.7\.22/ }, fromChecks: true } },
  { name: 'demo-fault-03-wrong-vxlan-fdb-entry-node2-s-vtep-mac-pointing', flow: web0to1, expect: { verdict: 'wrong-destination', first: { host: 'k8s-node1', probe: 'fdb', kind: 'wrong-vtep-fdb', owner: flanneld1, entry: /42:20:2d:f5:4d:c4 sends to 10\.4\.7\.23 \(k8s-node3\), not 10\.4\.7\.22/ }, fromChecks: true } },
  { name: 'demo-fault-04-missing-neighbour-entry-for-node2-s-flannel-1-ad', flow: web0to1, expect: { verdict: 'neighbor-failed', first: { host: 'k8s-node1', probe: 'neigh', kind: 'missing-vtep-neigh', owner: flanneld1, entry: /10\.244\.1\.0 on flannel\.1/ }, fromChecks: true } },
  { name: 'demo-fault-05-failed-neighbour-entry-for-node2-s-flannel-1-add', flow: web0to1, expect: { verdict: 'neighbor-failed', first: { host: 'k8s-node1', probe: 'neigh', kind: 'missing-vtep-neigh', owner: flanneld1, entry: /10\.244\.1\.0 on flannel\.1 is FAILED/ }, fromChecks: true } },
  { name: 'demo-fault-06-wrong-permanent-neighbour-entry-wrong-mac-for-no', flow: web0to1, expect: { verdict: 'no-fdb-entry', first: { host: 'k8s-node1', probe: 'neigh', kind: 'wrong-vtep-neigh', owner: flanneld1, entry: /10\.244\.1\.0 has MAC 02:00:00:00:00:99, not k8s-node2's VTEP MAC 42:20:2d:f5:4d:c4/ }, fromChecks: true } },
  { name: 'demo-fault-07-deleted-pod-subnet-route', flow: web0to1, expect: { verdict: 'no-route', first: { host: 'k8s-node1', probe: 'routes4', kind: 'missing-route', owner: flanneld1, entry: /no route to k8s-node2's podCIDR 10\.244\.1\.0\/24/ }, fromChecks: true } },
  { name: 'demo-fault-08-routing-loop-between-node1-and-the-gateway', flow: web0to1, expect: { verdict: 'ttl-exceeded', first: { host: 'k8s-node1', probe: 'routes4', kind: 'wrong-route', owner: flanneld1, entry: /10\.244\.1\.0\/24 does not lead to flannel\.1/ }, fromChecks: true } },
  { name: 'demo-fault-09-blackhole-route-for-the-remote-pod-subnet', flow: web0to1, expect: { verdict: 'blackhole', first: { host: 'k8s-node1', probe: 'routes4', kind: 'wrong-route', owner: flanneld1, entry: /10\.244\.1\.0\/24 is a blackhole route/ }, fromChecks: true } },
  { name: 'demo-fault-10-web-1-s-veth-down-on-node2', flow: web0to1, expect: { verdict: 'wrong-destination', first: { host: 'k8s-node2', probe: 'links', kind: 'device-down', owner: cni('k8s-node2'), entry: /cni0 port veth96603d4d is down/ }, fromChecks: true } },
  { name: 'demo-fault-11-web-1-s-veth-taken-out-of-cni0', flow: web0to1, expect: { verdict: 'wrong-destination', first: { host: 'k8s-node2', probe: 'links', kind: 'veth-not-in-bridge', owner: cni('k8s-node2'), entry: /veth96603d4d, web-1's veth, is not a port of cni0/ }, fromChecks: true } },
  { name: 'demo-fault-12-stale-bridge-fdb-entry-web-1-s-mac-on-coredns-s', flow: web0to1, expect: { verdict: 'wrong-destination', first: { host: 'k8s-node2', probe: 'fdb', kind: 'stale-bridge-fdb', owner: /^cni0's address learning on k8s-node2/, entry: /0a:58:0a:f4:01:03 \(web-1's MAC\) behind vethe1a761b7, but web-1 is behind veth96603d4d/ }, fromChecks: true } },
  { name: 'demo-fault-13-ip-forward-0-on-node1', flow: web0to1, expect: { verdict: 'forwarding-disabled', first: { host: 'k8s-node1', probe: 'sysctl', kind: 'forwarding-disabled', owner: nodeConfig('k8s-node1'), entry: /net\.ipv4\.ip_forward = 0/ }, fromChecks: true } },
  { name: 'demo-fault-14-forwarding-disabled-on-flannel-1-of-node2-only', flow: web0to1, expect: { verdict: 'forwarding-disabled', first: { host: 'k8s-node2', probe: 'sysctl', kind: 'forwarding-disabled', owner: nodeConfig('k8s-node2'), entry: /net\.ipv4\.conf\.flannel\.1\.forwarding = 0/ }, fromChecks: true } },
  { name: 'demo-fault-15-strict-rp-filter-on-node2-with-the-route-back-to', flow: web0to1, expect: { verdict: 'rp-filter', first: { host: 'k8s-node2', probe: 'sysctl', kind: 'rp-filter', owner: nodeConfig('k8s-node2'), entry: /rp_filter strict\) on flannel\.1: its route back to 10\.244\.0\.3 leaves by eth0, not flannel\.1/ }, fromChecks: false } },
  { name: 'demo-fault-17-web-0-s-cni0-port-host-veth-with-mtu-1000-the-po', flow: { from: 'default/web-0', to: '10.244.0.2', size: 1005 }, expect: { verdict: 'mtu-exceeded', first: { host: 'k8s-node1', probe: 'links', kind: 'mtu-mismatch', owner: cni('k8s-node1'), entry: /veth53842afe \(web-0's veth\) has MTU 1000, less than web-0's eth0 \(1450\)/ }, fromChecks: true } },
] satisfies Omit<Case, 'capture'>[]).map((c) => ({ ...c, capture: () => labFault(c.name) }));

const DEMO: Case[] = [
  {
    name: 'k8s-node1 without its route to 10.244.1.0/24',
    capture: () => demoWith('k8s-node1', 'routes4', /^10\.244\.1\.0\/24 via .*$/),
    flow: web0to1,
    expect: { verdict: 'no-route', first: { host: 'k8s-node1', probe: 'routes4', kind: 'missing-route', owner: flanneld1, entry: /no route to k8s-node2's podCIDR 10\.244\.1\.0\/24/ }, fromChecks: true },
  },
  {
    name: 'k8s-node1 without the FDB entry for k8s-node2\'s VTEP',
    capture: () => demoWith('k8s-node1', 'fdb', /^42:20:2d:f5:4d:c4 dev flannel\.1 .*$/),
    flow: web0to1,
    expect: { verdict: 'no-fdb-entry', first: { host: 'k8s-node1', probe: 'fdb', kind: 'missing-vtep-fdb', owner: flanneld1, entry: /no FDB entry for 42:20:2d:f5:4d:c4, k8s-node2's VTEP at 10\.4\.7\.22/ }, fromChecks: true },
  },
  {
    name: 'k8s-node1\'s FDB entry for k8s-node2\'s VTEP sending to an address no node has',
    capture: () => demoWith('k8s-node1', 'fdb', /dst 10\.4\.7\.22/, 'dst 10.4.7.99'),
    flow: web0to1,
    expect: { verdict: 'neighbor-failed', first: { host: 'k8s-node1', probe: 'fdb', kind: 'wrong-vtep-fdb', owner: flanneld1, entry: /sends to 10\.4\.7\.99, no node, not 10\.4\.7\.22/ }, fromChecks: true },
  },
  {
    name: 'k8s-node1\'s neighbour entry for 10.244.1.0 with a MAC no VTEP has',
    capture: () => demoWith('k8s-node1', 'neigh', /lladdr 42:20:2d:f5:4d:c4/, 'lladdr 42:20:2d:f5:4d:c5'),
    flow: web0to1,
    expect: { verdict: 'no-fdb-entry', first: { host: 'k8s-node1', probe: 'neigh', kind: 'wrong-vtep-neigh', owner: flanneld1, entry: /has MAC 42:20:2d:f5:4d:c5, not k8s-node2's VTEP MAC 42:20:2d:f5:4d:c4/ }, fromChecks: true },
  },
  {
    name: 'forwarding off on k8s-node1\'s cni0',
    capture: () => demoWith('k8s-node1', 'sysctl', /^net\.ipv4\.conf\.cni0\.forwarding = 1$/, 'net.ipv4.conf.cni0.forwarding = 0'),
    flow: web0to1,
    expect: { verdict: 'forwarding-disabled', first: { host: 'k8s-node1', probe: 'sysctl', kind: 'forwarding-disabled', owner: nodeConfig('k8s-node1'), entry: /does not forward what arrives on cni0 \(net\.ipv4\.conf\.cni0\.forwarding = 0\)/ }, fromChecks: true },
  },
  {
    name: 'web-1\'s veth down on k8s-node2',
    capture: () => demoWith('k8s-node2', 'links', /^7: veth96603d4d@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> (.*) state UP /, '7: veth96603d4d@if2: <BROADCAST,MULTICAST> $1 state DOWN '),
    flow: web0to1,
    expect: { verdict: 'wrong-destination', first: { host: 'k8s-node2', probe: 'links', kind: 'device-down', owner: cni('k8s-node2'), entry: /cni0 port veth96603d4d is down/ }, fromChecks: true },
  },
  {
    name: 'k8s-node2 without flanneld\'s FORWARD jump, under FORWARD policy DROP',
    capture: () => demoWith('k8s-node2', 'iptables', /^-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD$/),
    flow: web0to1,
    expect: { verdict: 'filtered', first: { host: 'k8s-node2', probe: 'iptables', kind: 'missing-forward-accept', owner: /^flanneld on k8s-node2$/, entry: /FORWARD chain has policy DROP and no jump to flanneld's FLANNEL-FWD/ }, fromChecks: true },
  },
  {
    name: 'the demo as it is: Service monitoring/alertmanager, whose selector no pod matches',
    capture: () => load(demoText),
    flow: { from: 'default/web-0', to: 'svc/monitoring/alertmanager:web', proto: 'tcp' },
    expect: { verdict: 'rejected', first: { host: 'kubernetes', probe: 'kubernetes.services[5]', kind: 'no-endpoints', owner: /^the workload whose pods carry app=alertmanager in monitoring/, entry: /Service monitoring\/alertmanager has no ready endpoint/ }, fromChecks: false },
  },
  {
    name: 'web-0\'s eth0 with MTU 1500 over flannel\'s 1450',
    capture: () => demoWith('web-0', 'links', /^2: eth0@if7: (.*) mtu 1450 /, '2: eth0@if7: $1 mtu 1500 '),
    flow: { from: 'default/web-0', to: '10.244.1.3', size: 1500 },
    expect: { verdict: 'mtu-exceeded', first: { host: 'web-0', probe: 'links', kind: 'mtu-mismatch', owner: cni('k8s-node1'), entry: /web-0's eth0 has MTU 1500, more than k8s-node1's flannel\.1 \(1450\)/ }, fromChecks: true },
  },
];

const calicoNode1 = /^calico-node on node1\b/;

const CALICO: Case[] = [
  {
    name: 'Calico VXLAN: node1 without its route to node2\'s IPAM block',
    capture: () => fixtureWith('lab-calico-vxlan', 'node1', 'routes4', /^10\.48\.166\.128\/26 via .*$/),
    flow: { from: '10.48.97.1', to: '10.48.166.129' },
    expect: { verdict: 'no-route', first: { host: 'node1', probe: 'routes4', kind: 'missing-route', owner: calicoNode1, entry: /node1 has no route to node2's IPAM block 10\.48\.166\.128\/26/ }, fromChecks: true },
  },
  {
    name: 'Calico VXLAN: node1\'s vxlan.calico without the FDB entry for node2\'s VTEP',
    capture: () => fixtureWith('lab-calico-vxlan', 'node1', 'fdb', /^da:f0:0a:2a:a6:f3 dev vxlan\.calico .*$/),
    flow: { from: '10.48.97.1', to: '10.48.166.129' },
    expect: { verdict: 'no-fdb-entry', first: { host: 'node1', probe: 'fdb', kind: 'missing-vtep-fdb', owner: calicoNode1, entry: /vxlan\.calico has no FDB entry for da:f0:0a:2a:a6:f3, node2's VTEP at 10\.4\.9\.22/ }, fromChecks: true },
  },
];

function run(c: Case): { r: TraceResult; checks: ReturnType<typeof checksOf> } {
  const net = buildNetwork(c.capture());
  const out = simulate(net, c.flow);
  if (!out.ok) throw new Error(out.error);
  return { r: out.result, checks: checksOf(net) };
}

for (const [title, cases] of [
  ['the lab\'s faults: the diagnosis names the host, the entry and its owner', LAB],
  ['the demo with one line removed or changed: the diagnosis names the host, the entry and its owner', DEMO],
  ['the Calico VXLAN lab capture with one line removed: the blocks and VTEPs Calico intends', CALICO],
] as const) {
  describe(title, () => {
    for (const c of cases) {
      test(c.name, () => {
        const { r, checks } = run(c);
        assert.equal(r.verdict, c.expect.verdict, r.reason);
        const d = r.diagnosis?.[0];
        assert.ok(d, `a diagnosis beside ${r.verdict}`);
        const f = c.expect.first;
        assert.deepEqual({ host: d.host, probe: d.probe, kind: d.kind }, { host: f.host, probe: f.probe, kind: f.kind }, d.text);
        assert.match(d.owner, f.owner);
        assert.match(d.text, f.entry);
        assert.ok(d.expected.length > 0 && d.actual.length > 0 && d.fix.length > 0);
        assert.notEqual(d.expected, d.actual);
        // The same words the Node Bridges tree shows for that host: one set of checks.
        const inTree = checks.byHost.get(d.host)?.some((x) => x.text === d.text && x.kind === d.kind) ?? false;
        assert.equal(inTree, c.expect.fromChecks, `checks of ${d.host}: ${(checks.byHost.get(d.host) ?? []).map((x) => x.text).join(' | ')}`);
        // No cause is given twice.
        assert.equal(new Set(r.diagnosis!.map((x) => `${x.host}|${x.text}`)).size, r.diagnosis!.length);
      });
    }
  });
}

describe('what the tables show without tracing', () => {
  test('the healthy demo has no discrepancy at all', () => {
    assert.deepEqual(checksOf(buildNetwork(load(demoText))).all.map((d) => d.text), []);
  });

  test('a missing table entry shows the table that was searched', () => {
    const { r } = run(DEMO[0]!);
    const d = r.diagnosis![0]!;
    assert.deepEqual(
      d.searched?.map((e) => e.raw.trim()),
      ['default via 10.4.7.1 dev eth0 proto static metric 100', '10.4.7.0/24 dev eth0 proto kernel scope link src 10.4.7.21 metric 100', '10.244.0.0/24 dev cni0 proto kernel scope link src 10.244.0.1', '10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink', '172.17.0.0/16 dev docker0 proto kernel scope link src 172.17.0.1 linkdown'],
    );
    assert.equal(d.expected, '10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink');
    // Then the drop at gw, explained, after the cause upstream.
    assert.deepEqual(r.diagnosis!.map((x) => [x.kind, x.host]), [['missing-route', 'k8s-node1'], ['no-route', 'gw']]);
  });

  test('flannel.1 with a larger MTU than eth0 leaves room for: flagged on the node, with the arithmetic', () => {
    const net = buildNetwork(demoWith('k8s-node1', 'links', /^(\d+: flannel\.1: .*) mtu 1450 /, '$1 mtu 1480 '));
    const d = checksOf(net).byHost.get('k8s-node1')?.find((x) => x.kind === 'mtu-mismatch');
    assert.ok(d);
    assert.equal(d.text, "k8s-node1's flannel.1 has MTU 1480, more than eth0's 1500 − 50 bytes of VXLAN header = 1450: encapsulated packets above that do not fit eth0");
    assert.equal(d.owner, 'flanneld on k8s-node1');
  });

  test('the VXLAN MTU drop explains 1450 = 1500 − 50 and which size passes', () => {
    const net = buildNetwork(load(demoText));
    const out = simulate(net, { from: 'default/web-0', to: '10.244.1.3', size: 1500 });
    assert.ok(out.ok);
    const d = out.result.diagnosis?.[0];
    assert.equal(d?.kind, 'mtu-exceeded');
    assert.match(d!.text, /^1450 = 1500 − 50 bytes of VXLAN overhead .* Packets of up to 1450 bytes pass; this one is 1500/);
  });

  test('a delivered trace says what it did not check', () => {
    const net = buildNetwork(load(demoText));
    const out = simulate(net, web0to1);
    assert.ok(out.ok);
    assert.equal(out.result.verdict, 'delivered');
    assert.equal(out.result.diagnosis, undefined);
    assert.deepEqual(out.result.unchecked?.map((u) => u.what), ['network-policy']);
    // A capture without a node's rules: netfilter there is not checked either.
    const doc = JSON.parse(demoText) as { hosts: { name: string; probes: Record<string, string> }[]; kubernetes: Record<string, unknown> };
    for (const h of doc.hosts) if (h.name === 'k8s-node2') for (const p of ['iptables', 'ip6tables', 'nft', 'ipset']) delete h.probes[p];
    doc.kubernetes.networkPolicies = [];
    const out2 = simulate(buildNetwork(load(JSON.stringify(doc))), web0to1);
    assert.ok(out2.ok);
    assert.deepEqual(out2.result.unchecked, [{ what: 'netfilter', hosts: ['k8s-node2'], text: 'netfilter: the capture holds no iptables or nftables rules of k8s-node2, so a firewall rule there that drops this flow would not show' }]);
  });
});

describe('the tree, the hover and the diagnosis say the same', () => {
  test('a missing route: the tree marks k8s-node1, the hover on web-1\'s address names it, the trace blames it', async () => {
    const { nodeEntries } = await import('../../../src/vscode/model/bridges');
    const { indexAddresses, hoverMarkdown, podProblems } = await import('../../../src/vscode/model/hover');
    const net = buildNetwork(DEMO[0]!.capture());
    const sentence = "k8s-node1 has no route to k8s-node2's podCIDR 10.244.1.0/24";
    const node1 = nodeEntries(net).find((n) => n.kind === 'node' && n.node === 'k8s-node1')!;
    assert.ok(node1.kind === 'node');
    assert.deepEqual(node1.problems.map((p) => p.text), [sentence]);
    // The hover asks for a pod's problems when it shows (the index of every address does not).
    const indexed = indexAddresses(net).get('10.244.1.3')!;
    assert.equal(indexed.problems, undefined);
    const info = { ...indexed, problems: podProblems(net, indexed)! };
    assert.deepEqual(info.problems, [sentence]);
    // Markdown-escaped, as every name in a hover is.
    assert.ok(hoverMarkdown(info)!.includes("⚠ k8s\\-node1 has no route to k8s\\-node2's podCIDR 10\\.244\\.1\\.0/24"), hoverMarkdown(info));
    const out = simulate(net, web0to1);
    assert.ok(out.ok);
    assert.equal(out.result.diagnosis?.[0]?.text, sentence);
    // web-0's own address: nothing stands in its way.
    assert.equal(podProblems(net, indexAddresses(net).get('10.244.0.3')!), undefined);
  });
});

describe('the diagnosis in Markdown (Copy as Markdown, netpath trace --markdown)', () => {
  test('each cause with its lines and the table searched, then what was not checked', async () => {
    const { traceMarkdown } = await import('../../../src/engine/markdown');
    const { r } = run(DEMO[0]!);
    const md = traceMarkdown(r);
    assert.match(md, /\n1\. k8s-node1 has no route to k8s-node2's podCIDR 10\.244\.1\.0\/24\n {3}- where: k8s-node1 `routes4`\n/);
    assert.match(md, /\n {3}- searched \(5 lines\):\n {5}```text\n {5}k8s-node1 routes4:1 {2}default via 10\.4\.7\.1 dev eth0/);
    assert.match(md, /\n## Not checked\n\n- NetworkPolicy: the capture holds no NetworkPolicy objects/);
  });
});

describe('flannel\'s node annotations as the intent', () => {
  /** The demo with flannel's annotations on its Node objects, as flanneld writes them. */
  function annotated(macs: Record<string, string>, edit?: (doc: { hosts: { name: string; probes: Record<string, string> }[] }) => void): Capture {
    const doc = JSON.parse(demoText) as { hosts: { name: string; probes: Record<string, string> }[]; kubernetes: { nodes: { metadata: { name: string; annotations?: Record<string, string> } }[] } };
    const ips: Record<string, string> = { 'k8s-node1': '10.4.7.21', 'k8s-node2': '10.4.7.22', 'k8s-node3': '10.4.7.23' };
    for (const n of doc.kubernetes.nodes) {
      n.metadata.annotations = {
        'flannel.alpha.coreos.com/backend-type': 'vxlan',
        'flannel.alpha.coreos.com/backend-data': JSON.stringify({ VNI: 1, VtepMAC: macs[n.metadata.name] }),
        'flannel.alpha.coreos.com/public-ip': ips[n.metadata.name]!,
      };
    }
    edit?.(doc);
    return load(JSON.stringify(doc));
  }
  const macs = { 'k8s-node1': 'e6:e0:6b:17:9d:8c', 'k8s-node2': '42:20:2d:f5:4d:c4', 'k8s-node3': '26:bb:b0:73:81:6a' };

  test('annotations that match the devices: nothing to report', () => {
    assert.deepEqual(checksOf(buildNetwork(annotated(macs))).all.map((d) => d.text), []);
  });

  test('k8s-node2\'s flannel.1 recreated with a new MAC its annotation does not tell: flagged on k8s-node2, and the trace to its pod names it', () => {
    const c = annotated(macs, (doc) => {
      const h = doc.hosts.find((x) => x.name === 'k8s-node2')!;
      h.probes.links = h.probes.links!.replace('link/ether 42:20:2d:f5:4d:c4', 'link/ether 42:20:2d:f5:4d:99');
    });
    const net = buildNetwork(c);
    const d = checksOf(net).byHost.get('k8s-node2')?.find((x) => x.kind === 'vtep-mac-mismatch');
    assert.ok(d, JSON.stringify(checksOf(net).all.map((x) => x.text)));
    assert.match(d.text, /k8s-node2's flannel\.1 has MAC 42:20:2d:f5:4d:99, but its node annotation tells the other nodes 42:20:2d:f5:4d:c4/);
    assert.equal(d.owner, 'flanneld on k8s-node2');
    const out = simulate(net, web0to1);
    assert.ok(out.ok);
    assert.notEqual(out.result.verdict, 'delivered');
    assert.equal(out.result.diagnosis?.[0]?.kind, 'vtep-mac-mismatch');
  });

  test('the annotation, not the device, is what peers must hold: a neighbour entry with the device\'s MAC is wrong when the annotation says otherwise', () => {
    const net = buildNetwork(annotated({ ...macs, 'k8s-node2': '42:20:2d:f5:4d:77' }));
    const wrong = checksOf(net).byHost.get('k8s-node1')?.find((x) => x.kind === 'wrong-vtep-neigh');
    assert.ok(wrong);
    assert.match(wrong.expected, /lladdr 42:20:2d:f5:4d:77 PERMANENT \(kubernetes\.nodes\[1\] annotation flannel\.alpha\.coreos\.com\/backend-data\)/);
  });
});
