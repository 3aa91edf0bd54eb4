// One webview panel showing the active capture. Strict CSP with a nonce, resources only from the
// built webview folder, data only through the typed protocol.
import * as vscode from 'vscode';
import { webviewHtml } from './webviewHtml';
import { isFromWebview, type ToWebview } from '../../shared/protocol';

export class CapturePanel implements vscode.Disposable {
  private static current: CapturePanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private state: ToWebview;

  /**
   * Shows the overview. With `preserveFocus` (Load Demo Capture) focus stays where it was: the panel
   * opens beside an editor that has it, so that editor stays visible and focused.
   */
  static show(extensionUri: vscode.Uri, message: ToWebview, opts: { preserveFocus?: boolean } = {}): void {
    const preserveFocus = opts.preserveFocus === true;
    if (CapturePanel.current) {
      CapturePanel.current.update(message);
      CapturePanel.current.panel.reveal(undefined, preserveFocus);
      return;
    }
    const column = preserveFocus && vscode.window.activeTextEditor ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active;
    CapturePanel.current = new CapturePanel(extensionUri, message, { viewColumn: column, preserveFocus });
  }

  private readonly panel: vscode.WebviewPanel;

  private constructor(extensionUri: vscode.Uri, message: ToWebview, show: { viewColumn: vscode.ViewColumn; preserveFocus: boolean }) {
    this.state = message;
    const root = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
    this.panel = vscode.window.createWebviewPanel('netpath.capture', 'netpath: capture', show, { enableScripts: true, localResourceRoots: [root] });
    this.panel.webview.html = webviewHtml(this.panel.webview, root, { title: 'netpath', live: true });
    this.disposables.push(
      this.panel.onDidDispose(() => this.dispose()),
      this.panel.webview.onDidReceiveMessage((m: unknown) => {
        if (isFromWebview(m)) void this.panel.webview.postMessage(this.state);
      }),
    );
  }

  private update(message: ToWebview): void {
    this.state = message;
    void this.panel.webview.postMessage(message);
  }

  dispose(): void {
    CapturePanel.current = undefined;
    this.panel.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
