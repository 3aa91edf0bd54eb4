// A live trace to a Service: the demo lab with kube-proxy's iptables rules loaded into its node
// namespaces (test/lab/demo-cluster.ts loadDemoServices), behind the lab API server, which serves
// kube-dns (10.96.0.10, the two CoreDNS pods) as a cluster does. The collector reads the nodes'
// rules with iptables-save over exec and the Service from the API; the engine follows the DNAT to
// both CoreDNS pods, half each. Own file (own lab): the rules would change the other live tests' paths.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ClientNodeCluster } from '../../../src/kube/clientNode';
import { ClusterCollector } from '../../../src/kube/collector';
import { loadDemoServices } from '../demo-cluster';
import { describeWithLabApi } from './fixture';

describeWithLabApi('live trace to a Service through the lab API server', { timeoutMs: 180_000 }, (get) => {
  test('web-0 -> svc/kube-system/kube-dns:dns-tcp: the node rules read over exec DNAT to both CoreDNS pods, 50% each', async () => {
    const { server, lab } = get();
    loadDemoServices(lab);
    const col = new ClusterCollector(ClientNodeCluster.fromKubeconfig({ kubeconfig: server.kubeconfigPath }));
    const { outcome, reports, notes } = await col.trace({ from: 'default/web-0', to: 'svc/kube-system/kube-dns:dns-tcp', proto: 'tcp', port: 53 });
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.error);
    const t = outcome.result;
    assert.deepEqual(notes, []);
    assert.equal(t.service, 'kube-system/kube-dns:dns-tcp');
    assert.equal(t.verdict, 'delivered', `${t.reason}\n${t.paths.map((p) => `${p.verdict} ${JSON.stringify(p.endpoint)} ${p.reason}`).join('\n')}`);
    assert.deepEqual(
      // Copies the bridge sends to ports the frame is not for (flood, candidate) end discarded: not endpoints' paths.
      t.paths.filter((p) => p.ending !== 'discarded').map((p) => [p.endpoint, Number(p.probability!.toFixed(6)), p.hops.at(-1)!.host]).sort((a, b) => String(a[2]).localeCompare(String(b[2]))),
      [
        [{ ip: '10.244.1.2', port: 53 }, 0.5, 'coredns-6d8c4cb4d-q9m4r'],
        [{ ip: '10.244.0.2', port: 53 }, 0.5, 'coredns-6d8c4cb4d-xk7t2'],
      ],
    );
    // The DNAT came from k8s-node1's own rules, read with iptables-save through its host-network pod.
    const node1 = reports.find((r) => r.host === 'k8s-node1')!;
    assert.ok(node1.probes.includes('iptables'), JSON.stringify(node1));
    const dnat = t.paths[0]!.hops.find((h) => h.host === 'k8s-node1')!.steps.find((s) => s.detail?.type === 'netfilter' && s.detail.step.kind === 'rule' && s.detail.step.action.kind === 'dnat');
    assert.ok(dnat, 'no DNAT step on k8s-node1');
    assert.equal(dnat.records[0]!.host, 'k8s-node1');
    assert.equal(dnat.records[0]!.probe, 'iptables');
    assert.match(dnat.records[0]!.raw, /-j DNAT --to-destination 10\.244\.[01]\.2:53$/);
    // In the one exec that read k8s-node1: the probe script, asked for iptables among the rest.
    assert.ok(server.execs.some((e) => e.labHost === 'k8s-node1' && e.command[0] === 'sh' && e.command.slice(5).includes('iptables')));
    assert.equal(server.execs.length, col.execCalls);
    assert.deepEqual(server.leftoverPods(), []);
  });
});
