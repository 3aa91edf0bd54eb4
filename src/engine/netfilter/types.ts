// The netfilter evaluator's typed inputs and outputs: what the packet walk hands to runHook at a hook
// and what comes back. Details only, no sentences (narrate.ts makes those).
import type { Addr, Family } from '../../net/addr';

/** The five inet hooks (also the bridge family's, which uses the same names). */
export type Hook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';
export const HOOKS: readonly Hook[] = ['prerouting', 'input', 'forward', 'output', 'postrouting'];

/** Which hook set: the IP layer's (iptables, ip/ip6/inet nft tables) or the bridge's (nft bridge tables). */
export type Layer = 'inet' | 'bridge';

export type L4 = 'icmp' | 'tcp' | 'udp' | 'sctp';

/**
 * Conntrack's view of the packet: `new` for the first packet of a connection, `established` for one
 * whose connection conntrack already holds (the caller says so), `untracked` after NOTRACK / CT
 * --notrack (set by the evaluator).
 */
export type Connection = 'new' | 'established' | 'untracked';

export interface NfPacket {
  family: Family;
  src: Addr;
  dst: Addr;
  proto: L4;
  sport?: number;
  dport?: number;
  /** ICMP type (default: echo request for a new connection, echo reply otherwise). */
  icmpType?: number;
  /** Input device (absent at output/postrouting for local traffic, as the kernel has none). */
  iif?: string;
  oif?: string;
  /** br_netfilter: the bridge ports a bridged frame came in on / goes out of. */
  physIn?: string;
  physOut?: string;
  /** skb->mark. */
  mark: number;
  connection: Connection;
  /** The connection's mark (ct mark / CONNMARK); 0 when unknown. */
  ctmark?: number;
  /** NAT already set up for this connection (ct status dnat/snat, --ctstate DNAT/SNAT). */
  ctStatus?: ('dnat' | 'snat')[];
  /** IP packet length in bytes, for `-m length`. */
  length?: number;
}

/** How the kernel classifies an address in this namespace (addrtype, fib ... type): RTN_* names. */
export type AddrType = 'unicast' | 'local' | 'broadcast' | 'anycast' | 'multicast' | 'blackhole' | 'unreachable' | 'prohibit' | 'throw' | 'nat' | 'xresolve' | 'unspec';

/** Host facts the rules ask about; the walk answers from the host's FIB and addresses. */
export interface NfContext {
  /** The address type as the host's routing tables give it (local table first); undefined = unknown. */
  addrType(addr: Addr, dev?: string): AddrType | undefined;
  /** The source address MASQUERADE takes on `dev` for a packet to `dst` (inet_select_addr); undefined = unknown. */
  masqueradeAddress(dev: string, family: Family, dst: Addr): Addr | undefined;
  /** The primary address of `dev` (REDIRECT at prerouting); undefined = unknown. */
  primaryAddress(dev: string, family: Family): Addr | undefined;
  /**
   * The `recent` match's lists as the capture holds them (the xt_recent probe): the entry of `client`
   * in list `list`, or undefined when the list does not hold it. Absent: the lists were not captured.
   */
  recent?(list: string, client: Addr): RecentEntry | undefined;
}

/** A client in one of the `recent` match's lists (/proc/net/xt_recent). */
export interface RecentEntry {
  /** Seconds since the client was last seen; undefined when the capture's clock cannot date it. */
  ageSeconds?: number;
  evidence: NfEvidence;
}

/** Where a rule or chain came from: the exact probe line on the host. */
export interface NfEvidence {
  host: string;
  probe: 'iptables' | 'ip6tables' | 'nft' | 'ipset' | 'ipvs' | 'xt_recent';
  line: number;
  raw: string;
}

export interface Endpoint {
  addr: string;
  port?: number;
}

/** What a matched rule did. */
export type RuleAction =
  | { kind: 'jump'; chain: string }
  | { kind: 'goto'; chain: string }
  | { kind: 'return' }
  | { kind: 'accept' }
  | { kind: 'drop' }
  | { kind: 'reject'; with: string }
  | { kind: 'queue' }
  | { kind: 'dnat' | 'snat' | 'masquerade' | 'redirect'; from: Endpoint; to: Endpoint; portsMayChange?: true }
  | { kind: 'mark'; from: number; to: number }
  | { kind: 'connmark'; from: number; to: number }
  | { kind: 'notrack' }
  /** A statement or target with no effect on the path (LOG, counter, NFLOG, a set update ...). */
  | { kind: 'continue'; what: string }
  /** statistic random / numgen: this branch took `choice` with probability `probability` at this rule. */
  | { kind: 'branch'; probability: number; choice: 'matched' | 'not-matched' | number }
  /** The rule stopped before its verdict: a verdict map had no element for the packet's key. */
  | { kind: 'no-map-element'; map: string };

/** A note on how a match was decided where the capture alone cannot say. */
export interface MatchNote {
  match: string;
  /**
   * recent / dynamic affinity sets: a client the capture's lists do not hold (new-client), one they
   * hold and still remember (returning-client), one they hold but forgot (expired-client); limit:
   * within any rate.
   */
  note: 'new-client' | 'returning-client' | 'expired-client' | 'within-rate' | 'no-ipsec' | 'added-to-list';
  detail?: string;
}

export interface ChainRef {
  family: string;
  table: string;
  chain: string;
  source: 'iptables' | 'nft';
}

export type NfStep =
  /** A base chain registered at the hook starts. */
  | (ChainRef & { kind: 'chain'; hook: Hook; priority: number; type: string; evidence?: NfEvidence })
  /** A rule matched (or forked) and did `action`; `rule` is its 1-based position in the chain. */
  | (ChainRef & { kind: 'rule'; rule: number; evidence: NfEvidence; action: RuleAction; notes?: MatchNote[] })
  /** The end of a base chain: its policy. */
  | (ChainRef & { kind: 'policy'; policy: 'accept' | 'drop'; evidence?: NfEvidence })
  /** The end of a user chain: back to the rule after the jump. */
  | (ChainRef & { kind: 'return' })
  /** The NAT chains at this hook did not run: not the first packet of a connection, or NAT was already set up. */
  | { kind: 'nat-skipped'; hook: Hook; reason: 'established' | 'untracked' | 'already-set' };

export type FinalVerdict = { kind: 'accept' } | { kind: 'drop' } | { kind: 'reject'; with: string } | { kind: 'queue' };

export interface NatDone {
  kind: 'dnat' | 'snat' | 'masquerade' | 'redirect';
  before: Endpoint;
  after: Endpoint;
  evidence: NfEvidence;
}

/** A rule netpath could not evaluate: what it assumed, and why. */
export interface Unevaluated extends ChainRef {
  rule: number;
  evidence: NfEvidence;
  /** The match or target (`-m socket`, `-j TPROXY`, `limit rate 5/second`). */
  what: string;
  /** not-matched: the walk went on as if the rule were absent; continued: the target's effect was not applied. */
  assumed: 'not-matched' | 'continued' | 'accepted';
  why: string;
}

export interface NfOutcome {
  verdict: FinalVerdict;
  /** The packet as the rules left it (NAT, marks); hand it to the next stage and the next hook. */
  packet: NfPacket;
  /** The chance of this outcome for a new connection (statistic random, numgen), 0..1. */
  probability: number;
  nat: NatDone[];
  steps: NfStep[];
  unevaluated: Unevaluated[];
}
