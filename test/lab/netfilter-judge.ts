// The kernel as judge of the netfilter evaluator. A lab of three namespaces joined by veth pairs
// (client -- node -- pods, never connected to the machine's network): the node holds a rule set in
// kube-proxy's iptables or nftables format; a packet is sent from the client and the node's own
// netfilter trace (`meta nftrace set 1` in a table of ours at priority -500, read with `nft monitor
// trace`; Debian's iptables is iptables-nft, so iptables rules show up in it) gives the exact chain,
// rule and verdict sequence. runHook, given the node's captured iptables-save / nft list ruleset,
// must list that same sequence among its outcomes. For random choices the pods namespace counts, per
// endpoint, how many of many new connections arrived there.
import { spawn } from 'node:child_process';
import { Addr, Prefix } from '../../src/net/addr';
import { buildRuleset, runHook, type Hook, type NfContext, type NfOutcome, type NfPacket, type Ruleset } from '../../src/engine/netfilter';
import { Lab, which } from './netns';

export interface NfTopology {
  /** Client addresses (the first is on the link to the node; the rest are /32 extras). */
  client: string[];
  /** Node addresses: [client side /prefix, pods side /prefix]. */
  node: [string, string];
  pods: string[];
  /** Extra routes on the node back to client-side extras (`203.0.113.0/24`). */
  nodeRoutes?: string[];
  /** Addresses the node holds on lo (kube-proxy IPVS mode's Service addresses, as on kube-ipvs0). */
  nodeLocal?: string[];
}

export class NfLab {
  readonly lab: Lab;
  private monitors: number[] = [];

  constructor(readonly topo: NfTopology) {
    this.lab = new Lab();
    const l = this.lab;
    for (const h of ['client', 'node', 'pods']) l.addNamespace(h);
    l.ip('client', 'link', 'add', 'c0', 'type', 'veth', 'peer', 'name', 'n0', 'netns', l.ns('node'));
    l.ip('node', 'link', 'add', 'n1', 'type', 'veth', 'peer', 'name', 'p0', 'netns', l.ns('pods'));
    const [cfirst, ...cextra] = topo.client;
    const v6 = topo.node[0].includes(':');
    // IPv6 addresses without duplicate address detection, so that they work at once.
    const add = (host: string, a: string, dev: string) => l.ip(host, 'addr', 'add', a, 'dev', dev, ...(a.includes(':') ? ['nodad'] : []));
    const ipf = (host: string, ...args: string[]) => l.ip(host, ...(v6 ? ['-6'] : []), ...args);
    add('client', cfirst!, 'c0');
    for (const a of cextra) add('client', a, 'c0');
    l.ip('client', 'link', 'set', 'c0', 'up');
    ipf('client', 'route', 'add', 'default', 'via', topo.node[0].split('/')[0]!);
    add('node', topo.node[0], 'n0');
    add('node', topo.node[1], 'n1');
    l.ip('node', 'link', 'set', 'n0', 'up');
    l.ip('node', 'link', 'set', 'n1', 'up');
    for (const a of topo.nodeLocal ?? []) add('node', a, 'lo');
    for (const r of topo.nodeRoutes ?? []) ipf('node', 'route', 'add', r, 'via', cfirst!.split('/')[0]!);
    // A node has a default route: what it does not hold locally leaves towards the client side.
    ipf('node', 'route', 'add', 'default', 'via', cfirst!.split('/')[0]!);
    for (const a of topo.pods) add('pods', a, 'p0');
    l.ip('pods', 'link', 'set', 'p0', 'up');
    ipf('pods', 'route', 'add', 'default', 'via', topo.node[1].split('/')[0]!);
    l.sysctl('node', v6 ? 'net.ipv6.conf.all.forwarding=1' : 'net.ipv4.ip_forward=1');
  }

  loadIp6tables(text: string): void {
    this.lab.execIn('node', ['ip6tables-restore'], { input: text });
  }

  loadIptables(text: string): void {
    this.lab.execIn('node', ['iptables-restore'], { input: text });
  }

  loadIpset(text: string): void {
    this.lab.execIn('node', ['ipset', 'restore'], { input: text });
    this.hasIpset = true;
  }

  private hasIpset = false;

  loadNft(text: string): void {
    this.lab.execIn('node', ['nft', '-f', '-'], { input: text });
  }

  /** What a collector would capture on the node. */
  capture(): { iptables: string; ip6tables: string; nft: string; ipset?: string } {
    return {
      iptables: this.lab.execIn('node', ['iptables-save']),
      ip6tables: this.lab.execIn('node', ['ip6tables-save']),
      nft: this.lab.execIn('node', ['nft', 'list', 'ruleset']),
      ...(this.hasIpset && { ipset: this.lab.execIn('node', ['ipset', 'save']) }),
    };
  }

  ruleset(): Ruleset {
    const c = this.capture();
    return buildRuleset('node', { iptables: c.iptables, ip6tables: c.ip6tables, nft: stripTraceTable(c.nft), ...(c.ipset !== undefined && { ipset: c.ipset }) });
  }

  /** The node's host facts, from its addresses (as the walk would give them from the capture). */
  context(): NfContext {
    const local = [this.topo.node[0], this.topo.node[1], ...(this.topo.nodeLocal ?? [])].map((a) => Addr.must(a.split('/')[0]!));
    const byDev: Record<string, Addr> = { n0: local[0]!, n1: local[1]! };
    return {
      addrType: (a) => (a.isLoopback() || local.some((l) => l.equals(a)) ? 'local' : a.isMulticast() ? 'multicast' : 'unicast'),
      masqueradeAddress: (dev) => byDev[dev],
      primaryAddress: (dev) => byDev[dev],
    };
  }

  /** Which device the node routes a destination to (its two connected subnets and the client-side routes). */
  route(dst: Addr): 'local' | 'n0' | 'n1' {
    const [n0, n1] = this.topo.node;
    if ([n0, n1, ...(this.topo.nodeLocal ?? [])].some((a) => Addr.must(a.split('/')[0]!).equals(dst))) return 'local';
    if (Prefix.must(n1).masked().contains(dst)) return 'n1';
    return 'n0';
  }

  /**
   * Sends one probe from the client with the node's netfilter trace on, and returns the trace events
   * of the node's tables (our trace table left out).
   */
  async traceOne(p: Probe): Promise<KernelEvent[]> {
    const sel = `${p.src.includes(':') ? 'ip6' : 'ip'} saddr ${p.src} ${p.proto} sport ${p.sport}`;
    this.loadNft(`table inet nptrace {\n  chain pre {\n    type filter hook prerouting priority -500; policy accept;\n    ${sel} meta nftrace set 1\n  }\n}\n`);
    const out: string[] = [];
    // -a: each traced rule with its handle, which says exactly which rule it is (iptables-nft prints several
    // rules alike, `xt match set ... return`).
    const child = spawn('ip', ['netns', 'exec', this.lab.ns('node'), 'nft', '-a', 'monitor', 'trace'], { stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid !== undefined) this.monitors.push(child.pid);
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      out.push(...lines);
    });
    try {
      // nft monitor subscribes before it prints anything: give it a moment, then send, then wait for the trace to go quiet.
      await sleep(400);
      await this.send(p, 1);
      let last = -1;
      for (let i = 0; i < 60 && (out.length === 0 || out.length !== last); i++) {
        last = out.length;
        await sleep(150);
      }
    } finally {
      child.kill('SIGKILL');
      this.monitors = this.monitors.filter((x) => x !== child.pid);
      this.lab.execIn('node', ['nft', 'delete', 'table', 'inet', 'nptrace']);
    }
    return parseTrace(out).filter((e) => e.table !== 'nptrace');
  }

  /** Sends `count` new connections (distinct source ports from `p.sport`) from the client. */
  async send(p: Probe, count: number): Promise<void> {
    const script = SENDER;
    const r = this.lab.tryExecIn('client', [process.execPath, '-e', script, JSON.stringify({ ...p, count })], { timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`sender failed: ${r.stderr}`);
  }

  /** Counts, in the pods namespace, the new connections that arrive at each address:port. */
  countAt(targets: { addr: string; port: number; proto: 'udp' | 'tcp' }[]): { reset: () => void; read: () => number[] } {
    const rules = targets.map((t) => `    ${t.addr.includes(':') ? 'ip6' : 'ip'} daddr ${t.addr} ${t.proto} dport ${t.port} ct state new counter`).join('\n');
    // After conntrack (-200), so that `ct state new` is known.
    const table = `table inet npcount {\n  chain pre {\n    type filter hook prerouting priority 0; policy accept;\n${rules}\n  }\n}\n`;
    return {
      reset: () => {
        this.lab.tryExecIn('pods', ['nft', 'delete', 'table', 'inet', 'npcount']);
        this.lab.execIn('pods', ['nft', '-f', '-'], { input: table });
      },
      read: () => {
        const json = JSON.parse(this.lab.execIn('pods', ['nft', '-j', 'list', 'table', 'inet', 'npcount'])) as { nftables: Record<string, { expr?: { counter?: { packets: number } }[] }>[] };
        return json.nftables.filter((o) => o.rule).map((o) => o.rule!.expr!.find((e) => e.counter)!.counter!.packets);
      },
    };
  }

  dispose(): void {
    for (const pid of this.monitors) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    this.lab.dispose();
  }
}

export interface Probe {
  src: string;
  dst: string;
  proto: 'udp' | 'tcp';
  sport: number;
  dport: number;
}

/** Sends UDP datagrams or TCP SYNs (a connect that the far end refuses) from consecutive source ports. */
const SENDER = `
const { src, dst, proto, sport, dport, count } = JSON.parse(process.argv[1]);
const dgram = require('dgram'), net = require('net');
let left = count, i = 0;
const done = () => { if (--left === 0) process.exit(0); };
const one = (port) => new Promise((res) => {
  if (proto === 'udp') {
    const s = dgram.createSocket(src.includes(':') ? 'udp6' : 'udp4');
    s.bind(port, src, () => s.send('x', dport, dst, () => { s.close(); res(); }));
  } else {
    const s = net.connect({ host: dst, port: dport, localAddress: src, localPort: port });
    s.on('error', () => res()); s.on('connect', () => { s.destroy(); res(); });
    setTimeout(() => { s.destroy(); res(); }, 3000);
  }
});
(async () => { for (let k = 0; k < count; k += 20) { await Promise.all(Array.from({ length: Math.min(20, count - k) }, (_, j) => one(sport + k + j))); } process.exit(0); })();
void done; void i;
`;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---- the kernel's trace ----------------------------------------------------------------------

export interface KernelEvent {
  family: string;
  table: string;
  chain: string;
  kind: 'rule' | 'policy';
  /** The rule's handle (nft -a); for policy: undefined. */
  handle?: number;
  verdict: string;
}

/** `trace id X ip nat KUBE-SVC-A rule ... # handle 17 (verdict jump KUBE-SEP-1)`, `... policy accept`. */
export function parseTrace(lines: readonly string[]): KernelEvent[] {
  const out: KernelEvent[] = [];
  // Only the first packet: a refused TCP SYN is sent again, and each copy has its own trace id.
  let first: string | undefined;
  for (const l of lines) {
    const m = /^trace id (\S+) (\S+) (\S+) (\S+) (rule|policy) (.*)$/.exec(l.trim());
    if (!m) continue;
    const [, id, family, table, chain, kind, rest] = m;
    first ??= id;
    if (id !== first) continue;
    // `policy accept meta mark 0x00004000`: the packet's meta data follows the policy.
    if (kind === 'policy') out.push({ family: family!, table: table!, chain: chain!, kind: 'policy', verdict: rest!.trim().split(/\s+/)[0]! });
    else {
      const v = /# handle (\d+) \(verdict ([^)]*)\)\s*$/.exec(rest!);
      if (!v) continue;
      out.push({ family: family!, table: table!, chain: chain!, kind: 'rule', handle: Number(v[1]), verdict: v[2]!.trim() });
    }
  }
  return out;
}

/** The rule handles of every chain in order (`nft -a list ruleset`): a traced handle's position is its rule number. */
export function rulePositions(nftList: string): Map<string, number[]> {
  const map = new Map<string, number[]>();
  let table = '';
  let chain = '';
  for (const raw of nftList.split('\n')) {
    const l = raw.trim();
    const t = /^table (\S+) (\S+) \{/.exec(l);
    if (t) table = `${t[1]} ${t[2]}`;
    const c = /^chain (\S+) \{/.exec(l);
    if (c) {
      chain = c[1]!;
      map.set(`${table} ${chain}`, []);
      continue;
    }
    if (l === '}') chain = '';
    const h = /# handle (\d+)$/.exec(l);
    if (chain && h && !/^type .* hook /.test(l)) map.get(`${table} ${chain}`)!.push(Number(h[1]));
  }
  return map;
}

/** Kernel events as `family table chain #rule verdict` / `... policy P`. */
export function kernelTrail(events: readonly KernelEvent[], positions: Map<string, number[]>): string[] {
  return events.map((e) => {
    if (e.kind === 'policy') return `${e.family} ${e.table} ${e.chain} policy ${e.verdict}`;
    const i = (positions.get(`${e.family} ${e.table} ${e.chain}`) ?? []).indexOf(e.handle!);
    return `${e.family} ${e.table} ${e.chain} #${i < 0 ? `?(handle ${e.handle})` : i + 1} ${e.verdict}`;
  });
}

/** The evaluator's steps in the kernel trace's terms: one event per matched rule (its last verdict), policies. */
export function engineTrail(outcomes: readonly NfOutcome[]): string[] {
  const out: string[] = [];
  let lastRule = '';
  for (const o of outcomes) {
    for (const s of o.steps) {
      if (s.kind === 'policy') {
        out.push(`${s.family} ${s.table} ${s.chain} policy ${s.policy}`);
        lastRule = '';
      } else if (s.kind === 'rule') {
        const a = s.action;
        if (a.kind === 'branch' || a.kind === 'no-map-element') continue;
        const verdict =
          a.kind === 'jump' || a.kind === 'goto'
            ? `${a.kind} ${a.chain}`
            : a.kind === 'return' || a.kind === 'accept' || a.kind === 'drop'
              ? a.kind
              : a.kind === 'reject'
                ? 'drop'
                : a.kind === 'dnat' || a.kind === 'snat' || a.kind === 'masquerade' || a.kind === 'redirect'
                  ? 'accept'
                  : a.kind === 'queue'
                    ? 'queue'
                    : 'continue';
        const key = `${s.family} ${s.table} ${s.chain} #${s.rule}`;
        const line = `${key} ${verdict}`;
        if (key === lastRule) out[out.length - 1] = line;
        else out.push(line);
        lastRule = key;
      } else lastRule = '';
    }
  }
  return out;
}

export interface Walked {
  probability: number;
  hooks: Hook[];
  outcomes: NfOutcome[];
  final: NfOutcome;
}

/**
 * The node's part of the walk for a packet arriving from the client: prerouting, then input (local) or
 * forward + postrouting (routed), every random branch followed. Stands in for the packet walk, which
 * does not call runHook yet.
 */
export function walkNode(rs: Ruleset, lab: NfLab, pkt: NfPacket): Walked[] {
  const ctx = lab.context();
  const out: Walked[] = [];
  for (const pre of runHook(rs, 'prerouting', { ...pkt, iif: 'n0' }, ctx)) {
    if (pre.verdict.kind !== 'accept') {
      out.push({ probability: pre.probability, hooks: ['prerouting'], outcomes: [pre], final: pre });
      continue;
    }
    const where = lab.route(pre.packet.dst);
    if (where === 'local') {
      for (const inp of runHook(rs, 'input', pre.packet, ctx)) out.push({ probability: pre.probability * inp.probability, hooks: ['prerouting', 'input'], outcomes: [pre, inp], final: inp });
      continue;
    }
    for (const fwd of runHook(rs, 'forward', { ...pre.packet, oif: where }, ctx)) {
      if (fwd.verdict.kind !== 'accept') {
        out.push({ probability: pre.probability * fwd.probability, hooks: ['prerouting', 'forward'], outcomes: [pre, fwd], final: fwd });
        continue;
      }
      for (const post of runHook(rs, 'postrouting', fwd.packet, ctx)) {
        out.push({ probability: pre.probability * fwd.probability * post.probability, hooks: ['prerouting', 'forward', 'postrouting'], outcomes: [pre, fwd, post], final: post });
      }
    }
  }
  return out;
}

export function probePacket(p: Probe): NfPacket {
  const src = Addr.must(p.src);
  return { family: src.family, src, dst: Addr.must(p.dst), proto: p.proto, sport: p.sport, dport: p.dport, mark: 0, connection: 'new' };
}

/** `nft list ruleset` without our own trace and count tables. */
export function stripTraceTable(nft: string): string {
  return nft.replace(/table inet (nptrace|npcount) \{[\s\S]*?\n\}\n?/g, '');
}

/** Binomial tolerance: |k - n p| within z standard deviations (z = 4.4: a false alarm about once in 10^5 per count). */
export function withinBinomial(k: number, n: number, p: number, z = 4.4): boolean {
  return Math.abs(k - n * p) <= z * Math.sqrt(n * p * (1 - p)) + 1e-9;
}

export function netfilterLabUnavailable(): string | undefined {
  const missing = ['ip', 'nft', 'iptables-restore', 'iptables-save', 'ip6tables-restore', 'ip6tables-save', 'ipset'].filter((t) => !which(t));
  if (process.getuid?.() !== 0) return 'the netfilter lab needs root (network namespaces)';
  if (missing.length) return `the netfilter lab needs ${missing.join(', ')} (apt-get install iproute2 nftables iptables ipset)`;
  return undefined;
}
