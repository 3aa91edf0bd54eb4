// Composition root (filled in by the extension work); activate() does no work and no I/O itself.
import type * as vscode from 'vscode';
export function activate(_context: vscode.ExtensionContext): void {}
export function deactivate(): void {}
