// A cold trace starts reading its first hosts (the source pod and its node) as soon as the Nodes and
// Pods lists are in, while the other lists (Services, EndpointSlices, NetworkPolicies, DaemonSets,
// the flannel ConfigMap) are still on their way; every list is asked for at once and only once; a list
// that fails still fails the trace, once the reads it started have ended.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { serializeCapture } from '../../../src/capture/document';
import type { ExecOptions, ExecResult, ExecTarget, ResourceType } from '../../../src/kube/api';
import { KubeError } from '../../../src/kube/api';
import { ClusterCollector } from '../../../src/kube/collector';
import { demoCluster, FakeCluster } from './fake-cluster';

const NOW = 1_700_000_000_000;

/** A fake whose lists other than Nodes and Pods (and DaemonSets, the ConfigMap) wait for `release()`. */
class SlowLists extends FakeCluster {
  private open!: () => void;
  private readonly gate = new Promise<void>((r) => (this.open = r));
  /** What happened, in order: `list X`, `listed X`, `exec POD`, `exec-done POD`. */
  readonly events: string[] = [];
  inFlight = 0;
  failList: string | undefined;

  constructor() {
    super(demoCluster());
  }
  release(): void {
    this.open();
  }
  override async listObjects(r: ResourceType): Promise<unknown[]> {
    this.events.push(`list ${r.plural}`);
    if (r.plural !== 'nodes' && r.plural !== 'pods') await this.gate;
    if (r.plural === this.failList) throw new KubeError('server', `list ${r.plural}: etcdserver: request timed out`, 'Try again.', 500);
    const out = await super.listObjects(r);
    this.events.push(`listed ${r.plural}`);
    return out;
  }
  override async listDaemonSets() {
    this.events.push('list daemonsets');
    await this.gate;
    return super.listDaemonSets();
  }
  override async readConfigMap(namespace: string, name: string) {
    this.events.push('read configmap');
    await this.gate;
    return super.readConfigMap(namespace, name);
  }
  override async exec(target: ExecTarget, argv: readonly string[], opts: ExecOptions): Promise<ExecResult> {
    this.events.push(`exec ${target.pod}`);
    this.inFlight++;
    try {
      // An exec takes a while: the list's failure arrives while it runs.
      await new Promise((r) => setTimeout(r, 20));
      return await super.exec(target, argv, opts);
    } finally {
      this.inFlight--;
      this.events.push(`exec-done ${target.pod}`);
    }
  }
}

/** Resolves once `f()` holds, checking every few ms (fails after 2 s). */
async function until(f: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !f(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(f(), `timed out waiting for ${what}`);
}

describe('a cold trace and the API lists', () => {
  test('reads both ends, pods and nodes, while the other lists are still on their way, with the same result', async () => {
    const fake = new SlowLists();
    const col = new ClusterCollector(fake, { now: () => NOW });
    const tracing = col.trace({ from: 'default/web-0', to: 'default/web-1' });
    const ends = ['exec web-0', 'exec kube-flannel-ds-k8s-node1', 'exec web-1', 'exec kube-flannel-ds-k8s-node2'];
    await until(() => ends.every((e) => fake.events.includes(e)), 'the reads of both ends');
    // Every list was asked for at once, and none but Nodes and Pods has answered.
    assert.equal(fake.events.filter((e) => /^(list|read) /.test(e)).length, 10, fake.events.join('\n'));
    assert.deepEqual(fake.events.filter((e) => e.startsWith('listed ')).sort(), ['listed nodes', 'listed pods']);
    fake.release();
    const got = await tracing;
    assert.ok(got.outcome.ok && got.outcome.result.verdict === 'delivered', got.outcome.ok ? got.outcome.result.reason : got.outcome.error);
    // Each list once; the ends were read once each, and nothing more was needed.
    assert.deepEqual(fake.listLog.filter((p) => p === 'services'), ['services']);
    assert.deepEqual(fake.events.filter((e) => e.startsWith('exec ')).sort(), [...ends].sort(), fake.events.join('\n'));
    // The same capture and reports as with every list in before the first read.
    const plain = await new ClusterCollector(new FakeCluster(demoCluster()), { now: () => NOW }).trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.equal(serializeCapture(got.capture), serializeCapture(plain.capture));
    assert.deepEqual(got.reports, plain.reports);
    assert.deepEqual(got.notes, plain.notes);
  });

  test('a list that fails fails the trace, after the reads it started have ended', async () => {
    const fake = new SlowLists();
    fake.failList = 'services';
    const col = new ClusterCollector(fake, { now: () => NOW });
    const tracing = col.trace({ from: 'default/web-0', to: 'default/web-1' });
    await until(() => fake.events.includes('exec web-0'), 'the first read');
    fake.release();
    await assert.rejects(tracing, (e: unknown) => e instanceof KubeError && /etcdserver: request timed out/.test(e.message));
    assert.equal(fake.inFlight, 0, fake.events.join('\n'));
    assert.ok(fake.events.includes('exec-done web-0'));
    // Nothing is kept of the failed listing: the next trace lists again.
    fake.failList = undefined;
    const again = await col.trace({ from: 'default/web-0', to: 'default/web-1' });
    assert.ok(again.outcome.ok && again.outcome.result.verdict === 'delivered');
    assert.equal(fake.events.filter((e) => e === 'list services').length, 2);
  });

  test('callers during one listing share it', async () => {
    const fake = new SlowLists();
    const col = new ClusterCollector(fake, { now: () => NOW });
    const a = col.skeleton();
    const b = col.skeleton();
    fake.release();
    const [x, y] = await Promise.all([a, b]);
    assert.equal(x, y);
    assert.deepEqual(fake.listLog.filter((p) => p === 'nodes'), ['nodes']);
  });
});
