// Kubernetes API objects in the exact JSON shapes `kubectl get -o json` prints as list items, made
// small for the Service tests: a Service (ClusterIP and ports as the API server completes them), its
// EndpointSlice (one per family), a Node.
import { readKubernetes, type KubeSection } from '../../../src/capture/kubernetes';
import { buildServiceIndex, type ServiceIndex } from '../../../src/engine/services';

export interface PortSpec {
  name?: string;
  port: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  targetPort?: number | string;
  nodePort?: number;
}

export function service(ns: string, name: string, clusterIPs: string[], ports: PortSpec[], spec: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns, uid: `uid-${ns}-${name}`, resourceVersion: '100', creationTimestamp: '2026-12-01T10:00:00Z' },
    spec: {
      clusterIP: clusterIPs[0],
      clusterIPs,
      internalTrafficPolicy: 'Cluster',
      ipFamilies: clusterIPs.map((ip) => (ip.includes(':') ? 'IPv6' : 'IPv4')),
      ipFamilyPolicy: clusterIPs.length > 1 ? 'PreferDualStack' : 'SingleStack',
      ports: ports.map((p) => ({ ...(p.name !== undefined ? { name: p.name } : {}), port: p.port, protocol: p.protocol ?? 'TCP', targetPort: p.targetPort ?? p.port, ...(p.nodePort ? { nodePort: p.nodePort } : {}) })),
      selector: { app: name },
      sessionAffinity: 'None',
      type: 'ClusterIP',
      ...spec,
    },
    status: { loadBalancer: {} },
  };
}

export interface EndpointSpec {
  ip: string;
  node?: string;
  pod?: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

export function slice(ns: string, svc: string, suffix: string, family: 'IPv4' | 'IPv6', endpoints: EndpointSpec[], ports: { name?: string; port: number; protocol?: 'TCP' | 'UDP' | 'SCTP' }[]): Record<string, unknown> {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${svc}-${suffix}`,
      namespace: ns,
      generateName: `${svc}-`,
      labels: { 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io', 'kubernetes.io/service-name': svc },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: svc, uid: `uid-${ns}-${svc}`, controller: true, blockOwnerDeletion: true }],
    },
    addressType: family,
    endpoints: endpoints.length
      ? endpoints.map((e) => ({
          addresses: [e.ip],
          conditions: { ready: e.ready ?? true, serving: e.serving ?? e.ready ?? true, terminating: e.terminating ?? false },
          ...(e.node ? { nodeName: e.node } : {}),
          ...(e.pod ? { targetRef: { kind: 'Pod', name: e.pod, namespace: ns, uid: `uid-${e.pod}` } } : {}),
        }))
      : null,
    ports: ports.map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' })),
  };
}

export function node(name: string, ips: string[]): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } }, spec: {}, status: { addresses: [...ips.map((address) => ({ type: 'InternalIP', address })), { type: 'Hostname', address: name }] } };
}

export function section(lists: { services?: unknown[]; endpointSlices?: unknown[]; nodes?: unknown[]; pods?: unknown[] }): KubeSection {
  const k = readKubernetes(lists);
  if (k.issues.length) throw new Error(`test objects do not validate: ${JSON.stringify(k.issues)}`);
  return k;
}

export const indexOf = (lists: Parameters<typeof section>[0]): ServiceIndex => buildServiceIndex(section(lists));
