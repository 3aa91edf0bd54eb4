// NetworkPolicy in the packet walk. Where the capture's `kubernetes` section holds policies, each path
// gets a policy step where the API decides: egress at the source pod's node (where a CNI such as
// Calico or Cilium checks what leaves the pod's interface) and ingress at the destination pod's node,
// after any Service DNAT (the endpoint pod is what policy sees). What the step does depends on who
// carries policy out (policyEnforcement.ts):
//   - an enforcer runs and its own rules are not in the capture: a denied flow stops there,
//     `policy-denied`, from the API objects;
//   - its own rules are in the capture (Calico's cali-* chains ...): the kernel's rules decided during
//     the walk; the step shows the API's intent beside them;
//   - nothing enforces (plain flannel): the packet goes on and the step says a policy would deny it;
//   - the capture shows no CNI either way: enforcement is assumed (most CNIs enforce, and policies are
//     written to be enforced), and the step says it was assumed.
// ICMP has no place in NetworkPolicy's ports: only a rule without ports allows it (policy/flow.ts).
import { kubernetesOf, type Host } from '../capture/document';
import { sourceOf, type KubeSection } from '../capture/kubernetes';
import { evaluatePolicy, hasPolicies, policyIndexOf, type DirectionResult, type PolicyResult } from './policy';
import { displayName, policyEnforcement, type PolicyEnforcement } from './policyEnforcement';
import type { Network } from './network';
import { apiEvidence } from './services';
import type { ServiceFinding } from './serviceFindings';
import type { Diagnosis, Evidence, Flow, PolicyStepDetail, TracePath } from './trace';
import { step } from './walk/stage';

/**
 * Where the CNI's own rules decided and the API says otherwise: the rules let through what the API
 * denies, or drop what it allows (Calico's Felix, say, has not caught up with the API, or programmed it wrong).
 */
function disagreement(dir: 'egress' | 'ingress', d: PolicyStepDetail, p: TracePath, node: string, rules: Evidence, apiEvidence: Evidence[]): ServiceFinding | undefined {
  const stoppedHere = p.dropAt?.host === node && (p.verdict === 'filtered' || p.verdict === 'rejected');
  const passed = !stoppedHere && p.hops.some((h) => h.host === node) && (dir === 'egress' ? p.hops.at(-1)!.host !== node || p.verdict === 'delivered' : p.verdict === 'delivered');
  if (d.verdict === 'denied' && !passed) return undefined;
  if (d.verdict === 'allowed' && !stoppedHere) return undefined;
  const owner = d.enforcers.join(', ') || 'the CNI';
  // The rule that stopped it: the last netfilter step with a line (the verdict step itself has none).
  const drop = stoppedHere ? [...p.hops.at(-1)!.steps].reverse().find((x) => x.kind === 'netfilter' && x.records.length > 0) : undefined;
  const expected = `${d.direction} of ${d.subject} ${d.verdict === 'denied' ? 'denied' : 'allowed'} for ${d.peer}: ${d.explanation}`;
  const actual = d.verdict === 'denied' ? `${node}'s rules let the packet through` : `${node}'s rules ${p.verdict === 'rejected' ? 'reject' : 'drop'} it${drop?.records[0] ? ` (${drop.records[0].raw.trim()})` : ''}`;
  return {
    kind: 'policy-disagreement',
    host: node,
    probe: rules.probe,
    evidence: [rules, ...(drop?.records ?? [])],
    api: { says: d.explanation, evidence: apiEvidence },
    text: `The NetworkPolicies in the API and ${node}'s policy rules disagree about this flow: the API says ${d.verdict === 'denied' ? 'deny' : 'allow'}, the rules ${d.verdict === 'denied' ? 'allow' : 'deny'} it.`,
    expected,
    actual,
    owner,
    fix: `Check ${owner}'s agent on ${node}: whether it has synced the policies (its logs, its status), and compare its rules with the policies that select ${d.subject}.`,
  };
}

function podRef(h: Host | undefined): string | undefined {
  return h && h.role === 'pod' && !h.hostNetwork && h.namespace !== undefined && h.pod !== undefined ? `${h.namespace}/${h.pod}` : undefined;
}

/** The API objects a direction's answer rests on: the policies that select the pod, allow or deny it. */
function policyEvidence(kube: KubeSection, d: DirectionResult): Evidence[] {
  const out: Evidence[] = [];
  const named = new Set([...d.policies, ...d.allowedBy.map((a) => a.policy)]);
  // Each object's own JSON path in the capture (an object left out as invalid shifts no index).
  kube.networkPolicies.forEach((np, i) => {
    if (named.has(`${np.metadata.namespace}/${np.metadata.name}`)) out.push(apiEvidence(sourceOf(np) ?? `networkPolicies[${i}]`, { kind: 'NetworkPolicy', metadata: { namespace: np.metadata.namespace, name: np.metadata.name }, spec: np.spec }));
  });
  const admin = new Set([...(d.deniedBy ?? []), ...(d.decidedBy ? [d.decidedBy] : [])].map((r) => `${r.tier}|${r.policy}`));
  for (const [tier, list, path] of [['admin', kube.adminNetworkPolicies, 'adminNetworkPolicies'], ['baseline', kube.baselineAdminNetworkPolicies, 'baselineAdminNetworkPolicies']] as const) {
    list.forEach((p, i) => {
      if (admin.has(`${tier}|${p.metadata.name}`)) out.push(apiEvidence(sourceOf(p) ?? `${path}[${i}]`, { kind: p.kind, metadata: { name: p.metadata.name }, spec: p.spec }));
    });
  }
  return out;
}

function detailOf(dir: 'egress' | 'ingress', r: PolicyResult, d: DirectionResult, e: PolicyEnforcement, rulesDecide: boolean): PolicyStepDetail {
  const subject = dir === 'egress' ? (r.flow.from.pod ?? r.flow.from.given) : (r.flow.to.pod ?? r.flow.to.given);
  const peer = dir === 'egress' ? (r.flow.to.pod ?? r.flow.to.ip ?? r.flow.to.given) : (r.flow.from.pod ?? r.flow.from.ip ?? r.flow.from.given);
  // A capture that shows no CNI either way: policies exist to be enforced, and most CNIs do; the step says it is assumed.
  const effect: PolicyStepDetail['effect'] = rulesDecide ? 'rules-decide' : d.verdict === 'allowed' ? 'allow' : e.enforced === 'no' ? 'not-enforced' : 'drop';
  return {
    type: 'policy',
    direction: dir,
    subject,
    peer,
    verdict: d.verdict,
    tier: d.tier,
    policies: d.policies,
    allowedBy: d.allowedBy.map((a) => ({ policy: a.policy, rule: a.rule, ...(a.peer !== undefined ? { peer: a.peer } : {}), ...(a.port !== undefined ? { port: a.port } : {}), ...(a.portName !== undefined ? { portName: a.portName } : {}), ...(a.tier !== undefined ? { tier: a.tier } : {}) })),
    ...(d.deniedBy?.length ? { deniedBy: d.deniedBy.map((x) => ({ policy: x.policy, rule: x.rule, ...(x.ruleName !== undefined ? { ruleName: x.ruleName } : {}), ...(x.priority !== undefined ? { priority: x.priority } : {}), tier: x.tier })) } : {}),
    explanation: d.explanation,
    enforced: e.enforced,
    enforcers: e.enforcers.map(displayName),
    nonEnforcing: e.nonEnforcing.map(displayName),
    effect,
  };
}

/** Whether a direction is worth a step: something selects the pod for it (a policy isolates it, or an admin/baseline rule decided). */
const governed = (d: DirectionResult) => d.subject === 'pod' && (d.isolated || d.tier !== 'default');

/**
 * Adds the policy steps to each path of a trace and stops the paths an enforced policy denies
 * (`policy-denied`). `from` is the traced source host.
 */
export function applyPolicy(net: Network, flow: Flow, from: Host, paths: TracePath[]): { findings: ServiceFinding[]; diagnosis: Map<TracePath, Diagnosis> } {
  const findings: ServiceFinding[] = [];
  const diagnosis = new Map<TracePath, Diagnosis>();
  const kube = kubernetesOf(net.capture);
  if (!hasPolicies(kube)) return { findings, diagnosis };
  const enforcement = policyEnforcement(net.capture, net.hosts);
  const proto = flow.proto === 'tcp' ? 'TCP' : flow.proto === 'udp' ? 'UDP' : flow.proto === 'sctp' ? 'SCTP' : 'ICMP';
  const srcRef = podRef(from) ?? flow.src;
  const cache = new Map<string, PolicyResult | undefined>();
  const evaluate = (to: string, port: number | undefined) => {
    const key = `${to}|${port ?? ''}`;
    if (!cache.has(key)) {
      const o = evaluatePolicy(kube, { from: srcRef, to, proto, ...(port !== undefined ? { port } : {}) });
      cache.set(key, o.ok ? o.result : undefined);
    }
    return cache.get(key);
  };
  // The node each pod of the capture runs on (the API's nodeName where the capture has no host for it).
  const podNodes = new Map<string, string | undefined>();
  for (const h of net.capture.hosts) {
    const ref = podRef(h);
    if (ref !== undefined) podNodes.set(ref, h.node);
  }
  const nodeOf = (ref: string) => podNodes.get(ref) ?? policyIndexOf(kube).cluster.byKey.get(ref)?.nodeName;
  for (const p of paths) {
    if (p.floodCopy || p.ending === 'discarded' || p.hops.length === 0) continue;
    const lastHost = net.hosts.get(p.hops.at(-1)!.host)?.host;
    const dstPod = p.verdict === 'delivered' ? podRef(lastHost) : undefined;
    const r = evaluate(dstPod ?? p.endpoint?.ip ?? flow.dst, p.endpoint?.port ?? flow.dport);
    if (!r) continue;
    const records = (d: DirectionResult) => policyEvidence(kube, d);
    // Egress: at the source pod's node, as the packet comes in from the pod (a path that never got
    // there, stopped in the pod itself, is not policy's).
    const at = from.role === 'pod' ? p.hops.findIndex((h) => h.host === from.node) : -1;
    if (governed(r.egress) && at >= 0) {
      const rules = from.node !== undefined ? enforcement.policyRules.get(from.node) : undefined;
      const d = detailOf('egress', r, r.egress, enforcement, rules !== undefined);
      const s = step('policy', d, records(r.egress), d.effect === 'drop' ? { inferred: true } : {});
      const f = rules && from.node !== undefined ? disagreement('egress', d, p, from.node, rules, records(r.egress)) : undefined;
      if (f) findings.push(f);
      const hop = p.hops[at]!;
      if (d.effect === 'drop') {
        p.hops = [...p.hops.slice(0, at), { ...hop, out: null, steps: [s] }];
        deny(p, hop.host, hop.in, s.text);
        diagnosis.set(p, denialDiagnosis(d, s.records, flow, p.endpoint?.port ?? flow.dport));
        continue;
      }
      p.hops[at] = { ...hop, steps: [s, ...hop.steps] };
    }
    // Ingress: at the destination pod's node, before the packet goes into the pod. A path stopped on
    // that node by the CNI's own rules gets the API's view beside them; one stopped anywhere else never
    // reached policy.
    const dstRef = r.flow.to.pod;
    if (dstRef !== undefined && governed(r.ingress)) {
      const node = nodeOf(dstRef);
      const delivered = p.verdict === 'delivered';
      let i = -1;
      for (let k = p.hops.length - (delivered ? 2 : 1); k >= 0; k--) {
        if (p.hops[k]!.host === node) {
          i = k;
          break;
        }
      }
      if (i < 0 || node === undefined) continue;
      const rules = enforcement.policyRules.get(node);
      const d = detailOf('ingress', r, r.ingress, enforcement, rules !== undefined);
      if (!delivered && d.effect !== 'rules-decide') continue;
      const s = step('policy', d, records(r.ingress), d.effect === 'drop' ? { inferred: true } : {});
      const f = rules ? disagreement('ingress', d, p, node, rules, records(r.ingress)) : undefined;
      if (f) findings.push(f);
      const hop = p.hops[i]!;
      if (d.effect === 'drop') {
        p.hops = [...p.hops.slice(0, i), { ...hop, out: null, steps: [...hop.steps, s] }];
        deny(p, hop.host, hop.out, s.text);
        diagnosis.set(p, denialDiagnosis(d, s.records, flow, p.endpoint?.port ?? flow.dport));
        continue;
      }
      // Beside the rules' own verdict on a path they stopped: just before it.
      p.hops[i] = { ...hop, steps: delivered || i !== p.hops.length - 1 ? [...hop.steps, s] : [...hop.steps.slice(0, -1), s, hop.steps.at(-1)!] };
    }
  }
  // One finding per host and direction is enough to say it (a Service's endpoints repeat it).
  const seen = new Set<string>();
  const unique = findings.filter((f) => {
    const k = `${f.host}|${f.expected}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return { findings: unique, diagnosis };
}

function deny(p: TracePath, host: string, dev: string | null, reason: string): void {
  p.verdict = 'policy-denied';
  p.dropAt = { host, dev };
  p.reason = reason;
  p.ending = 'dropped';
}

/** The cause of a policy-denied path, where it lives (the policy objects) and what would change it. */
function denialDiagnosis(d: PolicyStepDetail, evidence: Evidence[], flow: Flow, port: number | undefined): Diagnosis {
  const what = `${flow.proto.toUpperCase()}${port !== undefined ? ` ${port}` : ''}`;
  const admin = d.deniedBy?.[0];
  const first = evidence[0];
  if (admin) {
    return {
      kind: 'policy-denied',
      host: 'kubernetes',
      probe: first?.probe ?? 'adminNetworkPolicies',
      text: d.explanation,
      expected: `${d.direction} of ${d.subject} from/to ${d.peer} on ${what} allowed`,
      actual: `${admin.tier === 'admin' ? 'AdminNetworkPolicy' : 'BaselineAdminNetworkPolicy'} ${admin.policy} denies it (rule ${admin.ruleName ?? admin.rule}${admin.priority !== undefined ? `, priority ${admin.priority}` : ''})`,
      owner: `${admin.tier === 'admin' ? 'AdminNetworkPolicy' : 'BaselineAdminNetworkPolicy'} ${admin.policy}`,
      fix: `If ${d.subject} should get this traffic, change that rule or put an Allow rule before it (a lower priority number); NetworkPolicy cannot override an admin Deny.`,
    };
  }
  const policies = d.policies.length ? d.policies.join(', ') : 'the policies that select it';
  return {
    kind: 'policy-denied',
    host: 'kubernetes',
    probe: first?.probe ?? 'networkPolicies',
    text: d.explanation,
    expected: `a rule of a NetworkPolicy selecting ${d.subject} for ${d.direction} allows ${d.peer} on ${what}`,
    actual: `${policies} ${d.policies.length > 1 ? 'isolate' : 'isolates'} ${d.subject} for ${d.direction}, and none of ${d.policies.length > 1 ? 'their' : 'its'} rules allows ${d.peer} on ${what}`,
    owner: `NetworkPolicy ${d.policies[0] ?? ''}`.trim(),
    fix: `If this flow should pass, add an ${d.direction} rule allowing ${d.peer} on ${what} to ${d.policies[0] ?? 'a policy that selects it'} (or a new NetworkPolicy selecting ${d.subject}); check the peer's labels and its namespace's labels against the rules' selectors.`,
  };
}

