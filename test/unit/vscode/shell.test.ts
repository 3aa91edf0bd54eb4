// The pure parts around the path view: where an evidence line is inside the capture's JSON text, the
// export file names, and the address a user types into the Trace Pod Path picks.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseCapture, type Capture } from '../../../src/capture/document';
import { buildNetwork, simulate, type TraceRequest } from '../../../src/engine';
import { lineAndCharacter, probeLineRange, probeLineText } from '../../../src/vscode/model/captureRange';
import { fileStem } from '../../../src/vscode/model/exportName';
import { sourceEntriesExcept, typedAddressEntry } from '../../../src/vscode/model/picks';
import type { ShowTrace } from '../../../src/shared/protocol';

const demoText = readFileSync(join(__dirname, '../../../examples/demo-flannel-vxlan.json'), 'utf8');
function demo(): Capture {
  const r = parseCapture(demoText);
  if (!r.ok) throw new Error('demo');
  return r.capture;
}

/** A capture document with one host whose `probe` text is `text`, written by JSON.stringify (with `space`). */
function doc(text: string, space?: number, probe = 'routes4'): string {
  return JSON.stringify({ apiVersion: 'netpath/v1', kind: 'Capture', hosts: [{ name: 'other', role: 'node', probes: { [probe]: 'x\ny' } }, { role: 'node', probes: { links: 'a', [probe]: text }, name: 'n1' }] }, null, space);
}

/** The decoded text of the selected characters: what the user sees selected, unescaped. */
const selected = (json: string, r: { start: number; end: number }) => JSON.parse(`"${json.slice(r.start, r.end)}"`) as string;

describe('evidence line -> characters in the capture JSON', () => {
  const probe = ['default via 10.4.7.1 dev eth0', '10.244.1.0/24 via "10.244.1.0" dev flannel.1 \\ onlink', 'caf\u00e9 \u2603 dev x', '', 'last line'].join('\n');

  for (const [name, space] of [['minified', undefined], ['pretty-printed', 2]] as const) {
    test(`${name}: every line selects exactly that line, escapes \\" \\\\ included`, () => {
      const json = doc(probe, space);
      probe.split('\n').forEach((line, i) => {
        const r = probeLineRange(json, 'n1', 'routes4', i + 1);
        assert.ok(r.ok, JSON.stringify(r));
        assert.equal(selected(json, r.range), line, `line ${i + 1}`);
        assert.equal(probeLineText(json, 'n1', 'routes4', i + 1), line);
      });
      const r2 = probeLineRange(json, 'n1', 'routes4', 2);
      assert.ok(r2.ok);
      assert.equal(json.slice(r2.range.start, r2.range.end), '10.244.1.0/24 via \\"10.244.1.0\\" dev flannel.1 \\\\ onlink');
    });
  }

  test('\\u escapes (as some writers escape non-ASCII) select the escaped characters of the line', () => {
    const json = doc(probe, 2).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    const r = probeLineRange(json, 'n1', 'routes4', 3);
    assert.ok(r.ok);
    assert.equal(json.slice(r.range.start, r.range.end), 'caf\\u00e9 \\u2603 dev x');
    const last = probeLineRange(json, 'n1', 'routes4', 5);
    assert.ok(last.ok);
    assert.equal(json.slice(last.range.start, last.range.end), 'last line');
  });

  test('CRLF probe text: the line without its \\r; a \\r inside a line stays', () => {
    const json = doc('one\r\ntwo\rhalf\r\nthree', 2);
    const two = probeLineRange(json, 'n1', 'routes4', 2);
    assert.ok(two.ok);
    assert.equal(json.slice(two.range.start, two.range.end), 'two\\rhalf');
    const one = probeLineRange(json, 'n1', 'routes4', 1);
    assert.ok(one.ok);
    assert.equal(json.slice(one.range.start, one.range.end), 'one');
  });

  test('a CRLF capture file: offsets map to the editor\'s lines and columns', () => {
    const json = doc(probe, 2).replace(/\n/g, '\r\n');
    const r = probeLineRange(json, 'n1', 'routes4', 5);
    assert.ok(r.ok);
    const at = lineAndCharacter(json, r.range.start);
    const lines = json.split('\r\n');
    assert.equal(lines[at.line]!.slice(at.character, at.character + 'last line'.length), 'last line');
  });

  test('an empty line is a zero-width range where it starts', () => {
    const json = doc(probe);
    const r = probeLineRange(json, 'n1', 'routes4', 4);
    assert.ok(r.ok);
    assert.equal(r.range.start, r.range.end);
    assert.equal(json.slice(r.range.start - 2, r.range.start), '\\n');
  });

  test('the right host and probe, whatever the key order; absent ones and lines past the end say why', () => {
    const json = doc(probe);
    const r = probeLineRange(json, 'other', 'routes4', 2);
    assert.ok(r.ok);
    assert.equal(selected(json, r.range), 'y');
    assert.deepEqual(probeLineRange(json, 'nope', 'routes4', 1), { ok: false, reason: 'the capture has no host named nope' });
    assert.deepEqual(probeLineRange(json, 'n1', 'fdb', 1), { ok: false, reason: 'host n1 has no fdb probe in the capture' });
    assert.deepEqual(probeLineRange(json, 'n1', 'routes4', 6), { ok: false, reason: 'n1 routes4 has 5 lines, not a line 6' });
    assert.equal(probeLineRange('{"hosts": [', 'n1', 'routes4', 1).ok, false);
  });

  test('the demo capture: every evidence line of a trace selects the raw line the engine quoted', () => {
    const r = simulate(buildNetwork(demo()), { from: 'default/web-0', to: 'default/web-1' });
    assert.ok(r.ok);
    const records = r.result.hops.flatMap((h) => h.steps.flatMap((s) => s.records));
    assert.ok(records.length > 20);
    for (const e of records) {
      const found = probeLineRange(demoText, e.host, e.probe, e.line);
      assert.ok(found.ok, `${e.host} ${e.probe}:${e.line}`);
      assert.equal(selected(demoText, found.range), e.raw, `${e.host} ${e.probe}:${e.line}`);
    }
  });
});

describe('export file names', () => {
  const shown = (req: TraceRequest): ShowTrace => {
    const r = simulate(buildNetwork(demo()), req);
    if (!r.ok) throw new Error(r.error);
    return { type: 'showTrace', trace: r.result, source: 'demo', request: req };
  };

  test('from, to, protocol and port, size and verdict tell traces apart', () => {
    assert.equal(fileStem(shown({ from: 'default/web-0', to: 'default/web-1', size: 64, proto: 'icmp' })), 'trace-default_web-0-to-default_web-1-icmp-64B-delivered');
    assert.equal(fileStem(shown({ from: 'default/web-0', to: 'default/web-1', size: 1500, proto: 'icmp' })), 'trace-default_web-0-to-default_web-1-icmp-1500B-mtu-exceeded');
    assert.equal(fileStem(shown({ from: 'default/web-0', to: '10.96.0.10', size: 64, proto: 'udp', port: 53 })), 'trace-default_web-0-to-10.96.0.10-udp53-64B-delivered');
  });

  test('only safe characters survive from names (cluster data)', () => {
    const m = shown({ from: 'default/web-0', to: 'default/web-1', size: 64, proto: 'icmp' });
    const stem = fileStem({ ...m, request: { ...m.request, from: '../../etc/<x> y', to: 'a:b\\c' } });
    assert.match(stem, /^[A-Za-z0-9._-]+$/);
    assert.ok(!stem.includes('..'), stem);
  });
});

describe('a typed address in the Trace Pod Path picks', () => {
  const c = demo();
  test('an IPv4 address of a pod: "Trace to 10.244.1.3", naming the pod', () => {
    assert.deepEqual(typedAddressEntry(' 10.244.1.3 ', 'to', c), { kind: 'typed-ip', label: 'Trace to 10.244.1.3', description: 'the address of default/web-1', ref: '10.244.1.3' });
  });
  test('an address no pod has, and IPv6, are offered too; the source pick says "from"', () => {
    const e = typedAddressEntry('10.244.1.7', 'to', c);
    assert.equal(e?.label, 'Trace to 10.244.1.7');
    assert.equal(e?.kind === 'typed-ip' ? e.description : '', 'no host in the capture has this address');
    assert.equal(typedAddressEntry('fd00::1', 'to', c)?.label, 'Trace to fd00::1');
    assert.equal(typedAddressEntry('10.244.0.3', 'from', c)?.label, 'Trace from 10.244.0.3');
  });
  test('anything else is no address: no entry', () => {
    for (const v of ['', 'web-0', '10.244.1', '10.244.1.300', 'default/web-1', '10.244.1.0/24']) assert.equal(typedAddressEntry(v, 'to', c), undefined, v);
  });
  test('"Trace to this pod": the fixed destination is not offered as a source', () => {
    const src = sourceEntriesExcept(c, 'default/web-1');
    assert.ok(!src.some((e) => e.kind === 'host' && e.ref === 'default/web-1'));
    assert.ok(src.some((e) => e.kind === 'host' && e.ref === 'default/web-0'));
    // Given by its IP (a hover's "Trace to here"), the pod that has it is left out too.
    const byIp = sourceEntriesExcept(c, '10.244.1.3');
    assert.ok(!byIp.some((e) => e.kind === 'host' && e.ref === 'default/web-1'));
    assert.ok(byIp.some((e) => e.kind === 'host' && e.ref === 'default/web-0'));
    assert.ok(!sourceEntriesExcept(c, 'k8s-node2').some((e) => e.kind === 'host' && e.ref === 'k8s-node2'));
  });
});
