// net-tools and BusyBox `arp`: the IPv4 neighbour table as /proc/net/arp shows it, in two layouts:
//   `arp -a` / `arp -an`:  `? (10.244.0.2) at 0a:58:0a:f4:00:02 [ether] on cni0`, `... at <incomplete> on eth0`,
//                          without -n the host name instead of `?` (`_gateway (10.0.0.1) at ...`, kept as `hostname`),
//                          `... [ether] PERM on eth0`, proxies `... at <from_interface> PERM PUB on eth0`
//                          (BusyBox uses this layout for -n too, prints `at *` and `PUP` for proxies);
//   `arp -n` / `arp -e`:   the table `Address HWtype HWaddress Flags Mask Iface` with `(incomplete)` rows and
//                          flag letters C (complete), M (permanent), P (published).
// /proc/net/arp does not carry the NUD state, only "complete or not" and "permanent": see NeighRecord.state.
import { Addr, Mac } from '../net/addr';
import { Collector, type Line, lines, tokens } from './common';
import { blank, finish } from './neighRecord';
import { isProcArpHeader, parseProcArp } from './procfs';
import type { NeighRecord, ParseResult } from './types';

/** The `-a` layout's flag words, as net-tools flag letters. */
const WORD_FLAGS: ReadonlyMap<string, string> = new Map([
  ['PERM', 'M'],
  ['PUB', 'P'],
  ['PUP', 'P'],
  ['AUTO', 'A'],
  ['DONTPUB', '!'],
  ['TRAIL', 'T'],
]);

export function parseArp(text: string): ParseResult<NeighRecord> {
  const ls = lines(text);
  // `cat /proc/net/arp`: the table `arp` itself reads.
  if (ls.some((l) => isProcArpHeader(l.raw))) return parseProcArp(ls);
  const c = new Collector<NeighRecord>(ls.length === 0 ? 'empty' : ls.some(isBusyboxLine) ? 'busybox' : 'net-tools');
  c.each(ls, (l) => {
    const t = tokens(l.raw);
    if (t[0] === 'Address' && t[1] === 'HWtype') return; // the -n table header
    if (/^Entries:\s*\d+/.test(l.raw.trim()) || /^arp: in \d+ entries no match found/.test(l.raw.trim())) return; // -v summary, empty filter
    const rec = t[2] === 'at' && /^\(.*\)$/.test(t[1] ?? '') ? parseAtForm(l, t, c) : parseTableRow(l, t, c);
    if (rec) c.records.push(rec);
  });
  return c.result();
}

/** BusyBox's -a layout: `PUP`, `at *` for proxies, and a double space before `on` on most lines. */
function isBusyboxLine(l: Line): boolean {
  return / PUP /.test(l.raw) || / at \* /.test(l.raw) || /\S {2}on\b/.test(l.raw);
}

function parseAtForm(l: Line, t: readonly string[], c: Collector<NeighRecord>): NeighRecord | undefined {
  const addr = Addr.parse(t[1]!.slice(1, -1));
  if (!addr.ok) {
    c.issue(l, `expected \`HOST (ADDR) at LLADDR [HWTYPE] [PERM] [PUB] on IFACE\` (arp -a): ${addr.error}`);
    return undefined;
  }
  const rec = blank(addr.value, l);
  // Without -n, arp prints the address's name first (`?` when it has none): keep it, so that a gateway
  // `route` printed by name can be placed.
  if (t[0] !== '?') rec.hostname = t[0]!;
  const letters = new Set<string>();
  const hw = t[3];
  const mac = hw === undefined ? undefined : Mac.parse(hw);
  if (mac?.ok) {
    rec.lladdr = mac.value.toString();
    letters.add('C');
  }
  let i = 4;
  for (; i < t.length && t[i] !== 'on'; i++) {
    const w = t[i]!;
    if (/^\[.*\]$/.test(w)) {
      if (mac?.ok) rec.hwType = w.slice(1, -1);
    } else if (w === 'netmask') i++;
    else if (WORD_FLAGS.has(w)) letters.add(WORD_FLAGS.get(w)!);
  }
  if (t[i] !== 'on') {
    c.issue(l, 'expected `HOST (ADDR) at LLADDR [HWTYPE] [PERM] [PUB] on IFACE` (arp -a): no `on IFACE`');
    return undefined;
  }
  // `on` with nothing after it happens when the interface is gone: keep the entry, device unknown.
  if (t[i + 1] !== undefined) rec.dev = t[i + 1]!;
  return finish(rec, letters);
}

function parseTableRow(l: Line, t: readonly string[], c: Collector<NeighRecord>): NeighRecord | undefined {
  const expected = 'expected `ADDRESS [HWTYPE] HWADDRESS [FLAGS] [MASK] IFACE` (arp -n) or `HOST (ADDR) at ...` (arp -a)';
  if (t.length < 3) {
    c.issue(l, expected);
    return undefined;
  }
  const addr = Addr.parse(t[0]!);
  if (!addr.ok) {
    c.issue(l, `${expected}: ${addr.error}${/^[0-9:]/.test(t[0]!) ? '' : ' (a host name: capture with arp -n)'}`);
    return undefined;
  }
  const rec = blank(addr.value, l);
  const letters = new Set<string>();
  rec.dev = t[t.length - 1]!;
  let incomplete = false;
  for (let i = 1; i < t.length - 1; i++) {
    const w = t[i]!;
    const mac = Mac.parse(w);
    if (w === '(incomplete)') incomplete = true;
    else if (mac.ok) rec.lladdr = mac.value.toString();
    else if (/^[CMPAT!]+$/.test(w)) for (const ch of w) letters.add(ch);
    else if (Addr.parse(w).ok) continue; // the Mask column (published subnets)
    else if (w !== '*' && !w.startsWith('<') && rec.hwType === undefined) rec.hwType = w;
  }
  if (incomplete) {
    delete rec.lladdr;
    delete rec.hwType;
    letters.delete('C');
  }
  return finish(rec, letters);
}
