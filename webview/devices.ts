// What the packet passes inside each host and what its headers are on each wire, read from the hops'
// `in`/`out` and the steps' typed details only (never a sentence). A device is listed once, in the
// order the packet meets it; a MAC or address the trace does not carry is left out, never made up.
import type { Hop, Step, StepDetail } from '../src/shared/protocol';
import { isDecap, isEncap, tunnelHeader, type TunnelHeader } from './tunnels';

export type DeviceKind = 'bridge' | 'vxlan' | 'ipip' | 'wireguard' | 'vlan' | 'dev';

/** A vlan-push (vlan_dev_hard_start_xmit) or vlan-pop (vlan_do_receive) step's facts. */
export interface VlanStepFacts {
  type: 'vlan-push' | 'vlan-pop';
  /** The 802.1Q sub-interface (eth0.10) and its lower device (eth0). */
  dev: string;
  parent: string;
  id: number;
}

/**
 * The facts of a vlan-push or vlan-pop step, read by shape: the engine adds these detail types with
 * issue 13, and a trace from a netpath that has them must be drawn by one that does not list them yet.
 */
export function vlanStep(d: StepDetail | undefined): VlanStepFacts | null {
  if (!d) return null;
  const t: string = d.type;
  if (t !== 'vlan-push' && t !== 'vlan-pop') return null;
  const r = d as unknown as Record<string, unknown>;
  if (typeof r.dev !== 'string' || typeof r.parent !== 'string' || typeof r.id !== 'number') return null;
  return { type: t, dev: r.dev, parent: r.parent, id: r.id };
}

export interface HopDevice {
  name: string;
  kind: DeviceKind;
}

/** The devices one step names, in the order the packet meets them there. */
function stepDevices(d: StepDetail | undefined): HopDevice[] {
  if (!d) return [];
  const dev = (name: string | undefined, kind: DeviceKind = 'dev'): HopDevice[] => (name ? [{ name, kind }] : []);
  const v = vlanStep(d);
  // Egress tags on the sub-interface and hands the frame to its parent; ingress the parent gives it up.
  if (v) return v.type === 'vlan-push' ? [...dev(v.dev, 'vlan'), ...dev(v.parent)] : [...dev(v.parent), ...dev(v.dev, 'vlan')];
  switch (d.type) {
    case 'route':
      // A local route's device is where the address lives (often lo), not a device the packet crosses.
      return d.outcome === 'forward' ? dev(d.route.dev) : [];
    case 'neigh':
    case 'arp':
    case 'neigh-failed':
    case 'mtu':
    case 'wire':
    case 'veth-too-big':
    case 'dev-down':
    case 'deliver':
      return dev(d.dev);
    case 'bridge-own-mac':
      return [...dev(d.port), ...dev(d.bridge, 'bridge')];
    case 'fdb-hit':
      return [...dev(d.inPort), ...dev(d.bridge, 'bridge'), ...dev(d.port)];
    case 'fdb-local':
    case 'bridge-xmit':
    case 'bridge-down':
    case 'flood':
      return dev(d.bridge, 'bridge');
    case 'vxlan-fdb':
    case 'vxlan-remote':
    case 'vxlan-encap':
    case 'vxlan-decap':
      return dev(d.dev, 'vxlan');
    case 'ipip-encap':
    case 'ipip-decap':
      return dev(d.dev, 'ipip');
    case 'wg-encap':
    case 'wg-decap':
      return dev(d.dev, 'wireguard');
    default:
      return [];
  }
}

/**
 * The devices a packet passes in one hop, in order: the one it arrived on, those its steps name, the
 * one it left by (for a VLAN device that tagged the frame: its parent). k8s-node1 of the demo:
 * veth53842afe, cni0, flannel.1, eth0.
 */
export function hopDevices(hop: Hop): HopDevice[] {
  const out: HopDevice[] = [];
  const add = (d: HopDevice) => {
    const seen = out.find((x) => x.name === d.name);
    if (seen) {
      // A device first met as a plain name is a bridge or tunnel once a later step says so.
      if (seen.kind === 'dev' && d.kind !== 'dev') seen.kind = d.kind;
      return;
    }
    out.push({ ...d });
  };
  // A VLAN device that tags the frame hands it to its parent: the frame leaves by the parent, even
  // when it came in by it (router on a stick: eth0 -> eth0.10 -> eth0.20 -> eth0) or the hop names the
  // VLAN device as its out device.
  const pushedTo = new Map<string, string>();
  if (hop.in !== null) add({ name: hop.in, kind: 'dev' });
  for (const s of hop.steps) {
    const v = vlanStep(s.detail);
    if (v?.type === 'vlan-push') {
      add({ name: v.dev, kind: 'vlan' });
      if (out[out.length - 1]?.name !== v.parent) out.push({ name: v.parent, kind: out.find((x) => x.name === v.parent)?.kind ?? 'dev' });
      pushedTo.set(v.dev, v.parent);
      continue;
    }
    for (const d of stepDevices(s.detail)) add(d);
  }
  const leave = hop.out !== null ? (pushedTo.get(hop.out) ?? hop.out) : null;
  if (leave !== null) {
    const last = out[out.length - 1];
    if (last?.name !== leave) {
      // Leaving by a device already passed (a hairpin): it is met again at the end.
      if (out.some((x) => x.name === leave)) out.push({ name: leave, kind: out.find((x) => x.name === leave)!.kind });
      else add({ name: leave, kind: 'dev' });
    }
  }
  return out;
}

/** The packet on one wire, as far as the trace says. */
export interface WireHeaders {
  /** The packet the pods exchange (inside the tunnel, when there is one). */
  inner: { src: string | null; dst: string | null; dstMac: string | null };
  /** The outer header on a tunnelled wire. */
  outer: (TunnelHeader & { dstMac: string | null }) | null;
  /** The 802.1Q tags on the frame on this wire, outermost first, when it is tagged (absent: untagged). */
  vlans?: number[];
}

/** "VLAN 10", or stacked tags outermost first: "802.1Q 100.10". */
export function vlanLabel(vlans: readonly number[] | undefined): string {
  if (!vlans?.length) return 'untagged';
  return vlans.length === 1 ? `VLAN ${vlans[0]}` : `802.1Q ${vlans.join('.')}`;
}

/** The tooltip of a wire's VLAN label: tagged (with which tags) or untagged. */
export function vlanTitle(vlans: readonly number[] | undefined): string {
  if (!vlans?.length) return 'Untagged: the frame carries no 802.1Q tag on this wire';
  if (vlans.length === 1) return `Tagged: the frame carries the 802.1Q tag of VLAN ${vlans[0]} on this wire`;
  return `Tagged ${vlans.length} times: the frame carries 802.1Q tags ${vlans.map((v) => `VLAN ${v}`).join(', ')} on this wire (outermost first)`;
}

/** The tags on the wire a hop's frame crosses, from its wire step (the last one: the crossing it leaves by). */
function wireVlans(hop: Hop): number[] | undefined {
  for (let i = hop.steps.length - 1; i >= 0; i--) {
    const d = hop.steps[i]!.detail;
    if (d?.type === 'wire') return d.vlans?.length ? [...d.vlans] : undefined;
  }
  return undefined;
}

/** Whether a netfilter step rewrote an address in a way this function cannot follow. */
function natTo(s: Step): { kind: 'src' | 'dst'; addr: string } | null {
  const d = s.detail;
  if (d?.type !== 'netfilter' || d.step.kind !== 'rule') return null;
  const a = d.step.action;
  if (a.kind === 'dnat' || a.kind === 'redirect') return { kind: 'dst', addr: a.to.addr };
  if (a.kind === 'snat' || a.kind === 'masquerade') return { kind: 'src', addr: a.to.addr };
  return null;
}

/**
 * The headers on the wire after each hop of a path (`[i]` is the wire from hop i to hop i+1; the
 * last hop has none). Inner addresses come from the origin, the route lookups (the destination they
 * were made for), the source choice, NAT rules and decapsulation; the destination MAC from the
 * neighbour entry the hop used; the outer header from the encapsulation step. A bridge or switch
 * hop changes nothing, so what it forwards is what it received.
 */
export function pathHeaders(hops: readonly Hop[]): WireHeaders[] {
  let src: string | null = null;
  let dst: string | null = null;
  let innerMac: string | null = null;
  let outer: (TunnelHeader & { dstMac: string | null }) | null = null;
  const wires: WireHeaders[] = [];
  hops.forEach((hop, hi) => {
    hop.steps.forEach((s, si) => {
      const d = s.detail;
      if (isEncap(s)) {
        outer = { ...tunnelHeader(s, hop.steps.slice(si + 1)), dstMac: null };
        return;
      }
      if (isDecap(s)) {
        outer = null;
        if (d?.type === 'vxlan-decap' || d?.type === 'ipip-decap' || d?.type === 'wg-decap') {
          src = d.src;
          dst = d.dst;
        }
        return;
      }
      const nat = natTo(s);
      if (nat) {
        if (nat.kind === 'dst') dst = nat.addr;
        else src = nat.addr;
        return;
      }
      if (!d) return;
      // While the packet is in a tunnel, lookups and neighbours are for the outer packet.
      const forOuter = outer !== null;
      if (d.type === 'origin') {
        src = d.src ?? null;
        dst = d.dst;
      } else if (d.type === 'route' && !forOuter) dst = d.dst;
      else if (d.type === 'src') {
        if (!forOuter) src ??= d.addr;
        else if (outer && outer.outerSrc === null) outer = { ...outer, outerSrc: d.addr };
      } else if (d.type === 'neigh') {
        if (forOuter && outer) outer = { ...outer, dstMac: d.lladdr };
        else innerMac = d.lladdr;
      } else if (d.type === 'arp' && d.answer.mac !== undefined) {
        if (forOuter && outer) outer = { ...outer, dstMac: d.answer.mac };
        else innerMac = d.answer.mac;
      }
    });
    if (hi < hops.length - 1) {
      const vlans = wireVlans(hop);
      wires.push({ inner: { src, dst, dstMac: innerMac }, outer, ...(vlans ? { vlans } : {}) });
    }
  });
  return wires;
}

/** "10.244.0.3 → 10.244.1.3" with "?" for an address the trace does not give. */
export function addrPair(src: string | null, dst: string | null): string {
  return `${src ?? '?'} → ${dst ?? '?'}`;
}

/** The compact lines drawn on a wire: the inner packet, then (tunnelled) the outer one. */
export function wireHeaderLines(h: WireHeaders): { inner: string; outer: string | null } {
  const inner = `${addrPair(h.inner.src, h.inner.dst)}${h.inner.dstMac ? ` · MAC ${h.inner.dstMac}` : ''}`;
  if (!h.outer) return { inner, outer: null };
  const o = h.outer;
  const udp = o.port !== null ? ` UDP ${o.port}` : '';
  const vni = o.vni !== null ? ` VNI ${o.vni}` : '';
  return { inner, outer: `outer ${addrPair(o.outerSrc, o.outerDst)}${udp}${vni}` };
}

/** The full header lines for the details pane (the packet as it leaves the hop). */
export function headerDetails(h: WireHeaders): string[] {
  const lines = [`Inner IP ${addrPair(h.inner.src, h.inner.dst)}`, `Inner destination MAC ${h.inner.dstMac ?? 'not in the trace'}`];
  if (h.outer) {
    const o = h.outer;
    const kind = o.kind === 'vxlan' ? 'VXLAN' : o.kind === 'ipip' ? 'IPIP' : 'WireGuard';
    lines.push(`Outer IP ${addrPair(o.outerSrc, o.outerDst)}${o.port !== null ? `, UDP port ${o.port}` : ''}`);
    lines.push(`${kind}${o.dev ? ` by ${o.dev}` : ''}${o.vni !== null ? `, VNI ${o.vni}` : ''}`);
    lines.push(`Outer destination MAC ${o.dstMac ?? 'not in the trace'}`);
  }
  if (h.vlans) lines.push(h.vlans.length === 1 ? `802.1Q tag: VLAN ${h.vlans[0]}` : `802.1Q tags (outermost first): ${h.vlans.map((v) => `VLAN ${v}`).join(', ')}`);
  return lines;
}
