// Policy routing and the FIB of one network namespace and family: rules in priority order, then
// longest-prefix match within a table, as net/ipv4/fib_rules.c and fib_trie.c do it.
import type { AddrRecord, ProbeName, RouteRecord, RuleRecord } from '../parsers';
import { Addr, Prefix, maskAddr, type Family } from './addr';

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

/** One routing table: routes grouped by prefix length, then by masked destination. */
class Table {
  private readonly byLen = new Map<number, Map<Key, FibRoute[]>>();
  private lens: number[] = [];

  constructor(readonly family: Family) {}

  add(r: FibRoute): void {
    const len = r.rec.dst.length;
    let m = this.byLen.get(len);
    if (!m) {
      m = new Map();
      this.byLen.set(len, m);
      this.lens = [...this.byLen.keys()].sort((a, b) => b - a);
    }
    const k = key(r.rec.dst.masked().addr);
    const list = m.get(k);
    if (list) list.push(r);
    else m.set(k, [r]);
  }

  /** Sorts each prefix's routes as the kernel keeps its aliases: lower metric first. */
  finish(): void {
    for (const m of this.byLen.values()) for (const list of m.values()) list.sort((a, b) => (a.rec.metric ?? 0) - (b.rec.metric ?? 0));
  }

  /**
   * Longest-prefix match. Routes whose next hops are all dead are skipped and the search falls back
   * to shorter prefixes, as fib_table_lookup does. `reject(len)` lets a rule's suppress_prefixlength
   * refuse a result. Returns the winner and the other routes for the same prefix.
   */
  lookup(dst: Addr): { route: FibRoute; others: FibRoute[] } | undefined {
    for (const len of this.lens) {
      const list = this.byLen.get(len)!.get(key(maskAddr(dst, len)));
      if (!list) continue;
      const usable = list.filter((r) => !isDead(r.rec));
      if (usable.length) return { route: usable[0]!, others: list.filter((r) => r !== usable[0]) };
    }
    return undefined;
  }

  get size(): number {
    let n = 0;
    for (const m of this.byLen.values()) for (const l of m.values()) n += l.length;
    return n;
  }
}

function key(a: Addr): Key {
  return a.family === 4 ? a.v4 : a.v6;
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
  proto?: 'icmp' | 'udp' | 'tcp' | 'ipip' | undefined;
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
  }

  get ruleList(): readonly FibRule[] {
    return this.rules;
  }

  tableSize(name: string): number {
    return this.tables.get(name)?.size ?? 0;
  }

  lookupTable(name: string, dst: Addr): { route: FibRoute; others: FibRoute[] } | undefined {
    return this.tables.get(name)?.lookup(dst);
  }

  /** fib_lookup: walk the rules, look up their tables, honour throw, goto and suppress_prefixlength. */
  lookup(flow: FlowKey): FibAnswer {
    const tried: FibRule[] = [];
    let gotoTarget: number | undefined;
    for (const rule of this.rules) {
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
          const found = this.lookupTable(r.table ?? 'main', flow.dst);
          if (!found) continue;
          if (found.route.rec.type === 'throw') continue;
          if (r.suppressPrefixlength !== undefined && found.route.rec.dst.length <= r.suppressPrefixlength) continue;
          return { kind: 'route', route: found.route, others: found.others, table: r.table ?? 'main', rule, rulesTried: tried };
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

const PROTO_NUMBERS: Record<string, string> = { '1': 'icmp', '4': 'ipip', '6': 'tcp', '17': 'udp', ipproto_icmp: 'icmp', ipproto_ipip: 'ipip', ipproto_tcp: 'tcp', ipproto_udp: 'udp' };

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
