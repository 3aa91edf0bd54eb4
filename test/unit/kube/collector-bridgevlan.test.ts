// A VLAN-aware bridge's table (`bridge vlan show`) is read on a host only where `ip -d link` shows a
// bridge with vlan_filtering 1, in the host's second exec beside wg/ipvs/ipset; elsewhere never run.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { PROBE_COMMANDS } from '../../../src/capture/probes';
import { ClusterCollector } from '../../../src/kube/collector';
import { parseProbe } from '../../../src/parsers';
import { demoCluster, FakeCluster } from './fake-cluster';

const TABLE = ['port              vlan-id  ', 'veth53842afe      10 PVID Egress Untagged', 'cni0              1 PVID Egress Untagged', '                  10', ''].join('\n');
const command = PROBE_COMMANDS.bridgevlan[0]!.argv.join(' ');

describe('bridge vlan show where a bridge filters VLANs', () => {
  test('read on the node whose cni0 has vlan_filtering 1, in one exec with the other late probes; not on the others', async () => {
    const c = demoCluster();
    const node1 = c.hosts.find((h) => h.name === 'k8s-node1')!.probes!;
    node1.links = node1.links!.replace('vlan_filtering 0', 'vlan_filtering 1');
    node1.bridgevlan = TABLE;
    // node2 has the text but filters no VLANs: not read there.
    c.hosts.find((h) => h.name === 'k8s-node2')!.probes!.bridgevlan = TABLE;
    const fake = new FakeCluster(c);
    const col = new ClusterCollector(fake);
    const { reports } = await col.trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.ok(reports.find((r) => r.host === 'k8s-node1')!.probes.includes('bridgevlan'));
    assert.ok(!reports.find((r) => r.host === 'k8s-node2')!.probes.includes('bridgevlan'));
    const ranOn = (pod: string) => fake.ranLog.filter((e) => e.pod === pod && !e.missing).map((e) => e.argv.join(' '));
    assert.ok(ranOn('kube-system/kube-flannel-ds-k8s-node1').some((a) => a === command || a.includes(' bridgevlan')), ranOn('kube-system/kube-flannel-ds-k8s-node1').join(' | '));
    assert.ok(!ranOn('kube-system/kube-flannel-ds-k8s-node2').some((a) => a === command || a.includes(' bridgevlan')));
    const got = (await col.currentCapture()).hosts.find((h) => h.name === 'k8s-node1')!.probes!.bridgevlan!;
    assert.equal(got, TABLE);
    assert.deepEqual(
      parseProbe('bridgevlan', got).records.map((r) => (r.kind === 'bridge-vlan' ? [r.port, r.vlan, r.pvid] : [])),
      [
        ['veth53842afe', 10, true],
        ['cni0', 1, true],
        ['cni0', 10, false],
      ],
    );
  });
});
