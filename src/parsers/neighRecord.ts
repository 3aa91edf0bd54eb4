// Building a neighbour record, shared by the three readers of neighbour tables (`ip neigh`, `arp`,
// /proc/net/arp), so that none of them imports another.
import type { Addr } from '../net/addr';
import type { Line } from './common';
import type { NeighRecord } from './types';

export function blank(dst: Addr, l: Line): NeighRecord {
  return { kind: 'neigh', family: dst.family, dst, state: [], router: false, proxy: false, externLearn: false, src: { line: l.line, raw: l.raw } };
}

const FIELD_ORDER = ['kind', 'family', 'dst', 'hostname', 'dev', 'lladdr', 'state', 'router', 'proxy', 'externLearn', 'flags', 'protocol', 'refcnt', 'used', 'confirmed', 'updated', 'probes', 'arpFlags', 'hwType', 'src'] as const;

/** The record with its fields in reading order (golden files and JSON output read like the command's line). */
export function ordered(rec: NeighRecord): NeighRecord {
  const out: Record<string, unknown> = {};
  for (const k of FIELD_ORDER) if (rec[k] !== undefined) out[k] = rec[k];
  for (const [k, v] of Object.entries(rec)) if (!(k in out) && v !== undefined) out[k] = v; // fields added later
  return out as unknown as NeighRecord;
}

/** net-tools' flag letters in the order `arp` prints them. */
const LETTER_ORDER = 'CMPA!T';

/** An `arp` (or /proc/net/arp) entry's state and proxy bit from its flag letters. */
export function finish(rec: NeighRecord, letters: Set<string>): NeighRecord {
  rec.proxy = letters.has('P');
  // ATF_PERM on a neighbour entry is exactly NUD_PERMANENT; on a published (proxy) entry the kernel sets it regardless.
  rec.state = letters.has('M') && !rec.proxy ? ['PERMANENT'] : [];
  rec.arpFlags = [...letters].sort((a, b) => LETTER_ORDER.indexOf(a) - LETTER_ORDER.indexOf(b));
  return ordered(rec);
}
