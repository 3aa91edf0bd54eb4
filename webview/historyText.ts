// The texts of the path view's history bar, without the DOM (tested under node): a history row,
// the entries around the current one, and which capture the shown trace was computed on.
import type { HistoryItem, HistoryView, ShowTrace } from '../src/shared/protocol';
import { VERDICT_TEXT } from './text';

/** "14:02:31" in the user's locale: when a trace was computed. */
export function timeText(ms: number): string {
  return ms > 0 ? new Date(ms).toLocaleTimeString() : 'an unknown time';
}

/** A row of the history list: "web-0 → web-1 · ICMP, 1500 bytes · MTU exceeded · demo capture 14:02:31". */
export function historyLabel(i: HistoryItem): string {
  return `${i.title} · ${i.packet} · ${VERDICT_TEXT[i.verdict]} · ${i.source} ${timeText(i.shownAt)}${i.loaded ? '' : ' (capture no longer loaded)'}`;
}

/** The entries before and after the current one. */
export function neighbours(h: HistoryView): { back?: HistoryItem; forward?: HistoryItem } {
  const at = h.items.findIndex((i) => i.id === h.current);
  if (at < 0) return {};
  const back = h.items[at - 1];
  const forward = h.items[at + 1];
  return { ...(back ? { back } : {}), ...(forward ? { forward } : {}) };
}

/** "Computed on demo capture at 14:02:31", with a warning when that capture is no longer loaded. */
export function provenanceText(m: ShowTrace): { text: string; stale: boolean } | undefined {
  const item = m.history?.items.find((i) => i.id === m.history?.current);
  if (!item) return undefined;
  const text = `Computed on ${item.source} at ${timeText(item.shownAt)}${item.loaded ? '' : ': that capture is no longer loaded (shown from the history, not traced again)'}`;
  return { text, stale: !item.loaded };
}
