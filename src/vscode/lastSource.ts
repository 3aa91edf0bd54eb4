// How a source is named (status bar, path view) and which source a workspace used last. Small and
// free of the engine, so that activation can name the source without loading the rest (app.ts).
import * as vscode from 'vscode';

export type SourceKind = { kind: 'none' } | { kind: 'file'; uri: vscode.Uri } | { kind: 'cluster'; context: string };

const SOURCE_KEY = 'netpath.lastSource';

/** The bundled demo by name, a file by its path, a cluster by its context. */
export function sourceLabel(k: SourceKind, extensionUri: vscode.Uri | undefined): string {
  // The extension's own files (the bundled demo capture) are named, not shown as a long path.
  if (k.kind === 'file') return k.uri.path.endsWith('/examples/demo-flannel-vxlan.json') && extensionUri !== undefined && k.uri.path.startsWith(extensionUri.path) ? 'demo capture' : vscode.workspace.asRelativePath(k.uri);
  return k.kind === 'cluster' ? `context ${k.context}` : 'no source';
}

/** The source the workspace last used, as remembered (nothing is opened). */
export function savedSource(state: vscode.Memento): SourceKind | undefined {
  const saved = state.get<{ kind: string; uri?: string; context?: string }>(SOURCE_KEY);
  if (saved?.kind === 'file' && typeof saved.uri === 'string') return { kind: 'file', uri: vscode.Uri.parse(saved.uri) };
  if (saved?.kind === 'cluster' && typeof saved.context === 'string') return { kind: 'cluster', context: saved.context };
  return undefined;
}

/** Remembers a file or cluster source, to reopen it the next time data is needed (a window reload keeps working). */
export function rememberSource(state: vscode.Memento, k: SourceKind): void {
  const saved = k.kind === 'file' ? { kind: 'file', uri: k.uri.toString() } : k.kind === 'cluster' ? { kind: 'cluster', context: k.context } : undefined;
  if (saved) void state.update(SOURCE_KEY, saved);
}

/** The status bar entry: the source loaded, or (after a reload, nothing loaded yet) the one that will be reopened. */
export function showSourceStatus(status: vscode.StatusBarItem, current: SourceKind, state: vscode.Memento, extensionUri: vscode.Uri): void {
  const saved = current.kind === 'none' ? savedSource(state) : undefined;
  const label = sourceLabel(saved ?? current, extensionUri);
  status.text = `$(type-hierarchy) netpath: ${label}`;
  status.tooltip = saved ? `netpath data source: ${label} (opened again when first needed)` : current.kind === 'none' ? 'netpath: open a capture or select a cluster context' : `netpath data source: ${label}`;
  status.show();
}
