// Open Network Capture... / Load Demo Capture: read a capture file, validate it, show its summary.
import * as vscode from 'vscode';
import { parseCapture } from '../../capture/document';
import { summarizeCapture } from '../../capture/summary';
import { summaryText } from '../../capture/text';
import { CapturePanel } from '../panels/capturePanel';

export async function openCaptureFile(ctx: { extensionUri: vscode.Uri; output: vscode.OutputChannel; status: vscode.StatusBarItem }, uri: vscode.Uri): Promise<boolean> {
  let text: string;
  try {
    text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
  } catch (e) {
    void vscode.window.showErrorMessage(`netpath: cannot read ${uri.fsPath}: ${e instanceof Error ? e.message : String(e)}`);
    return false;
  }
  const loaded = parseCapture(text);
  if (!loaded.ok) {
    ctx.output.appendLine(`${uri.fsPath} is not a valid netpath capture:`);
    for (const e of loaded.errors) ctx.output.appendLine(`  ${e.path}: ${e.message}`);
    ctx.output.show(true);
    void vscode.window.showErrorMessage(`netpath: ${uri.fsPath} is not a valid capture (${loaded.errors[0]!.path}: ${loaded.errors[0]!.message}). Details are in the netpath output.`);
    return false;
  }
  const summary = summarizeCapture(loaded.capture, loaded.warnings);
  ctx.output.appendLine(`--- ${uri.fsPath}`);
  ctx.output.append(summaryText(summary));
  ctx.status.text = `$(type-hierarchy) netpath: ${vscode.workspace.asRelativePath(uri)}`;
  ctx.status.tooltip = `Active network capture: ${uri.fsPath}`;
  ctx.status.show();
  CapturePanel.show(ctx.extensionUri, { type: 'showCapture', source: uri.fsPath, summary });
  return true;
}
