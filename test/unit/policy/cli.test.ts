// `netpath policy`: exit codes (0 allowed, 3 denied, 1 bad input, 2 usage), the JSON of the spec's
// "Policy result", the sentences, warnings for objects that do not fit, hostile names, a live
// cluster's API objects without entering a node, and the built CLI as external tests run it.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { EXIT_BAD_INPUT, EXIT_DROPPED, EXIT_OK, EXIT_USAGE, run } from '../../../src/cli/main';
import { FakeCluster, demoCluster } from '../kube/fake-cluster';
import { fakeIo as sharedFakeIo } from '../cli/fake-io';

const repo = join(__dirname, '../../..');
const FIXTURE = join(repo, 'test/fixtures/policy/shop.json');
const shop = readFileSync(FIXTURE, 'utf8');
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

const fakeIo = (files: Record<string, string> = {}, cluster?: FakeCluster) => sharedFakeIo(files, cluster ? { cluster } : {});

const policy = async (args: string[], files: Record<string, string> = { 'shop.json': shop }) => {
  const f = fakeIo(files);
  const code = await run(['policy', '--capture', 'shop.json', ...args], f.io);
  return { code, out: f.stdout(), err: f.stderr() };
};

function edited(edit: (k: { pods: unknown[]; networkPolicies: unknown[]; namespaces: unknown[] }) => void): string {
  const doc = JSON.parse(shop);
  edit(doc.kubernetes);
  return JSON.stringify(doc);
}

describe('netpath policy on a capture', () => {
  test('allowed: exit 0, the verdict and the rule that allows it', async () => {
    const r = await policy(['--from', 'web/frontend-1', '--to', 'shop/db-0', '--port', '5432']);
    assert.equal(r.code, EXIT_OK, r.err);
    assert.match(r.out, /^allowed: web\/frontend-1 \(10\.244\.0\.20\) -> shop\/db-0 \(10\.244\.0\.10\), TCP 5432$/m);
    assert.match(r.out, /^ {2}ingress {2}allowed by shop\/allow-web, ingress rule 0, peer 1, port `postgres` \(5432 on db-0\) \[networkpolicy\]$/m);
    assert.equal(r.err, '');
  });

  test('denied: exit 3, and the sentence names the isolating policies', async () => {
    const r = await policy(['--from', 'web/frontend-1', '--to', 'shop/db-0', '--port', '5433']);
    assert.equal(r.code, EXIT_DROPPED);
    assert.match(r.out, /^denied: /);
    assert.match(r.out, /denied, because shop\/default-deny and shop\/allow-web isolate shop\/db-0 for ingress and no rule of shop\/default-deny or shop\/allow-web allows web\/frontend-1 on TCP 5433/);
  });

  test('--json: the spec\u2019s fields, the same exit code', async () => {
    const r = await policy(['--from', 'web/frontend-1', '--to', 'shop/db-0', '--port', '5433', '--json']);
    assert.equal(r.code, EXIT_DROPPED);
    const doc = JSON.parse(r.out);
    assert.equal(doc.verdict, 'denied');
    assert.deepEqual({ verdict: doc.egress.verdict, isolated: doc.egress.isolated, policies: doc.egress.policies, allowedBy: doc.egress.allowedBy }, { verdict: 'allowed', isolated: false, policies: [], allowedBy: [] });
    assert.deepEqual({ verdict: doc.ingress.verdict, isolated: doc.ingress.isolated, policies: doc.ingress.policies, allowedBy: doc.ingress.allowedBy }, { verdict: 'denied', isolated: true, policies: ['shop/default-deny', 'shop/allow-web'], allowedBy: [] });
    assert.deepEqual(doc.notes, []);
  });

  test('--port by name is resolved on the destination pod; --proto is case-insensitive; the pod\u2019s IP names it', async () => {
    const r = await policy(['--from', '10.244.0.11', '--to', '10.244.0.10', '--proto', 'TCP', '--port', 'postgres', '--json']);
    assert.equal(r.code, EXIT_OK, r.err);
    const doc = JSON.parse(r.out);
    assert.deepEqual(doc.flow, { from: { given: '10.244.0.11', kind: 'pod', pod: 'shop/cart-0', ip: '10.244.0.11' }, to: { given: '10.244.0.10', kind: 'pod', pod: 'shop/db-0', ip: '10.244.0.10' }, proto: 'TCP', port: 5432, portName: 'postgres' });
    assert.deepEqual(doc.ingress.allowedBy, [{ policy: 'shop/allow-web', rule: 0, peer: 0, port: 0, portName: 'postgres' }]);
  });

  test('no --port: the note says how rules with ports were read', async () => {
    const r = await policy(['--from', 'shop/cart-0', '--to', 'shop/db-0']);
    assert.equal(r.code, EXIT_DROPPED);
    assert.match(r.out, /^notes:\n {2}- no --port given: a rule with a port list matched only through an entry that names a protocol and no port/m);
  });

  test('an address that is no pod\u2019s: no policy of its own', async () => {
    const r = await policy(['--from', 'shop/db-0', '--to', '203.0.113.5', '--port', '443', '--json']);
    assert.equal(r.code, EXIT_OK);
    const doc = JSON.parse(r.out);
    assert.equal(doc.ingress.subject, 'not-a-pod');
    assert.equal(doc.flow.to.kind, 'ip');
  });

  test('a capture with only a kubernetes section (no hosts) is enough; standard input works', async () => {
    const r = await policy(['--from', 'web/frontend-1', '--to', 'shop/db-0', '--port', '5432'], { 'shop.json': shop });
    assert.equal(r.code, EXIT_OK);
    const f = fakeIo({ '-': shop });
    assert.equal(await run(['policy', '--capture', '-', '--from', 'web/frontend-1', '--to', 'shop/db-0', '--port', '5432'], f.io), EXIT_OK);
  });
});

describe('netpath policy: bad input and usage', () => {
  test('an unknown pod: exit 1, the nearest pod names', async () => {
    const r = await policy(['--from', 'web/frontend-2', '--to', 'shop/db-0']);
    assert.equal(r.code, EXIT_BAD_INPUT);
    assert.equal(r.out, '');
    assert.match(r.err, /^netpath: --from "web\/frontend-2" is no pod in this capture's kubernetes section; did you mean web\/frontend-1\?\n$/);
  });

  test('a bare pod name: exit 1, suggesting namespace/pod', async () => {
    const r = await policy(['--from', 'frontend-1', '--to', 'shop/db-0']);
    assert.equal(r.code, EXIT_BAD_INPUT);
    assert.match(r.err, /neither namespace\/pod nor an IP address; did you mean web\/frontend-1\?/);
  });

  test('a port name the destination pod lacks: exit 1, its named ports listed', async () => {
    const r = await policy(['--from', 'web/frontend-1', '--to', 'shop/db-0', '--port', 'mysql']);
    assert.equal(r.code, EXIT_BAD_INPUT);
    assert.match(r.err, /shop\/db-0 has no TCP container port named "mysql"; its named ports: postgres \(TCP 5432\)/);
  });

  for (const bad of ['0', '65536', '99999999999', 'a b', 'http_x', 'x'.repeat(16), '-1', '']) {
    test(`--port ${JSON.stringify(bad)}: exit 2`, async () => {
      const r = await policy(['--from', 'web/frontend-1', '--to', 'shop/db-0', '--port', bad]);
      assert.equal(r.code, EXIT_USAGE, r.err);
      assert.match(r.err, /--port/);
    });
  }

  test('--proto icmp: only a rule without ports allows it (db-0\'s rules all name ports: denied), and it takes no --port; another protocol: exit 2', async () => {
    const r = await policy(['--from', 'web/frontend-1', '--to', 'shop/db-0', '--proto', 'icmp', '--json']);
    assert.equal(r.code, EXIT_DROPPED, r.err);
    const doc = JSON.parse(r.out);
    assert.deepEqual([doc.verdict, doc.flow.proto, doc.ingress.verdict], ['denied', 'ICMP', 'denied']);
    assert.ok(doc.notes.some((n: { kind: string }) => n.kind === 'icmp'));
    const withPort = await policy(['--from', 'web/frontend-1', '--to', 'shop/db-0', '--proto', 'icmp', '--port', '5432']);
    assert.equal(withPort.code, EXIT_USAGE);
    assert.match(withPort.err, /ICMP has no ports/);
    const gre = await policy(['--from', 'web/frontend-1', '--to', 'shop/db-0', '--proto', 'gre']);
    assert.equal(gre.code, EXIT_USAGE);
    assert.match(gre.err, /expected tcp, udp, sctp or icmp/);
  });

  test('missing --to, no --capture, or both a capture and a cluster: exit 2', async () => {
    assert.equal((await policy(['--from', 'web/frontend-1'])).code, EXIT_USAGE);
    const f = fakeIo();
    assert.equal(await run(['policy', '--from', 'a/b', '--to', 'c/d'], f.io), EXIT_USAGE);
    assert.match(f.stderr(), /give --capture FILE/);
    assert.equal((await policy(['--from', 'a/b', '--to', 'c/d', '--context', 'x'])).code, EXIT_USAGE);
  });

  test('a file that is not a capture: exit 1 with the path', async () => {
    assert.equal((await policy(['--from', 'a/b', '--to', 'c/d'], { 'shop.json': '{"apiVersion":"netpath/v1"' })).code, EXIT_BAD_INPUT);
    const r = await policy(['--from', 'a/b', '--to', 'c/d'], { 'shop.json': '{"apiVersion":"netpath/v1","kind":"Nope"}' });
    assert.equal(r.code, EXIT_BAD_INPUT);
    assert.match(r.err, /kind: /);
  });

  test('a malformed policy object: a warning with its JSON path, evaluation goes on', async () => {
    const doc = edited((k) => {
      k.networkPolicies.push({ kind: 'NetworkPolicy', metadata: { name: 'broken', namespace: 'shop' }, spec: { podSelector: { matchLabels: { app: 7 } } } });
      k.networkPolicies.push('not an object');
    });
    const r = await policy(['--from', 'web/frontend-1', '--to', 'shop/db-0', '--port', '5432', '--json'], { 'shop.json': doc });
    assert.equal(r.code, EXIT_OK);
    assert.match(r.err, /^netpath: warning: kubernetes\.networkPolicies\[2\]\.spec\.podSelector\.matchLabels\.app: expected string, got 7; NetworkPolicy shop\/broken is left out$/m);
    assert.match(r.err, /^netpath: warning: kubernetes\.networkPolicies\[3\]: expected a NetworkPolicy object/m);
    assert.deepEqual(JSON.parse(r.out).warnings.map((w: { path: string }) => w.path), ['kubernetes.networkPolicies[2].spec.podSelector.matchLabels.app', 'kubernetes.networkPolicies[3]']);
  });

  test('a malformed admin policy: a warning with its path, left out', async () => {
    const doc = JSON.parse(shop);
    doc.kubernetes.adminNetworkPolicies = [{ apiVersion: 'policy.networking.k8s.io/v1alpha1', kind: 'AdminNetworkPolicy', metadata: { name: 'anp' }, spec: { priority: 'high', subject: { namespaces: {} } } }];
    const r = await policy(['--from', 'web/frontend-1', '--to', 'shop/db-0', '--port', '5432'], { 'shop.json': JSON.stringify(doc) });
    assert.equal(r.code, EXIT_OK);
    assert.match(r.err, /^netpath: warning: kubernetes\.adminNetworkPolicies\[0\]\.spec\.priority: expected a whole number from 0 to 1000, got "high"; AdminNetworkPolicy anp is left out$/m);
  });

  test('hostile names: no control character reaches the terminal; JSON keeps them exactly', async () => {
    const evil = 'sh\u001b[2Jop\u0007';
    const doc = edited((k) => {
      k.namespaces.push({ metadata: { name: evil } });
      k.pods.push({ metadata: { name: 'p\u001b]0;x\u0007', namespace: evil, labels: { app: 'evil' } }, status: { podIP: '10.244.0.66' } });
      k.networkPolicies.push({ metadata: { name: 'deny\u001b[31m', namespace: evil }, spec: { podSelector: {}, policyTypes: ['Egress'] } });
    });
    const args = ['--from', `${evil}/p\u001b]0;x\u0007`, '--to', 'shop/cart-0', '--port', '8080'];
    const r = await policy(args, { 'shop.json': doc });
    assert.equal(r.code, EXIT_DROPPED, r.err);
    assert.ok(!CONTROL.test(r.out), JSON.stringify(r.out));
    assert.match(r.out, /sh\\x1b\[2Jop\\x07\/deny\\x1b\[31m isolates/);
    const j = await policy([...args, '--json'], { 'shop.json': doc });
    assert.deepEqual(JSON.parse(j.out).egress.policies, [`${evil}/deny\u001b[31m`]);
    const unknown = await policy(['--from', `${evil}/nope\u001b`, '--to', 'shop/cart-0'], { 'shop.json': doc });
    assert.equal(unknown.code, EXIT_BAD_INPUT);
    assert.ok(!CONTROL.test(unknown.err.replace(/\n$/, '')), JSON.stringify(unknown.err));
  });
});

describe('netpath policy on a live cluster (API objects only)', () => {
  test('reads Pods and NetworkPolicies from the API and enters no node', async () => {
    const capture = demoCluster() as ReturnType<typeof demoCluster> & { kubernetes?: unknown };
    capture.kubernetes = { networkPolicies: [{ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'deny-all', namespace: 'default' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } }] };
    const cluster = new FakeCluster(capture);
    const f = fakeIo({}, cluster);
    const pods = capture.hosts.filter((h) => h.role === 'pod' && h.namespace === 'default');
    assert.ok(pods.length >= 2);
    const [a, b] = [`default/${pods[0]!.pod ?? pods[0]!.name}`, `default/${pods[1]!.pod ?? pods[1]!.name}`];
    const code = await run(['policy', '--context', 'fake', '--from', a, '--to', b, '--port', '80', '--json'], f.io);
    assert.equal(code, EXIT_DROPPED, f.stderr());
    assert.deepEqual(JSON.parse(f.stdout()).ingress.policies, ['default/deny-all']);
    assert.deepEqual(cluster.execLog, []);
    assert.ok(cluster.listLog.includes('networkpolicies'));
  });
});

describe('the built CLI as a subprocess (what external tests run)', () => {
  const cli = join(repo, 'dist/cli.js');
  test('node dist/cli.js policy: exit codes 0, 3, 1, 2', () => {
    assert.ok(existsSync(cli), 'run node scripts/build.mjs first');
    const node = (args: string[]) => spawnSync(process.execPath, [cli, 'policy', '--capture', FIXTURE, ...args], { cwd: repo, encoding: 'utf8' });
    assert.equal(node(['--from', 'web/frontend-1', '--to', 'shop/db-0', '--port', '5432']).status, 0);
    assert.equal(node(['--from', 'web/frontend-1', '--to', 'shop/db-0', '--port', '80']).status, 3);
    assert.equal(node(['--from', 'web/nobody', '--to', 'shop/db-0']).status, 1);
    assert.equal(node(['--from', 'web/frontend-1', '--to', 'shop/db-0', '--port', 'x y']).status, 2);
  });

  test('npm run --silent netpath -- policy --json: the JSON on stdout, nothing else', () => {
    const r = spawnSync('npm', ['run', '--silent', 'netpath', '--', 'policy', '--capture', FIXTURE, '--from', 'web/frontend-1', '--to', 'shop/db-0', '--port', 'postgres', '--json'], { cwd: repo, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.verdict, 'allowed');
    assert.deepEqual(doc.ingress.allowedBy, [{ policy: 'shop/allow-web', rule: 0, peer: 1, port: 0, portName: 'postgres' }]);
  });
});
