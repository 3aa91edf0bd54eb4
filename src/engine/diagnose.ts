// The diagnosis beside a failed trace's verdict: the first place on the path where the tables differ
// from what the cluster intends (checks.ts, the same checks the Node Bridges tree and the hover show),
// then what the drop itself says once explained (the table that was searched, whose VTEP a MAC is,
// where an MTU comes from). And for every trace: what it did not check.
import { kubernetesOf } from '../capture/document';
import { findService, namespacedName, slicesOf, sourceOf } from '../capture/kubernetes';
import { Addr, Prefix } from '../net/addr';
import { checksFor, nodeIntents, VXLAN4_OVERHEAD, type Discrepancy, type NodeIntent } from './checks';
import type { Network } from './network';
import type { Diagnosis, Evidence, Step, TracePath, TraceResult, Unchecked } from './trace';

/** The diagnosis of a trace that was not delivered, most likely cause first; [] when there is none to give. */
export function diagnose(net: Network, result: TraceResult): Diagnosis[] {
  const failed = result.paths.filter((p) => p.verdict !== 'delivered' && !p.floodCopy);
  // Only the hosts the failed paths visit and the destination's node can hold the cause: their checks alone.
  const hosts = new Set<string>((failed.length ? failed : [result]).flatMap((p) => p.hops.map((h) => h.host)));
  if (result.to.host !== null) hosts.add(result.to.host);
  for (const p of failed) {
    const owner = p.endpoint ? net.reported.get(p.endpoint.ip)?.[0] : undefined;
    if (owner) hosts.add(owner.name);
  }
  const target = Addr.parse(result.flow.dst);
  const targetNode = target.ok ? nodeIntents(net).find((n) => n.podCIDRs.some((c) => c.contains(target.value))) : undefined;
  if (targetNode) hosts.add(targetNode.name);
  const checks = checksFor(net, hosts);
  const out: Diagnosis[] = [];
  const seen = new Set<string>();
  const add = (d: Diagnosis) => {
    const k = `${d.kind}|${d.host}|${d.text}`;
    if (seen.has(k)) return;
    seen.add(k);
    out.push(d);
  };
  const paths: TracePath[] = failed.length ? failed : result.verdict !== 'delivered' ? [{ ...result, branch: '', floodCopy: false }] : [];
  // The causes upstream first (in the order the path reaches their hosts), then each drop explained.
  for (const p of paths) for (const d of relevant(net, checks.all, checks.nodes, result, p)) add(fromDiscrepancy(d));
  // A Service rejected for want of endpoints: the cause lives in the API (no ready pod behind it).
  for (const p of paths) {
    const d = serviceWithoutEndpoints(net, p);
    if (d) add(d);
  }
  // A drop already explained by a discrepancy on the same host is not said twice.
  for (const p of paths) {
    const d = explainDrop(net, checks.nodes, result, p);
    if (d && !out.some((x) => x.host === d.host && (COVERED[d.kind] ?? []).includes(x.kind))) add(d);
  }
  return out;
}

export function fromDiscrepancy(d: Discrepancy): Diagnosis {
  return {
    kind: d.kind,
    host: d.host,
    probe: d.probe,
    text: d.text,
    expected: d.expected,
    actual: d.actual,
    owner: d.owner,
    fix: d.fix,
    ...(d.evidence.length ? { evidence: d.evidence } : {}),
    ...(d.searched ? { searched: d.searched } : {}),
  };
}

/** The devices, MACs and the target address a path used on each host. */
function usage(p: TracePath): { order: Map<string, number>; devs: Map<string, Set<string>>; macs: Map<string, Set<string>>; forwarded: Set<string> } {
  const order = new Map<string, number>();
  const devs = new Map<string, Set<string>>();
  const macs = new Map<string, Set<string>>();
  const forwarded = new Set<string>();
  p.hops.forEach((h, i) => {
    if (!order.has(h.host)) order.set(h.host, i);
    const d = devs.get(h.host) ?? new Set<string>();
    const m = macs.get(h.host) ?? new Set<string>();
    if (h.in) d.add(h.in);
    if (h.out) d.add(h.out);
    for (const s of h.steps) {
      const det = s.detail as Record<string, unknown> | undefined;
      if (s.kind === 'forward') forwarded.add(h.host);
      if (!det) continue;
      for (const key of ['dev', 'bridge', 'port', 'inPort'] as const) {
        const v = det[key];
        if (typeof v === 'string') d.add(v);
      }
      for (const key of ['mac', 'lladdr'] as const) {
        const v = det[key];
        if (typeof v === 'string') m.add(v.toLowerCase());
      }
    }
    devs.set(h.host, d);
    macs.set(h.host, m);
  });
  return { order, devs, macs, forwarded };
}

/** The address the packet is for on this path: the DNAT endpoint, else the flow's destination. */
function targetOf(result: TraceResult, p: TracePath): Addr | undefined {
  const a = Addr.parse(p.endpoint?.ip ?? result.flow.dst);
  return a.ok ? a.value : undefined;
}

function relevant(net: Network, all: Discrepancy[], nodes: NodeIntent[], result: TraceResult, p: TracePath): Discrepancy[] {
  const u = usage(p);
  const target = targetOf(result, p);
  const targetNode = target ? nodes.find((n) => n.podCIDRs.some((c) => c.contains(target))) : undefined;
  const dropHost = p.dropAt?.host;
  const scored: { d: Discrepancy; at: number; rank: number }[] = [];
  for (const d of all) {
    const at = u.order.get(d.host);
    const forTarget = target !== undefined && d.about.prefix !== undefined && prefixHas(d.about.prefix, target);
    let ok = false;
    // The state in front of the destination pod itself (its port, its veth), wherever the path went instead.
    if (target !== undefined && d.about.ip === target.toString()) ok = true;
    else if (at !== undefined) {
      if (forTarget) ok = true;
      else if (d.about.mac && u.macs.get(d.host)?.has(d.about.mac.toLowerCase())) ok = true;
      else if (d.about.dev && !d.about.prefix && u.devs.get(d.host)?.has(d.about.dev)) ok = d.kind !== 'mtu-mismatch' || p.verdict === 'mtu-exceeded';
      else if (d.kind === 'forwarding-disabled') ok = u.forwarded.has(d.host) || dropHost === d.host;
    } else if (forTarget && targetNode && d.host === targetNode.name && d.kind === 'vtep-mac-mismatch') ok = true;
    if (!ok) continue;
    if (d.kind === 'pod-no-route' && dropHost !== d.host) continue;
    scored.push({ d, at: at ?? Number.MAX_SAFE_INTEGER, rank: RANK.indexOf(d.kind) });
  }
  void net;
  return scored.sort((a, b) => a.at - b.at || a.rank - b.rank).map((s) => s.d);
}

const COVERED: Partial<Record<Diagnosis['kind'], Diagnosis['kind'][]>> = {
  'no-fdb-entry': ['missing-vtep-fdb', 'wrong-vtep-neigh', 'stale-vtep-fdb'],
  'no-route': ['missing-route', 'pod-no-route'],
  'neighbor-failed': ['missing-vtep-neigh', 'device-down'],
  'forwarding-disabled': ['forwarding-disabled'],
  filtered: ['missing-forward-accept'],
};

const RANK: Discrepancy['kind'][] = [
  'forwarding-disabled',
  'device-down',
  'pod-no-route',
  'missing-route',
  'wrong-route',
  'missing-vtep-neigh',
  'wrong-vtep-neigh',
  'missing-vtep-fdb',
  'wrong-vtep-fdb',
  'vtep-mac-mismatch',
  'stale-vtep-fdb',
  'mtu-mismatch',
  'missing-forward-accept',
  'veth-not-in-bridge',
  'stale-bridge-fdb',
  'port-blocked',
  'fdb-not-port',
];

function prefixHas(prefix: string, a: Addr): boolean {
  const p = Prefix.parse(prefix);
  return p.ok && p.value.contains(a);
}

function dropStep(p: TracePath): { step: Step; host: string } | undefined {
  const h = p.hops[p.hops.length - 1];
  if (!h) return undefined;
  for (let i = h.steps.length - 1; i >= 0; i--) {
    const s = h.steps[i]!;
    if (s.kind === 'drop' || (s.detail && DROP_TYPES.has(s.detail.type))) return { step: s, host: h.host };
  }
  return undefined;
}

const DROP_TYPES = new Set(['vlan-filtered', 'vlan-flood-none', 'vlan-no-dev', 'vlan-table-missing', 'rp-filter-drop', 'forwarding-disabled', 'no-route', 'vxlan-fdb-miss', 'mtu', 'veth-too-big', 'port-too-big', 'neigh-failed', 'neigh-unanswered', 'nf-verdict', 'rp-filter-drop', 'route-reject', 'no-routes-captured']);

/** What the drop itself says, explained: the table searched, whose VTEP a MAC is, where an MTU comes from. */
function explainDrop(net: Network, nodes: NodeIntent[], result: TraceResult, p: TracePath): Diagnosis | undefined {
  // A macvlan's frame for its own lower device left on the wire and died wherever the wire took it (a
  // switch that does not hairpin): that it was sent there at all is the cause.
  const sentHome = p.hops.flatMap((h) => h.steps.filter((s) => s.detail?.type === 'macvlan-to-lower').map((step) => ({ step, host: h.host })))[0];
  const found = sentHome ?? dropStep(p);
  const det = found?.step.detail;
  if (!found || !det) return undefined;
  const host = found.host;
  const ns = net.hosts.get(host);
  const records = found.step.records;
  const nodeOf = (name: string) => nodes.find((n) => n.name === name);
  const ownerHere = (what: string) => {
    const n = nodeOf(host);
    if (n?.backend.startsWith('flannel')) return `flanneld on ${host}`;
    if (n?.backend === 'calico') return `calico-node on ${host}`;
    const role = ns?.host.role;
    return role === 'router' || role === 'switch' ? `the network team (${host} is ${role === 'router' ? 'a router' : 'a switch'} outside the cluster)` : `${what} on ${host}`;
  };
  switch (det.type) {
    case 'no-route': {
      const target = targetOf(result, p);
      const owner = target ? nodes.find((n) => n.podCIDRs.some((c) => c.contains(target))) : undefined;
      const table = ns ? [...ns.fib[4].tableRoutes('main')].filter((r) => !r.inferred).map((r): Evidence => ({ host, probe: r.probe, line: r.rec.src.line, raw: r.rec.src.raw })) : [];
      table.sort((a, b) => a.line - b.line);
      const router = ns?.host.role === 'router' || ns?.host.role === 'switch';
      return {
        kind: 'no-route',
        host,
        probe: 'routes4',
        text: `${host} searched its tables ${det.tables.join(', ')} (main holds ${table.length} route${table.length === 1 ? '' : 's'}) and none matches ${det.dst}${owner ? `, an address in ${owner.name}'s podCIDR` : ''}`,
        expected:
          router && owner
            ? `no pod-to-pod packet here: the nodes carry them to each other${owner.backend === 'flannel-vxlan' ? ' inside VXLAN' : ''}; or a route to ${owner.podCIDRs.map(String).join(', ')} via ${owner.name}`
            : `a route that covers ${det.dst}`,
        actual: `no route for ${det.dst} in ${det.tables.join(', ')}`,
        owner: ownerHere('the routing configuration'),
        fix: router && owner ? `fix the route on the node that sent the packet here (see the entries above); or route ${owner.podCIDRs.map(String).join(', ')} via ${owner.publicIp ?? owner.name} on ${host}` : `add a route for ${det.dst} on ${host}`,
        ...(records.length ? { evidence: records } : {}),
        searched: table,
      };
    }
    case 'vxlan-fdb-miss': {
      const mac = det.mac.toLowerCase();
      const peer = nodes.find((n) => n.vtepMac?.mac === mac);
      const fdb: Evidence[] = [];
      if (ns) for (const [k, list] of ns.fdb) if (k.startsWith(`${det.dev}|`)) for (const e of list) fdb.push({ host, probe: 'fdb', line: e.src.line, raw: e.src.raw });
      fdb.sort((a, b) => a.line - b.line);
      return {
        kind: 'no-fdb-entry',
        host,
        probe: 'fdb',
        text: peer
          ? `${det.mac} is ${peer.name}'s VTEP (${peer.vtepMac!.where})${peer.publicIp ? ` at ${peer.publicIp}` : ''}, and ${host}'s ${det.dev} has no FDB entry saying where to send it`
          : `${det.mac} is no node's VTEP MAC, and ${host}'s ${det.dev} has no FDB entry for it: the neighbour entry that gave this MAC is stale`,
        expected: peer?.publicIp ? `${det.mac} dev ${det.dev} dst ${peer.publicIp} self permanent` : `the neighbour entry for the gateway to name a current node's VTEP MAC`,
        actual: `no entry for ${det.mac} among ${fdb.length} in ${det.dev}'s forwarding table`,
        owner: ownerHere('the VXLAN agent'),
        fix: peer?.publicIp ? `restart flanneld on ${host}; by hand: bridge fdb append ${det.mac} dev ${det.dev} dst ${peer.publicIp}` : `restart flanneld on ${host} so it rewrites the neighbour and FDB entries from the nodes' annotations`,
        searched: fdb,
      };
    }
    case 'mtu':
    case 'veth-too-big':
    case 'port-too-big': {
      const mtu = det.type === 'port-too-big' ? det.limit : det.mtu;
      const dev = det.type === 'port-too-big' ? det.port : det.dev;
      const size = det.size;
      // The VTEP whose MTU this is: on the path's nodes first (built already), then anywhere.
      const onPath = new Set(p.hops.flatMap((h) => [h.host, net.hosts.get(h.host)?.host.node ?? h.host]));
      const near = nodes.filter((x) => onPath.has(x.name));
      const n = near.find((x) => x.vtepDev && x.vtepDev.mtu === mtu) ?? nodes.find((x) => x.vtepDev && x.vtepDev.mtu === mtu) ?? near.find((x) => x.vtepDev) ?? nodes.find((x) => x.vtepDev);
      const vx = n?.vtepDev;
      const under = vx && n?.ns ? [...n.ns.ifaces.values()].find((i) => i.addrs.some((a) => a.local.toString() === n.publicIp)) : undefined;
      // The sum is said only when it holds: a lowered underlay (1400 under a 1450 VTEP) is the checks' mtu-mismatch.
      const why = vx && vx.mtu === mtu && under && under.mtu - VXLAN4_OVERHEAD === mtu ? `${mtu} = ${under.mtu} − ${VXLAN4_OVERHEAD} bytes of VXLAN overhead (outer IPv4 20 + UDP 8 + VXLAN 8 + inner Ethernet 14): flannel gives pods the MTU that still fits ${under.name} once encapsulated` : `${dev} on ${host} carries at most ${mtu} bytes`;
      const pass = smallestMtu(p) ?? mtu;
      return {
        kind: 'mtu-exceeded',
        host,
        probe: 'links',
        text: `${why}. Packets of up to ${pass} bytes pass; this one is ${size}${result.flow.df ? ' with Don\'t Fragment set' : ''}`,
        expected: `packets of at most ${pass} bytes (the path MTU)`,
        actual: `${size} bytes`,
        owner: result.flow.proto === 'tcp' ? 'the sender (TCP learns the path MTU from the ICMP "fragmentation needed" reply; a firewall that drops ICMP breaks that)' : 'the sender (the application chooses the datagram size)',
        fix: under && vx && vx.mtu === mtu ? `send at most ${pass} bytes, or raise the underlay MTU to ${size + VXLAN4_OVERHEAD} (jumbo frames on ${under.name} and the switches) so that flannel can give pods ${size}` : `send at most ${pass} bytes, or raise ${dev}'s MTU on ${host}`,
        ...(records.length ? { evidence: records } : {}),
      };
    }
    case 'neigh-failed':
    case 'neigh-unanswered': {
      const pod = net.reported.get(det.nexthop)?.[0];
      const node = nodes.find((n) => n.ips.includes(det.nexthop));
      const who = pod?.role === 'pod' ? `pod ${pod.namespace ?? 'default'}/${pod.pod ?? pod.name}` : node ? `node ${node.name}` : undefined;
      return {
        kind: 'neighbor-failed',
        host,
        probe: ns?.probes.has('neigh') ? 'neigh' : 'arp',
        text: `Nobody on ${det.dev} of ${host} answers ARP for ${det.nexthop}${who ? `, the address of ${who}` : ''}${det.type === 'neigh-failed' ? ` (the entry is ${det.state})` : ''}`,
        expected: `${det.nexthop} answering on the segment of ${det.dev}`,
        actual: det.type === 'neigh-failed' ? `a ${det.state} neighbour entry` : 'no neighbour entry and no host on the segment that answers',
        owner: pod?.role === 'pod' ? `the kubelet and CNI plugin on ${pod.node ?? 'its node'} (the pod's sandbox)` : node ? `the node's own network configuration on ${node.name}` : `whoever owns ${det.nexthop}`,
        fix: pod?.role === 'pod' ? `check that ${who} is running and still has ${det.nexthop}; recreate it if its sandbox lost its network` : `check that ${det.nexthop} is up and on the same segment as ${host}'s ${det.dev}`,
        ...(records.length ? { evidence: records } : {}),
      };
    }
    case 'nf-verdict': {
      const rule = [...p.hops[p.hops.length - 1]!.steps].reverse().find((s) => s.kind === 'netfilter' && s.records.length);
      const line = rule?.records[rule.records.length - 1];
      const owner = line ? chainOwner(line.raw) : undefined;
      return {
        kind: det.verdict === 'reject' ? 'rejected' : 'filtered',
        host,
        probe: line?.probe ?? 'iptables',
        text: `${det.hook} on ${host} ${det.verdict === 'reject' ? 'rejects' : 'drops'} the packet${line ? ` at "${line.raw.trim()}"` : ''}`,
        expected: `the rules to accept this flow, if it should pass`,
        actual: `${det.verdict}${det.by === 'ipvs' ? ' (IPVS: the virtual service has no real server)' : ''}`,
        owner: owner ?? `the firewall rules on ${host}`,
        fix: owner?.startsWith('kube-proxy') ? `check the Service's endpoints and kube-proxy's log on ${host}` : `find who installed this rule (${owner ?? 'not kube-proxy'}) and allow the flow there`,
        ...(line ? { evidence: [line] } : {}),
      };
    }
    case 'rp-filter-drop': {
      const iif = det.result === 'wrong-dev' ? det.iif : (p.hops[p.hops.length - 1]?.in ?? '?');
      const back = det.route ? `"${det.route.dst}${det.route.gateway ? ` via ${det.route.gateway}` : ''}${det.route.dev ? ` dev ${det.route.dev}` : ''}"` : 'none';
      return {
        kind: 'rp-filter',
        host,
        probe: 'sysctl',
        text:
          det.result === 'wrong-dev'
            ? `${host} checks the source (rp_filter ${det.mode}) on ${iif}: its route back to ${det.src} leaves by ${det.devs.join(', ')}, not ${iif}, so it drops the packet as spoofed`
            : `${host} checks the source (rp_filter ${det.mode}) on ${iif}: it has no route back to ${det.src} at all`,
        expected: det.result === 'wrong-dev' ? `the route back to ${det.src} through ${iif} (a symmetric path), or rp_filter 2 (loose) or 0 on ${iif}` : `a route back to ${det.src}`,
        actual: `route back: ${back}; rp_filter ${det.mode === 'strict' ? 1 : 2}`,
        owner: `the node's own network configuration on ${host} (its sysctls and routes)`,
        fix: det.result === 'wrong-dev' ? `sysctl -w net.ipv4.conf.all.rp_filter=2 and net.ipv4.conf.${iif}.rp_filter=2 on ${host}, or make the route back to ${det.src} leave by ${iif}` : `add a route back to ${det.src} on ${host}`,
        ...(records.length ? { evidence: records } : {}),
      };
    }
    case 'forwarding-disabled':
      return {
        kind: 'forwarding-disabled',
        host,
        probe: 'sysctl',
        text: `${host} does not forward packets that arrive on ${det.iif} (${det.sysctl} = 0${det.assumed ? ', assumed' : ''})`,
        expected: `${det.sysctl} = 1`,
        actual: `${det.sysctl} = 0`,
        owner: `the node's own network configuration on ${host}`,
        fix: `sysctl -w ${det.sysctl}=1 on ${host}, and find what set it to 0`,
        ...(records.length ? { evidence: records } : {}),
      };
    case 'macvlan-to-lower':
      return {
        kind: 'wrong-destination',
        host: det.lowerNs,
        probe: 'links',
        text: `${det.lowerNs} never receives what ${det.ns}'s ${det.driver} ${det.dev} sends: ${det.dev} sits on ${det.lowerNs}'s ${det.lower}, and a ${det.driver}${det.driver === 'ipvlan' ? ` in mode ${det.mode}` : ''} sends only out of ${det.lower}'s transmit (to its wire or its sibling ${det.driver}s), never up ${det.lower}'s own stack, so ${det.addr} is unreachable from it ${det.driver === 'macvlan' ? "unless the switch sends the frame back out of the port it came in on" : 'by design'}`,
        expected: `a path from ${det.dev} to ${det.addr} that enters ${det.lowerNs}'s stack`,
        actual: `${det.dev} (${det.driver} ${det.mode}) on ${det.lower} of ${det.lowerNs}`,
        owner: `the node's own network configuration on ${det.lowerNs} (the ${det.driver} CNI's parent interface)`,
        fix:
          det.driver === 'macvlan'
            ? `give the host its own macvlan interface on ${det.lower} (ip link add mv-host link ${det.lower} type macvlan mode bridge; move ${det.lowerNs}'s address for this subnet onto it, or route the pods' addresses through it), so the host is a sibling bridge-mode macvlan`
            : `use ipvlan mode l2, where a frame for the shared MAC that no slave owns goes up ${det.lower}'s stack, or give the host an ipvlan interface of its own on ${det.lower}`,
        ...(records.length ? { evidence: records } : {}),
      };
    case 'bond-no-slave':
      return {
        kind: 'link-down',
        host,
        probe: 'links',
        text: `${det.bond} on ${host} (${det.mode}) has no slave whose link is up: ${det.slaves.map((x) => `${x.name}${x.up ? '' : ' has no carrier'}${x.mii && x.mii !== 'UP' ? ` (mii_status ${x.mii})` : ''}`).join(', ') || 'no slaves at all'}`,
        expected: `at least one slave of ${det.bond} up with mii_status UP`,
        actual: det.slaves.map((x) => `${x.name}: ${x.up ? 'up' : 'down'}${x.mii ? `, mii_status ${x.mii}` : ''}`).join('; ') || 'no slaves',
        owner: `the node's own network configuration on ${host} and its cabling`,
        fix: `check the cables and switch ports of ${det.slaves.map((x) => x.name).join(', ') || det.bond} (ip link show; cat /proc/net/bonding/${det.bond})`,
        ...(records.length ? { evidence: records } : {}),
      };
    case 'bond-inactive-slave':
      return {
        kind: 'link-down',
        host,
        probe: 'links',
        text: `The frame reaches ${host} on ${det.slave}, a ${det.state} slave of ${det.bond} (${det.mode}); an inactive slave's frames go to no protocol, so the sender's active slave is cabled to a port that is backup here`,
        expected: `the sender's active slave and ${det.bond}'s active slave on the same link (or all_slaves_active 1)`,
        actual: `${det.slave} ${det.state}`,
        owner: `the bonding configuration of both ends (active_slave / primary)`,
        fix: `make the two ends agree on the active link (ip link set ${det.bond} type bond active_slave ${det.slave} on ${host}, or set primary on both ends)`,
        ...(records.length ? { evidence: records } : {}),
      };
    case 'no-routes-captured':
      return {
        kind: 'insufficient-data',
        host,
        probe: det.family === 4 ? 'routes4' : 'routes6',
        text: `The capture holds no IPv${det.family} routes of ${host}, so the path cannot go on from there`,
        expected: `${host}'s route table in the capture`,
        actual: 'no routes probe',
        owner: 'the capture',
        fix: `capture again with ${host}'s tables (netpath's collector runs ip route there; a pod without iproute2 is read through its node)`,
      };
    case 'vlan-filtered': {
      const who = det.port === det.bridge ? `bridge ${det.bridge} itself (self)` : `port ${det.port}`;
      const self = det.port === det.bridge ? ' self' : '';
      const has = det.member.length ? det.member.join(', ') : 'no VLAN';
      const fix =
        det.why === 'no-pvid'
          ? `give ${det.port} a PVID for the VLAN its untagged hosts belong to: bridge vlan add dev ${det.port} vid VID pvid untagged${self}; or have them send tagged frames`
          : det.why === 'state'
            ? `find why VLAN ${det.vlan} is ${det.state} on ${det.port} (STP / MST per VLAN): bridge -d vlan show dev ${det.port}`
            : `add VLAN ${det.vlan} to ${who}: bridge vlan add dev ${det.port} vid ${det.vlan}${self}${det.at === 'egress' ? ' (add untagged if the host behind it sends untagged frames)' : ''}; or fix the VLAN the frame is in`;
      return {
        kind: 'vlan-filtered',
        host,
        probe: 'bridgevlan',
        text:
          det.why === 'no-pvid'
            ? `${host}'s VLAN-aware bridge ${det.bridge} drops untagged frames on ${who}: it has no PVID`
            : `${host}'s VLAN-aware bridge ${det.bridge} does not allow VLAN ${det.vlan} on ${who} (${det.at === 'ingress' ? 'as the frame comes in' : det.at === 'up' ? 'up to the host' : 'on the way out'})`,
        expected: det.why === 'no-pvid' ? `a PVID on ${det.port}` : `VLAN ${det.vlan} on ${det.port}${det.why === 'state' ? ' in state forwarding' : ''}`,
        actual: `${det.port}: ${has}`,
        owner: ownerHere('the switch configuration'),
        fix,
        ...(records.length ? { evidence: records } : {}),
      };
    }
    case 'vlan-flood-none':
      return {
        kind: 'vlan-filtered',
        host,
        probe: 'bridgevlan',
        text: `${host}'s VLAN-aware bridge ${det.bridge} has no port besides ${det.inPort ?? 'the sender'} in VLAN ${det.vlan}${det.fdb?.length ? `; ${det.mac} is in ${det.fdb.map((e) => `VLAN ${e.vlan} behind ${e.port}`).join(', ')}` : ''}`,
        expected: det.fdb?.length ? `sender and receiver in the same VLAN (or a router between VLAN ${det.vlan} and VLAN ${det.fdb[0]!.vlan})` : `a port in VLAN ${det.vlan} towards ${det.mac ?? 'the destination'}`,
        actual: `VLAN ${det.vlan} on no other port of ${det.bridge} (${det.ports.join(', ')})`,
        owner: ownerHere('the switch configuration'),
        fix: det.fdb?.length
          ? `put both ends in one VLAN (bridge vlan add dev ${det.fdb[0]!.port} vid ${det.vlan} pvid untagged, if ${det.fdb[0]!.port} should be in VLAN ${det.vlan}), or route between the VLANs`
          : `add VLAN ${det.vlan} to the port towards the destination: bridge vlan add dev PORT vid ${det.vlan}`,
        ...(records.length ? { evidence: records } : {}),
      };
    case 'vlan-no-dev':
      if (det.unknown?.length) return undefined;
      return {
        kind: 'wrong-destination',
        host,
        probe: 'links',
        text: `A frame tagged VLAN ${det.id} reaches ${det.dev} of ${host}, which has no VLAN device for id ${det.id}${det.devices.length ? ` (only ${det.devices.map((v) => `${v.dev}: ${v.id}`).join(', ')})` : ''}`,
        expected: `a VLAN device for VLAN ${det.id} on ${det.dev}, or the frame sent untagged or in VLAN ${det.devices.map((v) => v.id).join('/') || 'of this host'}`,
        actual: `tag ${det.id}`,
        owner: ownerHere('the host network configuration'),
        fix: `ip link add link ${det.dev} name ${det.dev}.${det.id} type vlan id ${det.id} on ${host} (and move its address there); or fix the VLAN the sender tags with (the trunk or switch port upstream)`,
        ...(records.length ? { evidence: records } : {}),
      };
    case 'vlan-table-missing':
      return {
        kind: 'insufficient-data',
        host,
        probe: 'bridgevlan',
        text: `${host}'s bridge ${det.bridge} filters by VLAN, and the capture holds no bridge vlan show of ${host}`,
        expected: `${host}'s bridgevlan probe in the capture`,
        actual: 'no bridgevlan probe',
        owner: 'the capture',
        fix: `capture again with the bridgevlan probe (bridge vlan show) on ${host}; netpath's collector runs it when a bridge has vlan_filtering 1`,
      };
    default:
      return undefined;
  }
}

/** A path rejected by a kube-proxy rule for a Service that has no ready endpoint: why, from the API objects. */
function serviceWithoutEndpoints(net: Network, p: TracePath): Diagnosis | undefined {
  const last = p.hops[p.hops.length - 1];
  if (!last || (p.verdict !== 'rejected' && p.verdict !== 'filtered')) return undefined;
  let key: string | undefined;
  for (const st of last.steps) {
    const det = st.detail;
    if ((det?.type === 'netfilter' || det?.type === 'nf-summary') && det.service) key = det.service;
  }
  const m = key ? /^([^/]+)\/([^:]+)(?::(.*))?$/.exec(key) : null;
  if (!m) return undefined;
  const kube = kubernetesOf(net.capture);
  const svc = findService(kube, m[1]!, m[2]!);
  if (!svc || !kube.present.has('endpointSlices')) return undefined;
  const ready = slicesOf(kube, svc).flatMap((sl) => sl.endpoints.filter((e) => e.conditions.ready !== false));
  if (ready.length > 0) return undefined;
  const sel = svc.spec.selector;
  const where = sourceOf(svc) ?? `Service ${namespacedName(svc)}`;
  const selText = sel ? Object.entries(sel).map(([k, v]) => `${k}=${v}`).join(',') : undefined;
  const pods = sel && kube.present.has('pods') ? kube.pods.filter((pod) => pod.metadata.namespace === svc.metadata.namespace && Object.entries(sel).every(([k, v]) => pod.metadata.labels[k] === v)) : undefined;
  const found = !sel
    ? 'the Service has no selector, and no EndpointSlice lists a ready endpoint (they are written by hand or by another controller)'
    : pods === undefined
      ? `no ready endpoint in its EndpointSlices (selector ${selText})`
      : pods.length === 0
        ? `no pod in ${svc.metadata.namespace} has the labels ${selText}`
        : `${pods.length} pod${pods.length === 1 ? '' : 's'} match ${selText} (${pods.map((x) => `${x.metadata.name}: ${x.status.phase ?? 'phase unknown'}`).join(', ')}), none ready in the EndpointSlices`;
  return {
    kind: 'no-endpoints',
    host: 'kubernetes',
    probe: where,
    text: `Service ${namespacedName(svc)} has no ready endpoint, so kube-proxy rejects its traffic`,
    expected: `at least one ready endpoint for ${key}`,
    actual: found,
    owner: sel ? `the workload whose pods carry ${selText} in ${svc.metadata.namespace} (its Deployment or StatefulSet, and their readiness probes)` : "whoever writes this Service's EndpointSlices",
    fix: sel ? `kubectl get pods -n ${svc.metadata.namespace} -l ${selText}: start the pods, or fix their readiness; or fix the Service's selector` : `write the EndpointSlices of ${namespacedName(svc)}, or give the Service a selector`,
  };
}

/** The smallest MTU of the devices the path left by (what passes the whole way), where the trace says. */
function smallestMtu(p: TracePath): number | undefined {
  let min: number | undefined;
  for (const h of p.hops)
    for (const s of h.steps) {
      const d = s.detail;
      const m = d?.type === 'mtu' || d?.type === 'veth-too-big' ? d.mtu : d?.type === 'port-too-big' ? d.limit : undefined;
      if (m !== undefined) min = min === undefined ? m : Math.min(min, m);
    }
  return min;
}

function chainOwner(raw: string): string | undefined {
  if (/\bKUBE-|\bkube-proxy\b|table ip kube-proxy/i.test(raw)) return 'kube-proxy';
  if (/\bcali-/.test(raw)) return 'calico-node (Felix)';
  if (/\bFLANNEL-/.test(raw)) return 'flanneld';
  if (/\bCILIUM_/.test(raw)) return 'cilium-agent';
  if (/\bKUBE-ROUTER|\bKUBE-NWPLCY-/.test(raw)) return 'kube-router';
  return undefined;
}

/** What a trace did not check: NetworkPolicy the capture holds no objects for, nodes whose rules it lacks. */
export function unchecked(net: Network, result: TraceResult): Unchecked[] {
  const out: Unchecked[] = [];
  const kube = kubernetesOf(net.capture);
  const touchesPod = [result.from.host, result.to.host].some((h) => h !== null && net.hosts.get(h)?.host.role === 'pod') || result.paths.some((p) => p.endpoint !== undefined);
  if (touchesPod && !kube.present.has('networkPolicies')) {
    out.push({ what: 'network-policy', hosts: [], text: 'NetworkPolicy: the capture holds no NetworkPolicy objects (not collected), so a policy that denies this flow would not show' });
  }
  const nodes = new Set<string>();
  for (const p of result.paths)
    for (const h of p.hops) {
      const ns = net.hosts.get(h.host);
      if (ns?.host.role === 'node' && !ns.inferred && !['iptables', 'nft', 'ipvs'].some((k) => (ns.host.probes as Record<string, string | undefined> | undefined)?.[k]?.trim())) nodes.add(h.host);
    }
  if (nodes.size) {
    const list = [...nodes].sort();
    out.push({ what: 'netfilter', hosts: list, text: `netfilter: the capture holds no iptables or nftables rules of ${list.join(', ')}, so a firewall rule there that drops this flow would not show` });
  }
  return out;
}
