// The capture panel in real VS Code (code-server + Debian's Chromium), with no cluster: the demo
// capture from the palette, a capture opened through the file dialog, and the webview's CSP.
// Slow (a server and a browser): run with `node scripts/test.mjs test/e2e`. NETPATH_SKIP_E2E=1 skips it;
// otherwise a machine that cannot run it fails with the reason.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Frame } from 'playwright-core';
import { repoRoot } from '../../scripts/code-server.mjs';
import { stepper, VsCode } from './harness';

const skip = process.env.NETPATH_SKIP_E2E === '1' ? 'NETPATH_SKIP_E2E=1' : false;

// A second capture for the file dialog: the demo under another cluster name, so the panel visibly changes.
const demo = JSON.parse(readFileSync(join(repoRoot, 'examples', 'demo-flannel-vxlan.json'), 'utf8')) as { metadata: Record<string, unknown> };
const other = JSON.stringify({ ...demo, metadata: { ...demo.metadata, cluster: 'e2e-opened-cluster' } }, null, 2);

/**
 * Whether the webview shows `pod` placed on `node`: some element's text names both, and no other
 * node. This holds for a table row, a list item or a labelled graph node alike.
 */
async function placement(frame: Frame, pod: string, node: string, otherNodes: string[]): Promise<boolean> {
  const texts = await frame.locator('body *').filter({ hasText: pod }).filter({ hasText: node }).allTextContents();
  return texts.some((text) => text.includes(pod) && text.includes(node) && !otherNodes.some((n) => text.includes(n)));
}

describe('capture panel in real VS Code', { skip, timeout: 15 * 60_000 }, () => {
  let vs: VsCode | undefined;
  const run = stepper(() => vs);

  before(async () => {
    vs = await VsCode.launch({ name: 'capture', files: { 'captures/other-cluster.json': other } });
  });

  after(async () => {
    await vs?.close();
  });

  it(
    'Load Demo Capture from the palette lists the three nodes and places default/web-0 on k8s-node1',
    run('load-demo', async (vs) => {
      await vs.runCommand('netpath: Load Demo Capture');
      const frame = await vs.webviewFrame('k8s-node1');
      const text = await frame.locator('body').innerText();
      for (const node of ['k8s-node1', 'k8s-node2', 'k8s-node3']) assert.ok(text.includes(node), `the panel does not list ${node}:\n${text}`);
      assert.ok(text.includes('default/web-0'), `the panel does not list default/web-0:\n${text}`);
      assert.ok(await placement(frame, 'default/web-0', 'k8s-node1', ['k8s-node2', 'k8s-node3']), `nothing in the panel places default/web-0 on k8s-node1:\n${text}`);
      assert.ok(!(await placement(frame, 'default/web-0', 'k8s-node2', ['k8s-node1', 'k8s-node3'])), 'the placement check cannot tell nodes apart');
      await vs.screenshot('demo-capture');
      assert.deepEqual(vs.cspViolations(), [], 'the webview broke its Content Security Policy');
    }),
  );

  it(
    'Open Network Capture... opens the file whose path is typed into the simple file dialog',
    run('open-capture', async (vs) => {
      await vs.runCommand('netpath: Open Network Capture...');
      await vs.chooseFileInDialog(join(vs.workspace, 'captures', 'other-cluster.json'));
      const frame = await vs.webviewFrame('e2e-opened-cluster');
      const text = await frame.locator('body').innerText();
      assert.ok(text.includes('k8s-node2'), `the opened capture's hosts are missing:\n${text}`);
      await vs.screenshot('opened-capture');
      assert.deepEqual(vs.cspViolations(), [], 'the webview broke its Content Security Policy');
    }),
  );

  it(
    'a CSP violation inside the webview is seen by the console check (so "no violations" means something)',
    run('csp-control', async (vs) => {
      const frame = await vs.webviewFrame('k8s-node1');
      const before = vs.cspViolations().length;
      // An image from a source the CSP does not allow (a string: this tsconfig has no DOM types).
      await frame.evaluate(`document.body.append(Object.assign(document.createElement('img'), { src: 'https://example.invalid/netpath-e2e-csp-probe.png' }))`);
      await vs.page.waitForTimeout(1000);
      const seen = vs.cspViolations().slice(before);
      assert.ok(
        seen.some((c) => c.text.includes('netpath-e2e-csp-probe')),
        `the blocked image was not reported; console: ${JSON.stringify(vs.console.slice(-10))}`,
      );
    }),
  );
});
