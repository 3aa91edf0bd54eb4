// The `recent` lists (kube-proxy iptables mode's sessionAffinity ClientIP) are read on a node only
// where its rules use `-m recent`, in one exec; when they cannot be read the trace goes on with a note.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { PROBE_COMMANDS } from '../../../src/capture/probes';
import { ClusterCollector } from '../../../src/kube/collector';
import { parseProbe } from '../../../src/parsers';
import { demoCluster, FakeCluster } from './fake-cluster';
import { fixtureBody } from '../parsers/fixture-body';

const AFFINITY = [
  '*nat',
  ':KUBE-SVC-ABC - [0:0]',
  ':KUBE-SEP-ABC - [0:0]',
  '-A KUBE-SVC-ABC -m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-ABC --mask 255.255.255.255 --rsource -j KUBE-SEP-ABC',
  '-A KUBE-SEP-ABC -p tcp -m recent --set --name KUBE-SEP-ABC --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.244.1.3:8080',
  'COMMIT',
  '',
].join('\n');
const lists = fixtureBody('xt_recent', 'netns-kube-affinity');
const script = PROBE_COMMANDS.xt_recent[0]!.argv.join(' ');
/** The commands run on a node (in the probe script or one exec each). */
const ran = (f: FakeCluster, node: string) => f.ranLog.filter((e) => e.pod === `kube-system/kube-flannel-ds-${node}` && !e.missing).map((e) => e.argv.join(' '));

describe('xt_recent on the nodes a trace needs', () => {
  test('read, in one exec, only on a node whose iptables rules use -m recent', async () => {
    const c = demoCluster();
    const node1 = c.hosts.find((h) => h.name === 'k8s-node1')!.probes!;
    node1.iptables += `\n${AFFINITY}`;
    node1.xt_recent = lists;
    // node2 has the lists' text but no rule using them: it is not read there.
    c.hosts.find((h) => h.name === 'k8s-node2')!.probes!.xt_recent = lists;
    const fake = new FakeCluster(c);
    const col = new ClusterCollector(fake);
    const { reports } = await col.trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.ok(reports.find((r) => r.host === 'k8s-node1')!.probes.includes('xt_recent'));
    assert.deepEqual(ran(fake, 'k8s-node1').filter((a) => a === script), [script]);
    assert.equal(PROBE_COMMANDS.xt_recent[0]!.argv[0], 'sh');
    assert.ok(!reports.find((r) => r.host === 'k8s-node2')!.probes.includes('xt_recent'));
    assert.ok(!ran(fake, 'k8s-node2').includes(script), ran(fake, 'k8s-node2').join(', '));
    for (const pod of ['default/web-0', 'default/web-1']) assert.ok(!fake.ranLog.some((e) => e.pod === pod && e.argv.join(' ') === script));
    const got = (await col.currentCapture()).hosts.find((h) => h.name === 'k8s-node1')!.probes!.xt_recent!;
    assert.equal(got, lists);
    assert.equal(parseProbe('xt_recent', got).records.filter((r) => r.kind === 'xt-recent-entry').length, 5);
  });

  test('ip6tables rules using -m recent are enough', async () => {
    const c = demoCluster();
    const node1 = c.hosts.find((h) => h.name === 'k8s-node1')!.probes!;
    node1.ip6tables = `*nat\n:KUBE-SEP-V6 - [0:0]\n-A KUBE-SEP-V6 -p tcp -m recent --set --name KUBE-SEP-V6 --mask ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff --rsource -m tcp -j DNAT --to-destination [fd00:10:244:1::3]:8080\nCOMMIT\n`;
    node1.xt_recent = lists;
    const fake = new FakeCluster(c);
    const { reports } = await new ClusterCollector(fake).trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.ok(reports.find((r) => r.host === 'k8s-node1')!.probes.includes('xt_recent'));
  });

  test('no shell in the node container: the probe is left out with a note, never an error, and the trace goes on', async () => {
    const c = demoCluster();
    const node1 = c.hosts.find((h) => h.name === 'k8s-node1')!.probes!;
    node1.iptables += `\n${AFFINITY}`;
    node1.xt_recent = lists;
    const fake = new FakeCluster(c);
    fake.faults.set('kube-system/kube-flannel-ds-k8s-node1', { missing: ['sh'] });
    const { outcome, reports } = await new ClusterCollector(fake).trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.ok(outcome.ok && outcome.result.verdict === 'delivered', outcome.ok ? outcome.result.reason : outcome.error);
    const r = reports.find((x) => x.host === 'k8s-node1')!;
    assert.equal(r.error, undefined);
    assert.ok(r.probes.includes('iptables') && !r.probes.includes('xt_recent'));
    assert.deepEqual(r.missing.map((m) => m.probe), ['xt_recent']);
    assert.match(r.missing[0]!.why, /^sh: not found in pod kube-system\/kube-flannel-ds-k8s-node1 \(kube-flannel\)/);
  });
});
