// Composition root: builds the context and registers the command table, the tree and the hover
// provider. It does no work and no I/O itself; everything registered is disposed through
// context.subscriptions.
import * as vscode from 'vscode';
import { loadKube } from './kubeModule';
import { Commands, type CommandId } from './commands';
import type { Ctx } from './commands/context';
import { loadDemo, openCapture, openCaptureFile, refresh, saveCapture, selectContext } from './commands/source';
import { compareTraces, tracePanelOptions, tracePodPath } from './commands/trace';
import { readConfig, watchConfig } from './config';
import { IpHoverProvider } from './hover/ipHover';
import { podFromExplorerNode } from './kubernetesExplorer';
import { TracePanel, type TraceStore } from './panels/tracePanel';
import { DataSource, type SourceKind } from './source';
import { BridgesView } from './views/bridgesView';
import { policyMatrixCommand } from './commands/matrix';
import { copyTraceMarkdown } from './commands/copy';
import { CAPTURE_SCHEME, CaptureDocuments } from './captureDocuments';
import { showError, useOutputChannel } from './notify';
import { checkCluster, pairArg } from './commands/check';
import { CHECK_VIEW, CheckView } from './views/checkView';

interface RefArg {
  ref?: string;
  namespace?: string;
  pod?: string;
  ip?: string;
}

/** A trace endpoint from a tree node, a hover link or a Kubernetes extension Cluster Explorer node. */
async function refOf(arg: unknown): Promise<string | undefined> {
  if (typeof arg === 'string') return arg;
  if (!arg || typeof arg !== 'object') return undefined;
  const a = arg as RefArg;
  if (typeof a.ref === 'string') return a.ref;
  if (typeof a.namespace === 'string' && typeof a.pod === 'string') return `${a.namespace}/${a.pod}`;
  if (typeof a.ip === 'string') return a.ip;
  return podFromExplorerNode(arg);
}

export function activate(context: vscode.ExtensionContext): void {
  let config = readConfig();
  const output = vscode.window.createOutputChannel('netpath');
  useOutputChannel(output);
  const captures = new CaptureDocuments();
  const status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 10);
  const source = new DataSource(config, async (c) => (await loadKube(context.extensionUri)).ClientNodeCluster.fromKubeconfig({ kubeconfig: c.kubeconfig || undefined, context: c.context || undefined }));
  source.extensionUri = context.extensionUri;
  status.command = Commands.openCapture;
  // The last source is remembered per workspace, and reopened the next time data is needed (lazily:
  // never at activation), so a window reload keeps working with what the user had open.
  const SOURCE_KEY = 'netpath.lastSource';
  const remember = () => {
    const k = source.kind;
    const saved = k.kind === 'file' ? { kind: 'file', uri: k.uri.toString() } : k.kind === 'cluster' ? { kind: 'cluster', context: k.context } : undefined;
    if (saved) void context.workspaceState.update(SOURCE_KEY, saved);
  };
  /** The source the workspace last used, as remembered (nothing is opened). */
  const savedSource = (): SourceKind | undefined => {
    const saved = context.workspaceState.get<{ kind: string; uri?: string; context?: string }>(SOURCE_KEY);
    if (saved?.kind === 'file' && typeof saved.uri === 'string') return { kind: 'file', uri: vscode.Uri.parse(saved.uri) };
    if (saved?.kind === 'cluster' && typeof saved.context === 'string') return { kind: 'cluster', context: saved.context };
    return undefined;
  };
  const reopen = async (): Promise<boolean> => {
    const saved = savedSource();
    try {
      if (saved?.kind === 'file') return await openCaptureFile(ctx, saved.uri, { overview: false });
      if (saved?.kind === 'cluster') {
        await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `netpath: reconnecting to ${saved.context}` }, (_p, token) => source.useCluster(saved.context, token));
        return true;
      }
    } catch (e) {
      output.appendLine(`could not reopen the last source: ${e instanceof Error ? e.message : String(e)}`);
    }
    return false;
  };
  const updateStatus = () => {
    // After a reload nothing is loaded until it is needed, but the source is known: name it.
    const saved = source.kind.kind === 'none' ? savedSource() : undefined;
    const label = saved ? source.labelOf(saved) : source.label;
    status.text = `$(type-hierarchy) netpath: ${label}`;
    status.tooltip = saved
      ? `netpath data source: ${label} (opened again when first needed)`
      : source.kind.kind === 'none'
        ? 'netpath: open a capture or select a cluster context'
        : `netpath data source: ${label}`;
    status.show();
  };
  // Every trace shown is recorded here as well as in the path view's own webview state: VS Code
  // saves the latter only now and then, so a reload could bring back an older trace (model/restore.ts).
  const TRACE_KEY = 'netpath.lastTrace';
  const HISTORY_KEY = 'netpath.traceHistory';
  const traceStore: TraceStore = {
    load: () => context.workspaceState.get(TRACE_KEY),
    save: (m) => void context.workspaceState.update(TRACE_KEY, m),
    loadHistory: () => context.workspaceState.get(HISTORY_KEY),
    saveHistory: (h) => void context.workspaceState.update(HISTORY_KEY, h),
  };

  const ctx: Ctx = {
    extensionUri: context.extensionUri,
    source,
    output,
    traceStore,
    async ensureSource() {
      if (source.snapshot()) return true;
      if (await reopen()) return true;
      const choice = await vscode.window.showQuickPick(
        [
          { label: '$(folder-opened) Open Network Capture...', id: 'open' },
          { label: '$(cloud) Select Context...', id: 'context' },
          { label: '$(beaker) Load Demo Capture', id: 'demo' },
        ],
        { title: 'netpath: where is the network?' },
      );
      if (choice?.id === 'open') return openCapture(ctx);
      if (choice?.id === 'context') return selectContext(ctx, config);
      if (choice?.id === 'demo') return loadDemo(ctx);
      return false;
    },
    async revealEvidence(ref, capture) {
      // A trace saved by an older netpath does not say which capture it came from: the capture loaded
      // now may be another one, so its line would be a guess.
      const problem = capture
        ? await captures.reveal(capture, ref)
        : `netpath: cannot show ${ref.host} ${ref.probe}:${ref.line}: this trace does not record which capture it was computed from (it was saved by an older netpath). Trace again to see the evidence.`;
      if (problem) void showError(problem);
    },
    captureRef() {
      const c = source.captureText();
      if (!c) return undefined;
      const k = source.kind;
      const name = 'file' in c ? (c.file.path.split('/').pop() ?? 'capture.json') : k.kind === 'cluster' ? `capture-${k.context}.json` : 'capture.json';
      return captures.remember(c, name);
    },
  };

  const checkView = new CheckView();
  const checkProblems = vscode.languages.createDiagnosticCollection('netpath-check');
  const table: Record<CommandId, (...args: unknown[]) => unknown> = {
    [Commands.tracePodPath]: () => tracePodPath(ctx),
    [Commands.traceFrom]: async (arg) => {
      const from = await refOf(arg);
      return tracePodPath(ctx, from ? { from } : {});
    },
    [Commands.traceTo]: async (arg) => {
      const to = await refOf(arg);
      return tracePodPath(ctx, to ? { to } : {});
    },
    [Commands.openCapture]: () => openCapture(ctx),
    [Commands.saveCapture]: () => saveCapture(ctx),
    [Commands.loadDemoCapture]: () => loadDemo(ctx),
    [Commands.selectContext]: () => selectContext(ctx, config),
    [Commands.refresh]: () => refresh(ctx),
    [Commands.policyMatrix]: () => policyMatrixCommand(ctx),
    [Commands.copyTraceMarkdown]: () => copyTraceMarkdown(TracePanel.shown()),
    [Commands.compareTraces]: () => compareTraces(ctx),
    [Commands.checkCluster]: () => checkCluster(ctx, { view: checkView, diagnostics: checkProblems, captures }),
    [Commands.checkTracePair]: (arg) => {
      const pair = pairArg(arg);
      return pair ? tracePodPath(ctx, pair) : undefined;
    },
  };
  // A command that fails says so in a toast with "Open Output", not only in VS Code's generic one.
  const guarded = (id: string, fn: (...args: unknown[]) => unknown) => async (...args: unknown[]) => {
    try {
      return await fn(...args);
    } catch (e) {
      output.appendLine(`${id} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      void showError(`netpath: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
  };

  const bridges = new BridgesView(source, reopen);
  const hover = new IpHoverProvider(source);
  context.subscriptions.push(
    output,
    status,
    source,
    bridges,
    hover,
    source.onDidChange(() => {
      updateStatus();
      remember();
      TracePanel.captureChanged();
    }),
    vscode.window.registerTreeDataProvider('netpath.bridges', bridges),
    checkView,
    checkProblems,
    vscode.window.registerTreeDataProvider(CHECK_VIEW, checkView),
    vscode.window.registerWebviewPanelSerializer('netpath.trace', {
      deserializeWebviewPanel: async (panel, state) => {
        TracePanel.revive(context.extensionUri, panel, state, tracePanelOptions(ctx));
      },
    }),
    vscode.languages.registerHoverProvider({ scheme: '*' }, hover),
    watchConfig((c) => {
      config = c;
      source.updateConfig(c);
    }),
    captures,
    vscode.workspace.registerTextDocumentContentProvider(CAPTURE_SCHEME, captures),
    ...Object.entries(table).map(([id, fn]) => vscode.commands.registerCommand(id, guarded(id, fn))),
  );
  updateStatus();
}

export function deactivate(): void {}
