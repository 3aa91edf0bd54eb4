// Policy routing and the FIB of one network namespace and family: rules in priority order, then
// longest-prefix match within a table, as net/ipv4/fib_rules.c and fib_trie.c do it.
import type { AddrRecord, ProbeName, RouteRecord, RuleRecord } from '../parsers';
import { Addr, Prefix, type Family } from '../net/addr';

export interface FibRoute {
  rec: RouteRecord;
  probe: ProbeName;
  /** Made up from an address because the capture lacked the local table. */
  inferred: boolean;
}

export interface FibRule {
  rec: RuleRecord;
  probe: ProbeName;
  inferred: boolean;
}

type Key = number | bigint;

/** The routes for one prefix, sorted as the kernel keeps its aliases, with the winner precomputed. */
interface Slot {
  routes: FibRoute[];
  /** The first route with a live next hop, or undefined when all are dead. */
  winner: FibRoute | undefined;
  others: FibRoute[];
}

/**
 * One routing table: routes grouped by prefix length, then keyed by the prefix's own bits (for IPv4
 * a small integer, so the lookup allocates nothing). Longest length first.
 */
class Table {
  private readonly byLen = new Map<number, Map<Key, Slot>>();
  /** Lengths present, longest first, with their maps (an array: no map lookup per length). */
  private order: { len: number; map: Map<Key, Slot> }[] = [];

  constructor(readonly family: Family) {}

  add(r: FibRoute): void {
    const len = r.rec.dst.length;
    let m = this.byLen.get(len);
    if (!m) {
      m = new Map();
      this.byLen.set(len, m);
    }
    const k = prefixKey(r.rec.dst.addr, len);
    const slot = m.get(k);
    if (slot) slot.routes.push(r);
    else m.set(k, { routes: [r], winner: undefined, others: [] });
  }

  /** Sorts each prefix's routes (lower metric first) and picks each prefix's winner once. */
  finish(): void {
    for (const m of this.byLen.values()) {
      for (const slot of m.values()) {
        slot.routes.sort((a, b) => (a.rec.metric ?? 0) - (b.rec.metric ?? 0));
        slot.winner = slot.routes.find((r) => !isDead(r.rec));
        slot.others = slot.routes.filter((r) => r !== slot.winner);
      }
    }
    this.order = [...this.byLen.entries()].sort((a, b) => b[0] - a[0]).map(([len, map]) => ({ len, map }));
  }

  /**
   * Longest-prefix match. Routes whose next hops are all dead are skipped and the search falls back
   * to shorter prefixes, as fib_table_lookup does. Returns the winner and the other routes for the
   * same prefix.
   */
  lookup(dst: Addr): Slot | undefined {
    for (const { len, map } of this.order) {
      const slot = map.get(prefixKey(dst, len));
      if (slot?.winner) return slot;
    }
    return undefined;
  }

  routes(): FibRoute[] {
    return [...this.byLen.values()].flatMap((m) => [...m.values()].flatMap((s) => s.routes));
  }

  get size(): number {
    let n = 0;
    for (const m of this.byLen.values()) for (const s of m.values()) n += s.routes.length;
    return n;
  }
}

/** The first `len` bits of an address, as a number (IPv4) or bigint (IPv6). */
function prefixKey(a: Addr, len: number): Key {
  if (a.family === 4) return len === 0 ? 0 : a.v4 >>> (32 - len);
  return len === 0 ? 0n : a.v6 >> BigInt(128 - len);
}

function isDead(r: RouteRecord): boolean {
  if (r.nexthops?.length) return r.nexthops.every((n) => n.flags.includes('dead'));
  return r.flags.includes('dead');
}

export type RuleVerdict = 'blackhole' | 'unreachable' | 'prohibit';

export type FibAnswer =
  /** A route decided (including blackhole/unreachable/prohibit routes). */
  | { kind: 'route'; route: FibRoute; others: FibRoute[]; table: string; rule: FibRule; rulesTried: FibRule[] }
  /** A rule's own action decided (`ip rule add ... prohibit`). */
  | { kind: 'rule'; action: RuleVerdict; rule: FibRule; rulesTried: FibRule[] }
  /** No rule produced a route. */
  | { kind: 'none'; rulesTried: FibRule[] };

export interface FlowKey {
  dst: Addr;
  src?: Addr | undefined;
  /** Input device; locally generated packets use `lo`, as the kernel's output lookups do. */
  iif?: string | undefined;
  oif?: string | undefined;
  fwmark?: number | undefined;
  proto?: 'icmp' | 'udp' | 'tcp' | 'sctp' | 'ipip' | undefined;
  sport?: number | undefined;
  dport?: number | undefined;
}

const DEFAULT_RULES: [number, string][] = [
  [0, 'local'],
  [32766, 'main'],
  [32767, 'default'],
];

export class Fib {
  private readonly tables = new Map<string, Table>();
  private rules: FibRule[] = [];
  /** Each rule's table, resolved once (no string lookup per packet). */
  private ruleTables: (Table | undefined)[] = [];
  /**
   * With only the default rules the kernel merges the local table into main and does one
   * longest-prefix match over both (fib_lookup without fib_has_custom_rules); this is that table.
   */
  private merged: Table | undefined;
  /** True when the capture had no rules for this family and the kernel's defaults were assumed. */
  rulesInferred = false;

  constructor(readonly family: Family) {}

  addRoute(rec: RouteRecord, probe: ProbeName = this.family === 4 ? 'routes4' : 'routes6', inferred = false): void {
    if (rec.family !== this.family || rec.cache !== undefined) return;
    let t = this.tables.get(rec.table);
    if (!t) {
      t = new Table(this.family);
      this.tables.set(rec.table, t);
    }
    t.add({ rec, probe, inferred });
  }

  addRule(rec: RuleRecord, probe: ProbeName = this.family === 4 ? 'rules4' : 'rules6'): void {
    if (rec.family === this.family) this.rules.push({ rec, probe, inferred: false });
  }

  /**
   * Completes the FIB: default rules when none were captured, and local routes made from the
   * addresses when the capture has no `local` table (an `ip route` without `table all`).
   */
  finish(addrsForLocalTable?: AddrRecord[]): void {
    if (this.rules.length === 0) {
      this.rulesInferred = true;
      const any = Prefix.any(this.family);
      this.rules = DEFAULT_RULES.map(([priority, table]) => ({
        rec: { kind: 'rule', family: this.family, priority, not: false, from: any, action: 'lookup', table, src: { line: 0, raw: `${priority}:\tfrom all lookup ${table}` } },
        probe: this.family === 4 ? 'rules4' : 'rules6',
        inferred: true,
      }));
    }
    this.rules.sort((a, b) => a.rec.priority - b.rec.priority);
    if (addrsForLocalTable) {
      for (const a of addrsForLocalTable) {
        const rec: RouteRecord = {
          kind: 'route',
          family: this.family,
          type: 'local',
          dst: Prefix.of(a.local, a.local.bits),
          table: 'local',
          protocol: 'kernel',
          scope: 'host',
          dev: a.dev,
          prefsrc: a.local,
          flags: [],
          src: a.src,
        };
        this.addRoute(rec, 'addrs', true);
      }
    }
    for (const t of this.tables.values()) t.finish();
    this.ruleTables = this.rules.map((r) => (r.rec.action === 'lookup' ? this.tables.get(r.rec.table ?? 'main') : undefined));
    const defaults =
      this.rules.length === DEFAULT_RULES.length &&
      this.rules.every((r, i) => r.rec.priority === DEFAULT_RULES[i]![0] && r.rec.table === DEFAULT_RULES[i]![1] && r.rec.action === 'lookup' && !r.rec.not && r.rec.from.length === 0 && r.rec.to === undefined && r.rec.iif === undefined && r.rec.oif === undefined && r.rec.fwmark === undefined && r.rec.suppressPrefixlength === undefined);
    if (defaults) {
      const m = new Table(this.family);
      for (const name of ['local', 'main']) for (const r of this.tables.get(name)?.routes() ?? []) m.add(r);
      m.finish();
      this.merged = m;
    }
  }

  get ruleList(): readonly FibRule[] {
    return this.rules;
  }

  /** The routes one table holds (`main`, `local`, a number), in no particular order. */
  tableRoutes(name: string): FibRoute[] {
    return this.tables.get(name)?.routes() ?? [];
  }

  tableSize(name: string): number {
    return this.tables.get(name)?.size ?? 0;
  }

  lookupTable(name: string, dst: Addr): { route: FibRoute; others: FibRoute[] } | undefined {
    const slot = this.tables.get(name)?.lookup(dst);
    return slot ? { route: slot.winner!, others: slot.others } : undefined;
  }

  /** fib_lookup: walk the rules, look up their tables, honour throw, goto and suppress_prefixlength. */
  lookup(flow: FlowKey): FibAnswer {
    if (this.merged) {
      // local + main as one table, then default (the kernel's fast path without custom rules).
      const slot = this.merged.lookup(flow.dst);
      if (slot && slot.winner!.rec.type !== 'throw') {
        const ri = slot.winner!.rec.table === 'local' ? 0 : 1;
        return { kind: 'route', route: slot.winner!, others: slot.others, table: slot.winner!.rec.table, rule: this.rules[ri]!, rulesTried: this.rules.slice(0, ri + 1) };
      }
      const d = this.ruleTables[2]?.lookup(flow.dst);
      if (d && d.winner!.rec.type !== 'throw') return { kind: 'route', route: d.winner!, others: d.others, table: 'default', rule: this.rules[2]!, rulesTried: this.rules.slice() };
      return { kind: 'none', rulesTried: this.rules.slice() };
    }
    const tried: FibRule[] = [];
    let gotoTarget: number | undefined;
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i]!;
      const r = rule.rec;
      if (gotoTarget !== undefined && r.priority < gotoTarget) continue;
      gotoTarget = undefined;
      if (!ruleMatches(r, flow)) continue;
      tried.push(rule);
      switch (r.action) {
        case 'nop':
          continue;
        case 'goto':
          gotoTarget = r.goto;
          continue;
        case 'blackhole':
        case 'unreachable':
        case 'prohibit':
          return { kind: 'rule', action: r.action, rule, rulesTried: tried };
        case 'lookup': {
          const found = this.ruleTables[i]?.lookup(flow.dst);
          if (!found) continue;
          const route = found.winner!;
          if (route.rec.type === 'throw') continue;
          if (r.suppressPrefixlength !== undefined && route.rec.dst.length <= r.suppressPrefixlength) continue;
          return { kind: 'route', route, others: found.others, table: r.table ?? 'main', rule, rulesTried: tried };
        }
      }
    }
    return { kind: 'none', rulesTried: tried };
  }
}

function ruleMatches(r: RuleRecord, f: FlowKey): boolean {
  const m = ruleSelectorsMatch(r, f);
  return r.not ? !m : m;
}

function ruleSelectorsMatch(r: RuleRecord, f: FlowKey): boolean {
  if (r.iifDetached || r.oifDetached) return false;
  if (r.from.length > 0 && (f.src === undefined || !r.from.contains(f.src))) return false;
  if (r.to && r.to.length > 0 && !r.to.contains(f.dst)) return false;
  if (r.iif !== undefined && r.iif !== (f.iif ?? 'lo')) return false;
  if (r.oif !== undefined && r.oif !== f.oif) return false;
  if (r.fwmark !== undefined) {
    const mask = r.fwmark.mask ?? 0xffffffff;
    if ((((f.fwmark ?? 0) & mask) >>> 0) !== ((r.fwmark.value & mask) >>> 0)) return false;
  }
  if (r.ipproto !== undefined && !protoMatches(r.ipproto, f.proto)) return false;
  if (r.sport !== undefined && !inRange(r.sport, f.sport)) return false;
  if (r.dport !== undefined && !inRange(r.dport, f.dport)) return false;
  // Forwarded packets carry uid 0 (sock_net_uid with no socket); a traced packet is taken as root's too.
  if (r.uidrange !== undefined && !inRange(r.uidrange, 0)) return false;
  return true;
}

const PROTO_NUMBERS: Record<string, string> = { '1': 'icmp', '4': 'ipip', '6': 'tcp', '17': 'udp', '132': 'sctp', ipproto_icmp: 'icmp', ipproto_ipip: 'ipip', ipproto_tcp: 'tcp', ipproto_udp: 'udp', ipproto_sctp: 'sctp' };

function protoMatches(rule: string, proto: FlowKey['proto']): boolean {
  const p = rule.toLowerCase();
  return proto !== undefined && (PROTO_NUMBERS[p] ?? p) === proto;
}

/** `80`, `1-1024`, `1000-2000`: does `n` fall inside? */
function inRange(range: string, n: number | undefined): boolean {
  if (n === undefined) return false;
  const m = /^(\d+)(?:-(\d+))?$/.exec(range.trim());
  if (!m) return false;
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  return n >= lo && n <= hi;
}
