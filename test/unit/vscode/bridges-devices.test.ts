// The Node Bridges tree with the devices real nodes have (issue 13): a bond with its slaves (ACTIVE/
// BACKUP, MII status), VLAN sub-interfaces under their parent with their id, macvlan/ipvlan devices
// with their parent and mode, and a pod whose interface is a macvlan shown under the node device it
// hangs from. Fixtures: `ip -d link` lines in iproute2's print format (test/fixtures/tree, sources
// cited there) added to the demo capture's k8s-node1.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseCapture, type Capture } from '../../../src/capture/document';
import { buildNetwork, type Network } from '../../../src/engine';
import { childrenOf, deviceText, nodeEntries, podOnWords, portVlanWords, type BridgeNode } from '../../../src/vscode/model/bridges';
import { hoverMarkdown, indexAddresses, mdEscape } from '../../../src/vscode/model/hover';
import { devicesCaptureDoc, treeFixture } from '../../fixtures/tree/devices';

const repo = join(__dirname, '../../..');
const fixture = treeFixture;

function demo(): Capture {
  const r = parseCapture(readFileSync(join(repo, 'examples/demo-flannel-vxlan.json'), 'utf8'));
  if (!r.ok) throw new Error('demo');
  return r.capture;
}

/** The demo with k8s-node1's extra devices and a Multus-style macvlan pod on it. */
function withDevices(): Network {
  const r = parseCapture(JSON.stringify(devicesCaptureDoc()));
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return buildNetwork(r.capture);
}

const named = (list: BridgeNode[]) => list.map((n) => `${n.kind}:${'name' in n ? n.name : n.kind === 'pod' ? n.pod : ''}`);
const find = <K extends BridgeNode['kind']>(list: BridgeNode[], kind: K, name: string) => {
  const n = list.find((x) => x.kind === kind && 'name' in x && x.name === name) as Extract<BridgeNode, { kind: K }> | undefined;
  assert.ok(n, `no ${kind} ${name} in ${named(list).join(', ')}`);
  return n;
};

describe('Node Bridges tree: bonds, VLANs, macvlan/ipvlan', () => {
  const net = withDevices();
  const node1 = nodeEntries(net)[0]!;
  const kids = childrenOf(net, node1);

  test('the node lists its bond and the NIC that carries VLANs and macvlans, between the bridges and the tunnels', () => {
    assert.deepEqual(named(kids), ['bridge:docker0', 'bridge:cni0', 'bridge:br300', 'bond:bond0', 'lower:eth3', 'lower:eth4', 'tunnel:flannel.1', 'routes:']);
    // Slaves, bond0.100 and the devices on eth3 are not entries of the node: they sit under their parent.
    assert.ok(!named(kids).some((k) => /eth1|eth2|bond0\.100|mv0|ipvl0|eth3\.300/.test(k)));
  });

  test('a bond: its mode, active slave and hash policy, then each slave with ACTIVE/BACKUP and MII status, then its VLAN', () => {
    const bond = find(kids, 'bond', 'bond0');
    assert.deepEqual([bond.mode, bond.slaves, bond.up], ['active-backup', 2, true]);
    const under = childrenOf(net, bond);
    assert.deepEqual(named(under), ['slave:eth1', 'slave:eth2', 'vlan:bond0.100']);
    const [eth1, eth2] = under as Extract<BridgeNode, { kind: 'slave' }>[];
    assert.deepEqual([eth1!.state, eth1!.miiStatus, eth1!.up], ['ACTIVE', 'UP', true]);
    assert.deepEqual([eth2!.state, eth2!.miiStatus, eth2!.up], ['BACKUP', 'DOWN', false]);
    assert.deepEqual(deviceText(eth1!), { label: 'eth1', description: 'ACTIVE · MII UP · mtu 1500', tooltip: ['slave eth1 of bond bond0 on k8s-node1', 'ACTIVE, MII link UP'] });
    assert.equal(deviceText(eth2!).description, 'BACKUP · MII DOWN · mtu 1500 · DOWN');
    // The links parser gives the active slave (the fixture's `active_slave eth1`): shown when present.
    assert.equal(bond.activeSlave, 'eth1');
    assert.equal(deviceText(bond).description, 'bond · active-backup · 2 slaves · active eth1 · mtu 1500');
    assert.equal(deviceText({ ...bond, activeSlave: undefined }).description, 'bond · active-backup · 2 slaves · mtu 1500');
    assert.equal(deviceText({ ...bond, activeSlave: 'eth1', xmitHashPolicy: 'layer2' }).description, 'bond · active-backup · 2 slaves · active eth1 · mtu 1500');
    assert.deepEqual(deviceText({ ...bond, activeSlave: 'eth1', xmitHashPolicy: 'layer2' }).tooltip, ['bond bond0 on k8s-node1', 'mode active-backup, xmit_hash_policy layer2', 'active slave eth1']);
  });

  test('a VLAN sub-interface under its parent, labelled with its id', () => {
    const vlan = find(childrenOf(net, find(kids, 'bond', 'bond0')), 'vlan', 'bond0.100');
    assert.deepEqual([vlan.id, vlan.protocol, vlan.parent], [100, '802.1Q', 'bond0']);
    // Nothing sits on it: a leaf of the tree (no expand arrow).
    assert.equal(vlan.uppers, 0);
    const t = deviceText(vlan);
    assert.equal(t.label, 'bond0.100 (VLAN 100)');
    assert.equal(t.description, '802.1Q on bond0 · mtu 1500');
    assert.match(t.tooltip[0]!, /VLAN 100 on bond0/);
  });

  test('the NICs eth3 and eth4: a macvlan and an ipvlan with their modes, a VLAN that is a bridge port, and the pod whose eth0 is a macvlan', () => {
    const eth3 = find(kids, 'lower', 'eth3');
    assert.equal(eth3.uppers, 3);
    const under = childrenOf(net, eth3);
    assert.deepEqual(named(under), ['macvlan:mv0', 'vlan:eth3.300', 'pod:mv-pod']);
    assert.equal(deviceText(find(under, 'macvlan', 'mv0')).description, 'macvlan bridge on eth3 · mtu 9000');
    // A NIC carries macvlans or ipvlans, never both (one rx_handler): the ipvlan is on eth4.
    const eth4 = find(kids, 'lower', 'eth4');
    assert.equal(eth4.uppers, 1);
    const on4 = childrenOf(net, eth4);
    assert.deepEqual(named(on4), ['macvlan:ipvl0']);
    assert.equal(deviceText(find(on4, 'macvlan', 'ipvl0')).description, 'ipvlan l3 bridge on eth4 · mtu 9000');
    assert.deepEqual(deviceText(find(on4, 'macvlan', 'ipvl0')).tooltip, ['ipvl0 on k8s-node1: an ipvlan in l3 mode (bridge) on eth4']);
    assert.equal(deviceText(find(under, 'vlan', 'eth3.300')).description, '802.1Q on eth3 · port of br300 · mtu 9000');
    const pod = under.find((n) => n.kind === 'pod') as Extract<BridgeNode, { kind: 'pod' }>;
    assert.deepEqual([pod.namespace, pod.pod, pod.ip, pod.mac, pod.port, pod.inferred], ['net', 'mv-pod', '192.168.50.10', '6e:0d:3f:11:22:33', 'eth3', false]);
    assert.deepEqual(pod.on, { type: 'macvlan', dev: 'eth0', mode: 'bridge' });
    assert.equal(podOnWords(pod), 'pod net/mv-pod on eth3 of k8s-node1: its eth0 is a macvlan in bridge mode on eth3');
  });

  test('a macvlan on a VLAN sub-interface is listed under the VLAN, which then counts it', () => {
    const c = demo();
    const node = c.hosts.find((h) => h.name === 'k8s-node1')!;
    const mv1 =
      '30: mv1@bond0.100: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\n' +
      '    link/ether 9a:1c:5e:00:01:02 brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 \n' +
      '    macvlan mode private bcqueuelen 1000 usedbcqueuelen 1000 addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 \n';
    node.probes!.links = `${node.probes!.links!.trimEnd()}\n${fixture('node-bond-vlan-macvlan.txt').trimEnd()}\n${mv1}`;
    const n = buildNetwork(c);
    const node1 = nodeEntries(n)[0]!;
    const vlan = find(childrenOf(n, find(childrenOf(n, node1), 'bond', 'bond0')), 'vlan', 'bond0.100');
    assert.equal(vlan.uppers, 1);
    const under = childrenOf(n, vlan);
    assert.deepEqual(named(under), ['macvlan:mv1']);
    assert.equal(deviceText(find(under, 'macvlan', 'mv1')).description, 'macvlan private on bond0.100 · mtu 1500');
  });

  test('a bridge port that is a VLAN sub-interface says so', () => {
    const port = find(childrenOf(net, find(kids, 'bridge', 'br300')), 'port', 'eth3.300');
    assert.deepEqual(port.vlan, { id: 300, parent: 'eth3' });
    assert.match(portVlanWords(port)[0]!, /^eth3\.300 is the 802\.1Q sub-interface for VLAN 300 on eth3/);
  });

  test('the demo\'s own nodes have none of these entries, and their ports no VLAN', () => {
    const plain = buildNetwork(demo());
    for (const n of nodeEntries(plain)) {
      const k = childrenOf(plain, n);
      assert.ok(k.every((x) => ['bridge', 'tunnel', 'routes'].includes(x.kind)), n.kind === 'node' ? n.node : '');
      for (const b of k.filter((x) => x.kind === 'bridge')) for (const p of childrenOf(plain, b)) assert.ok(p.kind !== 'port' || !('vlan' in p));
    }
  });
});

describe('hover on a pod address whose interface is a macvlan', () => {
  test('says which device of which node it hangs from, and in which mode; a veth pod says nothing of the kind', () => {
    const net = withDevices();
    const ix = indexAddresses(net);
    const info = ix.get('192.168.50.10')!;
    assert.deepEqual(info.on, { type: 'macvlan', dev: 'eth0', mode: 'bridge', parent: 'eth3' });
    assert.equal(info.mac, '6e:0d:3f:11:22:33');
    const md = hoverMarkdown(info)!;
    assert.ok(md.includes(mdEscape('eth0 is a macvlan in bridge mode on eth3 of k8s-node1')), md);
    const web = ix.get('10.244.0.3')!;
    assert.equal(web.on, undefined);
    assert.ok(!hoverMarkdown(web)!.includes('macvlan'));
  });
});
