// `ip addr show` (iproute2 text, also `ip -d` and `ip -o`), `ip -j addr show` and BusyBox `ip addr`.
// The interface blocks are read by the links scanner; this module reads the lines it hands over:
//   inet 10.4.7.23/24 brd 10.4.7.255 scope global secondary eth0:1
//   inet 10.0.0.1 peer 10.0.0.2/32 scope global tun0
//   inet6 fe80::1/64 scope link dadfailed tentative
//      valid_lft 86300sec preferred_lft forever
// An interface without addresses gives no record (and is not an issue).
import { Addr, Prefix, type Family } from '../net/addr';
import { Collector, isObject, jsonElements, lines, looksLikeJson, num, str, uint, type Line } from './common';
import { linkFromJson, scanLinkBlocks, type BlockContext } from './links';
import type { AddrRecord, ParseResult } from './types';

/** Address flags as iproute2 names them (`dynamic` is printed for addresses without `permanent`). */
const ADDR_FLAGS = new Set(['secondary', 'temporary', 'nodad', 'optimistic', 'dadfailed', 'home', 'deprecated', 'tentative', 'permanent', 'dynamic', 'mngtmpaddr', 'noprefixroute', 'autojoin', 'stable-privacy']);
/** The kernel's "infinity" lifetime, as `ip -j` prints it. */
const FOREVER = 0xffffffff;

export function parseAddrs(text: string): ParseResult<AddrRecord> {
  if (looksLikeJson(text)) return parseJson(text);
  const c = new Collector<AddrRecord>('iproute2');
  const ls = lines(text);
  if (ls.length === 0) {
    c.format = 'empty';
    return c.result();
  }
  // The address the next `valid_lft` line belongs to; `failed` when that address line was an issue.
  let last: { rec: AddrRecord; ctx: BlockContext } | 'failed' | undefined;
  let blocks = 0;
  const { sawState } = scanLinkBlocks(ls, c, {
    block: () => {
      blocks++;
      last = undefined;
    },
    addrLine: (toks, l, ctx) => {
      if (toks[0] === 'valid_lft') {
        if (last === 'failed') {
          last = undefined; // reported with its address line
          return;
        }
        if (!last || last.ctx !== ctx || last.rec.validLft !== undefined) {
          c.issue(l, 'a `valid_lft` line without an `inet`/`inet6` line before it');
          return;
        }
        const err = lifetimes(last.rec, toks);
        if (err) c.issue(l, err);
        return;
      }
      last = undefined;
      const r = addrFromText(toks, l, ctx);
      if (typeof r === 'string') {
        c.issue(l, r);
        last = 'failed';
      } else {
        c.records.push(r);
        last = { rec: r, ctx };
      }
    },
  });
  if (!sawState && blocks > 0) c.format = 'busybox';
  return c.result();
}

function addrFromText(toks: string[], l: Line, ctx: BlockContext): AddrRecord | string {
  const family: Family = toks[0] === 'inet' ? 4 : 6;
  const expected = `expected \`${toks[0]} ADDRESS/LEN [peer ADDRESS/LEN] [brd ADDRESS] scope SCOPE ...\``;
  const localTok = toks[1];
  if (localTok === undefined) return expected;
  let i = 2;
  let local: Addr;
  let prefixlen: number;
  let peer: Prefix | undefined;
  if (toks[2] === 'peer') {
    // `inet 10.0.0.1 peer 10.0.0.2/32`: the length belongs to the peer.
    const p = Prefix.parse(toks[3] ?? '');
    const a = Addr.parse(localTok.split('/')[0]!);
    if (!p.ok) return `${expected}: peer ${p.error}`;
    if (!a.ok) return `${expected}: ${a.error}`;
    local = a.value;
    peer = p.value;
    prefixlen = p.value.length;
    i = 4;
  } else {
    const p = Prefix.parse(localTok);
    if (!p.ok) return `${expected}: ${p.error}`;
    local = p.value.addr;
    prefixlen = p.value.length;
  }
  if (local.family !== family || (peer && peer.family !== family)) return `${expected}: an IPv${local.family} address on an ${toks[0]} line`;
  const rec: AddrRecord = { kind: 'addr', ifindex: ctx.ifindex, dev: ctx.ifname, family, local, prefixlen, prefix: Prefix.of(local, prefixlen), flags: [], src: { line: l.line, raw: l.raw } };
  if (peer) rec.peer = peer;
  let labelSeen = false;
  for (; i < toks.length; i++) {
    const t = toks[i]!;
    const next = toks[i + 1];
    if (t === 'brd' && next !== undefined) {
      const b = Addr.parse(next);
      if (!b.ok) return `${expected}: brd ${b.error}`;
      rec.broadcast = b.value;
      i++;
    } else if (t === 'scope' && next !== undefined) {
      rec.scope = next;
      i++;
    } else if (t === 'metric' && next !== undefined) {
      rec.metric = uint(next);
      i++;
    } else if (t === 'any' && next !== undefined) i++; // anycast address: not used
    else if (t === 'flags' && next !== undefined) {
      rec.flags.push(`0x${next}`); // flag bits iproute2 has no name for, in hex
      i++;
    } else if (ADDR_FLAGS.has(t)) rec.flags.push(t);
    else if (family === 4 && !labelSeen && (t === ctx.ifname || t.startsWith(`${ctx.ifname}:`) || i === toks.length - 1)) {
      // IPv4 lines end with the label: the device's name, or `eth0:1` style for an alias.
      labelSeen = true;
      if (t !== ctx.ifname) rec.label = t;
    } else rec.flags.push(t); // an unknown flag is kept, not an error
  }
  return rec;
}

function lifetime(s: string | undefined): number | 'forever' | undefined {
  if (s === 'forever') return 'forever';
  const m = s === undefined ? null : /^(-?\d+)sec$/.exec(s);
  return m ? Number(m[1]) : undefined;
}

function lifetimes(rec: AddrRecord, toks: string[]): string | undefined {
  const valid = lifetime(toks[1]);
  const preferred = toks[2] === 'preferred_lft' ? lifetime(toks[3]) : undefined;
  if (valid === undefined || preferred === undefined) return 'expected `valid_lft forever|Nsec preferred_lft forever|Nsec`';
  rec.validLft = valid;
  rec.preferredLft = preferred;
  return undefined;
}

// ---- JSON: `ip -j addr show` ----------------------------------------------------------------------

function parseJson(text: string): ParseResult<AddrRecord> {
  const c = new Collector<AddrRecord>('json');
  const { elements, issue } = jsonElements(text);
  if (issue) c.issues.push(issue);
  for (const el of elements) {
    const report = (message: string): void => {
      c.issues.push({ line: el.line, raw: el.raw, message });
    };
    try {
      const link = linkFromJson(el);
      if (typeof link === 'string') {
        report(link);
        continue;
      }
      const { ifindex, ifname } = link.rec;
      const infos = isObject(el.value) ? el.value.addr_info : undefined;
      if (infos === undefined) continue;
      if (!Array.isArray(infos)) {
        report(`${ifname}: addr_info is not an array`);
        continue;
      }
      infos.forEach((a, n) => {
        const r = addrFromJson(a, ifindex, ifname, el);
        if (typeof r === 'string') report(`${ifname}: addr_info[${n}]: ${r}`);
        else if (r) c.records.push(r);
      });
    } catch (e) {
      report(`internal parser error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return c.result();
}

function jsonLifetime(v: unknown): number | 'forever' | undefined {
  const n = num(v);
  return n === undefined ? undefined : n === FOREVER ? 'forever' : n;
}

function addrFromJson(a: unknown, ifindex: number, ifname: string, el: { line: number; raw: string }): AddrRecord | string | undefined {
  if (!isObject(a)) return 'expected an object';
  const fam = str(a.family);
  if (fam !== 'inet' && fam !== 'inet6') return undefined; // other families (mpls, ...) carry no IP address
  const family: Family = fam === 'inet' ? 4 : 6;
  if (str(a.local) === undefined) return 'no local address';
  const localR = Addr.parse(str(a.local)!);
  const prefixlen = num(a.prefixlen);
  if (!localR.ok) return `local: ${localR.error}`;
  const local = localR.value;
  if (prefixlen === undefined || !Number.isInteger(prefixlen) || prefixlen < 0 || prefixlen > local.bits) return 'expected prefixlen 0..' + local.bits;
  if (local.family !== family) return `an IPv${local.family} address in family ${fam}`;
  const rec: AddrRecord = { kind: 'addr', ifindex, dev: ifname, family, local, prefixlen, prefix: Prefix.of(local, prefixlen), flags: [], src: { line: el.line, raw: el.raw } };
  if (str(a.address) !== undefined) {
    const p = Addr.parse(str(a.address)!);
    if (!p.ok || p.value.family !== family) return `address (peer): ${p.ok ? 'wrong family' : p.error}`;
    rec.peer = Prefix.of(p.value, prefixlen);
  }
  if (str(a.broadcast) !== undefined) {
    const b = Addr.parse(str(a.broadcast)!);
    if (!b.ok) return `broadcast: ${b.error}`;
    rec.broadcast = b.value;
  }
  if (str(a.scope) !== undefined) rec.scope = str(a.scope);
  // Keys come in the order iproute2 prints the text flags, so both forms list them alike.
  for (const [k, v] of Object.entries(a)) if (v === true && ADDR_FLAGS.has(k)) rec.flags.push(k);
  if (str(a.ifa_flags) !== undefined) rec.flags.push(`0x${str(a.ifa_flags)}`);
  const label = str(a.label);
  if (label !== undefined && label !== ifname) rec.label = label;
  const valid = jsonLifetime(a.valid_life_time);
  const preferred = jsonLifetime(a.preferred_life_time);
  if (valid !== undefined) rec.validLft = valid;
  if (preferred !== undefined) rec.preferredLft = preferred;
  if (num(a.metric) !== undefined) rec.metric = num(a.metric);
  return rec;
}
