// The path view's history (src/vscode/model/history.ts) and the reverse of a trace
// (src/vscode/model/reverse.ts), on real traces of the demo capture.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import type { TraceRequest } from '../../../src/engine';
import type { ShowTrace } from '../../../src/shared/protocol';
import { HISTORY_LIMIT, packetText, TraceHistory, traceTitle } from '../../../src/vscode/model/history';
import { reverseRequest } from '../../../src/vscode/model/reverse';
import { demo, trace } from '../webview/cases';

const capture = demo();
function shown(request: TraceRequest, shownAt: number, captureId = 'file:demo'): ShowTrace {
  return { type: 'showTrace', trace: trace(capture, request), source: 'demo capture', request, shownAt, captureId };
}
const small = shown({ from: 'default/web-0', to: 'default/web-1', size: 64 }, 1_000);
const big = shown({ from: 'default/web-0', to: 'default/web-1', size: 1500 }, 2_000);
const other = shown({ from: 'default/web-1', to: 'default/web-0', size: 64 }, 3_000, 'file:fixed');

describe('trace history', () => {
  test('a new trace becomes the current entry; Back and Forward move without dropping any', () => {
    const h = new TraceHistory();
    const a = h.push(small);
    const b = h.push(big);
    assert.equal(h.current?.id, b.id);
    assert.equal(h.neighbour(-1)?.id, a.id);
    assert.equal(h.neighbour(1), undefined);
    assert.equal(h.go(a.id)?.message.trace.flow.size, 64);
    assert.equal(h.neighbour(1)?.id, b.id);
    assert.equal(h.neighbour(-1), undefined);
    // A trace shown while back in the list is appended: the later one is kept.
    const c = h.push(other);
    assert.deepEqual(h.list().map((e) => e.id), [a.id, b.id, c.id]);
    assert.equal(h.current?.id, c.id);
    assert.equal(h.go(999), undefined, 'an unknown id');
    assert.equal(h.current?.id, c.id, 'an unknown id leaves the current entry alone');
  });

  test(`it keeps the last ${HISTORY_LIMIT}; ids are never reused`, () => {
    const h = new TraceHistory();
    const ids = Array.from({ length: HISTORY_LIMIT + 3 }, (_, i) => h.push({ ...small, shownAt: i }).id);
    assert.equal(h.list().length, HISTORY_LIMIT);
    assert.deepEqual(h.list().map((e) => e.id), ids.slice(3));
    assert.equal(new Set(ids).size, ids.length);
  });

  test('the entry does not keep the history the message carried', () => {
    const h = new TraceHistory();
    const e = h.push({ ...small, history: { items: [], current: 0 } });
    assert.equal('history' in e.message, false);
  });

  test('the view lists title, packet, verdict, capture and time, and marks a capture no longer loaded', () => {
    const h = new TraceHistory();
    h.push(small);
    h.push(big);
    h.push(other);
    const v = h.view('file:demo');
    assert.deepEqual(
      v.items.map((i) => [i.title, i.packet, i.verdict, i.source, i.shownAt, i.loaded]),
      [
        ['web-0 → web-1', 'ICMP, 64 bytes', 'delivered', 'demo capture', 1_000, true],
        ['web-0 → web-1', 'ICMP, 1500 bytes', 'mtu-exceeded', 'demo capture', 2_000, true],
        ['web-1 → web-0', 'ICMP, 64 bytes', 'delivered', 'demo capture', 3_000, false],
      ],
    );
    assert.equal(v.current, h.current?.id);
    assert.deepEqual(h.view('file:fixed').items.map((i) => i.loaded), [false, false, true]);
    assert.deepEqual(h.view(undefined).items.map((i) => i.loaded), [false, false, false], 'nothing loaded (after a window reload)');
    // A message saved before captures had an identity cannot be told to be loaded.
    const { captureId: _c, ...old } = small;
    assert.equal(new TraceHistory().view('file:demo').items.length, 0);
    const h2 = new TraceHistory();
    h2.push(old);
    assert.equal(h2.view('file:demo').items[0]?.loaded, false);
  });

  test('saved and restored (a window reload), the entries, the current one and the next id survive; damaged entries are left out', () => {
    const h = new TraceHistory();
    const a = h.push(small);
    h.push(big);
    h.go(a.id);
    const saved = JSON.parse(JSON.stringify(h.toJSON())) as { entries: unknown[] };
    saved.entries.push({ id: 77, message: { type: 'showTrace', source: 'x' } }, 'garbage');
    const r = TraceHistory.restore(saved);
    assert.deepEqual(r.list().map((e) => e.message.trace.flow.size), [64, 1500]);
    assert.equal(r.current?.id, a.id);
    assert.ok(r.push(other).id > Math.max(...h.list().map((e) => e.id)));
    assert.equal(TraceHistory.restore(undefined).list().length, 0);
    assert.equal(TraceHistory.restore({ entries: 'x' }).current, undefined);
    assert.equal(r.find(big)?.message.trace.verdict, 'mtu-exceeded');
    assert.equal(r.find({ ...big, shownAt: 5 }), undefined);
  });

  test('titles and packets read as the path view writes them', () => {
    assert.equal(traceTitle(big.trace), 'web-0 → web-1');
    assert.equal(packetText({ proto: 'tcp', dport: 8080, size: 1500, src: 'a', dst: 'b', df: true }), 'TCP port 8080, 1500 bytes');
  });
});

describe('reverse trace', () => {
  test('pod to pod, ICMP: from the pod the packet was delivered to back to the source as named, same size', () => {
    const r = reverseRequest(small);
    assert.deepEqual(r.request, { from: 'web-1', to: 'default/web-0', size: 64, proto: 'icmp' });
    assert.match(r.note, /^Reverse of default\/web-0 → default\/web-1: from web-1 back to default\/web-0\.$/);
    // The reverse request traces, and comes back the other way.
    const back = trace(capture, r.request);
    assert.equal(back.verdict, 'delivered');
    assert.deepEqual(back.hops.map((h) => h.host), ['web-1', 'k8s-node2', 'tor', 'k8s-node1', 'web-0']);
  });

  test('a dropped trace is reversed from its destination all the same', () => {
    const r = reverseRequest(big);
    assert.equal(r.request.from, 'web-1');
    assert.equal(r.request.size, 1500);
  });

  test('TCP with a known source port: the reply goes from the server port to the client port', () => {
    const req: TraceRequest = { from: 'default/web-0', to: 'default/web-1', proto: 'tcp', port: 8080, sport: 40000 };
    const r = reverseRequest(shown(req, 1));
    assert.deepEqual(r.request, { from: 'web-1', to: 'default/web-0', size: 64, proto: 'tcp', port: 40000, sport: 8080 });
    assert.doesNotMatch(r.note, /source port is not known/);
  });

  test('TCP without a source port: the reverse has no destination port, and says so', () => {
    const r = reverseRequest(shown({ from: 'default/web-0', to: 'default/web-1', proto: 'tcp', port: 8080 }, 1));
    assert.equal(r.request.port, undefined);
    assert.equal(r.request.sport, 8080);
    assert.match(r.note, /source port is not known .* no destination port, from port 8080/);
    assert.equal(trace(capture, r.request).flow.dport, undefined);
  });

  test('a Service trace is reversed from the endpoint the path reached (its port after the DNAT) back to the client', () => {
    const m = shown({ from: 'monitoring/prometheus-0', to: 'svc/default/web' }, 1);
    const reached = m.trace.paths.find((p) => p.verdict === 'delivered' && !p.floodCopy);
    assert.ok(reached?.endpoint, `no delivered path with an endpoint: ${m.trace.verdict}`);
    const r = reverseRequest(m);
    assert.equal(r.request.from, reached.hops.at(-1)!.host);
    assert.equal(r.request.to, 'monitoring/prometheus-0');
    assert.equal(r.request.sport, reached.endpoint.port);
    assert.equal(r.request.port, undefined);
    assert.match(r.note, new RegExp(`from the Service endpoint ${reached.endpoint.ip.replace(/\./g, '\\.')}:${reached.endpoint.port}`));
  });
});
