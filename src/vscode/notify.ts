// Every error or warning netpath shows offers "Open Output": the message is also written to the
// netpath output channel (with whatever details were logged before it), and the button shows it.
import * as vscode from 'vscode';

export const OPEN_OUTPUT = 'Open Output';

let channel: vscode.OutputChannel | undefined;

/** Set once by activate(): the channel the button opens. */
export function useOutputChannel(c: vscode.OutputChannel): void {
  channel = c;
}

async function notify(show: (m: string, ...items: string[]) => Thenable<string | undefined>, message: string): Promise<void> {
  channel?.appendLine(`[${new Date().toISOString()}] ${message}`);
  const choice = await show(message, OPEN_OUTPUT);
  // preserveFocus false: the user asked to look at it.
  if (choice === OPEN_OUTPUT) channel?.show(false);
}

/** An error toast with an "Open Output" button. Resolves when the toast is dismissed or answered. */
export function showError(message: string): Promise<void> {
  return notify((m, ...i) => vscode.window.showErrorMessage(m, ...i), message);
}

/** A warning toast with an "Open Output" button. */
export function showWarning(message: string): Promise<void> {
  return notify((m, ...i) => vscode.window.showWarningMessage(m, ...i), message);
}
