// Policy routing rules: `ip rule show` / `ip -6 rule show` (also `ip -d`, BusyBox `ip rule`) and the
// JSON form `ip -j rule show`. One line per rule: `PRIO:\tSELECTOR... ACTION [options]`.
import { Prefix, type Family } from '../net/addr';
import { Collector, isObject, jsonElements, lines, looksLikeJson, num, source, str, tokens, uint, type Line } from './common';
import type { ParseResult, RuleRecord } from './types';

type Action = RuleRecord['action'];

class Bad extends Error {}
function bad(message: string): never {
  throw new Bad(message);
}

export function parseRules(text: string, family: Family): ParseResult<RuleRecord> {
  if (looksLikeJson(text)) return parseJson(text, family);
  const c = new Collector<RuleRecord>('iproute2');
  const ls = lines(text);
  if (ls.length === 0) c.format = 'empty';
  c.each(ls, (l) => {
    try {
      const { d, busybox } = ruleLine(l);
      if (busybox) c.format = 'busybox';
      c.records.push(finish(d, family, source(l)));
    } catch (e) {
      if (!(e instanceof Bad)) throw e;
      c.issue(l, e.message);
    }
  });
  return c.result();
}

// ---- the rule under construction ------------------------------------------------------------------

/** A selector prefix before the family is known: `all`, `0/N`, or an address with its length. */
type Selector = { prefix: Prefix } | { anyLen: number };

/** A RuleRecord being filled in token by token: its fields are the record's, but for the selectors and action. */
interface Draft extends Omit<RuleRecord, 'kind' | 'family' | 'from' | 'to' | 'action' | 'src'> {
  from?: Selector;
  to?: Selector;
  action?: Action;
}

function selector(text: string): Selector {
  if (text === 'all') return { anyLen: 0 };
  const zero = /^0\/(\d{1,3})$/.exec(text);
  if (zero) return { anyLen: Number(zero[1]) };
  const p = Prefix.parse(text);
  if (!p.ok) bad(`expected a prefix, address or "all", got "${text}"`);
  return { prefix: p.value };
}

function toPrefix(s: Selector, family: Family): Prefix {
  if ('prefix' in s) return s.prefix;
  return Prefix.of(Prefix.any(family).addr, Math.min(s.anyLen, family === 4 ? 32 : 128));
}

function finish(d: Draft, hint: Family, src: { line: number; raw: string }): RuleRecord {
  const family = (d.from && 'prefix' in d.from ? d.from.prefix.family : undefined) ?? (d.to && 'prefix' in d.to ? d.to.prefix.family : undefined) ?? hint;
  const rec = {
    kind: 'rule',
    family,
    priority: d.priority,
    not: d.not,
    from: toPrefix(d.from ?? { anyLen: 0 }, family),
  } as RuleRecord;
  const put = <K extends keyof RuleRecord>(k: K, v: RuleRecord[K] | undefined): void => {
    if (v !== undefined) rec[k] = v;
  };
  put('to', d.to && toPrefix(d.to, family));
  put('iif', d.iif);
  put('iifDetached', d.iifDetached);
  put('oif', d.oif);
  put('oifDetached', d.oifDetached);
  put('fwmark', d.fwmark);
  put('tos', d.tos);
  put('ipproto', d.ipproto);
  put('sport', d.sport);
  put('dport', d.dport);
  put('uidrange', d.uidrange);
  put('l3mdev', d.l3mdev);
  // A rule always has an action; `lookup` with no table is what the kernel calls FR_ACT_TO_TBL.
  rec.action = d.action ?? 'lookup';
  put('table', d.table);
  put('goto', d.goto);
  put('suppressPrefixlength', d.suppressPrefixlength);
  put('suppressIfgroup', d.suppressIfgroup);
  put('realms', d.realms);
  put('protocol', d.protocol);
  rec.src = src;
  return rec;
}

/** `0x10000`, `51820`, `0` as printed by %#llx (or a decimal by other tools). */
function markNumber(text: string, what: string): number {
  const n = /^0x[0-9a-f]+$/i.test(text) ? parseInt(text, 16) : /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n > 0xffffffff) bad(`${what} "${text}" is not a 32-bit number`);
  return n;
}

function fwmark(text: string): { value: number; mask?: number } {
  const slash = text.indexOf('/');
  if (slash < 0) return { value: markNumber(text, 'fwmark') };
  return { value: markNumber(text.slice(0, slash), 'fwmark'), mask: markNumber(text.slice(slash + 1), 'fwmark mask') };
}

// ---- iproute2 / BusyBox text ---------------------------------------------------------------------

/** BusyBox prints the action as a route type after `lookup unspec` (FR_ACT_* read as RTN_*). */
const BUSYBOX_ACTIONS: Readonly<Record<string, Action>> = {
  unicast: 'lookup',
  local: 'goto',
  broadcast: 'nop',
  blackhole: 'blackhole',
  unreachable: 'unreachable',
  prohibit: 'prohibit',
};

const ACTION_WORDS: ReadonlySet<string> = new Set(['blackhole', 'unreachable', 'prohibit']);

function ruleLine(l: Line): { d: Draft; busybox: boolean } {
  const m = /^\s*(?:Deleted\s+)?(\d+):\s*(.*)$/.exec(l.raw);
  if (!m) bad('expected `PRIORITY:` at the start of a rule (`32766:\tfrom all lookup main`)');
  const priority = uint(m[1]) ?? bad(`priority "${m[1]}" is not a number`);
  const t = m[2]!.trim() === '' ? [] : tokens(m[2]!);
  const d: Draft = { priority, not: false };
  let busybox = false;
  const value = (k: number): string => t[k + 1] ?? bad(`\`${t[k]}\` at the end of the line needs a value`);
  let i = 0;
  while (i < t.length) {
    const w = t[i]!;
    switch (w) {
      case 'not':
        d.not = true;
        i++;
        break;
      case 'from':
        d.from = selector(value(i));
        i += 2;
        break;
      case 'to':
        d.to = selector(value(i));
        i += 2;
        break;
      case 'iif':
      case 'oif': {
        const name = value(i);
        const detached = t[i + 2] === '[detached]';
        if (w === 'iif') {
          d.iif = name;
          if (detached) d.iifDetached = true;
        } else {
          d.oif = name;
          if (detached) d.oifDetached = true;
        }
        i += detached ? 3 : 2;
        break;
      }
      case 'fwmark':
        d.fwmark = fwmark(value(i));
        i += 2;
        break;
      case 'tos':
      case 'dsfield':
        d.tos = value(i);
        i += 2;
        break;
      case 'ipproto':
        d.ipproto = value(i);
        i += 2;
        break;
      case 'sport':
        d.sport = value(i);
        i += 2;
        break;
      case 'dport':
        d.dport = value(i);
        i += 2;
        break;
      case 'uidrange':
        d.uidrange = value(i);
        i += 2;
        break;
      case 'l3mdev':
        d.l3mdev = true;
        d.action ??= 'lookup';
        i++;
        break;
      case 'lookup':
      case 'table': {
        const table = value(i);
        i += 2;
        d.action = 'lookup';
        if (table === '[l3mdev-table]') {
          d.l3mdev = true;
        } else if (table === 'unspec') {
          // BusyBox: `lookup unspec blackhole`, `lookup unspec local` (= goto, target not printed).
          busybox = true;
          const act = t[i] !== undefined ? BUSYBOX_ACTIONS[t[i]!] : undefined;
          if (act !== undefined) {
            d.action = act;
            i++;
          }
        } else {
          d.table = table;
        }
        break;
      }
      case 'goto': {
        const target = value(i);
        d.action = 'goto';
        if (target !== 'none') d.goto = uint(target) ?? bad(`goto "${target}" is not a rule priority`);
        i += 2;
        break;
      }
      case 'nop':
        d.action = 'nop';
        i++;
        break;
      case 'suppress_prefixlength':
      case 'suppress_prefixlen': {
        const n = /^-?\d+$/.exec(value(i)) ?? bad(`suppress_prefixlength "${t[i + 1]}" is not a number`);
        d.suppressPrefixlength = Number(n[0]);
        i += 2;
        break;
      }
      case 'suppress_ifgroup':
        d.suppressIfgroup = value(i);
        i += 2;
        break;
      case 'realms':
        d.realms = value(i);
        i += 2;
        break;
      case 'proto':
      case 'protocol':
        d.protocol = value(i);
        i += 2;
        break;
      default:
        if (ACTION_WORDS.has(w)) {
          d.action = w as Action;
          i++;
        } else {
          // tun_id, dscp, flowlabel, map-to, [unresolved], ... : not used here, never fatal.
          i++;
        }
    }
  }
  // iproute2 always prints `from`; without it this is not a rule line.
  if (!d.from) bad('expected `from PREFIX|all` in the rule');
  return { d, busybox };
}

// ---- iproute2 JSON --------------------------------------------------------------------------------

function parseJson(text: string, hint: Family): ParseResult<RuleRecord> {
  const c = new Collector<RuleRecord>('json');
  const { elements, issue } = jsonElements(text);
  if (issue) c.issues.push(issue);
  for (const el of elements) {
    const l: Line = { line: el.line, raw: el.raw };
    try {
      if (!isObject(el.value)) bad('expected a rule object');
      c.records.push(finish(jsonRule(el.value), hint, source(l)));
    } catch (e) {
      c.issue(l, e instanceof Error ? e.message : String(e));
    }
  }
  return c.result();
}

/** `src`/`srclen` (or `dst`/`dstlen`): `all`, `0` with a length, or an address (no length = a host). */
function jsonSelector(addr: unknown, len: unknown): Selector | undefined {
  const a = str(addr);
  if (a === undefined) return undefined;
  const n = num(len);
  if (a === 'all') return { anyLen: 0 };
  if (a === '0') return { anyLen: n ?? 0 };
  return selector(n === undefined ? a : `${a}/${n}`);
}

/** Ports as the text form prints them: `80`, `1-1024`, `0x50/0xfff0` (masked). */
function jsonPort(o: Record<string, unknown>, key: 'sport' | 'dport'): string | undefined {
  const start = num(o[`${key}_start`]);
  const end = num(o[`${key}_end`]);
  if (start !== undefined && end !== undefined) return `${start}-${end}`;
  const port = num(o[key]);
  if (port === undefined) return undefined;
  const maskText = str(o[`${key}_mask`]);
  const mask = maskText !== undefined ? markNumber(maskText, `${key}_mask`) : num(o[`${key}_mask`]);
  if (mask === undefined || mask === 0xffff) return String(port);
  const hex = (n: number): string => (n === 0 ? '0' : `0x${n.toString(16)}`);
  return `${hex(port)}/${hex(mask)}`;
}

function jsonRule(o: Record<string, unknown>): Draft {
  const priority = num(o.priority) ?? bad('rule has no "priority"');
  const d: Draft = { priority, not: 'not' in o };
  d.from = jsonSelector(o.src, o.srclen) ?? { anyLen: 0 };
  d.to = jsonSelector(o.dst, o.dstlen);
  d.tos = str(o.tos);
  if (str(o.fwmark) !== undefined || num(o.fwmark) !== undefined) {
    const value = markNumber(String(o.fwmark), 'fwmark');
    d.fwmark = o.fwmask !== undefined ? { value, mask: markNumber(String(o.fwmask), 'fwmask') } : { value };
  }
  d.iif = str(o.iif);
  if ('iif_detached' in o) d.iifDetached = true;
  d.oif = str(o.oif);
  if ('oif_detached' in o) d.oifDetached = true;
  if ('l3mdev' in o) d.l3mdev = true;
  if (num(o.uid_start) !== undefined && num(o.uid_end) !== undefined) d.uidrange = `${num(o.uid_start)}-${num(o.uid_end)}`;
  d.ipproto = str(o.ipproto);
  d.sport = jsonPort(o, 'sport');
  d.dport = jsonPort(o, 'dport');
  d.table = str(o.table);
  d.suppressPrefixlength = num(o.suppress_prefixlen);
  d.suppressIfgroup = str(o.suppress_ifgroup);
  const flowTo = str(o.flow_to);
  if (flowTo !== undefined) d.realms = str(o.flow_from) !== undefined ? `${str(o.flow_from)}/${flowTo}` : flowTo;
  d.protocol = str(o.protocol);
  if (o.goto !== undefined) {
    d.action = 'goto';
    if (num(o.goto) !== undefined) d.goto = num(o.goto);
  } else if ('nop' in o) {
    d.action = 'nop';
  } else if (str(o.action) !== undefined) {
    const a = str(o.action)!;
    if (!ACTION_WORDS.has(a)) bad(`unknown rule action "${a}"`);
    d.action = a as Action;
  } else {
    d.action = 'lookup';
  }
  return d;
}
