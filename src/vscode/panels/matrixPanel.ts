// The policy matrix in a webview panel (the same webview app as the capture and path views, message
// `showMatrix`). The extension keeps the matrix and answers the webview's cell clicks: it evaluates
// the pair (the policies and rules behind the cell) and re-sends the view with the explanation, or
// traces the pair.
import * as vscode from 'vscode';
import { webviewHtml } from './webviewHtml';
import { isFromWebview, type ShowMatrix } from '../../shared/protocol';

export interface MatrixPanelHandlers {
  /** The explanation of cell (row, col), or undefined when it cannot be given. */
  explain(row: number, col: number): ShowMatrix['details'];
  trace(row: number, col: number): void;
}

export class MatrixPanel implements vscode.Disposable {
  private static current: MatrixPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly panel: vscode.WebviewPanel;

  static show(extensionUri: vscode.Uri, view: ShowMatrix, handlers: MatrixPanelHandlers): void {
    MatrixPanel.current?.dispose();
    MatrixPanel.current = new MatrixPanel(extensionUri, view, handlers);
  }

  private constructor(
    extensionUri: vscode.Uri,
    private view: ShowMatrix,
    private readonly handlers: MatrixPanelHandlers,
  ) {
    const root = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
    this.panel = vscode.window.createWebviewPanel('netpath.matrix', `netpath: policy matrix (${view.title})`, vscode.ViewColumn.Active, { enableScripts: true, localResourceRoots: [root] });
    this.panel.webview.html = webviewHtml(this.panel.webview, root, { title: 'netpath: policy matrix', live: true });
    this.disposables.push(
      this.panel.onDidDispose(() => this.dispose()),
      this.panel.webview.onDidReceiveMessage((m: unknown) => {
        if (!isFromWebview(m)) return;
        if (m.type === 'ready') void this.panel.webview.postMessage(this.view);
        else if (m.type === 'matrixCell' && m.row < this.view.rows.length && m.col < this.view.cols.length) {
          const details = this.handlers.explain(m.row, m.col);
          this.view = { ...this.view, ...(details ? { details } : {}) };
          void this.panel.webview.postMessage(this.view);
        } else if (m.type === 'matrixTrace' && m.row < this.view.rows.length && m.col < this.view.cols.length) this.handlers.trace(m.row, m.col);
      }),
    );
  }

  dispose(): void {
    if (MatrixPanel.current === this) MatrixPanel.current = undefined;
    this.panel.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
