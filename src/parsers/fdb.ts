// `bridge fdb show` (text and `bridge -j` JSON): one forwarding entry per line,
// `MAC [dev DEV] [dst ADDR] [vlan N] [port N] [vni N] [src_vni N] [via DEV | via ifindex N] [nhid N]
//  [link-netnsid N] [used A/B] [self] [router] [extern_learn] [offload] [master] [sticky] [locked]
//  [master BR] [permanent | static | stale]`; a dynamic (NUD_REACHABLE) entry prints no state word.
// With a `dev X` filter iproute2 leaves out `dev X`; such lines keep `dev: ''` and one issue says so.
import { Addr, Mac } from '../net/addr';
import { Collector, type Line, isObject, jsonElements, lines, looksLikeJson, num, str, tokens, uint } from './common';
import type { FdbRecord, ParseResult } from './types';

type State = FdbRecord['state'];
const STATES: ReadonlySet<string> = new Set(['permanent', 'static', 'stale']);
const FLAGS: ReadonlySet<string> = new Set(['router', 'extern_learn', 'offload', 'sticky', 'locked', 'activity_notify', 'inactive']);
/** Words that can follow a bare `master` flag, so `master` is not read as naming a bridge. */
const AFTER_MASTER: ReadonlySet<string> = new Set([...STATES, ...FLAGS, 'master', 'self']);
const VALUE_KEYS = new Set(['dev', 'dst', 'vlan', 'port', 'vni', 'src_vni', 'via', 'nhid', 'link-netnsid', 'used']);
const NUMBER_FIELDS = new Map<string, 'vlan' | 'port' | 'vni' | 'srcVni' | 'nhid' | 'linkNetnsid'>([
  ['vlan', 'vlan'],
  ['port', 'port'],
  ['vni', 'vni'],
  ['src_vni', 'srcVni'],
  ['nhid', 'nhid'],
  ['link-netnsid', 'linkNetnsid'],
]);
const EXPECTED = 'expected `MAC dev DEV [dst ADDR] [vlan N] ... [self] [master BR] [permanent|static]` (bridge fdb show)';
const CANONICAL_MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;

export function parseFdb(text: string): ParseResult<FdbRecord> {
  if (looksLikeJson(text)) return parseJson(text);
  const ls = lines(text);
  const c = new Collector<FdbRecord>(ls.length === 0 ? 'empty' : 'iproute2');
  c.each(ls, (l) => {
    const rec = parseLine(l, c);
    if (rec) c.records.push(ordered(rec));
  });
  reportMissingDev(c);
  return c.result();
}

function parseLine(l: Line, c: Collector<FdbRecord>): FdbRecord | undefined {
  const t = tokens(l.raw);
  const mac = macOf(t[0]!);
  if (mac === undefined) {
    c.issue(l, `${EXPECTED}: "${t[0]}" is not a MAC address`);
    return undefined;
  }
  const rec = blank(mac, l);
  for (let i = 1; i < t.length; i++) {
    const w = t[i]!;
    if (VALUE_KEYS.has(w)) {
      const v = t[++i];
      if (v === undefined) {
        c.issue(l, `${EXPECTED}: \`${w}\` without a value`);
        return undefined;
      }
      const bad = setValue(rec, w, v, t[i + 1]);
      if (bad) {
        c.issue(l, `${EXPECTED}: ${bad}`);
        return undefined;
      }
      if (w === 'via' && v === 'ifindex') i++;
    } else if (w === 'self') rec.self = true;
    else if (w === 'master') {
      rec.masterFlag = true;
      const next = t[i + 1];
      if (next !== undefined && !AFTER_MASTER.has(next)) {
        rec.master = next;
        i++;
      }
    } else if (STATES.has(w)) rec.state = w as State;
    else if (FLAGS.has(w)) rec.flags.push(w);
    else if (w.startsWith('state=')) rec.flags.push(w);
    // Other words (a newer attribute) are skipped, not an issue.
  }
  return rec;
}

/** Sets a keyword's value; returns what was wrong with it, if anything. */
function setValue(rec: FdbRecord, key: string, v: string, after: string | undefined): string | undefined {
  switch (key) {
    case 'dev':
      rec.dev = v;
      return undefined;
    case 'dst': {
      const a = parseAddr(v);
      if (!a.ok) return a.error;
      rec.dst = a.value;
      return undefined;
    }
    case 'via':
      if (v === 'ifindex') {
        const n = uint(after);
        if (n === undefined) return '`via ifindex` takes a number';
        rec.viaIfindex = n;
      } else rec.via = v;
      return undefined;
    case 'used': {
      const m = /^(\d+)\/(\d+)$/.exec(v);
      if (!m) return '`used` takes USED/UPDATED seconds';
      rec.used = Number(m[1]);
      rec.updated = Number(m[2]);
      return undefined;
    }
    default: {
      const n = uint(v);
      if (n === undefined) return `\`${key}\` takes a number, got "${v}"`;
      const field = NUMBER_FIELDS.get(key);
      if (field) rec[field] = n;
      return undefined;
    }
  }
}

const DOTTED_QUAD = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;

/** Addr.parse with a fast path for plain IPv4 (a VXLAN FDB is thousands of `dst a.b.c.d`). */
function parseAddr(s: string): ReturnType<typeof Addr.parse> {
  const m = DOTTED_QUAD.exec(s);
  if (m) {
    const o = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
    if (o.every((x) => x <= 255)) return { ok: true, value: Addr.fromV4(((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0) };
  }
  return Addr.parse(s);
}

function macOf(s: string): string | undefined {
  if (CANONICAL_MAC.test(s)) return s; // the common case, without the general parser
  const m = Mac.parse(s);
  return m.ok ? m.value.toString() : undefined;
}

const FIELD_ORDER = ['kind', 'mac', 'dev', 'dst', 'vlan', 'port', 'vni', 'srcVni', 'via', 'viaIfindex', 'nhid', 'linkNetnsid', 'self', 'masterFlag', 'master', 'state', 'flags', 'used', 'updated', 'src'] as const;

/** The record with its fields in the order `bridge fdb show` prints them. */
function ordered(rec: FdbRecord): FdbRecord {
  const out: Record<string, unknown> = {};
  for (const k of FIELD_ORDER) if (rec[k] !== undefined) out[k] = rec[k];
  for (const [k, v] of Object.entries(rec)) if (!(k in out) && v !== undefined) out[k] = v; // fields added later
  return out as unknown as FdbRecord;
}

function blank(mac: string, l: Line): FdbRecord {
  return { kind: 'fdb', mac, dev: '', self: false, masterFlag: false, state: 'dynamic', flags: [], src: { line: l.line, raw: l.raw } };
}

/** One issue for all entries without a device (the output of `bridge fdb show dev X`), at the first of them. */
function reportMissingDev(c: Collector<FdbRecord>): void {
  const missing = c.records.filter((r) => r.dev === '');
  if (missing.length === 0) return;
  const first = missing[0]!.src;
  c.issues.push({
    line: first.line,
    raw: first.raw,
    message: `${missing.length} entr${missing.length === 1 ? 'y has' : 'ies have'} no \`dev\` (output of \`bridge fdb show dev X\`?): their device is unknown; capture \`bridge fdb show\` without a filter`,
  });
}

function parseJson(text: string): ParseResult<FdbRecord> {
  const c = new Collector<FdbRecord>('json');
  const { elements, issue } = jsonElements(text);
  if (issue) c.issues.push(issue);
  c.each(elements, (e, i) => {
    const l = { line: e.line, raw: e.raw };
    const o = elements[i]!.value;
    const mac = isObject(o) ? macOf(str(o.mac) ?? '') : undefined;
    if (!isObject(o) || mac === undefined) {
      c.issue(l, 'expected an FDB object with "mac" (bridge -j fdb show)');
      return;
    }
    const rec = blank(mac, l);
    // Older iproute2 named the device "dev", newer "ifname".
    rec.dev = str(o.ifname) ?? str(o.dev) ?? '';
    const dst = str(o.dst);
    if (dst !== undefined) {
      const a = parseAddr(dst);
      if (!a.ok) {
        c.issue(l, `expected an FDB object with "mac" (bridge -j fdb show): ${a.error}`);
        return;
      }
      rec.dst = a.value;
    }
    const numbers = { vlan: 'vlan', port: 'port', vni: 'vni', src_vni: 'srcVni', nhid: 'nhid', linkNetNsId: 'linkNetnsid', viaIfIndex: 'viaIfindex', used: 'used', updated: 'updated' } as const;
    for (const [k, field] of Object.entries(numbers)) {
      const v = num(o[k]);
      if (v !== undefined) rec[field] = v;
    }
    const via = str(o.viaIf) ?? str(o.viaIfname);
    if (via !== undefined) rec.via = via;
    // The text form prints activity_notify/inactive before the flags: keep that order.
    for (const f of ['activity_notify', 'inactive']) if (o[f] === true) rec.flags.push(f);
    const flags = Array.isArray(o.flags) ? o.flags.filter((f): f is string => typeof f === 'string') : [];
    for (const f of flags) {
      if (f === 'self') rec.self = true;
      else if (f === 'master') rec.masterFlag = true;
      else rec.flags.push(f);
    }
    const master = str(o.master);
    if (master !== undefined) {
      rec.master = master;
      rec.masterFlag = true;
    }
    const state = str(o.state) ?? '';
    if (STATES.has(state)) rec.state = state as State;
    else if (state !== '') rec.flags.push(`state=${state}`);
    c.records.push(ordered(rec));
  });
  reportMissingDev(c);
  return c.result();
}
