// `bridge vlan show` (src/parsers/bridgeVlan.ts). This kernel has no VLAN filtering, so the texts
// are laid out as iproute2 prints them (bridge/vlan.c print_vlan_info and open_vlan_port: "%-16s  "
// for the port, print_range() "%u" or "%u-%u", bridge_print_vlan_flags(): " PVID", " Egress
// Untagged"; before iproute2 commit 0f362674 (2018) "\t %hu", a blank line per port and "\tNone"),
// or copied from public bug reports, cited at each.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { parseBridgeVlan } from '../../../src/parsers/bridgeVlan';
import type { BridgeVlanRecord } from '../../../src/parsers/types';

const rows = (rs: readonly BridgeVlanRecord[]) => rs.map((r) => [r.port, r.vlanEnd !== undefined ? `${r.vlan}-${r.vlanEnd}` : r.vlan, (r.pvid ? 'P' : '') + (r.untagged ? 'U' : '')]);
const pad = (name: string) => name.padEnd(16) + '  ';

describe('parseBridgeVlan', () => {
  test('OpenWrt 23.05 (openwrt/openwrt#11877): every port an access port of VLAN 1, the bridge too', () => {
    const text = ['port              vlan-id', 'lan4              1 PVID Egress Untagged', 'lan3              1 PVID Egress Untagged', 'lan2              1 PVID Egress Untagged', 'lan1              1 PVID Egress Untagged', 'br-lan            1 PVID Egress Untagged', ''].join('\n');
    const r = parseBridgeVlan(text);
    assert.equal(r.format, 'iproute2');
    assert.deepEqual(r.issues, []);
    assert.deepEqual(rows(r.records), ['lan4', 'lan3', 'lan2', 'lan1', 'br-lan'].map((p) => [p, 1, 'PU']));
    assert.deepEqual(r.records[4]!.src, { line: 6, raw: 'br-lan            1 PVID Egress Untagged' });
  });

  test('the article\'s switch: a trunk port (tagged 10 and 20), access ports, a range, the header padded as iproute2 pads it', () => {
    const text = [
      'port              vlan-id  ',
      `${pad('eth1')}1 PVID Egress Untagged`,
      `${pad('')}10`,
      `${pad('')}20`,
      `${pad('eth2')}10 PVID Egress Untagged`,
      `${pad('eth3')}20 PVID Egress Untagged`,
      `${pad('eth4')}100-110`,
      `${pad('br0')}1 PVID Egress Untagged`,
    ].join('\n');
    const r = parseBridgeVlan(text);
    assert.deepEqual(r.issues, []);
    assert.deepEqual(rows(r.records), [
      ['eth1', 1, 'PU'],
      ['eth1', 10, ''],
      ['eth1', 20, ''],
      ['eth2', 10, 'PU'],
      ['eth3', 20, 'PU'],
      ['eth4', '100-110', ''],
      ['br0', 1, 'PU'],
    ]);
    assert.equal(r.records[2]!.src.line, 4);
  });

  test('PVID without Egress Untagged and the reverse (kernelkit/infix#198: vlan_default_pvid left VID 1 behind)', () => {
    const text = ['port              vlan-id  ', `${pad('eth1')}1 Egress Untagged`, `${pad('')}10 PVID Egress Untagged`, `${pad('eth2')}1 PVID`, `${pad('')}10`].join('\n');
    const r = parseBridgeVlan(text);
    assert.deepEqual(r.issues, []);
    assert.deepEqual(rows(r.records), [
      ['eth1', 1, 'U'],
      ['eth1', 10, 'PU'],
      ['eth2', 1, 'P'],
      ['eth2', 10, ''],
    ]);
  });

  test('iproute2 before 2018: tabs, a blank line after each port, "None" for a port without VLANs', () => {
    const text = 'port\tvlan ids\neth0\t 1 PVID Egress Untagged\n\t 100\n\t 200-299\n\nbr0\t 1 PVID Egress Untagged\n\neth9\tNone\n\n';
    const r = parseBridgeVlan(text);
    assert.deepEqual(r.issues, []);
    assert.deepEqual(rows(r.records), [
      ['eth0', 1, 'PU'],
      ['eth0', 100, ''],
      ['eth0', '200-299', ''],
      ['br0', 1, 'PU'],
    ]);
  });

  test('bridge -d vlan show: each VLAN\'s STP state is read from the line under it', () => {
    const text = ['port              vlan-id  ', `${pad('eth1')}1 PVID Egress Untagged`, `${pad('')}  state forwarding mcast_router 1`, `${pad('')}10`, `${pad('')}  state blocking mcast_router 1 neigh_suppress off`].join('\n');
    const r = parseBridgeVlan(text);
    assert.deepEqual(r.issues, []);
    assert.deepEqual(
      r.records.map((x) => [x.vlan, x.state]),
      [
        [1, 'forwarding'],
        [10, 'blocking'],
      ],
    );
  });

  test('JSON: today\'s array of ports, the 2016 object keyed by port, and 2018\'s "pvid": null flags give the same records', () => {
    const today = JSON.stringify([
      { ifname: 'eth1', vlans: [{ vlan: 1, flags: ['PVID', 'Egress Untagged'] }, { vlan: 10 }, { vlan: 20, vlanEnd: 29 }] },
      { ifname: 'br0', vlans: [{ vlan: 1, flags: ['PVID', 'Egress Untagged'], state: 'forwarding' }] },
    ]);
    const y2016 = JSON.stringify({ eth1: [{ vlan: 1, flags: ['PVID', 'Egress Untagged'] }, { vlan: 10 }, { vlan: 20, vlanEnd: 29 }], br0: [{ vlan: 1, flags: ['PVID', 'Egress Untagged'], state: 'forwarding' }] }, null, 4);
    const y2018 = JSON.stringify([
      { ifname: 'eth1', vlans: [{ vlan: 1, pvid: null, untagged: null }, { vlan: 10 }, { vlan: 20, vlanEnd: 29 }] },
      { ifname: 'br0', vlans: [{ vlan: 1, pvid: null, untagged: null, state: 'forwarding' }] },
    ]);
    const want = [
      ['eth1', 1, 'PU'],
      ['eth1', 10, ''],
      ['eth1', '20-29', ''],
      ['br0', 1, 'PU'],
    ];
    for (const text of [today, y2016, y2018]) {
      const r = parseBridgeVlan(text);
      assert.equal(r.format, 'json');
      assert.deepEqual(r.issues, []);
      assert.deepEqual(rows(r.records), want);
      assert.equal(r.records[3]!.state, 'forwarding');
    }
    assert.deepEqual(parseBridgeVlan('[]').records, []);
  });

  test('what is not a VLAN table line is an issue with its line; the good lines around it are kept', () => {
    const text = [
      'port              vlan-id  ',
      `${pad('')}10`,
      `${pad('eth1')}0`,
      `${pad('')}4095`,
      `${pad('')}20-10`,
      `${pad('')}30 PVID Egress Untagged hairpin`,
      `${pad('')}forty`,
      `${pad('eth2')}`,
      `${pad('')}  state forwarding`,
      `${pad('eth3')}4094`,
    ].join('\n');
    const r = parseBridgeVlan(text);
    assert.deepEqual(rows(r.records), [
      ['eth1', 30, 'PU'],
      ['eth3', 4094, ''],
    ]);
    assert.deepEqual(
      r.issues.map((i) => [i.line, i.kept ?? false, i.message.replace(/^.*\(bridge vlan show\): /, '')]),
      [
        [2, false, 'a VLAN line before any port line'],
        [3, false, 'VLAN 0 is outside 1-4094'],
        [4, false, 'VLAN 4095 is outside 1-4094'],
        [5, false, 'VLAN range 20-10 ends before it begins'],
        [6, true, 'unknown flag hairpin (kept the VLAN without it)'],
        [7, false, '"forty" is not a VLAN id'],
        [8, false, 'port eth2 has no VLAN on its line'],
        [9, false, 'a `state` line with no VLAN above it (bridge -d vlan show)'],
      ],
    );
    const tunnels = parseBridgeVlan('port              vlan-id    tunnel-id\nvxlan0            10         1010\n');
    assert.match(tunnels.issues[0]!.message, /bridge vlan tunnelshow/);
    assert.equal(parseBridgeVlan('{not json').issues[0]!.message.startsWith('not valid JSON'), true);
    assert.match(parseBridgeVlan('[{"ifname":"eth1","vlans":[{"vlan":"ten"}]}]').issues[0]!.message, /numeric "vlan"/);
    assert.equal(parseBridgeVlan('').format, 'empty');
  });
});
