// The `recent` match's lists (/proc/net/xt_recent/NAME), as `grep -H "" -- *` prints them in that
// directory, followed by two lines of /proc/timer_list for the clock the lists' times count in:
//
//   KUBE-SEP-ABC:src=10.244.2.3 ttl: 64 last_seen: 4300825947 oldest_pkt: 4 4300825896, 4300825896, 4300825947, 4300825947
//   KUBE-SEP-V6:src=0000:0000:0000:0000:0000:0000:0000:0001 ttl: 64 last_seen: 4300845283 oldest_pkt: 2 4300845232, 4300845283
//   now at 23713851941366 nsecs
//     .last_jiffies   : 4300820709
//
// Entry lines follow recent_seq_show (net/netfilter/xt_recent.c): `src=%pI4` or `%pI6` (IPv6 in full,
// every group four digits), the TTL, the jiffies the client was last seen, `oldest_pkt` (the slot of
// the ring of packet times the next packet overwrites) and the ring's used slots in slot order.
import { Addr } from '../net/addr';
import { Collector, lines, uint, type Line } from './common';
import type { ParseResult, ProbeRecord, Source, XtRecentClockRecord, XtRecentEntryRecord } from './types';

type Rec = XtRecentEntryRecord | XtRecentClockRecord;

const ENTRY = /^src=(\S+)(?: ttl: (\d+))? last_seen: (\d+) oldest_pkt: (\d+)((?:,? \d+)*)\s*$/;
const NOW = /^now at (\d+) nsecs\s*$/;
const JIFFIES = /^\s*\.last_jiffies\s*:\s*(\d+)\s*$/;

/** A decimal count that may exceed 2^53 (nanoseconds since boot): rounded, never refused. */
function big(s: string): number | undefined {
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

export function parseXtRecent(text: string): ParseResult<Rec> {
  const ls = lines(text);
  const c = new Collector<Rec>(ls.length === 0 ? 'empty' : 'procfs');
  const clock: { nowNs?: number; jiffies?: number; lines: Line[] } = { lines: [] };
  c.each(ls, (l) => {
    const now = NOW.exec(l.raw);
    if (now) {
      if (clock.nowNs !== undefined) return c.issue(l, 'a second "now at" line; the first is kept');
      const n = big(now[1]!);
      if (n === undefined) return c.issue(l, `"now at" is not a number: "${now[1]}"`);
      clock.nowNs = n;
      clock.lines.push(l);
      return;
    }
    const jf = JIFFIES.exec(l.raw);
    if (jf) {
      if (clock.jiffies !== undefined) return c.issue(l, 'a second ".last_jiffies" line; the first is kept');
      const n = uint(jf[1]);
      if (n === undefined) return c.issue(l, `".last_jiffies" is not a number below 2^53: "${jf[1]}"`);
      clock.jiffies = n;
      clock.lines.push(l);
      return;
    }
    // The list name is everything before the last `:src=` (a name may hold colons; the rest of the line cannot).
    const at = l.raw.lastIndexOf(':src=');
    if (at < 0) {
      if (l.raw.startsWith('src=')) return c.issue(l, 'an entry without its list name (the probe prints "NAME:" before each line, as grep -H does)');
      return c.issue(l, 'expected "LIST:src=ADDR ttl: N last_seen: N oldest_pkt: N N, ...", "now at N nsecs" or ".last_jiffies : N"');
    }
    const list = l.raw.slice(0, at);
    if (list === '') return c.issue(l, 'an entry without its list name (the probe prints "NAME:" before each line, as grep -H does)');
    const m = ENTRY.exec(l.raw.slice(at + 1));
    if (!m) return c.issue(l, `list ${list}: expected "src=ADDR ttl: N last_seen: N oldest_pkt: N N, ..." after the list name`);
    const a = Addr.parse(m[1]!);
    if (!a.ok) return c.issue(l, `list ${list}: ${a.error}`);
    const lastSeen = uint(m[3]);
    const oldest = uint(m[4]);
    const slots = m[5]!.split(',').map((x) => x.trim()).filter((x) => x !== '').map((x) => uint(x));
    if (lastSeen === undefined || oldest === undefined || slots.some((x) => x === undefined)) return c.issue(l, `list ${list}: a number above 2^53`);
    const ring = slots as number[];
    const rec: XtRecentEntryRecord = { kind: 'xt-recent-entry', list, client: a.value, lastSeen, hits: ring, src: { line: l.line, raw: l.raw } };
    if (m[2] !== undefined) rec.ttl = Number(m[2]);
    // The ring's slots are printed in slot order; the next packet overwrites slot `oldest_pkt` mod the
    // slots in use (all of them once the ring is full, else none is overwritten and slot 0 is oldest).
    if (ring.length > 0 && oldest <= ring.length) {
      const k = oldest % ring.length;
      rec.hits = [...ring.slice(k), ...ring.slice(0, k)];
    } else if (ring.length > 0) c.issue(l, `list ${list}: oldest_pkt ${oldest} is past the ${ring.length} packet times printed; their order is kept as printed`, { kept: true });
    c.records.push(rec);
  });
  if (clock.lines.length > 0) {
    const src: Source = { line: clock.lines[0]!.line, raw: clock.lines.map((x) => x.raw).join('\n') };
    const rec: XtRecentClockRecord = { kind: 'xt-recent-clock', src };
    if (clock.nowNs !== undefined) rec.nowNs = clock.nowNs;
    if (clock.jiffies !== undefined) rec.jiffies = clock.jiffies;
    c.records.push(rec);
  }
  return c.result();
}

/** The kernel's tick rates (CONFIG_HZ choices). */
const HZ_CHOICES = [100, 250, 300, 1000] as const;
/** jiffies start at INITIAL_JIFFIES = (unsigned int)(-300 * HZ), 2^32 - 300 * HZ on a 64-bit kernel: 2^32 at 300 s. */
const JIFFIES_AT_300S = 2 ** 32;

/**
 * The tick rate and the current jiffies from a capture's xt_recent records, so a list's times can be
 * read as seconds ago. On a 64-bit kernel jiffies start at 2^32 - 300*HZ at boot, so HZ = (jiffies -
 * 2^32) / (uptime - 300 s). Undefined unless both clock lines were read, the machine has been up over
 * 600 s (nearer boot the start offset weighs more) and the result is within 2% of a rate the kernel
 * offers; a 32-bit kernel's counter, which wraps 5 minutes after boot, gives none.
 *
 * `.last_jiffies` is the first CPU's view and lags while that CPU idles (by up to 3 s on the machine the
 * fixtures come from); the counter is never behind a time a list recorded, so `jiffiesNow` is the
 * largest of them. (Counting from `now at` instead ran 0.2 s ahead there: jiffies start late.)
 */
export function recentClock(records: readonly ProbeRecord[]): { hz: number; jiffiesNow: number } | undefined {
  const clock = records.find((r): r is XtRecentClockRecord => r.kind === 'xt-recent-clock');
  if (clock?.nowNs === undefined || clock.jiffies === undefined) return undefined;
  const uptime = clock.nowNs / 1e9;
  if (!(uptime > 600)) return undefined;
  const hz = (clock.jiffies - JIFFIES_AT_300S) / (uptime - 300);
  const rate = HZ_CHOICES.find((c) => Math.abs(hz - c) <= 0.02 * c);
  if (rate === undefined) return undefined;
  let jiffiesNow = clock.jiffies;
  for (const r of records) if (r.kind === 'xt-recent-entry' && r.lastSeen > jiffiesNow) jiffiesNow = r.lastSeen;
  return { hz: rate, jiffiesNow };
}
