import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import type { Capture } from '../../../src/capture/document';
import { ClusterCollector } from '../../../src/kube/collector';
import { isProbeName } from '../../../src/parsers';
import { PROBE_SCRIPT } from '../../../src/kube/probeScript';
import { demoCluster, FakeCluster } from './fake-cluster';

const demo = demoCluster;

/** The demo plus `n` more nodes with two pods each: only the API knows them. */
function bigger(n: number): Capture {
  const c = demo();
  for (let i = 0; i < n; i++) {
    const node = `extra-node-${i}`;
    c.hosts.push({ name: node, role: 'node', ips: [`10.4.8.${i + 1}`], podCIDRs: [`10.245.${i}.0/24`], probes: { links: 'never read' } });
    for (const p of ['a', 'b']) c.hosts.push({ name: `${p}-${i}`, role: 'pod', node, namespace: 'default', pod: `${p}-${i}`, ips: [`10.245.${i}.${p === 'a' ? 2 : 3}`] });
  }
  return c;
}

const hostsRead = (f: FakeCluster) => [...new Set(f.execLog.map((e) => e.pod))].sort();

describe('lazy collection from a cluster', () => {
  test('a trace reads only the hosts on its path and is delivered', async () => {
    const fake = new FakeCluster(demo());
    const col = new ClusterCollector(fake);
    const { outcome, reports } = await col.trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.ok(outcome.ok);
    assert.equal(outcome.result.verdict, 'delivered', outcome.result.reason);
    assert.deepEqual(hostsRead(fake), ['default/web-0', 'default/web-1', 'kube-system/kube-flannel-ds-k8s-node1', 'kube-system/kube-flannel-ds-k8s-node2']);
    assert.deepEqual(reports.map((r) => r.host).sort(), ['k8s-node1', 'k8s-node2', 'web-0', 'web-1']);
    assert.equal(reports.find((r) => r.host === 'k8s-node1')!.via, 'pod kube-system/kube-flannel-ds-k8s-node1 (kube-flannel)');
    // Every exec is the fixed probe script with probe names as its arguments: one per host on the path.
    assert.ok(fake.execLog.every((e) => e.argv.length > 5 && e.argv.slice(0, 4).join('\n') === ['sh', '-c', PROBE_SCRIPT, 'netpath-probes'].join('\n') && /^[0-9a-f]{32}$/.test(e.argv[4]!) && e.argv.slice(5).every(isProbeName)), JSON.stringify(fake.execLog.map((e) => e.argv.slice(3))));
    // A marker of its own for every exec.
    assert.equal(new Set(fake.execLog.map((e) => e.argv[4])).size, fake.execLog.length);
    assert.equal(fake.execLog.length, 4);
  });

  test('both ends are read at once: a trace dropped at the source node has still read the destination and its node, and nothing else', async () => {
    const c = demo();
    const node1 = c.hosts.find((h) => h.name === 'k8s-node1')!.probes!;
    node1.routes4 = node1.routes4!.replace('10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink', 'blackhole 10.244.1.0/24');
    const fake = new FakeCluster(c);
    // The destination by IP: the pod that holds it, and its node.
    const { outcome, reports } = await new ClusterCollector(fake).trace({ from: 'default/web-0', to: '10.244.1.3' });
    assert.ok(outcome.ok);
    assert.equal(outcome.result.verdict, 'blackhole', outcome.result.reason);
    assert.deepEqual(outcome.result.hops.map((h) => h.host), ['web-0', 'k8s-node1']);
    assert.deepEqual(hostsRead(fake), ['default/web-0', 'default/web-1', 'kube-system/kube-flannel-ds-k8s-node1', 'kube-system/kube-flannel-ds-k8s-node2']);
    assert.deepEqual(reports.map((r) => r.host).sort(), ['k8s-node1', 'k8s-node2', 'web-0', 'web-1']);
    assert.equal(fake.execLog.length, 4);
  });

  test('a node as the destination: its own tables are read with the source\'s, no pod of it', async () => {
    const fake = new FakeCluster(demo());
    const { outcome } = await new ClusterCollector(fake).trace({ from: 'default/web-0', to: 'k8s-node3' });
    assert.ok(outcome.ok && outcome.result.verdict === 'delivered', outcome.ok ? outcome.result.reason : outcome.error);
    assert.deepEqual(hostsRead(fake), ['default/web-0', 'kube-system/kube-flannel-ds-k8s-node1', 'kube-system/kube-flannel-ds-k8s-node3']);
  });

  test('the number of exec calls does not grow with the size of the cluster', async () => {
    const small = new FakeCluster(demo());
    await new ClusterCollector(small).trace({ from: 'default/web-0', to: 'default/web-1' });
    const big = new FakeCluster(bigger(50));
    const col = new ClusterCollector(big);
    const { outcome } = await col.trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.ok(outcome.ok && outcome.result.verdict === 'delivered');
    assert.equal(big.execLog.length, small.execLog.length);
    assert.equal(col.execCalls, big.execLog.length);
  });

  test('tables are cached for a while, and refresh() drops them', async () => {
    let now = 1_000_000;
    const fake = new FakeCluster(demo());
    const col = new ClusterCollector(fake, { now: () => now, cacheTtlMs: 30_000 });
    await col.trace({ from: 'default/web-0', to: 'default/web-1' });
    const first = fake.execLog.length;
    await col.trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.equal(fake.execLog.length, first, 'second trace within the TTL re-read something');
    now += 31_000;
    await col.trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.equal(fake.execLog.length, 2 * first);
    col.refresh();
    await col.trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.equal(fake.execLog.length, 3 * first);
  });

  test('a pod without ip or busybox is read from /proc: its routes are real, its interface inferred', async () => {
    const fake = new FakeCluster(demo());
    fake.faults.set('default/web-1', { noTools: true });
    const { outcome, reports } = await new ClusterCollector(fake).trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.ok(outcome.ok && outcome.result.verdict === 'delivered', outcome.ok ? outcome.result.reason : outcome.error);
    const r = reports.find((x) => x.host === 'web-1')!;
    assert.ok(r.probes.includes('routes4') && r.probes.includes('neigh'), JSON.stringify(r));
    assert.deepEqual(r.missing.map((m) => m.probe).sort(), ['addrs', 'fdb', 'links', 'routes6', 'rules4', 'rules6', 'sysctl']);
    assert.ok(fake.ranLog.some((e) => e.pod === 'default/web-1' && e.argv.join(' ') === 'cat /proc/net/route' && !e.missing));
    const last = outcome.result.hops.at(-1)!;
    assert.equal(last.host, 'web-1');
    assert.ok(last.steps.some((s) => s.kind === 'deliver' && s.inferred));
  });

  test('a pod without even cat is inferred from its node, and the report says so', async () => {
    const fake = new FakeCluster(demo());
    fake.faults.set('default/web-1', { noTools: true, noCat: true });
    const { outcome, reports } = await new ClusterCollector(fake).trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.ok(outcome.ok);
    assert.equal(outcome.result.verdict, 'delivered');
    assert.equal(outcome.result.inferred, true);
    const r = reports.find((x) => x.host === 'web-1')!;
    assert.equal(r.inferred, true);
    assert.match(r.error!.message, /no container of default\/web-1 has ip or busybox/);
  });

  test('a distroless source is the first hop; its node\'s tables place it, so no other pod is read', async () => {
    const fake = new FakeCluster(demo());
    fake.faults.set('default/web-0', { noTools: true, noCat: true });
    const { outcome } = await new ClusterCollector(fake).trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.ok(outcome.ok && outcome.result.verdict === 'delivered', outcome.ok ? outcome.result.reason : outcome.error);
    assert.deepEqual(outcome.result.hops.map((h) => h.host), ['web-0', 'k8s-node1', 'k8s-node2', 'web-1']);
    assert.equal(outcome.result.hops[1]!.in, 'veth53842afe');
    assert.deepEqual(outcome.result.needs, ['web-0']);
    assert.equal(outcome.result.settles, undefined);
    assert.ok(!hostsRead(fake).includes('kube-system/coredns-6d8c4cb4d-xk7t2'));
  });

  test('when only the tables of a pod beside it can tell which port a distroless pod is behind, that pod is read last', async () => {
    const c = demo();
    // node1 has forgotten both its pods: no neighbour entries, no FDB entries. coredns, not on the
    // path and not read, may then be behind either port as much as web-0.
    const node1 = c.hosts.find((h) => h.name === 'k8s-node1')!.probes!;
    node1.neigh = node1.neigh!.split('\n').filter((l) => !/^10\.244\.0\.[23] /.test(l)).join('\n');
    node1.arp = node1.arp!.split('\n').filter((l) => !/\(10\.244\.0\.[23]\)/.test(l)).join('\n');
    node1.fdb = node1.fdb!.split('\n').filter((l) => !/^0a:58:0a:f4:00:0[23] /.test(l)).join('\n');
    const fake = new FakeCluster(c);
    fake.faults.set('default/web-0', { noTools: true, noCat: true });
    const { outcome } = await new ClusterCollector(fake).trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.ok(outcome.ok && outcome.result.verdict === 'delivered', outcome.ok ? outcome.result.reason : outcome.error);
    // Read after everything on the path, and once: with its links, elimination leaves web-0 one port.
    const order = [...new Set(fake.execLog.map((e) => e.pod))];
    assert.equal(order.at(-1), 'kube-system/coredns-6d8c4cb4d-xk7t2');
    assert.equal(outcome.result.hops[1]!.in, 'veth53842afe');
    assert.equal(outcome.result.settles, undefined);
    assert.ok(outcome.result.paths.every((p) => p.verdict === 'delivered' || p.floodCopy), JSON.stringify(outcome.result.paths.map((p) => [p.branch, p.verdict])));
  });

  test('RBAC denial on exec is reported per host with what to do, and the trace still answers', async () => {
    const fake = new FakeCluster(demo());
    fake.faults.set('kube-system/kube-flannel-ds-k8s-node2', { forbidden: true });
    const { outcome, reports } = await new ClusterCollector(fake).trace({ from: 'default/web-0', to: 'default/web-1' });
    const r = reports.find((x) => x.host === 'k8s-node2')!;
    assert.equal(r.error!.kind, 'forbidden');
    assert.match(r.error!.hint, /RBAC|permission/);
    assert.ok(outcome.ok);
    assert.equal(outcome.result.verdict, 'insufficient-data');
    assert.ok(outcome.result.hops.some((h) => h.host === 'k8s-node1'));
  });

  test('a node that never answers times out per host without hanging the trace', async () => {
    const fake = new FakeCluster(demo());
    fake.faults.set('kube-system/kube-flannel-ds-k8s-node2', { hang: true });
    const col = new ClusterCollector(fake, { execTimeoutMs: 50 });
    const { outcome, reports } = await col.trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.equal(reports.find((x) => x.host === 'k8s-node2')!.error!.kind, 'timeout');
    assert.ok(outcome.ok && outcome.result.verdict === 'insufficient-data');
  });

  test('without host-network pods a debug pod is used only with consent, and is always deleted', async () => {
    const noConsent = new FakeCluster(demo(), new Set(['k8s-node2']));
    const r1 = await new ClusterCollector(noConsent).trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.deepEqual(noConsent.created, []);
    assert.match(r1.reports.find((x) => x.host === 'k8s-node2')!.error!.hint, /--allow-debug-pods/);

    const fake = new FakeCluster(demo(), new Set(['k8s-node2']));
    const col = new ClusterCollector(fake, { nodeAccess: 'debug-pods' });
    const { outcome, reports } = await col.trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.ok(outcome.ok && outcome.result.verdict === 'delivered');
    assert.equal(fake.created.length, 1);
    assert.match(fake.created[0]!, /^default\/netpath-debug-k8s-node2-[a-z0-9]+$/);
    assert.match(reports.find((x) => x.host === 'k8s-node2')!.via!, /^debug pod default\/netpath-debug-k8s-node2/);
    assert.deepEqual(fake.deleted, fake.created);
    assert.deepEqual(fake.leftoverDebugPods, []);
  });

  test('cancellation stops the trace and still deletes the debug pods', async () => {
    const fake = new FakeCluster(demo(), new Set(['k8s-node2']));
    fake.faults.set('default/web-1', { hang: true });
    const ac = new AbortController();
    const col = new ClusterCollector(fake, { nodeAccess: 'debug-pods', execTimeoutMs: 10_000 });
    const p = col.trace({ from: 'default/web-0', to: 'default/web-1' }, ac.signal);
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(p, /cancelled/);
    assert.deepEqual(fake.leftoverDebugPods, []);
  });

  test('stragglers of a crashed run are found by their label and deleted', async () => {
    const fake = new FakeCluster(demo());
    await fake.createPod('default', { metadata: { name: 'netpath-debug-old' }, spec: { nodeName: 'k8s-node1' } });
    const gone = await new ClusterCollector(fake).cleanStragglers();
    assert.deepEqual(gone, ['default/netpath-debug-old']);
    assert.deepEqual(fake.leftoverDebugPods, []);
  });

  test('with debug pods allowed, a trace first deletes old stragglers but not a debug pod another run just made', async () => {
    let now = 10_000_000;
    const fake = new FakeCluster(demo());
    fake.clock = () => now;
    await fake.createPod('default', { metadata: { name: 'netpath-debug-crashed' }, spec: { nodeName: 'k8s-node1' } });
    now += 20 * 60 * 1000;
    await fake.createPod('default', { metadata: { name: 'netpath-debug-busy' }, spec: { nodeName: 'k8s-node3' } });
    await new ClusterCollector(fake, { nodeAccess: 'debug-pods', now: () => now }).trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.deepEqual(fake.leftoverDebugPods, ['default/netpath-debug-busy']);
  });

  test('a full capture reads every node and pod and is a valid capture with the CNI named', async () => {
    const fake = new FakeCluster(demo());
    const { capture, reports } = await new ClusterCollector(fake).captureAll();
    assert.equal(reports.filter((r) => r.error).length, 0);
    assert.deepEqual((capture.metadata as { cni?: unknown }).cni, { name: 'flannel', backend: 'vxlan', evidence: ['DaemonSet kube-system/kube-flannel-ds (docker.io/flannel/flannel:v0.26.1)', 'ConfigMap kube-system/kube-flannel-cfg net-conf.json: Backend.Type vxlan'] });
    const node = capture.hosts.find((h) => h.name === 'k8s-node1')!;
    assert.ok(node.probes?.routes4?.includes('10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink'));
    assert.ok(!capture.hosts.some((h) => h.name.startsWith('kube-flannel-ds-') && h.probes));
  });
});

test('with consent, a pod without tools is read through an ephemeral debug container', async () => {
  const fake = new FakeCluster(demo());
  fake.faults.set('default/web-1', { noTools: true });
  const { outcome, reports } = await new ClusterCollector(fake, { nodeAccess: 'debug-pods' }).trace({ from: 'default/web-0', to: 'default/web-1' });
  assert.ok(outcome.ok && outcome.result.verdict === 'delivered');
  // web-1's own tables decided its hop (the underlay between nodes is inferred either way: no switch objects).
  assert.ok(outcome.result.hops.at(-1)!.steps.every((s) => !s.inferred));
  assert.match(reports.find((r) => r.host === 'web-1')!.via!, /^ephemeral container netpath-debug-[a-z0-9]+ in default\/web-1/);
  // Where the cluster refuses it, the pod's side is inferred from its node.
  const old = new FakeCluster(demo());
  old.faults.set('default/web-1', { noTools: true });
  old.ephemeralAllowed = false;
  const r2 = await new ClusterCollector(old, { nodeAccess: 'debug-pods' }).trace({ from: 'default/web-0', to: 'default/web-1' });
  assert.ok(r2.outcome.ok && r2.outcome.result.verdict === 'delivered' && r2.outcome.result.hops.at(-1)!.steps.every((s) => s.inferred));
  assert.equal(r2.reports.find((r) => r.host === 'web-1')!.error!.kind, 'forbidden');
});

test('a capture slower than the cache lifetime keeps every host it read', async () => {
  let now = 0;
  const fake = new FakeCluster(demo());
  // Each exec moves the clock by 2 s: the whole capture takes far longer than the 30 s lifetime.
  const exec = fake.exec.bind(fake);
  fake.exec = (t, argv, o) => {
    now += 2000;
    return exec(t, argv, o);
  };
  const { capture, reports } = await new ClusterCollector(fake, { now: () => now, cacheTtlMs: 30_000, concurrency: 1 }).captureAll();
  const withTables = capture.hosts.filter((h) => h.probes && Object.keys(h.probes).length > 0).map((h) => h.name).sort();
  assert.deepEqual(withTables, reports.filter((r) => r.via).map((r) => r.host).sort());
  assert.equal(withTables.length, 9);
});
