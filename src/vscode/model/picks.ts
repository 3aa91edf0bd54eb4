// Quick-pick entries for Trace Pod Path, as plain data: pods grouped by namespace (with node and IP),
// then nodes; the destination list adds "any IP".
import type { Capture } from '../../capture/document';

export type PickEntry =
  | { kind: 'separator'; label: string }
  | { kind: 'host'; label: string; description: string; detail?: string; ref: string }
  | { kind: 'custom-ip'; label: string; description: string };

export function sourceEntries(capture: Capture): PickEntry[] {
  const out: PickEntry[] = [];
  const pods = capture.hosts.filter((h) => h.role === 'pod' && !h.hostNetwork);
  const byNs = new Map<string, typeof pods>();
  for (const p of pods) {
    const ns = p.namespace ?? 'default';
    byNs.set(ns, [...(byNs.get(ns) ?? []), p]);
  }
  for (const ns of [...byNs.keys()].sort()) {
    out.push({ kind: 'separator', label: ns });
    for (const p of byNs.get(ns)!.sort((a, b) => (a.pod ?? a.name).localeCompare(b.pod ?? b.name))) {
      out.push({ kind: 'host', label: p.pod ?? p.name, description: `${(p.ips ?? []).join(', ') || 'no IP'} on ${p.node ?? '?'}`, ref: `${ns}/${p.pod ?? p.name}` });
    }
  }
  const nodes = capture.hosts.filter((h) => h.role === 'node');
  if (nodes.length) {
    out.push({ kind: 'separator', label: 'nodes' });
    for (const n of nodes) out.push({ kind: 'host', label: n.name, description: (n.ips ?? []).join(', ') || 'no IP', ...(n.podCIDRs?.length ? { detail: `podCIDR ${n.podCIDRs.join(', ')}` } : {}), ref: n.name });
  }
  return out;
}

export function destinationEntries(capture: Capture, from: string): PickEntry[] {
  return [{ kind: 'custom-ip', label: '$(edit) Enter an IP address...', description: 'any address, in the cluster or not' }, ...sourceEntries(capture).filter((e) => e.kind !== 'host' || e.ref !== from)];
}
