// Who enforces NetworkPolicy (src/engine/policyEnforcement.ts): read from the agent pods, the nodes'
// devices and policy chains and metadata.cni, on the demo (flannel VXLAN) and the Calico lab capture.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, test } from 'node:test';
import { parseCapture, type Capture } from '../../../src/capture/document';
import { buildNetwork } from '../../../src/engine';
import { policyEnforcement } from '../../../src/engine/policyEnforcement';

const root = join(__dirname, '../../..');

function load(file: string, change: (c: Capture) => void = () => {}): { capture: Capture; hosts: ReturnType<typeof buildNetwork>['hosts'] } {
  const raw = file.endsWith('.gz') ? gunzipSync(readFileSync(join(root, file))).toString('utf8') : readFileSync(join(root, file), 'utf8');
  // Changed as a document, before it is read (the kubernetes section is checked when it is).
  const doc = JSON.parse(raw) as Capture;
  change(doc);
  const r = parseCapture(JSON.stringify(doc));
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  const net = buildNetwork(r.capture);
  return { capture: net.capture, hosts: net.hosts };
}

const pod = (namespace: string, name: string, labels: Record<string, string>, node = 'k8s-node1') => ({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace, name, labels }, spec: { nodeName: node, hostNetwork: true, containers: [{ name: 'c', image: 'x' }] }, status: { phase: 'Running', podIP: '10.4.7.21', podIPs: [{ ip: '10.4.7.21' }] } });

describe('who enforces NetworkPolicy', () => {
  test('the demo: flannel\'s devices and nothing that enforces: policies are not carried out', () => {
    const { capture, hosts } = load('examples/demo-flannel-vxlan.json');
    const e = policyEnforcement(capture, hosts);
    assert.deepEqual([e.enforced, e.enforcers, e.nonEnforcing], ['no', [], ['flannel']]);
    const dev = e.basis.find((b) => b.name === 'flannel')!;
    assert.match(dev.what, /^device flannel\.1 on k8s-node\d$/);
    assert.equal(dev.evidence?.probe, 'links');
    assert.match(dev.evidence!.raw, /flannel\.1/);
    assert.match(e.text, /^flannel does not enforce NetworkPolicy, and nothing else that does shows in the capture/);
    assert.equal(policyEnforcement(capture, hosts), e, 'computed once per capture');
  });

  test('flannel with Calico\'s agent (Canal): Calico enforces, the API pod is the evidence', () => {
    const { capture, hosts } = load('examples/demo-flannel-vxlan.json', (c) => {
      const k = (c.kubernetes ??= {}) as { pods?: unknown[] };
      (k.pods ??= []).push(pod('kube-system', 'canal-7xk2p', { 'k8s-app': 'canal' }));
    });
    const e = policyEnforcement(capture, hosts);
    assert.deepEqual([e.enforced, e.enforcers, e.nonEnforcing], ['yes', ['calico'], ['flannel']]);
    const b = e.basis.find((x) => x.name === 'calico')!;
    assert.equal(b.what, 'agent pod kube-system/canal-7xk2p (k8s-app=canal)');
    assert.equal(b.evidence?.host, 'kubernetes');
    assert.match(b.evidence!.probe, /^pods\[\d+\]$/);
    assert.equal(e.text, 'Calico enforces NetworkPolicy in this cluster (beside flannel, which does not).');
  });

  test('the Calico lab capture: its devices (vxlan.calico, cali*) say Calico', () => {
    const { capture, hosts } = load('test/fixtures/captures/lab-calico-vxlan.json.gz');
    const e = policyEnforcement(capture, hosts);
    assert.deepEqual([e.enforced, e.enforcers], ['yes', ['calico']]);
    assert.ok(e.basis.some((b) => /^device (vxlan\.calico|cali[0-9a-f]{11}) on node[12]$/.test(b.what) && b.evidence?.probe === 'links'));
  });

  test('policy chains in a node\'s rules (kube-router\'s, Calico\'s) are evidence too', () => {
    const { capture, hosts } = load('examples/demo-flannel-vxlan.json', (c) => {
      const h = c.hosts.find((x) => x.name === 'k8s-node2')!;
      h.probes!.iptables = '*filter\n:INPUT ACCEPT [0:0]\n:KUBE-ROUTER-INPUT - [0:0]\n:KUBE-NWPLCY-DEFAULT - [0:0]\nCOMMIT\n';
    });
    const e = policyEnforcement(capture, hosts);
    assert.deepEqual(e.enforcers, ['kube-router']);
    const b = e.basis.find((x) => x.name === 'kube-router')!;
    assert.deepEqual([b.evidence?.host, b.evidence?.probe, b.evidence?.line, b.evidence?.raw], ['k8s-node2', 'iptables', 4, ':KUBE-NWPLCY-DEFAULT - [0:0]']);
  });

  test('metadata.cni alone; nothing at all; a name netpath does not know is no evidence', () => {
    const bare = (cni?: unknown) =>
      load('examples/demo-flannel-vxlan.json', (c) => {
        for (const h of c.hosts) delete h.probes;
        delete c.kubernetes;
        c.metadata = { ...(c.metadata ?? {}), ...(cni !== undefined ? { cni: { name: cni } } : {}) } as Capture['metadata'];
      });
    const cilium = bare('cilium');
    assert.deepEqual(policyEnforcement(cilium.capture, cilium.hosts).enforcers, ['cilium']);
    const none = bare();
    const e = policyEnforcement(none.capture, none.hosts);
    assert.deepEqual([e.enforced, e.basis], ['unknown', []]);
    assert.equal(e.text, 'The capture does not show which CNI runs or whether anything enforces NetworkPolicy.');
    const odd = bare('<script>x</script>');
    assert.equal(policyEnforcement(odd.capture, odd.hosts).enforced, 'unknown');
  });
});
