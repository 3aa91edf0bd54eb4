// The result of evaluating one flow against the cluster's policies (shared/spec/capture-v1.md, "Policy
// result"): the spec's fields (`verdict`, per direction `verdict`, `isolated`, `policies`, `allowedBy`)
// and extras that say which tier decided, which rule, and why, in the API's own words.
import type { KubeProtocol } from '../../capture/kubernetes';

export type Protocol = KubeProtocol;
/**
 * A flow's protocol: one a policy's ports can name, or ICMP, which no port entry names — so only a
 * rule without ports (every protocol) matches it, as CNIs implement the API.
 */
export type FlowProtocol = Protocol | 'ICMP';
export type PolicyVerdict = 'allowed' | 'denied';
export type Direction = 'egress' | 'ingress';

/** One flow as `netpath policy` takes it: `namespace/pod` or an IP on each side; TCP when no protocol is given. */
export interface PolicyRequest {
  from: string;
  to: string;
  proto?: FlowProtocol;
  /** The destination port: a number, or a name resolved on the destination pod's container ports. Absent: unknown (see `notes`). */
  port?: number | string;
}

/** The tier that decided a direction, in evaluation order. */
export type Tier = 'admin' | 'networkpolicy' | 'baseline' | 'default';

/** A rule of a NetworkPolicy that allows the flow. Indexes into the policy's rules, that rule's peers (`from`/`to`) and ports. */
export interface AllowedBy {
  policy: string;
  /** The index of the rule in the policy's `ingress` or `egress` list. */
  rule: number;
  /** The index of the matching peer; absent when the rule has no peer list (any peer), see `anyPeer`. */
  peer?: number;
  /** The index of the matching port entry; absent when the rule has no port list (every port), see `anyPort`. */
  port?: number;
  anyPeer?: true;
  anyPort?: true;
  /** Admin and baseline rules: which tier and kind the rule is from (absent for NetworkPolicy rules). */
  tier?: Tier;
  kind?: string;
  /** The port as the rule names it when it is a name (`postgres`), with the number it resolved to on the destination pod. */
  portName?: string;
}

/** A rule of a tiered policy (AdminNetworkPolicy, BaselineAdminNetworkPolicy) that matched the flow. */
export interface TierRuleRef {
  tier: 'admin' | 'baseline';
  kind: string;
  policy: string;
  /** AdminNetworkPolicy priority (lower first); absent for the baseline. */
  priority?: number;
  rule: number;
  ruleName?: string;
  action: 'Allow' | 'Deny' | 'Pass';
  peer: number;
  /** Absent when the rule has no port list (every port). */
  port?: number;
}

export interface DirectionResult {
  verdict: PolicyVerdict;
  /** Isolated by NetworkPolicy for this direction: some NetworkPolicy of the pod's namespace selects it with this policy type. */
  isolated: boolean;
  /** Every NetworkPolicy (`namespace/name`) that selects the pod for this direction. */
  policies: string[];
  /** Every rule, peer and port that allows the flow in the tier that decided (NetworkPolicy rules, or the admin/baseline rule that allowed). */
  allowedBy: AllowedBy[];
  /** Which tier decided: an admin rule, NetworkPolicy isolation, a baseline rule, or nothing (default allow). */
  tier: Tier;
  /** Whose direction this is: a pod subject to policy, a host-network pod, or an address that is no pod's. */
  subject: 'pod' | 'host-network-pod' | 'not-a-pod';
  /** The admin or baseline rule that decided (Allow or Deny). */
  decidedBy?: TierRuleRef;
  /** The admin rule that denied; NetworkPolicy has no deny rules, so this is only set for Deny actions. */
  deniedBy?: TierRuleRef[];
  /** Admin rules whose Pass action handed the decision to NetworkPolicy. */
  passedBy?: TierRuleRef[];
  /** AdminNetworkPolicies whose subject is the pod (by priority), and the baseline if it selects the pod. */
  adminPolicies: string[];
  baselinePolicies: string[];
  /** One sentence: the verdict and why. */
  explanation: string;
}

export type NoteKind =
  | 'self'
  | 'from-node'
  | 'host-network'
  | 'not-running'
  | 'no-ip'
  | 'no-port'
  | 'icmp'
  | 'named-port'
  | 'ip-block-pod'
  | 'same-priority'
  | 'no-namespaces'
  | 'family';

/** Something the API leaves to the implementation, or that the capture cannot tell: said instead of guessed. */
export interface PolicyNote {
  kind: NoteKind;
  text: string;
}

/** A policy object that does not fit its API (left out, or a part of it ignored), with its JSON path in the capture. */
export interface PolicyWarning {
  path: string;
  message: string;
}

export interface EndpointSummary {
  /** What the user gave (`shop/db-0`, `10.0.0.1`). */
  given: string;
  kind: 'pod' | 'ip';
  /** `namespace/name` of the pod. */
  pod?: string;
  ip?: string;
  /** The node whose address this is (an IP endpoint that is a node's). */
  node?: string;
}

export interface PolicyResult {
  verdict: PolicyVerdict;
  flow: { from: EndpointSummary; to: EndpointSummary; proto: FlowProtocol; port?: number; portName?: string };
  egress: DirectionResult;
  ingress: DirectionResult;
  notes: PolicyNote[];
  warnings: PolicyWarning[];
}

export type PolicyOutcome = { ok: true; result: PolicyResult } | { ok: false; error: string; kind: 'unknown-endpoint' | 'bad-port'; suggestions?: string[] };
