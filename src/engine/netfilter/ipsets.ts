// ipset membership, as `-m set --match-set NAME src,dst` asks it: each dimension of the set's type
// (`hash:ip,port,net` is ip, port, net) is read from the packet's source or destination as the flags
// say. Sets without a net dimension are looked up by exact key; those with one are scanned, and a
// `nomatch` entry makes a covered address not a member (as ipset's hash:net does).
import type { Addr } from '../../net/addr';
import type { IpsetMemberRecord, IpsetRecord } from '../../parsers';
import { l4Name, parseAddr, parsePrefix, prefixTest } from './ir';
import type { NfEvidence, NfPacket } from './types';

type Dim = 'ip' | 'port' | 'net' | 'iface' | 'mark' | 'mac' | 'set';

interface Entry {
  /** Per dimension: an exact key (ip, port as `proto:port`), or a prefix test for net. */
  parts: (string | ((a: Addr) => boolean))[];
  netLen: number;
  nomatch: boolean;
  evidence: NfEvidence;
}

export interface IpsetSet {
  name: string;
  type: string;
  dims: Dim[];
  exact: Map<string, NfEvidence>;
  scanned: Entry[];
  /** list:set members. */
  members: string[];
  evidence: NfEvidence;
}

export type SetAnswer = { member: true; evidence: NfEvidence } | { member: false } | { unknown: string };

const evidence = (host: string, src: { line: number; raw: string }): NfEvidence => ({ host, probe: 'ipset', line: src.line, raw: src.raw });

/** `tcp:443`, `443` (tcp), `udp:53`, `icmp:8/0` as `proto:port`. */
function portKey(text: string): string {
  const i = text.indexOf(':');
  if (i < 0) return `tcp:${Number(text)}`;
  const proto = text.slice(0, i).toLowerCase();
  return `${proto === 'ipv6-icmp' || proto === 'icmpv6' ? 'ipv6-icmp' : proto}:${text.slice(i + 1)}`;
}

export function buildIpsets(host: string, records: readonly (IpsetRecord | IpsetMemberRecord)[]): Map<string, IpsetSet> {
  const sets = new Map<string, IpsetSet>();
  for (const r of records) {
    if (r.kind !== 'ipset') continue;
    const dims = (r.type.split(':')[1] ?? '').split(',').map((d) => d.trim()) as Dim[];
    sets.set(r.name, { name: r.name, type: r.type, dims, exact: new Map(), scanned: [], members: [], evidence: evidence(host, r.src) });
  }
  for (const r of records) {
    if (r.kind !== 'ipset-member') continue;
    const set = sets.get(r.set);
    if (!set) continue;
    if (set.type.startsWith('list:')) {
      set.members.push(r.entry);
      continue;
    }
    const raw = r.entry.split(',');
    const parts: Entry['parts'] = [];
    let scan = false;
    let netLen = 0;
    set.dims.forEach((d, i) => {
      const p = raw[i] ?? '';
      if (d === 'net' || (d === 'ip' && p.includes('/'))) {
        const pre = parsePrefix(p);
        if (pre) {
          parts.push(prefixTest(pre));
          netLen += pre.length;
        } else parts.push(() => false);
        scan = true;
      } else if (d === 'ip') parts.push(parseAddr(p)?.toString() ?? p);
      else if (d === 'port') parts.push(set.type.startsWith('bitmap:') ? String(Number(p)) : portKey(p));
      else parts.push(p);
    });
    const ev = evidence(host, r.src);
    const nomatch = r.options?.nomatch === true;
    if (scan || nomatch) set.scanned.push({ parts, netLen, nomatch, evidence: ev });
    else set.exact.set((parts as string[]).join(','), ev);
  }
  // Most specific nets first, as hash:net looks them up (so a nomatch inside a wider entry wins).
  for (const s of sets.values()) s.scanned.sort((a, b) => b.netLen - a.netLen);
  return sets;
}

/** The packet's value for one dimension, read from its source or destination. */
function packetPart(d: Dim, dir: string, pkt: NfPacket, bitmap: boolean): string | Addr | undefined {
  const src = dir === 'src';
  if (d === 'ip' || d === 'net') return src ? pkt.src : pkt.dst;
  if (d === 'port') {
    const port = src ? pkt.sport : pkt.dport;
    if (port === undefined) return undefined;
    return bitmap ? String(port) : `${l4Name(pkt)}:${port}`;
  }
  if (d === 'iface') return src ? pkt.iif : pkt.oif;
  return undefined;
}

export function setMember(sets: ReadonlyMap<string, IpsetSet>, name: string, flags: readonly string[], pkt: NfPacket, depth = 0): SetAnswer {
  const set = sets.get(name);
  if (!set) return { unknown: `ipset ${name} is not in the capture's ipset probe` };
  if (set.type.startsWith('list:')) {
    if (depth > 4) return { unknown: `list:set ${name} nests too deep` };
    for (const m of set.members) {
      const a = setMember(sets, m, flags, pkt, depth + 1);
      if ('unknown' in a || a.member) return a;
    }
    return { member: false };
  }
  const bitmap = set.type.startsWith('bitmap:');
  const values = set.dims.map((d, i) => packetPart(d, flags[i] ?? flags[flags.length - 1] ?? 'src', pkt, bitmap));
  if (values.some((v, i) => v === undefined && set.dims[i] !== 'mac' && set.dims[i] !== 'mark')) return { member: false };
  if (set.dims.some((d) => d === 'mac' || d === 'mark')) return { unknown: `ipset ${name} of type ${set.type}: netpath does not model its ${set.dims.filter((d) => d === 'mac' || d === 'mark').join(', ')} dimension` };
  const key = values.map((v) => (typeof v === 'string' ? v : v!.toString())).join(',');
  const hit = set.exact.get(key);
  if (hit) return { member: true, evidence: hit };
  for (const e of set.scanned) {
    const ok = e.parts.every((p, i) => {
      const v = values[i]!;
      if (typeof p === 'function') return typeof v !== 'string' && p(v);
      return (typeof v === 'string' ? v : v.toString()) === p;
    });
    if (ok) return e.nomatch ? { member: false } : { member: true, evidence: e.evidence };
  }
  return { member: false };
}
