// A KubeError from another copy of src/kube/api.ts (the extension loads the cluster client as its own
// bundle, dist/kube.js) is still a KubeError to the collector: a list the cluster does not serve or
// the role may not read is a note, not a failed connection. (Found by the live VS Code e2e test: the
// admin policy CRDs' 404 broke Select Context.)
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { KubeError, type KubeErrorKind } from '../../../src/kube/api';
import { ClusterCollector } from '../../../src/kube/collector';
import { demoCluster, FakeCluster } from './fake-cluster';

/** What the other bundle's KubeError looks like from here: its own class, the same brand. */
const BRAND: unique symbol = Symbol.for('netpath.KubeError') as never;

class ForeignKubeError extends Error {
  readonly [BRAND] = true;
  constructor(
    readonly kind: KubeErrorKind,
    message: string,
    readonly hint = '',
  ) {
    super(message);
    this.name = 'KubeError';
  }
}

describe('KubeError across bundles', () => {
  test('instanceof holds for a KubeError of another module copy, not for other errors', () => {
    assert.ok(new KubeError('not-found', 'x', 'y') instanceof KubeError);
    assert.ok(new ForeignKubeError('not-found', 'x') instanceof KubeError);
    assert.ok(!(new Error('x') instanceof KubeError));
    assert.ok(!(Object.assign(new Error('x'), { name: 'KubeError', kind: 'not-found' }) instanceof KubeError), 'a look-alike without the brand is not one');
    assert.ok(!((null as unknown) instanceof KubeError));
  });

  test('the collector takes a foreign KubeError for an unserved or refused optional list as a note', async () => {
    const fake = new FakeCluster(demoCluster());
    const list = fake.listObjects.bind(fake);
    fake.listObjects = async (r) => {
      if (r.plural === 'adminnetworkpolicies') throw new ForeignKubeError('not-found', 'list adminnetworkpolicies: not found');
      if (r.plural === 'networkpolicies') throw new ForeignKubeError('forbidden', 'list networkpolicies: forbidden (403): no');
      return list(r);
    };
    const sk = await new ClusterCollector(fake).skeleton();
    assert.deepEqual(sk.notes.map((n) => [n.resource, n.kind]), [['networkpolicies.networking.k8s.io', 'forbidden']]);
    assert.ok(sk.capture.hosts.some((h) => h.name === 'web-0'));
  });
});
