// iptables-save / ip6tables-save records -> chains of the common form (ir.ts). Each match option is a
// test; the target is the last operation. What netpath cannot decide from a packet and the capture
// is an `unknown` test or an `unsupported` operation, so the rule is named in the result.
import { recentMatches, type RecentCheck } from './recent';
import type { Addr, Family } from '../../net/addr';
import type { IptablesChainRecord, IptablesMatch, IptablesOption, IptablesRuleRecord } from '../../parsers';
import { setMember, type IpsetSet } from './ipsets';
import {
  buildIndex,
  icmpType,
  ifaceTest,
  markValue,
  parseAddr,
  parsePrefix,
  portRange,
  prefixTest,
  protoIs,
  protoName,
  tcpFlags,
  type Chain,
  type IndexKey,
  type Op,
  type Rule,
  type Test,
  type TestResult,
} from './ir';
import type { AddrType, Hook, L4, NfEvidence, NfPacket } from './types';

/** The built-in chains of each table and the priority of each table (include/uapi/linux/netfilter_ipv4.h). */
export const TABLE_HOOKS: Record<string, { hooks: Partial<Record<string, Hook>>; priority: (hook: Hook) => number; type: 'filter' | 'nat' | 'route' }> = {
  raw: { hooks: { PREROUTING: 'prerouting', OUTPUT: 'output' }, priority: () => -300, type: 'filter' },
  mangle: {
    hooks: { PREROUTING: 'prerouting', INPUT: 'input', FORWARD: 'forward', OUTPUT: 'output', POSTROUTING: 'postrouting' },
    priority: () => -150,
    type: 'filter',
  },
  nat: {
    hooks: { PREROUTING: 'prerouting', INPUT: 'input', OUTPUT: 'output', POSTROUTING: 'postrouting' },
    priority: (h) => (h === 'prerouting' || h === 'output' ? -100 : 100),
    type: 'nat',
  },
  filter: { hooks: { INPUT: 'input', FORWARD: 'forward', OUTPUT: 'output' }, priority: () => 0, type: 'filter' },
  security: { hooks: { INPUT: 'input', FORWARD: 'forward', OUTPUT: 'output' }, priority: () => 50, type: 'filter' },
};

const BUILT_IN: ReadonlySet<string> = new Set(['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING']);

const ICMP_TYPES: Record<string, number> = {
  'echo-reply': 0, 'destination-unreachable': 3, 'source-quench': 4, redirect: 5, 'echo-request': 8, 'router-advertisement': 9,
  'router-solicitation': 10, 'time-exceeded': 11, 'parameter-problem': 12, 'timestamp-request': 13, 'timestamp-reply': 14, any: -1,
};
const ICMP6_TYPES: Record<string, number> = {
  'destination-unreachable': 1, 'packet-too-big': 2, 'time-exceeded': 3, 'parameter-problem': 4, 'echo-request': 128, 'echo-reply': 129,
  'router-solicitation': 133, 'router-advertisement': 134, 'neighbour-solicitation': 135, 'neighbor-solicitation': 135,
  'neighbour-advertisement': 136, 'neighbor-advertisement': 136, redirect: 137,
};

const ADDR_TYPES = new Set(['UNSPEC', 'UNICAST', 'LOCAL', 'BROADCAST', 'ANYCAST', 'MULTICAST', 'BLACKHOLE', 'UNREACHABLE', 'PROHIBIT', 'THROW', 'NAT', 'XRESOLVE']);

interface Ctx {
  family: Family;
  sets: ReadonlyMap<string, IpsetSet>;
}

const not = (t: Test, negated: boolean | undefined): Test =>
  negated
    ? (p, c, n) => {
        const r = t(p, c, n);
        return typeof r === 'boolean' ? !r : 'fork' in r ? { fork: r.fork.map((f) => ({ p: f.p, result: !f.result })) } : r;
      }
    : t;

const unknown = (what: string): Test => () => ({ unknown: what });

function v(o: IptablesOption, i = 0): string {
  return o.values[i] ?? '';
}

/** Prefix tests by their text: a kube-proxy rule set names the pod CIDR in thousands of rules. */
const prefixTests = new Map<string, ((a: Addr) => boolean) | undefined>();
function cachedPrefixTest(text: string) {
  if (prefixTests.has(text)) return prefixTests.get(text);
  const p = parsePrefix(text);
  const t = p ? prefixTest(p) : undefined;
  if (prefixTests.size > 100_000) prefixTests.clear();
  prefixTests.set(text, t);
  return t;
}

function addrTest(o: IptablesOption, field: 'src' | 'dst'): Test {
  // iptables-save prints one address a rule; `-s a,b` typed by hand is a list.
  const tests = v(o).split(',').map(cachedPrefixTest);
  if (tests.some((t) => t === undefined)) return unknown(`${o.name} ${v(o)}: not an address or prefix`);
  return not((pkt) => tests.some((t) => t!(pkt[field])), o.negated);
}

function portTest(o: IptablesOption, field: 'sport' | 'dport' | 'both'): Test {
  const ranges = v(o).split(',').map(portRange);
  if (ranges.some((r) => r === undefined)) return unknown(`--${o.name} ${v(o)}: not a port list`);
  const hit = (p: number | undefined) => p !== undefined && ranges.some((r) => p >= r![0] && p <= r![1]);
  return not((pkt) => (field === 'both' ? hit(pkt.sport) || hit(pkt.dport) : hit(pkt[field])), o.negated);
}

function tcpFlagsTest(mask: string, comp: string): Test {
  const all = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR'];
  const words = (s: string) => (s === 'ALL' ? all : s === 'NONE' ? [] : s.split(','));
  const m = words(mask);
  const c = new Set(words(comp));
  return (pkt) => {
    if (pkt.proto !== 'tcp') return false;
    const f = tcpFlags(pkt);
    return m.every((flag) => f.has(flag) === c.has(flag));
  };
}

function ctStates(pkt: NfPacket): Set<string> {
  const s = new Set<string>();
  s.add(pkt.connection === 'new' ? 'NEW' : pkt.connection === 'untracked' ? 'UNTRACKED' : 'ESTABLISHED');
  for (const x of pkt.ctStatus ?? []) s.add(x.toUpperCase());
  return s;
}

function addrTypeTest(o: IptablesOption, field: 'src' | 'dst'): Test {
  const types = v(o).split(',').map((t) => t.toUpperCase());
  if (!types.every((t) => ADDR_TYPES.has(t))) return unknown(`--${o.name} ${v(o)}`);
  return not((pkt, ctx) => {
    const t = ctx.addrType(pkt[field]);
    if (t === undefined) return { unknown: `addrtype of ${pkt[field]}: the host's address types are unknown` };
    return types.includes(t.toUpperCase() as Uppercase<AddrType>);
  }, o.negated);
}

function moduleTests(m: IptablesMatch, x: Ctx): Test[] {
  const out: Test[] = [];
  const opts = m.options;
  const mod = m.module;
  for (const o of opts) {
    switch (`${mod}/${o.name}`) {
      case '/source':
        out.push(addrTest(o, 'src'));
        break;
      case '/destination':
        out.push(addrTest(o, 'dst'));
        break;
      case '/in-interface': {
        const t = ifaceTest(v(o));
        out.push(not((p) => t(p.iif), o.negated));
        break;
      }
      case '/out-interface': {
        const t = ifaceTest(v(o));
        out.push(not((p) => t(p.oif), o.negated));
        break;
      }
      case '/protocol': {
        const name = protoName(v(o));
        if (!name) out.push(unknown(`-p ${v(o)}`));
        else out.push(not((p) => protoIs(p, name), o.negated));
        break;
      }
      case '/fragment':
        // netpath walks whole packets: never a second fragment.
        out.push(not(() => false, o.negated));
        break;
      case 'tcp/dport':
      case 'udp/dport':
      case 'sctp/dport':
      case 'udplite/dport':
        out.push(portTest(o, 'dport'));
        break;
      case 'tcp/sport':
      case 'udp/sport':
      case 'sctp/sport':
      case 'udplite/sport':
        out.push(portTest(o, 'sport'));
        break;
      case 'tcp/tcp-flags':
        out.push(not(tcpFlagsTest(v(o, 0), v(o, 1)), o.negated));
        break;
      case 'tcp/syn':
        out.push(not(tcpFlagsTest('FIN,SYN,RST,ACK', 'SYN'), o.negated));
        break;
      case 'multiport/dports':
      case 'multiport/destination-ports':
        out.push(portTest(o, 'dport'));
        break;
      case 'multiport/sports':
      case 'multiport/source-ports':
        out.push(portTest(o, 'sport'));
        break;
      case 'multiport/ports':
        out.push(portTest(o, 'both'));
        break;
      case 'icmp/icmp-type':
      case 'icmp6/icmpv6-type':
      case 'ipv6-icmp/icmpv6-type':
      case 'icmpv6/icmpv6-type': {
        const six = mod !== 'icmp';
        const [name] = v(o).split('/');
        const type = /^\d+$/.test(name!) ? Number(name) : (six ? ICMP6_TYPES : ICMP_TYPES)[name!];
        if (type === undefined) out.push(unknown(`--${o.name} ${v(o)}`));
        else out.push(not((p) => p.proto === 'icmp' && (type === -1 || icmpType(p) === type), o.negated));
        break;
      }
      case 'comment/comment':
        break;
      case 'mark/mark':
      case 'connmark/mark': {
        const mv = markValue(v(o));
        if (!mv) out.push(unknown(`--mark ${v(o)}`));
        else {
          const conn = mod === 'connmark';
          out.push(not((p) => (((conn ? (p.ctmark ?? 0) : p.mark) & mv.mask) >>> 0) === mv.value, o.negated));
        }
        break;
      }
      case 'conntrack/ctstate':
      case 'state/state': {
        const want = v(o).split(',').map((s) => s.toUpperCase());
        out.push(not((p) => {
          const have = ctStates(p);
          return want.some((w) => have.has(w));
        }, o.negated));
        break;
      }
      case 'conntrack/ctstatus': {
        const want = v(o).split(',').map((s) => s.toUpperCase());
        out.push(not((p) => {
          const have = new Set(p.connection === 'established' ? ['SEEN_REPLY', 'ASSURED', 'CONFIRMED'] : ['NONE']);
          return want.some((w) => have.has(w));
        }, o.negated));
        break;
      }
      case 'conntrack/ctdir': {
        // The packets netpath walks go in the connection's original direction.
        out.push(not(() => v(o).toUpperCase() === 'ORIGINAL', o.negated));
        break;
      }
      case 'addrtype/src-type':
        out.push(addrTypeTest(o, 'src'));
        break;
      case 'addrtype/dst-type':
        out.push(addrTypeTest(o, 'dst'));
        break;
      case 'addrtype/limit-iface-in':
      case 'addrtype/limit-iface-out':
        break;
      case 'statistic/mode':
        if (v(o) !== 'random') out.push(unknown(`-m statistic --mode ${v(o)} (depends on the count of packets seen so far)`));
        break;
      case 'statistic/probability': {
        const p = Number(v(o));
        if (!Number.isFinite(p) || p < 0 || p > 1) out.push(unknown(`--probability ${v(o)}`));
        else out.push(not(() => ({ fork: [{ p, result: true }, { p: 1 - p, result: false }] }), o.negated));
        break;
      }
      case 'statistic/every':
      case 'statistic/packet':
        break;
      case 'physdev/physdev-in': {
        const t = ifaceTest(v(o));
        out.push(not((p) => t(p.physIn), o.negated));
        break;
      }
      case 'physdev/physdev-out': {
        const t = ifaceTest(v(o));
        out.push(not((p) => t(p.physOut), o.negated));
        break;
      }
      case 'physdev/physdev-is-in':
        out.push(not((p) => p.physIn !== undefined, o.negated));
        break;
      case 'physdev/physdev-is-out':
        out.push(not((p) => p.physOut !== undefined, o.negated));
        break;
      case 'physdev/physdev-is-bridged':
        out.push(not((p) => p.physIn !== undefined && p.physOut !== undefined, o.negated));
        break;
      case 'set/match-set': {
        const name = v(o, 0);
        const flags = v(o, 1).split(',');
        out.push(not((p) => {
          const a = setMember(x.sets, name, flags, p);
          return 'unknown' in a ? { unknown: a.unknown } : a.member;
        }, o.negated));
        break;
      }
      case 'set/return-nomatch':
      case 'set/update-counters':
      case 'set/update-subcounters':
        break;
      case 'recent/name':
      case 'recent/mask':
      case 'recent/rsource':
      case 'recent/rdest':
      case 'recent/reap':
      case 'recent/seconds':
      case 'recent/hitcount':
      case 'recent/rttl':
        break;
      case 'recent/rcheck':
      case 'recent/update':
      case 'recent/remove': {
        const name = opts.find((q) => q.name === 'name')?.values[0] ?? 'DEFAULT';
        const seconds = opts.find((q) => q.name === 'seconds')?.values[0];
        const mask = opts.find((q) => q.name === 'mask')?.values[0];
        // The lists live in /proc/net/xt_recent: the xt_recent probe's records answer (recent.ts).
        const check: RecentCheck = { list: name, rdest: opts.some((q) => q.name === 'rdest'), ...(seconds !== undefined && /^\d+$/.test(seconds) ? { seconds: Number(seconds) } : {}), ...(mask !== undefined ? { mask } : {}) };
        out.push(not((p, c, notes) => recentMatches(check, p, c, notes), o.negated));
        break;
      }
      case 'recent/set': {
        const name = opts.find((q) => q.name === 'name')?.values[0] ?? 'DEFAULT';
        out.push(not((_p, _c, notes) => {
          notes.push({ match: `recent ${name}`, note: 'added-to-list', detail: `the client's address is added to list ${name}` });
          return true;
        }, o.negated));
        break;
      }
      case 'limit/limit':
      case 'limit/limit-burst':
      case 'hashlimit/hashlimit-upto':
      case 'hashlimit/hashlimit-above':
        if (o.name === 'limit' || o.name === 'hashlimit-upto')
          out.push(not((_p, _c, notes) => {
            notes.push({ match: `${mod} ${v(o)}`, note: 'within-rate' });
            return true;
          }, o.negated));
        else if (o.name === 'hashlimit-above') out.push(not(() => false, o.negated));
        break;
      case 'pkttype/pkt-type': {
        const want = v(o).toLowerCase();
        out.push(not((p, ctx) => {
          const t = ctx.addrType(p.dst);
          const kind = p.dst.isMulticast() ? 'multicast' : t === 'broadcast' ? 'broadcast' : t === undefined ? undefined : 'unicast';
          if (kind === undefined) return { unknown: `pkttype of ${p.dst}: the host's address types are unknown` };
          return kind === want;
        }, o.negated));
        break;
      }
      case 'iprange/src-range':
      case 'iprange/dst-range': {
        const [a, b] = v(o).split('-').map((s) => parseAddr(s));
        if (!a || !b) out.push(unknown(`--${o.name} ${v(o)}`));
        else {
          const field = o.name === 'src-range' ? 'src' : 'dst';
          out.push(not((p) => p[field].compare(a) >= 0 && p[field].compare(b) <= 0, o.negated));
        }
        break;
      }
      case 'length/length': {
        const r = portRange(v(o));
        if (!r) out.push(unknown(`--length ${v(o)}`));
        else out.push(not((p) => (p.length === undefined ? { unknown: 'the packet length is not given' } : p.length >= r[0] && p.length <= r[1]), o.negated));
        break;
      }
      case 'policy/dir':
      case 'policy/pol': {
        if (o.name === 'pol') {
          const none = v(o) === 'none';
          out.push(not((_p, _c, notes) => {
            notes.push({ match: 'policy', note: 'no-ipsec' });
            return none;
          }, o.negated));
        }
        break;
      }
      default:
        out.push(unknown(`-m ${mod}${o.name ? ` --${o.name}` : ''}${o.values.length ? ' ' + o.values.join(' ') : ''}`));
    }
  }
  // A module with no options that netpath knows nothing about still decides something.
  if (opts.length === 0 && !['', 'tcp', 'udp', 'sctp', 'udplite', 'icmp', 'icmp6', 'comment'].includes(mod)) out.push(unknown(`-m ${mod}`));
  return out;
}

/** `10.0.0.1:80`, `10.0.0.1-10.0.0.3:80-90`, `[fd00::1]:80`, `:8080` -> address (first of a range) and ports. */
export function natTarget(text: string): { addr?: string; range: boolean; port?: number; portTo?: number } | undefined {
  let addr = text;
  let ports: string | undefined;
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    addr = text.slice(1, end);
    if (text[end + 1] === ':') ports = text.slice(end + 2);
  } else if ((text.match(/:/g) ?? []).length === 1) {
    [addr, ports] = [text.slice(0, text.indexOf(':')), text.slice(text.indexOf(':') + 1)];
  }
  const range = addr.includes('-');
  const first = addr.split('-')[0]!;
  const out: { addr?: string; range: boolean; port?: number; portTo?: number } = { range };
  if (first !== '') out.addr = first;
  if (ports !== undefined) {
    const r = portRange(ports);
    if (!r) return undefined;
    out.port = r[0];
    if (r[1] !== r[0]) {
      out.portTo = r[1];
      out.range = true;
    }
  }
  return out;
}

function targetOps(rec: IptablesRuleRecord, chains: IptablesChains, table: string, family: Family): Op[] {
  const t = rec.target;
  if (t === undefined) return [];
  const opt = (name: string) => rec.targetOptions.find((o) => o.name === name);
  const has = (name: string) => opt(name) !== undefined;
  switch (t) {
    case 'ACCEPT':
      return [{ op: 'verdict', verdict: { v: 'accept' } }];
    case 'DROP':
      return [{ op: 'verdict', verdict: { v: 'drop' } }];
    case 'RETURN':
      return [{ op: 'verdict', verdict: { v: 'return' } }];
    case 'QUEUE':
    case 'NFQUEUE':
      return [{ op: 'unsupported', what: `-j ${t}`, assumed: 'accepted', why: 'a userspace program decides queued packets; assumed to accept them' }];
    case 'REJECT':
      return [{ op: 'verdict', verdict: { v: 'reject', with: opt('reject-with')?.values[0] ?? (family === 6 ? 'icmp6-port-unreachable' : 'icmp-port-unreachable') } }];
    case 'DNAT':
    case 'SNAT': {
      const to = opt(t === 'DNAT' ? 'to-destination' : 'to-source')?.values[0];
      const nt = to === undefined ? undefined : natTarget(to);
      if (!nt) return [{ op: 'unsupported', what: `-j ${t} ${to ?? ''}`, assumed: 'continued', why: 'the NAT target is not an address[:port]' }];
      const a = nt.addr === undefined ? undefined : parseAddr(nt.addr);
      return [{ op: 'nat', kind: t === 'DNAT' ? 'dnat' : 'snat', ...(a && { addr: a }), ...(nt.port !== undefined && { port: nt.port }), ...(nt.portTo !== undefined && { portTo: nt.portTo }), random: has('random') || has('random-fully'), range: nt.range }];
    }
    case 'MASQUERADE':
    case 'REDIRECT': {
      const ports = opt('to-ports')?.values[0];
      const r = ports === undefined ? undefined : portRange(ports.replace('-', ':'));
      return [{ op: 'nat', kind: t === 'MASQUERADE' ? 'masquerade' : 'redirect', ...(r && { port: r[0] }), ...(r && r[1] !== r[0] && { portTo: r[1] }), random: has('random') || has('random-fully'), range: r !== undefined && r[1] !== r[0] }];
    }
    case 'MARK':
    case 'CONNMARK':
      return [markOp(rec, t)];
    case 'CT':
      if (has('notrack')) return [{ op: 'notrack' }];
      return [{ op: 'noop', what: `-j CT ${rec.targetOptions.map((o) => `--${o.name} ${o.values.join(' ')}`.trim()).join(' ')}` }];
    case 'NOTRACK':
      return [{ op: 'notrack' }];
    case 'LOG':
    case 'NFLOG':
    case 'ULOG':
    case 'TRACE':
    case 'AUDIT':
    case 'CHECKSUM':
    case 'TCPMSS':
    case 'TCPOPTSTRIP':
    case 'DSCP':
    case 'TOS':
    case 'CLASSIFY':
    case 'IDLETIMER':
    case 'SECMARK':
    case 'CONNSECMARK':
    case 'RATEEST':
    case 'TTL':
    case 'HL':
      return [{ op: 'noop', what: `-j ${t}` }];
  }
  if (chains.hasChain(table, t)) return [{ op: 'verdict', verdict: { v: rec.goto ? 'goto' : 'jump', chain: t } }];
  return [{ op: 'unsupported', what: `-j ${t}`, assumed: 'continued', why: `${t} is neither a chain of this table nor a target netpath models` }];
}

function markOp(rec: IptablesRuleRecord, t: 'MARK' | 'CONNMARK'): Op {
  const o = rec.targetOptions[0];
  const mv = o ? markValue(o.values[0] ?? '') : undefined;
  const bad: Op = { op: 'unsupported', what: `-j ${t} ${rec.targetOptions.map((x) => `--${x.name} ${x.values.join(' ')}`).join(' ')}`, assumed: 'continued', why: 'a mark option netpath does not model' };
  const apply = (name: string, cur: number): number | undefined => {
    if (!mv && name !== 'save-mark' && name !== 'restore-mark') return undefined;
    switch (name) {
      case 'set-xmark':
        return ((cur & ~mv!.mask) ^ mv!.value) >>> 0;
      case 'set-mark':
        return ((cur & ~mv!.mask) | mv!.value) >>> 0;
      case 'or-mark':
        return (cur | mv!.value) >>> 0;
      case 'and-mark':
        return (cur & mv!.value) >>> 0;
      case 'xor-mark':
        return (cur ^ mv!.value) >>> 0;
    }
    return undefined;
  };
  if (!o) return bad;
  if (t === 'MARK') {
    if (apply(o.name, 0) === undefined) return bad;
    return { op: 'mark', apply: (p) => apply(o.name, p.mark)! };
  }
  const maskOf = (n: string) => markValue(rec.targetOptions.find((x) => x.name === n)?.values[0] ?? '0xffffffff')?.value ?? 0xffffffff;
  if (o.name === 'save-mark') {
    const nf = maskOf('nfmask') & maskOf('mask');
    const ct = maskOf('ctmask') & maskOf('mask');
    return { op: 'connmark', apply: (p) => ({ mark: p.mark, ctmark: (((p.ctmark ?? 0) & ~ct) | (p.mark & nf)) >>> 0 }) };
  }
  if (o.name === 'restore-mark') {
    const nf = maskOf('nfmask') & maskOf('mask');
    const ct = maskOf('ctmask') & maskOf('mask');
    return { op: 'connmark', apply: (p) => ({ mark: ((p.mark & ~nf) | ((p.ctmark ?? 0) & ct)) >>> 0, ctmark: p.ctmark ?? 0 }) };
  }
  if (apply(o.name, 0) === undefined) return bad;
  return { op: 'connmark', apply: (p) => ({ mark: p.mark, ctmark: apply(o.name, p.ctmark ?? 0)! }) };
}

/**
 * The line shape kube-proxy writes for every Service port in KUBE-SERVICES and KUBE-NODEPORTS:
 * `-A CHAIN [-d ADDR/32] -p PROTO -m comment --comment "..." -m PROTO --dport N -j TARGET`.
 */
const SERVICE_RULE = /^-A \S+ (?:-d ([0-9A-Fa-f.:]+\/(?:32|128)) )?-p (tcp|udp|sctp) -m comment --comment "[^"\\]*" -m (?:tcp|udp|sctp) --dport (\d+) -j \S+$/;

/** `A.B.C.D/32`, each octet 0-255 in decimal without leading zeros. */
const CANONICAL_V4_HOST = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\/32$/;

/**
 * The index key of a rule line (trimmed, no counters) of kube-proxy's Service shape, read without
 * splitting it: what indexKey gives for its record. `null`: not that shape (compile the rule to know).
 */
export function serviceRuleKey(raw: string): IndexKey | undefined | null {
  const m = SERVICE_RULE.exec(raw);
  if (!m) return null;
  const key: IndexKey = {};
  // An IPv4 address printed the way Addr prints it is its own key (no parse: KUBE-SERVICES has 10,000).
  if (m[1] !== undefined && CANONICAL_V4_HOST.test(m[1])) key.dst = m[1].slice(0, -3);
  else if (m[1] !== undefined) {
    const p = parsePrefix(m[1]);
    if (p && p.length === p.addr.bits) key.dst = p.addr.toString();
  }
  key.proto = m[2] as L4;
  key.dport = Number(m[3]);
  return key;
}

/** The exact destination, protocol and port a rule requires, for the chain's index. */
function indexKey(rec: IptablesRuleRecord): IndexKey | undefined {
  const key: IndexKey = {};
  for (const m of rec.matches) {
    for (const o of m.options) {
      if (o.negated) continue;
      if (m.module === '' && o.name === 'destination') {
        const p = parsePrefix(v(o));
        if (p && p.length === p.addr.bits && !v(o).includes(',')) key.dst = p.addr.toString();
      } else if (m.module === '' && o.name === 'protocol') {
        const n = protoName(v(o));
        if (n === 'tcp' || n === 'udp' || n === 'sctp') key.proto = n as L4;
      } else if ((m.module === 'tcp' || m.module === 'udp' || m.module === 'sctp') && o.name === 'dport' && /^\d+$/.test(v(o))) {
        key.dport = Number(v(o));
      }
    }
  }
  if (key.dport !== undefined && key.proto === undefined) delete key.dport;
  return key.dst !== undefined || key.proto !== undefined ? key : undefined;
}

/**
 * The chains of one family's iptables tables. Chains are declared in text order (by a declaration or
 * the first rule that names them); rules are compiled onto their chain one record at a time, so a
 * caller may compile only the chains a packet reaches.
 */
export class IptablesChains {
  /** In the order they were declared. */
  readonly chains: Chain[] = [];
  /** By table, then name; the names are the targets a `-j NAME` in that table may jump to. */
  private readonly tables = new Map<string, Map<string, Chain>>();
  private readonly x: Ctx;
  private readonly fam: string;

  constructor(
    private readonly host: string,
    private readonly probe: 'iptables' | 'ip6tables',
    private readonly family: Family,
    sets: ReadonlyMap<string, IpsetSet>,
    /** Whether `table` has a chain `name` (a jump target), when the caller knows more chains than it made here. */
    private readonly known?: (table: string, name: string) => boolean,
  ) {
    this.x = { family, sets };
    this.fam = family === 4 ? 'ip' : 'ip6';
  }

  private ev(src: { line: number; raw: string }): NfEvidence {
    return { host: this.host, probe: this.probe, line: src.line, raw: src.raw };
  }

  /** The chain `name` of `table`, made on first mention. */
  chain(table: string, name: string): Chain {
    let named = this.tables.get(table);
    if (!named) this.tables.set(table, (named = new Map()));
    let c = named.get(name);
    if (!c) {
      c = { source: 'iptables', family: this.fam, table, name, rules: [] };
      // A Set first: looking a name up as an object key would intern each of 40,000 chain names.
      const th = BUILT_IN.has(name) ? TABLE_HOOKS[table] : undefined;
      const hook = th?.hooks[name];
      if (th && hook) c.base = { hook, priority: th.priority(hook), type: th.type, policy: 'accept' };
      named.set(name, c);
      this.chains.push(c);
    }
    return c;
  }

  /** Whether `table` has a chain `name` (a jump target). */
  hasChain(table: string, name: string): boolean {
    return this.known ? this.known(table, name) : (this.tables.get(table)?.has(name) ?? false);
  }

  /** A declaration of chain `c` (`:CHAIN POLICY`, `-P`, `-N`): a built-in chain's policy, and its line as evidence. */
  declared(c: Chain, policy: string | undefined, line: number, raw: string): void {
    if (!c.base) return;
    if (!c.base.evidence) c.base.evidence = this.ev({ line, raw });
    if (policy === 'DROP' || policy === 'ACCEPT') c.base.policy = policy === 'DROP' ? 'drop' : 'accept';
  }

  /** Compiles one rule record onto the end of its chain (every chain must be declared by now). */
  rule(c: Chain, r: IptablesRuleRecord): void {
    c.rules.push(this.compile(c, r, c.rules.length + 1));
  }

  /** The rule at 1-based position `index` of chain `c`, compiled from its record. */
  compile(c: Chain, r: IptablesRuleRecord, index: number): Rule {
    const ops: Op[] = [];
    for (const m of r.matches) for (const t of moduleTests(m, this.x)) ops.push({ op: 'test', test: t, what: () => describeMatch(m) });
    // No closure here: the match closures below would keep this call's scope alive, one per rule.
    for (const o of targetOps(r, this, c.table, this.family)) ops.push(o);
    // An exact copy: an array grown by push keeps room for 16.
    const rule: Rule = { index, evidence: this.ev(r.src), ops: ops.slice() };
    const key = indexKey(r);
    if (key) rule.key = key;
    return rule;
  }
}

/** Compiles every chain and rule of one family's records at once. */
export function compileIptables(host: string, probe: 'iptables' | 'ip6tables', family: Family, records: readonly (IptablesChainRecord | IptablesRuleRecord)[], sets: ReadonlyMap<string, IpsetSet>): Chain[] {
  const t = new IptablesChains(host, probe, family, sets);
  for (const r of records) {
    if (r.table === undefined) continue;
    const c = t.chain(r.table, r.chain);
    if (r.kind === 'iptables-chain') t.declared(c, r.policy, r.src.line, r.src.raw);
  }
  for (const r of records) if (r.kind === 'iptables-rule' && r.table !== undefined) t.rule(t.chain(r.table, r.chain), r);
  for (const c of t.chains) buildIndex(c);
  return t.chains;
}

function describeMatch(m: IptablesMatch): string {
  const opts = m.options.map((o) => `${o.negated ? '! ' : ''}--${o.name}${o.values.length ? ' ' + o.values.join(' ') : ''}`).join(' ');
  return m.module ? `-m ${m.module} ${opts}`.trim() : opts;
}

export type { TestResult };
