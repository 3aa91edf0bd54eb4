// br_fdb_find and vxlan_find_mac as tagged answers: local, hit, default (VXLAN all-zero entries), miss.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { brFdbLookup, vxlanFdbLookup } from '../../../../src/engine/lookup/fdb';
import { buildNetns } from '../../../../src/engine/netns';
import { Mac } from '../../../../src/net/addr';

const mac = (s: string) => Mac.parse(s).ok ? (Mac.parse(s) as { value: Mac }).value : assert.fail(s);

const links = [
  '3: cni0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UP mode DEFAULT group default qlen 1000',
  '    link/ether 0a:58:0a:f4:00:01 brd ff:ff:ff:ff:ff:ff',
  '4: veth1@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue master cni0 state UP mode DEFAULT group default',
  '    link/ether 92:ce:7f:44:1b:37 brd ff:ff:ff:ff:ff:ff link-netnsid 0',
  '5: veth2@if2: <BROADCAST,MULTICAST> mtu 1450 qdisc noqueue master cni0 state DOWN mode DEFAULT group default',
  '    link/ether 92:ce:7f:44:1b:38 brd ff:ff:ff:ff:ff:ff link-netnsid 1',
  '6: flannel.1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UNKNOWN mode DEFAULT group default',
  '    link/ether 26:bb:b0:73:81:6a brd ff:ff:ff:ff:ff:ff',
  '7: vx0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UNKNOWN mode DEFAULT group default',
  '    link/ether 26:bb:b0:73:81:6b brd ff:ff:ff:ff:ff:ff',
].join('\n');

const ns = buildNetns({
  name: 'n1',
  role: 'node',
  probes: {
    links,
    fdb: [
      '0a:58:0a:f4:00:01 dev cni0 master cni0 permanent',
      '0a:58:0a:f4:00:02 dev veth1 master cni0 ',
      '92:ce:7f:44:1b:37 dev veth1 master cni0 permanent',
      '0a:58:0a:f4:00:03 dev veth2 master cni0 ',
      '0a:58:0a:f4:00:04 dev veth2 master cni0 static',
      '42:20:2d:f5:4d:c4 dev flannel.1 dst 10.4.7.22 self permanent',
      '00:00:00:00:00:00 dev vx0 dst 10.4.7.22 self permanent',
      '00:00:00:00:00:00 dev vx0 dst 10.4.7.23 self permanent',
    ].join('\n'),
  },
});
const bare = buildNetns({ name: 'n2', role: 'node', probes: { links } });
const br = ns.ifaces.get('cni0')!;

describe('br_fdb_find', () => {
  test("the bridge's own MAC and a port's own MAC are local for a frame from a port", () => {
    const own = brFdbLookup(ns, br, mac('0a:58:0a:f4:00:01'), true);
    assert.deepEqual([own.kind, own.kind === 'local' && own.entry.dev], ['local', 'cni0']);
    assert.equal(brFdbLookup(ns, br, mac('92:ce:7f:44:1b:37'), true).kind, 'local');
  });

  test('a frame the host sends into the bridge is looked up among the ports only', () => {
    assert.equal(brFdbLookup(ns, br, mac('0a:58:0a:f4:00:01'), false).kind, 'miss');
  });

  test('a learned entry behind a port is a hit; one on a port that is down is flushed (a miss), a static one stays', () => {
    const hit = brFdbLookup(ns, br, mac('0a:58:0a:f4:00:02'), true);
    assert.deepEqual([hit.kind, hit.kind === 'hit' && hit.entry.dev], ['hit', 'veth1']);
    assert.equal(brFdbLookup(ns, br, mac('0a:58:0a:f4:00:03'), true).kind, 'miss');
    assert.equal(brFdbLookup(ns, br, mac('0a:58:0a:f4:00:04'), true).kind, 'hit');
  });

  test('a miss says whether the capture has the table at all', () => {
    assert.deepEqual(brFdbLookup(ns, br, mac('0a:58:0a:f4:00:99'), true), { kind: 'miss', known: true });
    assert.deepEqual(brFdbLookup(bare, bare.ifaces.get('cni0')!, mac('0a:58:0a:f4:00:99'), true), { kind: 'miss', known: false });
  });
});

describe('vxlan_find_mac', () => {
  test('an entry for the MAC names its VTEP', () => {
    const a = vxlanFdbLookup(ns, ns.ifaces.get('flannel.1')!, mac('42:20:2d:f5:4d:c4'));
    assert.equal(a.kind, 'hit');
    assert.deepEqual(a.kind === 'hit' && a.entries.map((e) => e.dst?.toString()), ['10.4.7.22']);
  });

  test('no entry for the MAC: the default all-zero entries, each a VTEP to send a copy to', () => {
    const a = vxlanFdbLookup(ns, ns.ifaces.get('vx0')!, mac('42:20:2d:f5:4d:c4'));
    assert.equal(a.kind, 'default');
    assert.deepEqual(a.kind === 'default' && a.entries.map((e) => e.dst?.toString()), ['10.4.7.22', '10.4.7.23']);
  });

  test('neither: a miss, known or not', () => {
    assert.deepEqual(vxlanFdbLookup(ns, ns.ifaces.get('flannel.1')!, mac('42:20:2d:f5:4d:00')), { kind: 'miss', known: true });
    assert.deepEqual(vxlanFdbLookup(bare, bare.ifaces.get('flannel.1')!, mac('42:20:2d:f5:4d:00')), { kind: 'miss', known: false });
  });
});
