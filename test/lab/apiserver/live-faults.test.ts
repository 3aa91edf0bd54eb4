// Faults through the live path, judged by the kernel: the demo lab's real data plane is broken with
// the commands an operator or a broken agent would run (as test/lab/fault-cases.ts does), then
// netpath's collector reads the lab through the lab API server (client-node, WebSocket exec) and
// traces lazily, and one real packet of the same flow is observed (test/lab/oracle.ts). The kernel
// decides; the live trace must agree with it (compareWithEngine), read only both ends and the hosts
// the packet reaches, and leave no debug pod behind. Every case is repaired, and the lab proven healthy again,
// before the next. A fresh collector per case, so nothing is cached across a fault.
import { strict as assert } from 'node:assert';
import { before, test } from 'node:test';
import { ClientNodeCluster } from '../../../src/kube/clientNode';
import { ClusterCollector } from '../../../src/kube/collector';
import type { Verdict } from '../../../src/engine/trace';
import type { Lab } from '../netns';
import { compareWithEngine, describeObservation, observe } from '../oracle';
import type { BuiltCluster, NodePlan } from '../topology';
import { assertConnectivity, checkConnectivity } from '../verify';
import { describeWithLabApi } from './fixture';

const N1 = 'k8s-node1';
const N2 = 'k8s-node2';
const N3 = 'k8s-node3';

interface LiveFault {
  name: string;
  apply: (lab: Lab, built: BuiltCluster) => void;
  repair: (lab: Lab, built: BuiltCluster) => void;
  /** What the kernel does with web-0 -> web-1 (10.244.1.3), 84 bytes: where and why it drops it. */
  drop: { host: string; verdict: Verdict };
  /**
   * Exactly the hosts the lazy trace reads: both ends (web-0 and its node, web-1 and its node, read at
   * once) and the packet's hosts up to the drop (not the switch).
   */
  reads: string[];
}

function node(built: BuiltCluster, name: string): NodePlan {
  const n = built.plan.nodes.find((x) => x.name === name);
  if (!n) throw new Error(`no node ${name}`);
  return n;
}

/** flanneld's three entries on `on` for `peer`, as topology.ts programs them. */
function restorePeer(lab: Lab, built: BuiltCluster, on: string, peer: string): void {
  const p = node(built, peer);
  const vtepIp = p.podCIDR.masked().addr.toString();
  lab.ip(on, 'route', 'replace', p.podCIDR.masked().toString(), 'via', vtepIp, 'dev', 'flannel.1', 'onlink');
  lab.ip(on, 'neigh', 'replace', vtepIp, 'lladdr', p.vtepMac, 'dev', 'flannel.1', 'nud', 'permanent');
  lab.bridge(on, 'fdb', 'replace', p.vtepMac, 'dev', 'flannel.1', 'dst', p.ip, 'self', 'permanent');
}

/** Current values of sysctls in a host (`sysctl -n`), to put back exactly what was there. */
function saveSysctls(lab: Lab, host: string, keys: string[]): string[] {
  return keys.map((k) => `${k}=${lab.execIn(host, ['sysctl', '-n', k]).trim()}`);
}

const saved = new Map<string, string[]>();
const RP_KEYS = ['net.ipv4.conf.all.rp_filter', 'net.ipv4.conf.flannel/1.rp_filter'];

const CASES: LiveFault[] = [
  {
    name: "node1's VXLAN FDB entry for node2's VTEP deleted",
    apply: (lab, b) => lab.bridge(N1, 'fdb', 'del', node(b, N2).vtepMac, 'dev', 'flannel.1', 'dst', node(b, N2).ip, 'self'),
    repair: (lab, b) => restorePeer(lab, b, N1, N2),
    drop: { host: N1, verdict: 'no-fdb-entry' },
    reads: ['web-0', N1, N2, 'web-1'],
  },
  {
    name: "node1's VXLAN FDB entry for node2's VTEP pointing at node3",
    apply: (lab, b) => lab.bridge(N1, 'fdb', 'replace', node(b, N2).vtepMac, 'dev', 'flannel.1', 'dst', node(b, N3).ip, 'self', 'permanent'),
    repair: (lab, b) => restorePeer(lab, b, N1, N2),
    drop: { host: N3, verdict: 'wrong-destination' },
    // The lazy trace follows the packet to node3, a host the healthy path never reads.
    reads: ['web-0', N1, N2, 'web-1', N3],
  },
  {
    name: 'blackhole route for 10.244.1.0/24 on node1',
    apply: (lab) => lab.ip(N1, 'route', 'replace', 'blackhole', '10.244.1.0/24'),
    repair: (lab, b) => restorePeer(lab, b, N1, N2),
    drop: { host: N1, verdict: 'blackhole' },
    reads: ['web-0', N1, N2, 'web-1'],
  },
  {
    name: 'net.ipv4.ip_forward=0 on node2',
    apply: (lab) => lab.sysctl(N2, 'net.ipv4.ip_forward=0'),
    repair: (lab) => lab.sysctl(N2, 'net.ipv4.ip_forward=1'),
    drop: { host: N2, verdict: 'forwarding-disabled' },
    reads: ['web-0', N1, N2, 'web-1'],
  },
  {
    name: 'strict rp_filter on node2 with the route back to web-0 via eth0',
    apply: (lab) => {
      saved.set('rp', saveSysctls(lab, N2, RP_KEYS));
      lab.ip(N2, 'route', 'replace', '10.244.0.0/24', 'via', '10.4.7.1', 'dev', 'eth0');
      lab.sysctl(N2, ...RP_KEYS.map((k) => `${k}=1`));
    },
    repair: (lab, b) => {
      const old = saved.get('rp');
      if (old) lab.sysctl(N2, ...old);
      restorePeer(lab, b, N2, N1);
    },
    drop: { host: N2, verdict: 'rp-filter' },
    reads: ['web-0', N1, N2, 'web-1'],
  },
];

describeWithLabApi('faults through the live path, judged by the kernel', { timeoutMs: 120_000 }, (get) => {
  before(() => {
    // Warm neighbour and bridge tables, as on a cluster that has carried traffic, and prove the lab healthy.
    const { lab, built } = get();
    assertConnectivity(checkConnectivity(lab, built));
  });

  for (const c of CASES) {
    test(`${c.name}: the kernel drops it at ${c.drop.host} (${c.drop.verdict}) and the live trace agrees`, async () => {
      const { lab, built, server } = get();
      c.apply(lab, built);
      try {
        const col = new ClusterCollector(ClientNodeCluster.fromKubeconfig({ kubeconfig: server.kubeconfigPath }));
        const { outcome, reports } = await col.trace({ from: 'default/web-0', to: 'default/web-1', size: 84 });
        assert.ok(outcome.ok, outcome.ok ? '' : outcome.error);
        const t = outcome.result;
        assert.ok(reports.every((r) => !r.error), JSON.stringify(reports.filter((r) => r.error)));
        assert.deepEqual(reports.map((r) => r.host).sort(), [...c.reads].sort());
        assert.equal(server.execs.length, col.execCalls);
        assert.deepEqual(server.leftoverPods(), []);

        const obs = await observe(lab, built, { from: 'web-0', to: '10.244.1.3', size: 84 });
        const msg = describeObservation(obs);
        // The fault is real: the kernel drops the packet where and why the case says.
        assert.equal(obs.delivered, false, msg);
        assert.equal(obs.drop?.host, c.drop.host, msg);
        assert.ok(obs.drop.verdicts.includes(c.drop.verdict), `kernel evidence ${obs.drop.counter} means ${obs.drop.verdicts.join('|')}\n${msg}`);
        assert.equal(t.verdict, c.drop.verdict, `${t.reason}\n${msg}`);
        // The switch is not a Kubernetes object: the live trace does not show it, the kernel saw it.
        compareWithEngine({ ...obs, seenBy: obs.seenBy.filter((h) => h !== 'tor') }, t);
      } finally {
        c.repair(lab, built);
      }
      const healthy = checkConnectivity(lab, built);
      assert.ok(healthy.every((x) => x.ok), `the repair did not bring the lab back: ${healthy.filter((x) => !x.ok).map((x) => `${x.what}: ${x.from} -> ${x.to}`).join('; ')}`);
    });
  }

  test('after every fault, a fresh live trace is delivered again and the kernel agrees', async () => {
    const { lab, built, server } = get();
    const col = new ClusterCollector(ClientNodeCluster.fromKubeconfig({ kubeconfig: server.kubeconfigPath }));
    const { outcome } = await col.trace({ from: 'default/web-0', to: 'default/web-1', size: 84 });
    assert.ok(outcome.ok && outcome.result.verdict === 'delivered', outcome.ok ? outcome.result.reason : outcome.error);
    const obs = await observe(lab, built, { from: 'web-0', to: '10.244.1.3', size: 84 });
    compareWithEngine({ ...obs, seenBy: obs.seenBy.filter((h) => h !== 'tor') }, outcome.result);
    assert.deepEqual(server.leftoverPods(), []);
  });
});
