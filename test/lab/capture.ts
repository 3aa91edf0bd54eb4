// Captures a built lab into a capture document (shared/spec/capture-v1.md): every probe of
// PROBE_COMMANDS run in every host's namespace, exactly as a collector on a real cluster runs them.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { API_VERSION, serializeCapture, validateCapture, type Capture, type CaptureProblem } from '../../src/capture/document';
import { PROBE_COMMANDS, type ProbeCommand } from '../../src/capture/probes';
import { PROBES, type ProbeName } from '../../src/parsers';
import { formatArgv, which, type Lab, type RunResult } from './netns';
import type { BuiltCluster, LabHost } from './topology';

export interface ProbeOutcome {
  host: string;
  probe: ProbeName;
  /** `ok`: text recorded; `missing-tool`: no command of the probe is installed; `failed`: all installed ones failed. */
  status: 'ok' | 'missing-tool' | 'failed';
  /** The command whose output was recorded. */
  argv?: readonly string[];
  form?: string;
  /** Why each command was not used. */
  notes: string[];
}

export interface LabCapture {
  capture: Capture;
  outcomes: ProbeOutcome[];
  /** validateCapture's warnings (an empty list for a lab capture). */
  warnings: CaptureProblem[];
}

export interface CaptureOptions {
  /** Default: now. Second precision, UTC. */
  capturedAt?: Date;
  /** Probes to run (default every probe). */
  probes?: readonly ProbeName[];
  /** Commands running at once (default 16). */
  concurrency?: number;
  /** Which argv produce each probe (default PROBE_COMMANDS); tests replace some. */
  commands?: Readonly<Record<ProbeName, readonly ProbeCommand[]>>;
  /** The capture's `kubernetes` section (what the API says about the lab: kube-objects.ts). */
  kubernetes?: Record<string, unknown[]>;
}

/** Runs the probes of one host; the first command of a probe that exits 0 wins. */
async function runProbe(lab: Lab, host: string, probe: ProbeName, commands: readonly ProbeCommand[]): Promise<{ outcome: ProbeOutcome; text?: string }> {
  const notes: string[] = [];
  let anyInstalled = false;
  for (const cmd of commands) {
    const tool = cmd.argv[0]!;
    if (which(tool) === undefined) {
      notes.push(`${tool}: not installed`);
      continue;
    }
    anyInstalled = true;
    const r: RunResult = await lab.tryProbeAsync(host, cmd.argv);
    if (r.code === 0 && !r.spawnError) {
      return { outcome: { host, probe, status: 'ok', argv: cmd.argv, form: cmd.form, notes }, text: r.stdout };
    }
    const why = r.spawnError ? r.spawnError.message : r.signal ? `killed by ${r.signal}` : `exit code ${r.code}`;
    notes.push(`${formatArgv(cmd.argv)}: ${why}${r.stderr.trim() ? `: ${r.stderr.trim().split('\n')[0]}` : ''}`);
  }
  return { outcome: { host, probe, status: anyInstalled ? 'failed' : 'missing-tool', notes } };
}

async function pool<T>(jobs: (() => Promise<T>)[], width: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(width, jobs.length)) }, worker));
  return out;
}

function hostEntry(h: LabHost, probes: Record<string, string>): Capture['hosts'][number] {
  const e: Capture['hosts'][number] = { name: h.name, role: h.role };
  if (h.role === 'pod') {
    e.node = h.node;
    e.namespace = h.namespace;
    e.pod = h.pod;
    e.hostNetwork = false;
  }
  if (h.ips) e.ips = [...h.ips];
  if (h.podCIDRs) e.podCIDRs = [...h.podCIDRs];
  e.probes = probes;
  return e;
}

/** Captures every host of a built cluster. A missing tool is not fatal: that probe is left out and reported. */
export async function captureLab(lab: Lab, built: BuiltCluster, opts: CaptureOptions = {}): Promise<LabCapture> {
  // The lab kernel has no WireGuard module and no bridge VLAN filtering, so there is never a `wg` or a
  // `bridgevlan` table to read. The `recent` lists are read, as a collector reads them, only where a
  // rule uses them: a caller that sets such rules asks.
  const probes = opts.probes ?? PROBES.filter((p) => p !== 'wg' && p !== 'xt_recent' && p !== 'bridgevlan');
  const commands = opts.commands ?? PROBE_COMMANDS;
  const jobs = built.hosts.flatMap((h) => probes.map((p) => () => runProbe(lab, h.name, p, commands[p])));
  const results = await pool(jobs, opts.concurrency ?? 16);
  const byHost = new Map<string, Record<string, string>>(built.hosts.map((h) => [h.name, {}]));
  for (const r of results) if (r.text !== undefined) byHost.get(r.outcome.host)![r.outcome.probe] = r.text;

  const capturedAt = (opts.capturedAt ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const doc = {
    apiVersion: API_VERSION,
    kind: 'Capture',
    metadata: { cluster: built.spec.name, capturedAt },
    hosts: built.hosts.map((h) => hostEntry(h, byHost.get(h.name)!)),
    links: built.links.map((l) => ({ a: { ...l.a }, b: { ...l.b } })),
    ...(opts.kubernetes ? { kubernetes: opts.kubernetes } : {}),
  };
  const v = validateCapture(doc);
  if (!v.ok) throw new Error(`the lab produced an invalid capture:\n${v.errors.map((e) => `- ${e.path}: ${e.message}`).join('\n')}`);
  return { capture: v.capture, outcomes: results.map((r) => r.outcome), warnings: v.warnings };
}

/** One line per probe that was not captured (with the hosts, or "every host"); empty when everything was. */
export function describeGaps(outcomes: readonly ProbeOutcome[]): string[] {
  const hostsPerProbe = new Map<ProbeName, number>();
  const gaps = new Map<string, { probe: ProbeName; hosts: string[]; notes: string }>();
  for (const o of outcomes) {
    hostsPerProbe.set(o.probe, (hostsPerProbe.get(o.probe) ?? 0) + 1);
    if (o.status === 'ok') continue;
    const key = `${o.probe} (${o.status})`;
    const g = gaps.get(key) ?? { probe: o.probe, hosts: [], notes: o.notes.join('; ') };
    g.hosts.push(o.host);
    gaps.set(key, g);
  }
  return [...gaps].map(([key, g]) => `${key} on ${g.hosts.length === hostsPerProbe.get(g.probe) ? 'every host' : g.hosts.join(', ')}: ${g.notes}`);
}

/**
 * Validates and writes a capture atomically: a temporary file in the same directory, flushed, then
 * renamed over the target, so a reader never sees half a document. Returns the validation warnings.
 */
export function writeCaptureFile(path: string, capture: Capture): CaptureProblem[] {
  const v = validateCapture(capture);
  if (!v.ok) throw new Error(`refusing to write an invalid capture to ${path}:\n${v.errors.map((e) => `- ${e.path}: ${e.message}`).join('\n')}`);
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.tmp`);
  try {
    const fd = openSync(tmp, 'w', 0o644);
    try {
      writeSync(fd, serializeCapture(v.capture));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  return v.warnings;
}
