import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { parseBrctl } from '../../../src/parsers/brctl';
import type { BridgePortRecord } from '../../../src/parsers/types';
import { fixtureBody } from './fixture-body';

const ports = (rs: readonly BridgePortRecord[]) => rs.map((r) => [r.bridge, r.port]);

describe('parseBrctl', () => {
  test('one record per port, one `port: null` record for a bridge without ports', () => {
    const r = parseBrctl(fixtureBody('brctl', 'lab-show'));
    assert.equal(r.format, 'bridge-utils');
    assert.deepEqual(r.issues, []);
    assert.deepEqual(ports(r.records), [
      ['br-3f2c1a9d8e7b', 'veth4c1e2f0'],
      ['br-3f2c1a9d8e7b', 'veth9a8b7c6'],
      ['br0', 'vetha'],
      ['br0', 'vethb'],
      ['br0', 'vethc'],
      ['cni0', 'vethaaa1'],
      ['docker0', null],
      ['stpbr', null],
    ]);
    const br0 = r.records[3]!;
    assert.deepEqual([br0.bridgeId, br0.stp, br0.src.line], ['8000.66b8afb623cb', false, 5]);
    assert.equal(r.records[7]!.stp, true);
  });

  test('BusyBox: no trailing tabs after a port-less bridge, STP shown as yes, a raw stp_state', () => {
    // Laid out as BusyBox's brctl.c prints it: `%s\t\t%s\t` name and id, the STP word, then `\t\t%s\n` per port.
    const text = 'bridge name\tbridge id\t\tSTP enabled\tinterfaces\nbr0\t\t8000.000000000000\tno\ndocker0\t\t8000.0242045fd3c6\tno\t\tvethc44d271\nbr-lan\t\t7fff.dca632575555\t2\t\teth0\n\t\t\t\t\t\t\twlan0\n';
    const r = parseBrctl(text);
    assert.deepEqual(r.issues, []);
    assert.deepEqual(ports(r.records), [
      ['br0', null],
      ['docker0', 'vethc44d271'],
      ['br-lan', 'eth0'],
      ['br-lan', 'wlan0'],
    ]);
    assert.equal(r.records[2]!.stp, true);
    const mesh = parseBrctl(fixtureBody('brctl', 'public-openwisp-mesh'));
    assert.deepEqual(
      mesh.records.map((x) => [x.port, x.stp, x.bridgeId]),
      [
        ['lan', true, '7fff.44d1fad204c5'],
        ['wlan0', true, '7fff.44d1fad204c5'],
        ['mesh0', true, '7fff.44d1fad204c5'],
      ],
    );
  });

  test('a paste with the tabs expanded to spaces', () => {
    const r = parseBrctl(fixtureBody('brctl', 'public-odyssey-cni0'));
    assert.deepEqual(r.issues, []);
    assert.equal(r.records.filter((x) => x.bridge === 'cni0').length, 13);
    assert.deepEqual(r.records[0], { kind: 'bridge-port', bridge: 'cni-podman0', bridgeId: '8000.2a5747ae7d21', stp: false, port: null, src: { line: 2, raw: 'cni-podman0             8000.2a5747ae7d21       no' } });
    assert.equal(r.records.at(-1)!.bridge, 'docker0');
  });

  test('a broken line between ports is an issue and costs no port; a port before any bridge is an issue', () => {
    const text = ['\t\t\t\t\t\t\torphan0', 'bridge name\tbridge id\t\tSTP enabled\tinterfaces', 'br0\t\t8000.66b8afb623cb\tno\t\tvetha', "can't get info Operation not supported", '\t\t\t\t\t\t\tvethb', 'br1\t\t80zz.66b8afb623cb\tno\t\tvethz', 'nonsense'].join('\n');
    const r = parseBrctl(text);
    assert.deepEqual(ports(r.records), [
      ['br0', 'vetha'],
      ['br0', 'vethb'],
    ]);
    assert.deepEqual(
      r.issues.map((i) => i.line),
      [1, 4, 6, 7],
    );
    assert.match(r.issues[0]!.message, /a port line before any bridge line/);
  });

  test('empty output', () => {
    assert.deepEqual(parseBrctl(''), { format: 'empty', records: [], issues: [] });
  });
});
