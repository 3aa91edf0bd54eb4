// One exec per host (the probe script) against one exec per probe command: the same capture text and
// the same per-host reports, whatever the containers lack; at most 2 exec calls per host read; a
// container without sh is read one exec per probe, and the collector remembers that it has none.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { serializeCapture, type Capture } from '../../../src/capture/document';
import { ClusterCollector, type ExecMode, type HostReport } from '../../../src/kube/collector';
import { PROBE_SCRIPT } from '../../../src/kube/probeScript';
import { demoCluster, FakeCluster, type Fault } from './fake-cluster';

const NOW = 1_700_000_000_000;
const IPVS_LINK = '\n9: kube-ipvs0: <BROADCAST,NOARP> mtu 1500 qdisc noop state DOWN mode DEFAULT group default\n    link/ether 5a:1b:2c:3d:4e:5f brd ff:ff:ff:ff:ff:ff promiscuity 0\n    dummy addrgenmode eui64';

interface Scenario {
  name: string;
  capture?: (c: Capture) => void;
  faults?: Record<string, Fault>;
}

const SCENARIOS: Scenario[] = [
  { name: 'every container has the tools' },
  {
    name: 'IPVS mode on node1 (the second exec), without nft, ipvsadm or ipset there; web-1 with only cat; web-0 distroless',
    capture: (c) => {
      const n1 = c.hosts.find((h) => h.name === 'k8s-node1')!.probes!;
      n1.links += IPVS_LINK;
      n1.iptables += '\n*filter\n-A INPUT -m set --match-set KUBE-NODE-IP dst -j ACCEPT\nCOMMIT\n';
    },
    faults: { 'kube-system/kube-flannel-ds-k8s-node1': { missing: ['nft', 'ipvsadm', 'ipset'] }, 'default/web-1': { noTools: true }, 'default/web-0': { noTools: true, noCat: true } },
  },
  { name: 'no sh in web-1 and in node2\'s agent', faults: { 'default/web-1': { missing: ['sh'] }, 'kube-system/kube-flannel-ds-k8s-node2': { missing: ['sh', 'ipset'] } } },
];

/** A report without how it was read (exec calls, per-probe), which is what the modes differ in. */
const what = (r: HostReport) => {
  const { execCalls: _c, perProbe: _p, ...rest } = r;
  return rest;
};

async function run(s: Scenario, execMode: ExecMode, full: boolean) {
  const c = demoCluster();
  s.capture?.(c);
  const fake = new FakeCluster(c);
  for (const [pod, f] of Object.entries(s.faults ?? {})) fake.faults.set(pod, f);
  const col = new ClusterCollector(fake, { execMode, now: () => NOW });
  const got = full ? await col.captureAll() : await col.trace({ from: 'default/web-0', to: 'default/web-1' });
  return { fake, col, text: serializeCapture(got.capture), reports: got.reports };
}

describe('the probe script and one exec per probe give the same capture', () => {
  for (const s of SCENARIOS) {
    for (const full of [false, true]) {
      test(`${s.name}: ${full ? 'a full capture' : 'a trace'} is byte for byte the same, with the same reports, in at most 2 exec calls per host`, async () => {
        const script = await run(s, 'script', full);
        const perProbe = await run(s, 'per-probe', full);
        assert.equal(script.text, perProbe.text);
        assert.deepEqual(script.reports.map(what), perProbe.reports.map(what));
        assert.ok(script.reports.some((r) => r.probes.length > 0));
        for (const r of script.reports) {
          const noShell = r.perProbe !== undefined;
          // A container with sh: one exec, two where the first probes call for more; none with sh is per probe.
          if (!noShell) assert.ok((r.execCalls ?? 0) <= 2, `${r.host}: ${r.execCalls} exec calls`);
          if (r.probes.length) assert.ok((r.execCalls ?? 0) >= 1);
        }
        assert.equal(script.col.execCalls, script.fake.execLog.length);
        assert.ok(script.fake.execLog.length < perProbe.fake.execLog.length, `${script.fake.execLog.length} vs ${perProbe.fake.execLog.length}`);
        assert.ok(perProbe.reports.every((r) => r.perProbe === undefined || r.perProbe === 'execMode per-probe'));
      });
    }
  }

  test('a host is read in one exec, and a node whose rules call for more in two', async () => {
    const s = SCENARIOS[1]!;
    const { reports, fake } = await run({ ...s, faults: {} }, 'script', false);
    assert.deepEqual(Object.fromEntries(reports.map((r) => [r.host, r.execCalls])), { 'web-0': 1, 'k8s-node1': 2, 'k8s-node2': 1, 'web-1': 1 });
    const node1 = fake.execLog.filter((e) => e.pod === 'kube-system/kube-flannel-ds-k8s-node1').map((e) => e.argv.slice(5));
    assert.deepEqual(node1, [
      ['links', 'addrs', 'routes4', 'routes6', 'rules4', 'rules6', 'neigh', 'fdb', 'sysctl', 'iptables', 'ip6tables', 'nft'],
      ['ipvs', 'ipset'],
    ]);
  });
});

describe('a container without a shell', () => {
  test('is read one exec per probe, says why, and is not asked to run the script again', async () => {
    let now = NOW;
    const fake = new FakeCluster(demoCluster());
    fake.faults.set('default/web-1', { missing: ['sh'] });
    const col = new ClusterCollector(fake, { now: () => now, cacheTtlMs: 30_000 });
    const first = await col.trace({ from: 'default/web-0', to: 'default/web-1' });
    const r = first.reports.find((x) => x.host === 'web-1')!;
    assert.match(r.perProbe ?? '', /^no sh in the container: exec: "sh": executable file not found/);
    assert.ok(r.probes.includes('links') && r.error === undefined);
    assert.equal(r.execCalls, 1 + 9, 'the refused script, then one exec per probe');
    const scriptTries = () => fake.execLog.filter((e) => e.pod === 'default/web-1' && e.argv[2] === PROBE_SCRIPT).length;
    assert.equal(scriptTries(), 1);
    now += 31_000; // the tables expire; what the container lacks is remembered
    const again = await col.trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.equal(scriptTries(), 1);
    assert.equal(again.reports.find((x) => x.host === 'web-1')!.execCalls, 9);
    // Other containers still get the script.
    assert.equal(again.reports.find((x) => x.host === 'web-0')!.execCalls, 1);
    // refresh() forgets it: a new image may have a shell.
    col.refresh();
    await col.trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.equal(scriptTries(), 2);
  });

  test('a script whose output arrives cut short is read again one exec per probe, with the reason, and the same tables', async () => {
    const cut = new FakeCluster(demoCluster());
    cut.faults.set('kube-system/kube-flannel-ds-k8s-node2', { scriptOutput: (s) => s.slice(0, Math.floor(s.length / 2)) });
    const { reports, capture } = await new ClusterCollector(cut, { now: () => NOW }).trace({ from: 'default/web-0', to: 'default/web-1' });
    const r = reports.find((x) => x.host === 'k8s-node2')!;
    assert.match(r.perProbe ?? '', /^the probe script's output could not be used \(the output ends (before \w+'s command 1 \(.+\) was closed|inside a marker line where \w+'s command 1 \(.+\) was due); the stream was cut \(byte \d+ of \d+\); exit 0\)$/);
    const healthy = await new ClusterCollector(new FakeCluster(demoCluster()), { now: () => NOW }).trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.equal(serializeCapture(capture), serializeCapture(healthy.capture));
  });
});
