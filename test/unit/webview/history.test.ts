// The path view's history bar texts (webview/historyText.ts) and the protocol messages the history,
// Compare and Reverse add (src/shared/protocol.ts).
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { isFromWebview, isToWebview, type HistoryItem, type ShowTrace } from '../../../src/shared/protocol';
import { historyLabel, neighbours, provenanceText } from '../../../webview/historyText';
import { demo, trace } from './cases';

const item = (id: number, loaded = true): HistoryItem => ({ id, title: 'web-0 → web-1', packet: 'ICMP, 1500 bytes', verdict: 'mtu-exceeded', source: 'demo capture', shownAt: 0, loaded });

describe('history bar', () => {
  test('a row says title, packet, verdict and capture, and when its capture is no longer loaded', () => {
    assert.equal(historyLabel(item(1)), 'web-0 → web-1 · ICMP, 1500 bytes · MTU exceeded · demo capture an unknown time');
    assert.match(historyLabel(item(1, false)), / \(capture no longer loaded\)$/);
  });

  test('Back and Forward are the entries around the current one', () => {
    const h = { items: [item(1), item(2), item(5)], current: 2 };
    assert.deepEqual([neighbours(h).back?.id, neighbours(h).forward?.id], [1, 5]);
    assert.deepEqual(neighbours({ ...h, current: 1 }).back, undefined);
    assert.deepEqual(neighbours({ ...h, current: 5 }).forward, undefined);
    assert.deepEqual(neighbours({ ...h, current: 9 }), {});
  });

  test('the provenance line names the capture, and warns when it is no longer loaded', () => {
    const t = trace(demo(), { from: 'default/web-0', to: 'default/web-1' });
    const m: ShowTrace = { type: 'showTrace', trace: t, source: 'demo capture', request: { from: 'default/web-0', to: 'default/web-1' }, history: { items: [item(3)], current: 3 } };
    assert.deepEqual(provenanceText(m), { text: 'Computed on demo capture at an unknown time', stale: false });
    const stale = provenanceText({ ...m, history: { items: [item(3, false)], current: 3 } });
    assert.equal(stale?.stale, true);
    assert.match(stale?.text ?? '', /no longer loaded \(shown from the history, not traced again\)/);
    assert.equal(provenanceText({ ...m, history: undefined }), undefined);
  });
});

describe('history, compare and reverse messages', () => {
  test('from the webview: historyGo with a whole id, compare, reverse; nothing else', () => {
    for (const m of [{ type: 'historyGo', id: 3 }, { type: 'compare' }, { type: 'reverse' }]) assert.ok(isFromWebview(m), JSON.stringify(m));
    for (const m of [{ type: 'historyGo' }, { type: 'historyGo', id: -1 }, { type: 'historyGo', id: 1.5 }, { type: 'historyGo', id: '3' }]) assert.ok(!isFromWebview(m), JSON.stringify(m));
  });

  test('to the webview: a trace with a history, a comparison; broken ones are refused', () => {
    const t = trace(demo(), { from: 'default/web-0', to: 'default/web-1' });
    const base = { type: 'showTrace', trace: t, source: 'demo capture', request: { from: 'a', to: 'b' } };
    assert.ok(isToWebview({ ...base, history: { items: [item(1)], current: 1 } }));
    assert.ok(!isToWebview({ ...base, history: { items: 'x', current: 1 } }));
    const side = { id: 1, trace: t, request: { from: 'a', to: 'b' }, source: 'demo capture', loaded: true };
    assert.ok(isToWebview({ type: 'showCompare', source: 'demo capture', a: side, b: { ...side, id: 2 } }));
    assert.ok(!isToWebview({ type: 'showCompare', source: 'demo capture', a: side }));
    assert.ok(!isToWebview({ type: 'showCompare', source: 'demo capture', a: side, b: { ...side, trace: { ...t, hops: 'x' } } }));
    assert.ok(!isToWebview({ type: 'showCompare', source: 'demo capture', a: side, b: { ...side, loaded: 'yes' } }));
  });
});
