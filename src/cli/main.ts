// The `netpath` command: argument parsing and printing around the pure layers, nothing else.
// Exit codes (src/cli/exit.ts): 0 ok, 1 the input was bad (message on stderr), 2 usage; `trace` also
// 3 the packet is dropped, 4 the capture lacks the data to decide (insufficient-data), so that it can
// gate a script as ping does; 130 a live trace interrupted by Ctrl+C.
import { Command, CommanderError, Option } from 'commander';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { parseCapture, serializeCapture, type LoadResult } from '../capture/document';
import { CaptureSourceError } from '../capture/lazy';
import { summarizeCapture } from '../capture/summary';
import { buildNetwork, simulate, type TraceRequest } from '../engine';
import { KubeError, type ClusterApi } from '../kube/api';
import { ClusterCollector, type HostReport, type NodeAccess } from '../kube/collector';
import { traceShort, traceText } from './traceText';
import { traceMarkdown } from '../engine/markdown';
import { policyCommand } from './policy';
import { checkCommand, CHECK_PART_STEP, type CheckShell } from './check';
import { EXIT_BAD_INPUT, EXIT_INSUFFICIENT_DATA, EXIT_DROPPED, EXIT_OK, EXIT_USAGE, TRACE_EXIT_HELP, traceExitCode } from './exit';
import { ansi, plain, useColor, type Terminal } from './style';
import { PROBES, isProbeName, parseProbe, type ProbeName } from '../parsers';
import { printable, recordsTable, summaryText } from '../capture/text';
import { openCaptureFile } from '../node/captureFile';
import { defaultCheckJobs, runCheckParts } from '../node/checkParts';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Reads a file, or standard input for `-`. */
  read(path: string): string;
  /**
   * Opens a capture file (plain or gzip-compressed JSON) without reading it into one string: its
   * probe text is read when a trace needs it (node/captureFile.ts). Without it, `read` is used.
   */
  openCapture?(path: string): Promise<{ loaded: LoadResult }>;
  /** The check of a capture file in worker threads (node/checkParts.ts); absent: the check runs here. */
  checkParts?: CheckShell['parts'];
  /** Path of the bundled demo capture, used when `trace` is given no `--capture`. */
  demoCapture: string;
  /** Writes a file atomically (a temporary file, then a rename): a failed write never leaves half a file. */
  write(path: string, text: string): void;
  /** Connects to a cluster (the real one uses client-node; tests pass a fake). */
  cluster(opts: { kubeconfig?: string | undefined; context?: string | undefined }): ClusterApi;
  /** Aborted on Ctrl+C, so collection stops and debug pods are deleted. */
  signal?: AbortSignal;
  /** Where trace's colour decision looks (style.ts); without them, no colour unless --color. */
  env?: Readonly<Record<string, string | undefined>>;
  stdout?: Terminal;
  /** check: a terminal on stderr gets a progress line. */
  stderr?: Terminal;
}

interface ClusterFlags {
  kubeconfig?: string;
  context?: string;
  allowDebugPods?: boolean;
  nodeAccess?: string;
  debugImage?: string;
  execTimeout: string;
  concurrency: string;
}

function addClusterOptions(cmd: Command): Command {
  return cmd
    .option('--kubeconfig <file>', 'kubeconfig file (default: KUBECONFIG, then ~/.kube/config, as kubectl)')
    .option('--context <name>', 'kubeconfig context (default: the current context)')
    .option('--allow-debug-pods', 'where no host-network pod has ip, create a short-lived debug pod on the node (always deleted)')
    .addOption(new Option('--node-access <how>', 'how to read node tables').choices(['host-network-pods', 'debug-pods', 'never']))
    .option('--debug-image <image>', 'image for debug pods (needs iproute2)')
    .option('--exec-timeout <seconds>', 'timeout of each exec call', '10')
    .option('--concurrency <n>', 'exec calls in flight at once', '8');
}

function collectorFor(io: Io, f: ClusterFlags): ClusterCollector {
  for (const [name, v] of [['--exec-timeout', f.execTimeout], ['--concurrency', f.concurrency]] as const) {
    if (!/^\d+$/.test(v) || Number(v) === 0) throw new CommanderError(EXIT_USAGE, 'netpath.usage', `${name} must be a positive whole number, got "${printable(v)}"`);
  }
  let api: ClusterApi;
  try {
    api = io.cluster({ kubeconfig: f.kubeconfig, context: f.context });
  } catch (e) {
    throw e instanceof KubeError ? new BadInput(`${e.message}\n  ${e.hint}`) : e;
  }
  const nodeAccess = (f.nodeAccess as NodeAccess | undefined) ?? (f.allowDebugPods ? 'debug-pods' : 'host-network-pods');
  return new ClusterCollector(api, { nodeAccess, execTimeoutMs: Number(f.execTimeout) * 1000, concurrency: Number(f.concurrency), ...(f.debugImage ? { debugImage: f.debugImage } : {}) });
}

function reportLines(reports: HostReport[]): string {
  return reports
    .filter((r) => r.error || r.missing.length)
    .map((r) => (r.error ? `  ${printable(`${r.host}: ${r.error.message}`)}\n    ${printable(r.error.hint)}` : `  ${printable(`${r.host}: could not read ${r.missing.map((m) => `${m.probe} (${m.why})`).join(', ')}`)}`))
    .join('\n');
}

async function withCluster<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof KubeError) throw new BadInput(`${printable(e.message)}\n  ${e.hint}`);
    throw e;
  }
}

export { EXIT_BAD_INPUT, EXIT_DROPPED, EXIT_INSUFFICIENT_DATA, EXIT_OK, EXIT_USAGE } from './exit';

/** Input that could not be used: reported on stderr with exit code 1. */
export class BadInput extends Error {}

const PROBE_ALIASES: Record<string, ProbeName> = { routes: 'routes4', route: 'routes4', rules: 'rules4', rule: 'rules4', link: 'links', addr: 'addrs', neighbor: 'neigh', neighbour: 'neigh' };

function probeArg(name: string): ProbeName {
  const p = PROBE_ALIASES[name] ?? name;
  if (!isProbeName(p)) throw new CommanderError(EXIT_USAGE, 'netpath.unknownProbe', `unknown probe "${printable(name)}"; expected one of: ${PROBES.join(', ')} (aliases: ${Object.keys(PROBE_ALIASES).join(', ')})`);
  return p;
}

function readInput(io: Io, path: string): string {
  try {
    return io.read(path);
  } catch (e) {
    throw cannotRead(path, e);
  }
}

function cannotRead(path: string, e: unknown): BadInput {
  const code = (e as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : e instanceof Error ? e.message : String(e);
  return new BadInput(`cannot read ${path === '-' ? 'standard input' : printable(path)}: ${why}`);
}

/** A capture file (or standard input for `-`), validated; a bad one is a BadInput naming every problem. */
async function loadCapture(io: Io, path: string): Promise<Extract<LoadResult, { ok: true }>> {
  let loaded: LoadResult;
  if (io.openCapture && path !== '-') {
    try {
      loaded = (await io.openCapture(path)).loaded;
    } catch (e) {
      throw cannotRead(path, e);
    }
  } else loaded = parseCapture(readInput(io, path));
  if (!loaded.ok) throw new BadInput(`${path === '-' ? 'standard input' : printable(path)} is not a valid netpath capture:\n${loaded.errors.map((e) => `  ${printable(e.path)}: ${printable(e.message)}`).join('\n')}`);
  return loaded;
}

/** `status.code` is what the command's result asks the process to exit with (trace: its verdict). */
export function buildProgram(io: Io, status: { code: number } = { code: EXIT_OK }): Command {
  const program = new Command('netpath')
    .description('Why can (or cannot) pod A reach pod B? Reads Linux network tables and reproduces forwarding hop by hop.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .exitOverride();

  program
    .command('parse')
    .description('Parse one probe\'s raw output (ip route, ip -d link, bridge fdb, ...) into records with their source lines')
    .argument('<probe>', `one of: ${PROBES.join(', ')}`)
    .argument('[file]', 'file with the command output, or - for standard input', '-')
    .option('--text', 'print a table instead of JSON')
    .option('--strict', 'exit 1 when any line could not be parsed, or was read with something missing')
    .option('--table <name>', 'iptables: the table of `iptables -S` lines that no pasted `iptables -t TABLE -S` line names (else left unknown)')
    .addHelpText('after', '\nExamples:\n  ip -d link show | netpath parse links\n  netpath parse routes4 routes.txt --text\n  netpath parse fdb bridge-fdb.json\n  iptables -t nat -S | netpath parse iptables --table nat')
    .exitOverride()
    .action((probeName: string, file: string, opts: { text?: boolean; strict?: boolean; table?: string }) => {
      const probe = probeArg(probeName);
      if (opts.table !== undefined && probe !== 'iptables' && probe !== 'ip6tables') throw new CommanderError(EXIT_USAGE, 'netpath.usage', '--table is for the iptables and ip6tables probes only (the table of `iptables -S` output)');
      const text = readInput(io, file);
      const result = parseProbe(probe, text, opts.table !== undefined ? { table: opts.table } : {});
      io.out(opts.text ? recordsTable(result.records, result.issues) : JSON.stringify({ probe, format: result.format, records: result.records, issues: result.issues }, null, 2) + '\n');
      const dropped = result.issues.filter((i) => !i.kept).length;
      const kept = result.issues.length - dropped;
      const where = `see "issues"${opts.text ? ' above' : ''}`;
      if (dropped) io.err(`netpath: ${dropped} line(s) of ${probe} could not be parsed; ${where}\n`);
      if (kept) io.err(`netpath: ${kept} line(s) of ${probe} were read but lack something (e.g. a gateway printed as a name); ${where}\n`);
      if (result.records.length === 0 && text.trim() !== '' && result.issues.length > 0) throw new BadInput(`nothing in the input could be read as ${probe} output`);
      if (opts.strict && result.issues.length) throw new BadInput('--strict: the input has lines that could not be parsed or were read with something missing');
    });

  const capture = addClusterOptions(
    program
      .command('capture')
      .description('Capture a live cluster\'s data plane into a capture document (shared/spec/capture-v1.md), or work with capture files')
      .option('-o, --output <file>', 'where to write the capture (required to capture)'),
  )
    .addHelpText('after', '\nExamples:\n  netpath capture --context prod -o prod.json\n  netpath capture show prod.json')
    .exitOverride()
    .action(async (opts: ClusterFlags & { output?: string }) => {
      if (!opts.output) throw new CommanderError(EXIT_USAGE, 'netpath.usage', 'capture needs -o FILE (or use `netpath capture show FILE`)');
      const col = collectorFor(io, opts);
      const { capture: doc, reports, notes } = await withCluster(() => col.captureAll(io.signal));
      io.write(opts.output, serializeCapture(doc));
      const withTables = doc.hosts.filter((h) => h.probes && Object.keys(h.probes).length).length;
      io.err(`netpath: wrote ${printable(opts.output)}: ${doc.hosts.length} hosts, ${withTables} with tables, ${col.execCalls} exec calls\n`);
      const cni = summarizeCapture(doc).cni;
      if (cni) io.err(printable(`netpath: CNI ${cni.name}${cni.backend ? ` (${cni.backend})` : ''}, from ${cni.evidence.join('; ')}`) + '\n');
      const problems = reportLines(reports);
      if (problems) io.err(`netpath: some hosts could not be read fully:\n${problems}\n`);
      for (const n of notes) io.err(`netpath: ${printable(n.message)}\n`);
    });
  capture
    .command('show')
    .description('Summarise a capture: hosts, roles, probes present and parse issues per probe')
    .argument('<file>', 'capture JSON file, or - for standard input')
    .addOption(new Option('--json', 'print the summary as JSON'))
    .exitOverride()
    .action(async (file: string, opts: { json?: boolean }) => {
      const loaded = await loadCapture(io, file);
      const sum = summarizeCapture(loaded.capture, loaded.warnings);
      io.out(opts.json ? JSON.stringify(sum, null, 2) + '\n' : summaryText(sum));
    });
  addClusterOptions(program
    .command('trace'))
    .description('Trace one packet hop by hop through a capture: the route, neighbour, bridge and VXLAN decisions the kernels make, and where it is delivered or dropped')
    .option('--capture <file>', 'capture JSON file (default: the bundled demo capture)')
    .requiredOption('--from <src>', 'source: a host name, namespace/pod, or IP')
    .requiredOption('--to <dst>', 'destination: an IP, host name, namespace/pod, or svc/NAMESPACE/NAME[:PORT] (a Service port: its ClusterIP, port and protocol)')
    .option('--size <bytes>', 'IP packet length in bytes (DF set)', '64')
    .addOption(new Option('--proto <proto>', 'protocol').choices(['icmp', 'udp', 'tcp', 'sctp']).default('icmp'))
    .option('--port <n>', 'destination port (udp/tcp/sctp)')
    .option('--sport <n>', 'source port (udp/tcp/sctp; default: unset, as rules see an ephemeral port)')
    .option('--json', 'print the trace as JSON (shared/spec/capture-v1.md)')
    .addOption(new Option('--short', 'one line per hop (host, in -> out, what decided there), then the verdict').conflicts('json'))
    .addOption(new Option('--markdown', 'print the trace as Markdown (for a ticket): verdict, reason, flow, hops, steps and their evidence lines').conflicts(['json', 'short']))
    .option('--color', 'colour the output even when stdout is not a terminal')
    .option('--no-color', 'never colour the output')
    .option('--save <file>', 'live cluster: also save the tables that were read as a capture')
    .addHelpText('after', `\nWith --context or --kubeconfig the trace reads a live cluster, only the hosts on the path; otherwise a capture.\n\nColour: on a terminal, unless NO_COLOR is set (non-empty) or TERM=dumb; FORCE_COLOR=1 forces it,\nFORCE_COLOR=0 turns it off, --color/--no-color override both. --json is never coloured.\n\n${TRACE_EXIT_HELP}\n\nExamples:\n  netpath trace --from default/web-0 --to default/web-1\n  netpath trace --capture cluster.json --from 10.244.0.3 --to 10.244.1.3 --size 1450 --json\n  netpath trace --context prod --from shop/cart-0 --to shop/db-0\n  netpath trace --capture cluster.json --from default/web-0 --to default/web-1 --short || echo "not delivered: $?"`)
    .exitOverride()
    .action(async (opts: ClusterFlags & { capture?: string; from: string; to: string; size: string; proto: 'icmp' | 'udp' | 'tcp' | 'sctp'; port?: string; sport?: string; json?: boolean; short?: boolean; markdown?: boolean; color?: boolean; save?: string }) => {
      const size = Number(opts.size);
      if (!/^\d+$/.test(opts.size)) throw new CommanderError(EXIT_USAGE, 'netpath.usage', `--size must be a number of bytes, got "${printable(opts.size)}"`);
      for (const [flag, v] of [['--port', opts.port], ['--sport', opts.sport]] as const) {
        if (v !== undefined && !/^\d+$/.test(v)) throw new CommanderError(EXIT_USAGE, 'netpath.usage', `${flag} must be a number, got "${printable(v)}"`);
        if (v !== undefined && (Number(v) < 1 || Number(v) > 65535)) throw new CommanderError(EXIT_USAGE, 'netpath.usage', `${flag} must be a port between 1 and 65535, got ${v}`);
        if (v !== undefined && opts.proto === 'icmp' && !(flag === '--port' && opts.to.startsWith('svc/'))) throw new CommanderError(EXIT_USAGE, 'netpath.usage', `${flag} needs --proto tcp, udp or sctp (ICMP has no ports)`);
      }
      const req: TraceRequest = { from: opts.from, to: opts.to, size, proto: opts.proto, ...(opts.port !== undefined ? { port: Number(opts.port) } : {}), ...(opts.sport !== undefined ? { sport: Number(opts.sport) } : {}) };
      const live = opts.context !== undefined || opts.kubeconfig !== undefined;
      if (live && opts.capture) throw new CommanderError(EXIT_USAGE, 'netpath.usage', 'give either --capture or a cluster (--context/--kubeconfig), not both');
      let outcome;
      if (live) {
        const col = collectorFor(io, opts);
        const r = await withCluster(() => col.trace(req, io.signal));
        outcome = r.outcome;
        const problems = reportLines(r.reports);
        if (problems) io.err(`netpath: some hosts could not be read:\n${problems}\n`);
        io.err(`netpath: read ${r.reports.filter((x) => x.via).length} hosts with ${col.execCalls} exec calls\n`);
        for (const n of r.notes) io.err(`netpath: ${printable(n.message)}\n`);
        if (opts.save) io.write(opts.save, serializeCapture(r.capture));
      } else {
        outcome = simulate(buildNetwork((await loadCapture(io, opts.capture ?? io.demoCapture)).capture), req);
      }
      if (!outcome.ok) throw new BadInput(printable(outcome.error));
      if (opts.json) io.out(JSON.stringify(outcome.result, null, 2) + '\n');
      else if (opts.markdown) io.out(traceMarkdown(outcome.result));
      else {
        const style = useColor({ flag: opts.color, env: io.env ?? {}, stdout: io.stdout }) ? ansi : plain;
        io.out(opts.short ? traceShort(outcome.result, style) : traceText(outcome.result, style));
      }
      status.code = traceExitCode(outcome.result.verdict);
    });
  policyCommand(
    program,
    {
      out: (t) => io.out(t),
      err: (t) => io.err(t),
      readText: (path) => readInput(io, path),
      // API objects only: the skeleton lists them and enters no node.
      liveCapture: async (o) => {
        const s = await withCluster(() => collectorFor(io, { ...o, nodeAccess: 'never', execTimeout: '10', concurrency: '8' }).skeleton(io.signal));
        for (const n of s.notes) io.err(`netpath: ${printable(n.message)}\n`);
        return s.capture;
      },
      badInput: (m) => new BadInput(m),
      ...(io.env ? { env: io.env } : {}),
      ...(io.stdout ? { stdout: io.stdout } : {}),
    },
    status,
  );
  checkCommand(
    addClusterOptions(program.command('check')),
    {
      out: (t) => io.out(t),
      err: (t) => io.err(t),
      loadCapture: async (path) => (await loadCapture(io, path)).capture,
      // Every node and pod read once (captureAll), then checked like a capture.
      liveCapture: async (o) => {
        // commander hands the action every option addClusterOptions added, as ClusterFlags.
        const col = collectorFor(io, o as unknown as ClusterFlags);
        const r = await withCluster(() => col.captureAll(io.signal));
        const problems = reportLines(r.reports);
        if (problems) io.err(`netpath: some hosts could not be read:\n${problems}\n`);
        io.err(`netpath: read ${r.reports.filter((x) => x.via).length} hosts with ${col.execCalls} exec calls\n`);
        for (const n of r.notes) io.err(`netpath: ${printable(n.message)}\n`);
        return r.capture;
      },
      badInput: (m) => new BadInput(m),
      ...(io.signal ? { signal: io.signal } : {}),
      ...(io.env ? { env: io.env } : {}),
      ...(io.stdout ? { stdout: io.stdout } : {}),
      ...(io.stderr ? { stderr: io.stderr } : {}),
      ...(io.checkParts ? { parts: io.checkParts } : {}),
    },
    status,
  );
  return program;
}

/** Runs the CLI with explicit arguments (without node and script) and resolves to the exit code. */
export async function run(args: string[], io: Io): Promise<number> {
  const status = { code: EXIT_OK };
  const program = buildProgram(io, status);
  try {
    await program.parseAsync(args, { from: 'user' });
    return status.code;
  } catch (e) {
    if (e instanceof BadInput || e instanceof CaptureSourceError) {
      io.err(`netpath: ${e.message}\n`);
      return EXIT_BAD_INPUT;
    }
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return EXIT_OK;
      if (e.code.startsWith('netpath.')) io.err(`netpath: ${e.message}\n`);
      return EXIT_USAGE;
    }
    io.err(`netpath: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\nPlease report this with the command you ran.\n`);
    return EXIT_BAD_INPUT;
  }
}

/**
 * client-node, loaded only for live clusters: the built CLI takes it from its own bundle beside it
 * (dist/kube.js), so that a trace on a capture does not load it (7 MiB of JavaScript); run from
 * source, from src/kube. Both paths are computed, so esbuild leaves them out of cli.js.
 */
function clientNode(): typeof import('../kube/clientNode') {
  const bundled = join(__dirname, 'kube.js');
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a separate bundle, loaded at run time
  return require(existsSync(bundled) ? bundled : join(__dirname, '..', 'kube', 'clientNode')) as typeof import('../kube/clientNode');
}

function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (e) {
    throw new BadInput(`cannot write ${printable(path)}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

// Not in a worker thread: the check's workers load this bundle for its check code (node/checkParts.ts).
if (require.main === module && isMainThread) {
  // `netpath trace ... | head`: a closed pipe is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  const ac = new AbortController();
  let interrupted = false;
  process.on('SIGINT', () => {
    // First Ctrl+C: stop collecting and delete debug pods; a second one quits at once.
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write('netpath: stopping (deleting any debug pods); press Ctrl+C again to quit now\n');
    ac.abort();
  });
  const io: Io = {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    read: (p) => readFileSync(p === '-' ? 0 : p, 'utf8'),
    openCapture: openCaptureFile,
    checkParts: { defaultJobs: defaultCheckJobs, run: (file, opts, jobs, onProgress, signal) => runCheckParts({ file, opts, jobs, step: CHECK_PART_STEP, onProgress, ...(signal ? { signal } : {}) }) },
    demoCapture: join(__dirname, '..', 'examples', 'demo-flannel-vxlan.json'),
    write: writeAtomically,
    cluster: (o) => clientNode().ClientNodeCluster.fromKubeconfig(o),
    signal: ac.signal,
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
  };
  void run(process.argv.slice(2), io).then((code) => {
    // An interrupted live trace answered from what it had read so far: not an answer to act on.
    process.exitCode = interrupted && [EXIT_OK, EXIT_DROPPED, EXIT_INSUFFICIENT_DATA].includes(code) ? 130 : code;
  });
}
