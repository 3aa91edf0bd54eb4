// Whole Service traces judged by the kernel. The demo cluster (3 nodes, flannel VXLAN, the gateway gw
// outside the cluster on the node network) runs kube-proxy's rules in its nodes — iptables mode with
// flannel's FLANNEL-FWD / FLANNEL-POSTRTG and Docker's FORWARD policy DROP, then nftables mode
// (`table ip kube-proxy`) — and is captured with every probe (iptables, ip6tables, nft, ipset). For
// each case real connections go from a pod or from gw to a ClusterIP, a NodePort or a pod, listeners
// in the endpoint pods record who got them and from which source address, the sender records how
// each ended (connected, refused by an ICMP port unreachable, timed out) and the nodes' netfilter
// trace says where a dropped one ended. `simulate()` on the capture must agree on every case:
// verdict, where it stops, the set of endpoints (each within a binomial tolerance of its path's
// probability over many new connections) and the source address each endpoint sees.
//
// Needs root, network namespaces, nft and iptables (iptables-nft). Without them these tests FAIL with
// what is missing, unless NETPATH_SKIP_LAB=1 is set, in which case they are skipped.
import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import type { Capture } from '../../src/capture/document';
import { buildNetwork, simulate, type Network, type TraceResult } from '../../src/engine';
import { captureLab } from './capture';
import { DEMO_CLUSTER, DEMO_SERVICES, EXTRA_SERVICES, LB_ROUTES, demoKubernetes, loadDemoServices, runDemo } from './demo-cluster';
import { Lab, sweepStaleNamespaces } from './netns';
import { netfilterLabUnavailable, withinBinomial } from './netfilter-judge';
import { Listeners, describeEngine, engineDropHook, describeKernel, engineEndpoints, kernelDrop, send, traceAcross, type Arrival, type Proto, type SendResult } from './services-judge';
import type { BuiltCluster } from './topology';

const SKIP = process.env.NETPATH_SKIP_LAB === '1';
const unavailable = SKIP ? undefined : netfilterLabUnavailable();
const TIMEOUT = 300_000;
const NODES = DEMO_CLUSTER.nodes.map((n) => n.name);
const POD_IP = new Map(DEMO_CLUSTER.nodes.flatMap((n) => n.pods.map((p) => [p.name, p.ip] as const)));
/** Where listeners run -> the address connections arrive at (the pods, and gw for traffic leaving the cluster). */
const ADDR = new Map<string, string>([...POD_IP, ['gw', '10.4.7.1']]);
/** Lab host -> the name the engine knows it by. */
const REF = new Map<string, string>([...DEMO_CLUSTER.nodes.flatMap((n) => n.pods.map((p) => [p.name, `${p.namespace}/${p.name}`] as const)), ...NODES.map((n) => [n, n] as const), ['gw', 'gw']]);
/** The probes that show a node's rules. */
const RULE_PROBES = ['iptables', 'ip6tables', 'nft', 'ipset'] as const;
const SRC = new Map<string, string>([...POD_IP, ...DEMO_CLUSTER.nodes.map((n) => [n.name, n.ip] as const), ['gw', '10.4.7.1']]);

/** What every endpoint pod listens on: its Services' target ports, and the ports the direct cases use. */
const LISTEN: Record<string, { tcp: number[]; udp: number[] }> = {
  'coredns-6d8c4cb4d-xk7t2': { tcp: [53, 9153], udp: [53] },
  'coredns-6d8c4cb4d-q9m4r': { tcp: [53, 9153], udp: [53] },
  'web-0': { tcp: [8080], udp: [] },
  'web-1': { tcp: [8080], udp: [] },
  'nginx-7c5ddbdf54-2xq8n': { tcp: [80], udp: [] },
  'prometheus-0': { tcp: [9090], udp: [] },
  gw: { tcp: [8000], udp: [] },
};

interface Case {
  name: string;
  from: string;
  to: string;
  proto: Proto;
  port: number;
  /** New connections: many for a Service with several endpoints (the spread is judged), else a few. */
  count: number;
  /**
   * The engine disagrees with the kernel here and the fix is the engine's (src/engine): the test runs as
   * a TODO that states the disagreement, so it is reported on every run without failing the suite, and
   * passes the day the engine agrees (then drop this).
   */
  knownDisagreement?: string;
  /** What the kernel is meant to do here (checked first, so a lab that does something else is caught as such). */
  kernel: { delivered?: Record<string, string>; ended?: 'refused' | 'timeout'; dropAt?: string; mixed?: true };
}

/** What the kernel did with a case's connections. */
interface KernelOutcome {
  results: SendResult[];
  arrivals: Arrival[];
  /** For a case that does not deliver: the node whose netfilter dropped one traced probe, and how. */
  drop?: { node: string; hook: string | undefined; event: string };
  traces?: string;
}

let sportBase = 40000;

async function runKernel(lab: Lab, listeners: Listeners, c: Case): Promise<KernelOutcome> {
  await listeners.take();
  if (c.kernel.ended && !c.kernel.mixed) {
    // One connection, traced on every node: how it ended, and where.
    // A probe passes its first node's PREROUTING at least: no event on any node means the monitors were
    // not listening yet (nft monitor gives no sign that it is; seen on a loaded machine), so send another.
    let t: Awaited<ReturnType<typeof traceAcross>>;
    for (let attempt = 0; ; attempt++) {
      const sport = (sportBase += 7);
      t = await traceAcross(lab, NODES, c.from, SRC.get(c.from)!, { dst: c.to, port: c.port, proto: c.proto, sport });
      if (t.traces.some((x) => x.events.length > 0) || attempt === 2) break;
      await listeners.take();
    }
    const d = kernelDrop(t.traces);
    return { results: [t.result], arrivals: await listeners.take(), traces: describeKernel(t.traces), ...(d ? { drop: { node: d.node, hook: d.hook, event: `${d.event.family} ${d.event.table} ${d.event.chain} ${d.event.kind} ${d.event.verdict}` } } : {}) };
  }
  const results = send(lab, c.from, { dst: c.to, port: c.port, proto: c.proto, count: c.count });
  return { results, arrivals: await listeners.take() };
}

function describeOutcome(k: KernelOutcome): string {
  const ends = new Map<string, number>();
  for (const r of k.results) ends.set(r, (ends.get(r) ?? 0) + 1);
  const got = new Map<string, number>();
  for (const a of k.arrivals) got.set(`${ADDR.get(a.host)}:${a.port} from ${a.peer}`, (got.get(`${ADDR.get(a.host)}:${a.port} from ${a.peer}`) ?? 0) + 1);
  return [`kernel: ${[...ends].map(([r, n]) => `${n} ${r}`).join(', ')}; arrived: ${[...got].map(([e, n]) => `${e} x${n}`).join(', ') || 'nothing'}`, ...(k.drop ? [`  dropped on ${k.drop.node} at ${k.drop.hook ?? '?'}: ${k.drop.event}`] : []), ...(k.traces ? [k.traces] : [])].join('\n');
}

/** Engine and kernel must agree: verdict, where it stops, endpoints and their spread, source seen. */
function judge(c: Case, k: KernelOutcome, r: TraceResult): void {
  const both = `${describeOutcome(k)}\n${describeEngine(r)}`;
  // The kernel first: the case must be what it says it is.
  if (c.kernel.delivered) {
    const seen = new Map<string, Set<string>>();
    for (const a of k.arrivals) seen.set(`${ADDR.get(a.host)}:${a.port}`, (seen.get(`${ADDR.get(a.host)}:${a.port}`) ?? new Set()).add(a.peer));
    assert.deepEqual(
      Object.fromEntries([...seen].map(([e, s]) => [e, [...s].sort().join(',')])),
      c.kernel.delivered,
      `the kernel did not deliver ${c.name} as the case expects:\n${both}`,
    );
  }
  if (c.kernel.ended && !c.kernel.mixed) {
    assert.ok(k.results.every((x) => x === c.kernel.ended), `the kernel's connections did not all end ${c.kernel.ended}:\n${both}`);
    assert.equal(k.arrivals.length, 0, `nothing should have arrived:\n${both}`);
    assert.equal(k.drop?.node, c.kernel.dropAt, `the kernel's netfilter trace should end with a drop on ${c.kernel.dropAt}:\n${both}`);
  }

  // Then the engine against what the kernel did.
  const n = k.results.length;
  const eps = engineEndpoints(r);
  const arrivedAt = new Map<string, Arrival[]>();
  for (const a of k.arrivals) {
    const e = `${ADDR.get(a.host)}:${a.port}`;
    arrivedAt.set(e, [...(arrivedAt.get(e) ?? []), a]);
  }
  assert.deepEqual([...eps.keys()].sort(), [...arrivedAt.keys()].sort(), `ENGINE AND KERNEL DISAGREE on which endpoints receive ${c.name}:\n${both}`);
  for (const [e, got] of arrivedAt) {
    const p = eps.get(e)!.probability;
    assert.ok(withinBinomial(got.length, n, p), `ENGINE AND KERNEL DISAGREE on ${e}'s share of ${c.name}: ${got.length} of ${n} connections, the engine's probability ${p.toFixed(3)}:\n${both}`);
    assert.deepEqual([...eps.get(e)!.hosts].sort(), [...new Set(got.map((a) => a.host))].sort(), `ENGINE AND KERNEL DISAGREE on which host takes ${e}'s connections of ${c.name}:\n${both}`);
    assert.deepEqual([...eps.get(e)!.sources].sort(), [...new Set(got.map((a) => a.peer))].sort(), `ENGINE AND KERNEL DISAGREE on the source ${e} sees for ${c.name}:\n${both}`);
  }
  const failed = k.results.filter((x) => x === 'refused' || x === 'timeout').length;
  const delivered = k.results.filter((x) => x === 'connected' || x === 'sent').length;
  assert.equal(failed + delivered, n, `unexpected sender results:\n${both}`);
  const engineFailure = r.paths.filter((p) => !p.floodCopy && p.verdict !== 'delivered').reduce((a, p) => a + (p.probability ?? 1), 0);
  assert.ok(withinBinomial(failed, n, Math.min(1, engineFailure)), `ENGINE AND KERNEL DISAGREE on how many connections of ${c.name} fail: kernel ${failed} of ${n}, engine's failing paths' probability ${engineFailure.toFixed(3)}:\n${both}`);
  if (failed === 0) assert.equal(r.verdict, 'delivered', `ENGINE AND KERNEL DISAGREE: the kernel delivered every connection of ${c.name}:\n${both}`);
  else {
    const want = k.results.includes('refused') ? 'rejected' : 'filtered';
    assert.ok(r.paths.some((p) => p.verdict === want), `ENGINE AND KERNEL DISAGREE: the kernel's connections ended ${k.results.find((x) => x !== 'connected' && x !== 'sent')}, so a path should be ${want}:\n${both}`);
    if (!c.kernel.mixed) {
      assert.equal(r.verdict, want, `ENGINE AND KERNEL DISAGREE on the verdict of ${c.name}:\n${both}`);
      assert.equal(r.dropAt?.host, k.drop?.node, `ENGINE AND KERNEL DISAGREE on where ${c.name} stops:\n${both}`);
      const top = r.paths.find((p) => p.verdict === want)!;
      assert.equal(engineDropHook(top), k.drop?.hook, `ENGINE AND KERNEL DISAGREE on the hook whose rules stop ${c.name}:\n${both}`);
    }
  }
}

function trace(net: Network, c: Case): TraceResult {
  const r = simulate(net, { from: REF.get(c.from)!, to: c.to, proto: c.proto, port: c.port });
  if (!r.ok) throw new Error(r.error);
  return r.result;
}

/** Removes (and later restores) the FORWARD chain's jump to FLANNEL-FWD on a node: Docker's policy DROP is left to decide. */
function withoutFlannelForward(lab: Lab, node: string): { apply: () => void; undo: () => void } {
  const rule = ['FORWARD', '-m', 'comment', '--comment', 'flanneld forward', '-j', 'FLANNEL-FWD'];
  return { apply: () => void lab.execIn(node, ['iptables', '-D', ...rule]), undo: () => void lab.execIn(node, ['iptables', '-A', ...rule]) };
}

const WEB = '10.100.34.17';
const DNS = '10.96.0.10';

/** Cases both modes share: ClusterIP across nodes, no endpoints, NodePort masquerade, eTP Local, hairpin. */
function sharedCases(): Case[] {
  return [
    { name: 'ClusterIP (kube-dns, UDP) from a pod on another node: both CoreDNS pods over many new connections, source kept', from: 'prometheus-0', to: DNS, proto: 'udp', port: 53, count: 300, kernel: { delivered: { '10.244.0.2:53': '10.244.2.3', '10.244.1.2:53': '10.244.2.3' } } },
    { name: 'ClusterIP (kube-dns, TCP) from a pod on another node', from: 'prometheus-0', to: DNS, proto: 'tcp', port: 53, count: 120, kernel: { delivered: { '10.244.0.2:53': '10.244.2.3', '10.244.1.2:53': '10.244.2.3' } } },
    { name: 'a Service with no endpoints: REJECT on the client\'s node, the client gets ICMP port unreachable', from: 'web-0', to: '10.110.7.93', proto: 'tcp', port: 9093, count: 1, kernel: { ended: 'refused', dropAt: 'k8s-node1' } },
    { name: 'NodePort from outside the cluster (gw) with externalTrafficPolicy Cluster: masqueraded to the node\'s address on the way to each endpoint', from: 'gw', to: '10.4.7.21', proto: 'tcp', port: 30080, count: 120, kernel: { delivered: { '10.244.0.3:8080': '10.244.0.1', '10.244.1.3:8080': '10.244.0.0' } } },
    { name: 'NodePort with externalTrafficPolicy Local on the node with the endpoint: the client\'s address is kept', from: 'gw', to: '10.4.7.23', proto: 'tcp', port: 30081, count: 5, kernel: { delivered: { '10.244.2.2:80': '10.4.7.1' } } },
    { name: 'NodePort with externalTrafficPolicy Local on a node without an endpoint: dropped there', from: 'gw', to: '10.4.7.21', proto: 'tcp', port: 30081, count: 1, kernel: { ended: 'timeout', dropAt: 'k8s-node1' } },
    { name: 'NodePort with externalTrafficPolicy Local from another node, to a node without an endpoint: dropped on that node', from: 'k8s-node2', to: '10.4.7.21', proto: 'tcp', port: 30081, count: 1, kernel: { ended: 'timeout', dropAt: 'k8s-node1' } },
    { name: 'ClusterIP from a node (not from the cluster CIDR): masqueraded to the address of the device towards each endpoint', from: 'k8s-node1', to: DNS, proto: 'udp', port: 53, count: 200, kernel: { delivered: { '10.244.0.2:53': '10.244.0.1', '10.244.1.2:53': '10.244.0.0' } } },
    {
      name: 'NodePort (externalTrafficPolicy Cluster) from the node itself: DNAT in OUTPUT, masqueraded to the address of the device towards each endpoint',
      from: 'k8s-node1', to: '10.4.7.21', proto: 'tcp', port: 30080, count: 80,
      kernel: { delivered: { '10.244.0.3:8080': '10.244.0.1', '10.244.1.3:8080': '10.244.0.0' } },
    },
    {
      name: 'NodePort with externalTrafficPolicy Local from the node itself, which has no endpoint: kube-proxy sends local traffic to every endpoint, masqueraded',
      from: 'k8s-node1', to: '10.4.7.21', proto: 'tcp', port: 30081, count: 3,
      kernel: { delivered: { '10.244.2.2:80': '10.244.0.0' } },
    },
    { name: 'hairpin: a pod to its own Service, masqueraded when the rules pick the pod itself', from: 'web-0', to: WEB, proto: 'tcp', port: 80, count: 120, kernel: { delivered: { '10.244.0.3:8080': '10.244.0.1', '10.244.1.3:8080': '10.244.0.3' } } },
  ];
}

const WEB_LB = '192.168.100.10';
const STICKY = '10.100.34.18';

/** Cases of EXTRA_SERVICES (LoadBalancer, internalTrafficPolicy Local) both modes share. */
function extraCases(): Case[] {
  return [
    {
      name: 'LoadBalancer IP from outside the cluster (gw routes it to k8s-node2), externalTrafficPolicy Cluster: both endpoints, masqueraded on k8s-node2',
      from: 'gw', to: WEB_LB, proto: 'tcp', port: 80, count: 120,
      kernel: { delivered: { '10.244.0.3:8080': '10.244.1.0', '10.244.1.3:8080': '10.244.1.1' } },
    },
    {
      name: 'LoadBalancer IP from a pod: short-circuited on the client\'s node (kube-proxy catches the LB IP there), masqueraded',
      from: 'prometheus-0', to: WEB_LB, proto: 'tcp', port: 80, count: 120,
      kernel: { delivered: { '10.244.0.3:8080': '10.244.2.0', '10.244.1.3:8080': '10.244.2.0' } },
    },
    {
      name: 'LoadBalancer IP with externalTrafficPolicy Local, announced from the node with the endpoint: the client\'s address is kept',
      from: 'gw', to: '192.168.100.12', proto: 'tcp', port: 80, count: 5,
      kernel: { delivered: { '10.244.2.2:80': '10.4.7.1' } },
    },
    {
      name: 'LoadBalancer IP with externalTrafficPolicy Local, announced from a node without an endpoint: dropped there',
      from: 'gw', to: '192.168.100.11', proto: 'tcp', port: 80, count: 1,
      kernel: { ended: 'timeout', dropAt: 'k8s-node1' },
    },
    {
      name: 'internalTrafficPolicy Local from a pod on a node with an endpoint: only that node\'s CoreDNS, source kept',
      from: 'web-0', to: '10.96.0.53', proto: 'tcp', port: 53, count: 20,
      kernel: { delivered: { '10.244.0.2:53': '10.244.0.3' } },
    },
    {
      name: 'internalTrafficPolicy Local from a pod on a node without an endpoint: dropped on the client\'s node',
      from: 'prometheus-0', to: '10.96.0.53', proto: 'tcp', port: 53, count: 1,
      kernel: { ended: 'timeout', dropAt: 'k8s-node3' },
    },
  ];
}

/**
 * sessionAffinity ClientIP: a new client's first connection is spread like any other (each endpoint is
 * a path at its share), and every later one from that client goes where the first went. The kernel
 * must send all of `count` connections to one endpoint, the engine must list that endpoint among a new
 * client's paths and say that affinity pins the client.
 */
async function judgeAffinity(lab: Lab, listeners: Listeners, net: Network): Promise<{ endpoint: string; result: TraceResult }> {
  await listeners.take();
  const results = send(lab, 'prometheus-0', { dst: STICKY, port: 80, proto: 'tcp', count: 30 });
  const arrivals = await listeners.take();
  const r = simulate(net, { from: 'monitoring/prometheus-0', to: STICKY, proto: 'tcp', port: 80 });
  assert.ok(r.ok, r.ok ? '' : r.error);
  const where = new Set(arrivals.map((a) => `${ADDR.get(a.host)}:${a.port}`));
  const both = `kernel: ${results.join(',')}; arrived at ${[...where].join(', ')} (${arrivals.length})\n${describeEngine(r.result)}`;
  assert.ok(results.every((x) => x === 'connected'), `the kernel did not connect every time:\n${both}`);
  assert.equal(where.size, 1, `the kernel should pin one client to one endpoint:\n${both}`);
  const eps = engineEndpoints(r.result);
  const [endpoint] = [...where];
  assert.ok(eps.has(endpoint!), `ENGINE AND KERNEL DISAGREE: the kernel sent the client to ${endpoint}, which is none of the engine's endpoints:\n${both}`);
  return { endpoint: endpoint!, result: r.result };
}

if (SKIP) {
  test('services: engine vs kernel', { skip: 'NETPATH_SKIP_LAB=1' }, () => {});
} else if (unavailable) {
  test('services: engine vs kernel', () => assert.fail(`${unavailable} (set NETPATH_SKIP_LAB=1 to skip)`));
} else {
  describe('Services on the demo cluster: engine vs kernel', { timeout: TIMEOUT }, () => {
    let lab: Lab;
    let built: BuiltCluster;
    let listeners: Listeners;
    let net: Network;
    let full: Capture;
    /** The rules changed, nothing else: the capture taken at the start with its rule probes taken again. */
    const capture = async () => {
      const rules = await captureLab(lab, built, { probes: RULE_PROBES });
      return buildNetwork({ ...full, hosts: full.hosts.map((h, i) => ({ ...h, probes: { ...Object.fromEntries(Object.entries(h.probes ?? {}).filter(([p]) => !(RULE_PROBES as readonly string[]).includes(p))), ...rules.capture.hosts[i]!.probes } })) });
    };

    before(async () => {
      sweepStaleNamespaces();
      lab = new Lab();
      const demo = await runDemo(lab);
      built = demo.built;
      full = demo.result.capture;
      net = buildNetwork(full);
      listeners = new Listeners(lab);
      await Promise.all(Object.entries(LISTEN).map(([host, ports]) => listeners.start(host, ports)));
    });
    after(() => {
      listeners?.dispose();
      lab?.disposeQuietly();
    });

    describe('kube-proxy iptables mode (with flannel\'s rules, FORWARD policy DROP)', () => {
      for (const c of sharedCases()) test(c.name, c.knownDisagreement ? { todo: `ENGINE AND KERNEL DISAGREE: ${c.knownDisagreement}` } : {}, async () => judge(c, await runKernel(lab, listeners, c), trace(net, c)));

      test('ping to a ClusterIP (the issue\'s first example, ICMP): kube-proxy rewrites only TCP/UDP, so it follows the default route and gw has no route', () => {
        const r = lab.tryExecIn('web-0', ['ping', '-n', '-c', '1', '-W', '2', DNS], { timeoutMs: 10_000 });
        assert.notEqual(r.code, 0, `a ping to ${DNS} got an answer:\n${r.stdout}`);
        assert.match(r.stdout, /From 10\.4\.7\.1 icmp_seq=1 Destination Net Unreachable/, `the kernel: gw should answer net unreachable:\n${r.stdout}${r.stderr}`);
        const t = simulate(net, { from: 'default/web-0', to: DNS });
        assert.ok(t.ok);
        assert.deepEqual([t.result.verdict, t.result.dropAt?.host], ['no-route', 'gw'], `ENGINE AND KERNEL DISAGREE on a ping to ${DNS}:\n${describeEngine(t.result)}`);
      });

      test('pod to pod on one node through cni0 (br_netfilter: the bridged frame passes FORWARD, flannel accepts it)', async () => {
        assert.equal(lab.execIn('k8s-node1', ['cat', '/proc/sys/net/bridge/bridge-nf-call-iptables']).trim(), '1', 'br_netfilter is not on in the node namespace');
        const c: Case = { name: 'web-0 -> coredns on its node', from: 'web-0', to: '10.244.0.2', proto: 'tcp', port: 53, count: 3, kernel: { delivered: { '10.244.0.2:53': '10.244.0.3' } } };
        judge(c, await runKernel(lab, listeners, c), trace(net, c));
      });

      test('FORWARD policy DROP without flannel\'s accept rule on k8s-node2: pod to pod across nodes is dropped there', async () => {
        const f = withoutFlannelForward(lab, 'k8s-node2');
        f.apply();
        try {
          const faulty = await capture();
          const c: Case = { name: 'web-0 -> web-1 with node2 dropping', from: 'web-0', to: '10.244.1.3', proto: 'tcp', port: 8080, count: 1, kernel: { ended: 'timeout', dropAt: 'k8s-node2' } };
          judge(c, await runKernel(lab, listeners, c), trace(faulty, c));
          // Through the Service, one endpoint of two is broken: web-0 on k8s-node1 answers, web-1 on
          // k8s-node2 is dropped by its FORWARD policy (a pod's traffic is not marked for masquerade).
          const s: Case = { name: 'prometheus-0 -> web Service with node2 dropping', from: 'prometheus-0', to: WEB, proto: 'tcp', port: 80, count: 40, kernel: { delivered: { '10.244.0.3:8080': '10.244.2.3' }, ended: 'timeout', mixed: true } };
          judge(s, await runKernel(lab, listeners, { ...s, kernel: { delivered: s.kernel.delivered! } }), trace(faulty, s));
        } finally {
          f.undo();
        }
      });

      test('FORWARD policy DROP and br_netfilter: without flannel\'s accept rule on k8s-node1 the bridged frame between two pods of the node is dropped', async () => {
        const f = withoutFlannelForward(lab, 'k8s-node1');
        f.apply();
        try {
          const faulty = await capture();
          const c: Case = { name: 'web-0 -> coredns on its node, node1 dropping', from: 'web-0', to: '10.244.0.2', proto: 'tcp', port: 53, count: 1, kernel: { ended: 'timeout', dropAt: 'k8s-node1' } };
          judge(c, await runKernel(lab, listeners, c), trace(faulty, c));
        } finally {
          f.undo();
        }
      });
    });

    describe('kube-proxy nftables mode (table ip kube-proxy)', () => {
      before(async () => {
        loadDemoServices(lab, 'nftables');
        net = await capture();
        assert.match(net.capture.hosts.find((h) => h.name === 'k8s-node1')!.probes!.nft!, /table ip kube-proxy/);
      });
      for (const c of sharedCases()) test(c.name, c.knownDisagreement ? { todo: `ENGINE AND KERNEL DISAGREE: ${c.knownDisagreement}` } : {}, async () => judge(c, await runKernel(lab, listeners, c), trace(net, c)));
    });

    for (const mode of ['iptables', 'nftables'] as const) {
      describe(`LoadBalancer, internalTrafficPolicy, session affinity, traffic leaving the cluster (kube-proxy ${mode} mode)`, () => {
        let more: Network;
        before(async () => {
          if (mode === 'iptables') for (const r of LB_ROUTES) lab.execIn('gw', ['ip', 'route', 'replace', r.dst, 'via', r.via]);
          loadDemoServices(lab, mode, [...DEMO_SERVICES, ...EXTRA_SERVICES]);
          more = buildNetwork((await captureLab(lab, built, { kubernetes: demoKubernetes([...DEMO_SERVICES, ...EXTRA_SERVICES]) })).capture);
        });
        for (const c of extraCases()) test(c.name, async () => judge(c, await runKernel(lab, listeners, c), trace(more, c)));

        test('session affinity ClientIP: every connection of one client goes to the endpoint its first went to', async () => {
          const first = await judgeAffinity(lab, listeners, more);
          const paths = first.result.paths.filter((p) => p.verdict === 'delivered');
          assert.ok(paths.length === 2 && paths.every((p) => Math.abs((p.probability ?? 1) - 0.5) < 1e-9), `a new client should have both endpoints at 50%:\n${describeEngine(first.result)}`);
          // Captured now, the client's node remembers it (nftables: the affinity set's elements, printed
          // by `nft list ruleset`; iptables: the recent lists, the xt_recent probe): the engine must send
          // it where the kernel has been sending it.
          const rules = await captureLab(lab, built, { probes: [...RULE_PROBES, 'xt_recent'] });
          const pinned = buildNetwork({ ...more.capture, hosts: more.capture.hosts.map((h, i) => ({ ...h, probes: { ...h.probes, ...rules.capture.hosts[i]!.probes } })) });
          const r = simulate(pinned, { from: 'monitoring/prometheus-0', to: STICKY, proto: 'tcp', port: 80 });
          assert.ok(r.ok);
          const eps = engineEndpoints(r.result);
          assert.deepEqual([...eps].map(([e, v]) => [e, v.probability]), [[first.endpoint, 1]], `ENGINE AND KERNEL DISAGREE: the kernel pins this client to ${first.endpoint}:\n${describeEngine(r.result)}`);
        });

        // The same kernel, judged against a capture without the nodes' rules: the engine infers
        // kube-proxy's rules from the API objects (serviceHooks.ts) and must still agree, DNAT, filter
        // and masquerade alike. (Rules that are not kube-proxy's, like flannel's masquerade of traffic
        // leaving the cluster, are not inferred, so those cases are not here.)
        describe('inferred from the API where the nodes\' rules are not in the capture', () => {
          let inferred: Network;
          before(() => {
            inferred = buildNetwork({ ...more.capture, hosts: more.capture.hosts.map((h) => ({ ...h, probes: Object.fromEntries(Object.entries(h.probes ?? {}).filter(([p]) => !['iptables', 'ip6tables', 'nft', 'ipset', 'ipvs'].includes(p))) })) });
          });
          for (const c of [...sharedCases(), ...extraCases()]) test(c.name, async () => judge(c, await runKernel(lab, listeners, c), trace(inferred, c)));
          test('session affinity ClientIP: a new client', async () => void (await judgeAffinity(lab, listeners, inferred)));
        });

        if (mode === 'iptables') {
          test('a pod to an address outside the cluster (gw): flannel masquerades it to its node\'s address', async () => {
            const c: Case = { name: 'web-0 -> gw:8000', from: 'web-0', to: '10.4.7.1', proto: 'tcp', port: 8000, count: 3, kernel: { delivered: { '10.4.7.1:8000': '10.4.7.21' } } };
            judge(c, await runKernel(lab, listeners, c), trace(more, c));
          });
        }
      });
    }
  });
}
