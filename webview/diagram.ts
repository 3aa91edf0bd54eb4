// Draws a PathLayout into SVG with d3. Hops are focusable boxes (one tab stop, arrow keys move
// between hops, Enter/Space selects); every label is set with .text(), never .html().
import { linkHorizontal, linkVertical, select, zoom, zoomIdentity, type Selection, type ZoomTransform } from 'd3';
import { attrs, codicon, el } from './dom';
import type { DeviceBox, EdgeLabelLine, EdgeLine, EndMarker, HopBox, NfBadge, PathLayout, TunnelSpan } from './layout';
import { branchLabel, fitView, MIN_LEGIBLE_SCALE, revealOffset, truncate } from './layout';
import { endLine, endTitle, hopAriaLabel, roleIcon } from './text';

export interface HopRef {
  path: number;
  hop: number;
}

export interface DiagramEvents {
  /** Enter, Space or a click on a hop. */
  select(at: HopRef): void;
}

export interface Diagram {
  svg: SVGSVGElement;
  /** Marks the selected hop and its path (and scrolls it into view, with `reveal`). */
  setSelection(sel: HopRef, reveal?: boolean): void;
  /** Moves the tab stop (and, with `move`, the keyboard focus) to a hop. */
  setFocus(at: HopRef, move: boolean): void;
  /** Fits the whole drawing to the view (no smaller than legible), then brings the selected hop into view. */
  fit(): void;
  /** Zooms by a factor around the selected hop, keeping it in view. */
  zoomBy(factor: number): void;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
const linkH = linkHorizontal<[[number, number], [number, number]], [number, number]>()
  .source((d) => d[0])
  .target((d) => d[1]);
const linkV = linkVertical<[[number, number], [number, number]], [number, number]>()
  .source((d) => d[0])
  .target((d) => d[1]);

function edgePath(e: { x1: number; y1: number; x2: number; y2: number }, vertical: boolean, inset = 0): string {
  return vertical ? (linkV([[e.x1, e.y1 + inset], [e.x2, e.y2 - inset]]) ?? '') : (linkH([[e.x1 + inset, e.y1], [e.x2 - inset, e.y2]]) ?? '');
}

function tunnelPath(t: TunnelSpan, vertical: boolean): string {
  const link = vertical ? linkV : linkH;
  let d = '';
  for (let i = 0; i + 1 < t.points.length; i++) {
    const [x1, y1] = t.points[i]!;
    const [x2, y2] = t.points[i + 1]!;
    // Out-port to in-port is a cable (curved like the edge); in-port to out-port runs under a box.
    d += i % 2 === 0 ? (link([[x1, y1], [x2, y2]]) ?? '') : `M${x1},${y1}L${x2},${y2}`;
  }
  return d;
}

/** The bracket beside a tunnel: above its boxes (horizontal), down the left gutter (vertical). */
function bracketPath(t: TunnelSpan, vertical: boolean): string {
  return vertical ? `M${t.x1 + 5},${t.labelY}H${t.x1}V${t.y2}H${t.x1 + 5}` : `M${t.x1},${t.labelY + 8}V${t.labelY + 3}H${t.x2}V${t.labelY + 8}`;
}

/** The header lines of a wire, for its tooltip. */
function headerTitle(e: EdgeLine): string[] {
  const h = e.headers;
  if (!h) return [];
  const lines = [`inner ${h.inner.src ?? '?'} → ${h.inner.dst ?? '?'}${h.inner.dstMac ? `, to MAC ${h.inner.dstMac}` : ''}`];
  if (h.outer) lines.push(`outer ${h.outer.outerSrc ?? '?'} → ${h.outer.outerDst ?? '?'}${h.outer.port !== null ? ` UDP ${h.outer.port}` : ''}${h.outer.vni !== null ? ` VNI ${h.outer.vni}` : ''}${h.outer.dstMac ? `, to MAC ${h.outer.dstMac}` : ''}`);
  return lines;
}

/** The box a hop of a path is drawn in. */
function boxAt(layout: PathLayout, at: HopRef): HopBox | undefined {
  const id = layout.paths[at.path]?.boxes[at.hop];
  return layout.boxes.find((b) => b.id === id);
}

/** The visit of `box` to show for a click: the selected path's when it passes here, else the first. */
export function visitFor(box: HopBox, preferPath: number): HopRef {
  return box.visits.find((v) => v.path === preferPath) ?? box.visits[0]!;
}

/** Where an arrow key goes from a hop. */
export function moveFrom(layout: PathLayout, at: HopRef, key: string): HopRef | null {
  const lane = layout.paths[at.path];
  if (!lane) return null;
  switch (key) {
    case 'ArrowRight':
      return at.hop + 1 < lane.boxes.length ? { path: at.path, hop: at.hop + 1 } : null;
    case 'ArrowLeft':
      return at.hop > 0 ? { path: at.path, hop: at.hop - 1 } : null;
    case 'Home':
      return { path: at.path, hop: 0 };
    case 'End':
      return { path: at.path, hop: lane.boxes.length - 1 };
    case 'ArrowDown':
    case 'ArrowUp': {
      // To the nearest box in the next lane down (up) at this depth or the closest before it.
      const here = boxAt(layout, at);
      if (!here) return null;
      const dir = key === 'ArrowDown' ? 1 : -1;
      const lanes = [...new Set(layout.boxes.map((b) => b.lane))].sort((a, b) => (a - b) * dir).filter((l) => (l - here.lane) * dir > 0);
      for (const l of lanes) {
        const cands = layout.boxes.filter((b) => b.lane === l && b.depth <= here.depth).sort((a, b) => b.depth - a.depth);
        const target = cands[0] ?? layout.boxes.filter((b) => b.lane === l).sort((a, b) => a.depth - b.depth)[0];
        if (target) return visitFor(target, at.path);
      }
      return null;
    }
    default:
      return null;
  }
}

export function renderDiagram(container: HTMLElement, layout: PathLayout, title: string, events: DiagramEvents): Diagram {
  const vertical = layout.orientation === 'vertical';
  const svgEl = document.createElementNS(SVG_NS, 'svg');
  const controls = attrs(el('div', undefined, 'zoom-controls'), { role: 'toolbar', 'aria-label': 'Zoom' });
  const zoomButton = (icon: string, label: string, key: string) => {
    const b = attrs(el('button', undefined, 'zoom-button'), { type: 'button', title: `${label} (${key})`, 'aria-label': label, 'data-zoom': icon });
    b.append(codicon(icon));
    controls.append(b);
    return b;
  };
  const inButton = zoomButton('zoom-in', 'Zoom in', '+');
  const outButton = zoomButton('zoom-out', 'Zoom out', '-');
  const fitButton = zoomButton('screen-full', 'Fit the path to the view', '0');
  container.replaceChildren(svgEl, controls);
  container.classList.toggle('diagram-vertical', vertical);
  container.style.setProperty('--diagram-width', `${Math.ceil(layout.width)}px`);
  container.style.setProperty('--diagram-height', `${Math.ceil(layout.height)}px`);
  const svg = select(svgEl)
    .attr('class', `path-diagram ${layout.orientation}`)
    // The whole drawing's size (an exported copy is drawn at it); on screen CSS sizes the view.
    .attr('width', layout.width)
    .attr('height', layout.height)
    .attr('role', 'group')
    .attr('aria-roledescription', 'packet path diagram')
    .attr('aria-label', title);
  svg.append('title').text(title);

  const defs = svg.append('defs');
  for (const [id, cls, size] of [['np-arrow', 'arrowhead', 7], ['np-arrow-on', 'arrowhead on-path', 7], ['np-arrow-dev', 'arrowhead device-arrowhead', 5]] as const) {
    defs.append('marker').attr('id', id).attr('viewBox', '0 0 10 10').attr('refX', 9).attr('refY', 5).attr('markerWidth', size).attr('markerHeight', size).attr('orient', 'auto-start-reverse')
      .append('path').attr('class', cls).attr('d', 'M0,0L10,5L0,10z');
  }

  const root = svg.append('g').attr('class', 'viewport');

  // Tunnels under everything: a pipe along the edges the outer packet takes, a bracket and a label above.
  const tunnels = root.append('g').attr('class', 'tunnels').selectAll<SVGGElement, TunnelSpan>('g').data(layout.tunnels).join('g')
    .attr('class', (t) => `tunnel tunnel-${t.header.kind}${t.decapBox === null ? ' tunnel-open' : ''}`);
  tunnels.append('title').text((t) => `${t.label}${t.decapBox === null ? ' (the packet does not come out of the tunnel)' : ''}`);
  tunnels.append('path').attr('class', 'tunnel-pipe').attr('d', (t) => tunnelPath(t, vertical));
  tunnels.append('path').attr('class', 'tunnel-bracket').attr('d', (t) => bracketPath(t, vertical));
  // Vertical: the label is a line beside the tunnel's first wire (EdgeLabelLine 'tunnel').
  if (!vertical) tunnels.append('text').attr('class', 'tunnel-label').attr('x', (t) => t.x1 + 6).attr('y', (t) => t.labelY).text((t) => t.label);

  const edges = root.append('g').attr('class', 'edges').selectAll<SVGGElement, EdgeLine>('g').data(layout.edges).join('g')
    .attr('class', (e) => `edge edge-${e.kind}${e.tunnelled ? ' tunnelled' : ''}${e.inferred ? ' inferred' : ''}`);
  edges.append('title').text((e) => [[e.branch, e.title].filter(Boolean).join(': '), ...headerTitle(e)].filter(Boolean).join('\n'));
  edges.append('path').attr('class', 'edge-line').attr('d', (e) => edgePath(e, vertical, 5)).attr('marker-end', 'url(#np-arrow)');
  const wireLines = edges.selectAll<SVGTextElement, EdgeLabelLine>('text.wire-line').data((e) => e.lines).join('text')
    .attr('class', (l) => (l.kind === 'tunnel' ? 'wire-line tunnel-label' : `wire-line wire-${l.kind}${l.tagged ? ' tagged' : ''}`))
    .attr('x', (l) => l.x).attr('y', (l) => l.y).text((l) => l.text);
  // The VLAN line says tagged or untagged in its own tooltip (a child title overrides the edge's).
  wireLines.filter((l) => l.title !== undefined).append('title').text((l) => l.title!);
  // Horizontal: the tags above the middle of the wire.
  if (!vertical) {
    edges.filter((e) => e.vlan !== undefined).append('text')
      .attr('class', (e) => `wire-line wire-vlan${e.vlan!.vlans.length ? ' tagged' : ''}`)
      .attr('x', (e) => e.vlan!.x).attr('y', (e) => e.vlan!.y).attr('text-anchor', 'middle')
      .text((e) => e.vlan!.label)
      .append('title').text((e) => e.vlan!.title);
  }
  // Above a level or rising edge, below a falling one (it arrives from above).
  edges.filter((e) => e.branch !== null).append('text').attr('class', 'branch-label')
    .attr('x', (e) => (e.x1 + e.x2) / 2).attr('y', (e) => (e.y2 > e.y1 + 1 ? e.y2 + 15 : e.y2 - 7)).attr('text-anchor', 'middle')
    .text((e) => branchLabel(e.branch!));

  const boxes = root.append('g').attr('class', 'hops').selectAll<SVGGElement, HopBox>('g').data(layout.boxes).join('g')
    .attr('class', (b) => `hop${b.inferred ? ' inferred' : ''}${layout.ends.some((e) => e.box === b.id && e.kind === 'drop') ? ' has-drop' : ''}`)
    .attr('transform', (b) => `translate(${b.x},${b.y})`)
    .attr('data-box', (b) => b.id)
    .attr('role', 'button')
    .attr('tabindex', -1);
  boxes.append('rect').attr('class', 'box-frame').attr('width', (b) => b.w).attr('height', (b) => b.h).attr('rx', 4);
  boxes.append('text').attr('class', 'role-icon').attr('x', 10).attr('y', 24).text((b) => roleIcon(b.role).glyph);
  boxes.append('text').attr('class', 'box-title').attr('x', 32).attr('y', (b) => b.titleY).text((b) => b.title);
  boxes.append('text').attr('class', 'box-subtitle').attr('x', (b) => b.subX).attr('y', (b) => b.subY).text((b) => b.subtitle);
  boxes.append('title').text((b) => [b.host, b.subtitle, b.inferred ? 'some steps here are inferred, not read from a table' : ''].filter(Boolean).join(' · '));
  boxes.each(function (b) {
    const g = select(this);
    // The devices the packet passes here, left to right, an arrow between each two.
    const devs = g.append('g').attr('class', 'devices').attr('aria-hidden', 'true');
    b.devices.forEach((d, i) => {
      const next = b.devices[i + 1];
      if (next) devs.append('path').attr('class', 'device-arrow').attr('d', `M${d.x + d.w - b.x + 2},${d.y + d.h / 2 - b.y}H${next.x - b.x - 3}`).attr('marker-end', 'url(#np-arrow-dev)');
    });
    const dev = devs.selectAll<SVGGElement, DeviceBox>('g.device').data(b.devices).join('g').attr('class', (d) => `device device-${d.kind}`);
    dev.append('title').text((d) => `${d.name}${d.kind === 'dev' ? '' : ` (${d.kind === 'bridge' ? 'bridge' : d.kind === 'vlan' ? '802.1Q VLAN sub-interface' : `${d.kind === 'vxlan' ? 'VXLAN' : d.kind === 'ipip' ? 'IPIP' : 'WireGuard'} tunnel device`})`}`);
    dev.append('rect').attr('class', 'device-frame').attr('x', (d) => d.x - b.x).attr('y', (d) => d.y - b.y).attr('width', (d) => d.w).attr('height', (d) => d.h).attr('rx', 2);
    dev.append('text').attr('class', 'device-label').attr('x', (d) => d.x - b.x + d.w / 2).attr('y', (d) => d.y - b.y + d.h / 2 + 4).attr('text-anchor', 'middle').text((d) => d.label);
    const ports = [...(b.in ? [b.in] : []), ...b.outs];
    const p = g.selectAll('g.port').data(ports).join('g').attr('class', (d) => `port port-${d.side}${d.dropOnly ? ' drop-only' : ''}`);
    p.append('rect').attr('class', 'port-mark').attr('x', (d) => d.x - b.x - 4).attr('y', (d) => d.y - b.y - 4).attr('width', 8).attr('height', 8);
    p.append('text').attr('class', 'port-label')
      .attr('x', (d) => (d.side === 'in' ? 9 : b.w - 9)).attr('y', (d) => d.y - b.y + 4)
      .attr('text-anchor', (d) => (d.side === 'in' ? 'start' : 'end'))
      .text((d) => d.label);
    p.append('title').text((d) => `${d.side === 'in' ? 'in' : 'out'}: ${d.name || 'a device the capture does not name'}${d.dropOnly ? ' (the packet stops here)' : ''}`);
    // Netfilter: the NAT a rule did here, or the rule that dropped or rejected the packet.
    const nf = g.selectAll('g.nf-badge').data(b.badges).join('g').attr('class', (d) => `nf-badge nf-${d.kind}`).attr('data-badge', (d) => d.id);
    nf.append('rect').attr('class', 'nf-frame').attr('x', (d) => d.x - b.x).attr('y', (d) => d.y - b.y).attr('width', (d) => d.w).attr('height', (d) => d.h).attr('rx', 3);
    nf.append('text').attr('class', 'nf-title').attr('x', (d) => d.x - b.x + 8).attr('y', (d) => d.y - b.y + 13).text((d) => d.titleLabel);
    nf.append('text').attr('class', 'nf-sub').attr('x', (d) => d.x - b.x + 8).attr('y', (d) => d.y - b.y + 25).text((d) => d.subLabel);
    nf.append('title').text((d) => [`${d.title} (${d.rule}, ${d.hook})`, d.sub, d.raw ? `${d.where}: ${d.raw}` : ''].filter(Boolean).join('\n'));
  });

  // Where each path ends: a mark on the port (or the box) and the verdict under the box.
  const ends = root.append('g').attr('class', 'ends').selectAll<SVGGElement, EndMarker>('g').data(layout.ends).join('g')
    .attr('class', (e) => `end end-${e.kind}`);
  ends.append('title').text((e) => endTitle(e));
  ends.append('circle').attr('class', 'end-mark').attr('cx', (e) => e.x).attr('cy', (e) => e.y).attr('r', 7);
  ends.append('path').attr('class', 'end-glyph').attr('d', (e) => {
    const { x, y } = e;
    if (e.kind === 'delivered') return `M${x - 3.5},${y}l2.5,2.5l4.5,-5`;
    if (e.kind === 'drop') return `M${x - 3},${y - 3}l6,6M${x + 3},${y - 3}l-6,6`;
    return `M${x - 3.5},${y + 3.5}l7,-7`;
  });
  ends.append('text').attr('class', 'end-label').attr('x', (e) => e.labelX).attr('y', (e) => e.labelY)
    .text((e) => truncate(endLine(e), 56));

  let selected: HopRef = { path: 0, hop: 0 };
  let focused: HopRef = { path: 0, hop: 0 };

  const refresh = (bs: Selection<SVGGElement, HopBox, SVGGElement, unknown>) => {
    const lane = layout.paths[selected.path];
    const onPath = new Set(lane?.boxes ?? []);
    const selBox = lane?.boxes[selected.hop];
    const focusBox = layout.paths[focused.path]?.boxes[focused.hop];
    bs.classed('selected', (b) => b.id === selBox)
      .classed('on-path', (b) => onPath.has(b.id))
      .attr('aria-pressed', (b) => String(b.id === selBox))
      .attr('tabindex', (b) => (b.id === focusBox ? 0 : -1))
      .attr('aria-label', (b) => {
        const v = visitFor(b, selected.path);
        return hopAriaLabel(layout, b, v.path, v.hop);
      });
    const edgeOn = new Set((lane?.boxes ?? []).slice(1).map((id, i) => `${lane!.boxes[i]}>${id}`));
    edges.classed('on-path', (e) => edgeOn.has(e.id)).select('path.edge-line').attr('marker-end', (e) => (edgeOn.has(e.id) ? 'url(#np-arrow-on)' : 'url(#np-arrow)'));
    ends.classed('on-path', (e) => e.path === selected.path);
    boxes.selectAll<SVGGElement, NfBadge>('g.nf-badge').classed('on-path', (d) => d.paths.includes(selected.path));
    tunnels.classed('on-path', (t) => t.paths.includes(selected.path));
  };

  boxes.on('click', (_ev: MouseEvent, b: HopBox) => {
    const at = visitFor(b, selected.path);
    focused = at;
    events.select(at);
  });
  boxes.on('keydown', (ev: KeyboardEvent, b: HopBox) => {
    const here = layout.paths[focused.path]?.boxes[focused.hop] === b.id ? focused : visitFor(b, selected.path);
    if (ev.key === 'Enter' || ev.key === ' ') {
      ev.preventDefault();
      events.select(here);
      return;
    }
    const next = moveFrom(layout, here, ev.key);
    if (next) {
      ev.preventDefault();
      diagram.setFocus(next, true);
    }
  });
  boxes.on('focus', (_ev: FocusEvent, b: HopBox) => {
    if (layout.paths[focused.path]?.boxes[focused.hop] !== b.id) focused = visitFor(b, selected.path);
  });

  // Zoom and pan: drag to pan, ctrl/cmd + wheel (or a pinch) to zoom, the wheel alone to pan when
  // the drawing is larger than the view; the buttons and + - 0 zoom around the selected hop.
  let transform: ZoomTransform = zoomIdentity;
  const zoomer = zoom<SVGSVGElement, unknown>()
    .scaleExtent([0.2, 4])
    .filter((ev: Event) => (ev.type === 'wheel' ? (ev as WheelEvent).ctrlKey || (ev as WheelEvent).metaKey : !(ev as MouseEvent).button && ev.type !== 'dblclick'))
    .on('zoom', (ev: { transform: ZoomTransform }) => {
      transform = ev.transform;
      root.attr('transform', transform.toString());
      svgEl.setAttribute('data-scale', transform.k.toFixed(3));
    });
  svg.call(zoomer).on('dblclick.zoom', null);
  svg.on('wheel.pan', (ev: WheelEvent) => {
    if (ev.ctrlKey || ev.metaKey) return;
    const { width, height } = viewSize();
    const overflows = layout.width * transform.k > width + 1 || layout.height * transform.k > height + 1;
    if (!overflows) return; // the page scrolls
    ev.preventDefault();
    zoomer.translateBy(svg, -ev.deltaX / transform.k, -ev.deltaY / transform.k);
  });
  const viewSize = () => ({ width: svgEl.clientWidth, height: svgEl.clientHeight });
  const boxOf = (at: HopRef) => boxAt(layout, at);
  /** Pans (at the present scale) so the box is inside the view, if it is not. */
  const reveal = (at: HopRef) => {
    const b = boxOf(at);
    if (!b) return;
    const { width, height } = viewSize();
    const [dx, dy] = revealOffset({ x: b.x, y: b.y, w: b.w, h: b.h + (layout.ends.some((e) => e.box === b.id) ? 22 : 0) }, { x: transform.x, y: transform.y, k: transform.k }, { width, height });
    if (dx !== 0 || dy !== 0) zoomer.translateBy(svg, dx / transform.k, dy / transform.k);
  };
  inButton.addEventListener('click', () => diagram.zoomBy(1.25));
  outButton.addEventListener('click', () => diagram.zoomBy(0.8));
  fitButton.addEventListener('click', () => diagram.fit());
  container.addEventListener('keydown', (ev: KeyboardEvent) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const f = ev.key === '+' || ev.key === '=' ? 1.25 : ev.key === '-' ? 0.8 : 0;
    if (f) diagram.zoomBy(f);
    else if (ev.key === '0') diagram.fit();
    else return;
    ev.preventDefault();
  });
  let lastSize = '';
  const resized = new ResizeObserver(() => {
    if (!svgEl.isConnected) {
      resized.disconnect();
      return;
    }
    const { width, height } = viewSize();
    const size = `${width}x${height}`;
    if (width === 0 || height === 0 || size === lastSize) return;
    lastSize = size;
    diagram.fit();
  });
  resized.observe(svgEl);

  const diagram: Diagram = {
    svg: svgEl,
    setSelection(sel, show = false) {
      selected = sel;
      focused = sel;
      refresh(boxes);
      if (show) reveal(sel);
    },
    setFocus(at, move) {
      focused = at;
      refresh(boxes);
      if (move) {
        nodeAt(at)?.focus({ preventScroll: true });
        reveal(at);
      }
    },
    fit() {
      const { width, height } = viewSize();
      if (width === 0 || height === 0) return;
      const v = fitView({ width, height }, { width: layout.width, height: layout.height }, MIN_LEGIBLE_SCALE);
      zoomer.transform(svg, zoomIdentity.translate(v.x, v.y).scale(v.k));
      reveal(selected);
    },
    zoomBy(factor) {
      const b = boxOf(selected);
      const at: [number, number] | undefined = b ? [transform.applyX(b.x + b.w / 2), transform.applyY(b.y + b.h / 2)] : undefined;
      zoomer.scaleBy(svg, factor, at);
      reveal(selected);
    },
  };
  function nodeAt(at: HopRef): SVGGElement | null {
    const id = layout.paths[at.path]?.boxes[at.hop];
    return boxes.filter((b) => b.id === id).node();
  }
  return diagram;
}
