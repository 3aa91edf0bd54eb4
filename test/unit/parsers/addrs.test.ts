import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { parseAddrs } from '../../../src/parsers/addrs';
import type { AddrRecord } from '../../../src/parsers/types';
import { fixtureBody, withoutSrc } from './fixture-body';

const body = (name: string): string => fixtureBody('addrs', name);

function addr(records: AddrRecord[], local: string): AddrRecord {
  const r = records.find((x) => String(x.local) === local);
  assert.ok(r, `no record for ${local}`);
  return r;
}

test('text and JSON forms of the same `ip addr` give the same records', () => {
  const text = parseAddrs(body('lab'));
  const json = parseAddrs(body('lab-json'));
  assert.equal(text.format, 'iproute2');
  assert.equal(json.format, 'json');
  assert.deepEqual(text.issues, []);
  assert.deepEqual(json.issues, []);
  assert.equal(text.records.length, 21);
  assert.deepEqual(withoutSrc(text.records), withoutSrc(json.records));
});

test('-d (detail lines in the blocks) and -o (one line per address) give the same records', () => {
  const plain = withoutSrc(parseAddrs(body('lab')).records);
  const detail = parseAddrs(body('lab-detail'));
  const oneline = parseAddrs(body('lab-oneline'));
  assert.deepEqual(detail.issues, []);
  assert.deepEqual(oneline.issues, []);
  assert.deepEqual(withoutSrc(detail.records), plain);
  assert.deepEqual(withoutSrc(oneline.records), plain);
});

test('IPv4 with brd, secondary and an alias label', () => {
  const { records } = parseAddrs(body('lab'));
  const primary = addr(records, '10.4.7.21');
  assert.equal(primary.dev, 'ifb0');
  assert.equal(primary.ifindex, 12);
  assert.equal(primary.family, 4);
  assert.equal(primary.prefixlen, 24);
  assert.equal(String(primary.prefix), '10.4.7.21/24'); // host bits kept
  assert.equal(String(primary.broadcast), '10.4.7.255');
  assert.equal(primary.scope, 'global');
  assert.equal(primary.label, undefined); // the label is the device name
  assert.deepEqual(primary.flags, []);
  assert.deepEqual(addr(records, '10.4.7.22').flags, ['secondary']);
  const alias = addr(records, '10.4.7.23');
  assert.equal(alias.label, 'ifb0:1');
  assert.deepEqual(alias.flags, ['secondary']);
  assert.deepEqual(alias.src, { line: 46, raw: '    inet 10.4.7.23/24 brd 10.4.7.255 scope global secondary ifb0:1' });
});

test('scope host and scope link, noprefixroute, dynamic lifetimes', () => {
  const { records } = parseAddrs(body('lab'));
  assert.equal(addr(records, '127.0.0.1').scope, 'host');
  assert.equal(addr(records, '::1').scope, 'host');
  assert.equal(addr(records, '169.254.1.1').scope, 'link');
  assert.equal(addr(records, 'fe80::6c7e:a0ff:fe53:6e3b').scope, 'link');
  assert.deepEqual(addr(records, '10.9.0.1').flags, ['noprefixroute']);
  const dyn = addr(records, '192.168.5.5');
  assert.deepEqual(dyn.flags, ['dynamic']);
  assert.equal(dyn.validLft, 86141);
  assert.equal(dyn.preferredLft, 3341);
  assert.equal(addr(records, '127.0.0.1').validLft, 'forever');
});

test('IPv6 tentative, dadfailed, deprecated, nodad', () => {
  const { records } = parseAddrs(body('lab'));
  assert.deepEqual(addr(records, '2001:db8:9::5').flags, ['dadfailed', 'tentative']);
  assert.deepEqual(addr(records, '2001:db8:7::1').flags, ['tentative']);
  const dep = addr(records, '2001:db8::2');
  assert.deepEqual(dep.flags, ['deprecated']);
  assert.equal(dep.preferredLft, 0);
  assert.equal(dep.validLft, 'forever');
  assert.deepEqual(addr(records, '2001:db8:1::1').flags, ['nodad']);
  const dyn6 = addr(records, '2001:db8::1');
  assert.deepEqual(dyn6.flags, ['dynamic']);
  assert.equal(dyn6.validLft, 86141);
  assert.equal(dyn6.preferredLft, 86041);
  assert.equal(dyn6.family, 6);
  assert.equal(dyn6.label, undefined);
});

test('a peer address: the prefix length belongs to the peer', () => {
  const p = addr(parseAddrs(body('lab')).records, '10.0.0.1');
  assert.equal(p.dev, 'vethy'); // `vethy@vethx` in the header
  assert.equal(p.prefixlen, 32);
  assert.equal(String(p.prefix), '10.0.0.1/32');
  assert.equal(String(p.peer), '10.0.0.2/32');
  assert.equal(p.broadcast, undefined);
});

test('`@ifN` interface names give the bare device name', () => {
  const { records } = parseAddrs(body('lab-pod-side'));
  const eth0 = addr(records, '10.9.0.2');
  assert.equal(eth0.dev, 'eth0');
  assert.equal(eth0.ifindex, 2);
  assert.equal(addr(parseAddrs(body('lab')).records, 'fe80::6c7e:a0ff:fe53:6e3b').dev, 'veth0');
});

test('interfaces without addresses give no record and no issue', () => {
  const r = parseAddrs(body('lab'));
  assert.deepEqual(r.issues, []);
  for (const dev of ['vxlan6', 'vxext', 'tdown2']) assert.equal(r.records.filter((x) => x.dev === dev).length, 0, dev);
  const noAddrs = parseAddrs('14: vxlan6: <BROADCAST,MULTICAST> mtu 1450 qdisc noop state DOWN group default qlen 1000\n    link/ether aa:9c:ed:c4:bb:a8 brd ff:ff:ff:ff:ff:ff\n');
  assert.deepEqual(noAddrs, { format: 'iproute2', records: [], issues: [] });
});

test('BusyBox `ip addr`: its own flag order and hex flags', () => {
  const r = parseAddrs(body('lab-busybox'));
  assert.equal(r.format, 'busybox');
  assert.deepEqual(r.issues, []);
  assert.equal(r.records.length, 21);
  assert.deepEqual(addr(r.records, '2001:db8:9::5').flags, ['tentative', 'dadfailed']);
  assert.deepEqual(addr(r.records, '2001:db8:1::1').flags, ['0x02']); // nodad, unnamed by BusyBox
  assert.equal(addr(r.records, '10.4.7.23').label, 'ifb0:1');
  assert.equal(addr(r.records, 'fe80::6c7e:a0ff:fe53:6e3b').dev, 'veth0'); // from the bogus `veth0@veth0`
});

test('CirrOS (BusyBox) with a vlan device and a DHCP address', () => {
  const r = parseAddrs(body('cirros-busybox-vlan'));
  assert.equal(r.format, 'busybox');
  assert.deepEqual(r.issues, []);
  const dhcp = addr(r.records, '10.42.42.219');
  assert.deepEqual(dhcp.flags, ['dynamic', 'noprefixroute']);
  assert.equal(dhcp.validLft, 86350);
  assert.equal(dhcp.preferredLft, 75550);
  assert.deepEqual(
    r.records.filter((x) => x.dev === 'eth0.7').map((x) => String(x.prefix)),
    ['fe80::f816:3eff:fe60:9df6/64'],
  );
});

test('flags iproute2 prints that the lab did not produce: temporary, mngtmpaddr, metric, `flags 800`', () => {
  const r = parseAddrs(body('constructed-flags'));
  assert.deepEqual(r.issues, []);
  const v4 = addr(r.records, '192.0.2.10');
  assert.equal(v4.metric, 100);
  assert.equal(String(v4.broadcast), '192.0.2.255');
  assert.deepEqual(v4.flags, ['dynamic']);
  assert.deepEqual(addr(r.records, '2001:db8:5:0:a1b2:c3d4:e5f6:1').flags, ['temporary', 'dynamic']);
  assert.deepEqual(addr(r.records, '2001:db8:5:0:5054:ff:fe12:3456').flags, ['dynamic', 'mngtmpaddr', 'noprefixroute']);
  assert.deepEqual(addr(r.records, 'fe80::5054:ff:fe12:3456').flags, ['0x800']);
});

test('a sosreport `ip addr`: collector noise, unindented lifetimes, link/[65534], a label that is not the device', () => {
  const r = parseAddrs(body('rhel-insights'));
  assert.deepEqual(
    r.issues.map((i) => [i.line, i.raw]),
    [
      [1, 'Message truncated'],
      [2, 'Message truncated'],
      [3, 'Message truncated'],
    ],
  );
  assert.equal(r.records.length, 7);
  const peer = addr(r.records, '172.30.0.1');
  assert.equal(peer.dev, 'tunl1');
  assert.equal(peer.label, 'tun0');
  assert.equal(String(peer.peer), '172.30.0.2/32');
  // `valid_lft` at the inet line's indentation still belongs to the address above it.
  assert.equal(addr(r.records, '::1').validLft, 'forever');
  assert.equal(addr(r.records, '127.0.0.1').validLft, undefined);
  const slaac = addr(r.records, '2001::211:3fff:fee2:f59e');
  assert.deepEqual(slaac.flags, ['mngtmpaddr', 'dynamic']);
  assert.equal(slaac.validLft, 2592000);
  assert.equal(slaac.preferredLft, 6480000);
});

test('Calico tunl0@NONE with a /32', () => {
  const r = parseAddrs(body('calico-tunl0'));
  assert.deepEqual(r.issues, []);
  const t = addr(r.records, '10.244.0.0');
  assert.equal(t.dev, 'tunl0');
  assert.equal(String(t.prefix), '10.244.0.0/32');
  assert.equal(String(t.broadcast), '10.244.0.0');
});

test('broken lines become issues at their line numbers and the neighbours are kept', () => {
  const r = parseAddrs(body('broken'));
  assert.deepEqual(
    r.issues.map((i) => i.line),
    [3, 8, 11, 12, 13, 14],
  );
  assert.match(r.issues[0]!.message, /`valid_lft` line without an `inet`\/`inet6` line/);
  assert.match(r.issues[1]!.message, /invalid prefix length/);
  assert.match(r.issues[2]!.message, /expected `valid_lft forever\|Nsec/);
  assert.match(r.issues[3]!.message, /unexpected line in the block of ifb0/);
  assert.match(r.issues[5]!.message, /an IPv6 address on an inet line/);
  assert.deepEqual(
    r.records.map((x) => [x.src.line, String(x.prefix)]),
    [
      [4, '127.0.0.1/8'],
      [10, '10.4.7.22/24'],
      [15, '2001:db8::1/64'],
    ],
  );
  const kept = addr(r.records, '10.4.7.22');
  assert.deepEqual(kept.flags, ['secondary', 'futureflag']); // an unknown word after the label is kept as a flag
  assert.equal(kept.label, undefined);
  assert.equal(kept.validLft, undefined); // its lifetime line was the broken one
  assert.equal(addr(r.records, '2001:db8::1').validLft, 86396); // after the garbage line, the block went on
});

test('broken JSON entries become issues at the line of their interface', () => {
  const r = parseAddrs(body('broken-json'));
  assert.deepEqual(
    r.issues.map((i) => [i.line, i.message]),
    [
      [1, 'lo: addr_info[0]: no local address'],
      [2, 'ifb0: addr_info[0]: expected prefixlen 0..128'],
      [3, 'vxlan0: addr_info is not an array'],
      [4, 'expected a link object with ifindex, ifname, flags and mtu'],
    ],
  );
  assert.deepEqual(
    r.records.map((x) => String(x.prefix)),
    ['127.0.0.1/8', '2001:db8::2/64'],
  );
});

test('empty input is the empty format with nothing in it', () => {
  assert.deepEqual(parseAddrs(''), { format: 'empty', records: [], issues: [] });
  assert.deepEqual(parseAddrs('[]'), { format: 'json', records: [], issues: [] });
});

test('never throws on mangled input, and every issue points at a real line', () => {
  const lines = body('lab').split('\n');
  for (let cut = 0; cut < lines.length; cut++) {
    const mangled = lines.map((l, i) => (i === cut ? l.slice(0, Math.floor(l.length / 2)) : i === cut + 1 ? l.split(' ').reverse().join(' ') : l)).join('\n');
    const r = parseAddrs(mangled);
    for (const i of r.issues) {
      assert.ok(i.line >= 1 && i.line <= lines.length, `issue line ${i.line}`);
      assert.doesNotMatch(i.message, /internal parser error/);
    }
  }
});
