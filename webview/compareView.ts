// Two traces side by side (ShowCompare): per trace its title, packet, verdict and reason, then their
// hops aligned (webview/compare.ts) with the row where they part marked, and the steps that differ.
import type { CompareSide, FromWebview, ShowCompare } from '../src/shared/protocol';
import { compareTraces, type CompareRow, type HopCell, type StepCell } from './compare';
import { attrs, codicon, el } from './dom';
import { timeText } from './historyText';
import { flowText, traceTitle, VERDICT_TEXT } from './text';

const SIDES = ['A', 'B'] as const;

function sideCard(name: string, s: CompareSide, post: (m: FromWebview) => void): HTMLElement {
  const t = s.trace;
  const card = attrs(el('section', undefined, `compare-side compare-side-${name.toLowerCase()}`), { 'aria-label': `Trace ${name}` });
  const head = el('div', undefined, 'compare-side-head');
  const kind = t.verdict === 'delivered' ? 'delivered' : 'drop';
  const verdict = el('span', undefined, `verdict verdict-${kind}`);
  verdict.append(codicon(kind === 'delivered' ? 'pass' : 'error'), el('span', VERDICT_TEXT[t.verdict]));
  head.append(el('span', name, 'compare-side-name'), el('h2', traceTitle(t)), verdict);
  const show = attrs(el('vscode-button', `Show ${name}`), { secondary: true, icon: 'eye', title: `Show trace ${name} in the path view` });
  show.addEventListener('click', () => post({ type: 'historyGo', id: s.id }));
  head.append(show);
  card.append(head, el('p', flowText(t), 'flow'), el('p', t.reason, 'reason'));
  const prov = el('p', undefined, `provenance${s.loaded ? '' : ' provenance-stale'}`);
  if (!s.loaded) prov.append(codicon('warning'), el('span', ' '));
  prov.append(el('span', `Computed on ${s.source} at ${timeText(s.shownAt ?? 0)}${s.loaded ? '' : ' (that capture is no longer loaded)'}`));
  card.append(prov);
  return card;
}

function hopText(c: HopCell | null): string {
  return c ? `${c.index + 1}. ${c.host} · ${c.in ?? 'origin'} → ${c.out ?? 'stops'} · ${c.steps} step${c.steps === 1 ? '' : 's'}` : '—';
}

function stepBox(name: string, s: StepCell | undefined): HTMLElement {
  const box = el('div', undefined, 'compare-step');
  box.append(el('span', name, 'compare-side-name'));
  if (!s) {
    box.append(el('span', 'no further step', 'compare-step-none'));
    return box;
  }
  box.append(el('span', `step ${s.index + 1}`, 'compare-step-index'), el('span', s.label, 'step-kind'), el('p', s.text, 'step-text'));
  return box;
}

export function renderCompare(app: HTMLElement, m: ShowCompare, post: (msg: FromWebview) => void): void {
  const c = compareTraces(m.a.trace, m.b.trace);
  app.replaceChildren();
  const head = el('header', undefined, 'compare-head');
  head.append(el('h1', 'Compare traces'));
  app.append(head);

  const sides = el('div', undefined, 'compare-sides');
  sides.append(sideCard(SIDES[0], m.a, post), sideCard(SIDES[1], m.b, post));
  app.append(sides);

  const summary = attrs(el('section', undefined, 'compare-summary'), { 'aria-label': 'Where the traces differ' });
  summary.append(el('p', c.packet.length ? `The packets differ: ${c.packet.join(', ')}.` : 'The same packet.', 'compare-packet'));
  const div = el('p', undefined, `compare-divergence${c.divergence ? ' differs' : ''}`);
  div.append(codicon(c.divergence ? 'git-compare' : 'check'), el('span', ` ${c.divergence ? c.divergence.text : 'The two traces take the same hops and steps and end the same way.'}`));
  summary.append(div);
  if (c.divergence?.kind === 'step' || c.divergence?.kind === 'verdict') {
    const steps = el('div', undefined, 'compare-steps');
    steps.append(stepBox('A', c.divergence.a), stepBox('B', c.divergence.b));
    summary.append(steps);
  }
  if (c.firstPathOnly) summary.append(el('p', 'A trace with several paths is compared by its first path.', 'compare-note'));
  app.append(summary);

  const table = attrs(el('table', undefined, 'compare-hops'), { 'aria-label': 'Hops side by side' });
  const headRow = el('tr');
  headRow.append(el('th', 'A'), el('th', ''), el('th', 'B'));
  const thead = el('thead');
  thead.append(headRow);
  const body = el('tbody');
  c.rows.forEach((r: CompareRow, i: number) => {
    const tr = el('tr', undefined, `compare-row${r.same ? '' : ' differs'}${c.divergence?.row === i ? ' diverges' : ''}`);
    const mark = c.divergence?.row === i ? 'parts here' : r.same ? '=' : '≠';
    tr.append(el('td', hopText(r.a), 'compare-hop'), el('td', mark, 'compare-mark'), el('td', hopText(r.b), 'compare-hop'));
    body.append(tr);
  });
  table.append(thead, body);
  app.append(table);
}
