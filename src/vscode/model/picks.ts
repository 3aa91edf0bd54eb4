// Quick-pick entries for Trace Pod Path, as plain data: pods grouped by namespace (with node and IP),
// then nodes; the destination list adds "any IP" and the Services, one entry per port.
import type { Capture } from '../../capture/document';
import type { ServiceListing, ServiceProto } from '../../engine/services';
import { Addr } from '../../net/addr';

export type PickEntry =
  | { kind: 'separator'; label: string }
  | { kind: 'host'; label: string; description: string; detail?: string; ref: string }
  /** One port of a Service: traced as `svc/NS/NAME:PORT`, with a packet of the port's protocol to its port. */
  | { kind: 'service'; label: string; description: string; detail: string; ref: string; packet: { proto: ServiceProto; port: number } }
  | { kind: 'custom-ip'; label: string; description: string }
  /** What the user typed into the filter box, when it is an address: traced as that address. */
  | { kind: 'typed-ip'; label: string; description: string; ref: string };

/**
 * One entry per port of every Service a trace can go to (`svc default/web:http`, `10.96.0.20:80/TCP`),
 * with its type, NodePort and how many endpoints are ready. Headless and ExternalName Services have no
 * ClusterIP to trace (their pods are in the list as pods).
 */
export function serviceEntries(services: readonly ServiceListing[]): PickEntry[] {
  const out: PickEntry[] = [];
  for (const s of [...services].sort((a, b) => a.key.localeCompare(b.key))) {
    if (s.untraceable !== undefined) continue;
    for (const p of s.ports) {
      const addrs = s.clusterIPs.map((ip) => (ip.includes(':') ? `[${ip}]:${p.port}` : `${ip}:${p.port}`)).join(', ');
      const ready = p.endpoints === 1 ? '1 ready endpoint' : `${p.endpoints === 0 ? 'no' : p.endpoints} ready endpoints`;
      out.push({
        kind: 'service',
        label: `svc ${s.key}${p.name ? `:${p.name}` : ''}`,
        description: `${addrs}/${p.protocol}`,
        detail: [s.type, p.nodePort !== undefined ? `NodePort ${p.nodePort}` : undefined, ready].filter(Boolean).join(' · '),
        ref: p.ref,
        packet: { proto: p.protocol.toLowerCase() as ServiceProto, port: p.port },
      });
    }
  }
  return out.length ? [{ kind: 'separator', label: 'services' }, ...out] : [];
}

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

export function destinationEntries(capture: Capture, from: string, services: readonly ServiceListing[] = []): PickEntry[] {
  return [
    { kind: 'custom-ip', label: '$(edit) Enter an IP address...', description: 'any address, in the cluster or not' },
    ...serviceEntries(services),
    ...sourceEntries(capture).filter((e) => e.kind !== 'host' || e.ref !== from),
  ];
}

/** Which hosts of the capture hold `ip` (pods as namespace/pod), for the typed-address entry's description. */
function holdersOf(capture: Capture, ip: string): string[] {
  return capture.hosts.filter((h) => (h.ips ?? []).some((a) => a === ip)).map((h) => (h.role === 'pod' ? `${h.namespace ?? 'default'}/${h.pod ?? h.name}` : h.name));
}

/**
 * The entry the filter text makes when it is an IPv4 or IPv6 address ("Trace to 10.244.1.7"), also for
 * an address no host has (the trace says where such a packet goes); undefined for anything else.
 */
export function typedAddressEntry(value: string, direction: 'from' | 'to', capture: Capture): PickEntry | undefined {
  const text = value.trim();
  const parsed = Addr.parse(text);
  if (!parsed.ok) return undefined;
  const ip = parsed.value.toString();
  const holders = holdersOf(capture, ip);
  const description = holders.length ? `the address of ${holders.join(', ')}` : direction === 'to' ? 'no host in the capture has this address' : 'no host in the capture has this address: the trace will say so';
  return { kind: 'typed-ip', label: `Trace ${direction} ${ip}`, description, ref: ip };
}

/**
 * The source list when the destination is fixed ("Trace to this pod", a hover's "Trace to here"):
 * everything but that destination, whether it is given as namespace/pod, host name or IP.
 */
export function sourceEntriesExcept(capture: Capture, to: string): PickEntry[] {
  const refs = new Set<string>([to]);
  for (const h of capture.hosts) {
    const ref = h.role === 'pod' && !h.hostNetwork ? `${h.namespace ?? 'default'}/${h.pod ?? h.name}` : h.name;
    if (h.name === to || ref === to || (h.role === 'pod' && !h.hostNetwork && (h.ips ?? []).includes(to))) refs.add(ref);
  }
  const out = sourceEntries(capture).filter((e) => e.kind !== 'host' || !refs.has(e.ref));
  // A group left with no entries loses its heading too.
  return out.filter((e, i) => e.kind !== 'separator' || (out[i + 1] !== undefined && out[i + 1]!.kind !== 'separator'));
}
