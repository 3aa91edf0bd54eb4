import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { parseLinks } from '../../../src/parsers/links';
import type { LinkRecord } from '../../../src/parsers/types';
import { fixtureBody, withoutSrc } from './fixture-body';

const body = (name: string): string => fixtureBody('links', name);

function byName(records: LinkRecord[], name: string): LinkRecord {
  const r = records.find((x) => x.ifname === name);
  assert.ok(r, `no record for ${name}`);
  return r;
}

test('text and JSON forms of the same `ip -d link` give the same records', () => {
  const text = parseLinks(body('lab-detail'));
  const json = parseLinks(body('lab-detail-json'));
  assert.equal(text.format, 'iproute2');
  assert.equal(json.format, 'json');
  assert.deepEqual(text.issues, []);
  assert.deepEqual(json.issues, []);
  assert.equal(text.records.length, 12);
  assert.deepEqual(withoutSrc(text.records), withoutSrc(json.records));
});

test('a veth whose peer is in another netns: @ifN is the peer ifindex, link-netnsid the netns', () => {
  const veth0 = byName(parseLinks(body('lab-detail')).records, 'veth0');
  assert.equal(veth0.linkIndex, 2);
  assert.equal(veth0.link, undefined);
  assert.equal(veth0.linkNetnsid, 0);
  assert.equal(veth0.type, 'veth');
  assert.equal(veth0.master, 'br0');
  assert.equal(veth0.slaveKind, 'bridge_slave');
  assert.deepEqual(veth0.bridgePort, { state: 'forwarding', learning: true, flood: true, hairpin: false });
  assert.deepEqual(veth0.src, { line: 3, raw: '2: veth0@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master br0 state UP mode DEFAULT group default qlen 1000' });
});

test('`link-netns NAME` is kept as linkNetns when ip could name the peer netns', () => {
  const eth0 = byName(parseLinks(body('lab-peer-netns-name')).records, 'eth0');
  assert.equal(eth0.linkNetns, 'hA-a');
  assert.equal(eth0.linkNetnsid, undefined);
  assert.equal(eth0.linkIndex, 2);
});

test('a veth peer or lower device in the same netns is named by `@name`', () => {
  const { records } = parseLinks(body('lab-detail'));
  assert.equal(byName(records, 'vethy').link, 'vethx');
  assert.equal(byName(records, 'mv0').link, 'vethy');
  assert.equal(byName(records, 'mv0').type, 'macvlan'); // a kind without its own fields keeps the name
  assert.equal(byName(records, 'lo').type, undefined);
});

test('header fields: state, mode, group, qlen, flags, up and carrier', () => {
  const { records } = parseLinks(body('lab-detail'));
  const tdown = byName(records, 'tdown');
  assert.deepEqual(tdown.flags, ['NO-CARRIER', 'BROADCAST', 'MULTICAST', 'UP', 'M-DOWN']);
  assert.equal(tdown.up, true);
  assert.equal(tdown.lowerUp, false);
  assert.equal(tdown.operstate, 'LOWERLAYERDOWN');
  assert.equal(tdown.mode, 'DEFAULT');
  assert.equal(tdown.group, 'default');
  assert.equal(tdown.qdisc, 'noqueue');
  assert.equal(tdown.mtu, 1500);
  const ifb0 = byName(records, 'ifb0');
  assert.equal(ifb0.qlen, 32);
  assert.equal(ifb0.linkType, 'ether');
  assert.equal(ifb0.address, '86:4f:1d:c5:8d:5d');
  assert.equal(ifb0.broadcast, 'ff:ff:ff:ff:ff:ff');
  assert.equal(byName(records, 'lo').linkType, 'loopback');
});

test('alias and altname lines are kept and do not break the block', () => {
  const { records, issues } = parseLinks(body('lab-detail'));
  const ifb0 = byName(records, 'ifb0');
  assert.equal(ifb0.ifalias, 'uplink ifb');
  assert.deepEqual(ifb0.altnames, ['hA-uplink-long-altname']);
  assert.equal(ifb0.type, 'ifb');
  assert.deepEqual(issues, []);
});

test('vxlan details: VNI, VTEP address, underlay device, ports, learning', () => {
  const { records } = parseLinks(body('lab-detail'));
  const v = byName(records, 'vxlan0').vxlan;
  assert.ok(v);
  assert.equal(v.id, 1);
  assert.equal(String(v.local), '10.4.7.21');
  assert.equal(v.dev, 'ifb0');
  assert.equal(v.dstport, 8472);
  assert.deepEqual(v.srcport, [0, 0]);
  assert.equal(v.learning, false);
  assert.equal(v.ttl, undefined); // `ttl auto`
  assert.equal(v.ageing, 300);
  assert.equal(v.udpCsum, true);
  const g = byName(records, 'vxlan6').vxlan;
  assert.equal(String(g?.group), '239.1.1.1');
  assert.equal(g?.remote, undefined);
  assert.equal(g?.ttl, 5);
  assert.equal(g?.learning, true);
  assert.equal(g?.udpCsum, false);
  assert.equal(byName(records, 'vxext').vxlan?.external, true);
});

test('bridge details: STP state and VLAN filtering', () => {
  const br0 = byName(parseLinks(body('lab-detail')).records, 'br0');
  assert.equal(br0.type, 'bridge');
  assert.deepEqual(br0.bridge, { stpState: 0, vlanFiltering: false, ageingTime: 30000 });
});

test('wireguard, ipip, vlan, bond and dummy kind lines (iproute2 6.1 format)', () => {
  const { records, issues } = parseLinks(body('constructed-kinds'));
  assert.deepEqual(issues, []);
  const wg0 = byName(records, 'wg0');
  assert.equal(wg0.type, 'wireguard');
  assert.equal(wg0.linkType, 'none');
  assert.equal(wg0.address, undefined);
  const tunl0 = byName(records, 'tunl0');
  assert.equal(tunl0.link, undefined); // @NONE
  assert.equal(tunl0.linkIndex, undefined);
  assert.deepEqual(tunl0.tunnel, {}); // remote any local any ttl inherit
  const ipip1 = byName(records, 'ipip1');
  assert.equal(ipip1.linkType, 'ipip');
  assert.equal(ipip1.address, '1.2.3.4');
  assert.equal(ipip1.broadcast, '5.6.7.8'); // `peer` on a POINTOPOINT link
  assert.equal(String(ipip1.tunnel?.remote), '5.6.7.8');
  assert.equal(String(ipip1.tunnel?.local), '1.2.3.4');
  assert.equal(ipip1.tunnel?.ttl, 64);
  const vlan = byName(records, 'bond0.100');
  assert.equal(vlan.link, 'bond0');
  assert.deepEqual(vlan.vlan, { id: 100, protocol: '802.1Q' });
  assert.deepEqual(byName(records, 'bond0').bond, { mode: 'active-backup', activeSlave: 'eth0', xmitHashPolicy: 'layer2', miimon: 100, allSlavesActive: false });
  const eth1 = byName(records, 'eth1');
  assert.equal(eth1.master, 'bond0');
  assert.equal(eth1.slaveKind, 'bond_slave');
  assert.deepEqual(eth1.bondPort, { state: 'BACKUP', miiStatus: 'UP', linkFailureCount: 1, permHwaddr: '52:54:00:ab:cd:ef' });
  assert.deepEqual(eth1.altnames, ['enp1s0f1']); // after two `vf` lines
  const dummy0 = byName(records, 'dummy0');
  assert.equal(dummy0.type, 'dummy');
  assert.equal(dummy0.group, '10');
  assert.equal(dummy0.ifalias, 'node uplink: 10.4.7.0/24 (rack 3)');
});

test('older -d output: stats lines, openvswitch_slave, gre tunnels, vxlan external at the end', () => {
  const { records, issues } = parseLinks(body('rhel-ovs-bond-gre-stats'));
  assert.deepEqual(issues, []);
  assert.equal(records.length, 9);
  const vx = byName(records, 'vxlan_sys_4789');
  assert.equal(vx.vxlan?.external, true);
  assert.equal(vx.vxlan?.id, 0);
  assert.equal(vx.slaveKind, 'openvswitch_slave');
  assert.equal(vx.master, 'ovs-system');
  const gre1 = byName(records, 'gre1');
  assert.equal(gre1.type, 'gre');
  assert.equal(String(gre1.tunnel?.remote), '172.168.10.25');
  assert.equal(gre1.tunnel?.ttl, 255);
  assert.equal(String(byName(records, 'geneve0').tunnel?.remote), '192.168.43.254');
  assert.deepEqual(byName(records, 'eth0_2').bondPort, { state: 'ACTIVE', miiStatus: 'UP', linkFailureCount: 0, permHwaddr: '00:90:fa:8d:36:22' });
  assert.equal(byName(records, 'ovs-system').type, 'openvswitch');
});

test('a bare kind line (`team`) followed by a bridge_slave line', () => {
  const tm0 = byName(parseLinks(body('team-bridge-slave-stats')).records, 'tm0');
  assert.equal(tm0.type, 'team');
  assert.equal(tm0.slaveKind, 'bridge_slave');
  assert.equal(tm0.bridgePort?.hairpin, false);
});

test('flannel.1 as pasted in flannel issue 1757', () => {
  const r = parseLinks(body('flannel-vxlan'));
  assert.deepEqual(r.issues, []);
  const f = byName(r.records, 'flannel.1');
  assert.equal(f.vxlan?.id, 1);
  assert.equal(String(f.vxlan?.local), '10.0.0.1');
  assert.equal(f.vxlan?.dev, 'abc');
  assert.equal(f.qlen, undefined);
});

test('`ip -d addr` output: the inet lines are not link lines and not issues', () => {
  const r = parseLinks(body('vlan-details-addr'));
  assert.deepEqual(r.issues, []);
  assert.deepEqual(byName(r.records, 'eth0.111').vlan, { id: 111, protocol: '802.1Q' });
});

test('plain, -o and -d text forms agree on the header and link-line fields', () => {
  const plain = withoutSrc(parseLinks(body('lab-plain')).records);
  const oneline = withoutSrc(parseLinks(body('lab-oneline')).records);
  assert.deepEqual(oneline, plain);
  const detail = parseLinks(body('lab-detail')).records.map(({ src: _s, type: _t, vxlan: _v, bridge: _b, bridgePort: _p, slaveKind: _k, macvlan: _m, ...rest }) => rest);
  assert.deepEqual(JSON.parse(JSON.stringify(detail)), plain);
});

test('bond, bond_slave, macvlan and ipvlan details, text and JSON (iplink_bond.c, iplink_bond_slave.c, iplink_macvlan.c, iplink_ipvlan.c)', () => {
  const text = parseLinks(body('bond-macvlan-ipvlan'));
  assert.deepEqual(text.issues, []);
  assert.deepEqual(byName(text.records, 'bond0').bond, { mode: '802.3ad', xmitHashPolicy: 'layer3+4', miimon: 100, allSlavesActive: false });
  assert.deepEqual(byName(text.records, 'ens1f1').bondPort, { state: 'BACKUP', miiStatus: 'DOWN', linkFailureCount: 3, permHwaddr: 'b4:96:91:0a:11:21' });
  assert.deepEqual(byName(text.records, 'mvpriv').macvlan, { mode: 'private' });
  assert.equal(byName(text.records, 'mvpriv').link, 'bond0');
  // print_slave_oper_state's `ad_actor_oper_port_state_str <active,...>` words are read past, not taken for values.
  assert.deepEqual(byName(text.records, 'ens1f0').bondPort, { state: 'ACTIVE', miiStatus: 'UP', linkFailureCount: 0, permHwaddr: 'b4:96:91:0a:11:20' });
  assert.deepEqual(byName(text.records, 'mvpass').macvlan, { mode: 'passthru', nopromisc: true });
  assert.equal(byName(text.records, 'mvpass').link, 'ens2f0');
  assert.deepEqual(byName(text.records, 'ipvl3').ipvlan, { mode: 'l3', flag: 'private' });
  // A kernel before 4.15 sends no IFLA_IPVLAN_FLAGS: no flag word printed, none guessed.
  const old = parseLinks(body('ipvlan-before-flags'));
  assert.deepEqual(old.issues, []);
  assert.deepEqual(byName(old.records, 'ipvl2').ipvlan, { mode: 'l2' });
  const json = parseLinks(body('bond-macvlan-ipvlan-json'));
  assert.deepEqual(byName(json.records, 'bond0').bond, { mode: 'active-backup', activeSlave: 'eno1', xmitHashPolicy: 'layer2', miimon: 100, allSlavesActive: false });
  assert.deepEqual(byName(json.records, 'eno2').bondPort, { state: 'BACKUP', miiStatus: 'UP', linkFailureCount: 1, permHwaddr: '3c:ec:ef:01:02:04' });
  assert.deepEqual(byName(json.records, 'mvbr').macvlan, { mode: 'passthru', nopromisc: true });
  assert.deepEqual(byName(json.records, 'ipv').ipvlan, { mode: 'l3s', flag: 'vepa' });
  // A macvlan without its mode is kept (its kind and lower device) and reported.
  assert.equal(byName(json.records, 'mvbad').macvlan, undefined);
  assert.deepEqual(json.issues.map((i) => i.message), ['mvbad: macvlan info_data without mode']);
});

test('public capture: an active-backup bond and its two veth slaves (netdev, Jonathan Toppins 2022)', () => {
  const r = parseLinks(body('public-bond-active-backup'));
  assert.deepEqual(r.issues, []);
  assert.deepEqual(r.records.map((x) => x.ifname), ['bond0', 'link1_1', 'link2_1']);
  const bond0 = byName(r.records, 'bond0');
  assert.equal(bond0.type, 'bond');
  // arp_ip_target's comma list and `primary link1_1` sit among the words; miimon 0 is a value, not absent.
  assert.deepEqual(bond0.bond, { mode: 'active-backup', activeSlave: 'link1_1', xmitHashPolicy: 'layer2', miimon: 0, allSlavesActive: false });
  const s1 = byName(r.records, 'link1_1');
  // A veth enslaved to the bond: its kind line is `veth`, its port line `bond_slave`.
  assert.equal(s1.type, 'veth');
  assert.equal(s1.master, 'bond0');
  assert.equal(s1.slaveKind, 'bond_slave');
  assert.equal(s1.linkIndex, 10);
  assert.equal(s1.linkNetns, 'ns1');
  assert.deepEqual(s1.bondPort, { state: 'BACKUP', miiStatus: 'DOWN', linkFailureCount: 466, permHwaddr: 'b6:19:b6:e3:29:c5' });
  assert.deepEqual(byName(r.records, 'link2_1').bondPort, { state: 'BACKUP', miiStatus: 'UP', linkFailureCount: 0, permHwaddr: 'aa:48:a3:a3:2b:2b' });
  // The -s counters under RX:/TX: are not lines of the block.
  assert.equal(byName(r.records, 'link2_1').src.line, 12);
});

test('public captures: ipvlan in a Multus pod (`ipvlan  mode l2 bridge`) and the flag word of iproute2 1ef5c952 (`private`)', () => {
  const pod = parseLinks(body('public-ipvlan-multus'));
  assert.deepEqual(pod.issues, []);
  const net1 = byName(pod.records, 'net1');
  assert.equal(net1.type, 'ipvlan');
  assert.deepEqual(net1.ipvlan, { mode: 'l2', flag: 'bridge' });
  assert.equal(net1.linkIndex, 26); // the lower device is in the node's netns
  assert.equal(net1.link, undefined);
  assert.equal(net1.address, '00:1a:4a:16:06:77');
  const priv = parseLinks(body('public-ipvlan-private'));
  assert.deepEqual(priv.issues, []);
  const ipvl0 = byName(priv.records, 'ipvl0');
  assert.deepEqual(ipvl0.ipvlan, { mode: 'l2', flag: 'private' });
  assert.equal(ipvl0.link, 'eth0');
  assert.equal(ipvl0.up, false);
});

test('public capture: a source-mode macvlan with its remotes (Linux commit 8b61fba50390)', () => {
  const r = parseLinks(body('public-macvlan-source'));
  assert.deepEqual(r.issues, []);
  const mv = byName(r.records, 'macvlan0');
  assert.equal(mv.type, 'macvlan');
  // `remotes (1) 01:00:00:00:00:00` after the mode is read past.
  assert.deepEqual(mv.macvlan, { mode: 'source' });
  assert.equal(mv.link, 'eth0');
  assert.equal(mv.address, '2e:ac:fd:2d:69:f8');
});

test('vlan protocol: the `802.1q` vlan_print_opt prints when the kernel sends no protocol is 802.1Q', () => {
  const text = (proto: string) => `5: eth0.7@eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000
    link/ether 52:54:00:12:34:56 brd ff:ff:ff:ff:ff:ff promiscuity 0
    vlan protocol ${proto} id 7 <REORDER_HDR> addrgenmode eui64
`;
  assert.deepEqual(parseLinks(text('802.1q')).records[0]!.vlan, { id: 7, protocol: '802.1Q' });
  assert.deepEqual(parseLinks(text('802.1Q')).records[0]!.vlan, { id: 7, protocol: '802.1Q' });
  assert.deepEqual(parseLinks(text('802.1ad')).records[0]!.vlan, { id: 7, protocol: '802.1ad' });
  const json = (proto: string) => JSON.stringify([{ ifindex: 5, ifname: 'eth0.7', link: 'eth0', flags: ['UP'], mtu: 1500, linkinfo: { info_kind: 'vlan', info_data: { protocol: proto, id: 7, flags: ['REORDER_HDR'] } } }]);
  assert.deepEqual(parseLinks(json('802.1q')).records[0]!.vlan, { id: 7, protocol: '802.1Q' });
  assert.deepEqual(parseLinks(json('802.1ad')).records[0]!.vlan, { id: 7, protocol: '802.1ad' });
});

test('BusyBox `ip link`: no state, and a self-referencing `veth0@veth0` is not a link', () => {
  const r = parseLinks(body('lab-busybox'));
  assert.equal(r.format, 'busybox');
  assert.deepEqual(r.issues, []);
  const veth0 = byName(r.records, 'veth0');
  assert.equal(veth0.link, undefined);
  assert.equal(veth0.operstate, undefined);
  assert.equal(veth0.master, 'br0');
  assert.equal(byName(r.records, 'vethy').link, 'vethx');
});

test('broken lines become issues at their line numbers and the neighbours are kept', () => {
  const r = parseLinks(body('broken-lines'));
  assert.deepEqual(
    r.issues.map((i) => i.line),
    [1, 6, 10, 13, 18, 25, 28],
  );
  assert.match(r.issues[0]!.message, /expected `N: name: <FLAGS>/);
  assert.match(r.issues[1]!.message, /unexpected line in the block of veth0/);
  assert.match(r.issues[3]!.message, /no `mtu N`/);
  assert.match(r.issues[6]!.message, /remote: "10\.4\.7\.300"/);
  assert.deepEqual(
    r.records.map((x) => x.ifname),
    ['lo', 'veth0', 'br0', 'mv0', 'vxlan0', 'vxlan6'],
  );
  // The garbage line sat between veth0's header and its link/ether line: the block went on.
  const veth0 = byName(r.records, 'veth0');
  assert.equal(veth0.address, '6e:7e:a0:53:6e:3b'); // upper case in the input
  assert.equal(veth0.linkNetnsid, 0);
  assert.equal(veth0.bridgePort?.learning, true);
  assert.equal(veth0.operstate, 'UP'); // unknown header words (xdpgeneric/id:12, newword) skipped
  assert.equal(byName(r.records, 'lo').src.raw.endsWith('   '), true); // raw kept as captured
  assert.equal(byName(r.records, 'br0').bridge?.vlanFiltering, true);
  assert.equal(byName(r.records, 'mv0').type, 'futurekind');
  assert.equal(byName(r.records, 'vxlan0').vxlan, undefined);
  assert.equal(byName(r.records, 'vxlan6').vxlan?.remote, undefined);
  assert.equal(byName(r.records, 'vxlan6').vxlan?.id, 42);
});

test('broken JSON elements become issues at the line where each element starts', () => {
  const r = parseLinks(body('broken-json'));
  assert.equal(r.format, 'json');
  assert.deepEqual(
    r.issues.map((i) => [i.line, i.message]),
    [
      [1, 'vxlan0: vxlan info_data without id'],
      [23, 'expected a link object with ifindex, ifname, flags and mtu'],
      [28, 'expected a link object with ifindex, ifname, flags and mtu'],
    ],
  );
  assert.deepEqual(
    r.records.map((x) => x.ifname),
    ['vxlan0', 'tunl0'],
  );
  assert.equal(byName(r.records, 'tunl0').link, undefined); // "link": null is @NONE
  assert.deepEqual(byName(r.records, 'tunl0').tunnel, {});
});

test('invalid JSON is one issue, not a throw', () => {
  const r = parseLinks('[{"ifindex": 1,\n "ifname": "lo",,}]');
  assert.equal(r.records.length, 0);
  assert.equal(r.issues.length, 1);
  assert.equal(r.issues[0]!.line, 2);
  assert.match(r.issues[0]!.message, /not valid JSON/);
});

test('empty input is the empty format with nothing in it', () => {
  assert.deepEqual(parseLinks(''), { format: 'empty', records: [], issues: [] });
  assert.deepEqual(parseLinks('\n  \r\n'), { format: 'empty', records: [], issues: [] });
});

test('never throws on mangled input, and every issue points at a real line', () => {
  const lines = body('constructed-kinds').split('\n');
  for (let cut = 0; cut < lines.length; cut++) {
    const mangled = lines.map((l, i) => (i === cut ? l.slice(0, Math.floor(l.length / 2)) : i === cut + 1 ? l.split(' ').reverse().join(' ') : l)).join('\n');
    const r = parseLinks(mangled);
    for (const i of r.issues) {
      assert.ok(i.line >= 1 && i.line <= lines.length, `issue line ${i.line}`);
      assert.doesNotMatch(i.message, /internal parser error/);
    }
  }
});
