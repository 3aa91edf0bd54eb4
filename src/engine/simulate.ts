// The forwarding pipeline: what Linux does with one packet, namespace by namespace, in the kernel's
// own order — rules -> table -> longest prefix -> next hop -> neighbour -> device (veth peer, bridge
// FDB or flood, VXLAN FDB -> VTEP -> underlay) — with the table line that decided every step.
// Deterministic: the same network and flow give the same result. Every ECMP next hop and every
// flood copy is explored; breadcrumbs catch loops.
import { Addr, Mac, Prefix, type Family } from '../net/addr';
import type { FibAnswer, FibRoute } from './fib';
import { gatewayByName } from './names';
import { forkLabel, narrate } from './narrate';
import { confValue, evidence, ifacePrefixes, type Iface, type Netns, type Network } from './network';
import { brFdbLookup, vxlanFdbLookup } from './lookup/fdb';
import { isResolved, neighLookup, pneighLookup } from './lookup/neigh';
import { forwards } from './netns';
import type { Wire } from './topology';
import type { Answerer, CopyKind, Evidence, WgPeerRef, Flow, Fork, Hop, RouteView, RpFailure, Step, StepDetail, StepKind, TracePath, Verdict } from './trace';

/** VXLAN over IPv4 adds outer Ethernet 14 + IP 20 + UDP 8 + VXLAN 8 bytes; over IPv6, 20 more. */
export const VXLAN_OVERHEAD = { 4: 50, 6: 70 } as const;
/** IPIP adds an outer IPv4 header. */
export const IPIP_OVERHEAD = 20;
/** WireGuard adds outer IP + UDP 8 + its 16-byte header and 16-byte tag (before padding). */
export const WIREGUARD_OVERHEAD = { 4: 60, 6: 80 } as const;

export interface Packet {
  src: Addr;
  dst: Addr;
  proto: Flow['proto'] | 'ipip';
  dport?: number | undefined;
  /** IP packet length in bytes. */
  size: number;
  ttl: number;
  df: boolean;
  /** For an encapsulated packet: the frame inside it. */
  inner?: Frame | undefined;
  /** VXLAN network identifier of an encapsulated packet. */
  vni?: number | undefined;
  /** A WireGuard datagram: the sending device's public key (when the capture has it). */
  wgFrom?: { key: string | undefined } | undefined;
  /** The tunnel device that made this outer packet: where the kernel counts its transmit errors. */
  tunnelDev?: string | undefined;
}

export interface Frame {
  pkt: Packet;
  /** Destination MAC; undefined when the next hop needs no link-layer address (NOARP devices). */
  dstMac: Mac | undefined;
  /** The next hop the route chose (the gateway, or the destination itself): tunnels use it. */
  nexthop?: Addr | undefined;
  /**
   * When `dstMac` is unknown because the capture does not show the MAC of the interface that answered
   * ARP/ND (a pod whose namespace is inferred): that interface. Only it takes the frame.
   */
  dstNic?: { ns: Netns; iface: Iface } | undefined;
}

export interface WalkTarget {
  /** The address being traced to. */
  dst: Addr;
  /** The host that should receive it, when known. */
  host: string | null;
}

interface Cursor {
  hops: Hop[];
  crumbs: Set<string>;
  forks: Fork[];
  /** A flood copy: if it ends anywhere but the destination, that is not a failure of the path. */
  floodCopy: boolean;
  /** What made it a copy. */
  copy?: CopyKind | undefined;
  /**
   * Set once the packet is caught in a forwarding loop: it keeps going round (so the TTL runs out
   * where the kernel's does) but the repeated hops are not recorded again.
   */
  loop?: { host: string; dev: string; hosts: Set<string>; sends: number; total: number; silentHop?: Hop } | undefined;
}

export interface Walk {
  traces: TracePath[];
}

const MAX_HOPS = 64;
/** Sends allowed once a loop is found: enough for any TTL to run out (255 hops). */
const MAX_LOOP_SENDS = 600;
const MAX_PATHS = 256;

type Ev = Evidence | undefined;

/** A neighbour that would have answered ARP but does not, and why. */
type Refusal = { refusal: Extract<StepDetail, { type: 'arp-refused' }>['refusal']; ev: Ev[] };

function step(kind: StepKind, detail: StepDetail, records: Ev[] = [], extra: Partial<Step> = {}): Step {
  const recs = records.filter((r): r is Evidence => r !== undefined);
  return { kind, text: narrate(detail), evidence: recs.map((r) => r.raw).join('\n'), records: recs, ...extra, detail };
}

function linkEv(ns: Netns, iface: Iface | undefined): Ev {
  return iface?.link ? evidence(ns, 'links', iface.link.src) : undefined;
}

function routeEv(ns: Netns, r: FibRoute): Evidence {
  return evidence(ns, r.probe, r.rec.src);
}

/** The route as the trace shows it. */
function routeView(r: FibRoute): RouteView {
  const rec = r.rec;
  const dst = rec.dst.length === 0 ? 'default' : rec.dst.length === rec.dst.addr.bits ? rec.dst.addr.toString() : rec.dst.toString();
  return {
    type: rec.type,
    dst,
    ...(rec.gateway ? { gateway: rec.gateway.toString() } : rec.unresolvedGateway ? { gatewayName: rec.unresolvedGateway.name } : {}),
    ...(rec.dev !== undefined ? { dev: rec.dev } : {}),
    table: rec.table,
    ...(rec.metric !== undefined ? { metric: rec.metric } : {}),
    ...(rec.prefsrc ? { prefsrc: rec.prefsrc.toString() } : {}),
  };
}

/** The devices a route leaves by (each next hop's), for rp_filter. */
function routeDevs(r: FibRoute): string[] {
  return (r.rec.nexthops?.length ? r.rec.nexthops.map((n) => n.dev) : [r.rec.dev]).map((d) => d ?? '');
}

export class Simulator {
  private readonly out: Walk = { traces: [] };
  /** The source address the kernel chose for the traced packet, when the socket left it unset. */
  pickedSrc: Addr | undefined;
  /**
   * Hosts whose tables the walk needed but the capture lacks. A live collector fetches these and
   * traces again: this is how a trace asks only for the hosts it walks through.
   */
  readonly needs = new Set<string>();
  /** Hosts whose tables would settle which port leads to a pod the capture holds no interfaces for. */
  readonly settles = new Set<string>();

  private want(ns: Netns): void {
    if (ns.probes.size === 0) this.needs.add(ns.name);
  }

  /** Hosts that Kubernetes says own `ip` (their `ips`) and whose tables the capture lacks. */
  private wantOwnersOf(ip: Addr | undefined): void {
    if (!ip) return;
    for (const h of this.net.reported.get(ip.toString()) ?? []) {
      // A hostNetwork pod shares its node's tables: the node is the host to read.
      if (h.role === 'pod' && h.hostNetwork) continue;
      const ns = this.net.hosts.get(h.name);
      if (ns && ns.probes.size === 0) this.needs.add(ns.name);
    }
  }

  constructor(
    private readonly net: Network,
    private readonly target: WalkTarget,
  ) {}

  get result(): Walk {
    return this.out;
  }

  // ---- path bookkeeping --------------------------------------------------------------------

  private hop(c: Cursor): Hop {
    return c.loop?.silentHop ?? c.hops[c.hops.length - 1]!;
  }

  private add(c: Cursor, s: Step): void {
    this.hop(c).steps.push(s);
  }

  private enter(c: Cursor, ns: Netns, inDev: string | null): void {
    // A pod without tables that a flood copy reaches is not on the path unless it is the destination:
    // its tables would change nothing, so a collector need not read it.
    if (!(ns.inferred && c.floodCopy && ns.name !== this.target.host)) this.want(ns);
    const hop: Hop = { host: ns.host.name, in: inDev, out: null, steps: [] };
    if (c.loop) {
      // Going round the loop again: only the hop where it finally stops is recorded.
      c.loop.hosts.add(ns.name);
      c.loop.silentHop = hop;
      return;
    }
    c.hops.push(hop);
    // A packet that arrives in a namespace the capture holds no tables for: say what stands in for them.
    if (inDev !== null) this.noteInferred(c, ns);
  }

  private noteInferred(c: Cursor, ns: Netns): void {
    if (ns.inferred) this.add(c, step('inferred', { type: 'netns-inferred', ns: ns.name, facts: ns.inferred.facts }, ns.inferred.basis, { inferred: true }));
  }

  /** A copy of the path for one alternative; `copy` says what makes it a copy (it keeps being one, but a VXLAN fork decides anew). */
  private fork(c: Cursor, fork: Fork, floodCopy = c.floodCopy, copy?: CopyKind): Cursor {
    return {
      hops: c.hops.map((h, i) => (i === c.hops.length - 1 ? { ...h, steps: [...h.steps] } : h)),
      crumbs: new Set(c.crumbs),
      forks: [...c.forks, fork],
      floodCopy,
      copy: floodCopy ? (c.floodCopy ? c.copy : copy) : undefined,
      loop: c.loop ? { ...c.loop, hosts: new Set(c.loop.hosts) } : undefined,
    };
  }

  private end(c: Cursor, verdict: Verdict, detail: StepDetail, dropDev: string | null, stepKind: StepKind = 'drop', records: Ev[] = [], inferred = false): void {
    if (this.out.traces.length >= MAX_PATHS) return;
    if (c.loop?.silentHop) {
      // The loop ends here: record this last hop (only its final step) after the ones already shown.
      const last = c.loop.silentHop;
      c.hops = [...c.hops, { ...last, steps: [] }];
      c.loop.silentHop = undefined;
      detail = { ...detail, loop: { hosts: [...c.loop.hosts], host: c.loop.host, dev: c.loop.dev, times: c.loop.sends + 2 } };
    }
    const h = this.hop(c);
    if (verdict === 'insufficient-data') {
      const ns = this.net.hosts.get(h.host);
      if (ns) this.want(ns);
    }
    const s = step(stepKind, detail, records, inferred ? { inferred } : {});
    this.add(c, s);
    const discarded = c.floodCopy && verdict === 'wrong-destination';
    this.out.traces.push({
      verdict,
      hops: c.hops,
      dropAt: verdict === 'delivered' ? null : { host: h.host, dev: dropDev },
      reason: s.text,
      branch: c.forks.map(forkLabel).join(' / '),
      floodCopy: c.floodCopy,
      // Fields past here were added after netpath 0.1 (the JSON grows by adding).
      ending: verdict === 'delivered' ? 'delivered' : discarded ? 'discarded' : verdict === 'insufficient-data' ? 'undecided' : 'dropped',
      forks: c.forks,
      ...(c.copy ? { copy: c.copy } : {}),
    });
  }

  // ---- entry points ----------------------------------------------------------------------------

  /** A packet created by a socket in `ns` (ip_local_out). */
  originate(ns: Netns, pkt: Packet): void {
    const c: Cursor = { hops: [], crumbs: new Set(), forks: [], floodCopy: false };
    this.enter(c, ns, null);
    this.add(c, step('origin', { type: 'origin', ns: ns.name, proto: pkt.proto, size: pkt.size, ...(pkt.src.isUnspecified() ? {} : { src: pkt.src.toString() }), dst: pkt.dst.toString(), ...(pkt.dport !== undefined ? { dport: pkt.dport } : {}), df: pkt.df }));
    this.noteInferred(c, ns);
    this.routeAndSend(c, ns, pkt, null);
  }

  // ---- L3 --------------------------------------------------------------------------------------

  private lookup(ns: Netns, pkt: Packet, iif: string | null, oif?: string, fwmark?: number): FibAnswer {
    return ns.fib[pkt.dst.family].lookup({ dst: pkt.dst, src: iif === null && pkt.src.isUnspecified() ? undefined : pkt.src, iif: iif ?? 'lo', oif, fwmark, proto: pkt.proto, dport: pkt.dport });
  }

  private explainFib(c: Cursor, ns: Netns, ans: FibAnswer, pkt: Packet): void {
    const fib = ns.fib[pkt.dst.family];
    if (ans.kind === 'none') return;
    const rule = ans.rule;
    const nonDefault = !fib.rulesInferred && fib.ruleList.some((r) => !['local', 'main', 'default'].includes(r.rec.table ?? '') || r.rec.action !== 'lookup');
    if (nonDefault || rule.rec.table !== 'main' && rule.rec.table !== 'local') {
      const detail: StepDetail = ans.kind === 'rule'
        ? { type: 'rule', priority: rule.rec.priority, action: ans.action, gaveNoRoute: [] }
        : { type: 'rule', priority: rule.rec.priority, action: 'lookup', table: ans.table, gaveNoRoute: ans.rulesTried.length > 1 ? ans.rulesTried.slice(0, -1).map((r) => r.rec.priority) : [] };
      this.add(c, step('rule', detail, [rule.inferred ? undefined : evidence(ns, rule.probe, rule.rec.src)], rule.inferred ? { inferred: true } : {}));
    }
  }

  /**
   * Route lookup and everything after it, for a packet created here (`iif` null) or received on
   * `iif` and not addressed to this host (forwarding).
   */
  private routeAndSend(c: Cursor, ns: Netns, pkt: Packet, iif: Iface | null, ansIn?: FibAnswer, oif?: string, fwmark?: number): void {
    const ans = ansIn ?? this.lookup(ns, pkt, iif?.name ?? null, oif, fwmark);
    if (!ansIn) this.explainFib(c, ns, ans, pkt);
    const fam = pkt.dst.family;
    // An outer packet that cannot be routed fails inside the tunnel device's transmit (tx_errors there).
    const localDrop = iif ? null : (pkt.tunnelDev ?? null);
    if (ans.kind === 'none') {
      const tables = [...new Set(ans.rulesTried.map((r) => r.rec.table ?? 'main'))];
      const missing = !ns.probes.has(fam === 4 ? 'routes4' : 'routes6') && !(fam === 6 && ns.probes.has('routes4'));
      if (missing) return this.end(c, 'insufficient-data', { type: 'no-routes-captured', ns: ns.name, family: fam, dst: pkt.dst.toString() }, null);
      return this.end(c, 'no-route', { type: 'no-route', ns: ns.name, dst: pkt.dst.toString(), tables }, localDrop);
    }
    if (ans.kind === 'rule') {
      return this.end(c, ans.action, { type: 'rule-reject', ns: ns.name, priority: ans.rule.rec.priority, action: ans.action }, localDrop, 'drop', [evidence(ns, ans.rule.probe, ans.rule.rec.src)]);
    }
    const r = ans.route;
    const rec = r.rec;
    const rEv = routeEv(ns, r);
    const view = routeView(r);
    const candidates = ans.others.map((o) => routeEv(ns, o));
    const routeStep = (outcome: Extract<StepDetail, { type: 'route' }>['outcome'], nexthops?: number) =>
      step('route', { type: 'route', ns: ns.name, dst: pkt.dst.toString(), route: view, table: ans.table, outcome, ...(nexthops !== undefined ? { nexthops } : {}) }, [rEv], { ...(candidates.length ? { candidates } : {}), ...(r.inferred ? { inferred: true } : {}) });

    switch (rec.type) {
      case 'blackhole':
      case 'unreachable':
      case 'prohibit': {
        this.add(c, routeStep('reject'));
        return this.end(c, rec.type, { type: 'route-reject', routeType: rec.type }, localDrop);
      }
      case 'local':
        this.add(c, routeStep('local'));
        return this.localDeliver(c, ns, pkt, iif);
      case 'broadcast':
      case 'multicast':
      case 'anycast':
        this.add(c, routeStep('cast'));
        return this.localDeliver(c, ns, pkt, iif);
      case 'throw':
      case 'nat':
        return this.end(c, 'no-route', { type: 'route-unusable', route: view }, null, 'drop', [rEv]);
      case 'unicast':
        break;
    }

    // Forwarding checks for a received packet (ip_route_input_slow, then ip_forward).
    if (iif) {
      const fwd = this.forwardingEnabled(ns, iif, fam);
      if (fwd.enabled === false) {
        this.add(c, routeStep('not-local'));
        return this.end(c, 'forwarding-disabled', { type: 'forwarding-disabled', ns: ns.name, iif: iif.name, sysctl: fwd.key, assumed: fwd.assumed }, iif.name, 'drop', fwd.evidence);
      }
      if (fwd.enabled === undefined) this.add(c, step('inferred', { type: 'forward-assumed', ns: ns.name, role: ns.host.role }, [], { inferred: true }));
      if (pkt.ttl <= 1) return this.end(c, 'ttl-exceeded', { type: 'ttl-exceeded', ns: ns.name, ttl: pkt.ttl }, iif.name);
      if (fwd.enabled) this.add(c, step('forward', { type: 'forward', ns: ns.name, sysctl: fwd.key, ttl: pkt.ttl }, fwd.evidence));
      pkt = { ...pkt, ttl: pkt.ttl - 1 };
    }

    const nexthops = rec.nexthops?.length
      ? rec.nexthops.filter((n) => !n.flags.includes('dead')).map((n) => ({ gateway: n.gateway, dev: n.dev, onlink: n.flags.includes('onlink') }))
      : [{ gateway: rec.gateway, dev: rec.dev, onlink: rec.flags.includes('onlink') }];
    this.add(c, routeStep('forward', nexthops.length));
    if (rec.unresolvedGateway && !rec.gateway) {
      // `route` without -n printed the gateway as a name: never on-link (flag G); placed only from `arp -a`.
      const named = gatewayByName(ns, rec.unresolvedGateway, fam, rec.dev);
      const ev = [rEv, ...named.entries.map((e) => evidence(ns, 'arp', e.src))];
      if (named.kind !== 'found') return this.end(c, 'insufficient-data', named.detail, rec.dev ?? null, 'drop', ev);
      nexthops[0]!.gateway = named.addr;
      this.add(c, step('inferred', named.detail, ev, { inferred: true }));
    }
    for (const nh of nexthops) {
      const fork: Fork = { kind: 'ecmp', host: ns.name, ...(nh.gateway ? { gateway: nh.gateway.toString() } : {}), ...(nh.dev !== undefined ? { dev: nh.dev } : {}) };
      const cc = nexthops.length > 1 ? this.fork(c, fork) : c;
      this.sendVia(cc, ns, pkt, iif, nh.gateway, nh.dev, r);
    }
  }

  private forwardingEnabled(ns: Netns, iif: Iface, fam: Family): { enabled: boolean | undefined; key: string; assumed: boolean; evidence: Evidence[] } {
    const conf = confValue(ns, fam, iif.name, 'forwarding');
    if (conf.value !== undefined) return { enabled: conf.value !== 0, key: `net.ipv${fam}.conf.${iif.name}.forwarding`, assumed: false, evidence: conf.evidence.slice(0, 1) };
    const globalKey = fam === 4 ? 'net.ipv4.ip_forward' : 'net.ipv6.conf.all.forwarding';
    const g = ns.sysctl.get(globalKey);
    if (g) return { enabled: g.value.trim() !== '0', key: globalKey, assumed: false, evidence: [evidence(ns, 'sysctl', g.rec.src)] };
    // Pods do not forward; nodes and routers must (Kubernetes requires ip_forward on nodes).
    if (ns.host.role === 'pod') return { enabled: false, key: globalKey, assumed: true, evidence: [] };
    return { enabled: undefined, key: globalKey, assumed: false, evidence: [] };
  }

  /** Next hop, MTU, neighbour, then the device. */
  private sendVia(c: Cursor, ns: Netns, pkt: Packet, iif: Iface | null, gateway: Addr | undefined, devName: string | undefined, r: FibRoute): void {
    const dev = devName !== undefined ? ns.ifaces.get(devName) : undefined;
    if (!dev) {
      return this.end(c, 'insufficient-data', { type: 'route-dev-unknown', ns: ns.name, ...(devName !== undefined ? { dev: devName } : {}) }, devName ?? null);
    }
    this.hop(c).out = dev.name;
    if (!dev.up || (!dev.lowerUp && dev.link !== undefined && dev.type !== 'vxlan' && dev.type !== 'bridge' && dev.type !== 'dummy')) {
      return this.end(c, 'link-down', { type: 'dev-down', ns: ns.name, dev: dev.name, state: dev.up ? 'no-carrier' : 'down' }, dev.name, 'drop', [linkEv(ns, dev)]);
    }
    // Source address: the route's prefsrc, else the packet's own (set by the originating socket).
    if (pkt.src.isUnspecified()) {
      const chosen = r.rec.prefsrc ?? dev.addrs.find((a) => a.family === pkt.dst.family && a.scope !== 'link')?.local;
      if (chosen) {
        if (c.hops.length === 1 && !pkt.inner) this.pickedSrc ??= chosen;
        pkt = { ...pkt, src: chosen };
        this.add(c, step('src', { type: 'src', addr: chosen.toString(), from: r.rec.prefsrc ? 'route' : 'device', dev: dev.name }, [r.rec.prefsrc ? routeEv(ns, r) : undefined]));
      }
    }
    // rp_filter applies to received packets (fib_validate_source), checked against the input device.
    if (iif && pkt.dst.family === 4) {
      const verdict = this.rpFilter(c, ns, pkt, iif);
      if (verdict) return;
    }
    const mtu = r.rec.metrics?.mtu !== undefined && /^\d+$/.test(r.rec.metrics.mtu) ? Number(r.rec.metrics.mtu) : dev.mtu;
    if (pkt.size > mtu) {
      if (pkt.df || pkt.dst.family === 6) {
        const inferredMtu = dev.link === undefined && ns.inferred !== undefined;
        return this.end(c, 'mtu-exceeded', { type: 'mtu', ns: ns.name, dev: dev.name, size: pkt.size, mtu, result: 'too-big', ...(inferredMtu ? { inferredMtu } : {}) }, dev.name, 'drop', [linkEv(ns, dev)], inferredMtu);
      }
      this.add(c, step('mtu', { type: 'mtu', ns: ns.name, dev: dev.name, size: pkt.size, mtu, result: 'fragment' }, [linkEv(ns, dev)]));
    }
    const nexthop = gateway ?? pkt.dst;
    const frame = this.resolve(c, ns, dev, nexthop, pkt, gateway !== undefined);
    if (!frame) return;
    this.transmit(c, ns, dev, frame);
  }

  /** fib_validate_source: strict (1) needs the reverse route to use the input device; loose (2) any route. */
  private rpFilter(c: Cursor, ns: Netns, pkt: Packet, iif: Iface): boolean {
    const conf = confValue(ns, 4, iif.name, 'rp_filter');
    const mode = Math.max(conf.value ?? 0, conf.all ?? 0);
    if (mode === 0) return false;
    const rev = ns.fib[4].lookup({ dst: pkt.src, src: pkt.dst, iif: 'lo' });
    const name = mode === 1 ? 'strict' : 'loose';
    const src = pkt.src.toString();
    if (rev.kind !== 'route' || rev.route.rec.type !== 'unicast') {
      this.end(c, 'rp-filter', { type: 'rp-filter-drop', ns: ns.name, result: 'no-route', mode: name, src }, iif.name, 'drop', conf.evidence);
      return true;
    }
    const devs = routeDevs(rev.route);
    if (mode === 1 && !devs.includes(iif.name)) {
      this.end(c, 'rp-filter', { type: 'rp-filter-drop', ns: ns.name, result: 'wrong-dev', mode: 'strict', src, iif: iif.name, devs, route: routeView(rev.route) }, iif.name, 'drop', [...conf.evidence, routeEv(ns, rev.route)]);
      return true;
    }
    this.add(c, step('rp-filter', { type: 'rp-filter', ns: ns.name, mode: name, src, devs }, [...conf.evidence, routeEv(ns, rev.route)]));
    return false;
  }

  // ---- neighbours ---------------------------------------------------------------------------------

  /** Finds the link-layer address for `nexthop` on `dev` (neigh table, else what ARP/ND would get). */
  private resolve(c: Cursor, ns: Netns, dev: Iface, nexthop: Addr, pkt: Packet, viaGateway: boolean): Frame | undefined {
    if (dev.noarp || dev.type === 'loopback' || dev.type === 'ipip' || dev.type === 'wireguard') {
      return { pkt, dstMac: undefined, nexthop };
    }
    const found = neighLookup(ns, dev.name, nexthop);
    const where = { ns: ns.name, dev: dev.name, nexthop: nexthop.toString(), gateway: viaGateway };
    const family = nexthop.family;
    if (found.kind !== 'missing') {
      const entry = found.entry;
      const ev = evidence(ns, found.probe, entry.src);
      const state = entry.state.join(' ') || 'resolved';
      if (isResolved(found)) {
        const mac = Mac.parse(found.lladdr);
        this.add(c, step('neigh', { type: 'neigh', ...where, nud: found.kind, state, lladdr: found.lladdr, ...(entry.confirmed !== undefined ? { confirmed: entry.confirmed } : {}) }, [ev]));
        return { pkt, dstMac: mac.ok ? mac.value : undefined, nexthop };
      }
      // FAILED / INCOMPLETE: the kernel asks again; whether it succeeds depends on who answers.
      const answer = this.askSegment(ns, dev, nexthop, this.arpSender(ns, dev, pkt));
      if (answer) {
        this.add(c, step('arp', { type: 'arp', ...where, family, entry: { nud: found.kind, state }, nsInferred: ns.inferred !== undefined, answer: answer.who }, [ev, answer.ev], { inferred: true }));
        return { pkt, dstMac: answer.mac, nexthop, ...(answer.mac ? {} : { dstNic: answer.nic }) };
      }
      this.end(c, 'neighbor-failed', { type: 'neigh-failed', ...where, family, nud: found.kind, state }, dev.name, 'drop', [ev]);
      return undefined;
    }
    const refused: Refusal[] = [];
    const answer = this.askSegment(ns, dev, nexthop, this.arpSender(ns, dev, pkt), refused);
    // A namespace inferred for a pod without probes has no neighbour table in the capture: taken as empty.
    const nsInferred = ns.inferred !== undefined;
    if (answer) {
      this.add(c, step('arp', { type: 'arp', ...where, family, nsInferred, answer: answer.who }, [answer.ev], { inferred: true }));
      return { pkt, dstMac: answer.mac, nexthop, ...(answer.mac ? {} : { dstNic: answer.nic }) };
    }
    if (refused.length) {
      const r = refused[0]!;
      this.end(c, 'neighbor-failed', { type: 'arp-refused', ...where, nsInferred, refusal: r.refusal }, dev.name, 'drop', r.ev, nsInferred);
      return undefined;
    }
    const known = ns.probes.has('neigh') || ns.probes.has('arp') || ns.inferred !== undefined;
    this.wantOwnersOf(nexthop);
    // Hosts still needed whose namespaces are inferred (pods without probes) were searched like any
    // other: what is unknown is only a host with no tables and nothing inferred for it.
    const unread = [...this.needs].some((h) => !this.net.hosts.get(h)?.inferred);
    const owners = (this.net.reported.get(nexthop.toString()) ?? []).map((h) => this.net.hosts.get(h.name)).filter((o): o is Netns => o !== undefined && o !== ns);
    const placed = owners.filter((o) => o.inferred);
    this.end(c, known && !unread ? 'neighbor-failed' : 'insufficient-data', { type: 'neigh-unanswered', ...where, family, placed: placed.map((o) => o.name), tableKnown: known }, dev.name, 'drop', [], placed.length > 0 || ns.inferred !== undefined);
    return undefined;
  }

  /**
   * The sender address of the ARP request `ns` sends on `dev` for `pkt` (arp_solicit): the packet's own
   * source when it is a local address, else the device's.
   */
  private arpSender(ns: Netns, dev: Iface, pkt: Packet): Addr | undefined {
    if (pkt.dst.family !== 4) return undefined;
    const local = !pkt.src.isUnspecified() && [...ns.ifaces.values()].some((i) => i.addrs.some((a) => a.local.equals(pkt.src)));
    return local ? pkt.src : dev.addrs.find((a) => a.family === 4 && a.scope !== 'host')?.local;
  }

  /**
   * Who would answer ARP/ND for `ip` sent out of `dev`: an owner on the segment, or proxy ARP. A proxy
   * that would answer but whose reverse-path filter rejects the request's sender is put in `refused`.
   */
  private askSegment(ns: Netns, dev: Iface, ip: Addr, sender?: Addr, refused: Refusal[] = []): { who: Answerer; mac: Mac | undefined; ev: Ev; nic: { ns: Netns; iface: Iface } } | undefined {
    const reach = this.net.topology.segment(ns, dev);
    const who = (ep: { ns: Netns; iface: Iface }, by: Answerer['by']): Answerer => ({ host: ep.ns.name, dev: ep.iface.name, by, ...(ep.iface.mac ? { mac: ep.iface.mac.toString() } : {}) });
    for (const ep of reach) {
      const owned = ep.iface.addrs.find((a) => a.local.equals(ip));
      if (owned) return { who: who(ep, 'owner'), mac: ep.iface.mac, ev: evidence(ep.ns, 'addrs', owned.src), nic: ep };
    }
    for (const ep of reach) {
      const proxy = pneighLookup(ep.ns, ep.iface.name, ip);
      if (proxy.kind === 'proxy') return { who: who(ep, 'proxy-entry'), mac: ep.iface.mac, ev: evidence(ep.ns, 'neigh', proxy.entry.src), nic: ep };
    }
    if (ip.family === 4) {
      for (const ep of reach) {
        const conf = confValue(ep.ns, 4, ep.iface.name, 'proxy_arp');
        if (Math.max(conf.value ?? 0, conf.all ?? 0) === 0) continue;
        const back = ep.ns.fib[4].lookup({ dst: ip, iif: ep.iface.name });
        if (back.kind === 'route' && back.route.rec.type === 'unicast' && back.route.rec.dev !== ep.iface.name) {
          // arp_process answers only a request whose input route is valid (ip_route_input_noref):
          // with rp_filter on, the sender's address must route back (fib_validate_source).
          const rpf = sender ? this.reversePathRefuses(ep.ns, ep.iface, sender, ip) : undefined;
          if (rpf) {
            refused.push({ refusal: { host: ep.ns.name, dev: ep.iface.name, ip: ip.toString(), rp: rpf.rp }, ev: [conf.evidence[0], ...rpf.ev] });
            continue;
          }
          return { who: who(ep, 'proxy_arp'), mac: ep.iface.mac, ev: conf.evidence[0], nic: ep };
        }
      }
    }
    return undefined;
  }

  /** fib_validate_source for a packet from `src` arriving on `iif` (no steps): why rp_filter drops it, or undefined. */
  private reversePathRefuses(ns: Netns, iif: Iface, src: Addr, dst: Addr): { rp: RpFailure; ev: Ev[] } | undefined {
    const conf = confValue(ns, 4, iif.name, 'rp_filter');
    const mode = Math.max(conf.value ?? 0, conf.all ?? 0);
    if (mode === 0) return undefined;
    const name = mode === 1 ? 'strict' : 'loose';
    const rev = ns.fib[4].lookup({ dst: src, src: dst, iif: 'lo' });
    if (rev.kind !== 'route' || rev.route.rec.type !== 'unicast') {
      return { rp: { result: 'no-route', mode: name, src: src.toString(), ...(rev.kind === 'route' ? { route: routeView(rev.route) } : {}) }, ev: [...conf.evidence, ...(rev.kind === 'route' ? [routeEv(ns, rev.route)] : [])] };
    }
    const devs = routeDevs(rev.route);
    if (mode === 1 && !devs.includes(iif.name)) return { rp: { result: 'wrong-dev', mode: 'strict', src: src.toString(), iif: iif.name, devs, route: routeView(rev.route) }, ev: [...conf.evidence, routeEv(ns, rev.route)] };
    return undefined;
  }

  // ---- devices ------------------------------------------------------------------------------------

  /** dev_queue_xmit on `dev` with a resolved frame. */
  private transmit(c: Cursor, ns: Netns, dev: Iface, frame: Frame): void {
    const crumb = `${ns.name}|${dev.name}|${frame.pkt.src}|${frame.pkt.dst}|${frame.pkt.vni ?? ''}|${frame.dstMac ?? (frame.dstNic ? `${frame.dstNic.ns.name}/${frame.dstNic.iface.name}` : '')}`;
    if (c.loop) {
      // A loop that never lowers the TTL (bridges only) would go round for ever: stop it.
      if (ns.name === c.loop.host && dev.name === c.loop.dev) c.loop.sends++;
      if (++c.loop.total > MAX_LOOP_SENDS) return this.end(c, 'loop', { type: 'l2-loop', hosts: [...c.loop.hosts] }, dev.name);
    } else if (c.crumbs.has(crumb)) {
      // Breadcrumbs (batfish FlowTracer): the same packet out of the same device again is a loop. The
      // kernel does not notice; it forwards until the TTL runs out, so the walk goes on, quietly.
      this.add(c, step('forward', { type: 'loop', ns: ns.name, dev: dev.name }, [linkEv(ns, dev)]));
      c.loop = { host: ns.name, dev: dev.name, hosts: new Set([ns.name]), sends: 0, total: 0 };
    } else c.crumbs.add(crumb);
    if (c.hops.length > MAX_HOPS) return this.end(c, 'loop', { type: 'too-many-hops', max: MAX_HOPS }, dev.name);
    switch (dev.type) {
      case 'bridge':
        this.add(c, step('bridge', { type: 'bridge-xmit', ns: ns.name, bridge: dev.name, ...(frame.dstMac ? { mac: frame.dstMac.toString() } : {}) }, [linkEv(ns, dev)]));
        return this.bridgeForward(c, ns, dev, undefined, frame);
      case 'vxlan':
        return this.vxlanXmit(c, ns, dev, frame);
      case 'loopback':
        return this.localDeliver(c, ns, frame.pkt, dev);
      case 'ipip':
        return this.ipipXmit(c, ns, dev, frame);
      case 'wireguard':
        return this.wgXmit(c, ns, dev, frame);
      case 'dummy':
        return this.end(c, 'blackhole', { type: 'dummy', dev: dev.name }, dev.name, 'drop', [linkEv(ns, dev)]);
      case 'veth':
      case 'device':
        return this.wireOut(c, ns, dev, frame);
      default:
        return this.end(c, 'insufficient-data', { type: 'unsupported-dev', dev: dev.name, devType: dev.type }, dev.name, 'drop', [linkEv(ns, dev)]);
    }
  }

  private wireOut(c: Cursor, ns: Netns, dev: Iface, frame: Frame): void {
    const ends = this.net.topology.wires(ns, dev);
    if (ends.length === 0 || ends[0]!.how === 'segment') {
      this.wantOwnersOf(frame.nexthop);
      this.wantOwnersOf(frame.pkt.dst);
    }
    if (ends.length === 0) {
      return this.end(c, 'insufficient-data', { type: 'unwired', ns: ns.name, dev: dev.name, veth: dev.type === 'veth' }, dev.name, 'drop', [linkEv(ns, dev)]);
    }
    let targets = ends;
    if (ends[0]!.how === 'segment') {
      // An implicit segment: the frame reaches the NIC that owns the destination MAC.
      targets = ends.filter((e) => frame.dstMac !== undefined && e.iface.mac?.equals(frame.dstMac));
      if (targets.length === 0) {
        const owner = ends.filter((e) => e.iface.addrs.some((a) => a.local.equals(frame.pkt.dst)));
        targets = owner.length ? owner : [];
      }
      if (targets.length === 0) {
        return this.end(c, 'insufficient-data', { type: 'segment-no-owner', ns: ns.name, dev: dev.name, ...(frame.dstMac ? { mac: frame.dstMac.toString() } : {}) }, dev.name);
      }
    }
    if (targets.length > 1 && targets[0]!.how === 'veth') {
      // Only elimination narrows which port leads to a pod the capture holds no interfaces for: every
      // candidate is followed. From the node's side a candidate that is not the frame's owner drops
      // it, as a flood copy would; from the pod's side every candidate must deliver.
      const fromNode = ns.host.role !== 'pod';
      for (const e of targets) this.crossWire(this.fork(c, { kind: 'candidate', host: ns.name, dev: dev.name, peer: e.ns.name, peerDev: e.iface.name, of: targets.length }, fromNode || c.floodCopy, 'candidate'), ns, dev, e, frame);
      return;
    }
    this.crossWire(c, ns, dev, targets[0]!, frame);
  }

  private crossWire(c: Cursor, ns: Netns, dev: Iface, end0: Wire, frame: Frame): void {
    // A veth hands a frame to its peer only if it fits the peer's MTU plus the Ethernet and VLAN
    // headers (is_skb_forwardable: IP length up to MTU + 4); else the peer counts it in rx_dropped.
    if (end0.via?.how === 'candidates') {
      // Only elimination placed the pod, among several: the tables of those pods would settle it.
      const node = this.net.topology.attachments(end0.via.node);
      for (const p of end0.via.ports) for (const a of node.byPort.get(p) ?? []) this.settles.add(a.pod.name);
    }
    const records = [linkEv(ns, dev), linkEv(end0.ns, end0.iface), ...(end0.via?.basis ?? [])].filter((r, i, all) => r === undefined || all.findIndex((x) => x?.host === r.host && x.probe === r.probe && x.line === r.line) === i);
    const wire = { type: 'wire' as const, how: end0.how, ns: ns.name, dev: dev.name, peer: end0.ns.name, peerDev: end0.iface.name, ...(end0.via ? { via: end0.via.facts } : {}) };
    if (end0.how === 'veth' && frame.pkt.size > end0.iface.mtu + 4) {
      this.add(c, step('veth', { ...wire, peerMtu: end0.iface.mtu }, records, end0.inferred ? { inferred: true } : {}));
      this.enter(c, end0.ns, end0.iface.name);
      return this.end(c, 'mtu-exceeded', { type: 'veth-too-big', ns: end0.ns.name, dev: end0.iface.name, size: frame.pkt.size, mtu: end0.iface.mtu }, end0.iface.name, 'drop', [linkEv(end0.ns, end0.iface)], end0.iface.link === undefined && end0.ns.inferred !== undefined);
    }
    const detail: StepDetail = end0.how === 'segment' ? { ...wire, segment: ifacePrefixes(dev, frame.pkt.dst.family)[0]?.toString() ?? 'shared', to: (frame.dstMac ?? frame.pkt.dst).toString() } : wire;
    this.add(c, step(end0.how === 'veth' ? 'veth' : 'underlay', detail, records, end0.inferred ? { inferred: true } : {}));
    this.enter(c, end0.ns, end0.iface.name);
    this.ingress(c, end0.ns, end0.iface, frame);
  }

  /** A frame arrives on `dev` (netif_receive_skb): a bridge port, or an L3 interface. */
  private ingress(c: Cursor, ns: Netns, dev: Iface, frame: Frame): void {
    if (!dev.up) return this.end(c, 'link-down', { type: 'rx-down', ns: ns.name, dev: dev.name }, dev.name, 'drop', [linkEv(ns, dev)]);
    if (dev.master !== undefined) {
      const br = ns.ifaces.get(dev.master);
      if (!br) return this.end(c, 'insufficient-data', { type: 'master-unknown', ns: ns.name, dev: dev.name, master: dev.master }, dev.name);
      if (br.type !== 'bridge') return this.end(c, 'insufficient-data', { type: 'master-unknown', ns: ns.name, dev: dev.name, master: dev.master, masterType: br.type }, dev.name);
      const state = dev.link?.bridgePort?.state;
      if (state !== undefined && state !== 'forwarding') {
        return this.end(c, 'link-down', { type: 'port-blocked', bridge: br.name, port: dev.name, state, at: 'ingress' }, dev.name, 'drop', [linkEv(ns, dev)]);
      }
      return this.bridgeForward(c, ns, br, dev, frame);
    }
    if (frame.dstMac && dev.mac && !frame.dstMac.equals(dev.mac) && !frame.dstMac.isBroadcast() && !frame.dstMac.isMulticast()) {
      return this.end(c, 'wrong-destination', { type: 'otherhost', ns: ns.name, dev: dev.name, why: 'mac', mac: frame.dstMac.toString(), devMac: dev.mac.toString() }, dev.name, 'drop', [linkEv(ns, dev)]);
    }
    if (frame.dstNic && frame.dstNic.iface !== dev) {
      return this.end(c, 'wrong-destination', { type: 'otherhost', ns: ns.name, dev: dev.name, why: 'nic', nic: { host: frame.dstNic.ns.name, dev: frame.dstNic.iface.name } }, dev.name, 'drop', [linkEv(ns, dev)]);
    }
    if (frame.dstMac && !dev.mac && ns.inferred && frame.nexthop && !dev.addrs.some((a) => a.local.equals(frame.nexthop!)) && !frame.dstMac.isBroadcast() && !frame.dstMac.isMulticast()) {
      // A pod whose MAC the capture does not show takes frames only for the addresses it has.
      return this.end(c, 'wrong-destination', { type: 'otherhost', ns: ns.name, dev: dev.name, why: 'address', mac: frame.dstMac.toString(), nexthop: frame.nexthop.toString() }, dev.name, 'drop', [], true);
    }
    this.receive(c, ns, dev, frame.pkt);
  }

  /** ip_rcv: local delivery or forwarding. */
  private receive(c: Cursor, ns: Netns, iif: Iface, pkt: Packet): void {
    const ans = this.lookup(ns, pkt, iif.name);
    this.explainFib(c, ns, ans, pkt);
    if (ans.kind === 'route' && (ans.route.rec.type === 'local' || ans.route.rec.type === 'broadcast')) {
      if (pkt.dst.family === 4 && this.rpFilter(c, ns, pkt, iif)) return;
    }
    this.routeAndSend(c, ns, pkt, iif, ans);
  }

  private localDeliver(c: Cursor, ns: Netns, pkt: Packet, iif: Iface | null): void {
    if (pkt.inner && pkt.proto === 'ipip') return this.ipipRecv(c, ns, pkt, iif);
    if (pkt.inner && pkt.wgFrom) return this.wgRecv(c, ns, pkt, iif);
    // A VXLAN datagram for a local VTEP is decapsulated (vxlan_rcv), not handed to a socket.
    if (pkt.inner && pkt.proto === 'udp') {
      const vx = [...ns.ifaces.values()].find((i) => i.type === 'vxlan' && i.link?.vxlan !== undefined && i.link.vxlan.dstport === pkt.dport && i.link.vxlan.id === pkt.vni && (i.link.vxlan.local === undefined || i.link.vxlan.local.equals(pkt.dst)));
      if (!vx) {
        return this.end(c, 'wrong-destination', { type: 'vxlan-no-dev', ns: ns.name, ...(pkt.vni !== undefined ? { vni: pkt.vni } : {}), ...(pkt.dport !== undefined ? { port: pkt.dport } : {}) }, iif?.name ?? null);
      }
      const v = vx.link!.vxlan!;
      this.add(c, step('vxlan-decap', { type: 'vxlan-decap', ns: ns.name, dev: vx.name, vni: v.id, port: v.dstport, src: pkt.inner.pkt.src.toString(), dst: pkt.inner.pkt.dst.toString() }, [linkEv(ns, vx)]));
      return this.ingress(c, ns, vx, pkt.inner);
    }
    const t = this.target;
    const owners = this.net.owners.get(pkt.dst.toString()) ?? [];
    const isTarget = pkt.dst.equals(t.dst) && (t.host === null || t.host === ns.name || owners.every((o) => o.ns.name !== t.host));
    if (isTarget) {
      const a = [...ns.ifaces.values()].flatMap((i) => i.addrs.map((rec) => ({ i, rec }))).find((x) => x.rec.local.equals(pkt.dst));
      // An address inferred for a pod read from /proc has no line of its own (line 0).
      const inferredAddr = a !== undefined && a.rec.src.line === 0;
      return this.end(c, 'delivered', { type: 'deliver', ns: ns.name, dst: pkt.dst.toString(), ...(a ? { dev: a.i.name } : {}) }, null, 'deliver', [a && !inferredAddr ? evidence(ns, 'addrs', a.rec.src) : undefined], inferredAddr);
    }
    return this.end(c, 'wrong-destination', { type: 'not-target', ns: ns.name, dst: pkt.dst.toString(), target: t.host ?? t.dst.toString() }, iif?.name ?? null);
  }

  // ---- bridges ------------------------------------------------------------------------------------

  /**
   * br_handle_frame / br_dev_xmit: local, FDB hit, or flood. `inPort` is the ingress port, undefined
   * when the host itself sends into the bridge.
   */
  private bridgeForward(c: Cursor, ns: Netns, br: Iface, inPort: Iface | undefined, frame: Frame): void {
    const viaPort = inPort !== undefined;
    if (!br.up) return this.end(c, 'link-down', { type: 'bridge-down', ns: ns.name, bridge: br.name }, br.name, 'drop', [linkEv(ns, br)]);
    const mac = frame.dstMac;
    if (viaPort && mac && br.mac?.equals(mac)) {
      this.add(c, step('bridge', { type: 'bridge-own-mac', ns: ns.name, bridge: br.name, port: inPort.name, mac: mac.toString() }, [linkEv(ns, inPort), linkEv(ns, br)]));
      return this.receive(c, ns, br, frame.pkt);
    }
    const inPortName = inPort ? { inPort: inPort.name } : {};
    if (!mac) {
      if (!frame.dstNic) return this.end(c, 'insufficient-data', { type: 'bridge-no-mac', bridge: br.name }, br.name);
      // The MAC of a pod the capture holds no tables for: no forwarding entry can be matched to it.
      return this.flood(c, ns, br, inPort, frame, { why: 'unknown-mac', nic: { host: frame.dstNic.ns.name, dev: frame.dstNic.iface.name } }, true);
    }
    const found = brFdbLookup(ns, br, mac, viaPort);
    if (found.kind === 'local') {
      this.add(c, step('fdb', { type: 'fdb-local', ns: ns.name, bridge: br.name, ...(inPort ? { port: inPort.name } : {}), mac: mac.toString() }, [evidence(ns, 'fdb', found.entry.src)]));
      return this.receive(c, ns, br, frame.pkt);
    }
    const hit = found.kind === 'hit' ? found.entry : undefined;
    if (hit) {
      const port = ns.ifaces.get(hit.dev);
      const ev = evidence(ns, 'fdb', hit.src);
      if (!port) return this.end(c, 'insufficient-data', { type: 'fdb-port-unknown', ns: ns.name, bridge: br.name, mac: mac.toString(), port: hit.dev }, br.name, 'drop', [ev]);
      if (port.master !== br.name) return this.end(c, 'no-fdb-entry', { type: 'fdb-not-port', bridge: br.name, mac: mac.toString(), port: hit.dev }, br.name, 'drop', [ev, linkEv(ns, port)]);
      const state = hit.state === 'permanent' || hit.state === 'static' ? hit.state : 'learned';
      this.add(c, step('fdb', { type: 'fdb-hit', ns: ns.name, bridge: br.name, ...inPortName, mac: mac.toString(), port: port.name, state, ...(state === 'learned' && hit.updated !== undefined ? { age: hit.updated } : {}) }, [ev]));
      if (inPort && port.name === inPort.name) {
        if (!port.link?.bridgePort?.hairpin) return this.end(c, 'wrong-destination', { type: 'hairpin-off', mac: mac.toString(), port: port.name }, port.name, 'drop', [linkEv(ns, port)]);
        this.add(c, step('bridge', { type: 'hairpin', bridge: br.name, port: port.name }, [linkEv(ns, port)]));
      }
      return this.bridgeOut(c, ns, br, port, frame);
    }
    const fdbKnown = found.kind === 'miss' && found.known;
    this.flood(c, ns, br, inPort, frame, { why: 'miss', mac: mac.toString(), fdbKnown }, !fdbKnown);
  }

  /** br_flood: a copy out of every other port that is up and forwarding. */
  private flood(c: Cursor, ns: Netns, br: Iface, inPort: Iface | undefined, frame: Frame, why: { why: 'miss'; mac: string; fdbKnown: boolean } | { why: 'unknown-mac'; nic: { host: string; dev: string } }, inferred: boolean): void {
    const outPorts = this.net.topology.ports(ns, br.name).filter((p) => p !== inPort && forwards(p));
    this.add(c, step('flood', { type: 'flood', ns: ns.name, bridge: br.name, ...(inPort ? { inPort: inPort.name } : {}), ports: outPorts.map((p) => p.name), ...why }, [], inferred ? { inferred } : {}));
    if (outPorts.length === 0) return this.end(c, 'no-fdb-entry', { type: 'flood-no-port', bridge: br.name, to: frame.dstMac?.toString() ?? (frame.dstNic ? `${frame.dstNic.ns.name}` : 'its destination') }, br.name);
    for (const p of outPorts) this.bridgeOut(this.fork(c, { kind: 'flood', host: ns.name, bridge: br.name, port: p.name }, true, 'flood'), ns, br, p, frame);
  }

  private bridgeOut(c: Cursor, ns: Netns, br: Iface, port: Iface, frame: Frame): void {
    this.hop(c).out = port.name;
    if (!port.up) return this.end(c, 'link-down', { type: 'port-down', bridge: br.name, port: port.name }, port.name, 'drop', [linkEv(ns, port)]);
    if (port.link?.bridgePort?.state !== undefined && port.link.bridgePort.state !== 'forwarding') {
      return this.end(c, 'link-down', { type: 'port-blocked', bridge: br.name, port: port.name, state: port.link.bridgePort.state, at: 'egress' }, port.name, 'drop', [linkEv(ns, port)]);
    }
    const limit = port.mtu + bridgeSlack(ns);
    if (frame.pkt.size > limit) {
      return this.end(c, 'mtu-exceeded', { type: 'port-too-big', port: port.name, size: frame.pkt.size, mtu: port.mtu, limit }, port.name, 'drop', [linkEv(ns, port)]);
    }
    if (port.type === 'vxlan') return this.vxlanXmit(c, ns, port, frame);
    this.transmit(c, ns, port, frame);
  }

  // ---- VXLAN --------------------------------------------------------------------------------------

  /** vxlan_xmit: FDB lookup of the inner destination MAC -> remote VTEP; encapsulate; route the outer packet. */
  private vxlanXmit(c: Cursor, ns: Netns, dev: Iface, frame: Frame): void {
    const v = dev.link?.vxlan;
    if (!v) return this.end(c, 'insufficient-data', { type: 'vxlan-no-details', dev: dev.name }, dev.name);
    const mac = frame.dstMac;
    if (!mac) return this.end(c, 'neighbor-failed', { type: 'vxlan-no-mac', dev: dev.name }, dev.name);
    const found = vxlanFdbLookup(ns, dev, mac);
    const entries = found.kind === 'miss' ? [] : found.entries;
    const viaDefault = found.kind === 'default';
    if (entries.length === 0 && v.remote) {
      this.add(c, step('fdb', { type: 'vxlan-remote', ns: ns.name, dev: dev.name, mac: mac.toString(), remote: v.remote.toString() }, [linkEv(ns, dev)]));
      return this.encap(c, ns, dev, frame, v.remote, v.dstport, v.id);
    }
    if (entries.length === 0) {
      const known = found.kind === 'miss' && found.known;
      return this.end(c, known ? 'no-fdb-entry' : 'insufficient-data', { type: 'vxlan-fdb-miss', dev: dev.name, vni: v.id, mac: mac.toString(), fdbKnown: known }, dev.name);
    }
    for (const e of entries) {
      // A fork decides anew whether the copy is one whose end elsewhere is expected: only a default entry's.
      const cc = entries.length > 1 ? this.fork(c, { kind: 'vxlan', host: ns.name, dev: dev.name, vtep: e.dst!.toString(), default: viaDefault }, viaDefault, 'vxlan-default') : c;
      this.add(cc, step('fdb', { type: 'vxlan-fdb', ns: ns.name, dev: dev.name, vni: e.vni ?? v.id, mac: mac.toString(), vtep: e.dst!.toString(), default: viaDefault }, [evidence(ns, 'fdb', e.src)]));
      this.encap(cc, ns, dev, frame, e.dst!, e.port ?? v.dstport, e.vni ?? v.id);
    }
  }

  private encap(c: Cursor, ns: Netns, dev: Iface, frame: Frame, vtep: Addr, port: number, vni: number): void {
    const v = dev.link!.vxlan!;
    const overhead = VXLAN_OVERHEAD[vtep.family];
    const outer: Packet = {
      src: v.local ?? (vtep.family === 4 ? Addr.fromV4(0) : Addr.fromV6(0n)),
      dst: vtep,
      proto: 'udp',
      dport: port,
      size: frame.pkt.size + overhead,
      ttl: v.ttl ?? 64,
      // Linux VXLAN leaves DF clear on the outer header unless configured (`df set`).
      df: false,
      inner: frame,
      vni,
      tunnelDev: dev.name,
    };
    this.add(c, step('vxlan-encap', { type: 'vxlan-encap', ns: ns.name, dev: dev.name, size: frame.pkt.size, vni, vtep: vtep.toString(), port, ...(v.local ? { local: v.local.toString() } : {}), overhead, total: outer.size }, [linkEv(ns, dev)], { tunnel: { kind: 'vxlan', dev: dev.name, vni, ...(v.local ? { outerSrc: v.local.toString() } : {}), outerDst: vtep.toString(), port, overhead } }));
    this.routeAndSend(c, ns, outer, null, undefined, v.dev);
  }

  // ---- IPIP and WireGuard -------------------------------------------------------------------------

  /** ipip_tunnel_xmit: outer destination is the tunnel's remote, or the route's gateway (`remote any`). */
  private ipipXmit(c: Cursor, ns: Netns, dev: Iface, frame: Frame): void {
    const t = dev.link?.tunnel;
    const endpoint = t?.remote ?? frame.nexthop;
    if (!endpoint || endpoint.equals(frame.pkt.dst) && !t?.remote) {
      return this.end(c, 'insufficient-data', { type: 'ipip-no-remote', dev: dev.name }, dev.name, 'drop', [linkEv(ns, dev)]);
    }
    const outer: Packet = {
      src: t?.local ?? Addr.fromV4(0),
      dst: endpoint,
      proto: 'ipip',
      size: frame.pkt.size + IPIP_OVERHEAD,
      ttl: t?.ttl ?? frame.pkt.ttl,
      df: frame.pkt.df,
      inner: frame,
      tunnelDev: dev.name,
    };
    this.add(c, step('tunnel-encap', { type: 'ipip-encap', ns: ns.name, dev: dev.name, size: frame.pkt.size, remote: endpoint.toString(), fixed: t?.remote !== undefined, total: outer.size }, [linkEv(ns, dev)], { tunnel: { kind: 'ipip', dev: dev.name, ...(t?.local ? { outerSrc: t.local.toString() } : {}), outerDst: endpoint.toString(), overhead: IPIP_OVERHEAD } }));
    this.routeAndSend(c, ns, outer, null, undefined, t?.dev);
  }

  /** ipip_rcv: a local IPIP packet is taken by a tunnel whose endpoints match, and the inner packet arrives on it. */
  private ipipRecv(c: Cursor, ns: Netns, pkt: Packet, iif: Iface | null): void {
    const tun = [...ns.ifaces.values()].find((i) => i.type === 'ipip' && i.up && (i.link?.tunnel?.local === undefined || i.link.tunnel.local.equals(pkt.dst)) && (i.link?.tunnel?.remote === undefined || i.link.tunnel.remote.equals(pkt.src)));
    if (!tun) return this.end(c, 'wrong-destination', { type: 'ipip-no-dev', ns: ns.name, from: pkt.src.toString() }, iif?.name ?? null);
    this.add(c, step('tunnel-decap', { type: 'ipip-decap', ns: ns.name, dev: tun.name, from: pkt.src.toString(), src: pkt.inner!.pkt.src.toString(), dst: pkt.inner!.pkt.dst.toString() }, [linkEv(ns, tun)]));
    this.receive(c, ns, tun, pkt.inner!.pkt);
  }

  /** wg_xmit: cryptokey routing picks the peer whose allowed IPs hold the destination. */
  private wgXmit(c: Cursor, ns: Netns, dev: Iface, frame: Frame): void {
    const table = ns.wg.get(dev.name);
    const dst = frame.pkt.dst;
    const fam = dst.family;
    let peer: { endpoint: { addr: Addr; port: number } | undefined; ev: Ev; ref: WgPeerRef; inferred: boolean } | undefined;
    if (table) {
      let best: { p: (typeof table.peers)[number]; len: number } | undefined;
      for (const p of table.peers) for (const a of p.allowedIps) if (a.contains(dst) && (!best || a.length > best.len)) best = { p, len: a.length };
      if (!best) return this.end(c, 'unreachable', { type: 'wg-no-peer', dev: dev.name, dst: dst.toString() }, dev.name, 'drop', table.peers.map((p) => evidence(ns, 'wg', p.src)));
      peer = { endpoint: best.p.endpoint, ev: evidence(ns, 'wg', best.p.src), ref: { key: best.p.publicKey, allowedIps: best.p.allowedIps.map((a) => a.toString()) }, inferred: false };
    } else {
      // No `wg` probe: the peer is the node whose podCIDR holds the destination, on the local port.
      const node = this.net.capture.hosts.find((h) => h.role === 'node' && h.podCIDRs?.some((p) => Prefix.parse(p).ok && Prefix.must(p).contains(dst)));
      const ip = node?.ips?.flatMap((x) => {
        const a = Addr.parse(x);
        return a.ok && a.value.family === 4 ? [a.value] : [];
      })[0];
      if (!node || !ip) return this.end(c, 'insufficient-data', { type: 'wg-no-table', dev: dev.name, dst: dst.toString() }, dev.name);
      peer = { endpoint: { addr: ip, port: 51820 }, ev: undefined, ref: { node: node.name }, inferred: true };
    }
    if (!peer.endpoint) return this.end(c, 'unreachable', { type: 'wg-no-endpoint', dev: dev.name, dst: dst.toString(), peer: peer.ref }, dev.name, 'drop', [peer.ev]);
    const overhead = WIREGUARD_OVERHEAD[peer.endpoint.addr.family];
    const outer: Packet = {
      src: Addr.fromV4(0),
      dst: peer.endpoint.addr,
      proto: 'udp',
      dport: peer.endpoint.port,
      size: frame.pkt.size + overhead,
      ttl: 64,
      df: false,
      inner: frame,
      wgFrom: { key: table?.dev?.publicKey },
      tunnelDev: dev.name,
    };
    if (fam !== peer.endpoint.addr.family) outer.src = peer.endpoint.addr.family === 4 ? Addr.fromV4(0) : Addr.fromV6(0n);
    this.add(c, step('tunnel-encap', { type: 'wg-encap', ns: ns.name, dev: dev.name, dst: dst.toString(), peer: peer.ref, endpoint: peer.endpoint.addr.toString(), port: peer.endpoint.port, overhead, total: outer.size }, [peer.ev, linkEv(ns, dev)], { ...(peer.inferred ? { inferred: true } : {}), tunnel: { kind: 'wireguard', dev: dev.name, outerDst: peer.endpoint.addr.toString(), port: peer.endpoint.port, overhead } }));
    const mark = table?.dev?.fwmark;
    this.routeAndSend(c, ns, outer, null, undefined, undefined, mark);
  }

  /** wg_packet_receive: the datagram is decrypted by the device on that port, and the inner source must be an allowed IP of the sending peer. */
  private wgRecv(c: Cursor, ns: Netns, pkt: Packet, iif: Iface | null): void {
    const devs = [...ns.ifaces.values()].filter((i) => i.type === 'wireguard');
    const byPort = devs.find((d) => ns.wg.get(d.name)?.dev?.listenPort === pkt.dport);
    const dev = byPort ?? (devs.length === 1 && !ns.wg.get(devs[0]!.name) ? devs[0] : undefined);
    if (!dev) return this.end(c, 'wrong-destination', { type: 'wg-no-listener', ns: ns.name, ...(pkt.dport !== undefined ? { port: pkt.dport } : {}) }, iif?.name ?? null);
    const inner = pkt.inner!.pkt;
    const table = ns.wg.get(dev.name);
    const sender = table && pkt.wgFrom?.key ? table.peers.find((p) => p.publicKey === pkt.wgFrom!.key) : undefined;
    if (table && pkt.wgFrom?.key && !sender) return this.end(c, 'wrong-destination', { type: 'wg-unknown-peer', ns: ns.name, dev: dev.name }, dev.name);
    if (sender && !sender.allowedIps.some((a) => a.contains(inner.src))) {
      return this.end(c, 'rp-filter', { type: 'wg-source', dev: dev.name, src: inner.src.toString(), allowed: sender.allowedIps.map((a) => a.toString()) }, dev.name, 'drop', [evidence(ns, 'wg', sender.src)]);
    }
    this.add(c, step('tunnel-decap', { type: 'wg-decap', ns: ns.name, dev: dev.name, ...(pkt.dport !== undefined ? { port: pkt.dport } : {}), src: inner.src.toString(), dst: inner.dst.toString(), peerChecked: sender !== undefined }, [sender ? evidence(ns, 'wg', sender.src) : undefined, linkEv(ns, dev)], table ? {} : { inferred: true }));
    this.receive(c, ns, dev, inner);
  }
}

/**
 * How much larger than a port's MTU a bridged packet may be. With br_netfilter on
 * (net.bridge.bridge-nf-call-iptables = 1, as kube-proxy needs) the limit is the MTU itself; the
 * plain bridge checks before it pushes the Ethernet header (br_dev_queue_push_xmit ->
 * is_skb_forwardable: MTU + Ethernet + VLAN headers), so IP packets up to MTU + 18 pass.
 */
function bridgeSlack(ns: Netns): number {
  const nf = ns.sysctl.get('net.bridge.bridge-nf-call-iptables')?.value.trim();
  if (nf === '0') return 18;
  if (nf === '1') return 0;
  // Not captured: Kubernetes nodes run with br_netfilter; elsewhere assume the plain bridge.
  return ns.host.role === 'node' ? 0 : 18;
}
