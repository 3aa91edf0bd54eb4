// Shared by the netfilter evaluator's tests: a host context from a list of local addresses, packets.
import { Addr, type Family } from '../../../../src/net/addr';
import type { NfContext, NfOutcome, NfPacket, NfStep } from '../../../../src/engine/netfilter';

export function hostCtx(local: string[], devs: Record<string, string> = {}): NfContext {
  const set = new Set(local.map((a) => Addr.must(a).toString()));
  return {
    addrType: (a) => (set.has(a.toString()) ? 'local' : a.isMulticast() ? 'multicast' : 'unicast'),
    masqueradeAddress: (dev) => (devs[dev] ? Addr.must(devs[dev]) : undefined),
    primaryAddress: (dev) => (devs[dev] ? Addr.must(devs[dev]) : undefined),
  };
}

export function pkt(src: string, dst: string, proto: NfPacket['proto'], dport?: number, more: Partial<NfPacket> = {}): NfPacket {
  const s = Addr.must(src);
  return { family: s.family as Family, src: s, dst: Addr.must(dst), proto, ...(dport !== undefined && { dport, sport: 40000 }), mark: 0, connection: 'new', ...more };
}

/** Each step as `table/chain#rule action` (policies and chain entries named too), for compact assertions. */
export function trail(o: NfOutcome): string[] {
  return o.steps.map((s: NfStep) => {
    switch (s.kind) {
      case 'chain':
        return `${s.table}/${s.chain}:`;
      case 'rule': {
        const a = s.action;
        const what =
          a.kind === 'jump' || a.kind === 'goto'
            ? `${a.kind} ${a.chain}`
            : a.kind === 'dnat' || a.kind === 'snat' || a.kind === 'masquerade' || a.kind === 'redirect'
              ? `${a.kind} ${a.to.addr}${a.to.port !== undefined ? ':' + a.to.port : ''}`
              : a.kind === 'mark' || a.kind === 'connmark'
                ? `${a.kind} 0x${a.to.toString(16)}`
                : a.kind === 'branch'
                  ? `branch ${a.choice}`
                  : a.kind === 'reject'
                    ? `reject ${a.with}`
                    : a.kind;
        return `${s.table}/${s.chain}#${s.rule} ${what}`;
      }
      case 'policy':
        return `${s.table}/${s.chain} policy ${s.policy}`;
      case 'return':
        return `${s.table}/${s.chain} return`;
      case 'nat-skipped':
        return `nat skipped (${s.reason})`;
    }
  });
}

export const save = (tables: Record<string, string[]>): string =>
  Object.entries(tables)
    .map(([t, lines]) => `*${t}\n${lines.join('\n')}\nCOMMIT\n`)
    .join('');
