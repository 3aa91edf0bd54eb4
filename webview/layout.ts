// The path diagram's geometry, computed from a TraceResult without touching the DOM (so it is
// unit-tested under node). Paths share their common start: hops are merged into a tree keyed by
// (host, in-device) at each depth, so an ECMP or flood fork is one box with several out-ports and
// one edge per branch. Columns are hop depths (visit order), lanes are branches. Everything is read
// from the trace's fields and typed details (how each path ended, its forks, each step's kind): no
// sentence or label is parsed, so the engine's wording can change without moving a box.
import type { CopyKind, Hop, HostRole, Step, Trace, TraceHost, TracePath, TraceResult, Verdict } from '../src/shared/protocol';
import { forkLabels, hopBadges, type NfBadgeFact } from './netfilter';
import { hopDevices, pathHeaders, vlanLabel, vlanTitle, wireHeaderLines, type DeviceKind, type WireHeaders } from './devices';
import { tunnelEvents, tunnelLabel, type TunnelHeader } from './tunnels';

export type { NfBadgeFact } from './netfilter';

/** The fonts of the diagram: box titles, subtitles, and the monospace of devices and labels. */
export type LabelFont = 'title' | 'subtitle' | 'mono';

export interface LayoutOptions {
  /** Width of `text` in px as drawn in `font` (the webview measures with a canvas). */
  measure(text: string, font: LabelFont): number;
}

const CHAR_WIDTH: Record<LabelFont, number> = { title: 7.8, subtitle: 6.4, mono: 6.7 };

/** An estimate by character count, for tests under node: a little wide, as the usual UI fonts are narrower. */
export const DEFAULT_LAYOUT_OPTIONS: LayoutOptions = { measure: (text, font) => [...text].length * CHAR_WIDTH[font] };

/**
 * How a path ends: delivered, dropped, or a copy (a bridge flood's, a VXLAN default entry's, one
 * candidate port's) discarded by a host it was not for, as expected (not a failure).
 */
export type EndKind = 'delivered' | 'drop' | 'discarded';

export interface PortBox {
  id: string;
  name: string;
  side: 'in' | 'out';
  /** Centre of the port on the box's edge. */
  x: number;
  y: number;
  /** A device named only by a drop (the packet stops there and never leaves by it). */
  dropOnly: boolean;
  /** The name as drawn, cut to fit beside the other port on its row. */
  label: string;
}

/** A device the packet passes inside a host, drawn as a small box in the host's box. */
export interface DeviceBox {
  name: string;
  kind: DeviceKind;
  /** The name as drawn (cut to fit). */
  label: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface HopBox {
  id: string;
  /** The devices the packet passes here, in order (the first path through the box). */
  devices: DeviceBox[];
  /** Where the title and subtitle are drawn, relative to the box. */
  titleY: number;
  subX: number;
  subY: number;
  host: string;
  role: HostRole | null;
  /** Title as drawn (truncated to fit); `host` is the full name. */
  title: string;
  /** Role and namespace: "pod in default", "node", "switch". */
  subtitle: string;
  depth: number;
  lane: number;
  x: number;
  y: number;
  w: number;
  h: number;
  in: PortBox | null;
  outs: PortBox[];
  /** Every path through this box and the index of this visit among its hops. */
  visits: { path: number; hop: number }[];
  /** Some step here, on some path, was inferred rather than read from a table. */
  inferred: boolean;
  /** Paths that end in this box. */
  ends: number[];
  /** What the netfilter rules did to the packet here (NAT, a drop or reject), on the paths that went through it. */
  badges: NfBadge[];
}

/** A netfilter rule's effect drawn in the box of the host it ran on. */
export interface NfBadge extends NfBadgeFact {
  id: string;
  /** The paths (indexes into `paths`) whose packet the rule changed or stopped here. */
  paths: number[];
  /** The two lines as drawn (cut to fit). */
  titleLabel: string;
  subLabel: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface EdgeLine {
  id: string;
  from: string;
  fromPort: string;
  to: string;
  toPort: string;
  /** veth pair, or a cable / shared segment. */
  kind: 'veth' | 'wire';
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  paths: number[];
  /** Inside a tunnel: this hop carries the outer packet. */
  tunnelled: boolean;
  /** The engine's sentence for the crossing (the veth or underlay step). */
  title: string;
  /** The crossing was inferred (the far end is not in the capture). */
  inferred: boolean;
  /** The branch this edge starts, at a fork ("flood cni0 -> veth1"). */
  branch: string | null;
  /** The packet on this wire (the first path that takes it), as the trace carries it. */
  headers: WireHeaders | null;
  /** The lines drawn beside a vertical edge: device pair, VLAN, inner header, outer header (tunnelled); empty when horizontal. */
  lines: EdgeLabelLine[];
  /**
   * In a trace where some wire carries an 802.1Q tag: this wire's tags ("VLAN 10", or "untagged"),
   * so the push, the trunk and the pop read along the path. Absent in a trace without tags.
   */
  vlan?: EdgeVlan;
}

export interface EdgeVlan {
  /** Outermost first; empty: untagged. */
  vlans: number[];
  label: string;
  /** Tagged or untagged, for the tooltip. */
  title: string;
  /** Horizontal layout: where the label is drawn (middle anchor); vertical: it is one of `lines`. */
  x: number;
  y: number;
}

export interface EdgeLabelLine {
  kind: 'devs' | 'vlan' | 'inner' | 'outer' | 'tunnel';
  text: string;
  /** Its own tooltip, when it has one (the VLAN line: tagged or untagged). */
  title?: string;
  /** The VLAN line of a tagged wire. */
  tagged?: boolean;
  x: number;
  y: number;
}

export interface TunnelSpan {
  id: string;
  header: TunnelHeader;
  label: string;
  /** Box ids from the encapsulating host to the decapsulating one, in order. */
  boxes: string[];
  /** Edge ids the outer packet travels. */
  edges: string[];
  encapBox: string;
  /** Null when the packet never comes out of the tunnel (dropped inside it). */
  decapBox: string | null;
  paths: number[];
  /** Points of the pipe: out-port, in-port, out-port, ... in the boxes it passes. */
  points: [number, number][];
  /** The bracket and label above the span. */
  x1: number;
  x2: number;
  labelY: number;
  /** Nesting depth (a tunnel inside a tunnel is 1). */
  level: number;
  /** Vertical layout: the bracket runs down the left gutter at `x1` from `labelY` to `y2`. */
  y2: number;
}

export interface EndMarker {
  path: number;
  box: string;
  kind: EndKind;
  /** What the discarded copy was a copy of, when the trace says. */
  copy?: CopyKind;
  verdict: Verdict;
  reason: string;
  /** The device it stops at, when the engine names one. */
  dev: string | null;
  /** The port the marker sits on, or null for the box itself. */
  port: string | null;
  x: number;
  y: number;
  /** The verdict line under the box. */
  labelX: number;
  labelY: number;
  /** What tells this path from the others at its fork ("flood cni0 -> veth2"), or null. */
  branch: string | null;
  /** The Service endpoint (after a DNAT) this path went to, "10.244.1.3:8080", or null. */
  endpoint: string | null;
  /** How likely the rules send a new connection this way ("1 of 3, 33%"), or null. */
  chance: string | null;
  /** The netfilter rule that dropped or rejected the packet here, "filter KUBE-SERVICES rule 1", or null. */
  rule: string | null;
}

export interface PathLane {
  /** Index into `trace.paths` (or -1 for the top-level trace when `paths` does not hold it). */
  source: number;
  branch: string;
  /** The fork labels this path took, in order (`branch` is them joined). */
  forks: string[];
  verdict: Verdict;
  reason: string;
  end: EndKind;
  /** What made the path a copy (flood, VXLAN default entry, candidate port). */
  copy?: CopyKind;
  /** The box of each hop, in hop order. */
  boxes: string[];
  hops: Hop[];
  dropAt: Trace['dropAt'];
  /** The path the top-level verdict comes from. */
  primary: boolean;
  /** After a DNAT: the endpoint ("10.244.1.3:8080"). */
  endpoint?: string;
  /** The chance that the rules pick this path for a new connection, 0..1. */
  probability?: number;
  /** "1 of 3, 33%": where the rules chose at random, which choice and how likely. */
  chance?: string;
}

export interface PathLayout {
  /** Hops left to right (lanes for branches), or top to bottom when the trace is one path. */
  orientation: 'horizontal' | 'vertical';
  width: number;
  height: number;
  boxes: HopBox[];
  edges: EdgeLine[];
  tunnels: TunnelSpan[];
  ends: EndMarker[];
  paths: PathLane[];
}

// Geometry, in px.
const MARGIN = 16;
const GAP = 96; // between columns: room for an arrow
const BOX_MIN_W = 168;
const BOX_MAX_W = 300;
const HEADER_H = 42; // icon + title + subtitle
const PORT_ROW = 18;
const BOX_PAD = 8;
const TUNNEL_BAND = 30; // above the boxes of a lane: tunnel brackets and labels
const FOOTER = 22; // below: one verdict line per path ending in the box
const LANE_GAP = 16;
const LABEL_CHARS = 40; // branch labels longer than this are cut (the full text is the tooltip)
const BADGE_H = 30; // a netfilter badge: two lines
const BADGE_GAP = 4;
const BADGE_BOX_MAX_W = 360;

const DEV_ROW = 26; // the row of device boxes under the title
const DEV_H = 18;
const DEV_PAD = 5; // name inset in a device box
const DEV_ARROW = 14; // between two device boxes: room for an arrow
// Vertical layout (one path, top to bottom).
const V_HEAD = 22; // title and subtitle on one line
const V_DEV_ROW = 24;
const V_MARGIN = 8;
const V_PORT_X = 18; // the wire runs down the boxes' left side, this far in
const V_LINE = 12.5; // a label line beside a wire
const V_BOX_MIN_W = 220;
const V_BOX_MAX_W = 460;

const sig = (h: Hop): string => `${h.host}\u0000${h.in ?? ''}`;

/** `text` cut to `max` characters with an ellipsis. */
export function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : chars.slice(0, Math.max(1, max - 1)).join('') + '…';
}

/** `text` cut with an ellipsis to at most `width` px in `font`. */
export function fit(text: string, width: number, font: LabelFont, opts: LayoutOptions): string {
  if (opts.measure(text, font) <= width) return text;
  const chars = [...text];
  let lo = 1;
  let hi = chars.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (opts.measure(chars.slice(0, mid).join('') + '…', font) <= width) lo = mid;
    else hi = mid - 1;
  }
  return chars.slice(0, lo).join('') + '…';
}

/** Width of a chain of device boxes with these labels. */
function chainWidth(labels: string[], opts: LayoutOptions): number {
  return labels.reduce((a, l) => a + opts.measure(l, 'mono') + 2 * DEV_PAD, 0) + Math.max(0, labels.length - 1) * DEV_ARROW;
}

/** Device boxes left to right from (x0, y0), the widest names cut until the chain fits in `maxW`. */
export function placeDevices(devs: readonly { name: string; kind: DeviceKind }[], x0: number, y0: number, maxW: number, opts: LayoutOptions): DeviceBox[] {
  const labels = devs.map((d) => d.name);
  for (let guard = 0; chainWidth(labels, opts) > maxW && guard < 500; guard++) {
    let wi = 0;
    labels.forEach((l, i) => {
      if (opts.measure(l, 'mono') > opts.measure(labels[wi]!, 'mono')) wi = i;
    });
    const chars = [...labels[wi]!.replace(/…$/, '')];
    if (chars.length <= 2) break;
    labels[wi] = chars.slice(0, -1).join('') + '…';
  }
  let x = x0;
  return devs.map((d, i) => {
    const w = opts.measure(labels[i]!, 'mono') + 2 * DEV_PAD;
    const b: DeviceBox = { name: d.name, kind: d.kind, label: labels[i]!, x, y: y0, w, h: DEV_H };
    x += w + DEV_ARROW;
    return b;
  });
}

/** The devices drawn in a box: its first visit's, without the out device where the box forks. */
function boxDevices(n: { hop: Hop; outs: Map<string, unknown> }): { name: string; kind: DeviceKind }[] {
  const devs = hopDevices(n.hop);
  if (n.outs.size > 1 && devs[devs.length - 1]?.name === n.hop.out) devs.pop();
  return devs;
}

const PORT_PAD = 9; // port label inset from the box edge
const PORT_SPACE = 12; // at least this between the in- and out-port labels on the first row

/** The in- and first out-port labels share a row: the shorter keeps its name, the longer gets the rest. */
function portLabels(inName: string | null, outs: string[], w: number, opts: LayoutOptions): { inLabel: string; outLabels: string[] } {
  const avail = w - 2 * PORT_PAD;
  const m = (t: string) => opts.measure(t, 'mono');
  const outLabels = outs.map((o, i) => (i === 0 ? o : fit(o, avail, 'mono', opts)));
  if (inName === null || outs.length === 0) {
    if (outs.length) outLabels[0] = fit(outs[0]!, avail, 'mono', opts);
    return { inLabel: inName === null ? '' : fit(inName, avail, 'mono', opts), outLabels };
  }
  const room = avail - PORT_SPACE;
  const inW = m(inName);
  const outW = m(outs[0]!);
  if (inW + outW <= room) return { inLabel: inName, outLabels };
  const half = room / 2;
  const inMax = outW <= half ? room - outW : inW <= half ? inW : half;
  outLabels[0] = fit(outs[0]!, room - Math.min(inW, inMax), 'mono', opts);
  return { inLabel: fit(inName, inMax, 'mono', opts), outLabels };
}

/**
 * A copy that ended at a host it was not for, as flooding and VXLAN default entries do: the engine
 * says so (`ending`); a trace saved by netpath 0.1 by `floodCopy` and the verdict.
 */
export function isDiscardedCopy(p: Pick<TracePath, 'verdict' | 'ending' | 'floodCopy'>): boolean {
  return p.ending !== undefined ? p.ending === 'discarded' : p.floodCopy && p.verdict === 'wrong-destination';
}

function endKind(p: Pick<TracePath, 'verdict' | 'ending' | 'floodCopy'>): EndKind {
  return p.verdict === 'delivered' ? 'delivered' : isDiscardedCopy(p) ? 'discarded' : 'drop';
}


function sameTrace(a: Trace, b: Trace): boolean {
  return a.verdict === b.verdict && a.hops.length === b.hops.length && a.hops.every((h, i) => {
    const o = b.hops[i]!;
    return h.host === o.host && h.in === o.in && h.out === o.out && h.steps.length === o.steps.length;
  }) && (a.dropAt?.host ?? null) === (b.dropAt?.host ?? null) && (a.dropAt?.dev ?? null) === (b.dropAt?.dev ?? null);
}

/** The paths in drawing order: the one the top-level verdict comes from first, then the rest as the engine listed them. */
export function orderPaths(trace: TraceResult): PathLane[] {
  const all = trace.paths.map((p, i) => ({ p, i }));
  const primaryAt = all.findIndex(({ p }) => sameTrace(p, trace));
  const labels = forkLabels(trace.paths);
  const lanes: PathLane[] = all.map(({ p, i }) => ({
    source: i,
    branch: p.branch,
    forks: labels[i]!.forks,
    ...(p.endpoint ? { endpoint: endpointText(p.endpoint) } : {}),
    ...(p.probability !== undefined ? { probability: p.probability } : {}),
    ...(labels[i]!.chance !== undefined ? { chance: labels[i]!.chance } : {}),
    verdict: p.verdict,
    reason: p.reason,
    end: endKind(p),
    ...(p.copy ? { copy: p.copy } : {}),
    boxes: [],
    hops: p.hops,
    dropAt: p.dropAt,
    primary: i === primaryAt,
  }));
  if (primaryAt < 0) {
    lanes.unshift({ source: -1, branch: '', forks: [], verdict: trace.verdict, reason: trace.reason, end: endKind({ verdict: trace.verdict, ending: trace.ending, floodCopy: false }), boxes: [], hops: trace.hops, dropAt: trace.dropAt, primary: true });
  } else {
    lanes.unshift(...lanes.splice(primaryAt, 1));
  }
  return lanes;
}

/** "10.244.1.3:8080", "[fd00::3]:8080", "10.244.1.3" */
export function endpointText(e: { ip: string; port?: number }): string {
  return e.port === undefined ? e.ip : e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`;
}

function subtitle(h: TraceHost | undefined): string {
  if (!h) return '';
  if (h.role !== 'pod') return h.role;
  return h.namespace !== undefined ? `pod in ${h.namespace}` : 'pod';
}

interface Node {
  id: string;
  depth: number;
  hop: Hop;
  lane: number;
  children: Node[];
  /** Out devices in first-seen order, with the children reached through each. */
  outs: Map<string, Node[]>;
  visits: { path: number; hop: number }[];
  ends: number[];
  inferred: boolean;
}

function commonPrefix(lists: string[][]): string[] {
  if (lists.length === 0) return [];
  const out: string[] = [];
  for (let i = 0; ; i++) {
    const v = lists[0]![i];
    if (v === undefined || lists.some((l) => l[i] !== v)) return out;
    out.push(v);
  }
}

export function layoutTrace(trace: TraceResult, hosts: readonly TraceHost[] = [], opts: LayoutOptions = DEFAULT_LAYOUT_OPTIONS): PathLayout {
  const lanes = orderPaths(trace);
  const hostInfo = new Map(hosts.map((h) => [h.name, h]));

  // 1. Merge the paths into a tree of visits.
  const roots: Node[] = [];
  const nodes: Node[] = [];
  let nextLane = 0;
  for (const [pi, lane] of lanes.entries()) {
    let siblings = roots;
    let parent: Node | null = null;
    let ownLane: number | null = null;
    for (const [hi, hop] of lane.hops.entries()) {
      let n = siblings.find((s) => sig(s.hop) === sig(hop));
      if (!n) {
        ownLane ??= nextLane++;
        n = { id: `h${nodes.length}`, depth: hi, hop, lane: ownLane, children: [], outs: new Map(), visits: [], ends: [], inferred: false };
        nodes.push(n);
        siblings.push(n);
      }
      n.visits.push({ path: pi, hop: hi });
      if (hop.steps.some((s) => s.inferred)) n.inferred = true;
      if (parent) {
        const dev = lane.hops[hi - 1]!.out ?? '';
        const list: Node[] = parent.outs.get(dev) ?? [];
        if (!list.includes(n)) list.push(n);
        parent.outs.set(dev, list);
      }
      lane.boxes.push(n.id);
      parent = n;
      siblings = n.children;
    }
    parent?.ends.push(pi);
  }

  // 2. Edges (topology first: their branch labels widen the gaps they sit in).
  interface EdgeTopo { id: string; from: Node; to: Node; dev: string; paths: number[]; crossing: Step | undefined; branch: string | null; headers: WireHeaders | null }
  const laneWires = lanes.map((l) => pathHeaders(l.hops));
  const tagged = laneWires.some((ws) => ws.some((w) => w.vlans !== undefined));
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const topo = new Map<string, EdgeTopo>();
  for (const [pi, lane] of lanes.entries()) {
    for (let hi = 1; hi < lane.hops.length; hi++) {
      const id = `${lane.boxes[hi - 1]}>${lane.boxes[hi]}`;
      const prev = lane.hops[hi - 1]!;
      const e = topo.get(id) ?? { id, from: byId.get(lane.boxes[hi - 1]!)!, to: byId.get(lane.boxes[hi]!)!, dev: prev.out ?? '', paths: [], crossing: [...prev.steps].reverse().find((s) => s.kind === 'veth' || s.kind === 'underlay'), branch: null, headers: laneWires[pi]![hi - 1] ?? null };
      e.paths.push(pi);
      topo.set(id, e);
    }
  }
  // A fork's edge is labelled with what its paths' branch names share and the box's other paths do not.
  const branchOf = (paths: number[]) => paths.map((p) => lanes[p]!.forks);
  for (const e of topo.values()) {
    const through = [...new Set(e.from.visits.map((v) => v.path))];
    if (through.length === e.paths.length) continue; // every path through the box takes this edge: no fork
    const own = commonPrefix(branchOf(e.paths)).slice(commonPrefix(branchOf(through)).length);
    if (own.length) e.branch = own.join(' / ');
  }

  // 3. Sizes: out-ports are the devices packets leave by (ordered by the lane they lead to so
  // edges do not cross), plus any device a path is dropped at that is not already a port.
  const portsOf = (n: Node): { name: string; dropOnly: boolean }[] => {
    const outs = [...n.outs.entries()].sort((a, b) => Math.min(...a[1].map((c) => c.lane)) - Math.min(...b[1].map((c) => c.lane))).map(([name]) => ({ name, dropOnly: false }));
    for (const pi of n.ends) {
      const dev = dropDev(lanes[pi]!);
      if (dev !== null && dev !== n.hop.in && !outs.some((o) => o.name === dev)) outs.push({ name: dev, dropOnly: true });
    }
    // A path that stops here having chosen an out device (a neighbour that failed on it, say).
    for (const v of n.visits) {
      const out = lanes[v.path]!.hops[v.hop]!.out;
      if (out !== null && !outs.some((o) => o.name === out)) outs.push({ name: out, dropOnly: true });
    }
    return outs;
  };
  // Netfilter badges: each visit's NAT and drop/reject facts, one badge per distinct fact with the paths it is on.
  const badgesOf = (n: Node): { fact: NfBadgeFact; paths: number[] }[] => {
    const out: { fact: NfBadgeFact; paths: number[] }[] = [];
    for (const v of n.visits) {
      for (const fact of hopBadges(lanes[v.path]!.hops[v.hop]!)) {
        const same = out.find((b) => b.fact.key === fact.key);
        if (same) {
          if (!same.paths.includes(v.path)) same.paths.push(v.path);
        } else out.push({ fact, paths: [v.path] });
      }
    }
    // What the rules changed first, then what stopped the packet.
    const stops = (b: { fact: NfBadgeFact }) => Number(b.fact.kind === 'drop' || b.fact.kind === 'reject');
    return out.sort((a, b) => stops(a) - stops(b));
  };
  const sized = nodes.map((n) => {
    const outs = portsOf(n);
    const badges = badgesOf(n);
    const info = hostInfo.get(n.hop.host);
    const sub = subtitle(info);
    // The in-port shares the first row with the first out-port.
    const m = (t: string) => opts.measure(t, 'mono');
    const portsW = Math.max(m(n.hop.in ?? '') + (outs[0] ? m(outs[0].name) + PORT_SPACE : 0), ...outs.map((o) => m(o.name))) + 2 * PORT_PAD;
    const badgesW = Math.max(0, ...badges.map((b) => Math.max(m(b.fact.title), m(b.fact.sub)) + 2 * PORT_PAD + 8));
    const devs = boxDevices(n);
    const devW = chainWidth(devs.map((d) => d.name), opts) + 2 * PORT_PAD;
    const want = Math.max(opts.measure(n.hop.host, 'title') + 44, opts.measure(sub, 'subtitle') + 44, portsW, badgesW, devW);
    const badgesH = badges.length ? badges.length * (BADGE_H + BADGE_GAP) + BADGE_GAP : 0;
    return { n, outs, badges, info, sub, want, devs, h: HEADER_H + DEV_ROW + Math.max(1, outs.length) * PORT_ROW + badgesH + BOX_PAD };
  });
  const depthCount = Math.max(0, ...nodes.map((n) => n.depth + 1));
  const laneCount = Math.max(1, nextLane);
  // A column with netfilter badges may be wider: a rule's chain and Service are worth the room.
  const colW = Array.from({ length: depthCount }, (_, d) => {
    const col = sized.filter((s) => s.n.depth === d);
    return Math.min(col.some((s) => s.badges.length) ? BADGE_BOX_MAX_W : BOX_MAX_W, Math.max(BOX_MIN_W, ...col.map((s) => s.want)));
  });
  const gapAfter = colW.map((_, d) => Math.max(
    GAP,
    ...[...topo.values()].filter((e) => e.from.depth === d && e.branch !== null).map((e) => opts.measure(branchLabel(e.branch!), 'mono') + 28),
    ...(tagged ? [...topo.values()].filter((e) => e.from.depth === d).map((e) => opts.measure(vlanLabel(e.headers?.vlans), 'mono') + 28) : []),
  ));
  const colX: number[] = [];
  colW.forEach((_, d) => colX.push(d === 0 ? MARGIN : colX[d - 1]! + colW[d - 1]! + gapAfter[d - 1]!));
  const laneH = Array.from({ length: laneCount }, (_, l) => TUNNEL_BAND + Math.max(HEADER_H + DEV_ROW + PORT_ROW + BOX_PAD, ...sized.filter((s) => s.n.lane === l).map((s) => s.h + Math.max(1, s.n.ends.length) * FOOTER)) + LANE_GAP);
  const laneY: number[] = [];
  laneH.forEach((_, l) => laneY.push(l === 0 ? MARGIN : laneY[l - 1]! + laneH[l - 1]!));

  // 4. Boxes, ports and edges in place.
  const boxes = new Map<string, HopBox>();
  for (const s of sized) {
    const n = s.n;
    const w = colW[n.depth]!;
    const x = colX[n.depth]!;
    const y = laneY[n.lane]! + TUNNEL_BAND;
    const rowY = (i: number) => y + HEADER_H + DEV_ROW + i * PORT_ROW + PORT_ROW / 2;
    // A hop past the first always has an in-port; should the engine ever leave its name null (a far
    // end it cannot name), the port is still drawn, unnamed.
    const hasIn = n.hop.in !== null || n.depth > 0;
    const { inLabel, outLabels } = portLabels(hasIn ? (n.hop.in ?? '?') : null, s.outs.map((o) => o.name), w, opts);
    boxes.set(n.id, {
      id: n.id,
      host: n.hop.host,
      role: s.info?.role ?? null,
      title: fit(n.hop.host, w - 44, 'title', opts),
      devices: placeDevices(s.devs, x + PORT_PAD, y + HEADER_H + (DEV_ROW - DEV_H) / 2 - 2, w - 2 * PORT_PAD, opts),
      titleY: 20,
      subX: 32,
      subY: 35,
      subtitle: s.sub,
      depth: n.depth,
      lane: n.lane,
      x,
      y,
      w,
      h: s.h,
      in: hasIn ? { id: `${n.id}:in`, name: n.hop.in ?? '', side: 'in', x, y: rowY(0), dropOnly: false, label: inLabel } : null,
      outs: s.outs.map((o, i) => ({ id: `${n.id}:out${i}`, name: o.name, side: 'out', x: x + w, y: rowY(i), dropOnly: o.dropOnly, label: outLabels[i]! })),
      visits: n.visits,
      inferred: n.inferred,
      ends: n.ends,
      badges: s.badges.map((b, i) => {
        const bx = x + PORT_PAD - 4;
        const bw = w - 2 * (PORT_PAD - 4);
        const room = bw - 2 * 8;
        return {
          ...b.fact,
          id: `${n.id}:nf${i}`,
          paths: b.paths,
          titleLabel: fit(b.fact.title, room, 'mono', opts),
          subLabel: fit(b.fact.sub, room, 'mono', opts),
          x: bx,
          y: y + HEADER_H + DEV_ROW + Math.max(1, s.outs.length) * PORT_ROW + BADGE_GAP + i * (BADGE_H + BADGE_GAP),
          w: bw,
          h: BADGE_H,
        };
      }),
    });
  }
  const edges = new Map<string, EdgeLine>();
  for (const e of topo.values()) {
    const from = boxes.get(e.from.id)!;
    const to = boxes.get(e.to.id)!;
    const port = from.outs.find((o) => o.name === e.dev) ?? from.outs[0];
    if (!port || !to.in) continue;
    edges.set(e.id, {
      id: e.id,
      from: from.id,
      fromPort: port.id,
      to: to.id,
      toPort: to.in.id,
      kind: e.crossing?.kind === 'veth' ? 'veth' : 'wire',
      x1: port.x,
      y1: port.y,
      x2: to.in.x,
      y2: to.in.y,
      paths: e.paths,
      tunnelled: false,
      title: e.crossing?.text ?? '',
      inferred: e.crossing?.inferred === true,
      branch: e.branch,
      headers: e.headers,
      lines: [],
      ...(tagged ? { vlan: edgeVlan(e.headers?.vlans, port, to.in, e.branch !== null) } : {}),
    });
  }

  // 5. Tunnels: encap to decap along each path; the same span on several paths is drawn once.
  const tunnels = new Map<string, TunnelSpan>();
  lanes.forEach((lane, pi) => {
    const open: { hop: number; header: TunnelHeader }[] = [];
    const close = (start: { hop: number; header: TunnelHeader }, endHop: number, decapped: boolean) => {
      const ids = lane.boxes.slice(start.hop, endHop + 1);
      const key = `${ids.join(',')}|${decapped}|${start.header.outerDst}`;
      const t = tunnels.get(key);
      if (t) {
        t.paths.push(pi);
        return;
      }
      const spanBoxes = ids.map((id) => boxes.get(id)!);
      const edgeIds = ids.slice(1).map((id, i) => `${ids[i]}>${id}`).filter((id) => edges.has(id));
      const points: [number, number][] = [];
      spanBoxes.forEach((b, i) => {
        if (i > 0 && b.in) points.push([b.in.x, b.in.y]);
        const nextEdge = edges.get(`${b.id}>${ids[i + 1]}`);
        if (nextEdge) points.push([nextEdge.x1, nextEdge.y1]);
      });
      const first = spanBoxes[0]!;
      const last = spanBoxes[spanBoxes.length - 1]!;
      tunnels.set(key, {
        id: `t${tunnels.size}`,
        header: start.header,
        label: tunnelLabel(start.header),
        boxes: ids,
        edges: edgeIds,
        encapBox: first.id,
        decapBox: decapped ? last.id : null,
        paths: [pi],
        points,
        x1: first.x + first.w / 2,
        x2: decapped ? last.x + last.w / 2 : last.x + last.w,
        labelY: first.y - 10 - open.length * 14,
        level: open.length,
        y2: first.y,
      });
    };
    lane.hops.forEach((hop, hi) => {
      for (const ev of tunnelEvents(hop)) {
        if (ev.kind === 'encap') open.push({ hop: hi, header: ev.header! });
        else {
          const start = open.pop();
          if (start) close(start, hi, true);
        }
      }
    });
    while (open.length) close(open.pop()!, lane.hops.length - 1, false);
  });
  for (const t of tunnels.values()) for (const id of t.edges) edges.get(id)!.tunnelled = true;

  // 6. Where each path ends.
  const ends: EndMarker[] = [];
  for (const b of boxes.values()) {
    b.ends.forEach((pi, k) => {
      const lane = lanes[pi]!;
      const dev = dropDev(lane);
      const port = dev === null ? null : b.in?.name === dev ? b.in : (b.outs.find((o) => o.name === dev) ?? null);
      const through = [...new Set(b.visits.map((v) => v.path))];
      const shared = commonPrefix(through.map((p) => lanes[p]!.forks));
      const own = lane.forks.slice(shared.length);
      ends.push({
        path: pi,
        box: b.id,
        kind: lane.end,
        ...(lane.copy && lane.end === 'discarded' ? { copy: lane.copy } : {}),
        verdict: lane.verdict,
        reason: lane.reason,
        dev,
        port: port?.id ?? null,
        x: port ? port.x : b.x + b.w,
        y: port ? port.y : b.y + HEADER_H / 2,
        labelX: b.x,
        labelY: b.y + b.h + 15 + k * FOOTER,
        branch: through.length > 1 && own.length ? own.join(' / ') : null,
        endpoint: lane.endpoint ?? null,
        chance: lane.chance ?? null,
        rule: lane.end === 'drop' ? (b.badges.find((x) => (x.kind === 'drop' || x.kind === 'reject') && x.paths.includes(pi))?.rule ?? null) : null,
      });
    });
  }

  const boxList = [...boxes.values()];
  const width = Math.max(...boxList.map((b) => b.x + b.w), 0) + MARGIN + 24;
  const height = laneY[laneCount - 1]! + laneH[laneCount - 1]! + MARGIN - LANE_GAP;
  const L: PathLayout = { orientation: 'horizontal', width, height, boxes: boxList, edges: [...edges.values()], tunnels: [...tunnels.values()], ends, paths: lanes };
  // One path reads best top to bottom: every hop, its devices and the headers on each wire in a
  // column that fits beside the details. Forks keep the lanes of the horizontal drawing.
  return lanes.length === 1 && boxList.length > 0 ? verticalize(L, opts) : L;
}

/**
 * A wire's VLAN label, midway across and just above the level the edge arrives at: over a level
 * edge; beside a falling or rising one, clear of the edges that leave the same box level (a label at
 * the start's level would sit on a sibling's wire). A branch label sits there above a level or rising
 * edge (below a falling one), so with one the VLAN goes a line higher.
 */
function edgeVlan(vlans: readonly number[] | undefined, a: { x: number; y: number }, b: { x: number; y: number }, branch: boolean): EdgeVlan {
  const branchAbove = branch && !(b.y > a.y + 1);
  return { vlans: [...(vlans ?? [])], label: vlanLabel(vlans), title: vlanTitle(vlans), x: (a.x + b.x) / 2, y: b.y - 7 - (branchAbove ? 14 : 0) };
}

function dropDev(lane: PathLane): string | null {
  return lane.end === 'delivered' ? null : (lane.dropAt?.dev ?? null);
}

/** Label cut for drawing in a gap between columns. */
export function branchLabel(branch: string): string {
  return truncate(branch, LABEL_CHARS);
}

/**
 * The one-path layout top to bottom, from the horizontal one (same boxes, ports, badges, ends):
 * the wire runs down the boxes' left side, and beside it, in the gap between two hosts, the device
 * pair, the inner header and, in a tunnel, the outer one.
 */
function verticalize(L: PathLayout, opts: LayoutOptions): PathLayout {
  const lane = L.paths[0]!;
  const boxes = lane.boxes.map((id) => L.boxes.find((b) => b.id === id)!);
  const edgeAfter = (i: number) => (i + 1 < boxes.length ? L.edges.find((e) => e.id === `${boxes[i]!.id}>${boxes[i + 1]!.id}`) : undefined);
  const tunnelStarting = (e: EdgeLine) => L.tunnels.find((t) => t.edges[0] === e.id);
  const maxLevel = Math.max(-1, ...L.tunnels.map((t) => t.level));
  const x = V_MARGIN + (maxLevel + 1) * 12;
  const m = (t: string) => opts.measure(t, 'mono');

  // The text beside each wire.
  const texts = boxes.map((b, i) => {
    const e = edgeAfter(i);
    if (!e) return [] as { kind: EdgeLabelLine['kind']; text: string; title?: string; tagged?: boolean }[];
    const to = boxes[i + 1]!;
    const out: { kind: EdgeLabelLine['kind']; text: string; title?: string; tagged?: boolean }[] = [{ kind: 'devs', text: `${b.outs.find((o) => o.id === e.fromPort)?.name || '?'} → ${to.in?.name || '?'}${e.kind === 'veth' ? '  veth' : ''}` }];
    if (e.vlan) out.push({ kind: 'vlan', text: e.vlan.label, title: e.vlan.title, tagged: e.vlan.vlans.length > 0 });
    if (e.headers) {
      const h = wireHeaderLines(e.headers);
      out.push({ kind: 'inner', text: h.inner });
      const t = tunnelStarting(e);
      if (t) out.push({ kind: 'tunnel', text: `${t.label}${t.header.dev ? `  ${t.header.dev}` : ''}` });
      else if (h.outer) out.push({ kind: 'outer', text: h.outer });
    }
    return out;
  });
  const textX = V_PORT_X + 12;
  const want = Math.max(
    V_BOX_MIN_W,
    ...boxes.map((b) => 34 + opts.measure(b.host, 'title') + 8 + opts.measure(b.subtitle, 'subtitle') + 10),
    ...boxes.map((b) => chainWidth(b.devices.map((d) => d.name), opts) + 2 * PORT_PAD),
    ...boxes.map((b) => (b.badges.length ? Math.max(...b.badges.map((d) => Math.max(m(d.title), m(d.sub)))) + 2 * PORT_PAD + 8 : 0)),
    ...texts.flat().map((t) => textX + m(t.text) + 8),
  );
  const W = Math.min(V_BOX_MAX_W, want);

  let y = V_MARGIN;
  boxes.forEach((b, i) => {
    const dx = x - b.x;
    const badgesH = b.badges.length ? b.badges.length * (BADGE_H + BADGE_GAP) + BADGE_GAP : 0;
    const h = V_HEAD + V_DEV_ROW + badgesH + 2;
    const title = fit(b.host, W - 34 - 8 - Math.min(opts.measure(b.subtitle, 'subtitle'), W / 3), 'title', opts);
    const inId = b.in?.id;
    Object.assign(b, { x, y, w: W, h, title, titleY: 17, subX: 34 + opts.measure(title, 'title') + 8, subY: 17 });
    b.devices = placeDevices(b.devices, x + PORT_PAD, y + V_HEAD, W - 2 * PORT_PAD, opts);
    if (b.in) Object.assign(b.in, { x: x + V_PORT_X, y, label: '', id: inId });
    let extra = 0;
    for (const o of b.outs) {
      const dev = b.devices.find((d) => d.name === o.name);
      const px = o.dropOnly ? (dev ? dev.x + dev.w / 2 : x + V_PORT_X + 16 * ++extra) : x + V_PORT_X;
      Object.assign(o, { x: px, y: y + h, label: '' });
    }
    b.badges.forEach((d, k) => Object.assign(d, { x: d.x + dx, y: y + V_HEAD + V_DEV_ROW + BADGE_GAP + k * (BADGE_H + BADGE_GAP) - 2, w: W - 2 * (PORT_PAD - 4) }));
    y += h + (texts[i]!.length ? 10 + texts[i]!.length * V_LINE : 0);
  });
  for (const e of L.edges) {
    const from = boxes.find((b) => b.id === e.from)!;
    const to = boxes.find((b) => b.id === e.to)!;
    const port = from.outs.find((o) => o.id === e.fromPort)!;
    Object.assign(e, { x1: port.x, y1: port.y, x2: to.in!.x, y2: to.in!.y });
    const i = boxes.indexOf(from);
    e.lines = texts[i]!.map((t, k) => ({ kind: t.kind, text: fit(t.text, W - textX - 8, 'mono', opts), ...(t.title !== undefined ? { title: t.title } : {}), ...(t.tagged ? { tagged: true } : {}), x: from.x + textX, y: port.y + 13 + k * V_LINE }));
    const vl = e.lines.find((l) => l.kind === 'vlan');
    if (e.vlan && vl) Object.assign(e.vlan, { x: vl.x, y: vl.y });
  }
  for (const t of L.tunnels) {
    const span = t.boxes.map((id) => boxes.find((b) => b.id === id)!);
    const points: [number, number][] = [];
    span.forEach((b, i) => {
      if (i > 0 && b.in) points.push([b.in.x, b.in.y]);
      const next = L.edges.find((e) => e.id === `${b.id}>${t.boxes[i + 1]}`);
      if (next) points.push([next.x1, next.y1]);
    });
    const first = span[0]!;
    const last = span[span.length - 1]!;
    Object.assign(t, { points, x1: x - 8 - t.level * 12, x2: x - 8 - t.level * 12, labelY: first.y + first.h / 2, y2: t.decapBox === null ? last.y + last.h : last.y + last.h / 2 });
  }
  const counts = new Map<string, number>();
  const bottomMarks = new Set<string>();
  for (const e of L.ends) {
    const b = boxes.find((x) => x.id === e.box)!;
    const k = counts.get(b.id) ?? 0;
    counts.set(b.id, k + 1);
    const port = e.port === null ? null : [b.in, ...b.outs].find((p) => p?.id === e.port) ?? null;
    // A mark on the bottom edge reaches below the box: the verdict line goes under it.
    const onBottom = port !== null && port.y >= b.y + b.h;
    if (onBottom) bottomMarks.add(b.id);
    Object.assign(e, { x: port ? port.x : b.x + b.w, y: port ? port.y : b.y + V_HEAD / 2, labelX: b.x, labelY: b.y + b.h + (onBottom ? 20 : 14) + k * FOOTER });
  }
  const lastBox = boxes[boxes.length - 1]!;
  const endsH = Math.max(0, ...[...counts.values()]) * FOOTER + (bottomMarks.size ? 6 : 0);
  return { ...L, orientation: 'vertical', boxes: L.boxes, width: x + W + V_MARGIN, height: Math.max(y, lastBox.y + lastBox.h + endsH) + V_MARGIN };
}

/** The smallest label in the diagram is 11px: below this scale it reads smaller than 9px. */
export const MIN_LEGIBLE_SCALE = 9 / 11;

/**
 * The zoom that shows a drawing of `content` size whole in `view` (never larger than 1:1, never
 * smaller than `minScale`): centred across, from the top. What does not fit is reached by panning.
 */
export function fitView(view: { width: number; height: number }, content: { width: number; height: number }, minScale: number, maxScale = 1): { k: number; x: number; y: number } {
  const k = Math.max(minScale, Math.min(maxScale, view.width / content.width, view.height / content.height));
  const x = content.width * k < view.width ? (view.width - content.width * k) / 2 : 0;
  return { k, x, y: 0 };
}

/**
 * How far (in screen px) to pan so that `box` (drawing coordinates) is inside the view under the
 * transform `t`, `pad` from the edges; [0, 0] when it already is. A box larger than the view is
 * aligned to its top left corner.
 */
export function revealOffset(box: { x: number; y: number; w: number; h: number }, t: { x: number; y: number; k: number }, view: { width: number; height: number }, pad = 12): [number, number] {
  const one = (pos: number, size: number, offset: number, extent: number): number => {
    const a = offset + pos * t.k;
    const len = size * t.k;
    if (len + 2 * pad > extent || a < pad) return pad - a;
    if (a + len > extent - pad) return extent - pad - (a + len);
    return 0;
  };
  return [one(box.x, box.w, t.x, view.width), one(box.y, box.h, t.y, view.height)];
}
