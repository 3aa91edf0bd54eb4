// Inferred Service rules (src/engine/serviceHooks.ts): a node whose rules the capture lacks gets the
// DNAT kube-proxy would program, from the API objects, in the evaluator's HookOutcome shape.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { validateCapture } from '../../../src/capture/document';
import { buildNetwork, type Network } from '../../../src/engine/network';
import { narrate } from '../../../src/engine/narrate';
import { hasRuleProbes, inferServiceHook } from '../../../src/engine/serviceHooks';
import { serviceIndexOf } from '../../../src/engine/services';
import type { HookCall, HookOutcome, Packet } from '../../../src/engine/walk/packet';
import { Addr } from '../../../src/net/addr';

const fixture = JSON.parse(readFileSync(join(__dirname, '../../fixtures/kubernetes/cluster.json'), 'utf8')) as { kubernetes: unknown };

const addrs = (ip4: string, ip6: string) => `1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    inet 127.0.0.1/8 scope host lo
       valid_lft forever preferred_lft forever
2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP group default qlen 1000
    link/ether 52:54:00:12:34:56 brd ff:ff:ff:ff:ff:ff
    inet ${ip4}/24 brd 10.4.7.255 scope global eth0
       valid_lft forever preferred_lft forever
    inet6 ${ip6}/64 scope global
       valid_lft forever preferred_lft forever
`;

function network(node2Probes: Record<string, string> = {}): Network {
  const r = validateCapture({
    apiVersion: 'netpath/v1',
    kind: 'Capture',
    hosts: [
      { name: 'k8s-node1', role: 'node', ips: ['10.4.7.21'], probes: { addrs: addrs('10.4.7.21', 'fd00:4:7::21') } },
      { name: 'k8s-node2', role: 'node', ips: ['10.4.7.22'], probes: { addrs: addrs('10.4.7.22', 'fd00:4:7::22'), ...node2Probes } },
      { name: 'web-0', role: 'pod', node: 'k8s-node1', namespace: 'default', pod: 'web-0', ips: ['10.244.1.10'] },
    ],
    kubernetes: fixture.kubernetes,
  });
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  return buildNetwork(r.capture);
}

const net = network();
const ix = serviceIndexOf(net);

function call(host: string, src: string, dst: string, dport: number | undefined, opts: { proto?: string; hook?: HookCall['hook']; connection?: Packet['connection']; n?: Network } = {}): HookCall {
  const n = opts.n ?? net;
  const packet: Packet = {
    src: Addr.must(src),
    dst: Addr.must(dst),
    proto: (opts.proto ?? 'tcp') as Packet['proto'],
    dport,
    sport: 40000,
    size: 64,
    ttl: 64,
    df: true,
    mark: 0,
    connection: opts.connection ?? 'new',
  };
  return { ns: n.hosts.get(host)!, hook: opts.hook ?? 'prerouting', layer: 'inet', packet };
}

const ends = (os: HookOutcome[] | undefined) => (os ?? []).map((o) => `${o.verdict} ${o.endpoint ? `${o.endpoint.ip}:${o.endpoint.port}` : '-'} ${o.probability}`);

describe('inferred Service rules', () => {
  test('the same index for a Network, built once', () => assert.equal(serviceIndexOf(net), ix));

  test('a pod to a ClusterIP: one DNAT per ready endpoint, equally likely, marked inferred with the API objects as evidence', () => {
    const os = inferServiceHook(ix, call('k8s-node1', '10.244.1.10', '10.96.0.50', 80))!;
    assert.deepEqual(ends(os), ['accept 10.244.1.10:8080 0.5', 'accept 10.244.2.11:8080 0.5']);
    const o = os[1]!;
    assert.equal(o.packet.dst.toString(), '10.244.2.11');
    assert.equal(o.packet.dport, 8080);
    assert.equal(o.packet.src.toString(), '10.244.1.10', 'the source is not rewritten here');
    assert.equal(o.steps.length, 1);
    const s = o.steps[0]!;
    assert.equal(s.kind, 'inferred');
    assert.equal(s.inferred, true);
    assert.deepEqual(s.detail && s.detail.type === 'service-inferred' ? [s.detail.service, s.detail.via, s.detail.choice, s.detail.of, s.detail.endpoint] : [], [
      'default/web:http',
      'cluster-ip',
      2,
      2,
      { ip: '10.244.2.11', port: 8080, pod: 'default/web-1', nodeName: 'k8s-node2' },
    ]);
    assert.deepEqual(
      s.records.map((r) => `${r.host} ${r.probe}`),
      ['kubernetes services[2]', 'kubernetes endpointSlices[2].endpoints[1]'],
    );
    assert.match(s.text, /^k8s-node1's kube-proxy rules are not in the capture; from the API, 10\.96\.0\.50:80\/tcp is the ClusterIP of Service default\/web:http: kube-proxy would rewrite the destination to 10\.244\.2\.11:8080 \(default\/web-1 on k8s-node2\), endpoint 2 of 2 \(50% of new connections\); ClientIP affinity keeps a returning client on its endpoint for 10800s\. Inferred\.$/);
  });

  test('the node\'s own process (OUTPUT) to the IPv6 ClusterIP of the dual-stack Service', () => {
    const os = inferServiceHook(ix, call('k8s-node2', 'fd00:4:7::22', 'fd00:96::50', 9090, { hook: 'output' }));
    assert.deepEqual(ends(os), ['accept fd00:244:1::10:9090 0.5', 'accept fd00:244:2::11:9090 0.5']);
  });

  test('NodePort from outside with externalTrafficPolicy Local: only the node\'s own ready endpoint', () => {
    assert.deepEqual(ends(inferServiceHook(ix, call('k8s-node1', '198.51.100.50', '10.4.7.21', 30080))), ['accept 10.244.1.10:8080 1']);
    assert.deepEqual(ends(inferServiceHook(ix, call('k8s-node2', '198.51.100.50', '10.4.7.22', 30080))), ['accept 10.244.2.11:8080 1']);
    const text = inferServiceHook(ix, call('k8s-node2', '198.51.100.50', '10.4.7.22', 30080))![0]!.steps[0]!.text;
    assert.match(text, /is the NodePort of Service default\/web:http.*\(externalTrafficPolicy Local: k8s-node2's own endpoints\)/);
  });

  test('NodePort from a pod of a Local Service: every endpoint (kube-proxy short-circuits pod traffic)', () => {
    assert.deepEqual(ends(inferServiceHook(ix, call('k8s-node2', '10.244.2.11', '10.4.7.22', 30080))), ['accept 10.244.1.10:8080 0.5', 'accept 10.244.2.11:8080 0.5']);
  });

  test('a NodePort on another node\'s address is not this node\'s to rewrite', () => {
    assert.equal(inferServiceHook(ix, call('k8s-node1', '198.51.100.50', '10.4.7.22', 30080)), undefined);
  });

  test('SCTP, only a terminating endpoint: kube-proxy falls back to it', () => {
    const os = inferServiceHook(ix, call('k8s-node2', '10.244.2.11', '10.96.0.60', 7777, { proto: 'sctp' }))!;
    assert.deepEqual(ends(os), ['accept 10.244.1.20:7777 1']);
    assert.match(os[0]!.steps[0]!.text, /a terminating endpoint used because none is ready/);
  });

  test('no endpoint: reject; internalTrafficPolicy Local with endpoints only elsewhere: drop; LoadBalancer IP to the endpoint', () => {
    // As kube-proxy's tables: the nat table leaves it (PREROUTING), the filter table stops it (FORWARD here).
    assert.equal(inferServiceHook(ix, call('k8s-node1', '10.244.1.10', '10.96.0.80', 80)), undefined);
    const rej = inferServiceHook(ix, call('k8s-node1', '10.244.1.10', '10.96.0.80', 80, { hook: 'forward' }))!;
    assert.deepEqual(ends(rej), ['reject - 1']);
    assert.deepEqual(ends(inferServiceHook(ix, call('k8s-node1', '10.4.7.21', '10.96.0.80', 80, { hook: 'output' }))), ['reject - 1'], 'the node\'s own: filter OUTPUT');
    assert.match(rej[0]!.steps[0]!.text, /Service default\/empty:http, which has no endpoint: kube-proxy rejects it \(ICMP port unreachable\)/);
    const drop = inferServiceHook(ix, call('k8s-node1', '10.244.1.10', '10.96.0.70', 443, { hook: 'forward' }))!;
    assert.deepEqual(ends(drop), ['drop - 1']);
    assert.match(drop[0]!.steps[0]!.text, /no endpoint on k8s-node1 \(internalTrafficPolicy Local/);
    assert.deepEqual(ends(inferServiceHook(ix, call('k8s-node2', '10.244.2.11', '10.96.0.70', 443))), ['accept 10.244.2.30:8443 1']);
    assert.deepEqual(ends(inferServiceHook(ix, call('k8s-node1', '198.51.100.50', '203.0.113.10', 443))), ['accept 10.244.2.30:8443 1']);
    assert.deepEqual(ends(inferServiceHook(ix, call('k8s-node1', '198.51.100.50', '198.51.100.7', 443))), ['accept 10.244.2.30:8443 1']);
  });

  test('masquerade: kube-proxy marks what it would (KUBE-MARK-MASQ) and POSTROUTING gives it the outgoing device\'s address', () => {
    const mark = (os: HookOutcome[] | undefined) => (os ?? []).map((o) => `${o.endpoint?.ip} ${o.packet.mark.toString(16)} ${(o.steps[0]!.detail as { masquerade?: string }).masquerade ?? '-'}`);
    // A pod to a ClusterIP: no mark, except where the rules pick the pod itself (hairpin).
    assert.deepEqual(mark(inferServiceHook(ix, call('k8s-node1', '10.244.1.10', '10.96.0.50', 80))), ['10.244.1.10 4000 hairpin', '10.244.2.11 0 -']);
    // The node itself to a ClusterIP: its address is outside the pod CIDRs.
    assert.deepEqual(mark(inferServiceHook(ix, call('k8s-node1', '10.4.7.21', '10.96.0.50', 80, { hook: 'output' }))), ['10.244.1.10 4000 outside-cluster', '10.244.2.11 4000 outside-cluster']);
    // From outside to a NodePort of a Local Service: the client's address is kept; the node's own traffic to it is masqueraded.
    assert.deepEqual(mark(inferServiceHook(ix, call('k8s-node2', '198.51.100.50', '10.4.7.22', 30080))), ['10.244.2.11 0 -']);
    assert.deepEqual(mark(inferServiceHook(ix, call('k8s-node2', '10.4.7.22', '10.4.7.22', 30080, { hook: 'output' }))), ['10.244.1.10 4000 local-external', '10.244.2.11 4000 local-external']);
    // A LoadBalancer IP of a Cluster-policy Service from outside: masqueraded.
    assert.deepEqual(mark(inferServiceHook(ix, call('k8s-node1', '198.51.100.50', '203.0.113.10', 443))), ['10.244.2.30 4000 external']);
    const dnat = inferServiceHook(ix, call('k8s-node1', '198.51.100.50', '203.0.113.10', 443))![0]!;
    assert.match(dnat.steps[0]!.text, /marks the connection for masquerade \(external traffic under the Cluster policy may cross nodes\)/);
    // POSTROUTING: the marked packet leaves by eth0 as 10.4.7.21; an unmarked one is untouched.
    const post = (packet: Packet) => inferServiceHook(ix, { ns: net.hosts.get('k8s-node1')!, hook: 'postrouting', layer: 'inet', packet, oif: 'eth0' }, (dev) => (dev === 'eth0' ? Addr.must('10.4.7.21') : undefined));
    const m = post(dnat.packet)!;
    assert.deepEqual([m[0]!.packet.src.toString(), m[0]!.packet.mark, m[0]!.steps[0]!.inferred], ['10.4.7.21', 0, true]);
    assert.match(m[0]!.steps[0]!.text, /rewrites the source 198\.51\.100\.50 to 10\.4\.7\.21, the address of eth0 \(MASQUERADE\)\. Inferred\./);
    assert.equal(post({ ...dnat.packet, mark: 0 }), undefined);
  });

  test('no answer where kube-proxy would not act, or where the node\'s rules can be read', () => {
    assert.equal(inferServiceHook(ix, call('k8s-node1', '10.244.1.10', '10.96.0.50', 80, { hook: 'forward' })), undefined);
    assert.equal(inferServiceHook(ix, call('k8s-node1', '10.244.1.10', '10.96.0.50', 80, { connection: 'established' })), undefined);
    assert.equal(inferServiceHook(ix, call('k8s-node1', '10.244.1.10', '10.96.0.50', 81)), undefined);
    assert.equal(inferServiceHook(ix, call('k8s-node1', '10.244.1.10', '10.96.0.50', undefined, { proto: 'icmp' })), undefined);
    assert.equal(inferServiceHook(ix, call('web-0', '10.244.1.10', '10.96.0.50', 80, { hook: 'output' })), undefined, 'a pod runs no kube-proxy');
    const withRules = network({ iptables: '*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n' });
    assert.equal(inferServiceHook(serviceIndexOf(withRules), call('k8s-node2', '10.244.2.11', '10.96.0.50', 80, { n: withRules })), undefined);
    assert.equal(hasRuleProbes({ iptables: '\n' }), false, 'an empty probe is no rules');
    assert.equal(hasRuleProbes({ nft: 'table ip x {\n}\n' }), true);
  });

  test('the sentence of each verdict', () => {
    const d = { type: 'service-inferred', ns: 'n', hook: 'prerouting', service: 'a/b', via: 'external-ip', frontend: { ip: 'fd00::1', port: 53, proto: 'udp' }, policy: 'Cluster', traffic: 'external', of: 0, probability: 1, terminatingFallback: false, verdict: 'reject' } as const;
    assert.equal(narrate(d), "n's kube-proxy rules are not in the capture; from the API, [fd00::1]:53/udp is the externalIP of Service a/b, which has no endpoint: kube-proxy rejects it (ICMP port unreachable). Inferred.");
  });
});
