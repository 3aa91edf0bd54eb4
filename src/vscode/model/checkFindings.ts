// The Check Cluster findings as plain tagged data: the tree's nodes (a cause -> the pairs it fails; the
// tables' own findings) and the Problems panel's entries (each at the capture line of its evidence).
// Pure: no vscode here; views/checkView.ts makes the TreeItems, commands/check.ts the Diagnostics.
import type { CauseGroup, CheckFailure, ClusterCheckReport, Diagnosis, Evidence } from '../../engine';
import type { Discrepancy } from '../../engine/checks';

/** Pairs a group shows before a "… more" row. */
export const PAIRS_SHOWN = 50;

export type FindingNode =
  | { kind: 'summary'; text: string; tooltip: string }
  | { kind: 'group'; index: number; label: string; description: string; tooltip: string; group: CauseGroup; diagnosed: boolean }
  | { kind: 'pair'; label: string; description: string; from: string; to: string }
  | { kind: 'more'; text: string }
  | { kind: 'tables'; count: number }
  | { kind: 'table'; label: string; description: string; tooltip: string; finding: Discrepancy; alsoCause: boolean }
  | { kind: 'skipped'; label: string; description: string };

/** A cause in the words the CLI uses: host, table, kind and the sentence. */
type CauseWords = Pick<Diagnosis, 'host' | 'probe' | 'text' | 'owner' | 'fix' | 'evidence' | 'searched'> & { kind: string };

function causeOf(g: CauseGroup): CauseWords | undefined {
  if (g.cause.type === 'diagnosis') return g.cause.diagnosis;
  if (g.cause.type === 'service-finding') return g.cause.finding;
  return undefined;
}

function groupLabel(g: CauseGroup): string {
  const c = causeOf(g);
  if (c) return c.text;
  if (g.cause.type !== 'undiagnosed') return '';
  const at = g.cause.dropAt ? `${g.cause.dropAt.host}${g.cause.dropAt.dev ? ` ${g.cause.dropAt.dev}` : ''}` : 'the end of the path';
  return `${g.cause.verdict} at ${at} (no table entry named as the cause)`;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en')} ${n === 1 ? one : many}`;

export function pairLabel(f: CheckFailure): string {
  const to = f.kind === 'pod' ? f.to : f.kind === 'node' ? `${f.toNode ?? f.to} (${f.to})` : `${f.to}${f.endpoint ? ` → ${f.endpoint}` : ''}`;
  return `${f.from} → ${to}`;
}

/** What `netpath trace` takes for the pair (a pod pair: the address the check traced to). */
export function pairRequest(f: CheckFailure): { from: string; to: string } {
  return { from: f.from, to: f.kind === 'pod' && f.toIp !== undefined ? f.toIp : f.to };
}

const tableKey = (d: { kind: string; host: string; text: string }) => `${d.kind}|${d.host}|${d.text}`;

/** The tree's top level. */
export function rootNodes(r: ClusterCheckReport): FindingNode[] {
  const traced = r.traced.pod + r.traced.node + r.traced.service;
  const failed = r.failed.pod + r.failed.node + r.failed.service;
  const out: FindingNode[] = [
    {
      kind: 'summary',
      text: failed ? `${plural(failed, 'pair')} not delivered, ${plural(r.groups.length, 'cause')}` : `${plural(traced, 'trace')}: all delivered`,
      tooltip: `${r.complete ? '' : 'INCOMPLETE: the check was cancelled before its end.\n'}Traced ${plural(r.traced.pod, 'pod-to-pod pair')}, ${plural(r.traced.node, 'node-to-node pair')}, ${plural(r.traced.service, 'Service port')}.\nOne pod per node: ${r.representatives.map((x) => `${x.node} ${x.pod}`).join(', ')}${r.withoutPod.length ? `\nNo pod to trace on: ${r.withoutPod.map((w) => w.node).join(', ')}` : ''}`,
    },
  ];
  r.groups.forEach((g, i) => {
    const c = causeOf(g);
    const kinds = (['pod', 'node', 'service'] as const).map((k) => [k, g.failures.filter((f) => f.kind === k).length] as const).filter(([, n]) => n > 0);
    out.push({
      kind: 'group',
      index: i + 1,
      label: groupLabel(g),
      description: `${plural(g.failures.length, 'pair')}${c ? ` · ${c.host} ${c.probe}` : ''}`,
      tooltip: [groupLabel(g), c ? `${c.host} ${c.probe} (${c.kind})` : '', c?.owner ? `owner: ${c.owner}` : '', c?.fix ? `fix: ${c.fix}` : '', `fails ${kinds.map(([k, n]) => `${n} ${k === 'pod' ? 'pod-to-pod' : k === 'node' ? 'node-to-node' : 'Service'}`).join(', ')}`].filter(Boolean).join('\n'),
      group: g,
      diagnosed: c !== undefined,
    });
  });
  if (!r.complete) out.push({ kind: 'more', text: 'cancelled before the end: run Check Cluster again for every pair' });
  out.push({ kind: 'tables', count: r.tables.length });
  for (const x of r.servicesSkipped) out.push({ kind: 'skipped', label: x.service, description: `not traced: ${x.why}` });
  return out;
}

export function childNodes(r: ClusterCheckReport, parent: FindingNode): FindingNode[] {
  if (parent.kind === 'group') {
    const shown = parent.group.failures.slice(0, PAIRS_SHOWN).map((f): FindingNode => ({ kind: 'pair', label: pairLabel(f), description: `${f.verdict}${f.dropAt ? ` at ${f.dropAt.host}${f.dropAt.dev ? ` ${f.dropAt.dev}` : ''}` : ''}`, ...pairRequest(f) }));
    const more = parent.group.failures.length - shown.length;
    return more > 0 ? [...shown, { kind: 'more', text: `… and ${more.toLocaleString('en')} more (netpath check --json lists every one)` }] : shown;
  }
  if (parent.kind === 'tables') {
    const causes = new Set(r.groups.flatMap((g) => (causeOf(g) ? [tableKey(causeOf(g)!)] : [])));
    return r.tables.map((d) => ({ kind: 'table', label: d.text, description: `${d.host} ${d.probe}${causes.has(tableKey(d)) ? ' · a cause above' : ''}`, tooltip: [d.text, `${d.host} ${d.probe} (${d.kind})`, `expected: ${d.expected}`, `found: ${d.actual}`, `owner: ${d.owner}`, `fix: ${d.fix}`].join('\n'), finding: d, alsoCause: causes.has(tableKey(d)) }));
  }
  return [];
}

/** One entry of the Problems panel: where in the capture, and what to say. */
export interface Problem {
  /** The probe line it belongs at; undefined when no line of the capture shows it (then the file's first line). */
  at: Pick<Evidence, 'host' | 'probe' | 'line'> | undefined;
  message: string;
  /** A failing cause is an error; a table finding no traced pair fails is a warning. */
  severity: 'error' | 'warning';
  code: string;
}

/** Where a cause's evidence is: its first wrong line, else the first line of the table searched for what is missing. */
function placeOf(c: Pick<CauseWords, 'evidence' | 'searched' | 'host' | 'probe'>): Problem['at'] {
  const e = c.evidence?.[0] ?? c.searched?.[0];
  if (e) return { host: e.host, probe: e.probe, line: e.line };
  return c.probe ? { host: c.host, probe: c.probe, line: 1 } : undefined;
}

/** Every cause once (a group's cause says how many pairs it fails), then the table findings no group names. */
export function problemsOf(r: ClusterCheckReport): Problem[] {
  const out: Problem[] = [];
  const said = new Set<string>();
  for (const g of r.groups) {
    const c = causeOf(g);
    const n = plural(g.failures.length, 'traced pair');
    if (c) {
      said.add(tableKey(c));
      out.push({ at: placeOf(c), message: `${c.text} — fails ${n}${c.fix ? `. Fix: ${c.fix}` : ''}`, severity: 'error', code: c.kind });
    } else if (g.cause.type === 'undiagnosed') {
      const f = g.failures[0]!;
      out.push({ at: undefined, message: `${groupLabel(g)} — ${n}, e.g. ${pairLabel(f)}`, severity: 'error', code: String(g.cause.verdict) });
    }
  }
  for (const d of r.tables) {
    if (said.has(tableKey(d))) continue;
    said.add(tableKey(d));
    out.push({ at: placeOf(d), message: `${d.text}. Fix: ${d.fix}`, severity: 'warning', code: d.kind });
  }
  return out;
}
