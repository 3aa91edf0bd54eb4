// Routes: `ip route show table all` (also `ip -6 ...`, `ip -o ...`, BusyBox `ip route`), its JSON form
// `ip -j route show table all`, and the legacy tables people paste into bug reports: net-tools and
// BusyBox `route -n` / `netstat -rn`, IPv4 and IPv6 (`-A inet6`, `-6`).
//
// The iproute2 text is read as one token stream per route: the route's line plus its continuation
// lines (`\tnexthop ...` for multipath, `    cache ...` for cached exceptions). A `nexthop` word opens a
// next hop that takes the `via`/`dev`/`weight`/flags after it, wherever it stands (`ip -o` puts the
// whole route on one line).
//
// The legacy tables are often pasted as `route` or `netstat -r` without `-n`, which print names where
// they can (net-tools and BusyBox, IPv4 cut to a 15-character column; net-tools IPv6 too, uncut):
// - `default` is the address 0.0.0.0 (the Genmask still gives the length: `default ... 128.0.0.0` is
//   0.0.0.0/1); `*`, `0.0.0.0`, `[::]` (net-tools IPv6) and `-` (reject routes) mean no gateway.
// - A gateway printed as a name (`gateway`, systemd-resolved's `_gateway`, a cut `qcloud-offline-`):
//   the route is kept with everything else the line says, `gateway` absent and `unresolvedGateway`
//   holding the name, and an issue on the line says why and to capture with `route -n`. Flag G still
//   decides: such a route is never on-link. The engine resolves the name from `arp -a`, or stops.
// - A destination printed as a name: `link-local` and `loopback` are taken at the address Debian's and
//   Ubuntu's stock /etc/networks give them (recorded in `dstName`, as an assumption). Any other name
//   (a host route to `_gateway`, a network from /etc/networks) leaves only the prefix length: the route
//   cannot be placed in a FIB, and placing it anywhere would be a guess that changes every lookup near
//   it. So the line is an issue that repeats what it knew (name/length via gateway dev) and says to
//   capture with `route -n`; the rest of the table is kept.
import { Addr, Prefix, maskLength, type Family } from '../net/addr';
import { Collector, isObject, jsonElements, lines, looksLikeJson, num, source, str, tokens, uint, type Line } from './common';
import { isProcRouteHeader, parseProcRoute } from './procfs';
import type { Nexthop, ParseResult, RouteRecord, RouteType } from './types';

const ROUTE_TYPES: ReadonlySet<string> = new Set<RouteType>(['unicast', 'local', 'broadcast', 'blackhole', 'unreachable', 'prohibit', 'throw', 'multicast', 'anycast', 'nat']);

/** Next-hop flags, as `print_rt_flags()` names them. */
const FLAG_WORDS: ReadonlySet<string> = new Set(['dead', 'onlink', 'pervasive', 'offload', 'trap', 'notify', 'linkdown', 'unresolved', 'rt_offload', 'rt_trap', 'rt_offload_failed']);

/** Route metrics (RTAX_*), as `print_rta_metrics()` names them. */
const METRIC_WORDS: ReadonlySet<string> = new Set(['mtu', 'window', 'rtt', 'rttvar', 'ssthresh', 'cwnd', 'advmss', 'reordering', 'hoplimit', 'initcwnd', 'features', 'rto_min', 'initrwnd', 'quickack', 'congctl', 'fastopen_no_cookie']);

/** Attributes that take one value this parser does not keep. */
const SKIP_ONE: ReadonlySet<string> = new Set(['uid', 'mark', 'iif', 'users', 'used', 'age', 'ipid', 'ts', 'tsage', 'ttl-propogate', 'ttl-propagate']);

/** Words that end a lightweight-tunnel `encap ...` clause (its own words, e.g. `src`/`tos` of `encap ip`, do not). */
const ENCAP_END: ReadonlySet<string> = new Set(['via', 'dev', 'table', 'proto', 'scope', 'metric', 'nexthop', 'pref', 'expires', 'weight', ...FLAG_WORDS]);

/** First words of the lines that continue the route above: multipath hops, cache info, `ip -d` nexthop-object info. */
const CONTINUATION: ReadonlySet<string> = new Set(['nexthop', 'cache', 'nh_info', 'Oifs:']);

/** Thrown inside one route's parse; becomes a ParseIssue for that line. */
class Bad extends Error {}
function bad(message: string): never {
  throw new Bad(message);
}

export function parseRoutes(text: string, family: Family): ParseResult<RouteRecord> {
  if (looksLikeJson(text)) return parseJson(text, family);
  const ls = lines(text);
  if (ls.length === 0) return new Collector<RouteRecord>('empty').result();
  if (ls.some((l) => isProcRouteHeader(l.raw))) return parseProcRoute(ls);
  if (ls.some((l) => isLegacyHeader(l.raw))) return parseLegacyTable(ls);
  return parseText(ls, family);
}

// ---- the route under construction --------------------------------------------------------------

/** A RouteRecord being filled in token by token; its fields are the record's (kept in one place). */
interface Draft extends Omit<RouteRecord, 'kind' | 'family' | 'dst' | 'table' | 'src'> {
  line: Line;
  /** The destination when it names an address; absent for `default` and `0/N`. */
  dst?: Prefix;
  /** Prefix length of an address-less destination: 0 for `default`, N for `0/N`. */
  anyLen: number;
  /** Family told by an address on the line other than the destination (gateway, prefsrc, from). */
  seenFamily?: Family;
  /** `pref` is printed for IPv6 routes only: it tells the family of `default dev lo ... pref medium`. */
  ipv6Hint: boolean;
  table?: string;
}

function draft(line: Line, type: RouteType): Draft {
  return { line, type, anyLen: 0, ipv6Hint: false, flags: [] };
}

function seen(d: Draft, a: Addr): void {
  d.seenFamily ??= a.family;
}

/** Builds the record with a fixed key order; absent attributes stay absent (not `undefined`). */
function finish(d: Draft, hint: Family, src: { line: number; raw: string }): RouteRecord {
  const family = d.dst?.family ?? d.seenFamily ?? (d.ipv6Hint ? 6 : hint);
  const dst = d.dst ?? Prefix.of(Prefix.any(family).addr, Math.min(d.anyLen, family === 4 ? 32 : 128));
  const rec = { kind: 'route', family, type: d.type, dst, table: d.table ?? 'main' } as RouteRecord;
  if (d.tos !== undefined) rec.tos = d.tos;
  if (d.protocol !== undefined) rec.protocol = d.protocol;
  if (d.scope !== undefined) rec.scope = d.scope;
  if (d.metric !== undefined) rec.metric = d.metric;
  if (d.gateway !== undefined) rec.gateway = d.gateway;
  if (d.dev !== undefined) rec.dev = d.dev;
  if (d.prefsrc !== undefined) rec.prefsrc = d.prefsrc;
  rec.flags = d.flags;
  if (d.nexthops !== undefined) rec.nexthops = d.nexthops.map(orderedNexthop);
  if (d.nhid !== undefined) rec.nhid = d.nhid;
  if (d.expires !== undefined) rec.expires = d.expires;
  if (d.pref !== undefined) rec.pref = d.pref;
  if (d.metrics !== undefined) rec.metrics = d.metrics;
  if (d.lockedMetrics !== undefined) rec.lockedMetrics = d.lockedMetrics;
  if (d.from !== undefined) rec.from = d.from;
  if (d.error !== undefined) rec.error = d.error;
  if (d.cache !== undefined) rec.cache = d.cache;
  if (d.flow !== undefined) rec.flow = d.flow;
  if (d.encap !== undefined) rec.encap = d.encap;
  if (d.rtFlags !== undefined) rec.rtFlags = d.rtFlags;
  if (d.unresolvedGateway !== undefined) rec.unresolvedGateway = d.unresolvedGateway;
  if (d.dstName !== undefined) rec.dstName = d.dstName;
  rec.src = src;
  return rec;
}

function orderedNexthop(h: Nexthop): Nexthop {
  const out: Nexthop = {} as Nexthop;
  if (h.gateway !== undefined) out.gateway = h.gateway;
  if (h.dev !== undefined) out.dev = h.dev;
  out.weight = h.weight;
  out.flags = h.flags;
  return out;
}

function addr(text: string, what: string): Addr {
  const fast = quickAddr(text);
  if (fast) return fast;
  const r = Addr.parse(text);
  if (!r.ok) bad(`${what} "${text}" is not an IP address`);
  return r.value;
}

function prefix(text: string): Prefix | undefined {
  const slash = text.indexOf('/');
  const a = quickAddr(slash < 0 ? text : text.slice(0, slash));
  if (a) {
    if (slash < 0) return Prefix.of(a, a.bits);
    const len = digits(text, slash + 1);
    if (len !== undefined && len <= a.bits) return Prefix.of(a, len);
  }
  const r = Prefix.parse(text);
  return r.ok ? r.value : undefined;
}

/** A decimal number from `from` to the end of `s` (at most 9 digits), without a regex. */
function digits(s: string, from = 0): number | undefined {
  if (from >= s.length || s.length - from > 9) return undefined;
  let n = 0;
  for (let i = from; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch < 48 || ch > 57) return undefined;
    n = n * 10 + (ch - 48);
  }
  return n;
}

/** Non-negative integers as iproute2 prints them (u32 metrics can exceed 9 digits). */
function count(s: string): number | undefined {
  return digits(s) ?? uint(s);
}

// A routing table is mostly addresses: these read the plain forms without a regex or a library call
// (the benchmark parses 20,000 routes in under 50 ms). Anything unusual (leading zeros, an IPv4 tail
// in IPv6, a zone) returns undefined and Addr.parse decides.

function quickAddr(s: string): Addr | undefined {
  return s.includes(':') ? quickV6(s) : quickV4(s);
}

function quickV4(s: string): Addr | undefined {
  let n = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch >= 48 && ch <= 57) {
      if (digits > 0 && octet === 0) return undefined;
      octet = octet * 10 + (ch - 48);
      if (octet > 255) return undefined;
      digits++;
    } else if (ch === 46) {
      if (digits === 0 || dots === 3) return undefined;
      n = n * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else {
      return undefined;
    }
  }
  if (digits === 0 || dots !== 3) return undefined;
  return Addr.fromV4(n * 256 + octet);
}

const HEX = '0123456789abcdef';

function quickV6(s: string): Addr | undefined {
  // Groups before and after a `::`, each kept as 4 hex digits.
  let head = '';
  let tail = '';
  let headGroups = 0;
  let tailGroups = 0;
  let gap = false;
  let group = 0;
  let digits = 0;
  for (let i = 0; i <= s.length; i++) {
    const ch = i < s.length ? s.charCodeAt(i) : 58; // a virtual `:` ends the last group
    let v = -1;
    if (ch >= 48 && ch <= 57) v = ch - 48;
    else if (ch >= 97 && ch <= 102) v = ch - 87;
    else if (ch >= 65 && ch <= 70) v = ch - 55;
    if (v >= 0) {
      if (++digits > 4) return undefined;
      group = group * 16 + v;
      continue;
    }
    if (ch !== 58) return undefined; // `.` (IPv4 tail), `%` (zone), anything else
    if (digits === 0) {
      // No digits before this `:`: it is (part of) the one `::`, or the string is malformed.
      if (i === s.length) {
        if (s.length >= 2 && s.endsWith('::')) break;
        return undefined;
      }
      if (i === 0) {
        if (s.charCodeAt(1) !== 58) return undefined;
        i++;
      }
      if (gap) return undefined;
      gap = true;
      continue;
    }
    const text = HEX[(group >> 12) & 15]! + HEX[(group >> 8) & 15]! + HEX[(group >> 4) & 15]! + HEX[group & 15]!;
    if (gap) {
      tail += text;
      tailGroups++;
    } else {
      head += text;
      headGroups++;
    }
    group = 0;
    digits = 0;
  }
  const groups = headGroups + tailGroups;
  if (gap ? groups > 7 : groups !== 8) return undefined;
  return Addr.fromV6(BigInt(`0x${head}${'0000'.repeat(8 - groups)}${tail}`));
}

/** `default`, `0/N` (no address, N bits), an address/prefix, or a bare address (a host route). */
function destination(d: Draft, text: string): void {
  if (text === 'default') return;
  if (text.startsWith('0/')) {
    // No RTA_DST but a length: iproute2 prints `0/N`.
    d.anyLen = digits(text, 2) ?? bad(`expected a destination (prefix, address or "default"), got "${text}"`);
    return;
  }
  d.dst = prefix(text) ?? bad(`expected a destination (prefix, address or "default"), got "${text}"`);
}

/** iproute2 prints `rta_error` as %u in new versions and %d in old ones: keep the signed errno. */
function signed32(n: number): number {
  return n > 0x7fffffff ? n - 0x100000000 : n;
}

function realms(text: string): { from?: string; to: string } {
  const slash = text.indexOf('/');
  return slash < 0 ? { to: text } : { from: text.slice(0, slash), to: text.slice(slash + 1) };
}

// ---- iproute2 text --------------------------------------------------------------------------------

function parseText(ls: Line[], hint: Family): ParseResult<RouteRecord> {
  const c = new Collector<RouteRecord>('iproute2');
  let cur: Draft | undefined;
  // Whether the last route line was unreadable: its continuation lines are reported, not attached.
  let lastBroken = false;
  const flush = (): void => {
    // The Line is exactly the {line, raw} a record keeps as `src`: no copy for each of thousands of routes.
    if (cur) c.records.push(finish(cur, hint, cur.line));
    cur = undefined;
  };
  c.each(ls, (l) => {
    const t = words(l.raw);
    const first = t[0]!;
    if (CONTINUATION.has(first)) {
      if (!cur) {
        c.issue(l, lastBroken ? `\`${first}\` line of a route line that could not be read` : `\`${first}\` continuation line without a route line before it`);
        return;
      }
      const hops = cur.nexthops?.length ?? 0;
      try {
        attributes(cur, t, 0);
      } catch (e) {
        if (!(e instanceof Bad)) throw e;
        c.issue(l, e.message);
        // A next hop that could not be read is reported, not kept half-read (a hop without its gateway).
        if (cur.nexthops) cur.nexthops.length = hops;
      }
      return;
    }
    try {
      const next = routeLine(l, t);
      flush();
      cur = next;
      lastBroken = false;
    } catch (e) {
      if (!(e instanceof Bad)) throw e;
      c.issue(l, e.message);
      // A broken route line ends the route above, and its own continuation lines are reported. A line
      // that is no route at all (garbage pasted inside a multipath block) leaves the block open.
      if (looksLikeRouteStart(t)) {
        flush();
        lastBroken = true;
      }
    }
  });
  flush();
  if (looksLikeBusybox(ls)) c.format = 'busybox';
  return c.result();
}

/**
 * BusyBox `ip route` pads with double spaces (`dev eth0  metric 100`, `scope link  src ...`) like old
 * iproute2 did, but never prints `proto` (iproute2 shows `proto kernel` on the routes the kernel adds),
 * `error` or `pref`.
 */
function looksLikeBusybox(ls: readonly Line[]): boolean {
  let padded = false;
  for (const l of ls) {
    if (/ (proto|error|pref) /.test(l.raw)) return false;
    padded ||= /\S {2}(metric|src|expires) /.test(l.raw);
  }
  return padded;
}

/** Whether a line begins like a route: a type word, `default`, or something address-shaped. */
function looksLikeRouteStart(t: readonly string[]): boolean {
  const w = t[0] === 'Deleted' ? t[1] : t[0];
  return w !== undefined && (ROUTE_TYPES.has(w) || w === 'default' || /^[0-9a-fA-F:]+[.:/]/.test(w));
}

/**
 * The words of a line. `ip -o` joins a route's lines with `\` (glued to the word before it after
 * `pref medium`), so a backslash separates words too. A plain loop: this runs once per line of a
 * routing table that can have tens of thousands.
 */
function words(raw: string): string[] {
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i <= raw.length; i++) {
    const ch = i < raw.length ? raw.charCodeAt(i) : 32;
    if (ch === 32 || ch === 9 || ch === 92 || ch === 13 || ch === 11 || ch === 12) {
      if (start >= 0) {
        out.push(raw.slice(start, i));
        start = -1;
      }
    } else if (start < 0) {
      start = i;
    }
  }
  return out;
}

function routeLine(l: Line, t: string[]): Draft {
  let i = 0;
  if (t[i] === 'Deleted') i++;
  let type: RouteType = 'unicast';
  const w = t[i]!;
  if (ROUTE_TYPES.has(w)) {
    type = w as RouteType;
    i++;
  }
  const d = draft(l, type);
  const dst = t[i];
  if (dst === undefined) bad(i > 0 ? `expected a destination after "${t[i - 1]}"` : 'expected a route (`[TYPE] PREFIX|default ATTRIBUTES...`)');
  destination(d, dst);
  attributes(d, t, i + 1);
  return d;
}

/** The value after the keyword t[k]. A plain function: a closure made per line costs that on every line. */
function valueAfter(t: string[], k: number): string {
  return t[k + 1] ?? bad(`\`${t[k]}\` at the end of the line needs a value`);
}

/** Reads `keyword value` attributes from t[i..] into the route (or into the next hop a `nexthop` word opened). */
function attributes(d: Draft, t: string[], i: number): void {
  let nh: Nexthop | undefined;
  while (i < t.length) {
    const w = t[i]!;
    switch (w) {
      case 'nexthop':
        nh = { weight: 1, flags: [] };
        (d.nexthops ??= []).push(nh);
        i++;
        break;
      case 'via': {
        let v = valueAfter(t, i);
        let n = 2;
        let explicit = false;
        if (/^[a-z][a-z0-9]*$/.test(v)) {
          // `via inet6 fe80::1` (an IPv4 route through an IPv6 next hop) or another family word.
          explicit = true;
          n = 3;
          const host = valueAfter(t, i + 1);
          if (v !== 'inet' && v !== 'inet6') {
            i += n;
            break;
          }
          v = host;
        }
        const a = addr(v, 'gateway');
        if (!explicit) seen(d, a);
        if (nh) nh.gateway = a;
        else d.gateway = a;
        i += n;
        break;
      }
      case 'dev':
        if (nh) nh.dev = valueAfter(t, i);
        else d.dev = valueAfter(t, i);
        i += 2;
        break;
      case 'weight': {
        const n = count(valueAfter(t, i)) ?? bad(`weight "${t[i + 1]}" is not a number`);
        // A weight outside a `nexthop` (a single-hop multipath route printed on one line) is dropped.
        if (nh) nh.weight = n;
        i += 2;
        break;
      }
      case 'table':
        d.table = valueAfter(t, i);
        i += 2;
        break;
      case 'proto':
        d.protocol = valueAfter(t, i);
        i += 2;
        break;
      case 'scope':
        d.scope = valueAfter(t, i);
        i += 2;
        break;
      case 'src':
        d.prefsrc = addr(valueAfter(t, i), 'src');
        seen(d, d.prefsrc);
        i += 2;
        break;
      case 'from':
        d.from = prefix(valueAfter(t, i)) ?? bad(`from "${t[i + 1]}" is not a prefix`);
        d.seenFamily ??= d.from.family;
        i += 2;
        break;
      case 'metric':
        d.metric = count(valueAfter(t, i)) ?? bad(`metric "${t[i + 1]}" is not a number`);
        i += 2;
        break;
      case 'tos':
      case 'dsfield':
        d.tos = valueAfter(t, i);
        i += 2;
        break;
      case 'nhid':
        d.nhid = count(valueAfter(t, i)) ?? bad(`nhid "${t[i + 1]}" is not a number`);
        i += 2;
        break;
      case 'expires': {
        const m = /^(-?\d+)(?:sec)?$/.exec(valueAfter(t, i)) ?? bad(`expires "${t[i + 1]}" is not a number of seconds`);
        d.expires = Number(m[1]);
        i += 2;
        break;
      }
      case 'pref':
        d.pref = valueAfter(t, i);
        d.ipv6Hint = true;
        i += 2;
        break;
      case 'error': {
        const m = /^-?\d+$/.exec(valueAfter(t, i)) ?? bad(`error "${t[i + 1]}" is not a number`);
        d.error = signed32(Number(m[0]));
        i += 2;
        break;
      }
      case 'realm':
      case 'realms':
        d.flow = realms(valueAfter(t, i));
        i += 2;
        break;
      case 'cache': {
        const flags: string[] = [];
        const next = t[i + 1];
        if (next?.startsWith('<')) {
          flags.push(...next.slice(1, next.endsWith('>') ? -1 : undefined).split(',').filter((f) => f !== ''));
          i++;
        }
        d.cache = flags;
        i++;
        break;
      }
      case 'nh_info':
        // `ip -d`: the nexthop object's own description (`nh_info id 12 group 10/11 scope global ...`);
        // its words are not the route's, so skip them up to the next hop.
        while (i < t.length && t[i] !== 'nexthop') i++;
        break;
      case 'encap': {
        d.encap = valueAfter(t, i);
        i += 2;
        while (i < t.length && !ENCAP_END.has(t[i]!)) i++;
        break;
      }
      default:
        if (FLAG_WORDS.has(w)) {
          (nh ? nh.flags : d.flags).push(w);
          i++;
        } else if (METRIC_WORDS.has(w)) {
          i = metric(d, t, i);
        } else if (SKIP_ONE.has(w)) {
          i += 2;
        } else {
          // Unknown words (newer iproute2, vendor kernels) are skipped, never fatal.
          i++;
        }
    }
  }
}

/** `mtu 1450`, `mtu lock 1400`, `rto_min lock 200ms`, `congctl lock cubic`, `features ecn`. */
function metric(d: Draft, t: string[], i: number): number {
  const name = t[i]!;
  let k = i + 1;
  if (t[k] === 'lock') {
    (d.lockedMetrics ??= []).push(name);
    k++;
  }
  const metrics = (d.metrics ??= {});
  if (name === 'features') {
    const parts: string[] = [];
    while (k < t.length && /^(ecn|tcp_usec_ts|0x[0-9a-f]+)$/.test(t[k]!)) parts.push(t[k++]!);
    metrics.features = parts.join(' ');
    return k;
  }
  const v = t[k];
  if (v === undefined) bad(`metric \`${name}\` at the end of the line needs a value`);
  metrics[name] = v;
  return k + 1;
}

// ---- iproute2 JSON --------------------------------------------------------------------------------

function parseJson(text: string, hint: Family): ParseResult<RouteRecord> {
  const c = new Collector<RouteRecord>('json');
  const { elements, issue } = jsonElements(text);
  if (issue) c.issues.push(issue);
  for (const el of elements) {
    const l: Line = { line: el.line, raw: el.raw };
    try {
      if (!isObject(el.value)) bad('expected a route object');
      const d = jsonRoute(l, el.value);
      c.records.push(finish(d, hint, source(l)));
    } catch (e) {
      c.issue(l, e instanceof Error ? e.message : String(e));
    }
  }
  return c.result();
}

function jsonRoute(l: Line, o: Record<string, unknown>): Draft {
  const type = str(o.type) ?? 'unicast';
  if (!ROUTE_TYPES.has(type)) bad(`unknown route type "${type}"`);
  const d = draft(l, type as RouteType);
  const dst = str(o.dst) ?? bad('route has no "dst"');
  destination(d, dst.trim());
  const from = str(o.from);
  if (from !== undefined) {
    d.from = prefix(from) ?? bad(`from "${from}" is not a prefix`);
    d.seenFamily ??= d.from.family;
  }
  d.nhid = num(o.nhid);
  if (isObject(o.encap)) d.encap = str(o.encap.encap_type);
  d.tos = str(o.tos);
  const gw = jsonGateway(o);
  if (gw) {
    d.gateway = gw.addr;
    if (!gw.explicit) seen(d, gw.addr);
  }
  d.dev = str(o.dev);
  d.table = str(o.table);
  d.protocol = str(o.protocol) ?? (num(o.protocol) !== undefined ? String(o.protocol) : undefined);
  d.scope = str(o.scope);
  if (str(o.prefsrc) !== undefined) {
    d.prefsrc = addr(str(o.prefsrc)!, 'prefsrc');
    seen(d, d.prefsrc);
  }
  d.metric = num(o.metric);
  d.flags = stringArray(o.flags);
  if (isObject(o.flow) && str(o.flow.to) !== undefined) d.flow = str(o.flow.from) !== undefined ? { from: str(o.flow.from)!, to: str(o.flow.to)! } : { to: str(o.flow.to)! };
  if (Array.isArray(o.cache)) d.cache = stringArray(o.cache);
  d.expires = num(o.expires);
  if (num(o.error) !== undefined) d.error = signed32(num(o.error)!);
  if (Array.isArray(o.metrics) && isObject(o.metrics[0])) d.metrics = jsonMetrics(o.metrics[0]);
  if (o.pref !== undefined) {
    d.pref = String(o.pref);
    d.ipv6Hint = true;
  }
  const hops = Array.isArray(o.nexthops) ? o.nexthops : Array.isArray(o.multipath) ? o.multipath : undefined;
  if (hops) {
    d.nexthops = hops.filter(isObject).map((h) => {
      const nh: Nexthop = { weight: num(h.weight) ?? 1, flags: stringArray(h.flags) };
      const g = jsonGateway(h);
      if (g) {
        nh.gateway = g.addr;
        if (!g.explicit) seen(d, g.addr);
      }
      if (str(h.dev) !== undefined) nh.dev = str(h.dev);
      return nh;
    });
  }
  return d;
}

/** `gateway` (same family as the route) or `via {family, host}` (e.g. an IPv6 next hop of an IPv4 route). */
function jsonGateway(o: Record<string, unknown>): { addr: Addr; explicit: boolean } | undefined {
  if (str(o.gateway) !== undefined) return { addr: addr(str(o.gateway)!, 'gateway'), explicit: false };
  if (isObject(o.via) && str(o.via.host) !== undefined) {
    const f = str(o.via.family);
    if (f !== undefined && f !== 'inet' && f !== 'inet6') return undefined;
    return { addr: addr(str(o.via.host)!, 'via'), explicit: true };
  }
  return undefined;
}

function stringArray(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/**
 * The JSON metrics object, written as the text form prints it, so both forms agree: `congestion` is
 * the text's `congctl`, `"ecn": null` is `features ecn`, and times in ms are printed `200ms` / `1.5s`.
 */
function jsonMetrics(m: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  const features: string[] = [];
  for (const [k, v] of Object.entries(m)) {
    if (k === 'ecn' || k === 'tcp_usec_ts' || k === 'features') {
      out.features ??= ''; // keeps the key where the text form prints it
      features.push(k === 'features' ? String(v) : k);
    }
    else if (k === 'congestion') out.congctl = String(v);
    else if ((k === 'rtt' || k === 'rttvar' || k === 'rto_min') && typeof v === 'number') out[k] = v >= 1000 ? `${Number((v / 1e3).toPrecision(6))}s` : `${v}ms`;
    else out[k] = String(v);
  }
  if (features.length > 0) out.features = features.join(' ');
  return out;
}

// ---- net-tools / BusyBox `route -n`, `netstat -rn` ------------------------------------------------

const COLUMN_NAMES: Readonly<Record<string, string>> = {
  Destination: 'dst',
  Gateway: 'gateway',
  'Next Hop': 'gateway',
  Genmask: 'genmask',
  Flags: 'flags',
  Flag: 'flags',
  Metric: 'metric',
  Met: 'metric',
  Ref: 'ref',
  Use: 'use',
  Iface: 'iface',
  If: 'iface',
  MSS: 'mss',
  Window: 'window',
  irtt: 'irtt',
};

function isLegacyHeader(raw: string): boolean {
  const s = raw.trimStart();
  return s.startsWith('Kernel IP routing table') || s.startsWith('Kernel IPv6 routing table') || /^Destination\s+(Gateway|Next Hop)\s/.test(s);
}

function parseLegacyTable(ls: Line[]): ParseResult<RouteRecord> {
  const c = new Collector<RouteRecord>('net-tools');
  let cols: string[] | undefined;
  let busybox = false;
  c.each(ls, (l) => {
    const s = l.raw.trim();
    if (s.startsWith('Kernel IP routing table') || s.startsWith('Kernel IPv6 routing table')) return;
    if (/^Destination\s/.test(s)) {
      const names = s.replace(/Next Hop/, 'Next_Hop').split(/\s+/).map((n) => (n === 'Next_Hop' ? 'Next Hop' : n));
      cols = names.map((n) => COLUMN_NAMES[n] ?? n);
      // BusyBox's IPv6 table says `Next Hop ... Flags Metric Ref Use Iface`; net-tools' says `Flag Met Ref Use If`.
      if (names.includes('Next Hop') && names.includes('Flags')) busybox = true;
      return;
    }
    if (!cols) {
      c.issue(l, 'expected the column header (`Destination Gateway Genmask Flags ...`) before route rows');
      return;
    }
    const t = tokens(l.raw);
    if (t.length !== cols.length) {
      c.issue(l, `expected ${cols.length} columns (${cols.join(' ')}), got ${t.length}`);
      return;
    }
    const row: Record<string, string> = {};
    cols.forEach((name, k) => (row[name] = t[k]!));
    try {
      const { rec, busyboxSign, gatewayIssue } = legacyRow(l, row);
      if (busyboxSign) busybox = true;
      c.records.push(rec);
      if (gatewayIssue !== undefined) c.issue(l, gatewayIssue, { kept: true });
    } catch (e) {
      if (!(e instanceof Bad)) throw e;
      c.issue(l, e.message);
    }
  });
  if (busybox) c.format = 'busybox';
  return c.result();
}

/** How the tables print "no gateway": `0.0.0.0`/`::` with -n, `*` (BusyBox, old net-tools) or `[::]` (net-tools IPv6) without, `-` on reject routes. */
const NO_GATEWAY: ReadonlySet<string> = new Set(['0.0.0.0', '::', '[::]', '*', '-']);

/**
 * Destination names with a conventional address (Debian's and Ubuntu's stock /etc/networks, from
 * netbase). `default` is not here: route prints it for the address 0.0.0.0 whatever the Genmask.
 */
const WELL_KNOWN_NETWORKS: ReadonlyMap<string, string> = new Map([
  ['link-local', '169.254.0.0'],
  ['loopback', '127.0.0.0'],
]);

/** net-tools and BusyBox print IPv4 names with `%-15.15s`: a name of 15 characters may be cut. */
const IPV4_NAME_COLUMN = 15;

function legacyRow(l: Line, row: Record<string, string>): { rec: RouteRecord; busyboxSign: boolean; gatewayIssue?: string } {
  const flags = row.flags ?? '';
  const d = draft(l, flags.includes('!') ? 'unreachable' : 'unicast');
  const dstText = row.dst ?? bad('row has no Destination column');
  const v4 = row.genmask !== undefined;
  if (v4) {
    const len = netmaskLength(row.genmask!);
    const known = WELL_KNOWN_NETWORKS.get(dstText);
    const a = Addr.parse(dstText === 'default' ? '0.0.0.0' : (known ?? dstText));
    if (!a.ok || a.value.family !== 4) bad(isHostName(dstText) ? unresolvedDestination(dstText, `/${len}`, row, 4) : `destination "${dstText}" is not an IPv4 address`);
    d.dst = Prefix.of(a.value, len);
    if (known !== undefined) d.dstName = { name: dstText, meaning: 'well-known' };
  } else {
    const named = /^(.+?)(\/\d+)?$/.exec(dstText)!;
    d.dst = legacyPrefix6(dstText) ?? bad(isHostName(named[1]!) ? unresolvedDestination(named[1]!, named[2] ?? '', row, 6) : `destination "${dstText}" is not a prefix`);
  }
  const gw = row.gateway;
  let gatewayIssue: string | undefined;
  if (gw !== undefined && !NO_GATEWAY.has(gw)) {
    const a = Addr.parse(gw.startsWith('[') && gw.endsWith(']') ? gw.slice(1, -1) : gw);
    if (a.ok) d.gateway = a.value;
    else if (!isHostName(gw)) bad(`gateway "${gw}" is neither an IP address nor a host name`);
    else {
      // A name: the route keeps its gateway, unresolved; flag G still says it is not on-link.
      const maybeTruncated = v4 && gw.length >= IPV4_NAME_COLUMN;
      d.unresolvedGateway = { name: gw, maybeTruncated };
      gatewayIssue = `route printed names instead of addresses: gateway \`${gw}\`${maybeTruncated ? ` (maybe cut to ${IPV4_NAME_COLUMN} characters)` : ''} cannot be resolved from the capture; the route is kept with its gateway unresolved (the engine looks the name up in \`arp -a\`); capture with ${fixCommand(v4 ? 4 : 6)}`;
    }
  }
  if (row.metric !== undefined && row.metric !== '-') {
    // IPv6 reject entries print the u32 metric as -1.
    d.metric = row.metric === '-1' ? 0xffffffff : (uint(row.metric) ?? bad(`metric "${row.metric}" is not a number`));
  }
  const iface = row.iface;
  if (iface !== undefined && iface !== '*' && iface !== '-') d.dev = iface;
  d.rtFlags = flags;
  // net-tools prints a reject route's gateway and interface as `-`; BusyBox prints `0.0.0.0` (`*` without -n) and `*`.
  const busyboxSign = flags.includes('!') && (gw === '0.0.0.0' || gw === '*') && iface === '*';
  const rec = finish(d, d.dst.family, source(l));
  return gatewayIssue === undefined ? { rec, busyboxSign } : { rec, busyboxSign, gatewayIssue };
}

/** A host or network name as resolvers return them (letters, digits, `_`, `-`, dots; not all digits). */
function isHostName(s: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(s) && !/^[\d.]+$/.test(s);
}

/** An IPv6 table's destination: `addr/len`, with net-tools' `[::]` for the unspecified address. */
function legacyPrefix6(text: string): Prefix | undefined {
  return prefix(text.startsWith('[::]') ? `::${text.slice(4)}` : text);
}

function fixCommand(family: Family): string {
  return family === 4 ? '`route -n` (or `netstat -rn`)' : '`route -n -A inet6` (or `netstat -rn -6`)';
}

/** Why a route whose destination is a name is left out, with what the line still says. */
function unresolvedDestination(name: string, len: string, row: Record<string, string>, family: Family): string {
  const via = row.gateway !== undefined && !NO_GATEWAY.has(row.gateway) ? ` via ${row.gateway}` : '';
  const dev = row.iface !== undefined && row.iface !== '*' && row.iface !== '-' ? ` dev ${row.iface}` : '';
  const cut = family === 4 && name.length >= IPV4_NAME_COLUMN ? ` (maybe cut to ${IPV4_NAME_COLUMN} characters)` : '';
  return `route printed names instead of addresses: destination \`${name}\`${cut} is a host or network name the capture cannot resolve, so this route (${name}${len}${via}${dev}) cannot be placed in the routing table and is left out; lookups it would have won fall to other routes; capture with ${fixCommand(family)}`;
}

/** The prefix length of a dotted netmask; non-contiguous masks (legal in old BSD routing) are rejected. */
function netmaskLength(mask: string): number {
  const a = Addr.parse(mask);
  if (!a.ok || a.value.family !== 4) bad(`Genmask "${mask}" is not a dotted IPv4 netmask`);
  return maskLength(a.value) ?? bad(`Genmask ${mask} is not a contiguous netmask (Linux routes are prefixes)`);
}
