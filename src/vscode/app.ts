// Everything the extension does beyond registering: the data source, the commands' bodies, the tree,
// the hover, the path view and the capture documents. Bundled apart (dist/app.js) and loaded by
// extension.ts the first time any of it is needed, so activation loads none of the engine.
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
import { DataSource } from './source';
import { BridgesView } from './views/bridgesView';
import { policyMatrixCommand } from './commands/matrix';
import { copyTraceMarkdown } from './commands/copy';
import { checkCluster, pairArg } from './commands/check';
import { CheckView } from './views/checkView';
import { CaptureDocuments } from './captureDocuments';
import { showError, useOutputChannel } from './notify';
import { rememberSource, savedSource, showSourceStatus } from './lastSource';

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

/** What activate() made and hands over: the app draws on them, it does not make its own. */
export interface Shell {
  output: vscode.OutputChannel;
  status: vscode.StatusBarItem;
}

/** What extension.ts's registrations forward to. */
export interface App {
  commands: Record<CommandId, (...args: unknown[]) => unknown>;
  bridges: BridgesView;
  checkView: CheckView;
  hover: IpHoverProvider;
  captures: CaptureDocuments;
  revive(panel: vscode.WebviewPanel, state: unknown): void;
}

/** Builds the app once; its disposables join the extension's subscriptions. */
export function start(context: vscode.ExtensionContext, shell: Shell): App {
  const { output, status } = shell;
  useOutputChannel(output);
  let config = readConfig();
  const captures = new CaptureDocuments();
  const source = new DataSource(config, async (c) => (await loadKube(context.extensionUri)).ClientNodeCluster.fromKubeconfig({ kubeconfig: c.kubeconfig || undefined, context: c.context || undefined }));
  source.extensionUri = context.extensionUri;
  // The last source is remembered per workspace, and reopened the next time data is needed (lazily:
  // never at activation), so a window reload keeps working with what the user had open.
  const reopen = async (): Promise<boolean> => {
    const saved = savedSource(context.workspaceState);
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
  const commands: Record<CommandId, (...args: unknown[]) => unknown> = {
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

  const bridges = new BridgesView(source, reopen);
  const hover = new IpHoverProvider(source);
  context.subscriptions.push(
    source,
    bridges,
    hover,
    captures,
    checkView,
    checkProblems,
    source.onDidChange(() => {
      showSourceStatus(status, source.kind, context.workspaceState, context.extensionUri);
      rememberSource(context.workspaceState, source.kind);
      TracePanel.captureChanged();
    }),
    watchConfig((c) => {
      config = c;
      source.updateConfig(c);
    }),
  );
  return {
    commands,
    bridges,
    checkView,
    hover,
    captures,
    revive: (panel, state) => TracePanel.revive(context.extensionUri, panel, state, tracePanelOptions(ctx)),
  };
}
