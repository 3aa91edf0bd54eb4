// Composition root: registers the command table, the tree, the hover, the path view's serializer and
// the capture documents, and names the data source in the status bar. It does no work and no I/O
// itself, and it loads none of the engine: every registration forwards to the app (app.ts, bundled
// apart as dist/app.js), loaded the first time one of them is used. Everything registered is disposed
// through context.subscriptions.
import * as vscode from 'vscode';
import type { App } from './app';
import { CAPTURE_SCHEME } from './captureDocuments';
import { Commands } from './commands';
import { showSourceStatus } from './lastSource';
import { showError, useOutputChannel } from './notify';
import type { BridgeNode } from './model/bridges';
import { CHECK_VIEW } from './views/checkView';
import type { FindingNode as CheckNode } from './model/checkFindings';

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('netpath');
  useOutputChannel(output);
  const status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 10);
  status.command = Commands.openCapture;

  let app: App | undefined;
  let loading: Promise<App> | undefined;
  const treeChanged = new vscode.EventEmitter<BridgeNode | undefined>();
  const checkChanged = new vscode.EventEmitter<CheckNode | undefined>();
  /** The app, loaded and started on first use (a separate bundle: a path esbuild does not follow). */
  const load = (): Promise<App> =>
    (loading ??= Promise.resolve()
      .then(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- a separate bundle, loaded at run time
        const m = require(`${context.extensionUri.fsPath}/dist/app.js`) as typeof import('./app');
        const started = m.start(context, { output, status });
        context.subscriptions.push(
          started.bridges.onDidChangeTreeData((n) => treeChanged.fire(n ?? undefined)),
          started.checkView.onDidChangeTreeData((n) => checkChanged.fire(n ?? undefined)),
        );
        app = started;
        return started;
      })
      .catch((e: unknown) => {
        loading = undefined;
        throw e;
      }));

  // A command that fails says so in a toast with "Open Output", not only in VS Code's generic one.
  const guarded =
    (id: string, fn: (...args: unknown[]) => unknown) =>
    async (...args: unknown[]) => {
      try {
        return await fn(...args);
      } catch (e) {
        output.appendLine(`${id} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        void showError(`netpath: ${e instanceof Error ? e.message : String(e)}`);
        return undefined;
      }
    };

  const tree: vscode.TreeDataProvider<BridgeNode> = {
    onDidChangeTreeData: treeChanged.event,
    getChildren: async (parent) => (await load()).bridges.getChildren(parent),
    // Asked only for nodes getChildren returned: the app is loaded by then.
    getTreeItem: (n) => app!.bridges.getTreeItem(n),
  };
  // The Cluster Check view shows what a check found: nothing before the app has run one.
  const checks: vscode.TreeDataProvider<CheckNode> = {
    onDidChangeTreeData: checkChanged.event,
    getChildren: (parent) => app?.checkView.getChildren(parent) ?? [],
    getTreeItem: (n) => app!.checkView.getTreeItem(n),
  };
  const hover: vscode.HoverProvider = {
    // Until the app is loaded nothing is loaded, so there is nothing to say about an address.
    provideHover: (doc, pos) => app?.hover.provideHover(doc, pos),
  };
  const captures: vscode.TextDocumentContentProvider = {
    provideTextDocumentContent: async (uri) => (await load()).captures.provideTextDocumentContent(uri),
  };

  context.subscriptions.push(
    output,
    status,
    treeChanged,
    checkChanged,
    vscode.window.registerTreeDataProvider('netpath.bridges', tree),
    vscode.window.registerTreeDataProvider(CHECK_VIEW, checks),
    vscode.window.registerWebviewPanelSerializer('netpath.trace', {
      deserializeWebviewPanel: async (panel, state) => (await load()).revive(panel, state),
    }),
    vscode.languages.registerHoverProvider({ scheme: '*' }, hover),
    vscode.workspace.registerTextDocumentContentProvider(CAPTURE_SCHEME, captures),
    ...Object.values(Commands).map((id) => vscode.commands.registerCommand(id, guarded(id, async (...args) => (await load()).commands[id](...args)))),
  );
  // After a reload nothing is loaded until it is needed, but the source is known: name it.
  showSourceStatus(status, { kind: 'none' }, context.workspaceState, context.extensionUri);
}

export function deactivate(): void {}
