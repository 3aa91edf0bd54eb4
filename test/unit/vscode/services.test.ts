// Services in the extension, without VS Code: Trace Pod Path offers each Service port as a destination
// (with its ClusterIP, port and protocol, and the packet it takes), and a hover on a ClusterIP, a
// LoadBalancer IP or a node's address says which Service answers there, its ports and endpoints.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseCapture, type Capture } from '../../../src/capture/document';
import { buildNetwork } from '../../../src/engine';
import { listServices, serviceIndexOf } from '../../../src/engine/services';
import { hoverMarkdown, indexAddresses, servicesAtAddress } from '../../../src/vscode/model/hover';
import { ClusterCollector } from '../../../src/kube/collector';
import { destinationEntries, serviceEntries } from '../../../src/vscode/model/picks';
import { FakeCluster } from '../kube/fake-cluster';

const meta = (ns: string, name: string, extra: Record<string, unknown> = {}) => ({ name, namespace: ns, uid: `uid-${ns}-${name}`, creationTimestamp: '2026-12-01T10:00:00Z', ...extra });

/** The demo with the API objects of two Services as `kubectl get -o json` lists them. */
export function demoWithServices(extra: { webEndpoints?: { ip: string; pod: string; node: string; ready?: boolean }[]; podName?: string } = {}): Capture {
  const r = parseCapture(readFileSync(join(__dirname, '../../../examples/demo-flannel-vxlan.json'), 'utf8'));
  if (!r.ok) throw new Error('demo');
  const eps = extra.webEndpoints ?? [
    { ip: '10.244.0.3', pod: 'web-0', node: 'k8s-node1' },
    { ip: '10.244.1.3', pod: extra.podName ?? 'web-1', node: 'k8s-node2' },
  ];
  const doc = {
    ...r.capture,
    kubernetes: {
      services: [
        { apiVersion: 'v1', kind: 'Service', metadata: meta('default', 'web'), spec: { type: 'NodePort', clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'], ipFamilies: ['IPv4'], externalTrafficPolicy: 'Cluster', internalTrafficPolicy: 'Cluster', selector: { app: 'web' }, sessionAffinity: 'None', ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, nodePort: 30080 }] }, status: { loadBalancer: {} } },
        { apiVersion: 'v1', kind: 'Service', metadata: meta('kube-system', 'kube-dns'), spec: { type: 'ClusterIP', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ipFamilies: ['IPv4'], internalTrafficPolicy: 'Cluster', selector: { 'k8s-app': 'kube-dns' }, sessionAffinity: 'None', ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 }, { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 }] }, status: { loadBalancer: {} } },
        { apiVersion: 'v1', kind: 'Service', metadata: meta('default', 'web-headless'), spec: { type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'], selector: { app: 'web' }, ports: [{ name: 'http', port: 8080, protocol: 'TCP', targetPort: 8080 }] } },
      ],
      endpointSlices: [
        {
          apiVersion: 'discovery.k8s.io/v1',
          kind: 'EndpointSlice',
          metadata: meta('default', 'web-x1y2z', { labels: { 'kubernetes.io/service-name': 'web' } }),
          addressType: 'IPv4',
          endpoints: eps.map((e) => ({ addresses: [e.ip], conditions: { ready: e.ready ?? true, serving: e.ready ?? true, terminating: false }, nodeName: e.node, targetRef: { kind: 'Pod', namespace: 'default', name: e.pod } })),
          ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
        },
        {
          apiVersion: 'discovery.k8s.io/v1',
          kind: 'EndpointSlice',
          metadata: meta('kube-system', 'kube-dns-abcde', { labels: { 'kubernetes.io/service-name': 'kube-dns' } }),
          addressType: 'IPv4',
          endpoints: [
            { addresses: ['10.244.0.2'], conditions: { ready: true }, nodeName: 'k8s-node1', targetRef: { kind: 'Pod', namespace: 'kube-system', name: 'coredns-6d8c4cb4d-xk7t2' } },
            { addresses: ['10.244.1.2'], conditions: { ready: true }, nodeName: 'k8s-node2', targetRef: { kind: 'Pod', namespace: 'kube-system', name: 'coredns-6d8c4cb4d-q9m4r' } },
          ],
          ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }],
        },
      ],
    },
  };
  const v = parseCapture(JSON.stringify(doc));
  if (!v.ok) throw new Error(JSON.stringify(v.errors));
  return v.capture;
}

describe('Trace Pod Path offers Services', () => {
  const net = buildNetwork(demoWithServices());
  const services = listServices(serviceIndexOf(net));

  test('one entry per Service port: svc NS/NAME:PORT, ClusterIP:port/protocol, type, NodePort and ready endpoints', () => {
    const entries = serviceEntries(services);
    assert.deepEqual(entries.map((e) => (e.kind === 'service' ? [e.label, e.description, e.detail, e.ref, e.packet] : [e.kind, e.label])), [
      ['separator', 'services'],
      ['svc default/web:http', '10.96.0.20:80/TCP', 'NodePort · NodePort 30080 · 2 ready endpoints', 'svc/default/web:http', { proto: 'tcp', port: 80 }],
      ['svc kube-system/kube-dns:dns', '10.96.0.10:53/UDP', 'ClusterIP · 2 ready endpoints', 'svc/kube-system/kube-dns:dns', { proto: 'udp', port: 53 }],
      ['svc kube-system/kube-dns:dns-tcp', '10.96.0.10:53/TCP', 'ClusterIP · 2 ready endpoints', 'svc/kube-system/kube-dns:dns-tcp', { proto: 'tcp', port: 53 }],
    ]);
  });

  test('a headless Service is not offered (no ClusterIP to trace: its pods are in the list as pods)', () => {
    assert.ok(!serviceEntries(services).some((e) => e.kind === 'service' && e.ref.includes('web-headless')));
  });

  test('the destination list: any IP, then the Services, then pods and nodes; without Services, none', () => {
    const c = demoWithServices();
    const dst = destinationEntries(c, 'default/web-0', services);
    assert.deepEqual(dst.slice(0, 2).map((e) => e.kind), ['custom-ip', 'separator']);
    assert.equal(dst[2]!.kind, 'service');
    assert.ok(dst.some((e) => e.kind === 'host' && e.ref === 'default/web-1'));
    assert.ok(!destinationEntries(c, 'default/web-0').some((e) => e.kind === 'service' || (e.kind === 'separator' && e.label === 'services')));
  });

  test("a live cluster's Services (the collector's kubernetes section, before any exec) are offered the same way", async () => {
    const c = demoWithServices();
    c.hosts = c.hosts.filter((h) => h.role === 'node' || h.role === 'pod');
    delete c.links;
    const fake = new FakeCluster(c);
    const sk = await new ClusterCollector(fake).skeleton();
    assert.equal(fake.execLog.length, 0);
    const entries = serviceEntries(listServices(serviceIndexOf(buildNetwork(sk.capture))));
    assert.deepEqual(entries.filter((e) => e.kind === 'service').map((e) => e.kind === 'service' && `${e.label} ${e.description}`), ['svc default/web:http 10.96.0.20:80/TCP', 'svc kube-system/kube-dns:dns 10.96.0.10:53/UDP', 'svc kube-system/kube-dns:dns-tcp 10.96.0.10:53/TCP']);
  });

  test('an endpoint that is not ready is not counted as ready', () => {
    const c = demoWithServices({ webEndpoints: [{ ip: '10.244.0.3', pod: 'web-0', node: 'k8s-node1', ready: false }, { ip: '10.244.1.3', pod: 'web-1', node: 'k8s-node2' }] });
    const e = serviceEntries(listServices(serviceIndexOf(buildNetwork(c)))).find((x) => x.kind === 'service' && x.ref === 'svc/default/web:http');
    assert.ok(e && e.kind === 'service' && e.detail.endsWith('1 ready endpoint'));
  });
});

describe('hovers on Service addresses', () => {
  const net = buildNetwork(demoWithServices());
  const ix = serviceIndexOf(net);
  const md = (ip: string) => hoverMarkdown(indexAddresses(net).get(ip), servicesAtAddress(ix, ip));

  test('a ClusterIP says which Service it is, with its ports, endpoints and a trace link per port', () => {
    const text = md('10.96.0.20')!;
    const lines = text.split('\n\n');
    assert.equal(lines[0], '**Service** `default/web` — NodePort, ClusterIP 10\\.96\\.0\\.20');
    assert.match(lines[1]!, /^- `http` 80\/TCP → 8080: 2 of 2 endpoints ready: 10\\\.244\\\.0\\\.3:8080 `default\/web-0` on k8s\\-node1, 10\\\.244\\\.1\\\.3:8080 `default\/web-1` on k8s\\-node2 · \[Trace to this port\]\(command:netpath\.traceTo\?/);
    assert.ok(lines[1]!.includes(encodeURIComponent(JSON.stringify([{ ref: 'svc/default/web:http' }]))));
    assert.equal(lines.length, 2);
  });

  test('a ClusterIP with two ports lists both under one Service heading', () => {
    const lines = md('10.96.0.10')!.split('\n\n');
    assert.equal(lines[0], '**Service** `kube-system/kube-dns` — ClusterIP, ClusterIP 10\\.96\\.0\\.10');
    assert.deepEqual(lines.slice(1).map((l) => l.split(' → ')[0]), ['- `dns` 53/UDP', '- `dns-tcp` 53/TCP']);
  });

  test("a node's address is the node, and the NodePorts it answers", () => {
    const lines = md('10.4.7.22')!.split('\n\n');
    assert.match(lines[0]!, /^\*\*node\*\* `k8s-node2`/);
    const svc = lines.findIndex((l) => l.startsWith('**Service**'));
    assert.equal(lines[svc], '**Service** `default/web` — NodePort, NodePort 10\\.4\\.7\\.22');
    assert.match(lines[svc + 1]!, /^- `http` 30080\/TCP \(port 80\) → 8080: 2 of 2 endpoints ready/);
  });

  test('a LoadBalancer IP names its Service too', () => {
    const c = demoWithServices();
    const k = (c as unknown as { kubernetes: { services: Record<string, unknown>[] } }).kubernetes;
    const web = k.services[0]! as { spec: Record<string, unknown>; status: Record<string, unknown> };
    web.spec.type = 'LoadBalancer';
    web.status = { loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } };
    const reparsed = parseCapture(JSON.stringify(c));
    assert.ok(reparsed.ok);
    const n = buildNetwork(reparsed.capture);
    const lines = hoverMarkdown(undefined, servicesAtAddress(serviceIndexOf(n), '203.0.113.7'))!.split('\n\n');
    assert.equal(lines[0], '**Service** `default/web` — LoadBalancer, LoadBalancer IP 203\\.0\\.113\\.7');
    assert.match(lines[1]!, /^- `http` 80\/TCP → 8080: 2 of 2 endpoints ready/);
  });

  test('an address that is no pod, node or Service has no hover', () => {
    assert.equal(md('10.96.0.99'), undefined);
  });

  test('a hostile pod name behind an endpoint stays inside a code span: no markup, no extra command link', () => {
    const c = demoWithServices({ podName: 'x`](command:evil)<img src=x>' });
    const n = buildNetwork(c);
    const text = hoverMarkdown(undefined, servicesAtAddress(serviceIndexOf(n), '10.96.0.20'))!;
    const outsideCode = text.split('`').filter((_, i) => i % 2 === 0).join('');
    assert.deepEqual(outsideCode.match(/\]\(command:[\w.]+/g), ['](command:netpath.traceTo']);
    assert.ok(!outsideCode.includes('<img'));
  });
});
