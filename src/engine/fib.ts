// Policy routing and the FIB of one network namespace and family: rules in priority order, then
// longest-prefix match within a table, as net/ipv4/fib_rules.c and fib_trie.c do it.
import type { AddrRecord, ProbeName, RouteRecord, RouteType, RuleRecord } from '../parsers';
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
  others: readonly FibRoute[];
  /**
   * With only the default rules, the answer when this slot decides, made on the first lookup it
   * decides and then shared; null for a throw route, which sends the lookup on to the next table.
   */
  answer: FibAnswer | null | undefined;
}

/**
 * One routing table: routes grouped by prefix length, then keyed by the prefix's own bits (for IPv4
 * a small integer). IPv4 lookups scan a few masked numbers or walk a multibit trie in one typed
 * array (fib_trie.c's idea with fixed 4-bit strides): no hashing, nothing allocated. IPv6 probes the
 * lengths present, longest first.
 */
class Table {
  private readonly byLen = new Map<number, Map<Key, Slot>>();
  /** IPv6: lengths present, longest first, with their maps (an array: no map lookup per length). */
  private order: { len: number; map: Map<Key, Slot> }[] = [];
  /**
   * IPv4, made on the first lookup (most tables of a big capture are never asked): a small table is
   * scanned, a big one walks a trie. `small` holds [net, mask] per live prefix, longest first.
   */
  private small: Int32Array | undefined;
  /**
   * IPv4: a multibit trie of 4-bit strides with the answers pushed down to the leaves (fib_trie.c's
   * idea, with fixed strides): node n is the 16 numbers from offset 16n, one per value v of its 4
   * bits (64 bytes, a cache line's worth). A positive number is the offset of the child for v; any
   * other is minus (1 + the index in `slots` of the longest prefix that covers v), 0 for none. A
   * lookup reads one number per level, at most 8.
   */
  private trie: Int32Array | undefined;
  /** IPv4: the prefixes with a live route, by the numbers lookupV4 returns (less one). A dead
   * prefix is left out: the kernel skips it anyway and falls back to a shorter prefix. */
  private slots: Slot[] = [];

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
    else m.set(k, { routes: [r], winner: undefined, others: NO_ROUTES, answer: undefined });
  }

  /** Sorts each prefix's routes (lower metric first), picks each prefix's winner once. */
  finish(): void {
    for (const m of this.byLen.values()) for (const slot of m.values()) finishSlot(slot);
    this.index();
  }

  /**
   * The kernel's merged local+main table (fib_lookup without custom rules), from two finished
   * tables: a prefix only one of them holds keeps that table's slot (most: nothing is copied or
   * sorted again), a prefix both hold gets one slot with local's routes first, as fib_table_insert
   * would have them. A shared slot's cached answer is the merged one: with the default rules nothing
   * else asks local or main for an answer.
   */
  merge(first: Table | undefined, second: Table | undefined): void {
    for (const t of [first, second]) {
      if (!t) continue;
      for (const [len, from] of t.byLen) {
        let m = this.byLen.get(len);
        if (!m) {
          m = new Map();
          this.byLen.set(len, m);
        }
        for (const [k, slot] of from) {
          const there = m.get(k);
          if (!there) m.set(k, slot);
          else {
            const both: Slot = { routes: [...there.routes, ...slot.routes], winner: undefined, others: NO_ROUTES, answer: undefined };
            finishSlot(both);
            m.set(k, both);
          }
        }
      }
    }
    this.index();
  }

  /** The lengths in lookup order and, for IPv4, the live prefixes (longest first); the trie waits for a lookup. */
  private index(): void {
    this.order = [...this.byLen.entries()].sort((a, b) => b[0] - a[0]).map(([len, map]) => ({ len, map }));
    this.small = undefined;
    this.trie = undefined;
    this.slots = [];
    if (this.family === 4) for (const { map } of this.order) for (const slot of map.values()) if (slot.winner) this.slots.push(slot);
  }

  /** Up to this many live prefixes a scan beats the trie, in time and in memory (a pod has a handful). */
  private static readonly SMALL = 12;

  private buildV4(): void {
    if (this.slots.length <= Table.SMALL) {
      const small = new Int32Array(2 * this.slots.length);
      this.slots.forEach((slot, i) => {
        const len = slot.winner!.rec.dst.length;
        const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) | 0;
        small[2 * i] = slot.winner!.rec.dst.addr.v4 & mask;
        small[2 * i + 1] = mask;
      });
      this.small = small;
    } else this.buildTrie();
  }

  private buildTrie(): void {
    let trie = new Int32Array(16 * 64);
    let used = 16;
    // Shortest prefixes first (`slots` is longest first): a prefix then overwrites only entries of
    // shorter ones, and when it opens a child below an entry, the child starts with that entry's
    // answer, so every leaf ends holding its longest covering prefix. No object per prefix or node.
    for (let i = this.slots.length - 1; i >= 0; i--) {
      const dst = this.slots[i]!.winner!.rec.dst;
      const len = dst.length;
      const bits = dst.addr.v4;
      let node = 0;
      let shift = 28;
      for (; len > 32 - shift; shift -= 4) {
        const e = node + ((bits >>> shift) & 15);
        let child = trie[e]!;
        if (child <= 0) {
          if (used + 16 > trie.length) {
            const t = new Int32Array(trie.length * 2);
            t.set(trie);
            trie = t;
          }
          trie.fill(child, used, used + 16);
          trie[e] = child = used;
          used += 16;
        }
        node = child;
      }
      // The prefix ends in this node with `r` of its 4 bits: it covers 2^(4 - r) values.
      const r = len - (28 - shift);
      const first = (bits >>> shift) & 15 & ~((1 << (4 - r)) - 1);
      // Its entries hold no child: one would have come from a longer prefix, and none was added yet.
      trie.fill(-(i + 1), node + first, node + first + (1 << (4 - r)));
    }
    this.trie = trie.slice(0, used);
  }

  /**
   * Longest-prefix match. Routes whose next hops are all dead are skipped and the search falls back
   * to shorter prefixes, as fib_table_lookup does. Returns the winner and the other routes for the
   * same prefix.
   */
  lookup(dst: Addr): Slot | undefined {
    if (dst.family === 4 && this.family === 4) {
      const i = this.lookupV4(dst.v4);
      return i !== 0 ? this.slots[i - 1] : undefined;
    }
    return this.lookupV6(dst);
  }

  /** IPv4: 1 + the index in `liveSlots` of the longest live prefix holding `x`, or 0. */
  lookupV4(x: number): number {
    if (this.trie === undefined && this.small === undefined) this.buildV4();
    const small = this.small;
    if (small !== undefined) {
      for (let i = 0; i < small.length; i += 2) if ((x & small[i + 1]!) === small[i]) return i / 2 + 1;
      return 0;
    }
    const trie = this.trie!;
    let e = trie[(x >>> 28) & 15]!;
    // No node below the last 4 bits (a prefix has at most 32), so the walk ends by itself.
    for (let shift = 24; e > 0; shift -= 4) e = trie[e + ((x >>> shift) & 15)]!;
    return -e;
  }

  /** IPv4: the prefixes in the trie, by the numbers lookupV4 returns (less one). */
  get liveSlots(): readonly Slot[] {
    return this.slots;
  }

  private lookupV6(dst: Addr): Slot | undefined {
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

/** Shared by every prefix with a single route (most of them): read, never changed. */
const NO_ROUTES: readonly FibRoute[] = Object.freeze([]);

const byMetric = (a: FibRoute, b: FibRoute) => (a.rec.metric ?? 0) - (b.rec.metric ?? 0);

function finishSlot(slot: Slot): void {
  if (slot.routes.length === 1) {
    const only = slot.routes[0]!;
    slot.winner = isDead(only.rec) ? undefined : only;
    slot.others = slot.winner ? NO_ROUTES : slot.routes;
    return;
  }
  slot.routes.sort(byMetric);
  slot.winner = slot.routes.find((r) => !isDead(r.rec));
  slot.others = slot.routes.filter((r) => r !== slot.winner);
}

function isDead(r: RouteRecord): boolean {
  if (r.nexthops?.length) return r.nexthops.every((n) => n.flags.includes('dead'));
  return r.flags.includes('dead');
}

export type RuleVerdict = 'blackhole' | 'unreachable' | 'prohibit';

/** Answers may be shared between lookups that decide alike: read them, never change them. */
export type FibAnswer =
  /**
   * A route decided (including blackhole/unreachable/prohibit routes). Beside the route, what the
   * kernel's fib_result hands on (and `ip route get` prints), read off the record once when the
   * answer is made: its type, and the next hop's device and gateway and the preferred source of a
   * single-path route (undefined for a multipath one: its hops are in `route.rec.nexthops`, and
   * fib_select_path picks one). A caller reads these without going through the route record.
   */
  | {
      readonly kind: 'route';
      readonly route: FibRoute;
      readonly others: readonly FibRoute[];
      readonly table: string;
      readonly rule: FibRule;
      readonly rulesTried: readonly FibRule[];
      readonly type: RouteType;
      readonly dev: string | undefined;
      readonly gateway: Addr | undefined;
      readonly prefsrc: Addr | undefined;
    }
  /** A rule's own action decided (`ip rule add ... prohibit`). */
  | { readonly kind: 'rule'; readonly action: RuleVerdict; readonly rule: FibRule; readonly rulesTried: readonly FibRule[] }
  /** No rule produced a route. */
  | { readonly kind: 'none'; readonly rulesTried: readonly FibRule[] };

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
  /** The merged path's answer when no table has a route (shared, as its other answers are). */
  private noRoute: FibAnswer | undefined;
  /** IPv4 with the merged table: index 1 + i is the answer for the trie's slot i (as Slot.answer). */
  private mergedV4: (FibAnswer | null | undefined)[] | undefined;
  /** The rules a merged-table answer tried: local's alone, or local's and main's. */
  private mergedTried: readonly FibRule[][] = [];
  /** Table and device names and route types as answers give them (see intern). */
  private readonly names = new Map<string, string>();
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
      m.merge(this.tables.get('local'), this.tables.get('main'));
      this.merged = m;
      this.mergedTried = [this.rules.slice(0, 1), this.rules.slice(0, 2)];
      // IPv4: the answers by the numbers the trie returns, so a lookup reads one array element.
      if (this.family === 4) this.mergedV4 = new Array<FibAnswer | null | undefined>(m.liveSlots.length + 1).fill(undefined);
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

  lookupTable(name: string, dst: Addr): { route: FibRoute; others: readonly FibRoute[] } | undefined {
    const slot = this.tables.get(name)?.lookup(dst);
    return slot ? { route: slot.winner!, others: slot.others } : undefined;
  }

  /** The merged table's answer when `slot` decides; null for a throw route (on to the default table). */
  private mergedAnswer(slot: Slot): FibAnswer | null {
    const route = slot.winner!;
    if (route.rec.type === 'throw') return null;
    const ri = route.rec.table === 'local' ? 0 : 1;
    return this.routeAnswer(route, slot.others, route.rec.table, this.rules[ri]!, this.mergedTried[ri]!);
  }

  /** Every route answer is made here, so all have one shape (one hidden class: monomorphic reads). */
  private routeAnswer(route: FibRoute, others: readonly FibRoute[], table: string, rule: FibRule, rulesTried: readonly FibRule[]): FibAnswer {
    const r = route.rec;
    return {
      kind: 'route',
      route,
      others,
      table: this.intern(table),
      rule,
      rulesTried,
      type: this.intern(r.type) as RouteType,
      dev: r.dev === undefined ? undefined : this.intern(r.dev),
      gateway: r.gateway,
      prefsrc: r.prefsrc,
    };
  }

  /**
   * One string per table name, device name and route type for all answers: each route record holds
   * its own copy of `main`, `eth0` or `blackhole` (cut from its line), spread over the heap with the
   * record; the shared one stays in cache, and a Map keyed by it (ifaces by name) finds its hash at
   * hand.
   */
  private intern(name: string): string {
    let s = this.names.get(name);
    if (s === undefined) {
      s = name;
      this.names.set(name, s);
    }
    return s;
  }

  /** fib_lookup: walk the rules, look up their tables, honour throw, goto and suppress_prefixlength. */
  lookup(flow: FlowKey): FibAnswer {
    if (this.merged) {
      // local + main as one table, then default (the kernel's fast path without custom rules). The
      // answer depends on the deciding prefix alone, so each is made once and then shared.
      if (this.mergedV4 && flow.dst.family === 4) {
        const i = this.merged.lookupV4(flow.dst.v4);
        if (i !== 0) {
          const a = (this.mergedV4[i] ??= this.mergedAnswer(this.merged.liveSlots[i - 1]!));
          if (a) return a;
        }
      } else {
        const slot = this.merged.lookup(flow.dst);
        if (slot) {
          const a = (slot.answer ??= this.mergedAnswer(slot));
          if (a) return a;
        }
      }
      const d = this.ruleTables[2]?.lookup(flow.dst);
      if (d && d.winner!.rec.type !== 'throw') return (d.answer ??= this.routeAnswer(d.winner!, d.others, 'default', this.rules[2]!, this.rules.slice()));
      return (this.noRoute ??= { kind: 'none', rulesTried: this.rules.slice() });
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
          return this.routeAnswer(route, found.others, r.table ?? 'main', rule, tried);
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
