// The one form both iptables and nftables rules are compiled into: a chain is a list of rules, a rule
// a list of operations run in order (tests, then what it does), as nft's expressions run. iptables
// rules fit the same shape: their matches are tests, their target the last operation.
import { Addr, Prefix, type Family } from '../../net/addr';
import type { Hook, L4, MatchNote, NfContext, NfEvidence, NfPacket } from './types';

/** A test's answer: matched or not; a random choice (statistic, numgen, meta random); or "cannot tell". */
export type TestResult = boolean | { fork: { p: number; result: boolean }[] } | { unknown: string };

export type Test = (pkt: NfPacket, ctx: NfContext, notes: MatchNote[]) => TestResult;

export type VerdictOp =
  | { v: 'accept' | 'drop' | 'return' | 'continue' | 'queue' }
  | { v: 'jump' | 'goto'; chain: string }
  | { v: 'reject'; with: string };

export type Op =
  /** `what` names the match for a rule netpath cannot evaluate: made only then (a big rule set has 100,000 rules). */
  | { op: 'test'; test: Test; what: () => string }
  | { op: 'verdict'; verdict: VerdictOp }
  | { op: 'nat'; kind: 'dnat' | 'snat' | 'masquerade' | 'redirect'; addr?: Addr; port?: number; portTo?: number; random: boolean; range: boolean; family?: Family }
  | { op: 'mark'; apply: (pkt: NfPacket) => number }
  | { op: 'connmark'; apply: (pkt: NfPacket) => { mark: number; ctmark: number } }
  | { op: 'notrack' }
  | { op: 'noop'; what: string; note?: MatchNote }
  /** A verdict map: look the key up; no element stops the rule. `random`: numgen's N equally likely keys. */
  | {
      op: 'vmap';
      map: string;
      /** The element's verdict for this packet; undefined: no element (the rule ends); unknown: cannot tell. */
      lookup: (pkt: NfPacket, ctx: NfContext) => VerdictOp | undefined | { unknown: string };
      /** numgen random mod N: each of the N keys is equally likely; `pick(j)` is key j's verdict. */
      random?: { mod: number; pick: (j: number) => VerdictOp | undefined };
    }
  | { op: 'unsupported'; what: string; assumed: 'continued' | 'accepted'; why: string };

/** Fields a rule requires exactly, for the destination index (the rule's own tests still run). */
export interface IndexKey {
  dst?: string;
  proto?: L4;
  dport?: number;
}

export interface Rule {
  /** 1-based position in its chain, as `iptables -L --line-numbers` and nft's rule order count. */
  index: number;
  evidence: NfEvidence;
  ops: Op[];
  key?: IndexKey;
}

export interface Chain {
  source: 'iptables' | 'nft';
  /** ip, ip6, inet, bridge (nft); ip or ip6 for iptables/ip6tables. */
  family: string;
  table: string;
  name: string;
  rules: Rule[];
  base?: { hook: Hook; priority: number; type: 'filter' | 'nat' | 'route'; policy: 'accept' | 'drop'; evidence?: NfEvidence };
  /** Built for long chains: rule positions by the packet's destination, protocol and port. */
  index?: ChainIndex;
}

/** Rule positions (0-based into `rules`) by exact key; `always` holds the rules no key narrows. */
export interface ChainIndex {
  buckets: Map<string, number[]>;
  always: number[];
  /** Which key shapes occur (`d`, `dp`, `dpo`, `po`, `p`, `o`): only those are looked up. */
  shapes: string[];
}

/** Chains shorter than this are walked rule by rule. */
export const INDEX_MIN_RULES = 16;

function shapeKey(shape: string, dst: string | undefined, proto: string | undefined, dport: number | undefined): string {
  return `${shape}|${shape.includes('d') ? dst : ''}|${shape.includes('p') ? proto : ''}|${shape.includes('o') ? dport : ''}`;
}

export function buildIndex(chain: Chain): void {
  if (chain.rules.length < INDEX_MIN_RULES) return;
  const buckets = new Map<string, number[]>();
  const always: number[] = [];
  const shapes = new Set<string>();
  chain.rules.forEach((r, i) => {
    const k = r.key;
    const shape = k ? `${k.dst !== undefined ? 'd' : ''}${k.proto !== undefined ? 'p' : ''}${k.dport !== undefined ? 'o' : ''}` : '';
    if (!shape) return void always.push(i);
    shapes.add(shape);
    const key = shapeKey(shape, k!.dst, k!.proto, k!.dport);
    const b = buckets.get(key);
    if (b) b.push(i);
    else buckets.set(key, [i]);
  });
  // An index that narrows nothing is not worth its lookups.
  if (always.length > chain.rules.length / 2) return;
  chain.index = { buckets, always, shapes: [...shapes] };
}

/**
 * The rules of a chain that can match this packet, in chain order: every rule the index cannot rule
 * out. Skipping the others gives exactly the kernel's linear walk, since each skipped rule requires a
 * destination, protocol or port this packet does not have.
 */
export function candidates(chain: Chain, pkt: NfPacket): readonly number[] | undefined {
  const ix = chain.index;
  if (!ix) return undefined;
  const dst = pkt.dst.toString();
  const lists: number[][] = [ix.always];
  for (const shape of ix.shapes) {
    const b = ix.buckets.get(shapeKey(shape, dst, pkt.proto, pkt.dport));
    if (b) lists.push(b);
  }
  if (lists.length === 1) return ix.always;
  const out = lists.flat();
  out.sort((a, b) => a - b);
  return out;
}

// ---- value helpers ------------------------------------------------------------------------------

/** A fast prefix test: numbers for IPv4, bigints for IPv6. */
export function prefixTest(p: Prefix): (a: Addr) => boolean {
  const m = p.masked();
  if (m.family === 4) {
    const mask = m.length === 0 ? 0 : (0xffffffff << (32 - m.length)) >>> 0;
    const net = m.addr.v4;
    return (a) => a.family === 4 && ((a.v4 & mask) >>> 0) === net;
  }
  const len = BigInt(m.length);
  const shift = 128n - len;
  const net = m.addr.v6 >> shift;
  return (a) => a.family === 6 && (m.length === 0 || a.v6 >> shift === net);
}

export function parsePrefix(text: string): Prefix | undefined {
  const r = Prefix.parse(text);
  return r.ok ? r.value : undefined;
}

export function parseAddr(text: string): Addr | undefined {
  const r = Addr.parse(text);
  return r.ok ? r.value : undefined;
}

const PROTO_NUMBERS: Record<string, L4 | 'ipv6-icmp'> = { '1': 'icmp', '6': 'tcp', '17': 'udp', '132': 'sctp', '58': 'ipv6-icmp' };

/** A protocol as rules name it (`tcp`, `6`, `ipv6-icmp`, `icmpv6`) in the packet's terms; `all` is undefined. */
export function protoName(text: string): L4 | 'all' | 'ipv6-icmp' | undefined {
  const t = text.toLowerCase();
  if (t === 'all' || t === '0') return 'all';
  if (t === 'tcp' || t === 'udp' || t === 'sctp' || t === 'icmp') return t;
  if (t === 'ipv6-icmp' || t === 'icmpv6' || t === 'icmp6') return 'ipv6-icmp';
  return PROTO_NUMBERS[t];
}

/** Does the packet's protocol equal the named one (ICMP of an IPv6 packet is ipv6-icmp)? */
export function protoIs(pkt: NfPacket, name: L4 | 'ipv6-icmp' | 'all'): boolean {
  if (name === 'all') return true;
  if (name === 'ipv6-icmp') return pkt.proto === 'icmp' && pkt.family === 6;
  if (name === 'icmp') return pkt.proto === 'icmp' && pkt.family === 4;
  return pkt.proto === name;
}

/** The packet's protocol as nft prints l4proto. */
export function l4Name(pkt: NfPacket): string {
  return pkt.proto === 'icmp' && pkt.family === 6 ? 'ipv6-icmp' : pkt.proto;
}

/** An interface name test with iptables' `+` wildcard (`cali+`). */
export function ifaceTest(pattern: string): (name: string | undefined) => boolean {
  if (pattern.endsWith('+')) {
    const prefix = pattern.slice(0, -1);
    return (n) => n !== undefined && n.startsWith(prefix);
  }
  return (n) => n === pattern;
}

/** `80`, `80:90` (iptables) or `80-90` (nft) as an inclusive range. */
export function portRange(text: string): [number, number] | undefined {
  const m = /^(\d+)(?:[:-](\d*))?$/.exec(text) ?? /^:(\d+)$/.exec(text);
  if (!m) return undefined;
  if (text.startsWith(':')) return [0, Number(m[1])];
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : m[2] === '' ? 65535 : Number(m[2]);
  return lo <= hi && hi <= 65535 ? [lo, hi] : undefined;
}

/** `0x4000`, `16384`, `0x4000/0x4000` as value and mask (mask 0xffffffff when absent). */
export function markValue(text: string): { value: number; mask: number } | undefined {
  const [v, m] = text.split('/');
  const num = (s: string | undefined) => (s === undefined ? undefined : /^0x[0-9a-f]+$/i.test(s) ? parseInt(s, 16) : /^\d+$/.test(s) ? Number(s) : undefined);
  const value = num(v);
  const mask = m === undefined ? 0xffffffff : num(m);
  if (value === undefined || mask === undefined) return undefined;
  return { value: value >>> 0, mask: mask >>> 0 };
}

/** Default ICMP type of a packet: echo request for a new connection, echo reply otherwise. */
export function icmpType(pkt: NfPacket): number {
  if (pkt.icmpType !== undefined) return pkt.icmpType;
  if (pkt.family === 6) return pkt.connection === 'new' ? 128 : 129;
  return pkt.connection === 'new' ? 8 : 0;
}

/** TCP flags of the packet: SYN opens a new connection; later packets carry ACK. */
export function tcpFlags(pkt: NfPacket): Set<string> {
  return new Set(pkt.connection === 'new' ? ['SYN'] : ['ACK']);
}

/** The family an nft or iptables table covers. */
export function tableFamilies(family: string): Family[] {
  if (family === 'ip') return [4];
  if (family === 'ip6') return [6];
  if (family === 'inet' || family === 'bridge') return [4, 6];
  return [];
}
