// The policy matrix (`policyMatrix`, `netpath policy matrix`): every cell is the single flow's
// evaluation (on the shop fixture and on seeded random clusters), the pod set (namespace, selector,
// pods; left-out pods named in notes), the size limit, selector syntax, and the CLI's table, JSON,
// exit codes and hostile names.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readKubernetes, type KubeSection } from '../../../src/capture/kubernetes';
import { EXIT_BAD_INPUT, EXIT_OK, EXIT_USAGE, run } from '../../../src/cli/main';
import { evaluatePolicy, parseSelector, policyMatrix, type FlowProtocol, type MatrixRequest, type PolicyMatrix } from '../../../src/engine/policy';
import { FakeCluster, demoCluster } from '../kube/fake-cluster';
import { anp, banp, baseCluster, np, ns, pod, type Obj } from './helpers';
import { fakeIo as sharedFakeIo } from '../cli/fake-io';

const shop = readFileSync(join(__dirname, '../../..', 'test/fixtures/policy/shop.json'), 'utf8');
const shopSection = (): KubeSection => readKubernetes(JSON.parse(shop).kubernetes);
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

const section = (k: Obj): KubeSection => readKubernetes(JSON.parse(JSON.stringify(k)));

function matrix(k: KubeSection, req: MatrixRequest): PolicyMatrix {
  const m = policyMatrix(k, req);
  if (!m.ok) throw new Error(m.error);
  return m.matrix;
}

/** Every cell against `evaluatePolicy` of the same flow on a fresh read of the same section. */
function assertCellsAreFlows(m: PolicyMatrix, fresh: () => KubeSection, req: { proto?: FlowProtocol; port?: number | string }, label: string): void {
  const k = fresh();
  m.rows.forEach((from, i) =>
    m.cols.forEach((to, j) => {
      const r = evaluatePolicy(k, { from, to, ...(req.proto ? { proto: req.proto } : {}), ...(req.port !== undefined ? { port: req.port } : {}) });
      assert.ok(r.ok, `${label} ${from} -> ${to}`);
      const c = m.cells[i]![j]!;
      const want = { verdict: r.result.verdict, egress: r.result.egress.verdict, ingress: r.result.ingress.verdict, egressTier: r.result.egress.tier, ingressTier: r.result.ingress.tier };
      assert.deepEqual({ verdict: c.verdict, egress: c.egress, ingress: c.ingress, egressTier: c.egressTier, ingressTier: c.ingressTier }, want, `${label} ${from} -> ${to}`);
      assert.equal(c.self === true, from === to, `${label} ${from} -> ${to} self`);
      for (const [by, d] of [[c.egressBy, r.result.egress], [c.ingressBy, r.result.ingress]] as const) {
        if (d.decidedBy) assert.deepEqual(by, [d.decidedBy.policy]);
        else if (d.tier === 'networkpolicy') assert.deepEqual(new Set(by), new Set(d.verdict === 'allowed' ? d.allowedBy.map((a) => a.policy) : d.policies), `${label} ${from} -> ${to}`);
        else assert.deepEqual(by, []);
      }
    }),
  );
}

describe('policyMatrix on the shop fixture', () => {
  for (const req of [{ port: 5432 }, { port: 'postgres' }, { port: 8080 }, {}, { proto: 'ICMP' as const }, { proto: 'UDP' as const, port: 53 }]) {
    test(`every cell is the single flow's verdict: ${JSON.stringify(req)}`, () => {
      const m = matrix(shopSection(), req);
      assert.ok(m.rows.length > 0 && m.cols.length > 0);
      assertCellsAreFlows(m, shopSection, req, JSON.stringify(req));
    });
  }

  test('TCP 5432: db-0 admits cart-0 and frontend-1 by shop/allow-web; default-deny isolates it; the diagonal is flagged', () => {
    const m = matrix(shopSection(), { port: 5432 });
    assert.deepEqual(m.rows, ['shop/cart-0', 'shop/db-0', 'web/frontend-1']);
    assert.deepEqual(m.cols, m.rows);
    const db = m.cols.indexOf('shop/db-0');
    assert.deepEqual(m.rows.map((_, i) => m.cells[i]![db]!.verdict), ['allowed', 'denied', 'allowed']);
    assert.deepEqual(m.cells[0]![db]!.ingressBy, ['shop/allow-web']);
    assert.deepEqual(m.cells[db]![db]!.ingressBy, ['shop/default-deny', 'shop/allow-web']);
    assert.equal(m.cells[db]![db]!.self, true);
    assert.equal(m.port, 5432);
    assert.ok(m.notes.some((n) => n.kind === 'self'));
  });

  test('a named port: only pods that have it are destinations; the others are named in a note', () => {
    const m = matrix(shopSection(), { port: 'postgres' });
    assert.deepEqual(m.cols, ['shop/db-0']);
    assert.equal(m.rows.length, 3);
    assert.equal(m.portName, 'postgres');
    assert.equal(m.port, 5432);
    assert.ok(m.notes.some((n) => n.kind === 'named-port' && n.text.includes('shop/cart-0') && n.text.includes('web/frontend-1')));
    const none = policyMatrix(shopSection(), { port: 'nosuch' });
    assert.ok(!none.ok && none.kind === 'bad-port', JSON.stringify(none));
  });
});

// Seeded random clusters: labels, namespaces, NetworkPolicies with every peer and port kind, admin
// tiers sometimes, and pods the matrix must leave out (not Running, no IP, host network).
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function randomCluster(seed: number): Obj {
  const rnd = prng(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const sel = (): Obj => {
    const r = int(4);
    if (r === 0) return {};
    if (r === 1) return { matchLabels: { app: pick(['a', 'b', 'c']) } };
    if (r === 2) return { matchExpressions: [{ key: 'tier', operator: pick(['In', 'NotIn']), values: [pick(['web', 'db'])] }] };
    return { matchExpressions: [{ key: 'tier', operator: pick(['Exists', 'DoesNotExist']) }] };
  };
  const peer = (): Obj => pick([{ podSelector: sel() }, { namespaceSelector: { matchLabels: { team: pick(['x', 'y']) } } }, { podSelector: sel(), namespaceSelector: {} }, { ipBlock: { cidr: '10.1.0.0/16', except: ['10.1.0.0/30'] } }]);
  const port = (): Obj => pick([{ port: 80 }, { port: 'http' }, { protocol: 'UDP', port: 53 }, { port: 70, endPort: 90 }, { protocol: 'TCP' }]);
  const rule = (key: string): Obj => ({ ...(rnd() < 0.7 ? { [key]: [peer(), ...(rnd() < 0.3 ? [peer()] : [])] } : {}), ...(rnd() < 0.6 ? { ports: [port()] } : {}) });
  const n = 3 + int(8);
  const pods = Array.from({ length: n }, (_, i) => {
    const labels: Record<string, string> = { app: pick(['a', 'b', 'c']), ...(rnd() < 0.5 ? { tier: pick(['web', 'db']) } : {}) };
    const odd = int(12);
    return pod(`n${int(3)}/p${i}`, {
      labels,
      ips: odd === 0 ? [] : [`10.1.0.${i + 2}`],
      ports: [{ name: 'http', containerPort: pick([80, 81]) }],
      ...(odd === 1 ? { phase: 'Pending' } : {}),
      ...(odd === 2 ? { hostNetwork: true } : {}),
    });
  });
  const networkPolicies = Array.from({ length: int(5) }, (_, i) => {
    const types = pick([['Ingress'], ['Egress'], ['Ingress', 'Egress']]);
    return np(`n${int(3)}/np${i}`, {
      podSelector: sel(),
      policyTypes: types,
      ...(types.includes('Ingress') ? { ingress: Array.from({ length: int(3) }, () => rule('from')) } : {}),
      ...(types.includes('Egress') ? { egress: Array.from({ length: int(3) }, () => rule('to')) } : {}),
    });
  });
  const tierRule = (key: string, actions: string[]) => ({ action: pick(actions), [key]: [{ namespaces: { matchLabels: { team: pick(['x', 'y']) } } }], ...(rnd() < 0.5 ? { ports: [{ portNumber: { protocol: 'TCP', port: 80 } }] } : {}) });
  return {
    namespaces: ['n0', 'n1', 'n2'].map((x) => ns(x, { team: pick(['x', 'y']) })),
    pods,
    networkPolicies,
    adminNetworkPolicies: rnd() < 0.3 ? [anp('anp0', { priority: 3, subject: { namespaces: {} }, ingress: [tierRule('from', ['Allow', 'Deny', 'Pass'])], egress: [tierRule('to', ['Allow', 'Deny', 'Pass'])] })] : [],
    baselineAdminNetworkPolicies: rnd() < 0.3 ? [banp({ subject: { namespaces: {} }, ingress: [tierRule('from', ['Allow', 'Deny'])] })] : [],
  };
}

describe('policyMatrix on random clusters', () => {
  test('every cell equals the single-flow evaluation; the pods left out are exactly those that cannot take part', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const k = randomCluster(seed);
      for (const req of [{ port: 80 }, { port: 'http' }, {}, { proto: 'UDP' as const, port: 53 }]) {
        const out = policyMatrix(section(k), req);
        const label = `seed ${seed} ${JSON.stringify(req)}`;
        if (!out.ok) {
          // Only a named port that no pod taking part has.
          assert.equal(out.kind, 'bad-port', label);
          continue;
        }
        const m = out.matrix;
        const raw = k.pods as { metadata: { namespace: string; name: string }; spec: { hostNetwork: boolean }; status: { phase: string; podIPs?: unknown[] } }[];
        const able = raw.filter((p) => !p.spec.hostNetwork && p.status.phase === 'Running' && p.status.podIPs?.length).map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
        assert.deepEqual(m.rows, [...able].sort(), label);
        for (const p of raw.map((x) => `${x.metadata.namespace}/${x.metadata.name}`).filter((x) => !able.includes(x))) {
          assert.ok(m.notes.some((n) => n.text.startsWith('left out:') && n.text.includes(p)), `${label}: ${p} is said to be left out`);
        }
        assertCellsAreFlows(m, () => section(k), req, label);
      }
    }
  });
});

describe('the pod set', () => {
  const k = baseCluster();
  test('--namespace, --selector and --pods narrow it (ANDed); --pods keeps its order, takes IPs and drops repeats', () => {
    assert.deepEqual(matrix(section(k), { namespace: 'shop' }).rows, ['shop/api-0', 'shop/db-0', 'shop/fe-0']);
    assert.deepEqual(matrix(section(k), { selector: 'app in (db,frontend)' }).rows, ['other/db-0', 'shop/db-0', 'shop/fe-0', 'web/frontend-1']);
    assert.deepEqual(matrix(section(k), { selector: 'app=db,tier' }).rows, ['shop/db-0']);
    assert.deepEqual(matrix(section(k), { selector: 'app, !tier, app notin (batch)' }).rows, ['other/db-0', 'shop/api-0', 'shop/fe-0']);
    assert.deepEqual(matrix(section(k), { selector: 'app!=db', namespace: 'shop' }).rows, ['shop/api-0', 'shop/fe-0']);
    assert.deepEqual(matrix(section(k), { pods: ['web/frontend-1', '10.244.1.10', 'shop/db-0', 'default/plain'] }).rows, ['web/frontend-1', 'shop/db-0', 'default/plain']);
    assert.deepEqual(matrix(section(k), { pods: ['web/frontend-1', 'shop/db-0', 'default/plain'], namespace: 'shop' }).rows, ['shop/db-0']);
    const none = matrix(section(k), { selector: 'app=nothing' });
    assert.deepEqual([none.rows, none.cols, none.cells], [[], [], []]);
  });

  test('the host-network pod is left out with a note, as are a Pending pod and one without an IP', () => {
    const m = matrix(section({ ...k, pods: [...k.pods, pod('web/pending', { ips: ['10.244.2.99'], phase: 'Pending' }), pod('web/noip')] }), {});
    assert.ok(!m.rows.includes('kube-system/agent') && !m.rows.includes('web/pending') && !m.rows.includes('web/noip'));
    assert.deepEqual(
      m.notes.filter((n) => n.text.startsWith('left out:')).map((n) => n.kind),
      ['host-network', 'not-running', 'no-ip'],
    );
  });

  test('an unknown pod in --pods is an error with the nearest names; an address that is no pod\u2019s too', () => {
    const a = policyMatrix(section(k), { pods: ['shop/db-1'] });
    assert.ok(!a.ok && a.kind === 'unknown-endpoint' && a.suggestions?.includes('shop/db-0'), JSON.stringify(a));
    const b = policyMatrix(section(k), { pods: ['192.0.2.1'] });
    assert.ok(!b.ok && b.kind === 'unknown-endpoint' && /no pod's address/.test(b.error), JSON.stringify(b));
  });

  test('more than the limit on a side is refused, saying how to narrow it', () => {
    const many = { namespaces: [ns('big')], pods: Array.from({ length: 501 }, (_, i) => pod(`big/p${i}`, { ips: [`10.9.${i >> 8}.${i & 255}`] })) };
    const r = policyMatrix(section(many), { port: 80 });
    assert.ok(!r.ok && r.kind === 'too-many-pods', JSON.stringify(r).slice(0, 200));
    assert.match(r.error, /501 pods selected, more than 500 on a side: narrow the matrix with --namespace, --selector or --pods/);
    const small = policyMatrix(section(k), { namespace: 'shop', maxPods: 2 });
    assert.ok(!small.ok && small.kind === 'too-many-pods');
    assert.ok(policyMatrix(section(k), { namespace: 'shop', maxPods: 3 }).ok);
  });
});

describe('selector syntax', () => {
  test('kubectl\u2019s forms', () => {
    const p = (s: string) => {
      const r = parseSelector(s);
      assert.ok(r.ok, s);
      return r.selector.matchExpressions;
    };
    assert.deepEqual(p('app=web'), [{ key: 'app', operator: 'In', values: ['web'] }]);
    assert.deepEqual(p('app==web'), [{ key: 'app', operator: 'In', values: ['web'] }]);
    assert.deepEqual(p('app != web'), [{ key: 'app', operator: 'NotIn', values: ['web'] }]);
    assert.deepEqual(p('tier in (a, b),x notin (c)'), [{ key: 'tier', operator: 'In', values: ['a', 'b'] }, { key: 'x', operator: 'NotIn', values: ['c'] }]);
    assert.deepEqual(p('example.com/team,!canary'), [{ key: 'example.com/team', operator: 'Exists', values: [] }, { key: 'canary', operator: 'DoesNotExist', values: [] }]);
    assert.deepEqual(p('in in (in)'), [{ key: 'in', operator: 'In', values: ['in'] }]);
    assert.deepEqual(p('app='), [{ key: 'app', operator: 'In', values: [''] }]);
  });

  for (const [bad, why] of [
    ['', /an empty selector/],
    ['app=web,', /a label key expected at character 9/],
    ['app web', /an operator .* or "," expected after "app" at character 5/],
    ['tier in a,b', /"\(" expected after in/],
    ['tier in (a,b', /"\)" expected/],
    ['tier in (a b)', /"," or "\)" expected, got "b"/],
    ['-app=x', /"-app" is not a label key/],
    ['app=x y', /"," expected, got "y"/],
    ['app=-x', /"-x" is not a label value/],
    ['a/b/c=1', /is not a label key/],
    [`app=${'v'.repeat(64)}`, /is not a label value/],
  ] as const) {
    test(`${JSON.stringify(bad)} is refused: ${why.source}`, () => {
      const r = parseSelector(bad);
      assert.ok(!r.ok, JSON.stringify(r));
      assert.match(r.error, why);
      const m = policyMatrix(shopSection(), { selector: bad });
      assert.ok(!m.ok && m.kind === 'bad-selector');
    });
  }
});

const fakeIo = (files: Record<string, string> = {}, cluster?: FakeCluster) => sharedFakeIo(files, cluster ? { cluster } : {});

const cli = async (args: string[], files: Record<string, string> = { 'shop.json': shop }) => {
  const f = fakeIo(files);
  const code = await run(['policy', 'matrix', '--capture', 'shop.json', ...args], f.io);
  return { code, out: f.stdout(), err: f.stderr() };
};

describe('netpath policy matrix', () => {
  test('the table on the shop fixture: rows from, columns to, a mark per cell, the legend and notes', async () => {
    const r = await cli(['--port', '5432']);
    assert.equal(r.code, EXIT_OK, r.err);
    assert.equal(r.err, '');
    const table = [
      'policy matrix: TCP 5432, from 3 pods to 3 pods: 5 of 9 pairs allowed',
      '',
      '                  to',
      '                 1 2 3',
      '1 shop/cart-0    I . .',
      '2 shop/db-0      I I .',
      '3 web/frontend-1 I . .',
      '',
      ". allowed   E denied at the source's egress   I at the destination's ingress   X at both   (rows: from, columns: to)",
      'why a cell says what it does: netpath policy --from ROW --to COLUMN (with the same --proto and --port)',
      'notes:',
    ].join('\n');
    assert.ok(r.out.startsWith(table + '\n'), r.out);
    assert.match(r.out, /^ {2}- cells of a pod to itself are evaluated as the API reads/m);
  });

  test('egress and ingress denials are told apart; columns that are other pods get a key', async () => {
    const doc = JSON.parse(shop);
    doc.kubernetes.networkPolicies.push({ metadata: { name: 'no-egress', namespace: 'web' }, spec: { podSelector: {}, policyTypes: ['Egress'] } });
    const r = await cli(['--port', 'postgres'], { 'shop.json': JSON.stringify(doc) });
    assert.equal(r.code, EXIT_OK, r.err);
    assert.match(r.out, /^1 shop\/cart-0 {4}\.$/m);
    assert.match(r.out, /^2 shop\/db-0 {6}I$/m);
    assert.match(r.out, /^3 web\/frontend-1 E$/m);
    assert.match(r.out, /^to:\n {2}4 shop\/db-0$/m);
    const both = await cli(['--port', '5432', '--pods', 'web/frontend-1,shop/cart-0'], { 'shop.json': JSON.stringify(doc) });
    assert.match(both.out, /^1 web\/frontend-1 E X$/m);
    assert.match(both.out, /^2 shop\/cart-0 {4}\. I$/m);
  });

  test('--json: the matrix object, exit 0 whatever the cells say', async () => {
    const r = await cli(['--port', '5432', '--json']);
    assert.equal(r.code, EXIT_OK, r.err);
    const j = JSON.parse(r.out);
    assert.deepEqual(j, JSON.parse(JSON.stringify(matrix(shopSection(), { port: 5432 }))));
    assert.deepEqual(Object.keys(j), ['proto', 'port', 'rows', 'cols', 'cells', 'notes', 'warnings']);
    assert.deepEqual(Object.keys(j.cells[0][0]), ['verdict', 'egress', 'ingress', 'egressTier', 'ingressTier', 'egressBy', 'ingressBy', 'self']);
  });

  test('colour only when asked for or on a terminal: allowed green, denied red', async () => {
    const plainOut = await cli(['--port', '5432']);
    assert.ok(!plainOut.out.includes('\u001b'));
    const colored = await cli(['--port', '5432', '--color']);
    assert.ok(colored.out.includes('\u001b[32m.\u001b[39m'), JSON.stringify(colored.out));
    assert.ok(colored.out.includes('\u001b[31mI\u001b[39m'), JSON.stringify(colored.out));
  });

  test('options before "matrix" are the matrix\u2019s; --from is not one of them', async () => {
    const f = fakeIo({ 'shop.json': shop });
    assert.equal(await run(['policy', '--capture', 'shop.json', '--port', '5432', 'matrix', '--json'], f.io), EXIT_OK, f.stderr());
    assert.deepEqual(JSON.parse(f.stdout()).rows, ['shop/cart-0', 'shop/db-0', 'web/frontend-1']);
    const r = await cli(['--from', 'shop/db-0']);
    assert.equal(r.code, EXIT_USAGE);
    assert.match(r.err, /--from is not an option of netpath policy matrix/);
  });

  test('exit codes: a bad selector, too many pods, --port with ICMP, no capture: 2; an unknown pod, an unknown port name, a bad file: 1', async () => {
    const bad = await cli(['--selector', 'app in (']);
    assert.equal(bad.code, EXIT_USAGE);
    assert.match(bad.err, /^netpath: --selector "app in \(": /);
    const doc = JSON.parse(shop);
    for (let i = 0; i < 501; i++) doc.kubernetes.pods.push({ metadata: { name: `p${i}`, namespace: 'big' }, status: { phase: 'Running', podIP: `10.9.${i >> 8}.${i & 255}` } });
    const big = await cli([], { 'shop.json': JSON.stringify(doc) });
    assert.equal(big.code, EXIT_USAGE);
    assert.match(big.err, /504 pods selected, more than 500 on a side: narrow the matrix with --namespace, --selector or --pods/);
    assert.equal((await cli(['--namespace', 'shop'], { 'shop.json': JSON.stringify(doc) })).code, EXIT_OK);
    assert.equal((await cli(['--proto', 'icmp', '--port', '80'])).code, EXIT_USAGE);
    assert.equal((await cli(['--pods', 'shop/db-0,,web/frontend-1'])).code, EXIT_USAGE);
    const f = fakeIo({});
    assert.equal(await run(['policy', 'matrix'], f.io), EXIT_USAGE);
    assert.match(f.stderr(), /give --capture FILE/);
    const unknown = await cli(['--pods', 'shop/db-1']);
    assert.equal(unknown.code, EXIT_BAD_INPUT);
    assert.match(unknown.err, /did you mean shop\/db-0/);
    assert.equal((await cli(['--port', 'nosuch'])).code, EXIT_BAD_INPUT);
    assert.equal((await cli([], { 'shop.json': '{' })).code, EXIT_BAD_INPUT);
  });

  test('hostile names: no control character reaches the terminal; JSON keeps them exactly', async () => {
    const evil = 'sh\u001b[2Jop\u0007';
    const name = `p\u001b]0;x\u0007${'w'.repeat(40)}`;
    const doc = JSON.parse(shop);
    doc.kubernetes.namespaces.push({ metadata: { name: evil } });
    doc.kubernetes.pods.push({ metadata: { name, namespace: evil, labels: { app: 'evil' } }, status: { phase: 'Running', podIP: '10.244.0.66' } });
    doc.kubernetes.networkPolicies.push({ metadata: { name: 'deny\u001b[31m', namespace: evil }, spec: { podSelector: {}, policyTypes: ['Egress'] } });
    const files = { 'shop.json': JSON.stringify(doc) };
    const r = await cli(['--port', '8080'], files);
    assert.equal(r.code, EXIT_OK, r.err);
    assert.ok(!CONTROL.test(r.out), JSON.stringify(r.out));
    // The long name is cut in the row label, and the key below has it whole (escaped).
    assert.match(r.out, /^1 sh\\x1b\[2Jop\\x07\/p\\x1b\]0;x\\x07w+\u2026 E X X E$/m);
    assert.ok(r.out.includes(`  1 sh\\x1b[2Jop\\x07/p\\x1b]0;x\\x07${'w'.repeat(40)}\n`), r.out);
    const j = await cli(['--port', '8080', '--json'], files);
    const m = JSON.parse(j.out);
    assert.equal(m.rows[0], `${evil}/${name}`);
    assert.deepEqual(m.cells[0][1].egressBy, [`${evil}/deny\u001b[31m`]);
  });

  test('--context: the API objects of a live cluster, no node entered', async () => {
    const capture = demoCluster() as ReturnType<typeof demoCluster> & { kubernetes?: unknown };
    capture.kubernetes = { networkPolicies: [{ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'deny-all', namespace: 'default' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } }] };
    const cluster = new FakeCluster(capture);
    const f = fakeIo({}, cluster);
    const code = await run(['policy', 'matrix', '--context', 'fake', '--namespace', 'default', '--port', '80', '--json'], f.io);
    assert.equal(code, EXIT_OK, f.stderr());
    const m = JSON.parse(f.stdout()) as PolicyMatrix;
    assert.ok(m.rows.length >= 2, JSON.stringify(m.rows));
    assert.ok(m.cells.every((row) => row.every((c) => c.verdict === 'denied' && c.ingress === 'denied' && c.ingressBy.includes('default/deny-all'))));
    assert.deepEqual(cluster.execLog, []);
  });
});
