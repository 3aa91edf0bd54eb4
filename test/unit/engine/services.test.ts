// The Service index (src/engine/services.ts) on API objects in kubectl's JSON shapes: frontends,
// endpoints kube-proxy programs (ready, terminating fallback, traffic policy Local), `--to svc/...`
// resolution with its errors, address lookups and the picker list.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readKubernetes } from '../../../src/capture/kubernetes';
import { indexOf, service, slice } from './services-objects';
import {
  buildServiceIndex,
  listServices,
  portEndpoints,
  programmedEndpoints,
  resolveServiceRef,
  servicesAt,
  type ServiceIndex,
  type ServiceView,
} from '../../../src/engine/services';

const fixture = JSON.parse(readFileSync(join(__dirname, '../../fixtures/kubernetes/cluster.json'), 'utf8')) as { kubernetes: Record<string, unknown[]> };
const ix: ServiceIndex = buildServiceIndex(readKubernetes(fixture.kubernetes), new Map([['k8s-node1', ['192.168.50.1']]]));
const svc = (key: string): ServiceView => ix.byKey.get(key)!;
const port = (key: string, name: string) => svc(key).ports.find((p) => p.name === name)!;

describe('Service index', () => {
  test('a dual-stack NodePort Service: both ClusterIPs, node ports, Local external policy, ClientIP affinity', () => {
    const web = svc('default/web');
    assert.deepEqual(web.clusterIPs, ['10.96.0.50', 'fd00:96::50']);
    assert.equal(web.type, 'NodePort');
    assert.deepEqual(
      web.ports.map((p) => [p.name, p.protocol, p.port, p.targetPort, p.nodePort]),
      [
        ['http', 'TCP', 80, 'http', 30080],
        ['metrics', 'TCP', 9090, 9090, 30090],
      ],
    );
    assert.equal(web.externalTrafficPolicy, 'Local');
    assert.equal(web.sessionAffinity, 'ClientIP');
    assert.equal(web.affinityTimeout, 10800);
    assert.equal(web.evidence.host, 'kubernetes');
    assert.equal(web.evidence.probe, 'services[2]');
  });

  test('headless and ExternalName Services have no ClusterIP; LoadBalancer has its ingress IP and externalIP', () => {
    assert.equal(svc('default/web-headless').headless, true);
    assert.deepEqual(svc('default/web-headless').clusterIPs, []);
    assert.deepEqual(svc('default/external-db').clusterIPs, []);
    assert.equal(svc('default/external-db').externalName, 'db.example.com');
    assert.deepEqual(svc('default/lb').loadBalancerIPs, ['203.0.113.10']);
    assert.deepEqual(svc('default/lb').externalIPs, ['198.51.100.7']);
    assert.equal(svc('default/lb').internalTrafficPolicy, 'Local');
  });

  test('endpoints of a port come from the slices by port name and protocol, per family, named targetPort resolved by the slice', () => {
    const http4 = portEndpoints(ix, svc('default/web'), port('default/web', 'http'), 4);
    assert.deepEqual(
      http4.map((e) => [e.ip, e.port, e.ready, e.terminating, e.nodeName, e.pod]),
      [
        ['10.244.1.10', 8080, true, false, 'k8s-node1', 'default/web-0'],
        ['10.244.2.11', 8080, true, false, 'k8s-node2', 'default/web-1'],
        ['10.244.2.12', 8080, false, true, 'k8s-node2', 'default/web-2'],
      ],
    );
    assert.deepEqual(
      portEndpoints(ix, svc('default/web'), port('default/web', 'http'), 6).map((e) => e.ip),
      ['fd00:244:1::10', 'fd00:244:2::11'],
    );
    const dnsUdp = svc('kube-system/kube-dns').ports.find((p) => p.protocol === 'UDP')!;
    assert.deepEqual(portEndpoints(ix, svc('kube-system/kube-dns'), dnsUdp).map((e) => `${e.ip}:${e.port}`), ['10.244.1.3:53', '10.244.2.4:53']);
    assert.equal(portEndpoints(ix, svc('kube-system/kube-dns'), dnsUdp)[0]!.evidence.probe, 'endpointSlices[1].endpoints[0]');
  });

  test('kube-proxy programs the ready endpoints, not a terminating one', () => {
    const p = programmedEndpoints(ix, svc('default/web'), port('default/web', 'http'), 4, 'k8s-node1', 'internal');
    assert.deepEqual(p.endpoints.map((e) => e.ip), ['10.244.1.10', '10.244.2.11']);
    assert.equal(p.terminatingFallback, false);
    assert.equal(p.none, undefined);
  });

  test('with no ready endpoint anywhere, the serving terminating ones (SCTP Service)', () => {
    const s = svc('default/sctp-echo');
    const p = programmedEndpoints(ix, s, s.ports[0]!, 4, 'k8s-node2', 'internal');
    assert.deepEqual(p.endpoints.map((e) => `${e.ip}:${e.port}`), ['10.244.1.20:7777']);
    assert.equal(p.terminatingFallback, true);
  });

  test('externalTrafficPolicy Local: only the node\'s own endpoints; none on the node with endpoints elsewhere: drop', () => {
    const http = port('default/web', 'http');
    const n2 = programmedEndpoints(ix, svc('default/web'), http, 4, 'k8s-node2', 'external');
    assert.deepEqual(n2.endpoints.map((e) => e.ip), ['10.244.2.11']);
    assert.equal(n2.policy, 'Local');
    const n3 = programmedEndpoints(ix, svc('default/web'), http, 4, 'k8s-node3', 'external');
    assert.deepEqual(n3.endpoints, []);
    assert.equal(n3.none, 'drop');
    // ClusterIP traffic to the same Service follows internalTrafficPolicy (Cluster): every ready endpoint.
    assert.equal(programmedEndpoints(ix, svc('default/web'), http, 4, 'k8s-node3', 'internal').endpoints.length, 2);
  });

  test('internalTrafficPolicy Local on the LoadBalancer Service: ClusterIP traffic only to the node\'s endpoint, external traffic to all', () => {
    const lb = svc('default/lb');
    assert.equal(programmedEndpoints(ix, lb, lb.ports[0]!, 4, 'k8s-node1', 'internal').none, 'drop');
    assert.deepEqual(programmedEndpoints(ix, lb, lb.ports[0]!, 4, 'k8s-node2', 'internal').endpoints.map((e) => e.ip), ['10.244.2.30']);
    assert.deepEqual(programmedEndpoints(ix, lb, lb.ports[0]!, 4, 'k8s-node1', 'external').endpoints.map((e) => e.ip), ['10.244.2.30']);
  });

  test('a Service with no endpoints at all: reject', () => {
    const e = svc('default/empty');
    assert.equal(programmedEndpoints(ix, e, e.ports[0]!, 4, 'k8s-node1', 'internal').none, 'reject');
  });
});

describe('which Service an address is', () => {
  test('ClusterIP (both families), externalIP, LoadBalancer IP, NodePort on a node address', () => {
    assert.deepEqual(servicesAt(ix, '10.96.0.50', 80, 'tcp').map((m) => [m.label, m.via]), [['default/web:http', 'cluster-ip']]);
    assert.deepEqual(servicesAt(ix, 'fd00:96:0::50', 80, 'tcp').map((m) => m.label), ['default/web:http']);
    assert.deepEqual(servicesAt(ix, '198.51.100.7', 443, 'tcp').map((m) => [m.label, m.via]), [['default/lb', 'external-ip']]);
    assert.deepEqual(servicesAt(ix, '203.0.113.10', 443, 'tcp').map((m) => [m.label, m.via]), [['default/lb', 'load-balancer']]);
    assert.deepEqual(servicesAt(ix, '10.4.7.22', 30080, 'tcp').map((m) => [m.label, m.via]), [['default/web:http', 'node-port']]);
    // A node address the capture adds (not in the API's Node status).
    assert.deepEqual(servicesAt(ix, '192.168.50.1', 31443, 'tcp').map((m) => m.label), ['default/lb']);
  });

  test('the wrong protocol or port, or a pod address, is no Service', () => {
    assert.deepEqual(servicesAt(ix, '10.96.0.50', 80, 'udp'), []);
    assert.deepEqual(servicesAt(ix, '10.96.0.50', 81, 'tcp'), []);
    assert.deepEqual(servicesAt(ix, '10.244.1.10', 30080, 'tcp'), []);
    assert.deepEqual(servicesAt(ix, 'not-an-ip'), []);
  });

  test('a hover without a port: every port of the Service at that address', () => {
    assert.deepEqual(servicesAt(ix, '10.96.0.10').map((m) => m.label).sort(), ['kube-system/kube-dns:dns', 'kube-system/kube-dns:dns-tcp', 'kube-system/kube-dns:metrics']);
  });
});

describe('--to svc/NAMESPACE/NAME[:PORT]', () => {
  const ok = (ref: string, opts = {}) => {
    const r = resolveServiceRef(ix, ref, opts);
    assert.ok(r.ok, r.ok ? '' : r.error);
    return r.value;
  };
  const err = (ref: string, opts = {}) => {
    const r = resolveServiceRef(ix, ref, opts);
    assert.ok(!r.ok, `expected an error for ${ref}`);
    return r.error;
  };

  test('by port name, by number, and a one-port Service without a port', () => {
    assert.deepEqual(
      (({ ip, port, proto, service }) => ({ ip, port, proto, service }))(ok('svc/default/web:http')),
      { ip: '10.96.0.50', port: 80, proto: 'tcp', service: 'default/web:http' },
    );
    assert.equal(ok('svc/default/web:9090').service, 'default/web:metrics');
    assert.deepEqual(
      (({ ip, port, proto, service }) => ({ ip, port, proto, service }))(ok('svc/default/sctp-echo')),
      { ip: '10.96.0.60', port: 7777, proto: 'sctp', service: 'default/sctp-echo' },
    );
  });

  test('dual-stack: the family asked for, else the primary', () => {
    assert.equal(ok('svc/default/web:http', { family: 6 }).ip, 'fd00:96::50');
    assert.equal(ok('svc/default/web:http').ip, '10.96.0.50');
    assert.equal(ok('svc/default/lb', { family: 6 }).ip, '10.96.0.70', 'a single-stack Service keeps its only ClusterIP');
  });

  test('several ports and none given: an error listing them', () => {
    const e = err('svc/default/web');
    assert.match(e, /default\/web has 2 ports \(http \(80\/TCP\), metrics \(9090\/TCP\)\): name one, e\.g\. svc\/default\/web:http or svc\/default\/web:metrics/);
  });

  test('port 53 of kube-dns is UDP and TCP: --proto decides, else the error says to give it', () => {
    assert.match(err('svc/kube-system/kube-dns:53'), /has 2 ports \(dns \(53\/UDP\), dns-tcp \(53\/TCP\)\).*or give --proto udp\|tcp/);
    assert.equal(ok('svc/kube-system/kube-dns:53', { proto: 'udp' }).service, 'kube-system/kube-dns:dns');
    assert.equal(ok('svc/kube-system/kube-dns', { proto: 'tcp', port: 53 }).service, 'kube-system/kube-dns:dns-tcp');
    assert.match(err('svc/default/web:http', { proto: 'udp' }), /default\/web has no UDP port; its ports: http \(80\/TCP\), metrics \(9090\/TCP\)/);
  });

  test('headless: no ClusterIP, trace to a pod instead (names them)', () => {
    const e = err('svc/default/web-headless');
    assert.match(e, /is headless \(clusterIP: None\).*no ClusterIP to trace.*trace to one of its pods instead \(--to default\/web-0, --to default\/web-1\)/);
  });

  test('ExternalName: a CNAME, no rules; trace to the address it resolves to', () => {
    assert.match(err('svc/default/external-db'), /is an ExternalName Service: DNS answers its name with a CNAME to "db\.example\.com".*trace to the address that name resolves to \(--to IP\)/);
  });

  test('unknown Service, unknown port, bad syntax, no Services in the capture', () => {
    assert.match(err('svc/default/webb'), /no Service default\/webb in this capture; Services in namespace "default": empty, external-db, kubernetes, lb, sctp-echo, web, web-headless/);
    assert.match(err('svc/prod/web'), /a Service of that name is in svc\/default\/web/);
    assert.match(err('svc/default/web:https'), /has no port "https"; its ports: http \(80\/TCP\), metrics \(9090\/TCP\)/);
    assert.match(err('svc/web'), /write svc\/NAMESPACE\/NAME or svc\/NAMESPACE\/NAME:PORT/);
    for (const none of [undefined, buildServiceIndex(readKubernetes(undefined))]) {
      const r = resolveServiceRef(none, 'svc/a/b');
      assert.ok(!r.ok);
      assert.match(r.error, /this capture has no Services \(its "kubernetes" section has no "services" list\)/);
    }
  });

  test('a hostile name is quoted as data in the error', () => {
    assert.match(err('svc/default/we"ird'), /no Service default\/we"ird/);
  });
});

describe('Services for pickers', () => {
  test('each Service with its ports, refs and ready endpoints; untraceable ones say why', () => {
    const list = listServices(ix);
    assert.deepEqual(
      list.map((s) => s.key),
      ['default/empty', 'default/external-db', 'default/kubernetes', 'default/lb', 'default/sctp-echo', 'default/web', 'default/web-headless', 'kube-system/kube-dns'],
    );
    const web = list.find((s) => s.key === 'default/web')!;
    assert.deepEqual(
      web.ports.map((p) => [p.ref, p.label, p.endpoints]),
      [
        ['svc/default/web:http', 'default/web:http', 4],
        ['svc/default/web:metrics', 'default/web:metrics', 4],
      ],
    );
    assert.equal(web.untraceable, undefined);
    assert.equal(list.find((s) => s.key === 'default/sctp-echo')!.ports[0]!.ref, 'svc/default/sctp-echo:7777');
    assert.match(list.find((s) => s.key === 'default/web-headless')!.untraceable!, /headless/);
    assert.match(list.find((s) => s.key === 'default/external-db')!.untraceable!, /ExternalName/);
  });
});

describe('topology-aware routing (zone hints)', () => {
  const zoned = (spec: Record<string, unknown>, annotations: Record<string, string> = {}, hintless = false) => {
    const svc = service('default', 'api', ['10.96.9.9'], [{ name: 'http', port: 80, targetPort: 8080 }], spec) as { metadata: Record<string, unknown> };
    svc.metadata.annotations = annotations;
    const sl = slice('default', 'api', 'z', 'IPv4', [{ ip: '10.244.1.1', node: 'n-a' }, { ip: '10.244.2.1', node: 'n-b' }, { ip: '10.244.3.1', node: 'n-b2' }], [{ name: 'http', port: 8080 }]) as { endpoints: Record<string, unknown>[] };
    sl.endpoints[0]!.hints = { forZones: [{ name: 'zone-a' }] };
    sl.endpoints[1]!.hints = { forZones: [{ name: 'zone-b' }] };
    if (!hintless) sl.endpoints[2]!.hints = { forZones: [{ name: 'zone-b' }] };
    const nodes = ['a', 'b', 'c'].map((z) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: `n-${z}`, labels: { 'topology.kubernetes.io/zone': `zone-${z}` } }, status: { addresses: [] } }));
    const ix = indexOf({ services: [svc], endpointSlices: [sl], nodes });
    const s = ix.byKey.get('default/api')!;
    return (node: string) => {
      const p = programmedEndpoints(ix, s, s.ports[0]!, 4, node, 'internal');
      return { ips: p.endpoints.map((e) => e.ip), zone: p.zone };
    };
  };

  test('trafficDistribution PreferClose: the endpoints hinted for the node\'s zone', () => {
    const on = zoned({ trafficDistribution: 'PreferClose' });
    assert.deepEqual(on('n-a'), { ips: ['10.244.1.1'], zone: 'zone-a' });
    assert.deepEqual(on('n-b'), { ips: ['10.244.2.1', '10.244.3.1'], zone: 'zone-b' });
    assert.deepEqual(on('n-c').ips, ['10.244.1.1', '10.244.2.1', '10.244.3.1'], 'no endpoint for zone-c: every endpoint');
  });

  test('the topology-mode annotation Auto does the same; without either, or with an endpoint lacking hints, every endpoint', () => {
    assert.deepEqual(zoned({}, { 'service.kubernetes.io/topology-mode': 'Auto' })('n-a').ips, ['10.244.1.1']);
    assert.deepEqual(zoned({})('n-a').ips, ['10.244.1.1', '10.244.2.1', '10.244.3.1']);
    assert.deepEqual(zoned({ trafficDistribution: 'PreferClose' }, {}, true)('n-a'), { ips: ['10.244.1.1', '10.244.2.1', '10.244.3.1'], zone: undefined });
  });
});
