// `npm run bench`: speed and memory targets, measured here and never in unit tests.
// Each case reports the median of several runs after warm-up, and memory; a missed target exits 1.
import { buildSync } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { parseFdb as ParseFdb } from '../src/parsers/fdb';
import type { parseRoutes as ParseRoutes } from '../src/parsers/routes';
import { benchDemoTraces, benchKernelFib, benchServiceTrace, benchSynthetic } from './engine';
import { fdbOutput, ipRouteOutput } from './generate';
import { benchExtension } from './extension';
import { benchLive } from './live';
import { benchBigCapture } from './big';
import { benchCheck } from './check';
import { benchNetfilter } from './netfilter';
import { benchPolicy } from './policy';
import { formatLine, Summary, type Report } from './report';

interface Case {
  name: string;
  targetMs: number;
  /** Returns what it made, so that its retained size can be measured. */
  run: () => { records: unknown[] };
  expect: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const mb = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

function measure(c: Case, runs = 25): { median: number; min: number; heapDelta: number; count: number } {
  for (let i = 0; i < 5; i++) c.run();
  const times: number[] = [];
  let count = 0;
  globalThis.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  let kept: unknown;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = c.run();
    times.push(performance.now() - t0);
    count = r.records.length;
    kept = r;
  }
  const heapDelta = process.memoryUsage().heapUsed - heapBefore;
  void kept;
  return { median: median(times), min: Math.min(...times), heapDelta, count };
}

/**
 * The parsers as `npm run build` bundles them (esbuild, no keepNames). Run through tsx, which keeps
 * names, every closure a parser makes per line is wrapped in a naming call the shipped code never runs.
 */
function bundledParsers(): { parseRoutes: typeof ParseRoutes; parseFdb: typeof ParseFdb } {
  const dir = mkdtempSync(join(tmpdir(), 'netpath-bench-parsers-'));
  try {
    const outfile = join(dir, 'parsers.js');
    const root = join(__dirname, '..');
    buildSync({ stdin: { contents: "export { parseRoutes } from './src/parsers/routes';\nexport { parseFdb } from './src/parsers/fdb';\n", resolveDir: root, loader: 'ts' }, outfile, bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'warning' });
    return createRequire(__filename)(outfile) as { parseRoutes: typeof ParseRoutes; parseFdb: typeof ParseFdb };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const { parseRoutes, parseFdb } = bundledParsers();
const routes = ipRouteOutput(20_000);
const fdb = fdbOutput(5_000);

const cases: Case[] = [
  { name: 'parse `ip route` with 20,000 routes (the parser as built)', targetMs: 50, expect: 20_000, run: () => parseRoutes(routes, 4) },
  { name: 'parse `bridge fdb` with 5,000 entries (the parser as built)', targetMs: 20, expect: 5_000, run: () => parseFdb(fdb) },
];

/** Heap kept alive by one result: parse once more with full collections before and after. */
function retainedBytes(c: Case): number {
  globalThis.gc?.();
  globalThis.gc?.();
  const h0 = process.memoryUsage().heapUsed;
  const keep = c.run();
  globalThis.gc?.();
  globalThis.gc?.();
  const bytes = process.memoryUsage().heapUsed - h0;
  if (keep.records.length !== c.expect) throw new Error('the result changed between runs');
  return bytes;
}

/** `npm run bench -- netfilter`: only the benchmarks whose name has one of these words (`parse` for the parser cases). */
const only = process.argv.slice(2).map((a) => a.toLowerCase());
const selected = (name: string) => only.length === 0 || only.some((w) => name.toLowerCase().includes(w));

let passed = 0;
let failed = 0;
const summary = new Summary();
// Every case, the parser cases below and each bench's: one line now, one row of the final table.
const report: Report = (status, text, measured) => {
  if (status === 'PASS') passed++;
  if (status === 'FAIL') failed++;
  summary.add(status, text, measured);
  console.log(`${status}  ${formatLine(text, measured)}`);
};
// Other work on the machine skews timings (the kernel comparison most): say how busy it was.
console.log(`node ${process.version}, ${process.arch}, ${availableParallelism()} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
for (const c of cases) {
  if (!selected(`parse ${c.name}`)) continue;
  const m = measure(c);
  const retained = retainedBytes(c);
  const ok = m.median < c.targetMs && m.count === c.expect;
  report(ok ? 'PASS' : 'FAIL', c.name, {
    figure: `median ${m.median.toFixed(2)} ms`,
    target: `< ${c.targetMs} ms`,
    detail:
      `min ${m.min.toFixed(2)} ms, ${m.count} records${m.count === c.expect ? '' : ` (expected ${c.expect})`}, ` +
      `result retains ${globalThis.gc ? mb(retained) : 'n/a (run with --expose-gc)'}, rss ${mb(process.memoryUsage().rss)}`,
  });
}

// The path engine: a trace on the demo capture, FIB lookups against the kernel's, a 500-node cluster;
// then live clusters: the first trace on a 3- and a 50-node lab behind the lab API server.
void (async () => {
  for (const bench of [benchExtension, benchDemoTraces, benchServiceTrace, benchKernelFib, benchSynthetic, benchBigCapture, benchCheck, benchNetfilter, benchPolicy, benchLive]) {
    if (!selected(bench.name)) continue;
    try {
      await bench(report);
    } catch (e) {
      report('FAIL', `${bench.name} threw: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
  }
  console.log(`\n${summary}\n`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
})();
