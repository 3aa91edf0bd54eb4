// 802.1Q, as net/8021q and net/bridge/br_vlan.c handle it. A VLAN device pushes its tag on the way
// out (vlan_dev_hard_start_xmit) and takes frames with its tag on the way in (vlan_do_receive, called
// from __netif_receive_skb_core before any rx_handler such as a bridge's). A VLAN-aware bridge
// (vlan_filtering 1) gives every frame a VLAN as it comes in (br_allowed_ingress: an untagged frame
// the port's PVID, a tagged one only if the port is a member), looks MACs up per VLAN, forwards and
// floods only to member ports (br_allowed_egress) and strips the tag where the VLAN leaves untagged
// (br_handle_vlan). The bridge itself is a port for its own (`self`) VLANs (br_dev_xmit,
// br_pass_frame_up). The tags ride on the frame (`Frame.vlans`, outermost first).
import type { BridgeVlanRecord } from '../../parsers';
import { evidence, type Iface, type Netns } from '../netns';
import type { Evidence, Step } from '../trace';
import type { Frame } from './packet';
import { drop, linkEv, next, step, type Action } from './stage';

/** Whether `br` filters by VLAN (`ip -d link`: `vlan_filtering 1`). */
export const vlanFiltering = (br: Iface): boolean => br.link?.bridge?.vlanFiltering === true;

/** The entry of `port`'s VLAN table that holds `vid` (ranges included). */
export function portVlan(ns: Netns, port: string, vid: number): BridgeVlanRecord | undefined {
  return ns.bridgeVlans.get(port)?.find((v) => v.vlan <= vid && vid <= (v.vlanEnd ?? v.vlan));
}

/** `port`'s VLANs as `bridge vlan show` prints them (`10 PVID untagged`, `20-29`). */
export function memberList(ns: Netns, port: string): string[] {
  return (ns.bridgeVlans.get(port) ?? []).map((v) => `${v.vlan}${v.vlanEnd !== undefined ? `-${v.vlanEnd}` : ''}${v.pvid ? ' PVID' : ''}${v.untagged ? ' untagged' : ''}${v.state !== undefined ? ` ${v.state}` : ''}`);
}

/** The lines of `bridge vlan show` for `port`: what decided (or, none, that it has no VLAN). */
function vlanEv(ns: Netns, port: string, only?: BridgeVlanRecord): Evidence[] {
  return (only ? [only] : (ns.bridgeVlans.get(port) ?? [])).map((v) => evidence(ns, 'bridgevlan', v.src));
}

/**
 * A VLAN's per-port STP state (`bridge -d vlan show`): only `forwarding` passes a frame on
 * (br_vlan_state_allowed; a `learning` VLAN lets a frame in to learn from, then br_handle_frame_finish drops it).
 */
const stateBlocks = (v: BridgeVlanRecord): boolean => v.state !== undefined && v.state !== 'forwarding';

export type VlanPass = { ok: true; frame: Frame; steps: Step[] } | { ok: false; action: Action };

/** A VLAN-filtering bridge on a host without the `bridgevlan` probe: say so, never guess the table. */
export function vlanTableMissing(ns: Netns, br: Iface): Action | undefined {
  if (ns.probes.has('bridgevlan')) return undefined;
  return drop('insufficient-data', { type: 'vlan-table-missing', ns: ns.name, bridge: br.name, probe: 'bridgevlan' }, br.name, [linkEv(ns, br)]);
}

/**
 * br_allowed_ingress on `port` (undefined: the host sends into the bridge, br_dev_xmit, and the
 * bridge's own VLANs decide). An untagged (or priority-tagged, VID 0) frame takes the PVID, and with
 * no PVID it is dropped; a tagged frame must be a member VLAN of the port. The frame leaves tagged
 * with its VLAN (the kernel puts the PVID in skb->vlan_tci), so the egress side can decide.
 */
export function brAllowedIngress(ns: Netns, br: Iface, port: Iface | undefined, frame: Frame): VlanPass {
  const name = port?.name ?? br.name;
  const outer = frame.vlans?.[0];
  const rest = frame.vlans?.slice(1) ?? [];
  const filtered = (why: 'no-pvid' | 'not-member' | 'state', vlan?: number, rec?: BridgeVlanRecord): VlanPass => ({
    ok: false,
    action: drop('vlan-filtered', { type: 'vlan-filtered', ns: ns.name, bridge: br.name, port: name, at: 'ingress', why, ...(vlan !== undefined ? { vlan } : {}), ...(rec?.state !== undefined ? { state: rec.state } : {}), member: memberList(ns, name) }, name, vlanEv(ns, name)),
  });
  if (outer === undefined || outer === 0) {
    const pvid = ns.bridgeVlans.get(name)?.find((v) => v.pvid);
    if (!pvid) return filtered('no-pvid');
    if (stateBlocks(pvid)) return filtered('state', pvid.vlan, pvid);
    const s = step('vlan', { type: 'vlan-ingress', ns: ns.name, bridge: br.name, port: name, vlan: pvid.vlan, how: 'pvid' }, vlanEv(ns, name, pvid));
    return { ok: true, frame: { ...frame, vlans: [pvid.vlan, ...rest] }, steps: [s] };
  }
  const rec = portVlan(ns, name, outer);
  if (!rec) return filtered('not-member', outer);
  if (stateBlocks(rec)) return filtered('state', outer, rec);
  return { ok: true, frame, steps: [step('vlan', { type: 'vlan-ingress', ns: ns.name, bridge: br.name, port: name, vlan: outer, how: 'tagged' }, vlanEv(ns, name, rec))] };
}

/** Whether `port` passes a frame of VLAN `vid` out (br_allowed_egress): a member, in forwarding state. */
export function allowedEgress(ns: Netns, port: string, vid: number): boolean {
  const rec = portVlan(ns, port, vid);
  return rec !== undefined && !stateBlocks(rec);
}

/**
 * br_allowed_egress then br_handle_vlan on the way out of `port` (`at` 'up': the bridge itself, in
 * br_pass_frame_up): a port that is not a member of the frame's VLAN drops it; an Egress Untagged
 * VLAN leaves without its tag, any other with it.
 */
export function brAllowedEgress(ns: Netns, br: Iface, port: string, frame: Frame, at: 'egress' | 'up'): VlanPass {
  const vid = frame.vlans?.[0] ?? 0;
  const rec = portVlan(ns, port, vid);
  if (!rec || stateBlocks(rec)) {
    const d = { type: 'vlan-filtered' as const, ns: ns.name, bridge: br.name, port, at, why: rec ? ('state' as const) : ('not-member' as const), vlan: vid, ...(rec?.state !== undefined ? { state: rec.state } : {}), member: memberList(ns, port) };
    return { ok: false, action: drop('vlan-filtered', d, port, vlanEv(ns, port)) };
  }
  const s = step('vlan', { type: 'vlan-egress', ns: ns.name, bridge: br.name, port, vlan: vid, tagged: !rec.untagged }, vlanEv(ns, port, rec));
  return { ok: true, frame: rec.untagged ? popped(frame) : frame, steps: [s] };
}

/** The frame without its outer tag; `vlans` left out when none remain. */
function popped(frame: Frame): Frame {
  const rest = frame.vlans!.slice(1);
  const { vlans: _, ...f } = frame;
  return rest.length ? { ...f, vlans: rest } : f;
}

/** The VLAN devices whose lower device is `dev`. */
function vlanDevices(ns: Netns, dev: Iface): Iface[] {
  return [...ns.ifaces.values()].filter((i) => i.type === 'vlan' && i.link?.link === dev.name && i.link.vlan !== undefined);
}

/**
 * vlan_do_receive for a tagged frame on `dev`: the VLAN device for the outer tag takes it, the tag
 * popped, and the frame is received again on that device. With none, a bridge port hands the frame to
 * its bridge as it is (undefined: go on); anywhere else the frame is PACKET_OTHERHOST, dropped by
 * ip_rcv: a tag mismatch.
 */
export function vlanDoReceive(ns: Netns, dev: Iface, frame: Frame): Action | undefined {
  const id = frame.vlans?.[0];
  if (id === undefined) return undefined;
  const devices = vlanDevices(ns, dev);
  const vdev = devices.find((v) => v.link!.vlan!.id === id);
  if (vdev) {
    const s = step('vlan', { type: 'vlan-pop', ns: ns.name, dev: vdev.name, parent: dev.name, id }, [linkEv(ns, vdev)]);
    return next({ stage: 'netif_receive_skb', ns, dev: vdev, frame: popped(frame) }, { steps: [s] });
  }
  if (dev.master !== undefined) return undefined;
  // An upper device of `dev` whose kind the capture does not show (`ip link` without -d) may be the one.
  const unknown = [...ns.ifaces.values()].filter((i) => i.link?.link === dev.name && i.link.type === undefined).map((i) => i.name);
  const d = { type: 'vlan-no-dev' as const, ns: ns.name, dev: dev.name, id, devices: devices.map((v) => ({ dev: v.name, id: v.link!.vlan!.id })), ...(unknown.length ? { unknown } : {}) };
  return drop(unknown.length ? 'insufficient-data' : 'wrong-destination', d, dev.name, [linkEv(ns, dev), ...devices.map((v) => linkEv(ns, v))]);
}

/**
 * vlan_dev_hard_start_xmit: the VLAN device pushes its tag (outermost) and queues the frame on its
 * lower device (dev_queue_xmit again). Its own MTU was checked by ip_finish_output like any device's.
 */
export function vlanDevXmit(ns: Netns, dev: Iface, frame: Frame): Action {
  const parent = dev.link?.link;
  const lower = parent !== undefined ? ns.ifaces.get(parent) : undefined;
  const id = dev.link?.vlan?.id;
  if (!lower || id === undefined) return drop('insufficient-data', { type: 'vlan-parent-unknown', ns: ns.name, dev: dev.name, ...(parent !== undefined ? { parent } : {}) }, dev.name, [linkEv(ns, dev)]);
  const protocol = dev.link?.vlan?.protocol;
  const s = step('vlan', { type: 'vlan-push', ns: ns.name, dev: dev.name, parent: lower.name, id, ...(protocol !== undefined && protocol !== '802.1Q' ? { protocol } : {}) }, [linkEv(ns, dev)]);
  return next({ stage: 'dev_queue_xmit', ns, dev: lower, frame: { ...frame, vlans: [id, ...(frame.vlans ?? [])] } }, { steps: [s] });
}
