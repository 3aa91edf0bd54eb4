// The capture summary: hosts, roles, probes and their parse issues.
import type { ShowCapture } from '../src/shared/protocol';
import { el } from './dom';

export function renderCapture(app: HTMLElement, m: ShowCapture): void {
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
