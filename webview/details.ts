// The details pane: the steps of the selected hop, each with its explanation and the raw probe
// lines that decided it. Built from a DetailsView (text.ts); all text goes in as textContent.
import type { EvidenceRef, StepDetail } from '../src/shared/protocol';
import { markDeciding } from './deciding';
import { attrs, codicon, el } from './dom';
import { endIcon, type DetailsView, type EvidenceLine, type StepView } from './text';

export interface DetailsEvents {
  reveal(ref: EvidenceRef): void;
}

/** An evidence line with the value that decided the step marked (textContent only). */
function rawLine(raw: string, detail: StepDetail | undefined): HTMLElement {
  const code = el('code', undefined, 'evidence-raw');
  for (const seg of markDeciding(raw, detail)) {
    if (seg.mark) code.append(attrs(el('mark', seg.text, 'deciding'), { title: 'The value that decided this step' }));
    else code.append(document.createTextNode(seg.text));
  }
  return code;
}

function evidenceList(lines: EvidenceLine[], events: DetailsEvents, detail?: StepDetail): HTMLElement {
  const list = el('ul', undefined, 'evidence');
  for (const line of lines) {
    const li = el('li');
    if (line.ref) {
      const ref = line.ref;
      const b = attrs(el('button', line.location, 'evidence-loc'), { type: 'button', title: `Show line ${ref.line} of ${ref.probe} on ${ref.host} in the capture` });
      b.addEventListener('click', () => events.reveal(ref));
      li.append(b);
    } else if (line.location) {
      li.append(el('span', line.location, 'evidence-loc'));
    }
    li.append(detail ? rawLine(line.raw, detail) : el('code', line.raw, 'evidence-raw'));
    list.append(li);
  }
  return list;
}

function stepItem(s: StepView, events: DetailsEvents): HTMLElement {
  const li = el('li', undefined, `step step-${s.kind}${s.final ? ' final' : ''}${s.inferred ? ' inferred' : ''}`);
  const head = el('div', undefined, 'step-head');
  head.append(el('span', s.kind, 'step-kind'));
  if (s.tag) head.append(el('span', s.tag, 'step-tag'));
  if (s.inferred) {
    const badge = attrs(el('vscode-badge', 'inferred'), { title: 'Not read from a table: inferred from what the capture does hold' });
    head.append(badge);
  }
  li.append(head, el('p', s.text, 'step-text'));
  if (s.evidence.length) li.append(evidenceList(s.evidence, events, s.detail));
  if (s.candidates.length) {
    const more = attrs(el('vscode-collapsible'), { heading: `${s.candidates.length} other candidate${s.candidates.length === 1 ? '' : 's'} considered` });
    more.append(evidenceList(s.candidates, events));
    li.append(more);
  }
  return li;
}

export function renderDetails(pane: HTMLElement, view: DetailsView | null, events: DetailsEvents): void {
  pane.replaceChildren();
  if (!view) {
    pane.append(el('p', 'Select a hop to see its steps.', 'placeholder'));
    return;
  }
  const head = el('header', undefined, 'details-head');
  const h2 = el('h2');
  h2.append(el('span', view.heading, 'details-host'), el('span', view.role, 'details-role'));
  head.append(h2, el('p', `${view.position} · ${view.ports}`, 'details-position'));
  if (view.path !== null) head.append(el('p', `Path: ${view.path}`, 'details-path'));
  pane.append(head);
  if (view.end) {
    const end = el('p', undefined, `details-end end-${view.end.kind}`);
    end.append(codicon(endIcon(view.end.kind)), el('strong', view.end.verdict));
    // The reason once: the step that ended the path says it already (and the head says it for the trace).
    const said = view.steps.some((st) => st.text === view.end!.reason);
    if (!said) end.append(el('span', ` ${view.end.reason}`));
    pane.append(end);
  }
  if (view.headers) {
    const box = attrs(el('section', undefined, 'details-headers'), { 'aria-label': 'Packet headers' });
    box.append(el('h3', view.headers.title));
    const list = el('ul');
    for (const line of view.headers.lines) list.append(el('li', line));
    box.append(list);
    pane.append(box);
  }
  const steps = attrs(el('ol', undefined, 'steps'), { 'aria-label': `Steps in ${view.heading}` });
  for (const s of view.steps) steps.append(stepItem(s, events));
  pane.append(steps);
}
