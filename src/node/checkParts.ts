// The whole-cluster check of a capture file in several worker threads at once: each worker opens the
// file, builds its own network and runs one part of the check (clusterCheck.ts's `part` option: the
// pairs of every n-th source node), and the parts are merged (mergeClusterChecks) into the report one
// run would give. On a 500-node capture a run is minutes of CPU that one thread would spend alone on
// a machine with more; each worker reads every host's tables again (a pair's destination can be any
// node), so n workers cost n times the memory of one.
//
// Node-specific (worker_threads); the engine stays pure. A worker is this module itself, started with
// `workerData[PART_JOB]`: in the bundled CLI that is dist/cli.js, under tsx this file.
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { buildNetwork, startClusterCheck, type ClusterCheckOptions, type ClusterCheckReport } from '../engine';
import { openCaptureFile } from './captureFile';

/**
 * A worker's code: this module. Evaluated rather than started by path, because a path must end in
 * .js: run from source (tests, benchmarks under tsx) this file is .ts, and tsx's require hook is set
 * up in the worker first.
 */
const WORKER_SOURCE = `${__filename.endsWith('.ts') ? "require('tsx/cjs');\n" : ''}require(${JSON.stringify(__filename)});`;

/** The key of workerData that makes a worker of this module run one part. */
const PART_JOB = 'netpathCheckPart';

export interface PartJob {
  file: string;
  opts: ClusterCheckOptions;
  part: { index: number; of: number };
  /** Units per step, between two looks at the worker's messages (a stop) and two progress reports. */
  step: number;
}

type FromPart = { type: 'progress'; done: number; total: number } | { type: 'report'; report: ClusterCheckReport } | { type: 'error'; message: string };

/**
 * How many parts a check of `nodes` nodes is worth: one per CPU (at most 4: each holds every host's
 * tables), and one below 100 nodes, where starting workers and reading the capture again cost more
 * than the traces they share.
 */
export function defaultCheckJobs(nodes: number): number {
  return nodes < 100 ? 1 : Math.max(1, Math.min(4, availableParallelism()));
}

/**
 * Runs the check of `file` in `jobs` worker threads; resolves with every part's report (merge them
 * with mergeClusterChecks). `onProgress` gets the parts' units summed. When `signal` aborts, each
 * worker stops after its current step and gives what it found so far (reports marked incomplete).
 * A worker that fails (the file changed underneath, out of memory) rejects with its reason; the
 * others are stopped.
 */
export function runCheckParts(o: { file: string; opts: ClusterCheckOptions; jobs: number; step: number; signal?: AbortSignal; onProgress?: (done: number, total: number) => void }): Promise<ClusterCheckReport[]> {
  return new Promise((resolve, reject) => {
    const reports: (ClusterCheckReport | undefined)[] = new Array(o.jobs).fill(undefined);
    const progress = Array.from({ length: o.jobs }, () => ({ done: 0, total: 0 }));
    let failed = false;
    const workers = Array.from({ length: o.jobs }, (_, index) => {
      const job: PartJob = { file: o.file, opts: o.opts, part: { index, of: o.jobs }, step: o.step };
      return new Worker(WORKER_SOURCE, { eval: true, workerData: { [PART_JOB]: job } });
    });
    const stop = () => {
      for (const w of workers) w.postMessage('stop');
    };
    const fail = (why: string) => {
      if (failed) return;
      failed = true;
      o.signal?.removeEventListener('abort', stop);
      for (const w of workers) void w.terminate();
      reject(new Error(why));
    };
    o.signal?.addEventListener('abort', stop, { once: true });
    if (o.signal?.aborted) stop();
    workers.forEach((w, i) => {
      w.on('message', (m: FromPart) => {
        if (m.type === 'progress') {
          progress[i] = { done: m.done, total: m.total };
          o.onProgress?.(
            progress.reduce((n, p) => n + p.done, 0),
            progress.reduce((n, p) => n + p.total, 0),
          );
        } else if (m.type === 'error') fail(`part ${i + 1} of ${o.jobs} of the check: ${m.message}`);
        else {
          reports[i] = m.report;
          if (reports.every((r) => r !== undefined)) {
            o.signal?.removeEventListener('abort', stop);
            for (const x of workers) void x.terminate();
            resolve(reports as ClusterCheckReport[]);
          }
        }
      });
      w.on('error', (e) => fail(`part ${i + 1} of ${o.jobs} of the check stopped: ${e.message}`));
      w.on('exit', (code) => {
        if (reports[i] === undefined) fail(`part ${i + 1} of ${o.jobs} of the check ended (exit ${code}) before its report`);
      });
    });
  });
}

/** In a worker: opens the capture, runs its part step by step, reports progress, and its report at the end or on `stop`. */
async function runPart(job: PartJob, post: (m: FromPart) => void): Promise<void> {
  let stopped = false;
  parentPort?.on('message', (m) => {
    if (m === 'stop') stopped = true;
  });
  const { loaded } = await openCaptureFile(job.file);
  if (!loaded.ok) throw new Error(`${job.file} is not a valid netpath capture: ${loaded.errors.slice(0, 3).map((e) => `${e.path}: ${e.message}`).join('; ')}`);
  const run = startClusterCheck(buildNetwork(loaded.capture), { ...job.opts, part: job.part });
  for (;;) {
    const finished = run.step(job.step);
    post({ type: 'progress', done: run.done, total: run.total });
    if (finished) break;
    // Messages (a stop) come in between steps.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (stopped) break;
  }
  post({ type: 'report', report: run.report() });
}

if (!isMainThread && parentPort && (workerData as Record<string, unknown> | null)?.[PART_JOB]) {
  const port = parentPort;
  const post = (m: FromPart) => port.postMessage(m);
  runPart((workerData as Record<string, PartJob>)[PART_JOB]!, post).catch((e: unknown) => post({ type: 'error', message: e instanceof Error ? e.message : String(e) }));
}
