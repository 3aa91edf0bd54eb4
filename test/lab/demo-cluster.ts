// The article's cluster (shared/seed): three nodes on 10.4.7.0/24 behind the gateway 10.4.7.1,
// flannel VXLAN with 10.244.0.0/16 and one /24 per node, a docker0 on every node, and kube-proxy
// (iptables mode) with the demo's Services, flannel's forward and masquerade rules. Shared by
// make-demo.ts (which writes examples/demo-flannel-vxlan.json) and the lab tests.
import { join } from 'node:path';
import { captureLab, type LabCapture } from './capture';
import { kubernetesSection } from './kube-objects';
import { loadKubeProxy, type KubeProxyMode, type KubeProxyNode, type KubeProxyOptions, type LabEndpoint, type LabService } from './kube-proxy';
import type { Lab } from './netns';
import { buildCluster, settle, type BuiltCluster, type ClusterSpec } from './topology';
import { assertConnectivity, checkConnectivity, type PingCheck } from './verify';

export const DEMO_CAPTURE_PATH = join(__dirname, '../../examples/demo-flannel-vxlan.json');

export const DEMO_CLUSTER: ClusterSpec = {
  name: 'demo-flannel-vxlan',
  underlay: {
    cidr: '10.4.7.0/24',
    switch: { name: 'tor' },
    router: { name: 'gw', ip: '10.4.7.1' },
  },
  cni: { kind: 'flannel-vxlan', network: '10.244.0.0/16' },
  nodes: [
    {
      name: 'k8s-node1',
      ip: '10.4.7.21',
      podCIDR: '10.244.0.0/24',
      pods: [
        { name: 'coredns-6d8c4cb4d-xk7t2', namespace: 'kube-system', ip: '10.244.0.2' },
        { name: 'web-0', namespace: 'default', ip: '10.244.0.3' },
      ],
    },
    {
      name: 'k8s-node2',
      ip: '10.4.7.22',
      podCIDR: '10.244.1.0/24',
      pods: [
        { name: 'coredns-6d8c4cb4d-q9m4r', namespace: 'kube-system', ip: '10.244.1.2' },
        { name: 'web-1', namespace: 'default', ip: '10.244.1.3' },
      ],
    },
    {
      name: 'k8s-node3',
      ip: '10.4.7.23',
      podCIDR: '10.244.2.0/24',
      pods: [
        { name: 'nginx-7c5ddbdf54-2xq8n', namespace: 'default', ip: '10.244.2.2' },
        { name: 'prometheus-0', namespace: 'monitoring', ip: '10.244.2.3' },
      ],
    },
  ],
};

/** The pods' labels (the Services select them). */
export const DEMO_POD_LABELS: Record<string, Record<string, string>> = {
  'coredns-6d8c4cb4d-xk7t2': { 'k8s-app': 'kube-dns', 'pod-template-hash': '6d8c4cb4d' },
  'coredns-6d8c4cb4d-q9m4r': { 'k8s-app': 'kube-dns', 'pod-template-hash': '6d8c4cb4d' },
  'web-0': { app: 'web', 'statefulset.kubernetes.io/pod-name': 'web-0' },
  'web-1': { app: 'web', 'statefulset.kubernetes.io/pod-name': 'web-1' },
  'nginx-7c5ddbdf54-2xq8n': { app: 'nginx', 'pod-template-hash': '7c5ddbdf54' },
  'prometheus-0': { app: 'prometheus', 'statefulset.kubernetes.io/pod-name': 'prometheus-0' },
};

/** The endpoints of the demo's pods that carry all of `selector`'s labels, in the pods' order. */
function endpointsOf(selector: Record<string, string>): LabEndpoint[] {
  return DEMO_CLUSTER.nodes.flatMap((n) =>
    n.pods.filter((p) => Object.entries(selector).every(([k, v]) => DEMO_POD_LABELS[p.name]?.[k] === v)).map((p) => ({ ip: p.ip, node: n.name, pod: { namespace: p.namespace, name: p.name } })),
  );
}

/**
 * The demo's Services, as kube-proxy sees them (Service CIDR 10.96.0.0/12):
 * - default/kubernetes 10.96.0.1:443 -> the API server on k8s-node1 (10.4.7.21:6443);
 * - kube-system/kube-dns 10.96.0.10 (dns 53/udp, dns-tcp 53/tcp, metrics 9153/tcp) -> the two CoreDNS pods;
 * - default/web 10.100.34.17:80 -> web-0, web-1 :8080, NodePort 30080 (externalTrafficPolicy Cluster);
 * - default/nginx 10.108.5.23:80 -> the nginx pod on k8s-node3, NodePort 30081 with externalTrafficPolicy
 *   Local: only k8s-node3 takes it, the other nodes drop it;
 * - monitoring/prometheus 10.104.80.90:9090 -> prometheus-0;
 * - monitoring/alertmanager 10.110.7.93:9093 selects no pod: no endpoints, kube-proxy rejects it.
 */
export const DEMO_SERVICES: LabService[] = [
  {
    namespace: 'default',
    name: 'kubernetes',
    clusterIP: '10.96.0.1',
    ports: [{ name: 'https', protocol: 'TCP', port: 443, targetPort: 6443 }],
    endpoints: [{ ip: '10.4.7.21', node: 'k8s-node1' }],
    selector: {},
  },
  {
    namespace: 'kube-system',
    name: 'kube-dns',
    clusterIP: '10.96.0.10',
    ports: [
      { name: 'dns', protocol: 'UDP', port: 53, targetPort: 53 },
      { name: 'dns-tcp', protocol: 'TCP', port: 53, targetPort: 53 },
      { name: 'metrics', protocol: 'TCP', port: 9153, targetPort: 9153 },
    ],
    endpoints: endpointsOf({ 'k8s-app': 'kube-dns' }),
    selector: { 'k8s-app': 'kube-dns' },
  },
  {
    namespace: 'default',
    name: 'web',
    clusterIP: '10.100.34.17',
    ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30080 }],
    endpoints: endpointsOf({ app: 'web' }),
    selector: { app: 'web' },
  },
  {
    namespace: 'default',
    name: 'nginx',
    clusterIP: '10.108.5.23',
    ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 80, nodePort: 30081 }],
    externalTrafficPolicy: 'Local',
    endpoints: endpointsOf({ app: 'nginx' }),
    selector: { app: 'nginx' },
  },
  {
    namespace: 'monitoring',
    name: 'prometheus',
    clusterIP: '10.104.80.90',
    ports: [{ name: 'web', protocol: 'TCP', port: 9090, targetPort: 9090 }],
    endpoints: endpointsOf({ app: 'prometheus' }),
    selector: { app: 'prometheus' },
  },
  {
    namespace: 'monitoring',
    name: 'alertmanager',
    clusterIP: '10.110.7.93',
    ports: [{ name: 'web', protocol: 'TCP', port: 9093, targetPort: 9093 }],
    endpoints: endpointsOf({ app: 'alertmanager' }),
    selector: { app: 'alertmanager' },
  },
];

/**
 * More kinds of Service, loaded beside the demo's by the lab tests (the demo capture keeps its six):
 * - default/web-lb: LoadBalancer 192.168.100.10:80 (externalTrafficPolicy Cluster, NodePort 30090) -> web-0, web-1;
 * - default/nginx-lb-local: LoadBalancer 192.168.100.11 and .12 :80 with externalTrafficPolicy Local
 *   (NodePort 30091) -> the nginx pod on k8s-node3;
 * - kube-system/dns-local: 10.96.0.53:53/TCP with internalTrafficPolicy Local -> the CoreDNS pod of the
 *   client's own node, dropped on a node without one;
 * - default/web-sticky: 10.100.34.18:80 with sessionAffinity ClientIP (10800 s) -> web-0, web-1.
 * The load balancer announces its IPs to gw as routes (BGP-style): LB_ROUTES.
 */
export const EXTRA_SERVICES: LabService[] = [
  {
    namespace: 'default',
    name: 'web-lb',
    clusterIP: '10.100.34.20',
    ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30090 }],
    loadBalancerIPs: ['192.168.100.10'],
    endpoints: endpointsOf({ app: 'web' }),
    selector: { app: 'web' },
  },
  {
    namespace: 'default',
    name: 'nginx-lb-local',
    clusterIP: '10.108.5.24',
    ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 80, nodePort: 30091 }],
    externalTrafficPolicy: 'Local',
    loadBalancerIPs: ['192.168.100.11', '192.168.100.12'],
    endpoints: endpointsOf({ app: 'nginx' }),
    selector: { app: 'nginx' },
  },
  {
    namespace: 'kube-system',
    name: 'dns-local',
    clusterIP: '10.96.0.53',
    ports: [{ name: 'dns-tcp', protocol: 'TCP', port: 53, targetPort: 53 }],
    internalTrafficPolicy: 'Local',
    endpoints: endpointsOf({ 'k8s-app': 'kube-dns' }),
    selector: { 'k8s-app': 'kube-dns' },
  },
  {
    namespace: 'default',
    name: 'web-sticky',
    clusterIP: '10.100.34.18',
    ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }],
    sessionAffinity: { timeoutSeconds: 10800 },
    endpoints: endpointsOf({ app: 'web' }),
    selector: { app: 'web' },
  },
];

/** gw's routes to the load balancer IPs of EXTRA_SERVICES: which node each is announced from. */
export const LB_ROUTES: { dst: string; via: string }[] = [
  { dst: '192.168.100.10/32', via: '10.4.7.22' },
  { dst: '192.168.100.11/32', via: '10.4.7.21' },
  { dst: '192.168.100.12/32', via: '10.4.7.23' },
];

/** kube-proxy's settings on the demo's nodes; FORWARD policy DROP as Docker (docker0) leaves it. */
export const DEMO_KUBE_PROXY: KubeProxyOptions = { clusterCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/12', flannel: true, forwardPolicy: 'DROP' };

export const DEMO_KUBE_PROXY_NODES: KubeProxyNode[] = DEMO_CLUSTER.nodes.map((n) => ({ name: n.name, ip: n.ip, podCIDR: n.podCIDR }));

/** Loads kube-proxy's (and flannel's) rules for the demo's Services into every node of the demo. */
export function loadDemoServices(lab: Lab, mode: KubeProxyMode = 'iptables', services: readonly LabService[] = DEMO_SERVICES): void {
  loadKubeProxy(lab, DEMO_KUBE_PROXY_NODES, services, mode, DEMO_KUBE_PROXY);
}

/** The demo's API objects (Namespaces, Nodes, Pods, Services, EndpointSlices): the capture's `kubernetes` section. */
export function demoKubernetes(services: readonly LabService[] = DEMO_SERVICES): Record<string, unknown[]> {
  return kubernetesSection(DEMO_CLUSTER, services, DEMO_POD_LABELS);
}

export interface DemoRun {
  built: BuiltCluster;
  checks: PingCheck[];
  result: LabCapture;
  timings: { buildMs: number; proveMs: number; captureMs: number };
}

/** Builds the demo in `lab`, proves it forwards (throws if not) and captures it. The caller disposes the lab. */
export async function runDemo(lab: Lab, log: (line: string) => void = () => {}): Promise<DemoRun> {
  let t = Date.now();
  const built = buildCluster(lab, DEMO_CLUSTER);
  loadDemoServices(lab);
  await settle(lab);
  const buildMs = Date.now() - t;
  log(`built ${lab.namespaces().length} namespaces in ${buildMs} ms`);

  t = Date.now();
  const checks = checkConnectivity(lab, built);
  for (const c of checks) log(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.what}: ${c.from} -> ${c.to}`);
  assertConnectivity(checks);
  const proveMs = Date.now() - t;

  t = Date.now();
  const result = await captureLab(lab, built, { kubernetes: demoKubernetes() });
  const captureMs = Date.now() - t;
  log(`captured ${result.capture.hosts.length} hosts in ${captureMs} ms`);
  return { built, checks, result, timings: { buildMs, proveMs, captureMs } };
}
