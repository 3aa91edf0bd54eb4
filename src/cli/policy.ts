// `netpath policy`: one flow's NetworkPolicy (and admin policy) verdict from a capture's `kubernetes`
// section, or from a live cluster's API objects (no node is entered). Parsing and printing only; the
// evaluation is src/engine/policy. Exit codes as trace's: 0 allowed, 3 denied, 1 bad input, 2 usage.
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { kubernetesOf, validateCapture, type Capture } from '../capture/document';
import { printable } from '../capture/text';
import { evaluatePolicy, type DirectionResult, type FlowProtocol, type PolicyRequest, type PolicyResult } from '../engine/policy';
import { EXIT_DROPPED, EXIT_OK, EXIT_USAGE } from './exit';
import { ansi, plain, useColor, type Style, type Terminal } from './style';

export interface PolicyOptions {
  capture?: string;
  kubeconfig?: string;
  context?: string;
  from: string;
  to: string;
  proto: FlowProtocol;
  port?: string;
  json?: boolean;
  color?: boolean;
}

/** What the command needs from its shell (main.ts): input, output, and how to report bad input. */
export interface PolicyShell {
  out(text: string): void;
  err(text: string): void;
  /** The file's text (or standard input for `-`); throws the shell's bad-input error when it cannot be read. */
  readText(path: string): string;
  /** The cluster's API objects as a capture (Namespaces, Pods, NetworkPolicies ...), no node tables. */
  liveCapture(opts: PolicyOptions): Promise<Capture>;
  /** An error the shell reports on stderr with exit code 1. */
  badInput(message: string): Error;
  env?: Readonly<Record<string, string | undefined>>;
  stdout?: Terminal;
}

export const POLICY_EXIT_HELP = `Exit status:
  0    the flow is allowed (egress at the source and ingress at the destination)
  1    bad input: a file or capture that cannot be used, a pod that is not in it, a port name the
       destination pod does not have (stderr says what and where)
  2    usage: a missing or malformed option
  3    the flow is denied
  The same with --json.`;

const PORT_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/i;

function protoArg(v: string): FlowProtocol {
  const p = v.toUpperCase();
  if (p === 'TCP' || p === 'UDP' || p === 'SCTP' || p === 'ICMP') return p;
  throw new InvalidArgumentError(`expected tcp, udp, sctp or icmp (NetworkPolicy's ports name TCP, UDP and SCTP; ICMP is allowed only by rules without ports)`);
}

function portArg(v: string): number | string {
  if (/^\d+$/.test(v)) {
    const n = Number(v);
    if (n < 1 || n > 65535) throw new CommanderError(EXIT_USAGE, 'netpath.usage', `--port must be a port between 1 and 65535 or a container port name, got ${printable(v)}`);
    return n;
  }
  if (!PORT_NAME.test(v) || v.length > 15) throw new CommanderError(EXIT_USAGE, 'netpath.usage', `--port must be a port number (1-65535) or a container port name (letters, digits and '-', at most 15), got "${printable(v)}"`);
  return v;
}

/** Reads a capture for policy: the `kubernetes` section alone is enough, so a document without `hosts` is taken as having none. */
export function readPolicyCapture(text: string, file: string, bad: (m: string) => Error): Capture {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw bad(`${where(file)} is not valid JSON: ${printable(e instanceof Error ? e.message : String(e))}`);
  }
  if (typeof doc === 'object' && doc !== null && !Array.isArray(doc) && !('hosts' in doc)) doc = { ...doc, hosts: [] };
  const v = validateCapture(doc);
  if (!v.ok) throw bad(`${where(file)} is not a valid netpath capture:\n${v.errors.map((e) => `  ${printable(e.path)}: ${printable(e.message)}`).join('\n')}`);
  return v.capture;
}

const where = (file: string) => (file === '-' ? 'standard input' : printable(file));

export function policyCommand(program: Command, shell: PolicyShell, status: { code: number }): Command {
  return program
    .command('policy')
    .description("Evaluate the cluster's NetworkPolicies (and AdminNetworkPolicies) for one flow, as the Kubernetes API defines them: which policy isolates which pod, and which rule allows it")
    .requiredOption('--from <src>', 'source: namespace/pod, or an IP (a pod\u2019s IP names the pod)')
    .requiredOption('--to <dst>', 'destination: namespace/pod, or an IP')
    .option('--proto <proto>', 'protocol: tcp, udp, sctp or icmp', protoArg, 'TCP' as FlowProtocol)
    .option('--port <n|name>', 'destination port: a number, or a container port name of the destination pod (default: unknown; see notes)')
    .option('--json', 'print the result as JSON (shared/spec/capture-v1.md, "Policy result")')
    .option('--capture <file>', 'capture JSON file (its kubernetes section; - for standard input)')
    .option('--kubeconfig <file>', 'read a live cluster\u2019s API objects instead (default: KUBECONFIG, then ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context of the live cluster')
    .option('--color', 'colour the output even when stdout is not a terminal')
    .option('--no-color', 'never colour the output')
    .addHelpText(
      'after',
      `\nWith --context or --kubeconfig, the cluster's Namespaces, Pods, Nodes and NetworkPolicies are read from the API\n(no node access); otherwise --capture is required.\n\nWithout --port, a rule that lists ports matches only through an entry with a protocol and no port.\n\n${POLICY_EXIT_HELP}\n\nExamples:\n  netpath policy --capture cluster.json --from web/frontend-1 --to shop/db-0 --port 5432\n  netpath policy --capture cluster.json --from web/frontend-1 --to shop/db-0 --port postgres --json\n  netpath policy --context prod --from shop/cart-0 --to 10.0.0.53 --proto udp --port 53`,
    )
    .exitOverride()
    .action(async (opts: PolicyOptions) => {
      const port = opts.port !== undefined ? portArg(opts.port) : undefined;
      if (port !== undefined && opts.proto === 'ICMP') throw new CommanderError(EXIT_USAGE, 'netpath.usage', 'ICMP has no ports: drop --port, or give --proto tcp, udp or sctp');
      const live = opts.context !== undefined || opts.kubeconfig !== undefined;
      if (live && opts.capture !== undefined) throw new CommanderError(EXIT_USAGE, 'netpath.usage', 'give either --capture or a cluster (--context/--kubeconfig), not both');
      if (!live && opts.capture === undefined) throw new CommanderError(EXIT_USAGE, 'netpath.usage', 'give --capture FILE (or --context/--kubeconfig for a live cluster)');
      const capture = live ? await shell.liveCapture(opts) : readPolicyCapture(shell.readText(opts.capture!), opts.capture!, shell.badInput);
      const req: PolicyRequest = { from: opts.from, to: opts.to, proto: opts.proto, ...(port !== undefined ? { port } : {}) };
      const outcome = evaluatePolicy(kubernetesOf(capture), req);
      if (!outcome.ok) throw shell.badInput(printable(outcome.error));
      const r = outcome.result;
      for (const w of r.warnings) shell.err(`netpath: warning: ${printable(w.path)}: ${printable(w.message)}\n`);
      if (opts.json) shell.out(JSON.stringify(r, null, 2) + '\n');
      else shell.out(policyText(r, useColor({ flag: opts.color, env: shell.env ?? {}, stdout: shell.stdout }) ? ansi : plain));
      status.code = r.verdict === 'allowed' ? EXIT_OK : EXIT_DROPPED;
    });
}

function flowLine(r: PolicyResult): string {
  const end = (e: PolicyResult['flow']['from']) => (e.pod !== undefined ? `${e.pod}${e.ip ? ` (${e.ip})` : ''}` : (e.ip ?? e.given));
  const port = r.flow.port !== undefined ? ` ${r.flow.port}${r.flow.portName ? ` (${r.flow.portName})` : ''}` : r.flow.proto === 'ICMP' ? '' : ', no port given';
  return `${end(r.flow.from)} -> ${end(r.flow.to)}, ${r.flow.proto}${port}`;
}

function directionLine(name: string, d: DirectionResult, s: Style): string {
  const paint = d.verdict === 'allowed' ? s.ok : s.drop;
  return `  ${paint(name.padEnd(9))}${printable(d.explanation)} [${d.tier}]`;
}

/** The verdict, the flow, one sentence per direction, then the notes. */
export function policyText(r: PolicyResult, s: Style = plain): string {
  const lines = [`${r.verdict === 'allowed' ? s.ok('allowed') : s.drop('denied')}: ${printable(flowLine(r))}`, directionLine('egress', r.egress, s), directionLine('ingress', r.ingress, s)];
  if (r.notes.length) lines.push('notes:', ...r.notes.map((n) => `  - ${printable(n.text)}`));
  return lines.join('\n') + '\n';
}
