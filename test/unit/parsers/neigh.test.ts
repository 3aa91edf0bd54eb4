import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { parseNeigh } from '../../../src/parsers/neigh';
import type { NeighRecord } from '../../../src/parsers/types';
import { fixtureBody, withoutSrc } from './fixture-body';

const find = (rs: readonly NeighRecord[], dst: string) => {
  const r = rs.find((x) => x.dst.toString() === dst);
  assert.ok(r, `no record for ${dst}`);
  return r;
};

describe('parseNeigh', () => {
  test('the text and JSON forms of the same table give the same records', () => {
    for (const [text, json] of [
      ['lab-nud-all', 'lab-nud-all-json'],
      ['lab-stats', 'lab-stats-json'],
      ['lab-proxy', 'lab-proxy-json'],
    ]) {
      const a = parseNeigh(fixtureBody('neigh', text!));
      const b = parseNeigh(fixtureBody('neigh', json!));
      assert.equal(a.format, 'iproute2');
      assert.equal(b.format, 'json');
      assert.deepEqual(a.issues, []);
      assert.deepEqual(b.issues, []);
      assert.ok(a.records.length > 0);
      assert.deepEqual(withoutSrc(a.records), withoutSrc(b.records), `${text} vs ${json}`);
    }
  });

  test('reads every NUD state, and no state word as NONE', () => {
    const r = parseNeigh(fixtureBody('neigh', 'lab-nud-all'));
    const states = new Set(r.records.flatMap((x) => x.state));
    for (const s of ['INCOMPLETE', 'REACHABLE', 'STALE', 'DELAY', 'FAILED', 'NOARP', 'PERMANENT', 'NONE']) assert.ok(states.has(s as never), s);
    // `10.77.0.57 dev eth0 ` (added with nud none): iproute2 prints no state for NUD_NONE.
    assert.deepEqual(find(r.records, '10.77.0.57').state, ['NONE']);
    // PROBE, from this lab's `ip neigh show` a moment earlier.
    assert.deepEqual(parseNeigh('10.77.0.54 dev eth0 lladdr 02:00:00:00:00:54 PROBE \n').records[0]!.state, ['PROBE']);
  });

  test('entries without lladdr, router, extern_learn, managed and proto', () => {
    const rs = parseNeigh(fixtureBody('neigh', 'lab-nud-all')).records;
    const failed = find(rs, '10.77.0.9');
    assert.deepEqual([failed.dev, failed.lladdr, failed.state], ['eth0', undefined, ['FAILED']]);
    const v6router = find(rs, 'fe80::1');
    assert.deepEqual([v6router.family, v6router.router, v6router.lladdr, v6router.state], [6, true, '02:00:00:00:01:01', ['STALE']]);
    assert.equal(find(rs, '10.77.0.59').externLearn, true);
    assert.deepEqual(find(rs, '10.77.0.62').flags, ['managed']);
    assert.equal(find(rs, '10.77.0.61').protocol, 'static');
    assert.equal(find(rs, '10.77.0.60').flags, undefined);
    const lo = find(rs, '0.0.0.0');
    assert.deepEqual([lo.dev, lo.state], ['lo', ['NOARP']]);
  });

  test('proxy entries: `ip neigh show proxy`', () => {
    const rs = parseNeigh(fixtureBody('neigh', 'lab-proxy')).records;
    assert.deepEqual(
      rs.map((r) => [r.dst.toString(), r.dev, r.proxy, r.state]),
      [
        ['10.77.0.5', 'eth0', true, ['NONE']],
        ['fd77::5', 'eth0', true, ['NONE']],
      ],
    );
  });

  test('-s statistics, with iproute2 6.1 gluing `probes` to the used figures', () => {
    const r = parseNeigh('10.77.0.2 dev eth0 lladdr 12:04:bb:c0:9f:ec  ref 1 used 5/191/5probes 4 DELAY \n10.77.0.9 dev eth0  used 12/72/9 probes 6 FAILED\n');
    assert.deepEqual(r.issues, []);
    const [a, b] = r.records;
    assert.deepEqual([a!.refcnt, a!.used, a!.confirmed, a!.updated, a!.probes, a!.state], [1, 5, 191, 5, 4, ['DELAY']]);
    assert.deepEqual([b!.refcnt, b!.used, b!.confirmed, b!.updated, b!.probes], [undefined, 12, 72, 9, 6]);
  });

  test('BusyBox `ip neigh` is recognised and read', () => {
    const r = parseNeigh(fixtureBody('neigh', 'lab-busybox'));
    assert.equal(r.format, 'busybox');
    assert.deepEqual(r.issues, []);
    const e = find(r.records, '10.77.0.2');
    assert.deepEqual([e.lladdr, e.refcnt, e.probes, e.state], ['12:04:bb:c0:9f:ec', 1, 4, ['DELAY']]);
  });

  test('flannel writes PERMANENT entries for remote VTEPs on flannel.1', () => {
    const rs = parseNeigh(fixtureBody('neigh', 'lab-flannel')).records;
    const vtep = find(rs, '10.244.1.0');
    assert.deepEqual([vtep.dev, vtep.lladdr, vtep.state], ['flannel.1', 'ae:3f:5c:11:8b:02', ['PERMANENT']]);
  });

  test('`ip neigh show dev X` leaves out dev; link-layer addresses that are not MACs are kept', () => {
    const r = parseNeigh('10.77.0.60 lladdr 02:00:00:00:00:60 router PERMANENT \n10.8.0.2 dev gre1 lladdr 10.9.9.2 PERMANENT\n10.0.0.3 dev eth0 lladdr 0A:58:0A:F4:00:03 STALE\n');
    assert.deepEqual(r.issues, []);
    assert.equal(r.records[0]!.dev, undefined);
    assert.equal(r.records[1]!.lladdr, '10.9.9.2');
    assert.equal(r.records[2]!.lladdr, '0a:58:0a:f4:00:03');
  });

  test('a broken line is an issue with its line number and its neighbours are kept', () => {
    const text = ['10.0.0.1 dev eth0 lladdr 02:00:00:00:00:01 REACHABLE ', 'Deleted neighbour table garbage', '10.0.0.2 dev', '', '10.0.0.3 dev eth0 used x/y probes 1 STALE', '10.0.0.4 dev eth0 FAILED '].join('\r\n');
    const r = parseNeigh(text);
    assert.deepEqual(
      r.records.map((x) => x.dst.toString()),
      ['10.0.0.1', '10.0.0.4'],
    );
    assert.deepEqual(
      r.issues.map((i) => i.line),
      [2, 3, 5],
    );
    assert.match(r.issues[0]!.message, /expected `ADDR \[dev DEV\]/);
    assert.match(r.issues[1]!.message, /`dev` without a value/);
    assert.equal(r.issues[1]!.raw, '10.0.0.2 dev');
  });

  test('an unknown keyword does not make the line an issue', () => {
    const r = parseNeigh('10.0.0.1 dev eth0 lladdr 02:00:00:00:00:01 extern_valid newthing REACHABLE \n');
    assert.deepEqual(r.issues, []);
    assert.deepEqual(r.records[0]!.flags, ['extern_valid']);
    assert.deepEqual(r.records[0]!.state, ['REACHABLE']);
  });

  test('JSON: a bad element is an issue, the others are kept; invalid JSON is one issue', () => {
    const r = parseNeigh('[{"dst":"10.0.0.1","dev":"eth0","state":["STALE"]},\n{"dev":"eth0"},\n{"dst":"nope"}]');
    assert.deepEqual(
      r.records.map((x) => x.dst.toString()),
      ['10.0.0.1'],
    );
    assert.deepEqual(
      r.issues.map((i) => i.line),
      [2, 3],
    );
    const bad = parseNeigh('[{"dst":"10.0.0.1",');
    assert.equal(bad.records.length, 0);
    assert.equal(bad.issues.length, 1);
    assert.match(bad.issues[0]!.message, /not valid JSON/);
  });

  test('empty output', () => {
    assert.deepEqual(parseNeigh('\n'), { format: 'empty', records: [], issues: [] });
  });
});
