// The kernel as judge of whole Service traces (services.test.ts): the demo cluster with kube-proxy's
// rules in its nodes, real connections from pods and from the gateway (a host outside the cluster on
// the node network), and what happened to them:
// - listeners in the endpoint pods record every connection (TCP accept) or datagram (UDP) with the
//   peer address the endpoint sees (after any SNAT/MASQUERADE);
// - the sender records, per connection, how it ended: connected / sent, refused (ECONNREFUSED: the
//   ICMP port unreachable a REJECT sends), or timeout (dropped);
// - the nodes' own netfilter trace (`meta nftrace set 1` for the probe's source address and port in a
//   table of ours at priority -500 in every node, `nft -a monitor trace` per node; iptables-nft rules
//   show up in it too) says on which node, at which chain and rule, the packet's trip ended.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { TracePath, TraceResult } from '../../src/engine';
import type { Lab } from './netns';
import type { KernelEvent } from './netfilter-judge';

export type Proto = 'tcp' | 'udp';

/** One connection (TCP) or datagram (UDP) an endpoint took. */
export interface Arrival {
  /** Lab host (pod) that took it. */
  host: string;
  proto: Proto;
  port: number;
  /** The source address the endpoint sees. */
  peer: string;
  peerPort: number;
}

const LISTENER = `
const net = require('net'), dgram = require('dgram');
const { tcp, udp } = JSON.parse(process.argv[1]);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
let ready = 0;
const up = () => { if (++ready === tcp.length + udp.length) out({ ready: true }); };
for (const port of tcp) {
  const s = net.createServer((c) => { out({ proto: 'tcp', port, peer: c.remoteAddress, peerPort: c.remotePort }); c.destroy(); });
  s.on('error', (e) => { out({ error: String(e) }); process.exit(1); });
  s.listen(port, '0.0.0.0', up);
}
for (const port of udp) {
  const s = dgram.createSocket('udp4');
  s.on('message', (m, r) => out({ proto: 'udp', port, peer: r.address, peerPort: r.port }));
  s.on('error', (e) => { out({ error: String(e) }); process.exit(1); });
  s.bind(port, '0.0.0.0', up);
}
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

/** Small servers in pod namespaces, one process per pod; ended by dispose() (they also end with our stdin). */
export class Listeners {
  private readonly procs: ChildProcess[] = [];
  private arrivals: Arrival[] = [];

  constructor(private readonly lab: Lab) {}

  async start(host: string, ports: { tcp: number[]; udp: number[] }): Promise<void> {
    const child = spawn('ip', ['netns', 'exec', this.lab.ns(host), process.execPath, '-e', LISTENER, JSON.stringify(ports)], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.procs.push(child);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`listener in ${host} did not start: ${stderr}`)), 20_000);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const o = JSON.parse(line) as { ready?: true; error?: string } & Omit<Arrival, 'host'>;
        if (o.ready) {
          clearTimeout(timer);
          resolve();
        } else if (o.error) {
          clearTimeout(timer);
          reject(new Error(`listener in ${host}: ${o.error}`));
        } else this.arrivals.push({ host, proto: o.proto, port: o.port, peer: o.peer.replace(/^::ffff:/, ''), peerPort: o.peerPort });
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`listener in ${host} exited (${code}): ${stderr}`));
      });
    });
  }

  /** What arrived since the last take(); waits until nothing new came for a moment. */
  async take(): Promise<Arrival[]> {
    let n = -1;
    while (n !== this.arrivals.length) {
      n = this.arrivals.length;
      await sleep(300);
    }
    const got = this.arrivals;
    this.arrivals = [];
    return got;
  }

  dispose(): void {
    for (const p of this.procs) {
      p.stdin?.end();
      if (p.pid !== undefined && p.exitCode === null) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    this.procs.length = 0;
  }
}

/** How one connection ended at the sender. */
export type SendResult = 'connected' | 'sent' | 'refused' | 'timeout' | `error ${string}`;

const SENDER = `
const net = require('net'), dgram = require('dgram');
const { dst, port, proto, count, sport, timeoutMs } = JSON.parse(process.argv[1]);
const one = (i) => new Promise((res) => {
  const localPort = sport ? sport + i : undefined;
  if (proto === 'udp') {
    const s = dgram.createSocket('udp4');
    s.bind(localPort ?? 0, () => s.send('x', port, dst, (e) => { s.close(); res(e ? 'error ' + e.code : 'sent'); }));
    return;
  }
  const s = net.connect({ host: dst, port, ...(localPort ? { localPort } : {}) });
  const t = setTimeout(() => { s.destroy(); res('timeout'); }, timeoutMs);
  s.on('connect', () => { clearTimeout(t); s.destroy(); res('connected'); });
  s.on('error', (e) => { clearTimeout(t); res(e.code === 'ECONNREFUSED' ? 'refused' : 'error ' + e.code); });
});
(async () => {
  const out = [];
  for (let k = 0; k < count; k += 25) out.push(...(await Promise.all(Array.from({ length: Math.min(25, count - k) }, (_, j) => one(k + j)))));
  process.stdout.write(JSON.stringify(out));
})();
`;

export interface Send {
  dst: string;
  port: number;
  proto: Proto;
  /** New connections, each from its own source port. */
  count?: number;
  /** First source port (consecutive from there); default: the kernel picks. */
  sport?: number;
  timeoutMs?: number;
}

/** Opens `count` new connections (or datagrams) from a lab host and says how each ended. */
export function send(lab: Lab, from: string, s: Send): SendResult[] {
  const arg = { count: 1, timeoutMs: 1500, ...s };
  const r = lab.tryExecIn(from, [process.execPath, '-e', SENDER, JSON.stringify(arg)], { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`sender in ${from} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as SendResult[];
}

/** One node's netfilter trace of the probe: every event of its first traced packet there. */
export interface NodeTrace {
  node: string;
  events: KernelEvent[];
}

/**
 * Sends one probe from `from` (fixed source port) with every node's netfilter trace on, and returns
 * each node's events. The probe is selected by its source address and port as it arrives (before any
 * NAT of that node): a node past a masquerade sees another source and traces nothing.
 */
export async function traceAcross(lab: Lab, nodes: readonly string[], from: string, src: string, s: Send & { sport: number }): Promise<{ result: SendResult; traces: NodeTrace[] }> {
  const sel = `ip saddr ${src} ${s.proto} sport ${s.sport}`;
  const table = `table inet nptrace {\n  chain pre {\n    type filter hook prerouting priority -500; policy accept;\n    ${sel} meta nftrace set 1\n  }\n}\n`;
  const monitors: { node: string; child: ChildProcess; lines: string[] }[] = [];
  try {
    for (const node of nodes) {
      lab.execIn(node, ['nft', '-f', '-'], { input: table });
      const child = spawn('ip', ['netns', 'exec', lab.ns(node), 'nft', '-a', 'monitor', 'trace'], { stdio: ['ignore', 'pipe', 'pipe'] });
      const m = { node, child, lines: [] as string[] };
      createInterface({ input: child.stdout! }).on('line', (l) => m.lines.push(l));
      monitors.push(m);
    }
    // nft monitor subscribes before it prints anything: give it a moment (the caller retries a probe no node traced).
    await sleep(1000);
    const [result] = send(lab, from, { ...s, count: 1 });
    let total = -1;
    for (let i = 0; i < 40; i++) {
      const now = monitors.reduce((a, m) => a + m.lines.length, 0);
      if (now === total) break;
      total = now;
      await sleep(200);
    }
    return { result: result!, traces: monitors.map((m) => ({ node: m.node, events: parseEvents(m.lines).filter((e) => e.table !== 'nptrace') })) };
  } finally {
    for (const m of monitors) m.child.kill('SIGKILL');
    for (const node of nodes) lab.tryExecIn(node, ['nft', 'delete', 'table', 'inet', 'nptrace']);
  }
}

/**
 * Every traced event of a node, whatever its trace id: this kernel (6.18) gives one packet a new trace
 * id from hook to hook (the id hashes the skb's flow hash, computed on the way), so the events are
 * not grouped by id. Only the probe's own packets are traced (its source address and port), and a
 * retransmitted SYN ends where the first one did.
 */
export function parseEvents(lines: readonly string[]): KernelEvent[] {
  const out: KernelEvent[] = [];
  for (const l of lines) {
    const m = /^trace id \S+ (\S+) (\S+) (\S+) (rule|policy) (.*)$/.exec(l.trim());
    if (!m) continue;
    const [, family, table, chain, kind, rest] = m;
    if (kind === 'policy') out.push({ family: family!, table: table!, chain: chain!, kind: 'policy', verdict: rest!.trim().split(/\s+/)[0]! });
    else {
      const v = /# handle (\d+) \(verdict ([^)]*)\)\s*$/.exec(rest!);
      if (v) out.push({ family: family!, table: table!, chain: chain!, kind: 'rule', handle: Number(v[1]), verdict: v[2]!.trim() });
    }
  }
  return out;
}

/** The node whose netfilter dropped or rejected the probe (a rule or policy with verdict drop), with that event; none when no node did. */
export function kernelDrop(traces: readonly NodeTrace[]): { node: string; hook: string | undefined; event: KernelEvent } | undefined {
  for (const t of traces) {
    const i = t.events.findIndex((e) => e.verdict === 'drop');
    if (i < 0) continue;
    // The hook: the last base chain entered before the drop (iptables' built-in chains; kube-proxy's nft base chains are named after theirs).
    const hook = t.events
      .slice(0, i + 1)
      .map((e) => /^(PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING)$/.exec(e.chain)?.[1]?.toLowerCase() ?? /^(?:filter|nat)-(prerouting|input|forward|output|postrouting)\b/.exec(e.chain)?.[1])
      .filter((h) => h !== undefined)
      .at(-1);
    return { node: t.node, hook, event: t.events[i]! };
  }
  return undefined;
}

/** The hook whose rules ended an engine path (its nf-verdict step). */
export function engineDropHook(path: TracePath): string | undefined {
  // The rules' verdict, or kube-proxy's reject/drop inferred from the API where the rules are not captured.
  const last = [...(path.hops.at(-1)?.steps ?? [])].reverse().find((s) => {
    const d = s.detail as { type?: string; verdict?: string } | undefined;
    return d?.type === 'nf-verdict' || (d?.type === 'service-inferred' && (d.verdict === 'reject' || d.verdict === 'drop'));
  });
  return (last?.detail as { hook?: string } | undefined)?.hook;
}

// ---- the engine's side -------------------------------------------------------------------------

/** The source address a path's packet carries when it is delivered: the last SNAT/MASQUERADE on it, else the flow's. */
export function sourceAtDelivery(path: TracePath, flowSrc: string): string {
  let src = flowSrc;
  for (const h of path.hops) {
    for (const s of h.steps) {
      const d = s.detail as { type?: string; step?: { kind?: string; action?: { kind?: string; to?: { addr?: string } } } } | undefined;
      const a = d?.type === 'netfilter' && d.step?.kind === 'rule' ? d.step.action : undefined;
      if ((a?.kind === 'snat' || a?.kind === 'masquerade') && a.to?.addr) src = a.to.addr;
      // kube-proxy's masquerade inferred from the API (a node whose rules the capture lacks).
      if (d?.type === 'service-masquerade-inferred') src = (d as unknown as { to: string }).to;
    }
  }
  return src;
}

/** Per endpoint (`ip:port`) the engine's delivered paths say the rules pick: chance and the source the endpoint sees. */
export function engineEndpoints(r: TraceResult): Map<string, { probability: number; sources: Set<string>; hosts: Set<string> }> {
  const out = new Map<string, { probability: number; sources: Set<string>; hosts: Set<string> }>();
  for (const p of r.paths) {
    if (p.verdict !== 'delivered' || p.floodCopy) continue;
    const ep = p.endpoint ? `${p.endpoint.ip}:${p.endpoint.port ?? r.flow.dport}` : `${r.to.ip}:${r.flow.dport}`;
    const e = out.get(ep) ?? { probability: 0, sources: new Set<string>(), hosts: new Set<string>() };
    e.probability += p.probability ?? 1;
    e.sources.add(sourceAtDelivery(p, r.flow.src));
    // Where the path delivers it: the host of its last hop.
    const last = p.hops.at(-1)?.host;
    if (last !== undefined) e.hosts.add(last);
    out.set(ep, e);
  }
  return out;
}

/** The engine's result in a few lines, for assertion messages. */
export function describeEngine(r: TraceResult): string {
  const lines = [`engine: ${r.verdict}${r.dropAt ? ` at ${r.dropAt.host}/${r.dropAt.dev ?? '-'}` : ''}: ${r.reason}`];
  for (const p of r.paths) {
    lines.push(`  path ${p.branch || '(only)'}: ${p.verdict}${p.dropAt ? ` at ${p.dropAt.host}` : ''}${p.endpoint ? ` endpoint ${p.endpoint.ip}:${p.endpoint.port ?? '-'}` : ''}${p.probability !== undefined ? ` p=${p.probability.toFixed(3)}` : ''} src ${sourceAtDelivery(p, r.flow.src)} via ${p.hops.map((h) => h.host).join(' > ')}`);
  }
  return lines.join('\n');
}

export function describeKernel(traces: readonly NodeTrace[]): string {
  return traces
    .filter((t) => t.events.length)
    .map((t) => `  ${t.node}: ${t.events.map((e) => `${e.family} ${e.table} ${e.chain} ${e.kind === 'policy' ? 'policy' : `#h${e.handle}`} ${e.verdict}`).join(' | ')}`)
    .join('\n');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
