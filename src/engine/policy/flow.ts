// One flow's two ends, and the pieces every kind of policy rule shares: does a port entry match the
// flow's protocol and port (a named port resolved on the destination pod), does an address fall in a
// CIDR block minus its exceptions.
import { Prefix, type Addr } from '../../net/addr';
import type { NodeEntry, PodEntry } from './cluster';
import type { FlowProtocol, PolicyWarning, Protocol } from './types';

export interface FlowEnd {
  given: string;
  /** The pod at this end (also a host-network pod, which policy does not apply to). */
  pod?: PodEntry;
  /** The address the flow uses at this end (a pod may have none, or none of the flow's family). */
  ip?: Addr;
  /** The node whose address this is. */
  node?: NodeEntry;
}

export interface Flow {
  src: FlowEnd;
  dst: FlowEnd;
  proto: FlowProtocol;
  port?: number;
}

/** What the evaluation ran into that the verdict alone does not say (becomes notes). */
export interface Observations {
  /** A rule had ports and the flow has none. */
  portless: boolean;
  /** A named port could not be resolved: the destination is not a pod. */
  namedPortNoPod: Set<string>;
  /** An ipBlock (or a network peer) matched a pod's own address. */
  blockMatchedPod: Set<string>;
}

export const newObservations = (): Observations => ({ portless: false, namedPortNoPod: new Set(), blockMatchedPod: new Set() });

/** A port entry of any policy kind: a number (with an optional range end), a name, or none (every port of the protocol). */
export interface PortEntry {
  index: number;
  /** Undefined for an AdminNetworkPolicy's namedPort: the protocol is the named container port's. */
  proto?: Protocol;
  port?: number;
  endPort?: number;
  name?: string;
}

export function portMatches(e: PortEntry, flow: Flow, seen: Observations): boolean {
  // No port entry names ICMP: only a rule without ports (no entry to match) lets it through.
  if (flow.proto === 'ICMP') return false;
  if (e.proto !== undefined && e.proto !== flow.proto) return false;
  if (e.port === undefined && e.name === undefined) return true;
  if (flow.port === undefined) {
    seen.portless = true;
    return false;
  }
  if (e.name !== undefined) {
    const pod = flow.dst.pod;
    if (!pod) {
      seen.namedPortNoPod.add(e.name);
      return false;
    }
    return pod.ports.some((p) => p.name === e.name && p.proto === flow.proto && p.port === flow.port);
  }
  return e.endPort !== undefined ? flow.port >= e.port! && flow.port <= e.endPort : flow.port === e.port;
}

/** A CIDR block with exceptions, masked (`10.0.0.1/24` is `10.0.0.0/24`, as the API's consumers read it). */
export interface Block {
  cidr: Prefix;
  except: Prefix[];
}

export function blockContains(b: Block, a: Addr): boolean {
  return b.cidr.contains(a) && !b.except.some((x) => x.contains(a));
}

/** Reads a CIDR the way implementations do: host bits masked. Undefined (with a warning) when it is no CIDR. */
export function readCidr(raw: unknown, path: string, warn: (w: PolicyWarning) => void): Prefix | undefined {
  if (typeof raw !== 'string' || !raw.includes('/')) {
    warn({ path, message: `expected a CIDR such as 10.0.0.0/8 or fd00::/64, got ${JSON.stringify(raw)?.slice(0, 80) ?? 'nothing'}` });
    return undefined;
  }
  const p = Prefix.parse(raw);
  if (!p.ok) {
    warn({ path, message: p.error });
    return undefined;
  }
  return p.value.masked();
}

/** A peer end's identity for notes: the pod's name, or the address. */
export function endName(e: FlowEnd): string {
  return e.pod ? e.pod.key : (e.ip?.toString() ?? e.given);
}
