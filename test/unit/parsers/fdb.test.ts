import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { parseFdb } from '../../../src/parsers/fdb';
import type { FdbRecord } from '../../../src/parsers/types';
import { fixtureBody, withoutSrc } from './fixture-body';

const find = (rs: readonly FdbRecord[], mac: string, dev: string, pred: (r: FdbRecord) => boolean = () => true) => {
  const r = rs.find((x) => x.mac === mac && x.dev === dev && pred(x));
  assert.ok(r, `no record for ${mac} dev ${dev}`);
  return r;
};

describe('parseFdb', () => {
  test('the text and JSON forms of the same table give the same records', () => {
    for (const [text, json] of [
      ['lab-flannel', 'lab-flannel-json'],
      ['lab-features', 'lab-features-json'],
      ['lab-flannel-stats', 'lab-flannel-stats-json'],
    ]) {
      const a = parseFdb(fixtureBody('fdb', text!));
      const b = parseFdb(fixtureBody('fdb', json!));
      assert.equal(a.format, 'iproute2');
      assert.equal(b.format, 'json');
      assert.deepEqual(a.issues, []);
      assert.deepEqual(b.issues, []);
      assert.ok(a.records.length > 30);
      assert.deepEqual(withoutSrc(a.records), withoutSrc(b.records), `${text} vs ${json}`);
    }
  });

  test('flannel VTEP entries, a bridge with a learned pod MAC, learned VXLAN entries', () => {
    const rs = parseFdb(fixtureBody('fdb', 'lab-flannel')).records;
    // `ae:3f:5c:11:8b:02 dev flannel.1 dst 10.4.7.22 self permanent`
    const vtep = find(rs, 'ae:3f:5c:11:8b:02', 'flannel.1');
    assert.deepEqual([vtep.dst?.toString(), vtep.self, vtep.masterFlag, vtep.state], ['10.4.7.22', true, false, 'permanent']);
    // `0a:58:0a:f4:00:02 dev veth1a2b3c4 master cni0 ` (learned: no state word)
    const pod = find(rs, '0a:58:0a:f4:00:02', 'veth1a2b3c4');
    assert.deepEqual([pod.master, pod.masterFlag, pod.self, pod.state], ['cni0', true, false, 'dynamic']);
    // `33:33:00:00:00:01 dev eth0 self permanent`
    assert.equal(find(rs, '33:33:00:00:00:01', 'eth0').self, true);
    // learned over the vx42 tunnel: both the bridge's and the VXLAN device's entry
    const remote = rs.filter((r) => r.mac === 'c6:32:0e:f3:d2:65');
    assert.deepEqual(
      remote.map((r) => [r.dev, r.master ?? null, r.dst?.toString() ?? null, r.self, r.state]),
      [
        ['vx42', 'br42', null, false, 'dynamic'],
        ['vx42', null, '10.4.7.22', true, 'dynamic'],
      ],
    );
    const flood = find(rs, '00:00:00:00:00:00', 'vx42');
    assert.deepEqual([flood.dst?.toString(), flood.state], ['10.4.7.22', 'permanent']);
  });

  test('port, vni, via, src_vni, nhid, static, sticky, router, extern_learn, IPv6 VTEPs', () => {
    const rs = parseFdb(fixtureBody('fdb', 'lab-features')).records;
    const full = find(rs, '02:bb:00:00:00:01', 'vxlan0');
    assert.deepEqual([full.dst?.toString(), full.port, full.vni, full.via, full.self], ['10.5.0.4', 4790, 200, 'eth0', true]);
    const ext = find(rs, '02:dd:00:00:00:01', 'vxe');
    assert.deepEqual([ext.vni, ext.srcVni], [501, 500]);
    assert.equal(find(rs, '02:ee:00:00:00:01', 'vxlan0').nhid, 10);
    assert.equal(find(rs, '02:bb:00:00:00:05', 'vxlan0').state, 'static');
    assert.deepEqual(find(rs, '02:aa:00:00:00:03', 'p1').flags, ['sticky']);
    assert.deepEqual(find(rs, '02:bb:00:00:00:02', 'vxlan0').flags, ['router']);
    assert.deepEqual(find(rs, '02:aa:00:00:00:04', 'p1').flags, ['extern_learn']);
    assert.equal(find(rs, '02:cc:00:00:00:01', 'vx6').dst?.toString(), 'fd00::6');
  });

  test('-s: used/updated', () => {
    const rs = parseFdb(fixtureBody('fdb', 'lab-flannel-stats')).records;
    const e = find(rs, '4a:4a:81:ed:ed:f5', 'vx42', (r) => r.self);
    assert.deepEqual([e.used, e.updated], [77, 18]);
  });

  test('vlan entries (systemd, OpenWrt DSA) and self entries without a state word', () => {
    const sd = parseFdb(fixtureBody('fdb', 'public-systemd-12503')).records;
    assert.deepEqual([sd[0]!.vlan, sd[0]!.master, sd[0]!.state], [1, 'br1', 'permanent']);
    assert.equal(sd[1]!.vlan, undefined);
    const dsa = parseFdb(fixtureBody('fdb', 'public-openwrt-dsa-4973')).records;
    assert.deepEqual(
      dsa.map((r) => [r.dev, r.vlan ?? null, r.self, r.master ?? null, r.state]),
      [
        ['lan1', null, true, null, 'dynamic'],
        ['lan2', 1, false, 'switch', 'dynamic'],
        ['lan2', null, true, null, 'dynamic'],
      ],
    );
  });

  test('`bridge fdb show dev X` prints no dev: the entries are kept with dev "" and one issue says why', () => {
    const r = parseFdb(fixtureBody('fdb', 'public-flannel-1119'));
    assert.equal(r.records.length, 4);
    assert.ok(r.records.every((x) => x.dev === '' && x.self && x.state === 'permanent'));
    assert.equal(r.records[0]!.dst?.toString(), '192.168.56.103');
    assert.equal(r.issues.length, 1);
    assert.equal(r.issues[0]!.line, 1);
    assert.match(r.issues[0]!.message, /4 entries have no `dev`/);
  });

  test('a bare `master` flag, stale, an unknown state and `via ifindex` across netns', () => {
    const r = parseFdb(
      [
        '02:00:00:00:00:01 dev p1 master permanent',
        '02:00:00:00:00:02 dev p1 master br0 stale',
        '02:00:00:00:00:03 dev vx0 dst 10.0.0.2 self state=0x40',
        '02:00:00:00:00:04 dev vx0 dst 10.0.0.3 via ifindex 7 link-netnsid 0 self permanent',
        '02:00:00:00:00:05 dev p1 activity_notify inactive master br0 static newword',
      ].join('\n'),
    );
    assert.deepEqual(r.issues, []);
    const [bare, stale, odd, via, notify] = r.records;
    assert.deepEqual([bare!.masterFlag, bare!.master, bare!.state], [true, undefined, 'permanent']);
    assert.equal(stale!.state, 'stale');
    assert.deepEqual([odd!.state, odd!.flags], ['dynamic', ['state=0x40']]);
    assert.deepEqual([via!.viaIfindex, via!.linkNetnsid, via!.via], [7, 0, undefined]);
    assert.deepEqual([notify!.flags, notify!.master, notify!.state], [['activity_notify', 'inactive'], 'br0', 'static']);
  });

  test('broken lines are issues with their line numbers; their neighbours are kept', () => {
    const text = [
      '02:00:00:00:00:01 dev eth0 self permanent',
      'dev eth0 self permanent',
      '02:00:00:00:00:03 dev vx0 dst 10.0.0.300 self',
      '02:00:00:00:00:04 dev br0 vlan x master br0',
      '02:00:00:00:00:05 dev',
      '02:00:00:00:00:06 dev eth1 master br0 ',
    ].join('\n');
    const r = parseFdb(text);
    assert.deepEqual(
      r.records.map((x) => x.mac),
      ['02:00:00:00:00:01', '02:00:00:00:00:06'],
    );
    assert.deepEqual(
      r.issues.map((i) => i.line),
      [2, 3, 4, 5],
    );
    assert.match(r.issues[0]!.message, /"dev" is not a MAC address/);
    assert.match(r.issues[2]!.message, /`vlan` takes a number/);
  });

  test('JSON from older iproute2 ("dev" instead of "ifname"), and a bad element', () => {
    const r = parseFdb('[{"mac":"02:00:00:00:00:01","dev":"eth0","flags":["self"],"state":"permanent"},{"dev":"eth0"}]');
    assert.deepEqual([r.records[0]!.dev, r.records[0]!.self, r.records[0]!.state], ['eth0', true, 'permanent']);
    assert.equal(r.issues.length, 1);
  });

  // Speed is measured by `npm run bench`; this checks only that a big table loses nothing.
  test('5,000 entries all parse', () => {
    const ls: string[] = [];
    for (let i = 0; i < 5000; i++) ls.push(`0a:58:0a:f4:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')} dev veth${i} master cni0 `);
    const r = parseFdb(ls.join('\n'));
    assert.equal(r.records.length, 5000);
    assert.equal(r.issues.length, 0);
    assert.deepEqual([r.records[4999]!.mac, r.records[4999]!.dev, r.records[4999]!.master], ['0a:58:0a:f4:13:87', 'veth4999', 'cni0']);
  });
});
