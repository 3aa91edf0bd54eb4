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

/** The iptables tables iptables-nft keeps as nft tables of the same name. */
const XT_TABLES = ['filter', 'nat', 'mangle', 'raw', 'security'];

/**
 * The chains by key. A chain built from iptables text may be pending: its rules are split and compiled
 * the first time it is looked up (`get`) or the chains are listed, so a trace pays only for the chains
 * its packets reach (a kube-proxy rule set has a KUBE-SVC and KUBE-SEP chains per Service and endpoint).
 */
export class ChainTable extends Map<string, Chain> {
  /** By chain (an identity lookup: no string hashing for 40,000 keys). */
  private readonly pending = new Map<Chain, { compile(): void }>();

  /** A chain whose rules `job.compile()` adds when it is first needed. */
  defer(key: string, chain: Chain, job: { compile(): void }): void {
    this.set(key, chain);
    this.pending.set(chain, job);
  }

  /** How many chains have not been compiled yet. */
  get uncompiled(): number {
    return this.pending.size;
  }

  override get(key: string): Chain | undefined {
    const c = super.get(key);
    if (c !== undefined && this.pending.size) this.compile(c);
    return c;
  }

  /** Compiles every pending chain (listing the chains does this first). */
  compileAll(): void {
    for (const c of [...this.pending.keys()]) this.compile(c);
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

  private compile(c: Chain): void {
    const job = this.pending.get(c);
    if (!job) return;
    this.pending.delete(c);
    job.compile();
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
  const table = new ChainTable();
  lazy.declare(table);
  return assemble(host, table, [...lazy.v4.chains, ...lazy.v6.chains], { nft, ipvs }, sets, ordered, probeList);
}

/**
 * iptables text read as far as its chains and rule lines: every chain is declared as the text names it,
 * and each keeps its rule lines unsplit until it is compiled.
 */
class LazyIptables {
  readonly v4: IptablesChains;
  readonly v6: IptablesChains;
  /** Each chain's rule lines, by family and table, then chain name. */
  private readonly byTable = new Map<string, Map<string, PendingChain>>();
  private readonly pending = new Map<Chain, PendingChain>();

  constructor(host: string, sets: ReadonlyMap<string, IpsetSet>) {
    this.v4 = new IptablesChains(host, 'iptables', 4, sets);
    this.v6 = new IptablesChains(host, 'ip6tables', 6, sets);
  }

  scan(probe: 'iptables' | 'ip6tables', text: string | undefined): { probe: typeof probe; issues: ParseIssue[]; unplaced: number } | undefined {
    if (text === undefined) return undefined;
    let unplaced = 0;
    const six = probe === 'ip6tables';
    /** Per place object of the scan (one per `*table` block): the chains of its family and table. */
    const places = new Map<IptablesPlace, { t: IptablesChains; family: 4 | 6; chains: Map<string, PendingChain> }>();
    const at = (where: IptablesPlace & { table: string }) => {
      let p = places.get(where);
      if (!p) {
        const family = six || where.family === 6 ? 6 : 4;
        const key = `${family}|${where.table}`;
        let chains = this.byTable.get(key);
        if (!chains) this.byTable.set(key, (chains = new Map()));
        p = { t: family === 6 ? this.v6 : this.v4, family, chains };
        places.set(where, p);
      }
      return p;
    };
    const last: { where?: IptablesPlace; chain?: string; g?: PendingChain } = {};
    let r;
    try {
      r = scanIptables(text, {}, {
        chain: (line, raw, chain, policy, _counters, where) => {
          if (where.table === undefined) return;
          const p = at(where as IptablesPlace & { table: string });
          p.t.declared(p.t.chain(where.table, chain), policy, line, raw);
        },
        rule: (lines, j, chain, where, counted) => {
          if (where.table === undefined) return void unplaced++;
          // Most lines continue the chain of the line before (iptables-save prints a chain's rules together).
          if (where === last.where && chain === last.chain) return last.g!.add(lines, j, where, counted);
          const p = at(where as IptablesPlace & { table: string });
          let g = p.chains.get(chain);
          if (!g) {
            const c = p.t.chain(where.table, chain);
            g = this.pending.get(c);
            if (!g) this.pending.set(c, (g = new PendingChain(c, p.t, lines)));
            p.chains.set(chain, g);
          }
          g.add(lines, j, where, counted);
          last.where = where;
          last.chain = chain;
          last.g = g;
        },
      });
    } catch (e) {
      // As parseProbe: an unexpected exception is an issue. It can only come before the first line is read.
      const message = e instanceof Error ? e.message : String(e);
      return { probe, issues: [{ line: 1, raw: text.trimStart().split('\n')[0]!.slice(0, 200), message: `internal parser error: ${message}` }], unplaced: 0 };
    }
    return { probe, issues: r.result.issues, unplaced };
  }

  /** Hands every chain to `table` in order: base chains and chains without rules compiled, the others deferred. */
  declare(table: ChainTable): void {
    for (const t of [this.v4, this.v6]) {
      for (const c of t.chains) {
        const key = chainKey(c.source, c.family, c.table, c.name);
        const g = this.pending.get(c);
        if (!g || c.base) {
          g?.compile();
          table.set(key, c);
        } else table.defer(key, c, g);
      }
    }
  }
}

/**
 * A chain's rule lines, unsplit until the chain is compiled: positions in the scanned text's lines
 * (iptables-save prints a chain's rules together: one run, `first` to `last`, unless they are spread).
 */
class PendingChain {
  private first = -1;
  private last = -1;
  /** The positions, once they are not one run; or lines from a second text (ip6tables and iptables). */
  private spread?: { lines: IptablesLines; j: number }[];
  private n = 0;
  /** Where the rules sit: one place for all (one `*table` block), else each rule's. */
  private where?: IptablesPlace;
  private wheres?: IptablesPlace[];
  /** `[p:b]` counters by rule, when any line has them. */
  private counts?: Counters[];

  constructor(
    private readonly chain: Chain,
    private readonly t: IptablesChains,
    private readonly lines: IptablesLines,
  ) {}

  add(lines: IptablesLines, j: number, where: IptablesPlace, counted: Counters | undefined): void {
    const k = this.n++;
    if (counted) (this.counts ??= [])[k] = counted;
    if (k === 0) this.where = where;
    else if (this.wheres || where !== this.where) (this.wheres ??= new Array<IptablesPlace>(k).fill(this.where!)).push(where);
    if (!this.spread && lines === this.lines && (this.first < 0 || j === this.last + 1)) {
      if (this.first < 0) this.first = j;
      this.last = j;
      return;
    }
    if (!this.spread) {
      this.spread = [];
      if (this.first >= 0) for (let i = this.first; i <= this.last; i++) this.spread.push({ lines: this.lines, j: i });
    }
    this.spread.push({ lines, j });
  }

  /**
   * Compiles the chain. In a chain long enough for an index, a rule of kube-proxy's Service shape gets
   * its index key from its line and is compiled only when a packet reaches it (a trace visits a few of
   * KUBE-SERVICES' 10,000 rules).
   */
  compile(): void {
    const c = this.chain;
    const long = this.n >= INDEX_MIN_RULES;
    for (let k = 0; k < this.n; k++) {
      const at = this.spread ? this.spread[k]! : { lines: this.lines, j: this.first + k };
      const key = long && !this.counts?.[k] ? serviceRuleKey(at.lines.raw(at.j)) : null;
      if (key !== null) c.rules.push(new LazyRule(k + 1, key, this, k));
      else c.rules.push(this.t.compile(c, this.record(k), k + 1));
    }
    buildIndex(c);
  }

  /** Rule `k`'s record, as parseIptables makes it. */
  record(k: number): IptablesRuleRecord {
    const at = this.spread ? this.spread[k]! : { lines: this.lines, j: this.first + k };
    return iptablesRule(at.lines.line(at.j), this.wheres ? this.wheres[k]! : this.where!, this.counts?.[k]);
  }

  /** Rule `k`, compiled. */
  rule(k: number): Rule {
    return this.t.compile(this.chain, this.record(k), k + 1);
  }
}

/** A rule whose index key was read from its line; its operations are compiled when first asked for. */
class LazyRule implements Rule {
  private full?: Rule;

  constructor(
    readonly index: number,
    readonly key: IndexKey | undefined,
    private readonly from: PendingChain,
    private readonly k: number,
  ) {}

  private get compiled(): Rule {
    return (this.full ??= this.from.rule(this.k));
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
  return assemble(host, table, chains, r, sets, notes, probes);
}

/** The nft chains added to the iptables ones, the hooks' entries, IPVS: the rule set. */
function assemble(
  host: string,
  table: ChainTable,
  iptChains: Chain[],
  r: { nft: readonly (NftTableRecord | NftChainRecord | NftRuleRecord | NftSetRecord)[]; ipvs: readonly (IpvsServiceRecord | IpvsDestRecord)[] },
  sets: Map<string, IpsetSet>,
  notes: RulesetNote[],
  probes: NetfilterProbe[],
): Ruleset {
  const tableless = r.nft.filter((x) => x.kind === 'nft-chain' && x.table === '').length;
  if (tableless) notes.push({ kind: 'chains-without-table', count: tableless });
  const iptTables = new Set<string>();
  let last: Chain | undefined;
  for (const c of iptChains) {
    if (last?.table !== c.table || last.family !== c.family) iptTables.add(`${c.family} ${c.table}`);
    last = c;
  }
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
  [...iptChains, ...nftChains].forEach((c, i) => {
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
