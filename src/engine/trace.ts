// The trace: the one object every view renders (CLI table, JSON, webview, tree, hover). Modelled
// on Batfish's Trace{disposition, hops} / Hop{node, steps} / Step{detail, action}.
import type { CopyKind, Ending, Fork, StepDetail } from './detail';
import type { ServiceFinding } from './serviceFindings';

export type * from './detail';

/** The closed set of outcomes (after the kernel's drop reasons, include/net/dropreason-core.h). */
export const VERDICTS = [
  'delivered',
  'no-route',
  'blackhole',
  'unreachable',
  'prohibit',
  'neighbor-failed',
  'no-fdb-entry',
  'link-down',
  'forwarding-disabled',
  'rp-filter',
  'mtu-exceeded',
  'wrong-destination',
  'loop',
  'ttl-exceeded',
  'insufficient-data',
  // netfilter: a DROP rule or a chain's DROP policy; a REJECT rule (e.g. a Service with no endpoints).
  'filtered',
  'rejected',
  // a NetworkPolicy the cluster's CNI enforces denies the flow (known from the API objects).
  'policy-denied',
  // a VLAN-aware bridge does not allow the frame's VLAN on a port (br_allowed_ingress / br_allowed_egress,
  // or a flood with no member port). The kernel frees these skbs with no VLAN-specific reason in
  // include/net/dropreason-core.h (kfree_skb, SKB_DROP_REASON_NOT_SPECIFIED): the name is netpath's.
  'vlan-filtered',
] as const;
export type Verdict = (typeof VERDICTS)[number];

/** Where a decision came from: the exact line of a probe on a host. */
export interface Evidence {
  host: string;
  probe: string;
  line: number;
  raw: string;
}

export type StepKind =
  | 'origin' // the packet is created by a local socket
  | 'rule' // policy routing rule matched
  | 'route' // FIB lookup: the route that won
  | 'src' // source address selection
  | 'rp-filter'
  | 'forward' // ip_forward / ttl
  | 'mtu'
  | 'neigh' // neighbour (ARP/ND) lookup
  | 'arp' // neighbour resolved by asking the segment (no table entry)
  | 'veth' // the frame crosses a veth pair
  | 'bridge' // a Linux bridge received or sent the frame
  | 'vlan' // an 802.1Q tag pushed, popped, or a VLAN-aware bridge's PVID and egress rules
  | 'fdb' // bridge / VXLAN forwarding table lookup
  | 'flood'
  | 'vxlan-encap'
  | 'vxlan-decap'
  | 'tunnel-encap' // IPIP or WireGuard
  | 'tunnel-decap'
  | 'underlay' // the frame leaves on a NIC to another host
  | 'bond' // a bond picks its slave, or takes a frame from one
  | 'macvlan' // a macvlan or ipvlan sends to a sibling or its lower device, or takes a frame from it
  | 'deliver'
  | 'drop'
  | 'netfilter' // a netfilter hook's chains and rules
  | 'inferred' // a fact the capture does not hold, filled in by inference
  | 'policy'; // what the cluster's NetworkPolicies decide for the flow

export interface Step {
  kind: StepKind;
  /** One sentence a learner understands. */
  text: string;
  /** The raw probe lines that decided, joined with newlines ("" when nothing in the capture did). */
  evidence: string;
  /** The same evidence with its host, probe and line number. */
  records: Evidence[];
  /** True when the step is an inference, not read from a table. */
  inferred?: boolean;
  /** The candidates considered (other routes, rules) for the UI to show beside the winner. */
  candidates?: Evidence[];
  /** Encapsulation steps: the tunnel and the outer header it puts on. */
  tunnel?: { kind: 'vxlan' | 'ipip' | 'wireguard'; dev: string; vni?: number; outerSrc?: string; outerDst: string; port?: number; overhead: number };
  /**
   * What the step found, as typed data (detail.ts): `text` is made from it (narrate.ts). Set by every
   * step of this engine; absent in traces saved by netpath 0.1.
   */
  detail?: StepDetail;
  /** A step that eBPF programs on the node may decide differently (Cilium): why, and where. */
  unvouched?: Unvouched;
}

export interface Hop {
  host: string;
  /** The device the packet arrived on, null where it originated. */
  in: string | null;
  /** The device it left by, null where it stopped or was delivered. */
  out: string | null;
  steps: Step[];
}

export interface Flow {
  src: string;
  dst: string;
  proto: 'icmp' | 'udp' | 'tcp' | 'sctp';
  /** Source port, when the request gave one (rules rarely match it; the kernel picks an ephemeral one). */
  sport?: number;
  dport?: number;
  /** IP packet length in bytes. */
  size: number;
  df: boolean;
}

export interface Trace {
  verdict: Verdict;
  hops: Hop[];
  /** Where the packet stops when it is not delivered. */
  dropAt: { host: string; dev: string | null } | null;
  /** One sentence: what happened, or why it did not. */
  reason: string;
  /** How the path ended (absent in traces saved by netpath 0.1). */
  ending?: Ending;
}

/** One alternative the packet (or a copy of it) takes. */
export interface TracePath extends Trace {
  /** The labels of `forks` joined with " / " ('' for the only path). */
  branch: string;
  /** A copy (flood, VXLAN default entry, candidate port) whose end at a host it is not for is no failure. */
  floodCopy: boolean;
  /** The forks this path took, in order (absent in traces saved by netpath 0.1). */
  forks?: Fork[];
  /** What made this path a copy, when `floodCopy`. */
  copy?: CopyKind;
  /** A path that went through a DNAT: the address (and port) it was rewritten to. */
  endpoint?: { ip: string; port?: number };
  /** The chance that the rules pick this path for a new connection (0..1), when a rule chose at random. */
  probability?: number;
}

export interface TraceResult extends Trace {
  flow: Flow;
  from: { host: string; ip: string };
  to: { host: string | null; ip: string };
  /**
   * Every path the packet (or its copies) can take: ECMP next hops and bridge floods. The top-level
   * verdict is `delivered` only when the packet arrives on every ECMP branch (or any flood copy does).
   */
  paths: TracePath[];
  /** True when a decision could not be read from the capture and was inferred. */
  inferred: boolean;
  /** Hosts whose tables the trace needed but the capture lacks (a live collector fetches them). */
  needs: string[];
  /**
   * Hosts whose tables would settle a guess the trace had to make: pods that may be behind the same
   * node port as a pod the capture holds no interfaces for. A collector reads them once `needs` is done.
   * Absent when there are none.
   */
  settles?: string[];
  /** `--to svc/...`: kube-proxy's name for the Service port traced to (`default/web:http`). */
  service?: string;
  /**
   * Where the Kubernetes API and a node's kube-proxy rules disagree about the Service of this flow
   * (an endpoint missing from the rules, a stale one, no rules for the Service): serviceFindings.ts.
   */
  findings?: ServiceFinding[];
  /**
   * Nodes on the paths whose packets Cilium's eBPF programs move (dataplane.ts), with what the capture
   * says of how; the steps there that the tables cannot vouch for carry `unvouched`. Absent when none.
   */
  dataplanes?: CiliumNode[];
  /**
   * When the packet is not delivered: the likely causes, most likely first (capture-v1's `diagnosis[]`).
   * Absent when netpath has none to give.
   */
  diagnosis?: Diagnosis[];
  /** What the trace did not check (NetworkPolicy not in the capture, nodes whose rules it lacks). Absent when none. */
  unchecked?: Unchecked[];
}

/** A likely cause of a failed trace: where the state differs from what the cluster intends, and the fix. */
export interface Diagnosis {
  /** The host whose state (or, `kubernetes`, the API objects) the cause lives in. */
  host: string;
  /** The probe (table) on that host, or the API object's path. */
  probe: string;
  text: string;
  expected: string;
  actual: string;
  /** The component that owns that state (`kube-proxy`, `flanneld`, ...). */
  owner: string;
  fix: string;
  /**
   * What kind of cause, for views and tests: a table that differs from the cluster's intent (checks.ts),
   * the drop itself explained (named after its verdict), a Service port, a NetworkPolicy.
   */
  kind: DiagnosisKind;
  /** The lines that show the wrong state (absent when the state is missing). */
  evidence?: Evidence[];
  /** When something is missing: the table that was searched for it, line by line. */
  searched?: Evidence[];
}

/** Where a host's tables differ from what the cluster intends (engine/checks.ts). */
export type DiscrepancyKind =
  | 'missing-route'
  | 'wrong-route'
  | 'missing-vtep-neigh'
  | 'wrong-vtep-neigh'
  | 'missing-vtep-fdb'
  | 'wrong-vtep-fdb'
  | 'stale-vtep-fdb'
  | 'vtep-mac-mismatch'
  | 'mtu-mismatch'
  | 'device-down'
  | 'port-blocked'
  | 'fdb-not-port'
  | 'forwarding-disabled'
  | 'pod-no-route'
  | 'veth-not-in-bridge'
  | 'stale-bridge-fdb'
  | 'missing-forward-accept';

export type DiagnosisKind =
  | 'service-port-not-served'
  | 'policy-denied'
  | DiscrepancyKind
  // a Service without a ready endpoint, from the API objects
  | 'no-endpoints'
  // the drop explained
  | 'rp-filter'
  | 'no-route'
  | 'no-fdb-entry'
  | 'mtu-exceeded'
  | 'neighbor-failed'
  | 'filtered'
  | 'rejected'
  | 'insufficient-data'
  | 'vlan-filtered'
  | 'wrong-destination'
  | 'link-down';

/** Something a trace did not check, delivered or not: said so that "delivered" is not read as "nothing can stop it". */
export interface Unchecked {
  what: 'network-policy' | 'netfilter';
  /** The hosts it concerns (none for the cluster-wide ones). */
  hosts: string[];
  text: string;
}

// ---- where the tables do not decide (dataplane.ts) ----------------------------------------------

/** What decided a conclusion: a probe line, or a fact from the API or the capture's metadata. */
export type DataplaneBasis =
  | { from: 'probe'; evidence: Evidence }
  | { from: 'api'; what: string }
  | { from: 'metadata'; what: string }
  /** Something the capture was expected to show and does not. */
  | { from: 'absence'; what: string };

/** A node whose packets Cilium's eBPF programs handle, and what the capture tells of how. */
export interface CiliumNode {
  host: string;
  kind: 'cilium';
  /**
   * Cilium translates Service addresses itself (kube-proxy replacement): `yes` when the node has
   * Cilium's chains and no kube-proxy rules, or the cluster's configuration says so; `no` when
   * kube-proxy's rules are on the node; else `unknown`.
   */
  kubeProxyReplacement: 'yes' | 'no' | 'unknown';
  /**
   * eBPF host routing (bpf_redirect_peer/neigh past the host's netfilter hooks): `bpf` or `legacy`
   * when the configuration says, `legacy` when kube-proxy's rules are there (eBPF host routing needs
   * the kube-proxy replacement), else `unknown`: the kernel's tables cannot show it.
   */
  hostRouting: 'bpf' | 'legacy' | 'unknown';
  basis: DataplaneBasis[];
}

/** Why a step on a Cilium node is not vouched for. */
export type Unvouched =
  /** eBPF host routing may move the packet past the host's netfilter hooks and forwarding checks. */
  | { by: 'cilium'; reason: 'bpf-host-routing'; host: string; hostRouting: 'bpf' | 'unknown' }
  /** Cilium translates Service addresses in eBPF maps, which no table in the capture shows. */
  | { by: 'cilium'; reason: 'kube-proxy-replacement'; host: string; kubeProxyReplacement: 'yes' | 'unknown' };
