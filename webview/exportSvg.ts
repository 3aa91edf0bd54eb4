// A standalone SVG of the diagram, for a ticket or a slide: a title block (what was traced, the
// packet, the verdict and its reason) above the diagram, on a white page whatever VS Code's theme.
// The theme's colours are CSS variables that mean nothing outside VS Code, so for the copy the
// variables are set to a light palette on the live SVG for one synchronous style pass, and each
// element's computed paint is written onto the copy as presentation attributes (only where it
// differs from what the element inherits). Codicon glyphs are dropped (the icon font does not travel
// with the file, so titles move into their place); focus attributes go. Text goes in as textContent.

const INHERITED = ['fill', 'fill-opacity', 'stroke', 'stroke-width', 'stroke-opacity', 'stroke-dasharray', 'stroke-linecap', 'stroke-linejoin', 'font-family', 'font-size', 'font-weight', 'font-style', 'visibility'] as const;
const SVG_NS = 'http://www.w3.org/2000/svg';

/** VS Code's Light Modern colours for the variables the diagram's CSS uses (main.css, `.path-diagram`). */
export const LIGHT_PALETTE: Readonly<Record<string, string>> = {
  '--vscode-foreground': '#1f1f1f',
  '--vscode-descriptionForeground': '#5f5f5f',
  '--vscode-editor-background': '#ffffff',
  '--vscode-editorWidget-background': '#f8f8f8',
  '--vscode-editorWidget-border': '#c8c8c8',
  '--vscode-panel-border': '#c8c8c8',
  '--vscode-contrastBorder': '#c8c8c8',
  '--vscode-contrastActiveBorder': '#005fb8',
  '--vscode-focusBorder': '#005fb8',
  '--vscode-list-inactiveSelectionBackground': '#e4e6f1',
  '--vscode-list-hoverForeground': '#1f1f1f',
  '--vscode-icon-foreground': '#3b3b3b',
  '--vscode-charts-blue': '#1a85ff',
  '--vscode-charts-purple': '#652d90',
  '--vscode-charts-orange': '#b85f00',
  '--vscode-charts-green': '#388a34',
  '--vscode-testing-iconPassed': '#388a34',
  '--vscode-errorForeground': '#c72e0f',
};

/** What the title block says. */
export interface ExportHeader {
  title: string;
  /** The packet: "ICMP 10.244.0.3 → 10.244.1.3, 64 bytes, Don't Fragment". */
  packet: string;
  verdict: string;
  delivered: boolean;
  reason: string;
}

/** Splits `text` into lines of at most `width` characters at spaces (a longer word stays whole). */
export function wrapText(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}

function textEl(x: number, y: number, text: string, attrs: Record<string, string>): SVGTextElement {
  const t = document.createElementNS(SVG_NS, 'text');
  t.setAttribute('x', String(x));
  t.setAttribute('y', String(y));
  for (const [k, v] of Object.entries(attrs)) t.setAttribute(k, v);
  t.textContent = text;
  return t;
}

/** The diagram's paint, resolved with the light palette (the live view is restored before anything is drawn). */
function resolvedCopy(live: SVGSVGElement): SVGSVGElement {
  const copy = live.cloneNode(true) as SVGSVGElement;
  const saved = new Map<string, string>(Object.keys(LIGHT_PALETTE).map((k) => [k, live.style.getPropertyValue(k)]));
  for (const [k, v] of Object.entries(LIGHT_PALETTE)) live.style.setProperty(k, v);
  try {
    const from = [live, ...live.querySelectorAll('*')];
    const to = [copy, ...copy.querySelectorAll('*')];
    const computed = new Map<Element, CSSStyleDeclaration>(from.map((e) => [e, getComputedStyle(e)]));
    from.forEach((src, i) => {
      const dst = to[i]!;
      for (const a of ['tabindex', 'aria-pressed', 'data-box', 'style']) dst.removeAttribute(a);
      if (src instanceof SVGTitleElement || src.closest('title')) return;
      const cs = computed.get(src)!;
      const parent = src === live ? undefined : computed.get(src.parentElement!);
      for (const p of INHERITED) {
        const v = cs.getPropertyValue(p);
        if (v !== '' && v !== parent?.getPropertyValue(p)) dst.setAttribute(p, v);
      }
      const opacity = cs.getPropertyValue('opacity');
      if (opacity !== '' && opacity !== '1') dst.setAttribute('opacity', opacity);
      if (cs.getPropertyValue('display') === 'none') dst.setAttribute('display', 'none');
    });
  } finally {
    for (const [k, v] of saved) {
      if (v) live.style.setProperty(k, v);
      else live.style.removeProperty(k);
    }
  }
  return copy;
}

export function standaloneSvg(live: SVGSVGElement, header: ExportHeader): string {
  const copy = resolvedCopy(live);
  for (const icon of copy.querySelectorAll('.role-icon')) icon.remove();
  for (const t of copy.querySelectorAll('.box-title, .box-subtitle')) t.setAttribute('x', '10');
  // The whole drawing at 1:1, whatever the view's zoom and pan.
  copy.querySelector('.viewport')?.removeAttribute('transform');

  // The diagram moves down under the title block, which is as wide as the diagram (at least 640).
  const width = Math.max(640, Number(live.getAttribute('width')) || 0);
  const height = Number(live.getAttribute('height')) || 0;
  const diagram = document.createElementNS(SVG_NS, 'g');
  diagram.setAttribute('class', 'diagram-body');
  const defs = copy.querySelector(':scope > defs');
  for (const child of [...copy.childNodes]) if (child !== defs) diagram.append(child);

  const pad = 16;
  const font = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
  const block = document.createElementNS(SVG_NS, 'g');
  block.setAttribute('class', 'title-block');
  block.setAttribute('font-family', font);
  let y = pad + 18;
  block.append(textEl(pad, y, header.title, { class: 'export-title', 'font-size': '18', 'font-weight': '600', fill: LIGHT_PALETTE['--vscode-foreground']! }));
  y += 22;
  block.append(textEl(pad, y, header.packet, { class: 'export-packet', 'font-size': '13', 'font-family': 'ui-monospace, Menlo, Consolas, monospace', fill: LIGHT_PALETTE['--vscode-foreground']! }));
  y += 22;
  block.append(textEl(pad, y, header.verdict, { class: 'export-verdict', 'font-size': '14', 'font-weight': '600', fill: header.delivered ? LIGHT_PALETTE['--vscode-charts-green']! : LIGHT_PALETTE['--vscode-errorForeground']! }));
  for (const line of wrapText(header.reason, Math.max(40, Math.floor((width - 2 * pad) / 7)))) {
    y += 18;
    block.append(textEl(pad, y, line, { class: 'export-reason', 'font-size': '13', fill: LIGHT_PALETTE['--vscode-descriptionForeground']! }));
  }
  const top = y + pad;
  diagram.setAttribute('transform', `translate(0 ${top})`);

  const total = top + height;
  copy.setAttribute('width', String(width));
  copy.setAttribute('height', String(total));
  copy.setAttribute('viewBox', `0 0 ${width} ${total}`);
  copy.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  const title = document.createElementNS(SVG_NS, 'title');
  title.textContent = `${header.title}: ${header.verdict}`;
  const bg = document.createElementNS(SVG_NS, 'rect');
  for (const [k, v] of [['width', '100%'], ['height', '100%'], ['fill', LIGHT_PALETTE['--vscode-editor-background']!]] as const) bg.setAttribute(k, v);
  copy.append(title, bg, block, diagram);
  return `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(copy)}\n`;
}
