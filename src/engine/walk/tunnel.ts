// IPIP (net/ipv4/ipip.c) and WireGuard (drivers/net/wireguard): the device wraps the packet in an
// outer one that is routed again in the same namespace; on the far side the device the outer packet
// is for takes it, checks it, and the inner packet arrives on that device (ip_rcv again).
import { Addr, Prefix } from '../../net/addr';
import { evidence } from '../netns';
import type { Evidence, WgPeerRef } from '../trace';
import { IPIP_OVERHEAD, WIREGUARD_OVERHEAD, type Packet } from './packet';
import { drop, linkEv, next, step, type Stage } from './stage';

/** ipip_tunnel_xmit: the outer destination is the tunnel's remote, or the route's gateway (`remote any`). */
export const ipipXmit: Stage<'ipip_xmit'> = (_w, _here, { ns, dev, frame }) => {
  const t = dev.link?.tunnel;
  const endpoint = t?.remote ?? frame.nexthop;
  if (!endpoint || (endpoint.equals(frame.pkt.dst) && !t?.remote)) return drop('insufficient-data', { type: 'ipip-no-remote', dev: dev.name }, dev.name, [linkEv(ns, dev)]);
  const outer: Packet = {
    src: t?.local ?? Addr.fromV4(0),
    dst: endpoint,
    proto: 'ipip',
    size: frame.pkt.size + IPIP_OVERHEAD,
    ttl: t?.ttl ?? frame.pkt.ttl,
    df: frame.pkt.df,
    mark: 0,
    connection: 'new',
    inner: frame,
    tunnelDev: dev.name,
  };
  const s = step('tunnel-encap', { type: 'ipip-encap', ns: ns.name, dev: dev.name, size: frame.pkt.size, remote: endpoint.toString(), fixed: t?.remote !== undefined, total: outer.size }, [linkEv(ns, dev)], {
    tunnel: { kind: 'ipip', dev: dev.name, ...(t?.local ? { outerSrc: t.local.toString() } : {}), outerDst: endpoint.toString(), overhead: IPIP_OVERHEAD },
  });
  return next({ stage: 'ip_route_output', ns, pkt: outer, oif: t?.dev }, { steps: [s] });
};

/** ipip_rcv: a local IPIP packet is taken by a tunnel whose endpoints match, and the inner packet arrives on it. */
export const ipipRcv: Stage<'ipip_rcv'> = (_w, _here, { ns, pkt, iif }) => {
  const tun = [...ns.ifaces.values()].find((i) => i.type === 'ipip' && i.up && (i.link?.tunnel?.local === undefined || i.link.tunnel.local.equals(pkt.dst)) && (i.link?.tunnel?.remote === undefined || i.link.tunnel.remote.equals(pkt.src)));
  if (!tun) return drop('wrong-destination', { type: 'ipip-no-dev', ns: ns.name, from: pkt.src.toString() }, iif?.name ?? null);
  const s = step('tunnel-decap', { type: 'ipip-decap', ns: ns.name, dev: tun.name, from: pkt.src.toString(), src: pkt.inner!.pkt.src.toString(), dst: pkt.inner!.pkt.dst.toString() }, [linkEv(ns, tun)]);
  return next({ stage: 'ip_rcv', ns, iif: tun, pkt: pkt.inner!.pkt }, { steps: [s] });
};

/**
 * wg_xmit: cryptokey routing picks the peer whose allowed IPs hold the destination (longest prefix);
 * without a `wg` probe, the node whose podCIDR holds it, on the usual port. The outer UDP packet
 * carries the device's fwmark into its route lookup.
 */
export const wgXmit: Stage<'wg_xmit'> = (w, _here, { ns, dev, frame }) => {
  const table = ns.wg.get(dev.name);
  const dst = frame.pkt.dst;
  let peer: { endpoint: { addr: Addr; port: number } | undefined; ev: Evidence | undefined; ref: WgPeerRef; inferred: boolean };
  if (table) {
    let best: { p: (typeof table.peers)[number]; len: number } | undefined;
    for (const p of table.peers) for (const a of p.allowedIps) if (a.contains(dst) && (!best || a.length > best.len)) best = { p, len: a.length };
    if (!best) return drop('unreachable', { type: 'wg-no-peer', dev: dev.name, dst: dst.toString() }, dev.name, table.peers.map((p) => evidence(ns, 'wg', p.src)));
    peer = { endpoint: best.p.endpoint, ev: evidence(ns, 'wg', best.p.src), ref: { key: best.p.publicKey, allowedIps: best.p.allowedIps.map((a) => a.toString()) }, inferred: false };
  } else {
    // No `wg` probe: the peer is the node whose podCIDR holds the destination, on the local port.
    const node = w.net.capture.hosts.find((h) => h.role === 'node' && h.podCIDRs?.some((p) => Prefix.parse(p).ok && Prefix.must(p).contains(dst)));
    const ip = node?.ips?.flatMap((x) => {
      const a = Addr.parse(x);
      return a.ok && a.value.family === 4 ? [a.value] : [];
    })[0];
    if (!node || !ip) return drop('insufficient-data', { type: 'wg-no-table', dev: dev.name, dst: dst.toString() }, dev.name);
    peer = { endpoint: { addr: ip, port: 51820 }, ev: undefined, ref: { node: node.name }, inferred: true };
  }
  if (!peer.endpoint) return drop('unreachable', { type: 'wg-no-endpoint', dev: dev.name, dst: dst.toString(), peer: peer.ref }, dev.name, [peer.ev]);
  const family = peer.endpoint.addr.family;
  const overhead = WIREGUARD_OVERHEAD[family];
  const outer: Packet = {
    // Unset, for the route to choose (an IPv4 zero unless the endpoint's family differs from the inner packet's, as netpath always had it).
    src: family !== dst.family ? (family === 4 ? Addr.fromV4(0) : Addr.fromV6(0n)) : Addr.fromV4(0),
    dst: peer.endpoint.addr,
    proto: 'udp',
    dport: peer.endpoint.port,
    size: frame.pkt.size + overhead,
    ttl: 64,
    df: false,
    mark: table?.dev?.fwmark ?? 0,
    connection: 'new',
    inner: frame,
    wgFrom: { key: table?.dev?.publicKey },
    tunnelDev: dev.name,
  };
  const s = step('tunnel-encap', { type: 'wg-encap', ns: ns.name, dev: dev.name, dst: dst.toString(), peer: peer.ref, endpoint: peer.endpoint.addr.toString(), port: peer.endpoint.port, overhead, total: outer.size }, [peer.ev, linkEv(ns, dev)], {
    ...(peer.inferred ? { inferred: true } : {}),
    tunnel: { kind: 'wireguard', dev: dev.name, outerDst: peer.endpoint.addr.toString(), port: peer.endpoint.port, overhead },
  });
  return next({ stage: 'ip_route_output', ns, pkt: outer }, { steps: [s] });
};

/** wg_packet_receive: the device on that port decrypts the datagram; the inner source must be one of the sending peer's allowed IPs. */
export const wgRcv: Stage<'wg_rcv'> = (_w, _here, { ns, pkt, iif }) => {
  const devs = [...ns.ifaces.values()].filter((i) => i.type === 'wireguard');
  const byPort = devs.find((d) => ns.wg.get(d.name)?.dev?.listenPort === pkt.dport);
  const dev = byPort ?? (devs.length === 1 && !ns.wg.get(devs[0]!.name) ? devs[0] : undefined);
  if (!dev) return drop('wrong-destination', { type: 'wg-no-listener', ns: ns.name, ...(pkt.dport !== undefined ? { port: pkt.dport } : {}) }, iif?.name ?? null);
  const inner = pkt.inner!.pkt;
  const table = ns.wg.get(dev.name);
  const sender = table && pkt.wgFrom?.key ? table.peers.find((p) => p.publicKey === pkt.wgFrom!.key) : undefined;
  if (table && pkt.wgFrom?.key && !sender) return drop('wrong-destination', { type: 'wg-unknown-peer', ns: ns.name, dev: dev.name }, dev.name);
  if (sender && !sender.allowedIps.some((a) => a.contains(inner.src))) {
    return drop('rp-filter', { type: 'wg-source', dev: dev.name, src: inner.src.toString(), allowed: sender.allowedIps.map((a) => a.toString()) }, dev.name, [evidence(ns, 'wg', sender.src)]);
  }
  const s = step('tunnel-decap', { type: 'wg-decap', ns: ns.name, dev: dev.name, ...(pkt.dport !== undefined ? { port: pkt.dport } : {}), src: inner.src.toString(), dst: inner.dst.toString(), peerChecked: sender !== undefined }, [sender ? evidence(ns, 'wg', sender.src) : undefined, linkEv(ns, dev)], table ? {} : { inferred: true });
  return next({ stage: 'ip_rcv', ns, iif: dev, pkt: inner }, { steps: [s] });
};
