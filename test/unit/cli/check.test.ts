// `netpath check` as built (dist/cli.js), on the demo capture and on it with one FDB entry removed:
// the text groups the failures by cause, --json has the documented shape, and the exit code follows.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { EXIT_BAD_INPUT, EXIT_DROPPED, EXIT_OK, EXIT_USAGE } from '../../../src/cli/exit';
import { run } from '../../../src/cli/main';
import { demoCluster, FakeCluster } from '../kube/fake-cluster';
import { edit } from '../webview/cases';
import { fakeIo } from './fake-io';

const repo = join(__dirname, '../../..');
const cli = join(repo, 'dist/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'netpath-check-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const demoPath = join(repo, 'examples/demo-flannel-vxlan.json');
const faulted = join(dir, 'no-fdb.json');
{
  const doc = JSON.parse(readFileSync(demoPath, 'utf8')) as { hosts: { name: string; probes: Record<string, string> }[] };
  const h = doc.hosts.find((x) => x.name === 'k8s-node1')!;
  const before = h.probes.fdb!.split('\n');
  h.probes.fdb = before.filter((l) => !l.startsWith('42:20:2d:f5:4d:c4 dev flannel.1 ')).join('\n');
  assert.equal(h.probes.fdb.split('\n').length, before.length - 1, 'one line removed');
  writeFileSync(faulted, JSON.stringify(doc));
}

const check = (...args: string[]) => spawnSync(process.execPath, [cli, 'check', ...args], { cwd: repo, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

describe('netpath check (the built CLI)', () => {
  test('a missing FDB entry: one cause, its pairs, the table finding; exit 3', () => {
    const r = check(faulted);
    assert.equal(r.status, EXIT_DROPPED, r.stderr);
    assert.match(r.stdout, /5 pairs not delivered, 1 cause\n/);
    assert.match(r.stdout, /^ 1\. k8s-node1 fdb \(missing-vtep-fdb\): k8s-node1's flannel\.1 has no FDB entry for 42:20:2d:f5:4d:c4, k8s-node2's VTEP at 10\.4\.7\.22$/m);
    assert.match(r.stdout, /fails 5 pairs \(1 pod-to-pod, 4 Service; all from k8s-node1, all to k8s-node2\):/);
    assert.match(r.stdout, /default\/web-0 -> default\/web-1 \(10\.244\.1\.3\): no-fdb-entry at k8s-node1 flannel\.1/);
    assert.match(r.stdout, /trace one: netpath trace --capture \S+no-fdb\.json --from default\/web-0 --to 10\.244\.1\.3/);
    assert.match(r.stdout, /What the tables show \(no trace needed\): 1 finding\n {3}- k8s-node1 fdb \(missing-vtep-fdb\).* \(a cause above\)/);
    // Long lists are cut: --pairs 2 shows two and says how many more.
    assert.match(check(faulted, '--pairs', '2').stdout, /\.\.\. and 3 more \(--pairs all, or --json, lists every one\)/);
  });

  test('--json: kind, version, the groups with every pair, the tables; same exit code', () => {
    const r = check(faulted, '--json');
    assert.equal(r.status, EXIT_DROPPED, r.stderr);
    const j = JSON.parse(r.stdout) as { kind: string; version: number; complete: boolean; traced: object; failed: object; groups: { key: string; cause: { type: string; diagnosis: { kind: string; host: string } }; failures: { kind: string; from: string; to: string }[] }[]; tables: { kind: string }[] };
    assert.equal(j.kind, 'ClusterCheck');
    assert.equal(j.version, 1);
    assert.equal(j.complete, true);
    assert.deepEqual(j.traced, { pod: 6, node: 6, service: 7 });
    assert.deepEqual(j.failed, { pod: 1, node: 0, service: 4 });
    assert.equal(j.groups.length, 1);
    assert.equal(j.groups[0]!.cause.type, 'diagnosis');
    assert.deepEqual([j.groups[0]!.cause.diagnosis.kind, j.groups[0]!.cause.diagnosis.host], ['missing-vtep-fdb', 'k8s-node1']);
    assert.equal(j.groups[0]!.failures.length, 5);
    assert.deepEqual(j.tables.map((t) => t.kind), ['missing-vtep-fdb']);
  });

  test('the clean demo: all delivered, nothing in the tables; exit 0', () => {
    const r = check(demoPath);
    assert.equal(r.status, EXIT_OK, r.stderr);
    assert.match(r.stdout, /traced 6 pod-to-pod pairs, 6 node-to-node pairs, 7 Service ports: all delivered/);
    assert.match(r.stdout, /What the tables show \(no trace needed\): nothing wrong/);
    assert.equal(r.stderr, '', 'no progress line when stderr is not a terminal');
  });

  test('usage and bad input: no capture (2), an unknown --from-node (1)', () => {
    const none = check();
    assert.equal(none.status, EXIT_USAGE);
    assert.match(none.stderr, /check needs a capture file/);
    const bad = check(demoPath, '--from-node', 'nope');
    assert.equal(bad.status, EXIT_BAD_INPUT);
    assert.match(bad.stderr, /--from-node nope is not a node of this capture; nodes: k8s-node1, k8s-node2, k8s-node3/);
  });

  test('--context: the live cluster is read once (no probe run twice on a host), then checked the same', async () => {
    const fake = new FakeCluster(edit(demoCluster(), 'k8s-node1', 'fdb', (ls) => ls.filter((l) => !l.startsWith('42:20:2d:f5:4d:c4 dev flannel.1 '))));
    const f = fakeIo({});
    f.io.cluster = () => fake;
    const code = await run(['check', '--context', 'lab', '--json'], f.io);
    assert.equal(code, EXIT_DROPPED, f.stderr());
    const j = JSON.parse(f.stdout()) as { source: string; groups: { cause: { diagnosis: { kind: string; host: string } }; failures: unknown[] }[] };
    assert.equal(j.source, 'context lab');
    assert.deepEqual(j.groups.map((g) => [g.cause.diagnosis.kind, g.cause.diagnosis.host]), [['missing-vtep-fdb', 'k8s-node1']]);
    const runs = fake.execLog.map((e) => `${e.pod} ${e.argv.join(' ')}`);
    assert.ok(runs.length > 0);
    assert.equal(new Set(runs).size, runs.length, 'every probe command ran once per host');
    // Every node was read (its probes ran in some pod on it).
    assert.match(f.stderr(), /netpath: read \d+ hosts with \d+ exec calls/);
  });
});
