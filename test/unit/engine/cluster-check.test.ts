// The whole-cluster check (engine/clusterCheck.ts) on the demo capture (real lab tables), clean and with
// one real line removed: every failed pair lands in the group of its first diagnosed cause, one group per
// cause however many pairs it fails, and the tables' own findings are listed beside the groups.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { parseCapture, type Capture } from '../../../src/capture/document';
import { buildNetwork, mergeClusterChecks, representatives, runClusterCheck, simulate, startClusterCheck, type CauseGroup, type ClusterCheckReport, type Network } from '../../../src/engine';
import { createClusterCheck } from '../../../src/engine/clusterCheck';
import { demo, edit } from '../webview/cases';

const check = (c: Capture, opts = {}): ClusterCheckReport => runClusterCheck(buildNetwork(c), opts);
const pairs = (g: CauseGroup) => g.failures.map((f) => `${f.kind} ${f.from} -> ${f.to}${f.endpoint ? ` ${f.endpoint}` : ''}`).sort();
const diagnosis = (g: CauseGroup) => {
  assert.equal(g.cause.type, 'diagnosis', `group ${g.key} has a diagnosed cause`);
  return g.cause.type === 'diagnosis' ? g.cause.diagnosis : undefined!;
};

/** k8s-node1's flannel.1 loses its FDB entry for k8s-node2's VTEP MAC. */
const noFdbToNode2 = () => edit(demo(), 'k8s-node1', 'fdb', (ls) => ls.filter((l) => !l.startsWith('42:20:2d:f5:4d:c4 dev flannel.1 ')));
/** A node loses its route to k8s-node2's podCIDR. */
const noRouteToNode2 = (c: Capture, node: string) => edit(c, node, 'routes4', (ls) => ls.filter((l) => !l.startsWith('10.244.1.0/24 ')));

describe('netpath check on the demo capture', () => {
  test('one pod per node stands for it: not hostNetwork, with tables, first by namespace/name', () => {
    const { reps, withoutPod } = representatives(buildNetwork(demo()));
    assert.deepEqual(reps.map((r) => `${r.node} ${r.pod} ${r.ip}`), ['k8s-node1 default/web-0 10.244.0.3', 'k8s-node2 default/web-1 10.244.1.3', 'k8s-node3 default/nginx-7c5ddbdf54-2xq8n 10.244.2.2']);
    assert.deepEqual(withoutPod, []);
  });

  test('choosing them reads a pod\'s probes once at most, and only up to the first that is not empty (a capture file reads each from disk)', () => {
    const c = demo();
    const reads = new Map<string, number>();
    for (const h of c.hosts) {
      if (h.role !== 'pod' || !h.probes) continue;
      const name = h.name;
      // As a capture file's lazy probes: every read of a probe is a read of the file.
      h.probes = new Proxy(h.probes, {
        get(t, k) {
          reads.set(name, (reads.get(name) ?? 0) + 1);
          return Reflect.get(t, k) as unknown;
        },
      });
    }
    // coredns' links empty: its first non-empty probe is the next one.
    const coredns = c.hosts.find((h) => h.name === 'coredns-6d8c4cb4d-xk7t2')!;
    const probes = { ...coredns.probes };
    coredns.probes = new Proxy({ ...probes, links: '' } as Record<string, string>, {
      get(t, k) {
        reads.set(coredns.name, (reads.get(coredns.name) ?? 0) + 1);
        return Reflect.get(t, k) as unknown;
      },
    });
    const net = buildNetwork(c);
    reads.clear();
    const { reps } = representatives(net);
    assert.equal(reps.length, 3);
    assert.equal(reads.get('coredns-6d8c4cb4d-xk7t2'), 2);
    for (const [host, n] of reads) if (host !== 'coredns-6d8c4cb4d-xk7t2') assert.equal(n, 1, host);
  });

  test('the clean capture: every pair delivered, no group, nothing in the tables', () => {
    const r = check(demo());
    assert.equal(r.complete, true);
    assert.deepEqual(r.traced, { pod: 6, node: 6, service: 7 });
    assert.deepEqual(r.failed, { pod: 0, node: 0, service: 0 });
    assert.deepEqual(r.groups, []);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.tables, []);
    // alertmanager has no ready endpoint: not traced, and said why.
    assert.deepEqual(r.servicesSkipped.map((s) => s.service), ['svc/monitoring/alertmanager:web']);
  });

  test('a missing VXLAN FDB entry is ONE group naming the entry, with every pair it fails and no other', () => {
    const r = check(noFdbToNode2());
    assert.equal(r.groups.length, 1);
    const g = r.groups[0]!;
    const d = diagnosis(g);
    assert.equal(d.kind, 'missing-vtep-fdb');
    assert.equal(d.host, 'k8s-node1');
    assert.match(d.text, /no FDB entry for 42:20:2d:f5:4d:c4, k8s-node2's VTEP at 10\.4\.7\.22/);
    // web-0 to web-1, and web-0 to each Service endpoint on k8s-node2 (web-1, coredns-q9m4r's three ports).
    assert.deepEqual(pairs(g), [
      'pod default/web-0 -> default/web-1',
      'service default/web-0 -> svc/default/web:http 10.244.1.3:8080',
      'service default/web-0 -> svc/kube-system/kube-dns:dns 10.244.1.2:53',
      'service default/web-0 -> svc/kube-system/kube-dns:dns-tcp 10.244.1.2:53',
      'service default/web-0 -> svc/kube-system/kube-dns:metrics 10.244.1.2:9153',
    ]);
    assert.ok(g.failures.every((f) => f.fromNode === 'k8s-node1' && f.toNode === 'k8s-node2' && f.verdict === 'no-fdb-entry'));
    assert.deepEqual(r.failed, { pod: 1, node: 0, service: 4 });
    // The tables say it without a trace too, word for word.
    assert.deepEqual(r.tables.map((t) => `${t.kind} ${t.host} ${t.text}`), [`missing-vtep-fdb k8s-node1 ${d.text}`]);
  });

  test("one cause that fails pairs from every node (web-1's veth down on k8s-node2) is one group with all of them", () => {
    const c = edit(demo(), 'k8s-node2', 'links', (ls) => ls.map((l) => (l.startsWith('7: veth96603d4d@if2: ') ? l.replace('<BROADCAST,MULTICAST,UP,LOWER_UP>', '<BROADCAST,MULTICAST>').replace('state UP', 'state DOWN') : l)));
    const r = check(c);
    assert.equal(r.groups.length, 1);
    const g = r.groups[0]!;
    const d = diagnosis(g);
    assert.equal(d.kind, 'device-down');
    assert.equal(d.host, 'k8s-node2');
    assert.match(d.text, /veth96603d4d is down/);
    const pods = g.failures.filter((f) => f.kind === 'pod');
    // Into web-1 from both other nodes, and out of web-1 (its only link is down) to both.
    assert.deepEqual(pods.map((f) => `${f.fromNode} -> ${f.to}`).sort(), ['k8s-node1 -> default/web-1', 'k8s-node2 -> default/nginx-7c5ddbdf54-2xq8n', 'k8s-node2 -> default/web-0', 'k8s-node3 -> default/web-1']);
    // The Service trace counts as delivered (web-0 itself is the other endpoint), but its endpoint web-1 is
    // reached by no copy: that endpoint fails, for the same cause.
    assert.deepEqual(g.failures.filter((f) => f.kind === 'service').map((f) => f.endpoint), ['10.244.1.3:8080']);
  });

  test('two nodes each missing their route: two causes, two groups, each with its own pairs', () => {
    const r = check(noRouteToNode2(noRouteToNode2(demo(), 'k8s-node1'), 'k8s-node3'));
    const routes = r.groups.filter((g) => g.cause.type === 'diagnosis' && g.cause.diagnosis.kind === 'missing-route');
    assert.deepEqual(routes.map((g) => diagnosis(g).host).sort(), ['k8s-node1', 'k8s-node3']);
    for (const g of routes) {
      const host = diagnosis(g).host;
      assert.ok(g.failures.some((f) => f.kind === 'pod' && f.toNode === 'k8s-node2'), `${host}'s group has its pod pair to k8s-node2`);
      assert.ok(g.failures.every((f) => f.fromNode === host), `${host}'s group holds only pairs from ${host}`);
    }
    // Nothing is said twice: every failed pair is in exactly one group.
    const all = r.groups.flatMap(pairs);
    assert.equal(new Set(all).size, all.length);
    assert.equal(all.length, r.failed.pod + r.failed.node + r.failed.service);
  });

  test('stepped: step(n) does at most n units, the partial report says incomplete, and the end is the same as one run', () => {
    const c = noFdbToNode2();
    const net = buildNetwork(c);
    const run = startClusterCheck(net);
    // 3 nodes and 3 pods read first (50 units each: a host's tables cost about as much as 50
    // traces), then the traces, then 50 units per node for its table checks (as costly).
    assert.equal(run.total, 6 * 50 + 6 + 6 + 7 + 3 * 50);
    let before = 0;
    while (!run.step(2)) {
      // A read (or a node's table checks) is never split: a step does at most n units, or one read.
      const did = run.done - before;
      assert.ok(did === 1 || did === 2 || did === 50, `a step did ${did} units`);
      before = run.done;
      assert.equal(run.report().complete, false);
    }
    assert.equal(run.done, run.total);
    assert.deepEqual(run.report(), check(c));
  });

  test('--from-node: only pairs from that node are traced; every node is still a destination', () => {
    const r = check(noFdbToNode2(), { fromNodes: ['k8s-node3'] });
    assert.deepEqual(r.traced, { pod: 2, node: 2, service: 7 });
    assert.equal(r.groups.length, 0, 'k8s-node3 reaches k8s-node2 through its own FDB entry');
    assert.equal(r.tables.length, 1, "k8s-node1's missing entry is still in the tables");
  });
});

/** The lab's fault captures (test/fixtures/captures): real kernels' tables, one fault each. */
function faultCaptures(): { name: string; capture: Capture }[] {
  const dir = join(__dirname, '../../fixtures/captures');
  return readdirSync(dir)
    .filter((f) => f.startsWith('demo-fault-') && f.endsWith('.json.gz'))
    .sort()
    .map((f) => {
      const r = parseCapture(gunzipSync(readFileSync(join(dir, f))).toString('utf8'));
      if (!r.ok) throw new Error(`${f} does not validate`);
      return { name: f, capture: r.capture };
    });
}

/** The check as it was before lean traces: every pair traced by plain simulate(), whatever it asks for. */
function plainCheck(net: Network): ClusterCheckReport {
  const run = createClusterCheck(net, {}, (n, req) => simulate(n, req));
  while (!run.step(1000));
  return run.report();
}

describe('a check run in parts (one per worker) and merged is the check run at once', () => {
  test('every lab fault capture and the demo with three faults, in 2 and 3 parts: the same report, pair for pair and in the same order', () => {
    const cases = [...faultCaptures(), { name: 'demo with three faults', capture: edit(noRouteToNode2(noFdbToNode2(), 'k8s-node3'), 'k8s-node2', 'links', (ls) => ls.map((l) => (l.startsWith('7: veth96603d4d@if2: ') ? l.replace('<BROADCAST,MULTICAST,UP,LOWER_UP>', '<BROADCAST,MULTICAST>').replace('state UP', 'state DOWN') : l))) }];
    let multiPart = 0;
    for (const c of cases) {
      const whole = runClusterCheck(buildNetwork(c.capture));
      for (const of of [2, 3]) {
        // Each part on a network of its own, as each worker builds one.
        const parts = Array.from({ length: of }, (_, index) => runClusterCheck(buildNetwork(c.capture), { part: { index, of } }));
        // Every part traced something of its own: the pairs are shared out, not repeated.
        assert.equal(parts.reduce((n, r) => n + r.traced.pod + r.traced.node, 0), whole.traced.pod + whole.traced.node, c.name);
        assert.ok(parts.every((r) => r.traced.pod + r.traced.node > 0), c.name);
        assert.ok(parts.slice(1).every((r) => r.traced.service === 0 && r.tables.length === 0), "Services and table checks are part 0's");
        if (parts.filter((r) => r.groups.length).length > 1) multiPart++;
        assert.deepEqual(mergeClusterChecks(buildNetwork(c.capture), parts), whole, `${c.name} in ${of} parts`);
      }
    }
    // Not only captures whose failures all fall in one part: causes whose pairs come from several parts are merged.
    assert.ok(multiPart >= 5, `${multiPart} cases with failures in more than one part`);
  });

  test('a part that is not one is refused', () => {
    const net = buildNetwork(demo());
    for (const part of [{ index: 2, of: 2 }, { index: -1, of: 2 }, { index: 0, of: 0 }, { index: 0.5, of: 2 }]) assert.throws(() => runClusterCheck(net, { part }), /is not a part/);
  });
});

describe('netpath check with lean traces finds what plain traces find', () => {
  test('every lab fault capture, and the demo with several faults at once: the same report, group for group and pair for pair', () => {
    const cases = [
      ...faultCaptures(),
      // Three causes at once: node1's FDB entry for node2's VTEP, node3's route to node2's pods, web-1's veth down.
      {
        name: 'demo with three faults',
        capture: edit(noRouteToNode2(noFdbToNode2(), 'k8s-node3'), 'k8s-node2', 'links', (ls) => ls.map((l) => (l.startsWith('7: veth96603d4d@if2: ') ? l.replace('<BROADCAST,MULTICAST,UP,LOWER_UP>', '<BROADCAST,MULTICAST>').replace('state UP', 'state DOWN') : l))),
      },
    ];
    assert.ok(cases.length >= 15, `the fault captures are there (${cases.length})`);
    let failing = 0;
    const kinds = new Set<string>();
    for (const c of cases) {
      const lean = runClusterCheck(buildNetwork(c.capture));
      const plain = plainCheck(buildNetwork(c.capture));
      assert.deepEqual(lean, plain, c.name);
      if (lean.groups.length) failing++;
      for (const g of lean.groups) kinds.add(g.cause.type === 'diagnosis' ? g.cause.diagnosis.kind : g.cause.type);
    }
    // Not a comparison of empty reports: most captures fail pairs, for many different causes.
    assert.ok(failing >= 12, `${failing} captures with failed pairs`);
    assert.ok(kinds.size >= 8, `causes: ${[...kinds].join(', ')}`);
  });

  test('simulate lean: a delivered pair keeps its verdict and paths but no sentences; a failed pair is the full trace', () => {
    const net = buildNetwork(demo());
    const ok = simulate(net, { from: 'default/web-0', to: '10.244.1.3' }, { lean: true });
    const full = simulate(net, { from: 'default/web-0', to: '10.244.1.3' });
    assert.ok(ok.ok && full.ok);
    assert.equal(ok.result.verdict, 'delivered');
    assert.deepEqual(ok.result.hops.map((h) => `${h.host} ${h.in} ${h.out} ${h.steps.map((s) => s.kind).join(',')}`), full.result.hops.map((h) => `${h.host} ${h.in} ${h.out} ${h.steps.map((s) => s.kind).join(',')}`));
    assert.ok(ok.result.hops.every((h) => h.steps.every((s) => s.text === '' && s.evidence === '' && s.records.length === 0)));
    assert.ok(full.result.hops.every((h) => h.steps.every((s) => s.text !== '')));
    assert.equal(ok.result.unchecked, undefined);

    const broken = buildNetwork(noFdbToNode2());
    const leanFail = simulate(broken, { from: 'default/web-0', to: '10.244.1.3' }, { lean: true });
    const plainFail = simulate(broken, { from: 'default/web-0', to: '10.244.1.3' });
    assert.ok(leanFail.ok && leanFail.result.verdict === 'no-fdb-entry');
    assert.deepEqual(leanFail, plainFail);
  });

  test('a plain trace after lean ones is told in full (lean mode does not leak out of its call)', () => {
    const net = buildNetwork(demo());
    const before = simulate(net, { from: 'default/web-0', to: '10.244.2.2' });
    simulate(net, { from: 'default/web-0', to: '10.244.2.2' }, { lean: true });
    assert.deepEqual(simulate(net, { from: 'default/web-0', to: '10.244.2.2' }), before);
  });
});
