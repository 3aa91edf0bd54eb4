// Running a lab topology and judging the engine by the kernel, shared by the suites that do it
// (topologies.test.ts, toolless.test.ts): build, prove with pings, capture; trace; apply a fault and
// capture again; send one real IPv4 packet (oracle.ts) and compare; find hops and steps for assertions.
import { strict as assert } from 'node:assert';
import type { Capture, Host } from '../../src/capture/document';
import { Addr } from '../../src/net/addr';
import { buildNetwork, simulate, type Hop, type Network, type Step, type StepKind, type TraceResult } from '../../src/engine';
import { captureLab } from './capture';
import { Lab, sweepStaleNamespaces } from './netns';
import { compareWithEngine, observe, type Observation } from './oracle';
import { buildCluster, labAddresses, settle, type BuiltCluster, type ClusterSpec } from './topology';

/** IP packet length of every probe: what `ping` sends by default (56 bytes of data). */
export const SIZE = 84;

export interface Running {
  lab: Lab;
  built: BuiltCluster;
  /** The capture taken after the proof pings (and any neighbour flush the topology asks for). */
  capture: Capture;
  net: Network;
  buildMs: number;
}

/** Round-trip pings between lab addresses only (IPv4 or IPv6); returns the failures. */
export function ping(lab: Lab, built: BuiltCluster, from: string, to: string): string | undefined {
  if (!labAddresses(built).has(Addr.must(to).toString())) throw new Error(`refusing to ping ${to}: not an address of the lab`);
  let out = '';
  for (let i = 0; i < 3; i++) {
    const r = lab.tryExecIn(from, ['ping', '-n', '-c', '1', '-W', '2', to], { timeoutMs: 10_000 });
    out = (r.stdout + r.stderr).trim();
    if (r.code === 0) return undefined;
  }
  return `${from} -> ${to}: no reply\n${out}`;
}

/**
 * Builds a topology, waits for DAD, proves it with round-trip pings, runs `prepare`, captures it.
 * `extend` adds to the built cluster before anything is proved (a second network: multus.ts) and
 * returns the cluster with its new hosts, cables and addresses.
 */
export async function bringUp(spec: ClusterSpec, proof: [string, string][], prepare: (lab: Lab) => void = () => {}, extend?: (lab: Lab, built: BuiltCluster) => BuiltCluster): Promise<Running> {
  sweepStaleNamespaces();
  const lab = new Lab();
  try {
    const t = Date.now();
    const base = buildCluster(lab, spec);
    const built = extend ? extend(lab, base) : base;
    await settle(lab);
    const buildMs = Date.now() - t;
    const failed = proof.map(([from, to]) => ping(lab, built, from, to)).filter((x): x is string => x !== undefined);
    assert.deepEqual(failed, [], `${spec.name} does not forward:\n${failed.join('\n')}`);
    prepare(lab);
    const { capture } = await captureLab(lab, built);
    return { lab, built, capture, net: buildNetwork(capture), buildMs };
  } catch (e) {
    lab.disposeQuietly();
    throw e;
  }
}

export function trace(net: Network, from: string, to: string): TraceResult {
  const r = simulate(net, { from, to, size: SIZE });
  if (!r.ok) throw new Error(r.error);
  return r.result;
}

export const hostsOf = (r: TraceResult) => r.hops.map((h) => h.host);
export const kinds = (r: TraceResult) => r.hops.flatMap((h) => h.steps.map((s) => s.kind));
export const lines = (text: string | undefined) => (text ?? '').split('\n').map((l) => l.trimEnd()).filter(Boolean);

export function hop(r: TraceResult, host: string, nth = 0): Hop {
  const h = r.hops.filter((x) => x.host === host)[nth];
  assert.ok(h, `the trace does not visit ${host}${nth ? ` a ${nth + 1}. time` : ''}: ${hostsOf(r).join(' -> ')}`);
  return h;
}

export function stepOf(r: TraceResult, host: string, kind: StepKind, match?: RegExp): Step {
  const s = hop(r, host).steps.find((x) => x.kind === kind && (!match || match.test(x.text) || match.test(x.evidence)));
  assert.ok(s, `no ${kind} step${match ? ` matching ${match}` : ''} on ${host}:\n${explain(r)}`);
  return s;
}

export function explain(r: TraceResult): string {
  return [`${r.verdict} ${r.dropAt ? `at ${r.dropAt.host}/${r.dropAt.dev ?? '-'}` : ''}: ${r.reason}`, ...r.hops.flatMap((h) => [`  ${h.host} (${h.in ?? '-'} > ${h.out ?? '-'})`, ...h.steps.map((s) => `    ${s.kind}: ${s.text}${s.evidence ? `  [${s.evidence.replace(/\n/g, ' | ')}]` : ''}`)])].join('\n');
}

export function host(c: Capture, name: string): Host {
  const h = c.hosts.find((x) => x.name === name);
  assert.ok(h, `${name} is not in the capture`);
  return h;
}

export const probe = (c: Capture, name: string, p: string) => lines(host(c, name).probes?.[p]);

/** Applies a fault, captures the lab as it now is, runs `body` against that capture, and undoes the fault. */
export async function withFault<T>(t: Running, fault: { apply: () => void; undo: () => void }, body: (net: Network, capture: Capture) => Promise<T>): Promise<T> {
  fault.apply();
  try {
    const { capture } = await captureLab(t.lab, t.built);
    return await body(buildNetwork(capture), capture);
  } finally {
    fault.undo();
  }
}

/** One real IPv4 packet; the engine's trace of the same flow must agree with what the kernel did. */
export async function agree(t: Running, net: Network, from: string, to: string): Promise<{ obs: Observation; r: TraceResult }> {
  const r = trace(net, from, to);
  const obs = await observe(t.lab, t.built, { from, to, size: SIZE });
  compareWithEngine(obs, r);
  return { obs, r };
}
