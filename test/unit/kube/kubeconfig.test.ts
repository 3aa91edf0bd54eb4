// Kubeconfig loading as kubectl does it: KUBECONFIG with several files merged, an explicit file, a
// chosen context, and clear errors.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, test } from 'node:test';
import { KubeError } from '../../../src/kube/api';
import { loadKubeConfig, toKubeError } from '../../../src/kube/clientNode';
import { ApiException } from '@kubernetes/client-node';

const dir = mkdtempSync(join(tmpdir(), 'netpath-kubeconfig-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function kubeconfig(file: string, cluster: string, server: string, current?: string): string {
  const path = join(dir, file);
  writeFileSync(
    path,
    `apiVersion: v1
kind: Config
clusters:
- name: ${cluster}
  cluster:
    server: ${server}
users:
- name: ${cluster}-user
  user:
    token: t-${cluster}
contexts:
- name: ${cluster}
  context:
    cluster: ${cluster}
    user: ${cluster}-user
${current ? `current-context: ${current}\n` : ''}`,
  );
  return path;
}

const a = kubeconfig('a.yaml', 'prod', 'https://10.0.0.1:6443', 'prod');
const b = kubeconfig('b.yaml', 'lab', 'https://127.0.0.1:6443');

test('KUBECONFIG with two files is merged; the first file names the current context', () => {
  const saved = process.env.KUBECONFIG;
  process.env.KUBECONFIG = [a, b].join(delimiter);
  try {
    const kc = loadKubeConfig();
    assert.deepEqual(kc.getContexts().map((c) => c.name).sort(), ['lab', 'prod']);
    assert.equal(kc.getCurrentContext(), 'prod');
    const lab = loadKubeConfig({ context: 'lab' });
    assert.equal(lab.getCurrentCluster()!.server, 'https://127.0.0.1:6443');
  } finally {
    if (saved === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = saved;
  }
});

test('an explicit file wins over KUBECONFIG; an unknown context lists the ones there are', () => {
  const kc = loadKubeConfig({ kubeconfig: b, context: 'lab' });
  assert.deepEqual(kc.getContexts().map((c) => c.name), ['lab']);
  assert.throws(() => loadKubeConfig({ kubeconfig: b }), (e: unknown) => e instanceof KubeError && /sets no current-context \(contexts: lab\)/.test(e.message) && /--context/.test(e.hint));
  assert.throws(
    () => loadKubeConfig({ kubeconfig: b, context: 'prod' }),
    (e: unknown) => e instanceof KubeError && e.kind === 'config' && /context "prod" is not in the kubeconfig \(contexts: lab\)/.test(e.message) && /kubectl config get-contexts/.test(e.hint),
  );
  assert.throws(() => loadKubeConfig({ kubeconfig: join(dir, 'missing.yaml') }), (e: unknown) => e instanceof KubeError && e.kind === 'config' && /cannot load the kubeconfig/.test(e.message));
});

test('API errors become KubeErrors that say what to do', () => {
  const forbidden = toKubeError(new ApiException(403, 'Forbidden', { kind: 'Status', message: 'pods is forbidden: User "dev" cannot list resource "pods"' }, {}), 'list pods');
  assert.deepEqual([forbidden.kind, forbidden.status], ['forbidden', 403]);
  assert.match(forbidden.message, /^list pods: forbidden \(403\): pods is forbidden: User "dev"/);
  assert.match(forbidden.hint, /RBAC/);
  assert.equal(toKubeError(new ApiException(401, 'Unauthorized', undefined, {}), 'list nodes').kind, 'unauthorized');
  assert.equal(toKubeError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' }), 'list nodes').kind, 'unreachable');
  assert.equal(toKubeError(new Error('Unexpected server response: 404'), 'exec').kind, 'not-found');
});
