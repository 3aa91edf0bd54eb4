// `ip neigh show` (iproute2 text, `ip -j` JSON, BusyBox `ip neigh`): one neighbour entry per line,
// `ADDR [dev DEV] [lladdr LLADDR] [router] [proxy] [extern_learn] ... [ref N used A/B/C probes N] [STATE...] [proto P]`.
// iproute2 prints no state word for NUD_NONE (proxy entries included); JSON then has no `state`.
import { Addr, Mac } from '../net/addr';
import { Collector, type Line, isObject, jsonElements, lines, looksLikeJson, num, str, tokens, uint } from './common';
import { blank, ordered } from './neighRecord';
import { isProcArpHeader, parseProcArp } from './procfs';
import type { NeighRecord, NudState, ParseResult } from './types';

const NUD_STATES: ReadonlySet<string> = new Set<NudState>(['INCOMPLETE', 'REACHABLE', 'STALE', 'DELAY', 'PROBE', 'FAILED', 'NOARP', 'PERMANENT', 'NONE']);
/** Flags without a field of their own, kept in `flags` (iproute2 prints them as bare words / JSON nulls). */
const OTHER_FLAGS: ReadonlySet<string> = new Set(['managed', 'offload', 'extern_valid']);
const EXPECTED = 'expected `ADDR [dev DEV] [lladdr LLADDR] ... STATE` (ip neigh show)';

export function parseNeigh(text: string): ParseResult<NeighRecord> {
  if (looksLikeJson(text)) return parseJson(text);
  const ls = lines(text);
  // `cat /proc/net/arp`, where a container has neither ip nor BusyBox.
  if (ls.some((l) => isProcArpHeader(l.raw))) return parseProcArp(ls);
  const c = new Collector<NeighRecord>(ls.length === 0 ? 'empty' : isBusybox(ls) ? 'busybox' : 'iproute2');
  c.each(ls, (l) => {
    const rec = parseLine(l, c);
    if (rec) c.records.push(ordered(rec));
  });
  return c.result();
}

/**
 * BusyBox prints `used A/B/C probes N` on every line, without -s, and no trailing space; iproute2
 * ends every line with a space, and 6.x glues `probes` to the `used` figures.
 */
function isBusybox(ls: readonly Line[]): boolean {
  let used = false;
  for (const l of ls) {
    if (/\s$/.test(l.raw) || /\dprobes\b/.test(l.raw)) return false;
    if (l.raw.includes(' used ')) used = true;
  }
  return used;
}

function parseLine(l: Line, c: Collector<NeighRecord>): NeighRecord | undefined {
  const t = tokens(l.raw);
  const dst = Addr.parse(t[0]!);
  if (!dst.ok) {
    c.issue(l, `${EXPECTED}: ${dst.error}`);
    return undefined;
  }
  const rec = blank(dst.value, l);
  const state: NudState[] = [];
  const flags: string[] = [];
  for (let i = 1; i < t.length; i++) {
    const w = t[i]!;
    switch (w) {
      case 'dev':
      case 'lladdr':
      case 'proto':
      case 'ref':
      case 'probes': {
        const v = t[++i];
        if (v === undefined) {
          c.issue(l, `${EXPECTED}: \`${w}\` without a value`);
          return undefined;
        }
        if (w === 'dev') rec.dev = v;
        else if (w === 'lladdr') rec.lladdr = lladdr(v);
        else if (w === 'proto') rec.protocol = v;
        else setCount(rec, w === 'ref' ? 'refcnt' : 'probes', v);
        break;
      }
      case 'used': {
        // `used A/B/C`; iproute2 6.x prints `used A/B/Cprobes N` (no space before probes).
        const m = /^(\d+)\/(\d+)\/(\d+)(probes)?$/.exec(t[i + 1] ?? '');
        if (!m) {
          c.issue(l, `${EXPECTED}: \`used\` takes USED/CONFIRMED/UPDATED seconds`);
          return undefined;
        }
        i++;
        rec.used = Number(m[1]);
        rec.confirmed = Number(m[2]);
        rec.updated = Number(m[3]);
        if (m[4]) setCount(rec, 'probes', t[++i]);
        break;
      }
      case 'router':
        rec.router = true;
        break;
      case 'proxy':
        rec.proxy = true;
        break;
      case 'extern_learn':
        rec.externLearn = true;
        break;
      default:
        if (NUD_STATES.has(w)) state.push(w as NudState);
        else if (OTHER_FLAGS.has(w)) flags.push(w);
      // Anything else (a newer keyword, a leftover `0x..` state bit) is skipped, not an issue.
    }
  }
  rec.state = state.length ? state : ['NONE'];
  if (flags.length) rec.flags = flags;
  return rec;
}

function setCount(rec: NeighRecord, key: 'refcnt' | 'probes', v: string | undefined): void {
  const n = uint(v);
  if (n !== undefined) rec[key] = n;
}

/** MACs are normalised to lowercase colon form; other link-layer addresses (a tunnel's IP, InfiniBand) are kept as printed. */
function lladdr(v: string): string {
  const m = Mac.parse(v);
  return m.ok ? m.value.toString() : v.toLowerCase();
}

function parseJson(text: string): ParseResult<NeighRecord> {
  const c = new Collector<NeighRecord>('json');
  const { elements, issue } = jsonElements(text);
  if (issue) c.issues.push(issue);
  c.each(elements, (e, i) => {
    const l = { line: e.line, raw: e.raw };
    const o = elements[i]!.value;
    const dstText = isObject(o) ? str(o.dst) : undefined;
    const dst = dstText === undefined ? undefined : Addr.parse(dstText);
    if (!isObject(o) || !dst || !dst.ok) {
      c.issue(l, `expected a neighbour object with "dst" (ip -j neigh show)${dst && !dst.ok ? `: ${dst.error}` : ''}`);
      return;
    }
    const rec = blank(dst.value, l);
    const dev = str(o.dev);
    if (dev !== undefined) rec.dev = dev;
    const ll = str(o.lladdr);
    if (ll !== undefined) rec.lladdr = lladdr(ll);
    rec.router = 'router' in o;
    rec.proxy = 'proxy' in o;
    rec.externLearn = 'extern_learn' in o;
    const flags = [...OTHER_FLAGS].filter((f) => f in o);
    const state = Array.isArray(o.state) ? o.state.filter((s): s is NudState => typeof s === 'string' && NUD_STATES.has(s)) : [];
    rec.state = state.length ? state : ['NONE'];
    if (flags.length) rec.flags = flags;
    const protocol = str(o.protocol);
    if (protocol !== undefined) rec.protocol = protocol;
    for (const k of ['refcnt', 'used', 'confirmed', 'updated', 'probes'] as const) {
      const v = num(o[k]);
      if (v !== undefined) rec[k] = v;
    }
    c.records.push(ordered(rec));
  });
  return c.result();
}
