// The path view's history bar: Back and Forward (Alt+Left, Alt+Right), the list of recent traces,
// Compare with..., and Reverse. The extension keeps the history (src/vscode/model/history.ts) and
// sends it with every trace; choosing an entry asks the extension to show that stored trace again.
import type { FromWebview, ShowTrace } from '../src/shared/protocol';
import { attrs, codicon, el } from './dom';
import { historyLabel, neighbours, provenanceText } from './historyText';

function iconButton(label: string, icon: string, title: string, cls: string): HTMLElement {
  return attrs(el('vscode-button', label, cls), { secondary: true, icon, title });
}

/** Back and Forward: the arrow alone (the header has little height to spare), named for screen readers. */
function arrowButton(label: string, icon: string, title: string, cls: string): HTMLElement {
  return attrs(el('vscode-button', undefined, cls), { secondary: true, icon, title, 'aria-label': label });
}

/** Puts the history bar at the top of the path view's header and the provenance line under the source. */
export function renderHistoryBar(head: HTMLElement, m: ShowTrace, post: (msg: FromWebview) => void): void {
  const bar = attrs(el('div', undefined, 'history-bar'), { role: 'toolbar', 'aria-label': 'Trace history' });
  const h = m.history;
  const { back, forward } = h ? neighbours(h) : {};
  const backButton = arrowButton('Back', 'arrow-left', back ? `Back to ${back.title}, ${back.packet} (Alt+Left)` : 'No earlier trace (Alt+Left)', 'history-back');
  const forwardButton = arrowButton('Forward', 'arrow-right', forward ? `Forward to ${forward.title}, ${forward.packet} (Alt+Right)` : 'No later trace (Alt+Right)', 'history-forward');
  attrs(backButton, { disabled: !back });
  attrs(forwardButton, { disabled: !forward });
  if (back) backButton.addEventListener('click', () => post({ type: 'historyGo', id: back.id }));
  if (forward) forwardButton.addEventListener('click', () => post({ type: 'historyGo', id: forward.id }));
  bar.append(backButton, forwardButton);

  if (h && h.items.length > 0) {
    const select = attrs(el('select', undefined, 'history-list'), { 'aria-label': 'Recent traces', title: 'Recent traces: choose one to show it again' });
    // Newest first, as a recent list reads.
    for (const item of [...h.items].reverse()) {
      const option = el('option', historyLabel(item));
      option.value = String(item.id);
      option.selected = item.id === h.current;
      if (!item.loaded) option.className = 'history-stale';
      select.append(option);
    }
    select.addEventListener('change', () => {
      const id = Number(select.value);
      if (Number.isSafeInteger(id) && id !== h.current) post({ type: 'historyGo', id });
    });
    bar.append(select);
  }
  const compareButton = iconButton('Compare with...', 'diff', 'Compare this trace with another from the history, side by side', 'history-compare');
  attrs(compareButton, { disabled: !h || h.items.length < 2 });
  compareButton.addEventListener('click', () => post({ type: 'compare' }));
  const reverseButton = iconButton('Reverse', 'arrow-swap', 'Trace the packet back: from the destination to the source, on the capture loaded now', 'history-reverse');
  reverseButton.addEventListener('click', () => post({ type: 'reverse' }));
  bar.append(compareButton, reverseButton);
  head.prepend(bar);

  if (m.note) head.append(el('p', m.note, 'trace-note'));
  const prov = provenanceText(m);
  if (prov) {
    const p = el('p', undefined, `provenance${prov.stale ? ' provenance-stale' : ''}`);
    if (prov.stale) p.append(codicon('warning'), el('span', ' '));
    p.append(el('span', prov.text));
    head.append(p);
  }
}

/** Alt+Left / Alt+Right anywhere in the view: Back / Forward, when the view shows a trace with a history. */
export function installHistoryKeys(shown: () => ShowTrace | undefined, post: (msg: FromWebview) => void): void {
  document.addEventListener('keydown', (ev) => {
    if (!ev.altKey || ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
    if (ev.key !== 'ArrowLeft' && ev.key !== 'ArrowRight') return;
    const m = shown();
    if (!m?.history) return;
    const { back, forward } = neighbours(m.history);
    const to = ev.key === 'ArrowLeft' ? back : forward;
    ev.preventDefault();
    if (to) post({ type: 'historyGo', id: to.id });
  });
}
