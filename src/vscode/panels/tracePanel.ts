// One webview panel showing a traced path as a diagram. Strict CSP with a nonce, resources only
// from the built webview folder, data only through the typed protocol (src/shared/protocol.ts):
// `ready` is answered with the trace, exports come back as messages and are saved where the user says.
import * as vscode from 'vscode';
import { showError } from '../notify';
import { webviewHtml } from './webviewHtml';
import { isFromWebview, type CaptureRef, type EvidenceRef, type FromWebview, type ShowTrace } from '../../shared/protocol';
import { traceToRestore } from '../model/restore';
import { fileStem } from '../model/exportName';
import { copyTraceMarkdown } from '../commands/copy';

/** The extension's own record of the trace last shown (workspaceState), kept beside the webview's state. */
export interface TraceStore {
  load(): unknown;
  save(message: ShowTrace): void;
}

export interface TracePanelOptions {
  /** Called when the user clicks an evidence line (`host probe:line`); e.g. to open the capture there. */
  revealEvidence?: (ref: EvidenceRef, capture: CaptureRef | undefined) => void | Promise<void>;
  /** Where every trace shown is recorded, so that a window reload brings back the last one (see model/restore.ts). */
  store?: TraceStore;
}

export class TracePanel implements vscode.Disposable {
  private static current: TracePanel | undefined;

  /** The trace the open path view shows (Copy Trace as Markdown). */
  static shown(): ShowTrace | undefined {
    return TracePanel.current?.state;
  }
  private readonly disposables: vscode.Disposable[] = [];
  private readonly panel: vscode.WebviewPanel;
  private state: ShowTrace;
  private options: TracePanelOptions;

  /** Shows `message` in the trace panel, creating it or reusing the open one. */
  static show(extensionUri: vscode.Uri, message: ShowTrace, options: TracePanelOptions = {}): TracePanel {
    // Recorded before the webview sees it: a reload from now on brings this trace back.
    options.store?.save(message);
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

  /**
   * Brings back a path view VS Code restored after a restart or window reload: the later of the trace
   * its webview saved with setState and the one the store recorded (the webview's state can be older
   * than the last trace shown; see model/restore.ts). Returns false, and closes the panel, when
   * neither holds a trace.
   */
  static revive(extensionUri: vscode.Uri, panel: vscode.WebviewPanel, saved: unknown, options: TracePanelOptions = {}): boolean {
    const restored = traceToRestore(saved, options.store?.load());
    if (!restored) {
      panel.dispose();
      return false;
    }
    TracePanel.current?.dispose();
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
    this.panel.title = panelTitle(message);
    void this.panel.webview.postMessage(message);
  }

  private async handle(m: FromWebview): Promise<void> {
    switch (m.type) {
      case 'ready':
        await this.panel.webview.postMessage(this.state);
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

function panelTitle(m: ShowTrace): string {
  return `netpath: ${m.request.from} → ${m.request.to}`;
}
