// A gateway that `route` or `netstat -r` printed by name (RouteRecord.unresolvedGateway) has no address
// in the capture. The host's own `arp -a` output, printed through the same resolver, puts names beside
// addresses: when exactly one address on the route's device carries the name (or, when route cut the
// name to its column, a name that starts with it), that is the gateway, as an inference the trace
// marks. Anything else leaves the next hop unknown, and the trace stops there and says how to fix it.
import type { NeighRecord, PrintedName } from '../parsers';
import type { Addr, Family } from '../net/addr';
import type { Netns } from './netns';

export type GatewayByName =
  /** One address carries the name: the gateway, inferred. */
  | { kind: 'found'; addr: Addr; entries: NeighRecord[]; text: string }
  /** Several addresses carry names that match: which one the kernel uses is unknown. */
  | { kind: 'ambiguous'; entries: NeighRecord[]; text: string }
  /** No `arp -a` entry carries the name. */
  | { kind: 'none'; entries: NeighRecord[]; text: string };

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
  const printed = `route printed its gateway as the name "${gw.name}"${gw.maybeTruncated ? ' (maybe cut to 15 characters)' : ''} instead of an address`;
  const fix = 'capture the table with `route -n` (or `ip route`)';
  if (entries.length === 1) {
    const e = entries[0]!;
    return {
      kind: 'found',
      addr: e.dst,
      entries,
      text: `The ${printed}; ${ns.name}'s \`arp -a\` names ${e.dst}${e.dev !== undefined ? ` on ${e.dev}` : ''} "${e.hostname}", the only address ${gw.maybeTruncated ? 'whose name starts so' : 'with that name'}, so the gateway is taken to be ${e.dst} (inferred; ${fix} to know).`,
    };
  }
  if (entries.length > 1) {
    return {
      kind: 'ambiguous',
      entries,
      text: `The ${printed}, and ${ns.name}'s \`arp -a\` has ${entries.length} addresses it could be (${entries.map((e) => `"${e.hostname}" ${e.dst}`).join(', ')}), so which gateway the kernel sends to is unknown; ${fix}.`,
    };
  }
  const why =
    named.length > 0 ? `no name in ${ns.name}'s \`arp -a\` output matches it${dev !== undefined ? ` on ${dev}` : ''}`
    : ns.host.probes?.arp !== undefined ? `${ns.name}'s \`arp\` output prints no names to look it up by (it was captured with -n)`
    : `the capture of ${ns.name} has no \`arp -a\` output to look it up in`;
  return { kind: 'none', entries, text: `The ${printed}, and ${why}, so the gateway's address, and where the packet goes next, are unknown (the route has flag G: it is not on-link); ${fix}.` };
}
