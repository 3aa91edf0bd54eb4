// Which trace a path view brings back after a window reload: the webview's saved state or the
// extension's own record, whichever was shown last (src/vscode/model/restore.ts).
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseCapture } from '../../../src/capture/document';
import { traceCapture } from '../../../src/engine';
import type { ShowTrace } from '../../../src/shared/protocol';
import { traceToRestore } from '../../../src/vscode/model/restore';

function shown(size: number, shownAt: number | undefined): ShowTrace {
  const r = parseCapture(readFileSync(join(__dirname, '../../../examples/demo-flannel-vxlan.json'), 'utf8'));
  if (!r.ok) throw new Error('demo capture');
  const request = { from: 'default/web-0', to: 'default/web-1', size };
  const t = traceCapture(r.capture, request);
  if (!t.ok) throw new Error(t.error);
  return { type: 'showTrace', trace: t.result, source: 'demo capture', request, ...(shownAt !== undefined ? { shownAt } : {}) };
}

describe('restoring the path view after a window reload', () => {
  const older = shown(64, 1_000);
  const newer = shown(1500, 2_000);

  test('the extension record wins when the layout VS Code saved holds an older trace', () => {
    const r = traceToRestore({ message: older, selected: { path: 0, hop: 1 } }, newer);
    assert.equal(r?.from, 'workspace');
    assert.equal(r?.message.trace.flow.size, 1500);
    assert.equal(r?.message.trace.verdict, 'mtu-exceeded');
  });

  test('the webview state wins when it is the later one, and on a tie (it keeps the selected hop)', () => {
    assert.equal(traceToRestore({ message: newer }, older)?.from, 'webview');
    assert.equal(traceToRestore({ message: newer }, shown(1500, 2_000))?.from, 'webview');
  });

  test('either alone is enough; state saved by netpath 0.1 (no shownAt) loses to any record that has one', () => {
    assert.equal(traceToRestore(undefined, newer)?.message.trace.flow.size, 1500);
    assert.equal(traceToRestore({ message: older }, undefined)?.message.trace.flow.size, 64);
    assert.equal(traceToRestore({ message: shown(64, undefined) }, newer)?.from, 'workspace');
  });

  test('nothing that is a trace: nothing to restore (a capture view, garbage, a damaged record)', () => {
    assert.equal(traceToRestore(undefined, undefined), undefined);
    assert.equal(traceToRestore({ message: { type: 'showCapture', source: 'x', summary: { hosts: [] } } }, { type: 'showTrace' }), undefined);
    assert.equal(traceToRestore('garbage', 42), undefined);
    assert.equal(traceToRestore({ message: { ...newer, shownAt: 'soon' } }, undefined), undefined);
  });
});

describe('restoring the path view with its history', () => {
  const older = shown(64, 1_000);
  const newer = shown(1500, 2_000);

  test("the history's current entry wins (the user went Back to the older trace before the reload)", () => {
    const r = traceToRestore({ message: newer }, newer, older);
    assert.equal(r?.from, 'history');
    assert.equal(r?.message.trace.flow.size, 64);
  });

  test("the webview's state, when it is that same trace, is kept (with its selected hop)", () => {
    assert.equal(traceToRestore({ message: older, selected: { path: 0, hop: 2 } }, newer, shown(64, 1_000))?.from, 'webview');
  });

  test('a damaged history entry is no trace: the two other records decide as before', () => {
    assert.equal(traceToRestore({ message: older }, newer, { type: 'showTrace' })?.from, 'workspace');
    assert.equal(traceToRestore(undefined, undefined, undefined), undefined);
  });
});
