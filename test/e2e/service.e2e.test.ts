// A trace to a Service in real VS Code (code-server + Debian's Chromium): a capture of the demo cluster
// with kube-proxy's iptables rules on its nodes and the Services' API objects
// (test/unit/webview/kube-proxy-cases.ts), opened from the workspace. Trace Pod Path offers the
// Service port with its ClusterIP, the packet pick takes its protocol and port, and the path view
// shows each endpoint as a branch with its chance, the DNAT rule on the node that did it, and where
// each endpoint's packet is delivered; a hover on the ClusterIP says which Service it is.
// Slow (a server and a browser): run with `node scripts/test.mjs test/e2e/service.e2e.test.ts`.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseCapture, serializeCapture } from '../../src/capture/document';
import { repoRoot } from '../../scripts/code-server.mjs';
import { withKubeProxy } from '../unit/webview/kube-proxy-cases';
import { stepper, VsCode } from './harness';
import { acceptPacket, quickItemDescription, waitForPathView, waitForQuickTitle, waitForToastsGone } from './pathView';

const skip = process.env.NETPATH_SKIP_E2E === '1' ? 'NETPATH_SKIP_E2E=1' : false;

function servicesCapture(): string {
  const r = parseCapture(readFileSync(join(repoRoot, 'examples/demo-flannel-vxlan.json'), 'utf8'));
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  const c = withKubeProxy(r.capture);
  c.metadata = { ...c.metadata, cluster: 'e2e-kube-proxy' };
  return serializeCapture(c);
}

describe('a trace to a Service in real VS Code (kube-proxy iptables rules)', { skip, timeout: 10 * 60_000 }, () => {
  let vs: VsCode | undefined;
  const run = stepper(() => vs);

  before(async () => {
    vs = await VsCode.launch({ name: 'service', files: { 'kube-proxy.json': servicesCapture(), 'notes.txt': 'web is at 10.96.0.20 port 80\n' } });
  });

  after(async () => {
    await vs?.close();
  });

  it(
    'prometheus-0 -> svc default/web:http: three endpoint branches, each 1 of 3 at 33%, the DNAT on k8s-node3, all delivered',
    run('service-endpoints', async (vs) => {
      await vs.runCommand('netpath: Open Network Capture...');
      await vs.chooseFileInDialog(join(vs.workspace, 'kube-proxy.json'));
      await vs.webviewFrame('e2e-kube-proxy');

      await vs.runCommand('netpath: Trace Pod Path');
      await waitForQuickTitle(vs, 'Trace Pod Path: from');
      await vs.typeInQuickInput('prometheus-0');
      await vs.pickQuickItem('prometheus-0');
      await waitForQuickTitle(vs, ' to');
      await vs.typeInQuickInput('svc default/web');
      assert.equal(await quickItemDescription(vs, 'svc default/web:http'), '10.96.0.20:80/TCP');
      await vs.pickQuickItem('svc default/web:http');
      // The packet takes the Service port's protocol and port.
      assert.equal(await acceptPacket(vs), 'Trace (TCP port 80, 64 bytes, DF)');

      const view = await waitForPathView(vs, 'prometheus-0 → svc default/web:http');
      assert.equal(view.verdictKind, 'delivered');
      assert.equal(view.flow, "TCP 10.244.2.3 → 10.96.0.20 port 80, 64 bytes, Don't Fragment");
      const f = view.frame;
      assert.equal((await f.locator('.paths h2').innerText()).trim(), '3 paths (Service endpoints)');
      assert.deepEqual((await f.locator('.paths .path-branch').allInnerTexts()).map((s) => s.trim()), ['10.244.0.3:8080 · 1 of 3, 33%', '10.244.1.3:8080 · 2 of 3, 33%', '10.244.2.2:8080 · 3 of 3, 33%']);
      // The branches in the diagram, labelled where the paths part.
      const branches = (await f.locator('svg.path-diagram .branch-label').allTextContents()).map((s) => s.trim()).sort();
      assert.deepEqual(branches, ['10.244.0.3:8080 · 1 of 3, 33%', '10.244.1.3:8080 · 2 of 3, 33%', '10.244.2.2:8080 · 3 of 3, 33%']);
      assert.deepEqual([...view.endLabels].sort(), ['delivered to 10.244.0.3:8080 (1 of 3, 33%)', 'delivered to 10.244.1.3:8080 (2 of 3, 33%)', 'delivered to 10.244.2.2:8080 (3 of 3, 33%)']);
      // The DNAT rules drawn in k8s-node3's box.
      const node3 = f.locator('svg.path-diagram g.hop', { has: f.locator('.box-title', { hasText: /^k8s-node3$/ }) });
      const dnats = (await node3.locator('.nf-badge.nf-dnat .nf-title').allTextContents()).map((s) => s.trim());
      assert.deepEqual(dnats, ['DNAT 10.96.0.20:80 → 10.244.0.3:8080', 'DNAT 10.96.0.20:80 → 10.244.1.3:8080', 'DNAT 10.96.0.20:80 → 10.244.2.2:8080']);

      // Picking the second endpoint's path highlights its DNAT and shows its steps ending at web-1.
      await f.locator('.paths .path-item', { hasText: '2 of 3' }).click();
      await f.locator('.details .details-host', { hasText: /^web-1$/ }).waitFor({ timeout: 10_000 });
      const onPath = (await node3.locator('.nf-badge.on-path .nf-title').allTextContents()).map((s) => s.trim());
      assert.deepEqual(onPath, ['DNAT 10.96.0.20:80 → 10.244.1.3:8080']);
      await waitForToastsGone(vs);
      await vs.screenshot('service-endpoints');
      assert.deepEqual(vs.cspViolations(), [], 'the webview broke its Content Security Policy');
    }),
  );

  it(
    'a hover on the ClusterIP in any file says which Service it is, with its port and endpoints',
    run('service-hover', async (vs) => {
      const text = await vs.hoverAt('notes.txt', 1, 14);
      assert.match(text, /Service default\/web — ClusterIP, ClusterIP 10\.96\.0\.20/);
      assert.match(text, /http 80\/TCP → 8080: 3 of 3 endpoints ready: 10\.244\.0\.3:8080 default\/web-0 on k8s-node1/);
      assert.match(text, /Trace to this port/);
      await vs.screenshot('service-hover');
    }),
  );
});
