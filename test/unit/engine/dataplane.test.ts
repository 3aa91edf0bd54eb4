// Nodes whose packets Cilium's eBPF programs move: detected from their devices, rules and the API, and
// the steps a trace takes there that the tables cannot vouch for. The captures are the demo's with
// k8s-node1 given a Cilium node's devices (real `ip -d link` output of that layout) and rules (a
// Cilium node's iptables-save from a public report).
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseCapture, type Capture } from '../../../src/capture/document';
import { buildNetwork, simulate, type TraceResult } from '../../../src/engine';
import { annotate, detectDataplanes, type Unvouched } from '../../../src/engine/dataplane';

const root = join(__dirname, '../../..');
const body = (name: string) => readFileSync(join(root, 'test/fixtures/dataplane', name), 'utf8').split('\n---\n')[1]!;
const ciliumLinks = body('cilium-node-links.txt');
const kprRules = body('cilium-kpr-iptables.txt');
const kubeProxyRules = `*nat
:PREROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
COMMIT
`;

function demo(change: (c: Capture) => void = () => {}): Capture {
  const r = parseCapture(readFileSync(join(root, 'examples/demo-flannel-vxlan.json'), 'utf8'));
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  // The demo's own kube-proxy rules and API objects out: each case adds the rules it is about.
  for (const h of r.capture.hosts) for (const p of ['iptables', 'ip6tables', 'nft', 'ipset']) delete h.probes?.[p];
  delete r.capture.kubernetes;
  change(r.capture);
  return r.capture;
}

/**
 * k8s-node1 with Cilium's devices (cilium_host, cilium_net, cilium_vxlan) added to its own; the
 * fixture's lo, eth0 and lxc veth are left out (the node has its own eth0, and the lxc's @if3 would
 * pair with a demo pod's interface). The demo's flannel devices stay: the walk still needs them.
 */
function ciliumNode1(iptables: string | undefined, extra: (c: Capture) => void = () => {}): Capture {
  return demo((c) => {
    const n1 = c.hosts.find((h) => h.name === 'k8s-node1')!;
    // The fixture's devices, renumbered past the node's own so indexes stay unique.
    const blocks = ciliumLinks.split(/\n(?=\d+: )/).filter((b) => /^\d+: cilium_/.test(b));
    const shifted = blocks.map((b) => b.replace(/^(\d+): /, (_m, i: string) => `${Number(i) + 100}: `)).join('\n');
    n1.probes = { ...n1.probes, links: `${n1.probes!.links!.trimEnd()}\n${shifted}` };
    // nft list ruleset shows iptables-nft's tables too: the node's own would contradict the rules given here.
    delete n1.probes.nft;
    if (iptables === undefined) delete n1.probes.iptables;
    else n1.probes.iptables = iptables;
    extra(c);
  });
}

/** The API's kube-dns Service (10.96.0.10), so the trace knows that address as a Service's. */
const withKubeDns = (c: Capture) => {
  (c as { kubernetes?: unknown }).kubernetes = {
    services: [
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'kube-dns', namespace: 'kube-system' },
        spec: { type: 'ClusterIP', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 }] },
      },
    ],
  };
};

function trace(c: Capture, from: string, to: string): TraceResult {
  const r = simulate(buildNetwork(c), { from, to });
  if (!r.ok) throw new Error(r.error);
  return r.result;
}

const marks = (r: TraceResult, host: string) => r.hops.filter((h) => h.host === host).flatMap((h) => h.steps.map((s) => [s.kind, (s as { unvouched?: Unvouched }).unvouched?.reason] as const));

describe('which nodes Cilium runs on', () => {
  test('the flannel demo has none', () => {
    const c = demo();
    assert.equal(detectDataplanes(c, buildNetwork(c).hosts).size, 0);
  });

  test("Cilium's devices and rules without kube-proxy's: the kube-proxy replacement, host routing unknown", () => {
    const c = ciliumNode1(kprRules);
    const found = detectDataplanes(c, buildNetwork(c).hosts);
    assert.deepEqual([...found.keys()], ['k8s-node1']);
    const n = found.get('k8s-node1')!;
    assert.equal(n.kubeProxyReplacement, 'yes');
    assert.equal(n.hostRouting, 'unknown');
    const links = n.basis.find((b) => b.from === 'probe' && b.evidence.probe === 'links');
    assert.ok(links && links.from === 'probe' && /cilium_host@cilium_net/.test(links.evidence.raw), JSON.stringify(n.basis));
    const chain = n.basis.find((b) => b.from === 'probe' && b.evidence.probe === 'iptables');
    assert.ok(chain && chain.from === 'probe' && chain.evidence.raw === ':CILIUM_OUTPUT_raw - [0:0]', JSON.stringify(chain));
    assert.equal(chain.evidence.line, kprRules.split('\n').indexOf(':CILIUM_OUTPUT_raw - [0:0]') + 1);
    assert.ok(n.basis.some((b) => b.from === 'absence'));
  });

  test("kube-proxy's rules on the node: no replacement, and so legacy host routing", () => {
    const c = ciliumNode1(`${kprRules}\n${kubeProxyRules}`);
    const n = detectDataplanes(c, buildNetwork(c).hosts).get('k8s-node1')!;
    assert.equal(n.kubeProxyReplacement, 'no');
    assert.equal(n.hostRouting, 'legacy');
    assert.ok(n.basis.some((b) => b.from === 'probe' && b.evidence.raw === ':KUBE-SERVICES - [0:0]'));
  });

  test('the configuration the collector read decides where the tables cannot (metadata.cilium)', () => {
    const c = ciliumNode1(undefined, (c) => {
      c.metadata = { ...c.metadata, cilium: { kubeProxyReplacement: 'true', hostRouting: 'BPF' } } as Capture['metadata'];
    });
    const n = detectDataplanes(c, buildNetwork(c).hosts).get('k8s-node1')!;
    assert.equal(n.kubeProxyReplacement, 'yes');
    assert.equal(n.hostRouting, 'bpf');
  });

  test('a Cilium agent pod in the API objects marks its node even without Cilium devices in the capture', () => {
    const c = demo((c) => {
      (c as { kubernetes?: unknown }).kubernetes = {
        pods: [{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'cilium-x7k2p', namespace: 'kube-system', labels: { 'k8s-app': 'cilium' } }, spec: { nodeName: 'k8s-node2' } }],
      };
    });
    const found = detectDataplanes(c, buildNetwork(c).hosts);
    assert.deepEqual([...found.keys()], ['k8s-node2']);
    assert.deepEqual(found.get('k8s-node2')!.basis[0], { from: 'api', what: 'Cilium agent pod kube-system/cilium-x7k2p runs on this node' });
  });
});

describe('steps a Cilium node may take differently', () => {
  test('annotate marks nothing and reports nothing without Cilium nodes', () => {
    const r = trace(demo(), 'default/web-0', 'default/web-1');
    const before = JSON.stringify(r);
    assert.deepEqual(annotate(r, new Map(), () => undefined, true), []);
    assert.equal(JSON.stringify(r), before);
  });

  test("eBPF host routing (not ruled out): the node's forwarding step is not vouched for; the pods' steps are", () => {
    const c = ciliumNode1(kprRules);
    const r = trace(c, 'default/web-0', 'default/web-1');
    const plain = trace(demo(), 'default/web-0', 'default/web-1');
    assert.deepEqual(r.dataplanes?.map((n) => [n.host, n.kubeProxyReplacement, n.hostRouting]), [['k8s-node1', 'yes', 'unknown']]);
    assert.equal(plain.dataplanes, undefined);
    const node1 = marks(r, 'k8s-node1');
    assert.ok(node1.some(([k, u]) => k === 'forward' && u === 'bpf-host-routing'), JSON.stringify(node1));
    assert.ok(node1.filter(([k]) => k === 'route' || k === 'neigh').every(([, u]) => u === undefined), JSON.stringify(node1));
    assert.ok(marks(r, 'web-0').every(([, u]) => u === undefined));
    assert.ok(marks(r, 'k8s-node2').every(([, u]) => u === undefined));
    // The walk itself is the same: only marks are added.
    assert.equal(r.verdict, plain.verdict);
    assert.deepEqual(r.hops.map((h) => h.host), plain.hops.map((h) => h.host));
  });

  test('legacy host routing (kube-proxy on the node): nothing is marked', () => {
    const c = ciliumNode1(`${kprRules}\n${kubeProxyRules}`);
    const r = trace(c, 'default/web-0', 'default/web-1');
    assert.deepEqual(r.dataplanes?.map((n) => n.hostRouting), ['legacy']);
    assert.ok(r.hops.every((h) => h.steps.every((s) => (s as { unvouched?: unknown }).unvouched === undefined)));
  });

  test("to a Service address with the kube-proxy replacement: the source pod's route is not what happens (Cilium translates at the socket)", () => {
    const c = ciliumNode1(kprRules, withKubeDns);
    const r = trace(c, 'default/web-0', '10.96.0.10');
    const web0 = marks(r, 'web-0');
    assert.ok(web0.some(([k, u]) => k === 'route' && u === 'kube-proxy-replacement'), JSON.stringify(web0));
  });
});

describe('the CLI says so', () => {
  test('steps not vouched for are marked ? and the Cilium node is named with what to check', async () => {
    const { traceText, traceShort } = await import('../../../src/cli/traceText');
    const r = trace(ciliumNode1(kprRules, withKubeDns), 'default/web-0', '10.96.0.10');
    const long = traceText(r);
    assert.match(long, /^ {6}route\? +/m);
    assert.match(long, /k8s-node1 runs Cilium: Cilium translates Services itself \(kube-proxy replacement\), eBPF host routing not ruled out; steps marked \? may not be what its eBPF programs do/);
    assert.match(traceShort(r), /k8s-node1 runs Cilium/);
    const plainText = traceText(trace(demo(), 'default/web-0', 'default/web-1'));
    assert.doesNotMatch(plainText, /Cilium|\? {2}/);
  });
});
