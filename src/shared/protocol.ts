// The typed message protocol between the extension and its webviews. Data crosses only as these
// messages (postMessage), never pasted into HTML. The webview sends `ready` first; the extension
// answers with the current state, so a reloaded webview restores itself. Everything the extension
// receives is checked at run time (`isFromWebview`): a webview is a browser page, not trusted code.
import type { CaptureSummary } from '../capture/summary';
import type { Flow, TraceResult, Verdict } from '../engine/trace';

// The webview may import only src/shared (STYLE.md), so the trace's types reach it from here.
export type { CopyKind, Diagnosis, Ending, Evidence, Flow, Fork, Hop, Step, StepDetail, StepKind, Trace, TracePath, TraceResult, Unchecked, Verdict } from '../engine/trace';

export type HostRole = 'node' | 'pod' | 'router' | 'switch';

/** What the path view needs to know about a host besides its name: drawn on its box. */
export interface TraceHost {
  name: string;
  role: HostRole;
  /** Pods only. */
  namespace?: string;
  /** Pods only: the pod's name when it differs from the host name. */
  pod?: string;
  /** Pods only: the node it runs on. */
  node?: string;
}

/** The request a trace answered (the engine's TraceRequest, restated so the webview need not import the engine). */
export interface TraceRequestInfo {
  from: string;
  to: string;
  size?: number;
  proto?: Flow['proto'];
  port?: number;
  /** Source port (a reverse trace sends the reply from the server's port). */
  sport?: number;
}

/** One trace the path view keeps in its history, as its list shows it (built by src/vscode/model/history.ts). */
export interface HistoryItem {
  id: number;
  /** "web-0 → web-1" */
  title: string;
  /** "ICMP, 64 bytes", "TCP port 8080, 1500 bytes" */
  packet: string;
  verdict: Verdict;
  /** The capture it was computed on, as the view's subtitle names it. */
  source: string;
  shownAt: number;
  /** False when the capture it was computed on is no longer the one loaded. */
  loaded: boolean;
}

/** The path view's history: recent traces, oldest first, and which one is shown. */
export interface HistoryView {
  items: HistoryItem[];
  current: number;
}

export interface ShowCapture {
  type: 'showCapture';
  source: string;
  summary: CaptureSummary;
}

export interface ShowTrace {
  type: 'showTrace';
  trace: TraceResult;
  /** Where the capture came from (a file path or a cluster context), shown as the view's subtitle. */
  source: string;
  request: TraceRequestInfo;
  /** Roles of the hosts on the path (see `traceHosts`); without them boxes show names only. */
  hosts?: TraceHost[];
  /**
   * When the extension showed this trace (ms since the epoch): after a window reload the later of
   * the webview's saved state and the extension's own record is restored. Absent in state saved by
   * netpath 0.1.
   */
  shownAt?: number;
  /** Which capture the trace was computed from, so its evidence opens that text (not whatever is loaded now). */
  capture?: CaptureRef;
  /**
   * Which capture the trace was computed on (a file's content hash, a cluster context's session): a
   * history entry whose capture is no longer loaded is marked so. Absent before netpath 0.3.
   */
  captureId?: string;
  /** A sentence about how this trace was asked for (a reverse trace says what it reversed). */
  note?: string;
  /** The recent traces and where this one is among them (absent: no history, e.g. older saved state). */
  history?: HistoryView;
}

/** The capture text a trace was computed from: its digest, a name for the editor tab, the file it was read from (none for a live cluster). */
export interface CaptureRef {
  digest: string;
  name: string;
  file?: string;
}

/** One side of a comparison: a trace from the history. */
export interface CompareSide {
  id: number;
  trace: TraceResult;
  request: TraceRequestInfo;
  source: string;
  shownAt?: number;
  loaded: boolean;
}

/** Two traces side by side (the webview aligns their hops: webview/compare.ts). */
export interface ShowCompare {
  type: 'showCompare';
  source: string;
  a: CompareSide;
  b: CompareSide;
}

/** One cell of the policy matrix view: the flow's verdict and each direction's. */
export interface MatrixCellView {
  verdict: 'allowed' | 'denied';
  egress: 'allowed' | 'denied';
  ingress: 'allowed' | 'denied';
  /** A pod to itself (implementation-specific whether policy applies). */
  self?: true;
}

/** The policies and rules behind one cell, as sentences (the extension evaluates the pair). */
export interface MatrixDetails {
  row: number;
  col: number;
  from: string;
  to: string;
  verdict: 'allowed' | 'denied';
  egress: string;
  ingress: string;
  notes: string[];
}

/** Who may talk to whom on one port: `cells[r][c]` is `rows[r]` to `cols[c]` (netpath policy matrix). */
export interface ShowMatrix {
  type: 'showMatrix';
  source: string;
  /** "namespace default", "all pods". */
  title: string;
  /** "TCP 8080", "TCP (no port given)". */
  flow: string;
  rows: string[];
  cols: string[];
  cells: MatrixCellView[][];
  notes: string[];
  /** The cell last clicked, explained. */
  details?: MatrixDetails;
}

export type ToWebview = ShowCapture | ShowTrace | ShowMatrix | ShowCompare;

/** A line of a probe on a host: where a step's evidence came from. */
export interface EvidenceRef {
  host: string;
  probe: string;
  line: number;
}

export type FromWebview =
  | { type: 'ready' }
  /** A standalone SVG of the diagram with the theme's colours resolved. */
  | { type: 'exportSvg'; svg: string }
  /** Save the trace the extension holds (the webview sends nothing: the extension's copy is authoritative). */
  | { type: 'exportJson' }
  /** Copy the trace the extension holds as Markdown to the clipboard. */
  | { type: 'copyMarkdown' }
  | ({ type: 'revealEvidence' } & EvidenceRef)
  /** The policy matrix: explain a cell, or trace its pair. */
  | { type: 'matrixCell'; row: number; col: number }
  | { type: 'matrixTrace'; row: number; col: number }
  /** The path view's history: show the trace with this id again (Back, Forward, the list). */
  | { type: 'historyGo'; id: number }
  /** Compare the trace shown with one the user picks from the history. */
  | { type: 'compare' }
  /** Trace the packet the other way, from the destination back to the source, on the capture loaded. */
  | { type: 'reverse' };

/** SVG exports larger than this are refused: the diagram of 256 paths is far smaller. */
export const MAX_SVG_BYTES = 16 * 1024 * 1024;

const isObject = (m: unknown): m is Record<string, unknown> => typeof m === 'object' && m !== null && !Array.isArray(m);
const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 1024;

export function isFromWebview(m: unknown): m is FromWebview {
  if (!isObject(m)) return false;
  switch (m.type) {
    case 'ready':
    case 'exportJson':
    case 'copyMarkdown':
    case 'compare':
    case 'reverse':
      return true;
    case 'historyGo':
      return typeof m.id === 'number' && Number.isSafeInteger(m.id) && m.id >= 0;
    case 'exportSvg':
      return typeof m.svg === 'string' && m.svg.length <= MAX_SVG_BYTES && /^\s*(<\?xml[^>]*>\s*)?<svg[\s>]/.test(m.svg);
    case 'revealEvidence':
      return isName(m.host) && isName(m.probe) && typeof m.line === 'number' && Number.isSafeInteger(m.line) && m.line >= 0;
    case 'matrixCell':
    case 'matrixTrace':
      return [m.row, m.col].every((v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v < 100_000);
    default:
      return false;
  }
}

/**
 * A shallow check of a message (or restored state) the webview is about to render: the right
 * type and the fields the renderer walks. The extension builds these from typed values; the check
 * guards against state saved by an older version of the webview.
 */
export function isToWebview(m: unknown): m is ToWebview {
  if (!isObject(m) || typeof m.source !== 'string') return false;
  if (m.type === 'showCapture') return isObject(m.summary) && Array.isArray(m.summary.hosts);
  if (m.type === 'showMatrix') return typeof m.title === 'string' && typeof m.flow === 'string' && Array.isArray(m.rows) && Array.isArray(m.cols) && Array.isArray(m.cells) && Array.isArray(m.notes) && (m.details === undefined || isObject(m.details));
  if (m.type === 'showTrace') {
    const t = m.trace;
    return isObject(t) && typeof t.verdict === 'string' && Array.isArray(t.hops) && Array.isArray(t.paths) && isObject(t.flow) && isObject(m.request)
      && (m.hosts === undefined || Array.isArray(m.hosts)) && (m.shownAt === undefined || typeof m.shownAt === 'number')
      && (m.history === undefined || (isObject(m.history) && Array.isArray(m.history.items) && typeof m.history.current === 'number'));
  }
  if (m.type === 'showCompare') return isCompareSide(m.a) && isCompareSide(m.b);
  return false;
}

function isCompareSide(v: unknown): v is CompareSide {
  if (!isObject(v) || !isObject(v.trace) || !isObject(v.request)) return false;
  const t = v.trace;
  return typeof v.id === 'number' && typeof v.source === 'string' && typeof v.loaded === 'boolean' && typeof t.verdict === 'string' && Array.isArray(t.hops) && Array.isArray(t.paths) && isObject(t.flow);
}

/** The hosts a trace visits, with their roles, from the capture's host list (any objects with these fields). */
export function traceHosts(trace: TraceResult, hosts: readonly { name: string; role: HostRole; namespace?: string; pod?: string; node?: string }[]): TraceHost[] {
  const visited = new Set<string>();
  for (const p of [trace, ...trace.paths]) for (const h of p.hops) visited.add(h.host);
  return hosts
    .filter((h) => visited.has(h.name))
    .map((h) => {
      const out: TraceHost = { name: h.name, role: h.role };
      if (h.role === 'pod') {
        if (h.namespace !== undefined) out.namespace = h.namespace;
        if (h.pod !== undefined && h.pod !== h.name) out.pod = h.pod;
        if (h.node !== undefined) out.node = h.node;
      }
      return out;
    });
}
