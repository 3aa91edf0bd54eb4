// Reads a tunnel's outer header from the engine's encapsulation step: its `tunnel` field and typed
// `detail` (never its sentence). The outer source, when the step does not name it, is the kernel's
// source choice for the outer packet (the `src` step after it) or the `src` of the route that carried
// it. What a trace does not say (one saved by netpath 0.1 without details) is left null, not guessed.
import type { Hop, Step } from '../src/shared/protocol';

export type TunnelKind = 'vxlan' | 'ipip' | 'wireguard';

export interface TunnelHeader {
  kind: TunnelKind;
  /** The encapsulating device, e.g. flannel.1. */
  dev: string | null;
  outerSrc: string | null;
  outerDst: string | null;
  /** UDP destination port (VXLAN, WireGuard). */
  port: number | null;
  vni: number | null;
}

export const isEncap = (s: Step): boolean => s.kind === 'vxlan-encap' || s.kind === 'tunnel-encap';
export const isDecap = (s: Step): boolean => s.kind === 'vxlan-decap' || s.kind === 'tunnel-decap';

/** The outer header of an encapsulation step; `rest` is what follows it in its hop. */
export function tunnelHeader(step: Step, rest: readonly Step[] = []): TunnelHeader {
  const h = fromStep(step);
  if (h.outerSrc === null) h.outerSrc = outerSource(rest);
  return h;
}

function fromStep(step: Step): TunnelHeader {
  if (step.tunnel) {
    const x = step.tunnel;
    return { kind: x.kind, dev: x.dev, outerDst: x.outerDst, port: x.port ?? null, vni: x.vni ?? null, outerSrc: x.outerSrc ?? null };
  }
  const d = step.detail;
  switch (d?.type) {
    case 'vxlan-encap':
      return { kind: 'vxlan', dev: d.dev, outerDst: d.vtep, port: d.port, vni: d.vni, outerSrc: d.local ?? null };
    case 'ipip-encap':
      return { kind: 'ipip', dev: d.dev, outerDst: d.remote, port: null, vni: null, outerSrc: null };
    case 'wg-encap':
      return { kind: 'wireguard', dev: d.dev, outerDst: d.endpoint, port: d.port, vni: null, outerSrc: null };
    default:
      return { kind: step.kind === 'vxlan-encap' ? 'vxlan' : 'ipip', dev: null, outerDst: null, port: null, vni: null, outerSrc: null };
  }
}

function outerSource(rest: readonly Step[]): string | null {
  for (const s of rest) {
    const d = s.detail;
    if (d?.type === 'src') return d.addr;
    if (d?.type === 'route' && d.route.prefsrc !== undefined) return d.route.prefsrc;
    if (isEncap(s) || s.kind === 'underlay' || s.kind === 'veth') break;
  }
  return null;
}

const KIND_NAME: Record<TunnelKind, string> = { vxlan: 'VXLAN', ipip: 'IPIP', wireguard: 'WireGuard' };

/** "VXLAN VNI 1  10.4.7.21 → 10.4.7.22:8472" */
export function tunnelLabel(h: TunnelHeader): string {
  const name = h.kind === 'vxlan' && h.vni !== null ? `VXLAN VNI ${h.vni}` : KIND_NAME[h.kind];
  const dst = h.outerDst === null ? '?' : h.port !== null ? `${h.outerDst.includes(':') ? `[${h.outerDst}]` : h.outerDst}:${h.port}` : h.outerDst;
  return `${name}  ${h.outerSrc ?? '?'} → ${dst}`;
}

/** Where in a hop the packet is encapsulated or decapsulated, in step order. */
export function tunnelEvents(hop: Hop): { at: number; kind: 'encap' | 'decap'; header?: TunnelHeader }[] {
  const out: { at: number; kind: 'encap' | 'decap'; header?: TunnelHeader }[] = [];
  hop.steps.forEach((s, i) => {
    if (isEncap(s)) out.push({ at: i, kind: 'encap', header: tunnelHeader(s, hop.steps.slice(i + 1)) });
    else if (isDecap(s)) out.push({ at: i, kind: 'decap' });
  });
  return out;
}
