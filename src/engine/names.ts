// A gateway that `route` or `netstat -r` printed by name (RouteRecord.unresolvedGateway) has no address
// in the capture. The host's own `arp -a` output, printed through the same resolver, puts names beside
// addresses: when exactly one address on the route's device carries the name (or, when route cut the
// name to its column, a name that starts with it), that is the gateway, as an inference the trace
// marks. Anything else leaves the next hop unknown, and the trace stops there and says how to fix it.
import type { NeighRecord, PrintedName } from '../parsers';
import type { Addr, Family } from '../net/addr';
import type { Netns } from './netns';
import type { StepDetail } from './trace';

export type GatewayByName =
  /** One address carries the name: the gateway, inferred. */
  | { kind: 'found'; addr: Addr; entries: NeighRecord[]; detail: GatewayNameDetail }
  /** Several addresses carry names that match: which one the kernel uses is unknown. */
  | { kind: 'ambiguous'; entries: NeighRecord[]; detail: GatewayNameDetail }
  /** No `arp -a` entry carries the name. */
  | { kind: 'none'; entries: NeighRecord[]; detail: GatewayNameDetail };

export type GatewayNameDetail = Extract<StepDetail, { type: 'gateway-name' }>;

export function gatewayByName(ns: Netns, gw: PrintedName, family: Family, dev: string | undefined): GatewayByName {
  const want = gw.name.toLowerCase();
  const byAddr = new Map<string, NeighRecord>();
  const named = ns.namedArp;
  for (const n of named) {
    if (n.family !== family || (dev !== undefined && n.dev !== dev)) continue;
    const host = n.hostname!.toLowerCase();
    if (host === want || (gw.maybeTruncated && host.startsWith(want))) {
      if (!byAddr.has(n.dst.toString())) byAddr.set(n.dst.toString(), n);
    }
  }
  const entries = [...byAddr.values()];
  const detail = (outcome: GatewayNameDetail['outcome'], why?: GatewayNameDetail['why']): GatewayNameDetail => ({
    type: 'gateway-name',
    ns: ns.name,
    name: gw.name,
    maybeTruncated: gw.maybeTruncated === true,
    ...(dev !== undefined ? { dev } : {}),
    outcome,
    entries: entries.map((e) => ({ addr: e.dst.toString(), ...(e.dev !== undefined ? { dev: e.dev } : {}), hostname: e.hostname! })),
    ...(why ? { why } : {}),
  });
  if (entries.length === 1) return { kind: 'found', addr: entries[0]!.dst, entries, detail: detail('found') };
  if (entries.length > 1) return { kind: 'ambiguous', entries, detail: detail('ambiguous') };
  const why = named.length > 0 ? 'no-match' : ns.host.probes?.arp !== undefined ? 'no-names' : 'no-arp';
  return { kind: 'none', entries, detail: detail('none', why) };
}
