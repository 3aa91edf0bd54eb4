// A host's rule set, built once from its probes: iptables and ip6tables tables, nft tables, ipsets and
// IPVS services, compiled and indexed, and the base chains of each hook in the kernel's order.
import type { Family } from '../../net/addr';
import {
  parseProbe,
  type IpsetMemberRecord,
  type IpsetRecord,
  type IptablesChainRecord,
  type IptablesRuleRecord,
  type IpvsDestRecord,
  type IpvsServiceRecord,
  type NftChainRecord,
  type NftRuleRecord,
  type NftSetRecord,
  type NftTableRecord,
  type ParseIssue,
} from '../../parsers';
import { iptablesRule, scanIptables, type Counters, type IptablesLines, type IptablesPlace } from '../../parsers/iptables';
import { compileIptables, IptablesChains, serviceRuleKey } from './compileIptables';
import { compileNft } from './compileNft';
import { buildIpsets, type IpsetSet } from './ipsets';
import { buildIndex, INDEX_MIN_RULES, tableFamilies, type Chain, type IndexKey, type Op, type Rule } from './ir';
import type { Hook, Layer, NfEvidence } from './types';

export type NetfilterProbe = 'iptables' | 'ip6tables' | 'nft' | 'ipset' | 'ipvs';
export const NETFILTER_PROBES: readonly NetfilterProbe[] = ['iptables', 'ip6tables', 'nft', 'ipset', 'ipvs'];

/** One entry of a hook: a base chain, or the NAT chains of the hook run as one (the kernel's nf_nat hook). */
export type HookEntry = { kind: 'chain'; chain: Chain } | { kind: 'nat'; priority: number; chains: Chain[] };

/** Something about the rule set as a whole that a result should be able to say. */
export type RulesetNote =
  /** iptables-nft's tables show in `nft list ruleset` too: read once, from iptables-save. */
  | { kind: 'nft-table-from-iptables'; family: string; table: string }
  | { kind: 'parse-issues'; probe: NetfilterProbe; issues: ParseIssue[] }
  /** `iptables -S` pasted with no table named: these rules cannot be placed at a hook and are left out. */
  | { kind: 'rules-without-table'; probe: 'iptables' | 'ip6tables'; count: number }
  /** nft chains of a table the text does not name (a paste that starts inside a table): left out. */
  | { kind: 'chains-without-table'; count: number };

export interface Ruleset {
  host: string;
  /** Chains by `source|family|table|name`. */
  chains: Map<string, Chain>;
  /** Per layer, family and hook: the entries in the order the kernel runs them. */
  hooks: Map<string, HookEntry[]>;
  sets: Map<string, IpsetSet>;
  ipvs: { services: IpvsServiceRecord[]; dests: IpvsDestRecord[] };
  notes: RulesetNote[];
  /** Which probes the capture had. */
  probes: NetfilterProbe[];
}

export const chainKey = (source: string, family: string, table: string, name: string) => `${source}|${family}|${table}|${name}`;
export const hookKey = (layer: Layer, family: Family, hook: Hook) => `${layer}|${family}|${hook}`;

/** Where the kernel runs the NAT chains of each hook (NF_IP_PRI_NAT_DST / NF_IP_PRI_NAT_SRC). */
export const NAT_PRIORITY: Record<Hook, number> = { prerouting: -100, output: -100, input: 100, postrouting: 100, forward: 0 };

/** The names of iptables' built-in chains (a table's base chains among them). */
const BUILT_IN_CHAINS: ReadonlySet<string> = new Set(['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING']);

/** The iptables tables iptables-nft keeps as nft tables of the same name. */
const XT_TABLES = ['filter', 'nat', 'mangle', 'raw', 'security'];

/** Chains held back until asked for: the iptables chains of a rule set built from text. */
export interface HeldChains {
  /** The chain of `key`, made and compiled now if need be; undefined when there is none. */
  take(key: string): Chain | undefined;
  has(key: string): boolean;
  /** Every chain's key, in order. */
  keys(): string[];
  /** Every chain, made and compiled, in order. */
  all(): Chain[];
  /** How many chains it holds. */
  readonly size: number;
  /** How many chains with rules have not been compiled yet. */
  readonly uncompiled: number;
}

/**
 * The chains by key. The iptables chains of a rule set built from text are held apart (`HeldChains`):
 * a chain is made and its rules compiled the first time it is looked up (`get`), and listing the
 * chains makes them all, so a trace pays only for the chains its packets reach (a kube-proxy rule set
 * has a KUBE-SVC and KUBE-SEP chains per Service and endpoint). Listing keys makes no chain.
 */
export class ChainTable extends Map<string, Chain> {
  private held?: HeldChains;
  /** How many of this map's own entries came from `held`. */
  private taken = 0;

  /** Chains to make when asked for; their keys come before this map's own (iptables before nft). */
  hold(held: HeldChains): void {
    this.held = held;
  }

  /** How many chains have not been compiled yet. */
  get uncompiled(): number {
    return this.held?.uncompiled ?? 0;
  }

  override get size(): number {
    return super.size + (this.held ? this.held.size - this.taken : 0);
  }

  override get(key: string): Chain | undefined {
    const c = super.get(key);
    if (c !== undefined || !this.held) return c;
    const t = this.held.take(key);
    if (t !== undefined) {
      super.set(key, t);
      this.taken++;
    }
    return t;
  }

  override has(key: string): boolean {
    return super.has(key) || (this.held?.has(key) ?? false);
  }

  override keys(): MapIterator<string> {
    if (!this.held) return super.keys();
    const own = [...super.entries()].filter(([, c]) => c.source !== 'iptables').map(([k]) => k);
    return [...this.held.keys(), ...own].values() as unknown as MapIterator<string>;
  }

  /** Makes and compiles every held chain, in order (listing the chains does this first). */
  compileAll(): void {
    const held = this.held;
    if (!held) return;
    this.held = undefined;
    const own = [...super.entries()].filter(([, c]) => c.source !== 'iptables');
    super.clear();
    for (const c of held.all()) super.set(chainKey(c.source, c.family, c.table, c.name), c);
    for (const [k, c] of own) super.set(k, c);
  }

  override values(): MapIterator<Chain> {
    this.compileAll();
    return super.values();
  }

  override entries(): MapIterator<[string, Chain]> {
    this.compileAll();
    return super.entries();
  }

  override [Symbol.iterator](): MapIterator<[string, Chain]> {
    return this.entries();
  }

  override forEach(fn: (value: Chain, key: string, map: Map<string, Chain>) => void, thisArg?: unknown): void {
    this.compileAll();
    super.forEach(fn, thisArg);
  }
}

export interface BuildOptions {
  /**
   * `lazy` (default): iptables and ip6tables text is read as far as its chains and rule lines, and a
   * chain's rules are compiled when a packet first reaches it (base chains at once). `eager`: every
   * rule is parsed into records and compiled up front (what `rulesetFromRecords` does).
   */
  compile?: 'lazy' | 'eager';
}

/** Builds the rule set from raw probe text (any probe may be missing). */
export function buildRuleset(host: string, probes: Partial<Record<NetfilterProbe, string>>, opts: BuildOptions = {}): Ruleset {
  const notes: RulesetNote[] = [];
  const parsed = <R>(probe: NetfilterProbe): R[] => {
    const text = probes[probe];
    if (text === undefined) return [];
    const r = parseProbe(probe, text);
    if (r.issues.length) notes.push({ kind: 'parse-issues', probe, issues: r.issues });
    return r.records as unknown as R[];
  };
  const probeList = NETFILTER_PROBES.filter((p) => probes[p] !== undefined);
  if (opts.compile === 'eager') {
    const ipt4 = parsed<IptablesChainRecord | IptablesRuleRecord>('iptables');
    const ipt6 = parsed<IptablesChainRecord | IptablesRuleRecord>('ip6tables');
    const nft = parsed<NftTableRecord | NftChainRecord | NftRuleRecord | NftSetRecord>('nft');
    const ipset = parsed<IpsetRecord | IpsetMemberRecord>('ipset');
    const ipvs = parsed<IpvsServiceRecord | IpvsDestRecord>('ipvs');
    return rulesetFromRecords(host, { ipt4, ipt6, nft, ipset, ipvs }, notes, probeList);
  }
  // The ip6tables probe is read first: its chains and rules come before the IPv6 part of an iptables
  // paste, as in rulesetFromRecords.
  const nft = parsed<NftTableRecord | NftChainRecord | NftRuleRecord | NftSetRecord>('nft');
  const ipset = parsed<IpsetRecord | IpsetMemberRecord>('ipset');
  const ipvs = parsed<IpvsServiceRecord | IpvsDestRecord>('ipvs');
  const sets = buildIpsets(host, ipset);
  const lazy = new LazyIptables(host, sets);
  const scan6 = lazy.scan('ip6tables', probes.ip6tables);
  const scan4 = lazy.scan('iptables', probes.iptables);
  // Notes in the order rulesetFromRecords gives them: parse issues by probe, then rules without a table.
  const ordered: RulesetNote[] = [];
  for (const s of [scan4, scan6]) if (s?.issues.length) ordered.push({ kind: 'parse-issues', probe: s.probe, issues: s.issues });
  ordered.push(...notes);
  for (const s of [scan4, scan6]) if (s?.unplaced) ordered.push({ kind: 'rules-without-table', probe: s.probe, count: s.unplaced });
  lazy.trim();
  const table = new ChainTable();
  const base = lazy.baseChains();
  table.hold(lazy);
  return assemble(host, table, { base, tables: lazy.tables() }, { nft, ipvs }, sets, ordered, probeList);
}

/** One scanned text: its lines and, by line, the next rule line of the same chain (+1). */
interface Scanned {
  /** Its position in LazyIptables.scans. */
  index: number;
  lines: IptablesLines;
  next: Int32Array;
  /** `[p:b]` counters by line, for the lines that have them. */
  counted?: Map<number, Counters>;
  /** By line, where a rule sits when its chain's first rule sits elsewhere. */
  wheres?: Map<number, IptablesPlace>;
}

/** The chains of one family's table: by chain number in each scanned text, the chain's slot + 1. */
interface Group {
  /** Its position in LazyIptables.groupList. */
  index: number;
  family: 4 | 6;
  table: string;
  t: IptablesChains;
  /** `iptables|ip|nat|`: the keys of its chains start so. */
  prefix: string;
  byName: Map<Scanned, Int32Array>;
}

/**
 * iptables text read as far as its chains and rule lines. A chain is a slot (its group, its name's
 * number, its first and last rule line, its rule count), made a Chain only when it is asked for or is
 * a base chain; its rules are a list through the lines (`Scanned.next`), unsplit until it is compiled.
 */
class LazyIptables implements HeldChains {
  private readonly v4: IptablesChains;
  private readonly v6: IptablesChains;
  private readonly groups = new Map<string, Group>();
  private readonly scans: Scanned[] = [];
  // By slot, in the order chains are first named.
  private n = 0;
  private readonly groupList: Group[] = [];
  private readonly placeList: IptablesPlace[] = [];
  private readonly placeIndex = new Map<IptablesPlace, number>();
  private group = new Int32Array(1024);
  private nameIn = new Int32Array(1024);
  private nameId = new Int32Array(1024);
  private head = new Int32Array(1024);
  private tail = new Int32Array(1024);
  private count = new Int32Array(1024);
  private rulesIn = new Int32Array(1024);
  private where = new Int32Array(1024);
  private made = new Map<number, Chain>();
  /** Slots whose rules came from two texts: each rule's text and line. */
  private mixed?: Map<number, { s: Scanned; j: number }[]>;
  private compiled = new Set<number>();
  private withRules = 0;
  private keyList?: string[];

  constructor(host: string, sets: ReadonlyMap<string, IpsetSet>) {
    const known = (family: 4 | 6) => (table: string, name: string) => this.slotByName(this.groups.get(`${family}|${table}`), name) >= 0;
    this.v4 = new IptablesChains(host, 'iptables', 4, sets, known(4));
    this.v6 = new IptablesChains(host, 'ip6tables', 6, sets, known(6));
  }

  scan(probe: 'iptables' | 'ip6tables', text: string | undefined): { probe: typeof probe; issues: ParseIssue[]; unplaced: number } | undefined {
    if (text === undefined) return undefined;
    let unplaced = 0;
    const six = probe === 'ip6tables';
    let s: Scanned | undefined;
    const scanned = (lines: IptablesLines): Scanned => {
      if (!s) this.scans.push((s = { index: this.scans.length, lines, next: new Int32Array(lines.count) }));
      return s;
    };
    /** Per place object of the scan (one per `*table` block): the group of its family and table. */
    const places = new Map<IptablesPlace, Group>();
    const at = (where: IptablesPlace & { table: string }) => {
      let g = places.get(where);
      if (!g) {
        const family = six || where.family === 6 ? 6 : 4;
        const key = `${family}|${where.table}`;
        g = this.groups.get(key);
        if (!g) {
          const prefix = chainKey('iptables', family === 6 ? 'ip6' : 'ip', where.table, '');
          g = { index: this.groupList.length, family, table: where.table, t: family === 6 ? this.v6 : this.v4, prefix, byName: new Map() };
          this.groups.set(key, g);
          this.groupList.push(g);
        }
        places.set(where, g);
      }
      return g;
    };
    const last = { where: undefined as IptablesPlace | undefined, chain: -1, slot: -1 };
    let r;
    try {
      r = scanIptables(text, {}, {
        chain: (lines, j, chain, policy, _counters, where) => {
          if (where.table === undefined) return;
          const g = at(where as IptablesPlace & { table: string });
          const c = this.made.get(this.slot(g, scanned(lines), chain));
          // Only a built-in chain's declaration says something (its policy, and its line as evidence).
          if (c?.base) g.t.declared(c, policy, lines.nums[j]!, lines.raw(j));
        },
        rule: (lines, j, chain, where, counted) => {
          if (where.table === undefined) return void unplaced++;
          const sc = scanned(lines);
          // Most lines continue the chain of the line before (iptables-save prints a chain's rules together).
          let slot = last.slot;
          if (where !== last.where || chain !== last.chain) {
            slot = this.slot(at(where as IptablesPlace & { table: string }), sc, chain);
            last.where = where;
            last.chain = chain;
            last.slot = slot;
          }
          this.add(slot, sc, j, where, counted);
        },
      });
    } catch (e) {
      // As parseProbe: an unexpected exception is an issue. It can only come before the first line is read.
      const message = e instanceof Error ? e.message : String(e);
      return { probe, issues: [{ line: 1, raw: text.trimStart().split('\n')[0]!.slice(0, 200), message: `internal parser error: ${message}` }], unplaced: 0 };
    }
    return { probe, issues: r.result.issues, unplaced };
  }

  /** Drops the room kept for more chains once every text is read (the slots live as long as the rule set). */
  trim(): void {
    this.nameId = this.nameId.slice(0, this.n);
    this.group = this.group.slice(0, this.n);
    this.nameIn = this.nameIn.slice(0, this.n);
    this.rulesIn = this.rulesIn.slice(0, this.n);
    this.where = this.where.slice(0, this.n);
    this.head = this.head.slice(0, this.n);
    this.tail = this.tail.slice(0, this.n);
    this.count = this.count.slice(0, this.n);
    for (const g of this.groups.values()) for (const [sc, ids] of g.byName) g.byName.set(sc, ids.slice(0, sc.lines.names.count));
  }

  /** The slot of chain number `id` of text `sc` in group `g`, made on first mention. */
  private slot(g: Group, sc: Scanned, id: number): number {
    let ids = g.byName.get(sc);
    if (ids && id < ids.length && ids[id]! > 0) return ids[id]! - 1;
    const name = sc.lines.names;
    // A group that two texts fill (ip6tables, and an iptables paste with IPv6 blocks): by name across them.
    let slot = g.byName.size > (ids ? 1 : 0) ? this.slotByName(g, name.name(id)) : -1;
    if (slot < 0) {
      slot = this.n++;
      if (slot === this.nameId.length) {
        const grow = (a: Int32Array) => {
          const b = new Int32Array(a.length * 2 + 16);
          b.set(a);
          return b;
        };
        this.nameId = grow(this.nameId);
        this.head = grow(this.head);
        this.tail = grow(this.tail);
        this.count = grow(this.count);
        this.group = grow(this.group);
        this.nameIn = grow(this.nameIn);
        this.rulesIn = grow(this.rulesIn);
        this.where = grow(this.where);
      }
      this.group[slot] = g.index;
      this.nameIn[slot] = sc.index;
      this.nameId[slot] = id;
      // A built-in chain is made at once (a base chain when its table hooks it).
      const len = name.length(id);
      if (len >= 5 && len <= 11 && BUILT_IN_CHAINS.has(name.name(id))) this.make(slot);
    }
    if (!ids || id >= ids.length) {
      const bigger = new Int32Array(Math.max(id + 1, name.count, ids ? ids.length * 2 : 0));
      if (ids) bigger.set(ids);
      g.byName.set(sc, (ids = bigger));
    }
    ids[id] = slot + 1;
    return slot;
  }

  /** The slot of chain `name` in group `g`, or -1. */
  private slotByName(g: Group | undefined, name: string): number {
    if (!g) return -1;
    for (const [sc, ids] of g.byName) {
      const id = sc.lines.names.find(name);
      if (id >= 0 && id < ids.length && ids[id]! > 0) return ids[id]! - 1;
    }
    return -1;
  }

  /** Rule line `j` of text `sc` onto the end of chain `slot`. */
  private add(slot: number, sc: Scanned, j: number, where: IptablesPlace, counted: Counters | undefined): void {
    if (counted) (sc.counted ??= new Map()).set(j, counted);
    const k = this.count[slot]!;
    this.count[slot] = k + 1;
    if (k === 0) {
      this.withRules++;
      this.where[slot] = this.place(where);
      this.rulesIn[slot] = sc.index;
      this.head[slot] = j;
      this.tail[slot] = j;
      return;
    }
    if (where !== this.placeList[this.where[slot]!]) (sc.wheres ??= new Map()).set(j, where);
    const list = this.mixed?.get(slot);
    if (!list && this.rulesIn[slot] === sc.index) {
      sc.next[this.tail[slot]!] = j + 1;
      this.tail[slot] = j;
      return;
    }
    if (list) list.push({ s: sc, j });
    else (this.mixed ??= new Map()).set(slot, [...this.lines(slot, k), { s: sc, j }]);
  }

  /** Chain `slot`'s name. */
  private name(slot: number): string {
    return this.scans[this.nameIn[slot]!]!.lines.names.name(this.nameId[slot]!);
  }

  /** The number of a place (few: one per `*table` block, mostly). */
  private place(where: IptablesPlace): number {
    if (where === this.placeList[this.placeList.length - 1]) return this.placeList.length - 1;
    let k = this.placeIndex.get(where);
    if (k === undefined) {
      this.placeIndex.set(where, (k = this.placeList.length));
      this.placeList.push(where);
    }
    return k;
  }

  /** The first `n` rule lines of chain `slot`. */
  private lines(slot: number, n = this.count[slot]!): { s: Scanned; j: number }[] {
    const list = this.mixed?.get(slot);
    if (list) return list.slice(0, n);
    const out: { s: Scanned; j: number }[] = [];
    const s = this.scans[this.rulesIn[slot]!]!;
    for (let k = 0, j = this.head[slot]!; k < n; k++, j = s.next[j]! - 1) out.push({ s, j });
    return out;
  }

  /** The Chain of `slot` (without its rules until compiled). */
  private make(slot: number): Chain {
    let c = this.made.get(slot);
    if (!c) {
      const g = this.groupList[this.group[slot]!]!;
      c = g.t.chain(g.table, this.name(slot));
      this.made.set(slot, c);
    }
    return c;
  }

  /**
   * Compiles chain `slot`. In a chain long enough for an index, a rule of kube-proxy's Service shape
   * gets its index key from its line and is compiled only when a packet reaches it (a trace visits a
   * few of KUBE-SERVICES' 10,000 rules).
   */
  private compile(slot: number): Chain {
    const c = this.make(slot);
    if (this.count[slot] === 0 || this.compiled.has(slot)) return c;
    this.compiled.add(slot);
    const long = this.count[slot]! >= INDEX_MIN_RULES;
    let k = 0;
    for (const { s, j } of this.lines(slot)) {
      const index = ++k;
      const key = long && !s.counted?.get(j) ? serviceRuleKey(s.lines.raw(j)) : null;
      if (key !== null) c.rules.push(new LazyRule(index, key, this, slot, s, j));
      else c.rules.push(this.rule(slot, s, j, index));
    }
    buildIndex(c);
    return c;
  }

  /** Rule line `j` of text `s`, at position `index` of chain `slot`, compiled. */
  rule(slot: number, s: Scanned, j: number, index: number): Rule {
    const rec = iptablesRule(s.lines.line(j), s.wheres?.get(j) ?? this.placeList[this.where[slot]!]!, s.counted?.get(j));
    return this.groupList[this.group[slot]!]!.t.compile(this.make(slot), rec, index);
  }

  /** The slot of a chain key, or -1. */
  private slotOfKey(key: string): number {
    for (const g of this.groups.values()) {
      if (!key.startsWith(g.prefix)) continue;
      const slot = this.slotByName(g, key.slice(g.prefix.length));
      if (slot >= 0) return slot;
    }
    return -1;
  }

  take(key: string): Chain | undefined {
    const slot = this.slotOfKey(key);
    return slot < 0 ? undefined : this.compile(slot);
  }

  has(key: string): boolean {
    return this.slotOfKey(key) >= 0;
  }

  /** The slots in order: IPv4's, then IPv6's, each as first named. */
  private *ordered(): Generator<number> {
    for (const family of [4, 6]) for (let slot = 0; slot < this.n; slot++) if (this.groupList[this.group[slot]!]!.family === family) yield slot;
  }

  keys(): string[] {
    // Made once, when first asked for (every text is read by then).
    if (!this.keyList) {
      this.keyList = [];
      for (const slot of this.ordered()) this.keyList.push(this.groupList[this.group[slot]!]!.prefix + this.name(slot));
    }
    return this.keyList;
  }

  all(): Chain[] {
    return [...this.ordered()].map((slot) => this.compile(slot));
  }

  get size(): number {
    return this.n;
  }

  get uncompiled(): number {
    return this.withRules - this.compiled.size;
  }

  /** The base chains, in order, compiled (made as they were first named). */
  baseChains(): Chain[] {
    const out: Chain[] = [];
    for (const slot of this.ordered()) if (this.made.get(slot)?.base) out.push(this.compile(slot));
    return out;
  }

  /** Which families' tables have chains (`ip nat`). */
  tables(): Set<string> {
    return new Set([...this.groups.values()].filter((g) => g.byName.size > 0).map((g) => `${g.family === 6 ? 'ip6' : 'ip'} ${g.table}`));
  }
}

/** A rule whose index key was read from its line; its operations are compiled when first asked for. */
class LazyRule implements Rule {
  private full?: Rule;

  constructor(
    readonly index: number,
    readonly key: IndexKey | undefined,
    private readonly from: LazyIptables,
    private readonly slot: number,
    private readonly s: Scanned,
    private readonly j: number,
  ) {}

  private get compiled(): Rule {
    return (this.full ??= this.from.rule(this.slot, this.s, this.j, this.index));
  }

  get evidence(): NfEvidence {
    return this.compiled.evidence;
  }

  get ops(): Op[] {
    return this.compiled.ops;
  }
}

/** Builds the rule set from parsed records, every chain compiled at once. */
export function rulesetFromRecords(
  host: string,
  r: {
    ipt4: readonly (IptablesChainRecord | IptablesRuleRecord)[];
    ipt6: readonly (IptablesChainRecord | IptablesRuleRecord)[];
    nft: readonly (NftTableRecord | NftChainRecord | NftRuleRecord | NftSetRecord)[];
    ipset: readonly (IpsetRecord | IpsetMemberRecord)[];
    ipvs: readonly (IpvsServiceRecord | IpvsDestRecord)[];
  },
  notes: RulesetNote[] = [],
  probes: NetfilterProbe[] = [],
): Ruleset {
  const sets = buildIpsets(host, r.ipset);
  const unplaced4 = r.ipt4.filter((x) => x.kind === 'iptables-rule' && x.table === undefined).length;
  const unplaced6 = r.ipt6.filter((x) => x.kind === 'iptables-rule' && x.table === undefined).length;
  if (unplaced4) notes.push({ kind: 'rules-without-table', probe: 'iptables', count: unplaced4 });
  if (unplaced6) notes.push({ kind: 'rules-without-table', probe: 'ip6tables', count: unplaced6 });
  // `iptables-save` of iptables-legacy may carry ip6tables records too when pasted together: split by family.
  const v4 = r.ipt4.filter((x) => x.family !== 6);
  const v6 = [...r.ipt6, ...r.ipt4.filter((x) => x.family === 6)];
  const chains: Chain[] = [...compileIptables(host, 'iptables', 4, v4, sets), ...compileIptables(host, 'ip6tables', 6, v6, sets)];
  const table = new ChainTable();
  for (const c of chains) table.set(chainKey(c.source, c.family, c.table, c.name), c);
  const tables = new Set(chains.map((c) => `${c.family} ${c.table}`));
  return assemble(host, table, { base: chains.filter((c) => c.base), tables }, r, sets, notes, probes);
}

/**
 * The nft chains added to the iptables ones, the hooks' entries, IPVS: the rule set. `ipt`: the
 * iptables base chains in the order they were declared, and the tables that have chains (`ip nat`).
 */
function assemble(
  host: string,
  table: ChainTable,
  ipt: { base: Chain[]; tables: Set<string> },
  r: { nft: readonly (NftTableRecord | NftChainRecord | NftRuleRecord | NftSetRecord)[]; ipvs: readonly (IpvsServiceRecord | IpvsDestRecord)[] },
  sets: Map<string, IpsetSet>,
  notes: RulesetNote[],
  probes: NetfilterProbe[],
): Ruleset {
  const tableless = r.nft.filter((x) => x.kind === 'nft-chain' && x.table === '').length;
  if (tableless) notes.push({ kind: 'chains-without-table', count: tableless });
  const iptTables = ipt.tables;
  const skip = new Set<string>();
  for (const t of r.nft) {
    if (t.kind === 'nft-table' && (t.family === 'ip' || t.family === 'ip6') && XT_TABLES.includes(t.name) && iptTables.has(`${t.family} ${t.name}`)) {
      skip.add(`${t.family} ${t.name}`);
      notes.push({ kind: 'nft-table-from-iptables', family: t.family, table: t.name });
    }
  }
  const nftChains = compileNft(host, r.nft, skip);
  for (const c of nftChains) table.set(chainKey(c.source, c.family, c.table, c.name), c);
  // Only base chains sit at hooks; their position among all chains orders equal priorities.
  const order = new Map<Chain, number>();
  [...ipt.base, ...nftChains].forEach((c, i) => {
    if (c.base) order.set(c, i);
  });
  const chains = [...order.keys()];
  const hooks = new Map<string, HookEntry[]>();
  for (const layer of ['inet', 'bridge'] as const) {
    for (const family of [4, 6] as const) {
      for (const hook of ['prerouting', 'input', 'forward', 'output', 'postrouting'] as const) {
        const base = chains.filter(
          (c) => c.base?.hook === hook && (layer === 'bridge' ? c.family === 'bridge' : c.family !== 'bridge' && tableFamilies(c.family).includes(family)),
        );
        // Equal priorities run in registration order; iptables' tables are taken to be registered first.
        const entries: HookEntry[] = [];
        const nat = base.filter((c) => c.base!.type === 'nat').sort((a, b) => a.base!.priority - b.base!.priority || order.get(a)! - order.get(b)!);
        for (const c of base.filter((c) => c.base!.type !== 'nat')) entries.push({ kind: 'chain', chain: c });
        if (nat.length && layer === 'inet') entries.push({ kind: 'nat', priority: NAT_PRIORITY[hook], chains: nat });
        else for (const c of nat) entries.push({ kind: 'chain', chain: c });
        const prio = (e: HookEntry) => (e.kind === 'nat' ? e.priority : e.chain.base!.priority);
        const first = (e: HookEntry) => order.get(e.kind === 'nat' ? e.chains[0]! : e.chain)!;
        entries.sort((a, b) => prio(a) - prio(b) || first(a) - first(b));
        hooks.set(hookKey(layer, family, hook), entries);
      }
    }
  }
  const services = r.ipvs.filter((x): x is IpvsServiceRecord => x.kind === 'ipvs-service');
  const dests = r.ipvs.filter((x): x is IpvsDestRecord => x.kind === 'ipvs-dest');
  return { host, chains: table, hooks, sets, ipvs: { services, dests }, notes, probes };
}
