// Draws a PathLayout into SVG with d3. Hops are focusable boxes (one tab stop, arrow keys move
// between hops, Enter/Space selects); every label is set with .text(), never .html().
import { linkHorizontal, select, type Selection } from 'd3';
import type { EdgeLine, EndMarker, HopBox, NfBadge, PathLayout, TunnelSpan } from './layout';
import { branchLabel, truncate } from './layout';
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
}

const SVG_NS = 'http://www.w3.org/2000/svg';
const link = linkHorizontal<[[number, number], [number, number]], [number, number]>()
  .source((d) => d[0])
  .target((d) => d[1]);

function edgePath(e: { x1: number; y1: number; x2: number; y2: number }, inset = 0): string {
  return link([[e.x1 + inset, e.y1], [e.x2 - inset, e.y2]]) ?? '';
}

function tunnelPath(t: TunnelSpan): string {
  let d = '';
  for (let i = 0; i + 1 < t.points.length; i++) {
    const [x1, y1] = t.points[i]!;
    const [x2, y2] = t.points[i + 1]!;
    // Out-port to in-port is a cable (curved like the edge); in-port to out-port runs under a box.
    d += i % 2 === 0 ? (link([[x1, y1], [x2, y2]]) ?? '') : `M${x1},${y1}L${x2},${y2}`;
  }
  return d;
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
  const svgEl = document.createElementNS(SVG_NS, 'svg');
  container.replaceChildren(svgEl);
  const svg = select(svgEl)
    .attr('class', 'path-diagram')
    .attr('width', layout.width)
    .attr('height', layout.height)
    .attr('viewBox', `0 0 ${layout.width} ${layout.height}`)
    .attr('role', 'group')
    .attr('aria-roledescription', 'packet path diagram')
    .attr('aria-label', title);
  svg.append('title').text(title);

  const defs = svg.append('defs');
  for (const [id, cls] of [['np-arrow', 'arrowhead'], ['np-arrow-on', 'arrowhead on-path']] as const) {
    defs.append('marker').attr('id', id).attr('viewBox', '0 0 10 10').attr('refX', 9).attr('refY', 5).attr('markerWidth', 7).attr('markerHeight', 7).attr('orient', 'auto-start-reverse')
      .append('path').attr('class', cls).attr('d', 'M0,0L10,5L0,10z');
  }

  // Tunnels under everything: a pipe along the edges the outer packet takes, a bracket and a label above.
  const tunnels = svg.append('g').attr('class', 'tunnels').selectAll<SVGGElement, TunnelSpan>('g').data(layout.tunnels).join('g')
    .attr('class', (t) => `tunnel tunnel-${t.header.kind}${t.decapBox === null ? ' tunnel-open' : ''}`);
  tunnels.append('title').text((t) => `${t.label}${t.decapBox === null ? ' (the packet does not come out of the tunnel)' : ''}`);
  tunnels.append('path').attr('class', 'tunnel-pipe').attr('d', tunnelPath);
  tunnels.append('path').attr('class', 'tunnel-bracket').attr('d', (t) => `M${t.x1},${t.labelY + 8}V${t.labelY + 3}H${t.x2}V${t.labelY + 8}`);
  tunnels.append('text').attr('class', 'tunnel-label').attr('x', (t) => t.x1 + 6).attr('y', (t) => t.labelY).text((t) => t.label);

  const edges = svg.append('g').attr('class', 'edges').selectAll<SVGGElement, EdgeLine>('g').data(layout.edges).join('g')
    .attr('class', (e) => `edge edge-${e.kind}${e.tunnelled ? ' tunnelled' : ''}${e.inferred ? ' inferred' : ''}`);
  edges.append('title').text((e) => [e.branch, e.title].filter(Boolean).join(': '));
  edges.append('path').attr('class', 'edge-line').attr('d', (e) => edgePath(e, 5)).attr('marker-end', 'url(#np-arrow)');
  // Above a level or rising edge, below a falling one (it arrives from above).
  edges.filter((e) => e.branch !== null).append('text').attr('class', 'branch-label')
    .attr('x', (e) => (e.x1 + e.x2) / 2).attr('y', (e) => (e.y2 > e.y1 + 1 ? e.y2 + 15 : e.y2 - 7)).attr('text-anchor', 'middle')
    .text((e) => branchLabel(e.branch!));

  const boxes = svg.append('g').attr('class', 'hops').selectAll<SVGGElement, HopBox>('g').data(layout.boxes).join('g')
    .attr('class', (b) => `hop${b.inferred ? ' inferred' : ''}${layout.ends.some((e) => e.box === b.id && e.kind === 'drop') ? ' has-drop' : ''}`)
    .attr('transform', (b) => `translate(${b.x},${b.y})`)
    .attr('data-box', (b) => b.id)
    .attr('role', 'button')
    .attr('tabindex', -1);
  boxes.append('rect').attr('class', 'box-frame').attr('width', (b) => b.w).attr('height', (b) => b.h).attr('rx', 4);
  boxes.append('text').attr('class', 'role-icon').attr('x', 10).attr('y', 24).text((b) => roleIcon(b.role).glyph);
  boxes.append('text').attr('class', 'box-title').attr('x', 32).attr('y', 20).text((b) => b.title);
  boxes.append('text').attr('class', 'box-subtitle').attr('x', 32).attr('y', 35).text((b) => b.subtitle);
  boxes.append('title').text((b) => [b.host, b.subtitle, b.inferred ? 'some steps here are inferred, not read from a table' : ''].filter(Boolean).join(' · '));
  boxes.each(function (b) {
    const g = select(this);
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
  const ends = svg.append('g').attr('class', 'ends').selectAll<SVGGElement, EndMarker>('g').data(layout.ends).join('g')
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

  const diagram: Diagram = {
    svg: svgEl,
    setSelection(sel, reveal = false) {
      selected = sel;
      focused = sel;
      refresh(boxes);
      if (reveal) nodeAt(sel)?.scrollIntoView?.({ block: 'nearest', inline: 'nearest' });
    },
    setFocus(at, move) {
      focused = at;
      refresh(boxes);
      if (move) {
        const node = nodeAt(at);
        node?.focus();
        node?.scrollIntoView?.({ block: 'nearest', inline: 'nearest' });
      }
    },
  };
  function nodeAt(at: HopRef): SVGGElement | null {
    const id = layout.paths[at.path]?.boxes[at.hop];
    return boxes.filter((b) => b.id === id).node();
  }
  return diagram;
}
