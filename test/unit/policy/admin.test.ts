// AdminNetworkPolicy and BaselineAdminNetworkPolicy (policy.networking.k8s.io/v1alpha1): the admin
// tier by priority (first matching rule: Allow, Deny, or Pass to NetworkPolicy), then NetworkPolicy,
// then the baseline for pods NetworkPolicy does not isolate, then allow.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { anp, banp, baseCluster, evaluate, np, type Obj } from './helpers';

const all = { namespaces: {} };
const shopDb = { pods: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } }, podSelector: { matchLabels: { app: 'db' } } } };
const fromWeb = { namespaces: { matchLabels: { team: 'b' } } };
const run = (extra: { networkPolicies?: Obj[]; adminNetworkPolicies?: Obj[]; baselineAdminNetworkPolicies?: Obj[] }, flow = { from: 'web/frontend-1', to: 'shop/db-0', port: 5432 }) => evaluate({ ...baseCluster(), ...extra }, flow);
const defaultDeny = np('shop/default-deny', { podSelector: {}, policyTypes: ['Ingress'] });
const allowAll = np('shop/allow-all', { podSelector: {}, ingress: [{}] });

describe('AdminNetworkPolicy', () => {
  test('Deny wins over a NetworkPolicy that allows; the result names tier, policy, priority and rule', () => {
    const r = run({ networkPolicies: [allowAll], adminNetworkPolicies: [anp('block-web', { priority: 10, subject: shopDb, ingress: [{ name: 'no-web', action: 'Deny', from: [fromWeb] }] })] });
    assert.equal(r.verdict, 'denied');
    assert.equal(r.ingress.tier, 'admin');
    assert.deepEqual(r.ingress.decidedBy, { tier: 'admin', kind: 'AdminNetworkPolicy', policy: 'block-web', priority: 10, rule: 0, ruleName: 'no-web', action: 'Deny', peer: 0 });
    assert.deepEqual(r.ingress.deniedBy, [r.ingress.decidedBy]);
    assert.deepEqual(r.ingress.allowedBy, []);
    // NetworkPolicy's view is still there: the pod is isolated by shop/allow-all.
    assert.equal(r.ingress.isolated, true);
    assert.deepEqual(r.ingress.policies, ['shop/allow-all']);
    assert.deepEqual(r.ingress.adminPolicies, ['block-web']);
    assert.match(r.ingress.explanation, /^denied by AdminNetworkPolicy block-web \(priority 10\), ingress rule 0 "no-web", peer 0, any port: Deny \(before any NetworkPolicy\)$/);
  });

  test('Allow wins over a NetworkPolicy default-deny', () => {
    const r = run({ networkPolicies: [defaultDeny], adminNetworkPolicies: [anp('let-web', { priority: 3, subject: all, ingress: [{ action: 'Allow', from: [fromWeb], ports: [{ portNumber: { protocol: 'TCP', port: 5432 } }] }] })] });
    assert.equal(r.verdict, 'allowed');
    assert.equal(r.ingress.tier, 'admin');
    assert.deepEqual(r.ingress.allowedBy, [{ policy: 'let-web', rule: 0, peer: 0, port: 0, tier: 'admin', kind: 'AdminNetworkPolicy' }]);
  });

  test('Pass hands the decision to NetworkPolicy (which denies)', () => {
    const r = run({ networkPolicies: [defaultDeny], adminNetworkPolicies: [anp('pass', { priority: 1, subject: all, ingress: [{ action: 'Pass', from: [all] }] }), anp('later-allow', { priority: 2, subject: all, ingress: [{ action: 'Allow', from: [all] }] })] });
    assert.equal(r.verdict, 'denied');
    assert.equal(r.ingress.tier, 'networkpolicy');
    assert.deepEqual(r.ingress.passedBy?.map((p) => [p.policy, p.rule, p.action]), [['pass', 0, 'Pass']]);
    assert.match(r.ingress.explanation, /^AdminNetworkPolicy pass \(priority 1\), ingress rule 0, peer 0, any port passes it on to NetworkPolicy; denied, because shop\/default-deny isolates/);
  });

  test('Pass, no NetworkPolicy isolates: the baseline decides', () => {
    const r = run({ adminNetworkPolicies: [anp('pass', { priority: 1, subject: all, ingress: [{ action: 'Pass', from: [all] }] })], baselineAdminNetworkPolicies: [banp({ subject: all, ingress: [{ action: 'Deny', from: [all] }] })] });
    assert.equal(r.verdict, 'denied');
    assert.equal(r.ingress.tier, 'baseline');
    assert.deepEqual(r.ingress.decidedBy, { tier: 'baseline', kind: 'BaselineAdminNetworkPolicy', policy: 'default', rule: 0, action: 'Deny', peer: 0 });
    assert.equal(r.ingress.passedBy?.length, 1);
  });

  test('lower priority number first: 5 Allow before 10 Deny', () => {
    const r = run({ adminNetworkPolicies: [anp('deny-10', { priority: 10, subject: all, ingress: [{ action: 'Deny', from: [all] }] }), anp('allow-5', { priority: 5, subject: all, ingress: [{ action: 'Allow', from: [all] }] })] });
    assert.equal(r.verdict, 'allowed');
    assert.equal(r.ingress.decidedBy?.policy, 'allow-5');
    assert.deepEqual(r.ingress.adminPolicies, ['allow-5', 'deny-10']);
  });

  test('same priority: the order is undefined by the API, a note says so', () => {
    const r = run({ adminNetworkPolicies: [anp('zeta', { priority: 7, subject: all, ingress: [{ action: 'Deny', from: [all] }] }), anp('alpha', { priority: 7, subject: all, ingress: [{ action: 'Allow', from: [all] }] })] });
    assert.equal(r.ingress.decidedBy?.policy, 'alpha');
    const n = r.notes.find((x) => x.kind === 'same-priority');
    assert.ok(n, 'same-priority note');
    assert.match(n.text, /alpha, zeta share priority 7/);
  });

  test('the first matching rule of a policy decides (rule order)', () => {
    const policy = anp('ordered', { priority: 1, subject: shopDb, ingress: [{ action: 'Allow', from: [all], ports: [{ portNumber: { port: 80 } }] }, { action: 'Deny', from: [all] }, { action: 'Allow', from: [all] }] });
    const at80 = run({ adminNetworkPolicies: [policy] }, { from: 'web/frontend-1', to: 'shop/db-0', port: 80 });
    assert.equal(at80.verdict, 'allowed');
    assert.equal(at80.ingress.decidedBy?.rule, 0);
    const at81 = run({ adminNetworkPolicies: [policy] }, { from: 'web/frontend-1', to: 'shop/db-0', port: 81 });
    assert.equal(at81.verdict, 'denied');
    assert.equal(at81.ingress.decidedBy?.rule, 1);
  });

  test('a subject that does not select the pod has no say', () => {
    const r = run({ adminNetworkPolicies: [anp('api-only', { priority: 1, subject: { pods: { namespaceSelector: {}, podSelector: { matchLabels: { app: 'api' } } } }, ingress: [{ action: 'Deny', from: [all] }] })] });
    assert.equal(r.verdict, 'allowed');
    assert.equal(r.ingress.tier, 'default');
    assert.deepEqual(r.ingress.adminPolicies, []);
  });

  test('egress: a networks peer (CIDR) denies an outside address; pods peers do not match it', () => {
    const policy = anp('no-internet', { priority: 1, subject: all, egress: [{ action: 'Allow', to: [{ pods: { namespaceSelector: {}, podSelector: {} } }] }, { action: 'Deny', to: [{ networks: ['0.0.0.0/0'] }] }] });
    const out = run({ adminNetworkPolicies: [policy] }, { from: 'shop/db-0', to: '198.51.100.7', port: 443 });
    assert.equal(out.verdict, 'denied');
    assert.equal(out.egress.decidedBy?.rule, 1);
    const inside = run({ adminNetworkPolicies: [policy] }, { from: 'shop/db-0', to: 'shop/api-0', port: 8080 });
    assert.equal(inside.egress.decidedBy?.rule, 0);
    assert.equal(inside.verdict, 'allowed');
  });

  test('egress: a nodes peer matches a node\u2019s address by the node\u2019s labels', () => {
    const policy = anp('no-control-plane', { priority: 1, subject: all, egress: [{ action: 'Deny', to: [{ nodes: { matchLabels: { role: 'control' } } }] }] });
    assert.equal(run({ adminNetworkPolicies: [policy] }, { from: 'shop/db-0', to: '10.4.0.2', port: 6443 }).verdict, 'denied');
    assert.equal(run({ adminNetworkPolicies: [policy] }, { from: 'shop/db-0', to: '10.4.0.1', port: 6443 }).verdict, 'allowed');
  });

  test('ports: namedPort is the destination pod\u2019s (its protocol too), portRange is inclusive', () => {
    const named = anp('named', { priority: 1, subject: all, ingress: [{ action: 'Deny', from: [all], ports: [{ namedPort: 'dns' }] }] });
    assert.equal(run({ adminNetworkPolicies: [named] }, { from: 'web/frontend-1', to: 'shop/db-0', port: 53 }).verdict, 'allowed', 'dns is UDP on db-0');
    assert.equal(evaluate({ ...baseCluster(), adminNetworkPolicies: [named] }, { from: 'web/frontend-1', to: 'shop/db-0', proto: 'UDP', port: 53 }).verdict, 'denied');
    const range = anp('range', { priority: 1, subject: all, ingress: [{ action: 'Deny', from: [all], ports: [{ portRange: { start: 5000, end: 5432 } }] }] });
    assert.equal(run({ adminNetworkPolicies: [range] }).verdict, 'denied');
    assert.equal(run({ adminNetworkPolicies: [range] }, { from: 'web/frontend-1', to: 'shop/db-0', port: 5433 }).verdict, 'allowed');
    const udp = anp('udp', { priority: 1, subject: all, ingress: [{ action: 'Deny', from: [all], ports: [{ portNumber: { protocol: 'UDP', port: 5432 } }] }] });
    assert.equal(run({ adminNetworkPolicies: [udp] }).verdict, 'allowed');
  });

  test('a host-network pod is no subject', () => {
    const r = run({ adminNetworkPolicies: [anp('deny-all', { priority: 1, subject: all, ingress: [{ action: 'Deny', from: [all] }] })] }, { from: 'shop/db-0', to: 'kube-system/agent', port: 10250 });
    assert.equal(r.verdict, 'allowed');
    assert.equal(r.ingress.subject, 'host-network-pod');
  });

  test('egress and ingress each have their own admin decision', () => {
    const r = run({ adminNetworkPolicies: [anp('web-out', { priority: 1, subject: { namespaces: { matchLabels: { team: 'b' } } }, egress: [{ action: 'Deny', to: [{ namespaces: { matchLabels: { team: 'a' } } }] }] })] });
    assert.equal(r.egress.verdict, 'denied');
    assert.equal(r.egress.tier, 'admin');
    assert.equal(r.ingress.verdict, 'allowed');
    assert.equal(r.ingress.tier, 'default');
  });
});

describe('BaselineAdminNetworkPolicy', () => {
  const baseline = banp({ subject: all, ingress: [{ action: 'Allow', from: [fromWeb] }, { action: 'Deny', from: [all] }] });
  test('applies when NetworkPolicy does not isolate the pod: Deny', () => {
    const r = run({ baselineAdminNetworkPolicies: [baseline] }, { from: 'other/db-0', to: 'shop/db-0', port: 5432 });
    assert.equal(r.verdict, 'denied');
    assert.equal(r.ingress.tier, 'baseline');
    assert.match(r.ingress.explanation, /^denied by BaselineAdminNetworkPolicy default, ingress rule 1, peer 0, any port: Deny \(no NetworkPolicy isolates shop\/db-0 for ingress\)$/);
  });
  test('applies when NetworkPolicy does not isolate the pod: Allow (first rule)', () => {
    const r = run({ baselineAdminNetworkPolicies: [baseline] });
    assert.equal(r.verdict, 'allowed');
    assert.deepEqual(r.ingress.allowedBy, [{ policy: 'default', rule: 0, peer: 0, anyPort: true, tier: 'baseline', kind: 'BaselineAdminNetworkPolicy' }]);
  });
  test('does not apply when NetworkPolicy isolates the pod: NetworkPolicy decides', () => {
    const r = run({ networkPolicies: [np('shop/from-other', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'c' } } }] }] })], baselineAdminNetworkPolicies: [baseline] }, { from: 'other/db-0', to: 'shop/db-0', port: 5432 });
    assert.equal(r.verdict, 'allowed');
    assert.equal(r.ingress.tier, 'networkpolicy');
    assert.deepEqual(r.ingress.allowedBy.map((a) => a.policy), ['shop/from-other']);
  });
  test('no rule matches: default allow, the baseline named', () => {
    const r = run({ baselineAdminNetworkPolicies: [banp({ subject: all, ingress: [{ action: 'Deny', from: [{ namespaces: { matchLabels: { team: 'zzz' } } }] }] })] });
    assert.equal(r.verdict, 'allowed');
    assert.equal(r.ingress.tier, 'default');
    assert.match(r.ingress.explanation, /no rule of BaselineAdminNetworkPolicy default matches/);
  });
});

describe('admin policies that do not fit: left out with a warning naming the path, evaluation goes on', () => {
  const cases: { name: string; obj: Obj; list?: 'adminNetworkPolicies' | 'baselineAdminNetworkPolicies'; path: RegExp }[] = [
    { name: 'no priority', obj: anp('p', { subject: all, ingress: [{ action: 'Deny', from: [all] }] }), path: /^kubernetes\.adminNetworkPolicies\[0\]\.spec\.priority: expected a whole number from 0 to 1000, got nothing; AdminNetworkPolicy p is left out$/ },
    { name: 'priority above 1000', obj: anp('p', { priority: 1001, subject: all }), path: /spec\.priority: expected a whole number from 0 to 1000, got 1001/ },
    { name: 'a subject with both kinds', obj: anp('p', { priority: 1, subject: { namespaces: {}, pods: { namespaceSelector: {}, podSelector: {} } } }), path: /spec\.subject: the subject sets namespaces and pods; exactly one of namespaces, pods is allowed/ },
    { name: 'an unknown action', obj: anp('p', { priority: 1, subject: all, ingress: [{ action: 'Reject', from: [all] }] }), path: /spec\.ingress\[0\]\.action: expected one of Allow, Deny, Pass, got "Reject"/ },
    { name: 'a rule without peers', obj: anp('p', { priority: 1, subject: all, ingress: [{ action: 'Deny' }] }), path: /spec\.ingress\[0\]\.from: expected a non-empty list of peers/ },
    { name: 'an ingress networks peer', obj: anp('p', { priority: 1, subject: all, ingress: [{ action: 'Deny', from: [{ networks: ['0.0.0.0/0'] }] }] }), path: /spec\.ingress\[0\]\.from\[0\]: an ingress peer needs exactly one of namespaces, pods/ },
    { name: 'a bad CIDR', obj: anp('p', { priority: 1, subject: all, egress: [{ action: 'Deny', to: [{ networks: ['10.0.0.0/33'] }] }] }), path: /spec\.egress\[0\]\.to\[0\]\.networks\[0\]: .*invalid prefix length/ },
    { name: 'a bad port range', obj: anp('p', { priority: 1, subject: all, egress: [{ action: 'Deny', to: [all], ports: [{ portRange: { start: 10, end: 5 } }] }] }), path: /ports\[0\]\.portRange: expected \{ start, end \}/ },
    { name: 'a bad selector operator', obj: anp('p', { priority: 1, subject: { namespaces: { matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] } } }), path: /spec\.subject\.namespaces\.matchExpressions\[0\]\.operator: expected one of In, NotIn, Exists, DoesNotExist, got "Gt"/ },
    { name: 'a baseline not named default', obj: banp({ subject: all }, 'mine'), list: 'baselineAdminNetworkPolicies', path: /^kubernetes\.baselineAdminNetworkPolicies\[0\]\.metadata\.name: the API server accepts one BaselineAdminNetworkPolicy, named "default"/ },
    { name: 'Pass in a baseline', obj: banp({ subject: all, ingress: [{ action: 'Pass', from: [all] }] }), list: 'baselineAdminNetworkPolicies', path: /spec\.ingress\[0\]\.action: expected one of Allow, Deny, got "Pass"/ },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const list = c.list ?? 'adminNetworkPolicies';
      const r = run({ networkPolicies: [defaultDeny], [list]: [c.obj] });
      const ws = r.warnings.map((w) => `${w.path}: ${w.message}`);
      assert.ok(ws.some((w) => c.path.test(w)), ws.join('\n'));
      // Left out: NetworkPolicy alone decides.
      assert.equal(r.verdict, 'denied');
      assert.equal(r.ingress.tier, 'networkpolicy');
    });
  }
  test('a policy that is not an object at all is the capture reader\u2019s warning', () => {
    const r = run({ adminNetworkPolicies: ['nope' as unknown as Obj] });
    assert.ok(r.warnings.some((w) => w.path === 'kubernetes.adminNetworkPolicies[0]'), JSON.stringify(r.warnings));
    assert.equal(r.verdict, 'allowed');
  });
});
