// The Check Cluster findings as the tree and the Problems panel show them (model/checkFindings.ts), on
// the demo capture with k8s-node1's FDB entry for k8s-node2's VTEP removed: one cause, said once in the
// Problems panel at the line of the table that was searched, its pairs under it in the tree.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { buildNetwork, runClusterCheck } from '../../../src/engine';
import { childNodes, problemsOf, rootNodes } from '../../../src/vscode/model/checkFindings';
import { demo, edit } from '../webview/cases';

const noFdb = () => runClusterCheck(buildNetwork(edit(demo(), 'k8s-node1', 'fdb', (ls) => ls.filter((l) => !l.startsWith('42:20:2d:f5:4d:c4 dev flannel.1 ')))));

test('the tree: a summary, one cause with its five pairs (each traceable), the tables with the same finding marked', () => {
  const r = noFdb();
  const root = rootNodes(r);
  assert.deepEqual(root.map((n) => n.kind), ['summary', 'group', 'tables', 'skipped']);
  assert.equal(root[0]!.kind === 'summary' && root[0]!.text, '5 pairs not delivered, 1 cause');
  const group = root[1]!;
  assert.ok(group.kind === 'group');
  assert.match(group.label, /no FDB entry for 42:20:2d:f5:4d:c4, k8s-node2's VTEP at 10\.4\.7\.22/);
  assert.equal(group.description, '5 pairs · k8s-node1 fdb');
  const pairs = childNodes(r, group);
  assert.equal(pairs.length, 5);
  assert.deepEqual(pairs[0], { kind: 'pair', label: 'default/web-0 → default/web-1', description: 'no-fdb-entry at k8s-node1 flannel.1', from: 'default/web-0', to: '10.244.1.3' });
  const tables = childNodes(r, root[2]!);
  assert.equal(tables.length, 1);
  assert.ok(tables[0]!.kind === 'table' && tables[0]!.alsoCause && tables[0]!.description === 'k8s-node1 fdb · a cause above');
});

test('the Problems panel: the cause once (not again as a table finding), an error at the searched table', () => {
  const p = problemsOf(noFdb());
  assert.equal(p.length, 1);
  assert.equal(p[0]!.severity, 'error');
  assert.equal(p[0]!.code, 'missing-vtep-fdb');
  // The table searched for the missing entry: flannel.1's entries in k8s-node1's fdb (its first one).
  assert.deepEqual(p[0]!.at, { host: 'k8s-node1', probe: 'fdb', line: 9 });
  const fdb = demo().hosts.find((h) => h.name === 'k8s-node1')!.probes!.fdb!.split('\n').filter((l) => !l.startsWith('42:20:2d:f5:4d:c4 dev flannel.1 '));
  assert.match(fdb[8]!, /dev flannel\.1 dst 10\.4\.7\.23 /);
  assert.match(p[0]!.message, /^k8s-node1's flannel\.1 has no FDB entry for 42:20:2d:f5:4d:c4, k8s-node2's VTEP at 10\.4\.7\.22 — fails 5 traced pairs\. Fix: /);
});

test('a clean capture: nothing for the Problems panel, the tree says all delivered', () => {
  const r = runClusterCheck(buildNetwork(demo()));
  assert.deepEqual(problemsOf(r), []);
  const root = rootNodes(r);
  assert.equal(root[0]!.kind === 'summary' && root[0]!.text, '19 traces: all delivered');
});
