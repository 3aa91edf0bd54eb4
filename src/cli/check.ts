// `netpath check`: the whole-cluster check (src/engine/clusterCheck.ts) of a capture, or of a live
// cluster read once (every node and pod, one read per host), printed as failures grouped by cause and
// then what the tables show without a trace. Parsing and printing only. The check is stepped: between
// steps the event loop runs, so Ctrl+C stops it (what was found so far is printed, marked incomplete)
// and, on a terminal, stderr shows how far it is.
import type { Command } from 'commander';
import { CommanderError } from 'commander';
import type { Capture } from '../capture/document';
import { printable } from '../capture/text';
import { buildNetwork, mergeClusterChecks, startClusterCheck, type CauseGroup, type CheckFailure, type ClusterCheckOptions, type ClusterCheckReport, type Diagnosis } from '../engine';
import { EXIT_DROPPED, EXIT_INSUFFICIENT_DATA, EXIT_OK, EXIT_USAGE } from './exit';
import { ansi, plain, useColor, type Style, type Terminal } from './style';

export interface CheckOptions {
  kubeconfig?: string;
  context?: string;
  json?: boolean;
  fromNode?: string[];
  services?: boolean;
  nodePairs?: boolean;
  color?: boolean;
  pairs: string;
  jobs?: string;
}

/** What the command needs from its shell (main.ts). */
export interface CheckShell {
  out(text: string): void;
  err(text: string): void;
  /** A capture file (or `-`), validated; its probe text read as the check needs it. Throws the shell's BadInput. */
  loadCapture(path: string): Promise<Capture>;
  /** A live cluster read whole: every node's and pod's tables, each host read once. */
  liveCapture(opts: CheckOptions): Promise<Capture>;
  badInput(message: string): Error;
  /** Aborted on Ctrl+C: the check stops between steps and prints what it found so far. */
  signal?: AbortSignal;
  env?: Readonly<Record<string, string | undefined>>;
  stdout?: Terminal;
  /** A terminal on stderr gets a progress line. */
  stderr?: Terminal;
  /**
   * Running the check of a capture file in worker threads (node/checkParts.ts), each one part of it
   * (clusterCheck.ts's `part`); absent where there are none (the extension, tests' fake shells).
   */
  parts?: {
    /** How many parts a capture of `nodes` nodes is worth when --jobs does not say. */
    defaultJobs(nodes: number): number;
    run(file: string, opts: ClusterCheckOptions, jobs: number, onProgress: (done: number, total: number) => void, signal?: AbortSignal): Promise<ClusterCheckReport[]>;
  };
}

export const CHECK_EXIT_HELP = `Exit status:
  0    every pair traced is delivered and the tables show nothing wrong
  1    bad input: a file, capture or cluster that cannot be used (stderr says what and where)
  2    usage: a missing or malformed option
  3    some pair is not delivered, or the tables show something wrong
  4    nothing fails, but some pairs could not be decided (the capture lacks tables: insufficient-data)
  130  interrupted with Ctrl+C: what was found so far is printed, marked incomplete
  The same with --json.`;

/** Units of work per step: traces (or one node's table checks) between two looks at the event loop. */
const STEP = 500;
/** The same in a worker (between two looks at its messages, a stop, and two progress reports). */
export const CHECK_PART_STEP = STEP;

/** Each group lists this many pairs; --pairs all lists every one. */
const DEFAULT_PAIRS = 5;

/** The `check` command, on a Command main.ts made (with the cluster options trace has). */
export function checkCommand(cmd: Command, shell: CheckShell, status: { code: number }): Command {
  return cmd
    .description('Check the whole cluster: trace a pod on every node to a pod on every other node, every node to every other node, a pod to every Service endpoint; group the failures by cause; list what the tables show')
    .argument('[capture]', 'capture JSON file, or - for standard input (or a live cluster with --context/--kubeconfig)')
    .option('--json', 'print the findings as JSON (ARCHITECTURE.md, "netpath check --json")')
    .option('--from-node <name>', 'trace only from this node (and its pod); repeat for more; every node is still a destination', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--no-services', 'skip the Service traces')
    .option('--no-node-pairs', 'skip the node-to-node traces')
    .option('--pairs <n>', 'pairs listed per cause in the text output (a number, or all)', String(DEFAULT_PAIRS))
    .option('--jobs <n>', 'worker threads for a capture file, each tracing from its share of the nodes (default: one per CPU, up to 4, from 100 nodes; 1: no workers)')
    .option('--color', 'colour the output even when stdout is not a terminal')
    .option('--no-color', 'never colour the output')
    .addHelpText(
      'after',
      `\nThe pod that stands for a node is the first, by namespace/name, of its pods that are not hostNetwork and have an IP (pods whose tables the capture holds first).\nWith --context or --kubeconfig the check reads the live cluster once (every node and pod), then traces.\n\n${CHECK_EXIT_HELP}\n\nExamples:\n  netpath check cluster.json\n  netpath check cluster.json --json > findings.json\n  netpath check --context prod --from-node node-7`,
    )
    .exitOverride()
    .action(async (file: string | undefined, opts: CheckOptions) => {
      const live = opts.context !== undefined || opts.kubeconfig !== undefined;
      if (live && file !== undefined) throw new CommanderError(EXIT_USAGE, 'netpath.usage', 'give either a capture file or a cluster (--context/--kubeconfig), not both');
      if (!live && file === undefined) throw new CommanderError(EXIT_USAGE, 'netpath.usage', 'check needs a capture file (or a cluster: --context/--kubeconfig)');
      if (!/^(\d+|all)$/.test(opts.pairs)) throw new CommanderError(EXIT_USAGE, 'netpath.usage', `--pairs must be a number or all, got "${printable(opts.pairs)}"`);
      if (opts.jobs !== undefined && !/^[1-9]\d{0,2}$/.test(opts.jobs)) throw new CommanderError(EXIT_USAGE, 'netpath.usage', `--jobs must be a whole number from 1, got "${printable(opts.jobs)}"`);
      let capture: Capture;
      if (live) capture = await shell.liveCapture(opts);
      else capture = await shell.loadCapture(file!);
      const net = buildNetwork(capture);
      const nodes = new Set(capture.hosts.filter((h) => h.role === 'node').map((h) => h.name));
      const fromNodes = opts.fromNode?.length ? opts.fromNode : undefined;
      for (const n of fromNodes ?? []) {
        if (!nodes.has(n)) throw shell.badInput(`--from-node ${printable(n)} is not a node of this capture; nodes: ${[...nodes].slice(0, 12).join(', ')}${nodes.size > 12 ? `, ... (${nodes.size} in all)` : ''}`);
      }
      const checkOpts: ClusterCheckOptions = { ...(fromNodes ? { fromNodes } : {}), services: opts.services !== false, nodes: opts.nodePairs !== false };
      const progress = shell.stderr?.isTTY === true;
      const show = (done: number, total: number) => {
        if (progress) shell.err(`\rnetpath check: ${done.toLocaleString('en')}/${total.toLocaleString('en')} (${Math.floor((100 * done) / Math.max(total, 1))}%)`);
      };
      // A capture file can be checked in worker threads (a live cluster's capture is in memory only).
      const jobs = live || file === '-' || !shell.parts ? 1 : opts.jobs !== undefined ? Number(opts.jobs) : shell.parts.defaultJobs(nodes.size);
      let report: ClusterCheckReport;
      if (jobs > 1) {
        report = mergeClusterChecks(net, await shell.parts!.run(file!, checkOpts, jobs, show, shell.signal));
      } else {
        const run = startClusterCheck(net, checkOpts);
        for (;;) {
          if (shell.signal?.aborted) break;
          const finished = run.step(STEP);
          show(run.done, run.total);
          if (finished) break;
          // Let Ctrl+C (and the progress line) through between steps.
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        report = run.report();
      }
      if (progress) shell.err('\r\x1b[K');
      if (opts.json) shell.out(JSON.stringify(checkJson(report, live ? `context ${opts.context ?? '(current)'}` : file!), null, 2) + '\n');
      else {
        const style = useColor({ flag: opts.color, env: shell.env ?? {}, stdout: shell.stdout }) ? ansi : plain;
        shell.out(checkText(report, { capture: live ? undefined : file!, pairs: opts.pairs === 'all' ? Infinity : Number(opts.pairs) }, style));
      }
      status.code = checkExitCode(report);
    });
}

/** The exit code of a check (CHECK_EXIT_HELP). */
export function checkExitCode(r: ClusterCheckReport): number {
  const failures = r.groups.flatMap((g) => g.failures);
  if (failures.some((f) => f.verdict !== 'insufficient-data') || r.tables.length) return EXIT_DROPPED;
  if (failures.length || r.errors.length) return EXIT_INSUFFICIENT_DATA;
  return EXIT_OK;
}

/** `--json`: the report as the engine gives it, under a kind and version (ARCHITECTURE.md documents it). */
export function checkJson(r: ClusterCheckReport, source: string): { kind: 'ClusterCheck'; version: 1; source: string } & ClusterCheckReport {
  return { kind: 'ClusterCheck', version: 1, source, ...r };
}

const count = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en')} ${n === 1 ? one : many}`;

function pairText(f: CheckFailure): string {
  const to = f.kind === 'pod' ? `${f.to} (${f.toIp})` : f.kind === 'node' ? `${f.toNode} (${f.to})` : `${f.to}${f.endpoint ? ` endpoint ${f.endpoint}${f.toNode ? ` on ${f.toNode}` : ''}` : ''}`;
  return `${f.from} -> ${to}: ${f.verdict}${f.dropAt ? ` at ${f.dropAt.host}${f.dropAt.dev ? ` ${f.dropAt.dev}` : ''}` : ''}`;
}

/** What all the pairs of a group share, said once: "every pair to k8s-node2", "from k8s-node1". */
function shape(g: CauseGroup): string {
  const kinds = new Map<string, number>();
  for (const f of g.failures) kinds.set(f.kind, (kinds.get(f.kind) ?? 0) + 1);
  const words: Record<string, string> = { pod: 'pod-to-pod', node: 'node-to-node', service: 'Service' };
  const parts = [...kinds].map(([k, n]) => `${n.toLocaleString('en')} ${words[k]}`);
  const from = new Set(g.failures.map((f) => f.fromNode));
  const to = new Set(g.failures.map((f) => f.toNode ?? ''));
  const common = [from.size === 1 && g.failures.length > 1 ? `all from ${[...from][0]}` : '', to.size === 1 && g.failures.length > 1 && [...to][0] ? `all to ${[...to][0]}` : ''].filter(Boolean);
  return `fails ${count(g.failures.length, 'pair')} (${parts.join(', ')}${common.length ? `; ${common.join(', ')}` : ''})`;
}

function causeLines(d: Pick<Diagnosis, 'host' | 'probe' | 'kind' | 'text' | 'owner' | 'fix' | 'evidence' | 'searched'>, s: Style, indent: string): string[] {
  const out = [`${s.host(d.host)}${d.probe ? ` ${d.probe}` : ''} ${s.kind(`(${d.kind})`)}: ${printable(d.text)}`];
  if (d.owner) out.push(`${indent}owner: ${printable(d.owner)}`);
  if (d.fix) out.push(`${indent}fix: ${printable(d.fix)}`);
  for (const e of (d.evidence ?? []).slice(0, 3)) out.push(`${indent}${s.quiet(`${e.host} ${e.probe} line ${e.line}:`)} ${s.evidence(printable(e.raw))}`);
  if (!d.evidence?.length && d.searched?.length) out.push(`${indent}${s.quiet(`searched ${d.searched[0]!.host} ${d.searched[0]!.probe}, ${count(d.searched.length, 'line')}`)}`);
  return out;
}

function groupHead(g: CauseGroup, s: Style, indent: string): string[] {
  const c = g.cause;
  if (c.type === 'diagnosis') return causeLines(c.diagnosis, s, indent);
  if (c.type === 'service-finding') return causeLines({ ...c.finding, kind: c.finding.kind as Diagnosis['kind'] }, s, indent);
  const at = c.dropAt ? `${c.dropAt.host}${c.dropAt.dev ? ` ${c.dropAt.dev}` : ''}` : 'the end of the path';
  return [`${s.drop(c.verdict)} at ${s.host(at)}: netpath names no table entry as the cause; trace a pair below to read each step`];
}

export function checkText(r: ClusterCheckReport, o: { capture: string | undefined; pairs: number }, s: Style = plain): string {
  const lines: string[] = [];
  const traced = r.traced.pod + r.traced.node + r.traced.service;
  const failed = r.failed.pod + r.failed.node + r.failed.service;
  lines.push(`netpath check${o.capture !== undefined ? ` ${printable(o.capture)}` : ''}${r.complete ? '' : s.drop(' (INCOMPLETE: stopped before the end; the counts say how far it got)')}`);
  lines.push(`  ${count(r.representatives.length, 'node')} with a pod to trace from and to: ${r.representatives.slice(0, 4).map((x) => `${x.node} ${x.pod}`).join(', ')}${r.representatives.length > 4 ? ', ...' : ''}`);
  for (const w of r.withoutPod.slice(0, 5)) lines.push(`  ${s.quiet(`${w.node}: no pod-to-pod trace (${w.why})`)}`);
  if (r.withoutPod.length > 5) lines.push(`  ${s.quiet(`... and ${r.withoutPod.length - 5} more nodes without a pod to trace`)}`);
  lines.push(`  traced ${count(r.traced.pod, 'pod-to-pod pair')}, ${count(r.traced.node, 'node-to-node pair')}, ${count(r.traced.service, 'Service port')}: ${failed === 0 ? s.ok('all delivered') : s.drop(`${count(failed, 'pair')} not delivered, ${count(r.groups.length, 'cause')}`)}`);
  lines.push('');
  const causeOf = new Set<string>();
  r.groups.forEach((g, i) => {
    const head = groupHead(g, s, '     ');
    lines.push(`${String(i + 1).padStart(2)}. ${head[0]}`, ...head.slice(1));
    lines.push(`     ${shape(g)}:`);
    for (const f of g.failures.slice(0, o.pairs)) lines.push(`       ${printable(pairText(f))}`);
    if (g.failures.length > o.pairs) lines.push(`       ${s.quiet(`... and ${(g.failures.length - o.pairs).toLocaleString('en')} more (--pairs all, or --json, lists every one)`)}`);
    const f = g.failures[0]!;
    lines.push(`     ${s.quiet(`trace one: netpath trace${o.capture !== undefined ? ` --capture ${o.capture}` : ''} --from ${f.from} --to ${f.kind === 'pod' ? f.toIp : f.to}`)}`);
    for (const d of g.alsoNamed.slice(0, 3)) lines.push(`     ${s.quiet(`also named: ${d.host} ${d.probe} (${d.kind}): ${printable(d.text)}`)}`);
    if (g.cause.type === 'diagnosis') causeOf.add(tableKey(g.cause.diagnosis));
    lines.push('');
  });
  for (const e of r.errors.slice(0, 5)) lines.push(s.drop(`not traced: ${e.pair.from} -> ${e.pair.to}: ${printable(e.error)}`));
  if (r.errors.length > 5) lines.push(s.drop(`... and ${r.errors.length - 5} more not traced (--json lists every one)`));
  if (r.errors.length) lines.push('');
  lines.push(r.tables.length ? `What the tables show (no trace needed): ${count(r.tables.length, 'finding')}` : `What the tables show (no trace needed): ${s.ok('nothing wrong')}`);
  for (const d of r.tables) {
    const head = causeLines(d, s, '     ');
    lines.push(`   - ${head[0]}${causeOf.has(tableKey(d)) ? s.quiet(' (a cause above)') : ''}`, ...head.slice(1));
  }
  if (r.servicesSkipped.length) {
    lines.push('', `Services not traced: ${r.servicesSkipped.length}`);
    for (const x of r.servicesSkipped) lines.push(`   - ${x.service}: ${printable(x.why)}`);
  }
  if (traced === 0 && r.representatives.length < 2) lines.push('', s.quiet('nothing to trace: the capture has fewer than two nodes with a pod'));
  return lines.join('\n') + '\n';
}

const tableKey = (d: { kind: string; host: string; text: string }) => `${d.kind}|${d.host}|${d.text}`;
