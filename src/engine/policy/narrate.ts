// One sentence per direction, made from the typed result in one place (views never parse it):
// "denied, because shop/default-deny isolates shop/db-0 for ingress and no rule of shop/default-deny
// or shop/allow-web allows web/frontend-1 on TCP 5432"; "allowed by shop/allow-web, ingress rule 0,
// peer 1, port `postgres` (5432 on db-0)".
import { endName, type Flow, type PortEntry } from './flow';
import type { PolicyIndex } from './policyIndex';
import type { AllowedBy, Direction, DirectionResult, TierRuleRef } from './types';

function list(xs: string[], word: 'and' | 'or'): string {
  return xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} ${word} ${xs[xs.length - 1]}`;
}

function flowText(flow: Flow): string {
  return flow.port !== undefined ? `${flow.proto} ${flow.port}` : flow.proto === 'ICMP' ? 'ICMP' : `${flow.proto} (no port given)`;
}

function portText(e: PortEntry | undefined, index: number | undefined, flow: Flow): string {
  if (index === undefined || !e) return 'any port';
  if (e.name !== undefined) return `port \`${e.name}\` (${flow.port} on ${flow.dst.pod?.name ?? endName(flow.dst)})`;
  if (e.port === undefined) return `port ${index} (every ${e.proto} port)`;
  return `port ${index} (${e.proto} ${e.endPort !== undefined ? `${e.port}-${e.endPort}` : e.port})`;
}

function npAllowText(idx: PolicyIndex, dir: Direction, a: AllowedBy, flow: Flow): string {
  const np = idx.byKey.get(a.policy);
  const entry = a.port !== undefined ? np?.[dir]?.[a.rule]?.ports?.find((p) => p.index === a.port) : undefined;
  return `${a.policy}, ${dir} rule ${a.rule}, ${a.peer !== undefined ? `peer ${a.peer}` : 'any peer'}, ${portText(entry, a.port, flow)}`;
}

function tierRuleText(idx: PolicyIndex, dir: Direction, m: TierRuleRef, flow: Flow): string {
  const pols = m.tier === 'admin' ? idx.admin : idx.baseline;
  const rule = pols.find((p) => p.name === m.policy)?.[dir][m.rule];
  const entry = m.port !== undefined ? rule?.ports?.find((p) => p.index === m.port) : undefined;
  const prio = m.priority !== undefined ? ` (priority ${m.priority})` : '';
  return `${m.kind} ${m.policy}${prio}, ${dir} rule ${m.rule}${m.ruleName ? ` "${m.ruleName}"` : ''}, peer ${m.peer}, ${portText(entry, m.port, flow)}`;
}

export function directionSentence(idx: PolicyIndex, dir: Direction, flow: Flow, r: DirectionResult): string {
  const self = dir === 'egress' ? flow.src : flow.dst;
  const other = dir === 'egress' ? flow.dst : flow.src;
  const what = `${dir === 'egress' ? `to ${endName(other)}` : `from ${endName(other)}`} on ${flowText(flow)}`;
  if (r.subject === 'not-a-pod') return `allowed: ${endName(self)} is no pod's address, so no policy applies to its ${dir}`;
  if (r.subject === 'host-network-pod') return `allowed: ${endName(self)} uses its node's network (hostNetwork), and policy does not apply to host-network pods (implementation-specific)`;
  const passed = r.passedBy?.length ? `${r.passedBy.map((m) => tierRuleText(idx, dir, m, flow)).join('; ')} passes it on to NetworkPolicy; ` : '';
  if (r.tier === 'admin' || r.tier === 'baseline') {
    const m = r.decidedBy!;
    const why = r.tier === 'baseline' ? ` (no NetworkPolicy isolates ${endName(self)} for ${dir})` : ' (before any NetworkPolicy)';
    return `${passed}${m.action === 'Allow' ? 'allowed' : 'denied'} by ${tierRuleText(idx, dir, m, flow)}: ${m.action}${why}`;
  }
  if (r.tier === 'default') {
    const base = r.baselinePolicies.length ? `; no rule of BaselineAdminNetworkPolicy ${list(r.baselinePolicies, 'or')} matches` : '';
    return `${passed}allowed: no NetworkPolicy selects ${endName(self)} for ${dir}, so it is not isolated${base}`;
  }
  if (r.verdict === 'allowed') return `${passed}allowed by ${r.allowedBy.map((a) => npAllowText(idx, dir, a, flow)).join('; and by ')}`;
  const isolating = r.policies.length === 1 ? 'isolates' : 'isolate';
  return `${passed}denied, because ${list(r.policies, 'and')} ${isolating} ${endName(self)} for ${dir} and no rule of ${list(r.policies, 'or')} allows ${dir === 'egress' ? `${endName(self)} ${what}` : `${endName(other)} on ${flowText(flow)}`}`;
}
