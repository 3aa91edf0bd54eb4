// `ipset list` (blocks of `Name:`, `Type:`, `Header:` ... `Members:` then one member a line) and
// `ipset save` / `ipset list -o save` (`create NAME TYPE OPTIONS` and `add NAME MEMBER OPTIONS` lines)
// give the same records: one per set, one per member. kube-proxy's IPVS mode and Calico's iptables
// rules match packets against these sets with `-m set --match-set NAME FLAGS`.
import type { Family } from '../net/addr';
import { Collector, type Line, lines } from './common';
import type { IpsetMemberRecord, IpsetRecord, ParseResult } from './types';

type Rec = IpsetRecord | IpsetMemberRecord;

/** Words after a type or member as `key value` pairs; a flag (no value) as `true`; `comment "a b"` kept whole. */
function options(words: readonly string[], flags: ReadonlySet<string>): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (flags.has(w) || i + 1 >= words.length) out[w] = true;
    else out[w] = words[++i]!;
  }
  return out;
}

/** Splits on blanks, a double-quoted part (`comment "a b"`) staying one word without its quotes. */
function words(s: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(s); m; m = re.exec(s)) out.push(m[1] !== undefined ? m[1] : m[2]!);
  return out;
}

/** Header and member words that stand alone. */
const FLAGS = new Set(['nomatch']);
const HEADER_FLAGS = new Set(['counters', 'comment', 'skbinfo', 'forceadd']);

/** An element as ipset prints one: addresses, nets, ports, MACs, `proto:port`, an interface, `,`-joined. */
const ELEMENT = /^[0-9A-Za-z.:/,_-]+$/;

function family(opts: Record<string, string | true>): Family | undefined {
  return opts.family === 'inet' ? 4 : opts.family === 'inet6' ? 6 : undefined;
}

function setRecord(l: Line, name: string, type: string, header: readonly string[]): IpsetRecord {
  const opts = options(header, HEADER_FLAGS);
  const rec: IpsetRecord = { kind: 'ipset', name, type, options: opts, src: { line: l.line, raw: l.raw } };
  const f = family(opts);
  if (f !== undefined) rec.family = f;
  delete opts.family;
  // `ipset list` only: the hash's runtime internals, which `ipset save` leaves out.
  delete opts.bucketsize;
  delete opts.initval;
  return rec;
}

function member(l: Line, set: string, ws: readonly string[]): IpsetMemberRecord {
  const rec: IpsetMemberRecord = { kind: 'ipset-member', set, entry: ws[0]!, src: { line: l.line, raw: l.raw } };
  if (ws.length > 1) rec.options = options(ws.slice(1), FLAGS);
  return rec;
}

export function parseIpset(text: string): ParseResult<Rec> {
  const ls = lines(text);
  const save = ls.some((l) => /^(create|add)\s/.test(l.raw.trim())) && !ls.some((l) => /^Name:/.test(l.raw.trim()));
  const c = new Collector<Rec>(ls.length === 0 ? 'empty' : save ? 'ipset-save' : 'ipset-list');
  /** The `ipset list` block being read: its name, the Name: line, its type, and whether Members: was seen. */
  let headless = false;
  let block: { name: string; line: Line; type?: string; header?: string[]; members: boolean; emitted: boolean } | undefined;
  const emit = () => {
    if (block && !block.emitted) {
      if (block.type === undefined) c.issue(block.line, `set ${block.name} has no Type: line (output cut short?)`);
      else c.records.push(setRecord(block.line, block.name, block.type, block.header ?? []));
      block.emitted = true;
    }
  };
  c.each(ls, (l) => {
    const raw = l.raw.trim();
    const ws = words(raw);
    if (ws[0] === 'create' && ws.length >= 3) {
      c.records.push(setRecord(l, ws[1]!, ws[2]!, ws.slice(3)));
      return;
    }
    if (ws[0] === 'add' && ws.length >= 3) {
      c.records.push(member(l, ws[1]!, ws.slice(2)));
      return;
    }
    const field = /^([A-Z][A-Za-z ]*):\s*(.*)$/.exec(raw);
    if (field && !(block?.members && /^\S+:\S/.test(raw))) {
      const [, key, value] = field;
      if (key === 'Name') {
        emit();
        block = { name: value!.trim(), line: l, members: false, emitted: false };
        return;
      }
      if (!block) {
        // A paste that starts inside a block: its set is unknown, so are its members.
        if (key === 'Members') headless = true;
        return c.issue(l, `${key}: of a set whose Name: line is not in the text (a paste that starts inside a block?)`);
      }
      if (key === 'Type') block.type = value!.trim();
      else if (key === 'Header') block.header = words(value!);
      else if (key === 'Members') {
        emit();
        block.members = true;
      }
      // Revision, Size in memory, References, Number of entries: nothing the engine needs.
      return;
    }
    if (block?.members && ELEMENT.test(ws[0] ?? '')) {
      c.records.push(member(l, block.name, ws));
      return;
    }
    if (headless && !block && ELEMENT.test(ws[0] ?? '')) return c.issue(l, 'a member of a set whose Name: line is not in the text');
    c.issue(l, 'expected `Name: SET` ... `Members:` (ipset list), or `create`/`add` lines (ipset save)');
  });
  emit();
  return c.result();
}
