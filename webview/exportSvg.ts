// A standalone SVG of the diagram: the theme's colours are CSS variables that mean nothing outside
// VS Code, so each element's computed paint is written onto the copy as presentation attributes
// (only where it differs from what the element inherits). Codicon glyphs are dropped (the icon
// font does not travel with the file, so titles move into their place); focus attributes go.

const INHERITED = ['fill', 'fill-opacity', 'stroke', 'stroke-width', 'stroke-opacity', 'stroke-dasharray', 'stroke-linecap', 'stroke-linejoin', 'font-family', 'font-size', 'font-weight', 'font-style', 'visibility'] as const;

export function standaloneSvg(live: SVGSVGElement): string {
  const copy = live.cloneNode(true) as SVGSVGElement;
  const from = [live, ...live.querySelectorAll('*')];
  const to = [copy, ...copy.querySelectorAll('*')];
  const computed = new Map<Element, CSSStyleDeclaration>(from.map((e) => [e, getComputedStyle(e)]));
  from.forEach((src, i) => {
    const dst = to[i]!;
    for (const a of ['tabindex', 'aria-pressed', 'data-box']) dst.removeAttribute(a);
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
  for (const icon of copy.querySelectorAll('.role-icon')) icon.remove();
  for (const t of copy.querySelectorAll('.box-title, .box-subtitle')) t.setAttribute('x', '10');
  // The whole drawing at 1:1, whatever the view's zoom and pan.
  copy.querySelector('.viewport')?.removeAttribute('transform');
  copy.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  const bg = getComputedStyle(document.body).getPropertyValue('background-color');
  const rect = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
  for (const [k, v] of [['width', '100%'], ['height', '100%'], ['fill', bg || 'white']] as const) rect.setAttribute(k, v);
  copy.insertBefore(rect, copy.firstChild);
  return `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(copy)}\n`;
}
