// VXLAN (drivers/net/vxlan): vxlan_xmit finds the VTEP for the inner destination MAC in the device's
// FDB (lookup/fdb.ts: an entry for the MAC, else the all-zero default entries, each sent a copy, else
// the device's configured remote); the frame is wrapped in UDP to that VTEP and the outer packet is
// routed again in the same namespace. vxlan_rcv is in ip.ts's local delivery.
import { Addr } from '../../net/addr';
import { vxlanFdbLookup } from '../lookup/fdb';
import { evidence } from '../netns';
import { VXLAN_OVERHEAD, type Packet } from './packet';
import { drop, linkEv, next, step, type Stage } from './stage';

export const vxlanXmit: Stage<'vxlan_xmit'> = (_w, _here, { ns, dev, frame }) => {
  const v = dev.link?.vxlan;
  if (!v) return drop('insufficient-data', { type: 'vxlan-no-details', dev: dev.name }, dev.name);
  const mac = frame.dstMac;
  if (!mac) return drop('neighbor-failed', { type: 'vxlan-no-mac', dev: dev.name }, dev.name);
  const found = vxlanFdbLookup(ns, dev, mac);
  if (found.kind === 'miss') {
    if (v.remote) {
      const s = step('fdb', { type: 'vxlan-remote', ns: ns.name, dev: dev.name, mac: mac.toString(), remote: v.remote.toString() }, [linkEv(ns, dev)]);
      return next({ stage: 'vxlan_encap', ns, dev, frame, vtep: v.remote, port: v.dstport, vni: v.id }, { steps: [s] });
    }
    return drop(found.known ? 'no-fdb-entry' : 'insufficient-data', { type: 'vxlan-fdb-miss', dev: dev.name, vni: v.id, mac: mac.toString(), fdbKnown: found.known }, dev.name);
  }
  const viaDefault = found.kind === 'default';
  const copy = (e: (typeof found.entries)[number]) => ({
    steps: [step('fdb', { type: 'vxlan-fdb', ns: ns.name, dev: dev.name, vni: e.vni ?? v.id, mac: mac.toString(), vtep: e.dst!.toString(), default: viaDefault }, [evidence(ns, 'fdb', e.src)])],
    next: { stage: 'vxlan_encap' as const, ns, dev, frame, vtep: e.dst!, port: e.port ?? v.dstport, vni: e.vni ?? v.id },
  });
  if (found.entries.length === 1) {
    const one = copy(found.entries[0]!);
    return next(one.next, { steps: one.steps });
  }
  // Each VTEP gets a copy. Whether a copy's end at a host it is not for is expected is decided anew
  // here: only the default entries' copies are such (a copy of a flood copy to several specific VTEPs is not).
  return {
    kind: 'fork',
    branches: found.entries.map((e) => ({ fork: { kind: 'vxlan', host: ns.name, dev: dev.name, vtep: e.dst!.toString(), default: viaDefault }, floodCopy: viaDefault, copy: 'vxlan-default', ...copy(e) })),
  };
};

/** vxlan_xmit_one: the outer UDP packet to the VTEP (DF clear unless configured), routed again in this namespace. */
export const vxlanEncap: Stage<'vxlan_encap'> = (_w, _here, { ns, dev, frame, vtep, port, vni }) => {
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
    mark: 0,
    connection: 'new',
    inner: frame,
    vni,
    tunnelDev: dev.name,
  };
  const s = step('vxlan-encap', { type: 'vxlan-encap', ns: ns.name, dev: dev.name, size: frame.pkt.size, vni, vtep: vtep.toString(), port, ...(v.local ? { local: v.local.toString() } : {}), overhead, total: outer.size }, [linkEv(ns, dev)], {
    tunnel: { kind: 'vxlan', dev: dev.name, vni, ...(v.local ? { outerSrc: v.local.toString() } : {}), outerDst: vtep.toString(), port, overhead },
  });
  return next({ stage: 'ip_route_output', ns, pkt: outer, oif: v.dev }, { steps: [s] });
};
