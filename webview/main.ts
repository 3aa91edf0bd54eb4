// The webview app: renders what the extension sends. Cluster names are data: they go into the DOM
// with textContent only, never as HTML.
import type { ToWebview } from '../src/shared/protocol';

interface VsCodeApi {
  postMessage(message: unknown): void;
  setState(state: unknown): void;
  getState(): unknown;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const app = document.getElementById('app')!;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (className) e.className = className;
  return e;
}

function render(m: ToWebview): void {
  const s = m.summary;
  app.replaceChildren();
  app.append(el('h1', s.cluster ? `Capture of ${s.cluster}` : 'Capture'), el('p', m.source, 'source'));
  const c = s.counts;
  app.append(el('p', `${c.node} nodes, ${c.pod} pods, ${c.switch} switches, ${c.router} routers; ${s.links} links; ${s.totalIssues} parse issues`));
  const table = el('table');
  const head = el('tr');
  for (const h of ['Host', 'Role', 'Where', 'IPs', 'Probes']) head.append(el('th', h));
  table.append(head);
  for (const h of s.hosts) {
    const tr = el('tr');
    tr.append(el('td', h.name), el('td', h.role), el('td', h.where ?? ''), el('td', h.ips.join(', ')));
    tr.append(el('td', h.probes.map((p) => `${p.probe} (${p.records}${p.issues.length ? `, ${p.issues.length} issues` : ''})`).join(', ')));
    table.append(tr);
  }
  app.append(table);
}

window.addEventListener('message', (ev: MessageEvent<ToWebview>) => {
  if (ev.data?.type === 'showCapture') {
    vscode.setState(ev.data);
    render(ev.data);
  }
});
const saved = vscode.getState() as ToWebview | undefined;
if (saved?.type === 'showCapture') render(saved);
vscode.postMessage({ type: 'ready' });
