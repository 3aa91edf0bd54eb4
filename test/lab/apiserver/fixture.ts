// Shared by the lab API server tests: build the demo lab once per test file, start the server on
// it, tear both down at the end. Needs root and network namespaces; without them the tests FAIL with
// what is missing, unless NETPATH_SKIP_LAB=1 is set (then they are skipped).
import { strict as assert } from 'node:assert';
import { after, afterEach, before, describe, test } from 'node:test';
import { DEMO_CLUSTER } from '../demo-cluster';
import { Lab, checkPrerequisites, describeMissing, sweepStaleNamespaces, which } from '../netns';
import { buildCluster, type BuiltCluster } from '../topology';
import { LabApiServer } from './server';

export const SKIP = process.env.NETPATH_SKIP_LAB === '1';
/** NETPATH_APISERVER_LOG=1 prints every request and exec of the server on stderr. */
const LOG = process.env.NETPATH_APISERVER_LOG === '1';

export interface ApiLab {
  lab: Lab;
  built: BuiltCluster;
  server: LabApiServer;
}

function unavailable(needKubectl: boolean): string | undefined {
  const problems: string[] = [];
  const missing = describeMissing(checkPrerequisites());
  if (missing) problems.push(missing);
  if (!which('openssl')) problems.push('- openssl installed: NO\n  the lab API server makes its CA and certificate with it: apt-get install openssl');
  if (needKubectl && !which('kubectl')) problems.push('- kubectl installed: NO\n  these tests run the real kubectl against the lab API server: install kubectl 1.30 or newer');
  return problems.length ? `the lab API server tests cannot run here (set NETPATH_SKIP_LAB=1 to skip them):\n${problems.join('\n')}` : undefined;
}

/**
 * A describe() whose tests share one demo lab and one server (`get()` returns them). After each test
 * the server is reset (faults, images, created pods, records).
 */
export function describeWithLabApi(name: string, opts: { kubectl?: boolean; timeoutMs?: number }, body: (get: () => ApiLab) => void): void {
  if (SKIP) {
    test(name, { skip: 'NETPATH_SKIP_LAB=1' }, () => {});
    return;
  }
  const why = unavailable(opts.kubectl ?? false);
  if (why) {
    test(`${name}: prerequisites`, () => assert.fail(why));
    return;
  }
  describe(name, { timeout: opts.timeoutMs ?? 60_000 }, () => {
    let ctx: ApiLab | undefined;
    let lab: Lab | undefined;
    before(async () => {
      sweepStaleNamespaces();
      lab = new Lab();
      const t = Date.now();
      // No settle(): nothing here captures IPv6 addresses, so DAD need not finish.
      const built = buildCluster(lab, DEMO_CLUSTER);
      const buildMs = Date.now() - t;
      const server = await LabApiServer.start({ lab, built, ...(LOG ? { log: (l: string) => process.stderr.write(`[apiserver] ${l}\n`) } : {}) });
      if (LOG) process.stderr.write(`[apiserver] lab built in ${buildMs} ms, server up ${Date.now() - t - buildMs} ms later\n`);
      ctx = { lab, built, server };
    });
    afterEach(() => ctx?.server.reset());
    after(async () => {
      await ctx?.server.close();
      lab?.dispose();
    });
    body(() => {
      assert.ok(ctx, 'the lab API server did not start (see the before hook)');
      return ctx;
    });
  });
}
