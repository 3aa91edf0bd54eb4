// Two traces side by side: their hops aligned, and where they first part. Pure (no DOM), tested under
// node; webview/compareView.ts renders it. Each trace's first path (`trace.hops`) is compared.
//
// Hops are aligned by host with a longest common subsequence, so a detour on one side shows as hops
// the other side lacks instead of shifting every row after it. Two aligned hops are the same when they
// enter and leave by the same devices and take the same steps: the same kind, and a typed detail that
// decided the same (the route, neighbour, FDB entry, rule it found). The packet's own fields in a
// detail (its size, addresses, ports, TTL) and the step texts, which name them, are not compared: a
// 64- and a 1500-byte packet take the same route step.
import type { Flow, Hop, Step, TraceResult } from '../src/shared/protocol';
import { VERDICT_TEXT } from './text';

export interface HopCell {
  /** 0-based index in its trace's hops. */
  index: number;
  host: string;
  in: string | null;
  out: string | null;
  steps: number;
}

export interface CompareRow {
  a: HopCell | null;
  b: HopCell | null;
  /** False when the row differs (a hop on one side only, other devices, other steps). */
  same: boolean;
}

export interface StepCell {
  /** 0-based index in its hop's steps. */
  index: number;
  /** "drop (mtu)", "neigh" */
  label: string;
  text: string;
}

export type DivergenceKind = 'hop' | 'devices' | 'step' | 'verdict';

export interface Divergence {
  /** The row where the traces first differ. */
  row: number;
  kind: DivergenceKind;
  host: string;
  /** The first steps that differ (kind 'step'; 'verdict' gives each side's last step). */
  a?: StepCell;
  b?: StepCell;
  /** One sentence: where and how they part. */
  text: string;
}

export interface Comparison {
  rows: CompareRow[];
  divergence: Divergence | null;
  /** How the packets differ ("size 64 → 1500 bytes"); empty for the same packet. */
  packet: string[];
  /** True when either trace has more than one path (only the first of each is aligned). */
  firstPathOnly: boolean;
}

/** A step's signature: its kind and the type of its typed detail (a `drop` of type `mtu`). */
export function stepLabel(s: Step): string {
  const type = s.detail?.type;
  return type !== undefined && type !== s.kind ? `${s.kind} (${type})` : s.kind;
}

/** Fields of a step's detail that describe the packet rather than the decision. */
const PACKET_FIELDS = new Set(['size', 'total', 'src', 'dst', 'sport', 'dport', 'proto', 'ttl', 'df']);

/** What a step decided, as a comparable string: its label and its detail without the packet's fields. */
function decision(s: Step): string {
  if (!s.detail) return stepLabel(s);
  const rest = Object.fromEntries(Object.entries(s.detail).filter(([k]) => !PACKET_FIELDS.has(k)));
  return `${stepLabel(s)}|${JSON.stringify(rest)}`;
}

function cell(h: Hop, index: number): HopCell {
  return { index, host: h.host, in: h.in, out: h.out, steps: h.steps.length };
}

/** Pairs of indexes (i in a, j in b) of the longest common subsequence of host names, in order. */
function lcs(a: readonly string[], b: readonly string[]): [number, number][] {
  const n = a.length;
  const m = b.length;
  const len: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) len[i]![j] = a[i] === b[j] ? len[i + 1]![j + 1]! + 1 : Math.max(len[i + 1]![j]!, len[i]![j + 1]!);
  const pairs: [number, number][] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      pairs.push([i, j]);
      i++;
      j++;
    } else if (len[i + 1]![j]! >= len[i]![j + 1]!) i++;
    else j++;
  }
  return pairs;
}

/** The aligned rows: matched hops side by side, a hop one side lacks in its own row, in path order. */
export function alignHops(a: readonly Hop[], b: readonly Hop[]): CompareRow[] {
  const rows: CompareRow[] = [];
  let i = 0;
  let j = 0;
  for (const [pi, pj] of [...lcs(a.map((h) => h.host), b.map((h) => h.host)), [a.length, b.length] as [number, number]]) {
    for (; i < pi; i++) rows.push({ a: cell(a[i]!, i), b: null, same: false });
    for (; j < pj; j++) rows.push({ a: null, b: cell(b[j]!, j), same: false });
    if (pi < a.length && pj < b.length) {
      rows.push({ a: cell(a[pi]!, pi), b: cell(b[pj]!, pj), same: sameHop(a[pi]!, b[pj]!) });
      i = pi + 1;
      j = pj + 1;
    }
  }
  return rows;
}

function sameHop(x: Hop, y: Hop): boolean {
  return x.in === y.in && x.out === y.out && firstStepDifference(x, y) === null;
}

/** The index of the first step whose signature differs (or that one side lacks); null when none. */
function firstStepDifference(x: Hop, y: Hop): number | null {
  const n = Math.max(x.steps.length, y.steps.length);
  for (let k = 0; k < n; k++) {
    const s = x.steps[k];
    const t = y.steps[k];
    if (!s || !t || decision(s) !== decision(t)) return k;
  }
  return null;
}

function stepCell(h: Hop, index: number): StepCell | undefined {
  const s = h.steps[index];
  return s ? { index, label: stepLabel(s), text: s.text } : undefined;
}

const devices = (c: HopCell) => `${c.in ?? '(origin)'} → ${c.out ?? '(stops)'}`;

/** "size 64 → 1500 bytes", "protocol ICMP → TCP", ... */
export function packetDifferences(a: Flow, b: Flow): string[] {
  const out: string[] = [];
  if (a.proto !== b.proto) out.push(`protocol ${a.proto.toUpperCase()} → ${b.proto.toUpperCase()}`);
  if (a.src !== b.src) out.push(`source ${a.src} → ${b.src}`);
  if (a.dst !== b.dst) out.push(`destination ${a.dst} → ${b.dst}`);
  if (a.sport !== b.sport) out.push(`source port ${a.sport ?? 'none'} → ${b.sport ?? 'none'}`);
  if (a.dport !== b.dport) out.push(`port ${a.dport ?? 'none'} → ${b.dport ?? 'none'}`);
  if (a.size !== b.size) out.push(`size ${a.size} → ${b.size} bytes`);
  if (a.df !== b.df) out.push(`Don't Fragment ${a.df ? 'set' : 'clear'} → ${b.df ? 'set' : 'clear'}`);
  return out;
}

/** Aligns two traces' first paths and finds where they part (A is the first trace, B the second). */
export function compareTraces(a: TraceResult, b: TraceResult): Comparison {
  const rows = alignHops(a.hops, b.hops);
  let divergence: Divergence | null = null;
  for (let r = 0; r < rows.length && !divergence; r++) {
    const { a: x, b: y } = rows[r]!;
    if (!x || !y) {
      const only = (x ?? y)!;
      divergence = { row: r, kind: 'hop', host: only.host, text: `The paths part at ${only.host}: only ${x ? 'A' : 'B'} goes through it (hop ${only.index + 1}).` };
      continue;
    }
    const hx = a.hops[x.index]!;
    const hy = b.hops[y.index]!;
    const k = firstStepDifference(hx, hy);
    if (k !== null) {
      const sa = stepCell(hx, k);
      const sb = stepCell(hy, k);
      const what = (s: StepCell | undefined, side: string) => (s ? `${s.label} in ${side}` : `nothing more in ${side}`);
      const how = sa && sb && sa.label === sb.label ? `${sa.label} in both, decided differently` : `${what(sa, 'A')}, ${what(sb, 'B')}`;
      divergence = { row: r, kind: 'step', host: x.host, ...(sa ? { a: sa } : {}), ...(sb ? { b: sb } : {}), text: `The traces part at ${x.host} (hop ${x.index + 1} of A, ${y.index + 1} of B), step ${k + 1}: ${how}.` };
    } else if (x.in !== y.in || x.out !== y.out) {
      divergence = { row: r, kind: 'devices', host: x.host, text: `The traces part at ${x.host}: A goes ${devices(x)}, B ${devices(y)}.` };
    }
  }
  if (!divergence && a.verdict !== b.verdict) {
    const r = rows.length - 1;
    const last = rows[r];
    const host = last?.a?.host ?? last?.b?.host ?? '';
    divergence = { row: Math.max(r, 0), kind: 'verdict', host, text: `The same hops and steps, but A ends ${VERDICT_TEXT[a.verdict]} and B ${VERDICT_TEXT[b.verdict]}.` };
  }
  return { rows, divergence, packet: packetDifferences(a.flow, b.flow), firstPathOnly: a.paths.length > 1 || b.paths.length > 1 };
}
