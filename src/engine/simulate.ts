// The forwarding pipeline: what Linux does with one packet, namespace by namespace, in the kernel's
// own order — rules -> table -> longest prefix -> next hop -> neighbour -> device (veth peer, bridge
// FDB or flood, VXLAN FDB -> VTEP -> underlay) — with the table line that decided every step.
// Deterministic: the same network and flow give the same result. Every ECMP next hop and every
// flood copy is explored; breadcrumbs catch loops.
import { Addr, Mac, Prefix, type Family } from '../net/addr';
import type { FibAnswer, FibRoute } from './fib';
import { gatewayByName } from './names';
import { confValue, evidence, fdbKey, ifacePrefixes, neighKey, type Iface, type Netns, type Network } from './network';
import { forwards, type Wire } from './topology';
import type { Evidence, Flow, Hop, Step, StepKind, Trace, Verdict } from './trace';

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
  branch: string[];
  /** A flood copy: if it ends anywhere but the destination, that is not a failure of the path. */
  floodCopy: boolean;
  /**
   * Set once the packet is caught in a forwarding loop: it keeps going round (so the TTL runs out
   * where the kernel's does) but the repeated hops are not recorded again.
   */
  loop?: { host: string; dev: string; hosts: Set<string>; sends: number; total: number; silentHop?: Hop } | undefined;
}

export interface Walk {
  traces: (Trace & { branch: string; floodCopy: boolean })[];
}

const MAX_HOPS = 64;
/** Sends allowed once a loop is found: enough for any TTL to run out (255 hops). */
const MAX_LOOP_SENDS = 600;
const MAX_PATHS = 256;

type Ev = Evidence | undefined;

/** A neighbour that would have answered ARP but does not, and why. */
type Refusal = { text: string; ev: Ev[] };

function step(kind: StepKind, text: string, records: Ev[] = [], extra: Partial<Step> = {}): Step {
  const recs = records.filter((r): r is Evidence => r !== undefined);
  return { kind, text, evidence: recs.map((r) => r.raw).join('\n'), records: recs, ...extra };
}

function linkEv(ns: Netns, iface: Iface | undefined): Ev {
  return iface?.link ? evidence(ns, 'links', iface.link.src) : undefined;
}

function routeEv(ns: Netns, r: FibRoute): Evidence {
  return evidence(ns, r.probe, r.rec.src);
}

function describeRoute(r: FibRoute): string {
  const rec = r.rec;
  // As `ip route` prints it: `default`, a bare address for a host route, else the prefix.
  const dst = rec.dst.length === 0 ? 'default' : rec.dst.length === rec.dst.addr.bits ? rec.dst.addr.toString() : rec.dst.toString();
  const via = rec.gateway ? ` via ${rec.gateway}` : rec.unresolvedGateway ? ` via ${rec.unresolvedGateway.name} (a name, address unknown)` : '';
  const dev = rec.dev ? ` dev ${rec.dev}` : '';
  return `${rec.type === 'unicast' ? '' : rec.type + ' '}${dst}${via}${dev}${rec.table !== 'main' ? ` table ${rec.table}` : ''}`;
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
    if (ns.inferred) this.add(c, step('inferred', ns.inferred.text, ns.inferred.basis, { inferred: true }));
  }

  private fork(c: Cursor, label: string, floodCopy = c.floodCopy): Cursor {
    return {
      hops: c.hops.map((h, i) => (i === c.hops.length - 1 ? { ...h, steps: [...h.steps] } : h)),
      crumbs: new Set(c.crumbs),
      branch: [...c.branch, label],
      floodCopy,
      loop: c.loop ? { ...c.loop, hosts: new Set(c.loop.hosts) } : undefined,
    };
  }

  private end(c: Cursor, verdict: Verdict, reason: string, dropDev: string | null, stepKind: StepKind = 'drop', records: Ev[] = [], inferred = false): void {
    if (this.out.traces.length >= MAX_PATHS) return;
    if (c.loop?.silentHop) {
      // The loop ends here: record this last hop (only its final step) after the ones already shown.
      const last = c.loop.silentHop;
      c.hops = [...c.hops, { ...last, steps: [] }];
      c.loop.silentHop = undefined;
      reason = `${reason} The packet was caught in a forwarding loop (${[...c.loop.hosts].join(' -> ')} and back), sent out of ${c.loop.dev} of ${c.loop.host} ${c.loop.sends + 2} times in all.`;
    }
    const h = this.hop(c);
    if (verdict === 'insufficient-data') {
      const ns = this.net.hosts.get(h.host);
      if (ns) this.want(ns);
    }
    this.add(c, step(stepKind, reason, records, inferred ? { inferred } : {}));
    this.out.traces.push({
      verdict,
      hops: c.hops,
      dropAt: verdict === 'delivered' ? null : { host: h.host, dev: dropDev },
      reason,
      branch: c.branch.join(' / '),
      floodCopy: c.floodCopy,
    });
  }

  // ---- entry points ----------------------------------------------------------------------------

  /** A packet created by a socket in `ns` (ip_local_out). */
  originate(ns: Netns, pkt: Packet): void {
    const c: Cursor = { hops: [], crumbs: new Set(), branch: [], floodCopy: false };
    this.enter(c, ns, null);
    this.add(c, step('origin', `${/^[aeiou]/i.test(pkt.proto) ? 'An' : 'A'} ${pkt.proto.toUpperCase()} packet of ${pkt.size} bytes from ${pkt.src.isUnspecified() ? 'a source the kernel will choose' : pkt.src} to ${pkt.dst}${pkt.dport !== undefined ? ` port ${pkt.dport}` : ''} leaves a socket in ${ns.name}${pkt.df ? ' (Don\'t Fragment set)' : ''}.`));
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
      const text = ans.kind === 'rule'
        ? `Policy rule ${rule.rec.priority} matches and its action is ${ans.action}.`
        : `Policy rule ${rule.rec.priority} matches and sends the lookup to table ${ans.table}${ans.rulesTried.length > 1 ? ` (rules ${ans.rulesTried.slice(0, -1).map((r) => r.rec.priority).join(', ')} matched but gave no route)` : ''}.`;
      this.add(c, step('rule', text, [rule.inferred ? undefined : evidence(ns, rule.probe, rule.rec.src)], rule.inferred ? { inferred: true } : {}));
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
      const tables = [...new Set(ans.rulesTried.map((r) => r.rec.table ?? 'main'))].join(', ');
      const missing = !ns.probes.has(fam === 4 ? 'routes4' : 'routes6') && !(fam === 6 && ns.probes.has('routes4'));
      if (missing) return this.end(c, 'insufficient-data', `${ns.name} has no IPv${fam} routes in the capture, so where it sends ${pkt.dst} is unknown.`, null);
      return this.end(c, 'no-route', `No route in ${ns.name} matches ${pkt.dst} (tables searched: ${tables || 'none'}); the kernel answers "Network is unreachable".`, localDrop);
    }
    if (ans.kind === 'rule') {
      const words = { blackhole: 'silently discards it', unreachable: 'rejects it as unreachable', prohibit: 'rejects it as administratively prohibited' };
      return this.end(c, ans.action, `Policy rule ${ans.rule.rec.priority} in ${ns.name} ${words[ans.action]}.`, localDrop, 'drop', [evidence(ns, ans.rule.probe, ans.rule.rec.src)]);
    }
    const r = ans.route;
    const rec = r.rec;
    const rEv = routeEv(ns, r);
    const candidates = ans.others.map((o) => routeEv(ns, o));
    const routeStep = (text: string) => step('route', text, [rEv], { ...(candidates.length ? { candidates } : {}), ...(r.inferred ? { inferred: true } : {}) });

    switch (rec.type) {
      case 'blackhole':
      case 'unreachable':
      case 'prohibit': {
        const words = { blackhole: 'silently discards the packet', unreachable: 'rejects it with "No route to host"', prohibit: 'rejects it as administratively prohibited' };
        this.add(c, routeStep(`The longest matching route in ${ns.name} for ${pkt.dst} is "${describeRoute(r)}" (table ${ans.table}).`));
        return this.end(c, rec.type, `It is a ${rec.type} route: the kernel ${words[rec.type]}.`, localDrop);
      }
      case 'local':
        this.add(c, routeStep(`${pkt.dst} is a local address of ${ns.name} (local table: "${describeRoute(r)}").`));
        return this.localDeliver(c, ns, pkt, iif);
      case 'broadcast':
      case 'multicast':
      case 'anycast':
        this.add(c, routeStep(`${pkt.dst} matches the ${rec.type} route "${describeRoute(r)}".`));
        return this.localDeliver(c, ns, pkt, iif);
      case 'throw':
      case 'nat':
        return this.end(c, 'no-route', `The lookup ended on a ${rec.type} route "${describeRoute(r)}" that leaves no usable route.`, null, 'drop', [rEv]);
      case 'unicast':
        break;
    }

    // Forwarding checks for a received packet (ip_route_input_slow, then ip_forward).
    if (iif) {
      const fwd = this.forwardingEnabled(ns, iif, fam);
      if (fwd.enabled === false) {
        this.add(c, routeStep(`The packet is not for ${ns.name}; the route "${describeRoute(r)}" would forward it.`));
        return this.end(c, 'forwarding-disabled', `Forwarding is disabled on ${iif.name} in ${ns.name} (${fwd.key} = 0), so the kernel drops packets it would have to route.`, iif.name, 'drop', fwd.evidence);
      }
      if (fwd.enabled === undefined) this.add(c, step('inferred', `The capture has no forwarding sysctls for ${ns.name}; a Kubernetes ${ns.host.role} is assumed to forward.`, [], { inferred: true }));
      if (pkt.ttl <= 1) return this.end(c, 'ttl-exceeded', `The packet's TTL is ${pkt.ttl}: forwarding it would reach 0, so ${ns.name} drops it (ICMP time exceeded).`, iif.name);
      if (fwd.enabled) this.add(c, step('forward', `${ns.name} forwards the packet (${fwd.key} = 1); its TTL drops from ${pkt.ttl} to ${pkt.ttl - 1}.`, fwd.evidence));
      pkt = { ...pkt, ttl: pkt.ttl - 1 };
    }

    const nexthops = rec.nexthops?.length
      ? rec.nexthops.filter((n) => !n.flags.includes('dead')).map((n) => ({ gateway: n.gateway, dev: n.dev, onlink: n.flags.includes('onlink'), label: `nexthop ${n.gateway ? `via ${n.gateway} ` : ''}dev ${n.dev ?? '?'}` }))
      : [{ gateway: rec.gateway, dev: rec.dev, onlink: rec.flags.includes('onlink'), label: '' }];
    const text = `The longest matching route in ${ns.name} for ${pkt.dst} is "${describeRoute(r)}" (table ${ans.table}${rec.metric !== undefined ? `, metric ${rec.metric}` : ''})${nexthops.length > 1 ? `: ${nexthops.length} equal-cost next hops, each explored` : ''}.`;
    this.add(c, routeStep(text));
    if (rec.unresolvedGateway && !rec.gateway) {
      // `route` without -n printed the gateway as a name: never on-link (flag G); placed only from `arp -a`.
      const named = gatewayByName(ns, rec.unresolvedGateway, fam, rec.dev);
      const ev = [rEv, ...named.entries.map((e) => evidence(ns, 'arp', e.src))];
      if (named.kind !== 'found') return this.end(c, 'insufficient-data', named.text, rec.dev ?? null, 'drop', ev);
      nexthops[0]!.gateway = named.addr;
      this.add(c, step('inferred', named.text, ev, { inferred: true }));
    }
    for (const nh of nexthops) {
      const cc = nexthops.length > 1 ? this.fork(c, nh.label) : c;
      this.sendVia(cc, ns, pkt, iif, nh.gateway, nh.dev, r);
    }
  }

  private forwardingEnabled(ns: Netns, iif: Iface, fam: Family): { enabled: boolean | undefined; key: string; evidence: Evidence[] } {
    const conf = confValue(ns, fam, iif.name, 'forwarding');
    if (conf.value !== undefined) return { enabled: conf.value !== 0, key: `net.ipv${fam}.conf.${iif.name}.forwarding`, evidence: conf.evidence.slice(0, 1) };
    const globalKey = fam === 4 ? 'net.ipv4.ip_forward' : 'net.ipv6.conf.all.forwarding';
    const g = ns.sysctl.get(globalKey);
    if (g) return { enabled: g.value.trim() !== '0', key: globalKey, evidence: [evidence(ns, 'sysctl', g.rec.src)] };
    // Pods do not forward; nodes and routers must (Kubernetes requires ip_forward on nodes).
    if (ns.host.role === 'pod') return { enabled: false, key: globalKey + ' (assumed 0 in a pod)', evidence: [] };
    return { enabled: undefined, key: globalKey, evidence: [] };
  }

  /** Next hop, MTU, neighbour, then the device. */
  private sendVia(c: Cursor, ns: Netns, pkt: Packet, iif: Iface | null, gateway: Addr | undefined, devName: string | undefined, r: FibRoute): void {
    const dev = devName !== undefined ? ns.ifaces.get(devName) : undefined;
    if (!dev) {
      return this.end(c, 'insufficient-data', `The route names device ${devName ?? '(none)'}, which ${ns.name}'s links do not show.`, devName ?? null);
    }
    this.hop(c).out = dev.name;
    if (!dev.up || (!dev.lowerUp && dev.link !== undefined && dev.type !== 'vxlan' && dev.type !== 'bridge' && dev.type !== 'dummy')) {
      return this.end(c, 'link-down', `${dev.name} in ${ns.name} is ${dev.up ? 'up but has no carrier (NO-CARRIER)' : 'administratively down'}, so nothing can be sent on it.`, dev.name, 'drop', [linkEv(ns, dev)]);
    }
    // Source address: the route's prefsrc, else the packet's own (set by the originating socket).
    if (pkt.src.isUnspecified()) {
      const chosen = r.rec.prefsrc ?? dev.addrs.find((a) => a.family === pkt.dst.family && a.scope !== 'link')?.local;
      if (chosen) {
        if (c.hops.length === 1 && !pkt.inner) this.pickedSrc ??= chosen;
        pkt = { ...pkt, src: chosen };
        this.add(c, step('src', `The kernel picks ${chosen} as the source address (${r.rec.prefsrc ? 'the route\'s src' : `the first address on ${dev.name}`}).`, [r.rec.prefsrc ? routeEv(ns, r) : undefined]));
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
        return this.end(c, 'mtu-exceeded', `The packet is ${pkt.size} bytes but ${dev.name} in ${ns.name} carries at most ${mtu} (MTU${inferredMtu ? ', inferred' : ''}); with Don't Fragment set it is dropped and the sender is told to use ${mtu}.`, dev.name, 'drop', [linkEv(ns, dev)], inferredMtu);
      }
      this.add(c, step('mtu', `The packet (${pkt.size} bytes) is larger than ${dev.name}'s MTU ${mtu}; without DF the kernel fragments it.`, [linkEv(ns, dev)]));
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
    if (rev.kind !== 'route' || rev.route.rec.type !== 'unicast') {
      this.end(c, 'rp-filter', `Reverse-path filter (${name}) in ${ns.name}: there is no unicast route back to ${pkt.src}, so the packet from it is dropped as a martian.`, iif.name, 'drop', conf.evidence);
      return true;
    }
    const devs = rev.route.rec.nexthops?.length ? rev.route.rec.nexthops.map((n) => n.dev) : [rev.route.rec.dev];
    if (mode === 1 && !devs.includes(iif.name)) {
      this.end(c, 'rp-filter', `Reverse-path filter (strict) in ${ns.name}: the packet from ${pkt.src} arrived on ${iif.name}, but the route back to ${pkt.src} ("${describeRoute(rev.route)}") leaves by ${devs.join(', ')}; the kernel drops it.`, iif.name, 'drop', [...conf.evidence, routeEv(ns, rev.route)]);
      return true;
    }
    this.add(c, step('rp-filter', `Reverse-path filter (${name}) passes: the route back to ${pkt.src} leaves by ${devs.join(', ')}.`, [...conf.evidence, routeEv(ns, rev.route)]));
    return false;
  }

  // ---- neighbours ---------------------------------------------------------------------------------

  /** Finds the link-layer address for `nexthop` on `dev` (neigh table, else what ARP/ND would get). */
  private resolve(c: Cursor, ns: Netns, dev: Iface, nexthop: Addr, pkt: Packet, viaGateway: boolean): Frame | undefined {
    if (dev.noarp || dev.type === 'loopback' || dev.type === 'ipip' || dev.type === 'wireguard') {
      return { pkt, dstMac: undefined, nexthop };
    }
    const entry = ns.neigh.get(neighKey(dev.name, nexthop));
    const proto = nexthop.family === 4 ? 'ARP' : 'neighbour discovery';
    const who = viaGateway ? `gateway ${nexthop}` : nexthop.toString();
    if (entry) {
      const ev = evidence(ns, ns.neighProbe.get(entry) ?? 'neigh', entry.src);
      const state = entry.state.join(' ') || 'resolved';
      const usable = entry.lladdr !== undefined && !entry.state.some((s) => s === 'FAILED' || s === 'INCOMPLETE');
      if (usable) {
        const mac = Mac.parse(entry.lladdr!);
        const stale = entry.state.includes('STALE') ? ' The entry is STALE: the kernel uses it and re-confirms it in the background.' : '';
        const age = entry.confirmed !== undefined && !entry.state.includes('PERMANENT') ? `, confirmed ${entry.confirmed} s ago` : '';
        this.add(c, step('neigh', `The neighbour table of ${ns.name} maps ${who} on ${dev.name} to ${entry.lladdr} (${state}${age}).${stale}`, [ev]));
        return { pkt, dstMac: mac.ok ? mac.value : undefined, nexthop };
      }
      // FAILED / INCOMPLETE: the kernel asks again; whether it succeeds depends on who answers.
      const answer = this.askSegment(ns, dev, nexthop, this.arpSender(ns, dev, pkt));
      if (answer) {
        this.add(c, step('arp', `The neighbour entry for ${who} on ${dev.name} is ${state}; the kernel asks again with ${proto}, and ${answer.who} answers with ${answer.mac ?? 'its address (its MAC is not in the capture)'}.`, [ev, answer.ev], { inferred: true }));
        return { pkt, dstMac: answer.mac, nexthop, ...(answer.mac ? {} : { dstNic: answer.nic }) };
      }
      this.end(c, 'neighbor-failed', `The neighbour entry for ${who} on ${dev.name} in ${ns.name} is ${state} and nothing on that segment owns ${nexthop}, so ${proto} gets no answer and the packet is dropped.`, dev.name, 'drop', [ev]);
      return undefined;
    }
    const refused: Refusal[] = [];
    const answer = this.askSegment(ns, dev, nexthop, this.arpSender(ns, dev, pkt), refused);
    // A namespace inferred for a pod without probes has no neighbour table in the capture: taken as empty.
    const none = ns.inferred ? `${ns.name}'s neighbour table is not in the capture; with no entry for ${who} on ${dev.name}` : `${ns.name} has no neighbour entry for ${who} on ${dev.name}`;
    if (answer) {
      this.add(c, step('arp', `${none}${ns.inferred ? '' : ';'} it would send ${nexthop.family === 4 ? 'an ARP request' : 'a neighbour solicitation'}, and ${answer.who} answers${answer.mac ? ` with ${answer.mac}` : ' (its MAC is not in the capture)'}.`, [answer.ev], { inferred: true }));
      return { pkt, dstMac: answer.mac, nexthop, ...(answer.mac ? {} : { dstNic: answer.nic }) };
    }
    if (refused.length) {
      const r = refused[0]!;
      this.end(c, 'neighbor-failed', `${none}${ns.inferred ? '' : ';'} it would send an ARP request, but ${r.text}: the request goes unanswered and the packet is dropped.`, dev.name, 'drop', r.ev, ns.inferred !== undefined);
      return undefined;
    }
    const known = ns.probes.has('neigh') || ns.probes.has('arp') || ns.inferred !== undefined;
    this.wantOwnersOf(nexthop);
    // Hosts still needed whose namespaces are inferred (pods without probes) were searched like any
    // other: what is unknown is only a host with no tables and nothing inferred for it.
    const unread = [...this.needs].some((h) => !this.net.hosts.get(h)?.inferred);
    const owners = (this.net.reported.get(nexthop.toString()) ?? []).map((h) => this.net.hosts.get(h.name)).filter((o): o is Netns => o !== undefined && o !== ns);
    const placed = owners.filter((o) => o.inferred);
    const text = placed.length
      ? `${ns.name} has no neighbour entry for ${who} on ${dev.name}, and ${placed.map((o) => o.name).join(', ')}, which has it, is not reached by a broadcast from ${dev.name} (where it is was inferred)`
      : `${ns.name} has no neighbour entry for ${who} on ${dev.name} and no host in the capture on that segment owns ${nexthop}`;
    this.end(c, known && !unread ? 'neighbor-failed' : 'insufficient-data', `${text}${known ? `, so ${proto} goes unanswered and the packet is dropped` : ''}.`, dev.name, 'drop', [], placed.length > 0 || ns.inferred !== undefined);
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
  private askSegment(ns: Netns, dev: Iface, ip: Addr, sender?: Addr, refused: Refusal[] = []): { who: string; mac: Mac | undefined; ev: Ev; nic: { ns: Netns; iface: Iface } } | undefined {
    const reach = this.net.topology.segment(ns, dev);
    for (const ep of reach) {
      const owned = ep.iface.addrs.find((a) => a.local.equals(ip));
      if (owned) return { who: `${ep.ns.name} (${ep.iface.name})`, mac: ep.iface.mac, ev: evidence(ep.ns, 'addrs', owned.src), nic: ep };
    }
    for (const ep of reach) {
      const proxy = ep.ns.proxies.get(neighKey(ep.iface.name, ip));
      if (proxy) return { who: `${ep.ns.name} (${ep.iface.name}, proxy neighbour entry)`, mac: ep.iface.mac, ev: evidence(ep.ns, 'neigh', proxy.src), nic: ep };
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
            refused.push({ text: `${ep.ns.name} would answer for ${ip} on ${ep.iface.name} by proxy_arp, and ${rpf.text}, so it ignores the request`, ev: [conf.evidence[0], ...rpf.ev] });
            continue;
          }
          return { who: `${ep.ns.name} (${ep.iface.name}, proxy_arp)`, mac: ep.iface.mac, ev: conf.evidence[0], nic: ep };
        }
      }
    }
    return undefined;
  }

  /** fib_validate_source for a packet from `src` arriving on `iif` (no steps): why rp_filter drops it, or undefined. */
  private reversePathRefuses(ns: Netns, iif: Iface, src: Addr, dst: Addr): { text: string; ev: Ev[] } | undefined {
    const conf = confValue(ns, 4, iif.name, 'rp_filter');
    const mode = Math.max(conf.value ?? 0, conf.all ?? 0);
    if (mode === 0) return undefined;
    const name = mode === 1 ? 'strict' : 'loose';
    const rev = ns.fib[4].lookup({ dst: src, src: dst, iif: 'lo' });
    if (rev.kind !== 'route' || rev.route.rec.type !== 'unicast') {
      return { text: `its reverse-path filter (${name}) finds no unicast route back to the sender ${src}${rev.kind === 'route' ? ` (the route is "${describeRoute(rev.route)}")` : ''}`, ev: [...conf.evidence, ...(rev.kind === 'route' ? [routeEv(ns, rev.route)] : [])] };
    }
    const devs = rev.route.rec.nexthops?.length ? rev.route.rec.nexthops.map((n) => n.dev) : [rev.route.rec.dev];
    if (mode === 1 && !devs.includes(iif.name)) return { text: `its reverse-path filter (strict) sends replies to ${src} out of ${devs.join(', ')}, not ${iif.name}`, ev: [...conf.evidence, routeEv(ns, rev.route)] };
    return undefined;
  }

  // ---- devices ------------------------------------------------------------------------------------

  /** dev_queue_xmit on `dev` with a resolved frame. */
  private transmit(c: Cursor, ns: Netns, dev: Iface, frame: Frame): void {
    const crumb = `${ns.name}|${dev.name}|${frame.pkt.src}|${frame.pkt.dst}|${frame.pkt.vni ?? ''}|${frame.dstMac ?? (frame.dstNic ? `${frame.dstNic.ns.name}/${frame.dstNic.iface.name}` : '')}`;
    if (c.loop) {
      // A loop that never lowers the TTL (bridges only) would go round for ever: stop it.
      if (ns.name === c.loop.host && dev.name === c.loop.dev) c.loop.sends++;
      if (++c.loop.total > MAX_LOOP_SENDS) return this.end(c, 'loop', `The frame goes round a loop that never lowers its TTL (${[...c.loop.hosts].join(' -> ')}): a layer-2 loop.`, dev.name);
    } else if (c.crumbs.has(crumb)) {
      // Breadcrumbs (batfish FlowTracer): the same packet out of the same device again is a loop. The
      // kernel does not notice; it forwards until the TTL runs out, so the walk goes on, quietly.
      this.add(c, step('forward', `The packet leaves ${dev.name} of ${ns.name} a second time with the same addresses: this is a forwarding loop. It goes round until its TTL runs out.`, [linkEv(ns, dev)]));
      c.loop = { host: ns.name, dev: dev.name, hosts: new Set([ns.name]), sends: 0, total: 0 };
    } else c.crumbs.add(crumb);
    if (c.hops.length > MAX_HOPS) return this.end(c, 'loop', `The path exceeds ${MAX_HOPS} hops.`, dev.name);
    switch (dev.type) {
      case 'bridge':
        this.add(c, step('bridge', `${dev.name} is a Linux bridge: the host sends the frame into it${frame.dstMac ? ` for ${frame.dstMac}` : ''}.`, [linkEv(ns, dev)]));
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
        return this.end(c, 'blackhole', `${dev.name} is a dummy device: everything sent to it is discarded.`, dev.name, 'drop', [linkEv(ns, dev)]);
      case 'veth':
      case 'device':
        return this.wireOut(c, ns, dev, frame);
      default:
        return this.end(c, 'insufficient-data', `${dev.name} is a ${dev.type} device, which netpath does not model yet; the path stops here.`, dev.name, 'drop', [linkEv(ns, dev)]);
    }
  }

  private wireOut(c: Cursor, ns: Netns, dev: Iface, frame: Frame): void {
    const ends = this.net.topology.wires(ns, dev);
    if (ends.length === 0 || ends[0]!.how === 'segment') {
      this.wantOwnersOf(frame.nexthop);
      this.wantOwnersOf(frame.pkt.dst);
    }
    if (ends.length === 0) {
      return this.end(c, 'insufficient-data', `Nothing in the capture says what ${dev.name} of ${ns.name} is connected to${dev.type === 'veth' ? ' (its veth peer is not in the capture)' : ''}.`, dev.name, 'drop', [linkEv(ns, dev)]);
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
        return this.end(c, 'insufficient-data', `${dev.name} of ${ns.name} sends to ${frame.dstMac ?? 'an unknown MAC'} on its subnet, but no host in the capture has that address.`, dev.name);
      }
    }
    if (targets.length > 1 && targets[0]!.how === 'veth') {
      // Only elimination narrows which port leads to a pod the capture holds no interfaces for: every
      // candidate is followed. From the node's side a candidate that is not the frame's owner drops
      // it, as a flood copy would; from the pod's side every candidate must deliver.
      const fromNode = ns.host.role !== 'pod';
      for (const e of targets) this.crossWire(this.fork(c, `${dev.name} -> ${e.ns.name} ${e.iface.name} (one of ${targets.length})`, fromNode || c.floodCopy), ns, dev, e, frame);
      return;
    }
    this.crossWire(c, ns, dev, targets[0]!, frame);
  }

  private crossWire(c: Cursor, ns: Netns, dev: Iface, end0: Wire, frame: Frame): void {
    // A veth hands a frame to its peer only if it fits the peer's MTU plus the Ethernet and VLAN
    // headers (is_skb_forwardable: IP length up to MTU + 4); else the peer counts it in rx_dropped.
    const via = end0.via ? ` (inferred: ${end0.via.text})` : '';
    if (end0.via?.how === 'candidates') {
      // Only elimination placed the pod, among several: the tables of those pods would settle it.
      const node = this.net.topology.attachments(end0.via.node);
      for (const p of end0.via.ports) for (const a of node.byPort.get(p) ?? []) this.settles.add(a.pod.name);
    }
    const records = [linkEv(ns, dev), linkEv(end0.ns, end0.iface), ...(end0.via?.basis ?? [])].filter((r, i, all) => r === undefined || all.findIndex((x) => x?.host === r.host && x.probe === r.probe && x.line === r.line) === i);
    if (end0.how === 'veth' && frame.pkt.size > end0.iface.mtu + 4) {
      this.add(c, step('veth', `${dev.name} is one end of a veth pair whose other end, ${end0.iface.name} in ${end0.ns.name}, has MTU ${end0.iface.mtu}${via}.`, records, end0.inferred ? { inferred: true } : {}));
      this.enter(c, end0.ns, end0.iface.name);
      return this.end(c, 'mtu-exceeded', `The ${frame.pkt.size}-byte packet is larger than ${end0.iface.name}'s MTU ${end0.iface.mtu} allows (up to ${end0.iface.mtu + 4} bytes cross a veth): it is dropped as it arrives, and the sender sees "No buffer space available".`, end0.iface.name, 'drop', [linkEv(end0.ns, end0.iface)], end0.iface.link === undefined && end0.ns.inferred !== undefined);
    }
    const how = end0.how === 'veth' ? `${dev.name} is one end of a veth pair; the frame comes out of the other end, ${end0.iface.name} in ${end0.ns.name}${via}.` : end0.how === 'link' ? `${dev.name} is cabled to ${end0.ns.name} ${end0.iface.name} (capture links).` : `${dev.name} sends the frame onto the ${ifacePrefixes(dev, frame.pkt.dst.family)[0] ?? 'shared'} segment, where ${end0.ns.name} ${end0.iface.name} has ${frame.dstMac ?? frame.pkt.dst}.`;
    this.add(c, step(end0.how === 'veth' ? 'veth' : 'underlay', how, records, end0.inferred ? { inferred: true } : {}));
    this.enter(c, end0.ns, end0.iface.name);
    this.ingress(c, end0.ns, end0.iface, frame);
  }

  /** A frame arrives on `dev` (netif_receive_skb): a bridge port, or an L3 interface. */
  private ingress(c: Cursor, ns: Netns, dev: Iface, frame: Frame): void {
    if (!dev.up) return this.end(c, 'link-down', `${dev.name} in ${ns.name} is down: the frame is dropped on arrival.`, dev.name, 'drop', [linkEv(ns, dev)]);
    if (dev.master !== undefined) {
      const br = ns.ifaces.get(dev.master);
      if (!br) return this.end(c, 'insufficient-data', `${dev.name} is enslaved to ${dev.master}, which ${ns.name}'s links do not show.`, dev.name);
      if (br.type !== 'bridge') return this.end(c, 'insufficient-data', `${dev.name} is enslaved to ${dev.master}, a ${br.type} device, which netpath does not model yet.`, dev.name);
      const state = dev.link?.bridgePort?.state;
      if (state !== undefined && state !== 'forwarding') {
        return this.end(c, 'link-down', `Port ${dev.name} of bridge ${br.name} is in state ${state}: it does not forward frames.`, dev.name, 'drop', [linkEv(ns, dev)]);
      }
      return this.bridgeForward(c, ns, br, dev, frame);
    }
    if (frame.dstMac && dev.mac && !frame.dstMac.equals(dev.mac) && !frame.dstMac.isBroadcast() && !frame.dstMac.isMulticast()) {
      return this.end(c, 'wrong-destination', `The frame is for ${frame.dstMac}, but ${dev.name} in ${ns.name} has ${dev.mac}: the kernel discards frames for other hosts.`, dev.name, 'drop', [linkEv(ns, dev)]);
    }
    if (frame.dstNic && frame.dstNic.iface !== dev) {
      return this.end(c, 'wrong-destination', `The frame is for the MAC of ${frame.dstNic.iface.name} in ${frame.dstNic.ns.name} (not in the capture), not for ${dev.name} in ${ns.name}: the kernel discards frames for other hosts.`, dev.name, 'drop', [linkEv(ns, dev)]);
    }
    if (frame.dstMac && !dev.mac && ns.inferred && frame.nexthop && !dev.addrs.some((a) => a.local.equals(frame.nexthop!)) && !frame.dstMac.isBroadcast() && !frame.dstMac.isMulticast()) {
      // A pod whose MAC the capture does not show takes frames only for the addresses it has.
      return this.end(c, 'wrong-destination', `The frame is for ${frame.dstMac}, the MAC of ${frame.nexthop}, which is not ${ns.name}'s address: its ${dev.name} discards frames for other hosts.`, dev.name, 'drop', [], true);
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
        return this.end(c, 'wrong-destination', `${ns.name} received a VXLAN datagram (VNI ${pkt.vni}, UDP ${pkt.dport}) but has no VXLAN device with that VNI and port: the kernel drops it.`, iif?.name ?? null);
      }
      const v = vx.link!.vxlan!;
      this.add(c, step('vxlan-decap', `${vx.name} (VXLAN, VNI ${v.id}, UDP ${v.dstport}) takes the datagram and decapsulates it: the inner packet ${pkt.inner.pkt.src} -> ${pkt.inner.pkt.dst} arrives on ${vx.name}.`, [linkEv(ns, vx)]));
      return this.ingress(c, ns, vx, pkt.inner);
    }
    const t = this.target;
    const owners = this.net.owners.get(pkt.dst.toString()) ?? [];
    const isTarget = pkt.dst.equals(t.dst) && (t.host === null || t.host === ns.name || owners.every((o) => o.ns.name !== t.host));
    if (isTarget) {
      const a = [...ns.ifaces.values()].flatMap((i) => i.addrs.map((rec) => ({ i, rec }))).find((x) => x.rec.local.equals(pkt.dst));
      // An address inferred for a pod read from /proc has no line of its own (line 0).
      const inferredAddr = a !== undefined && a.rec.src.line === 0;
      return this.end(c, 'delivered', `${ns.name} owns ${pkt.dst}${a ? ` (on ${a.i.name})` : ''}: the packet is delivered to the local socket layer.`, null, 'deliver', [a && !inferredAddr ? evidence(ns, 'addrs', a.rec.src) : undefined], inferredAddr);
    }
    return this.end(c, 'wrong-destination', `The packet for ${pkt.dst} was delivered locally in ${ns.name}, which is not ${t.host ?? t.dst.toString()}.`, iif?.name ?? null);
  }

  // ---- bridges ------------------------------------------------------------------------------------

  /**
   * br_handle_frame / br_dev_xmit: local, FDB hit, or flood. `inPort` is the ingress port, undefined
   * when the host itself sends into the bridge.
   */
  private bridgeForward(c: Cursor, ns: Netns, br: Iface, inPort: Iface | undefined, frame: Frame): void {
    const viaPort = inPort !== undefined;
    if (!br.up) return this.end(c, 'link-down', `Bridge ${br.name} in ${ns.name} is down.`, br.name, 'drop', [linkEv(ns, br)]);
    const mac = frame.dstMac;
    if (viaPort && mac && br.mac?.equals(mac)) {
      this.add(c, step('bridge', `${inPort ? `${inPort.name} is a port of bridge ${br.name}; the frame` : 'The frame'} is addressed to the bridge's own MAC ${mac}, so it goes up to ${ns.name}'s IP layer on ${br.name}.`, [linkEv(ns, inPort), linkEv(ns, br)]));
      return this.receive(c, ns, br, frame.pkt);
    }
    const inText = inPort ? `${inPort.name} is a port of bridge ${br.name}. ` : '';
    if (!mac) {
      if (!frame.dstNic) return this.end(c, 'insufficient-data', `Bridge ${br.name} got a frame with no known destination MAC.`, br.name);
      // The MAC of a pod the capture holds no tables for: no forwarding entry can be matched to it.
      const nic = `${frame.dstNic.ns.name}'s ${frame.dstNic.iface.name}`;
      return this.flood(c, ns, br, inPort, frame, `${inText}${br.name} is a Linux bridge: the frame is for ${nic}, whose MAC the capture does not show, so no entry of its forwarding table can match it and the frame is followed as a flood`, `; in the kernel the bridge learnt that MAC's port from the ARP/ND answer, and only the copy that reaches ${nic} is taken`, true);
    }
    const entries = ns.fdb.get(fdbKey(br.name, mac.toString())) ?? [];
    // Local entries: the bridge's own address, or a port's own MAC (`permanent` on the port): the
    // frame is for this host and goes up the stack on the bridge device.
    const local = entries.find((e) => e.dev === br.name || (e.state === 'permanent' && ns.ifaces.get(e.dev)?.mac?.equals(mac)));
    // A port that goes down or stops forwarding has its learned entries flushed by the kernel
    // (br_fdb_delete_by_port); a capture taken before that may still list them.
    const hit = entries.find((e) => e !== local && e.dev !== br.name && (e.state !== 'dynamic' || forwards(ns.ifaces.get(e.dev))));
    if (local && viaPort) {
      this.add(c, step('fdb', `${inPort ? `${inPort.name} is a port of bridge ${br.name}; its` : `Bridge ${br.name}'s`} forwarding table marks ${mac} as a local address, so the frame goes up to ${ns.name}'s IP layer on ${br.name}.`, [evidence(ns, 'fdb', local.src)]));
      return this.receive(c, ns, br, frame.pkt);
    }
    if (hit) {
      const port = ns.ifaces.get(hit.dev);
      const ev = evidence(ns, 'fdb', hit.src);
      if (!port) return this.end(c, 'insufficient-data', `Bridge ${br.name}'s forwarding table sends ${mac} to port ${hit.dev}, which ${ns.name}'s links do not show.`, br.name, 'drop', [ev]);
      if (port.master !== br.name) return this.end(c, 'no-fdb-entry', `Bridge ${br.name}'s forwarding table sends ${mac} to ${hit.dev}, but ${hit.dev} is not a port of ${br.name} (stale entry): the frame is dropped.`, br.name, 'drop', [ev, linkEv(ns, port)]);
      const how = hit.state === 'permanent' ? 'permanent' : hit.state === 'static' ? 'static' : hit.updated !== undefined ? `learned ${hit.updated} s ago` : 'learned';
      this.add(c, step('fdb', `${inText}${br.name} is a Linux bridge: it looked up ${mac} in its forwarding table and found it behind port ${port.name}, ${how}.`, [ev]));
      if (inPort && port.name === inPort.name) {
        if (!port.link?.bridgePort?.hairpin) return this.end(c, 'wrong-destination', `The frame for ${mac} would go back out ${port.name}, the port it came in on; hairpin mode is off on that port, so the bridge drops it.`, port.name, 'drop', [linkEv(ns, port)]);
        this.add(c, step('bridge', `${port.name} has hairpin mode on, so the bridge sends the frame back out of the port it came in on.`, [linkEv(ns, port)]));
      }
      return this.bridgeOut(c, ns, br, port, frame);
    }
    const fdbKnown = ns.probes.has('fdb');
    this.flood(c, ns, br, inPort, frame, `${inText}${br.name} is a Linux bridge: ${mac} is not in its forwarding table${fdbKnown ? '' : ' (the capture has no fdb probe)'}, so it floods the frame`, '', !fdbKnown);
  }

  /** br_flood: a copy out of every other port that is up and forwarding; `why` begins the step's sentence. */
  private flood(c: Cursor, ns: Netns, br: Iface, inPort: Iface | undefined, frame: Frame, why: string, after: string, inferred: boolean): void {
    const outPorts = this.net.topology.ports(ns, br.name).filter((p) => p !== inPort && forwards(p));
    this.add(c, step('flood', `${why} to ${outPorts.length ? `every other port (${outPorts.map((p) => p.name).join(', ')})` : 'no port: it has none besides the one the frame came in on'}${after}.`, [], inferred ? { inferred } : {}));
    if (outPorts.length === 0) return this.end(c, 'no-fdb-entry', `Bridge ${br.name} has no other port to flood the frame for ${frame.dstMac ?? (frame.dstNic ? `${frame.dstNic.ns.name}` : 'its destination')} to.`, br.name);
    for (const p of outPorts) this.bridgeOut(this.fork(c, `flood ${br.name} -> ${p.name}`, true), ns, br, p, frame);
  }

  private bridgeOut(c: Cursor, ns: Netns, br: Iface, port: Iface, frame: Frame): void {
    this.hop(c).out = port.name;
    if (!port.up) return this.end(c, 'link-down', `Port ${port.name} of bridge ${br.name} is down: the frame is dropped.`, port.name, 'drop', [linkEv(ns, port)]);
    if (port.link?.bridgePort?.state !== undefined && port.link.bridgePort.state !== 'forwarding') {
      return this.end(c, 'link-down', `Port ${port.name} of bridge ${br.name} is in state ${port.link.bridgePort.state}: it does not forward.`, port.name, 'drop', [linkEv(ns, port)]);
    }
    const limit = port.mtu + bridgeSlack(ns);
    if (frame.pkt.size > limit) {
      return this.end(c, 'mtu-exceeded', `The ${frame.pkt.size}-byte packet is larger than port ${port.name}'s MTU ${port.mtu}${limit > port.mtu ? ` (the bridge lets through up to ${limit})` : ''}: the bridge drops it without telling the sender.`, port.name, 'drop', [linkEv(ns, port)]);
    }
    if (port.type === 'vxlan') return this.vxlanXmit(c, ns, port, frame);
    this.transmit(c, ns, port, frame);
  }

  // ---- VXLAN --------------------------------------------------------------------------------------

  /** vxlan_xmit: FDB lookup of the inner destination MAC -> remote VTEP; encapsulate; route the outer packet. */
  private vxlanXmit(c: Cursor, ns: Netns, dev: Iface, frame: Frame): void {
    const v = dev.link?.vxlan;
    if (!v) return this.end(c, 'insufficient-data', `${dev.name} is a VXLAN device but the capture lacks its details (ip -d link).`, dev.name);
    const mac = frame.dstMac;
    if (!mac) return this.end(c, 'neighbor-failed', `${dev.name} needs the inner destination MAC to choose a VTEP, and none was resolved.`, dev.name);
    let entries = (ns.fdb.get(fdbKey(dev.name, mac.toString())) ?? []).filter((e) => e.dst !== undefined);
    let viaDefault = false;
    if (entries.length === 0) {
      entries = (ns.fdb.get(fdbKey(dev.name, '00:00:00:00:00:00')) ?? []).filter((e) => e.dst !== undefined);
      viaDefault = entries.length > 0;
    }
    if (entries.length === 0 && v.remote) {
      this.add(c, step('fdb', `${dev.name} has no forwarding entry for ${mac}; it sends to its configured remote ${v.remote}.`, [linkEv(ns, dev)]));
      return this.encap(c, ns, dev, frame, v.remote, v.dstport, v.id);
    }
    if (entries.length === 0) {
      const known = ns.probes.has('fdb');
      return this.end(c, known ? 'no-fdb-entry' : 'insufficient-data', `${dev.name} (VXLAN, VNI ${v.id}) has no forwarding entry for ${mac}${known ? ', nor a default (00:00:00:00:00:00) one' : ' (the capture has no fdb probe)'}, so the kernel does not know which VTEP to send to and drops the frame.`, dev.name);
    }
    for (const e of entries) {
      const cc = entries.length > 1 ? this.fork(c, `vxlan ${dev.name} -> ${e.dst}`, viaDefault) : c;
      this.add(cc, step('fdb', `${dev.name} is a VXLAN device (VNI ${e.vni ?? v.id}): its forwarding table sends ${viaDefault ? `frames with no specific entry (default 00:00:00:00:00:00 entry)` : mac.toString()} to the VTEP at ${e.dst}.`, [evidence(ns, 'fdb', e.src)]));
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
    this.add(c, step('vxlan-encap', `${dev.name} wraps the ${frame.pkt.size}-byte packet in VXLAN (VNI ${vni}) inside UDP to ${vtep}:${port}${v.local ? ` from ${v.local}` : ''}: ${overhead} bytes of headers, ${outer.size} bytes in all. The outer packet is routed again in ${ns.name}.`, [linkEv(ns, dev)], { tunnel: { kind: 'vxlan', dev: dev.name, vni, ...(v.local ? { outerSrc: v.local.toString() } : {}), outerDst: vtep.toString(), port, overhead } }));
    this.routeAndSend(c, ns, outer, null, undefined, v.dev);
  }

  // ---- IPIP and WireGuard -------------------------------------------------------------------------

  /** ipip_tunnel_xmit: outer destination is the tunnel's remote, or the route's gateway (`remote any`). */
  private ipipXmit(c: Cursor, ns: Netns, dev: Iface, frame: Frame): void {
    const t = dev.link?.tunnel;
    const endpoint = t?.remote ?? frame.nexthop;
    if (!endpoint || endpoint.equals(frame.pkt.dst) && !t?.remote) {
      return this.end(c, 'insufficient-data', `${dev.name} is an IPIP tunnel with no fixed remote, and the route gives no gateway to use as the far end.`, dev.name, 'drop', [linkEv(ns, dev)]);
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
    this.add(c, step('tunnel-encap', `${dev.name} is an IPIP tunnel: it puts the ${frame.pkt.size}-byte packet inside a new IPv4 header to ${endpoint}${t?.remote ? ' (the tunnel\'s remote)' : ' (the route\'s gateway)'}, ${outer.size} bytes in all. The outer packet is routed again in ${ns.name}.`, [linkEv(ns, dev)], { tunnel: { kind: 'ipip', dev: dev.name, ...(t?.local ? { outerSrc: t.local.toString() } : {}), outerDst: endpoint.toString(), overhead: IPIP_OVERHEAD } }));
    this.routeAndSend(c, ns, outer, null, undefined, t?.dev);
  }

  /** ipip_rcv: a local IPIP packet is taken by a tunnel whose endpoints match, and the inner packet arrives on it. */
  private ipipRecv(c: Cursor, ns: Netns, pkt: Packet, iif: Iface | null): void {
    const tun = [...ns.ifaces.values()].find((i) => i.type === 'ipip' && i.up && (i.link?.tunnel?.local === undefined || i.link.tunnel.local.equals(pkt.dst)) && (i.link?.tunnel?.remote === undefined || i.link.tunnel.remote.equals(pkt.src)));
    if (!tun) return this.end(c, 'wrong-destination', `${ns.name} received an IPIP packet from ${pkt.src} but has no IPIP device that accepts it (the kernel answers "protocol unreachable").`, iif?.name ?? null);
    this.add(c, step('tunnel-decap', `${tun.name} (IPIP) takes the packet from ${pkt.src} and strips the outer header: ${pkt.inner!.pkt.src} -> ${pkt.inner!.pkt.dst} arrives on ${tun.name}.`, [linkEv(ns, tun)]));
    this.receive(c, ns, tun, pkt.inner!.pkt);
  }

  /** wg_xmit: cryptokey routing picks the peer whose allowed IPs hold the destination. */
  private wgXmit(c: Cursor, ns: Netns, dev: Iface, frame: Frame): void {
    const table = ns.wg.get(dev.name);
    const dst = frame.pkt.dst;
    const fam = dst.family;
    let peer: { key: string | undefined; endpoint: { addr: Addr; port: number } | undefined; ev: Ev; via: string; inferred: boolean } | undefined;
    if (table) {
      let best: { p: (typeof table.peers)[number]; len: number } | undefined;
      for (const p of table.peers) for (const a of p.allowedIps) if (a.contains(dst) && (!best || a.length > best.len)) best = { p, len: a.length };
      if (!best) return this.end(c, 'unreachable', `${dev.name} is a WireGuard device; no peer's allowed IPs include ${dst}, so it drops the packet (ENOKEY) and answers "host unreachable".`, dev.name, 'drop', table.peers.map((p) => evidence(ns, 'wg', p.src)));
      peer = { key: best.p.publicKey, endpoint: best.p.endpoint, ev: evidence(ns, 'wg', best.p.src), via: `peer ${best.p.publicKey.slice(0, 8)}... (allowed IPs ${best.p.allowedIps.join(', ')})`, inferred: false };
    } else {
      // No `wg` probe: the peer is the node whose podCIDR holds the destination, on the local port.
      const node = this.net.capture.hosts.find((h) => h.role === 'node' && h.podCIDRs?.some((p) => Prefix.parse(p).ok && Prefix.must(p).contains(dst)));
      const ip = node?.ips?.flatMap((x) => {
        const a = Addr.parse(x);
        return a.ok && a.value.family === 4 ? [a.value] : [];
      })[0];
      if (!node || !ip) return this.end(c, 'insufficient-data', `${dev.name} is a WireGuard device and the capture has no \`wg\` probe to say which peer gets ${dst}.`, dev.name);
      peer = { key: undefined, endpoint: { addr: ip, port: 51820 }, ev: undefined, via: `${node.name} (its podCIDR holds ${dst}; inferred, no wg probe)`, inferred: true };
    }
    if (!peer.endpoint) return this.end(c, 'unreachable', `${dev.name} would send to ${peer.via}, but that peer has no endpoint yet (EDESTADDRREQ).`, dev.name, 'drop', [peer.ev]);
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
    this.add(c, step('tunnel-encap', `${dev.name} is a WireGuard device: cryptokey routing sends ${dst} to ${peer.via}; the packet is encrypted into UDP to ${peer.endpoint.addr}:${peer.endpoint.port}, ${overhead} bytes of headers, ${outer.size} bytes in all. The outer packet is routed again in ${ns.name}.`, [peer.ev, linkEv(ns, dev)], { ...(peer.inferred ? { inferred: true } : {}), tunnel: { kind: 'wireguard', dev: dev.name, outerDst: peer.endpoint.addr.toString(), port: peer.endpoint.port, overhead } }));
    const mark = table?.dev?.fwmark;
    this.routeAndSend(c, ns, outer, null, undefined, undefined, mark);
  }

  /** wg_packet_receive: the datagram is decrypted by the device on that port, and the inner source must be an allowed IP of the sending peer. */
  private wgRecv(c: Cursor, ns: Netns, pkt: Packet, iif: Iface | null): void {
    const devs = [...ns.ifaces.values()].filter((i) => i.type === 'wireguard');
    const byPort = devs.find((d) => ns.wg.get(d.name)?.dev?.listenPort === pkt.dport);
    const dev = byPort ?? (devs.length === 1 && !ns.wg.get(devs[0]!.name) ? devs[0] : undefined);
    if (!dev) return this.end(c, 'wrong-destination', `${ns.name} received a WireGuard datagram on UDP ${pkt.dport}, but no WireGuard device listens there.`, iif?.name ?? null);
    const inner = pkt.inner!.pkt;
    const table = ns.wg.get(dev.name);
    const sender = table && pkt.wgFrom?.key ? table.peers.find((p) => p.publicKey === pkt.wgFrom!.key) : undefined;
    if (table && pkt.wgFrom?.key && !sender) return this.end(c, 'wrong-destination', `${dev.name} in ${ns.name} has no peer with the sender's public key: the handshake fails and the datagram is dropped.`, dev.name);
    if (sender && !sender.allowedIps.some((a) => a.contains(inner.src))) {
      return this.end(c, 'rp-filter', `${dev.name} decrypts the packet, but its source ${inner.src} is not among the sending peer's allowed IPs (${sender.allowedIps.join(', ') || 'none'}): WireGuard drops it.`, dev.name, 'drop', [evidence(ns, 'wg', sender.src)]);
    }
    this.add(c, step('tunnel-decap', `${dev.name} (WireGuard, UDP ${pkt.dport}) decrypts the datagram${sender ? ` from a peer whose allowed IPs include ${inner.src}` : ''}: ${inner.src} -> ${inner.dst} arrives on ${dev.name}.`, [sender ? evidence(ns, 'wg', sender.src) : undefined, linkEv(ns, dev)], table ? {} : { inferred: true }));
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
