// The path view: the trace's verdict and flow, export buttons, the paths when there are several,
// the diagram, and the details of the selected hop.
import type { EvidenceRef, FromWebview, ShowTrace } from '../src/shared/protocol';
import { renderDetails } from './details';
import { causeLine, renderDiagnosis } from './diagnosis';
import { renderDiagram, type HopRef } from './diagram';
import { attrs, codicon, el } from './dom';
import { standaloneSvg } from './exportSvg';
import { renderHistoryBar } from './history';
import { DEFAULT_LAYOUT_OPTIONS, layoutTrace, type LabelFont, type LayoutOptions, type PathLayout } from './layout';
import { detailsView, discardedText, endIcon, flowText, pathLabel, pathsHeading, traceTitle, VERDICT_TEXT } from './text';

export interface TraceViewHost {
  post(m: FromWebview): void;
  /** Called whenever the selection changes, to save it for a reload. */
  selectionChanged(sel: HopRef): void;
}

/** The hop shown first: where the packet stops when it is dropped, else where it starts. */
export function initialSelection(layout: PathLayout): HopRef {
  const primary = layout.paths[0];
  if (!primary || primary.end === 'delivered') return { path: 0, hop: 0 };
  return { path: 0, hop: primary.hops.length - 1 };
}

/** Text widths in the fonts the diagram's CSS uses (main.css, `.path-diagram`), measured on a canvas. */
function canvasMeasure(): LayoutOptions {
  const ctx = document.createElement('canvas').getContext('2d');
  if (!ctx) return DEFAULT_LAYOUT_OPTIONS;
  const css = getComputedStyle(document.body);
  const ui = css.getPropertyValue('--vscode-font-family').trim() || 'sans-serif';
  const mono = css.getPropertyValue('--vscode-editor-font-family').trim() || 'monospace';
  const fonts: Record<LabelFont, string> = { title: `600 13px ${ui}`, subtitle: `11px ${ui}`, mono: `11px ${mono}` };
  const cache = new Map<string, number>();
  return {
    measure(text, font) {
      const key = `${font}\u0000${text}`;
      let w = cache.get(key);
      if (w === undefined) {
        ctx.font = fonts[font];
        w = Math.ceil(ctx.measureText(text).width);
        cache.set(key, w);
      }
      return w;
    },
  };
}

function validSelection(layout: PathLayout, sel: HopRef | null | undefined): sel is HopRef {
  return !!sel && Number.isInteger(sel.path) && Number.isInteger(sel.hop) && sel.hop >= 0 && sel.hop < (layout.paths[sel.path]?.hops.length ?? 0);
}

export function renderTrace(app: HTMLElement, m: ShowTrace, restored: HopRef | null, host: TraceViewHost): void {
  const t = m.trace;
  const layout = layoutTrace(t, m.hosts ?? [], canvasMeasure());
  app.replaceChildren();
  app.classList.add('trace-view');

  const head = el('header', undefined, 'trace-head');
  const titleRow = el('div', undefined, 'title-row');
  const endKind = layout.paths[0]?.end ?? (t.verdict === 'delivered' ? 'delivered' : 'drop');
  const verdict = el('span', undefined, `verdict verdict-${endKind}`);
  verdict.append(codicon(endIcon(endKind)), el('span', VERDICT_TEXT[t.verdict]));
  titleRow.append(el('h1', traceTitle(t)), verdict);
  const toolbar = attrs(el('div', undefined, 'toolbar'), { role: 'group', 'aria-label': 'Export' });
  const svgButton = attrs(el('vscode-button', 'Export SVG'), { secondary: true, icon: 'file-media', title: 'Save the diagram as an SVG file' });
  const jsonButton = attrs(el('vscode-button', 'Export JSON'), { secondary: true, icon: 'json', title: 'Save the trace as JSON (the same as netpath trace --json)' });
  const mdButton = attrs(el('vscode-button', 'Copy Markdown'), { secondary: true, icon: 'markdown', title: 'Copy the trace as Markdown (verdict, reason, hops, steps and evidence) for a ticket' });
  toolbar.append(svgButton, jsonButton, mdButton);
  titleRow.append(toolbar);
  head.append(titleRow, el('p', flowText(t), 'flow'), el('p', t.reason, 'reason'));
  const cause = causeLine(t);
  if (cause) head.append(cause);
  if (t.inferred) {
    const note = el('p', undefined, 'inferred-note');
    note.append(codicon('warning'), el('span', ' Some steps are inferred: the capture does not hold the table that would decide them. They are marked below.'));
    head.append(note);
  }
  // With a history the provenance line names the capture (and when); without one (older saved state), the source alone.
  if (m.source && !m.history) head.append(el('p', m.source, 'source'));
  renderHistoryBar(head, m, host.post);
  app.append(head);

  let pathButtons: HTMLButtonElement[] = [];
  if (layout.paths.length > 1) {
    const section = attrs(el('section', undefined, 'paths'), { 'aria-label': 'Paths' });
    section.append(el('h2', pathsHeading(layout, t)));
    const list = el('ul');
    pathButtons = layout.paths.map((p, i) => {
      const b = attrs(el('button', undefined, `path-item end-${p.end}`), { type: 'button', title: p.reason });
      b.append(codicon(endIcon(p.end)), el('span', pathLabel(p, i), 'path-branch'), el('span', p.end === 'discarded' ? discardedText(p.copy) : VERDICT_TEXT[p.verdict], 'path-verdict'));
      b.addEventListener('click', () => select({ path: i, hop: p.hops.length - 1 }, true));
      const li = el('li');
      li.append(b);
      list.append(li);
      return b;
    });
    section.append(list);
    app.append(section);
  }

  // One path: the diagram top to bottom with the details beside it, both filling the view.
  app.classList.toggle('vertical', layout.orientation === 'vertical');
  const body = el('div', undefined, 'trace-body');
  const scroller = attrs(el('section', undefined, 'diagram'), { 'aria-label': 'Diagram' });
  body.append(scroller);
  app.append(body);
  // Beside the diagram (below it when there are several paths): every cause in full (the most likely one
  // is already in the head, beside the verdict), then the selected hop's steps.
  const side = el('div', undefined, 'side');
  const diagnosis = renderDiagnosis(t, { reveal: (ref) => host.post({ type: 'revealEvidence', ...ref }) });
  if (diagnosis) side.append(diagnosis);
  const details = attrs(el('section', undefined, 'details'), { 'aria-label': 'Steps of the selected hop' });
  // A short announcement of the selection; the pane itself is too long to be read out on every change.
  const status = attrs(el('p', undefined, 'visually-hidden'), { role: 'status', 'aria-live': 'polite' });
  side.append(details);
  body.append(side);
  app.append(status);

  const revealEvidence = (ref: EvidenceRef) => host.post({ type: 'revealEvidence', ...ref });
  const diagram = renderDiagram(scroller, layout, `Path of a packet from ${traceTitle(t)}: ${VERDICT_TEXT[t.verdict]}`, {
    select: (at) => select(at, true),
  });

  function select(sel: HopRef, reveal: boolean): void {
    diagram.setSelection(sel, reveal);
    pathButtons.forEach((b, i) => b.setAttribute('aria-pressed', String(i === sel.path)));
    const view = detailsView(layout, sel.path, sel.hop);
    renderDetails(details, view, { reveal: revealEvidence });
    status.textContent = view ? `${view.position}: ${view.heading}${view.end ? `, ${view.end.verdict}` : ''}` : '';
    host.selectionChanged(sel);
  }

  svgButton.addEventListener('click', () => host.post({ type: 'exportSvg', svg: standaloneSvg(diagram.svg, { title: traceTitle(t), packet: flowText(t), verdict: VERDICT_TEXT[t.verdict], delivered: t.verdict === 'delivered', reason: t.reason }) }));
  mdButton.addEventListener('click', () => host.post({ type: 'copyMarkdown' }));
  jsonButton.addEventListener('click', () => host.post({ type: 'exportJson' }));
  select(validSelection(layout, restored) ? restored : initialSelection(layout), true);
}
