// The policy matrix view's pure parts: a cell's mark and label, the protocol's checks of the matrix
// messages (a webview is a browser page: a cell click with a bad index is refused), and the flow line.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { isFromWebview, isToWebview } from '../../../src/shared/protocol';
import { matrixFlow } from '../../../src/vscode/model/matrix';
import { cellLabel, cellMark } from '../../../webview/matrixText';

describe('the policy matrix view', () => {
  test('marks: · allowed, E/I/X denied at egress, ingress, both; the label says which and flags a pod to itself', () => {
    assert.equal(cellMark({ verdict: 'allowed', egress: 'allowed', ingress: 'allowed' }), '·');
    assert.equal(cellMark({ verdict: 'denied', egress: 'denied', ingress: 'allowed' }), 'E');
    assert.equal(cellMark({ verdict: 'denied', egress: 'allowed', ingress: 'denied' }), 'I');
    assert.equal(cellMark({ verdict: 'denied', egress: 'denied', ingress: 'denied' }), 'X');
    assert.equal(cellLabel('a/x', 'b/y', { verdict: 'denied', egress: 'allowed', ingress: 'denied' }), 'a/x → b/y: denied at ingress (b/y)');
    assert.equal(cellLabel('a/x', 'a/x', { verdict: 'allowed', egress: 'allowed', ingress: 'allowed', self: true }), 'a/x → a/x: allowed; a pod to itself (implementation-specific)');
  });

  test('cell clicks are checked: non-negative integer indexes only', () => {
    assert.ok(isFromWebview({ type: 'matrixCell', row: 0, col: 3 }));
    assert.ok(isFromWebview({ type: 'matrixTrace', row: 2, col: 0 }));
    for (const bad of [{ type: 'matrixCell', row: -1, col: 0 }, { type: 'matrixCell', row: 0.5, col: 0 }, { type: 'matrixCell', row: '1', col: 0 }, { type: 'matrixTrace', row: 0 }, { type: 'matrixCell', row: 1e12, col: 0 }]) assert.equal(isFromWebview(bad), false, JSON.stringify(bad));
  });

  test('a matrix message (or restored state) must carry its rows, columns, cells and notes', () => {
    const ok = { type: 'showMatrix', source: 'x.json', title: 'namespace default', flow: 'TCP 8080', rows: ['a/x'], cols: ['a/x'], cells: [[{ verdict: 'allowed', egress: 'allowed', ingress: 'allowed' }]], notes: [] };
    assert.ok(isToWebview(ok));
    assert.equal(isToWebview({ ...ok, cells: undefined }), false);
    assert.equal(isToWebview({ ...ok, details: 'x' }), false);
  });

  test('the flow line: port, named port, none', () => {
    assert.equal(matrixFlow({ proto: 'TCP', port: 8080 }), 'TCP 8080');
    assert.equal(matrixFlow({ proto: 'TCP', port: 5432, portName: 'postgres' }), 'TCP 5432 (postgres)');
    assert.equal(matrixFlow({ proto: 'TCP', portName: 'http' }), 'TCP port http');
    assert.equal(matrixFlow({ proto: 'TCP' }), 'TCP (no port given)');
  });
});

describe('the policy matrix view from the engine (shop fixture)', () => {
  test('cells as drawn, and a cell explained with both directions\' sentences', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { readKubernetes } = await import('../../../src/capture/kubernetes');
    const { policyIndexOf, policyMatrixWith } = await import('../../../src/engine/policy');
    const { matrixView, matrixDetails } = await import('../../../src/vscode/model/matrix');
    // The fixture is a kubernetes section alone (what netpath policy reads).
    const doc = JSON.parse(readFileSync(join(__dirname, '../../fixtures/policy/shop.json'), 'utf8')) as { kubernetes: unknown };
    const idx = policyIndexOf(readKubernetes(doc.kubernetes));
    const out = policyMatrixWith(idx, { namespace: 'shop', proto: 'TCP', port: 5432 });
    assert.ok(out.ok);
    const v = matrixView(out.matrix, 'namespace shop', 'shop.json');
    assert.deepEqual([v.type, v.title, v.flow, v.rows.length, v.cols.length], ['showMatrix', 'namespace shop', 'TCP 5432', out.matrix.rows.length, out.matrix.cols.length]);
    const db = v.cols.indexOf('shop/db-0');
    assert.ok(db >= 0);
    v.rows.forEach((row, i) => assert.equal(v.cells[i]![db]!.verdict, out.matrix.cells[i]![db]!.verdict, row));
    const d = matrixDetails(idx, out.matrix, 0, db)!;
    assert.equal(d.to, 'shop/db-0');
    assert.match(d.ingress, /^ingress: /);
    assert.match(d.egress, /^egress: /);
    assert.equal(matrixDetails(idx, out.matrix, 999, 0), undefined);
  });
});
