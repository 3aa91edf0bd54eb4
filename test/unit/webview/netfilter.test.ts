// The path view on traces through kube-proxy's rules (the engine's own output on the demo capture with
// kube-proxy iptables rules, kube-proxy-cases.ts): NAT drawn on the host whose rule did it, with the
// chain and the Service; each endpoint a branch with its chance; a DROP or REJECT drawn where the
// packet stops, naming the chain and rule. All from typed details: rewording every sentence and
// every fork label moves nothing.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import type { TraceResult } from '../../../src/shared/protocol';
import { layoutTrace, type HopBox, type PathLayout } from '../../../webview/layout';
import { forkLabels, percent } from '../../../webview/netfilter';
import { detailsView, endLine, endTitle, pathLabel, pathsHeading, traceTitle } from '../../../webview/text';
import { serviceCases } from './cases';

const all = serviceCases();
const layout = (name: string): PathLayout => layoutTrace(all[name]!.trace, all[name]!.hosts);
const box = (L: PathLayout, host: string): HopBox => L.boxes.find((b) => b.host === host)!;
const hostOf = (L: PathLayout, id: string) => L.boxes.find((b) => b.id === id)!.host;

describe('a ClusterIP with three endpoints (default/web:http from prometheus-0)', () => {
  const L = layout('service-endpoints');

  test('the DNAT of each endpoint is drawn on k8s-node3, with its KUBE-SEP chain and the Service, on its own path', () => {
    const node3 = box(L, 'k8s-node3');
    assert.deepEqual(
      node3.badges.map((b) => [b.kind, b.title, b.sub, b.paths]),
      [
        ['dnat', 'DNAT 10.96.0.20:80 → 10.244.0.3:8080', 'nat KUBE-SEP-2XZJVPRY2PQVE3B3 · default/web:http', [0]],
        ['dnat', 'DNAT 10.96.0.20:80 → 10.244.1.3:8080', 'nat KUBE-SEP-OYPFS5VJICHGATKP · default/web:http', [1]],
        ['dnat', 'DNAT 10.96.0.20:80 → 10.244.2.2:8080', 'nat KUBE-SEP-T3T5WZBJ3QSXXZJA · default/web:http', [2]],
      ],
    );
    assert.equal(node3.badges[1]!.raw, '-A KUBE-SEP-OYPFS5VJICHGATKP -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.1.3:8080');
    assert.match(node3.badges[1]!.where, /^k8s-node3 iptables:\d+$/);
    // Inside the box, below its ports, one under the other.
    for (const b of node3.badges) {
      assert.ok(b.x > node3.x && b.x + b.w < node3.x + node3.w && b.y > node3.y && b.y + b.h < node3.y + node3.h, JSON.stringify(b));
    }
    assert.ok(node3.badges[0]!.y + node3.badges[0]!.h < node3.badges[1]!.y);
    // The other hosts' rules changed nothing: no badge there.
    assert.deepEqual(L.boxes.filter((b) => b.badges.length).map((b) => b.host), ['k8s-node3']);
  });

  test('each endpoint is a branch labelled with its chance, where the paths part', () => {
    assert.deepEqual(L.paths.map((p) => [p.endpoint, p.chance]), [
      ['10.244.0.3:8080', '1 of 3, 33%'],
      ['10.244.1.3:8080', '2 of 3, 33%'],
      ['10.244.2.2:8080', '3 of 3, 33%'],
    ]);
    const labelled = L.edges.filter((e) => e.branch !== null).map((e) => [hostOf(L, e.from), hostOf(L, e.to), e.branch]);
    assert.deepEqual(labelled, [
      ['tor', 'k8s-node1', '10.244.0.3:8080 · 1 of 3, 33%'],
      ['tor', 'k8s-node2', '10.244.1.3:8080 · 2 of 3, 33%'],
      ['k8s-node3', 'nginx-7c5ddbdf54-2xq8n', '10.244.2.2:8080 · 3 of 3, 33%'],
    ]);
    assert.deepEqual(L.ends.map((e) => [hostOf(L, e.box), endLine(e)]), [
      ['web-0', 'delivered to 10.244.0.3:8080 (1 of 3, 33%)'],
      ['web-1', 'delivered to 10.244.1.3:8080 (2 of 3, 33%)'],
      ['nginx-7c5ddbdf54-2xq8n', 'delivered to 10.244.2.2:8080 (3 of 3, 33%)'],
    ]);
    assert.equal(pathsHeading(L, all['service-endpoints']!.trace), '3 paths (Service endpoints)');
    assert.equal(traceTitle(all['service-endpoints']!.trace), 'prometheus-0 → svc default/web:http');
    assert.equal(pathLabel(L.paths[1]!, 1), '10.244.1.3:8080 · 2 of 3, 33%');
  });

  test('the details pane tags each netfilter step with its hook, chain and rule', () => {
    const hop = L.paths[1]!.hops.findIndex((h) => h.host === 'k8s-node3');
    const v = detailsView(L, 1, hop)!;
    const dnat = v.steps.filter((s) => s.kind === 'netfilter' && s.evidence.some((e) => e.raw.includes('DNAT --to-destination 10.244.1.3:8080')));
    assert.ok(dnat.some((s) => s.tag === 'prerouting · nat KUBE-SEP-OYPFS5VJICHGATKP rule 2'), JSON.stringify(dnat.map((s) => s.tag)));
    assert.ok(v.steps.some((s) => s.tag === 'forward · filter FORWARD policy ACCEPT'));
    assert.ok(v.steps.filter((s) => s.kind !== 'netfilter').every((s) => s.tag === ''));
  });
});

describe('hairpin: web-0 to its own Service', () => {
  test("the path back to web-0 is masqueraded to the bridge's address on k8s-node1, drawn beside its DNAT", () => {
    const L = layout('service-hairpin');
    const node1 = box(L, 'k8s-node1');
    assert.deepEqual(node1.badges.filter((b) => b.paths.includes(0)).map((b) => [b.kind, b.title, b.sub]), [
      ['dnat', 'DNAT 10.96.0.20:80 → 10.244.0.3:8080', 'nat KUBE-SEP-2XZJVPRY2PQVE3B3 · default/web:http'],
      ['masquerade', 'MASQUERADE 10.244.0.3 → 10.244.0.1', 'nat KUBE-POSTROUTING'],
    ]);
    assert.equal(L.edges.find((e) => e.from === node1.id && hostOf(L, e.to) === 'web-0')!.branch, '10.244.0.3:8080 · 1 of 3, 33%');
  });
});

describe('where the rules stop the packet', () => {
  test('a Service with no endpoints: REJECT on k8s-node3, naming the chain, rule and Service', () => {
    const L = layout('service-rejected');
    assert.equal(L.paths[0]!.verdict, 'rejected');
    const node3 = box(L, 'k8s-node3');
    assert.deepEqual(node3.badges.map((b) => [b.kind, b.title, b.sub]), [['reject', 'REJECT icmp-port-unreachable', 'filter KUBE-SERVICES rule 1 · forward · default/empty:http']]);
    const end = L.ends[0]!;
    assert.deepEqual([end.kind, end.rule, hostOf(L, end.box)], ['drop', 'filter KUBE-SERVICES rule 1', 'k8s-node3']);
    assert.equal(endLine(end), 'rejected at cni0');
    assert.match(endTitle(end), /^rejected by filter KUBE-SERVICES rule 1: /);
  });

  test("FORWARD policy DROP: one DROP badge on all three paths after their DNATs; each end names its endpoint and chance", () => {
    const L = layout('service-filtered');
    const node3 = box(L, 'k8s-node3');
    assert.deepEqual(node3.badges.map((b) => [b.kind, b.title, b.paths]), [
      ['dnat', 'DNAT 10.96.0.20:80 → 10.244.0.3:8080', [0]],
      ['dnat', 'DNAT 10.96.0.20:80 → 10.244.1.3:8080', [1]],
      ['dnat', 'DNAT 10.96.0.20:80 → 10.244.2.2:8080', [2]],
      ['drop', 'DROP (FORWARD policy)', [0, 1, 2]],
    ]);
    assert.equal(node3.badges[3]!.raw, ':FORWARD DROP [0:0]');
    assert.deepEqual(L.ends.map((e) => [e.kind, e.verdict, e.rule, endLine(e)]), [
      ['drop', 'filtered', 'filter FORWARD policy', 'filtered at cni0 (10.244.0.3:8080, 1 of 3, 33%)'],
      ['drop', 'filtered', 'filter FORWARD policy', 'filtered at cni0 (10.244.1.3:8080, 2 of 3, 33%)'],
      ['drop', 'filtered', 'filter FORWARD policy', 'filtered at cni0 (10.244.2.2:8080, 3 of 3, 33%)'],
    ]);
  });
});

/** The trace with every sentence (step texts, reasons, branch strings and fork labels) replaced. */
function reworded(t: TraceResult): TraceResult {
  const copy = JSON.parse(JSON.stringify(t)) as TraceResult;
  let n = 0;
  for (const p of [copy, ...copy.paths]) {
    p.reason = `reason ${n++}`;
    for (const h of p.hops) for (const s of h.steps) s.text = `said differently ${n++}`;
  }
  for (const p of copy.paths) {
    p.branch = `branch ${n++}`;
    for (const f of p.forks ?? []) f.label = `fork ${n++}`;
  }
  return copy;
}

describe('no sentence is read', () => {
  for (const name of Object.keys(all)) {
    test(`${name}: with every sentence and fork label reworded, the same badges, branch labels and ends`, () => {
      const m = all[name]!;
      const a = layoutTrace(m.trace, m.hosts);
      const b = layoutTrace(reworded(m.trace), m.hosts);
      assert.deepEqual(b.boxes, a.boxes);
      assert.deepEqual(b.edges.map((e) => e.branch), a.edges.map((e) => e.branch));
      assert.deepEqual(b.ends.map(endLine), a.ends.map(endLine));
    });
  }
});

describe('fork labels', () => {
  test('the number of alternatives counts the choices made at the same place after the same forks', () => {
    const nf = (choice: number, probability: number, ip: string) => ({ kind: 'netfilter' as const, host: 'n1', hook: 'prerouting' as const, choice, probability, endpoint: { ip, port: 80 }, label: '' });
    const ecmp = (gw: string) => ({ kind: 'ecmp' as const, host: 'n0', gateway: gw, label: `via ${gw}` });
    const labels = forkLabels([
      { branch: '', forks: [ecmp('a'), nf(1, 0.5, '10.0.0.1')] },
      { branch: '', forks: [ecmp('a'), nf(2, 0.5, '10.0.0.2')] },
      { branch: '', forks: [ecmp('b'), nf(1, 0.25, '10.0.0.1')] },
      { branch: '', forks: [ecmp('b'), nf(2, 0.25, '10.0.0.2')] },
      { branch: '', forks: [ecmp('b'), nf(3, 0.25, '10.0.0.3')] },
      { branch: '', forks: [ecmp('b'), nf(4, 0.25, '10.0.0.4')] },
    ]);
    assert.deepEqual(labels.map((l) => l.forks[1]), ['10.0.0.1:80 · 1 of 2, 50%', '10.0.0.2:80 · 2 of 2, 50%', '10.0.0.1:80 · 1 of 4, 25%', '10.0.0.2:80 · 2 of 4, 25%', '10.0.0.3:80 · 3 of 4, 25%', '10.0.0.4:80 · 4 of 4, 25%']);
    assert.deepEqual(labels.map((l) => l.forks[0]), ['via a', 'via a', 'via b', 'via b', 'via b', 'via b']);
  });

  test('a trace saved by netpath 0.1 keeps its branch as the one label; chances read as people read them', () => {
    assert.deepEqual(forkLabels([{ branch: 'flood cni0 -> veth1' }]), [{ forks: ['flood cni0 -> veth1'] }]);
    assert.deepEqual([percent(1 / 3), percent(0.004), percent(0), percent(1)], ['33%', '<1%', '0%', '100%']);
  });
});
