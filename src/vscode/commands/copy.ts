// Copy Trace as Markdown: the trace the path view shows, rendered by the engine's Markdown renderer,
// onto the clipboard, for a ticket or a chat; the status bar says it was copied.
import * as vscode from 'vscode';
import { traceMarkdown } from '../../engine/markdown';
import type { ShowTrace } from '../../shared/protocol';
import { showWarning } from '../notify';

export async function copyTraceMarkdown(shown: ShowTrace | undefined): Promise<void> {
  if (!shown) {
    void showWarning('netpath: no trace is shown: trace a path first (netpath: Trace Pod Path).');
    return;
  }
  const md = traceMarkdown(shown.trace, shown.source ? { source: shown.source } : {});
  await vscode.env.clipboard.writeText(md);
  vscode.window.setStatusBarMessage(`$(check) netpath: trace ${shown.request.from} → ${shown.request.to} copied as Markdown`, 8000);
}
