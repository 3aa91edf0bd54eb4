// Captures for the frozen traces (test/unit/engine/snapshots.test.ts): the lab's topologies as built and
// warmed by real traffic, and the demo cluster under each of its faults (test/lab/fault-cases.ts), each
// captured from the kernels and written gzipped to test/fixtures/captures. A fault's capture lists the
// fault's own flows in metadata.snapshotFlows so they are traced besides every pair of hosts.
//
// Run as root: `node --import tsx test/lab/make-snapshot-captures.ts` (about a minute). Regenerate the
// snapshots afterwards (UPDATE_SNAPSHOTS=1) and review their diff: a new capture changes them all.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { serializeCapture, type Capture } from '../../src/capture/document';
import type { TraceRequest } from '../../src/engine';
import { captureLab } from './capture';
import { DEMO_CLUSTER } from './demo-cluster';
import { FAULT_CASES, type FaultContext } from './fault-cases';
import { ping } from './judge';
import { Lab, sweepStaleNamespaces, which } from './netns';
import { BRIDGE_DUAL_STACK, CALICO_VXLAN, FLANNEL_HOST_GW, TWO_SUBNETS } from './topology-specs';
import { buildCluster, settle, type ClusterSpec } from './topology';
import { assertConnectivity, checkConnectivity } from './verify';

const OUT = join(__dirname, '../fixtures/captures');

function write(name: string, capture: Capture, flows: TraceRequest[] = []): void {
  // The capture time would differ on every run; the snapshots do not need it.
  const meta = { ...capture.metadata, capturedAt: '2026-12-05T00:00:00Z', ...(flows.length ? { snapshotFlows: flows } : {}) };
  const doc = { ...capture, metadata: meta } as Capture;
  const file = join(OUT, `${name}.json.gz`);
  writeFileSync(file, gzipSync(serializeCapture(doc), { level: 9 }));
  console.log(`wrote ${file}`);
}

async function topology(spec: ClusterSpec): Promise<void> {
  const lab = new Lab();
  try {
    const built = buildCluster(lab, spec);
    await settle(lab);
    // Warm neighbour and bridge tables, as on a cluster that has carried traffic: every pod pings every
    // other pod's addresses (both families where it has them).
    const pods = spec.nodes.flatMap((n) => n.pods);
    const failed = pods.flatMap((a) => pods.filter((b) => b !== a).flatMap((b) => [b.ip, ...(b.ip6 ? [b.ip6] : [])].map((ip) => ping(lab, built, a.name, ip)))).filter((x): x is string => x !== undefined);
    if (failed.length) throw new Error(`${spec.name} does not forward:\n${failed.join('\n')}`);
    write(spec.name, (await captureLab(lab, built)).capture);
  } finally {
    lab.disposeQuietly();
  }
}

async function demoFaults(): Promise<void> {
  let lab = new Lab();
  const up = async (): Promise<FaultContext> => {
    const built = buildCluster(lab, DEMO_CLUSTER);
    await settle(lab);
    assertConnectivity(checkConnectivity(lab, built));
    const brnf = lab.tryExecIn('k8s-node1', ['cat', '/proc/sys/net/bridge/bridge-nf-call-iptables']);
    return { lab, built, brNetfilter: brnf.code === 0 && brnf.stdout.trim() === '1', python: which('python3') !== undefined };
  };
  try {
    let ctx = await up();
    for (const [i, c] of FAULT_CASES.entries()) {
      try {
        await c.apply?.(ctx);
        const flows = c.probes.map((p) => ({ from: p.flow.from, to: p.flow.to, size: p.flow.size, proto: p.flow.proto ?? 'icmp', ...(p.flow.port !== undefined ? { port: p.flow.port } : {}) }));
        const slug = c.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 48).replace(/-$/, '');
        write(`demo-fault-${String(i + 1).padStart(2, '0')}-${slug}`, (await captureLab(lab, ctx.built)).capture, flows);
      } finally {
        await c.repair?.(ctx);
        if (!checkConnectivity(lab, ctx.built).every((x) => x.ok)) {
          lab.disposeQuietly();
          lab = new Lab();
          ctx = await up();
        }
      }
    }
  } finally {
    lab.disposeQuietly();
  }
}

async function main(): Promise<void> {
  sweepStaleNamespaces();
  mkdirSync(OUT, { recursive: true });
  for (const spec of [FLANNEL_HOST_GW, CALICO_VXLAN, BRIDGE_DUAL_STACK, TWO_SUBNETS]) await topology(spec);
  await demoFaults();
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : String(e));
  process.exit(1);
});
