// nft records -> chains of the common form (ir.ts). Each statement is one operation in order, as
// nft_do_chain runs a rule's expressions: a match that fails ends the rule; a verdict map looks its key
// up in a hash map (kube-proxy's service-ips with thousands of elements is one lookup); numgen random
// and iptables-nft's `meta random & 0x7fffffff < N` become random choices with their probabilities.
import type { Addr } from '../../net/addr';
import type { NftChainRecord, NftElement, NftExpr, NftRuleRecord, NftSetRecord, NftStatement, NftTableRecord, NftValue, NftVerdict } from '../../parsers';
import { buildIndex, l4Name, parseAddr, parsePrefix, prefixTest, tableFamilies, type Chain, type IndexKey, type Op, type Rule, type Test, type TestResult, type VerdictOp } from './ir';
import type { AddrType, Hook, NfContext, NfEvidence, NfPacket } from './types';

/** A value read from the packet. `none`: the packet has no such field (a tcp port of a UDP packet). */
type Val = { t: 'addr'; a: Addr } | { t: 'num'; n: number } | { t: 'sym'; s: string } | { t: 'concat'; parts: Val[] } | { t: 'none' } | { t: 'unknown'; why: string };

type Reader = (pkt: NfPacket, ctx: NfContext) => Val;

const ICMP_NAMES: Record<number, string> = { 0: 'echo-reply', 3: 'destination-unreachable', 5: 'redirect', 8: 'echo-request', 11: 'time-exceeded', 12: 'parameter-problem' };
const ICMP6_NAMES: Record<number, string> = { 1: 'destination-unreachable', 2: 'packet-too-big', 3: 'time-exceeded', 4: 'parameter-problem', 128: 'echo-request', 129: 'echo-reply', 135: 'nd-neighbor-solicit', 136: 'nd-neighbor-advert' };

const NONE: Val = { t: 'none' };

function l4Port(pkt: NfPacket, proto: string, field: string): Val {
  const ok = proto === 'th' ? pkt.proto === 'tcp' || pkt.proto === 'udp' || pkt.proto === 'sctp' : pkt.proto === proto;
  if (!ok) return NONE;
  const port = field === 'dport' ? pkt.dport : field === 'sport' ? pkt.sport : undefined;
  return port === undefined ? { t: 'unknown', why: `${proto} ${field}: the packet's port is not given` } : { t: 'num', n: port };
}

function reader(e: NftExpr): Reader {
  if ('payload' in e) {
    const { protocol, field } = e.payload;
    if (protocol === 'ip' || protocol === 'ip6') {
      const fam = protocol === 'ip' ? 4 : 6;
      if (field === 'saddr' || field === 'daddr') return (p) => (p.family !== fam ? NONE : { t: 'addr', a: field === 'saddr' ? p.src : p.dst });
      if (field === 'protocol' || field === 'nexthdr') return (p) => (p.family !== fam ? NONE : { t: 'sym', s: l4Name(p) });
    }
    if (['tcp', 'udp', 'sctp', 'th', 'udplite', 'dccp'].includes(protocol) && (field === 'dport' || field === 'sport')) return (p) => l4Port(p, protocol, field);
    if ((protocol === 'icmp' || protocol === 'icmpv6') && field === 'type')
      return (p) => {
        const fam = protocol === 'icmp' ? 4 : 6;
        if (p.proto !== 'icmp' || p.family !== fam) return NONE;
        const t = p.icmpType ?? (fam === 6 ? (p.connection === 'new' ? 128 : 129) : p.connection === 'new' ? 8 : 0);
        const name = (fam === 6 ? ICMP6_NAMES : ICMP_NAMES)[t];
        return name ? { t: 'sym', s: name } : { t: 'num', n: t };
      };
    return () => ({ t: 'unknown', why: `${protocol} ${field}` });
  }
  if ('meta' in e) {
    switch (e.meta) {
      case 'l4proto':
      case 'protocol':
        return (p) => ({ t: 'sym', s: e.meta === 'protocol' ? (p.family === 4 ? 'ip' : 'ip6') : l4Name(p) });
      case 'nfproto':
        return (p) => ({ t: 'sym', s: p.family === 4 ? 'ipv4' : 'ipv6' });
      case 'mark':
        return (p) => ({ t: 'num', n: p.mark });
      case 'iifname':
      case 'iif':
        return (p) => (p.iif === undefined ? { t: 'sym', s: '' } : { t: 'sym', s: p.iif });
      case 'oifname':
      case 'oif':
        return (p) => (p.oif === undefined ? { t: 'sym', s: '' } : { t: 'sym', s: p.oif });
      case 'pkttype':
        return (p, ctx) => {
          if (p.dst.isMulticast()) return { t: 'sym', s: 'multicast' };
          const t = ctx.addrType(p.dst);
          return t === undefined ? { t: 'unknown', why: `pkttype of ${p.dst}: the host's address types are unknown` } : { t: 'sym', s: t === 'broadcast' ? 'broadcast' : 'host' };
        };
    }
    return () => ({ t: 'unknown', why: `meta ${e.meta}` });
  }
  if ('ct' in e) {
    const { key, dir } = e.ct;
    if (dir === undefined && key === 'state') return (p) => ({ t: 'sym', s: p.connection });
    if (dir === undefined && key === 'mark') return (p) => ({ t: 'num', n: p.ctmark ?? 0 });
    if (dir === undefined && key === 'direction') return () => ({ t: 'sym', s: 'original' });
    if (dir === undefined && key === 'status') return (p) => ({ t: 'concat', parts: [...(p.ctStatus ?? []), ...(p.connection === 'established' ? ['seen-reply', 'assured', 'confirmed'] : [])].map((s) => ({ t: 'sym' as const, s })) });
    return () => ({ t: 'unknown', why: `ct ${dir ? dir + ' ' : ''}${key}` });
  }
  if ('fib' in e) {
    const { flags, result } = e.fib;
    const which = flags.includes('saddr') ? 'src' : flags.includes('daddr') ? 'dst' : undefined;
    if (result !== 'type' || !which) return () => ({ t: 'unknown', why: `fib ${flags.join(' . ')} ${result}` });
    const dev = flags.includes('iif') ? 'iif' : flags.includes('oif') ? 'oif' : undefined;
    return (p, ctx) => {
      const t: AddrType | undefined = ctx.addrType(p[which], dev ? p[dev] : undefined);
      return t === undefined ? { t: 'unknown', why: `fib type of ${p[which]}: the host's address types are unknown` } : { t: 'sym', s: t };
    };
  }
  if ('concat' in e) {
    const rs = e.concat.map(reader);
    return (p, c) => {
      const parts = rs.map((r) => r(p, c));
      const bad = parts.find((x) => x.t === 'none' || x.t === 'unknown');
      return bad ?? { t: 'concat', parts };
    };
  }
  if ('binop' in e) {
    const inner = reader(e.binop.left);
    const rv = typeof e.binop.right === 'number' ? e.binop.right : undefined;
    const op = e.binop.op;
    return (p, c) => {
      const x = inner(p, c);
      if (x.t !== 'num' || rv === undefined) return x.t === 'num' ? { t: 'unknown', why: 'a bitwise operation on a non-number' } : x;
      const n = op === '&' ? x.n & rv : op === '|' ? x.n | rv : op === '^' ? x.n ^ rv : op === '<<' ? x.n << rv : x.n >>> rv;
      return { t: 'num', n: n >>> 0 };
    };
  }
  return () => ({ t: 'unknown', why: 'numgen' in e ? 'numgen outside a map' : `expression ${JSON.stringify(e)}` });
}

function key(v: Val): string {
  switch (v.t) {
    case 'addr':
      return v.a.toString();
    case 'num':
      return String(v.n);
    case 'sym':
      return v.s;
    case 'concat':
      return v.parts.map(key).join(' . ');
    default:
      return '';
  }
}

/** A constant's key as the packet's values print (addresses canonical, numbers in decimal). */
function constKey(v: NftValue): string | undefined {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') {
    const a = /[.:]/.test(v) ? parseAddr(v) : undefined;
    return a ? a.toString() : v;
  }
  if ('concat' in v) {
    const parts = v.concat.map(constKey);
    return parts.every((p) => p !== undefined) ? parts.join(' . ') : undefined;
  }
  return undefined;
}

/** Does the packet's value `x` equal (or fall in) the constant `v`? */
function partMatch(v: NftValue, x: Val): boolean {
  if (typeof v === 'number' || typeof v === 'string') return constKey(v) === key(x);
  if ('prefix' in v) {
    const p = parsePrefix(`${v.prefix.addr}/${v.prefix.len}`);
    return !!p && x.t === 'addr' && prefixTest(p)(x.a);
  }
  if ('range' in v) {
    const [lo, hi] = v.range;
    if (x.t === 'num' && typeof lo === 'number' && typeof hi === 'number') return x.n >= lo && x.n <= hi;
    if (x.t === 'addr' && typeof lo === 'string' && typeof hi === 'string') {
      const a = parseAddr(lo);
      const b = parseAddr(hi);
      return !!a && !!b && x.a.compare(a) >= 0 && x.a.compare(b) <= 0;
    }
    return false;
  }
  if ('concat' in v) return x.t === 'concat' && x.parts.length === v.concat.length && v.concat.every((p, i) => partMatch(p, x.parts[i]!));
  return false;
}

/** A set or map's elements, looked up by exact key, else scanned (prefixes, ranges). */
export interface ElementIndex {
  exact: Map<string, NftElement>;
  scanned: NftElement[];
}

export function elementIndex(elements: readonly NftElement[]): ElementIndex {
  const exact = new Map<string, NftElement>();
  const scanned: NftElement[] = [];
  for (const el of elements) {
    const k = constKey(el.key);
    if (k !== undefined) {
      if (!exact.has(k)) exact.set(k, el);
    } else scanned.push(el);
  }
  return { exact, scanned };
}

function lookup(ix: ElementIndex, x: Val): NftElement | undefined {
  return ix.exact.get(key(x)) ?? ix.scanned.find((el) => partMatch(el.key, x));
}

/** The named sets of the rule's table, by name. */
type SetTable = (name: string) => { rec: NftSetRecord; index: ElementIndex } | undefined;

/** The right side of a match as a test of the packet's value. */
function rhsTest(right: NftValue, sets: SetTable): ((x: Val) => boolean | { unknown: string }) | { unknown: string } {
  if (typeof right === 'object' && 'ref' in right) {
    const s = sets(right.ref);
    if (!s) return { unknown: `set @${right.ref} is not in the capture` };
    return (x) => lookup(s.index, x) !== undefined;
  }
  if (typeof right === 'object' && 'set' in right) {
    const ix = elementIndex(right.set);
    return (x) => lookup(ix, x) !== undefined;
  }
  return (x) => partMatch(right, x);
}

function verdictOp(v: NftVerdict): VerdictOp {
  if (v.verdict === 'jump' || v.verdict === 'goto') return { v: v.verdict, chain: v.target ?? '' };
  return { v: v.verdict };
}

const unknownTest = (why: string): Test => () => ({ unknown: why });

function matchTest(m: Extract<NftStatement, { match: unknown }>['match'], sets: SetTable): Test {
  const { op, left, right } = m;
  // iptables-nft's statistic: `meta random & 0x7fffffff < N` is true with probability N / 2^31.
  if (op === '<' && 'binop' in left && left.binop.op === '&' && 'meta' in left.binop.left && left.binop.left.meta === 'random' && typeof right === 'number') {
    const p = Math.min(1, right / 2 ** 31);
    return () => ({ fork: [{ p, result: true }, { p: 1 - p, result: false }] });
  }
  if ('numgen' in left && left.numgen.mode === 'random' && typeof right === 'number' && op === '==') {
    const p = right >= left.numgen.offset && right < left.numgen.offset + left.numgen.mod ? 1 / left.numgen.mod : 0;
    return () => ({ fork: [{ p, result: true }, { p: 1 - p, result: false }] });
  }
  const read = reader(left);
  if (op === '<' || op === '>' || op === '<=' || op === '>=') {
    if (typeof right !== 'number') return unknownTest(`${op} against a non-number`);
    return (p, c) => {
      const x = read(p, c);
      if (x.t === 'none') return false;
      if (x.t !== 'num') return { unknown: x.t === 'unknown' ? x.why : 'comparison of a non-number' };
      return op === '<' ? x.n < right : op === '>' ? x.n > right : op === '<=' ? x.n <= right : x.n >= right;
    };
  }
  const t = rhsTest(right, sets);
  if ('unknown' in t) return unknownTest(t.unknown);
  const flags = op === 'in' || ('ct' in left && (left.ct.key === 'status' || left.ct.key === 'state'));
  return (p, c) => {
    const x = read(p, c);
    if (x.t === 'none') return false;
    if (x.t === 'unknown') return { unknown: x.why };
    // Flag types (ct state, ct status): does any of the packet's flags match?
    const r = flags && x.t === 'concat' ? x.parts.some((part) => t(part) === true) : t(x);
    if (typeof r === 'object') return r;
    return op === '!=' ? !r : r;
  };
}

function natOp(n: Extract<NftStatement, { nat: unknown }>['nat']): Op {
  const a = n.addr === undefined ? undefined : parseAddr(n.addr);
  return {
    op: 'nat',
    kind: n.type,
    ...(a && { addr: a }),
    ...(n.port !== undefined && { port: n.port }),
    ...(n.portTo !== undefined && { portTo: n.portTo }),
    random: (n.flags ?? []).some((f) => f === 'random' || f === 'fully-random'),
    range: n.addrTo !== undefined || n.portTo !== undefined,
  };
}

const DEFAULT_REJECT: Record<string, string> = { ip: 'icmp port-unreachable', ip6: 'icmpv6 port-unreachable', inet: 'icmpx port-unreachable', bridge: 'icmpx port-unreachable' };

function statementOps(s: NftStatement, family: string, sets: SetTable, text: string): Op[] {
  if ('match' in s) return [{ op: 'test', test: matchTest(s.match, sets), what: () => text }];
  if ('verdict' in s) {
    if (s.verdict === 'queue') return [{ op: 'unsupported', what: 'queue', assumed: 'accepted', why: 'a userspace program decides queued packets; assumed to accept them' }];
    return [{ op: 'verdict', verdict: verdictOp(s) }];
  }
  if ('vmap' in s) {
    const data = s.vmap.data;
    let ix: ElementIndex | undefined;
    let name = 'an anonymous map';
    if (typeof data === 'object' && 'ref' in data) {
      ix = sets(data.ref)?.index;
      name = `@${data.ref}`;
    } else if (typeof data === 'object' && 'set' in data) ix = elementIndex(data.set);
    if (!ix) return [{ op: 'unsupported', what: `vmap ${name}`, assumed: 'continued', why: `map ${name} is not in the capture` }];
    const index = ix;
    const get = (k: string): VerdictOp | undefined => {
      const el = index.exact.get(k);
      const d = el?.data;
      return d && typeof d === 'object' && 'verdict' in d ? verdictOp(d) : undefined;
    };
    const k = s.vmap.key;
    if ('numgen' in k && k.numgen.mode === 'random') {
      const { mod, offset } = k.numgen;
      return [{ op: 'vmap', map: name, lookup: () => ({ unknown: 'numgen outside a random choice' }), random: { mod, pick: (j) => get(String(j + offset)) } }];
    }
    const read = reader(k);
    return [
      {
        op: 'vmap',
        map: name,
        lookup: (p, c) => {
          const x = read(p, c);
          if (x.t === 'none') return undefined;
          if (x.t === 'unknown') return { unknown: x.why };
          const hit = get(key(x));
          if (hit) return hit;
          // Interval elements (prefixes, ranges, concatenations with them) are scanned.
          for (const el of index.scanned) {
            const d = el.data;
            if (d && typeof d === 'object' && 'verdict' in d && partMatch(el.key, x)) return verdictOp(d);
          }
          return undefined;
        },
      },
    ];
  }
  if ('nat' in s) return [natOp(s.nat)];
  if ('reject' in s) {
    const r = s.reject;
    const w = r.type === undefined ? DEFAULT_REJECT[family] ?? 'icmp port-unreachable' : `${r.type}${r.code ? ' ' + r.code : ''}`;
    return [{ op: 'verdict', verdict: { v: 'reject', with: w } }];
  }
  if ('mangle' in s) {
    const { key: k, value } = s.mangle;
    const isMark = 'meta' in k && k.meta === 'mark';
    const isCtMark = 'ct' in k && k.ct.key === 'mark' && k.ct.dir === undefined;
    if (!isMark && !isCtMark) return [{ op: 'unsupported', what: text, assumed: 'continued', why: 'a field netpath does not model' }];
    const read = typeof value === 'number' ? undefined : typeof value === 'object' && !('set' in value) && !('ref' in value) && !('prefix' in value) && !('range' in value) && !('verdict' in value) && !('concat' in value && Array.isArray(value.concat) && value.concat.every((x) => typeof x !== 'object')) ? reader(value as NftExpr) : undefined;
    const compute = (p: NfPacket, c: NfContext): number | undefined => {
      if (typeof value === 'number') return value >>> 0;
      const x = read?.(p, c);
      return x?.t === 'num' ? x.n >>> 0 : undefined;
    };
    if (typeof value !== 'number' && !read) return [{ op: 'unsupported', what: text, assumed: 'continued', why: 'a mark value netpath does not model' }];
    if (isMark) return [{ op: 'mark', apply: (p) => compute(p, NO_CTX) ?? p.mark }];
    return [{ op: 'connmark', apply: (p) => ({ mark: p.mark, ctmark: compute(p, NO_CTX) ?? p.ctmark ?? 0 }) }];
  }
  if ('setop' in s) return [{ op: 'noop', what: text, note: { match: `@${s.setop.set}`, note: 'added-to-list', detail: `the packet's ${describeExpr(s.setop.elem)} is added to set ${s.setop.set}` } }];
  if ('counter' in s) return [{ op: 'noop', what: 'counter' }];
  if ('log' in s) return [{ op: 'noop', what: 'log' }];
  if ('notrack' in s) return [{ op: 'notrack' }];
  return [{ op: 'unsupported', what: s.unknown, assumed: 'continued', why: 'a statement netpath does not model' }];
}

/** Marks are computed from the packet alone; no host fact is needed. */
const NO_CTX: NfContext = { addrType: () => undefined, masqueradeAddress: () => undefined, primaryAddress: () => undefined };

function describeExpr(e: NftExpr): string {
  if ('payload' in e) return `${e.payload.protocol} ${e.payload.field}`;
  if ('meta' in e) return `meta ${e.meta}`;
  if ('concat' in e) return e.concat.map(describeExpr).join(' . ');
  return 'value';
}

/** Exact destination / protocol / port a rule requires (for long chains such as iptables-nft's KUBE-SERVICES). */
function indexKey(statements: readonly NftStatement[]): IndexKey | undefined {
  const k: IndexKey = {};
  for (const s of statements) {
    if (!('match' in s) || s.match.op !== '==') continue;
    const { left, right } = s.match;
    if ('payload' in left && (left.payload.field === 'daddr') && (left.payload.protocol === 'ip' || left.payload.protocol === 'ip6') && typeof right === 'string') {
      const a = parseAddr(right);
      if (a) k.dst = a.toString();
    } else if ('meta' in left && left.meta === 'l4proto' && (right === 'tcp' || right === 'udp' || right === 'sctp')) k.proto = right;
    else if ('payload' in left && ['tcp', 'udp', 'sctp'].includes(left.payload.protocol) && left.payload.field === 'dport' && typeof right === 'number') {
      k.proto = left.payload.protocol as 'tcp' | 'udp' | 'sctp';
      k.dport = right;
    }
  }
  if (k.dport !== undefined && k.proto === undefined) delete k.dport;
  return k.dst !== undefined || k.proto !== undefined ? k : undefined;
}

type NftRec = NftTableRecord | NftChainRecord | NftRuleRecord | NftSetRecord;

/** Compiles an nft ruleset; `skipTables` (family/name) are left out (iptables-nft's, read from iptables-save). */
export function compileNft(host: string, records: readonly NftRec[], skipTables: ReadonlySet<string>): Chain[] {
  const ev = (src: { line: number; raw: string }): NfEvidence => ({ host, probe: 'nft', line: src.line, raw: src.raw });
  const sets = new Map<string, { rec: NftSetRecord; index: ElementIndex }>();
  const chains = new Map<string, Chain>();
  const skip = (family: string, table: string) => skipTables.has(`${family} ${table}`) || tableFamilies(family).length === 0;
  for (const r of records) {
    if (r.kind === 'nft-set' && !skip(r.family, r.table)) sets.set(`${r.family} ${r.table}\u0000${r.name}`, { rec: r, index: elementIndex(r.elements) });
    if (r.kind !== 'nft-chain' || skip(r.family, r.table)) continue;
    const c: Chain = { source: 'nft', family: r.family, table: r.table, name: r.name, rules: [] };
    const hook = r.hook as Hook | undefined;
    if (hook && ['prerouting', 'input', 'forward', 'output', 'postrouting'].includes(hook) && r.priority !== undefined) {
      c.base = { hook, priority: r.priority, type: r.type === 'nat' ? 'nat' : r.type === 'route' ? 'route' : 'filter', policy: r.policy ?? 'accept', evidence: ev(r.src) };
    }
    chains.set(`${r.family} ${r.table}\u0000${r.name}`, c);
  }
  for (const r of records) {
    if (r.kind !== 'nft-rule' || skip(r.family, r.table)) continue;
    const c = chains.get(`${r.family} ${r.table}\u0000${r.chain}`);
    if (!c) continue;
    const prefix = `${r.family} ${r.table}\u0000`;
    const view: SetTable = (name) => sets.get(prefix + name);
    const text = r.src.raw.trim();
    const ops = r.statements.flatMap((s) => statementOps(s, r.family, view, text));
    const rule: Rule = { index: c.rules.length + 1, evidence: ev(r.src), ops };
    const k = indexKey(r.statements);
    if (k) rule.key = k;
    c.rules.push(rule);
  }
  for (const c of chains.values()) buildIndex(c);
  return [...chains.values()];
}

export type { TestResult };
