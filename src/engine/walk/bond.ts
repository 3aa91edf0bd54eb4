// A bond, as drivers/net/bonding takes a frame. Egress (bond_start_xmit): active-backup sends out of
// its active slave; balance-xor and 802.3ad out of the usable slave bond_xmit_hash picks for the flow
// (bond_3ad_xor_xmit: slaves->arr[hash % count]); balance-rr, balance-tlb/alb and broadcast spread
// over every usable slave, one path each. Ingress (bond_handle_frame, the slave's rx_handler): the
// frame becomes the bond's, except on an inactive slave, where only handlers bound to that exact
// slave see it (RX_HANDLER_EXACT) and IP does not.
import type { Mac } from '../../net/addr';
import type { Iface, Netns } from '../netns';
import type { Frame, Packet } from './packet';
import { drop, linkEv, next, step, type Action, type Goto, type Here, type Walk } from './stage';

/** The transmit hash policies (iproute2's xmit_hash_policy_tbl, the kernel's BOND_XMIT_POLICY_*). */
export type XmitHashPolicy = 'layer2' | 'layer3+4' | 'layer2+3' | 'encap2+3' | 'encap3+4' | 'vlan+srcmac';

/** The bond's slaves, in ifindex order (enslave order is not in `ip link`; ifindex order is how configs usually enslave). */
export function slavesOf(ns: Netns, bond: Iface): Iface[] {
  return [...ns.ifaces.values()].filter((i) => i.master === bond.name && i !== bond).sort((a, b) => a.ifindex - b.ifindex);
}

/**
 * bond_slave_can_tx: up, carrier, MII up, and (802.3ad) in the active aggregator, which the capture
 * does not show beyond the slave's MII status: a slave whose link is up is taken as usable.
 */
function canTx(s: Iface): boolean {
  const mii = s.link?.bondPort?.miiStatus;
  return s.up && s.lowerUp && (mii === undefined || mii === 'UP');
}

const le32 = (v4: number) => (((v4 & 0xff) << 24) | (((v4 >>> 8) & 0xff) << 16) | (((v4 >>> 16) & 0xff) << 8) | ((v4 >>> 24) & 0xff)) >>> 0;
const swap16 = (p: number) => (((p & 0xff) << 8) | ((p >>> 8) & 0xff)) >>> 0;

/**
 * flow_get_u32_src/dst as the hash sees them on a little-endian machine: an IPv4 address's four
 * bytes read as a u32 (a.b.c.d -> a | b<<8 | c<<16 | d<<24); an IPv6 address folded by
 * ipv6_addr_hash (the XOR of its four 32-bit words, read so).
 */
function addrWord(a: Packet['src']): number {
  if (a.family === 4) return le32(a.v4);
  let x = 0;
  for (let i = 3; i >= 0; i--) x ^= le32(Number((a.v6 >> BigInt(32 * i)) & 0xffffffffn));
  return x >>> 0;
}

/**
 * bond_xmit_hash (drivers/net/bonding/bond_main.c, Linux 6.x) for a plain (not encapsulated,
 * untagged) Ethernet frame on a little-endian machine, or undefined when the flow lacks an input:
 * - layer2: bond_eth_hash = h_dest[5] ^ h_source[5] ^ be16_to_cpu(h_proto);
 * - layer2+3 / encap2+3: bond_ip_hash(bond_eth_hash, flow);
 * - layer3+4 / encap3+4: bond_ip_hash(the ports as one u32 read from the header (memcpy), flow) >> 1
 *   (bond_ip_hash discards the lowest bit for these policies);
 * bond_ip_hash: hash ^= dst ^ src; hash ^= hash >> 16; hash ^= hash >> 8.
 * ICMP hashes its type, code and echo id, which a flow does not carry: undefined. Kernels before
 * the `>> 1` and the be16_to_cpu (2021) pick differently for some flows.
 */
export function bondXmitHash(policy: string, pkt: Packet, srcMac: Mac | undefined, dstMac: Mac | undefined): number | undefined {
  const proto = pkt.dst.family === 4 ? 0x0800 : 0x86dd;
  const eth = () => (srcMac && dstMac ? (dstMac.octets[5]! ^ srcMac.octets[5]! ^ proto) >>> 0 : undefined);
  if (policy === 'layer2') return eth();
  if (pkt.inner !== undefined && policy.startsWith('encap')) return undefined; // the inner headers are hashed
  let hash: number | undefined;
  if (policy === 'layer2+3' || policy === 'encap2+3') hash = eth();
  else if (policy === 'layer3+4' || policy === 'encap3+4') {
    if (pkt.proto === 'icmp') return undefined;
    if (pkt.proto === 'tcp' || pkt.proto === 'udp' || pkt.proto === 'sctp') {
      if (pkt.sport === undefined || pkt.dport === undefined) return undefined;
      hash = (swap16(pkt.sport) | (swap16(pkt.dport) << 16)) >>> 0;
    } else hash = 0; // no ports dissected: the ports word stays zero
  } else return undefined; // vlan+srcmac: the VLAN id is not on the frame
  if (hash === undefined) return undefined;
  hash = (hash ^ addrWord(pkt.dst) ^ addrWord(pkt.src)) >>> 0;
  hash = (hash ^ (hash >>> 16)) >>> 0;
  hash = (hash ^ (hash >>> 8)) >>> 0;
  return policy === 'layer3+4' || policy === 'encap3+4' ? hash >>> 1 : hash;
}

/** bond_start_xmit: which slave (or slaves, one path each) the frame leaves by. */
export function bondXmit(w: Walk, here: Here, ns: Netns, bond: Iface, frame: Frame): Action {
  const mode = bond.link?.bond?.mode ?? 'balance-rr'; // the kernel's default mode
  const slaves = slavesOf(ns, bond);
  // 802.3ad: a slave outside the active aggregator is BACKUP and not in the usable array.
  const usable = slaves.filter((s) => canTx(s) && !(mode === '802.3ad' && s.link?.bondPort?.state === 'BACKUP'));
  const ev = [linkEv(ns, bond)];
  if (usable.length === 0) {
    const view = slaves.map((s) => ({ name: s.name, up: s.up && s.lowerUp, ...(s.link?.bondPort?.miiStatus ? { mii: s.link.bondPort.miiStatus } : {}), ...(s.link?.bondPort?.state ? { state: s.link.bondPort.state } : {}) }));
    return drop('link-down', { type: 'bond-no-slave', ns: ns.name, bond: bond.name, mode, slaves: view }, bond.name, [...ev, ...slaves.map((s) => linkEv(ns, s))]);
  }
  const out = (slave: Iface, detail: Extract<Parameters<typeof step>[1], { type: 'bond-xmit' }>): Action =>
    next(viaSlave(w, ns, bond, slave, frame), { out: slave.name, steps: [step('bond', detail, [...ev, linkEv(ns, slave)])] });
  const base = { type: 'bond-xmit' as const, ns: ns.name, bond: bond.name, mode };
  if (mode === 'active-backup') {
    // bond->curr_active_slave: what `active_slave` names; else the slave whose state is ACTIVE.
    const named = bond.link?.bond?.activeSlave;
    const byName = named !== undefined ? usable.find((s) => s.name === named || String(s.ifindex) === named) : undefined;
    if (byName) return out(byName, { ...base, slave: byName.name, how: 'active-slave' });
    const active = usable.find((s) => s.link?.bondPort?.state === 'ACTIVE');
    if (active) return out(active, { ...base, slave: active.name, how: 'active-state' });
    if (usable.length === 1) return out(usable[0]!, { ...base, slave: usable[0]!.name, how: 'only-slave' });
    // No active slave in the capture and several could be: each is followed.
    return spread(w, here, ns, bond, mode, usable, frame, 'load');
  }
  if (usable.length === 1) return out(usable[0]!, { ...base, slave: usable[0]!.name, how: 'only-slave' });
  if (mode === 'balance-xor' || mode === '802.3ad') {
    const policy = bond.link?.bond?.xmitHashPolicy ?? 'layer2';
    const hash = bondXmitHash(policy, frame.pkt, bond.mac, frame.dstMac);
    if (hash === undefined) return spread(w, here, ns, bond, mode, usable, frame, 'hash-inputs', policy);
    const index = hash % usable.length;
    const slave = usable[index]!;
    return out(slave, { ...base, slave: slave.name, how: 'hash', policy, hash, index, of: usable.length, slaves: usable.map((s) => s.name) });
  }
  return spread(w, here, ns, bond, mode, usable, frame, mode === 'balance-rr' ? 'round-robin' : mode === 'broadcast' ? 'broadcast' : 'load');
}

/**
 * Out of the slave; but a slave the capture does not cable (no `links`) leads nowhere known: the
 * bond's own implicit segment (its subnet's NICs and bonds) is then the far end, as for any NIC.
 */
function viaSlave(w: Walk, ns: Netns, bond: Iface, slave: Iface, frame: Frame): Goto {
  const topo = w.net.topology;
  if (topo.wires(ns, slave).length === 0 && topo.isSegment(ns, bond)) return { stage: 'wire_xmit', ns, dev: bond, frame };
  return { stage: 'dev_queue_xmit', ns, dev: slave, frame };
}

/** One path per usable slave, each as likely as the others (a broadcast bond's are copies, each sent). */
function spread(w: Walk, here: Here, ns: Netns, bond: Iface, mode: string, usable: Iface[], frame: Frame, why: 'round-robin' | 'load' | 'hash-inputs' | 'broadcast', policy?: string): Action {
  const steps = [step('bond', { type: 'bond-spread', ns: ns.name, bond: bond.name, mode, why, ...(policy ? { policy } : {}), slaves: usable.map((s) => s.name) }, [linkEv(ns, bond)])];
  return {
    kind: 'fork',
    steps,
    branches: usable.map((s) => ({
      fork: { kind: 'bond' as const, host: ns.name, bond: bond.name, slave: s.name, of: usable.length },
      // broadcast mode sends every copy (bond_xmit_broadcast): a copy that reaches a host it is not for is no failure.
      ...(why === 'broadcast' ? { floodCopy: true, copy: 'flood' as const } : { floodCopy: here.floodCopy, probability: 1 / usable.length }),
      next: viaSlave(w, ns, bond, s, frame),
    })),
  };
}

/**
 * bond_handle_frame: the frame is the bond's, unless the slave is inactive (an active-backup bond's
 * BACKUP slave; bond_should_deliver_exact_match) and the bond does not set all_slaves_active.
 */
export function bondHandleFrame(ns: Netns, slave: Iface, bond: Iface, frame: Frame): Action {
  const mode = bond.link?.bond?.mode ?? 'balance-rr';
  const state = slave.link?.bondPort?.state;
  const ev = [linkEv(ns, slave), linkEv(ns, bond)];
  if (state === 'BACKUP' && bond.link?.bond?.allSlavesActive !== true) {
    return drop('link-down', { type: 'bond-inactive-slave', ns: ns.name, bond: bond.name, slave: slave.name, mode, state }, slave.name, ev);
  }
  return next({ stage: 'netif_receive_skb', ns, dev: bond, frame }, { steps: [step('bond', { type: 'bond-rx', ns: ns.name, bond: bond.name, slave: slave.name, ...(state ? { state } : {}) }, ev)] });
}
