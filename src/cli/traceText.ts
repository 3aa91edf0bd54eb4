// The hop-by-hop table `netpath trace` prints by default.
import { printable } from '../capture/text';
import type { TraceResult } from '../engine';

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

export function traceText(r: TraceResult, width = 100): string {
  const lines: string[] = [];
  const f = r.flow;
  lines.push(`${r.from.host} (${f.src}) -> ${r.to.host ?? f.dst} (${f.dst}), ${f.proto}${f.dport !== undefined ? `/${f.dport}` : ''}, ${f.size} bytes${f.df ? ', DF' : ''}`);
  lines.push(`verdict: ${r.verdict.toUpperCase()}${r.dropAt ? ` at ${r.dropAt.host}${r.dropAt.dev ? ` ${r.dropAt.dev}` : ''}` : ''}`);
  lines.push(`  ${r.reason}`);
  if (r.inferred) lines.push('  (some steps are inferred, marked *: the capture does not hold every table)');
  lines.push('');
  r.hops.forEach((h, i) => {
    lines.push(`${String(i + 1).padStart(2)}. ${h.host}   in ${h.in ?? '-'}   out ${h.out ?? '-'}`);
    for (const s of h.steps) {
      const tag = `${s.kind}${s.inferred ? '*' : ''}`.padEnd(12);
      const body = wrap(s.text, width - 18);
      lines.push(`      ${tag}${body[0] ?? ''}`);
      for (const more of body.slice(1)) lines.push(`      ${' '.repeat(12)}${more}`);
      for (const e of s.records) lines.push(`      ${' '.repeat(12)}| ${e.host} ${e.probe}:${e.line}  ${e.raw.trim()}`);
    }
  });
  const others = r.paths.filter((p) => p.branch !== '');
  if (others.length > 1) {
    lines.push('');
    lines.push(`${others.length} paths (ECMP next hops and flood copies):`);
    for (const p of others) lines.push(`  ${p.branch}: ${p.verdict}${p.dropAt ? ` at ${p.dropAt.host}${p.dropAt.dev ? ` ${p.dropAt.dev}` : ''}` : ''}`);
  }
  return lines.map(printable).join('\n') + '\n';
}
