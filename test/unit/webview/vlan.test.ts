// 802.1Q in the path view (issue 13): the VLAN id on each wire (tagged, or untagged in a trace where
// some wire is tagged), the sub-interfaces a vlan-push / vlan-pop step names among the hop's devices,
// and the tag in the details pane's headers. Hand-made traces (vlan-cases.ts) in the engine's shape.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import type { Hop } from '../../../src/shared/protocol';
import { headerDetails, hopDevices, pathHeaders, vlanLabel, vlanStep, vlanTitle } from '../../../webview/devices';
import { DEFAULT_LAYOUT_OPTIONS, layoutTrace } from '../../../webview/layout';
import { cases } from './cases';
import { traceOf, vlanDemoHops, vlanForkTrace } from './vlan-cases';

const devs = (h: Hop) => hopDevices(h).map((d) => `${d.name}${d.kind === 'dev' ? '' : `:${d.kind}`}`);

describe('VLAN tags on the wires', () => {
  test('the demo: untagged to the access port, VLAN 10 on the trunk, VLAN 20 back on it, untagged to host-b', () => {
    const wires = pathHeaders(vlanDemoHops());
    assert.deepEqual(wires.map((w) => w.vlans ?? null), [null, [10], [20], null]);
    // An untagged wire has no `vlans` at all, so traces without VLANs compare as before.
    assert.equal('vlans' in wires[0]!, false);
  });

  test('the details pane names the tag of a tagged wire, and adds nothing to an untagged one', () => {
    const wires = pathHeaders(vlanDemoHops());
    assert.deepEqual(headerDetails(wires[1]!).slice(-1), ['802.1Q tag: VLAN 10']);
    assert.ok(!headerDetails(wires[0]!).some((l) => l.includes('802.1Q')));
    assert.deepEqual(headerDetails({ ...wires[1]!, vlans: [100, 10] }).slice(-1), ['802.1Q tags (outermost first): VLAN 100, VLAN 10']);
  });

  test('labels: one tag, stacked tags outermost first, untagged; the tooltip says tagged or untagged', () => {
    assert.equal(vlanLabel([10]), 'VLAN 10');
    assert.equal(vlanLabel([100, 10]), '802.1Q 100.10');
    assert.equal(vlanLabel(undefined), 'untagged');
    assert.match(vlanTitle([10]), /^Tagged: .*VLAN 10/);
    assert.match(vlanTitle([100, 10]), /^Tagged 2 times: .*VLAN 100, VLAN 10 .*outermost first/);
    assert.match(vlanTitle(undefined), /^Untagged/);
  });
});

describe('VLAN sub-interfaces among the devices of a hop', () => {
  test('the router: in on eth0, popped to eth0.10, routed out eth0.20, pushed to eth0 and out', () => {
    const router = vlanDemoHops()[2]!;
    assert.deepEqual(devs(router), ['eth0', 'eth0.10:vlan', 'eth0.20:vlan', 'eth0']);
  });

  test('a hop whose out device is the VLAN device (as the engine names it) still ends at the parent the frame leaves by', () => {
    const router = { ...vlanDemoHops()[2]!, out: 'eth0.20' };
    assert.deepEqual(devs(router), ['eth0', 'eth0.10:vlan', 'eth0.20:vlan', 'eth0']);
    // A host that only tags (its route out eth0.20, in on another device): eth1 -> eth0.20 -> eth0.
    const tagger = { ...router, in: 'eth1', steps: router.steps.slice(1) };
    assert.deepEqual(devs(tagger), ['eth1', 'eth0.20:vlan', 'eth0']);
  });

  test('vlan-push and vlan-pop are read by shape; anything else (or a malformed one) is not a VLAN step', () => {
    const [pop, , push] = vlanDemoHops()[2]!.steps;
    assert.deepEqual(vlanStep(pop!.detail), { type: 'vlan-pop', dev: 'eth0.10', parent: 'eth0', id: 10 });
    assert.deepEqual(vlanStep(push!.detail), { type: 'vlan-push', dev: 'eth0.20', parent: 'eth0', id: 20 });
    assert.equal(vlanStep(vlanDemoHops()[1]!.steps[0]!.detail), null);
    assert.equal(vlanStep({ type: 'vlan-push', dev: 'eth0.20' } as never), null);
  });
});

describe('VLAN labels in the layout', () => {
  test('one path (vertical): a VLAN line beside each wire, under the device pair, with its own tooltip', () => {
    const L = layoutTrace(traceOf(vlanDemoHops()));
    assert.equal(L.orientation, 'vertical');
    assert.deepEqual(
      L.edges.map((e) => e.lines.filter((l) => l.kind === 'devs' || l.kind === 'vlan').map((l) => `${l.kind}: ${l.text}${l.tagged ? ' (tagged)' : ''}`)),
      [
        ['devs: eth0 → swp1', 'vlan: untagged'],
        ['devs: swp3 → eth0', 'vlan: VLAN 10 (tagged)'],
        ['devs: eth0 → swp3', 'vlan: VLAN 20 (tagged)'],
        ['devs: swp2 → eth0', 'vlan: untagged'],
      ],
    );
    for (const e of L.edges) {
      const l = e.lines.find((x) => x.kind === 'vlan')!;
      assert.equal(l.title, e.vlan!.title);
      assert.ok(l.y > e.y1 && l.y < e.y2, `${e.id}: the VLAN line lies beside its wire`);
      assert.deepEqual([e.vlan!.x, e.vlan!.y], [l.x, l.y]);
    }
    assert.match(L.edges[1]!.vlan!.title, /^Tagged/);
    assert.match(L.edges[0]!.vlan!.title, /^Untagged/);
  });

  test('a trace with no tagged wire draws no VLAN label anywhere (the demo capture\'s traces)', () => {
    for (const name of ['pod-to-pod', 'flood', 'node-to-gw']) {
      const m = cases()[name]!;
      const L = layoutTrace(m.trace, m.hosts);
      assert.ok(L.edges.every((e) => e.vlan === undefined && !e.lines.some((l) => l.kind === 'vlan')), name);
    }
  });

  test('several paths (horizontal): the label sits between the two boxes above the wire, and the gap is wide enough for it', () => {
    const t = vlanForkTrace();
    const L = layoutTrace(t);
    assert.equal(L.orientation, 'horizontal');
    const byLabel = (label: string) => L.edges.filter((e) => e.vlan?.label === label);
    assert.equal(byLabel('802.1Q 100.10').length, 1);
    assert.equal(byLabel('VLAN 10').length, 1);
    for (const e of L.edges) {
      const v = e.vlan!;
      assert.ok(v, `${e.id} has a VLAN label`);
      const w = DEFAULT_LAYOUT_OPTIONS.measure(v.label, 'mono');
      assert.ok(v.x - w / 2 >= e.x1 && v.x + w / 2 <= e.x2, `${e.id}: "${v.label}" fits between the boxes`);
      assert.ok(v.y < e.y2, `${e.id}: above the level the wire arrives at`);
      // A falling wire's label is below the middle of its curve: not on the sibling wire that leaves level.
      if (e.y2 > e.y1 + 1) assert.ok(v.y > (e.y1 + e.y2) / 2 && v.y > e.y1 + 20, `${e.id}: clear of the wires leaving ${e.from} level`);
      // A branch label sits above a level or rising edge: the VLAN label goes a line higher.
      if (e.branch !== null && !(e.y2 > e.y1 + 1)) assert.ok(v.y <= Math.min(e.y1, e.y2) - 21, `${e.id}: clear of the branch label`);
    }
    assert.ok(L.edges.some((e) => e.branch !== null), 'the fork labels its branches');
    assert.ok(L.edges.some((e) => e.y2 > e.y1 + 1 && e.vlan!.label === '802.1Q 100.10'), 'the QinQ copy falls to its lane');
    assert.ok(L.edges.every((e) => e.lines.length === 0), 'horizontal edges carry no side lines');
  });
});
