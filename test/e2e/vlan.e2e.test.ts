// VLANs and the devices real nodes have (issue 13) in real VS Code (code-server + Debian's Chromium):
// the article's VLAN demo (examples/demo-vlan.json) traced host-a -> host-b shows the tag each wire
// carries in the path view (untagged, VLAN 10 over the trunk, VLAN 20 back, untagged) and the switch's
// PVID step in its details; the Node Bridges tree of the demo with k8s-node1's bond, VLAN
// sub-interfaces, macvlan/ipvlan devices and a macvlan pod (test/fixtures/tree) shows each under its
// parent. Run with `node scripts/test.mjs test/e2e/vlan.e2e.test.ts`; NETPATH_SKIP_E2E=1 skips it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { devicesCaptureDoc } from '../fixtures/tree/devices';
import { escapeRegExp, stepper, VsCode } from './harness';
import { acceptPacket, selectHop, waitForPathView, waitForQuickTitle, waitForToastsGone } from './pathView';

const skip = process.env.NETPATH_SKIP_E2E === '1' ? 'NETPATH_SKIP_E2E=1' : false;
const root = join(__dirname, '../..');

/** The flannel demo with k8s-node1's bond, VLANs, macvlan and ipvlan, and a Multus-style macvlan pod on eth3. */
function devicesCapture(): string {
  const doc = devicesCaptureDoc();
  doc.metadata.cluster = 'e2e-devices';
  return JSON.stringify(doc, null, 2);
}

interface Row {
  label: string;
  description: string;
  level: number;
  /** aria-expanded: undefined for a leaf (no expand arrow). */
  expanded: boolean | undefined;
}

describe('VLANs, bonds and macvlans in real VS Code', { skip, timeout: 5 * 60_000 }, () => {
  let vs: VsCode | undefined;
  const run = stepper(() => vs);

  /** The rows of the sidebar's tree views with their depth (aria-level), top to bottom. */
  const rows = (vs: VsCode): Promise<Row[]> => vs.treeItems();
  const row = (vs: VsCode, label: string) =>
    vs.page.locator('.part.sidebar .pane-body .monaco-list-row').filter({ has: vs.page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(label)}\\s*$`) }) }).first();

  before(async () => {
    vs = await VsCode.launch({ name: 'vlan', files: { 'demo-vlan.json': readFileSync(join(root, 'examples/demo-vlan.json'), 'utf8'), 'devices.json': devicesCapture() } });
  });

  after(async () => {
    await vs?.close();
  });

  it(
    'the VLAN demo host-a -> host-b: each wire labelled with the tag it carries, the PVID step in the switch\'s details',
    run('vlan-path', async (vs) => {
      await vs.runCommand('netpath: Open Network Capture...');
      await vs.chooseFileInDialog(join(vs.workspace, 'demo-vlan.json'));
      await vs.webviewFrame('demo-vlan');
      await vs.runCommand('netpath: Trace Pod Path');
      // The VLAN demo has no pods: its hosts are nodes, which the pickers list after the pods.
      await waitForQuickTitle(vs, 'Trace Pod Path: from');
      await vs.typeInQuickInput('host-a');
      await vs.pickQuickItem('host-a');
      await waitForQuickTitle(vs, ' to');
      await vs.typeInQuickInput('host-b');
      await vs.pickQuickItem('host-b');
      await acceptPacket(vs);
      const view = await waitForPathView(vs, 'host-a → host-b');
      assert.equal(view.verdictKind, 'delivered', view.reason);
      assert.deepEqual(view.hops.map((h) => h.host), ['host-a', 'switch', 'l3-switch', 'switch', 'host-b']);
      // One label per wire, in path order: the access port's frame is untagged, the trunk carries
      // VLAN 10 up to the router and VLAN 20 back, the VLAN 20 access port sends it untagged.
      const labels = await view.frame.locator('svg.path-diagram text.wire-vlan').evaluateAll((ts) =>
        ts.map((t) => ({ text: (t.childNodes[0]?.textContent ?? '').trim(), y: Number(t.getAttribute('y')), tagged: t.classList.contains('tagged'), title: (t.querySelector('title')?.textContent ?? '').trim() })).sort((a, b) => a.y - b.y),
      );
      assert.deepEqual(
        labels.map((l) => [l.text, l.tagged]),
        [
          ['untagged', false],
          ['VLAN 10', true],
          ['VLAN 20', true],
          ['untagged', false],
        ],
        JSON.stringify(labels),
      );
      assert.equal(labels[1]!.title, 'Tagged: the frame carries the 802.1Q tag of VLAN 10 on this wire');
      const sw = await selectHop(view.frame, 'switch');
      assert.deepEqual(sw.steps, ['vlan', 'fdb', 'vlan', 'underlay']);
      const steps = (await view.frame.locator('section.details .steps').innerText()).replace(/\s+/g, ' ');
      assert.match(steps, /came in untagged on swp1, so it takes that port's PVID, VLAN 10/, steps);
      assert.match(steps, /Port swp3 is a member of VLAN 10, tagged: the frame leaves with its tag/, steps);
      assert.ok(sw.evidence.some((e) => /^swp1\s+10 PVID Egress Untagged$/.test(e.raw)), JSON.stringify(sw.evidence));
      assert.deepEqual(vs.cspViolations(), [], 'the webview broke its Content Security Policy');
      await waitForToastsGone(vs);
      await vs.screenshot('vlan-path');
    }),
  );

  it(
    'Node Bridges: k8s-node1\'s bond with its slaves and VLAN, the NIC carrying a macvlan, a VLAN bridge port and the macvlan pod',
    run('vlan-tree', async (vs) => {
      await vs.runCommand('netpath: Open Network Capture...');
      await vs.chooseFileInDialog(join(vs.workspace, 'devices.json'));
      await vs.webviewFrame('e2e-devices');
      await vs.openViewContainer('netpath');
      await vs.expandTreeRow('k8s-node1');
      await vs.expandTreeRow('bond0');
      await vs.expandTreeRow('eth3');
      await row(vs, 'bond0.100 (VLAN 100)').waitFor({ timeout: 15_000 });
      const all = await rows(vs);
      const at = (label: string) => {
        const i = all.findIndex((r) => r.label === label);
        assert.ok(i >= 0, `no row ${label}: ${JSON.stringify(all)}`);
        return all[i]!;
      };
      assert.deepEqual([at('bond0').level, at('bond0').description], [2, 'bond · active-backup · 2 slaves · active eth1 · mtu 1500']);
      assert.deepEqual([at('eth1').level, at('eth1').description], [3, 'ACTIVE · MII UP · mtu 1500']);
      assert.deepEqual([at('eth2').level, at('eth2').description], [3, 'BACKUP · MII DOWN · mtu 1500 · DOWN']);
      assert.deepEqual([at('bond0.100 (VLAN 100)').level, at('bond0.100 (VLAN 100)').description], [3, '802.1Q on bond0 · mtu 1500']);
      assert.deepEqual([at('mv0').level, at('mv0').description], [3, 'macvlan bridge on eth3 · mtu 9000']);
      assert.equal(at('eth3.300 (VLAN 300)').description, '802.1Q on eth3 · port of br300 · mtu 9000');
      // Nothing sits on these VLAN devices: leaves, with no arrow that would open onto nothing.
      assert.deepEqual([at('bond0.100 (VLAN 100)').expanded, at('eth3.300 (VLAN 300)').expanded, at('bond0').expanded, at('eth3').expanded], [undefined, undefined, true, true]);
      // Each under its parent: the slaves and bond0.100 right after bond0, mv0 and the pod under eth3.
      const order = all.map((r) => r.label);
      const bond = order.indexOf('bond0');
      assert.deepEqual(order.slice(bond + 1, bond + 4), ['eth1', 'eth2', 'bond0.100 (VLAN 100)'], JSON.stringify(order));
      const eth3 = order.indexOf('eth3');
      assert.deepEqual(order.slice(eth3 + 1, eth3 + 3), ['mv0', 'eth3.300 (VLAN 300)'], JSON.stringify(order));
      const pod = all[eth3 + 3]!;
      assert.equal(pod.level, 3, JSON.stringify(all));
      assert.match(pod.label, /192\.168\.50\.10 · net\/mv-pod/, JSON.stringify(all));
      await waitForToastsGone(vs);
      await vs.screenshot('vlan-tree');
    }),
  );
});
