// Sentences from the netfilter layer's typed steps, made in this one place (views never parse them).
import type { Endpoint, NfOutcome, NfStep, RuleAction, Unevaluated } from './types';

const ep = (e: Endpoint) => (e.port === undefined ? e.addr : e.addr.includes(':') ? `[${e.addr}]:${e.port}` : `${e.addr}:${e.port}`);
const hex = (n: number) => `0x${n.toString(16)}`;
const pct = (p: number) => `${(p * 100).toFixed(p < 0.1 ? 1 : 0)}%`;

function where(s: { family: string; table: string; chain: string; source: string }): string {
  return s.source === 'iptables' ? `${s.family === 'ip6' ? 'ip6tables' : 'iptables'} ${s.table} ${s.chain}` : `nft ${s.family} ${s.table} ${s.chain}`;
}

function action(a: RuleAction): string {
  switch (a.kind) {
    case 'jump':
      return `jumps to ${a.chain}`;
    case 'goto':
      return `goes to ${a.chain} (no return)`;
    case 'return':
      return 'returns to the calling chain';
    case 'accept':
      return 'accepts the packet';
    case 'drop':
      return 'drops the packet';
    case 'reject':
      return `rejects the packet (${a.with})`;
    case 'queue':
      return 'queues the packet to userspace';
    case 'dnat':
      return `rewrites the destination ${ep(a.from)} to ${ep(a.to)} (DNAT)`;
    case 'redirect':
      return `redirects ${ep(a.from)} to ${ep(a.to)} on this host`;
    case 'snat':
      return `rewrites the source ${ep(a.from)} to ${ep(a.to)} (SNAT)${a.portsMayChange ? '; the source port may change' : ''}`;
    case 'masquerade':
      return `masquerades the source ${ep(a.from)} as ${ep(a.to)}${a.portsMayChange ? '; the source port may change' : ''}`;
    case 'mark':
      return `sets the packet mark ${hex(a.from)} -> ${hex(a.to)}`;
    case 'connmark':
      return `sets the connection mark ${hex(a.from)} -> ${hex(a.to)}`;
    case 'notrack':
      return 'exempts the packet from connection tracking';
    case 'continue':
      return a.what === 'no verdict' ? 'matches (no verdict: the next rule follows)' : `${a.what}, then the next rule`;
    case 'branch':
      return typeof a.choice === 'number' ? `picks element ${a.choice} at random (${pct(a.probability)})` : a.choice === 'matched' ? `matches at random (${pct(a.probability)})` : `does not match at random (${pct(a.probability)})`;
    case 'no-map-element':
      return `finds no element in ${a.map}`;
  }
}

export function describeStep(s: NfStep): string {
  switch (s.kind) {
    case 'chain':
      return `${where(s)}: base chain at ${s.hook}, priority ${s.priority}`;
    case 'rule':
      return `${where(s)} rule ${s.rule} ${action(s.action)}${s.notes?.length ? ` (${s.notes.map((n) => n.detail ?? `${n.match}: ${n.note}`).join('; ')})` : ''}`;
    case 'policy':
      return `${where(s)}: end of chain, policy ${s.policy.toUpperCase()}`;
    case 'return':
      return `${where(s)}: end of chain, back to the caller`;
    case 'nat-skipped':
      return s.reason === 'established'
        ? `NAT chains at ${s.hook} skipped: not the first packet of the connection (conntrack applies the NAT it recorded)`
        : s.reason === 'untracked'
          ? `NAT chains at ${s.hook} skipped: the packet is not tracked`
          : `NAT chains at ${s.hook} skipped: the connection's NAT is already set up`;
  }
}

export function describeUnevaluated(u: Unevaluated): string {
  const how = u.assumed === 'not-matched' ? 'assumed not to match' : u.assumed === 'accepted' ? 'assumed to accept' : 'its effect not applied';
  return `${where(u)} rule ${u.rule}: ${u.what}: ${how}; ${u.why}`;
}

export function describeOutcome(o: NfOutcome): string {
  const v = o.verdict.kind === 'reject' ? `rejected (${o.verdict.with})` : o.verdict.kind === 'accept' ? 'accepted' : o.verdict.kind === 'drop' ? 'dropped' : 'queued to userspace';
  const nat = o.nat.map((n) => `${n.kind} ${ep(n.before)} -> ${ep(n.after)}`).join(', ');
  return `${v}${o.probability < 1 ? ` with probability ${pct(o.probability)}` : ''}${nat ? `; ${nat}` : ''}${o.unevaluated.length ? `; ${o.unevaluated.length} rule(s) netpath could not evaluate` : ''}`;
}
