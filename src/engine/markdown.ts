// A trace as Markdown, for a ticket or a chat: the verdict and its reason, the flow, every path's hops
// and steps with the probe lines that decided them (as code), and the likely causes when there are
// any. Made from the TraceResult's typed fields and its sentences only, like every other view. Pure.
import type { Diagnosis, Evidence, Hop, Step, TracePath, TraceResult } from './trace';

/**
 * Inline text from the trace (names are data): the characters that would start emphasis, code, a
 * link, HTML or a table cell are escaped (parentheses need no escape once brackets have one), and
 * lines are joined.
 */
function inline(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/([\\`*_[\]<>|~])/g, '\\$1');
}

/** Inline code that survives backticks inside it. */
function code(text: string): string {
  const t = text.replace(/\r?\n/g, ' ');
  const longest = Math.max(0, ...(t.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  const pad = t.startsWith('`') || t.endsWith('`') || t === '' ? ' ' : '';
  return `${fence}${pad}${t}${pad}${fence}`;
}

/** A fenced block of evidence lines, `host probe:line  raw`; the fence is longer than any backtick run inside. */
function evidenceBlock(records: readonly Evidence[], indent: string): string[] {
  if (records.length === 0) return [];
  const body = records.map((e) => `${e.host} ${e.probe}:${e.line}  ${e.raw.replace(/\r?\n/g, ' ').trim()}`);
  const longest = Math.max(0, ...body.flatMap((l) => (l.match(/`+/g) ?? []).map((r) => r.length)));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return [`${indent}${fence}text`, ...body.map((l) => `${indent}${l}`), `${indent}${fence}`];
}

function flowLine(r: TraceResult): string {
  const f = r.flow;
  const sport = f.sport !== undefined ? `:${f.sport}` : '';
  const dport = f.dport !== undefined ? `:${f.dport}` : '';
  return `${f.proto.toUpperCase()} ${f.src}${sport} → ${f.dst}${dport}, ${f.size} bytes${f.df ? ", Don't Fragment" : ''}`;
}

function stepLines(s: Step): string[] {
  const marks = [s.inferred ? ' *(inferred)*' : '', s.unvouched ? ` *(not vouched for: ${s.unvouched.reason})*` : ''].join('');
  return [`- **${s.kind}**${marks}: ${inline(s.text)}`, ...evidenceBlock(s.records, '  ')];
}

function hopLines(h: Hop, i: number, total: number, level: string): string[] {
  const ports = `in ${h.in === null ? '—' : code(h.in)}, out ${h.out === null ? '—' : code(h.out)}`;
  return [`${level} Hop ${i + 1} of ${total}: ${inline(h.host)}`, '', ports, '', ...h.steps.flatMap(stepLines), ''];
}

function endText(p: TracePath | TraceResult): string {
  const at = p.dropAt ? ` at ${inline(p.dropAt.host)}${p.dropAt.dev ? ` ${code(p.dropAt.dev)}` : ''}` : '';
  return `${code(p.verdict)}${p.verdict === 'delivered' ? '' : at}`;
}

function diagnosisLines(ds: readonly Diagnosis[]): string[] {
  if (ds.length === 0) return [];
  const out = ['## Likely causes', ''];
  ds.forEach((d, i) => {
    out.push(`${i + 1}. ${inline(d.text)}`);
    out.push(`   - where: ${inline(d.host)} ${code(d.probe)}`);
    out.push(`   - expected: ${inline(d.expected)}`);
    out.push(`   - found: ${inline(d.actual)}`);
    out.push(`   - fix (${inline(d.owner)}): ${inline(d.fix)}`);
    out.push(...evidenceBlock(d.evidence ?? [], '   '));
    if (d.searched) out.push(`   - searched (${d.searched.length} line${d.searched.length === 1 ? '' : 's'}):`, ...evidenceBlock(d.searched, '     '));
  });
  out.push('');
  return out;
}

/** The title a trace goes by in every view: `web-0 → web-1`, `web-0 → svc default/web:http`. */
export function traceTitleText(r: TraceResult): string {
  return `${r.from.host} → ${r.service !== undefined ? `svc ${r.service}` : (r.to.host ?? r.to.ip)}`;
}

/** The whole trace as GitHub-flavoured Markdown. `source` names where the capture came from. */
export function traceMarkdown(r: TraceResult, opts: { source?: string } = {}): string {
  const out: string[] = [`# netpath trace: ${inline(traceTitleText(r))}`, ''];
  out.push(`**Verdict:** ${endText(r)}`, '');
  out.push(`**Reason:** ${inline(r.reason)}`, '');
  out.push(`**Flow:** ${code(flowLine(r))} (from ${inline(r.from.host)} ${code(r.from.ip)} to ${r.to.host === null ? 'no host in the capture' : inline(r.to.host)} ${code(r.to.ip)})`, '');
  if (r.service !== undefined) out.push(`**Service:** ${code(r.service)}`, '');
  if (opts.source !== undefined) out.push(`**Capture:** ${inline(opts.source)}`, '');
  if (r.inferred) out.push('> Some steps are inferred: the capture does not hold the table that would decide them. They are marked *(inferred)*.', '');
  out.push(...diagnosisLines(r.diagnosis ?? []));
  if (r.unchecked?.length) out.push('## Not checked', '', ...r.unchecked.map((u) => `- ${inline(u.text)}`), '');
  for (const f of r.findings ?? []) {
    out.push(`> **Finding** on ${inline(f.host)}: ${inline(f.text)} Expected: ${inline(f.expected)}. Found: ${inline(f.actual)}. Fix (${inline(f.owner)}): ${inline(f.fix)}`, '');
  }
  const paths = r.paths.length ? r.paths : [{ ...r, branch: '', floodCopy: false }];
  if (paths.length === 1) {
    out.push('## Hops', '');
    paths[0]!.hops.forEach((h, i, all) => out.push(...hopLines(h, i, all.length, '###')));
  } else {
    out.push(`## ${paths.length} paths`, '');
    paths.forEach((p, n) => {
      const extra = [p.endpoint ? `endpoint ${code(p.endpoint.port !== undefined ? `${p.endpoint.ip}:${p.endpoint.port}` : p.endpoint.ip)}` : '', p.probability !== undefined ? `probability ${Math.round(p.probability * 1000) / 10}%` : '', p.floodCopy ? 'a copy' : ''].filter(Boolean).join(', ');
      out.push(`### Path ${n + 1}${p.branch ? `: ${inline(p.branch)}` : ''}`, '', `${endText(p)}${extra ? ` (${extra})` : ''}: ${inline(p.reason)}`, '');
      p.hops.forEach((h, i, all) => out.push(...hopLines(h, i, all.length, '####')));
    });
  }
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}
