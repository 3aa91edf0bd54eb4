// Reads a tunnel's outer header from the engine's encapsulation step: its structured `tunnel` field
// when present, else the words the engine writes (older saved traces); anything it cannot read is
// left null rather than guessed.
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

function num(s: string | undefined): number | null {
  if (s === undefined) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * The outer header of an encapsulation step. `rest` is what follows the step in its hop: when the
 * step does not name the outer source (IPIP, WireGuard, VXLAN without `local`), the kernel's source
 * choice for the outer packet (a `src` step) or the `src` of the route that carried it is used.
 */
export function tunnelHeader(step: Step, rest: readonly Step[] = []): TunnelHeader {
  if (step.tunnel) {
    const x = step.tunnel;
    return { kind: x.kind, dev: x.dev, outerDst: x.outerDst, port: x.port ?? null, vni: x.vni ?? null, outerSrc: x.outerSrc ?? outerSource(rest) };
  }
  const t = step.text;
  const dev = /^(\S+) /.exec(t)?.[1] ?? null;
  let h: TunnelHeader;
  if (step.kind === 'vxlan-encap') {
    // "... in VXLAN (VNI 1) inside UDP to 10.4.7.22:8472 from 10.4.7.21: 50 bytes ..."
    const m = /VNI (\d+)\) inside UDP to (\S+):(\d+)(?: from (\S+?))?:\s/.exec(t);
    h = { kind: 'vxlan', dev, outerDst: m?.[2] ?? null, port: num(m?.[3]), outerSrc: m?.[4] ?? null, vni: num(m?.[1]) };
  } else if (/WireGuard/.test(t)) {
    // "... the packet is encrypted into UDP to 198.51.100.2:51820, 60 bytes ..."
    const m = /UDP to (\S+):(\d+),/.exec(t);
    h = { kind: 'wireguard', dev, outerDst: m?.[1] ?? null, port: num(m?.[2]), outerSrc: null, vni: null };
  } else {
    // "... inside a new IPv4 header to 10.0.0.2 (the tunnel's remote) ..."
    const m = /header to (\S+?)[ ,]/.exec(t);
    h = { kind: 'ipip', dev, outerDst: m?.[1] ?? null, port: null, outerSrc: null, vni: null };
  }
  if (h.outerSrc === null) h.outerSrc = outerSource(rest);
  return h;
}

function outerSource(rest: readonly Step[]): string | null {
  for (const s of rest) {
    if (s.kind === 'src') {
      const m = /picks (\S+) as the source/.exec(s.text);
      if (m) return m[1]!;
    }
    if (s.kind === 'route') {
      const m = / src (\S+)/.exec(s.evidence);
      if (m) return m[1]!;
    }
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
