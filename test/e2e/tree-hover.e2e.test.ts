// The Node Bridges tree and the pod-IP hover in real VS Code (code-server + Debian's Chromium), on
// the demo capture: the activity-bar container and its welcome view, node -> bridge -> veth port ->
// pod, the pod's inline and context-menu actions, and the hover of a pod IP in a YAML file with its
// trace links. Run with `node scripts/test.mjs test/e2e/tree-hover.e2e.test.ts`;
// NETPATH_SKIP_E2E=1 skips it; otherwise a machine that cannot run it fails with the reason.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { escapeRegExp, stepper, VsCode } from './harness';
import { markPathViewsStale, pickTrace, waitForPathView, waitForToastsGone } from './pathView';

const skip = process.env.NETPATH_SKIP_E2E === '1' ? 'NETPATH_SKIP_E2E=1' : false;

// A pod manifest as `kubectl get pod -o yaml` prints it (abridged): the IP on line 11.
const POD_YAML = `apiVersion: v1
kind: Pod
metadata:
  name: web-1
  namespace: default
spec:
  nodeName: k8s-node2
status:
  phase: Running
  hostIP: 10.4.7.22
  podIP: 10.244.1.3
`;
const POD_IP_LINE = 11;

interface Row {
  label: string;
  description: string;
  level: number;
  expanded: boolean | undefined;
}

describe('Node Bridges tree and pod-IP hovers in real VS Code (demo capture)', { skip, timeout: 5 * 60_000 }, () => {
  let vs: VsCode | undefined;
  const run = stepper(() => vs);

  /** The rows of the Node Bridges view with their depth (aria-level), top to bottom. */
  const bridgeRows = (vs: VsCode): Promise<Row[]> => vs.treeItems();
  const rowLocator = (vs: VsCode, label: string) =>
    vs.page.locator('.part.sidebar .pane-body .monaco-list-row').filter({ has: vs.page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(label)}\\s*$`) }) }).first();

  before(async () => {
    vs = await VsCode.launch({ name: 'tree-hover', files: { 'pods/web-1.yaml': POD_YAML } });
  });

  after(async () => {
    await vs?.close();
  });

  it(
    'the netpath container offers Load Demo Capture, then Node Bridges expands k8s-node1 -> cni0 -> veth53842afe -> default/web-0',
    run('tree', async (vs) => {
      await vs.openViewContainer('netpath');
      // No data yet: the welcome view's button loads the demo (and activates the extension).
      // Node Bridges' welcome (the Cluster Check view below it has its own).
      const welcome = vs.page.locator('.part.sidebar .welcome-view-content', { hasText: 'No network data yet' });
      await welcome.waitFor({ timeout: 30_000 });
      await welcome.locator('.monaco-button', { hasText: 'Load Demo Capture' }).click();
      await rowLocator(vs, 'k8s-node1').waitFor({ timeout: 30_000 });
      const nodes = await bridgeRows(vs);
      assert.deepEqual(
        nodes.map((r) => [r.label, r.level, r.expanded]),
        [
          ['k8s-node1', 1, false],
          ['k8s-node2', 1, false],
          ['k8s-node3', 1, false],
        ],
      );
      assert.equal(nodes[0]!.description, '10.4.7.21 · 10.244.0.0/24');

      await vs.expandTreeRow('k8s-node1');
      await rowLocator(vs, '10.244.0.3 · default/web-0').waitFor({ timeout: 15_000 });
      // Bridges and their ports open expanded (model/bridges.ts): expanding them again is a no-op.
      await vs.expandTreeRow('cni0');
      await vs.expandTreeRow('veth53842afe');
      const rows = await bridgeRows(vs);
      const at = (label: string) => rows.findIndex((r) => r.label === label);
      const cni0 = rows[at('cni0')]!;
      const veth = rows[at('veth53842afe')]!;
      const pod = rows[at('10.244.0.3 · default/web-0')]!;
      assert.deepEqual([cni0.level, veth.level, pod.level], [2, 3, 4], JSON.stringify(rows));
      assert.ok(at('cni0') < at('veth53842afe') && at('veth53842afe') === at('10.244.0.3 · default/web-0') - 1, `web-0 is not under veth53842afe under cni0: ${JSON.stringify(rows)}`);
      assert.match(cni0.description, /^bridge · 2 ports · mtu 1450$/);
      assert.match(veth.description, /^up · forwarding · mtu 1450$/);
      // The pod's IP leads its label (a narrow sidebar clips the description first); the MAC is the description.
      assert.equal(pod.description, '0a:58:0a:f4:00:03');
      // The other port carries coredns; the node's tunnel and routes follow the bridge.
      assert.ok(rows.some((r) => r.label === '10.244.0.2 · kube-system/coredns-6d8c4cb4d-xk7t2' && r.level === 4), JSON.stringify(rows));
      assert.ok(rows.some((r) => r.label === 'flannel.1' && r.level === 2 && /VNI 1/.test(r.description)), JSON.stringify(rows));
      await waitForToastsGone(vs);
      await vs.screenshot('tree-expanded');
    }),
  );

  it(
    'the pod row\'s context menu has Trace from / to this pod, and its inline "Trace from this pod" traces web-0 -> web-1',
    run('tree-actions', async (vs) => {
      const row = rowLocator(vs, '10.244.0.3 · default/web-0');
      await row.click({ button: 'right' });
      const menu = vs.page.locator('.context-view .monaco-menu');
      await menu.waitFor({ timeout: 10_000 });
      const items = (await menu.locator('.action-label').allInnerTexts()).map((s) => s.trim()).filter(Boolean);
      assert.ok(items.includes('Trace from this pod') && items.includes('Trace to this pod'), `context menu: ${JSON.stringify(items)}`);
      await vs.page.keyboard.press('Escape');
      await menu.waitFor({ state: 'hidden' });

      await row.hover();
      const inline = row.locator('.actions .action-label[aria-label="Trace from this pod"]');
      await inline.waitFor({ state: 'visible', timeout: 10_000 });
      await inline.click();
      // The source is the row's pod: the first prompt asks for the destination.
      await pickTrace(vs, null, { ns: 'default', pod: 'web-1' });
      const view = await waitForPathView(vs, 'web-0 → web-1');
      assert.deepEqual(view.hops.map((h) => h.host), ['web-0', 'k8s-node1', 'tor', 'k8s-node2', 'web-1']);
      assert.equal(view.verdictKind, 'delivered');
      assert.deepEqual(vs.cspViolations(), [], 'the webview broke its Content Security Policy');
      await waitForToastsGone(vs);
      await vs.screenshot('tree-trace-from-pod');
    }),
  );

  it(
    'hovering 10.244.1.3 in a YAML file shows pod default/web-1 on k8s-node2, its veth and cni0, and trace links that work',
    run('hover', async (vs) => {
      const line = POD_YAML.split('\n')[POD_IP_LINE - 1]!;
      const column = line.indexOf('10.244.1.3') + 1 + 4; // inside the address
      const text = await vs.hoverAt('pods/web-1.yaml', POD_IP_LINE, column);
      for (const want of ['default/web-1', 'k8s-node2', 'veth96603d4d', 'cni0', '0a:58:0a:f4:01:03', 'Trace from here', 'Trace to here']) {
        assert.ok(text.includes(want), `the hover does not show ${want}:\n${text}`);
      }
      assert.match(text, /^pod default\/web-1 — 10\.244\.1\.3$/m);
      assert.match(text, /^node k8s-node2$/m);
      assert.match(text, /^veth veth96603d4d · bridge cni0 · MAC 0a:58:0a:f4:01:03$/m);
      const hover = vs.page.locator('.monaco-editor .monaco-hover:not(.hidden) .monaco-hover-content').first();
      const links = await hover.locator('a').evaluateAll((as) => as.map((a) => ({ text: (a.textContent ?? '').trim(), href: a.getAttribute('data-href') ?? a.getAttribute('href') ?? '' })));
      const from = links.find((l) => l.text === 'Trace from here');
      const to = links.find((l) => l.text === 'Trace to here');
      assert.ok(from && to, `links in the hover: ${JSON.stringify(links)}`);
      assert.match(decodeURIComponent(from.href), /^command:netpath\.traceFrom\?\[\{"ref":"default\/web-1"\}\]$/);
      assert.match(decodeURIComponent(to.href), /^command:netpath\.traceTo\?\[\{"ref":"10\.244\.1\.3"\}\]$/);
      await vs.page.waitForTimeout(300); // the hover fades in
      await vs.screenshot('hover-pod-ip');

      // "Trace to here": the destination is the address; pick the source, accept the packet. The
      // path view already shows web-0 -> web-1 from the test before: wait for a new render.
      await markPathViewsStale(vs);
      await hover.locator('a', { hasText: 'Trace to here' }).click();
      await pickTrace(vs, { ns: 'default', pod: 'web-0' }, null);
      const view = await waitForPathView(vs, 'web-0 → web-1');
      assert.equal(view.verdictKind, 'delivered');
      assert.equal(view.flow, "ICMP 10.244.0.3 → 10.244.1.3, 64 bytes, Don't Fragment");
      assert.deepEqual(view.hops.map((h) => h.host), ['web-0', 'k8s-node1', 'tor', 'k8s-node2', 'web-1']);
      // The panel's tab names the request as made: to the address.
      await vs.page.locator('.tabs-container .tab.active', { hasText: 'default/web-0 → 10.244.1.3' }).waitFor({ timeout: 10_000 });
      assert.deepEqual(vs.cspViolations(), [], 'the webview broke its Content Security Policy');
    }),
  );
});
