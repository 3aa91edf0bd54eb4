// A pod IP's hover says which policies select it (src/vscode/model/hover.ts podPolicies): the
// NetworkPolicies isolating it per direction and the admin tiers' policies whose subject it is.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { kubernetesOf, parseCapture } from '../../../src/capture/document';
import { buildNetwork } from '../../../src/engine';
import { hoverMarkdown, indexAddresses, podPolicies } from '../../../src/vscode/model/hover';

const root = join(__dirname, '../../..');

function demo(section: Record<string, unknown[]>) {
  const d = JSON.parse(readFileSync(join(root, 'examples/demo-flannel-vxlan.json'), 'utf8')) as { kubernetes: Record<string, unknown[]> };
  Object.assign(d.kubernetes, section);
  const r = parseCapture(JSON.stringify(d));
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return buildNetwork(r.capture);
}

const np = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: 'default', name }, spec });

describe('hovers: the policies that select a pod', () => {
  const net = demo({
    networkPolicies: [np('deny-web', { podSelector: { matchLabels: { app: 'web' } } }), np('web`egress', { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Egress'] }), np('nginx-only', { podSelector: { matchLabels: { app: 'nginx' } } })],
    adminNetworkPolicies: [{ apiVersion: 'policy.networking.k8s.io/v1alpha1', kind: 'AdminNetworkPolicy', metadata: { name: 'cluster-guard' }, spec: { priority: 10, subject: { namespaces: {} }, ingress: [{ action: 'Allow', from: [{ namespaces: {} }] }] } }],
  });
  const kube = kubernetesOf(net.capture);

  test('web-0: isolated for ingress and egress by the policies selecting app=web; an admin policy whose subject is every namespace', () => {
    assert.deepEqual(podPolicies(kube, 'default/web-0'), { ingress: ['default/deny-web'], egress: ['default/web`egress'], admin: ['cluster-guard (priority 10)'], baseline: [] });
    const md = hoverMarkdown(indexAddresses(net).get('10.244.0.3'), [], podPolicies(kube, 'default/web-0'))!;
    const block = md.split('\n\n').find((l) => l.startsWith('**NetworkPolicy**'))!;
    assert.equal(block, "**NetworkPolicy** — ingress: isolated by `default/deny-web`; egress: isolated by `default/web'egress`");
    assert.ok(md.includes('AdminNetworkPolicy: `cluster-guard (priority 10)`'));
  });

  test('a pod no NetworkPolicy selects: not isolated; a pod the API does not know, or a capture without policies: nothing', () => {
    const p = podPolicies(kube, 'monitoring/prometheus-0')!;
    assert.deepEqual([p.ingress, p.egress], [[], []]);
    assert.match(hoverMarkdown(indexAddresses(net).get('10.244.2.3'), [], p)!, /ingress: not isolated \(no NetworkPolicy selects it\); egress: not isolated/);
    assert.equal(podPolicies(kube, 'default/nope'), undefined);
    assert.equal(podPolicies(kubernetesOf(demo({}).capture), 'default/web-0'), undefined);
  });
});
