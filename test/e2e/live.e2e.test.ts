// A live cluster in real VS Code: the demo lab's network namespaces behind the lab API server
// (test/lab/apiserver), `netpath.kubeconfig` pointing at its kubeconfig, "netpath: Select Context",
// then Trace Pod Path web-0 -> web-1 read through pods/exec. Asserts the path view and that the
// server saw exec calls only for the hosts on the path.
//
// Needs root and network namespaces (like the lab tests): without them it FAILS with what is
// missing, unless NETPATH_SKIP_LAB=1 (or NETPATH_SKIP_E2E=1) is set. The lab and the server are torn
// down whatever happens. Run with `node scripts/test.mjs test/e2e/live.e2e.test.ts`;
// NETPATH_APISERVER_LOG=1 prints every request and exec of the server.
import assert from 'node:assert/strict';
import { after, before, describe, it, test } from 'node:test';
import { LabApiServer } from '../lab/apiserver/server';
import { DEMO_CLUSTER } from '../lab/demo-cluster';
import { Lab, checkPrerequisites, describeMissing, sweepStaleNamespaces, which } from '../lab/netns';
import { buildCluster } from '../lab/topology';
import { VsCode } from './harness';
import { pickTrace, waitForPathView, waitForQuickTitle, waitForToastsGone } from './pathView';

const LOG = process.env.NETPATH_APISERVER_LOG === '1';
const PATH_HOSTS = ['web-0', 'k8s-node1', 'k8s-node2', 'web-1'];

function skipReason(): string | false {
  if (process.env.NETPATH_SKIP_E2E === '1') return 'NETPATH_SKIP_E2E=1';
  if (process.env.NETPATH_SKIP_LAB === '1') return 'NETPATH_SKIP_LAB=1';
  return false;
}

/** What this machine lacks for the lab and its API server, or undefined. */
function unavailable(): string | undefined {
  const problems: string[] = [];
  const missing = describeMissing(checkPrerequisites());
  if (missing) problems.push(missing);
  if (!which('openssl')) problems.push('- openssl installed: NO\n  the lab API server makes its CA and certificate with it: apt-get install openssl');
  return problems.length ? `the live-cluster e2e test cannot run here (set NETPATH_SKIP_LAB=1 to skip it):\n${problems.join('\n')}` : undefined;
}

const skip = skipReason();
const why = skip ? undefined : unavailable();

if (why) {
  test('live cluster in real VS Code: prerequisites', () => assert.fail(why));
} else {
  describe('live cluster in real VS Code (lab API server over the demo netns lab)', { skip, timeout: 5 * 60_000 }, () => {
    let lab: Lab | undefined;
    let server: LabApiServer | undefined;
    let vs: VsCode | undefined;
    const run = (name: string, fn: (vs: VsCode, server: LabApiServer) => Promise<void>) => () => {
      if (!vs || !server) throw new Error('the lab, its API server or VS Code did not start (see the before hook)');
      const [v, s] = [vs, server];
      return v.step(name, () => fn(v, s));
    };

    before(async () => {
      const t = Date.now();
      sweepStaleNamespaces();
      lab = new Lab();
      // No settle(): nothing here reads IPv6 addresses, so DAD need not finish.
      const built = buildCluster(lab, DEMO_CLUSTER);
      server = await LabApiServer.start({ lab, built, ...(LOG ? { log: (l: string) => process.stderr.write(`[apiserver] ${l}\n`) } : {}) });
      console.log(`# live: lab and API server ready in ${((Date.now() - t) / 1000).toFixed(1)} s at ${server.url}`);
      vs = await VsCode.launch({ name: 'live', settings: { 'netpath.kubeconfig': server.kubeconfigPath } });
    });

    after(async () => {
      // Each step whatever the one before did.
      try {
        await vs?.close();
      } finally {
        try {
          await server?.close();
        } finally {
          lab?.dispose();
        }
      }
    });

    it(
      'Select Context lists the kubeconfig\'s context and connects without exec; the status bar names it',
      run('select-context', async (vs, server) => {
        await vs.runCommand('netpath: Select Context');
        await waitForQuickTitle(vs, 'netpath: Select Context');
        assert.deepEqual(await vs.quickItems(), ['netpath-lab']);
        await vs.pickQuickItem('netpath-lab');
        await vs.page.locator('.statusbar-item', { hasText: 'netpath: context netpath-lab' }).waitFor({ timeout: 30_000 });
        // Connecting lists nodes and pods; it reads no host's tables.
        assert.deepEqual(server.execs, []);
        assert.ok(server.requests.some((r) => r.method === 'GET' && /\/api\/v1\/pods\b/.test(r.path) && r.code === 200), JSON.stringify(server.requests.map((r) => `${r.method} ${r.path} ${r.code}`)));
      }),
    );

    it(
      'Trace Pod Path web-0 -> web-1 reads only the hosts on the path and shows web-0, k8s-node1, k8s-node2, web-1, DELIVERED',
      run('live-trace', async (vs, server) => {
        await vs.runCommand('netpath: Trace Pod Path');
        await pickTrace(vs, { ns: 'default', pod: 'web-0' }, { ns: 'default', pod: 'web-1' });
        const view = await waitForPathView(vs, 'web-0 → web-1', { timeoutMs: 90_000 });
        // The switch is not a Kubernetes object: the live trace has no tor.
        assert.deepEqual(view.hops.map((h) => h.host), PATH_HOSTS, `hops in the diagram: ${JSON.stringify(view.hops)}`);
        assert.equal(view.verdict.toUpperCase(), 'DELIVERED');
        assert.equal(view.verdictKind, 'delivered');
        assert.equal(view.flow, "ICMP 10.244.0.3 → 10.244.1.3, 64 bytes, Don't Fragment");
        // The provenance line names the source: the cluster context.
        const source = (await view.frame.locator('.trace-head .provenance').innerText()).trim();
        assert.match(source, /^Computed on context netpath-lab at /);

        // Every exec ran in a host on the path (pods in their own namespace, nodes through a
        // hostNetwork pod), each of those hosts was read, and nothing else was.
        const ran = server.execs.map((e) => ({ pod: `${e.namespace}/${e.pod}`, host: e.labHost, argv0: e.command[0], outcome: e.outcome }));
        assert.ok(ran.length > 0, 'the server saw no exec');
        assert.deepEqual([...new Set(ran.map((e) => e.host))].sort(), [...PATH_HOSTS].sort(), JSON.stringify(ran));
        assert.ok(!ran.some((e) => /node3|nginx|prometheus|coredns/.test(`${e.pod} ${e.host}`)), JSON.stringify(ran));
        assert.deepEqual(server.leftoverPods(), []);
        assert.deepEqual(vs.cspViolations(), [], 'the webview broke its Content Security Policy');
        await waitForToastsGone(vs);
        await vs.screenshot('path-view-live');
      }),
    );
  });
}
