// The path view reads the trace's fields and typed details, never its sentences: how each path ended
// (`ending`), its forks, each step's kind and detail. Rewording every sentence of a trace leaves the
// drawing where it was; a copy the engine marks as discarded (a VXLAN default entry's, not only a
// bridge flood's) is drawn as discarded.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import type { TraceResult } from '../../../src/shared/protocol';
import { layoutTrace, type PathLayout } from '../../../webview/layout';
import { endLabel } from '../../../webview/text';
import { cases } from './cases';

const all = cases();

/** The trace with every sentence (step texts, reasons, branch strings) replaced by other words. */
function reworded(t: TraceResult): TraceResult {
  const copy = JSON.parse(JSON.stringify(t)) as TraceResult;
  let n = 0;
  for (const p of [copy, ...copy.paths]) {
    p.reason = `reason ${n++}`;
    for (const h of p.hops) for (const s of h.steps) s.text = `said differently ${n++}`;
  }
  for (const p of copy.paths) p.branch = `branch ${n++}`;
  return copy;
}

/** The geometry and every fact drawn, without the sentences shown as tooltips and lists. */
function drawn(L: PathLayout): unknown {
  return {
    width: L.width,
    height: L.height,
    boxes: L.boxes,
    edges: L.edges.map(({ title: _t, ...e }) => e),
    tunnels: L.tunnels,
    ends: L.ends.map(({ reason: _r, ...e }) => e),
    paths: L.paths.map(({ reason: _r, branch: _b, hops: _h, ...p }) => p),
  };
}

describe('the path view parses no sentence', () => {
  for (const name of Object.keys(all)) {
    test(`${name}: reworded, the same drawing`, () => {
      const m = all[name]!;
      assert.deepEqual(drawn(layoutTrace(reworded(m.trace), m.hosts)), drawn(layoutTrace(m.trace, m.hosts)));
    });
  }

  test('the tunnel header comes from the details even with the tunnel field gone', () => {
    const t = reworded(all['pod-to-pod']!.trace);
    for (const p of [t, ...t.paths]) for (const h of p.hops) for (const s of h.steps) delete s.tunnel;
    const L = layoutTrace(t, all['pod-to-pod']!.hosts);
    assert.equal(L.tunnels[0]!.label, 'VXLAN VNI 1  10.4.7.21 → 10.4.7.22:8472');
  });
});

describe('a VXLAN default-entry copy', () => {
  const m = all['vxlan-default']!;
  const L = layoutTrace(m.trace, m.hosts);

  test('the engine forks a copy to each VTEP of the default entries and marks the stray one discarded', () => {
    assert.equal(m.trace.verdict, 'delivered');
    assert.deepEqual(m.trace.paths.map((p) => [p.forks?.map((f) => f.kind), p.verdict, p.ending, p.copy]), [
      [['vxlan'], 'delivered', 'delivered', 'vxlan-default'],
      [['vxlan'], 'wrong-destination', 'discarded', 'vxlan-default'],
    ]);
  });

  test('is drawn as a discarded copy, not a drop, and says what it was a copy of', () => {
    assert.deepEqual(L.ends.map((e) => e.kind).sort(), ['delivered', 'discarded']);
    const stray = L.ends.find((e) => e.kind === 'discarded')!;
    assert.equal(L.boxes.find((b) => b.id === stray.box)!.host, 'k8s-node3');
    assert.equal(stray.copy, 'vxlan-default');
    assert.equal(endLabel(stray), 'VXLAN default-entry copy discarded at flannel.1');
    assert.equal(L.paths.find((p) => p.end === 'discarded')!.copy, 'vxlan-default');
  });
});
