// The deciding value in an evidence line comes from the step's typed detail: the route's prefix, the
// neighbour's MAC and state, the FDB entry's MAC and VTEP, the sysctl's value. Checked on the demo
// trace's own steps and on lines where a naive substring match would mark the wrong thing.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import type { Step, StepDetail } from '../../../src/shared/protocol';
import { decidingValues, markDeciding } from '../../../webview/deciding';
import { cases } from './cases';

const marked = (line: string, d: StepDetail | undefined) => markDeciding(line, d).filter((s) => s.mark).map((s) => s.text);
const joined = (line: string, d: StepDetail | undefined) => markDeciding(line, d).map((s) => s.text).join('');

describe('the deciding value of a step', () => {
  const steps: Step[] = cases()['pod-to-pod']!.trace.hops.flatMap((h) => h.steps);
  const find = (host: string, type: StepDetail['type']) => {
    const s = steps.find((x) => x.detail?.type === type && (x.detail as { ns?: string }).ns === host);
    assert.ok(s, `no ${type} step on ${host}`);
    return s;
  };

  test('route: the prefix that matched', () => {
    const s = find('k8s-node1', 'route');
    assert.deepEqual(marked(s.records[0]!.raw, s.detail), ['10.244.1.0/24']);
  });

  test('neighbour: the MAC and the NUD state', () => {
    const s = find('k8s-node1', 'neigh');
    assert.deepEqual(marked(s.records[0]!.raw, s.detail), ['42:20:2d:f5:4d:c4', 'PERMANENT']);
  });

  test('VXLAN FDB: the MAC and the VTEP it sends to', () => {
    const s = find('k8s-node1', 'vxlan-fdb');
    assert.deepEqual(marked(s.records[0]!.raw, s.detail), ['42:20:2d:f5:4d:c4', '10.4.7.22']);
  });

  test('forwarding sysctl: its value, also when iproute wrote the interface dot as a slash', () => {
    const s = find('k8s-node2', 'forward');
    assert.equal(s.records[0]!.raw.trim(), 'net.ipv4.conf.flannel/1.forwarding = 1');
    assert.deepEqual(marked(s.records[0]!.raw, s.detail), ['1']);
    // Another sysctl's line marks nothing.
    assert.deepEqual(marked('net.ipv4.conf.eth0.forwarding = 1', s.detail), []);
  });

  test('a value inside a longer address is not it: 10.244.1.3 in 10.244.1.30 stays unmarked, 10.244.1.3/24 is marked', () => {
    const d: StepDetail = { type: 'deliver', ns: 'p', dst: '10.244.1.3' };
    assert.deepEqual(marked('inet 10.244.1.30/24 brd 10.244.1.255', d), []);
    assert.deepEqual(marked('inet 10.244.1.30/24 inet 10.244.1.3/24', d), ['10.244.1.3']);
  });

  test('the segments put the line back together unchanged, whatever is marked', () => {
    for (const s of steps) for (const r of s.records) assert.equal(joined(r.raw, s.detail), r.raw);
    assert.equal(joined('', undefined), '');
  });

  test('a step without a detail (a trace saved by netpath 0.1) marks nothing', () => {
    assert.deepEqual(decidingValues(undefined), []);
    assert.deepEqual(marked('10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink', undefined), []);
  });
});
