// The path diagram's layout on real traces of the demo capture: hosts in visit order, ports from
// the hops' devices, the VXLAN stretch as a tunnel with its outer addresses, drop markers where the
// engine says the packet stops, and branches for ECMP next hops and flood copies.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import type { Step, TraceResult } from '../../../src/shared/protocol';
import { fit, fitView, layoutTrace, MIN_LEGIBLE_SCALE, revealOffset, DEFAULT_LAYOUT_OPTIONS, type HopBox, type PathLayout } from '../../../webview/layout';
import { tunnelHeader } from '../../../webview/tunnels';
import { cases, demo, edit, HOSTILE_POD, message } from './cases';

const all = cases();
const lay = (name: string): { t: TraceResult; L: PathLayout } => {
  const m = all[name]!;
  return { t: m.trace, L: layoutTrace(m.trace, m.hosts) };
};
const box = (L: PathLayout, host: string): HopBox => {
  const b = L.boxes.find((x) => x.host === host);
  assert.ok(b, `no box for ${host}: ${L.boxes.map((x) => x.host).join(', ')}`);
  return b;
};
const hostsOf = (L: PathLayout, ids: string[]) => ids.map((id) => L.boxes.find((b) => b.id === id)!.host);

/** Geometry every layout must satisfy, whatever the trace. */
function assertSane(L: PathLayout): void {
  for (const a of L.boxes) {
    assert.ok(a.x >= 0 && a.y >= 0 && a.x + a.w <= L.width && a.y + a.h <= L.height, `${a.host} lies outside the drawing`);
    for (const b of L.boxes) {
      if (a === b) continue;
      const apart = a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y;
      assert.ok(apart, `${a.host} and ${b.host} overlap`);
    }
  }
  for (const e of L.edges) {
    const from = L.boxes.find((b) => b.id === e.from)!;
    const to = L.boxes.find((b) => b.id === e.to)!;
    const port = from.outs.find((o) => o.id === e.fromPort)!;
    assert.deepEqual([e.x1, e.y1], [port.x, port.y], `edge ${e.id} starts at its out-port`);
    assert.deepEqual([e.x2, e.y2], [to.in!.x, to.in!.y], `edge ${e.id} ends at the in-port`);
    if (L.orientation === 'horizontal') assert.ok(e.x2 > e.x1, `edge ${e.id} runs left to right`);
    else assert.ok(e.y2 > e.y1, `edge ${e.id} runs top to bottom`);
    for (const l of e.lines) assert.ok(l.x >= 0 && l.x < L.width && l.y > e.y1 && l.y < e.y2, `edge ${e.id}'s line ${l.text} lies beside it`);
  }
  for (const p of L.paths) assert.equal(p.boxes.length, p.hops.length);
}

describe('path layout on the demo capture', () => {
  test('pod to pod across nodes: one box per hop in visit order, the hop devices as ports', () => {
    const { t, L } = lay('pod-to-pod');
    assertSane(L);
    assert.deepEqual(L.boxes.map((b) => b.host), ['web-0', 'k8s-node1', 'tor', 'k8s-node2', 'web-1']);
    assert.deepEqual(L.boxes.map((b) => b.depth), [0, 1, 2, 3, 4]);
    assert.equal(L.orientation, 'vertical', 'one path is drawn top to bottom');
    assert.ok(L.boxes.every((b, i) => i === 0 || b.y >= L.boxes[i - 1]!.y + L.boxes[i - 1]!.h), 'boxes go top to bottom in visit order');
    t.hops.forEach((h, i) => {
      const b = L.boxes[i]!;
      assert.equal(b.in?.name ?? null, h.in, `${h.host} in-port`);
      assert.deepEqual(b.outs.map((o) => o.name), h.out === null ? [] : [h.out], `${h.host} out-ports`);
    });
    assert.deepEqual(L.boxes.map((b) => b.subtitle), ['pod in default', 'node', 'switch', 'node', 'pod in default']);
    assert.deepEqual(L.edges.map((e) => e.kind), ['veth', 'wire', 'wire', 'veth']);
    assert.match(L.edges[0]!.title, /veth pair/);
    assert.equal(L.paths.length, 1);
    assert.ok(L.paths[0]!.primary);
  });

  test('the VXLAN stretch is a tunnel from the encapsulating node to the decapsulating one, with its outer header', () => {
    const { L } = lay('pod-to-pod');
    assert.equal(L.tunnels.length, 1);
    const tun = L.tunnels[0]!;
    assert.deepEqual(hostsOf(L, tun.boxes), ['k8s-node1', 'tor', 'k8s-node2']);
    assert.equal(tun.encapBox, box(L, 'k8s-node1').id);
    assert.equal(tun.decapBox, box(L, 'k8s-node2').id);
    assert.deepEqual(tun.header, { kind: 'vxlan', dev: 'flannel.1', outerSrc: '10.4.7.21', outerDst: '10.4.7.22', port: 8472, vni: 1 });
    assert.equal(tun.label, 'VXLAN VNI 1  10.4.7.21 → 10.4.7.22:8472');
    assert.deepEqual(L.edges.filter((e) => e.tunnelled).map((e) => hostsOf(L, [e.from, e.to]).join('>')), ['k8s-node1>tor', 'tor>k8s-node2']);
    // The pipe runs from node1's eth0 through the switch to node2's eth0.
    const n1 = box(L, 'k8s-node1');
    const n2 = box(L, 'k8s-node2');
    assert.deepEqual(tun.points[0], [n1.outs[0]!.x, n1.outs[0]!.y]);
    assert.deepEqual(tun.points[tun.points.length - 1], [n2.in!.x, n2.in!.y]);
    // Top to bottom, the bracket runs down the left gutter from node1 to node2, and the label is the
    // first tunnelled wire's line, with the device.
    assert.ok(tun.x1 < n1.x && tun.labelY > n1.y && tun.y2 > n2.y, 'the bracket runs beside the boxes');
    const first = L.edges.find((e) => e.id === tun.edges[0])!;
    assert.deepEqual(first.lines.find((l) => l.kind === 'tunnel')?.text, 'VXLAN VNI 1  10.4.7.21 → 10.4.7.22:8472  flannel.1');
  });

  test('a delivered path ends with a delivered marker on the destination and nothing dropped', () => {
    const { L } = lay('pod-to-pod');
    assert.deepEqual(L.ends.map((e) => [e.kind, hostsOf(L, [e.box])[0]]), [['delivered', 'web-1']]);
  });

  test('a packet over the pod MTU: one box, the drop marker on eth0 with the verdict', () => {
    const { t, L } = lay('mtu-1500');
    assertSane(L);
    assert.deepEqual(t.dropAt, { host: 'web-0', dev: 'eth0' });
    assert.deepEqual(L.boxes.map((b) => b.host), ['web-0']);
    assert.equal(L.ends.length, 1);
    const end = L.ends[0]!;
    assert.equal(end.kind, 'drop');
    assert.equal(end.verdict, 'mtu-exceeded');
    assert.equal(end.dev, 'eth0');
    const port = box(L, 'web-0').outs.find((o) => o.id === end.port)!;
    assert.equal(port.name, 'eth0');
    assert.ok(port.dropOnly, 'the packet never leaves by eth0');
    assert.deepEqual([end.x, end.y], [port.x, port.y]);
    assert.match(end.reason, /1500 bytes.*at most 1450/);
  });

  test('a node to the router: node, switch, router and no tunnel', () => {
    const { L } = lay('node-to-gw');
    assertSane(L);
    assert.deepEqual(L.boxes.map((b) => [b.host, b.role]), [['k8s-node1', 'node'], ['tor', 'switch'], ['gw', 'router']]);
    assert.deepEqual(L.tunnels, []);
  });

  test('a bridge flood: the copies are branches from one box, labelled, the wrong copy discarded and not a failure', () => {
    const { t, L } = lay('flood');
    assertSane(L);
    assert.equal(t.verdict, 'delivered');
    assert.equal(L.paths.length, 2);
    assert.equal(L.paths[0]!.verdict, 'delivered', 'the path the verdict comes from is drawn first');
    const node2 = box(L, 'k8s-node2');
    assert.equal(node2.outs.length, 2);
    assert.equal(new Set(node2.visits.map((v) => v.path)).size, 2, 'the shared start is drawn once');
    const forks = L.edges.filter((e) => e.from === node2.id);
    assert.deepEqual(forks.map((e) => e.branch).sort(), t.paths.map((p) => p.branch).sort());
    for (const e of forks) assert.match(e.branch!, /^flood cni0 -> veth\w+$/);
    assert.deepEqual(L.edges.filter((e) => e.from !== node2.id).map((e) => e.branch), [null, null, null]);
    const copy = L.ends.find((e) => e.kind === 'discarded')!;
    assert.equal(copy.verdict, 'wrong-destination');
    assert.equal(hostsOf(L, [copy.box])[0], 'coredns-6d8c4cb4d-q9m4r');
    assert.equal(box(L, 'coredns-6d8c4cb4d-q9m4r').lane, 1);
    assert.equal(box(L, 'web-1').lane, 0);
    // The out-port leading to lane 0 comes first, so the edges do not cross.
    assert.ok(forks.find((e) => e.to === box(L, 'web-1').id)!.y1 < forks.find((e) => e.to !== box(L, 'web-1').id)!.y1);
    assert.equal(L.tunnels.length, 1, 'the tunnel both copies took is drawn once');
    assert.deepEqual(L.tunnels[0]!.paths, [0, 1]);
  });

  test('ECMP: the next hops are branches where the paths part, labelled with their next hop; the failing one drops at the router', () => {
    const { t, L } = lay('ecmp');
    assertSane(L);
    assert.equal(t.verdict, 'no-route');
    assert.equal(L.paths[0]!.verdict, 'no-route');
    const tor = box(L, 'tor');
    assert.deepEqual(tor.outs.map((o) => o.name), ['p4', 'p2']);
    const labels = L.edges.filter((e) => e.from === tor.id).map((e) => [hostsOf(L, [e.to])[0], e.branch]);
    assert.deepEqual(labels, [['gw', 'nexthop via 10.4.7.1 dev eth0'], ['k8s-node2', 'nexthop via 10.4.7.22 dev eth0']]);
    const drop = L.ends.find((e) => e.kind === 'drop')!;
    assert.equal(hostsOf(L, [drop.box])[0], 'gw');
    assert.equal(drop.dev, null);
    assert.equal(drop.port, null, 'no device: the marker sits on the box');
    assert.deepEqual(L.ends.map((e) => e.kind).sort(), ['delivered', 'drop']);
  });

  test('a missing VXLAN FDB entry drops at flannel.1, drawn as the port the packet does not leave by', () => {
    const { L } = lay('no-fdb-entry');
    assertSane(L);
    const n1 = box(L, 'k8s-node1');
    const end = L.ends[0]!;
    assert.equal(end.verdict, 'no-fdb-entry');
    const port = n1.outs.find((o) => o.id === end.port)!;
    assert.equal(port.name, 'flannel.1');
    assert.deepEqual(L.tunnels, [], 'nothing was encapsulated');
  });

  test('a destination pod with no probes: its box and the crossing into it are marked inferred', () => {
    const { L } = lay('inferred-pod');
    assertSane(L);
    const web1 = box(L, 'web-1');
    assert.ok(web1.inferred);
    assert.ok(web1.in);
    assert.equal(web1.in.name, 'eth0', 'its inferred namespace names the interface');
    const into = L.edges.find((e) => e.to === web1.id)!;
    assert.ok(into.inferred);
    assert.equal(into.kind, 'veth');
    assert.ok(!box(L, 'web-0').inferred);
  });

  test('a source pod with no probes: the first box is the pod, drawn inferred, and so is the crossing out of it', () => {
    const { L } = lay('inferred-source');
    assertSane(L);
    const web0 = box(L, 'web-0');
    assert.equal(web0.depth, 0);
    assert.ok(web0.inferred);
    assert.equal(web0.in, null);
    assert.deepEqual(web0.outs.map((o) => o.name), ['eth0']);
    const out = L.edges.find((e) => e.from === web0.id)!;
    assert.ok(out.inferred);
    assert.equal(box(L, 'k8s-node1').id, out.to);
    assert.ok(!box(L, 'k8s-node1').inferred);
  });

  test('a datagram no VXLAN device takes leaves the tunnel open at the node that drops it', () => {
    const m = message(edit(demo(), 'k8s-node2', 'links', (ls) => ls.map((l) => l.replace('vxlan id 1 ', 'vxlan id 2 '))), { from: 'default/web-0', to: 'default/web-1' });
    const L = layoutTrace(m.trace, m.hosts);
    assertSane(L);
    assert.equal(L.tunnels.length, 1);
    assert.equal(L.tunnels[0]!.decapBox, null);
    assert.deepEqual(hostsOf(L, L.tunnels[0]!.boxes), ['k8s-node1', 'tor', 'k8s-node2']);
    assert.equal(L.ends[0]!.kind, 'drop');
    assert.equal(L.ends[0]!.dev, 'eth0');
  });

  test('names from the cluster are kept as they are (the renderer sets them as text)', () => {
    const { L } = lay('hostile');
    assert.equal(L.boxes[4]!.host, HOSTILE_POD);
    assert.equal(L.boxes[4]!.title, HOSTILE_POD);
  });

  test('without host roles the boxes still show names, with no subtitle', () => {
    const L = layoutTrace(all['pod-to-pod']!.trace);
    assertSane(L);
    assert.deepEqual(L.boxes.map((b) => [b.role, b.subtitle]), Array(5).fill([null, '']));
  });

  test('a trace whose paths list is empty (hand-made) is drawn from its hops', () => {
    const t = { ...all['pod-to-pod']!.trace, paths: [] };
    const L = layoutTrace(t);
    assertSane(L);
    assert.equal(L.paths.length, 1);
    assert.equal(L.paths[0]!.source, -1);
    assert.equal(L.boxes.length, 5);
  });

  test('long names are cut to the box with an ellipsis', () => {
    const long = 'a-very-long-pod-name-that-goes-on-and-on-and-on-0123456789';
    const t = JSON.parse(JSON.stringify(all['pod-to-pod']!.trace).replaceAll('web-1', long)) as TraceResult;
    const L = layoutTrace(t);
    const b = box(L, long);
    assert.ok(b.title.endsWith('…') && b.title.length < long.length);
    assert.ok(DEFAULT_LAYOUT_OPTIONS.measure(b.title, 'title') <= b.w - 44);
    assert.equal(fit('abc', 100, 'mono', DEFAULT_LAYOUT_OPTIONS), 'abc');
  });
});

describe('tunnel headers from the typed details', () => {
  // The sentences are deliberately not the engine's: only the details are read.
  const step = (kind: 'vxlan-encap' | 'tunnel-encap', detail: Step['detail']): Step => ({ kind, text: 'wording that says nothing', evidence: '', records: [], detail });

  test('VXLAN over IPv6, and without a local address the source comes from the route that carries it', () => {
    const h = tunnelHeader(step('vxlan-encap', { type: 'vxlan-encap', ns: 'n1', dev: 'vx0', size: 64, vni: 42, vtep: 'fd00::2', port: 4789, overhead: 70, total: 134 }), [
      { kind: 'route', text: '...', evidence: '', records: [], detail: { type: 'route', ns: 'n1', dst: 'fd00::2', table: 'main', outcome: 'forward', route: { type: 'unicast', dst: 'fd00::/64', dev: 'eth0', table: 'main', metric: 256, prefsrc: 'fd00::1' } } },
    ]);
    assert.deepEqual(h, { kind: 'vxlan', dev: 'vx0', outerDst: 'fd00::2', port: 4789, outerSrc: 'fd00::1', vni: 42 });
  });

  test('IPIP names the far end; the source is the one the kernel picks', () => {
    const h = tunnelHeader(step('tunnel-encap', { type: 'ipip-encap', ns: 'n1', dev: 'tunl0', size: 64, remote: '10.0.0.2', fixed: false, total: 84 }), [
      { kind: 'route', text: '...', evidence: '', records: [], detail: { type: 'route', ns: 'n1', dst: '10.0.0.2', table: 'main', outcome: 'forward', route: { type: 'unicast', dst: '10.0.0.0/24', dev: 'eth0', table: 'main' } } },
      { kind: 'src', text: '...', evidence: '', records: [], detail: { type: 'src', addr: '10.0.0.1', from: 'device', dev: 'eth0' } },
    ]);
    assert.deepEqual(h, { kind: 'ipip', dev: 'tunl0', outerDst: '10.0.0.2', port: null, outerSrc: '10.0.0.1', vni: null });
  });

  test('WireGuard: endpoint and port; an unknown source stays unknown', () => {
    const h = tunnelHeader(step('tunnel-encap', { type: 'wg-encap', ns: 'n1', dev: 'wg0', dst: '10.244.1.3', peer: { key: 'abcdefghijkl', allowedIps: ['10.244.1.0/24'] }, endpoint: '198.51.100.2', port: 51820, overhead: 60, total: 124 }));
    assert.deepEqual(h, { kind: 'wireguard', dev: 'wg0', outerDst: '198.51.100.2', port: 51820, outerSrc: null, vni: null });
  });

  test('a step with neither a tunnel field nor a detail (a hand-made trace) gives an unknown header, not a guess from its words', () => {
    const h = tunnelHeader({ kind: 'vxlan-encap', text: 'flannel.1 wraps the 64-byte packet in VXLAN (VNI 1) inside UDP to 10.4.7.22:8472 from 10.4.7.21: ...', evidence: '', records: [] });
    assert.deepEqual(h, { kind: 'vxlan', dev: null, outerDst: null, port: null, outerSrc: null, vni: null });
  });
});

describe('devices, wire headers and the view', () => {
  test('one path top to bottom: each box holds its devices in order, inside it, and each wire its device pair and headers', () => {
    const { L } = lay('pod-to-pod');
    const n1 = box(L, 'k8s-node1');
    assert.deepEqual(n1.devices.map((d) => d.label), ['veth53842afe', 'cni0', 'flannel.1', 'eth0']);
    for (const b of L.boxes) {
      b.devices.forEach((d, i) => {
        assert.ok(d.x >= b.x && d.x + d.w <= b.x + b.w && d.y >= b.y && d.y + d.h <= b.y + b.h, `${b.host}: ${d.name} lies inside its box`);
        if (i > 0) assert.ok(d.x > b.devices[i - 1]!.x + b.devices[i - 1]!.w, `${b.host}: devices left to right`);
      });
    }
    const lines = L.edges.map((e) => e.lines.map((l) => `${l.kind}: ${l.text}`));
    assert.deepEqual(lines, [
      ['devs: eth0 → veth53842afe  veth', 'inner: 10.244.0.3 → 10.244.1.3 · MAC 12:f1:86:a7:b2:ae'],
      ['devs: eth0 → p1', 'inner: 10.244.0.3 → 10.244.1.3 · MAC 42:20:2d:f5:4d:c4', 'tunnel: VXLAN VNI 1  10.4.7.21 → 10.4.7.22:8472  flannel.1'],
      ['devs: p2 → eth0', 'inner: 10.244.0.3 → 10.244.1.3 · MAC 42:20:2d:f5:4d:c4', 'outer: outer 10.4.7.21 → 10.4.7.22 UDP 8472 VNI 1'],
      ['devs: veth96603d4d → eth0  veth', 'inner: 10.244.0.3 → 10.244.1.3 · MAC 0a:58:0a:f4:01:03'],
    ]);
  });

  test('top to bottom, a drop mark on the bottom edge of a box has the verdict line under it, inside the drawing', () => {
    const { L } = lay('no-fdb-entry');
    assert.equal(L.orientation, 'vertical');
    const end = L.ends[0]!;
    const b = L.boxes.find((x) => x.id === end.box)!;
    assert.equal(end.dev, 'flannel.1');
    assert.equal(end.y, b.y + b.h, 'the mark sits on the bottom edge, under flannel.1');
    assert.ok(end.labelY - 10 > end.y + 7, 'the verdict line starts below the mark');
    assert.ok(end.labelY + 4 <= L.height, 'and inside the drawing');
  });

  test('forks keep the horizontal lanes, with the devices drawn in each box', () => {
    const { L } = lay('flood');
    assertSane(L);
    assert.equal(L.orientation, 'horizontal');
    assert.ok(L.boxes.every((b) => b.devices.length > 0 && b.devices.every((d) => d.x >= b.x && d.x + d.w <= b.x + b.w)));
    assert.ok(L.edges.every((e) => e.lines.length === 0 && e.headers !== null));
  });

  test('long device names are cut to fit the box, never past it', () => {
    const { L } = lay('hostile');
    for (const b of L.boxes) for (const d of b.devices) assert.ok(d.x + d.w <= b.x + b.w + 0.01, `${b.host}: ${d.label}`);
  });

  test('fit: the whole drawing at the largest scale up to 1:1, centred across; never below the legible scale', () => {
    assert.deepEqual(fitView({ width: 800, height: 600 }, { width: 400, height: 300 }, MIN_LEGIBLE_SCALE), { k: 1, x: 200, y: 0 });
    const half = fitView({ width: 400, height: 1000 }, { width: 500, height: 450 }, 0.5);
    assert.equal(half.k, 0.8);
    assert.equal(half.x, 0);
    const small = fitView({ width: 300, height: 200 }, { width: 1200, height: 800 }, MIN_LEGIBLE_SCALE);
    assert.equal(small.k, MIN_LEGIBLE_SCALE);
    assert.ok(Math.abs(MIN_LEGIBLE_SCALE * 11 - 9) < 1e-9, 'an 11px label is drawn at 9px');
  });

  test('reveal: no pan when the box is in view; otherwise the least pan that brings it in', () => {
    const view = { width: 400, height: 300 };
    assert.deepEqual(revealOffset({ x: 50, y: 50, w: 100, h: 50 }, { x: 0, y: 0, k: 1 }, view), [0, 0]);
    // Below the view: scrolled up just enough (12 px margin).
    assert.deepEqual(revealOffset({ x: 50, y: 400, w: 100, h: 50 }, { x: 0, y: 0, k: 1 }, view), [0, 300 - 12 - 450]);
    // Left of it, at scale 2 with a pan.
    assert.deepEqual(revealOffset({ x: 10, y: 10, w: 50, h: 20 }, { x: -100, y: 0, k: 2 }, view), [12 - (-100 + 20), 0]);
    // Larger than the view: its top left corner is shown.
    assert.deepEqual(revealOffset({ x: 0, y: 100, w: 1000, h: 50 }, { x: 30, y: 0, k: 1 }, view), [12 - 30, 0]);
  });
});
