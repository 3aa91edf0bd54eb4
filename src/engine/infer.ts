// A pod with no probes (an image without ip, BusyBox or cat) is still a host on the path: its
// namespace is built from the IPs Kubernetes reports and from how its node reaches them, as the CNI
// plugin would have set it up. Every fact is marked inferred and says what it was inferred from.
import type { AddrRecord, RouteRecord } from '../parsers';
import { Addr, Mac, Prefix, type Family } from '../net/addr';
import { Fib } from './fib';
import { isResolved, neighLookup } from './lookup/neigh';
import { evidence, type Iface, type Netns } from './netns';
import type { Evidence, InferredNetnsFacts } from './trace';

/** A pod (not on the host network) whose interfaces, addresses and routes the capture does not hold. */
export function hasNoInterfaceTables(ns: Netns): boolean {
  const h = ns.host;
  return h.role === 'pod' && !h.hostNetwork && !(['links', 'addrs', 'routes4', 'routes6'] as const).some((p) => ns.probes.has(p));
}

/** How the node reaches one pod address: the device its route (or, failing that, its neighbour entry) uses. */
interface PodSide {
  dev: Iface;
  ev: Evidence;
  /** The node's route to the address, when that is what led to `dev`. */
  route: RouteRecord | undefined;
}

function podSideOnNode(node: Netns, ip: Addr): PodSide | undefined {
  const podFacing = (i: Iface | undefined) => i !== undefined && (i.type === 'bridge' || (i.type === 'veth' && i.master === undefined));
  const ans = node.fib[ip.family].lookup({ dst: ip });
  // Only a route straight onto the device (no gateway) says the pod is there: a default route's does not.
  if (ans.kind === 'route' && ans.route.rec.type === 'unicast' && ans.route.rec.dev !== undefined && ans.route.rec.gateway === undefined) {
    const dev = node.ifaces.get(ans.route.rec.dev);
    if (dev && podFacing(dev)) return { dev, ev: evidence(node, ans.route.probe, ans.route.rec.src), route: ans.route.rec };
  }
  // No route leads there (a fault): the node's neighbour entry still tells which device the pod is on.
  for (const dev of node.ifaces.values()) {
    const n = neighLookup(node, dev.name, ip);
    if (n.kind !== 'missing' && podFacing(dev)) return { dev, ev: evidence(node, n.probe, n.entry.src), route: undefined };
  }
  return undefined;
}

/** The IPv6 link-local address of a device: its own (from `addrs`), else the EUI-64 one its MAC gives. */
function linkLocalOf(dev: Iface): Addr | undefined {
  const own = dev.addrs.find((a) => a.family === 6 && a.local.isLinkLocal());
  if (own) return own.local;
  if (!dev.mac) return undefined;
  const o = dev.mac.octets;
  const iid = [o[0]! ^ 2, o[1]!, o[2]!, 0xff, 0xfe, o[3]!, o[4]!, o[5]!].reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
  return Addr.fromV6((0xfe80n << 112n) | iid);
}

function inferredRoute(family: Family, dst: Prefix, raw: string, extra: Partial<RouteRecord>): RouteRecord {
  return { kind: 'route', family, type: 'unicast', dst, table: 'main', dev: 'eth0', flags: [], ...extra, src: { line: 0, raw } };
}

/**
 * A pod with no probes (an image without ip, BusyBox or cat) is still a host on the path: its namespace
 * is built from the IPs Kubernetes reports (on eth0) and from how its node reaches them, with the routes
 * its CNI sets up. The node's route to a bridge means the bridge plugin's layout (the subnet on-link,
 * the default route via the bridge's address); to a veth with no master, Calico's (a /32 or /128, the
 * default via 169.254.1.1, answered by proxy ARP, or via the veth's IPv6 link-local address). The MTU
 * is the node-side device's, the MAC the node's neighbour entry's. Every fact is marked inferred.
 */
export function inferPodNetns(pod: Netns, node: Netns | undefined): void {
  const h = pod.host;
  const label = h.namespace !== undefined ? `${h.namespace}/${h.pod ?? h.name}` : h.name;
  const eth0: Iface = { name: 'eth0', ifindex: -1, link: undefined, type: 'veth', mtu: 65535, up: true, lowerUp: true, mac: undefined, master: undefined, noarp: false, addrs: [] };
  const routes: RouteRecord[] = [];
  const facts: InferredNetnsFacts = { pod: label, from: '', nodeInCapture: node !== undefined, ips: [] };
  const basis: Evidence[] = [];
  const from = node?.name ?? h.node ?? 'its node';
  facts.from = from;
  const ips = (h.ips ?? []).map((x) => Addr.parse(x)).flatMap((r) => (r.ok ? [r.value] : []));
  let mtu: { value: number; dev: string } | undefined;
  for (const ip of ips) {
    const side = node ? podSideOnNode(node, ip) : undefined;
    let len: number = ip.bits;
    if (side) {
      basis.push(side.ev);
      const dev = side.dev;
      const via = side.route ? ('route' as const) : ('neigh' as const);
      if (!mtu || dev.mtu < mtu.value) mtu = { value: dev.mtu, dev: dev.name };
      const n = neighLookup(node!, dev.name, ip);
      if (isResolved(n) && !eth0.mac) {
        const m = Mac.parse(n.lladdr);
        if (m.ok) {
          eth0.mac = m.value;
          if (side.route) basis.push(evidence(node!, n.probe, n.entry.src));
          facts.mac = { mac: m.value.toString(), ip: ip.toString(), dev: dev.name };
        }
      }
      if (dev.type === 'bridge') {
        // The bridge plugin: the pod's address in the bridge's subnet, that subnet on-link, the bridge's address as gateway.
        const gw = dev.addrs.find((a) => a.family === ip.family && !a.local.isLinkLocal() && (a.peer ?? a.prefix).masked().contains(ip) && !a.local.equals(ip));
        const onLink = gw?.prefixlen ?? (side.route && side.route.dst.length < ip.bits ? side.route.dst.length : undefined);
        if (gw) basis.push(evidence(node!, 'addrs', gw.src));
        if (onLink !== undefined) {
          len = onLink;
          const subnet = Prefix.of(ip, len).masked();
          routes.push(inferredRoute(ip.family, subnet, `${subnet} dev eth0 proto kernel scope link src ${ip} (inferred: ${dev.name} on ${from} is on ${subnet})`, { protocol: 'kernel', scope: 'link', prefsrc: ip }));
        }
        if (gw) routes.push(inferredRoute(ip.family, Prefix.any(ip.family), `default via ${gw.local} dev eth0 (inferred: the address of ${dev.name} on ${from})`, { gateway: gw.local }));
        facts.ips.push({ layout: 'bridge', ip: ip.toString(), len, dev: dev.name, via, ...(onLink !== undefined ? { subnet: Prefix.of(ip, len).masked().toString() } : {}), ...(gw ? { gateway: gw.local.toString() } : {}) });
      } else {
        // A routed veth (Calico): the pod's address alone, the default route through a gateway the node answers for.
        const own = dev.addrs.find((a) => a.family === ip.family && !a.local.isLinkLocal());
        const gw = own?.local ?? (ip.family === 4 ? Addr.must('169.254.1.1') : linkLocalOf(dev));
        if (gw) {
          const why = own ? `the address of ${dev.name} on ${from}` : ip.family === 4 ? `the gateway Calico's CNI plugin gives every pod; ${dev.name} answers ARP for it` : `the link-local address of ${dev.name} on ${from}, Calico's IPv6 gateway`;
          if (ip.family === 4 || !gw.isLinkLocal()) routes.push(inferredRoute(ip.family, Prefix.of(gw, gw.bits), `${gw} dev eth0 scope link (inferred: ${why})`, { scope: 'link' }));
          routes.push(inferredRoute(ip.family, Prefix.any(ip.family), `default via ${gw} dev eth0 (inferred: ${why})`, { gateway: gw }));
        }
        facts.ips.push({ layout: 'calico', ip: ip.toString(), len, dev: dev.name, via, ...(gw ? { gateway: gw.toString() } : {}) });
      }
    } else {
      facts.ips.push({ layout: 'none', ip: ip.toString(), len });
    }
    const addr: AddrRecord = { kind: 'addr', dev: 'eth0', family: ip.family, local: ip, prefixlen: len, prefix: Prefix.of(ip, len), scope: 'global', flags: [], src: { line: 0, raw: `${ip}/${len} dev eth0 (inferred: the pod IP Kubernetes reports)` } };
    eth0.addrs.push(addr);
  }
  if (ips.some((a) => a.family === 6)) routes.push(inferredRoute(6, Prefix.must('fe80::/64'), 'fe80::/64 dev eth0 proto kernel (inferred: every IPv6 interface has it)', { protocol: 'kernel' }));
  if (mtu) {
    eth0.mtu = mtu.value;
    facts.mtu = { mtu: mtu.value, dev: mtu.dev };
  }
  pod.ifaces = new Map([['eth0', eth0]]);
  pod.byIndex = new Map();
  const fib: Record<Family, Fib> = { 4: new Fib(4), 6: new Fib(6) };
  for (const r of routes) fib[r.family].addRoute(r, r.family === 4 ? 'routes4' : 'routes6', true);
  for (const f of [4, 6] as const) fib[f].finish(eth0.addrs.filter((a) => a.family === f));
  pod.fib = fib;
  pod.inferred = { node: node?.name, facts, basis };
}
