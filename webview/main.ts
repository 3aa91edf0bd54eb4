// The webview app: renders what the extension sends (a capture summary or a trace) and keeps it in
// the webview state so a reload restores the view, selection included. Cluster names are data:
// they reach the DOM with textContent only, never as HTML.
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-collapsible/index.js';
import { isToWebview, type FromWebview, type ToWebview } from '../src/shared/protocol';
import { renderCapture } from './capture';
import { renderCompare } from './compareView';
import { installHistoryKeys } from './history';
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
  app.classList.remove('compare-view');
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
  if (message.type === 'showCompare') {
    app.classList.remove('trace-view');
    app.classList.add('compare-view');
    renderCompare(app, message, (m) => vscode.postMessage(m));
    return;
  }
  renderTrace(app, message, selected ?? null, {
    post: (m) => vscode.postMessage(m),
    selectionChanged: (sel) => {
      if (!current) return;
      current = { ...current, selected: sel };
      vscode.setState(current);
    },
  });
}

function withoutHistory(m: ToWebview): ToWebview {
  return m.type === 'showTrace' ? { ...m, history: undefined } : m;
}

window.addEventListener('message', (ev: MessageEvent<unknown>) => {
  if (!isToWebview(ev.data)) return;
  // The answer to `ready` after a reload repeats what is shown: keep the selection (also when only
  // the history around the trace changed, e.g. which captures are loaded).
  const same = current !== undefined && JSON.stringify(withoutHistory(current.message)) === JSON.stringify(withoutHistory(ev.data));
  if (!same) show(ev.data);
  else if (JSON.stringify(current!.message) !== JSON.stringify(ev.data)) show(ev.data, current!.selected);
});

installHistoryKeys(
  () => (current?.message.type === 'showTrace' ? current.message : undefined),
  (m) => vscode.postMessage(m),
);

const saved = vscode.getState() as Partial<SavedState> | undefined;
if (saved && isToWebview(saved.message)) show(saved.message, saved.selected);
vscode.postMessage({ type: 'ready' });
