// The webview app: renders what the extension sends (a capture summary or a trace) and keeps it in
// the webview state so a reload restores the view, selection included. Cluster names are data:
// they reach the DOM with textContent only, never as HTML.
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-collapsible/index.js';
import { isToWebview, type FromWebview, type ToWebview } from '../src/shared/protocol';
import { renderCapture } from './capture';
import { renderMatrix } from './matrix';
import type { HopRef } from './diagram';
import { renderTrace } from './traceView';

interface VsCodeApi {
  postMessage(message: FromWebview): void;
  setState(state: SavedState): void;
  getState(): unknown;
}
declare function acquireVsCodeApi(): VsCodeApi;

interface SavedState {
  message: ToWebview;
  selected?: HopRef;
}

const vscode = acquireVsCodeApi();
const app = document.getElementById('app')!;
let current: SavedState | undefined;

function show(message: ToWebview, selected?: HopRef): void {
  current = { message, ...(selected ? { selected } : {}) };
  vscode.setState(current);
  if (message.type === 'showCapture') {
    app.classList.remove('trace-view');
    renderCapture(app, message);
    return;
  }
  if (message.type === 'showMatrix') {
    renderMatrix(app, message, (m) => vscode.postMessage(m));
    return;
  }
  app.classList.remove('matrix-view');
  renderTrace(app, message, selected ?? null, {
    post: (m) => vscode.postMessage(m),
    selectionChanged: (sel) => {
      if (!current) return;
      current = { ...current, selected: sel };
      vscode.setState(current);
    },
  });
}

window.addEventListener('message', (ev: MessageEvent<unknown>) => {
  if (!isToWebview(ev.data)) return;
  // The answer to `ready` after a reload repeats what is shown: keep the selection.
  const same = current !== undefined && JSON.stringify(current.message) === JSON.stringify(ev.data);
  if (!same) show(ev.data);
});

const saved = vscode.getState() as Partial<SavedState> | undefined;
if (saved && isToWebview(saved.message)) show(saved.message, saved.selected);
vscode.postMessage({ type: 'ready' });
