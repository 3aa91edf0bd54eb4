// The Kubernetes API's view of a lab cluster, for a capture's `kubernetes` section: Namespaces, Nodes,
// Pods, Services and EndpointSlices as `kubectl get -o json` prints them (the items of each list),
// made from the same cluster spec and Service list the lab's nodes and kube-proxy rules come from, so
// the API and the rules agree. Stable: uids and name suffixes derive from the objects' names.
import { stableSuffix, stableUid } from './apiserver/model';
import type { LabService } from './kube-proxy';
import type { ClusterSpec } from './topology';

const CREATED = '2026-12-01T10:00:00Z';

const meta = (kind: string, name: string, namespace?: string, extra: Record<string, unknown> = {}) => ({
  name,
  ...(namespace !== undefined ? { namespace } : {}),
  uid: stableUid(`${kind}/${namespace ?? ''}/${name}`),
  resourceVersion: '4242',
  creationTimestamp: CREATED,
  ...extra,
});

/**
 * The API objects of `spec`'s cluster with `services`; `labels` gives each pod's labels (the
 * Services select by them). A pod's container ports are the target ports of the Services that select it.
 */
export function kubernetesSection(spec: ClusterSpec, services: readonly LabService[], labels: Record<string, Record<string, string>>): Record<string, unknown[]> {
  const podNamespaces = spec.nodes.flatMap((n) => n.pods.map((p) => p.namespace));
  const namespaces = [...new Set(['default', 'kube-system', ...podNamespaces, ...services.map((s) => s.namespace)])].sort();
  const selects = (s: LabService, pod: string) => Object.keys(s.selector).length > 0 && Object.entries(s.selector).every(([k, v]) => labels[pod]?.[k] === v);
  return {
    namespaces: namespaces.map((ns) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: meta('Namespace', ns, undefined, { labels: { 'kubernetes.io/metadata.name': ns } }), spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } })),
    nodes: spec.nodes.map((n) => ({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: meta('Node', n.name, undefined, { labels: { 'kubernetes.io/hostname': n.name, 'kubernetes.io/os': 'linux' } }),
      spec: { podCIDR: n.podCIDR, podCIDRs: [n.podCIDR] },
      status: { addresses: [{ type: 'InternalIP', address: n.ip }, { type: 'Hostname', address: n.name }] },
    })),
    pods: spec.nodes.flatMap((n) =>
      n.pods.map((p) => {
        const ports = services.filter((s) => selects(s, p.name)).flatMap((s) => s.ports.map((sp) => ({ name: sp.name, containerPort: sp.targetPort, protocol: sp.protocol })));
        return {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: meta('Pod', p.name, p.namespace, { labels: labels[p.name] ?? {} }),
          spec: { nodeName: n.name, containers: [{ name: p.name.replace(/-[a-z0-9]+-[a-z0-9]+$|-\d+$/, ''), image: 'registry.k8s.io/e2e-test-images/agnhost:2.52', ports }], restartPolicy: 'Always', dnsPolicy: 'ClusterFirst' },
          status: { phase: 'Running', hostIP: n.ip, hostIPs: [{ ip: n.ip }], podIP: p.ip, podIPs: [{ ip: p.ip }], startTime: CREATED },
        };
      }),
    ),
    services: services.map((s) => {
      const nodePort = s.ports.some((p) => p.nodePort !== undefined);
      const lb = (s.loadBalancerIPs ?? []).length > 0;
      return {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: meta('Service', s.name, s.namespace, Object.keys(s.selector).length ? {} : { labels: { component: 'apiserver', provider: 'kubernetes' } }),
        spec: {
          clusterIP: s.clusterIP,
          clusterIPs: [s.clusterIP],
          ...(nodePort ? { externalTrafficPolicy: s.externalTrafficPolicy ?? 'Cluster' } : {}),
          internalTrafficPolicy: s.internalTrafficPolicy ?? 'Cluster',
          ipFamilies: ['IPv4'],
          ipFamilyPolicy: 'SingleStack',
          ports: s.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol, targetPort: p.targetPort, ...(p.nodePort !== undefined ? { nodePort: p.nodePort } : {}) })),
          ...(Object.keys(s.selector).length ? { selector: s.selector } : {}),
          ...(s.sessionAffinity ? { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: s.sessionAffinity.timeoutSeconds } } } : { sessionAffinity: 'None' }),
          ...(lb ? { allocateLoadBalancerNodePorts: true } : {}),
          type: lb ? 'LoadBalancer' : nodePort ? 'NodePort' : 'ClusterIP',
        },
        status: { loadBalancer: lb ? { ingress: s.loadBalancerIPs!.map((ip) => ({ ip, ipMode: 'VIP' })) } : {} },
      };
    }),
    endpointSlices: services.map((s) => ({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: meta('EndpointSlice', `${s.name}-${stableSuffix(`${s.namespace}/${s.name}`)}`, s.namespace, {
        generateName: `${s.name}-`,
        labels: { 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io', 'kubernetes.io/service-name': s.name },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: s.name, uid: stableUid(`Service/${s.namespace}/${s.name}`), controller: true, blockOwnerDeletion: true }],
      }),
      addressType: 'IPv4',
      // The API prints an empty list of endpoints as null.
      endpoints: s.endpoints.length
        ? s.endpoints.map((e) => ({
            addresses: [e.ip],
            conditions: { ready: true, serving: true, terminating: false },
            // The API server's own endpoint (default/kubernetes) names no node and no pod.
            ...(e.pod ? { nodeName: e.node, targetRef: { kind: 'Pod', namespace: e.pod.namespace, name: e.pod.name, uid: stableUid(`Pod/${e.pod.namespace}/${e.pod.name}`) } } : {}),
          }))
        : null,
      ports: s.ports.map((p) => ({ name: p.name, port: p.targetPort, protocol: p.protocol })),
    })),
  };
}
