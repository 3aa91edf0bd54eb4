// The Kubernetes objects a capture's `kubernetes` section holds (capture-v1: the items of each list as
// `kubectl get -o json` prints them), which API path lists each, and the plain facts the collector
// takes from Nodes and Pods. Pure: no client, no I/O; clientNode.ts and the fakes share it.
import type { NodeInfo, PodInfo, ResourceType } from './api';

export type { ResourceType };

/** A Kubernetes object in its JSON (wire) form. */
export type KubeObject = Record<string, unknown> & { metadata?: { name?: string; namespace?: string; [k: string]: unknown } };

/** What the collector lists, in the order of the capture's section. */
export const RESOURCES = {
  namespaces: { key: 'namespaces', group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', optional: true },
  nodes: { key: 'nodes', group: '', version: 'v1', kind: 'Node', plural: 'nodes', optional: false },
  pods: { key: 'pods', group: '', version: 'v1', kind: 'Pod', plural: 'pods', optional: false },
  services: { key: 'services', group: '', version: 'v1', kind: 'Service', plural: 'services', optional: true },
  endpointSlices: { key: 'endpointSlices', group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice', plural: 'endpointslices', optional: true },
  networkPolicies: { key: 'networkPolicies', group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy', plural: 'networkpolicies', optional: true },
  // The admin tiers (sig-network's network-policy-api CRDs): most clusters do not install them, so a
  // cluster that does not serve them is normal and says nothing.
  adminNetworkPolicies: { key: 'adminNetworkPolicies', group: 'policy.networking.k8s.io', version: 'v1alpha1', kind: 'AdminNetworkPolicy', plural: 'adminnetworkpolicies', optional: true, absentIsNormal: true },
  baselineAdminNetworkPolicies: { key: 'baselineAdminNetworkPolicies', group: 'policy.networking.k8s.io', version: 'v1alpha1', kind: 'BaselineAdminNetworkPolicy', plural: 'baselineadminnetworkpolicies', optional: true, absentIsNormal: true },
} as const satisfies Record<string, ResourceType>;

export type ResourceKey = keyof typeof RESOURCES;
export const RESOURCE_KEYS = Object.keys(RESOURCES) as ResourceKey[];

/** `endpointslices.discovery.k8s.io`, `pods`: the name RBAC and kubectl use. */
export function qualifiedName(r: ResourceType): string {
  return r.group ? `${r.plural}.${r.group}` : r.plural;
}

/** The cluster-wide list path: `/api/v1/pods`, `/apis/discovery.k8s.io/v1/endpointslices`. */
export function listPath(r: ResourceType): string {
  return r.group ? `/apis/${r.group}/${r.version}/${r.plural}` : `/api/${r.version}/${r.plural}`;
}

/**
 * An item of a list as `kubectl get -o json` prints it: with its apiVersion and kind (a list's items
 * have neither on the wire) and without managedFields (kubectl hides them by default).
 */
export function asKubectlItem(r: ResourceType, item: unknown): KubeObject {
  const o = (typeof item === 'object' && item !== null ? item : {}) as KubeObject;
  const meta = o.metadata && typeof o.metadata === 'object' ? { ...o.metadata } : {};
  delete meta.managedFields;
  return { apiVersion: r.group ? `${r.group}/${r.version}` : r.version, kind: r.kind, ...o, metadata: meta };
}

/** What to tell a user whose role may not list `r` cluster-wide: the verb and resource to grant. */
export function listDenied(r: ResourceType, serverMessage: string): string {
  const q = qualifiedName(r);
  return `cannot list ${q} cluster-wide (${serverMessage}): grant list on ${q} (a ClusterRole rule with apiGroups ["${r.group}"], resources ["${r.plural}"], verbs ["list"])`;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const rec = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const strMap = (v: unknown): Record<string, string> => Object.fromEntries(Object.entries(rec(v)).filter((e): e is [string, string] => typeof e[1] === 'string'));

/** A Pod's facts the collector needs (any form of the object: the wire JSON or client-node's classes). */
export function podInfoOf(p: unknown): PodInfo {
  const meta = rec(rec(p).metadata);
  const spec = rec(rec(p).spec);
  const status = rec(rec(p).status);
  const owners = arr(meta.ownerReferences).map(rec);
  const owner = owners.find((o) => o.controller === true) ?? owners[0];
  const ips = arr(status.podIPs).map((x) => str(rec(x).ip)).filter((x): x is string => x !== undefined);
  const podIP = str(status.podIP);
  if (ips.length === 0 && podIP) ips.push(podIP);
  const created = meta.creationTimestamp;
  const createdAt = created instanceof Date ? created.getTime() : typeof created === 'string' ? Date.parse(created) : undefined;
  return {
    namespace: str(meta.namespace) ?? 'default',
    name: str(meta.name) ?? '',
    nodeName: str(spec.nodeName),
    hostNetwork: spec.hostNetwork === true,
    phase: str(status.phase) ?? 'Unknown',
    podIPs: ips,
    containers: arr(spec.containers).map((c) => str(rec(c).name)).filter((x): x is string => x !== undefined),
    labels: strMap(meta.labels),
    owner: owner ? `${str(owner.kind) ?? ''}/${str(owner.name) ?? ''}` : undefined,
    createdAt: createdAt !== undefined && Number.isFinite(createdAt) ? createdAt : undefined,
  };
}

/** A Node's facts the collector needs. */
export function nodeInfoOf(n: unknown): NodeInfo {
  const meta = rec(rec(n).metadata);
  const spec = rec(rec(n).spec);
  const status = rec(rec(n).status);
  const cidrs = arr(spec.podCIDRs).map(str).filter((x): x is string => x !== undefined);
  const podCIDR = str(spec.podCIDR);
  return {
    name: str(meta.name) ?? '',
    internalIPs: arr(status.addresses).map(rec).filter((a) => a.type === 'InternalIP').map((a) => str(a.address)).filter((x): x is string => x !== undefined),
    podCIDRs: cidrs.length ? cidrs : podCIDR ? [podCIDR] : [],
    annotations: strMap(meta.annotations),
    labels: strMap(meta.labels),
    taints: arr(spec.taints).map(rec).map((t) => ({ key: str(t.key) ?? '', effect: str(t.effect) ?? '', ...(str(t.value) !== undefined ? { value: str(t.value)! } : {}) })),
    ready: arr(status.conditions).map(rec).some((c) => c.type === 'Ready' && c.status === 'True'),
  };
}
