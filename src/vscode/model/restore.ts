// Which trace a path view shows when VS Code brings it back after a window reload or restart.
//
// Two records of the last trace exist, written at different times:
//   - the webview's own state (setState), which VS Code keeps with the editor layout. VS Code writes
//     the layout to disk only now and then: in a browser (code-server, vscode.dev) every few seconds
//     when idle and, best effort, as the page unloads — a reload soon after a new trace can bring
//     back the layout, and the webview state, of an earlier moment;
//   - the extension's record in workspaceState, written each time a trace is shown (VS Code stores
//     such a value within a fraction of a second).
// Each carries `shownAt`; the later one wins. The webview's state keeps the selected hop too, so it
// wins a tie.
// The path view's history (model/history.ts), when the workspace holds one, is a third record written
// at the same moments as the extension's and also when the user goes Back or Forward: its current
// entry is what the view showed last, so it wins (the webview's state, when it is that same trace,
// keeps its selection).
import { isToWebview, type ShowTrace } from '../../shared/protocol';

export interface Restored {
  message: ShowTrace;
  /** Which record it came from. */
  from: 'webview' | 'workspace' | 'history';
}

function asTrace(m: unknown): ShowTrace | undefined {
  return isToWebview(m) && m.type === 'showTrace' ? m : undefined;
}

/**
 * The trace to revive from the webview's saved state (`{message, selected}` as webview/main.ts saves
 * it) and the extension's stored record; undefined when neither holds a trace.
 */
export function traceToRestore(webviewState: unknown, stored: unknown, historyCurrent?: unknown): Restored | undefined {
  const fromWebview = asTrace((webviewState as { message?: unknown } | undefined)?.message);
  const fromHistory = asTrace(historyCurrent);
  if (fromHistory) {
    const same = fromWebview && fromWebview.shownAt === fromHistory.shownAt && JSON.stringify(fromWebview.request) === JSON.stringify(fromHistory.request);
    return same ? { message: fromWebview, from: 'webview' } : { message: fromHistory, from: 'history' };
  }
  const fromWorkspace = asTrace(stored);
  if (fromWebview && (!fromWorkspace || (fromWebview.shownAt ?? 0) >= (fromWorkspace.shownAt ?? 0))) return { message: fromWebview, from: 'webview' };
  return fromWorkspace ? { message: fromWorkspace, from: 'workspace' } : undefined;
}
