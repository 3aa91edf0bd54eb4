// 802.1Q sub-interfaces and VLAN-aware bridges. This machine's kernel has no 8021q module and no VLAN
// filtering, so there is no kernel to judge here: the captures (vlan-captures.ts, each probe shape
// cited there) are built by hand, and each expected path is derived step by step from the kernel
// source, named in the comments:
//   net/8021q/vlan_dev.c   vlan_dev_hard_start_xmit: push the device's tag, dev_queue_xmit on the lower device
//   net/8021q/vlan_core.c  vlan_do_receive: the VLAN device for the frame's tag takes it (before any
//                          rx_handler, __netif_receive_skb_core); none: PACKET_OTHERHOST for a tagged
//                          frame, which ip_rcv drops — unless a bridge's rx_handler takes the frame
//   net/bridge/br_vlan.c   br_allowed_ingress (PVID for untagged, membership for tagged), br_allowed_egress
//                          (membership of the out port), br_handle_vlan (Egress Untagged strips the tag)
//   net/bridge/br_input.c  br_handle_frame_finish: br_allowed_ingress, then br_fdb_find_rcu(br, dst, vid)
//   net/bridge/br_forward.c should_deliver -> br_allowed_egress for br_forward and every br_flood copy
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { validateCapture, type Capture, type Host } from '../../../src/capture/document';
import { buildNetwork, simulate, type TraceResult } from '../../../src/engine';
import { brFdbLookup } from '../../../src/engine/lookup/fdb';
import { Mac } from '../../../src/net/addr';
import type { StepDetail } from '../../../src/engine/trace';
import { ACCESS, cable, capture, demoVlan, endHost, MAC, router, TRUNK, vlanSwitch, type SwitchDef } from './vlan-captures';

function trace(c: Capture, from: string, to: string, size?: number): TraceResult {
  assert.ok(validateCapture(c as unknown).ok);
  const r = simulate(buildNetwork(c), { from, to, ...(size !== undefined ? { size } : {}) });
  if (!r.ok) throw new Error(r.error);
  return r.result;
}

const details = (r: { hops: TraceResult['hops'] }, type: string) => r.hops.flatMap((h) => h.steps.map((s) => s.detail).filter((d): d is StepDetail => d?.type === type));
/** The tags on each wire the path crosses, in order (undefined: untagged). */
const wireTags = (r: { hops: TraceResult['hops'] }) => details(r, 'wire').map((d) => (d.type === 'wire' ? d.vlans : undefined));
const last = (r: { hops: TraceResult['hops'] }) => {
  const h = r.hops[r.hops.length - 1]!;
  return h.steps[h.steps.length - 1]!;
};

const A = endHost({ name: 'host-a', ip: '192.168.36.10', mac: MAC.a, gw: '192.168.36.1', neigh: { '192.168.36.1': MAC.r, '192.168.36.30': MAC.c, '192.168.36.40': MAC.b } });
const L3 = router({ name: 'l3-switch', mac: MAC.r, vlans: { 10: '192.168.36.1', 20: '192.168.35.1' }, neigh: { 'eth0.10': { '192.168.36.10': MAC.a }, 'eth0.20': { '192.168.35.20': MAC.b } } });
const port = (name: 'swp1' | 'swp2' | 'swp3' | 'swp4', vlans: string[]) => ({ name, mac: MAC[name], vlans });

/** The demo's switch, with its ports' VLANs and FDB replaced where a case says. */
function sw(over: Partial<SwitchDef> = {}): Host {
  return vlanSwitch({
    name: 'switch',
    mac: MAC.br,
    ports: [port('swp1', ACCESS(10)), port('swp2', ACCESS(20)), port('swp3', TRUNK), port('swp4', ACCESS(10))],
    self: ['1 PVID Egress Untagged'],
    fdb: [`${MAC.a} dev swp1 vlan 10 master br0 `, `${MAC.c} dev swp4 vlan 10 master br0 `, `${MAC.b} dev swp2 vlan 20 master br0 `, `${MAC.r} dev swp3 vlan 10 master br0 `, `${MAC.r} dev swp3 vlan 20 master br0 `],
    ...over,
  });
}
const C = endHost({ name: 'host-c', ip: '192.168.36.30', mac: MAC.c, gw: '192.168.36.1', neigh: { '192.168.36.10': MAC.a } });
const B = endHost({ name: 'host-b', ip: '192.168.35.20', mac: MAC.b, gw: '192.168.35.1', neigh: { '192.168.35.1': MAC.r } });
const wires = [cable('host-a', 'eth0', 'switch', 'swp1'), cable('host-b', 'eth0', 'switch', 'swp2'), cable('l3-switch', 'eth0', 'switch', 'swp3'), cable('host-c', 'eth0', 'switch', 'swp4')];

describe('VLAN-aware bridge (br_allowed_ingress, per-VLAN FDB, br_allowed_egress, br_handle_vlan)', () => {
  test('access -> access in the same VLAN is delivered; the frame is untagged on both wires', () => {
    // host-a sends untagged out of eth0 -> swp1. br_allowed_ingress: no tag, swp1's PVID is 10, so
    // vid = 10 (the tag goes into skb->vlan_tci). br_fdb_find_rcu(br, MAC.c, 10): swp4. should_deliver:
    // swp4 is a member of 10 (br_allowed_egress). br_handle_vlan: 10 is Egress Untagged on swp4: the
    // tag is cleared. host-c gets an untagged frame for its MAC: delivered.
    const r = trace(demoVlan(), 'host-a', '192.168.36.30');
    assert.equal(r.verdict, 'delivered');
    assert.deepEqual(details(r, 'vlan-ingress'), [{ type: 'vlan-ingress', ns: 'switch', bridge: 'br0', port: 'swp1', vlan: 10, how: 'pvid' }]);
    const hit = details(r, 'fdb-hit')[0];
    assert.ok(hit?.type === 'fdb-hit');
    assert.deepEqual([hit.port, hit.vlan], ['swp4', 10]);
    assert.deepEqual(details(r, 'vlan-egress'), [{ type: 'vlan-egress', ns: 'switch', bridge: 'br0', port: 'swp4', vlan: 10, tagged: false }]);
    assert.deepEqual(wireTags(r), [undefined, undefined]);
    // The evidence is the bridge vlan show line that decided.
    const ingress = r.hops[1]!.steps.find((s) => s.detail?.type === 'vlan-ingress')!;
    assert.deepEqual(ingress.records.map((e) => [e.host, e.probe, e.raw]), [['switch', 'bridgevlan', 'swp1              10 PVID Egress Untagged']]);
  });

  test('access VLAN 10 -> a host on an access port of VLAN 20: the flood stays in VLAN 10 and never reaches it', () => {
    // host-a believes 192.168.36.40 (host-d, cabled to swp2, an access port of VLAN 20) is on its
    // subnet. The frame takes VLAN 10 (PVID of swp1); br_fdb_find_rcu(br, MAC.d, 10) misses, because
    // the entry learnt for MAC.d is in VLAN 20. br_flood: should_deliver -> br_allowed_egress keeps
    // only the members of VLAN 10: swp3 (trunk) and swp4; swp2 gets no copy. Every copy ends at a host
    // the frame is not for.
    const D = endHost({ name: 'host-d', ip: '192.168.36.40', mac: MAC.b, neigh: {} });
    const c = capture('v', [A, D, C, L3, sw()], [cable('host-a', 'eth0', 'switch', 'swp1'), cable('host-d', 'eth0', 'switch', 'swp2'), cable('l3-switch', 'eth0', 'switch', 'swp3'), cable('host-c', 'eth0', 'switch', 'swp4')]);
    const r = trace(c, 'host-a', '192.168.36.40');
    assert.notEqual(r.verdict, 'delivered');
    const flood = details(r, 'flood')[0];
    assert.ok(flood?.type === 'flood');
    assert.deepEqual([flood.ports, flood.vlan], [['swp3', 'swp4'], 10]);
    assert.ok(r.paths.every((p) => !p.hops.some((h) => h.host === 'host-d')));
  });

  test('access VLAN 10 -> VLAN 20 on a switch with no other port in VLAN 10: vlan-filtered (the flood finds no member port)', () => {
    // The same frame on a two-port switch: br_flood finds no port for which should_deliver holds
    // (swp2 is not in VLAN 10), so no copy is made and the skb is freed. No VLAN-specific drop reason
    // exists in the kernel for this; netpath calls it vlan-filtered and names where the MAC is.
    const D = endHost({ name: 'host-d', ip: '192.168.36.40', mac: MAC.b, neigh: {} });
    const two = sw({ ports: [port('swp1', ACCESS(10)), port('swp2', ACCESS(20))], fdb: [`${MAC.b} dev swp2 vlan 20 master br0 `] });
    const r = trace(capture('v', [A, D, two], [cable('host-a', 'eth0', 'switch', 'swp1'), cable('host-d', 'eth0', 'switch', 'swp2')]), 'host-a', '192.168.36.40');
    assert.equal(r.verdict, 'vlan-filtered');
    assert.deepEqual(last(r).detail, { type: 'vlan-flood-none', ns: 'switch', bridge: 'br0', vlan: 10, inPort: 'swp1', mac: MAC.b, ports: ['swp2'], fdb: [{ port: 'swp2', vlan: 20 }] });
    const d = r.diagnosis?.find((x) => x.kind === 'vlan-filtered');
    assert.ok(d, JSON.stringify(r.diagnosis));
    assert.match(d.text, /no port besides swp1 in VLAN 10; 52:54:00:0b:00:20 is in VLAN 20 behind swp2/);
    assert.match(d.fix, /bridge vlan add dev swp2 vid 10 pvid untagged/);
  });

  test('an untagged frame on a port without a PVID is dropped at ingress', () => {
    // swp1 carries VLAN 10 tagged only. br_allowed_ingress: no tag and br_get_pvid(vg) == 0 -> drop.
    const r = trace(capture('v', [A, C, L3, B, sw({ ports: [port('swp1', ['10']), port('swp2', ACCESS(20)), port('swp3', TRUNK), port('swp4', ACCESS(10))] })], wires), 'host-a', '192.168.36.30');
    assert.equal(r.verdict, 'vlan-filtered');
    assert.deepEqual(last(r).detail, { type: 'vlan-filtered', ns: 'switch', bridge: 'br0', port: 'swp1', at: 'ingress', why: 'no-pvid', member: ['10'] });
    assert.deepEqual(last(r).records.map((e) => e.raw), ['swp1              10']);
    const d = r.diagnosis?.find((x) => x.kind === 'vlan-filtered');
    assert.match(d!.fix, /bridge vlan add dev swp1 vid VID pvid untagged/);
  });

  test('a tagged frame on a trunk port that is not a member of its VLAN is dropped at ingress', () => {
    // The router routes to 192.168.37.0/24 on eth0.30: vlan_dev_hard_start_xmit tags it 30 and queues
    // it on eth0; the trunk swp3 carries 10 and 20 only. br_allowed_ingress: tagged, br_vlan_find(vg, 30)
    // is NULL -> drop.
    const L3b = router({ name: 'l3-switch', mac: MAC.r, vlans: { 10: '192.168.36.1', 20: '192.168.35.1', 30: '192.168.37.1' }, neigh: { 'eth0.30': { '192.168.37.7': '52:54:00:0f:00:30' } } });
    const r = trace(capture('v', [A, C, L3b, B, sw()], wires), 'host-a', '192.168.37.7');
    assert.equal(r.verdict, 'vlan-filtered');
    assert.deepEqual(details(r, 'vlan-push').at(-1), { type: 'vlan-push', ns: 'l3-switch', dev: 'eth0.30', parent: 'eth0', id: 30 });
    assert.deepEqual(wireTags(r), [undefined, [10], [30]]);
    assert.deepEqual(last(r).detail, { type: 'vlan-filtered', ns: 'switch', bridge: 'br0', port: 'swp3', at: 'ingress', why: 'not-member', vlan: 30, member: ['10', '20'] });
    const d = r.diagnosis?.find((x) => x.kind === 'vlan-filtered');
    assert.equal(d?.fix.startsWith('add VLAN 30 to port swp3: bridge vlan add dev swp3 vid 30'), true, d?.fix);
    assert.equal(d?.host, 'switch');
  });

  test('an FDB entry in another VLAN does not match: the frame is flooded within its own VLAN', () => {
    // br_fdb_find_rcu hashes (MAC, vid): host-c's MAC is only in the table in VLAN 20 (a stale static
    // entry) and in vid 0 (no `vlan`), neither of which is VLAN 10. So the lookup misses and br_flood
    // sends copies to the members of VLAN 10 (swp3, swp4); the copy out of swp4 reaches host-c.
    const stale = sw({ fdb: [`${MAC.c} dev swp2 vlan 20 master br0 static`, `${MAC.c} dev swp2 master br0 static`, `${MAC.r} dev swp3 vlan 10 master br0 `] });
    const r = trace(capture('v', [A, C, L3, B, stale], wires), 'host-a', '192.168.36.30');
    assert.equal(r.verdict, 'delivered');
    assert.deepEqual(details(r, 'fdb-hit'), []);
    const flood = details(r, 'flood')[0];
    assert.ok(flood?.type === 'flood' && flood.why === 'miss');
    assert.deepEqual([flood.ports, flood.vlan, flood.fdbKnown], [['swp3', 'swp4'], 10, true]);
    assert.match(r.hops[1]!.steps.find((s) => s.kind === 'flood')!.text, /not in its forwarding table for VLAN 10, so it floods the frame to every other port in VLAN 10 \(swp3, swp4\)/);
    const delivered = r.paths.find((p) => p.verdict === 'delivered')!;
    assert.equal(delivered.branch, 'flood br0 -> swp4');
  });

  test('an FDB hit on a port that is not in the VLAN: br_forward drops it at egress', () => {
    // A static entry puts host-c's MAC behind swp2 in VLAN 10, but swp2 carries VLAN 20 only:
    // br_forward -> should_deliver -> br_allowed_egress(vg of swp2) fails, the skb is freed.
    const wrong = sw({ fdb: [`${MAC.c} dev swp2 vlan 10 master br0 static`] });
    const r = trace(capture('v', [A, C, L3, B, wrong], wires), 'host-a', '192.168.36.30');
    assert.equal(r.verdict, 'vlan-filtered');
    assert.deepEqual(last(r).detail, { type: 'vlan-filtered', ns: 'switch', bridge: 'br0', port: 'swp2', at: 'egress', why: 'not-member', vlan: 10, member: ['20 PVID untagged'] });
    assert.equal(r.hops[1]!.out, 'swp2');
  });

  test('a VLAN in state blocking on the port (bridge -d vlan show) does not forward', () => {
    const blocked = sw({ ports: [port('swp1', ACCESS(10)), port('swp2', ACCESS(20)), port('swp3', TRUNK), port('swp4', [...ACCESS(10), '  state blocking'])] });
    // The `state` line sits under the VLAN it belongs to (bridge/vlan.c prints it for -d).
    const r = trace(capture('v', [A, C, L3, B, blocked], wires), 'host-a', '192.168.36.30');
    assert.equal(r.verdict, 'vlan-filtered');
    const d = last(r).detail;
    assert.ok(d?.type === 'vlan-filtered');
    assert.deepEqual([d.port, d.at, d.why, d.state], ['swp4', 'egress', 'state', 'blocking']);
  });

  test("up to the host: the bridge's own VLANs decide (br_pass_frame_up), and a VLAN device on the bridge takes the tagged frame", () => {
    // The switch's management address is on br0.10. The frame for br0's MAC takes VLAN 10 on swp1;
    // br_pass_frame_up: br_allowed_egress(vg of br0) holds (br0 has VLAN 10 self, tagged), and
    // br_handle_vlan keeps the tag; br_netif_receive_skb -> vlan_do_receive hands it to br0.10.
    const mine = sw({ self: ['1 PVID Egress Untagged', '10'], mgmt: { id: 10, ip: '192.168.36.2' } });
    const a = endHost({ name: 'host-a', ip: '192.168.36.10', mac: MAC.a, neigh: { '192.168.36.2': MAC.br } });
    const r = trace(capture('v', [a, mine], [cable('host-a', 'eth0', 'switch', 'swp1')]), 'host-a', '192.168.36.2');
    assert.equal(r.verdict, 'delivered');
    assert.deepEqual(details(r, 'vlan-egress'), [{ type: 'vlan-egress', ns: 'switch', bridge: 'br0', port: 'br0', vlan: 10, tagged: true }]);
    assert.deepEqual(details(r, 'vlan-pop'), [{ type: 'vlan-pop', ns: 'switch', dev: 'br0.10', parent: 'br0', id: 10 }]);
    // Without VLAN 10 among br0's own VLANs, br_allowed_egress fails and the frame stays in the bridge.
    const notMine = sw({ mgmt: { id: 10, ip: '192.168.36.2' } });
    const r2 = trace(capture('v', [a, notMine], [cable('host-a', 'eth0', 'switch', 'swp1')]), 'host-a', '192.168.36.2');
    assert.equal(r2.verdict, 'vlan-filtered');
    assert.deepEqual(last(r2).detail, { type: 'vlan-filtered', ns: 'switch', bridge: 'br0', port: 'br0', at: 'up', why: 'not-member', vlan: 10, member: ['1 PVID untagged'] });
    assert.match(r2.diagnosis!.find((d) => d.kind === 'vlan-filtered')!.fix, /bridge vlan add dev br0 vid 10 self/);
  });

  test('br_fdb_find_rcu(br, addr, vid): an entry matches its own VLAN only; one without `vlan` is vid 0', () => {
    const c = capture('v', [sw({ fdb: [`${MAC.c} dev swp4 vlan 10 master br0 `, `${MAC.c} dev swp2 vlan 20 master br0 `, `${MAC.b} dev swp2 master br0 `] })], []);
    const ns = buildNetwork(c).hosts.get('switch')!;
    const br = ns.ifaces.get('br0')!;
    const mac = (m: string) => (Mac.parse(m) as { ok: true; value: Mac }).value;
    const port = (a: ReturnType<typeof brFdbLookup>) => (a.kind === 'hit' ? a.entry.dev : a.kind);
    assert.equal(port(brFdbLookup(ns, br, mac(MAC.c), true, 10)), 'swp4');
    assert.equal(port(brFdbLookup(ns, br, mac(MAC.c), true, 20)), 'swp2');
    const miss = brFdbLookup(ns, br, mac(MAC.c), true, 30);
    assert.deepEqual(miss.kind === 'miss' && miss.otherVlans?.map((e) => [e.dev, e.vlan]), [['swp4', 10], ['swp2', 20]]);
    assert.equal(port(brFdbLookup(ns, br, mac(MAC.b), true, 0)), 'swp2');
    assert.equal(port(brFdbLookup(ns, br, mac(MAC.b), true, 20)), 'miss');
  });

  test("the host's VLAN table lists its parse issues with the others (a line bridge vlan show never prints)", () => {
    const c = capture('v', [sw()], []);
    c.hosts[0]!.probes!.bridgevlan += 'swp9              5000\n';
    const ns = buildNetwork(c).hosts.get('switch')!;
    assert.deepEqual(
      ns.issues.map((i) => [i.probe, i.issue.line]),
      [['bridgevlan', 8]],
    );
    assert.equal(ns.bridgeVlans.get('swp3')!.length, 2);
  });

  test('a VLAN-filtering bridge without the bridgevlan probe is insufficient-data, naming the probe', () => {
    const r = trace(capture('v', [A, C, L3, B, sw({ noVlanProbe: true })], wires), 'host-a', '192.168.36.30');
    assert.equal(r.verdict, 'insufficient-data');
    assert.deepEqual(last(r).detail, { type: 'vlan-table-missing', ns: 'switch', bridge: 'br0', probe: 'bridgevlan' });
    const d = r.diagnosis?.find((x) => x.probe === 'bridgevlan');
    assert.equal(d?.kind, 'insufficient-data');
    assert.match(d!.fix, /bridgevlan probe \(bridge vlan show\) on switch/);
  });

  test('a bridge without vlan_filtering forwards a tagged frame unchanged (and looks MACs up in vid 0)', () => {
    // br_allowed_ingress returns true at once when BROPT_VLAN_ENABLED is off and leaves vid 0:
    // br_fdb_find_rcu(br, MAC.r, 0) finds the entry without `vlan`, and no PVID is given: host-a's
    // untagged frame reaches the router untagged, which takes it on eth0 itself (no tag, so no
    // vlan_do_receive; forwarding needs no address on eth0) and routes it out of eth0.20, tagged 20.
    // Back on the switch the lookup is again in vid 0 (the `vlan 20` entry behind swp4 does not
    // match) and there is no br_handle_vlan: the tag stays. host-b then gets a frame tagged 20 on
    // eth0, which has no VLAN device: vlan_do_receive finds none, the frame is PACKET_OTHERHOST and
    // ip_rcv drops it.
    const plain = sw({ filtering: false, noVlanProbe: true, fdb: [`${MAC.r} dev swp3 master br0 `, `${MAC.b} dev swp2 master br0 `, `${MAC.b} dev swp4 vlan 20 master br0 `] });
    const r = trace(capture('v', [A, C, L3, B, plain], wires), 'host-a', '192.168.35.20');
    assert.deepEqual(details(r, 'vlan-ingress'), []);
    assert.deepEqual(wireTags(r), [undefined, undefined, [20], [20]]);
    assert.equal(r.verdict, 'wrong-destination');
    assert.deepEqual(last(r).detail, { type: 'vlan-no-dev', ns: 'host-b', dev: 'eth0', id: 20, devices: [] });
  });
});

describe('802.1Q sub-interfaces (vlan_dev_hard_start_xmit, vlan_do_receive)', () => {
  test('the article: untagged -> PVID 10 -> tagged 10 on the trunk -> popped at eth0.10 -> routed -> pushed 20 -> untagged out of the VLAN 20 access port', () => {
    const r = trace(demoVlan(), 'host-a', '192.168.35.20');
    assert.equal(r.verdict, 'delivered');
    assert.deepEqual(
      r.hops.map((h) => [h.host, h.in, h.out]),
      [
        ['host-a', null, 'eth0'],
        ['switch', 'swp1', 'swp3'],
        ['l3-switch', 'eth0', 'eth0.20'],
        ['switch', 'swp3', 'swp2'],
        ['host-b', 'eth0', null],
      ],
    );
    assert.deepEqual(wireTags(r), [undefined, [10], [20], undefined]);
    assert.deepEqual(details(r, 'vlan-pop'), [{ type: 'vlan-pop', ns: 'l3-switch', dev: 'eth0.10', parent: 'eth0', id: 10 }]);
    assert.deepEqual(details(r, 'vlan-push'), [{ type: 'vlan-push', ns: 'l3-switch', dev: 'eth0.20', parent: 'eth0', id: 20 }]);
    assert.deepEqual(
      details(r, 'vlan-ingress').map((d) => d.type === 'vlan-ingress' && [d.port, d.vlan, d.how]),
      [
        ['swp1', 10, 'pvid'],
        ['swp3', 20, 'tagged'],
      ],
    );
    assert.deepEqual(
      details(r, 'vlan-egress').map((d) => d.type === 'vlan-egress' && [d.port, d.vlan, d.tagged]),
      [
        ['swp3', 10, true],
        ['swp2', 20, false],
      ],
    );
    // The pop comes before IP on the router: vlan_do_receive runs first in __netif_receive_skb_core.
    assert.equal(r.hops[2]!.steps[0]!.detail?.type, 'vlan-pop');
    assert.match(r.hops[1]!.steps.find((s) => s.detail?.type === 'wire')!.text, /carries 802\.1Q tag VLAN 10\.$/);
  });

  test("the VLAN device's own MTU applies (ip_finish_output checks the out device, eth0.20)", () => {
    const small = structuredClone(demoVlan());
    const l3 = small.hosts.find((h) => h.name === 'l3-switch')!;
    l3.probes!.links = l3.probes!.links!.replace(/(eth0\.20@eth0: <[^>]*> mtu )1500/, '$11400');
    assert.match(l3.probes!.links!, /eth0\.20@eth0: <[^>]*> mtu 1400/);
    const ok = trace(small, 'host-a', '192.168.35.20', 1400);
    assert.equal(ok.verdict, 'delivered');
    const big = trace(small, 'host-a', '192.168.35.20', 1401);
    assert.equal(big.verdict, 'mtu-exceeded');
    assert.deepEqual(last(big).detail, { type: 'mtu', ns: 'l3-switch', dev: 'eth0.20', size: 1401, mtu: 1400, result: 'too-big' });
  });

  test('a tagged frame to a host with no VLAN device for its tag is wrong-destination (tag mismatch), and the fix names the device', () => {
    // A server on the trunk port with its address on plain eth0: the frames for it leave swp3 tagged
    // 10. On the server, vlan_do_receive finds no VLAN device for 10 on eth0 and eth0 is no bridge
    // port: the frame is PACKET_OTHERHOST and ip_rcv drops it.
    const S = endHost({ name: 'server', ip: '192.168.36.50', mac: MAC.r, neigh: {} });
    const a = endHost({ name: 'host-a', ip: '192.168.36.10', mac: MAC.a, neigh: { '192.168.36.50': MAC.r } });
    const r = trace(capture('v', [a, S, sw()], [cable('host-a', 'eth0', 'switch', 'swp1'), cable('server', 'eth0', 'switch', 'swp3')]), 'host-a', '192.168.36.50');
    assert.equal(r.verdict, 'wrong-destination');
    assert.deepEqual(last(r).detail, { type: 'vlan-no-dev', ns: 'server', dev: 'eth0', id: 10, devices: [] });
    assert.match(last(r).text, /tagged VLAN 10, but it has no VLAN device/);
    const d = r.diagnosis?.find((x) => x.kind === 'wrong-destination');
    assert.match(d!.fix, /^ip link add link eth0 name eth0\.10 type vlan id 10 on server/);
  });

  test('a host on the trunk with the VLAN device takes the tagged frame on it', () => {
    // The same server with eth0.10 (its address there): vlan_do_receive hands the frame to eth0.10.
    const S = endHost({ name: 'server', ip: '192.168.99.50', mac: MAC.r, neigh: {}, vlanDevs: { 10: '192.168.36.50' } });
    const a = endHost({ name: 'host-a', ip: '192.168.36.10', mac: MAC.a, neigh: { '192.168.36.50': MAC.r } });
    const r = trace(capture('v', [a, S, sw()], [cable('host-a', 'eth0', 'switch', 'swp1'), cable('server', 'eth0', 'switch', 'swp3')]), 'host-a', '192.168.36.50');
    assert.equal(r.verdict, 'delivered');
    assert.deepEqual(details(r, 'vlan-pop'), [{ type: 'vlan-pop', ns: 'server', dev: 'eth0.10', parent: 'eth0', id: 10 }]);
  });

  test('a VLAN device whose lower device the capture does not show is insufficient-data', () => {
    const c = structuredClone(demoVlan());
    const l3 = c.hosts.find((h) => h.name === 'l3-switch')!;
    l3.probes!.links = l3.probes!.links!.replace('eth0.20@eth0', 'eth0.20@eth9');
    const r = trace(c, 'host-a', '192.168.35.20');
    assert.equal(r.verdict, 'insufficient-data');
    assert.deepEqual(last(r).detail, { type: 'vlan-parent-unknown', ns: 'l3-switch', dev: 'eth0.20', parent: 'eth9' });
  });
});
