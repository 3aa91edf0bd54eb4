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
import { compileIptables } from './compileIptables';
import { compileNft } from './compileNft';
import { buildIpsets, type IpsetSet } from './ipsets';
import { tableFamilies, type Chain } from './ir';
import type { Hook, Layer } from './types';

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

/** Builds the rule set from raw probe text (any probe may be missing). */
export function buildRuleset(host: string, probes: Partial<Record<NetfilterProbe, string>>): Ruleset {
  const notes: RulesetNote[] = [];
  const parsed = <R>(probe: NetfilterProbe): R[] => {
    const text = probes[probe];
    if (text === undefined) return [];
    const r = parseProbe(probe, text);
    if (r.issues.length) notes.push({ kind: 'parse-issues', probe, issues: r.issues });
    return r.records as unknown as R[];
  };
  const ipt4 = parsed<IptablesChainRecord | IptablesRuleRecord>('iptables');
  const ipt6 = parsed<IptablesChainRecord | IptablesRuleRecord>('ip6tables');
  const nft = parsed<NftTableRecord | NftChainRecord | NftRuleRecord | NftSetRecord>('nft');
  const ipset = parsed<IpsetRecord | IpsetMemberRecord>('ipset');
  const ipvs = parsed<IpvsServiceRecord | IpvsDestRecord>('ipvs');
  return rulesetFromRecords(host, { ipt4, ipt6, nft, ipset, ipvs }, notes, NETFILTER_PROBES.filter((p) => probes[p] !== undefined));
}

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
  const tableless = r.nft.filter((x) => x.kind === 'nft-chain' && x.table === '').length;
  if (tableless) notes.push({ kind: 'chains-without-table', count: tableless });
  // `iptables-save` of iptables-legacy may carry ip6tables records too when pasted together: split by family.
  const v4 = r.ipt4.filter((x) => x.family !== 6);
  const v6 = [...r.ipt6, ...r.ipt4.filter((x) => x.family === 6)];
  const chains: Chain[] = [...compileIptables(host, 'iptables', 4, v4, sets), ...compileIptables(host, 'ip6tables', 6, v6, sets)];
  const iptTables = new Set(chains.map((c) => `${c.family} ${c.table}`));
  const skip = new Set<string>();
  for (const t of r.nft) {
    if (t.kind === 'nft-table' && (t.family === 'ip' || t.family === 'ip6') && XT_TABLES.includes(t.name) && iptTables.has(`${t.family} ${t.name}`)) {
      skip.add(`${t.family} ${t.name}`);
      notes.push({ kind: 'nft-table-from-iptables', family: t.family, table: t.name });
    }
  }
  chains.push(...compileNft(host, r.nft, skip));
  const byKey = new Map<string, Chain>();
  for (const c of chains) byKey.set(chainKey(c.source, c.family, c.table, c.name), c);
  const hooks = new Map<string, HookEntry[]>();
  for (const layer of ['inet', 'bridge'] as const) {
    for (const family of [4, 6] as const) {
      for (const hook of ['prerouting', 'input', 'forward', 'output', 'postrouting'] as const) {
        const base = chains.filter(
          (c) => c.base?.hook === hook && (layer === 'bridge' ? c.family === 'bridge' : c.family !== 'bridge' && tableFamilies(c.family).includes(family)),
        );
        // Equal priorities run in registration order; iptables' tables are taken to be registered first.
        const order = (c: Chain) => chains.indexOf(c);
        const entries: HookEntry[] = [];
        const nat = base.filter((c) => c.base!.type === 'nat').sort((a, b) => a.base!.priority - b.base!.priority || order(a) - order(b));
        for (const c of base.filter((c) => c.base!.type !== 'nat')) entries.push({ kind: 'chain', chain: c });
        if (nat.length && layer === 'inet') entries.push({ kind: 'nat', priority: NAT_PRIORITY[hook], chains: nat });
        else for (const c of nat) entries.push({ kind: 'chain', chain: c });
        const prio = (e: HookEntry) => (e.kind === 'nat' ? e.priority : e.chain.base!.priority);
        const first = (e: HookEntry) => (e.kind === 'nat' ? order(e.chains[0]!) : order(e.chain));
        entries.sort((a, b) => prio(a) - prio(b) || first(a) - first(b));
        hooks.set(hookKey(layer, family, hook), entries);
      }
    }
  }
  const services = r.ipvs.filter((x): x is IpvsServiceRecord => x.kind === 'ipvs-service');
  const dests = r.ipvs.filter((x): x is IpvsDestRecord => x.kind === 'ipvs-dest');
  return { host, chains: byKey, hooks, sets, ipvs: { services, dests }, notes, probes };
}
