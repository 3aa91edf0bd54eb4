// Forwarding database lookups as tagged answers: a bridge's (br_fdb_find) and a VXLAN device's
// (vxlan_find_mac, with the all-zero default entries that flannel and Calico use for unknown MACs).
import type { Mac } from '../../net/addr';
import type { FdbRecord } from '../../parsers';
import { fdbKey, forwards, type Iface, type Netns } from '../netns';

export type BridgeFdbAnswer =
  /** The bridge's own address, or a port's own MAC (`permanent` on the port): the frame is for this host. */
  | { kind: 'local'; entry: FdbRecord }
  /** The MAC is behind a port (learned, static or permanent). */
  | { kind: 'hit'; entry: FdbRecord }
  /**
   * Not in the table (`known`: the capture has the fdb probe, so the absence is real). `otherVlans`:
   * the MAC's entries in other VLANs, which a lookup in this one does not match.
   */
  | { kind: 'miss'; known: boolean; otherVlans?: FdbRecord[] };

/**
 * br_fdb_find_rcu(br, addr, vid) for a frame to `mac` in VLAN `vid` on bridge `br`: entries are per
 * (MAC, VLAN), so an entry of another VLAN does not match, and one without a VLAN matches only vid 0
 * (every frame on a bridge without vlan_filtering: br_allowed_ingress leaves vid 0 there). A local entry counts for a frame that came in on a
 * port (br_handle_frame); a frame the host sends into the bridge (br_dev_xmit) is looked up among the
 * ports only. A learned entry on a port that is down or not forwarding is skipped: the kernel flushes
 * those (br_fdb_delete_by_port), and a capture taken before that may still list them.
 */
export function brFdbLookup(ns: Netns, br: Iface, mac: Mac, fromPort: boolean, vid = 0): BridgeFdbAnswer {
  const all = ns.fdb.get(fdbKey(br.name, mac.toString())) ?? [];
  const entries = all.every((e) => (e.vlan ?? 0) === vid) ? all : all.filter((e) => (e.vlan ?? 0) === vid);
  const local = entries.find((e) => e.dev === br.name || (e.state === 'permanent' && ns.ifaces.get(e.dev)?.mac?.equals(mac)));
  if (local && fromPort) return { kind: 'local', entry: local };
  const hit = entries.find((e) => e !== local && e.dev !== br.name && (e.state !== 'dynamic' || forwards(ns.ifaces.get(e.dev))));
  if (hit) return { kind: 'hit', entry: hit };
  const otherVlans = all.filter((e) => (e.vlan ?? 0) !== vid);
  return { kind: 'miss', known: ns.probes.has('fdb'), ...(otherVlans.length ? { otherVlans } : {}) };
}

export const ZERO_MAC = '00:00:00:00:00:00';

export type VxlanFdbAnswer =
  /** Entries for the MAC with a remote VTEP (several: each is sent a copy). */
  | { kind: 'hit'; entries: FdbRecord[] }
  /** No entry for the MAC: the default (all-zero) entries' VTEPs, each sent a copy. */
  | { kind: 'default'; entries: FdbRecord[] }
  | { kind: 'miss'; known: boolean };

/** vxlan_find_mac for the inner destination `mac` on VXLAN device `dev`, then its default entries. */
export function vxlanFdbLookup(ns: Netns, dev: Iface, mac: Mac): VxlanFdbAnswer {
  const entries = (ns.fdb.get(fdbKey(dev.name, mac.toString())) ?? []).filter((e) => e.dst !== undefined);
  if (entries.length) return { kind: 'hit', entries };
  const zero = (ns.fdb.get(fdbKey(dev.name, ZERO_MAC)) ?? []).filter((e) => e.dst !== undefined);
  if (zero.length) return { kind: 'default', entries: zero };
  return { kind: 'miss', known: ns.probes.has('fdb') };
}
