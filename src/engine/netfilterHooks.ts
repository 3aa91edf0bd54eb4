// The adapter between the walk's hook points (walk/hooks.ts) and the netfilter evaluator
// (netfilter/): each host's rule set is built once, on the first hook the walk reaches there, from its
// probes (iptables, ip6tables, nft, ipset, ipvs); a walk Packet becomes an NfPacket, the host's
// namespace answers the evaluator's questions (address types from the local table, the address
// MASQUERADE takes, a device's primary address), and each NfOutcome becomes a HookOutcome whose steps
// quote the rule lines. A host without rules gives no answer at all (accept, no steps), so captures
// without rules trace exactly as they did before netfilter was in the walk.
import { Addr, type Family } from '../net/addr';
import { ipvsLookup, runHook, buildRuleset, type AddrType, type NetfilterProbe, type NfContext, type NfEvidence, type NfOutcome, type NfPacket, type NfStep, type RecentEntry, type RuleAction, type Ruleset, type RulesetNote } from './netfilter';
import { parseProbe } from '../parsers';
import { recentClock } from '../parsers/xtRecent';
import { inetSelectAddr, type Netns } from './netns';
import type { Host } from '../capture/document';
import { inferServiceHook } from './serviceHooks';
import type { ServiceIndex } from './services';
import { step } from './walk/stage';
import type { HookCall, HookOutcome, NetfilterHooks, Packet } from './walk/packet';
import { netfilterStep } from './walk/hooks';
import type { Step, StepDetail } from './trace';

const RULE_PROBES: readonly NetfilterProbe[] = ['iptables', 'ip6tables', 'nft', 'ipset', 'ipvs'];

/**
 * The Kubernetes Service a kube-proxy rule names: iptables mode puts it first in the rule's comment
 * (`--comment "default/web:http cluster IP"`, `"default/web:http -> 10.244.1.3:8080"`); nftables mode
 * in the chain's name (`service-ULMVA6XW-default/web/tcp/http`, `endpoint-...-default/web/tcp/http__10.244.1.3/8080`).
 */
export function serviceOf(s: NfStep): string | undefined {
  if (s.kind !== 'rule') return undefined;
  const c = /--comment\s+(?:"([^"]*)"|(\S+))/.exec(s.evidence.raw) ?? /(?:^|\s)comment\s+"([^"]*)"/.exec(s.evidence.raw);
  const text = c ? (c[1] ?? c[2] ?? '') : '';
  const m = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?)(:[A-Za-z0-9-]*)?(\s|$)/.exec(text);
  if (m) return m[1]! + (m[4] && m[4] !== ':' ? m[4] : '');
  for (const name of [s.action.kind === 'jump' || s.action.kind === 'goto' ? s.action.chain : '', s.chain]) {
    const n = /^(?:service|external|endpoint|firewall)-[A-Z0-9]+-([a-z0-9][-a-z0-9.]*)\/([a-z0-9][-a-z0-9.]*)\/[a-z]+\/([^_]*)(?:__.*)?$/.exec(name);
    if (n) return `${n[1]}/${n[2]}${n[3] ? `:${n[3]}` : ''}`;
  }
  return undefined;
}

/** RTN type of `addr` in `ns` as inet_addr_type sees it: the local table, else unicast. */
function addrType(ns: Netns, addr: Addr): AddrType | undefined {
  if (addr.isMulticast()) return 'multicast';
  if (addr.family === 4 && addr.toString() === '255.255.255.255') return 'broadcast';
  if (ns.probes.size === 0 && !ns.inferred) return undefined;
  const ans = ns.fib[addr.family].lookup({ dst: addr, iif: 'lo' });
  if (ans.kind === 'route' && ans.route.rec.table === 'local') {
    const t = ans.route.rec.type;
    if (t === 'local' || t === 'broadcast' || t === 'anycast' || t === 'multicast') return t;
  }
  // Anything the local table does not hold is unicast to addrtype (blackhole routes in main included).
  return 'unicast';
}

/**
 * MASQUERADE's new source: for IPv4 inet_select_addr(dev, nexthop, RT_SCOPE_UNIVERSE), as
 * nf_nat_masquerade_ipv4 asks (a device without a global address takes the namespace's first); for
 * IPv6 a usable primary address of the device in dst's subnet, else its first.
 */
function masqueradeAddress(ns: Netns, dev: string, family: Family, dst: Addr): Addr | undefined {
  const iface = ns.ifaces.get(dev);
  if (!iface) return undefined;
  if (family === 4) return inetSelectAddr(ns, iface, dst, 0)?.addr;
  const usable = iface.addrs.filter((a) => a.family === family && a.scope !== 'host' && a.scope !== 'link' && !a.flags.includes('secondary') && !a.flags.includes('tentative') && !a.flags.includes('dadfailed'));
  return (usable.find((a) => a.prefix.masked().contains(dst)) ?? usable[0])?.local;
}

function primaryAddress(ns: Netns, dev: string, family: Family): Addr | undefined {
  return ns.ifaces.get(dev)?.addrs.find((a) => a.family === family && !a.flags.includes('secondary'))?.local;
}

function nfPacket(call: HookCall): NfPacket {
  const p = call.packet;
  // An IPIP outer packet is no TCP/UDP/SCTP/ICMP: rules testing those protocols do not match it.
  const proto = (p.proto === 'ipip' ? 'ipip' : p.proto) as NfPacket['proto'];
  return {
    family: p.dst.family,
    src: p.src,
    dst: p.dst,
    proto,
    ...(p.sport !== undefined ? { sport: p.sport } : {}),
    ...(p.dport !== undefined ? { dport: p.dport } : {}),
    ...(call.iif !== undefined ? { iif: call.iif } : {}),
    ...(call.oif !== undefined ? { oif: call.oif } : {}),
    ...(call.physIn !== undefined ? { physIn: call.physIn } : {}),
    ...(call.physOut !== undefined ? { physOut: call.physOut } : {}),
    mark: p.mark,
    connection: p.connection,
    ...(p.ctStatus && p.ctStatus.ns === call.ns.name ? { ctStatus: [...p.ctStatus.status] } : {}),
    length: p.size,
  };
}

/** The walk's packet as the rules left it: addresses, ports, marks, conntrack's view and NAT status. */
function walkPacket(ns: Netns, before: Packet, after: NfPacket): Packet {
  const p: Packet = { ...before, src: after.src, dst: after.dst, mark: after.mark, connection: after.connection };
  if (after.sport !== undefined) p.sport = after.sport;
  if (after.dport !== undefined) p.dport = after.dport;
  if (after.ctStatus?.length) p.ctStatus = { ns: ns.name, status: [...after.ctStatus] };
  return p;
}

interface HostRules {
  rs: Ruleset;
  ctx: NfContext;
  /** Steps saying what of the host's rules netpath could not use, shown once at the first hook that runs. */
  notes: string[];
}

function noteText(n: RulesetNote): string | undefined {
  switch (n.kind) {
    case 'nft-table-from-iptables':
      return undefined;
    case 'parse-issues':
      return `${n.issues.length} line(s) of the ${n.probe} probe could not be read and are left out (first: line ${n.issues[0]!.line}: ${n.issues[0]!.message})`;
    case 'rules-without-table':
      return `${n.count} ${n.probe} -S rule(s) name no table (-t) and cannot be placed at a hook: left out`;
    case 'chains-without-table':
      return `${n.count} nft chain(s) outside any table (a partial paste) are left out`;
  }
}

/** The netfilter evaluator for a Network: one rule set per host, built when the walk first reaches it. */
export class NetfilterAdapter implements NetfilterHooks {
  private readonly rules = new Map<string, HostRules | null>();

  /**
   * `services`: the capture's Service index (services.ts), asked only for a node whose rules the
   * capture lacks: there it stands in for kube-proxy's rules, every step marked inferred (serviceHooks.ts).
   */
  constructor(private readonly services?: () => ServiceIndex | undefined) {}

  /** Whether any host of `hosts` has rules (a Network whose hosts have none gets no evaluator at all). */
  static hasRules(hosts: Iterable<Host>): boolean {
    for (const h of hosts) if (hostProbes(h)) return true;
    return false;
  }

  private hostRules(ns: Netns): HostRules | undefined {
    const known = this.rules.get(ns.name);
    if (known !== undefined) return known ?? undefined;
    const probes = hostProbes(ns.host);
    if (!probes) {
      this.rules.set(ns.name, null);
      return undefined;
    }
    const rs = buildRuleset(ns.host.name, probes);
    const recent = recentLists(ns);
    const ctx: NfContext = {
      addrType: (addr) => addrType(ns, addr),
      masqueradeAddress: (dev, family, dst) => masqueradeAddress(ns, dev, family, dst),
      primaryAddress: (dev, family) => primaryAddress(ns, dev, family),
      ...(recent ? { recent } : {}),
    };
    const hr: HostRules = { rs, ctx, notes: rs.notes.map(noteText).filter((t): t is string => t !== undefined) };
    this.rules.set(ns.name, hr);
    return hr;
  }

  /** The rule set of a host, for views and tests (undefined: the host has no rules). */
  ruleset(ns: Netns): Ruleset | undefined {
    return this.hostRules(ns)?.rs;
  }

  run(call: HookCall): HookOutcome[] | undefined {
    const hr = this.hostRules(call.ns);
    if (!hr) {
      const ix = call.ns.host.role === 'node' ? this.services?.() : undefined;
      return ix && ix.services.length ? inferServiceHook(ix, call, (dev, family, dst) => masqueradeAddress(call.ns, dev, family, dst)) : undefined;
    }
    const outcomes = runHook(hr.rs, call.hook, nfPacket(call), hr.ctx, call.layer);
    // A hook whose rules did nothing (no rule matched, every chain ended in ACCEPT) adds nothing.
    if (outcomes.length === 1 && quiet(outcomes[0]!)) return [{ verdict: 'accept', packet: call.packet, probability: 1, steps: [] }];
    return outcomes.map((o) => this.outcome(call, hr, o));
  }

  private outcome(call: HookCall, hr: HostRules, o: NfOutcome): HookOutcome {
    const steps: Step[] = [];
    if (hr.notes.length) {
      for (const note of hr.notes) steps.push(step('netfilter', { type: 'nf-ruleset-note', ns: call.ns.name, note }, [], { inferred: true }));
      hr.notes = [];
    }
    let seg: NfStep[] = [];
    const flush = () => {
      // A base chain no rule of which matched and whose policy accepted (an empty mangle table, say) is noise.
      if (seg.every((s) => s.kind === 'chain' || s.kind === 'return' || (s.kind === 'policy' && s.policy === 'accept'))) {
        seg = [];
        return;
      }
      const sum = summary(call, seg);
      if (sum) steps.push(sum);
      for (const s of seg) {
        const svc = serviceOf(s);
        if (svc === undefined) steps.push(netfilterStep(call, s));
        else steps.push(step('netfilter', { type: 'netfilter', ns: call.ns.name, hook: call.hook, layer: call.layer, step: s, service: svc }, 'evidence' in s && s.evidence ? [s.evidence] : []));
      }
      seg = [];
    };
    for (const s of o.steps) {
      if (s.kind === 'chain' || s.kind === 'nat-skipped') flush();
      seg.push(s);
    }
    flush();
    for (const u of o.unevaluated) steps.push(step('netfilter', { type: 'nf-unevaluated', ns: call.ns.name, hook: call.hook, layer: call.layer, rule: u }, [u.evidence], { inferred: true }));
    let verdict: HookOutcome['verdict'];
    switch (o.verdict.kind) {
      case 'accept':
        verdict = 'accept';
        break;
      case 'drop':
        verdict = 'drop';
        break;
      case 'reject':
        verdict = 'reject';
        break;
      case 'queue':
        verdict = 'accept';
        steps.push(step('netfilter', { type: 'nf-queue', ns: call.ns.name, hook: call.hook, layer: call.layer }, [], { inferred: true }));
        break;
    }
    const dnat = [...o.nat].reverse().find((n) => n.kind === 'dnat' || n.kind === 'redirect');
    return {
      verdict,
      packet: walkPacket(call.ns, call.packet, o.packet),
      probability: o.probability,
      steps,
      ...(dnat ? { endpoint: { ip: dnat.after.addr, ...(dnat.after.port !== undefined ? { port: dnat.after.port } : {}) } } : {}),
    };
  }

  /**
   * IPVS at LOCAL_IN (a received packet, ip_vs_remote_request) or LOCAL_OUT (a local one,
   * ip_vs_local_request): the virtual service for the packet and one outcome per real server that can
   * take a new connection, DNATed to it; none: a reject (ip_vs_leave). Undefined: no virtual service.
   */
  ipvs(call: HookCall): HookOutcome[] | undefined {
    const hr = this.hostRules(call.ns);
    if (!hr || hr.rs.ipvs.services.length === 0) return undefined;
    const pkt = nfPacket(call);
    if (pkt.proto === 'icmp') return undefined;
    const m = ipvsLookup(hr.rs, pkt);
    if (!m) return undefined;
    const { evidence: svcEv, ...service } = m.service;
    const base = { type: 'ipvs' as const, ns: call.ns.name, hook: call.hook, service, servers: m.realServers.length, model: m.model };
    const live = m.realServers.filter((r) => r.probability > 0);
    if (live.length === 0) {
      return [{ verdict: 'reject', packet: call.packet, probability: 1, steps: [step('netfilter', base, [svcEv, ...m.realServers.map((r) => r.evidence)])] }];
    }
    return live.map((r) => {
      const dst = Addr.parse(r.addr);
      const { evidence: rsEv, ...server } = r;
      const packet: Packet = dst.ok ? { ...call.packet, dst: dst.value, dport: r.port, ctStatus: { ns: call.ns.name, status: [...new Set([...(pkt.ctStatus ?? []), 'dnat' as const])] } } : call.packet;
      return { verdict: 'accept', packet, probability: r.probability, steps: [step('netfilter', { ...base, server }, [svcEv, rsEv])], endpoint: { ip: r.addr, port: r.port } };
    });
  }
}

/** What a rule did that decides something (the rest only route the walk through the chains). */
const DECISIVE = new Set<RuleAction['kind']>(['dnat', 'snat', 'masquerade', 'redirect', 'mark', 'connmark', 'accept', 'drop', 'reject', 'queue', 'notrack']);

/** A rule's comment: iptables `--comment "..."`, nft `comment "..."`. */
function commentOf(raw: string): string | undefined {
  const c = /--comment\s+(?:"([^"]*)"|(\S+))/.exec(raw) ?? /(?:^|\s)comment\s+"([^"]*)"/.exec(raw);
  return c ? (c[1] ?? c[2]) : undefined;
}

/**
 * One base chain's run (its steps from the `chain` step) in a line: the chains it jumped through to
 * the last rule that decided something, what the rules did, the chance of the random choices on the
 * way; undefined when nothing was decided (no rule acted and the policy accepted).
 */
function summary(call: HookCall, seg: readonly NfStep[]): Step | undefined {
  const head = seg[0];
  if (!head || head.kind !== 'chain') return undefined;
  const stack: { chain: string; comment?: string }[] = [];
  let path: { chain: string; comment?: string }[] = [];
  const did: Extract<StepDetail, { type: 'nf-summary' }>['did'] = [];
  let probability = 1;
  let service: string | undefined;
  let decider: NfEvidence | undefined;
  for (const s of seg) {
    if (s.kind === 'rule') {
      service ??= serviceOf(s);
      const a = s.action;
      if (a.kind === 'jump' || a.kind === 'goto') {
        // A comment that names a Service says what the jump is for (`default/web:http cluster IP`);
        // kube-proxy's generic ones and its `svc -> endpoint` ones only repeat the chain or the DNAT.
        const text = commentOf(s.evidence.raw);
        const comment = text !== undefined && serviceOf(s) !== undefined && !text.includes('->') ? text : undefined;
        stack.push({ chain: a.chain, ...(comment !== undefined ? { comment } : {}) });
      } else if (a.kind === 'branch') probability *= a.probability;
      else if (a.kind === 'return') popTo(stack, s.chain);
      else if (DECISIVE.has(a.kind)) {
        did.push(a);
        path = [...stack];
        decider = s.evidence;
      }
    } else if (s.kind === 'return') popTo(stack, s.chain);
    else if (s.kind === 'policy' && (s.policy === 'drop' || did.length === 0)) {
      if (s.policy === 'accept' && did.length === 0) return undefined;
      did.push({ kind: 'policy', policy: s.policy });
      path = [];
      decider = s.evidence;
    }
  }
  if (did.length === 0) return undefined;
  const { kind: _k, hook: _h, priority: _p, type: _t, evidence: _e, ...chain } = head;
  const detail: StepDetail = { type: 'nf-summary', ns: call.ns.name, hook: call.hook, layer: call.layer, chain, path, did, ...(probability < 1 ? { probability } : {}), ...(service !== undefined ? { service } : {}) };
  return step('netfilter', detail, decider ? [decider] : []);
}

function popTo(stack: { chain: string }[], chain: string): void {
  const i = stack.map((x) => x.chain).lastIndexOf(chain);
  if (i >= 0) stack.length = i;
}

/** The outcome of a hook where no rule matched and every chain accepted: nothing to show. */
function quiet(o: NfOutcome): boolean {
  return o.verdict.kind === 'accept' && o.nat.length === 0 && o.unevaluated.length === 0 && o.steps.every((s) => s.kind === 'chain' || s.kind === 'return' || (s.kind === 'policy' && s.policy === 'accept'));
}

/** The host's rule probes with any text in them; undefined when it has none. */
/**
 * The `recent` match's lists of a host from its xt_recent probe (undefined: not captured), each entry
 * dated by the probe's kernel clock where it can be read.
 */
function recentLists(ns: Netns): NfContext['recent'] {
  const text = ns.host.probes?.xt_recent;
  if (text === undefined) return undefined;
  const records = parseProbe('xt_recent', text).records;
  const clock = recentClock(records);
  const entries = new Map<string, RecentEntry>();
  for (const r of records) {
    if (r.kind !== 'xt-recent-entry') continue;
    entries.set(`${r.list}|${r.client.toString()}`, {
      ...(clock ? { ageSeconds: Math.max(0, (clock.jiffiesNow - r.lastSeen) / clock.hz) } : {}),
      evidence: { host: ns.host.name, probe: 'xt_recent', line: r.src.line, raw: r.src.raw },
    });
  }
  return (list, client) => entries.get(`${list}|${client.toString()}`);
}

function hostProbes(host: Host): Partial<Record<NetfilterProbe, string>> | undefined {
  const out: Partial<Record<NetfilterProbe, string>> = {};
  let any = false;
  for (const p of RULE_PROBES) {
    const text = host.probes?.[p];
    if (text !== undefined && text.trim() !== '') {
      out[p] = text;
      any = true;
    }
  }
  return any ? out : undefined;
}
