// The value in an evidence line that decided a step (the route's prefix, the neighbour's MAC, the
// FDB entry's MAC and VTEP, the sysctl's value, ...), taken from the step's typed detail: the
// details pane marks it. What the detail does not name is not guessed from the line's text.
import type { StepDetail } from '../src/shared/protocol';

/** A part of a line: marked (the deciding value) or not. */
export interface Segment {
  text: string;
  mark: boolean;
}

/** The values that decided a step, as they appear in its evidence line. */
export function decidingValues(d: StepDetail | undefined): string[] {
  if (!d) return [];
  switch (d.type) {
    case 'route':
    case 'route-unusable':
      return [d.route.dst];
    case 'neigh':
      return [d.lladdr, d.state];
    case 'neigh-failed':
      return [d.state];
    case 'arp':
      return d.answer.mac !== undefined ? [d.answer.mac] : [];
    case 'fdb-hit':
      return [d.mac, d.port];
    case 'fdb-local':
    case 'bridge-own-mac':
      return [d.mac];
    case 'vxlan-fdb':
      return [d.mac, d.vtep];
    case 'vxlan-remote':
      return [d.remote];
    case 'vxlan-encap':
      return [`id ${d.vni}`, `dstport ${d.port}`];
    case 'vxlan-decap':
      return [`id ${d.vni}`, `dstport ${d.port}`];
    case 'mtu':
    case 'veth-too-big':
      return [`mtu ${d.mtu}`];
    case 'rule':
      return [`${d.priority}:`];
    case 'rule-reject':
      return [`${d.priority}:`];
    case 'deliver':
      return [d.dst];
    case 'dev-down':
      return [d.state === 'down' ? 'state DOWN' : 'NO-CARRIER'];
    case 'wire':
      return [d.dev];
    case 'ipip-encap':
      return [`remote ${d.remote}`];
    case 'wg-encap':
      return [d.endpoint];
    default:
      return [];
  }
}

/** The sysctl a step read, when its detail names one (its value is what decided). */
function sysctlName(d: StepDetail | undefined): string | null {
  if (!d) return null;
  if (d.type === 'forward' || d.type === 'forwarding-disabled') return d.sysctl;
  return null;
}

const WORD = /[0-9A-Za-z_.:-]/;

/** Where `value` stands alone in `line` (not inside a longer address or name), or -1. */
function findToken(line: string, value: string): number {
  const wordAt = (i: number) => i >= 0 && i < line.length && WORD.test(line[i]!);
  for (let at = line.indexOf(value); at >= 0; at = line.indexOf(value, at + 1)) {
    const end = at + value.length;
    // "10.244.1.3" in "10.244.1.3/24" stands alone; in "10.244.1.30" it does not.
    const endsWord = WORD.test(value[value.length - 1]!) && !value.endsWith(':');
    const openAfter = !endsWord || !wordAt(end) || (line[end] === '.' && !wordAt(end + 1));
    if (!wordAt(at - 1) && openAfter) return at;
  }
  return -1;
}

/**
 * A line cut into segments with the deciding values of `d` marked (each value's first standalone
 * occurrence). A sysctl line ("net.ipv4.conf.cni0.forwarding = 1") has its value marked when it is
 * the sysctl the detail names (iproute's "/" for a "." in an interface name is the same key).
 */
export function markDeciding(line: string, d: StepDetail | undefined): Segment[] {
  const spans: [number, number][] = [];
  const name = sysctlName(d);
  if (name !== null) {
    const m = /^\s*([^\s=]+)\s*=\s*/.exec(line);
    if (m && m[1]!.replace(/\//g, '.') === name && m[0].length < line.length) spans.push([m[0].length, line.trimEnd().length]);
  }
  for (const v of decidingValues(d)) {
    if (!v) continue;
    const at = findToken(line, v);
    if (at >= 0 && !spans.some(([a, b]) => at < b && at + v.length > a)) spans.push([at, at + v.length]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  const out: Segment[] = [];
  let pos = 0;
  for (const [a, b] of spans) {
    if (a > pos) out.push({ text: line.slice(pos, a), mark: false });
    out.push({ text: line.slice(a, b), mark: true });
    pos = b;
  }
  if (pos < line.length || out.length === 0) out.push({ text: line.slice(pos), mark: false });
  return out;
}
