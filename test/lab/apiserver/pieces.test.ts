// The lab API server's pure pieces, without a lab (no root needed): selector grammar, the
// apiserver's duration format, Status shapes, and how an image resolves a command.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DEFAULT_CONTAINER_PATH } from './model';
import { ImageBins, resolveInImage, runtimeNotFoundMessage } from './exec';
import { stableSuffix, stableUid } from './model';
import { humanDuration } from './resources';
import { matchFields, matchLabels, parseFieldSelector, parseLabelSelector } from './selectors';
import { execExitCode, forbidden, notFound } from './status';

const labels = (text: string) => {
  const r = parseLabelSelector(text);
  assert.ok(r.ok, `${text}: ${r.ok ? '' : r.error}`);
  return r.value;
};

describe('label selectors', () => {
  const web = { app: 'web', tier: 'front', 'app.kubernetes.io/name': 'x' };
  for (const [sel, want] of [
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app!=web', false],
    ['app!=db', true],
    ['missing!=x', true],
    ['tier in (front,back)', true],
    ['tier notin (front)', false],
    ['app,!canary', true],
    ['!app', false],
    ['app=web,tier=back', false],
    ['app.kubernetes.io/name=x', true],
  ] as const) {
    test(`"${sel}" ${want ? 'matches' : 'does not match'} ${JSON.stringify(web)}`, () => assert.equal(matchLabels(labels(sel), web), want));
  }
  test('a malformed selector is refused with the apiserver words', () => {
    for (const bad of ['a in (b', 'a b c', 'a=b=c', '=x', 'a>x']) {
      const r = parseLabelSelector(bad);
      assert.ok(!r.ok, bad);
      assert.match(r.error, /^unable to parse requirement/);
    }
  });
});

describe('field selectors', () => {
  test('= and != on supported fields; an unsupported field is an error', () => {
    const r = parseFieldSelector('spec.nodeName=k8s-node1,status.phase!=Failed');
    assert.ok(r.ok);
    assert.deepEqual(r.value, [
      { field: 'spec.nodeName', op: '=', value: 'k8s-node1' },
      { field: 'status.phase', op: '!=', value: 'Failed' },
    ]);
    assert.deepEqual(matchFields(r.value, { 'spec.nodeName': 'k8s-node1', 'status.phase': 'Running' }), { ok: true, value: true });
    assert.deepEqual(matchFields(r.value, { 'spec.nodeName': 'k8s-node2', 'status.phase': 'Running' }), { ok: true, value: false });
    assert.deepEqual(matchFields(r.value, { 'spec.nodeName': 'k8s-node1' }), { ok: false, error: 'field label not supported: status.phase' });
  });
  test('escaped commas and equals signs stay in the value', () => {
    const r = parseFieldSelector('metadata.name=a\\,b\\=c');
    assert.ok(r.ok);
    assert.deepEqual(r.value, [{ field: 'metadata.name', op: '=', value: 'a,b=c' }]);
  });
});

test('humanDuration prints ages like kubectl', () => {
  const s = 1000;
  const cases: [number, string][] = [
    [-5 * s, '<invalid>'],
    [0, '0s'],
    [119 * s, '119s'],
    [120 * s, '2m'],
    [185 * s, '3m5s'],
    [30 * 60 * s, '30m'],
    [3 * 3600 * s, '3h'],
    [3 * 3600 * s + 20 * 60 * s, '3h20m'],
    [10 * 3600 * s, '10h'],
    [3 * 86400 * s + 4 * 3600 * s, '3d4h'],
    [30 * 86400 * s, '30d'],
    [3 * 365 * 86400 * s + 10 * 86400 * s, '3y10d'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, `${ms} ms`);
});

describe('Status bodies', () => {
  test('Forbidden on pods/exec reads like RBAC', () => {
    assert.deepEqual(forbidden({ resource: { group: '', plural: 'pods' }, subresource: 'exec', name: 'web-0', namespace: 'default', user: 'u', verb: 'create' }), {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods "web-0" is forbidden: User "u" cannot create resource "pods/exec" in API group "" in the namespace "default"',
      reason: 'Forbidden',
      details: { name: 'web-0', kind: 'pods' },
      code: 403,
    });
  });
  test('NotFound names the group of a non-core resource', () => {
    assert.equal(notFound({ group: 'apps', plural: 'daemonsets' }, 'x').message, 'daemonsets.apps "x" not found');
  });
  test('a non-zero exit carries the code as an ExitCode cause', () => {
    assert.deepEqual(execExitCode(['ip', 'route'], 2), {
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: error executing command [ip route], exit code 2',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '2' }] },
    });
  });
});

describe('images', () => {
  test('a command resolves on the image PATH unless the image lacks it', () => {
    assert.match(resolveInImage('ls', {}) ?? '', /\/ls$/);
    assert.equal(resolveInImage('ls', { lacks: ['ls'] }), undefined);
    assert.equal(resolveInImage('ls', { path: '/nonexistent' }), undefined);
    assert.equal(resolveInImage('/nonexistent/ls', {}), undefined);
  });
  test('a shell in an image that lacks a command does not find it either; everything else it finds', () => {
    const root = mkdtempSync(join(tmpdir(), 'netpath-image-bins-'));
    try {
      const bins = new ImageBins(root);
      assert.equal(bins.pathFor(DEFAULT_CONTAINER_PATH, []), DEFAULT_CONTAINER_PATH);
      const path = bins.pathFor(DEFAULT_CONTAINER_PATH, ['ls', 'ls']);
      assert.equal(bins.pathFor(DEFAULT_CONTAINER_PATH, ['ls']), path);
      const sh = resolveInImage('sh', {})!;
      const r = spawnSync(sh, ['-c', 'command -v ls || echo no-ls; command -v cat'], { env: { PATH: path }, encoding: 'utf8' });
      assert.equal(r.stdout, `no-ls\n${join(path, 'cat')}\n`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
  test('the runtime message says what runc says', () => {
    assert.equal(runtimeNotFoundMessage('ip'), 'OCI runtime exec failed: exec failed: unable to start container process: exec: "ip": executable file not found in $PATH: unknown');
    assert.equal(runtimeNotFoundMessage('/sbin/ip'), 'OCI runtime exec failed: exec failed: unable to start container process: exec: "/sbin/ip": stat /sbin/ip: no such file or directory: unknown');
  });
});

test('derived names and uids are stable and well-formed', () => {
  assert.equal(stableUid('a'), stableUid('a'));
  assert.notEqual(stableUid('a'), stableUid('b'));
  assert.match(stableUid('a'), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.match(stableSuffix('kube-proxy/k8s-node1'), /^[bcdfghjklmnpqrstvwxz2456789]{5}$/);
});
