// runHook: what the kernel's netfilter does with one packet at one hook. Every base chain registered
// at the hook runs in priority order (iptables' tables at their fixed priorities, nft chains at theirs);
// ACCEPT ends a base chain and the next one still runs; DROP and REJECT end everything; the NAT chains
// of a hook run as one entry at the NAT priority and only for the first packet of a connection, and
// once one of them sets up the NAT the rest are skipped (nf_nat_inet_fn). A random choice (statistic,
// numgen) forks the walk: each outcome carries its probability.
import { Addr, type Family } from '../../net/addr';
import { candidates, type Chain, type Op, type Rule, type VerdictOp } from './ir';
import { chainKey, hookKey, type Ruleset } from './ruleset';
import type { ChainRef, Endpoint, FinalVerdict, Hook, Layer, MatchNote, NatDone, NfContext, NfOutcome, NfPacket, NfStep, RuleAction, Unevaluated } from './types';

/** Outcomes past this many stop forking (a rule set would need thousands of nested random choices). */
const MAX_RUNS = 4096;
/** Deeper jumps than this are a loop the kernel would have refused to load. */
const MAX_DEPTH = 64;

interface Run {
  pkt: NfPacket;
  prob: number;
  steps: NfStep[];
  unev: Unevaluated[];
  nat: NatDone[];
  final?: FinalVerdict;
}

interface Frame {
  chain: Chain;
  /** The rule positions to visit (the index's candidates), or every rule. */
  order: readonly number[] | undefined;
  k: number;
}

interface Work {
  run: Run;
  stack: Frame[];
  /** The op of the current rule to resume at (after a fork), else 0. */
  op: number;
  notes: MatchNote[];
  /** The current rule has produced a step already (so a rule with no verdict gets one "continue"). */
  stepped: boolean;
  /** A numgen map branch: the chosen element's verdict, applied when the branch resumes. */
  resume?: VerdictOp;
}

type ChainEnd = { run: Run; end: 'accept' | 'nat' | FinalVerdict };

const clonePkt = (p: NfPacket): NfPacket => ({ ...p, ...(p.ctStatus && { ctStatus: [...p.ctStatus] }) });
const cloneRun = (r: Run): Run => ({ pkt: clonePkt(r.pkt), prob: r.prob, steps: [...r.steps], unev: [...r.unev], nat: [...r.nat], ...(r.final && { final: r.final }) });
const cloneWork = (w: Work): Work => ({ run: cloneRun(w.run), stack: w.stack.map((f) => ({ ...f })), op: w.op, notes: [...w.notes], stepped: w.stepped });

interface Env {
  base: Chain;
  hook: Hook;
  ctx: NfContext;
  chains: ReadonlyMap<string, Chain>;
  budget: { runs: number };
}

const ref = (c: Chain): ChainRef => ({ family: c.family, table: c.table, chain: c.name, source: c.source });
const endpoint = (addr: { toString(): string }, port?: number): Endpoint => (port === undefined ? { addr: addr.toString() } : { addr: addr.toString(), port });

function frame(chain: Chain, pkt: NfPacket): Frame {
  return { chain, order: candidates(chain, pkt), k: 0 };
}

function ruleAt(f: Frame): Rule | undefined {
  const i = f.order ? f.order[f.k] : f.k;
  return i === undefined ? undefined : f.chain.rules[i];
}

/** Runs one base chain for one packet: every way it can end, with its probability. */
function runChain(start: Run, base: Chain, hook: Hook, ctx: NfContext, chains: ReadonlyMap<string, Chain>, budget: { runs: number }): ChainEnd[] {
  const env: Env = { base, hook, ctx, chains, budget };
  const ends: ChainEnd[] = [];
  start.steps.push({ kind: 'chain', ...ref(base), hook, priority: base.base!.priority, type: base.base!.type, ...(base.base!.evidence && { evidence: base.base!.evidence }) });
  const work: Work[] = [{ run: start, stack: [frame(base, start.pkt)], op: 0, notes: [], stepped: false }];
  while (work.length) {
    const w = work.pop()!;
    const end = walk(w, env, work);
    if (end) ends.push({ run: w.run, end });
  }
  return ends;
}

/** Advances one work item until its chain ends (returned) or it forks (pushed onto `work`, undefined returned). */
function walk(w: Work, env: Env, work: Work[]): ChainEnd['end'] | undefined {
  return new Walker(w, env, work).walk();
}

/**
 * One work item's walk. A class rather than closures: a packet's walk creates several of these, and
 * methods cost nothing to create.
 */
class Walker {
  private f!: Frame;
  private rule!: Rule;
  private i = 0;

  constructor(
    private readonly w: Work,
    private readonly env: Env,
    private readonly work: Work[],
  ) {}

  private nextRule(): void {
    const w = this.w;
    const f = w.stack[w.stack.length - 1];
    if (f) f.k++;
    w.op = 0;
    w.notes = [];
    w.stepped = false;
  }

  private step(rule: Rule, chain: Chain, action: RuleAction): void {
    const s: NfStep = { kind: 'rule', ...ref(chain), rule: rule.index, evidence: rule.evidence, action };
    if (this.w.notes.length) s.notes = [...this.w.notes];
    this.w.run.steps.push(s);
    this.w.stepped = true;
  }

  private unevaluated(rule: Rule, chain: Chain, what: string, assumed: Unevaluated['assumed'], why: string): void {
    this.w.run.unev.push({ ...ref(chain), rule: rule.index, evidence: rule.evidence, what, assumed, why });
  }

  walk(): ChainEnd['end'] | undefined {
    const w = this.w;
    const run = w.run;
    const { base } = this.env;
    for (;;) {
      const f = w.stack[w.stack.length - 1];
      if (!f) return { kind: base.base!.policy === 'drop' ? 'drop' : 'accept' } as FinalVerdict;
      const rule = ruleAt(f);
      if (!rule) {
        // End of a chain: a base chain's policy, or back to the rule after the jump.
        if (w.stack.length === 1 && f.chain === base) {
          run.steps.push({ kind: 'policy', ...ref(base), policy: base.base!.policy, ...(base.base!.evidence && { evidence: base.base!.evidence }) });
          return base.base!.policy === 'drop' ? { kind: 'drop' } : 'accept';
        }
        run.steps.push({ kind: 'return', ...ref(f.chain) });
        w.stack.pop();
        if (w.stack.length === 0) {
          // A goto from the base chain ran out: the base chain's policy decides.
          run.steps.push({ kind: 'policy', ...ref(base), policy: base.base!.policy, ...(base.base!.evidence && { evidence: base.base!.evidence }) });
          return base.base!.policy === 'drop' ? { kind: 'drop' } : 'accept';
        }
        this.nextRule();
        continue;
      }
      this.f = f;
      this.rule = rule;
      if (w.resume) {
        const v = w.resume;
        delete w.resume;
        const r = this.verdict(v, f.chain);
        if (r === 'next') this.nextRule();
        else if (r !== 'restart') return r;
        continue;
      }
      let matched = true;
      let jumped = false;
      for (this.i = w.op; this.i < rule.ops.length; this.i++) {
        const r = this.apply(rule.ops[this.i]!);
        if (r === 'next') {
          matched = false;
          break;
        }
        if (r === 'forked') return undefined;
        if (r === 'continue') continue;
        if (r === 'restart') {
          jumped = true;
          break;
        }
        return r;
      }
      if (jumped) continue;
      // A rule that matched but has no verdict (a counter, a comment): nft's trace shows it as continue.
      if (matched && !w.stepped) this.step(rule, f.chain, { kind: 'continue', what: 'no verdict' });
      this.nextRule();
    }
  }

  /** One operation: 'continue' to the next op, 'next' rule, 'restart' the loop (frames changed), 'forked', or the chain's end. */
  private apply(op: Op): 'continue' | 'next' | 'restart' | 'forked' | ChainEnd['end'] {
    const { w, rule } = this;
    const run = w.run;
    const { hook, ctx } = this.env;
    const chain = this.f.chain;
    const i = this.i;
    switch (op.op) {
      case 'test': {
        const r = op.test(run.pkt, ctx, w.notes);
        if (r === true) return 'continue';
        if (r === false) return 'next';
        if ('unknown' in r) {
          this.unevaluated(rule, chain, op.what(), 'not-matched', `netpath cannot evaluate ${r.unknown}; the rule is taken as not matching, as if it were absent`);
          return 'next';
        }
        return this.fork(r.fork.map((b) => ({ p: b.p, choice: b.result ? 'matched' : 'not-matched', resume: b.result ? i + 1 : 'next' })));
      }
      case 'verdict':
        return this.verdict(op.verdict, chain);
      case 'vmap': {
        if (op.random !== undefined) {
          const { mod, pick } = op.random;
          return this.fork(Array.from({ length: mod }, (_, j) => ({ p: 1 / mod, choice: j, resume: { verdict: pick(j) } })));
        }
        const v = op.lookup(run.pkt, ctx);
        if (v && 'unknown' in v) {
          this.unevaluated(rule, chain, `vmap ${op.map}`, 'not-matched', `netpath cannot evaluate ${v.unknown}; the rule is taken as not matching, as if it were absent`);
          return 'next';
        }
        if (!v) return 'next';
        return this.verdict(v, chain);
      }
      case 'nat': {
        const natKind = op.kind;
        const pkt = run.pkt;
        const before = natKind === 'dnat' || natKind === 'redirect' ? endpoint(pkt.dst, pkt.dport) : endpoint(pkt.src, pkt.sport);
        let after: Endpoint;
        if (natKind === 'dnat') {
          if (op.addr) pkt.dst = op.addr;
          if (op.port !== undefined && pkt.proto !== 'icmp') pkt.dport = op.port;
          after = endpoint(pkt.dst, pkt.dport);
        } else if (natKind === 'redirect') {
          const to = hook === 'output' ? (pkt.family === 4 ? LOOPBACK4 : LOOPBACK6) : pkt.iif !== undefined ? ctx.primaryAddress(pkt.iif, pkt.family) : undefined;
          if (to) pkt.dst = to;
          else this.unevaluated(rule, chain, 'REDIRECT', 'continued', `the primary address of ${pkt.iif ?? 'the input device'} is unknown; the destination address is left as it was`);
          if (op.port !== undefined && pkt.proto !== 'icmp') pkt.dport = op.port;
          after = endpoint(pkt.dst, pkt.dport);
        } else {
          const addr = natKind === 'snat' ? op.addr : pkt.oif !== undefined ? ctx.masqueradeAddress(pkt.oif, pkt.family, pkt.dst) : undefined;
          if (addr) pkt.src = addr;
          else if (natKind === 'masquerade') this.unevaluated(rule, chain, 'MASQUERADE', 'continued', `the address MASQUERADE takes on ${pkt.oif ?? 'the output device'} is unknown; the source address is left as it was`);
          if (op.port !== undefined && pkt.proto !== 'icmp') pkt.sport = op.port;
          after = endpoint(pkt.src, pkt.sport);
        }
        const status = natKind === 'dnat' || natKind === 'redirect' ? 'dnat' : 'snat';
        pkt.ctStatus = [...new Set([...(pkt.ctStatus ?? []), status as 'dnat' | 'snat'])];
        const action: RuleAction = { kind: natKind, from: before, to: after };
        // The kernel may pick another source port (random, fully-random, or to avoid a clash).
        if ((op.random || op.range || natKind === 'masquerade' || natKind === 'snat') && (natKind === 'snat' || natKind === 'masquerade' || op.range)) action.portsMayChange = true;
        this.step(rule, chain, action);
        run.nat.push({ kind: natKind, before, after, evidence: rule.evidence });
        return 'nat';
      }
      case 'mark': {
        const from = run.pkt.mark;
        run.pkt.mark = op.apply(run.pkt);
        this.step(rule, chain, { kind: 'mark', from, to: run.pkt.mark });
        return 'continue';
      }
      case 'connmark': {
        const from = run.pkt.ctmark ?? 0;
        const r = op.apply(run.pkt);
        const markFrom = run.pkt.mark;
        run.pkt.ctmark = r.ctmark;
        run.pkt.mark = r.mark;
        if (r.mark !== markFrom) this.step(rule, chain, { kind: 'mark', from: markFrom, to: r.mark });
        else this.step(rule, chain, { kind: 'connmark', from, to: r.ctmark });
        return 'continue';
      }
      case 'notrack':
        run.pkt.connection = 'untracked';
        this.step(rule, chain, { kind: 'notrack' });
        return 'continue';
      case 'noop':
        if (op.note) w.notes.push(op.note);
        if (op.what !== 'counter' && op.what !== 'log') this.step(rule, chain, { kind: 'continue', what: op.what });
        return 'continue';
      case 'unsupported':
        this.unevaluated(rule, chain, op.what, op.assumed, op.why);
        if (op.assumed === 'accepted') {
          this.step(rule, chain, { kind: 'queue' });
          return { kind: 'queue' };
        }
        return 'continue';
    }
  }

  private verdict(v: VerdictOp | undefined, chain: Chain): 'next' | 'restart' | ChainEnd['end'] {
    const { w, rule } = this;
    const run = w.run;
    const { base } = this.env;
    if (!v) return 'next';
    switch (v.v) {
      case 'accept':
        this.step(rule, chain, { kind: 'accept' });
        return 'accept';
      case 'drop':
        this.step(rule, chain, { kind: 'drop' });
        return { kind: 'drop' };
      case 'reject':
        this.step(rule, chain, { kind: 'reject', with: v.with });
        return { kind: 'reject', with: v.with };
      case 'queue':
        this.step(rule, chain, { kind: 'queue' });
        return { kind: 'queue' };
      case 'continue':
        this.step(rule, chain, { kind: 'continue', what: 'continue' });
        return 'next';
      case 'return': {
        this.step(rule, chain, { kind: 'return' });
        w.stack.pop();
        if (w.stack.length === 0) {
          run.steps.push({ kind: 'policy', ...ref(base), policy: base.base!.policy, ...(base.base!.evidence && { evidence: base.base!.evidence }) });
          return base.base!.policy === 'drop' ? { kind: 'drop' } : 'accept';
        }
        this.nextRule();
        return 'restart';
      }
      case 'jump':
      case 'goto': {
        const target = this.chainLookup(chain, v.chain);
        if (!target) {
          this.unevaluated(rule, chain, `${v.v} ${v.chain}`, 'continued', `chain ${v.chain} is not in the capture; the rule is taken as doing nothing`);
          return 'next';
        }
        if (w.stack.length >= MAX_DEPTH) {
          this.unevaluated(rule, chain, `${v.v} ${v.chain}`, 'continued', `more than ${MAX_DEPTH} nested jumps (a loop the kernel would refuse)`);
          return 'next';
        }
        this.step(rule, chain, { kind: v.v, chain: v.chain });
        if (v.v === 'goto') w.stack.pop();
        w.stack.push(frame(target, run.pkt));
        w.op = 0;
        w.notes = [];
        w.stepped = false;
        return 'restart';
      }
    }
  }

  private chainLookup(from: Chain, name: string): Chain | undefined {
    return this.env.chains.get(chainKey(from.source, from.family, from.table, name));
  }

  /** Splits this work item into branches; each continues from its own point. */
  private fork(branches: { p: number; choice: 'matched' | 'not-matched' | number; resume: number | 'next' | { verdict: VerdictOp | undefined } }[]): 'forked' {
    const { w, rule, f } = this;
    const { budget } = this.env;
    const live = branches.filter((b) => b.p > 0);
    // The work stack is last in, first out: push the branches last-first so that they end in the
    // rules' own order (the first endpoint of a Service first).
    const made: Work[] = [];
    for (const b of live) {
      if (budget.runs >= MAX_RUNS && b !== live[0]) {
        this.unevaluated(rule, f.chain, 'random choice', 'not-matched', `more than ${MAX_RUNS} outcomes: further random branches are not followed`);
        continue;
      }
      budget.runs++;
      const c = cloneWork(w);
      c.run.prob *= b.p;
      c.run.steps.push({ kind: 'rule', ...ref(f.chain), rule: rule.index, evidence: rule.evidence, action: { kind: 'branch', probability: b.p, choice: b.choice } });
      if (b.resume === 'next') {
        const cf = c.stack[c.stack.length - 1]!;
        cf.k++;
        c.op = 0;
        c.notes = [];
        c.stepped = false;
      } else if (typeof b.resume === 'number') {
        c.op = b.resume;
        c.stepped = true;
      } else if (b.resume.verdict) {
        // A numgen map: the chosen element's verdict.
        c.resume = b.resume.verdict;
      } else {
        // No element for this number: the rule ends.
        const cf = c.stack[c.stack.length - 1]!;
        cf.k++;
        c.op = 0;
        c.notes = [];
        c.stepped = false;
      }
      made.push(c);
    }
    for (let i = made.length - 1; i >= 0; i--) this.work.push(made[i]!);
    return 'forked';
  }
}

const LOOPBACK4 = Addr.must('127.0.0.1');
const LOOPBACK6 = Addr.must('::1');

/**
 * Runs every base chain at `hook` for `packet`. Returns every way it can end: the verdict, the packet
 * as rewritten, the chance of it, the NAT done and the steps in order. Bridged frames with br_netfilter:
 * call the inet hooks with iif/oif the bridge and physIn/physOut the ports (ARCHITECTURE.md, Netfilter);
 * `layer: 'bridge'` runs nft's bridge-family chains.
 */
export function runHook(rs: Ruleset, hook: Hook, packet: NfPacket, ctx: NfContext, layer: Layer = 'inet'): NfOutcome[] {
  const entries = rs.hooks.get(hookKey(layer, packet.family as Family, hook)) ?? [];
  const budget = { runs: 1 };
  let runs: Run[] = [{ pkt: clonePkt(packet), prob: 1, steps: [], unev: [], nat: [] }];
  for (const e of entries) {
    const next: Run[] = [];
    for (const run of runs) {
      if (run.final) {
        next.push(run);
        continue;
      }
      if (e.kind === 'chain') {
        for (const end of runChain(run, e.chain, hook, ctx, rs.chains, budget)) next.push(settle(end));
        continue;
      }
      // The NAT chains of the hook: only for a connection's first packet, until one sets up the NAT.
      if (run.pkt.connection !== 'new') {
        run.steps.push({ kind: 'nat-skipped', hook, reason: run.pkt.connection === 'untracked' ? 'untracked' : 'established' });
        next.push(run);
        continue;
      }
      let pending: Run[] = [run];
      for (const chain of e.chains) {
        const after: Run[] = [];
        for (const r of pending) {
          if (r.final || (r as Run & { natDone?: true }).natDone) {
            after.push(r);
            continue;
          }
          for (const end of runChain(r, chain, hook, ctx, rs.chains, budget)) {
            const s = settle(end);
            if (end.end === 'nat') (s as Run & { natDone?: true }).natDone = true;
            after.push(s);
          }
        }
        pending = after;
      }
      for (const r of pending) delete (r as Run & { natDone?: true }).natDone;
      next.push(...pending);
    }
    runs = next;
  }
  return runs.map((r) => ({ verdict: r.final ?? { kind: 'accept' }, packet: r.pkt, probability: r.prob, nat: r.nat, steps: r.steps, unevaluated: r.unev }));
}

function settle(end: ChainEnd): Run {
  const r = end.run;
  if (end.end !== 'accept' && end.end !== 'nat') r.final = end.end;
  return r;
}

