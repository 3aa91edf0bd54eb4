import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { parseArp } from '../../../src/parsers/arp';
import type { NeighRecord } from '../../../src/parsers/types';
import { fixtureBody, withoutSrc } from './fixture-body';

const find = (rs: readonly NeighRecord[], dst: string) => {
  const r = rs.find((x) => x.dst.toString() === dst);
  assert.ok(r, `no record for ${dst}`);
  return r;
};

describe('parseArp', () => {
  test('`arp -an`, `arp -n` and BusyBox `arp -a`/`-n` of one table give the same records', () => {
    const an = parseArp(fixtureBody('arp', 'lab-an'));
    assert.equal(an.format, 'net-tools');
    assert.equal(an.records.length, 16);
    for (const [name, format] of [
      ['lab-n', 'net-tools'],
      ['lab-n-verbose', 'net-tools'],
      ['lab-a-verbose', 'net-tools'],
      ['lab-busybox-a', 'busybox'],
      ['lab-busybox-n', 'busybox'],
    ]) {
      const r = parseArp(fixtureBody('arp', name!));
      assert.equal(r.format, format, name);
      assert.deepEqual(r.issues, [], name);
      assert.deepEqual(withoutSrc(r.records), withoutSrc(an.records), name);
    }
  });

  test('says only what /proc/net/arp says: PERM is PERMANENT, a complete entry has state [] and flag C', () => {
    const rs = parseArp(fixtureBody('arp', 'lab-an')).records;
    // `? (10.77.0.50) at 02:00:00:00:00:50 [ether] PERM on eth0`
    const perm = find(rs, '10.77.0.50');
    assert.deepEqual([perm.lladdr, perm.hwType, perm.state, perm.arpFlags, perm.dev], ['02:00:00:00:00:50', 'ether', ['PERMANENT'], ['C', 'M'], 'eth0']);
    // `? (10.77.0.52) at 02:00:00:00:00:52 [ether] on eth0`: the kernel had it STALE, arp cannot tell.
    const resolved = find(rs, '10.77.0.52');
    assert.deepEqual([resolved.lladdr, resolved.state, resolved.arpFlags], ['02:00:00:00:00:52', [], ['C']]);
    // `? (10.77.0.9) at <incomplete> on eth0`: FAILED in the kernel.
    const unresolved = find(rs, '10.77.0.9');
    assert.deepEqual([unresolved.lladdr, unresolved.hwType, unresolved.state, unresolved.arpFlags], [undefined, undefined, [], []]);
    // `? (10.77.0.5) at <from_interface> PERM PUB on eth0`: a proxy entry.
    const proxy = find(rs, '10.77.0.5');
    assert.deepEqual([proxy.proxy, proxy.state, proxy.arpFlags, proxy.lladdr], [true, [], ['M', 'P'], undefined]);
  });

  test('the -n table: `(incomplete)` rows and flag letters', () => {
    const rs = parseArp(fixtureBody('arp', 'public-pfsense-3162')).records;
    assert.deepEqual(
      rs.map((r) => [r.dst.toString(), r.lladdr ?? null, r.arpFlags, r.dev]),
      [
        ['10.49.209.222', null, [], 'eth0'],
        ['10.49.209.7', 'a0:d3:c1:62:d6:5e', ['C'], 'eth0'],
        ['10.49.208.250', '00:0d:b9:24:59:c0', ['C'], 'eth0'],
      ],
    );
  });

  test('an entry whose interface is gone (`... [ether] on`) is kept without a device', () => {
    const r = parseArp(fixtureBody('arp', 'public-ovnk-5537'));
    assert.deepEqual(r.issues, []);
    const e = r.records[6]!;
    assert.deepEqual([e.dst.toString(), e.dev, e.lladdr], ['172.16.99.200', undefined, '08:f4:58:68:c1:3b']);
  });

  test('BusyBox in a pod: the double space before `on`', () => {
    const r = parseArp(fixtureBody('arp', 'public-calico-12806'));
    assert.equal(r.format, 'busybox');
    assert.deepEqual([r.records[0]!.dst.toString(), r.records[0]!.lladdr, r.records[0]!.dev], ['169.254.1.1', 'ee:ee:ee:ee:ee:ee', 'eth0']);
  });

  test('host names in the table, garbage and truncated lines are issues with line numbers; the rest is kept', () => {
    const text = [
      'Address                  HWtype  HWaddress           Flags Mask            Iface',
      '_gateway                 ether   52:54:00:12:35:02   C                     enp0s3',
      '10.0.2.3                 ether   52:54:00:12:35:03   C                     enp0s3',
      '? (10.0.2.4) at 52:54:00:12:35:04 [ether]',
      'no arp entry',
      '? (10.0.2.5) at 52:54:00:12:35:05 [ether] on enp0s3',
    ].join('\n');
    const r = parseArp(text);
    assert.deepEqual(
      r.records.map((x) => x.dst.toString()),
      ['10.0.2.3', '10.0.2.5'],
    );
    assert.deepEqual(
      r.issues.map((i) => i.line),
      [2, 4, 5],
    );
    assert.match(r.issues[0]!.message, /host name: capture with arp -n/);
    assert.match(r.issues[1]!.message, /no `on IFACE`/);
  });

  test('`arp -a` without -n keeps the host name printed before each address; `?` means none', () => {
    const nt = parseArp(fixtureBody('arp', 'lab-a-names'));
    const bb = parseArp(fixtureBody('arp', 'lab-busybox-a-names'));
    assert.deepEqual([nt.format, bb.format], ['net-tools', 'busybox']);
    assert.deepEqual([nt.issues, bb.issues], [[], []]);
    assert.deepEqual(withoutSrc(bb.records), withoutSrc(nt.records));
    assert.deepEqual(
      nt.records.map((x) => [x.hostname ?? null, x.dst.toString(), x.lladdr ?? null]),
      [
        ['k8s-node-02', '10.0.0.11', '52:54:00:00:00:11'],
        ['qcloud-offline-gw-node3.example', '10.0.0.12', '52:54:00:00:00:12'],
        ['_gateway', '10.0.0.1', '52:54:00:12:34:56'],
        ['gateway', '10.0.0.13', null],
        [null, '10.0.0.14', '52:54:00:00:00:14'],
      ],
    );
    // The name changes nothing else: `arp -an` of the same entries reads the same without it.
    const an = parseArp(fixtureBody('arp', 'lab-a-names').replace(/^\S+ \(/gm, '? ('));
    assert.deepEqual(withoutSrc(an.records), withoutSrc(nt.records).map((x) => {
      const { hostname: _h, ...rest } = x as { hostname?: string };
      return rest;
    }));
  });

  test('empty output', () => {
    assert.deepEqual(parseArp(''), { format: 'empty', records: [], issues: [] });
  });
});
