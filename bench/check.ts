// `netpath check` on the synthetic 500-node x 30-pod capture (bench/synthetic.ts): the whole check —
// a pod on every node to a pod on every other node, every node to every other node's address, every
// node's table checks — against its target of 60 s, stepped as the shells step it (1,000 units a call).
// The pod and node pairs are traced lean (simulate's `lean` option), as the check does. Then what
// `netpath check FILE` does on a capture of this size here: the same check in worker threads
// (node/checkParts.ts, one per CPU, each opening the file and reading every host's tables itself),
// timed from the workers' start to the merged report, and held equal to the one-thread report.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { parseCapture, serializeCapture } from '../src/capture/document';
import { build } from 'esbuild';
import { buildNetwork, startClusterCheck } from '../src/engine';
import { defaultCheckJobs } from '../src/node/checkParts';
import type { Report } from './engine';
import { syntheticCapture } from './synthetic';

const ROOT = join(__dirname, '..');
const NODES = 500;
const PODS = 30;
const TARGET_MS = 60_000;
/** Units per step() call, as the CLI and the extension do between yields. */
const STEP = 1_000;

const mib = (n: number) => `${(n / 1048576).toFixed(0)} MiB`;
const count = (n: number) => n.toLocaleString('en');
const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export async function benchCheck(report: Report): Promise<void> {
  const label = `netpath check, synthetic ${NODES} nodes x ${PODS} pods`;
  const t0 = performance.now();
  const capture = syntheticCapture({ nodes: NODES, podsPerNode: PODS }).capture;
  const json = JSON.stringify(capture);
  const loaded = parseCapture(json);
  if (!loaded.ok) return report('FAIL', `${label}: the generated capture does not validate (a generator bug): ${loaded.errors.slice(0, 3).map((e) => `${e.path}: ${e.message}`).join('; ')}`);
  const net = buildNetwork(loaded.capture);
  const loadMs = performance.now() - t0;

  const t1 = performance.now();
  const cpu0 = process.cpuUsage();
  const run = startClusterCheck(net);
  let steps = 0;
  let slowest = 0;
  for (;;) {
    const s0 = performance.now();
    const finished = run.step(STEP);
    slowest = Math.max(slowest, performance.now() - s0);
    steps++;
    if (finished) break;
  }
  const checkMs = performance.now() - t1;
  // The machine is shared: the CPU time the check itself used says how much of the wall time was waiting.
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const r = run.report();
  const traces = r.traced.pod + r.traced.node + r.traced.service;
  const failures = r.failed.pod + r.failed.node + r.failed.service;
  report(
    'INFO',
    `${label}: whole check in one thread (as the extension runs it) in ${sec(checkMs)} (${sec(cpuMs)} of CPU; loading the capture before it ${sec(loadMs)}, not counted): ` +
      `${count(r.traced.pod)} pod-to-pod + ${count(r.traced.node)} node-to-node + ${count(r.traced.service)} Service traces, ${count(Math.round(traces / (checkMs / 1000)))} traces/s, ` +
      `${r.tables.length} table findings; ${steps} steps of ${count(STEP)} units, the longest ${slowest.toFixed(0)} ms (what a shell waits between progress updates); ` +
      `heap ${mib(process.memoryUsage().heapUsed)} of ${mib(getHeapStatistics().heap_size_limit)}`,
  );
  // The synthetic cluster is healthy: every trace delivered, no cause to group, nothing in the tables.
  report(
    failures === 0 && r.groups.length === 0 && r.errors.length === 0 && r.tables.length === 0 ? 'PASS' : 'FAIL',
    `${label}: ${r.groups.length} cause groups, ${failures} failed pairs, ${r.errors.length} traces refused, ${r.tables.length} table findings (a healthy cluster: 0 of each)` +
      (r.groups.length ? `; e.g. ${r.groups.slice(0, 3).map((g) => `${g.key} (${g.failures.length} pairs)`).join(' | ')}` : '') +
      (r.errors.length ? `; e.g. ${r.errors.slice(0, 2).map((e) => `${e.pair.from} -> ${e.pair.to}: ${e.error}`).join(' | ')}` : ''),
  );

  // What `netpath check FILE` does here, timed as a whole process: the CLI as `npm run build` makes
  // it (bundled; its workers load the same bundle), reading the file, checking in worker threads when
  // the machine has more than one CPU, printing --json.
  const jobs = defaultCheckJobs(NODES);
  const dir = mkdtempSync(join(tmpdir(), 'netpath-bench-check-'));
  try {
    const file = join(dir, 'synthetic.json');
    writeFileSync(file, serializeCapture(capture));
    await build({ entryPoints: [join(ROOT, 'src/cli/main.ts')], outfile: join(dir, 'cli.js'), bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'warning' });
    const t2 = performance.now();
    const cli = spawnSync(process.execPath, [join(dir, 'cli.js'), 'check', file, '--json'], { encoding: 'utf8', maxBuffer: 256 << 20, timeout: 600_000 });
    const cliMs = performance.now() - t2;
    if (cli.status !== 0) return report('FAIL', `${label}: \`netpath check FILE --json\` exited ${cli.status ?? cli.signal}: ${cli.stderr.slice(0, 500)}`);
    const { kind: _k, version: _v, source: _s, ...printed } = JSON.parse(cli.stdout) as Record<string, unknown>;
    const same = JSON.stringify(printed) === JSON.stringify(r);
    report(
      cliMs < TARGET_MS && same ? 'PASS' : 'FAIL',
      `${label}: \`netpath check FILE --json\` as a whole process in ${sec(cliMs)} (target < ${sec(TARGET_MS)}): reading the ${mib(Buffer.byteLength(json))} file, ${jobs > 1 ? `${jobs} worker threads (one per CPU), each reading every host's tables itself` : 'one thread (one CPU)'}, printing; ` +
        `${same ? 'the same report as the one-thread check above' : 'NOT the report the one-thread check above gives'}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
