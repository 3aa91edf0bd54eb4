// The policy matrix: who may talk to whom on one port. Rows are sources, columns destinations; a cell
// is a button that asks the extension to explain it (the policies and rules behind it), and the
// explanation offers to trace that pair. Names are data: textContent only.
import type { FromWebview, ShowMatrix } from '../src/shared/protocol';
import { attrs, el } from './dom';
import { cellLabel, cellMark } from './matrixText';

export function renderMatrix(app: HTMLElement, m: ShowMatrix, post: (msg: FromWebview) => void): void {
  app.replaceChildren();
  app.classList.remove('trace-view');
  app.classList.add('matrix-view');
  app.append(el('h1', `Policy matrix: ${m.title}`), el('p', `${m.flow} · ${m.source}`, 'source'));
  app.append(el('p', 'Rows send, columns receive. · allowed; E denied at egress, I at ingress, X at both. Click a cell for the policies behind it.', 'matrix-legend'));
  const table = attrs(el('table', undefined, 'matrix'), { role: 'grid', 'aria-label': `Policy matrix, ${m.flow}` });
  const head = el('tr');
  head.append(el('th', 'from \\ to'));
  m.cols.forEach((c, i) => head.append(attrs(el('th', String(i + 1), 'matrix-col'), { title: c, scope: 'col' })));
  table.append(head);
  m.rows.forEach((r, ri) => {
    const tr = el('tr');
    tr.append(attrs(el('th', `${ri + 1} ${r}`, 'matrix-row'), { scope: 'row' }));
    m.cols.forEach((c, ci) => {
      const cell = m.cells[ri]?.[ci];
      const td = el('td');
      if (cell) {
        const b = attrs(el('button', cellMark(cell), `matrix-cell ${cell.verdict}${cell.self ? ' self' : ''}`), { 'aria-label': cellLabel(r, c, cell), title: cellLabel(r, c, cell), 'data-row': ri, 'data-col': ci });
        if (m.details && m.details.row === ri && m.details.col === ci) b.classList.add('selected');
        b.addEventListener('click', () => post({ type: 'matrixCell', row: ri, col: ci }));
        td.append(b);
      }
      tr.append(td);
    });
    table.append(tr);
  });
  app.append(table);
  const key = el('ol', undefined, 'matrix-key');
  for (const c of m.cols) key.append(el('li', c));
  app.append(key);
  if (m.notes.length) {
    const notes = el('ul', undefined, 'matrix-notes');
    for (const n of m.notes) notes.append(el('li', n));
    app.append(notes);
  }
  const d = m.details;
  if (d) {
    const box = attrs(el('section', undefined, `matrix-details ${d.verdict}`), { 'aria-live': 'polite' });
    box.append(el('h2', `${d.from} → ${d.to}: ${d.verdict}`), el('p', d.egress, 'matrix-egress'), el('p', d.ingress, 'matrix-ingress'));
    for (const n of d.notes) box.append(el('p', n, 'matrix-note'));
    const trace = el('button', 'Trace this pair', 'matrix-trace');
    trace.addEventListener('click', () => post({ type: 'matrixTrace', row: d.row, col: d.col }));
    box.append(trace);
    app.append(box);
  }
}
