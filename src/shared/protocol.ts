// The typed message protocol between the extension and its webview. Data crosses only as these
// messages (postMessage), never pasted into HTML. The webview sends `ready` first; the extension
// answers with the current state, so a reloaded webview restores itself.
import type { CaptureSummary } from '../capture/summary';

export type ToWebview = { type: 'showCapture'; source: string; summary: CaptureSummary };

export type FromWebview = { type: 'ready' };

export function isFromWebview(m: unknown): m is FromWebview {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'ready';
}
