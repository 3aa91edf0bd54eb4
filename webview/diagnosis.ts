// The diagnosis beside the verdict: the most likely cause in one line under the reason, then every
// cause with where it lives (host, table), expected against found, the lines that show it, the table
// that was searched when something is missing, the owner and the fix; and what the trace did not
// check. Rendered from the trace's `diagnosis[]` and `unchecked[]` (engine/diagnose.ts); textContent only.
import type { Diagnosis, EvidenceRef, TraceResult } from '../src/shared/protocol';
import { attrs, codicon, el } from './dom';

type WithDiagnosis = Pick<TraceResult, 'diagnosis' | 'unchecked'>;

export interface DiagnosisEvents {
  reveal(ref: EvidenceRef): void;
}

function lines(list: readonly { host: string; probe: string; line: number; raw: string }[], events: DiagnosisEvents): HTMLElement {
  const ul = el('ul', undefined, 'evidence');
  for (const e of list) {
    const li = el('li');
    const ref: EvidenceRef = { host: e.host, probe: e.probe, line: e.line };
    const b = attrs(el('button', `${e.host} ${e.probe}:${e.line}`, 'evidence-loc'), { type: 'button', title: `Show line ${e.line} of ${e.probe} on ${e.host} in the capture` });
    b.addEventListener('click', () => events.reveal(ref));
    li.append(b, el('code', e.raw.trim(), 'evidence-raw'));
    ul.append(li);
  }
  return ul;
}

function cause(d: Diagnosis, i: number, n: number, events: DiagnosisEvents): HTMLElement {
  const li = el('li', undefined, 'cause');
  const head = el('p', undefined, 'cause-head');
  head.append(el('span', n > 1 ? `${i + 1}. ` : '', 'cause-num'), el('strong', d.host, 'cause-host'), el('span', ` ${d.probe}`, 'cause-probe'), el('span', ` — ${d.text}`, 'cause-text'));
  li.append(head);
  const dl = el('dl', undefined, 'cause-facts');
  for (const [k, v] of [
    ['expected', d.expected],
    ['found', d.actual],
    ['owner', d.owner],
    ['fix', d.fix],
  ] as const) {
    dl.append(el('dt', k), el('dd', v));
  }
  li.append(dl);
  if (d.evidence?.length) li.append(lines(d.evidence, events));
  if (d.searched) {
    const more = attrs(el('vscode-collapsible'), { heading: d.searched.length ? `Searched: ${d.host} ${d.searched[0]!.probe} (${d.searched.length} line${d.searched.length === 1 ? '' : 's'})` : `Searched: an empty table` });
    more.append(lines(d.searched, events));
    li.append(more);
  }
  return li;
}

/** The one-line cause under the reason (absent when there is no diagnosis). */
export function causeLine(t: WithDiagnosis): HTMLElement | undefined {
  const d = t.diagnosis?.[0];
  if (!d) return undefined;
  const p = el('p', undefined, 'cause-line');
  p.append(codicon('lightbulb'), el('strong', ' Cause: '), el('span', `${d.text} (${d.owner})`));
  return p;
}

/** The diagnosis section and the not-checked notes (undefined when the trace has neither). */
export function renderDiagnosis(t: WithDiagnosis, events: DiagnosisEvents): HTMLElement | undefined {
  const ds = t.diagnosis ?? [];
  const us = t.unchecked ?? [];
  if (ds.length === 0 && us.length === 0) return undefined;
  const section = attrs(el('section', undefined, 'diagnosis'), { 'aria-label': 'Diagnosis' });
  if (ds.length) {
    section.append(el('h2', ds.length === 1 ? 'Diagnosis' : `Diagnosis: ${ds.length} causes, most likely first`));
    const ol = el('ol', undefined, 'causes');
    ds.forEach((d, i) => ol.append(cause(d, i, ds.length, events)));
    section.append(ol);
  }
  if (us.length) {
    const ul = attrs(el('ul', undefined, 'unchecked'), { 'aria-label': 'Not checked' });
    for (const u of us) {
      const li = el('li');
      li.append(codicon('info'), el('span', ` Not checked: ${u.text}`));
      ul.append(li);
    }
    section.append(ul);
  }
  return section;
}
