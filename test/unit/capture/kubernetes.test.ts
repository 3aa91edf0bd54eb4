// The capture's `kubernetes` section (src/capture/kubernetes.ts): API objects as kubectl prints them are
// typed and kept whole, hand-written manifests get the API server's defaults, a malformed object is an
// issue with its JSON path (never a failed capture), and names are data.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { kubernetesOf, serializeCapture, validateCapture } from '../../../src/capture/document';
import { summarizeCapture } from '../../../src/capture/summary';
import { summaryText } from '../../../src/capture/text';
import { findPod, findService, namespacedName, nodeIps, readKubernetes, selects, slicesOf, sourceOf } from '../../../src/capture/kubernetes';

const fixture = JSON.parse(readFileSync(join(__dirname, '../../fixtures/kubernetes/cluster.json'), 'utf8')) as { kubernetes: Record<string, unknown[]> };
const clone = () => structuredClone(fixture.kubernetes);

function capture(kubernetes: unknown): Record<string, unknown> {
  return { apiVersion: 'netpath/v1', kind: 'Capture', hosts: [{ name: 'k8s-node1', role: 'node' }], kubernetes };
}

describe('kubernetes section: kubectl get -o json objects', () => {
  test('every list of the fixture is read whole, with no issue', () => {
    const k = readKubernetes(fixture.kubernetes);
    assert.deepEqual(k.issues, []);
    assert.equal(k.namespaces.length, 2);
    assert.equal(k.nodes.length, 2);
    assert.equal(k.pods.length, 8);
    assert.equal(k.services.length, 8);
    assert.equal(k.endpointSlices.length, 8);
    assert.equal(k.networkPolicies.length, 2);
    assert.deepEqual([...k.present].sort(), ['adminNetworkPolicies', 'baselineAdminNetworkPolicies', 'endpointSlices', 'namespaces', 'networkPolicies', 'nodes', 'pods', 'services']);
  });

  test('unknown fields are kept (status.nodeInfo, spec.allocateLoadBalancerNodePorts, ownerReferences)', () => {
    const k = readKubernetes(fixture.kubernetes);
    const web = findService(k, 'default', 'web')!;
    assert.equal((web.spec as Record<string, unknown>).allocateLoadBalancerNodePorts, true);
    assert.equal((web.metadata as Record<string, unknown>).resourceVersion, '4242');
    const n = k.nodes[0]! as unknown as { status: { nodeInfo: { kubeProxyVersion: string } } };
    assert.equal(n.status.nodeInfo.kubeProxyVersion, 'v1.31.2');
  });

  test('dual-stack clusterIPs, a named targetPort, SCTP, a LoadBalancer ingress IP', () => {
    const k = readKubernetes(fixture.kubernetes);
    const web = findService(k, 'default', 'web')!;
    assert.deepEqual(web.spec.clusterIPs, ['10.96.0.50', 'fd00:96::50']);
    assert.equal(web.spec.ports[0]!.targetPort, 'http');
    assert.equal(web.spec.ports[1]!.targetPort, 9090);
    assert.equal(findService(k, 'default', 'sctp-echo')!.spec.ports[0]!.protocol, 'SCTP');
    assert.equal(findService(k, 'default', 'lb')!.status.loadBalancer.ingress[0]!.ip, '203.0.113.10');
  });

  test('"endpoints": null (a Service with no endpoints) reads as an empty list', () => {
    const k = readKubernetes(fixture.kubernetes);
    const empty = slicesOf(k, findService(k, 'default', 'empty')!);
    assert.equal(empty.length, 1);
    assert.deepEqual(empty[0]!.endpoints, []);
    assert.deepEqual(empty[0]!.ports, []);
  });

  test('a terminating endpoint keeps its conditions as given', () => {
    const k = readKubernetes(fixture.kubernetes);
    const web = slicesOf(k, findService(k, 'default', 'web')!).find((s) => s.addressType === 'IPv4')!;
    assert.deepEqual(web.endpoints[2]!.conditions, { ready: false, serving: true, terminating: true });
  });

  test('each object knows its JSON path in the capture', () => {
    const k = readKubernetes(fixture.kubernetes);
    assert.equal(sourceOf(findService(k, 'default', 'lb')!), 'kubernetes.services[6]');
    assert.equal(sourceOf(k.endpointSlices[2]!), 'kubernetes.endpointSlices[2]');
  });

  test('node addresses leave out hostnames; label selectors with expressions', () => {
    const k = readKubernetes(fixture.kubernetes);
    assert.deepEqual(nodeIps(k.nodes[0]!), ['10.4.7.21', 'fd00:4:7::21']);
    const sel = k.networkPolicies[0]!.spec.ingress[0]!.from![1]!.namespaceSelector!;
    assert.equal(selects(sel, { team: 'a' }), true);
    assert.equal(selects(sel, { team: 'c' }), false);
    assert.equal(selects(sel, {}), false);
    assert.equal(selects({ matchLabels: {}, matchExpressions: [{ key: 'x', operator: 'DoesNotExist', values: [] }] }, { y: '1' }), true);
    assert.equal(selects({ matchLabels: {}, matchExpressions: [{ key: 'x', operator: 'NotIn', values: ['1'] }] }, { x: '1' }), false);
  });
});

describe('kubernetes section: hand-written manifests get the API server defaults', () => {
  const k = readKubernetes({
    services: [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'api' }, spec: { clusterIP: '10.96.5.5', selector: { app: 'api' }, ports: [{ port: 80 }] } }],
    endpointSlices: [
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'api-1', labels: { 'kubernetes.io/service-name': 'api' } },
        addressType: 'IPv4',
        endpoints: [{ addresses: ['10.244.0.9'] }],
        ports: [{ port: 8080 }],
      },
    ],
    networkPolicies: [
      { metadata: { name: 'np1', namespace: 'shop' }, spec: { podSelector: {}, ingress: [{ ports: [{ port: 80 }] }] } },
      { metadata: { name: 'np2', namespace: 'shop' }, spec: { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' } }] }] } },
    ],
    pods: [{ metadata: { name: 'p' }, spec: { containers: [{ name: 'c', ports: [{ containerPort: 53 }] }] }, status: { podIP: '10.244.0.9' } }],
    nodes: [{ metadata: { name: 'n1' }, spec: { podCIDR: '10.244.0.0/24' } }],
  });

  test('no issue', () => assert.deepEqual(k.issues, []));

  test('Service: namespace default, type ClusterIP, protocol TCP, targetPort = port, clusterIPs from clusterIP, affinity None, internalTrafficPolicy Cluster', () => {
    const s = k.services[0]!;
    assert.equal(namespacedName(s), 'default/api');
    assert.equal(s.spec.type, 'ClusterIP');
    assert.deepEqual(
      { name: s.spec.ports[0]!.name, protocol: s.spec.ports[0]!.protocol, port: s.spec.ports[0]!.port, targetPort: s.spec.ports[0]!.targetPort },
      { name: '', protocol: 'TCP', port: 80, targetPort: 80 },
    );
    assert.deepEqual(s.spec.clusterIPs, ['10.96.5.5']);
    assert.deepEqual(s.spec.ipFamilies, ['IPv4']);
    assert.equal(s.spec.sessionAffinity, 'None');
    assert.equal(s.spec.internalTrafficPolicy, 'Cluster');
    assert.equal(s.spec.externalTrafficPolicy, undefined, 'externalTrafficPolicy is defaulted only for NodePort and LoadBalancer');
  });

  test('NodePort manifest: externalTrafficPolicy Cluster; ClientIP affinity: timeout 10800 s', () => {
    const s = readKubernetes({ services: [{ metadata: { name: 'np' }, spec: { type: 'NodePort', sessionAffinity: 'ClientIP', clusterIP: '10.96.0.9', ports: [{ port: 80, nodePort: 30000 }] } }] }).services[0]!;
    assert.equal(s.spec.externalTrafficPolicy, 'Cluster');
    assert.equal(s.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds, 10800);
  });

  test('EndpointSlice: namespace default, port name "" and protocol TCP, conditions empty (ready unknown)', () => {
    const s = k.endpointSlices[0]!;
    assert.equal(s.metadata.namespace, 'default');
    assert.deepEqual({ name: s.ports[0]!.name, protocol: s.ports[0]!.protocol }, { name: '', protocol: 'TCP' });
    assert.deepEqual(s.endpoints[0]!.conditions, {});
  });

  test('NetworkPolicy: policyTypes [Ingress] without egress rules, [Ingress, Egress] with; a port protocol TCP', () => {
    assert.deepEqual(k.networkPolicies[0]!.spec.policyTypes, ['Ingress']);
    assert.equal(k.networkPolicies[0]!.spec.ingress[0]!.ports![0]!.protocol, 'TCP');
    assert.equal(k.networkPolicies[0]!.spec.ingress[0]!.from, undefined, 'an absent from (any peer) stays absent');
    assert.deepEqual(k.networkPolicies[1]!.spec.policyTypes, ['Ingress', 'Egress']);
    assert.deepEqual(k.networkPolicies[1]!.spec.egress[0]!.to![0]!.ipBlock!.except, []);
  });

  test('Pod: podIPs from podIP, a container port TCP, hostNetwork false; Node: podCIDRs from podCIDR', () => {
    const p = findPod(k, 'default', 'p')!;
    assert.deepEqual(p.status.podIPs, [{ ip: '10.244.0.9' }]);
    assert.equal(p.spec.containers[0]!.ports[0]!.protocol, 'TCP');
    assert.equal(p.spec.hostNetwork, false);
    assert.deepEqual(k.nodes[0]!.spec.podCIDRs, ['10.244.0.0/24']);
  });
});

describe('kubernetes section: malformed objects are issues with their path, never a crash', () => {
  test('a bad port leaves that Service out and names the path; the other Services stay', () => {
    const raw = clone();
    ((raw.services![2] as { spec: { ports: { port: unknown }[] } }).spec.ports[0]!).port = 'eighty';
    const k = readKubernetes(raw);
    assert.equal(k.services.length, 7);
    assert.equal(findService(k, 'default', 'web'), undefined);
    assert.equal(k.issues.length, 1);
    assert.equal(k.issues[0]!.path, 'kubernetes.services[2].spec.ports[0].port');
    assert.match(k.issues[0]!.message, /expected number, got "eighty"; Service default\/web is left out/);
  });

  test('a protocol outside TCP/UDP/SCTP, an endpoint address of the wrong family, a missing name', () => {
    const raw = clone();
    ((raw.services![1] as { spec: { ports: { protocol: string }[] } }).spec.ports[0]!).protocol = 'ICMP';
    ((raw.endpointSlices![3] as { endpoints: { addresses: string[] }[] }).endpoints[1]!).addresses = ['10.244.2.11'];
    delete (raw.pods![0] as { metadata: { name?: string } }).metadata.name;
    const k = readKubernetes(raw);
    const byPath = Object.fromEntries(k.issues.map((i) => [i.path, i.message]));
    assert.match(byPath['kubernetes.services[1].spec.ports[0].protocol']!, /expected one of "TCP", "UDP", "SCTP", got "ICMP"/);
    assert.match(byPath['kubernetes.endpointSlices[3].endpoints[1].addresses[0]']!, /expected an IPv6 address \(the slice's addressType\)/);
    assert.match(byPath['kubernetes.pods[0].metadata.name']!, /expected string/);
    assert.equal(k.pods.length, 7);
  });

  test('an ExternalName Service without externalName; a clusterIP that is not an address', () => {
    const k = readKubernetes({
      services: [
        { metadata: { name: 'x' }, spec: { type: 'ExternalName' } },
        { metadata: { name: 'y' }, spec: { clusterIP: '10.96.0.300', ports: [{ port: 1 }] } },
      ],
    });
    assert.deepEqual(
      k.issues.map((i) => i.path),
      ['kubernetes.services[0].spec.externalName', 'kubernetes.services[1].spec.clusterIP'],
    );
    assert.equal(k.services.length, 0);
  });

  test('lists and items of the wrong shape, and unknown lists', () => {
    const k = readKubernetes({ services: 'none', pods: [42, null, []], endpoints: [] });
    assert.deepEqual(
      k.issues.map((i) => i.path),
      ['kubernetes.pods[0]', 'kubernetes.pods[1]', 'kubernetes.pods[2]', 'kubernetes.services', 'kubernetes.endpoints'],
    );
    assert.match(k.issues[3]!.message, /expected a list of Service objects/);
    assert.match(k.issues[4]!.message, /unknown list "endpoints" is ignored/);
    assert.deepEqual(readKubernetes('x').issues.map((i) => i.path), ['kubernetes']);
    assert.deepEqual(readKubernetes(undefined), readKubernetes(null));
  });

  test('validateCapture turns them into warnings and keeps the capture', () => {
    const raw = clone();
    (raw.endpointSlices![0] as { addressType: string }).addressType = 'IPv5';
    const r = validateCapture(capture(raw));
    assert.ok(r.ok);
    assert.deepEqual(
      r.warnings.map((w) => w.path),
      ['kubernetes.endpointSlices[0].addressType'],
    );
    assert.equal(kubernetesOf(r.capture).endpointSlices.length, 7);
  });

  test('random garbage in every list never throws', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const junk = (d: number): unknown => {
      const r = rnd();
      if (d > 3 || r < 0.2) return [null, 1, 'x', true, -5, 1e9, ''][Math.floor(rnd() * 7)];
      if (r < 0.5) return Array.from({ length: Math.floor(rnd() * 3) }, () => junk(d + 1));
      const keys = ['metadata', 'spec', 'ports', 'name', 'port', 'endpoints', 'addresses', 'conditions', 'status', 'clusterIPs', 'namespace', 'labels'];
      return Object.fromEntries(Array.from({ length: Math.floor(rnd() * 4) }, () => [keys[Math.floor(rnd() * keys.length)]!, junk(d + 1)]));
    };
    for (let i = 0; i < 300; i++) {
      const raw = clone();
      for (const list of Object.keys(raw)) {
        const items = raw[list]!;
        if (items.length) items[Math.floor(rnd() * items.length)] = junk(0);
        else items.push(junk(0));
      }
      const k = readKubernetes(raw);
      for (const iss of k.issues) assert.match(iss.path, /^kubernetes\.\w+/);
    }
  });
});

describe('kubernetes section: names are data', () => {
  test('a pod name with a quote, a newline and unicode passes through unchanged and round-trips', () => {
    const k = readKubernetes(fixture.kubernetes);
    const weird = 'we"ird\nname-ü漢';
    assert.equal(findPod(k, 'default', weird)!.metadata.name, weird);
    const r = validateCapture(capture(fixture.kubernetes));
    assert.ok(r.ok);
    const back = validateCapture(JSON.parse(serializeCapture(r.capture)));
    assert.ok(back.ok);
    assert.equal(findPod(kubernetesOf(back.capture), 'default', weird)!.metadata.labels.app, 'we"ird');
  });

  test('serializeCapture writes the section after links, unedited (no defaults added)', () => {
    const manifest = { services: [{ metadata: { name: 'api' }, spec: { clusterIP: '10.96.5.5', ports: [{ port: 80 }] } }] };
    const r = validateCapture(capture(manifest));
    assert.ok(r.ok);
    const text = serializeCapture(r.capture);
    assert.deepEqual(JSON.parse(text).kubernetes, manifest);
    assert.deepEqual(Object.keys(JSON.parse(text)), ['apiVersion', 'kind', 'hosts', 'kubernetes']);
  });
});

describe('capture show', () => {
  test('counts each list of the section and lists its warnings', () => {
    const raw = clone();
    (raw.services![0] as { spec: { type: string } }).spec.type = 'Internal';
    const r = validateCapture(capture(raw));
    assert.ok(r.ok);
    const sum = summarizeCapture(r.capture, r.warnings);
    assert.deepEqual(sum.kubernetes, { namespaces: 2, nodes: 2, pods: 8, services: 7, endpointSlices: 8, networkPolicies: 2, adminNetworkPolicies: 0, baselineAdminNetworkPolicies: 0 });
    const text = summaryText(sum);
    assert.match(text, /^Kubernetes API: 2 Namespaces, 2 Nodes, 8 Pods, 7 Services, 8 EndpointSlices, 2 NetworkPolicies, 0 AdminNetworkPolicies, 0 BaselineAdminNetworkPolicies$/m);
    assert.match(text, /^warning: kubernetes\.services\[0\]\.spec\.type: expected one of "ClusterIP", "NodePort", "LoadBalancer", "ExternalName", got "Internal"; Service default\/kubernetes is left out$/m);
  });

  test('no section, no line', () => {
    const r = validateCapture(capture(undefined));
    assert.ok(r.ok);
    assert.equal(summarizeCapture(r.capture).kubernetes, undefined);
    assert.doesNotMatch(summaryText(summarizeCapture(r.capture)), /Kubernetes API/);
  });
});
