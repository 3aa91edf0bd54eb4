// Frozen traces: what the engine answers today for every pair of hosts of every capture kept in
// test/fixtures/captures (and the demo), compared field by field. A change to the engine that is
// meant to keep its behaviour (a restructuring) must leave these alone; one that changes behaviour on
// purpose regenerates them with UPDATE_SNAPSHOTS=1, and the diff of test/fixtures/snapshots is reviewed.
//
// The captures are real: the demo, and the lab's topologies and faults captured from kernels in network
// namespaces (test/lab/make-snapshot-captures.ts). Each snapshot file is gzipped JSON: flow key -> the
// trace result (or the error) exactly as `netpath trace --json` prints it.
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { kubernetesOf, parseCapture, type Capture } from '../../../src/capture/document';
import { buildNetwork, simulate, type TraceRequest } from '../../../src/engine';

const root = join(__dirname, '../../..');
const capturesDir = join(root, 'test/fixtures/captures');
const snapshotsDir = join(root, 'test/fixtures/snapshots');
const UPDATE = process.env.UPDATE_SNAPSHOTS === '1';

function readMaybeGz(path: string): string {
  const buf = readFileSync(path);
  return (path.endsWith('.gz') ? gunzipSync(buf) : buf).toString('utf8');
}

function captures(): { name: string; capture: Capture }[] {
  const files = [join(root, 'examples/demo-flannel-vxlan.json')];
  if (existsSync(capturesDir)) files.push(...readdirSync(capturesDir).filter((f) => /\.json(\.gz)?$/.test(f)).sort().map((f) => join(capturesDir, f)));
  return files.map((f) => {
    const r = parseCapture(readMaybeGz(f));
    if (!r.ok) throw new Error(`${f}: ${r.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
    return { name: basename(f).replace(/\.json(\.gz)?$/, ''), capture: r.capture };
  });
}

/**
 * The flows traced on a capture: every ordered pair of hosts that send and receive (pods, nodes,
 * routers) as ICMP of 64 bytes, to each of the destination's other addresses too (dual stack), and
 * between pods also a 1500-byte UDP datagram (MTU and ports), every Service port of the capture's
 * kubernetes section (ClusterIP from each pod, NodePort on each node from each host that is no pod),
 * plus the flows a capture lists in metadata.snapshotFlows (a fault's own probes).
 */
function flows(c: Capture): TraceRequest[] {
  const ends = c.hosts.filter((h) => h.role !== 'switch');
  const ref = (h: Capture['hosts'][number]) => (h.role === 'pod' && h.namespace !== undefined ? `${h.namespace}/${h.pod ?? h.name}` : h.name);
  const out: TraceRequest[] = [];
  for (const a of ends) {
    for (const b of ends) {
      if (a === b) continue;
      out.push({ from: ref(a), to: ref(b) });
      if (a.role === 'pod' && b.role === 'pod') out.push({ from: ref(a), to: ref(b), proto: 'udp', port: 53, size: 1500 });
      // A dual-stack host's other addresses (IPv6 beside IPv4) by address.
      for (const ip of (b.ips ?? []).slice(1)) out.push({ from: ref(a), to: ip });
    }
  }
  // Every Service port of the capture's kubernetes section: its ClusterIP from every pod, its NodePort
  // on every node from every host that is not a pod (the nodes themselves and routers outside the cluster).
  for (const svc of kubernetesOf(c).services) {
    for (const p of svc.spec.ports) {
      const proto = p.protocol === 'UDP' ? 'udp' : p.protocol === 'TCP' ? 'tcp' : undefined;
      if (!proto) continue;
      for (const ip of svc.spec.clusterIPs.filter((x) => x !== 'None')) for (const a of ends.filter((h) => h.role === 'pod')) out.push({ from: ref(a), to: ip, proto, port: p.port });
      if (p.nodePort === undefined) continue;
      for (const n of c.hosts.filter((h) => h.role === 'node')) for (const a of ends.filter((h) => h.role !== 'pod')) for (const ip of n.ips ?? []) out.push({ from: ref(a), to: ip, proto, port: p.nodePort });
    }
  }
  const extra = (c.metadata as { snapshotFlows?: TraceRequest[] } | undefined)?.snapshotFlows ?? [];
  return [...out, ...extra];
}

const key = (r: TraceRequest) => `${r.from} -> ${r.to}${r.proto ? ` ${r.proto}` : ''}${r.port !== undefined ? `:${r.port}` : ''}${r.size !== undefined ? ` ${r.size}B` : ''}`;

/** The first place two JSON values differ, as a path, for a readable failure. */
function firstDifference(a: unknown, b: unknown, path = '$'): string | undefined {
  if (Object.is(a, b)) return undefined;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) {
    return `${path}: ${JSON.stringify(a)?.slice(0, 300)} != ${JSON.stringify(b)?.slice(0, 300)}`;
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
    if (d) return d;
  }
  return undefined;
}

describe('frozen traces (snapshots of every capture kept for them)', () => {
  for (const { name, capture } of captures()) {
    test(name, () => {
      const net = buildNetwork(capture);
      const actual: Record<string, unknown> = {};
      for (const req of flows(capture)) {
        const o = simulate(net, req);
        // Through JSON, as `netpath trace --json` prints it (undefined fields dropped).
        actual[key(req)] = JSON.parse(JSON.stringify(o.ok ? o.result : { error: o.error }));
      }
      const file = join(snapshotsDir, `${name}.json.gz`);
      if (UPDATE || !existsSync(file)) {
        if (!UPDATE) assert.fail(`${file} is missing: run with UPDATE_SNAPSHOTS=1 and review it`);
        mkdirSync(snapshotsDir, { recursive: true });
        writeFileSync(file, gzipSync(`${JSON.stringify(actual, null, 1)}\n`, { level: 9 }));
        return;
      }
      const expected = JSON.parse(readMaybeGz(file)) as Record<string, unknown>;
      assert.deepEqual(Object.keys(actual), Object.keys(expected), 'the flows traced differ from the snapshot');
      const changed = Object.keys(expected).flatMap((k) => {
        const d = firstDifference(actual[k], expected[k]);
        return d ? [`${k}: ${d}`] : [];
      });
      assert.equal(changed.length, 0, `${changed.length} of ${Object.keys(expected).length} traces differ from ${file} (UPDATE_SNAPSHOTS=1 rewrites it when the change is meant):\n${changed.slice(0, 10).join('\n')}`);
    });
  }
});
