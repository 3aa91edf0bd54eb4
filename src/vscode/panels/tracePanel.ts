// One webview panel showing a traced path as a diagram. Strict CSP with a nonce, resources only
// from the built webview folder, data only through the typed protocol (src/shared/protocol.ts):
// `ready` is answered with the trace, exports come back as messages and are saved where the user says.
// The panel keeps a history of the traces it showed (model/history.ts): Back, Forward and the list
// show a stored result again, Compare puts two side by side, Reverse asks for the way back.
import * as vscode from 'vscode';
import { showError } from '../notify';
import { webviewHtml } from './webviewHtml';
import { isFromWebview, type CaptureRef, type CompareSide, type EvidenceRef, type FromWebview, type ShowCompare, type ShowTrace } from '../../shared/protocol';
import { isLoaded, packetText, TraceHistory, traceTitle, type HistoryEntry, type SavedHistory } from '../model/history';
import { traceToRestore } from '../model/restore';
import { fileStem } from '../model/exportName';
import { copyTraceMarkdown } from '../commands/copy';

/** The extension's own record of the trace last shown (workspaceState), kept beside the webview's state. */
export interface TraceStore {
  load(): unknown;
  save(message: ShowTrace): void;
  /** The path view's history (model/history.ts), kept across window reloads. */
  loadHistory?(): unknown;
  saveHistory?(history: SavedHistory): void;
}

export interface TracePanelOptions {
  /** Called when the user clicks an evidence line (`host probe:line`); e.g. to open the capture there. */
  revealEvidence?: (ref: EvidenceRef, capture: CaptureRef | undefined) => void | Promise<void>;
  /** Where every trace shown is recorded, so that a window reload brings back the last one (see model/restore.ts). */
  store?: TraceStore;
  /** The identity of the capture loaded now (DataSource.captureId): history entries computed on another are marked. */
  loadedCapture?: () => string | undefined;
  /** Traces the shown trace's packet the other way and shows the result (the view's Reverse button). */
  reverse?: (shown: ShowTrace) => void | Promise<void>;
}

export class TracePanel implements vscode.Disposable {
  private static current: TracePanel | undefined;
  /** One history for the window, loaded from the store on first use; it outlives a closed panel. */
  private static recent: TraceHistory | undefined;

  /** The trace the open path view shows (Copy Trace as Markdown). */
  static shown(): ShowTrace | undefined {
    return TracePanel.current?.state;
  }
  private readonly disposables: vscode.Disposable[] = [];
  private readonly panel: vscode.WebviewPanel;
  private state: ShowTrace;
  /** Two traces side by side, while the view shows them instead of `state`. */
  private comparing: ShowCompare | undefined;
  private options: TracePanelOptions;

  /** Shows `message` in the trace panel, creating it or reusing the open one. */
  static show(extensionUri: vscode.Uri, message: ShowTrace, options: TracePanelOptions = {}): TracePanel {
    // Recorded before the webview sees it: a reload from now on brings this trace back.
    options.store?.save(message);
    TracePanel.history(options).push(message);
    TracePanel.saveHistory(options);
    const open = TracePanel.current;
    if (open) {
      open.options = options;
      open.update(message);
      open.panel.reveal();
      return open;
    }
    TracePanel.current = new TracePanel(extensionUri, message, options);
    return TracePanel.current;
  }

  private static history(options: TracePanelOptions): TraceHistory {
    TracePanel.recent ??= TraceHistory.restore(options.store?.loadHistory?.());
    return TracePanel.recent;
  }

  private static saveHistory(options: TracePanelOptions): void {
    if (TracePanel.recent) options.store?.saveHistory?.(TracePanel.recent.toJSON());
  }

  /** The loaded capture changed: the open view marks again which traces were computed on it. */
  static captureChanged(): void {
    const open = TracePanel.current;
    if (open && !open.comparing) void open.panel.webview.postMessage(open.decorated());
  }

  /**
   * netpath: Compare Traces: picks two traces of the history and shows them side by side in the path
   * view (opened on the first when it is closed).
   */
  static async compare(extensionUri: vscode.Uri, options: TracePanelOptions): Promise<void> {
    const history = TracePanel.history(options);
    if (history.list().length < 2) {
      void vscode.window.showInformationMessage(`netpath: trace at least two packets to compare them (the path view keeps the last ${history.limit}).`);
      return;
    }
    const current = history.current;
    const ordered = [...history.list()].reverse();
    const first = await pickEntry(ordered, 'Compare Traces: first trace (A)', options, current?.id);
    if (!first) return;
    const second = await pickEntry(ordered.filter((e) => e.id !== first.id), `Compare Traces: ${traceTitle(first.message.trace)} (${packetText(first.message.trace.flow)}) with`, options);
    if (!second) return;
    let open = TracePanel.current;
    if (open) {
      open.options = options;
      open.panel.reveal();
    } else {
      history.go(first.id);
      open = TracePanel.current = new TracePanel(extensionUri, first.message, options);
    }
    open.showCompare(first, second);
  }

  /**
   * Brings back a path view VS Code restored after a restart or window reload: the history's current
   * entry when the workspace holds a history, else the later of the trace its webview saved with
   * setState and the one the store recorded (the webview's state can be older than the last trace
   * shown; see model/restore.ts). Returns false, and closes the panel, when none holds a trace.
   */
  static revive(extensionUri: vscode.Uri, panel: vscode.WebviewPanel, saved: unknown, options: TracePanelOptions = {}): boolean {
    const history = TracePanel.history(options);
    const restored = traceToRestore(saved, options.store?.load(), history.current?.message);
    if (!restored) {
      panel.dispose();
      return false;
    }
    TracePanel.current?.dispose();
    const known = history.find(restored.message) ?? history.push(restored.message);
    history.go(known.id);
    // When the store's record is the later one, the webview first draws its own (older) state and
    // then the answer to its `ready`, which is this message.
    TracePanel.current = new TracePanel(extensionUri, restored.message, options, panel);
    return true;
  }

  private constructor(extensionUri: vscode.Uri, message: ShowTrace, options: TracePanelOptions, restored?: vscode.WebviewPanel) {
    this.state = message;
    this.options = options;
    const root = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
    this.panel = restored ?? vscode.window.createWebviewPanel('netpath.trace', panelTitle(message), vscode.ViewColumn.Active, { enableScripts: true, localResourceRoots: [root] });
    // A restored panel keeps its old options: set them again, as strict as a new one's.
    this.panel.webview.options = { enableScripts: true, localResourceRoots: [root] };
    this.panel.title = panelTitle(message);
    this.panel.webview.html = webviewHtml(this.panel.webview, root, { title: 'netpath trace' });
    this.disposables.push(
      this.panel.onDidDispose(() => this.dispose()),
      this.panel.webview.onDidReceiveMessage((m: unknown) => {
        if (isFromWebview(m)) void this.handle(m);
      }),
    );
  }

  private update(message: ShowTrace): void {
    this.state = message;
    this.comparing = undefined;
    this.panel.title = panelTitle(message);
    void this.panel.webview.postMessage(this.decorated());
  }

  /** The trace shown, with the history as it stands (which entries' captures are still loaded). */
  private decorated(): ShowTrace {
    const history = TracePanel.history(this.options);
    return { ...this.state, history: history.view(this.options.loadedCapture?.()) };
  }

  private showCompare(a: HistoryEntry, b: HistoryEntry): void {
    const loaded = this.options.loadedCapture?.();
    const side = (e: HistoryEntry): CompareSide => ({
      id: e.id,
      trace: e.message.trace,
      request: e.message.request,
      source: e.message.source,
      ...(e.message.shownAt !== undefined ? { shownAt: e.message.shownAt } : {}),
      loaded: isLoaded(e.message, loaded),
    });
    this.comparing = { type: 'showCompare', source: a.message.source, a: side(a), b: side(b) };
    const [ta, tb] = [traceTitle(a.message.trace), traceTitle(b.message.trace)];
    this.panel.title = ta === tb ? `netpath: compare two traces of ${ta}` : `netpath: compare ${ta} ↔ ${tb}`;
    void this.panel.webview.postMessage(this.comparing);
  }

  /** The view's Compare with...: the trace shown (A) and one the user picks from the rest of the history (B). */
  private async compareWithShown(): Promise<void> {
    const history = TracePanel.history(this.options);
    const a = history.current;
    if (!a) return;
    const others = [...history.list()].reverse().filter((e) => e.id !== a.id);
    if (others.length === 0) {
      void vscode.window.showInformationMessage('netpath: no other trace in the history to compare with; trace another packet first.');
      return;
    }
    const b = await pickEntry(others, `Compare ${traceTitle(a.message.trace)} (${packetText(a.message.trace.flow)}) with`, this.options);
    if (b) this.showCompare(a, b);
  }

  private async handle(m: FromWebview): Promise<void> {
    switch (m.type) {
      case 'ready':
        await this.panel.webview.postMessage(this.comparing ?? this.decorated());
        return;
      case 'historyGo': {
        const entry = TracePanel.history(this.options).go(m.id);
        if (!entry) return;
        TracePanel.saveHistory(this.options);
        this.update(entry.message);
        return;
      }
      case 'compare':
        await this.compareWithShown();
        return;
      case 'reverse':
        await this.options.reverse?.(this.state);
        return;
      case 'exportSvg':
        await this.save(m.svg, 'svg', { 'SVG image': ['svg'] });
        return;
      case 'exportJson':
        // The extension's copy of the trace, not the webview's: what `netpath trace --json` prints.
        await this.save(`${JSON.stringify(this.state.trace, null, 2)}\n`, 'json', { 'netpath trace': ['json'] });
        return;
      case 'revealEvidence':
        await this.options.revealEvidence?.({ host: m.host, probe: m.probe, line: m.line }, this.state.capture);
        return;
      case 'copyMarkdown':
        await copyTraceMarkdown(this.state);
        return;
    }
  }

  private async save(text: string, ext: string, filters: Record<string, string[]>): Promise<void> {
    const base = vscode.workspace.workspaceFolders?.[0]?.uri;
    const name = `${fileStem(this.state)}.${ext}`;
    const uri = await vscode.window.showSaveDialog({ title: `Export trace as ${ext.toUpperCase()}`, filters, ...(base ? { defaultUri: vscode.Uri.joinPath(base, name) } : {}) });
    if (!uri) return;
    try {
      await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
    } catch (e) {
      void showError(`netpath: cannot write ${uri.fsPath}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  dispose(): void {
    if (TracePanel.current === this) TracePanel.current = undefined;
    this.panel.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/** A quick pick of history entries, newest first; undefined when cancelled. */
async function pickEntry(entries: readonly HistoryEntry[], title: string, options: TracePanelOptions, currentId?: number): Promise<HistoryEntry | undefined> {
  const loaded = options.loadedCapture?.();
  const items = entries.map((e) => {
    const m = e.message;
    const when = m.shownAt !== undefined ? new Date(m.shownAt).toLocaleTimeString() : 'unknown time';
    return {
      label: `${traceTitle(m.trace)} · ${packetText(m.trace.flow)}`,
      description: `${m.trace.verdict}${e.id === currentId ? ' · shown now' : ''}`,
      detail: `${m.source}, ${when}${isLoaded(m, loaded) ? '' : ' (capture no longer loaded)'}: ${m.trace.reason}`,
      entry: e,
    };
  });
  const picked = await vscode.window.showQuickPick(items, { title, matchOnDescription: true, matchOnDetail: true });
  return picked?.entry;
}

function panelTitle(m: ShowTrace): string {
  return `netpath: ${m.request.from} → ${m.request.to}`;
}
