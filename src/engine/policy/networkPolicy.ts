// networking.k8s.io/v1 NetworkPolicy, compiled once and evaluated per flow, as the API reference
// defines it: a pod selected by a policy whose policyTypes name a direction is isolated for that
// direction; an isolated pod's traffic in that direction is allowed when any rule of any policy that
// selects it allows it (rules are only ever allows, and they union). A rule matches when one of its
// peers matches the other end (no peer list, or an empty one: every peer) and one of its port entries
// matches the flow (no port list, or an empty one: every port).
// A peer is an ipBlock (the other end's address in the CIDR, outside every `except`) or selectors:
// podSelector alone means pods of the policy's own namespace, namespaceSelector alone every pod of
// the matching namespaces, both together pods matching both (AND); separate peers are ORed.
import { sourceOf, type KubeLabelSelector, type KubeNetworkPolicy } from '../../capture/kubernetes';
import type { Cluster, PodEntry } from './cluster';
import { blockContains, portMatches, type Block, type Flow, type FlowEnd, type Observations, type PortEntry } from './flow';
import { compileSelector, type Selector } from './selector';
import type { AllowedBy, Direction, PolicyWarning } from './types';
import { Prefix } from '../../net/addr';

type Peer =
  | { index: number; kind: 'block'; block: Block }
  /** `namespaces` undefined: the policy's own namespace. */
  | { index: number; kind: 'selector'; namespaces?: Selector; pods: Selector };

export interface NpRule {
  index: number;
  /** Undefined: every peer (the rule has no `from`/`to`, or an empty one). */
  peers?: Peer[];
  /** Undefined: every port (no `ports`, or an empty list). */
  ports?: PortEntry[];
}

export interface CompiledNetworkPolicy {
  key: string;
  namespace: string;
  podSelector: Selector;
  /** Undefined when policyTypes does not name the direction (its rules, if any, are ignored as the API ignores them). */
  ingress?: NpRule[];
  egress?: NpRule[];
  source: string;
}

export function compileNetworkPolicy(np: KubeNetworkPolicy, warn: (w: PolicyWarning) => void): CompiledNetworkPolicy {
  const source = sourceOf(np) ?? `networkPolicy ${np.metadata.namespace}/${np.metadata.name}`;
  const types = new Set(np.spec.policyTypes);
  checkSelector(np.spec.podSelector, `${source}.spec.podSelector`, warn);
  const out: CompiledNetworkPolicy = { key: `${np.metadata.namespace}/${np.metadata.name}`, namespace: np.metadata.namespace, podSelector: compileSelector(np.spec.podSelector), source };
  if (types.has('Ingress')) out.ingress = np.spec.ingress.map((r, i) => compileRule(i, r.from, r.ports, `${source}.spec.ingress[${i}]`, 'from', warn));
  if (types.has('Egress')) out.egress = np.spec.egress.map((r, i) => compileRule(i, r.to, r.ports, `${source}.spec.egress[${i}]`, 'to', warn));
  if (!types.has('Ingress') && np.spec.ingress.length) warn({ path: `${source}.spec.ingress`, message: 'policyTypes does not name Ingress: these ingress rules are ignored, as the API ignores them' });
  if (!types.has('Egress') && np.spec.egress.length) warn({ path: `${source}.spec.egress`, message: 'policyTypes does not name Egress: these egress rules are ignored, as the API ignores them' });
  return out;
}

type RawPeer = NonNullable<KubeNetworkPolicy['spec']['ingress'][number]['from']>[number];
type RawPort = NonNullable<KubeNetworkPolicy['spec']['ingress'][number]['ports']>[number];

function compileRule(index: number, peers: RawPeer[] | undefined, ports: RawPort[] | undefined, path: string, peerKey: 'from' | 'to', warn: (w: PolicyWarning) => void): NpRule {
  const rule: NpRule = { index };
  if (peers?.length) rule.peers = peers.flatMap((p, j) => compilePeer(p, j, `${path}.${peerKey}[${j}]`, warn));
  if (ports?.length) rule.ports = ports.flatMap((p, k) => compilePort(p, k, `${path}.ports[${k}]`, warn));
  return rule;
}

function compilePeer(p: RawPeer, index: number, path: string, warn: (w: PolicyWarning) => void): Peer[] {
  const selectors = p.podSelector !== undefined || p.namespaceSelector !== undefined;
  if (p.ipBlock && selectors) {
    warn({ path, message: 'a peer may have an ipBlock or selectors, not both (the API server refuses it); this peer matches nothing' });
    return [];
  }
  if (p.ipBlock) {
    // Validated as CIDRs by the capture reader; masked here (10.0.0.1/24 is 10.0.0.0/24).
    const cidr = Prefix.must(p.ipBlock.cidr).masked();
    const except = p.ipBlock.except.map((x) => Prefix.must(x).masked());
    except.forEach((x, i) => {
      if (!cidr.covers(x)) warn({ path: `${path}.ipBlock.except[${i}]`, message: `${x.toString()} is not inside the block's cidr ${cidr.toString()} (the API server refuses it); it excludes nothing` });
    });
    return [{ index, kind: 'block', block: { cidr, except } }];
  }
  if (!selectors) {
    warn({ path, message: 'a peer needs podSelector, namespaceSelector or ipBlock (the API server refuses an empty one); this peer matches nothing' });
    return [];
  }
  if (p.podSelector) checkSelector(p.podSelector, `${path}.podSelector`, warn);
  if (p.namespaceSelector) checkSelector(p.namespaceSelector, `${path}.namespaceSelector`, warn);
  return [{ index, kind: 'selector', ...(p.namespaceSelector ? { namespaces: compileSelector(p.namespaceSelector) } : {}), pods: p.podSelector ? compileSelector(p.podSelector) : compileSelector({ matchLabels: {}, matchExpressions: [] }) }];
}

/** What the API server refuses in a selector and the capture reader lets through: warned, evaluated as written. */
function checkSelector(sel: KubeLabelSelector, path: string, warn: (w: PolicyWarning) => void): void {
  sel.matchExpressions.forEach((e, i) => {
    const needsValues = e.operator === 'In' || e.operator === 'NotIn';
    if (needsValues && e.values.length === 0) warn({ path: `${path}.matchExpressions[${i}].values`, message: `${e.operator} needs at least one value (the API server refuses it); evaluated as written: ${e.operator === 'In' ? 'matches nothing' : 'matches everything'}` });
    if (!needsValues && e.values.length > 0) warn({ path: `${path}.matchExpressions[${i}].values`, message: `${e.operator} takes no values (the API server refuses them); the values are ignored` });
  });
}

function compilePort(p: RawPort, index: number, path: string, warn: (w: PolicyWarning) => void): PortEntry[] {
  if (p.port === undefined) {
    if (p.endPort !== undefined) {
      warn({ path: `${path}.endPort`, message: 'endPort needs a numeric port (the API server refuses it); this port entry matches nothing' });
      return [];
    }
    return [{ index, proto: p.protocol }];
  }
  if (typeof p.port === 'string') {
    if (p.endPort !== undefined) {
      warn({ path: `${path}.endPort`, message: `endPort needs a numeric port, not the name "${p.port}" (the API server refuses it); this port entry matches nothing` });
      return [];
    }
    if (/^\d+$/.test(p.port)) {
      // IntOrString: "5432" in quotes is a name to the API, and a port name needs a letter (IANA_SVC_NAME).
      warn({ path: `${path}.port`, message: `"${p.port}" is a quoted number, which the API reads as a port name and refuses (a name needs a letter); write ${p.port} without quotes. This port entry matches nothing` });
      return [];
    }
    return [{ index, proto: p.protocol, name: p.port }];
  }
  if (p.port < 1) {
    warn({ path: `${path}.port`, message: `expected a port between 1 and 65535, got ${p.port}; this port entry matches nothing` });
    return [];
  }
  if (p.endPort !== undefined && p.endPort < p.port) {
    warn({ path: `${path}.endPort`, message: `endPort ${p.endPort} is below port ${p.port} (the API server refuses it); this port entry matches nothing` });
    return [];
  }
  return [{ index, proto: p.protocol, port: p.port, ...(p.endPort !== undefined ? { endPort: p.endPort } : {}) }];
}

function peerMatches(peer: Peer, policyNamespace: string, other: FlowEnd, cluster: Cluster, seen: Observations): boolean {
  if (peer.kind === 'block') {
    if (!other.ip || !blockContains(peer.block, other.ip)) return false;
    if (other.pod && !other.pod.hostNetwork) seen.blockMatchedPod.add(other.pod.key);
    return true;
  }
  // Selectors select pods; a host-network pod's traffic carries its node's address and is not matched by them here.
  const pod = other.pod;
  if (!pod || pod.hostNetwork) return false;
  if (peer.namespaces ? !peer.namespaces.matches(cluster.namespaceLabels(pod.namespace)) : pod.namespace !== policyNamespace) return false;
  return peer.pods.matches(pod.labels);
}

/** Every (rule, peer, port) of these policies that allows the flow in this direction; `other` is the far end. */
export function allowingRules(policies: readonly CompiledNetworkPolicy[], dir: Direction, flow: Flow, cluster: Cluster, seen: Observations): AllowedBy[] {
  const other = dir === 'egress' ? flow.dst : flow.src;
  const out: AllowedBy[] = [];
  for (const np of policies) {
    const rules = np[dir];
    if (!rules) continue;
    for (const rule of rules) {
      const peers = rule.peers ? rule.peers.filter((p) => peerMatches(p, np.namespace, other, cluster, seen)) : undefined;
      if (peers && peers.length === 0) continue;
      const ports = rule.ports ? rule.ports.filter((p) => portMatches(p, flow, seen)) : undefined;
      if (ports && ports.length === 0) continue;
      for (const peer of peers ?? [undefined]) {
        for (const port of ports ?? [undefined]) {
          out.push({
            policy: np.key,
            rule: rule.index,
            ...(peer ? { peer: peer.index } : { anyPeer: true as const }),
            ...(port ? { port: port.index } : { anyPort: true as const }),
            ...(port?.name !== undefined ? { portName: port.name } : {}),
          });
        }
      }
    }
  }
  return out;
}

/** The NetworkPolicies that select this pod for a direction (isolate it), in capture order. */
export function selecting(policies: readonly CompiledNetworkPolicy[], pod: PodEntry, dir: Direction): CompiledNetworkPolicy[] {
  return policies.filter((np) => np[dir] !== undefined && np.podSelector.matches(pod.labels));
}
