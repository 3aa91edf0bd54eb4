// `netpath check` in worker threads (node/checkParts.ts): real workers, each running its part of the
// check on its own network built from the file, merged into exactly what one thread finds — through
// the CLI's own wiring, the built bundle (whose workers load the bundle itself), a stop part-way and a
// worker that cannot read the file.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { serializeCapture } from '../../../src/capture/document';
import { EXIT_DROPPED, EXIT_USAGE } from '../../../src/cli/exit';
import { run } from '../../../src/cli/main';
import { buildNetwork, mergeClusterChecks, runClusterCheck } from '../../../src/engine';
import { openCaptureFile } from '../../../src/node/captureFile';
import { defaultCheckJobs, runCheckParts } from '../../../src/node/checkParts';
import { demo, edit } from '../webview/cases';
import { fakeIo } from './fake-io';

const repo = join(__dirname, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'netpath-check-parts-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// Three causes at once, so that failures come from every node: node1's FDB entry for node2's VTEP,
// node3's route to node2's pods, web-1's veth down.
const threeFaults = edit(
  edit(
    edit(demo(), 'k8s-node1', 'fdb', (ls) => ls.filter((l) => !l.startsWith('42:20:2d:f5:4d:c4 dev flannel.1 '))),
    'k8s-node3',
    'routes4',
    (ls) => ls.filter((l) => !l.startsWith('10.244.1.0/24 ')),
  ),
  'k8s-node2',
  'links',
  (ls) => ls.map((l) => (l.startsWith('7: veth96603d4d@if2: ') ? l.replace('<BROADCAST,MULTICAST,UP,LOWER_UP>', '<BROADCAST,MULTICAST>').replace('state UP', 'state DOWN') : l)),
);
const file = join(dir, 'three-faults.json');
writeFileSync(file, serializeCapture(threeFaults));
const notCapture = join(dir, 'not-a-capture.json');
writeFileSync(notCapture, '{"hosts": 7}');

describe('netpath check in worker threads', () => {
  test('the parts, each in a worker of its own, merge into what one run finds', async () => {
    const whole = runClusterCheck(buildNetwork(threeFaults));
    assert.ok(whole.groups.length >= 3, `${whole.groups.length} causes`);
    const seen: [number, number][] = [];
    const parts = await runCheckParts({ file, opts: {}, jobs: 3, step: 10, onProgress: (d, t) => seen.push([d, t]) });
    assert.equal(parts.length, 3);
    // Every worker traced pairs of its own.
    assert.ok(parts.every((p) => p.complete && p.traced.pod + p.traced.node > 0), JSON.stringify(parts.map((p) => p.traced)));
    assert.deepEqual(mergeClusterChecks(buildNetwork(threeFaults), parts), whole);
    // Progress: the parts' units summed, growing to the whole.
    const last = seen[seen.length - 1]!;
    assert.equal(last[0], last[1]);
    assert.ok(seen.length > 3 && seen.every(([d, t], i) => d <= t && (i === 0 || d >= seen[i - 1]![0])), JSON.stringify(seen.slice(0, 5)));
  });

  test('stopped part-way: every worker gives what it found so far, marked incomplete', async () => {
    const ac = new AbortController();
    ac.abort();
    const parts = await runCheckParts({ file, opts: {}, jobs: 2, step: 1, signal: ac.signal });
    const merged = mergeClusterChecks(buildNetwork(threeFaults), parts);
    assert.equal(merged.complete, false);
    const whole = runClusterCheck(buildNetwork(threeFaults));
    assert.ok(merged.traced.pod + merged.traced.node < whole.traced.pod + whole.traced.node);
  });

  test('a worker that cannot use the file fails the check with its reason', async () => {
    await assert.rejects(runCheckParts({ file: notCapture, opts: {}, jobs: 2, step: 100 }), /^Error: part \d of 2 of the check: \S+not-a-capture\.json is not a valid netpath capture: /);
    await assert.rejects(runCheckParts({ file: join(dir, 'gone.json'), opts: {}, jobs: 2, step: 100 }), /part \d of 2 of the check: ENOENT/);
  });

  test('by default one part below 100 nodes, one per CPU (at most 4) above', () => {
    assert.equal(defaultCheckJobs(3), 1);
    assert.equal(defaultCheckJobs(99), 1);
    assert.ok(defaultCheckJobs(500) >= 1 && defaultCheckJobs(500) <= 4);
  });

  test('the CLI hands --jobs to the workers and prints what one thread prints', async () => {
    const calls: number[] = [];
    const runIt = async (jobs: string, extra: string[]) => {
      const f = fakeIo();
      f.io.openCapture = openCaptureFile;
      f.io.checkParts = {
        defaultJobs: defaultCheckJobs,
        run: async (path, opts, n, onProgress, signal) => {
          calls.push(n);
          return runCheckParts({ file: path, opts, jobs: n, step: 50, onProgress, ...(signal ? { signal } : {}) });
        },
      };
      const code = await run(['check', file, '--jobs', jobs, ...extra], f.io);
      return { code, out: f.stdout() };
    };
    for (const extra of [['--json'], ['--pairs', 'all']]) {
      const one = await runIt('1', extra);
      const two = await runIt('2', extra);
      assert.equal(one.code, EXIT_DROPPED);
      assert.equal(two.code, one.code);
      assert.equal(two.out, one.out);
    }
    assert.deepEqual(calls, [2, 2], 'only --jobs 2 went to the workers');
    for (const bad of ['0', 'x', '1.5', '-2']) {
      const f = fakeIo();
      f.io.openCapture = openCaptureFile;
      assert.equal(await run(['check', file, '--jobs', bad], f.io), EXIT_USAGE, bad);
      assert.match(f.stderr(), /--jobs must be a whole number from 1/);
    }
  });

  test('the built CLI: its workers load the bundle, and --jobs 2 prints what --jobs 1 prints', () => {
    const cli = (...args: string[]) => spawnSync(process.execPath, [join(repo, 'dist/cli.js'), 'check', file, ...args], { cwd: repo, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    const one = cli('--jobs', '1', '--json');
    const two = cli('--jobs', '2', '--json');
    assert.equal(one.status, EXIT_DROPPED, one.stderr);
    assert.equal(two.status, EXIT_DROPPED, two.stderr);
    assert.equal(two.stdout, one.stdout);
    const bad = spawnSync(process.execPath, [join(repo, 'dist/cli.js'), 'check', notCapture, '--jobs', '2'], { cwd: repo, encoding: 'utf8' });
    assert.notEqual(bad.status, 0);
  });
});
