// `netpath policy`: one flow's NetworkPolicy (and admin policy) verdict from a capture's `kubernetes`
// section, or from a live cluster's API objects (no node is entered). Parsing and printing only; the
// evaluation is src/engine/policy. Exit codes as trace's: 0 allowed, 3 denied, 1 bad input, 2 usage.
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { kubernetesOf, validateCapture, type Capture } from '../capture/document';
import { printable } from '../capture/text';
import { evaluatePolicy, MATRIX_MAX_PODS, policyMatrix, type DirectionResult, type FlowProtocol, type MatrixCell, type MatrixRequest, type PolicyMatrix, type PolicyRequest, type PolicyResult } from '../engine/policy';
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
  liveCapture(opts: Pick<PolicyOptions, 'kubeconfig' | 'context'>): Promise<Capture>;
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
  const policy = program
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
  // `policy matrix` is a subcommand of a command with an action and options of its own. Commander
  // parses the options it knows at `policy` (the root program parses options anywhere), so the
  // matrix's options that `policy` shares arrive there: they are handed to the subcommand here.
  // `--from`/`--to` are required of the one-flow form only (commander checks a parent's required
  // options in its subcommands too). No help subcommand: `netpath policy help` stays what it was.
  policy.helpCommand(false);
  policy.hook('preSubcommand', (cmd, sub) => {
    for (const o of cmd.options) {
      o.makeOptionMandatory(false);
      const key = o.attributeName();
      if (cmd.getOptionValueSource(key) !== 'cli') continue;
      if (!sub.options.some((x) => x.attributeName() === key)) throw new CommanderError(EXIT_USAGE, 'netpath.usage', `${o.long ?? o.flags} is not an option of netpath policy ${sub.name()}`);
      sub.setOptionValueWithSource(key, cmd.getOptionValue(key), 'cli');
    }
  });
  matrixCommand(policy, shell, status);
  return policy;
}

export interface MatrixOptions {
  capture?: string;
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  selector?: string;
  pods?: string;
  proto: FlowProtocol;
  port?: string;
  json?: boolean;
  color?: boolean;
}

export const MATRIX_EXIT_HELP = `Exit status:
  0    the matrix was computed (whatever its cells say)
  1    bad input: a file or capture that cannot be used, a pod of --pods that is not in it, a port name
       no selected pod has (stderr says what and where)
  2    usage: a missing or malformed option, a malformed --selector, or more than ${MATRIX_MAX_PODS} pods selected
  The same with --json.`;

function matrixCommand(policy: Command, shell: PolicyShell, status: { code: number }): void {
  policy
    .command('matrix')
    .description('Who may talk to whom on one port: every ordered pair of the selected pods evaluated as one flow (rows: from, columns: to)')
    .option('--capture <file>', 'capture JSON file (its kubernetes section; - for standard input)')
    .option('--kubeconfig <file>', 'read a live cluster\u2019s API objects instead (default: KUBECONFIG, then ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context of the live cluster')
    .option('--namespace <ns>', 'only pods of this namespace')
    .option('--selector <sel>', 'only pods whose labels match this selector (app=web,tier in (a,b),!canary)')
    .option('--pods <list>', 'only these pods, in this order: namespace/pod or a pod\u2019s IP, comma-separated')
    .option('--proto <proto>', 'protocol: tcp, udp, sctp or icmp', protoArg, 'TCP' as FlowProtocol)
    .option('--port <n|name>', 'destination port: a number, or a container port name (a pod without it is no destination)')
    .option('--json', 'print the matrix as JSON')
    .option('--color', 'colour the output even when stdout is not a terminal')
    .option('--no-color', 'never colour the output')
    .addHelpText(
      'after',
      `\nAll pods of the capture by default (at most ${MATRIX_MAX_PODS}); pods that are not Running, have no IP, or use the host\nnetwork are left out with a note. A cell of a pod to itself is what the API says; implementations differ.\n\n${MATRIX_EXIT_HELP}\n\nExamples:\n  netpath policy matrix --capture cluster.json --namespace shop --port 5432\n  netpath policy matrix --capture cluster.json --selector 'app in (web,db)' --port http --json`,
    )
    .action(async (opts: MatrixOptions) => {
      const port = opts.port !== undefined ? portArg(opts.port) : undefined;
      if (port !== undefined && opts.proto === 'ICMP') throw new CommanderError(EXIT_USAGE, 'netpath.usage', 'ICMP has no ports: drop --port, or give --proto tcp, udp or sctp');
      const live = opts.context !== undefined || opts.kubeconfig !== undefined;
      if (live && opts.capture !== undefined) throw new CommanderError(EXIT_USAGE, 'netpath.usage', 'give either --capture or a cluster (--context/--kubeconfig), not both');
      if (!live && opts.capture === undefined) throw new CommanderError(EXIT_USAGE, 'netpath.usage', 'give --capture FILE (or --context/--kubeconfig for a live cluster)');
      const pods = opts.pods?.split(',').map((p) => p.trim());
      if (pods?.some((p) => p === '')) throw new CommanderError(EXIT_USAGE, 'netpath.usage', `--pods must be a comma-separated list of namespace/pod or IPs, got "${printable(opts.pods!)}"`);
      const capture = live ? await shell.liveCapture(opts) : readPolicyCapture(shell.readText(opts.capture!), opts.capture!, shell.badInput);
      const req: MatrixRequest = {
        proto: opts.proto,
        ...(port !== undefined ? { port } : {}),
        ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
        ...(opts.selector !== undefined ? { selector: opts.selector } : {}),
        ...(pods ? { pods } : {}),
      };
      const outcome = policyMatrix(kubernetesOf(capture), req);
      if (!outcome.ok) {
        if (outcome.kind === 'bad-selector' || outcome.kind === 'too-many-pods') throw new CommanderError(EXIT_USAGE, 'netpath.usage', printable(outcome.error));
        throw shell.badInput(printable(outcome.error));
      }
      const m = outcome.matrix;
      for (const w of m.warnings) shell.err(`netpath: warning: ${printable(w.path)}: ${printable(w.message)}\n`);
      if (opts.json) shell.out(JSON.stringify(m, null, 2) + '\n');
      else shell.out(matrixText(m, useColor({ flag: opts.color, env: shell.env ?? {}, stdout: shell.stdout }) ? ansi : plain));
      status.code = EXIT_OK;
    });
}

/** A cell's mark: allowed, or denied at the source's egress, the destination's ingress, or both. */
export function cellMark(c: MatrixCell): string {
  if (c.verdict === 'allowed') return '.';
  return c.egress === 'denied' ? (c.ingress === 'denied' ? 'X' : 'E') : 'I';
}

const LABEL_MAX = 40;

/**
 * The matrix as a table: rows (sources) numbered and named, columns (destinations) by number, one
 * mark per cell; a key for the columns when they are not the rows, or a name was cut short.
 */
export function matrixText(m: PolicyMatrix, s: Style = plain): string {
  const port = m.port !== undefined ? ` ${m.port}${m.portName ? ` (${m.portName})` : ''}` : m.portName !== undefined ? ` port ${m.portName}` : m.proto === 'ICMP' ? '' : ', no port given';
  const pairs = m.rows.length * m.cols.length;
  const allowed = m.cells.reduce((n, row) => n + row.filter((c) => c.verdict === 'allowed').length, 0);
  const pods = (n: number) => `${n} pod${n === 1 ? '' : 's'}`;
  const lines = [`policy matrix: ${m.proto}${printable(port)}, from ${pods(m.rows.length)} to ${pods(m.cols.length)}: ${allowed} of ${pairs} pair${pairs === 1 ? '' : 's'} allowed`];
  if (!pairs) {
    lines.push('no pairs: no selected pod can send or receive (see notes)');
  } else {
    const same = m.rows.length === m.cols.length && m.rows.every((r, i) => r === m.cols[i]);
    // Columns are numbered after the rows when they are other pods, so no number means two pods.
    const colNo = (j: number) => String(same ? j + 1 : m.rows.length + j + 1);
    const w = Math.max(...m.cols.map((_, j) => colNo(j).length));
    const rw = String(m.rows.length).length;
    let cut = false;
    const names = m.rows.map((r) => {
      const p = printable(r);
      if (p.length <= LABEL_MAX) return p;
      cut = true;
      return p.slice(0, LABEL_MAX - 1) + '\u2026';
    });
    const nw = Math.max(...names.map((n) => n.length));
    const lead = ' '.repeat(rw + 1 + nw);
    lines.push('', `${lead}  to`, `${lead} ${m.cols.map((_, j) => colNo(j).padStart(w)).join(' ')}`);
    m.rows.forEach((_, i) => {
      const cells = m.cells[i]!.map((c) => {
        const mark = cellMark(c).padStart(w);
        return c.verdict === 'allowed' ? s.ok(mark) : s.drop(mark);
      });
      lines.push(`${String(i + 1).padStart(rw)} ${names[i]!.padEnd(nw)} ${cells.join(' ')}`);
    });
    if (!same || cut) {
      lines.push('', same ? 'pods:' : 'to:');
      m.cols.forEach((c, j) => lines.push(`  ${colNo(j).padStart(w)} ${printable(c)}`));
    }
    lines.push('', `${s.ok('.')} allowed   ${s.drop('E')} denied at the source's egress   ${s.drop('I')} at the destination's ingress   ${s.drop('X')} at both   (rows: from, columns: to)`);
    lines.push('why a cell says what it does: netpath policy --from ROW --to COLUMN (with the same --proto and --port)');
  }
  if (m.notes.length) lines.push('notes:', ...m.notes.map((n) => `  - ${printable(n.text)}`));
  return lines.join('\n') + '\n';
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
