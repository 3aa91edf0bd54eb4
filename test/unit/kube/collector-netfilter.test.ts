// The collector reads the netfilter probes of the nodes a trace needs and the API objects of the
// capture's `kubernetes` section; a tool a node's container lacks, or a list RBAC refuses, is left out
// with a note that says what to do, and the collection goes on.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import type { Capture } from '../../../src/capture/document';
import { KubeError } from '../../../src/kube/api';
import { ClusterCollector, type ExecMode } from '../../../src/kube/collector';
import { demoCluster, FakeCluster } from './fake-cluster';

const demo = demoCluster;

/** A Service and its EndpointSlice as the API lists them (items carry no apiVersion/kind on the wire). */
function withService(c: Capture): Capture {
  (c as { kubernetes?: unknown }).kubernetes = {
    services: [{ metadata: { name: 'web', namespace: 'default', managedFields: [{ manager: 'kubectl' }] }, spec: { type: 'ClusterIP', clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'], selector: { app: 'web' }, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }] } }],
    endpointSlices: [{ metadata: { name: 'web-abcde', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } }, addressType: 'IPv4', endpoints: [{ addresses: ['10.244.0.3'], conditions: { ready: true } }, { addresses: ['10.244.1.3'], conditions: { ready: true } }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }],
    namespaces: [{ metadata: { name: 'default' } }, { metadata: { name: 'kube-system' } }],
    networkPolicies: [],
  };
  return c;
}

/** The commands that ran in matching pods (in the probe script or one exec each); not those the container lacked. */
const probesOn = (f: FakeCluster, podPattern: RegExp) => f.ranLog.filter((e) => podPattern.test(e.pod) && !e.missing).map((e) => e.argv.join(' '));

for (const execMode of ['script', 'per-probe'] as ExecMode[])
describe(`netfilter probes on the nodes a trace needs (execMode ${execMode})`, () => {
  test('each node on the path gets iptables-save, ip6tables-save and nft list ruleset; pods do not', async () => {
    const fake = new FakeCluster(demo());
    const col = new ClusterCollector(fake, { execMode });
    const { reports } = await col.trace({ from: 'default/web-0', to: 'default/web-1' });
    for (const node of ['k8s-node1', 'k8s-node2']) {
      const r = reports.find((x) => x.host === node)!;
      assert.ok(['iptables', 'ip6tables', 'nft'].every((p) => r.probes.includes(p as never)), JSON.stringify(r));
      const ran = probesOn(fake, new RegExp(`kube-flannel-ds-${node}$`));
      assert.ok(ran.includes('iptables-save') && ran.includes('ip6tables-save') && ran.includes('nft list ruleset'), ran.join(', '));
      // No kube-ipvs0 device and no rule matching a set: neither ipvsadm nor ipset is run.
      assert.ok(!ran.some((a) => a.startsWith('ipvsadm') || a.startsWith('ipset')), ran.join(', '));
    }
    for (const pod of ['default/web-0', 'default/web-1']) {
      const ran = probesOn(fake, new RegExp(`^${pod}$`));
      assert.ok(!ran.some((a) => /^(iptables-save|ip6tables-save|nft) /.test(`${a} `)), `${pod}: ${ran.join(', ')}`);
    }
    const node1 = col.currentCapture().then((c) => c.hosts.find((h) => h.name === 'k8s-node1')!.probes!);
    assert.equal((await node1).iptables, demo().hosts.find((h) => h.name === 'k8s-node1')!.probes!.iptables);
  });

  test('IPVS mode: a node with kube-ipvs0 and rules matching sets also gets ipvsadm -Ln and ipset save', async () => {
    const c = demo();
    const node1 = c.hosts.find((h) => h.name === 'k8s-node1')!.probes!;
    node1.links += '\n9: kube-ipvs0: <BROADCAST,NOARP> mtu 1500 qdisc noop state DOWN mode DEFAULT group default\n    link/ether 5a:1b:2c:3d:4e:5f brd ff:ff:ff:ff:ff:ff promiscuity 0\n    dummy addrgenmode eui64';
    node1.iptables = '*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT\nCOMMIT\n';
    node1.ipvs = 'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\nTCP  10.96.0.20:80 rr\n  -> 10.244.1.3:8080              Masq    1      0          0\n';
    const fake = new FakeCluster(c);
    const { reports } = await new ClusterCollector(fake, { execMode }).trace({ from: 'default/web-0', to: 'default/web-1' });
    const r = reports.find((x) => x.host === 'k8s-node1')!;
    assert.ok(r.probes.includes('ipvs') && r.probes.includes('ipset'), JSON.stringify(r));
    // The script: one exec for the first probes, one for those they call for.
    if (execMode === 'script') assert.equal(r.execCalls, 2);
    const ran = probesOn(fake, /kube-flannel-ds-k8s-node1$/);
    assert.deepEqual(ran.filter((a) => /^(ipvsadm|ipset)/.test(a)), ['ipvsadm -Ln', 'ipset save']);
    // node2 has neither: nothing more is run there.
    assert.ok(!probesOn(fake, /kube-flannel-ds-k8s-node2$/).some((a) => /^(ipvsadm|ipset)/.test(a)));
  });

  test('a tool missing in the node container leaves that probe out with a note, and the trace goes on', async () => {
    const c = demo();
    c.hosts.find((h) => h.name === 'k8s-node1')!.probes!.links += '\n9: kube-ipvs0: <BROADCAST,NOARP> mtu 1500 qdisc noop state DOWN mode DEFAULT group default\n    link/ether 5a:1b:2c:3d:4e:5f brd ff:ff:ff:ff:ff:ff promiscuity 0\n    dummy addrgenmode eui64';
    c.hosts.find((h) => h.name === 'k8s-node1')!.probes!.iptables += '\n*filter\n-A INPUT -m set --match-set KUBE-NODE-IP dst -j ACCEPT\nCOMMIT\n';
    const fake = new FakeCluster(c);
    fake.faults.set('kube-system/kube-flannel-ds-k8s-node1', { missing: ['nft', 'ipvsadm', 'ipset'] });
    const { outcome, reports } = await new ClusterCollector(fake, { execMode }).trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.ok(outcome.ok && outcome.result.verdict === 'delivered', outcome.ok ? outcome.result.reason : outcome.error);
    const r = reports.find((x) => x.host === 'k8s-node1')!;
    assert.equal(r.error, undefined);
    assert.ok(r.probes.includes('iptables') && !r.probes.includes('nft'));
    assert.deepEqual(r.missing.map((m) => m.probe).sort(), ['ipset', 'ipvs', 'nft']);
    const nft = r.missing.find((m) => m.probe === 'nft')!;
    assert.match(nft.why, /^nft: not found in pod kube-system\/kube-flannel-ds-k8s-node1 \(kube-flannel\)/);
    assert.match(nft.why, /allow debug pods/);
    assert.equal(r.missing.find((m) => m.probe === 'ipset')!.why.replace(/ in pod .*/, ''), 'ipset: not found; ipset: not found');
    if (execMode === 'per-probe') {
      // `ipset save` was not found, so `ipset list` (the same binary) was never asked for: one exec saved.
      const asked = fake.execLog.filter((e) => /kube-flannel-ds-k8s-node1$/.test(e.pod)).map((e) => e.argv.join(' '));
      assert.deepEqual(asked.filter((a) => a.startsWith('ipset')), ['ipset save']);
    }
  });
});

describe("the capture's kubernetes section from the API", () => {
  test('Services, EndpointSlices, Namespaces, Pods, Nodes and NetworkPolicies, as kubectl get -o json prints them', async () => {
    const fake = new FakeCluster(withService(demo()));
    const { capture, notes } = await new ClusterCollector(fake).trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.deepEqual(notes, []);
    const k = (capture as { kubernetes?: Record<string, Record<string, unknown>[]> }).kubernetes!;
    assert.deepEqual(Object.keys(k).sort(), ['endpointSlices', 'namespaces', 'networkPolicies', 'nodes', 'pods', 'services']);
    const svc = k.services![0]!;
    assert.equal(svc.apiVersion, 'v1');
    assert.equal(svc.kind, 'Service');
    assert.deepEqual((svc.metadata as Record<string, unknown>).managedFields, undefined);
    assert.deepEqual((svc.spec as { ports: unknown[] }).ports, [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }]);
    assert.equal(k.endpointSlices![0]!.apiVersion, 'discovery.k8s.io/v1');
    assert.equal(k.endpointSlices![0]!.kind, 'EndpointSlice');
    assert.deepEqual(k.nodes!.map((n) => (n.metadata as { name: string }).name), ['k8s-node1', 'k8s-node2', 'k8s-node3']);
    assert.ok(k.nodes!.every((n) => n.kind === 'Node' && (n.metadata as Record<string, unknown>).managedFields === undefined));
    const web0 = k.pods!.find((p) => (p.metadata as { name: string }).name === 'web-0')!;
    assert.equal(web0.kind, 'Pod');
    assert.deepEqual((web0.status as { podIPs: unknown }).podIPs, [{ ip: '10.244.0.3' }]);
    // Hosts still come from the same Nodes and Pods.
    assert.ok(capture.hosts.some((h) => h.name === 'web-0' && h.role === 'pod' && h.node === 'k8s-node1'));
  });

  test('AdminNetworkPolicies and BaselineAdminNetworkPolicies where the cluster serves them; a cluster without the CRDs is no note', async () => {
    const c = withService(demo()) as Capture & { kubernetes: Record<string, unknown[]> };
    c.kubernetes.adminNetworkPolicies = [{ apiVersion: 'policy.networking.k8s.io/v1alpha1', kind: 'AdminNetworkPolicy', metadata: { name: 'guard' }, spec: { priority: 5, subject: { namespaces: {} }, ingress: [] } }];
    const fake = new FakeCluster(c);
    const { capture, notes } = await new ClusterCollector(fake).trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.deepEqual(notes, [], 'the baseline CRD is not served: normal, nothing to say');
    const k = (capture as { kubernetes?: Record<string, Record<string, unknown>[]> }).kubernetes!;
    assert.deepEqual(k.adminNetworkPolicies!.map((o) => [o.apiVersion, o.kind, (o.metadata as { name: string }).name]), [['policy.networking.k8s.io/v1alpha1', 'AdminNetworkPolicy', 'guard']]);
    assert.equal(k.baselineAdminNetworkPolicies, undefined);
    assert.ok(fake.listLog.includes('adminnetworkpolicies') && fake.listLog.includes('baselineadminnetworkpolicies'));
    // Refused by RBAC is still said, with what to grant.
    const denied = new FakeCluster(c);
    denied.deniedLists.add('adminnetworkpolicies');
    const r = await new ClusterCollector(denied).trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.deepEqual(r.notes.map((n) => [n.resource, n.kind]), [['adminnetworkpolicies.policy.networking.k8s.io', 'forbidden']]);
  });

  test('RBAC: a list the role may not read is left out with the verb and resource to grant; the trace goes on', async () => {
    const fake = new FakeCluster(withService(demo()));
    fake.deniedLists.add('endpointslices');
    fake.deniedLists.add('networkpolicies');
    const { outcome, capture, notes } = await new ClusterCollector(fake).trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.ok(outcome.ok && outcome.result.verdict === 'delivered');
    assert.deepEqual(notes.map((n) => [n.resource, n.kind]), [['endpointslices.discovery.k8s.io', 'forbidden'], ['networkpolicies.networking.k8s.io', 'forbidden']]);
    assert.match(notes[0]!.message, /^cannot list endpointslices\.discovery\.k8s\.io cluster-wide \(.*cannot list resource "endpointslices".*\): grant list on endpointslices\.discovery\.k8s\.io \(a ClusterRole rule with apiGroups \["discovery\.k8s\.io"\], resources \["endpointslices"\], verbs \["list"\]\)$/);
    const k = (capture as { kubernetes?: Record<string, unknown[]> }).kubernetes!;
    assert.equal(k.endpointSlices, undefined);
    assert.equal(k.networkPolicies, undefined);
    assert.equal(k.services!.length, 1);
  });

  test('a cluster that does not serve a list (an old API group) is noted, not an error', async () => {
    const fake = new FakeCluster(withService(demo()));
    fake.unservedLists.add('endpointslices');
    const { notes } = await new ClusterCollector(fake).captureAll();
    assert.deepEqual(notes.map((n) => [n.resource, n.kind]), [['endpointslices.discovery.k8s.io', 'unavailable']]);
  });

  test('without permission to list nodes nothing can be traced: the error names the verb and resource', async () => {
    const fake = new FakeCluster(demo());
    fake.deniedLists.add('nodes');
    await assert.rejects(new ClusterCollector(fake).trace({ from: 'default/web-0', to: 'default/web-1' }), (e: unknown) => {
      assert.ok(e instanceof KubeError);
      assert.equal(e.kind, 'forbidden');
      assert.match(e.message, /^cannot list nodes cluster-wide .*: grant list on nodes/);
      return true;
    });
  });

  test('the lists are read once per cache lifetime, not per trace', async () => {
    let now = 5_000_000;
    const fake = new FakeCluster(withService(demo()));
    const col = new ClusterCollector(fake, { now: () => now, cacheTtlMs: 30_000 });
    await col.trace({ from: 'default/web-0', to: 'default/web-1' });
    await col.trace({ from: 'default/web-1', to: 'default/web-0' });
    assert.equal(fake.listLog.filter((p) => p === 'services').length, 1);
    now += 31_000;
    await col.trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.equal(fake.listLog.filter((p) => p === 'services').length, 2);
  });
});
