// Pods read by hand (plainPod, the fast path of a big cluster's section) give exactly what the
// schema gives: same fields, defaults, key order and unknown fields, and nothing the schema would
// refuse. Checked on kubectl's pods, hand-written manifests and every single-field mutation of them.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, test } from 'node:test';
import { plainPod, readBySchema, readKubernetes } from '../../../src/capture/kubernetes';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const fixture = JSON.parse(readFileSync(join(__dirname, '../../fixtures/kubernetes/cluster.json'), 'utf8')) as { kubernetes: { pods: Json[] } };
const demo = JSON.parse(gunzipSync(readFileSync(join(__dirname, '../../fixtures/captures/demo-fault-01-healthy-cluster.json.gz'))).toString('utf8')) as { kubernetes?: { pods?: Json[] } };

const handWritten: Json[] = [
  { metadata: { name: 'bare' } },
  { apiVersion: 'v1', kind: 'Pod', metadata: { labels: { app: 'web' }, name: 'a', namespace: 'shop', uid: 'u-1', extra: 1 }, spec: { x: 1, containers: [{ ports: [{ containerPort: 80 }], name: 'c' }] }, status: { podIP: '10.0.0.1', phase: 'Running' }, extra: true },
  { metadata: { name: 'two-ips', deletionTimestamp: '2026-01-01T00:00:00Z', annotations: { a: 'b' } }, status: { podIPs: [{ ip: '10.0.0.1' }, { ip: 'fd00::1', note: 'v6' }], podIP: '10.0.0.1', hostIP: '10.4.7.21' } },
  { metadata: { name: 'host-net', namespace: 'kube-system' }, spec: { nodeName: 'n1', hostNetwork: true, initContainers: [{ name: 'init', ports: [] }], containers: [{ name: 'm', ports: [{ name: 'dns', containerPort: 53, protocol: 'UDP', hostPort: 53, hostIP: '0.0.0.0', extra: 'x' }] }] } },
  { metadata: { name: 'with-status-only-extra' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } },
];

const bases: Json[] = [...fixture.kubernetes.pods, ...(demo.kubernetes?.pods ?? []), ...handWritten];

/** Values a field is swapped for: right and wrong types, edge numbers, protocols, addresses. */
const ODD: Json[] = [0, -1, 1.5, 53, 65535, 65536, '', 'x', 'TCP', 'UDP', 'SCTP', 'ICMP', true, false, [], {}, [{}], { ip: '10.0.0.9' }, '10.0.0.9', '::1', '999.1.1.1', '01.2.3.4', 'v1', 'Pod', 'Service'];

/** Every path to a value in a JSON tree. */
function paths(v: Json, at: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [at];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])));
  else if (v && typeof v === 'object') for (const k of Object.keys(v)) out.push(...paths(v[k]!, [...at, k]));
  return out;
}

function mutate(base: Json, path: (string | number)[], how: (parent: Record<string, Json> | Json[], key: string | number) => void): Json {
  const copy = structuredClone(base);
  let parent: Json = copy;
  for (const k of path.slice(0, -1)) parent = (parent as Record<string, Json>)[k as string]!;
  how(parent as Record<string, Json>, path.at(-1)!);
  return copy;
}

function* variants(base: Json): Generator<Json> {
  yield base;
  for (const p of paths(base)) {
    if (p.length === 0) continue;
    yield mutate(base, p, (o, k) => (Array.isArray(o) ? o.splice(k as number, 1) : delete o[k as string]));
    for (const odd of ODD) yield mutate(base, p, (o, k) => ((o as Record<string, Json>)[k as string] = structuredClone(odd)));
    // An unknown field beside it, and "__proto__" as a key (left to the schema).
    yield mutate(base, p, (o) => {
      if (!Array.isArray(o)) o.zz = 1;
    });
    yield mutate(base, p, (o) => {
      if (!Array.isArray(o)) Object.defineProperty(o, '__proto__', { value: { a: 'b' }, enumerable: true, configurable: true, writable: true });
    });
  }
}

describe('pods read by hand, held to the schema', () => {
  test('kubectl pods and hand-written manifests are read by hand, into exactly what the schema gives', () => {
    assert.ok(bases.length >= 10, `only ${bases.length} pods to compare`);
    for (const pod of bases) {
      const plain = plainPod(structuredClone(pod) as Record<string, unknown>);
      assert.ok(plain, `the hand reader refused a well-formed pod: ${JSON.stringify(pod).slice(0, 200)}`);
      const schema = readBySchema('pods', pod);
      assert.equal(JSON.stringify(plain), JSON.stringify(schema));
      assert.deepStrictEqual(plain, schema);
    }
  });

  test('every single-field mutation: read by hand only when the schema reads it the same; the rest is left to the schema', () => {
    let byHand = 0;
    let toSchema = 0;
    let refused = 0;
    for (const base of bases) {
      for (const v of variants(base)) {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) continue;
        const schema = readBySchema('pods', v);
        const plain = plainPod(v as Record<string, unknown>);
        if (!schema) refused++;
        if (plain === undefined) {
          toSchema++;
          continue;
        }
        byHand++;
        assert.ok(schema, `read by hand, refused by the schema: ${JSON.stringify(v).slice(0, 300)}`);
        assert.equal(JSON.stringify(plain), JSON.stringify(schema), `differs from the schema's for ${JSON.stringify(v).slice(0, 300)}`);
        assert.deepStrictEqual(plain, schema);
      }
    }
    // Both ways are exercised: most mutations are still pods; many are not.
    assert.ok(byHand > 1000 && refused > 1000, `by hand ${byHand}, to the schema ${toSchema}, refused ${refused}`);
  });

  test('readKubernetes gives the same section either way, issues and evidence paths included', () => {
    const pods: Json[] = [...bases, { metadata: { name: '' } }, { metadata: { name: 'p', labels: { a: 1 } } }, { metadata: { name: 'n', namespace: null }, status: { podIPs: null, podIP: '10.1.1.1' } }, 'not a pod'];
    const k = readKubernetes({ pods });
    const bySchema = pods.map((p) => (typeof p === 'object' && p !== null && !Array.isArray(p) ? readBySchema('pods', p) : undefined)).filter((p) => p !== undefined);
    assert.deepStrictEqual(k.pods, bySchema);
    assert.deepEqual(
      k.issues.map((i) => i.path),
      [`kubernetes.pods[${bases.length}].metadata.name`, `kubernetes.pods[${bases.length + 1}].metadata.labels.a`, `kubernetes.pods[${bases.length + 3}]`],
    );
    // The pod whose nulls were removed is read (podIPs from podIP, namespace defaulted).
    const n = k.pods.find((p) => p.metadata.name === 'n')!;
    assert.deepEqual([n.metadata.namespace, n.status.podIPs], ['default', [{ ip: '10.1.1.1' }]]);
  });
});
