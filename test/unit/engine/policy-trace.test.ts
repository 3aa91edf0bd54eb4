// NetworkPolicy in traces (src/engine/policyTrace.ts): the policy step at the pods a policy governs,
// and what it does by who enforces policy — flannel alone (the demo) lets the packet on and says a
// policy would deny it; Calico (Canal's agent in the API, no cali-* rules captured) stops it,
// policy-denied, at the node where it enforces; with Calico's own rules in the capture the kernel's
// rules decide and the step shows the API's intent beside them.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, test } from 'node:test';
import { parseCapture, type Capture } from '../../../src/capture/document';
import { buildNetwork, simulate, type TraceRequest, type TraceResult } from '../../../src/engine';
import type { PolicyStepDetail, Step, TracePath } from '../../../src/engine/trace';

const root = join(__dirname, '../../..');

type Doc = Capture & { kubernetes: Record<string, unknown[]> };

const policy = (namespace: string, name: string, spec: Record<string, unknown>) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace, name }, spec });
const canal = { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'kube-system', name: 'canal-7xk2p', labels: { 'k8s-app': 'canal' } }, spec: { nodeName: 'k8s-node2', hostNetwork: true, containers: [{ name: 'calico-node', image: 'calico/node' }] }, status: { phase: 'Running', podIP: '10.4.7.22', podIPs: [{ ip: '10.4.7.22' }] } };

/** The demo with these policies (and, with `calico`, Canal's agent pod: Calico enforces). */
function demo(policies: unknown[], opts: { calico?: boolean; change?: (d: Doc) => void } = {}): ReturnType<typeof buildNetwork> {
  const d = JSON.parse(readFileSync(join(root, 'examples/demo-flannel-vxlan.json'), 'utf8')) as Doc;
  d.kubernetes.networkPolicies = policies;
  if (opts.calico) d.kubernetes.pods = [...d.kubernetes.pods!, canal];
  opts.change?.(d);
  const r = parseCapture(JSON.stringify(d));
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return buildNetwork(r.capture);
}

function trace(net: ReturnType<typeof buildNetwork>, req: TraceRequest): TraceResult {
  const r = simulate(net, req);
  if (!r.ok) throw new Error(r.error);
  return r.result;
}

const policySteps = (p: TracePath): { host: string; step: Step; d: PolicyStepDetail }[] =>
  p.hops.flatMap((h) => h.steps.filter((s) => s.detail?.type === 'policy').map((s) => ({ host: h.host, step: s, d: s.detail as PolicyStepDetail })));

const denyWebIngress = policy('default', 'default-deny-web', { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'] });
const web1 = { from: 'monitoring/prometheus-0', to: 'default/web-1', proto: 'tcp', port: 8080 } as const;

describe('NetworkPolicy in traces', () => {
  test('flannel alone does not enforce: the packet is delivered, and the ingress step at web-1\'s node says a policy would deny it', () => {
    const r = trace(demo([denyWebIngress]), web1);
    assert.equal(r.verdict, 'delivered');
    const steps = policySteps(r.paths[0]!);
    assert.deepEqual(steps.map((s) => [s.host, s.d.direction, s.d.verdict, s.d.effect, s.d.enforced]), [['k8s-node2', 'ingress', 'denied', 'not-enforced', 'no']]);
    assert.match(steps[0]!.step.text, /^NetworkPolicy, ingress of default\/web-1: .*default\/default-deny-web.* The policy would deny this, but flannel does not enforce NetworkPolicy, so the packet goes on\.$/);
    assert.deepEqual(steps[0]!.step.records.map((e) => [e.host, e.probe]), [['kubernetes', 'networkPolicies[0]']]);
    // The step is the last on web-1's node, before the packet enters the pod.
    const hops = r.paths[0]!.hops;
    assert.equal(hops.at(-2)!.steps.at(-1), steps[0]!.step);
    assert.equal(hops.at(-1)!.host, 'web-1');
  });

  test('the evidence is each policy\'s own JSON path: an object left out as invalid before it shifts nothing', () => {
    const broken = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: 'default' }, spec: { podSelector: {} } };
    const r = trace(demo([broken, denyWebIngress]), web1);
    const [s] = policySteps(r.paths[0]!);
    assert.deepEqual(s!.step.records.map((e) => e.probe), ['networkPolicies[1]']);
  });

  test('Calico enforces (its agent in the API, its rules not captured): policy-denied at web-1\'s node, from the API objects', () => {
    const r = trace(demo([denyWebIngress], { calico: true }), web1);
    assert.equal(r.verdict, 'policy-denied');
    assert.equal(r.dropAt?.host, 'k8s-node2');
    assert.equal(r.hops.at(-1)!.host, 'k8s-node2', 'the path stops at the node');
    const s = r.hops.at(-1)!.steps.at(-1)!;
    assert.equal(s.kind, 'policy');
    assert.equal(s.inferred, true);
    assert.match(s.text, /Calico enforces NetworkPolicy here and drops the packet/);
    assert.equal(r.reason, s.text);
    // The cause lives in the policy objects: the diagnosis says which, what it lacks, and the fix.
    assert.deepEqual(r.diagnosis?.map((d) => [d.kind, d.host, d.probe, d.owner]), [['policy-denied', 'kubernetes', 'networkPolicies[0]', 'NetworkPolicy default/default-deny-web']]);
    const d = r.diagnosis![0]!;
    assert.equal(d.actual, 'default/default-deny-web isolates default/web-1 for ingress, and none of its rules allows monitoring/prometheus-0 on TCP 8080');
    assert.match(d.fix, /^If this flow should pass, add an ingress rule allowing monitoring\/prometheus-0 on TCP 8080 to default\/default-deny-web/);
  });

  test('egress: a policy isolating prometheus-0 for egress with no rule stops it at its own node', () => {
    const r = trace(demo([policy('monitoring', 'no-egress', { podSelector: {}, policyTypes: ['Egress'] })], { calico: true }), web1);
    assert.equal(r.verdict, 'policy-denied');
    assert.deepEqual([r.dropAt?.host, r.hops.map((h) => h.host)], ['k8s-node3', ['prometheus-0', 'k8s-node3']]);
    const s = r.hops[1]!.steps[0]!;
    assert.equal((s.detail as PolicyStepDetail).direction, 'egress');
    assert.equal((s.detail as PolicyStepDetail).subject, 'monitoring/prometheus-0');
  });

  test('allowed by a rule: the step names the policy, rule, peer and port', () => {
    const allow = policy('default', 'allow-monitoring', {
      podSelector: { matchLabels: { app: 'web' } },
      ingress: [{ from: [{ podSelector: { matchLabels: { app: 'nothing' } } }, { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }], ports: [{ protocol: 'TCP', port: 8080 }] }],
    });
    const r = trace(demo([denyWebIngress, allow], { calico: true }), web1);
    assert.equal(r.verdict, 'delivered');
    const [s] = policySteps(r.paths[0]!);
    assert.deepEqual([s!.d.effect, s!.d.verdict, s!.d.allowedBy], ['allow', 'allowed', [{ policy: 'default/allow-monitoring', rule: 0, peer: 1, port: 0 }]]);
    assert.deepEqual(s!.d.policies.sort(), ['default/allow-monitoring', 'default/default-deny-web']);
  });

  test('through a Service: the endpoint pod is what policy sees — one endpoint denied, the other delivered, the top verdict names the denial', () => {
    const denyWeb1 = policy('default', 'deny-web-1', { podSelector: { matchLabels: { 'statefulset.kubernetes.io/pod-name': 'web-1' } }, policyTypes: ['Ingress'] });
    const r = trace(demo([denyWeb1], { calico: true }), { from: 'monitoring/prometheus-0', to: 'svc/default/web' });
    assert.deepEqual(r.paths.map((p) => [p.endpoint?.ip, p.verdict]), [['10.244.0.3', 'delivered'], ['10.244.1.3', 'policy-denied']]);
    assert.equal(r.verdict, 'policy-denied');
    assert.deepEqual(policySteps(r.paths[0]!), [], 'web-0 is selected by no policy: no step');
  });

  test('the CNI\'s own rules in the capture decide; the step shows the API\'s intent beside them', () => {
    const net = demo([denyWebIngress], {
      calico: true,
      change: (d) => {
        const h = d.hosts.find((x) => x.name === 'k8s-node2')!;
        h.probes!.iptables = `${h.probes!.iptables ?? ''}*mangle\n:PREROUTING ACCEPT [0:0]\n:cali-fw-cali1234567890a - [0:0]\nCOMMIT\n`;
      },
    });
    const r = trace(net, web1);
    assert.equal(r.verdict, 'delivered', 'the captured rules let it through');
    const [s] = policySteps(r.paths[0]!);
    assert.equal(s!.d.effect, 'rules-decide');
    assert.match(s!.step.text, /Calico's own rules for policy are in the capture: the kernel's rules decide/);
    // ... and they let through what the API denies: a finding, with the rules' line and the policy.
    const f = r.findings?.find((x) => x.kind === 'policy-disagreement');
    assert.ok(f, JSON.stringify(r.findings));
    assert.deepEqual([f.host, f.probe, f.owner, f.evidence[0]!.raw], ['k8s-node2', 'iptables', 'Calico', ':cali-fw-cali1234567890a - [0:0]']);
    assert.match(f.expected, /^ingress of default\/web-1 denied for monitoring\/prometheus-0: denied, because default\/default-deny-web isolates/);
    assert.equal(f.actual, "k8s-node2's rules let the packet through");
    assert.deepEqual(f.api.evidence.map((e) => e.probe), ['networkPolicies[0]']);
  });

  test('the CNI\'s rules drop what the API allows: filtered where the rules say, and a finding', () => {
    const allowAll = policy('default', 'allow-all-web', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{}] });
    const net = demo([allowAll], {
      calico: true,
      change: (d) => {
        const h = d.hosts.find((x) => x.name === 'k8s-node2')!;
        const t = h.probes!.iptables!;
        const at = t.indexOf('-A FORWARD');
        h.probes!.iptables = t.slice(0, at).replace('*filter\n', '*filter\n:cali-tw-cali1234567890a - [0:0]\n') + '-A FORWARD -d 10.244.1.3/32 -j cali-tw-cali1234567890a\n-A cali-tw-cali1234567890a -m comment --comment "cali:stale" -j DROP\n' + t.slice(at);
      },
    });
    const r = trace(net, web1);
    assert.deepEqual([r.verdict, r.dropAt?.host], ['filtered', 'k8s-node2']);
    const f = r.findings?.find((x) => x.kind === 'policy-disagreement');
    assert.ok(f, JSON.stringify(r.findings));
    assert.match(f.actual, /^k8s-node2's rules drop it \(-A cali-tw-cali1234567890a -m comment --comment "cali:stale" -j DROP\)$/);
    assert.match(f.text, /the API says allow, the rules deny it/);
  });

  test('a capture that shows no CNI either way (a plain bridge lab): enforcement is assumed, and the step says so', () => {
    const d = JSON.parse(gunzipSync(readFileSync(join(root, 'test/fixtures/captures/lab-bridge-dual-stack.json.gz'))).toString('utf8')) as Doc;
    const pod = (name: string, node: string, ip: string, app: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'default', name, labels: { app } }, spec: { nodeName: node, containers: [{ name: 'c', image: 'x', ports: [{ name: 'pg', containerPort: 5432 }] }] }, status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] } });
    d.kubernetes = { pods: [pod('api-0', 'node1', '10.245.0.3', 'api'), pod('db-0', 'node1', '10.245.0.4', 'db')], networkPolicies: [policy('default', 'db-deny', { podSelector: { matchLabels: { app: 'db' } } })] };
    const r0 = parseCapture(JSON.stringify(d));
    assert.ok(r0.ok);
    const r = trace(buildNetwork(r0.capture), { from: 'default/api-0', to: 'default/db-0', proto: 'tcp', port: 5432 });
    assert.equal(r.verdict, 'policy-denied');
    assert.equal(r.dropAt?.host, 'node1');
    assert.match(r.reason, /default\/db-deny isolates default\/db-0 for ingress.* The capture does not show which CNI runs; assuming it enforces NetworkPolicy, as most do, the packet is dropped here\.$/);
  });

  test('no policies: no policy step at all', () => {
    assert.deepEqual(policySteps(trace(demo([]), web1).paths[0]!), []);
  });

  test('ICMP (a ping): no port entry names it, so a rule with ports does not allow it and one without does', () => {
    const ping = { from: 'monitoring/prometheus-0', to: 'default/web-1' } as const;
    const portRule = policy('default', 'web-8080', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ ports: [{ protocol: 'TCP', port: 8080 }] }] });
    const denied = trace(demo([portRule], { calico: true }), ping);
    assert.equal(denied.verdict, 'policy-denied');
    assert.match(denied.reason, /no rule of default\/web-8080 allows monitoring\/prometheus-0 on ICMP\. /);
    assert.equal(trace(demo([portRule], { calico: true }), web1).verdict, 'delivered', 'the same rule allows TCP 8080');
    const anyPort = policy('default', 'web-any', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ namespaceSelector: {} }] }] });
    const r = trace(demo([anyPort], { calico: true }), ping);
    assert.equal(r.verdict, 'delivered');
    assert.deepEqual(policySteps(r.paths[0]!).map((s) => [s.d.effect, s.d.allowedBy]), [['allow', [{ policy: 'default/web-any', rule: 0, peer: 0 }]]]);
  });
});
