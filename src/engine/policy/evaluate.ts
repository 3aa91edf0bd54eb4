// One flow's policy verdict. Each direction is decided where the API decides it — egress at the
// source pod, ingress at the destination pod — and the flow is allowed only when both allow it.
// Per direction, in order: the admin tier (AdminNetworkPolicies whose subject is the pod, lowest
// priority number first; in each, the first rule that matches decides: Allow, Deny, or Pass to
// NetworkPolicy); then NetworkPolicy (a pod some policy selects for the direction is isolated, and
// only a rule of one of those policies can allow it); then, for a pod NetworkPolicy does not
// isolate, the baseline (the first matching rule's Allow or Deny); otherwise allowed.
// What the API leaves to implementations (a pod's traffic to itself, traffic from a node, host-network
// pods, a flow without a port) is evaluated as the API reads and said in `notes`, never guessed.
import type { KubeSection } from '../../capture/kubernetes';
import type { Cluster, PodEntry } from './cluster';
import { resolveEnd } from './endpoints';
import { endName, newObservations, type Flow, type FlowEnd, type Observations } from './flow';
import { allowingRules } from './networkPolicy';
import { directionSentence } from './narrate';
import { policyIndexOf, type PolicyIndex } from './policyIndex';
import { firstMatch, type TieredPolicy } from './tiered';
import type { AllowedBy, Direction, DirectionResult, EndpointSummary, PolicyNote, PolicyOutcome, PolicyRequest, TierRuleRef } from './types';

export function evaluatePolicy(k: KubeSection, req: PolicyRequest): PolicyOutcome {
  return evaluateWith(policyIndexOf(k), req);
}

export function evaluateWith(idx: PolicyIndex, req: PolicyRequest): PolicyOutcome {
  const c = idx.cluster;
  const from = resolveEnd(c, req.from, '--from');
  if (!from.ok) return { ok: false, kind: 'unknown-endpoint', error: from.error, suggestions: from.suggestions };
  const to = resolveEnd(c, req.to, '--to');
  if (!to.ok) return { ok: false, kind: 'unknown-endpoint', error: to.error, suggestions: to.suggestions };
  const proto = req.proto ?? 'TCP';
  const notes: PolicyNote[] = [];
  const { src, dst } = withAddresses(from.end, to.end, notes);

  let port: number | undefined;
  let portName: string | undefined;
  if (typeof req.port === 'string') {
    const pod = dst.pod;
    if (!pod) return { ok: false, kind: 'bad-port', error: `--port "${req.port}" is a port name, and only a pod's ports have names; ${req.to} is no pod's address` };
    const named = pod.ports.filter((p) => p.name === req.port && p.proto === proto);
    if (!named.length) {
      const have = pod.ports.map((p) => `${p.name} (${p.proto} ${p.port})`);
      return { ok: false, kind: 'bad-port', error: `${pod.key} has no ${proto} container port named "${req.port}"${have.length ? `; its named ports: ${have.join(', ')}` : '; it names no container port'}` };
    }
    port = named[0]!.port;
    portName = req.port;
  } else if (req.port !== undefined) port = req.port;

  const flow: Flow = { src, dst, proto, ...(port !== undefined ? { port } : {}) };
  const seen = newObservations();
  const egress = decide(idx, 'egress', flow, seen, notes);
  const ingress = decide(idx, 'ingress', flow, seen, notes);
  addNotes(idx, flow, seen, notes);
  return {
    ok: true,
    result: {
      verdict: egress.verdict === 'allowed' && ingress.verdict === 'allowed' ? 'allowed' : 'denied',
      flow: { from: summary(src), to: summary(dst), proto, ...(port !== undefined ? { port } : {}), ...(portName !== undefined ? { portName } : {}) },
      egress,
      ingress,
      notes,
      warnings: idx.warnings,
    },
  };
}

/**
 * The addresses the flow uses. A pod given by name uses its address of the other end's family (an
 * address given on the other side decides the family; two pods: the source's first address).
 */
function withAddresses(src: FlowEnd, dst: FlowEnd, notes: PolicyNote[]): { src: FlowEnd; dst: FlowEnd } {
  const family = src.ip?.family ?? dst.ip?.family ?? src.pod?.ips[0]?.family ?? dst.pod?.ips[0]?.family;
  const fill = (e: FlowEnd): FlowEnd => {
    if (e.ip || !e.pod) return e;
    const ip = e.pod.ips.find((a) => a.family === family);
    if (ip) return { ...e, ip };
    if (e.pod.ips.length === 0) notes.push({ kind: 'no-ip', text: `${e.pod.key} has no IP address (not yet scheduled or started?): ipBlock and network peers cannot match it; evaluated by its labels` });
    else notes.push({ kind: 'family', text: `${e.pod.key} has no IPv${family} address (it has ${e.pod.ips.map((a) => a.toString()).join(', ')}): ipBlock and network peers cannot match it in this flow` });
    return e;
  };
  return { src: fill(src), dst: fill(dst) };
}

function summary(e: FlowEnd): EndpointSummary {
  return {
    given: e.given,
    kind: e.pod ? 'pod' : 'ip',
    ...(e.pod ? { pod: e.pod.key } : {}),
    ...(e.ip ? { ip: e.ip.toString() } : {}),
    ...(e.node ? { node: e.node.name } : {}),
  };
}

function decide(idx: PolicyIndex, dir: Direction, flow: Flow, seen: Observations, notes: PolicyNote[]): DirectionResult {
  const end = dir === 'egress' ? flow.src : flow.dst;
  const pod = end.pod;
  if (!pod || pod.hostNetwork) {
    const r: DirectionResult = { verdict: 'allowed', isolated: false, policies: [], allowedBy: [], tier: 'default', subject: pod ? 'host-network-pod' : 'not-a-pod', adminPolicies: [], baselinePolicies: [], explanation: '' };
    r.explanation = directionSentence(idx, dir, flow, r);
    return r;
  }
  const nps = idx.selecting(pod, dir);
  const isolated = nps.length > 0;
  const npAllowed = isolated ? allowingRules(nps, dir, flow, idx.cluster, seen) : [];
  const tiers = idx.tieredFor(pod);
  const base: DirectionResult = {
    verdict: 'allowed',
    isolated,
    policies: nps.map((p) => p.key),
    allowedBy: npAllowed,
    tier: 'networkpolicy',
    subject: 'pod',
    adminPolicies: tiers.admin.filter((p) => p[dir].length).map((p) => p.name),
    baselinePolicies: tiers.baseline.filter((p) => p[dir].length).map((p) => p.name),
    explanation: '',
  };
  const r = decideTiers(base, tiers.admin, tiers.baseline, dir, flow, idx.cluster, seen, notes, pod);
  r.explanation = directionSentence(idx, dir, flow, r);
  return r;
}

function decideTiers(r: DirectionResult, admin: TieredPolicy[], baseline: TieredPolicy[], dir: Direction, flow: Flow, c: Cluster, seen: Observations, notes: PolicyNote[], pod: PodEntry): DirectionResult {
  const passed: TierRuleRef[] = [];
  for (let i = 0; i < admin.length; i++) {
    const p = admin[i]!;
    const m = firstMatch(p, dir, flow, c, seen);
    if (!m) continue;
    const tied = admin.filter((q) => q !== p && q.priority === p.priority && q[dir].length);
    if (tied.length) {
      notes.push({
        kind: 'same-priority',
        text: `AdminNetworkPolicies ${[p, ...tied].map((q) => q.name).join(', ')} share priority ${p.priority} and all apply to ${pod.key} for ${dir}: the API leaves their order undefined; evaluated by name, so ${p.name} decided first`,
      });
    }
    if (m.action === 'Pass') {
      passed.push(m);
      break;
    }
    return finish(r, m, passed);
  }
  if (passed.length) r.passedBy = passed;
  if (r.isolated) return { ...r, tier: 'networkpolicy', verdict: r.allowedBy.length ? 'allowed' : 'denied' };
  for (const p of baseline) {
    const m = firstMatch(p, dir, flow, c, seen);
    if (m) return finish(r, m, passed);
  }
  return { ...r, tier: 'default', verdict: 'allowed' };
}

function finish(r: DirectionResult, m: TierRuleRef, passed: TierRuleRef[]): DirectionResult {
  const allowed = m.action === 'Allow';
  const ref: AllowedBy = { policy: m.policy, rule: m.rule, peer: m.peer, ...(m.port !== undefined ? { port: m.port } : { anyPort: true as const }), tier: m.tier, kind: m.kind };
  return {
    ...r,
    verdict: allowed ? 'allowed' : 'denied',
    tier: m.tier,
    decidedBy: m,
    allowedBy: allowed ? [ref] : [],
    ...(allowed ? {} : { deniedBy: [m] }),
    ...(passed.length ? { passedBy: passed } : {}),
  };
}

function addNotes(idx: PolicyIndex, flow: Flow, seen: Observations, notes: PolicyNote[]): void {
  const { src, dst } = flow;
  const anyPolicy = idx.networkPolicyCount > 0 || idx.admin.length > 0 || idx.baseline.length > 0;
  if (src.pod && dst.pod && src.pod === dst.pod) {
    notes.push({ kind: 'self', text: `${src.pod.key} to itself: the API does not say whether policy applies to a pod's traffic to itself; a connection to its own address usually stays inside the pod (loopback) and most implementations do not filter it. Evaluated as the API reads, as if it came from another pod with the same labels` });
  }
  const srcNode = src.node ?? (src.pod?.hostNetwork && src.pod.nodeName !== undefined ? idx.cluster.nodes.find((n) => n.name === src.pod!.nodeName) : undefined);
  if (srcNode || src.pod?.hostNetwork) {
    const own = dst.pod?.nodeName !== undefined && (srcNode?.name ?? src.pod?.nodeName) === dst.pod.nodeName;
    notes.push({
      kind: 'from-node',
      text: `${endName(src)} is ${src.pod?.hostNetwork ? "a host-network pod, so its traffic carries its node's address" : `node ${srcNode!.name}'s address`}${own ? `, the node ${dst.pod!.key} runs on` : ''}: whether policy applies to traffic from a node is implementation-specific (many always allow a pod's own node, for kubelet probes). Evaluated as the API reads: only ipBlock peers can match it`,
    });
  }
  for (const e of [src, dst]) {
    if (e.pod?.hostNetwork) notes.push({ kind: 'host-network', text: `${e.pod.key} uses its node's network (hostNetwork): NetworkPolicy and admin policies do not apply to it (implementations differ; the API leaves host-network pods out), so its ${e === src ? 'egress' : 'ingress'} is not restricted here` });
    if (e.pod?.phase !== undefined && e.pod.phase !== 'Running') notes.push({ kind: 'not-running', text: `${e.pod.key} is ${e.pod.phase}, not Running: it sends and receives nothing now; the verdict is what policy would say` });
  }
  if (flow.proto === 'ICMP' && anyPolicy) notes.push({ kind: 'icmp', text: 'ICMP: a policy\'s ports name TCP, UDP and SCTP only, so only a rule without ports allows ICMP (how CNIs implement the API, which does not mention ICMP)' });
  if (seen.portless) notes.push({ kind: 'no-port', text: `no --port given: a rule with a port list matched only through an entry that names a protocol and no port (every port of ${flow.proto}); rules that name ports did not match` });
  for (const n of seen.namedPortNoPod) notes.push({ kind: 'named-port', text: `the named port "${n}" could not be resolved: ${endName(dst)} is no pod, and only a pod's container ports have names` });
  for (const p of seen.blockMatchedPod) notes.push({ kind: 'ip-block-pod', text: `an ipBlock or network peer matched ${p}'s pod address: the API means ipBlock for addresses outside the cluster, and implementations differ on pod addresses; evaluated as matching` });
  if (!idx.cluster.hasNamespaces && anyPolicy) notes.push({ kind: 'no-namespaces', text: 'the capture lists no Namespace objects: each namespace is taken to have only the kubernetes.io/metadata.name label, so namespace selectors on other labels match nothing' });
}
