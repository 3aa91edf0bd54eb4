// The IP layer's stages, as net/ipv4/{ip_output,ip_input,ip_forward,route,fib_frontend}.c take a
// packet: a socket's send and the output route lookup, ip_rcv and the input route lookup with
// rp_filter, what the route decides, ip_forward (forwarding sysctls, TTL), the next hop(s), ip_output
// (device, source address, rp_filter), the MTU, and local delivery (or a tunnel's decapsulation).
import { Addr, type Family } from '../../net/addr';
import { gatewayByName } from '../names';
import { confValue, evidence, inetSelectAddr, scopeRank, type Iface, type Netns } from '../netns';
import type { Evidence, Step, StepDetail } from '../trace';
import { hook, hooks, ipvsPoint } from './hooks';
import type { Packet } from './packet';
import { addrEv, drop, fibLookup, linkEv, next, routeDevs, routeEv, routeView, step, withSteps, type Action, type Goto, type HookCall, type RouteAnswer, type Stage, type Walk } from './stage';

/** A socket in `ns` sends `pkt` (sendmsg -> ip_local_out): the packet's first step, then the route. */
export const sockSendmsg: Stage<'sock_sendmsg'> = (_w, _here, { ns, pkt }) => {
  const steps = [step('origin', { type: 'origin', ns: ns.name, proto: pkt.proto, size: pkt.size, ...(pkt.src.isUnspecified() ? {} : { src: pkt.src.toString() }), dst: pkt.dst.toString(), ...(pkt.dport !== undefined ? { dport: pkt.dport } : {}), df: pkt.df })];
  const inferred = netnsInferredStep(ns);
  if (inferred) steps.push(inferred);
  return next({ stage: 'ip_route_output', ns, pkt }, { steps });
};

/** The step that says what stands in for the tables of a namespace the capture does not hold. */
export function netnsInferredStep(ns: Netns): Step | undefined {
  return ns.inferred ? step('inferred', { type: 'netns-inferred', ns: ns.name, facts: ns.inferred.facts }, ns.inferred.basis, { inferred: true }) : undefined;
}

/** The rule step, when policy routing is worth showing (custom rules, or a table other than main/local). */
function ruleStep(ns: Netns, pkt: Packet, ans: ReturnType<typeof fibLookup>): Step[] {
  if (ans.kind === 'none') return [];
  const fib = ns.fib[pkt.dst.family];
  const rule = ans.rule;
  const nonDefault = !fib.rulesInferred && fib.ruleList.some((r) => (r.rec.table !== 'local' && r.rec.table !== 'main' && r.rec.table !== 'default') || r.rec.action !== 'lookup');
  if (!nonDefault && (rule.rec.table === 'main' || rule.rec.table === 'local')) return [];
  const detail: StepDetail = ans.kind === 'rule'
    ? { type: 'rule', priority: rule.rec.priority, action: ans.action, gaveNoRoute: [] }
    : { type: 'rule', priority: rule.rec.priority, action: 'lookup', table: ans.table, gaveNoRoute: ans.rulesTried.length > 1 ? ans.rulesTried.slice(0, -1).map((r) => r.rec.priority) : [] };
  return [step('rule', detail, [rule.inferred ? undefined : evidence(ns, rule.probe, rule.rec.src)], rule.inferred ? { inferred: true } : {})];
}

/** ip_route_output_key: the route of a packet created here (by a socket or a tunnel device). */
export const ipRouteOutput: Stage<'ip_route_output'> = (_w, _here, { ns, pkt, oif }) => {
  const ans = fibLookup(ns, pkt, null, oif);
  return next({ stage: 'fib_result', ns, iif: null, pkt, ans }, { steps: ruleStep(ns, pkt, ans) });
};

/** ip_rcv: PREROUTING (unless br_netfilter ran it on the bridge already), then the input route. */
export const ipRcv: Stage<'ip_rcv'> = (w, _here, { ns, iif, pkt }) => {
  const route = (p: Packet): Goto => ({ stage: 'ip_route_input', ns, iif, pkt: p });
  if (pkt.prerouted) return next(route({ ...pkt, prerouted: undefined }));
  return next(hook(w, { ns, hook: 'prerouting', layer: 'inet', packet: pkt, iif: iif.name }, route));
};

/** ip_route_input: the route of a received packet; one to deliver here passes rp_filter first. */
export const ipRouteInput: Stage<'ip_route_input'> = (_w, _here, { ns, iif, pkt }) => {
  const ans = fibLookup(ns, pkt, iif.name);
  const steps = ruleStep(ns, pkt, ans);
  if (ans.kind === 'route' && (ans.route.rec.type === 'local' || ans.route.rec.type === 'broadcast') && pkt.dst.family === 4) {
    const rp = rpFilter(ns, pkt, iif);
    if (rp?.drop) return withSteps(steps, rp.drop);
    if (rp?.pass) steps.push(rp.pass);
  }
  return next({ stage: 'fib_result', ns, iif, pkt, ans }, { steps });
};

/**
 * fib_validate_source: strict (1) needs the reverse route to leave by the input device; loose (2) any
 * unicast route back. A step when it passes, a drop when it does not, nothing when it is off.
 */
function rpFilter(ns: Netns, pkt: Packet, iif: Iface): { pass: Step; drop?: undefined } | { drop: Action; pass?: undefined } | undefined {
  const conf = confValue(ns, 4, iif.name, 'rp_filter');
  const mode = Math.max(conf.value ?? 0, conf.all ?? 0);
  if (mode === 0) return undefined;
  const rev = ns.fib[4].lookup({ dst: pkt.src, src: pkt.dst, iif: 'lo' });
  const name = mode === 1 ? 'strict' : 'loose';
  const src = pkt.src.toString();
  if (rev.kind !== 'route' || rev.route.rec.type !== 'unicast') {
    return { drop: drop('rp-filter', { type: 'rp-filter-drop', ns: ns.name, result: 'no-route', mode: name, src }, iif.name, conf.evidence) };
  }
  const devs = routeDevs(rev.route);
  if (mode === 1 && !devs.includes(iif.name)) {
    return { drop: drop('rp-filter', { type: 'rp-filter-drop', ns: ns.name, result: 'wrong-dev', mode: 'strict', src, iif: iif.name, devs, route: routeView(rev.route) }, iif.name, [...conf.evidence, routeEv(ns, rev.route)]) };
  }
  return { pass: step('rp-filter', { type: 'rp-filter', ns: ns.name, mode: name, src, devs }, [...conf.evidence, routeEv(ns, rev.route)]) };
}

function routeStep(ns: Netns, pkt: Packet, ans: RouteAnswer, outcome: Extract<StepDetail, { type: 'route' }>['outcome'], nexthops?: number): Step {
  const r = ans.route;
  const candidates = ans.others.map((o) => routeEv(ns, o));
  return step('route', { type: 'route', ns: ns.name, dst: pkt.dst.toString(), route: routeView(r), table: ans.table, outcome, ...(nexthops !== undefined ? { nexthops } : {}) }, [routeEv(ns, r)], {
    ...(candidates.length ? { candidates } : {}),
    ...(r.inferred ? { inferred: true } : {}),
  });
}

/** What the route decides: no route, a rule's or route's reject, local delivery, or on to forward or send. */
export const fibResult: Stage<'fib_result'> = (w, _here, { ns, iif, pkt: packet, ans }) => {
  let pkt = packet;
  const fam = pkt.dst.family;
  // An outer packet that cannot be routed fails inside the tunnel device's transmit (tx_errors there).
  const localDrop = iif ? null : (pkt.tunnelDev ?? null);
  if (ans.kind === 'none') {
    const tables = [...new Set(ans.rulesTried.map((r) => r.rec.table ?? 'main'))];
    const missing = !ns.probes.has(fam === 4 ? 'routes4' : 'routes6') && !(fam === 6 && ns.probes.has('routes4'));
    if (missing) return drop('insufficient-data', { type: 'no-routes-captured', ns: ns.name, family: fam, dst: pkt.dst.toString() }, null);
    return drop('no-route', { type: 'no-route', ns: ns.name, dst: pkt.dst.toString(), tables }, localDrop);
  }
  if (ans.kind === 'rule') {
    return drop(ans.action, { type: 'rule-reject', ns: ns.name, priority: ans.rule.rec.priority, action: ans.action }, localDrop, [evidence(ns, ans.rule.probe, ans.rule.rec.src)]);
  }
  const rec = ans.route.rec;
  switch (rec.type) {
    case 'blackhole':
    case 'unreachable':
    case 'prohibit':
      return drop(rec.type, { type: 'route-reject', routeType: rec.type }, localDrop, [], false, { steps: [routeStep(ns, pkt, ans, 'reject')] });
    case 'local':
    case 'broadcast':
    case 'multicast':
    case 'anycast': {
      const steps = [routeStep(ns, pkt, ans, rec.type === 'local' ? 'local' : 'cast')];
      // A packet created here for a local address gets its source at the route lookup, before OUTPUT
      // runs (ip_route_output_key_hash_rcu: RTN_LOCAL takes the route's prefsrc, else the destination).
      if (!iif && pkt.src.isUnspecified() && rec.type === 'local') {
        const chosen = rec.prefsrc ?? pkt.dst;
        if (_here.hops === 1 && !pkt.inner) w.pickedSrc ??= chosen;
        pkt = { ...pkt, src: chosen };
        steps.push(step('src', { type: 'src', addr: chosen.toString(), from: rec.prefsrc ? 'route' : 'destination', dev: rec.dev ?? 'lo' }, [rec.prefsrc ? routeEv(ns, ans.route) : undefined]));
      }
      return next(localIn(w, ns, iif, pkt), { steps });
    }
    case 'throw':
    case 'nat':
      return drop('no-route', { type: 'route-unusable', route: routeView(ans.route) }, null, [routeEv(ns, ans.route)]);
    case 'unicast':
      return next(iif ? { stage: 'ip_forward', ns, iif, pkt, ans } : { stage: 'fib_select_path', ns, iif: null, pkt, ans });
  }
};

/**
 * The hooks on the way to local delivery: INPUT for a received packet; for one created here, the
 * loopback round: OUTPUT and POSTROUTING on the way out, PREROUTING and INPUT on the way back in.
 */
function localIn(w: Walk, ns: Netns, iif: Iface | null, pkt: Packet): Goto {
  const rerouted = pkt.rerouted === true;
  if (rerouted) pkt = { ...pkt, rerouted: undefined };
  const deliver = (p: Packet): Goto => ({ stage: 'ip_local_deliver', ns, pkt: p, iif });
  const call = (h: HookCall['hook'], dev: { iif?: string; oif?: string }) => (packet: Packet): HookCall => ({ ns, hook: h, layer: 'inet', packet, ...dev });
  // IPVS sends a packet it DNATed to a real server on as ip_vs_nat_xmit does: routed to it, then LOCAL_OUT and POSTROUTING.
  const xmit = (p: Packet): Goto => ({ stage: 'ip_route_output', ns, pkt: p });
  if (iif) return hooks(w, [call('input', { iif: iif.name })], pkt, (p) => ipvsPoint(w, call('input', { iif: iif.name })(p), deliver, xmit));
  // A local packet: IPVS takes it at LOCAL_OUT, after the OUTPUT chains (ip_vs_local_request), and
  // the packet it rewrote goes on from there: routed to the real server, then POSTROUTING — the
  // OUTPUT chains it already passed do not run again.
  const xmitLocal = (p: Packet): Goto => ({ stage: 'ip_route_output', ns, pkt: { ...p, rerouted: true } });
  const loopback = (p: Packet): Goto => hooks(w, [call('postrouting', { oif: 'lo' }), call('prerouting', { iif: 'lo' }), call('input', { iif: 'lo' })], p, deliver);
  // Routed again after OUTPUT rewrote its destination or mark: OUTPUT has run (ip_route_me_harder).
  if (rerouted) return ipvsPoint(w, call('output', { oif: 'lo' })(pkt), loopback, xmitLocal);
  // A destination or mark OUTPUT rewrote (a NodePort on the node's own address, kube-proxy's masquerade
  // mark) is routed again (ip_route_me_harder), without running OUTPUT a second time.
  return hooks(w, [call('output', { oif: 'lo' })], pkt, (p) =>
    p.dst.equals(pkt.dst) && p.mark === pkt.mark ? ipvsPoint(w, call('output', { oif: 'lo' })(p), loopback, xmitLocal) : { stage: 'ip_route_output', ns, pkt: { ...p, rerouted: true } },
  );
}

function forwardingEnabled(ns: Netns, iif: Iface, fam: Family): { enabled: boolean | undefined; key: string; assumed: boolean; evidence: Evidence[] } {
  const conf = confValue(ns, fam, iif.name, 'forwarding');
  if (conf.value !== undefined) return { enabled: conf.value !== 0, key: `net.ipv${fam}.conf.${iif.name}.forwarding`, assumed: false, evidence: conf.evidence.slice(0, 1) };
  const globalKey = fam === 4 ? 'net.ipv4.ip_forward' : 'net.ipv6.conf.all.forwarding';
  const g = ns.sysctl.get(globalKey);
  if (g) return { enabled: g.value.trim() !== '0', key: globalKey, assumed: false, evidence: [evidence(ns, 'sysctl', g.rec.src)] };
  // Pods do not forward; nodes and routers must (Kubernetes requires ip_forward on nodes).
  if (ns.host.role === 'pod') return { enabled: false, key: globalKey, assumed: true, evidence: [] };
  return { enabled: undefined, key: globalKey, assumed: false, evidence: [] };
}

/** ip_forward (with ip_route_input_slow's forwarding check): the input device must forward; the TTL must allow it. */
export const ipForward: Stage<'ip_forward'> = (_w, _here, { ns, iif, pkt, ans }) => {
  const fwd = forwardingEnabled(ns, iif, pkt.dst.family);
  if (fwd.enabled === false) {
    return drop('forwarding-disabled', { type: 'forwarding-disabled', ns: ns.name, iif: iif.name, sysctl: fwd.key, assumed: fwd.assumed }, iif.name, fwd.evidence, false, { steps: [routeStep(ns, pkt, ans, 'not-local')] });
  }
  const steps: Step[] = [];
  if (fwd.enabled === undefined) steps.push(step('inferred', { type: 'forward-assumed', ns: ns.name, role: ns.host.role }, [], { inferred: true }));
  if (pkt.ttl <= 1) return drop('ttl-exceeded', { type: 'ttl-exceeded', ns: ns.name, ttl: pkt.ttl }, iif.name, [], false, { steps });
  if (fwd.enabled) steps.push(step('forward', { type: 'forward', ns: ns.name, sysctl: fwd.key, ttl: pkt.ttl }, fwd.evidence));
  return next({ stage: 'fib_select_path', ns, iif, pkt: { ...pkt, ttl: pkt.ttl - 1 }, ans }, { steps });
};

/** fib_select_path: the route that won, its gateway (placed from `arp -a` when printed by name), a path per live next hop. */
export const fibSelectPath: Stage<'fib_select_path'> = (_w, _here, { ns, iif, pkt, ans }) => {
  const r = ans.route;
  const rec = r.rec;
  const nexthops = rec.nexthops?.length
    ? rec.nexthops.filter((n) => !n.flags.includes('dead')).map((n) => ({ gateway: n.gateway, dev: n.dev }))
    : [{ gateway: rec.gateway, dev: rec.dev }];
  const steps = [routeStep(ns, pkt, ans, 'forward', nexthops.length)];
  if (rec.unresolvedGateway && !rec.gateway) {
    // `route` without -n printed the gateway as a name: never on-link (flag G); placed only from `arp -a`.
    const named = gatewayByName(ns, rec.unresolvedGateway, pkt.dst.family, rec.dev);
    const ev = [routeEv(ns, r), ...named.entries.map((e) => evidence(ns, 'arp', e.src))];
    if (named.kind !== 'found') return drop('insufficient-data', named.detail, rec.dev ?? null, ev, false, { steps });
    nexthops[0]!.gateway = named.addr;
    steps.push(step('inferred', named.detail, ev, { inferred: true }));
  }
  const output = (nh: (typeof nexthops)[number]): Goto => ({ stage: 'ip_output', ns, iif, pkt, gateway: nh.gateway, dev: nh.dev, route: r });
  if (nexthops.length === 1) return next(output(nexthops[0]!), { steps });
  return {
    kind: 'fork',
    steps,
    branches: nexthops.map((nh) => ({ fork: { kind: 'ecmp', host: ns.name, ...(nh.gateway ? { gateway: nh.gateway.toString() } : {}), ...(nh.dev !== undefined ? { dev: nh.dev } : {}) }, floodCopy: _here.floodCopy, next: output(nh) })),
  };
};

/**
 * ip_output for one next hop: the device must exist and be up; a packet created here gets its source
 * address (the route's src, else the device's first); a forwarded one passes rp_filter. Then FORWARD
 * (forwarded) or OUTPUT (created here; a rewritten destination or mark is routed again), POSTROUTING.
 */
export const ipOutput: Stage<'ip_output'> = (w, here, { ns, iif, pkt, gateway, dev: devName, route: r }) => {
  const dev = devName !== undefined ? ns.ifaces.get(devName) : undefined;
  if (!dev) return drop('insufficient-data', { type: 'route-dev-unknown', ns: ns.name, ...(devName !== undefined ? { dev: devName } : {}) }, devName ?? null);
  const out = dev.name;
  if (!dev.up || (!dev.lowerUp && dev.link !== undefined && dev.type !== 'vxlan' && dev.type !== 'bridge' && dev.type !== 'dummy')) {
    return drop('link-down', { type: 'dev-down', ns: ns.name, dev: dev.name, state: dev.up ? 'no-carrier' : 'down' }, dev.name, [linkEv(ns, dev)], false, { out });
  }
  const steps: Step[] = [];
  // Source address (a packet created here): the route's prefsrc, else inet_select_addr within the
  // route's scope for IPv4; for IPv6 the device's first address that is not link-local.
  if (pkt.src.isUnspecified()) {
    const v4 = pkt.dst.family === 4 && !r.rec.prefsrc ? inetSelectAddr(ns, dev, gateway, scopeRank(r.rec.scope)) : undefined;
    const chosen = r.rec.prefsrc ?? (pkt.dst.family === 4 ? v4?.addr : dev.addrs.find((a) => a.family === pkt.dst.family && a.scope !== 'link')?.local);
    if (chosen) {
      if (here.hops === 1 && !pkt.inner) w.pickedSrc ??= chosen;
      pkt = { ...pkt, src: chosen };
      const lent = v4 && v4.via !== dev ? v4.via : undefined;
      const from = r.rec.prefsrc ? 'route' : lent ? 'namespace' : 'device';
      const detail: StepDetail = { type: 'src', addr: chosen.toString(), from, dev: dev.name, ...(lent ? { addrDev: lent.name } : {}), ...(v4?.matched && gateway ? { nexthop: gateway.toString() } : {}) };
      steps.push(step('src', detail, [r.rec.prefsrc ? routeEv(ns, r) : addrEv(ns, v4?.rec)]));
    }
  }
  // rp_filter applies to received packets (fib_validate_source), checked against the input device.
  if (iif && pkt.dst.family === 4) {
    const rp = rpFilter(ns, pkt, iif);
    if (rp?.drop) return withSteps(steps, { ...rp.drop, out });
    if (rp?.pass) steps.push(rp.pass);
  }
  const finish = (p: Packet): Goto => ({ stage: 'ip_finish_output', ns, pkt: p, gateway, dev, route: r });
  const post = (p: Packet): Goto => hook(w, { ns, hook: 'postrouting', layer: 'inet', packet: p, oif: dev.name }, finish);
  // A packet OUTPUT rewrote (DNAT, a mark) is routed again (ip_route_me_harder) without running OUTPUT twice.
  const first: Goto = iif
    ? hook(w, { ns, hook: 'forward', layer: 'inet', packet: pkt, iif: iif.name, oif: dev.name }, post)
    : pkt.rerouted
      ? post({ ...pkt, rerouted: undefined })
      : hook(w, { ns, hook: 'output', layer: 'inet', packet: pkt, oif: dev.name }, (p) => (p.dst.equals(pkt.dst) && p.mark === pkt.mark ? post(p) : { stage: 'ip_route_output', ns, pkt: { ...p, rerouted: true } }));
  return next(first, { out, steps });
};

/** ip_finish_output: a packet over the MTU (the route's mtu, else the device's) is dropped with DF, fragmented without. */
export const ipFinishOutput: Stage<'ip_finish_output'> = (_w, _here, { ns, pkt, gateway, dev, route: r }) => {
  const mtu = r.rec.metrics?.mtu !== undefined && /^\d+$/.test(r.rec.metrics.mtu) ? Number(r.rec.metrics.mtu) : dev.mtu;
  const steps: Step[] = [];
  if (pkt.size > mtu) {
    if (pkt.df || pkt.dst.family === 6) {
      const inferredMtu = dev.link === undefined && ns.inferred !== undefined;
      return drop('mtu-exceeded', { type: 'mtu', ns: ns.name, dev: dev.name, size: pkt.size, mtu, result: 'too-big', ...(inferredMtu ? { inferredMtu } : {}) }, dev.name, [linkEv(ns, dev)], inferredMtu);
    }
    steps.push(step('mtu', { type: 'mtu', ns: ns.name, dev: dev.name, size: pkt.size, mtu, result: 'fragment' }, [linkEv(ns, dev)]));
  }
  return next({ stage: 'neigh_output', ns, dev, nexthop: gateway ?? pkt.dst, pkt, viaGateway: gateway !== undefined }, { steps });
};

/**
 * ip_local_deliver: a tunnel's outer packet is decapsulated by the device it is for (ipip_rcv,
 * wg_packet_receive, vxlan_rcv); anything else reaches a socket, and is delivered if it is the target.
 */
export const ipLocalDeliver: Stage<'ip_local_deliver'> = (w, here, { ns, pkt, iif }) => {
  if (pkt.inner && pkt.proto === 'ipip') return next({ stage: 'ipip_rcv', ns, pkt, iif });
  if (pkt.inner && pkt.wgFrom) return next({ stage: 'wg_rcv', ns, pkt, iif });
  // A VXLAN datagram for a local VTEP is decapsulated (vxlan_rcv), not handed to a socket.
  if (pkt.inner && pkt.proto === 'udp') {
    const vx = [...ns.ifaces.values()].find((i) => i.type === 'vxlan' && i.link?.vxlan !== undefined && i.link.vxlan.dstport === pkt.dport && i.link.vxlan.id === pkt.vni && (i.link.vxlan.local === undefined || i.link.vxlan.local.equals(pkt.dst)));
    if (!vx) return drop('wrong-destination', { type: 'vxlan-no-dev', ns: ns.name, ...(pkt.vni !== undefined ? { vni: pkt.vni } : {}), ...(pkt.dport !== undefined ? { port: pkt.dport } : {}) }, iif?.name ?? null);
    const v = vx.link!.vxlan!;
    const decap = step('vxlan-decap', { type: 'vxlan-decap', ns: ns.name, dev: vx.name, vni: v.id, port: v.dstport, src: pkt.inner.pkt.src.toString(), dst: pkt.inner.pkt.dst.toString() }, [linkEv(ns, vx)]);
    return next({ stage: 'netif_receive_skb', ns, dev: vx, frame: pkt.inner }, { steps: [decap] });
  }
  const t = w.target;
  // After a DNAT the path's target is the endpoint the rules chose.
  const endpoint = here.endpoint ? Addr.parse(here.endpoint.ip) : undefined;
  const toEndpoint = endpoint?.ok === true && pkt.dst.equals(endpoint.value);
  // The target's address reached on another host is the target, unless the target host owns it too.
  const targetOwns = (host: string) => ownAddress(w.net.hosts.get(host), pkt.dst) !== undefined;
  const isTarget = toEndpoint || (pkt.dst.equals(t.dst) && (t.host === null || t.host === ns.name || !targetOwns(t.host)));
  if (isTarget) {
    const a = ownAddress(ns, pkt.dst);
    // An address inferred for a pod read from /proc has no line of its own (line 0).
    const inferredAddr = a !== undefined && a.rec.src.line === 0;
    return { kind: 'deliver', detail: { type: 'deliver', ns: ns.name, dst: pkt.dst.toString(), ...(a ? { dev: a.i.name } : {}) }, records: [a && !inferredAddr ? evidence(ns, 'addrs', a.rec.src) : undefined], inferred: inferredAddr };
  }
  return drop('wrong-destination', { type: 'not-target', ns: ns.name, dst: pkt.dst.toString(), target: t.host ?? t.dst.toString() }, iif?.name ?? null);
};

/** The first interface (in order) with `addr` as one of its addresses, and that address. */
function ownAddress(ns: Netns | undefined, addr: Addr): { i: Iface; rec: Iface['addrs'][number] } | undefined {
  if (!ns) return undefined;
  for (const i of ns.ifaces.values()) for (const rec of i.addrs) if (rec.local.equals(addr)) return { i, rec };
  return undefined;
}
