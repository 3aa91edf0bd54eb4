// A packet to a Service's address on a protocol or port the Service does not serve: kube-proxy leaves it
// alone, so it goes wherever the routes send a packet for that address — usually nowhere. The trace says
// why, on the demo capture (kube-proxy's iptables rules on its nodes, kube-dns from the API objects).
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseCapture, type Capture } from '../../../src/capture/document';
import { buildNetwork, simulate, type TraceRequest, type TraceResult } from '../../../src/engine';
import { traceShort, traceText } from '../../../src/cli/traceText';

function demo(): Capture {
  const r = parseCapture(readFileSync(join(__dirname, '../../../examples/demo-flannel-vxlan.json'), 'utf8'));
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.capture;
}

const net = buildNetwork(demo());
function trace(req: TraceRequest): TraceResult {
  const r = simulate(net, req);
  if (!r.ok) throw new Error(r.error);
  return r.result;
}

describe('a Service address on a port the Service does not serve', () => {
  test('ping to kube-dns\'s ClusterIP: no route at gw, and the diagnosis says kube-proxy rewrites only the Service\'s ports', () => {
    const r = trace({ from: 'default/web-0', to: '10.96.0.10' });
    assert.equal(r.verdict, 'no-route');
    assert.deepEqual(r.dropAt, { host: 'gw', dev: null });
    // The Service's ports first; then the drop at gw explained (the table it searched).
    assert.deepEqual(r.diagnosis?.map((x) => x.kind), ['service-port-not-served', 'no-route']);
    const d = r.diagnosis![0]!;
    assert.equal(d.kind, 'service-port-not-served');
    assert.equal(d.host, 'k8s-node1');
    assert.equal(d.probe, 'iptables');
    assert.equal(d.owner, 'kube-proxy');
    assert.equal(d.actual, 'ICMP');
    assert.equal(d.expected, 'a port the Service serves: 53/UDP (dns), 53/TCP (dns-tcp), 9153/TCP (metrics)');
    assert.match(d.text, /^10\.96\.0\.10 is the address of Service kube-system\/kube-dns/);
    assert.equal(d.fix, 'trace a port the Service serves: --proto udp --port 53, or --to svc/kube-system/kube-dns:dns');
    assert.match(traceText(r), /\ndiagnosis \(2 causes, most likely first\):\n 1\. k8s-node1 iptables {2}\(service-port-not-served\)\n/);
    assert.match(traceShort(r), /^diagnosis at k8s-node1: 10\.96\.0\.10 is the address of Service kube-system\/kube-dns/m);
  });

  test('a TCP port the Service does not serve gets the same diagnosis, naming that port', () => {
    const r = trace({ from: 'default/web-0', to: '10.96.0.10', proto: 'tcp', port: 80 });
    assert.notEqual(r.verdict, 'delivered');
    assert.equal(r.diagnosis?.[0]?.actual, '80/TCP');
  });

  test('a port the Service serves is rewritten: no such diagnosis, whatever happens to the endpoints', () => {
    for (const req of [{ from: 'default/web-0', to: '10.96.0.10', proto: 'udp' as const, port: 53 }, { from: 'default/web-0', to: 'svc/kube-system/kube-dns:dns' }]) {
      const r = trace(req);
      assert.equal(r.verdict, 'delivered');
      assert.ok(r.paths.every((p) => p.endpoint !== undefined));
      assert.equal(r.diagnosis, undefined);
    }
  });

  test('an address no Service has: no diagnosis from Services', () => {
    const r = trace({ from: 'default/web-0', to: '10.96.0.99' });
    assert.equal(r.verdict, 'no-route');
    assert.deepEqual(r.diagnosis?.map((x) => [x.kind, x.host]), [['no-route', 'gw']]);
  });
});

describe("a node's connection to a NodePort on its own address", () => {
  test('the source is picked at the route lookup (the local route), OUTPUT DNATs it and it is routed again to each endpoint', () => {
    const r = trace({ from: 'k8s-node1', to: '10.4.7.21', proto: 'tcp', port: 30080 });
    assert.equal(r.verdict, 'delivered');
    assert.equal(r.flow.src, '10.4.7.21');
    assert.deepEqual(r.paths.map((p) => [p.endpoint?.ip, p.hops[p.hops.length - 1]!.host]), [['10.244.0.3', 'web-0'], ['10.244.1.3', 'web-1']]);
    const first = r.paths[0]!.hops[0]!.steps;
    const src = first.find((s) => s.kind === 'src');
    assert.deepEqual(src?.detail, { type: 'src', addr: '10.4.7.21', from: 'route', dev: 'eth0' });
    // The source is set before the first netfilter step (OUTPUT), as the kernel has it then.
    assert.ok(first.indexOf(src!) < first.findIndex((s) => s.kind === 'netfilter'));
  });

  test("externalTrafficPolicy Local without a local endpoint: the node's own traffic still goes to every endpoint (KUBE-EXT's local-traffic rule)", () => {
    const r = trace({ from: 'k8s-node1', to: '10.4.7.21', proto: 'tcp', port: 30081 });
    assert.equal(r.verdict, 'delivered');
    assert.deepEqual(r.paths.map((p) => p.endpoint?.ip), ['10.244.2.2']);
  });
});
