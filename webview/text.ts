// Every string the path view shows, built from the trace without touching the DOM (so it is tested
// under node). Names from the cluster pass through unchanged: they are data, and the renderer puts
// them into the page with textContent / d3 .text() only, never as markup.
import type { CopyKind, EvidenceRef, Evidence, Hop, HostRole, Step, StepDetail, StepKind, TraceResult, Verdict } from '../src/shared/protocol';
import { headerDetails, pathHeaders } from './devices';
import type { EndKind, EndMarker, HopBox, PathLane, PathLayout } from './layout';

export const VERDICT_TEXT: Record<Verdict, string> = {
  delivered: 'delivered',
  'no-route': 'no route',
  blackhole: 'blackhole route',
  unreachable: 'unreachable',
  prohibit: 'administratively prohibited',
  'neighbor-failed': 'neighbour failed',
  'no-fdb-entry': 'no FDB entry',
  'link-down': 'link down',
  'forwarding-disabled': 'forwarding disabled',
  'rp-filter': 'reverse-path filter',
  'mtu-exceeded': 'MTU exceeded',
  'wrong-destination': 'wrong destination',
  loop: 'loop',
  'ttl-exceeded': 'TTL exceeded',
  'insufficient-data': 'insufficient data',
  filtered: 'filtered',
  rejected: 'rejected',
  'policy-denied': 'denied by NetworkPolicy',
  'vlan-filtered': 'VLAN not allowed',
};

/** Codicon names (and their glyphs, for the SVG where a CSS class cannot reach). */
export const ICONS = {
  pod: { name: 'package', glyph: '\ueb29' },
  node: { name: 'server', glyph: '\ueb50' },
  switch: { name: 'type-hierarchy', glyph: '\uebb9' },
  router: { name: 'globe', glyph: '\ueb01' },
  host: { name: 'vm', glyph: '\uea7a' },
} as const;

export function roleIcon(role: HostRole | null): { name: string; glyph: string } {
  return role === null ? ICONS.host : ICONS[role];
}

export function endIcon(kind: EndKind): string {
  return kind === 'delivered' ? 'pass' : kind === 'drop' ? 'error' : 'circle-slash';
}

/** "web-0 → web-1", "prometheus-0 → svc default/web:http" */
export function traceTitle(t: TraceResult): string {
  return `${t.from.host} → ${t.service !== undefined ? `svc ${t.service}` : (t.to.host ?? t.to.ip)}`;
}

/** "ICMP 10.244.0.3 → 10.244.1.3, 64 bytes, Don't Fragment" */
export function flowText(t: TraceResult): string {
  const f = t.flow;
  const port = f.dport !== undefined ? ` port ${f.dport}` : '';
  return `${f.proto.toUpperCase()} ${f.src} → ${f.dst}${port}, ${f.size} bytes${f.df ? ", Don't Fragment" : ''}`;
}

/** What a discarded copy was a copy of (a trace saved by netpath 0.1 says only that it was a flood's). */
export const COPY_TEXT: Record<CopyKind, string> = {
  flood: 'flood copy',
  'vxlan-default': 'VXLAN default-entry copy',
  candidate: 'copy to a candidate port',
};

/** "flood copy discarded", "VXLAN default-entry copy discarded", ... */
export function discardedText(copy: CopyKind | undefined): string {
  return `${COPY_TEXT[copy ?? 'flood']} discarded`;
}

/** The verdict line drawn under the box where a path ends ("delivered to 10.244.1.3:8080", "rejected at cni0"). */
export function endLabel(e: { kind: EndKind; verdict: Verdict; dev: string | null; copy?: CopyKind; endpoint?: string | null }): string {
  if (e.kind === 'delivered') return e.endpoint ? `delivered to ${e.endpoint}` : 'delivered';
  if (e.kind === 'discarded') return `${discardedText(e.copy)}${e.dev ? ` at ${e.dev}` : ''}`;
  return `${VERDICT_TEXT[e.verdict]}${e.dev ? ` at ${e.dev}` : ''}`;
}

/** The verdict line with what tells the path apart: its chance at a random choice, else its branch. */
export function endLine(e: EndMarker): string {
  // A delivered endpoint is named by its label already; a stopped one is named here.
  const extra = e.endpoint && e.kind !== 'delivered' ? [e.endpoint, e.chance].filter(Boolean).join(', ') : (e.chance ?? e.branch);
  return `${endLabel(e)}${extra ? ` (${extra})` : ''}`;
}

/** The full tooltip of an end: the verdict, the rule that decided, and the engine's sentence. */
export function endTitle(e: EndMarker): string {
  return `${e.kind === 'delivered' ? 'delivered' : VERDICT_TEXT[e.verdict]}${e.rule ? ` by ${e.rule}` : ''}${e.endpoint && e.kind !== 'delivered' ? `, endpoint ${e.endpoint}` : ''}${e.chance ? ` (${e.chance})` : ''}: ${e.reason}`;
}

export function pathLabel(p: PathLane, index: number): string {
  return p.forks.length ? p.forks.join(' / ') : p.branch !== '' ? p.branch : index === 0 ? 'the path' : `path ${index + 1}`;
}

/** "3 paths (Service endpoints)", "2 paths (ECMP next hops)": what made the paths. */
export function pathsHeading(layout: PathLayout, trace: TraceResult): string {
  const kinds = new Set(trace.paths.flatMap((p) => (p.forks ?? []).map((f) => f.kind)));
  const what: string[] = [];
  if (kinds.has('netfilter')) what.push(trace.paths.some((p) => p.endpoint) ? 'Service endpoints' : 'rule outcomes');
  if (kinds.has('ecmp')) what.push('ECMP next hops');
  if (kinds.has('flood') || kinds.has('vxlan') || kinds.has('candidate')) what.push('copies');
  return `${layout.paths.length} paths (${what.length ? what.join(', ') : 'ECMP next hops and flood copies'})`;
}

export function roleText(box: HopBox): string {
  return box.subtitle || 'host';
}

/** What a screen reader says for a hop box. */
export function hopAriaLabel(layout: PathLayout, box: HopBox, path: number, hop: number): string {
  const lane = layout.paths[path]!;
  const ports = [box.in ? `in ${box.in.name || 'an unnamed device'}` : 'origin', ...box.outs.filter((o) => !o.dropOnly).map((o) => `out ${o.name}`)].join(', ');
  const ends = layout.ends.filter((e) => e.box === box.id).map((e) => (e.kind === 'delivered' ? 'delivered here' : `${e.kind === 'drop' ? 'dropped' : 'discarded'} here: ${VERDICT_TEXT[e.verdict]}`));
  const steps = lane.hops[hop]?.steps.length ?? 0;
  return [`Hop ${hop + 1} of ${lane.hops.length}: ${box.host}, ${roleText(box)}`, ports, `${steps} step${steps === 1 ? '' : 's'}`, ...ends, ...(box.inferred ? ['some steps inferred'] : [])].join('; ');
}

/** "k8s-node1 routes4:4" */
export function evidenceLocation(e: EvidenceRef): string {
  return `${e.host} ${e.probe}:${e.line}`;
}

export interface EvidenceLine {
  location: string;
  raw: string;
  ref: EvidenceRef | null;
}

export interface StepView {
  kind: StepKind;
  /** Where a netfilter step ran: "prerouting · nat KUBE-SERVICES rule 1" (empty for other steps). */
  tag: string;
  text: string;
  inferred: boolean;
  /** The step that ends the path (a drop or a delivery). */
  final: boolean;
  evidence: EvidenceLine[];
  candidates: EvidenceLine[];
  /** The step's typed detail: what marks the deciding value in its evidence (deciding.ts). */
  detail: StepDetail | undefined;
}

export interface DetailsView {
  heading: string;
  role: string;
  /** "Hop 2 of 5", "in veth53842afe → out eth0" */
  position: string;
  ports: string;
  /** Which path the steps are from, when the box is on several. */
  path: string | null;
  end: { kind: EndKind; verdict: string; reason: string } | null;
  /** The packet's headers as it leaves this hop (or, at the last hop, as it arrived), as the trace carries them. */
  headers: { title: string; lines: string[] } | null;
  steps: StepView[];
}

function evidenceLines(records: readonly Evidence[] | undefined): EvidenceLine[] {
  return (records ?? []).map((r) => ({ location: evidenceLocation(r), raw: r.raw, ref: r.line > 0 ? { host: r.host, probe: r.probe, line: r.line } : null }));
}

function stepView(s: Step, final: boolean): StepView {
  const evidence = evidenceLines(s.records);
  // Evidence text without records (a hand-made trace): still quote it.
  if (evidence.length === 0 && s.evidence) for (const raw of s.evidence.split('\n')) evidence.push({ location: '', raw, ref: null });
  return { kind: s.kind, tag: stepTag(s), text: s.text, inferred: s.inferred === true, final, evidence, candidates: evidenceLines(s.candidates), detail: s.detail };
}

/** The hook and chain (and rule) of a netfilter step, from its detail. */
export function stepTag(s: Step): string {
  const d = s.detail;
  if (!d) return '';
  if (d.type === 'nf-verdict') return `${d.layer === 'bridge' ? 'bridge ' : ''}${d.hook} · ${d.verdict}`;
  if (d.type === 'nf-summary') return `${d.layer === 'bridge' ? 'bridge ' : ''}${d.hook} · ${d.chain.table} ${d.chain.chain} · summary`;
  if (d.type !== 'netfilter') return '';
  const hook = `${d.layer === 'bridge' ? 'bridge ' : ''}${d.hook}`;
  const st = d.step;
  if (st.kind === 'nat-skipped') return `${hook} · nat skipped`;
  const where = `${st.table} ${st.chain}`;
  if (st.kind === 'rule') return `${hook} · ${where} rule ${st.rule}`;
  if (st.kind === 'policy') return `${hook} · ${where} policy ${st.policy.toUpperCase()}`;
  return `${hook} · ${where}`;
}

/** The details pane for one hop of one path. */
export function detailsView(layout: PathLayout, path: number, hop: number): DetailsView | null {
  const lane = layout.paths[path];
  const h = lane?.hops[hop];
  const box = lane ? layout.boxes.find((b) => b.id === lane.boxes[hop]) : undefined;
  if (!lane || !h || !box) return null;
  const last = hop === lane.hops.length - 1;
  const onSeveral = new Set(box.visits.map((v) => v.path)).size > 1 || layout.paths.length > 1;
  const endMarker = last ? layout.ends.find((e) => e.path === path) : undefined;
  return {
    heading: h.host,
    role: roleText(box),
    position: `Hop ${hop + 1} of ${lane.hops.length}`,
    ports: `${h.in !== null ? `in ${h.in}` : hop === 0 ? 'starts here' : 'in by a device the capture does not name'}${h.out === null ? '' : endMarker && endMarker.kind !== 'delivered' && endMarker.dev === h.out ? ` → stops at ${h.out}` : ` → out ${h.out}`}`,
    path: onSeveral ? pathLabel(lane, path) : null,
    end: endMarker ? { kind: endMarker.kind, verdict: VERDICT_TEXT[endMarker.verdict], reason: endMarker.reason } : null,
    headers: hopHeaders(lane.hops, hop),
    steps: h.steps.map((s, i) => stepView(s, last && i === h.steps.length - 1 && (s.kind === 'drop' || s.kind === 'deliver'))),
  };
}

/** The headers for the details pane: on the wire after the hop, or into the last one. */
function hopHeaders(hops: readonly Hop[], hop: number): DetailsView['headers'] {
  const wires = pathHeaders(hops);
  const after = wires[hop];
  if (after) return { title: `Leaving by ${hops[hop]!.out ?? 'its out device'}`, lines: headerDetails(after) };
  const before = wires[hop - 1];
  return before ? { title: `As it arrived on ${hops[hop]!.in ?? 'its in device'}`, lines: headerDetails(before) } : null;
}
