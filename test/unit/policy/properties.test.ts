// Properties over random small clusters (seeded, so a failure names its seed and repeats): a policy
// that selects nothing changes nothing; adding an allow rule never turns an allowed flow into a denied
// one; the top verdict is both directions', and without admin tiers a direction is allowed exactly
// when it is not isolated or some rule allows it.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { readKubernetes } from '../../../src/capture/kubernetes';
import { evaluatePolicy, type PolicyRequest, type PolicyResult } from '../../../src/engine/policy';
import { prng } from '../../../bench/generate';
import { anp, banp, np, ns, pod, type Obj } from './helpers';

class Gen {
  constructor(readonly rnd: () => number) {}
  int(n: number): number {
    return Math.floor(this.rnd() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.rnd() < p;
  }
}

const APPS = ['a', 'b', 'c'];
const TEAMS = ['x', 'y'];
const PORTS = [80, 443, 5432];

function selector(g: Gen, keys: { key: string; values: string[] }[]): Obj {
  const s: Obj = {};
  if (g.chance(0.5)) {
    const k = g.pick(keys);
    s.matchLabels = { [k.key]: g.pick(k.values) };
  }
  if (g.chance(0.3)) {
    const k = g.pick(keys);
    const op = g.pick(['In', 'NotIn', 'Exists', 'DoesNotExist']);
    s.matchExpressions = [{ key: k.key, operator: op, ...(op === 'In' || op === 'NotIn' ? { values: [g.pick(k.values)] } : {}) }];
  }
  return s;
}

const podKeys = [{ key: 'app', values: APPS }, { key: 'tier', values: ['web', 'db'] }];
const nsKeys = [{ key: 'team', values: TEAMS }, { key: 'kubernetes.io/metadata.name', values: ['n0', 'n1', 'n2'] }];

function peer(g: Gen): Obj {
  switch (g.int(4)) {
    case 0:
      return { podSelector: selector(g, podKeys) };
    case 1:
      return { namespaceSelector: selector(g, nsKeys) };
    case 2:
      return { podSelector: selector(g, podKeys), namespaceSelector: selector(g, nsKeys) };
    default:
      return { ipBlock: { cidr: g.pick(['10.0.0.0/16', '10.0.1.0/24', '10.0.0.7/25']), ...(g.chance(0.5) ? { except: ['10.0.1.0/28'] } : {}) } };
  }
}

function port(g: Gen): Obj {
  switch (g.int(4)) {
    case 0:
      return { port: g.pick(PORTS) };
    case 1:
      return { port: g.pick(['http', 'db']) };
    case 2:
      return { port: 400, endPort: 500, protocol: g.pick(['TCP', 'UDP']) };
    default:
      return { protocol: g.pick(['TCP', 'UDP']) };
  }
}

function rule(g: Gen, key: 'from' | 'to'): Obj {
  const r: Obj = {};
  if (g.chance(0.7)) r[key] = Array.from({ length: 1 + g.int(2) }, () => peer(g));
  if (g.chance(0.6)) r.ports = Array.from({ length: 1 + g.int(2) }, () => port(g));
  return r;
}

function policy(g: Gen, name: string, podSelector?: Obj): Obj {
  const types = g.pick([['Ingress'], ['Egress'], ['Ingress', 'Egress']]);
  return np(`${g.pick(['n0', 'n1', 'n2'])}/${name}`, {
    podSelector: podSelector ?? selector(g, podKeys),
    policyTypes: types,
    ...(types.includes('Ingress') ? { ingress: Array.from({ length: g.int(3) }, () => rule(g, 'from')) } : {}),
    ...(types.includes('Egress') ? { egress: Array.from({ length: g.int(3) }, () => rule(g, 'to')) } : {}),
  });
}

function tiered(g: Gen, name: string, subject: Obj, baseline: boolean): Obj {
  const actions = baseline ? ['Allow', 'Deny'] : ['Allow', 'Deny', 'Pass'];
  const r = (key: 'from' | 'to') => ({ action: g.pick(actions), [key]: [g.chance(0.5) ? { namespaces: selector(g, nsKeys) } : { pods: { namespaceSelector: selector(g, nsKeys), podSelector: selector(g, podKeys) } }], ...(g.chance(0.5) ? { ports: [{ portNumber: { port: g.pick(PORTS) } }] } : {}) });
  const spec = { subject, ingress: Array.from({ length: g.int(3) }, () => r('from')), egress: Array.from({ length: g.int(3) }, () => r('to')) };
  return baseline ? banp(spec) : anp(name, { priority: g.int(5), ...spec });
}

function cluster(g: Gen): Obj {
  const pods = Array.from({ length: 3 + g.int(4) }, (_, i) => {
    const labels: Record<string, string> = {};
    if (g.chance(0.8)) labels.app = g.pick(APPS);
    if (g.chance(0.4)) labels.tier = g.pick(['web', 'db']);
    return pod(`n${g.int(3)}/p${i}`, { labels, ips: [`10.0.${g.int(2)}.${i + 1}`], ports: [{ name: 'http', containerPort: g.pick([80, 443]) }, { name: 'db', containerPort: 5432 }] });
  });
  return {
    namespaces: ['n0', 'n1', 'n2'].map((n) => ns(n, g.chance(0.7) ? { team: g.pick(TEAMS) } : {})),
    pods,
    networkPolicies: Array.from({ length: g.int(5) }, (_, i) => policy(g, `np${i}`)),
    adminNetworkPolicies: g.chance(0.3) ? Array.from({ length: 1 + g.int(2) }, (_, i) => tiered(g, `anp${i}`, { namespaces: selector(g, nsKeys) }, false)) : [],
    baselineAdminNetworkPolicies: g.chance(0.3) ? [tiered(g, 'default', { namespaces: {} }, true)] : [],
  };
}

function flows(k: Obj): PolicyRequest[] {
  const names = (k.pods as Obj[]).map((p) => `${(p.metadata as Obj).namespace}/${(p.metadata as Obj).name}`);
  const out: PolicyRequest[] = [];
  for (const from of [...names, '10.0.1.3', '192.0.2.1'])
    for (const to of names)
      for (const [proto, port] of [['TCP', 80], ['TCP', 5432], ['UDP', 450], ['TCP', undefined]] as const) out.push({ from, to, proto, ...(port !== undefined ? { port } : {}) });
  return out;
}

function all(k: Obj): PolicyResult[] {
  const section = readKubernetes(JSON.parse(JSON.stringify(k)));
  return flows(k).map((f) => {
    const r = evaluatePolicy(section, f);
    if (!r.ok) throw new Error(r.error);
    return r.result;
  });
}

const SEEDS = Array.from({ length: 150 }, (_, i) => 1000 + i);
/** What must not change: verdicts, isolation, policies and allowing rules (notes may add a name). */
const essence = (r: PolicyResult) => ({ v: r.verdict, e: [r.egress.verdict, r.egress.isolated, r.egress.policies, r.egress.allowedBy, r.egress.tier], i: [r.ingress.verdict, r.ingress.isolated, r.ingress.policies, r.ingress.allowedBy, r.ingress.tier] });

describe('policy properties over random small clusters', () => {
  test('a NetworkPolicy or an admin policy that selects nothing changes nothing', () => {
    for (const seed of SEEDS) {
      const g = new Gen(prng(seed));
      const k = cluster(g);
      const before = all(k).map(essence);
      const nothing = { matchLabels: { 'no-such-label': 'x' } };
      const more = {
        ...k,
        networkPolicies: [...(k.networkPolicies as Obj[]), policy(g, 'extra', nothing)],
        adminNetworkPolicies: [...(k.adminNetworkPolicies as Obj[]), tiered(g, 'extra', { namespaces: nothing }, false)],
      };
      assert.deepEqual(all(more).map(essence), before, `seed ${seed}`);
    }
  });

  test('adding an allow rule to a policy never turns an allowed flow into a denied one', () => {
    let changed = 0;
    for (const seed of SEEDS) {
      const g = new Gen(prng(seed));
      const k = cluster(g);
      const nps = k.networkPolicies as Obj[];
      if (!nps.length) continue;
      const before = all(k);
      const target = g.int(nps.length);
      const copy = JSON.parse(JSON.stringify(nps)) as { spec: { policyTypes: string[]; ingress?: Obj[]; egress?: Obj[] } }[];
      const spec = copy[target]!.spec;
      const dir = spec.policyTypes.includes('Ingress') && (!spec.policyTypes.includes('Egress') || g.chance(0.5)) ? 'ingress' : 'egress';
      spec[dir] = [...(spec[dir] ?? []), rule(g, dir === 'ingress' ? 'from' : 'to')];
      const after = all({ ...k, networkPolicies: copy });
      before.forEach((b, i) => {
        const a = after[i]!;
        if (b.verdict === 'allowed') assert.equal(a.verdict, 'allowed', `seed ${seed}, flow ${i}: ${a.egress.explanation} / ${a.ingress.explanation}`);
        if (a.verdict !== b.verdict) changed++;
      });
    }
    // The property is not vacuous: some added rules did allow what was denied.
    assert.ok(changed > 0, 'no added rule changed any verdict');
  });

  test('adding an Allow rule to an admin or baseline policy (first or last) never turns an allowed flow into a denied one', () => {
    let tried = 0;
    let changed = 0;
    for (const seed of SEEDS) {
      const g = new Gen(prng(seed));
      const k = cluster(g);
      const list = g.chance(0.5) ? 'adminNetworkPolicies' : 'baselineAdminNetworkPolicies';
      const tier = k[list] as Obj[];
      if (!tier.length) continue;
      tried++;
      const before = all(k);
      const copy = JSON.parse(JSON.stringify(tier)) as { spec: { ingress: Obj[]; egress: Obj[] } }[];
      const spec = copy[g.int(copy.length)]!.spec;
      const dir = g.chance(0.5) ? 'ingress' : 'egress';
      const added = { action: 'Allow', [dir === 'ingress' ? 'from' : 'to']: [{ namespaces: selector(g, nsKeys) }], ...(g.chance(0.5) ? { ports: [{ portNumber: { port: g.pick(PORTS) } }] } : {}) };
      spec[dir] = g.chance(0.5) ? [added, ...spec[dir]] : [...spec[dir], added];
      const after = all({ ...k, [list]: copy });
      before.forEach((b, i) => {
        const a = after[i]!;
        if (b.verdict === 'allowed') assert.equal(a.verdict, 'allowed', `seed ${seed}, flow ${i}: ${a.egress.explanation} / ${a.ingress.explanation}`);
        if (a.verdict !== b.verdict) changed++;
      });
    }
    assert.ok(tried > 20 && changed > 0, `tried ${tried}, changed ${changed}`);
  });

  test('the verdict is both directions\u2019; without admin tiers, allowed = not isolated or some rule allows', () => {
    let denied = 0;
    for (const seed of SEEDS) {
      const k = cluster(new Gen(prng(seed)));
      const plain = { ...k, adminNetworkPolicies: [], baselineAdminNetworkPolicies: [] };
      for (const r of all(plain)) {
        assert.equal(r.verdict === 'allowed', r.egress.verdict === 'allowed' && r.ingress.verdict === 'allowed');
        for (const d of [r.egress, r.ingress]) {
          assert.equal(d.verdict === 'allowed', !d.isolated || d.allowedBy.length > 0, `seed ${seed}: ${d.explanation}`);
          assert.equal(d.isolated, d.policies.length > 0);
        }
        if (r.verdict === 'denied') denied++;
      }
    }
    assert.ok(denied > 0);
  });
});
