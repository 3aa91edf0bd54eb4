// Two traces side by side (webview/compare.ts): hop alignment and where they part, on real traces of
// the demo capture and of the demo with a "fix" (web-0's eth0 MTU raised to 1500).
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { alignHops, compareTraces, packetDifferences, stepLabel } from '../../../webview/compare';
import { demo, edit, trace } from './cases';

const c = demo();
const small = trace(c, { from: 'default/web-0', to: 'default/web-1', size: 64 });
const big = trace(c, { from: 'default/web-0', to: 'default/web-1', size: 1500 });
const fixed = edit(demo(), 'web-0', 'links', (ls) => ls.map((l) => (l.startsWith('2: eth0@') ? l.replace('mtu 1450', 'mtu 1500') : l)));
const bigAfterFix = trace(fixed, { from: 'default/web-0', to: 'default/web-1', size: 1500 });

describe('comparing two traces', () => {
  test('64 vs 1500 bytes: they part at web-0, step 3, where the 1500-byte packet is dropped (MTU 1450)', () => {
    const r = compareTraces(small, big);
    assert.deepEqual(r.packet, ['size 64 → 1500 bytes']);
    assert.deepEqual(
      r.rows.map((row) => [row.a?.host ?? null, row.b?.host ?? null, row.same]),
      [
        ['web-0', 'web-0', false],
        ['k8s-node1', null, false],
        ['tor', null, false],
        ['k8s-node2', null, false],
        ['web-1', null, false],
      ],
    );
    const d = r.divergence;
    assert.ok(d);
    assert.equal(d.kind, 'step');
    assert.equal(d.row, 0);
    assert.equal(d.host, 'web-0');
    assert.equal(d.a?.index, 2);
    assert.equal(d.a?.label, 'neigh');
    assert.equal(d.b?.label, 'drop (mtu)');
    assert.match(d.b?.text ?? '', /1450/);
    assert.equal(d.text, 'The traces part at web-0 (hop 1 of A, 1 of B), step 3: neigh in A, drop (mtu) in B.');
    assert.equal(r.firstPathOnly, false);
  });

  test('the other way round, A and B swap', () => {
    const d = compareTraces(big, small).divergence;
    assert.equal(d?.a?.label, 'drop (mtu)');
    assert.equal(d?.b?.label, 'neigh');
  });

  test('before and after a fix: the fixed 1500-byte packet leaves web-0 and is dropped at k8s-node1 instead', () => {
    assert.equal(bigAfterFix.verdict, 'mtu-exceeded');
    assert.equal(bigAfterFix.dropAt?.host, 'k8s-node1');
    const r = compareTraces(big, bigAfterFix);
    assert.deepEqual(r.packet, [], 'the same packet');
    assert.equal(r.divergence?.host, 'web-0');
    assert.equal(r.divergence?.a?.label, 'drop (mtu)');
    assert.equal(r.divergence?.b?.label, 'neigh');
    assert.deepEqual(r.rows.map((row) => [row.a?.host ?? null, row.b?.host ?? null]), [['web-0', 'web-0'], [null, 'k8s-node1']]);
  });

  test('the same trace twice: every row the same, no divergence', () => {
    const r = compareTraces(small, trace(demo(), { from: 'default/web-0', to: 'default/web-1', size: 64 }));
    assert.equal(r.divergence, null);
    assert.ok(r.rows.every((row) => row.same));
    assert.deepEqual(r.packet, []);
  });

  test('different destinations: hops align by host; they part at k8s-node1, whose route step picks another subnet', () => {
    const toNode3 = trace(c, { from: 'default/web-0', to: 'default/nginx-7c5ddbdf54-2xq8n' });
    const r = compareTraces(small, toNode3);
    assert.deepEqual(
      r.rows.map((row) => [row.a?.host ?? null, row.b?.host ?? null, row.same]),
      [
        ['web-0', 'web-0', true],
        ['k8s-node1', 'k8s-node1', false],
        ['tor', 'tor', false],
        ['k8s-node2', null, false],
        ['web-1', null, false],
        [null, 'k8s-node3', false],
        [null, 'nginx-7c5ddbdf54-2xq8n', false],
      ],
    );
    const d = r.divergence;
    assert.equal(d?.row, 1);
    assert.equal(d?.kind, 'step');
    assert.match(d?.text ?? '', /^The traces part at k8s-node1 \(hop 2 of A, 2 of B\), step \d+: route in both, decided differently\.$/);
    assert.match(d?.a?.text ?? '', /10\.244\.1\.0\/24/);
    assert.match(d?.b?.text ?? '', /10\.244\.2\.0\/24/);
    assert.ok(r.packet.some((p) => p.startsWith('destination 10.244.1.3 → 10.244.2.2')));
  });

  test('a verdict that differs where hops and steps do not is the divergence', () => {
    const b = { ...small, verdict: 'filtered' as const };
    const r = compareTraces(small, b);
    assert.equal(r.divergence?.kind, 'verdict');
    assert.equal(r.divergence?.text, 'The same hops and steps, but A ends delivered and B filtered.');
  });

  test('devices that differ on a hop with the same steps', () => {
    const moved = { ...small, hops: small.hops.map((h, i) => (i === 0 ? { ...h, out: 'eth1' } : h)) };
    const r = compareTraces(small, moved);
    assert.equal(r.divergence?.kind, 'devices');
    assert.equal(r.divergence?.text, 'The traces part at web-0: A goes (origin) → eth0, B (origin) → eth1.');
  });

  test('helpers: a step label names its typed detail; packet differences; alignment of empty paths', () => {
    assert.equal(stepLabel(big.hops[0]!.steps.at(-1)!), 'drop (mtu)');
    assert.equal(stepLabel(small.hops[0]!.steps[0]!), 'origin');
    assert.deepEqual(packetDifferences(small.flow, { ...small.flow, proto: 'tcp', dport: 80 }), ['protocol ICMP → TCP', 'port none → 80']);
    assert.deepEqual(alignHops([], []), []);
    assert.deepEqual(alignHops(small.hops, []).map((r) => r.b), [null, null, null, null, null]);
  });
});
