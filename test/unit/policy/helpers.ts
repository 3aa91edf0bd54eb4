// Small Kubernetes objects for policy tests, written as manifests (the capture reader defaults them as
// the API server would), and a runner that evaluates a flow on them.
import { readKubernetes } from '../../../src/capture/kubernetes';
import { evaluatePolicy, type PolicyRequest, type PolicyResult } from '../../../src/engine/policy';

export type Obj = Record<string, unknown>;

export const ns = (name: string, labels: Record<string, string> = {}): Obj => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });

export interface PodOpts {
  labels?: Record<string, string>;
  ips?: string[];
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  hostNetwork?: boolean;
  phase?: string;
  node?: string;
}

export function pod(key: string, o: PodOpts = {}): Obj {
  const [namespace, name] = key.split('/') as [string, string];
  const ips = o.ips ?? [];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: o.labels ?? {} },
    spec: { nodeName: o.node ?? 'node1', hostNetwork: o.hostNetwork ?? false, containers: [{ name: 'c', ports: o.ports ?? [] }] },
    status: { phase: o.phase ?? 'Running', ...(ips.length ? { podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) } : {}) },
  };
}

export const np = (key: string, spec: Obj): Obj => {
  const [namespace, name] = key.split('/') as [string, string];
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec };
};

export const anp = (name: string, spec: Obj): Obj => ({ apiVersion: 'policy.networking.k8s.io/v1alpha1', kind: 'AdminNetworkPolicy', metadata: { name }, spec });
export const banp = (spec: Obj, name = 'default'): Obj => ({ apiVersion: 'policy.networking.k8s.io/v1alpha1', kind: 'BaselineAdminNetworkPolicy', metadata: { name }, spec });

export const node = (name: string, ip: string, labels: Record<string, string> = {}): Obj => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels }, status: { addresses: [{ type: 'InternalIP', address: ip }] } });

/** A small cluster most cases start from. */
export function baseCluster(): { namespaces: Obj[]; pods: Obj[]; nodes: Obj[] } {
  return {
    namespaces: [ns('shop', { team: 'a', env: 'prod' }), ns('web', { team: 'b', env: 'prod' }), ns('other', { team: 'c' }), ns('default'), ns('kube-system')],
    nodes: [node('node1', '10.4.0.1', { role: 'worker' }), node('node2', '10.4.0.2', { role: 'control' })],
    pods: [
      pod('shop/db-0', { labels: { app: 'db', tier: 'data' }, ips: ['10.244.1.10', 'fd00::10'], ports: [{ name: 'postgres', containerPort: 5432 }, { name: 'metrics', containerPort: 9187 }, { name: 'dns', containerPort: 53, protocol: 'UDP' }, { name: 'sctp', containerPort: 7777, protocol: 'SCTP' }], node: 'node2' }),
      pod('shop/api-0', { labels: { app: 'api' }, ips: ['10.244.1.11', 'fd00::11'], ports: [{ name: 'http', containerPort: 8080 }, { name: 'postgres', containerPort: 6432 }] }),
      pod('shop/fe-0', { labels: { app: 'frontend' }, ips: ['10.244.1.12'] }),
      pod('web/frontend-1', { labels: { app: 'frontend', tier: 'web' }, ips: ['10.244.2.20', 'fd00::20'] }),
      pod('web/batch-0', { labels: { app: 'batch' }, ips: ['10.244.2.21'] }),
      pod('other/db-0', { labels: { app: 'db' }, ips: ['10.244.3.30'] }),
      pod('default/plain', { ips: ['10.244.0.5'] }),
      pod('kube-system/agent', { labels: { app: 'agent' }, ips: ['10.4.0.1'], hostNetwork: true, node: 'node1' }),
    ],
  };
}

export function evaluate(kube: Obj, req: PolicyRequest): PolicyResult {
  // A fresh copy per call: the reader caches by object, and tests reuse their objects.
  const k = readKubernetes(JSON.parse(JSON.stringify(kube)));
  const out = evaluatePolicy(k, req);
  if (!out.ok) throw new Error(out.error);
  return out.result;
}
