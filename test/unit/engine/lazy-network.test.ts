// The Network builds a host's namespace when a trace first reaches it, and its tables when first
// read (network.ts, netns.ts). That must change nothing but the work done: every trace here is
// compared, field for field, with the same trace on a network whose every namespace and table was
// built first; and a trace through a few hosts of a big capture builds only about those.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { syntheticCapture } from '../../../bench/synthetic';
import { serializeCapture } from '../../../src/capture/document';
import { parseCaptureBytes } from '../../../src/capture/lazy';
import { buildNetwork, simulate, type TraceRequest } from '../../../src/engine';
import { builtHosts, type Network } from '../../../src/engine/network';

const NODES = 24;
const PODS = 4;
const cluster = syntheticCapture({ nodes: NODES, podsPerNode: PODS, full: true });
// As a file would give it: probe text left in the bytes, decoded when read.
const loaded = parseCaptureBytes(new TextEncoder().encode(serializeCapture(cluster.capture)));
if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join('; '));
const capture = loaded.capture;

/** Every namespace and every table built before anything is asked: what the network was before it was lazy. */
function eager(): Network {
  const net = buildNetwork(capture);
  for (const ns of net.hosts.values()) void ns.fib;
  return net;
}

const pods = cluster.pods;
const podOn = (node: number, k = 0) => pods.filter((p) => p.node === node)[k]!;
const FLOWS: { name: string; req: TraceRequest }[] = [
  { name: 'cross-node pod -> pod', req: { from: podOn(0).ref, to: podOn(NODES - 1, 2).ref } },
  { name: 'same-node pod -> pod', req: { from: podOn(5).ref, to: podOn(5, 3).ref } },
  { name: 'pod -> node IP', req: { from: podOn(3).ref, to: cluster.nodeNames[9]! } },
  { name: 'node -> another node\'s cni0 address (an address only its interfaces show)', req: { from: cluster.nodeNames[2]!, to: '10.244.7.1' } },
  { name: 'pod -> kube-dns ClusterIP through kube-proxy\'s rules', req: { from: podOn(1).ref, to: '10.96.0.10', proto: 'udp', port: 53 } },
  { name: 'too big for the VXLAN MTU', req: { from: podOn(4).ref, to: podOn(11).ref, size: 1500 } },
  { name: 'to an address nobody has', req: { from: podOn(6).ref, to: '10.244.200.9' } },
];

describe('lazy network', () => {
  test('each trace is the same, field for field, as on a network built whole first', () => {
    const whole = eager();
    for (const f of FLOWS) {
      const lazy = simulate(buildNetwork(capture), f.req);
      const full = simulate(whole, f.req);
      assert.deepEqual(JSON.parse(JSON.stringify(lazy)), JSON.parse(JSON.stringify(full)), f.name);
    }
  });

  test('a cross-node pod-to-pod trace builds its own hosts and few others, of hundreds', () => {
    const net = buildNetwork(capture);
    const f = FLOWS[0]!;
    const out = simulate(net, f.req);
    assert.ok(out.ok && out.result.verdict === 'delivered', JSON.stringify(out));
    const { built, of } = builtHosts(net);
    assert.equal(of, NODES * (PODS + 1));
    // The two pods, their two nodes, and the pods behind the source node's bridge ports (the veth
    // peers are found among the node's pods).
    assert.ok(built <= 4 + PODS, `${built} of ${of} namespaces built`);
    const visited = new Set(out.ok ? out.result.hops.map((h) => h.host) : []);
    assert.equal(visited.size, 4);
  });

  test('the same answers whatever order hosts are first asked in', () => {
    const net = buildNetwork(capture);
    // Ask the destination's node first, then trace the other way too.
    void net.hosts.get(cluster.nodeNames[NODES - 1]!)?.neigh;
    const a = simulate(net, FLOWS[0]!.req);
    const b = simulate(eager(), FLOWS[0]!.req);
    assert.deepEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)));
  });
});
