// The diagnosis in real VS Code (code-server + Debian's Chromium): the demo capture with k8s-node1's
// route to k8s-node2's podCIDR removed (one line). The trace drops at gw, and beside that verdict the
// path view names the cause on k8s-node1, its owner and fix; the Node Bridges tree marks k8s-node1 with
// the same sentence, and so does the hover on web-1's address: one set of checks, three views.
// A delivered trace says what it did not check. Run with
// `node scripts/test.mjs test/e2e/diagnosis.e2e.test.ts`; NETPATH_SKIP_E2E=1 skips it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { escapeRegExp, stepper, VsCode } from './harness';
import { pickTrace, waitForPathView, waitForToastsGone } from './pathView';

const skip = process.env.NETPATH_SKIP_E2E === '1' ? 'NETPATH_SKIP_E2E=1' : false;
const root = join(__dirname, '../..');
const CAUSE = "k8s-node1 has no route to k8s-node2's podCIDR 10.244.1.0/24";

/** The demo with one real line removed: k8s-node1's route to 10.244.1.0/24 via flannel.1. */
function brokenCapture(): string {
  const doc = JSON.parse(readFileSync(join(root, 'examples/demo-flannel-vxlan.json'), 'utf8')) as { metadata: Record<string, unknown>; hosts: { name: string; probes: Record<string, string> }[] };
  doc.metadata.cluster = 'e2e-missing-route';
  const node1 = doc.hosts.find((h) => h.name === 'k8s-node1')!;
  const lines = node1.probes.routes4!.split('\n');
  const i = lines.findIndex((l) => l.startsWith('10.244.1.0/24 via 10.244.1.0 dev flannel.1'));
  assert.ok(i >= 0);
  lines.splice(i, 1);
  node1.probes.routes4 = lines.join('\n');
  return JSON.stringify(doc, null, 2);
}

const POD_YAML = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-1\nstatus:\n  podIP: 10.244.1.3\n';

describe('the diagnosis beside the verdict, in the tree and in the hover (real VS Code)', { skip, timeout: 5 * 60_000 }, () => {
  let vs: VsCode | undefined;
  const run = stepper(() => vs);

  before(async () => {
    vs = await VsCode.launch({ name: 'diagnosis', files: { 'broken.json': brokenCapture(), 'pods/web-1.yaml': POD_YAML } });
  });

  after(async () => {
    await vs?.close();
  });

  it(
    'web-0 -> web-1 drops at gw; the cause named beside it is k8s-node1\'s missing route, owned by flanneld, with the table searched',
    run('trace', async (vs) => {
      await vs.runCommand('netpath: Open Network Capture...');
      await vs.chooseFileInDialog(join(vs.workspace, 'broken.json'));
      await vs.webviewFrame('e2e-missing-route');
      await vs.runCommand('netpath: Trace Pod Path');
      await pickTrace(vs, { ns: 'default', pod: 'web-0' }, { ns: 'default', pod: 'web-1' });
      const view = await waitForPathView(vs, 'web-0 → web-1');
      assert.equal(view.verdictKind, 'drop');
      assert.equal(view.hops.at(-1)?.host, 'gw');
      const f = view.frame;
      assert.equal((await f.locator('.trace-head .cause-line').innerText()).trim(), `Cause: ${CAUSE} (flanneld on k8s-node1)`);
      const causes = f.locator('.diagnosis .cause');
      assert.equal(await causes.count(), 2);
      const first = causes.first();
      assert.match(await first.locator('.cause-head').innerText(), new RegExp(`^1\\. k8s-node1 routes4 — ${escapeRegExp(CAUSE)}$`));
      const facts = await first.locator('.cause-facts').evaluate((dl) => [...dl.querySelectorAll('dt')].map((dt) => [dt.textContent, dt.nextElementSibling?.textContent]));
      assert.deepEqual(facts.map(([k]) => k), ['expected', 'found', 'owner', 'fix']);
      assert.equal(facts[0]![1], '10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink');
      assert.equal(facts[2]![1], 'flanneld on k8s-node1');
      // The table that was searched, line by line, each line a link into the capture.
      const searched = first.locator('vscode-collapsible');
      assert.match((await searched.getAttribute('heading')) ?? '', /^Searched: k8s-node1 routes4 \(5 lines\)$/);
      assert.match(await causes.nth(1).locator('.cause-head').innerText(), /^2\. gw routes4 — gw searched its tables/);
      await waitForToastsGone(vs);
      await vs.screenshot('diagnosis-missing-route');
      assert.deepEqual(vs.cspViolations(), [], 'the webview broke its Content Security Policy');
    }),
  );

  it(
    'the Node Bridges tree marks k8s-node1 (and only it) with the same sentence',
    run('tree', async (vs) => {
      await vs.openViewContainer('netpath');
      const row = (label: string) => vs.page.locator('.part.sidebar .pane-body .monaco-list-row').filter({ has: vs.page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(label)}\\b`) }) }).first();
      await row('k8s-node1').waitFor({ timeout: 30_000 });
      assert.equal(await row('k8s-node1').locator('.codicon-warning').count(), 1, 'k8s-node1 carries the warning icon');
      assert.equal(await row('k8s-node2').locator('.codicon-warning').count(), 0, 'k8s-node2 does not');
      await row('k8s-node1').hover();
      const tip = vs.page.locator('.workbench-hover, .monaco-hover:not(.hidden)').filter({ hasText: CAUSE }).first();
      await tip.waitFor({ state: 'visible', timeout: 15_000 });
      await vs.screenshot('diagnosis-tree');
    }),
  );

  it(
    'the hover on web-1\'s address names what stands in its way, in the same words',
    run('hover', async (vs) => {
      const text = await vs.hoverAt('pods/web-1.yaml', 6, 12);
      assert.ok(text.includes(`⚠ ${CAUSE}`), text);
      await vs.screenshot('diagnosis-hover');
    }),
  );

  it(
    'a delivered trace (web-0 -> coredns on the same node) says what it did not check',
    run('unchecked', async (vs) => {
      await vs.page.keyboard.press('Escape');
      await vs.runCommand('netpath: Trace Pod Path');
      await pickTrace(vs, { ns: 'default', pod: 'web-0' }, { ns: 'kube-system', pod: 'coredns-6d8c4cb4d-xk7t2' });
      const view = await waitForPathView(vs, 'web-0 → coredns-6d8c4cb4d-xk7t2');
      assert.equal(view.verdictKind, 'delivered');
      assert.equal(await view.frame.locator('.trace-head .cause-line').count(), 0);
      const notes = await view.frame.locator('.diagnosis .unchecked li').allInnerTexts();
      assert.deepEqual(
        notes.map((s) => s.trim()),
        ['Not checked: NetworkPolicy: the capture holds no NetworkPolicy objects (not collected), so a policy that denies this flow would not show'],
      );
    }),
  );
});
