// The walk's netfilter hook points, with a stand-in evaluator: where each hook runs (and with which
// devices), and what an outcome does to the path — accept with a rewritten packet, drop, reject, or
// several outcomes with their chances (a Service's endpoints). Without an evaluator every hook accepts
// unchanged (the frozen traces prove that).
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseCapture } from '../../../src/capture/document';
import { buildNetwork, simulate, type Network, type TraceResult } from '../../../src/engine';
import { netfilterStep } from '../../../src/engine/walk/hooks';
import type { HookCall, HookOutcome } from '../../../src/engine/walk/packet';
import { Addr } from '../../../src/net/addr';

const demoText = readFileSync(join(__dirname, '../../../examples/demo-flannel-vxlan.json'), 'utf8');

function demo(run: (call: HookCall) => HookOutcome[] | undefined): Network {
  const c = parseCapture(demoText);
  if (!c.ok) throw new Error(JSON.stringify(c.errors));
  const net = buildNetwork(c.capture);
  net.netfilter = { run };
  return net;
}

function trace(net: Network, from: string, to: string): TraceResult {
  const r = simulate(net, { from, to });
  if (!r.ok) throw new Error(r.error);
  return r.result;
}

const show = (c: HookCall) => `${c.ns.name} ${c.layer} ${c.hook} ${c.iif ?? '-'}>${c.oif ?? '-'}${c.physIn !== undefined || c.physOut !== undefined ? ` phys ${c.physIn ?? '-'}>${c.physOut ?? '-'}` : ''}`;
const accept = (call: HookCall, steps = []): HookOutcome[] => [{ verdict: 'accept', packet: call.packet, probability: 1, steps }];

describe('netfilter hook points', () => {
  test('each hook runs where the kernel runs it, with its devices: output/postrouting at the sender, br_netfilter on a bridge port, forward then postrouting per next hop, prerouting/input before delivery', () => {
    const calls: string[] = [];
    const net = demo((call) => {
      calls.push(show(call));
      return undefined;
    });
    const r = trace(net, 'default/web-0', 'default/web-1');
    assert.equal(r.verdict, 'delivered');
    const web0Port = r.hops[1]!.in!;
    const web1Port = r.hops[3]!.out!;
    assert.deepEqual(calls, [
      // ip_local_out: OUTPUT after the route lookup, POSTROUTING before the neighbour.
      'web-0 inet output ->eth0',
      'web-0 inet postrouting ->eth0',
      // The frame enters cni0 by web-0's port: the bridge family's PREROUTING, br_netfilter's inet
      // PREROUTING (the bridge as the device, the port as physIn); it is for cni0's MAC: the bridge's
      // INPUT, and ip_rcv does not run PREROUTING again.
      `k8s-node1 bridge prerouting ${web0Port}>-`,
      `k8s-node1 inet prerouting cni0>- phys ${web0Port}>-`,
      `k8s-node1 bridge input ${web0Port}>-`,
      // Routed: FORWARD with both devices, POSTROUTING; the VXLAN outer packet is a local one.
      'k8s-node1 inet forward cni0>flannel.1',
      'k8s-node1 inet postrouting ->flannel.1',
      'k8s-node1 inet output ->eth0',
      'k8s-node1 inet postrouting ->eth0',
      // The switch bridges the outer frame (its capture has bridge-nf-call-iptables = 1).
      'tor bridge prerouting p1>-',
      'tor inet prerouting br0>- phys p1>-',
      'tor bridge forward p1>p2',
      'tor inet forward br0>br0 phys p1>p2',
      'tor bridge postrouting p1>p2',
      'tor inet postrouting ->br0 phys p1>p2',
      // node2: the outer packet is delivered locally (to the VTEP), the inner one arrives on flannel.1.
      'k8s-node2 inet prerouting eth0>-',
      'k8s-node2 inet input eth0>-',
      'k8s-node2 inet prerouting flannel.1>-',
      'k8s-node2 inet forward flannel.1>cni0',
      'k8s-node2 inet postrouting ->cni0',
      // The host sends into cni0: the bridge family's OUTPUT and POSTROUTING only (br_netfilter leaves
      // locally sent frames alone).
      `k8s-node2 bridge output ->${web1Port}`,
      `k8s-node2 bridge postrouting ->${web1Port}`,
      'web-1 inet prerouting eth0>-',
      'web-1 inet input eth0>-',
    ]);
  });

  test('a drop at FORWARD ends the path there as filtered, after the rules\' own steps', () => {
    const net = demo((call) => {
      if (call.ns.name !== 'k8s-node1' || call.hook !== 'forward' || call.layer !== 'inet') return undefined;
      const s = netfilterStep(call, { kind: 'policy', family: 'ip', table: 'filter', chain: 'FORWARD', source: 'iptables', policy: 'drop', evidence: { host: 'k8s-node1', probe: 'iptables', line: 3, raw: ':FORWARD DROP [0:0]' } });
      return [{ verdict: 'drop', packet: call.packet, probability: 1, steps: [s] }];
    });
    const r = trace(net, 'default/web-0', 'default/web-1');
    assert.equal(r.verdict, 'filtered');
    assert.equal(r.ending, 'dropped');
    // Where the IP layer had it: arrived on cni0 (the bridge), not yet sent out of flannel.1.
    assert.deepEqual(r.dropAt, { host: 'k8s-node1', dev: 'cni0' });
    const steps = r.hops[1]!.steps;
    const nf = steps[steps.length - 2]!;
    assert.equal(nf.kind, 'netfilter');
    assert.deepEqual(nf.records.map((e) => `${e.host} ${e.probe}:${e.line}`), ['k8s-node1 iptables:3']);
    assert.equal(nf.detail?.type, 'netfilter');
    const last = steps[steps.length - 1]!;
    assert.deepEqual(last.detail, { type: 'nf-verdict', ns: 'k8s-node1', hook: 'forward', layer: 'inet', verdict: 'drop' });
    assert.equal(r.reason, last.text);
  });

  test('a reject at INPUT is rejected, at the destination', () => {
    const net = demo((call) => (call.ns.name === 'web-1' && call.hook === 'input' ? [{ verdict: 'reject', packet: call.packet, probability: 1, steps: [] }] : undefined));
    const r = trace(net, 'default/web-0', 'default/web-1');
    assert.equal(r.verdict, 'rejected');
    assert.deepEqual(r.dropAt, { host: 'web-1', dev: 'eth0' });
  });

  test('a DNAT at OUTPUT with two endpoints forks: each path is routed again to its endpoint, with its chance', () => {
    const vip = Addr.must('10.96.0.10');
    const endpoints = ['10.244.1.3', '10.244.0.2'];
    const net = demo((call) => {
      if (call.hook !== 'output' || !call.packet.dst.equals(vip)) return call.hook === 'output' ? accept(call) : undefined;
      return endpoints.map((ip) => ({ verdict: 'accept' as const, packet: { ...call.packet, dst: Addr.must(ip), dport: 8080 }, probability: 0.5, steps: [], endpoint: { ip, port: 8080 } }));
    });
    const r = trace(net, 'default/web-0', '10.96.0.10');
    assert.equal(r.paths.length, 2);
    assert.deepEqual(r.paths.map((p) => [p.verdict, p.endpoint, p.probability, p.hops[p.hops.length - 1]!.host]), [
      ['delivered', { ip: '10.244.1.3', port: 8080 }, 0.5, 'web-1'],
      ['delivered', { ip: '10.244.0.2', port: 8080 }, 0.5, 'coredns-6d8c4cb4d-xk7t2'],
    ]);
    assert.deepEqual(r.paths.map((p) => p.branch), ['output -> 10.244.1.3:8080 (50%)', 'output -> 10.244.0.2:8080 (50%)']);
    assert.deepEqual(r.paths[0]!.forks, [{ kind: 'netfilter', host: 'web-0', hook: 'output', choice: 1, probability: 0.5, endpoint: { ip: '10.244.1.3', port: 8080 }, label: 'output -> 10.244.1.3:8080 (50%)' }]);
    // Rerouted: the first hop has a second route lookup, for the endpoint.
    assert.equal(r.paths[0]!.hops[0]!.steps.filter((s) => s.kind === 'route').length, 2);
    assert.equal(r.verdict, 'delivered');
  });

  test('an evaluator that accepts everything unchanged gives the same trace as none', () => {
    const plain = trace(demo(() => undefined), 'default/web-0', 'default/web-1');
    const accepting = trace(demo((call) => accept(call)), 'default/web-0', 'default/web-1');
    assert.deepEqual(accepting, plain);
  });
});
