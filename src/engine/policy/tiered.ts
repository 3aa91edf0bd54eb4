// Tiered cluster policies: rules with an action (Allow, Deny, Pass) that are read in order and of
// which the first that matches decides, before NetworkPolicy (tier `admin`) or after it (tier
// `baseline`). AdminNetworkPolicy and BaselineAdminNetworkPolicy (policy.networking.k8s.io/v1alpha1)
// are read into this one shape; a newer kind with the same two tiers (ClusterNetworkPolicy, whose
// `tier` field says Admin or Baseline) is another reader producing `TieredPolicy` values, and the
// evaluation below stays as it is.
// The capture keeps these objects loosely (capture/kubernetes.ts): they are validated here as the
// API server would, and one that does not fit is left out with a warning per problem, naming its path.
import { sourceOf, type KubeAdminPolicy } from '../../capture/kubernetes';
import type { Prefix } from '../../net/addr';
import type { Cluster, PodEntry } from './cluster';
import { portMatches, readCidr, type Flow, type FlowEnd, type Observations, type PortEntry } from './flow';
import { readSelector, show, type Selector } from './selector';
import type { Direction, PolicyWarning, Protocol, TierRuleRef } from './types';

export type TierName = 'admin' | 'baseline';
export type Action = 'Allow' | 'Deny' | 'Pass';

export type Subject = { kind: 'namespaces'; namespaces: Selector } | { kind: 'pods'; namespaces: Selector; pods: Selector };

export type TieredPeer =
  | { index: number; kind: 'namespaces'; namespaces: Selector }
  | { index: number; kind: 'pods'; namespaces: Selector; pods: Selector }
  | { index: number; kind: 'nodes'; nodes: Selector }
  | { index: number; kind: 'networks'; networks: Prefix[] };

export interface TieredRule {
  index: number;
  name?: string;
  action: Action;
  peers: TieredPeer[];
  /** Undefined: every port. */
  ports?: PortEntry[];
}

export interface TieredPolicy {
  tier: TierName;
  kind: string;
  name: string;
  /** Lower first within the tier; undefined for a baseline (there is one). */
  priority?: number;
  subject: Subject;
  ingress: TieredRule[];
  egress: TieredRule[];
  source: string;
}

// ---- reading AdminNetworkPolicy / BaselineAdminNetworkPolicy ---------------------------------------------

type Warn = (w: PolicyWarning) => void;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Exactly one of the given keys is set: the API's one-of unions (subject, peers, ports). */
function oneOf(o: Record<string, unknown>, keys: readonly string[], path: string, what: string, warn: Warn): string | undefined {
  const set = keys.filter((k) => o[k] !== undefined);
  if (set.length === 1) return set[0];
  warn({ path, message: set.length ? `${what} sets ${set.join(' and ')}; exactly one of ${keys.join(', ')} is allowed` : `${what} needs exactly one of ${keys.join(', ')}, got ${show(o)}` });
  return undefined;
}

function readNamespacedPod(raw: unknown, path: string, warn: Warn): { namespaces: Selector; pods: Selector } | undefined {
  if (!isObject(raw)) {
    warn({ path, message: `expected { namespaceSelector, podSelector }, got ${show(raw)}` });
    return undefined;
  }
  if (raw.namespaceSelector === undefined) warn({ path: `${path}.namespaceSelector`, message: 'required (use {} for every namespace)' });
  if (raw.podSelector === undefined) warn({ path: `${path}.podSelector`, message: 'required (use {} for every pod)' });
  if (raw.namespaceSelector === undefined || raw.podSelector === undefined) return undefined;
  const namespaces = readSelector(raw.namespaceSelector, `${path}.namespaceSelector`, warn);
  const pods = readSelector(raw.podSelector, `${path}.podSelector`, warn);
  return namespaces && pods ? { namespaces, pods } : undefined;
}

function readSubject(raw: unknown, path: string, warn: Warn): Subject | undefined {
  if (!isObject(raw)) {
    warn({ path, message: `expected a subject ({ namespaces } or { pods }), got ${show(raw)}` });
    return undefined;
  }
  const k = oneOf(raw, ['namespaces', 'pods'], path, 'the subject', warn);
  if (k === 'namespaces') {
    const s = readSelector(raw.namespaces, `${path}.namespaces`, warn);
    return s && { kind: 'namespaces', namespaces: s };
  }
  if (k === 'pods') {
    const p = readNamespacedPod(raw.pods, `${path}.pods`, warn);
    return p && { kind: 'pods', ...p };
  }
  return undefined;
}

const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];

function readProtocol(raw: unknown, path: string, warn: Warn): Protocol | undefined {
  if (raw === undefined) return 'TCP';
  if (PROTOCOLS.includes(raw as Protocol)) return raw as Protocol;
  warn({ path, message: `expected one of TCP, UDP, SCTP, got ${show(raw)}` });
  return undefined;
}

const isPort = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;

function readPort(raw: unknown, index: number, path: string, warn: Warn): PortEntry | undefined {
  if (!isObject(raw)) {
    warn({ path, message: `expected a port ({ portNumber }, { namedPort } or { portRange }), got ${show(raw)}` });
    return undefined;
  }
  const k = oneOf(raw, ['portNumber', 'namedPort', 'portRange'], path, 'a port', warn);
  if (k === 'namedPort') {
    if (typeof raw.namedPort === 'string' && raw.namedPort) return { index, name: raw.namedPort };
    warn({ path: `${path}.namedPort`, message: `expected a port name, got ${show(raw.namedPort)}` });
    return undefined;
  }
  if (k === 'portNumber') {
    const pn = raw.portNumber;
    if (!isObject(pn) || !isPort(pn.port)) {
      warn({ path: `${path}.portNumber.port`, message: `expected a port between 1 and 65535, got ${show(isObject(pn) ? pn.port : pn)}` });
      return undefined;
    }
    const proto = readProtocol(pn.protocol, `${path}.portNumber.protocol`, warn);
    return proto && { index, proto, port: pn.port };
  }
  if (k === 'portRange') {
    const r = raw.portRange;
    if (!isObject(r) || !isPort(r.start) || !isPort(r.end) || r.end < r.start) {
      warn({ path: `${path}.portRange`, message: `expected { start, end } with 1 <= start <= end <= 65535, got ${show(r)}` });
      return undefined;
    }
    const proto = readProtocol(r.protocol, `${path}.portRange.protocol`, warn);
    return proto && { index, proto, port: r.start, endPort: r.end };
  }
  return undefined;
}

function readPeer(raw: unknown, index: number, path: string, dir: Direction, warn: Warn): TieredPeer | undefined {
  if (!isObject(raw)) {
    warn({ path, message: `expected a peer, got ${show(raw)}` });
    return undefined;
  }
  const keys = dir === 'ingress' ? ['namespaces', 'pods'] : ['namespaces', 'pods', 'nodes', 'networks'];
  const k = oneOf(raw, keys, path, `an ${dir} peer`, warn);
  switch (k) {
    case 'namespaces': {
      const s = readSelector(raw.namespaces, `${path}.namespaces`, warn);
      return s && { index, kind: 'namespaces', namespaces: s };
    }
    case 'pods': {
      const p = readNamespacedPod(raw.pods, `${path}.pods`, warn);
      return p && { index, kind: 'pods', ...p };
    }
    case 'nodes': {
      const s = readSelector(raw.nodes, `${path}.nodes`, warn);
      return s && { index, kind: 'nodes', nodes: s };
    }
    case 'networks': {
      if (!Array.isArray(raw.networks) || raw.networks.length === 0) {
        warn({ path: `${path}.networks`, message: `expected a non-empty list of CIDRs, got ${show(raw.networks)}` });
        return undefined;
      }
      const nets = raw.networks.map((c: unknown, i) => readCidr(c, `${path}.networks[${i}]`, warn));
      return nets.every((n) => n !== undefined) ? { index, kind: 'networks', networks: nets as Prefix[] } : undefined;
    }
  }
  return undefined;
}

function readRules(raw: unknown, path: string, dir: Direction, actions: readonly Action[], warn: Warn): TieredRule[] | undefined {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    warn({ path, message: `expected a list of rules, got ${show(raw)}` });
    return undefined;
  }
  const peerKey = dir === 'ingress' ? 'from' : 'to';
  let ok = true;
  const rules = raw.map((r: unknown, i): TieredRule | undefined => {
    const p = `${path}[${i}]`;
    if (!isObject(r)) {
      warn({ path: p, message: `expected a rule, got ${show(r)}` });
      return undefined;
    }
    if (!actions.includes(r.action as Action)) {
      warn({ path: `${p}.action`, message: `expected one of ${actions.join(', ')}, got ${show(r.action)}` });
      return undefined;
    }
    const rawPeers = r[peerKey];
    if (!Array.isArray(rawPeers) || rawPeers.length === 0) {
      warn({ path: `${p}.${peerKey}`, message: `expected a non-empty list of peers, got ${show(rawPeers)}` });
      return undefined;
    }
    const peers = rawPeers.map((x: unknown, j) => readPeer(x, j, `${p}.${peerKey}[${j}]`, dir, warn));
    let ports: (PortEntry | undefined)[] | undefined;
    if (r.ports !== undefined) {
      if (!Array.isArray(r.ports) || r.ports.length === 0) {
        warn({ path: `${p}.ports`, message: `expected a non-empty list of ports (leave it out for every port), got ${show(r.ports)}` });
        return undefined;
      }
      ports = r.ports.map((x: unknown, k) => readPort(x, k, `${p}.ports[${k}]`, warn));
    }
    if (!peers.every((x) => x !== undefined) || (ports && !ports.every((x) => x !== undefined))) return undefined;
    if (r.name !== undefined && typeof r.name !== 'string') {
      warn({ path: `${p}.name`, message: `expected a string, got ${show(r.name)}` });
      return undefined;
    }
    return { index: i, ...(typeof r.name === 'string' ? { name: r.name } : {}), action: r.action as Action, peers: peers as TieredPeer[], ...(ports ? { ports: ports as PortEntry[] } : {}) };
  });
  for (const r of rules) if (!r) ok = false;
  return ok ? (rules as TieredRule[]) : undefined;
}

/** Reads an AdminNetworkPolicy (tier admin, with a priority) or the BaselineAdminNetworkPolicy; undefined, with warnings, when it does not fit. */
export function readAdminPolicy(obj: KubeAdminPolicy, tier: TierName, fallbackPath: string, warn: Warn): TieredPolicy | undefined {
  const source = sourceOf(obj) ?? fallbackPath;
  const kind = tier === 'admin' ? 'AdminNetworkPolicy' : 'BaselineAdminNetworkPolicy';
  const name = obj.metadata.name;
  const leftOut = (w: PolicyWarning) => warn({ path: w.path, message: `${w.message}; ${kind} ${name} is left out` });
  if (obj.apiVersion !== undefined && !/^policy\.networking\.k8s\.io\//.test(obj.apiVersion)) {
    leftOut({ path: `${source}.apiVersion`, message: `expected policy.networking.k8s.io/v1alpha1, got ${show(obj.apiVersion)}` });
    return undefined;
  }
  if (obj.kind !== undefined && obj.kind !== kind) {
    leftOut({ path: `${source}.kind`, message: `expected ${kind}, got ${show(obj.kind)}` });
    return undefined;
  }
  const spec = obj.spec as Record<string, unknown>;
  let ok = true;
  const w: Warn = (x) => {
    ok = false;
    leftOut(x);
  };
  let priority: number | undefined;
  if (tier === 'admin') {
    const p = spec.priority;
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 1000) w({ path: `${source}.spec.priority`, message: `expected a whole number from 0 to 1000, got ${show(p)}` });
    else priority = p;
  } else if (name !== 'default') {
    w({ path: `${source}.metadata.name`, message: `the API server accepts one BaselineAdminNetworkPolicy, named "default", got ${show(name)}` });
  }
  const subject = readSubject(spec.subject, `${source}.spec.subject`, w);
  const actions: Action[] = tier === 'admin' ? ['Allow', 'Deny', 'Pass'] : ['Allow', 'Deny'];
  const ingress = readRules(spec.ingress, `${source}.spec.ingress`, 'ingress', actions, w);
  const egress = readRules(spec.egress, `${source}.spec.egress`, 'egress', actions, w);
  if (!ok || !subject || !ingress || !egress) return undefined;
  return { tier, kind, name, ...(priority !== undefined ? { priority } : {}), subject, ingress, egress, source };
}

// ---- evaluation ------------------------------------------------------------------------------------------

/** Policy applies to pods on the pod network: a host-network pod is no subject (implementations differ; notes say so). */
export function subjectSelects(s: Subject, pod: PodEntry, cluster: Cluster): boolean {
  if (pod.hostNetwork || !s.namespaces.matches(cluster.namespaceLabels(pod.namespace))) return false;
  return s.kind === 'namespaces' || s.pods.matches(pod.labels);
}

function peerMatches(peer: TieredPeer, other: FlowEnd, cluster: Cluster, seen: Observations): boolean {
  switch (peer.kind) {
    case 'namespaces':
    case 'pods': {
      const pod = other.pod;
      if (!pod || pod.hostNetwork || !peer.namespaces.matches(cluster.namespaceLabels(pod.namespace))) return false;
      return peer.kind === 'namespaces' || peer.pods.matches(pod.labels);
    }
    case 'nodes': {
      const node = other.ip && cluster.nodeWithIp(other.ip);
      return node !== undefined && peer.nodes.matches(node.labels);
    }
    case 'networks': {
      if (!other.ip || !peer.networks.some((n) => n.contains(other.ip!))) return false;
      if (other.pod && !other.pod.hostNetwork) seen.blockMatchedPod.add(other.pod.key);
      return true;
    }
  }
}

export function refOf(p: TieredPolicy, r: TieredRule, peer: number, port: number | undefined): TierRuleRef {
  return {
    tier: p.tier,
    kind: p.kind,
    policy: p.name,
    ...(p.priority !== undefined ? { priority: p.priority } : {}),
    rule: r.index,
    ...(r.name !== undefined ? { ruleName: r.name } : {}),
    action: r.action,
    peer,
    ...(port !== undefined ? { port } : {}),
  };
}

/** The first rule of this policy, in order, that matches the flow in this direction (`other` is the far end). */
export function firstMatch(p: TieredPolicy, dir: Direction, flow: Flow, cluster: Cluster, seen: Observations): TierRuleRef | undefined {
  const other = dir === 'egress' ? flow.dst : flow.src;
  for (const r of p[dir]) {
    const peer = r.peers.find((x) => peerMatches(x, other, cluster, seen));
    if (!peer) continue;
    if (!r.ports) return refOf(p, r, peer.index, undefined);
    const port = r.ports.find((x) => portMatches(x, flow, seen));
    if (port) return refOf(p, r, peer.index, port.index);
  }
  return undefined;
}
