// Where the Kubernetes API and a node's kube-proxy rules disagree. The API (services.ts) says which
// endpoints kube-proxy should program on the node for each Service port; the node's rules say which
// it did: a packet to the ClusterIP is run through the node's OUTPUT hook (iptables and nftables
// modes: every DNAT the rules can pick, or the REJECT/DROP of a Service with no endpoints), or looked up
// in its IPVS table (IPVS mode: the real servers of the virtual service). Three findings:
//   endpoint-missing  an endpoint kube-proxy should program (ready, or the terminating fallback) that
//                     the rules never send to: kube-proxy has not caught up, or failed to write it;
//   endpoint-stale    the rules send to an address the EndpointSlices no longer list as usable;
//   service-missing   no rule on the node for a Service port the API has;
//   service-stale     rules for a Service port (a ClusterIP and port) the API does not have: the
//                     Service was deleted or its port or ClusterIP changed, and kube-proxy did not follow;
// and no-kube-proxy-rules for a node whose rule probes hold no kube-proxy rules at all (kube-proxy not
// running there, or a replacement such as Cilium's handles Services). Each names the host, probe, the
// rule lines as evidence and what the API says, with the API objects as evidence. Pure.
//
// Only ClusterIP traffic is compared (NodePorts, externalIPs and LoadBalancer IPs use the same
// endpoint chains in iptables and nftables modes); a family is compared only where the node has
// kube-proxy rules for it (an IPv6 ClusterIP against a capture without ip6tables says nothing).
import { Addr, type Family } from '../net/addr';
import { buildRuleset, ipvsLookup, NETFILTER_PROBES, runHook, type NetfilterProbe, type NfContext, type NfEvidence, type NfOutcome, type NfPacket, type Ruleset } from './netfilter';
import { chainKey } from './netfilter/ruleset';
import type { Network } from './network';
import type { Netns } from './netns';
import { portEndpoints, programmedEndpoints, protoOf, serviceIndexOf, servicePortLabel, servicesAt, type ServiceEndpoint, type ServiceIndex, type ServicePortView, type ServiceView } from './services';
import type { Evidence } from './trace';

export type FindingKind = 'endpoint-missing' | 'endpoint-stale' | 'service-missing' | 'service-stale' | 'no-kube-proxy-rules' | 'policy-disagreement';
export type KubeProxyMode = 'iptables' | 'nftables' | 'ipvs';

export interface ServiceFinding {
  kind: FindingKind;
  host: string;
  /** The probe whose rules disagree (`iptables`, `ip6tables`, `nft`, `ipvs`). */
  probe: string;
  mode?: KubeProxyMode;
  /** kube-proxy's name for the Service port: `default/web:http`. */
  service?: string;
  /** The ClusterIP, port and protocol compared. */
  frontend?: { ip: string; port: number; proto: string };
  endpoint?: { ip: string; port: number };
  /** The node's rule lines: the DNAT of a stale endpoint, the rules that choose among endpoints for a missing one. */
  evidence: Evidence[];
  /** What the API says, with the objects that say it. */
  api: { says: string; evidence: Evidence[] };
  /** One sentence, and the diagnosis-shaped parts (capture-v1's `diagnosis[]`). */
  text: string;
  expected: string;
  actual: string;
  /** The component that owns the node's rules: kube-proxy, or the CNI that programs policy (policyTrace.ts). */
  owner: string;
  fix: string;
}

/** What the node's rules do with a new connection to one Service port. */
interface RulesAnswer {
  mode: KubeProxyMode;
  probe: string;
  /** The rules know the Service port (a DNAT, a REJECT/DROP for no endpoints, an IPVS virtual service). */
  found: boolean;
  endpoints: { ip: string; port: number; evidence: Evidence[] }[];
  /** The rules reject or drop it (a Service with no endpoints), with the rule. */
  refused?: { verdict: 'reject' | 'drop'; evidence: Evidence[] };
  /** The rules that chose among endpoints (or matched the frontend). */
  chooser: Evidence[];
}

const ev = (e: NfEvidence): Evidence => ({ host: e.host, probe: e.probe, line: e.line, raw: e.raw });

/** The families the node has kube-proxy rules for, and in which mode. */
export function kubeProxyModes(rs: Ruleset): Map<Family, KubeProxyMode> {
  const out = new Map<Family, KubeProxyMode>();
  for (const s of rs.ipvs.services) if (s.addr) out.set(s.addr.family, 'ipvs');
  // By chain keys (`source|family|table|name`) only: listing the chains themselves would compile them all.
  for (const key of rs.chains.keys()) {
    const [source, family, table, name] = key.split('|') as [string, string, string, string];
    const fam: Family | undefined = family === 'ip' ? 4 : family === 'ip6' ? 6 : undefined;
    if (fam === undefined || out.get(fam) === 'ipvs') continue;
    if (source === 'nft' && table === 'kube-proxy') out.set(fam, 'nftables');
    else if (source === 'iptables' && table === 'nat' && (name.startsWith('KUBE-SVC-') || name === 'KUBE-SERVICES') && !out.has(fam)) out.set(fam, 'iptables');
  }
  // iptables' KUBE-SERVICES exists in IPVS mode too (with ipsets, no KUBE-SVC chains): IPVS with no virtual services yet.
  if (rs.probes.includes('ipvs')) {
    for (const family of ['ip', 'ip6'] as const) {
      const c = rs.chains.get(chainKey('iptables', family, 'nat', 'KUBE-SERVICES'));
      if (c?.rules.some((r) => r.evidence.raw.includes('KUBE-CLUSTER-IP'))) out.set(family === 'ip6' ? 6 : 4, 'ipvs');
    }
  }
  return out;
}

function ruleProbe(mode: KubeProxyMode, family: Family): string {
  return mode === 'ipvs' ? 'ipvs' : mode === 'nftables' ? 'nft' : family === 4 ? 'iptables' : 'ip6tables';
}

/** What the rules do with a new connection from the node itself to ip:port/proto. */
function askRules(rs: Ruleset, mode: KubeProxyMode, family: Family, src: Addr, dst: Addr, port: number, proto: 'tcp' | 'udp' | 'sctp', local: Set<string>): RulesAnswer {
  const probe = ruleProbe(mode, family);
  const pkt: NfPacket = { family, src, dst, proto, sport: 40000, dport: port, mark: 0, connection: 'new' };
  if (mode === 'ipvs') {
    const m = ipvsLookup(rs, pkt);
    if (!m) return { mode, probe, found: false, endpoints: [], chooser: [] };
    // A real server of weight 0 takes no new connection: kube-proxy drains a removed endpoint so.
    const live = m.realServers.filter((r) => r.weight > 0);
    return { mode, probe, found: true, endpoints: live.map((r) => ({ ip: Addr.must(r.addr).toString(), port: r.port, evidence: [ev(r.evidence)] })), chooser: [ev(m.service.evidence)] };
  }
  const ctx: NfContext = {
    addrType: (a) => (local.has(a.toString()) ? 'local' : a.isMulticast() ? 'multicast' : 'unicast'),
    masqueradeAddress: () => undefined,
    primaryAddress: () => undefined,
  };
  const outcomes: NfOutcome[] = runHook(rs, 'output', pkt, ctx);
  const endpoints: RulesAnswer['endpoints'] = [];
  const chooser: Evidence[] = [];
  let refused: RulesAnswer['refused'];
  for (const o of outcomes) {
    const dnat = o.nat.find((n) => n.kind === 'dnat');
    if (dnat) {
      const ip = Addr.parse(dnat.after.addr);
      const key = ip.ok ? ip.value.toString() : dnat.after.addr;
      if (!endpoints.some((e) => e.ip === key && e.port === (dnat.after.port ?? port))) endpoints.push({ ip: key, port: dnat.after.port ?? port, evidence: [ev(dnat.evidence)] });
      // The NAT chains' jumps and random choices that led to the DNAT: the rules that choose the endpoint.
      let inNat = false;
      for (const s of o.steps) {
        if (s.kind === 'chain') inNat = s.type === 'nat';
        if (s.kind !== 'rule' || !inNat) continue;
        if (s.action.kind === 'jump' || s.action.kind === 'goto' || s.action.kind === 'branch') {
          if (!chooser.some((c) => c.line === s.evidence.line && c.probe === s.evidence.probe && c.raw === s.evidence.raw)) chooser.push(ev(s.evidence));
        }
      }
    } else if (o.verdict.kind === 'reject' || o.verdict.kind === 'drop') {
      const last = [...o.steps].reverse().find((s) => s.kind === 'rule');
      refused = { verdict: o.verdict.kind, evidence: last && last.kind === 'rule' ? [ev(last.evidence)] : [] };
    }
  }
  return { mode, probe, found: endpoints.length > 0 || refused !== undefined, endpoints, chooser: chooser.slice(0, 6), ...(refused ? { refused } : {}) };
}

function epText(e: { ip: string; port: number }): string {
  return e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`;
}

function condition(e: ServiceEndpoint): string {
  if (e.ready) return 'ready';
  if (e.serving && e.terminating) return 'terminating (still serving)';
  if (e.terminating) return 'terminating';
  return 'not ready';
}

export interface FindingOptions {
  /** Only these Service ports (kube-proxy labels, `default/web:http`, or Services, `default/web`). */
  services?: readonly string[];
  /** The node's addresses (its rules see them as local); default: what the index knows of the node. */
  nodeAddrs?: readonly string[];
}

/**
 * Compares one node's kube-proxy rules with the API. `node` is the node's name as the API's
 * EndpointSlices give it (nodeName), which traffic policy Local compares with.
 */
export function serviceFindings(rs: Ruleset, ix: ServiceIndex, node: string, opts: FindingOptions = {}): ServiceFinding[] {
  const out: ServiceFinding[] = [];
  const modes = kubeProxyModes(rs);
  const wanted = (svc: ServiceView, p: ServicePortView) => !opts.services || opts.services.includes(svc.key) || opts.services.includes(servicePortLabel(svc, p));
  const services = ix.services.filter((s) => s.clusterIPs.length > 0 && s.ports.some((p) => wanted(s, p)));
  if (modes.size === 0) {
    if (rs.probes.length > 0 && services.length > 0) {
      out.push({
        kind: 'no-kube-proxy-rules',
        host: rs.host,
        probe: rs.probes.join(', '),
        evidence: [],
        api: { says: `${services.length} Service(s) with a ClusterIP`, evidence: services.slice(0, 3).map((s) => s.evidence) },
        text: `${rs.host}'s netfilter rules (${rs.probes.join(', ')}) hold no kube-proxy rules at all, while the API has ${services.length} Service(s) with a ClusterIP: kube-proxy is not running on ${rs.host}, or another data plane (Cilium's kube-proxy replacement, eBPF) handles Services there`,
        expected: 'kube-proxy rules for every Service (KUBE-SERVICES chains, a kube-proxy nft table or IPVS virtual services)',
        actual: 'none',
        owner: 'kube-proxy',
        fix: `check kube-proxy on ${rs.host} (kubectl -n kube-system get pods -o wide -l k8s-app=kube-proxy, its logs), or the CNI's own Service handling`,
      });
    }
    return out;
  }
  const local = new Set<string>();
  for (const ip of ix.nodeAddrs.of(node)) local.add(ip);
  for (const a of opts.nodeAddrs ?? []) {
    const r = Addr.parse(a);
    if (r.ok) local.add(r.value.toString());
  }
  const srcOf = (f: Family): Addr => {
    for (const a of local) {
      const r = Addr.parse(a);
      if (r.ok && r.value.family === f) return r.value;
    }
    // A documentation address: only a rule that tests the source (none of kube-proxy's endpoint choices) would care.
    return Addr.must(f === 4 ? '192.0.2.1' : '2001:db8::1');
  };
  for (const svc of services) {
    for (const ip of svc.clusterIPs) {
      const dst = Addr.must(ip);
      const mode = modes.get(dst.family);
      if (!mode) continue;
      for (const p of svc.ports) {
        if (!wanted(svc, p)) continue;
        const label = servicePortLabel(svc, p);
        const proto = protoOf(p.protocol);
        const frontend = { ip, port: p.port, proto };
        const front = `${ip.includes(':') ? `[${ip}]` : ip}:${p.port}/${proto}`;
        const expected = programmedEndpoints(ix, svc, p, dst.family, node, 'internal');
        const rules = askRules(rs, mode, dst.family, srcOf(dst.family), dst, p.port, proto, local);
        const base = { host: rs.host, probe: rules.probe, mode, service: label, frontend, owner: 'kube-proxy' as const };
        const fixSync = `kube-proxy on ${rs.host} has not synced its rules with the API: check its logs (kubectl -n kube-system logs -l k8s-app=kube-proxy --field-selector spec.nodeName=${rs.host}) and restart it if it is stuck`;
        const expectedText = expected.endpoints.length
          ? `${expected.endpoints.map(epText).join(', ')}${expected.terminatingFallback ? ' (no endpoint ready: the terminating ones, as kube-proxy falls back)' : ''}${expected.policy === 'Local' ? ` (internalTrafficPolicy Local: ${node}'s own)` : ''}${expected.zone !== undefined ? ` (topology-aware routing: those hinted for zone ${expected.zone})` : ''}`
          : expected.none === 'drop'
            ? `no endpoint on ${node} (internalTrafficPolicy Local): drop`
            : 'no endpoint: reject';
        const actualText = rules.endpoints.length ? rules.endpoints.map(epText).join(', ') : rules.refused ? rules.refused.verdict : rules.found ? 'no endpoint' : 'no rule';
        if (!rules.found) {
          // kube-proxy's nftables mode rejects a Service with no endpoints from a map this check cannot see
          // without its own rule; iptables mode has a REJECT rule. Only a Service with endpoints must have DNAT rules.
          if (expected.endpoints.length === 0 && mode !== 'iptables') continue;
          out.push({
            ...base,
            kind: 'service-missing',
            evidence: [],
            api: { says: `${label} is ${front} with ${expectedText}`, evidence: [svc.evidence, ...expected.endpoints.map((e) => e.evidence)] },
            text: `${rs.host}'s ${rules.probe} rules have nothing for ${label} (${front}), which the API has with ${expectedText}: a connection from ${rs.host} to it is not rewritten`,
            expected: expectedText,
            actual: 'no rule',
            fix: fixSync,
          });
          continue;
        }
        for (const e of expected.endpoints) {
          if (rules.endpoints.some((r) => r.ip === e.ip && r.port === e.port)) continue;
          out.push({
            ...base,
            kind: 'endpoint-missing',
            endpoint: { ip: e.ip, port: e.port },
            evidence: rules.chooser.length ? rules.chooser : (rules.refused?.evidence ?? []),
            api: { says: `EndpointSlice ${e.slice} lists ${epText(e)}${e.pod ? ` (${e.pod})` : ''} as ${condition(e)}${e.nodeName ? ` on ${e.nodeName}` : ''}`, evidence: [e.evidence] },
            text: `${rs.host}'s ${rules.probe} rules for ${label} (${front}) never send to ${epText(e)}, which EndpointSlice ${e.slice} lists as ${condition(e)}: that endpoint gets no new connections from ${rs.host}`,
            expected: expectedText,
            actual: actualText,
            fix: fixSync,
          });
        }
        const known = portEndpoints(ix, svc, p, dst.family);
        for (const r of rules.endpoints) {
          if (expected.endpoints.some((e) => e.ip === r.ip && e.port === r.port)) continue;
          const listed = known.find((e) => e.ip === r.ip && e.port === r.port);
          const says = listed
            ? `EndpointSlice ${listed.slice} lists ${epText(r)}${listed.pod ? ` (${listed.pod})` : ''} as ${condition(listed)}${listed.nodeName ? ` on ${listed.nodeName}` : ''}, which kube-proxy does not use here (${expectedText === 'no endpoint: reject' ? 'the Service has no usable endpoint' : `it uses ${expectedText}`})`
            : `no EndpointSlice of ${svc.key} lists ${epText(r)}`;
          out.push({
            ...base,
            kind: 'endpoint-stale',
            endpoint: { ip: r.ip, port: r.port },
            evidence: r.evidence,
            api: { says, evidence: listed ? [listed.evidence] : [svc.evidence] },
            text: `${rs.host}'s ${rules.probe} rules still send ${label} (${front}) to ${epText(r)}, but ${says.charAt(0).toLowerCase()}${says.slice(1)}: connections sent there may fail`,
            expected: expectedText,
            actual: actualText,
            fix: fixSync,
          });
        }
      }
    }
  }
  return out;
}

// ---- rules for Services the API does not have -------------------------------------------------------------

/**
 * The Service port a kube-proxy rule names: iptables mode first in its comment (`"default/web:http
 * cluster IP"`, `"default/web:http -> 10.244.1.3:8080"`), nftables mode in a chain name
 * (`service-ULMVA6XW-default/web/tcp/http`, `endpoint-...__10.244.1.3/8080`).
 */
export function kubeProxyLabel(raw: string, chain?: string): string | undefined {
  // iptables' `-m comment --comment X` (the module's name is no comment), else nft's `comment "X"`.
  const c = /--comment\s+(?:"([^"]*)"|(\S+))/.exec(raw) ?? /\bcomment\s+"([^"]*)"/.exec(raw);
  const word = c ? (c[1] ?? c[2] ?? '').split(/\s/)[0]! : '';
  if (/^[^/\s]+\/[^/\s]+$/.test(word)) return word;
  for (const name of [chain ?? '', ...(raw.match(/(?:goto|jump)\s+(\S+)/g) ?? []).map((x) => x.split(/\s+/)[1]!)]) {
    const n = /^(?:service|external|endpoint|firewall)-[A-Z0-9]+-([^/]+)\/([^/]+)\/[a-z]+\/([^_]*)(?:__.*)?$/.exec(name);
    if (n) return `${n[1]}/${n[2]}${n[3] ? `:${n[3]}` : ''}`;
  }
  return undefined;
}

function apiHasNot(ix: ServiceIndex, label: string | undefined, front: string): { says: string; evidence: Evidence[] } {
  const key = label?.split(':')[0];
  const svc = key !== undefined ? ix.byKey.get(key) : undefined;
  if (!svc) return { says: label ? `the API has no Service ${key}` : `the API has no Service at ${front}`, evidence: [] };
  const ports = svc.ports.map((p) => `${p.name ? `${p.name} ` : ''}${p.port}/${p.protocol}`).join(', ');
  return { says: `the API's Service ${svc.key} is ${svc.clusterIPs.join(', ') || 'without a ClusterIP'} with ports ${ports || 'none'}, not ${front}`, evidence: [svc.evidence] };
}

function staleFinding(rs: Ruleset, mode: KubeProxyMode, probe: string, label: string | undefined, frontend: { ip: string; port: number; proto: string } | undefined, evidence: Evidence[], api: { says: string; evidence: Evidence[] }): ServiceFinding {
  const front = frontend ? `${frontend.ip.includes(':') ? `[${frontend.ip}]` : frontend.ip}:${frontend.port}/${frontend.proto}` : (label ?? 'a Service');
  return {
    kind: 'service-stale',
    host: rs.host,
    probe,
    mode,
    ...(label !== undefined ? { service: label } : {}),
    ...(frontend ? { frontend } : {}),
    evidence,
    api,
    text: `${rs.host}'s ${probe} rules still handle ${label ?? 'a Service'}${frontend ? ` at ${front}` : ''}, but ${api.says}: kube-proxy has not removed rules for a Service that was deleted or changed`,
    expected: 'no rule',
    actual: `rules for ${label ?? front}`,
    owner: 'kube-proxy',
    fix: `kube-proxy on ${rs.host} has not synced its rules with the API: check its logs and restart it if it is stuck`,
  };
}

/**
 * Rules on a node for Service ports the API does not have. With `at` (a trace's destination), only
 * whether the rules rewrite a new connection to that address and port (any mode); without, every
 * ClusterIP rule of iptables mode's KUBE-SERVICES and every Service chain of nftables mode. Nothing
 * when the capture lists no Services at all.
 */
export function staleServiceFindings(rs: Ruleset, ix: ServiceIndex, node: string, at?: { ip: string; port: number; proto: 'tcp' | 'udp' | 'sctp' }): ServiceFinding[] {
  if (!ix.haveServices) return [];
  const modes = kubeProxyModes(rs);
  const out: ServiceFinding[] = [];
  if (at) {
    const dst = Addr.parse(at.ip);
    if (!dst.ok) return [];
    const mode = modes.get(dst.value.family);
    if (!mode || servicesAt(ix, at.ip, at.port, at.proto).length) return [];
    const local = new Set<string>();
    for (const ip of ix.nodeAddrs.of(node)) local.add(ip);
    const src = [...local].map((a) => Addr.must(a)).find((a) => a.family === dst.value.family) ?? Addr.must(dst.value.family === 4 ? '192.0.2.1' : '2001:db8::1');
    const rules = askRules(rs, mode, dst.value.family, src, dst.value, at.port, at.proto, local);
    if (!rules.endpoints.length) return [];
    const ev = [...rules.chooser, ...rules.endpoints.flatMap((e) => e.evidence)];
    const label = ev.map((e) => kubeProxyLabel(e.raw)).find((l) => l !== undefined);
    // A NodePort answers on any local address kube-proxy sees: a node address the capture does not list is no stale Service.
    if (label !== undefined && ix.byKey.get(label.split(':')[0]!)?.ports.some((p) => p.nodePort === at.port)) return [];
    return [staleFinding(rs, mode, rules.probe, label, { ip: dst.value.toString(), port: at.port, proto: at.proto }, ev, apiHasNot(ix, label, `${at.ip}:${at.port}/${at.proto}`))];
  }
  for (const family of ['ip', 'ip6'] as const) {
    const fam: Family = family === 'ip' ? 4 : 6;
    if (modes.get(fam) !== 'iptables') continue;
    const chain = rs.chains.get(chainKey('iptables', family, 'nat', 'KUBE-SERVICES'));
    for (const r of chain?.rules ?? []) {
      const k = r.key;
      if (k?.dst === undefined || k.proto === undefined || k.dport === undefined || k.proto === 'icmp') continue;
      const target = r.ops.find((o) => o.op === 'verdict');
      if (!target || target.op !== 'verdict' || (target.verdict.v !== 'jump' && target.verdict.v !== 'goto') || !/^KUBE-(SVC|SVL|EXT|FW)-/.test(target.verdict.chain)) continue;
      if (servicesAt(ix, k.dst, k.dport, k.proto).length) continue;
      const label = kubeProxyLabel(r.evidence.raw);
      out.push(staleFinding(rs, 'iptables', family === 'ip' ? 'iptables' : 'ip6tables', label, { ip: k.dst, port: k.dport, proto: k.proto }, [ev(r.evidence)], apiHasNot(ix, label, `${k.dst}:${k.dport}/${k.proto}`)));
    }
  }
  for (const key of rs.chains.keys()) {
    const [source, family, table, name] = key.split('|') as [string, string, string, string];
    if (source !== 'nft' || table !== 'kube-proxy' || !name.startsWith('service-')) continue;
    const label = kubeProxyLabel('', name);
    if (label === undefined) continue;
    const [svcKey, portName = ''] = label.split(':') as [string, string?];
    const svc = ix.byKey.get(svcKey);
    if (svc && svc.clusterIPs.length && svc.ports.some((p) => p.name === portName)) continue;
    const first = rs.chains.get(key)?.rules[0];
    out.push(staleFinding(rs, 'nftables', 'nft', label, undefined, first ? [ev(first.evidence)] : [], apiHasNot(ix, label, `${family} chain ${name}`)));
  }
  return out;
}

// ---- the findings of one trace ---------------------------------------------------------------------------

/**
 * The findings a trace should carry: for the Service its flow is sent to (`service`, kube-proxy's
 * label or `namespace/name`; else the Service behind the flow's destination address and port), the
 * first node of each path compared with its rules. `nodes(host)` answers for the hosts that are nodes
 * (undefined for pods and others): the node's rule set (the netfilter adapter's, built once;
 * undefined when the node has none) and its addresses.
 */
export function traceFindings(
  ix: ServiceIndex,
  trace: { flow: { dst: string; proto: string; dport?: number }; paths: readonly { hops: readonly { host: string }[] }[] },
  nodes: (host: string) => { ruleset: Ruleset | undefined; addrs?: readonly string[] } | undefined,
  service?: string,
): ServiceFinding[] {
  const proto = trace.flow.proto;
  let services: string[] = service !== undefined ? [service] : [];
  if (!services.length && trace.flow.dport !== undefined && (proto === 'tcp' || proto === 'udp' || proto === 'sctp')) {
    services = servicesAt(ix, trace.flow.dst, trace.flow.dport, proto).map((m) => m.label);
  }
  const at = trace.flow.dport !== undefined && (proto === 'tcp' || proto === 'udp' || proto === 'sctp') ? { ip: trace.flow.dst, port: trace.flow.dport, proto: proto as 'tcp' | 'udp' | 'sctp' } : undefined;
  if (!services.length && !at) return [];
  // kube-proxy rewrites a connection on the first node it passes (the source pod's node, or the node
  // the NodePort or LoadBalancer traffic enters): that node's rules are the ones that matter here.
  const seen = new Set<string>();
  const out: ServiceFinding[] = [];
  for (const p of trace.paths) {
    const first = p.hops.find((h) => nodes(h.host) !== undefined);
    if (!first || seen.has(first.host)) continue;
    seen.add(first.host);
    const n = nodes(first.host)!;
    if (!n.ruleset) continue;
    if (services.length) out.push(...serviceFindings(n.ruleset, ix, first.host, { services, ...(n.addrs ? { nodeAddrs: n.addrs } : {}) }));
    // A destination that is no Service in the API, which the node's rules still rewrite.
    else if (at) out.push(...staleServiceFindings(n.ruleset, ix, first.host, at));
  }
  return out;
}

const ownRulesets = new WeakMap<Network, Map<string, Ruleset | null>>();

/** A node's rule set built from its probes, once per Network (for callers without the netfilter adapter's). */
function builtRuleset(net: Network, ns: Netns): Ruleset | undefined {
  let m = ownRulesets.get(net);
  if (!m) ownRulesets.set(net, (m = new Map()));
  const known = m.get(ns.name);
  if (known !== undefined) return known ?? undefined;
  const probes: Partial<Record<NetfilterProbe, string>> = {};
  for (const p of NETFILTER_PROBES) {
    const text = ns.host.probes?.[p];
    if (text !== undefined && text.trim() !== '') probes[p] = text;
  }
  const rs = Object.keys(probes).length ? buildRuleset(ns.host.name, probes) : undefined;
  m.set(ns.name, rs ?? null);
  return rs;
}

/**
 * The findings of a trace of this Network (see traceFindings): the nodes are the capture's node hosts,
 * their rule sets `rulesetOf`'s (the netfilter adapter's, which has them built already) or built here.
 */
export function findingsForTrace(
  net: Network,
  trace: Parameters<typeof traceFindings>[1],
  opts: { service?: string; rulesetOf?: (ns: Netns) => Ruleset | undefined } = {},
): ServiceFinding[] {
  const ix = serviceIndexOf(net);
  if (ix.services.length === 0) return [];
  return traceFindings(
    ix,
    trace,
    (host) => {
      const ns = net.hosts.get(host);
      if (!ns || ns.host.role !== 'node') return undefined;
      const addrs = [...(ns.host.ips ?? [])];
      for (const i of ns.ifaces.values()) for (const a of i.addrs) addrs.push(a.local.toString());
      return { ruleset: opts.rulesetOf ? opts.rulesetOf(ns) : builtRuleset(net, ns), addrs };
    },
    opts.service,
  );
}
