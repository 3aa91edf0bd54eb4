// What the path view says: the details pane and the screen-reader labels, built as plain strings
// from real traces. A hostile pod name must come through as the same characters (the DOM layer
// sets it with textContent), never escaped into something else or dropped.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { layoutTrace } from '../../../webview/layout';
import { detailsView, endLabel, flowText, hopAriaLabel, traceTitle, VERDICT_TEXT } from '../../../webview/text';
import { VERDICTS } from '../../../src/engine/trace';
import { cases, HOSTILE_NS, HOSTILE_POD } from './cases';

const all = cases();

describe('details pane text', () => {
  test('a hop lists its steps with kind, sentence and the evidence as `host probe:line  raw`', () => {
    const m = all['pod-to-pod']!;
    const L = layoutTrace(m.trace, m.hosts);
    const v = detailsView(L, 0, 1)!;
    assert.equal(v.heading, 'k8s-node1');
    assert.equal(v.role, 'node');
    assert.equal(v.position, 'Hop 2 of 5');
    assert.match(v.ports, /^in veth\w+ → out eth0$/);
    assert.equal(v.path, null, 'one path: no path line');
    assert.equal(v.end, null);
    assert.deepEqual(v.steps.map((s) => s.kind), m.trace.hops[1]!.steps.map((s) => s.kind));
    const fdb = v.steps.find((s) => s.kind === 'fdb')!;
    assert.equal(fdb.evidence.length, 1);
    assert.match(fdb.evidence[0]!.location, /^k8s-node1 fdb:\d+$/);
    assert.match(fdb.evidence[0]!.raw, /dev flannel\.1 dst 10\.4\.7\.22 /);
    assert.deepEqual(fdb.evidence[0]!.ref, { host: 'k8s-node1', probe: 'fdb', line: m.trace.hops[1]!.steps.find((s) => s.kind === 'fdb')!.records[0]!.line });
    assert.ok(v.steps.every((s) => !s.inferred && !s.final));
  });

  test('the hop where the packet stops carries the verdict and marks the final step', () => {
    const m = all['mtu-1500']!;
    const v = detailsView(layoutTrace(m.trace, m.hosts), 0, 0)!;
    assert.deepEqual(v.end && { kind: v.end.kind, verdict: v.end.verdict }, { kind: 'drop', verdict: 'MTU exceeded' });
    assert.equal(v.ports, 'starts here → stops at eth0', 'the packet never leaves by eth0');
    assert.equal(v.steps.at(-1)!.kind, 'drop');
    assert.ok(v.steps.at(-1)!.final);
  });

  test('inferred steps are flagged and a hop on several paths names the path', () => {
    const inf = all['inferred-pod']!;
    const v = detailsView(layoutTrace(inf.trace, inf.hosts), 0, 4)!;
    assert.ok(v.steps.every((s) => s.inferred));
    assert.equal(v.ports, 'in eth0');
    const fl = all.flood!;
    const L = layoutTrace(fl.trace, fl.hosts);
    assert.match(detailsView(L, 1, 4)!.path!, /^flood cni0 -> veth\w+$/);
  });

  test('a hostile pod name and namespace come through unchanged', () => {
    const m = all.hostile!;
    const L = layoutTrace(m.trace, m.hosts);
    const v = detailsView(L, 0, 4)!;
    assert.equal(v.heading, HOSTILE_POD);
    assert.equal(v.role, `pod in ${HOSTILE_NS}`);
    assert.ok(detailsView(L, 0, 3)!.steps.some((s) => s.text.includes(HOSTILE_POD)));
    const b = L.boxes[4]!;
    const aria = hopAriaLabel(L, b, 0, 4);
    assert.ok(aria.startsWith(`Hop 5 of 5: ${HOSTILE_POD}, pod in ${HOSTILE_NS}`), aria);
    assert.equal(traceTitle(m.trace), `web-0 → ${HOSTILE_POD}`);
    assert.ok(!/&lt;|&amp;|&quot;/.test(JSON.stringify(v)), 'nothing is pre-escaped (the DOM layer sets text, escaping would show)');
  });
});

describe('labels', () => {
  test('every verdict has words', () => {
    for (const v of VERDICTS) assert.ok(VERDICT_TEXT[v], v);
  });

  test('flow, end labels and screen-reader labels', () => {
    const m = all['pod-to-pod']!;
    assert.equal(flowText(m.trace), "ICMP 10.244.0.3 → 10.244.1.3, 64 bytes, Don't Fragment");
    assert.equal(endLabel({ kind: 'drop', verdict: 'no-fdb-entry', dev: 'flannel.1' }), 'no FDB entry at flannel.1');
    assert.equal(endLabel({ kind: 'discarded', verdict: 'wrong-destination', dev: 'eth0' }), 'flood copy discarded at eth0');
    const L = layoutTrace(m.trace, m.hosts);
    assert.match(hopAriaLabel(L, L.boxes[1]!, 0, 1), /^Hop 2 of 5: k8s-node1, node; in veth\w+, out eth0; \d+ steps$/);
    assert.match(hopAriaLabel(L, L.boxes[4]!, 0, 4), /; delivered here$/);
  });
});
