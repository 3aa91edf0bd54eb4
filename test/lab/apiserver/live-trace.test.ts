// End to end for live clusters: the lab's namespaces behind the lab API server, read by netpath's own
// collector through client-node (kubeconfig, WebSocket exec), traced by the engine, and judged by the
// kernel (one real packet, test/lab/oracle.ts). Every fault gives its per-host error and leaves no
// debug pod behind.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { parseCapture, serializeCapture } from '../../../src/capture/document';
import { buildNetwork, simulate } from '../../../src/engine';
import { ClientNodeCluster } from '../../../src/kube/clientNode';
import { ClusterCollector, type HostReport } from '../../../src/kube/collector';
import { compareWithEngine, observe } from '../oracle';
import { describeWithLabApi } from './fixture';

const report = (reports: HostReport[], host: string) => reports.find((r) => r.host === host);

describeWithLabApi('live trace through the lab API server', { timeoutMs: 180_000 }, (get) => {
  const cluster = () => ClientNodeCluster.fromKubeconfig({ kubeconfig: get().server.kubeconfigPath });
  const nodePods = async (node: string) => (await cluster().listPods({ nodeName: node })).filter((p) => p.hostNetwork).map((p) => p.name);

  test('a pod-to-pod trace reads only the hosts on its path, and the kernel agrees', async () => {
    const { server, lab, built } = get();
    const col = new ClusterCollector(cluster());
    const { outcome, reports } = await col.trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.error);
    const t = outcome.result;
    assert.equal(t.verdict, 'delivered', t.reason);
    assert.deepEqual(t.hops.map((h) => h.host), ['web-0', 'k8s-node1', 'k8s-node2', 'web-1']);
    assert.deepEqual(reports.map((r) => r.host).sort(), ['k8s-node1', 'k8s-node2', 'web-0', 'web-1']);
    assert.ok(reports.every((r) => !r.error), JSON.stringify(reports.filter((r) => r.error)));
    assert.match(report(reports, 'k8s-node1')!.via!, /^pod kube-system\/kube-(flannel-ds|proxy)-\w+ /);
    // Every exec the server saw was one the collector made, none to node3 or its pods: the probe
    // script, once per host.
    assert.equal(server.execs.length, col.execCalls);
    assert.deepEqual(server.execs.map((e) => e.labHost).sort(), ['k8s-node1', 'k8s-node2', 'web-0', 'web-1']);
    assert.ok(server.execs.every((e) => e.command[0] === 'sh' && e.command[3] === 'netpath-probes' && e.outcome === 'exited' && e.exitCode === 0), JSON.stringify(server.execs.map((e) => [e.command.slice(3), e.outcome])));
    assert.ok(!server.execs.some((e) => /node3|nginx|prometheus/.test(`${e.pod} ${e.labHost}`)), JSON.stringify(server.execs.map((e) => e.pod)));
    assert.deepEqual(server.leftoverPods(), []);

    const obs = await observe(lab, built, { from: 'web-0', to: '10.244.1.3', size: 64 });
    assert.equal(obs.delivered, true);
    // The switch is not a Kubernetes object: the live trace does not show it, the kernel saw it.
    compareWithEngine({ ...obs, seenBy: obs.seenBy.filter((h) => h !== 'tor') }, t);
  });

  test('the nodes on the path give their netfilter rule sets and the API its objects; a list RBAC refuses is a note', async () => {
    const { server } = get();
    server.inject({ kind: 'http-error', method: 'GET', path: /^\/apis\/discovery\.k8s\.io\/v1\/endpointslices/, code: 403, reason: 'Forbidden', message: 'endpointslices.discovery.k8s.io is forbidden: User "netpath-lab-admin" cannot list resource "endpointslices" in API group "discovery.k8s.io" at the cluster scope' });
    const col = new ClusterCollector(cluster());
    const { outcome, reports, capture, notes } = await col.trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.ok(outcome.ok && outcome.result.verdict === 'delivered', outcome.ok ? outcome.result.reason : outcome.error);
    for (const node of ['k8s-node1', 'k8s-node2']) {
      const r = report(reports, node)!;
      assert.ok(r.probes.includes('iptables') && r.probes.includes('ip6tables') && r.probes.includes('nft'), JSON.stringify(r));
      // Asked of the probe script that read the node.
      const asked = server.execs.filter((e) => e.labHost === node).flatMap((e) => e.command.slice(5));
      assert.ok(asked.includes('iptables') && asked.includes('ip6tables') && asked.includes('nft'), asked.join(' '));
    }
    // The pods' own namespaces are not asked for rule sets.
    assert.ok(!server.execs.some((e) => /^web-/.test(e.pod) && e.command.slice(5).some((p) => /^(iptables|ip6tables|nft)$/.test(p))));
    assert.equal(server.execs.length, col.execCalls);
    const k = (capture as { kubernetes?: Record<string, { kind?: string; metadata?: { name?: string } }[]> }).kubernetes!;
    assert.ok(k.services!.some((s) => s.kind === 'Service' && s.metadata?.name === 'kube-dns'), JSON.stringify(k.services?.map((s) => s.metadata?.name)));
    assert.ok(k.pods!.some((p) => p.metadata?.name === 'web-0'));
    assert.ok(k.namespaces!.some((n) => n.metadata?.name === 'kube-system'));
    assert.equal(k.endpointSlices, undefined);
    assert.deepEqual(notes.map((n) => [n.resource, n.kind]), [['endpointslices.discovery.k8s.io', 'forbidden']]);
    assert.match(notes[0]!.message, /grant list on endpointslices\.discovery\.k8s\.io/);
  });

  test('a full capture written by the collector is a capture-v1 document the engine traces offline', async () => {
    const col = new ClusterCollector(cluster());
    const { capture, reports } = await col.captureAll();
    assert.ok(reports.every((r) => !r.error), JSON.stringify(reports.filter((r) => r.error)));
    const text = serializeCapture(capture);
    const loaded = parseCapture(text);
    assert.ok(loaded.ok, loaded.ok ? '' : JSON.stringify(loaded.errors));
    assert.equal((loaded.capture.metadata as { cni?: { name: string; backend?: string } }).cni?.name, 'flannel');
    assert.equal((loaded.capture.metadata as { cni?: { name: string; backend?: string } }).cni?.backend, 'vxlan');
    const offline = simulate(buildNetwork(loaded.capture), { from: 'default/web-0', to: 'default/nginx-7c5ddbdf54-2xq8n' });
    assert.ok(offline.ok && offline.result.verdict === 'delivered', offline.ok ? offline.result.reason : offline.error);
    assert.deepEqual(offline.result.hops.map((h) => h.host), ['web-0', 'k8s-node1', 'k8s-node3', 'nginx-7c5ddbdf54-2xq8n']);
    assert.deepEqual(get().server.leftoverPods(), []);
  });

  test('RBAC: exec forbidden on node2 is reported with what to do, and the trace answers what it can', async () => {
    const { server } = get();
    for (const pod of await nodePods('k8s-node2')) server.inject({ kind: 'exec-forbidden', match: { pod } });
    const { outcome, reports } = await new ClusterCollector(cluster()).trace({ from: 'default/web-0', to: 'default/web-1' });
    const r = report(reports, 'k8s-node2')!;
    assert.equal(r.error?.kind, 'forbidden');
    assert.match(r.error!.message, /cannot create resource "pods\/exec"/);
    assert.match(r.error!.hint, /RBAC/);
    // Without node2's tables the VXLAN packet leaves node1 for an address no readable host owns.
    assert.ok(outcome.ok);
    assert.equal(outcome.result.verdict, 'insufficient-data');
    assert.deepEqual(outcome.result.dropAt, { host: 'k8s-node1', dev: 'eth0' });
    assert.deepEqual(outcome.result.needs, ['k8s-node2']);
  });

  test('a node that hangs times out per host; a dropped stream is reported as such', async () => {
    const { server } = get();
    for (const pod of await nodePods('k8s-node2')) server.inject({ kind: 'exec-hang', stage: 'upgrade', match: { pod } });
    // The timeout must outlast a healthy exec on a loaded machine (node1's execs answer, and the trace
    // reaches node2 only through them), and only node2's hang reach it.
    const hung = await new ClusterCollector(cluster(), { execTimeoutMs: 6000 }).trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.equal(report(hung.reports, 'k8s-node2')!.error?.kind, 'timeout');
    server.reset();
    server.inject({ kind: 'exec-drop', match: { pod: 'web-1' } });
    const dropped = await new ClusterCollector(cluster()).trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.equal(report(dropped.reports, 'web-1')!.error?.kind, 'connection-lost');
  });

  test('a pod deleted during the trace is reported as not found; its side is inferred', async () => {
    const { server } = get();
    server.inject({ kind: 'pod-deleted', match: { pod: 'web-1' } });
    const { outcome, reports } = await new ClusterCollector(cluster()).trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.equal(report(reports, 'web-1')!.error?.kind, 'not-found');
    assert.ok(outcome.ok && outcome.result.verdict === 'delivered' && outcome.result.hops.at(-1)!.steps.every((s) => s.inferred));
  });

  test('a container without ip falls back to BusyBox, then to /proc; with nothing at all, the pod is inferred', async () => {
    const { server } = get();
    server.inject({ kind: 'exec-missing-binary', binary: 'ip', match: { pod: 'web-1' } });
    const bb = await new ClusterCollector(cluster()).trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.ok(bb.outcome.ok && bb.outcome.result.verdict === 'delivered');
    assert.ok(report(bb.reports, 'web-1')!.probes.includes('links'));
    // The probe script found no ip and ran BusyBox's: the same tables as BusyBox run one exec per probe.
    const links = (c: { hosts: { name: string; probes?: Record<string, string> }[] }) => c.hosts.find((h) => h.name === 'web-1')!.probes!.links;
    const perProbe = await new ClusterCollector(cluster(), { execMode: 'per-probe' }).trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.ok(server.execs.some((e) => e.pod === 'web-1' && e.command.join(' ') === 'busybox ip link show'));
    assert.equal(links(bb.capture), links(perProbe.capture));
    // Only `cat` (a Debian-slim image): the kernel's /proc tables, real, and the interface inferred.
    server.reset();
    for (const binary of ['ip', 'busybox', 'route', 'arp', 'sysctl', 'bridge']) server.inject({ kind: 'exec-missing-binary', binary, match: { pod: 'web-1' } });
    const proc = await new ClusterCollector(cluster()).trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.ok(proc.outcome.ok && proc.outcome.result.verdict === 'delivered', proc.outcome.ok ? proc.outcome.result.reason : proc.outcome.error);
    assert.ok(report(proc.reports, 'web-1')!.probes.includes('routes4'));
    // `cat /proc/net/route`, run by the probe script after ip, BusyBox and route were not found.
    assert.match(proc.capture.hosts.find((h) => h.name === 'web-1')!.probes!.routes4!, /^Iface\tDestination\tGateway/);
    // Not even cat (distroless): inferred from the node. The pod is still the last hop, entered by
    // its eth0, every step of it inferred; it stays needed, and the collector tried it once.
    server.reset();
    for (const binary of ['ip', 'busybox', 'route', 'arp', 'sysctl', 'bridge', 'cat', 'sh']) server.inject({ kind: 'exec-missing-binary', binary, match: { pod: 'web-1' } });
    const none = await new ClusterCollector(cluster()).trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.equal(report(none.reports, 'web-1')!.inferred, true);
    assert.equal(none.reports.filter((r) => r.host === 'web-1').length, 1);
    assert.ok(none.outcome.ok && none.outcome.result.verdict === 'delivered', none.outcome.ok ? none.outcome.result.reason : none.outcome.error);
    const t = none.outcome.result;
    assert.deepEqual(t.hops.map((h) => h.host), ['web-0', 'k8s-node1', 'k8s-node2', 'web-1']);
    assert.deepEqual([t.hops[3]!.in, t.hops[3]!.out], ['eth0', null]);
    assert.ok(t.hops[3]!.steps.every((s) => s.inferred));
    assert.deepEqual(t.needs, ['web-1']);
  });

  test('a distroless source pod is the first hop, inferred from its node, and the kernel agrees', async () => {
    const { server, lab, built } = get();
    for (const binary of ['ip', 'busybox', 'route', 'arp', 'sysctl', 'bridge', 'cat', 'sh']) server.inject({ kind: 'exec-missing-binary', binary, match: { pod: 'web-0' } });
    const { outcome, reports } = await new ClusterCollector(cluster()).trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.equal(report(reports, 'web-0')!.inferred, true);
    assert.ok(outcome.ok && outcome.result.verdict === 'delivered', outcome.ok ? outcome.result.reason : outcome.error);
    const t = outcome.result;
    assert.deepEqual(t.hops.map((h) => h.host), ['web-0', 'k8s-node1', 'k8s-node2', 'web-1']);
    assert.ok(t.hops[0]!.steps.filter((s) => s.kind !== 'origin').every((s) => s.inferred));
    assert.equal(t.hops[0]!.out, 'eth0');
    assert.deepEqual(t.needs, ['web-0']);
    // Beside the path, only coredns (web-0's neighbour on cni0) may have been read: to settle which port
    // is web-0's when node1 has no entry for it. Nothing is left unsettled.
    assert.deepEqual(reports.map((r) => r.host).filter((h) => !['web-0', 'k8s-node1', 'k8s-node2', 'web-1', 'coredns-6d8c4cb4d-xk7t2'].includes(h)), []);
    assert.equal(t.settles, undefined);
    const obs = await observe(lab, built, { from: 'web-0', to: '10.244.1.3', size: 64 });
    // The switch is not a Kubernetes object: the live trace does not show it, the kernel saw it.
    compareWithEngine({ ...obs, seenBy: obs.seenBy.filter((h) => h !== 'tor') }, t);
  });

  test('with consent, a node without usable host-network pods is read through a debug pod that is always deleted', async () => {
    const { server } = get();
    for (const pod of await nodePods('k8s-node2')) {
      server.inject({ kind: 'exec-missing-binary', binary: 'ip', match: { pod } });
      server.inject({ kind: 'exec-missing-binary', binary: 'busybox', match: { pod } });
    }
    const noConsent = await new ClusterCollector(cluster()).trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.match(report(noConsent.reports, 'k8s-node2')!.error!.hint, /debug pod/);
    const col = new ClusterCollector(cluster(), { nodeAccess: 'debug-pods' });
    const { outcome, reports } = await col.trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.ok(outcome.ok && outcome.result.verdict === 'delivered', outcome.ok ? outcome.result.reason : outcome.error);
    assert.match(report(reports, 'k8s-node2')!.via!, /^debug pod default\/netpath-debug-k8s-node2-/);
    assert.deepEqual(server.leftoverPods(), []);
  });
});
