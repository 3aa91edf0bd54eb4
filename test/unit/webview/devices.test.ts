// What the diagram draws inside each host and on each wire, from the demo capture's real traces:
// the devices in the order the packet passes them, and the headers (inner, and outer in the tunnel)
// with only the MACs the trace carries.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import type { Hop } from '../../../src/shared/protocol';
import { headerDetails, hopDevices, pathHeaders, wireHeaderLines } from '../../../webview/devices';
import { cases } from './cases';

const all = cases();
const hopsOf = (name: string): Hop[] => all[name]!.trace.hops;
const devs = (h: Hop) => hopDevices(h).map((d) => `${d.name}${d.kind === 'dev' ? '' : `:${d.kind}`}`);

describe('devices inside each hop', () => {
  test('pod to pod across nodes: veth -> cni0 -> flannel.1 -> eth0 on the sending node, the reverse on the receiving one', () => {
    const hops = hopsOf('pod-to-pod');
    assert.deepEqual(hops.map((h) => h.host), ['web-0', 'k8s-node1', 'tor', 'k8s-node2', 'web-1']);
    assert.deepEqual(hops.map(devs), [
      ['eth0'],
      ['veth53842afe', 'cni0:bridge', 'flannel.1:vxlan', 'eth0'],
      ['p1', 'br0:bridge', 'p2'],
      ['eth0', 'flannel.1:vxlan', 'cni0:bridge', 'veth96603d4d'],
      ['eth0'],
    ]);
  });

  test('a hop starts with its in device and ends with its out device', () => {
    for (const name of ['pod-to-pod', 'node-to-gw', 'flood']) {
      for (const h of all[name]!.trace.paths.flatMap((p) => p.hops)) {
        const d = hopDevices(h).map((x) => x.name);
        if (h.in !== null) assert.equal(d[0], h.in, `${name} ${h.host}`);
        if (h.out !== null) assert.equal(d[d.length - 1], h.out, `${name} ${h.host}`);
        assert.equal(new Set(d.slice(0, -1)).size, d.length - 1, `${name} ${h.host}: a device listed twice ${d.join(',')}`);
      }
    }
  });

  test('a local route does not add the device the address lives on (lo is not on the path)', () => {
    const hop: Hop = {
      host: 'n',
      in: 'eth0',
      out: null,
      steps: [{ kind: 'route', text: '', evidence: '', records: [], detail: { type: 'route', ns: 'n', dst: '10.0.0.1', route: { type: 'local', dst: '10.0.0.1', dev: 'lo', table: 'local' }, table: 'local', outcome: 'local' } }],
    };
    assert.deepEqual(hopDevices(hop).map((d) => d.name), ['eth0']);
  });
});

describe('headers on each wire', () => {
  test('pod to pod: the inner packet on every wire, the neighbour MAC each hop resolved, the outer header in the tunnel', () => {
    const wires = pathHeaders(hopsOf('pod-to-pod'));
    assert.equal(wires.length, 4);
    for (const w of wires) assert.deepEqual([w.inner.src, w.inner.dst], ['10.244.0.3', '10.244.1.3']);
    assert.deepEqual(wires.map((w) => w.inner.dstMac), ['12:f1:86:a7:b2:ae', '42:20:2d:f5:4d:c4', '42:20:2d:f5:4d:c4', '0a:58:0a:f4:01:03']);
    assert.equal(wires[0]!.outer, null);
    assert.equal(wires[3]!.outer, null);
    // k8s-node1 -> tor and tor -> k8s-node2: the switch forwards the outer frame unchanged.
    for (const w of wires.slice(1, 3)) {
      assert.deepEqual(w.outer, { kind: 'vxlan', dev: 'flannel.1', outerSrc: '10.4.7.21', outerDst: '10.4.7.22', port: 8472, vni: 1, dstMac: '52:54:00:74:36:33' });
    }
    assert.deepEqual(wireHeaderLines(wires[1]!), { inner: '10.244.0.3 → 10.244.1.3 · MAC 42:20:2d:f5:4d:c4', outer: 'outer 10.4.7.21 → 10.4.7.22 UDP 8472 VNI 1' });
    assert.deepEqual(headerDetails(wires[1]!), [
      'Inner IP 10.244.0.3 → 10.244.1.3',
      'Inner destination MAC 42:20:2d:f5:4d:c4',
      'Outer IP 10.4.7.21 → 10.4.7.22, UDP port 8472',
      'VXLAN by flannel.1, VNI 1',
      'Outer destination MAC 52:54:00:74:36:33',
    ]);
  });

  test('a MAC the trace does not carry is not made up: a trace without details has no MACs, and says so', () => {
    const bare = hopsOf('pod-to-pod').map((h) => ({ ...h, steps: h.steps.map(({ detail: _d, tunnel: _t, ...s }) => s) }));
    const wires = pathHeaders(bare);
    assert.ok(wires.every((w) => w.inner.dstMac === null && w.inner.src === null), JSON.stringify(wires));
    // The step kinds still say there is a VXLAN tunnel, but not its addresses or MAC.
    assert.deepEqual(wires[1]!.outer, { kind: 'vxlan', dev: null, outerSrc: null, outerDst: null, port: null, vni: null, dstMac: null });
    assert.equal(wireHeaderLines(wires[1]!).outer, 'outer ? → ?');
    assert.equal(wireHeaderLines(wires[0]!).inner, '? → ?');
    assert.deepEqual(headerDetails(wires[0]!), ['Inner IP ? → ?', 'Inner destination MAC not in the trace']);
  });
});
