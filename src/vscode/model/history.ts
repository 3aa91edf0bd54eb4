// The path view's history: the last traces shown, each as the message that showed it (its request,
// result, the capture's name and identity, and when), so that showing one again needs no re-trace.
// Plain data without VS Code: the panel owns one, the workspace stores it (toJSON / restore).
//
// A new trace is appended at the end and becomes the current one; Back and Forward move through the
// list without changing it (nothing is cut off when a trace is shown from the middle), and the oldest
// entry goes when the list is full.
import type { Flow, HistoryItem, HistoryView, ShowTrace, TraceResult } from '../../shared/protocol';
import { isToWebview } from '../../shared/protocol';

export const HISTORY_LIMIT = 20;

export interface HistoryEntry {
  id: number;
  /** The message as shown, without its `history` (each message gets the history as it stands when sent). */
  message: ShowTrace;
}

/** What the workspace stores. */
export interface SavedHistory {
  entries: HistoryEntry[];
  current: number;
  nextId: number;
}

export class TraceHistory {
  private entries: HistoryEntry[] = [];
  private cursor = -1;
  private nextId = 1;

  constructor(readonly limit = HISTORY_LIMIT) {}

  /** A history from what `toJSON` saved; entries that are not well-formed traces are left out. */
  static restore(saved: unknown, limit = HISTORY_LIMIT): TraceHistory {
    const h = new TraceHistory(limit);
    if (typeof saved !== 'object' || saved === null) return h;
    const s = saved as Partial<SavedHistory>;
    if (!Array.isArray(s.entries)) return h;
    const ok = s.entries.filter((e): e is HistoryEntry => typeof e === 'object' && e !== null && Number.isSafeInteger(e.id) && e.id > 0 && isToWebview(e.message) && e.message.type === 'showTrace');
    h.entries = ok.slice(-limit);
    const currentId = typeof s.current === 'number' ? s.current : undefined;
    const at = h.entries.findIndex((e) => e.id === currentId);
    h.cursor = at >= 0 ? at : h.entries.length - 1;
    const maxId = h.entries.reduce((m, e) => Math.max(m, e.id), 0);
    h.nextId = Math.max(maxId + 1, typeof s.nextId === 'number' && Number.isSafeInteger(s.nextId) ? s.nextId : 1);
    return h;
  }

  toJSON(): SavedHistory {
    return { entries: this.entries, current: this.current?.id ?? 0, nextId: this.nextId };
  }

  /** Records a trace just shown; it becomes the current entry. */
  push(message: ShowTrace): HistoryEntry {
    const { history: _drop, ...plain } = message;
    const entry: HistoryEntry = { id: this.nextId++, message: plain };
    this.entries.push(entry);
    if (this.entries.length > this.limit) this.entries.splice(0, this.entries.length - this.limit);
    this.cursor = this.entries.length - 1;
    return entry;
  }

  get current(): HistoryEntry | undefined {
    return this.entries[this.cursor];
  }

  list(): readonly HistoryEntry[] {
    return this.entries;
  }

  get(id: number): HistoryEntry | undefined {
    return this.entries.find((e) => e.id === id);
  }

  /** Makes the entry with this id the current one; undefined (and nothing changes) when it is gone. */
  go(id: number): HistoryEntry | undefined {
    const at = this.entries.findIndex((e) => e.id === id);
    if (at < 0) return undefined;
    this.cursor = at;
    return this.entries[at];
  }

  /** The entry `delta` places from the current one (-1: Back, +1: Forward), if there is one. */
  neighbour(delta: number): HistoryEntry | undefined {
    return this.cursor < 0 ? undefined : this.entries[this.cursor + delta];
  }

  /** The entry recorded for this message (same time and request), e.g. the trace a reloaded view restored. */
  find(message: ShowTrace): HistoryEntry | undefined {
    return this.entries.find((e) => e.message.shownAt === message.shownAt && JSON.stringify(e.message.request) === JSON.stringify(message.request));
  }

  /** The list as the webview shows it; `loadedCapture` is the identity of the capture loaded now. */
  view(loadedCapture: string | undefined): HistoryView {
    return { items: this.entries.map((e) => historyItem(e, loadedCapture)), current: this.current?.id ?? 0 };
  }
}

/** An entry's capture is loaded when its identity is the loaded capture's (an entry without one cannot be told: not loaded). */
export function isLoaded(message: ShowTrace, loadedCapture: string | undefined): boolean {
  return message.captureId !== undefined && message.captureId === loadedCapture;
}

export function historyItem(e: HistoryEntry, loadedCapture: string | undefined): HistoryItem {
  const m = e.message;
  return { id: e.id, title: traceTitle(m.trace), packet: packetText(m.trace.flow), verdict: m.trace.verdict, source: m.source, shownAt: m.shownAt ?? 0, loaded: isLoaded(m, loadedCapture) };
}

/** "web-0 → web-1", "prometheus-0 → svc default/web:http" (as the path view's title). */
export function traceTitle(t: TraceResult): string {
  return `${t.from.host} → ${t.service !== undefined ? `svc ${t.service}` : (t.to.host ?? t.to.ip)}`;
}

/** "ICMP, 64 bytes", "TCP port 8080, 1500 bytes" */
export function packetText(f: Flow): string {
  return `${f.proto.toUpperCase()}${f.dport !== undefined ? ` port ${f.dport}` : ''}, ${f.size} bytes`;
}

