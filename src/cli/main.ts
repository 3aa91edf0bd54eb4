// The `netpath` command: argument parsing and printing around the pure layers, nothing else.
// Exit codes: 0 ok, 1 the input was bad (message on stderr), 2 usage.
import { Command, CommanderError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCapture } from '../capture/document';
import { summarizeCapture } from '../capture/summary';
import { buildNetwork, simulate } from '../engine';
import { traceText } from './traceText';
import { PROBES, isProbeName, parseProbe, type ProbeName } from '../parsers';
import { printable, recordsTable, summaryText } from '../capture/text';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Reads a file, or standard input for `-`. */
  read(path: string): string;
  /** Path of the bundled demo capture, used when `trace` is given no `--capture`. */
  demoCapture: string;
}

export const EXIT_OK = 0;
export const EXIT_BAD_INPUT = 1;
export const EXIT_USAGE = 2;

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
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : e instanceof Error ? e.message : String(e);
    throw new BadInput(`cannot read ${path === '-' ? 'standard input' : printable(path)}: ${why}`);
  }
}

export function buildProgram(io: Io): Command {
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
    .option('--strict', 'exit 1 when any line could not be parsed')
    .addHelpText('after', '\nExamples:\n  ip -d link show | netpath parse links\n  netpath parse routes4 routes.txt --text\n  netpath parse fdb bridge-fdb.json')
    .exitOverride()
    .action((probeName: string, file: string, opts: { text?: boolean; strict?: boolean }) => {
      const probe = probeArg(probeName);
      const text = readInput(io, file);
      const result = parseProbe(probe, text);
      io.out(opts.text ? recordsTable(result.records, result.issues) : JSON.stringify({ probe, format: result.format, records: result.records, issues: result.issues }, null, 2) + '\n');
      if (result.issues.length) io.err(`netpath: ${result.issues.length} line(s) of ${probe} could not be parsed; see "issues"${opts.text ? ' above' : ''}\n`);
      if (result.records.length === 0 && text.trim() !== '' && result.issues.length > 0) throw new BadInput(`nothing in the input could be read as ${probe} output`);
      if (opts.strict && result.issues.length) throw new BadInput('--strict: the input has lines that could not be parsed');
    });

  const capture = program.command('capture').description('Work with capture documents (shared/spec/capture-v1.md)').exitOverride();
  capture
    .command('show')
    .description('Summarise a capture: hosts, roles, probes present and parse issues per probe')
    .argument('<file>', 'capture JSON file, or - for standard input')
    .addOption(new Option('--json', 'print the summary as JSON'))
    .exitOverride()
    .action((file: string, opts: { json?: boolean }) => {
      const loaded = parseCapture(readInput(io, file));
      if (!loaded.ok) throw new BadInput(`${file === '-' ? 'standard input' : printable(file)} is not a valid netpath capture:\n${loaded.errors.map((e) => `  ${printable(e.path)}: ${printable(e.message)}`).join('\n')}`);
      const sum = summarizeCapture(loaded.capture, loaded.warnings);
      io.out(opts.json ? JSON.stringify(sum, null, 2) + '\n' : summaryText(sum));
    });
  program
    .command('trace')
    .description('Trace one packet hop by hop through a capture: the route, neighbour, bridge and VXLAN decisions the kernels make, and where it is delivered or dropped')
    .option('--capture <file>', 'capture JSON file (default: the bundled demo capture)')
    .requiredOption('--from <src>', 'source: a host name, namespace/pod, or IP')
    .requiredOption('--to <dst>', 'destination: an IP, host name or namespace/pod')
    .option('--size <bytes>', 'IP packet length in bytes (DF set)', '64')
    .addOption(new Option('--proto <proto>', 'protocol').choices(['icmp', 'udp', 'tcp']).default('icmp'))
    .option('--port <n>', 'destination port (udp/tcp)')
    .option('--json', 'print the trace as JSON (shared/spec/capture-v1.md)')
    .addHelpText('after', '\nExamples:\n  netpath trace --from default/web-0 --to default/web-1\n  netpath trace --capture cluster.json --from 10.244.0.3 --to 10.244.1.3 --size 1450 --json')
    .exitOverride()
    .action((opts: { capture?: string; from: string; to: string; size: string; proto: 'icmp' | 'udp' | 'tcp'; port?: string; json?: boolean }) => {
      const size = Number(opts.size);
      if (!/^\d+$/.test(opts.size)) throw new CommanderError(EXIT_USAGE, 'netpath.usage', `--size must be a number of bytes, got "${printable(opts.size)}"`);
      if (opts.port !== undefined && !/^\d+$/.test(opts.port)) throw new CommanderError(EXIT_USAGE, 'netpath.usage', `--port must be a number, got "${printable(opts.port)}"`);
      const file = opts.capture ?? io.demoCapture;
      const loaded = parseCapture(readInput(io, file));
      if (!loaded.ok) throw new BadInput(`${file === '-' ? 'standard input' : printable(file)} is not a valid netpath capture:\n${loaded.errors.map((e) => `  ${printable(e.path)}: ${printable(e.message)}`).join('\n')}`);
      const outcome = simulate(buildNetwork(loaded.capture), { from: opts.from, to: opts.to, size, proto: opts.proto, ...(opts.port !== undefined ? { port: Number(opts.port) } : {}) });
      if (!outcome.ok) throw new BadInput(printable(outcome.error));
      io.out(opts.json ? JSON.stringify(outcome.result, null, 2) + '\n' : traceText(outcome.result));
    });
  return program;
}

/** Runs the CLI with explicit arguments (without node and script) and returns the exit code. */
export function run(args: string[], io: Io): number {
  const program = buildProgram(io);
  try {
    program.parse(args, { from: 'user' });
    return EXIT_OK;
  } catch (e) {
    if (e instanceof BadInput) {
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

const nodeIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  read: (p) => readFileSync(p === '-' ? 0 : p, 'utf8'),
  demoCapture: join(__dirname, '..', 'examples', 'demo-flannel-vxlan.json'),
};

if (require.main === module) {
  process.exitCode = run(process.argv.slice(2), nodeIo);
}
