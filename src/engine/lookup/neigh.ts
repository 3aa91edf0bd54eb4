// The neighbour table (neigh_lookup) and the proxy neighbour table (pneigh_lookup) of one namespace,
// as tagged answers. An entry's NUD state says whether the kernel can use its link-layer address
// now (include/net/neighbour.h NUD_VALID) or must resolve the address again (ARP / ND).
import type { Addr } from '../../net/addr';
import type { NeighRecord, ProbeName } from '../../parsers';
import { neighKey, type Netns } from '../netns';

/** The states whose entry has a link-layer address the kernel sends with. */
export type ResolvedNud =
  | 'reachable'
  | 'stale'
  | 'delay'
  | 'probe'
  | 'permanent'
  | 'noarp'
  /** `ip neigh` printed no state word (NUD_NONE) but a link-layer address: taken as usable, as netpath always has. */
  | 'none'
  /** Read from `arp` (/proc/net/arp), which tells only "complete": REACHABLE, STALE, DELAY, PROBE or PERMANENT. */
  | 'resolved';

export type NeighAnswer =
  | { kind: ResolvedNud; entry: NeighRecord; lladdr: string; probe: ProbeName }
  /** An entry the kernel cannot send with: resolution failed, is under way, or has no address. */
  | { kind: 'failed' | 'incomplete'; entry: NeighRecord; probe: ProbeName }
  | { kind: 'missing' };

export type ResolvedNeigh = Extract<NeighAnswer, { lladdr: string }>;

export function isResolved(a: NeighAnswer): a is ResolvedNeigh {
  return 'lladdr' in a;
}

/** The NUD state of an entry, in the order the kernel's flags take precedence. */
function nudOf(n: NeighRecord): NeighAnswer['kind'] {
  const s = n.state;
  if (s.includes('FAILED')) return 'failed';
  // No link-layer address is as good as none yet, whatever the state word.
  if (s.includes('INCOMPLETE') || n.lladdr === undefined) return 'incomplete';
  if (s.includes('PERMANENT')) return 'permanent';
  if (s.includes('NOARP')) return 'noarp';
  if (s.includes('STALE')) return 'stale';
  if (s.includes('DELAY')) return 'delay';
  if (s.includes('PROBE')) return 'probe';
  if (s.includes('REACHABLE')) return 'reachable';
  if (s.includes('NONE')) return 'none';
  return 'resolved';
}

/** neigh_lookup: the entry for `addr` on `dev` (`ip neigh` first, `arp` where it has none). */
export function neighLookup(ns: Netns, dev: string, addr: Addr): NeighAnswer {
  const entry = ns.neigh.get(neighKey(dev, addr));
  if (!entry) return { kind: 'missing' };
  const probe = ns.neighProbe.get(entry) ?? 'neigh';
  const kind = nudOf(entry);
  if (kind === 'failed' || kind === 'incomplete') return { kind, entry, probe };
  return { kind, entry, lladdr: entry.lladdr!, probe };
}

export type ProxyAnswer = { kind: 'proxy'; entry: NeighRecord } | { kind: 'missing' };

/** pneigh_lookup: a proxy entry (`ip neigh add proxy ADDR dev DEV`) says this host answers for `addr` on `dev`. */
export function pneighLookup(ns: Netns, dev: string, addr: Addr): ProxyAnswer {
  const entry = ns.proxies.get(neighKey(dev, addr));
  return entry ? { kind: 'proxy', entry } : { kind: 'missing' };
}
