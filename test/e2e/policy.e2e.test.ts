// NetworkPolicy in real VS Code (code-server + Debian's Chromium): the demo capture with a default-deny
// policy on the web pods and Canal's agent pod in the API (so Calico enforces it), opened from the
// workspace. Trace Pod Path from prometheus-0 to web-1 ends denied by NetworkPolicy on web-1's node,
// whose details show the policy step with the policy as evidence; the Policy Matrix of namespace
// default shows who may talk to whom, explains a cell and traces its pair; a hover on web-1's IP names
// the policy that isolates it.
// Slow (a server and a browser): run with `node scripts/test.mjs test/e2e/policy.e2e.test.ts`.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot } from '../../scripts/code-server.mjs';
import { stepper, VsCode } from './harness';
import { pickTrace, selectHop, waitForPathView, waitForQuickTitle, waitForToastsGone } from './pathView';

const skip = process.env.NETPATH_SKIP_E2E === '1' ? 'NETPATH_SKIP_E2E=1' : false;

function policyCapture(): string {
  const d = JSON.parse(readFileSync(join(repoRoot, 'examples/demo-flannel-vxlan.json'), 'utf8')) as { metadata?: Record<string, unknown>; kubernetes: Record<string, unknown[]> };
  d.metadata = { ...d.metadata, cluster: 'e2e-policy' };
  d.kubernetes.networkPolicies = [{ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: 'default', name: 'default-deny-web' }, spec: { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'] } }];
  d.kubernetes.pods = [...d.kubernetes.pods!, { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'kube-system', name: 'canal-7xk2p', labels: { 'k8s-app': 'canal' } }, spec: { nodeName: 'k8s-node2', hostNetwork: true, containers: [{ name: 'calico-node', image: 'calico/node' }] }, status: { phase: 'Running', podIP: '10.4.7.22', podIPs: [{ ip: '10.4.7.22' }] } }];
  return JSON.stringify(d, null, 2);
}

describe('NetworkPolicy in real VS Code (Calico enforcing a default-deny)', { skip, timeout: 10 * 60_000 }, () => {
  let vs: VsCode | undefined;
  const run = stepper(() => vs);

  before(async () => {
    vs = await VsCode.launch({ name: 'policy', files: { 'policy.json': policyCapture(), 'notes.txt': 'web-1 is 10.244.1.3\n' } });
  });

  after(async () => {
    await vs?.close();
  });

  it(
    'prometheus-0 -> web-1: denied by NetworkPolicy on k8s-node2, the policy step names default/default-deny-web',
    run('policy-denied', async (vs) => {
      await vs.runCommand('netpath: Open Network Capture...');
      await vs.chooseFileInDialog(join(vs.workspace, 'policy.json'));
      await vs.webviewFrame('e2e-policy');

      await vs.runCommand('netpath: Trace Pod Path');
      await pickTrace(vs, { ns: 'monitoring', pod: 'prometheus-0' }, { ns: 'default', pod: 'web-1' });
      const view = await waitForPathView(vs, 'prometheus-0 → web-1');
      assert.equal(view.verdict, 'denied by NetworkPolicy');
      assert.equal(view.verdictKind, 'drop');
      assert.match(view.reason, /^NetworkPolicy, ingress of default\/web-1: denied, because default\/default-deny-web isolates default\/web-1 for ingress/);
      assert.deepEqual(view.hops.map((h) => h.host).at(-1), 'k8s-node2', 'the path ends on web-1\'s node');
      const details = await selectHop(view.frame, 'k8s-node2');
      assert.equal(details.steps.at(-1), 'policy');
      assert.ok(details.evidence.some((e) => /networkPolicies\[0\]/.test(e.loc) && /default-deny-web/.test(e.raw)), JSON.stringify(details.evidence));
      await waitForToastsGone(vs);
      await vs.screenshot('policy-denied');
      assert.deepEqual(vs.cspViolations(), [], 'the webview broke its Content Security Policy');
    }),
  );

  it(
    'Policy Matrix for namespace default on TCP 8080: web-* denied at ingress, a cell explained, its pair traced',
    run('policy-matrix', async (vs) => {
      await vs.runCommand('netpath: Policy Matrix');
      await waitForQuickTitle(vs, 'Policy Matrix: which pods');
      await vs.pickQuickItem('default');
      await waitForQuickTitle(vs, 'Policy Matrix: TCP port');
      await vs.typeInQuickInput('8080');
      await vs.acceptQuickInput();
      const f = await vs.webviewFrame('Policy matrix: namespace default');
      const nginx = 'default/nginx-7c5ddbdf54-2xq8n';
      assert.equal((await f.locator('.matrix-view p.source').innerText()).split(' · ')[0], 'TCP 8080');
      const marks = async (from: string) => f.locator('button.matrix-cell').evaluateAll((bs, from) => bs.filter((b) => (b.getAttribute('aria-label') ?? '').startsWith(`${from} →`)).map((b) => `${b.getAttribute('aria-label')!.split(': ')[0]} ${b.textContent}`), from);
      // Columns in name order: nginx to itself is allowed (no policy selects it), to web-0 and web-1 denied at ingress.
      assert.deepEqual(await marks(nginx), [`${nginx} → ${nginx} ·`, `${nginx} → default/web-0 I`, `${nginx} → default/web-1 I`]);
      await f.locator(`button.matrix-cell[aria-label^="${nginx} → default/web-1:"]`).click();
      const details = f.locator('.matrix-details');
      await details.locator('h2', { hasText: `${nginx} → default/web-1: denied` }).waitFor({ timeout: 10_000 });
      assert.match(await details.locator('.matrix-ingress').innerText(), /^ingress: denied, because default\/default-deny-web isolates default\/web-1 for ingress/);
      await vs.screenshot('policy-matrix');
      await details.locator('button.matrix-trace').click();
      const view = await waitForPathView(vs, 'nginx-7c5ddbdf54-2xq8n → web-1');
      assert.equal(view.verdict, 'denied by NetworkPolicy');
      assert.equal(view.flow.split(',')[0], 'TCP 10.244.2.2 → 10.244.1.3 port 8080');
      assert.deepEqual(vs.cspViolations(), [], 'a webview broke its Content Security Policy');
    }),
  );

  it(
    'a hover on web-1\'s IP names the policy that isolates it',
    run('policy-hover', async (vs) => {
      const text = await vs.hoverAt('notes.txt', 1, 14);
      assert.match(text, /NetworkPolicy — ingress: isolated by default\/default-deny-web; egress: not isolated/);
    }),
  );
});
