// The `recent` match's check (`-m recent --rcheck|--update [--seconds N] --name LIST`), as xt_recent
// decides it: the client (`--rsource`, the default: the packet's source; `--rdest`: its destination),
// masked with `--mask`, is in the list and, with `--seconds`, was last seen within that many seconds.
// kube-proxy's iptables mode keeps sessionAffinity ClientIP this way: one list per endpoint chain.
// The lists live in the kernel (/proc/net/xt_recent), so the answer rests on the capture's xt_recent
// probe: without it a client is taken to be new (the first connection's view, said so in a note).
import { Addr } from '../../net/addr';
import type { MatchNote, NfContext, NfPacket } from './types';

export interface RecentCheck {
  list: string;
  seconds?: number;
  /** `--rdest`: the list keys on the destination. */
  rdest: boolean;
  /** `--mask` (IPv4 dotted quad); absent: all ones. */
  mask?: string;
}

function masked(a: Addr, mask: string | undefined): Addr {
  if (mask === undefined || a.family !== 4) return a;
  const m = Addr.parse(mask);
  if (!m.ok || m.value.family !== 4) return a;
  return Addr.fromV4(Number(a.toBigInt() & m.value.toBigInt()));
}

/** Whether the check matches this packet's client; the note says on what the answer rests. */
export function recentMatches(r: RecentCheck, pkt: NfPacket, ctx: NfContext, notes: MatchNote[]): boolean {
  const client = masked(r.rdest ? pkt.dst : pkt.src, r.mask);
  const within = r.seconds !== undefined ? ` (seen in the last ${r.seconds} s)` : '';
  const match = `recent ${r.list}`;
  if (!ctx.recent) {
    notes.push({ match, note: 'new-client', detail: `a client not in list ${r.list}${within}: the capture has no xt_recent probe, so a returning client, which would match and keep its endpoint, cannot be told apart` });
    return false;
  }
  const e = ctx.recent(r.list, client);
  if (!e) {
    notes.push({ match, note: 'new-client', detail: `list ${r.list} does not hold ${client}: a new client${r.seconds !== undefined ? `, or one not seen in the last ${r.seconds} s` : ''}` });
    return false;
  }
  const at = `${e.evidence.probe}:${e.evidence.line}`;
  if (r.seconds === undefined) {
    notes.push({ match, note: 'returning-client', detail: `list ${r.list} holds ${client} (${at})` });
    return true;
  }
  if (e.ageSeconds === undefined) {
    notes.push({ match, note: 'returning-client', detail: `list ${r.list} holds ${client} (${at}); the capture's clock cannot date the entry, so it is taken to be within ${r.seconds} s` });
    return true;
  }
  const age = Math.round(e.ageSeconds);
  if (e.ageSeconds <= r.seconds) {
    notes.push({ match, note: 'returning-client', detail: `list ${r.list} holds ${client}, last seen ${age} s before the capture (${at}), within ${r.seconds} s: a returning client` });
    return true;
  }
  notes.push({ match, note: 'expired-client', detail: `list ${r.list} holds ${client}, but last seen ${age} s before the capture (${at}), more than ${r.seconds} s: forgotten, a new client again` });
  return false;
}
