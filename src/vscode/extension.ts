// Composition root: builds the context and registers the command table. No work and no I/O here;
// everything registered is disposed through context.subscriptions.
import * as vscode from 'vscode';
import { Commands, type CommandId } from './commands';
import { openCaptureFile } from './commands/openCapture';

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('netpath');
  const status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 10);
  status.command = Commands.openCapture;
  const ctx = { extensionUri: context.extensionUri, output, status };

  const table: Record<CommandId, (...args: unknown[]) => unknown> = {
    [Commands.openCapture]: async () => {
      const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'netpath capture': ['json'] }, title: 'Open Network Capture' });
      if (picked?.[0]) await openCaptureFile(ctx, picked[0]);
    },
    [Commands.loadDemoCapture]: () => openCaptureFile(ctx, vscode.Uri.joinPath(context.extensionUri, 'examples', 'demo-flannel-vxlan.json')),
  };
  context.subscriptions.push(output, status, ...Object.entries(table).map(([id, fn]) => vscode.commands.registerCommand(id, fn)));
}

export function deactivate(): void {}
