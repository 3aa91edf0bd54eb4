// Benchmarks of policy evaluation (`npm run bench -- policy`): issue 10's targets — 1,000
// NetworkPolicies over 10,000 pods, one flow's verdict under 1 ms after indexing, and a 100 x 100 pod
// matrix (10,000 verdicts) under 1 s. The cluster is generated (deterministic): 100 namespaces of 100
// pods, ten policies per namespace mixing pod and namespace selectors (matchLabels and expressions),
// ipBlocks with exceptions, numbered, named and ranged ports, default-deny and allow-all policies; plus
// 20 AdminNetworkPolicies and a baseline, so that every tier is walked.
import { loadavg } from 'node:os';
import { readKubernetes } from '../src/capture/kubernetes';
import { evaluateWith, PolicyIndex, policyMatrixWith, type PolicyRequest } from '../src/engine/policy';
import { median, type Report } from './engine';
import { prng } from './generate';

const NAMESPACES = 100;
const PODS_PER_NS = 100;
const POLICIES_PER_NS = 10;
const FLOW_TARGET_MS = 1;
const MATRIX_TARGET_MS = 1000;
const APPS = ['web', 'api', 'db', 'cache', 'queue', 'worker', 'batch', 'auth', 'search', 'mail'];

export function policyCluster(seed = 11): Record<string, unknown[]> {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const namespaces: unknown[] = [];
  const pods: unknown[] = [];
  const networkPolicies: unknown[] = [];
  for (let n = 0; n < NAMESPACES; n++) {
    const ns = `ns-${n}`;
    namespaces.push({ metadata: { name: ns, labels: { team: `t${n % 7}`, env: n % 3 ? 'prod' : 'dev' } } });
    for (let i = 0; i < PODS_PER_NS; i++) {
      const ip = `10.${64 + (n >> 2)}.${((n & 3) << 6) | (i >> 2)}.${((i & 3) << 6) + 1}`;
      pods.push({
        metadata: { name: `${pick(APPS)}-${i}`, namespace: ns, labels: { app: APPS[i % APPS.length]!, version: `v${i % 3}`, ...(i % 4 === 0 ? { canary: 'true' } : {}) } },
        spec: { nodeName: `node-${i % 50}`, containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }, { name: 'metrics', containerPort: 9090 }, { name: 'dns', containerPort: 53, protocol: 'UDP' }] }] },
        status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] },
      });
    }
    for (let p = 0; p < POLICIES_PER_NS; p++) {
      const kind = p === 0 ? 'deny' : p === 1 && n % 5 === 0 ? 'allow-all' : 'rules';
      const podSelector = kind === 'rules' ? (rnd() < 0.7 ? { matchLabels: { app: pick(APPS) } } : { matchExpressions: [{ key: 'version', operator: 'In', values: [pick(['v0', 'v1', 'v2'])] }] }) : {};
      const peer = () => {
        const r = rnd();
        if (r < 0.35) return { podSelector: { matchLabels: { app: pick(APPS) } } };
        if (r < 0.6) return { namespaceSelector: { matchLabels: { team: `t${Math.floor(rnd() * 7)}` } }, podSelector: { matchExpressions: [{ key: 'canary', operator: 'DoesNotExist' }] } };
        if (r < 0.8) return { namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }] } };
        const b = 64 + Math.floor(rnd() * 25);
        return { ipBlock: { cidr: `10.${b}.0.0/16`, except: [`10.${b}.${Math.floor(rnd() * 256)}.0/24`] } };
      };
      const port = () => pick([{ port: 8080 }, { port: 'http' }, { port: 'metrics' }, { port: 9000, endPort: 9100 }, { protocol: 'UDP', port: 'dns' }]);
      const rules = (key: string) => Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => ({ [key]: Array.from({ length: 1 + Math.floor(rnd() * 3) }, peer), ports: Array.from({ length: 1 + Math.floor(rnd() * 2) }, port) }));
      const spec =
        kind === 'deny'
          ? { podSelector, policyTypes: ['Ingress', 'Egress'], egress: [{ ports: [{ protocol: 'UDP', port: 53 }] }] }
          : kind === 'allow-all'
            ? { podSelector, ingress: [{}] }
            : { podSelector, policyTypes: ['Ingress', 'Egress'], ingress: rules('from'), egress: rules('to') };
      networkPolicies.push({ metadata: { name: `${kind}-${p}`, namespace: ns }, spec });
    }
  }
  const adminNetworkPolicies = Array.from({ length: 20 }, (_, i) => ({
    apiVersion: 'policy.networking.k8s.io/v1alpha1',
    kind: 'AdminNetworkPolicy',
    metadata: { name: `anp-${i}` },
    spec: {
      priority: i * 5,
      subject: { namespaces: { matchLabels: { team: `t${i % 7}` } } },
      ingress: [{ action: pick(['Allow', 'Deny', 'Pass']), from: [{ namespaces: { matchLabels: { env: 'dev' } } }], ports: [{ portNumber: { port: 22 } }] }],
      egress: [{ action: 'Deny', to: [{ networks: ['192.0.2.0/24'] }] }],
    },
  }));
  const baselineAdminNetworkPolicies = [{ apiVersion: 'policy.networking.k8s.io/v1alpha1', kind: 'BaselineAdminNetworkPolicy', metadata: { name: 'default' }, spec: { subject: { namespaces: {} }, ingress: [{ action: 'Deny', from: [{ namespaces: {} }] }] } }];
  return { namespaces, pods, networkPolicies, adminNetworkPolicies, baselineAdminNetworkPolicies };
}

const timed = <T>(f: () => T): { value: T; ms: number } => {
  const t0 = performance.now();
  const value = f();
  return { value, ms: performance.now() - t0 };
};

export function benchPolicy(report: Report): void {
  const raw = policyCluster();
  const podNames = (raw.pods as { metadata: { name: string; namespace: string } }[]).map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
  const policyCount = raw.networkPolicies!.length;
  const rnd = prng(3);
  const flow = (): PolicyRequest => ({ from: podNames[Math.floor(rnd() * podNames.length)]!, to: podNames[Math.floor(rnd() * podNames.length)]!, port: [8080, 9090, 9050, 22, 443][Math.floor(rnd() * 5)]! });

  // Indexing: the kubernetes section read (validated, defaulted) and the policy index built.
  const readRuns: number[] = [];
  const indexRuns: number[] = [];
  let idx: PolicyIndex | undefined;
  for (let i = 0; i < 5; i++) {
    const copy = JSON.parse(JSON.stringify(raw)) as unknown;
    const k = timed(() => readKubernetes(copy));
    const built = timed(() => new PolicyIndex(k.value));
    readRuns.push(k.ms);
    indexRuns.push(built.ms);
    idx = built.value;
  }
  if (idx!.warnings.length) return report('FAIL', `policy bench cluster has warnings: ${idx!.warnings.slice(0, 3).map((w) => `${w.path}: ${w.message}`).join('; ')}`);
  report('INFO', `policy index: ${policyCount.toLocaleString('en')} NetworkPolicies, 20 admin + 1 baseline, ${podNames.length.toLocaleString('en')} pods`, {
    figure: `index built ${median(indexRuns).toFixed(1)} ms`,
    target: 'none yet',
    detail: `section read ${median(readRuns).toFixed(0)} ms; medians of 5`,
  });

  // One flow's verdict on a fresh index: each flow meets pods whose selecting policies are not yet
  // worked out (the lazy per-pod cache is cold for most), which is what a single CLI call pays.
  const cold: number[] = [];
  const fresh = new PolicyIndex(readKubernetes(JSON.parse(JSON.stringify(raw))));
  let allowed = 0;
  for (let i = 0; i < 2000; i++) {
    const f = flow();
    const r = timed(() => evaluateWith(fresh, f));
    if (!r.value.ok) return report('FAIL', `policy bench flow failed: ${r.value.error}`);
    if (r.value.result.verdict === 'allowed') allowed++;
    cold.push(r.ms);
  }
  // The same flows again: every pod's policies known.
  const warm: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const f = flow();
    warm.push(timed(() => evaluateWith(idx!, f)).ms);
  }
  const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.99)]!;
  const coldMs = median(cold.slice(100));
  report(coldMs < FLOW_TARGET_MS ? 'PASS' : 'FAIL', "policy: one flow's verdict after indexing (1,000 policies, 10,000 pods)", {
    figure: `median ${coldMs.toFixed(3)} ms with per-pod caches cold`,
    target: `< ${FLOW_TARGET_MS} ms`,
    detail:
      `p99 ${p99(cold.slice(100)).toFixed(3)} ms, max ${Math.max(...cold.slice(100)).toFixed(2)} ms (the first 100 flows, JIT warm-up: max ${Math.max(...cold.slice(0, 100)).toFixed(2)} ms); ` +
      `warm median ${median(warm).toFixed(3)} ms; ${allowed} of 2,000 allowed; load ${loadavg()[0]!.toFixed(2)}`,
  });

  // A 100 x 100 matrix: the first 100 pods of two namespaces against each other, on a fresh index.
  const rows = podNames.slice(0, 100);
  const cols = podNames.slice(500, 600);
  const matrixRuns: number[] = [];
  for (let run = 0; run < 5; run++) {
    const m = new PolicyIndex(readKubernetes(JSON.parse(JSON.stringify(raw))));
    const t = timed(() => {
      let n = 0;
      for (const from of rows) for (const to of cols) if (evaluateWith(m, { from, to, port: 8080 }).ok) n++;
      return n;
    });
    if (t.value !== 10_000) return report('FAIL', `policy matrix evaluated ${t.value} of 10,000 cells`);
    matrixRuns.push(t.ms);
  }
  const matrixMs = median(matrixRuns);
  report(matrixMs < MATRIX_TARGET_MS ? 'PASS' : 'FAIL', 'policy: a 100 x 100 pod matrix (10,000 verdicts, fresh index)', { figure: `median ${matrixMs.toFixed(0)} ms of 5`, target: `< ${MATRIX_TARGET_MS} ms` });

  // The same through policyMatrix (netpath policy matrix): 50 pods of each of two namespaces, every pair.
  const pods = [...podNames.slice(0, 50), ...podNames.slice(500, 550)];
  const pmRuns: number[] = [];
  for (let run = 0; run < 5; run++) {
    const m = new PolicyIndex(readKubernetes(JSON.parse(JSON.stringify(raw))));
    const t = timed(() => policyMatrixWith(m, { pods, port: 8080 }));
    if (!t.value.ok || t.value.matrix.cells.flat().length !== 10_000) return report('FAIL', `policyMatrix: ${t.value.ok ? `${t.value.matrix.cells.flat().length} of 10,000 cells` : t.value.error}`);
    pmRuns.push(t.ms);
  }
  const pmMs = median(pmRuns);
  report(pmMs < MATRIX_TARGET_MS ? 'PASS' : 'FAIL', 'policy: policyMatrix, 100 x 100 pods (fresh index)', { figure: `median ${pmMs.toFixed(0)} ms of 5`, target: `< ${MATRIX_TARGET_MS} ms` });
}
