// A big capture as a real cluster's is (`npm run bench`): 400 nodes x 30 pods, every host with the
// full probe text a collector records (bench/synthetic.ts `full`: the demo's sysctl, rules, routes6,
// arp, brctl... renumbered per host, and a kubernetes section), about 400 MiB of JSON, written to a
// file as `netpath capture` writes it. Measured as a user meets it:
// - the first trace from a cold process (`netpath trace --capture FILE`, the CLI as built): wall time
//   and peak RSS, against reading the file whole and JSON.parse'ing it (what netpath did before);
// - the same from the gzip-compressed file;
// - further traces in the same process, once the first has loaded the capture;
// - what a loaded capture keeps in the extension's process (RSS after loading and one trace, less before).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGzip, constants as zlibConstants } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { build } from 'esbuild';
import { serializeCapture } from '../src/capture/document';
import { median, type Report } from './engine';
import { prng } from './generate';
import { syntheticCapture, type SyntheticPod } from './synthetic';

const NODES = 400;
const PODS = 30;
const FIRST_TRACE_MS = 2_000;
const FIRST_TRACE_RSS = 700 * 1048576;
const FURTHER_MS = 1;
const EXTENSION_RSS = 300 * 1048576;
const COLD_RUNS = 3;
const ROOT = join(__dirname, '..');

const mib = (n: number) => `${(n / 1048576).toFixed(0)} MiB`;
const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const ms = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 1 ? n.toFixed(2) : n.toFixed(3));

// Loaded with --require into each measured process: its peak RSS, written when it exits.
const PRELOAD = `process.on('exit', () => require('fs').writeFileSync(process.env.NETPATH_BENCH_STATS, JSON.stringify({ maxRss: process.resourceUsage().maxRSS * 1024 })));\n`;

interface Run {
  ms: number;
  maxRss: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

function measureProcess(dir: string, args: string[], timeoutMs: number): Run {
  const stats = join(dir, `stats-${process.hrtime.bigint()}.json`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--require', join(dir, 'preload.js'), ...args], { env: { ...process.env, NETPATH_BENCH_STATS: stats }, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
  const took = performance.now() - t0;
  let maxRss = NaN;
  try {
    maxRss = (JSON.parse(readFileSync(stats, 'utf8')) as { maxRss: number }).maxRss;
  } catch {
    // Killed or crashed before exit: no figure.
  }
  return { ms: took, maxRss, code: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

export async function benchBigCapture(report: Report): Promise<void> {
  const label = `big capture, ${NODES} nodes x ${PODS} pods, full probe text`;
  const dir = mkdtempSync(join(tmpdir(), 'netpath-big-'));
  try {
    writeFileSync(join(dir, 'preload.js'), PRELOAD);
    // The CLI as `npm run build` makes it (dist/ left alone), with client-node beside it.
    await build({ entryPoints: [join(ROOT, 'src/cli/main.ts')], outfile: join(dir, 'cli.js'), bundle: true, platform: 'node', format: 'cjs', target: 'node20', sourcemap: true, logLevel: 'warning' });
    let t = performance.now();
    const cluster = syntheticCapture({ nodes: NODES, podsPerNode: PODS, full: true });
    const file = join(dir, 'big.json');
    writeFileSync(file, serializeCapture(cluster.capture));
    const bytes = statSync(file).size;
    const pods: SyntheticPod[] = cluster.pods;
    const nodeNames = cluster.nodeNames;
    const genMs = performance.now() - t;
    t = performance.now();
    const gz = join(dir, 'big.json.gz');
    await pipeline(Readable.from(chunksOf(readFileSync(file))), createGzip({ level: zlibConstants.Z_BEST_SPEED }), createWriteStream(gz));
    const gzMs = performance.now() - t;
    const from = pods.find((p) => p.node === 0)!;
    const to = pods.filter((p) => p.node === NODES - 1).at(-1)!;
    const traceArgs = (f: string) => [join(dir, 'cli.js'), 'trace', '--capture', f, '--from', from.ref, '--to', to.ref, '--json'];

    // The first trace from a cold process, a few times: the median wall time, the largest peak RSS.
    const runs: Run[] = [];
    for (let i = 0; i < COLD_RUNS; i++) runs.push(measureProcess(dir, traceArgs(file), 120_000));
    const bad = runs.find((r) => r.code !== 0);
    const verdict = bad ? undefined : (JSON.parse(runs[0]!.stdout) as { verdict: string; hops: { host: string }[] });
    const wall = median(runs.map((r) => r.ms));
    const rss = Math.max(...runs.map((r) => r.maxRss));
    // What netpath did before: the file read into one string and JSON.parse'd (then every host parsed).
    const whole = measureProcess(dir, ['-e', `JSON.parse(require('fs').readFileSync(${JSON.stringify(file)}, 'utf8'))`], 120_000);
    const wholeSays = whole.code === 0 ? `${sec(whole.ms)}, ${mib(whole.maxRss)}` : `failed (${whole.stderr.split('\n').find((l) => /heap|Error|invalid/i.test(l))?.trim() ?? `exit ${whole.code}`}) after ${sec(whole.ms)}`;
    report(
      !bad && verdict?.verdict === 'delivered' && wall < FIRST_TRACE_MS && rss < FIRST_TRACE_RSS ? 'PASS' : 'FAIL',
      `${label}: first trace from a cold process (\`netpath trace --capture\`, reading the file)`,
      {
        figure: `${sec(wall)} wall, ${mib(rss)} peak RSS`,
        target: `< ${sec(FIRST_TRACE_MS)}, < ${mib(FIRST_TRACE_RSS)}`,
        compared: { tool: 'reading the file whole and JSON.parse (the old way, before parsing any host)', figure: wholeSays, ...(whole.code === 0 ? { ratio: `${(whole.ms / wall).toFixed(1)}x the time` } : {}) },
        detail: bad
          ? `exit ${bad.code}: ${bad.stderr.slice(0, 300)}`
          : `capture ${mib(bytes)} (${(NODES * (PODS + 1)).toLocaleString('en')} hosts; generated in ${sec(genMs)}), median of ${COLD_RUNS} runs (${runs.map((r) => sec(r.ms)).join(', ')}); ${verdict?.verdict} via ${verdict?.hops.map((h) => h.host).join(' > ')}`,
      },
    );

    const gzRun = measureProcess(dir, traceArgs(gz), 120_000);
    report(gzRun.code === 0 ? 'INFO' : 'FAIL', `${label}: first trace from the gzip-compressed capture (\`.json.gz\`, gunzipped as it streams)`, {
      figure: `${sec(gzRun.ms)} wall, ${mib(gzRun.maxRss)} peak RSS`,
      detail: gzRun.code === 0 ? `${mib(statSync(gz).size)} compressed (level 1, ${sec(gzMs)}); its JSON is kept in memory (a gzip stream cannot be read from the middle)` : `exit ${gzRun.code}: ${gzRun.stderr.slice(0, 300)}`,
    });

    // Further traces, in-process: the loader and engine as the CLI and the extension use them.
    const child = measureProcess(dir, ['--import', 'tsx', '-e', furtherScript(file, from, to, pods, nodeNames)], 300_000);
    if (child.code !== 0) return report('FAIL', `${label}: the in-process measurement failed: ${child.stderr.slice(0, 400)}`);
    const m = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as { sameMs: number; samePairs: number; anyMs: number; anyPairs: number; anyFirstMs: number; delivered: number; rssBefore: number; rssLoaded: number; heapLoaded: number; built: number; of: number };
    report(m.sameMs < FURTHER_MS && m.delivered === m.samePairs + m.anyPairs ? 'PASS' : 'FAIL', `${label}: each further trace once the capture is loaded`, {
      figure: `${ms(m.sameMs)} ms median`,
      target: `< ${FURTHER_MS} ms`,
      detail: `${m.samePairs} traces between other pods of the first trace's two nodes; ${m.anyPairs} random pod pairs anywhere (each may parse two more nodes' tables): median ${ms(m.anyMs)} ms, the first of them ${ms(m.anyFirstMs)} ms; ${m.delivered}/${m.samePairs + m.anyPairs} delivered; ${m.built} of ${m.of} namespaces built after all of them`,
    });
    const kept = m.rssLoaded - m.rssBefore;
    report(kept < EXTENSION_RSS ? 'PASS' : 'FAIL', `${label}: what a loaded capture keeps in the extension's process (as DataSource opens a file, after one trace)`, {
      figure: `${mib(kept)} RSS`,
      target: `< ${mib(EXTENSION_RSS)}`,
      detail: `RSS ${mib(m.rssBefore)} before, ${mib(m.rssLoaded)} after; heap used ${mib(m.heapLoaded)}`,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function* chunksOf(b: Buffer): Generator<Buffer> {
  for (let i = 0; i < b.length; i += 4 << 20) yield b.subarray(i, i + (4 << 20));
}

/** The child that opens the capture as the extension does (digest and all), traces, and prints figures. */
function furtherScript(file: string, from: SyntheticPod, to: SyntheticPod, pods: SyntheticPod[], nodeNames: string[]): string {
  const rnd = prng(11);
  const any: [string, string][] = [];
  while (any.length < 50) {
    const a = pods[Math.floor(rnd() * pods.length)]!;
    const b = pods[Math.floor(rnd() * pods.length)]!;
    if (a.node !== b.node) any.push([a.ref, b.ref]);
  }
  const same: [string, string][] = [];
  const left = pods.filter((p) => p.node === from.node);
  const right = pods.filter((p) => p.node === to.node);
  for (const a of left) for (const b of right) same.push([a.ref, b.ref]);
  void nodeNames;
  return `
const { openCaptureFile } = require(${JSON.stringify(join(ROOT, 'src/node/captureFile.ts'))});
const { buildNetwork, simulate } = require(${JSON.stringify(join(ROOT, 'src/engine/index.ts'))});
const { builtHosts } = require(${JSON.stringify(join(ROOT, 'src/engine/network.ts'))});
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
(async () => {
  const rssBefore = process.memoryUsage().rss;
  const o = await openCaptureFile(${JSON.stringify(file)}, { digest: true });
  if (!o.loaded.ok) throw new Error(JSON.stringify(o.loaded.errors.slice(0, 3)));
  const net = buildNetwork(o.loaded.capture);
  let delivered = 0;
  const first = simulate(net, { from: ${JSON.stringify(from.ref)}, to: ${JSON.stringify(to.ref)} });
  if (!first.ok) throw new Error(first.error);
  const rssLoaded = process.memoryUsage().rss;
  const heapLoaded = process.memoryUsage().heapUsed;
  const time = (pairs) => pairs.map(([a, b]) => { const t0 = performance.now(); const r = simulate(net, { from: a, to: b }); const t = performance.now() - t0; if (r.ok && r.result.verdict === 'delivered') delivered++; return t; });
  const same = ${JSON.stringify(same)};
  const any = ${JSON.stringify(any)};
  const sameTimes = time(same);
  const anyTimes = time(any);
  const b = builtHosts(net);
  console.log(JSON.stringify({ sameMs: median(sameTimes), samePairs: same.length, anyMs: median(anyTimes), anyFirstMs: anyTimes[0], anyPairs: any.length, delivered, rssBefore, rssLoaded, heapLoaded, built: b.built, of: b.of }));
})().catch((e) => { console.error(e && e.stack || e); process.exit(1); });
`;
}
