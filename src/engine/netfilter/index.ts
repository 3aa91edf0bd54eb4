// The netfilter layer: a host's rule set built once from its probes, runHook at each hook of the packet
// walk, ipvsLookup for kube-proxy's IPVS mode, describe() for sentences. Pure: no I/O.
export { buildRuleset, rulesetFromRecords, NETFILTER_PROBES, type NetfilterProbe, type Ruleset, type RulesetNote, type HookEntry } from './ruleset';
export { runHook } from './run';
export { ipvsLookup, type IpvsMatch, type IpvsRealServer } from './ipvs';
export { describeStep, describeOutcome, describeUnevaluated } from './narrate';
export * from './types';
