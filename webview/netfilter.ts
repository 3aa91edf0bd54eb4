// What the path view shows of netfilter, from the steps' typed details only: the NAT a rule did on
// a host (DNAT/SNAT/MASQUERADE/REDIRECT, with its chain and the Service it belongs to), the rule or
// policy that dropped or rejected the packet, and the label of each branch the rules chose at random
// (a Service endpoint: "10.244.1.3:8080 · 1 of 3, 33%"). Nothing here reads a sentence.
import type { Fork, Hop, StepDetail, TracePath } from '../src/shared/protocol';

type NfDetail = Extract<StepDetail, { type: 'netfilter' }>;
type RuleStep = Extract<NfDetail['step'], { kind: 'rule' }>;
type PolicyStep = Extract<NfDetail['step'], { kind: 'policy' }>;

/** One netfilter fact to draw in a host's box. */
export interface NfBadgeFact {
  /** Equal facts on several paths are one badge. */
  key: string;
  kind: 'dnat' | 'snat' | 'masquerade' | 'redirect' | 'drop' | 'reject';
  /** "DNAT 10.96.0.20:80 → 10.244.1.3:8080", "REJECT icmp-port-unreachable", "DROP (FORWARD policy)" */
  title: string;
  /** "nat KUBE-SEP-OYPFS5VJICHGATKP · default/web:http" */
  sub: string;
  /** "filter KUBE-SERVICES rule 1", "filter FORWARD policy": which rule decided. */
  rule: string;
  hook: string;
  /** The rule line as the capture has it, and where. */
  raw: string;
  where: string;
}

const ep = (e: { addr: string; port?: number }): string => (e.port === undefined ? e.addr : e.addr.includes(':') ? `[${e.addr}]:${e.port}` : `${e.addr}:${e.port}`);

/** "33%", "<1%": a chance as a user reads it. */
export function percent(p: number): string {
  const v = Math.round(p * 100);
  return v === 0 && p > 0 ? '<1%' : `${v}%`;
}

function evidenceOf(s: RuleStep | PolicyStep): { raw: string; where: string } {
  const e = s.evidence;
  return e ? { raw: e.raw, where: `${e.host} ${e.probe}:${e.line}` } : { raw: '', where: '' };
}

function natFact(d: NfDetail, s: RuleStep): NfBadgeFact | undefined {
  const a = s.action;
  if (a.kind !== 'dnat' && a.kind !== 'snat' && a.kind !== 'masquerade' && a.kind !== 'redirect') return undefined;
  const name = a.kind === 'masquerade' ? 'MASQUERADE' : a.kind.toUpperCase();
  const title = `${name} ${ep(a.from)} → ${ep(a.to)}`;
  const rule = `${s.table} ${s.chain} rule ${s.rule}`;
  const sub = [`${s.table} ${s.chain}`, d.service].filter(Boolean).join(' · ');
  return { key: `${a.kind}|${title}|${rule}|${d.hook}|${d.layer}`, kind: a.kind, title, sub, rule, hook: d.hook, ...evidenceOf(s) };
}

/** The NAT and drop/reject facts of one hop, in step order. */
export function hopBadges(hop: Hop): NfBadgeFact[] {
  const out: NfBadgeFact[] = [];
  let lastVerdictStep: { d: NfDetail; s: RuleStep | PolicyStep } | undefined;
  for (const step of hop.steps) {
    const d = step.detail;
    if (!d) continue;
    if (d.type === 'netfilter') {
      const s = d.step;
      if (s.kind === 'rule') {
        const nat = natFact(d, s);
        if (nat) out.push(nat);
        if (s.action.kind === 'drop' || s.action.kind === 'reject') lastVerdictStep = { d, s };
      } else if (s.kind === 'policy' && s.policy === 'drop') {
        lastVerdictStep = { d, s };
      }
    } else if (d.type === 'nf-verdict') {
      const v = lastVerdictStep;
      const kind = d.verdict;
      if (v && v.s.kind === 'rule') {
        const a = v.s.action;
        const title = a.kind === 'reject' ? `REJECT ${a.with}` : 'DROP';
        const rule = `${v.s.table} ${v.s.chain} rule ${v.s.rule}`;
        out.push({ key: `${kind}|${rule}|${d.hook}|${d.layer}`, kind, title, sub: [`${rule} · ${d.hook}`, v.d.service].filter(Boolean).join(' · '), rule, hook: d.hook, ...evidenceOf(v.s) });
      } else if (v && v.s.kind === 'policy') {
        const rule = `${v.s.table} ${v.s.chain} policy`;
        out.push({ key: `${kind}|${rule}|${d.hook}|${d.layer}`, kind, title: `DROP (${v.s.chain} policy)`, sub: `${v.s.table} ${v.s.chain} · ${d.hook}`, rule, hook: d.hook, ...evidenceOf(v.s) });
      } else {
        out.push({ key: `${kind}|?|${d.hook}|${d.layer}`, kind, title: kind === 'reject' ? 'REJECT' : 'DROP', sub: `${d.layer === 'bridge' ? 'bridge ' : ''}${d.hook}`, rule: `${d.hook} hook`, hook: d.hook, raw: '', where: '' });
      }
      lastVerdictStep = undefined;
    }
  }
  return out;
}

type NfFork = Extract<Fork, { kind: 'netfilter' }>;

/** Where a fork happened, to count the alternatives at the same place. */
const forkPlace = (f: Fork): string => (f.kind === 'netfilter' ? `nf|${f.host}|${f.hook}` : `${f.kind}|${f.label}`);

/**
 * The label of each fork of each path: the engine's label, except for the rules' random choices, which
 * say where they lead and how likely they are: "10.244.1.3:8080 · 1 of 3, 33%". The number of
 * alternatives is counted over the paths that forked at the same place after the same earlier forks.
 * Also the path's last such choice as "1 of 3, 33%". A trace saved by netpath 0.1 has only `branch`.
 */
export function forkLabels(paths: readonly Pick<TracePath, 'branch' | 'forks'>[]): { forks: string[]; chance?: string }[] {
  const count = new Map<string, Set<number>>();
  const placeKey = (forks: readonly Fork[], i: number) => `${forks.slice(0, i).map((f) => `${forkPlace(f)}#${f.kind === 'netfilter' ? f.choice : ''}`).join('>')}@${forkPlace(forks[i]!)}`;
  for (const p of paths) {
    p.forks?.forEach((f, i) => {
      if (f.kind !== 'netfilter') return;
      const k = placeKey(p.forks!, i);
      const set = count.get(k) ?? new Set<number>();
      set.add(f.choice);
      count.set(k, set);
    });
  }
  return paths.map((p) => {
    if (!p.forks) return { forks: p.branch === '' ? [] : [p.branch] };
    let chance: string | undefined;
    const forks = p.forks.map((f, i) => {
      if (f.kind !== 'netfilter') return f.label;
      const c = nfChance(f, count.get(placeKey(p.forks!, i))?.size ?? 1);
      chance = c;
      return f.endpoint ? `${ep({ addr: f.endpoint.ip, ...(f.endpoint.port !== undefined ? { port: f.endpoint.port } : {}) })} · ${c}` : `${f.hook} · ${c}`;
    });
    return chance !== undefined ? { forks, chance } : { forks };
  });
}

/** "1 of 3, 33%" */
function nfChance(f: NfFork, of: number): string {
  return `${f.choice} of ${Math.max(of, f.choice)}, ${percent(f.probability)}`;
}
