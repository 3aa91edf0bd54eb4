// What `netpath trace` prints without --json: the hop-by-hop table with evidence (traceText) and one
// line per hop (traceShort). Both are pure: colour comes in as a Style (plain when off).
import { printable } from '../capture/text';
import type { CiliumNode, Evidence, Hop, Step, Trace, TracePath, TraceResult, Verdict } from '../engine';
import { outcomeOf } from './exit';
import { plain, type Role, type Style } from './style';

/** A line is made of pieces; captured text only ever sits inside a piece. */
type Piece = string | readonly [Role | readonly Role[], string];

/**
 * The one place text reaches the output: every piece is made printable first (control characters
 * from captured data are escaped), then painted, so the palette's escape codes are the only ones.
 */
function render(pieces: readonly Piece[], style: Style): string {
  return pieces
    .map((p) => {
      if (typeof p === 'string') return printable(p);
      const roles: readonly Role[] = typeof p[0] === 'string' ? [p[0]] : p[0];
      return roles.reduce((t, r) => style[r](t), printable(p[1]));
    })
    .join('');
}

/** Width on the terminal of a piece of captured text once it is printable. */
const width = (t: string) => printable(t).length;

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const w of text.split(' ')) {
    if (line && line.length + 1 + w.length > width) {
      out.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) out.push(line);
  return out;
}

/**
 * A copy (flood, VXLAN default entry, candidate port) that reaches a host the frame is not for is
 * what flooding does, not a failure: the engine says so (`ending`), or for a trace saved by netpath
 * 0.1, `floodCopy` and the verdict.
 */
function discarded(p: Pick<TracePath, 'verdict' | 'floodCopy' | 'ending'>): boolean {
  return p.ending !== undefined ? p.ending === 'discarded' : p.floodCopy && p.verdict === 'wrong-destination';
}

function verdictRole(v: Verdict, copyDiscarded = false): Role {
  const o = outcomeOf(v);
  if (o === 'delivered') return 'ok';
  if (o === 'undecided') return 'unknown';
  return copyDiscarded ? 'quiet' : 'drop';
}

/** `VERDICT at host dev`, the verdict in its colour and the place it stops in bold. */
function verdictPieces(t: Pick<Trace, 'verdict' | 'dropAt'>, upper: boolean, copyDiscarded = false): Piece[] {
  const role = verdictRole(t.verdict, copyDiscarded);
  const out: Piece[] = [[role, upper ? t.verdict.toUpperCase() : t.verdict]];
  // Bold and dim are the same SGR attribute (intensity): a quiet path's stop stays just dim.
  if (t.dropAt) out.push(' at ', [role === 'quiet' ? role : [role, 'where'], `${t.dropAt.host}${t.dropAt.dev ? ` ${t.dropAt.dev}` : ''}`]);
  return out;
}

function kindPieces(s: Step): Piece[] {
  return [['kind', s.kind], ...(s.inferred ? [['inferred', '*'] as Piece] : []), ...(s.unvouched ? [['inferred', '?'] as Piece] : [])];
}

/** How many characters the marks after a step's kind take (`*` inferred, `?` not vouched for). */
const markWidth = (s: Step) => (s.inferred ? 1 : 0) + (s.unvouched ? 1 : 0);

/** A node on the path whose packets Cilium's eBPF programs move: what the capture says, and what `?` means. */
function dataplaneNote(n: CiliumNode): string {
  const kpr = { yes: 'Cilium translates Services itself (kube-proxy replacement)', no: 'kube-proxy translates Services', unknown: 'whether Cilium translates Services itself is unknown' }[n.kubeProxyReplacement];
  const hr = { bpf: 'eBPF host routing', legacy: 'legacy host routing', unknown: 'eBPF host routing not ruled out' }[n.hostRouting];
  return `(${n.host} runs Cilium: ${kpr}, ${hr}; steps marked ? may not be what its eBPF programs do: netpath reads tables, not BPF maps; see cilium-dbg status and cilium-dbg bpf lb list on its agent)`;
}

const endpointText = (e: { ip: string; port?: number }) => (e.port === undefined ? e.ip : e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`);
const chanceText = (p: number) => `${Number((p * 100).toFixed(p > 0 && p < 0.1 ? 1 : 0))}%`;

/** A Service path's endpoint (after a DNAT) and the chance the rules pick it: `endpoint 10.244.1.3:8080, chance 33%`. */
function endpointWords(p: Pick<TracePath, 'endpoint' | 'probability'>): string {
  const parts: string[] = [];
  if (p.endpoint) parts.push(`endpoint ${endpointText(p.endpoint)}`);
  if (p.probability !== undefined) parts.push(`chance ${chanceText(p.probability)}`);
  return parts.join(', ');
}

function endpointPieces(p: Pick<TracePath, 'endpoint' | 'probability'>): Piece[] {
  const w = endpointWords(p);
  return w ? [` (${w})`] : [];
}

const INFERRED_NOTE = '(some steps are inferred, marked *: the capture does not hold every table)';

/** The paths worth listing one by one: ECMP branches and flood copies (a single path has branch ''). */
function branches(r: TraceResult): TraceResult['paths'] {
  const others = r.paths.filter((p) => p.branch !== '');
  return others.length > 1 ? others : [];
}

/** The likely causes of a failed trace, most likely first: where, what, expected and found, the lines, owner and fix. */
function diagnosisLines(r: TraceResult, lineWidth: number): Piece[][] {
  const ds = r.diagnosis ?? [];
  if (ds.length === 0) return [];
  const lines: Piece[][] = [[], [ds.length === 1 ? 'diagnosis:' : `diagnosis (${ds.length} causes, most likely first):`]];
  const quote = (e: Evidence): Piece[] => ['       ', ['evidence', `| ${e.host} ${e.probe}:${e.line}  ${e.raw.trim()}`]];
  ds.forEach((d, i) => {
    lines.push([` ${i + 1}. `, ['where', d.host], ` ${d.probe}  (${d.kind})`], ...wrap(d.text, lineWidth - 7).map((t): Piece[] => [`    ${t}`]));
    lines.push([`    expected: ${d.expected}`], [`    found:    ${d.actual}`]);
    for (const e of d.evidence ?? []) lines.push(quote(e));
    if (d.searched) {
      const shown = d.searched.slice(0, SEARCHED_SHOWN);
      lines.push([`    searched: ${d.searched.length ? `${d.host} ${d.searched[0]!.probe}, ${d.searched.length} line${d.searched.length === 1 ? '' : 's'}` : 'an empty table'}`]);
      for (const e of shown) lines.push(quote(e));
      if (d.searched.length > shown.length) lines.push([`       ... ${d.searched.length - shown.length} more`]);
    }
    lines.push([`    owner:    ${d.owner}`], [`    fix:      ${d.fix}`]);
  });
  return lines;
}

const SEARCHED_SHOWN = 12;

/** What the trace did not check, so that "delivered" is not read as "nothing can stop it". */
function uncheckedLines(r: TraceResult, lineWidth: number): Piece[][] {
  const us = r.unchecked ?? [];
  if (us.length === 0) return [];
  const lines: Piece[][] = [[], ['not checked:']];
  for (const u of us) lines.push(...wrap(u.text, lineWidth - 4).map((t, i): Piece[] => [`${i === 0 ? '  - ' : '    '}${t}`]));
  return lines;
}

/** Where the API and a node's kube-proxy rules disagree: one block per finding, with its lines and the fix. */
function findingLines(r: TraceResult, lineWidth: number): Piece[][] {
  const fs = r.findings ?? [];
  if (fs.length === 0) return [];
  const lines: Piece[][] = [[], [`${fs.length === 1 ? 'finding' : `${fs.length} findings`} (the API and the rules disagree):`]];
  for (const f of fs) {
    const body = wrap(f.text, lineWidth - 4);
    lines.push(['  - ', ['where', f.host], ' ', f.kind], ...body.map((t): Piece[] => [`    ${t}`]));
    lines.push([`    expected: ${f.expected}`], [`    found:    ${f.actual}`]);
    for (const e of f.evidence) lines.push(['    ', ['evidence', `| ${e.host} ${e.probe}:${e.line}  ${e.raw.trim()}`]]);
    lines.push([`    fix (${f.owner}): ${f.fix}`]);
  }
  return lines;
}

/** The 802.1Q tags on the wire a hop's frame leaves by (its last wire step), outermost first; absent: untagged. */
function wireVlans(h: Hop): readonly number[] | undefined {
  for (let i = h.steps.length - 1; i >= 0; i--) {
    const d = h.steps[i]!.detail;
    if (d?.type === 'wire') return d.vlans?.length ? d.vlans : undefined;
  }
  return undefined;
}

/** `[vlan 10]`, stacked tags outermost first `[vlan 100.10]`. */
const vlanTag = (vlans: readonly number[]) => `[vlan ${vlans.join('.')}]`;

export function traceText(r: TraceResult, style: Style = plain, lineWidth = 100): string {
  const lines: Piece[][] = [];
  const f = r.flow;
  lines.push([`${r.from.host} (${f.src}${f.sport !== undefined ? `:${f.sport}` : ''}) -> ${r.to.host ?? f.dst} (${f.dst}), ${f.proto}${f.dport !== undefined ? `/${f.dport}` : ''}, ${f.size} bytes${f.df ? ', DF' : ''}`]);
  lines.push(['verdict: ', ...verdictPieces(r, true)]);
  lines.push([`  ${r.reason}`]);
  // The cause beside the verdict: the place where the state is wrong may be a host before the drop.
  const cause = r.diagnosis?.[0];
  if (cause) lines.push(...wrap(`cause: ${cause.text} (diagnosis below)`, lineWidth - 2).map((t, i): Piece[] => [i === 0 ? '  ' : '         ', ['where', t]]));
  // The one path of a Service with one endpoint: where the DNAT sent it.
  const only = r.paths.length === 1 ? r.paths[0] : undefined;
  if (only?.endpoint) lines.push([`  ${endpointWords(only)}`]);
  if (r.inferred) lines.push(['  ', ['inferred', INFERRED_NOTE]]);
  for (const n of r.dataplanes ?? []) lines.push(['  ', ['inferred', dataplaneNote(n)]]);
  lines.push([]);
  r.hops.forEach((h, i) => {
    const tags = wireVlans(h);
    lines.push([`${String(i + 1).padStart(2)}. `, ['host', h.host], `   in ${h.in ?? '-'}   out ${h.out ?? '-'}${tags ? ` ${vlanTag(tags)}` : ''}`]);
    for (const s of h.steps) {
      // At least one space after a long kind (tunnel-encap*), so the sentence never runs into it.
      const pad = ' '.repeat(Math.max(1, 12 - s.kind.length - markWidth(s)));
      const body = wrap(s.text, lineWidth - 18);
      lines.push(['      ', ...kindPieces(s), pad, body[0] ?? '']);
      for (const more of body.slice(1)) lines.push([`      ${' '.repeat(12)}${more}`]);
      for (const e of s.records) lines.push([`      ${' '.repeat(12)}`, ['evidence', `| ${e.host} ${e.probe}:${e.line}  ${e.raw.trim()}`]]);
    }
  });
  const others = branches(r);
  if (others.length) {
    lines.push([]);
    const services = others.some((p) => p.endpoint !== undefined || p.probability !== undefined);
    lines.push([`${others.length} paths (${services ? 'Service endpoints, ' : ''}ECMP next hops and flood copies):`]);
    for (const p of others) lines.push([`  ${p.branch}: `, ...verdictPieces(p, false, discarded(p)), ...endpointPieces(p)]);
  }
  lines.push(...diagnosisLines(r, lineWidth));
  lines.push(...uncheckedLines(r, lineWidth));
  lines.push(...findingLines(r, lineWidth));
  return lines.map((l) => render(l, style)).join('\n') + '\n';
}

/** The step that decided where the packet went from a hop: the encapsulation, else the route, else the bridge. */
function decisiveStep(h: Hop): Step | undefined {
  const last = (kinds: readonly Step['kind'][]) => {
    for (let i = h.steps.length - 1; i >= 0; i--) if (kinds.includes(h.steps[i]!.kind)) return h.steps[i];
    return undefined;
  };
  // Where the rules rewrote the packet (a Service's DNAT, a masquerade), that is what decided at this hop.
  const nat = h.steps.find((s) => s.detail?.type === 'nf-summary' && s.detail.did.some((a) => a.kind === 'dnat' || a.kind === 'redirect'));
  return last(['deliver']) ?? nat ?? last(['vxlan-encap', 'tunnel-encap']) ?? last(['route']) ?? last(['fdb', 'flood']) ?? h.steps[h.steps.length - 1];
}

/** The decisive step in a few words: the tunnel it enters, else the line that decided, else its sentence. */
function stepPieces(s: Step): Piece[] {
  const t = s.tunnel;
  const what = t
    ? `${s.kind.startsWith(t.kind) ? '' : `${t.kind} `}${t.vni !== undefined ? `VNI ${t.vni} ` : ''}to ${t.outerDst}${t.port !== undefined ? `:${t.port}` : ''}`
    : (s.records[0]?.raw.trim() ?? s.text);
  return [...kindPieces(s), ' ', what || s.text];
}

/**
 * One line per hop (host, in -> out, what decided there; at the hop where the packet stops, the
 * verdict), then the verdict. Several paths (ECMP, flood) get one block each, headed by their branch.
 */
export function traceShort(r: TraceResult, style: Style = plain): string {
  const others = branches(r);
  const blocks: { head?: TracePath; hops: Hop[]; trace: Trace; copyDiscarded: boolean }[] = others.length
    ? others.map((p) => ({ head: p, hops: p.hops, trace: p, copyDiscarded: discarded(p) }))
    : [{ hops: r.hops, trace: r, copyDiscarded: false }];
  const all = blocks.flatMap((b) => b.hops);
  const hostW = Math.max(0, ...all.map((h) => width(h.host)));
  const inW = Math.max(0, ...all.map((h) => width(h.in ?? '-')));
  // A column of tags when some wire is tagged (a trace without VLANs prints as it always has).
  const tagOf = (h: Hop) => {
    const v = wireVlans(h);
    return v ? ` ${vlanTag(v)}` : '';
  };
  const outW = Math.max(0, ...all.map((h) => width(h.out ?? '-') + tagOf(h).length));
  const pad = (t: string, w: number) => ' '.repeat(Math.max(0, w - width(t)));
  const lines: Piece[][] = [];
  blocks.forEach((b, bi) => {
    const indent = b.head ? '  ' : '';
    if (b.head) lines.push([`path ${bi + 1} of ${blocks.length}, ${b.head.branch}: `, ...verdictPieces(b.head, true, b.copyDiscarded), ...endpointPieces(b.head)]);
    b.hops.forEach((h, i) => {
      const stops = i === b.hops.length - 1 && b.trace.verdict !== 'delivered';
      const inDev = h.in ?? '-';
      const outDev = `${h.out ?? '-'}${tagOf(h)}`;
      const s = stops ? undefined : decisiveStep(h);
      const what: Piece[] = stops
        ? [[verdictRole(b.trace.verdict, b.copyDiscarded), b.trace.verdict.toUpperCase()], ...(b.trace.dropAt?.dev ? [` at ${b.trace.dropAt.dev}`] : [])]
        : s
          ? stepPieces(s)
          : [];
      lines.push([`${indent}${String(i + 1).padStart(2)}. `, ['host', h.host], pad(h.host, hostW), '  ', inDev, pad(inDev, inW), ' -> ', outDev, pad(outDev, outW), ...(what.length ? ['  ', ...what] : [])]);
    });
  });
  const verdict: Piece[] = ['verdict: ', ...verdictPieces(r, true)];
  if (r.verdict !== 'delivered') verdict.push(`: ${r.reason}`);
  if (r.inferred) verdict.push(' ', ['inferred', INFERRED_NOTE]);
  lines.push(verdict);
  for (const n of r.dataplanes ?? []) lines.push([['inferred', dataplaneNote(n)]]);
  // The most likely cause only: the full diagnosis is in the long form.
  const cause = r.diagnosis?.[0];
  if (cause) lines.push([['where', `diagnosis at ${cause.host}`], `: ${cause.text} (owner: ${cause.owner})`]);
  for (const u of r.unchecked ?? []) lines.push([`not checked: ${u.text}`]);
  for (const f of r.findings ?? []) lines.push([['where', `finding at ${f.host}`], `: ${f.text}`]);
  return lines.map((l) => render(l, style).trimEnd()).join('\n') + '\n';
}
