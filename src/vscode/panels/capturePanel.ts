// One webview panel showing the active capture. Strict CSP with a nonce, resources only from the
// built webview folder, data only through the typed protocol.
import * as vscode from 'vscode';
import { webviewHtml } from './webviewHtml';
import { isFromWebview, type ToWebview } from '../../shared/protocol';

export class CapturePanel implements vscode.Disposable {
  private static current: CapturePanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private state: ToWebview;

  static show(extensionUri: vscode.Uri, message: ToWebview): void {
    if (CapturePanel.current) {
      CapturePanel.current.update(message);
      CapturePanel.current.panel.reveal();
      return;
    }
    CapturePanel.current = new CapturePanel(extensionUri, message);
  }

  private readonly panel: vscode.WebviewPanel;

  private constructor(extensionUri: vscode.Uri, message: ToWebview) {
    this.state = message;
    const root = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
    this.panel = vscode.window.createWebviewPanel('netpath.capture', 'netpath: capture', vscode.ViewColumn.Active, { enableScripts: true, localResourceRoots: [root] });
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
