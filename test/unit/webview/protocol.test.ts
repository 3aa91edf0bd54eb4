// The extension <-> webview protocol: the extension accepts only well-formed messages from the
// webview (it is a browser page), and the webview renders only well-formed state.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { isFromWebview, isToWebview, MAX_SVG_BYTES, traceHosts } from '../../../src/shared/protocol';
import { cases, demo, trace } from './cases';

describe('messages from the webview', () => {
  test('the four kinds are accepted', () => {
    for (const m of [
      { type: 'ready' },
      { type: 'exportJson' },
      { type: 'exportSvg', svg: '<svg xmlns="http://www.w3.org/2000/svg"></svg>' },
      { type: 'exportSvg', svg: '<?xml version="1.0" encoding="UTF-8"?>\n<svg width="1"></svg>' },
      { type: 'revealEvidence', host: 'k8s-node1', probe: 'routes4', line: 4 },
    ]) assert.ok(isFromWebview(m), JSON.stringify(m));
  });

  test('anything else is refused', () => {
    for (const m of [
      null, undefined, 'ready', 42, [], [{ type: 'ready' }], {}, { type: 'READY' }, { type: 'showTrace' },
      { type: 'exportSvg' }, { type: 'exportSvg', svg: 7 }, { type: 'exportSvg', svg: '<html><body></body></html>' }, { type: 'exportSvg', svg: '<svgx/>' },
      { type: 'exportSvg', svg: `<svg>${'x'.repeat(MAX_SVG_BYTES)}</svg>` },
      { type: 'revealEvidence', host: 'n', probe: 'routes4' }, { type: 'revealEvidence', host: 'n', probe: 'routes4', line: -1 },
      { type: 'revealEvidence', host: 'n', probe: 'routes4', line: 1.5 }, { type: 'revealEvidence', host: 'n', probe: 'routes4', line: '4' },
      { type: 'revealEvidence', host: '', probe: 'routes4', line: 4 }, { type: 'revealEvidence', host: 'n', probe: ['routes4'], line: 4 },
    ]) assert.ok(!isFromWebview(m), JSON.stringify(m)?.slice(0, 80));
  });
});

describe('messages to the webview', () => {
  test('a trace message and the capture summary message pass; broken ones do not', () => {
    const m = cases()['pod-to-pod']!;
    assert.ok(isToWebview(m));
    assert.ok(isToWebview(JSON.parse(JSON.stringify(m))));
    assert.ok(isToWebview({ type: 'showCapture', source: 'x.json', summary: { hosts: [] } }));
    assert.ok(!isToWebview({ ...m, trace: { ...m.trace, hops: 'x' } }));
    assert.ok(!isToWebview({ ...m, request: undefined }));
    assert.ok(!isToWebview({ type: 'showTrace', source: 's' }));
    assert.ok(!isToWebview({ type: 'other', source: 's' }));
  });

  test('traceHosts gives the roles of the hosts on the path and nothing else', () => {
    const c = demo();
    const t = trace(c, { from: 'default/web-0', to: 'default/web-1' });
    assert.deepEqual(traceHosts(t, c.hosts), [
      { name: 'k8s-node1', role: 'node' },
      { name: 'k8s-node2', role: 'node' },
      { name: 'web-0', role: 'pod', namespace: 'default', node: 'k8s-node1' },
      { name: 'web-1', role: 'pod', namespace: 'default', node: 'k8s-node2' },
      { name: 'tor', role: 'switch' },
    ]);
  });
});
