// `iptables-save` / `ip6tables-save` (also with -c): `*table` blocks of `:CHAIN POLICY [p:b]` declarations
// and `[p:b] -A CHAIN ...` rules, each block closed by `COMMIT`. Rules are kept as tokens (their meaning is
// the engine's business), split the way iptables-restore splits them: on blanks, with double quotes
// grouping and, inside quotes, a backslash escaping the next character (`"it\'s \"x\""`).
//
// `iptables -S` / `ip6tables -S` (`--list-rules`, also `-v` with `-c PACKETS BYTES`) print the same rules
// without blocks: `-P CHAIN POLICY` and `-N CHAIN` declare chains (kept as chain records, as `:CHAIN`
// lines are), `-A CHAIN ...` are rules. Their output never names its table, so the table is:
// - the one a pasted command line before the output names, which is how people paste it
//   (`# iptables -t nat -S`, `$ sudo iptables -S -t nat`, `[root@node1 ~]# iptables -t nat -S`, also after
//   `kubectl exec ... --`); `filter` when that command has no `-t`, as iptables itself assumes; the
//   command's `ip6tables` or `iptables` gives the family. Each pasted block gets its own table;
// - else the caller's ParseOptions.table (`netpath parse iptables --table nat`);
// - else unknown: `table` is absent, and no issue is reported for it (nothing in the text is wrong).
// Text that mixes both forms is read part by part: lines inside a `*table` block belong to it. Two
// cases stay save fragments with an issue, as before: `-A` lines that a bare COMMIT follows (a save
// block whose `*table` line was cut off) and `[p:b] -A` lines (only iptables-save prints counters so).
import type { Family } from '../net/addr';
import { Collector, type Line, uint } from './common';
import type { IptablesChainRecord, IptablesMatch, IptablesOption, IptablesRuleRecord, ParseOptions, ParseResult } from './types';

type Rec = IptablesChainRecord | IptablesRuleRecord;

interface Table {
  name: string;
  line: Line;
  /** Which block this is (chain declarations are marked with it). */
  serial: number;
}

/** A pasted command line: `# iptables -t nat -S`, `$ sudo ip6tables-save`, `[root@n1 ~]# iptables -S`. */
export interface IptablesCommand {
  family: Family;
  /** `iptables-save`: its output names its own tables. */
  save: boolean;
  /** `-t TABLE`; absent when the command has none. */
  table?: string;
}

type LineKind = 'comment' | 'command' | 'table' | 'commit' | 'declaration' | 'chain' | 'rule' | 'counted-rule' | 'other';

export function parseIptables(text: string, opts: ParseOptions = {}): ParseResult<Rec> {
  return readIptables(text, opts, {
    chain: (c, lines, j, chain, policy, counters, where) => c.records.push(chainRecord(lines.nums[j]!, lines.raw(j), lines.names.name(chain), policy, counters, where)),
    rule: (c, lines, j, _chain, where, counted) => c.records.push(iptablesRule(lines.line(j), where, counted)),
  }).result;
}

/** Where a rule or chain line sits: its table and family, each absent when the text does not say. */
export interface IptablesPlace {
  table?: string;
  family?: Family;
}

export type Counters = { packets: number; bytes: number };

/**
 * The non-blank lines of a text by position (`j`), kept as offsets into it: a big rule set has 150,000
 * lines and most never become a record.
 */
export class IptablesLines {
  /** Each line's start in the text, and its 1-based number (its end is the next line break). */
  starts: Int32Array;
  nums: Int32Array;
  count = 0;
  /** The chain names the main pass met, by number. */
  readonly names: ChainNames;

  constructor(readonly text: string) {
    const cap = Math.max(16, Math.ceil(text.length / 64));
    this.starts = new Int32Array(cap);
    this.nums = new Int32Array(cap);
    this.names = new ChainNames(text);
  }

  push(start: number, num: number): void {
    if (this.count === this.starts.length) {
      this.starts = grown(this.starts, this.count * 2 + 16);
      this.nums = grown(this.nums, this.count * 2 + 16);
    }
    this.starts[this.count] = start;
    this.nums[this.count] = num;
    this.count++;
  }

  /** Drops the room kept for more lines (the offsets live as long as the rule set). */
  trim(): void {
    this.starts = this.starts.slice(0, this.count);
    this.nums = this.nums.slice(0, this.count);
  }

  /** Where line `j` ends (before its line ending). */
  end(j: number): number {
    const start = this.starts[j]!;
    let nl = this.text.indexOf('\n', start);
    if (nl < 0) nl = this.text.length;
    return nl > start && this.text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
  }

  /** Line `j` as captured (without its line ending). */
  raw(j: number): string {
    return this.text.slice(this.starts[j]!, this.end(j));
  }

  /** Line `j` as a Line (`{line, raw}`), the source of its record. */
  line(j: number): Line {
    return { line: this.nums[j]!, raw: this.raw(j) };
  }
}

function grown(a: Int32Array, length: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(length);
  b.set(a.subarray(0, Math.min(a.length, length)));
  return b;
}

/**
 * Chain names by number, each kept once: a name read from the text is its offsets there, made a
 * string only when asked for (a big kube-proxy rule set names 40,000 chains, 150,000 times).
 */
export class ChainNames {
  count = 0;
  /** Open addressing: number + 1, 0 for a free slot. */
  private slots = new Int32Array(1024);
  private hashes = new Int32Array(256);
  /** Where the name is in the text; -1 for a name that came as a string (a quoted one). */
  private starts = new Int32Array(256);
  private lengths = new Int32Array(256);
  /** The names made strings so far. */
  private readonly strings = new Map<number, string>();

  constructor(private readonly text: string) {}

  /** The number of the name `text[from, to)`. */
  inText(from: number, to: number): number {
    const t = this.text;
    let h = -2128831035;
    for (let k = from; k < to; k++) h = Math.imul(h ^ t.charCodeAt(k), 16777619);
    const mask = this.slots.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const e = this.slots[i]!;
      if (e === 0) return this.add(i, h, from, to - from, undefined);
      const id = e - 1;
      if (this.hashes[id] === h && this.lengths[id] === to - from && this.sameText(id, from)) return id;
    }
  }

  /** The number of the name `s`. */
  of(s: string): number {
    return this.lookup(s, true);
  }

  /** The number of the name `s`, or -1 when the text never named it. */
  find(s: string): number {
    return this.lookup(s, false);
  }

  /** Name number `id`. */
  name(id: number): string {
    let s = this.strings.get(id);
    if (s === undefined) {
      const from = this.starts[id]!;
      s = this.text.slice(from, from + this.lengths[id]!);
      this.strings.set(id, s);
    }
    return s;
  }

  /** The length of name `id`. */
  length(id: number): number {
    return this.lengths[id]!;
  }

  /** Drops the room kept for more names (they live as long as the rule set). */
  trim(): void {
    this.hashes = this.hashes.slice(0, this.count);
    this.starts = this.starts.slice(0, this.count);
    this.lengths = this.lengths.slice(0, this.count);
  }

  private lookup(s: string, add: boolean): number {
    let h = -2128831035;
    for (let k = 0; k < s.length; k++) h = Math.imul(h ^ s.charCodeAt(k), 16777619);
    const mask = this.slots.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const e = this.slots[i]!;
      if (e === 0) return add ? this.add(i, h, -1, s.length, s) : -1;
      const id = e - 1;
      if (this.hashes[id] === h && this.lengths[id] === s.length && this.name(id) === s) return id;
    }
  }

  private sameText(id: number, from: number): boolean {
    const t = this.text;
    const n = this.lengths[id]!;
    const at = this.starts[id]!;
    if (at < 0) {
      const s = this.strings.get(id)!;
      for (let k = 0; k < n; k++) if (s.charCodeAt(k) !== t.charCodeAt(from + k)) return false;
      return true;
    }
    for (let k = 0; k < n; k++) if (t.charCodeAt(at + k) !== t.charCodeAt(from + k)) return false;
    return true;
  }

  private add(slot: number, h: number, from: number, length: number, s: string | undefined): number {
    const id = this.count++;
    if (id === this.hashes.length) {
      this.hashes = grown(this.hashes, id * 2 + 16);
      this.starts = grown(this.starts, id * 2 + 16);
      this.lengths = grown(this.lengths, id * 2 + 16);
    }
    this.hashes[id] = h;
    this.starts[id] = from;
    this.lengths[id] = length;
    if (s !== undefined) this.strings.set(id, s);
    this.slots[slot] = id + 1;
    // At most half full: probes stay short.
    if (this.count * 2 > this.slots.length) {
      const slots = new Int32Array(this.slots.length * 2);
      const mask = slots.length - 1;
      for (let k = 0; k < this.count; k++) {
        let i = this.hashes[k]! & mask;
        while (slots[i] !== 0) i = (i + 1) & mask;
        slots[i] = k + 1;
      }
      this.slots = slots;
    }
    return id;
  }
}

/**
 * What the main pass hands over: each chain line (`:CHAIN`, `-P`, `-N`) and each rule line `j` of
 * `lines`, unsplit, with where it sits; a chain by its number in `lines.names`.
 */
export interface IptablesSink {
  chain(lines: IptablesLines, j: number, chain: number, policy: string | undefined, counters: Counters | undefined, where: IptablesPlace): void;
  /** A rule line: its chain, where it sits, its `[p:b]` counters. */
  rule(lines: IptablesLines, j: number, chain: number, where: IptablesPlace, counted: Counters | undefined): void;
}

/**
 * The text read as parseIptables reads it (the same issues and format), with chain and rule lines
 * handed to `sink` instead of made into records: the netfilter engine splits and compiles only the
 * chains a packet reaches (chainRecord and iptablesRule make the records parseIptables would have).
 */
export function scanIptables(text: string, opts: ParseOptions, sink: IptablesSink): { result: ParseResult<never>; lines: IptablesLines } {
  const r = readIptables(text, opts, {
    chain: (_c, lines, j, chain, policy, counters, where) => sink.chain(lines, j, chain, policy, counters, where),
    rule: (_c, lines, j, chain, where, counted) => sink.rule(lines, j, chain, where, counted),
  });
  return { result: r.result as ParseResult<never>, lines: r.lines };
}

/** The record of a chain line, in reading order (absent fields left out). */
export function chainRecord(line: number, raw: string, chain: string | undefined, policy: string | undefined, counters: Counters | undefined, where: IptablesPlace): IptablesChainRecord {
  const rec = { kind: 'iptables-chain' } as IptablesChainRecord;
  if (where.table !== undefined) rec.table = where.table;
  if (where.family !== undefined) rec.family = where.family;
  if (chain !== undefined) rec.chain = chain;
  if (policy !== undefined && policy !== '-') rec.policy = policy;
  if (counters) {
    rec.packets = counters.packets;
    rec.bytes = counters.bytes;
  }
  rec.src = { line, raw };
  return rec;
}

/** The record of one rule line (`-A CHAIN ...`, maybe after `[p:b]`), as parseIptables makes it. */
export function iptablesRule(l: Line, where: IptablesPlace, counted: Counters | undefined): IptablesRuleRecord {
  const { words } = words0(trimmed(l.raw));
  const tokens = words.slice(2);
  for (let k = 0; k < tokens.length; k++) {
    const common = COMMON_WORDS.get(tokens[k]!);
    if (common !== undefined) tokens[k] = common;
  }
  const cnt = counted ?? takeCounterOption(tokens);
  const target = findTarget(tokens);
  const structured = structure(tokens);
  // Built in reading order (where the rule sits, what it does, its tokens), absent fields left out.
  const rec = { kind: 'iptables-rule' } as IptablesRuleRecord;
  if (where.table !== undefined) rec.table = where.table;
  if (where.family !== undefined) rec.family = where.family;
  rec.chain = words[1]!;
  if (target) rec.target = target.target;
  rec.goto = target?.goto ?? false;
  if (cnt) {
    rec.packets = cnt.packets;
    rec.bytes = cnt.bytes;
  }
  rec.tokens = tokens;
  rec.matches = structured.matches;
  rec.targetOptions = structured.targetOptions;
  // The line itself is the record's source ({line, raw}): no copy.
  rec.src = l;
  return rec;
}

interface Sink {
  chain(c: Collector<Rec>, lines: IptablesLines, j: number, chain: number, policy: string | undefined, counters: Counters | undefined, where: IptablesPlace): void;
  rule(c: Collector<Rec>, lines: IptablesLines, j: number, chain: number, where: IptablesPlace, counted: Counters | undefined): void;
}

/** `raw.trim()`, without the call for the usual line that starts and ends with a printable ASCII character. */
function trimmed(raw: string): string {
  const a = raw.charCodeAt(0);
  const z = raw.charCodeAt(raw.length - 1);
  return a > 32 && a < 127 && z > 32 && z < 127 ? raw : raw.trim();
}

/** Line kinds as numbers (a kind per line of a 150,000-line text). */
const KIND_CODE: Record<LineKind, number> = { comment: 1, command: 2, table: 3, commit: 4, declaration: 5, chain: 6, rule: 7, 'counted-rule': 8, other: 9 };
/** A rule line that needs no trimming: `-A ` at its start, a printable character at its end. */
const PLAIN_RULE = 10;
const [COMMENT, COMMAND, TABLE, COMMIT, DECLARATION, CHAIN, RULE, COUNTED_RULE, OTHER] = [1, 2, 3, 4, 5, 6, 7, 8, 9] as const;
/** The counters of `:CHAIN - [0:0]`, the declaration iptables-save prints for every user chain. */
const NO_COUNTS: Counters = Object.freeze({ packets: 0, bytes: 0 });

/**
 * The next position of a character at or after `from`, for positions asked in increasing order: one
 * search of the text for each character found, however many lines lack it.
 */
class Ahead {
  private at = -2;
  private from = 0;
  constructor(
    private readonly text: string,
    private readonly ch: string,
  ) {}

  next(from: number): number {
    if (this.at === -1 && from >= this.from) return -1;
    if (this.at < from || from < this.from) this.at = this.text.indexOf(this.ch, from);
    this.from = from;
    return this.at;
  }
}

function readIptables(text: string, opts: ParseOptions, sink: Sink): { result: ParseResult<Rec>; lines: IptablesLines } {
  // Lines as `lines()` gives them (LF or CRLF, blank ones dropped), as offsets, and the kind of each
  // (no splitting: a big rule set's words are made once, if at all).
  const ls = new IptablesLines(text);
  const commands = new Map<number, IptablesCommand>();
  let kinds = new Uint8Array(ls.starts.length);
  for (let pos = 0, num = 1; pos <= text.length; num++) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = text.length;
    const end = nl > pos && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
    const a = text.charCodeAt(pos);
    const z = text.charCodeAt(end - 1);
    let kind: number;
    if (end - pos > 3 && a === 45 && text.charCodeAt(pos + 1) === 65 && text.charCodeAt(pos + 2) === 32 && z > 32 && z < 127) {
      // `-A ` then something, ending in a printable character: the usual rule line, as kindOf would say.
      kind = PLAIN_RULE;
    } else {
      const t = trimmed(text.slice(pos, end));
      if (t === '') {
        pos = nl + 1;
        continue;
      }
      kind = KIND_CODE[kindOf(t, ls.count, commands)];
    }
    if (ls.count === kinds.length) {
      const k = new Uint8Array(kinds.length * 2);
      k.set(kinds);
      kinds = k;
    }
    kinds[ls.count] = kind;
    ls.push(pos, num);
    pos = nl + 1;
  }
  ls.trim();
  const n = ls.count;
  const names = ls.names;
  const lineAt = (j: number): Line => ls.line(j);
  const c = new Collector<Rec>(n === 0 ? 'empty' : 'iptables-save');
  const cutSaveTail = headlessSaveLines(kinds, n);
  /** Family of the save blocks: from the `# Generated by` comment or a pasted `ip6tables-save` command. */
  let saveFamily: Family | undefined;
  /** Where `iptables -S` lines outside blocks belong: the last pasted command's table, else the caller's. */
  const unnamed: IptablesPlace = opts.table !== undefined ? { table: opts.table } : {};
  let listing = unnamed;
  let table: Table | undefined;
  /** Where the rules of the current block sit (one object for the whole block). */
  let inTable: IptablesPlace = {};
  /** The last table closed by COMMIT: a stray rule right after it is kept under that name. */
  let lastTable = '';
  /** Right after a COMMIT, before any command, `-P` or `-N` line: a lone `-A` there is a stray save rule. */
  let afterCommit = false;
  /** Per chain number, the block (`Table.serial`) that last declared it. */
  let declaredIn = new Int32Array(1024);
  let tables = 0;
  const declare = (id: number) => {
    if (id >= declaredIn.length) {
      const d = new Int32Array(Math.max(id + 1, declaredIn.length * 2));
      d.set(declaredIn);
      declaredIn = d;
    }
    declaredIn[id] = table!.serial;
  };
  const quote = new Ahead(text, '"');
  const backslash = new Ahead(text, '\\');

  const closeUncommitted = () => {
    if (table) c.issue(table.line, `table ${table.name} has no COMMIT (output cut short?); its rules are kept`);
  };
  const place = (name: string | undefined, family: Family | undefined): IptablesPlace => ({ ...(name !== undefined && { table: name }), ...(family !== undefined && { family }) });
  const enter = (t: Table | undefined) => {
    table = t;
    if (t) inTable = place(t.name, saveFamily);
  };

  /**
   * A plain rule line's chain number (and in `plainOpen`, whether a double quote is left open), read in
   * the text as ruleHead reads them; -1 when a quote comes before the chain name's end (ruleHead decides then).
   */
  let plainOpen = false;
  const plainHead = (j: number): number => {
    const start = ls.starts[j]!;
    const end = ls.end(j);
    let b = start + 3;
    let ch = text.charCodeAt(b);
    while (ch === 32 || ch === 9) ch = text.charCodeAt(++b);
    let e = b;
    while (e < end && ch !== 32 && ch !== 9 && ch !== 34) ch = text.charCodeAt(++e);
    if (e < end && ch === 34) return -1;
    const q = quote.next(e);
    plainOpen = q >= 0 && q < end && openQuoteIn(q, end, quote, backslash);
    return names.inText(b, e);
  };

  const read = (j: number) => {
    const kind = kinds[j]!;
    if (kind === PLAIN_RULE || kind === RULE || kind === COUNTED_RULE) {
      const head = kind === PLAIN_RULE ? plainHead(j) : -1;
      // Nearly every line: read only as far as the chain name.
      let chain: number;
      let unterminated: boolean;
      let counted: Counters | undefined;
      if (head !== -1) {
        chain = head;
        unterminated = plainOpen;
      } else {
        const h = ruleHead(trimmed(ls.raw(j)));
        chain = names.of(h.chain);
        unterminated = h.unterminated;
        counted = h.counters ? counters(h.counters[1], h.counters[2]) : undefined;
      }
      // Outside a block, a counted rule, one a bare COMMIT follows, or one right after COMMIT is a piece of
      // iptables-save output that lost its block: kept, and said so. Any other is `iptables -S` output.
      const stray = !table && (kind === COUNTED_RULE || cutSaveTail[j] === 1 || afterCommit);
      const underLast = stray && afterCommit && lastTable !== '';
      sink.rule(c, ls, j, chain, table ? inTable : stray ? place(underLast ? lastTable : undefined, saveFamily) : listing, counted);
      if (unterminated) c.issue(lineAt(j), 'unterminated double quote: the rule is kept with the rest of the line as its last token');
      if (table && (chain >= declaredIn.length || declaredIn[chain] !== table.serial)) c.issue(lineAt(j), `rule for chain ${names.name(chain)}, which table ${table.name} does not declare (kept)`);
      if (stray) c.issue(lineAt(j), underLast ? `rule after COMMIT, outside any \`*table\` block (kept under table ${lastTable})` : 'rule before any `*table` line (kept with no table)');
      return;
    }
    if (kind === DECLARATION) {
      // `:KUBE-SEP-... - [0:0]`, a user chain as iptables-save prints it (40,000 in a big kube-proxy set), read
      // in the text when its name is plain printable characters: the same fields the expression gives.
      const start = ls.starts[j]!;
      const end = ls.end(j);
      let plain = end - start > 9 && text.charCodeAt(start) === 58 && text.startsWith(' - [0:0]', end - 8);
      for (let k = start + 1; plain && k < end - 8; k++) {
        const ch = text.charCodeAt(k);
        plain = ch > 32 && ch < 127;
      }
      let chain: number;
      let policy: string | undefined;
      let counts: Counters | undefined;
      if (plain) {
        chain = names.inText(start + 1, end - 8);
        policy = '-';
        counts = NO_COUNTS;
      } else {
        const raw = trimmed(ls.raw(j));
        const m = raw.endsWith(' - [0:0]') && raw.length > 9 && !/\s/.test(raw.slice(1, -8)) ? [raw, raw.slice(1, -8), '-', '0', '0'] : /^:(\S+)\s+(\S+)(?:\s+\[(\d+):(\d+)\])?\s*$/.exec(raw);
        if (!m) {
          c.issue(lineAt(j), 'expected `:CHAIN POLICY [PACKETS:BYTES]` chain declaration');
          return;
        }
        chain = names.of(m[1]!);
        policy = m[2];
        counts = counters(m[3], m[4]);
      }
      if (!table) c.issue(lineAt(j), `chain ${names.name(chain)} declared outside a \`*table\` block`);
      else declare(chain);
      sink.chain(c, ls, j, chain, policy, counts, table ? inTable : place(undefined, saveFamily));
      return;
    }
    const raw = trimmed(ls.raw(j));
    if (kind === COMMAND) {
      const cmd = commands.get(j)!;
      closeUncommitted();
      enter(undefined);
      afterCommit = false;
      if (cmd.save) saveFamily = cmd.family;
      // iptables assumes the filter table when a command has no -t.
      else listing = { table: cmd.table ?? 'filter', family: cmd.family };
      return;
    }
    if (kind === COMMENT) {
      const m = /^#\s*Generated by (ip6?)tables/.exec(raw);
      if (m) {
        saveFamily = m[1] === 'ip6' ? 6 : 4;
        if (table) inTable = place(table.name, saveFamily);
      }
      return;
    }
    if (kind === TABLE) {
      closeUncommitted();
      afterCommit = false;
      // A save block ends whatever a pasted `iptables -S` command said about the lines after it.
      listing = unnamed;
      const name = raw.slice(1).trim();
      enter(name ? { name, line: lineAt(j), serial: ++tables } : undefined);
      if (!name) c.issue(lineAt(j), 'expected `*TABLE` (a table name after the star)');
      return;
    }
    if (kind === COMMIT) {
      if (!table) c.issue(lineAt(j), 'COMMIT outside a `*table` block');
      else lastTable = table.name;
      enter(undefined);
      afterCommit = true;
      return;
    }
    if (kind === OTHER) {
      c.issue(lineAt(j), 'expected `*TABLE`, `:CHAIN POLICY [p:b]`, `[p:b] -A CHAIN RULE...` or `COMMIT` (iptables-save), `-P`/`-N`/`-A CHAIN ...` (iptables -S), or a `#` comment');
      return;
    }
    // An `iptables -S` chain line: `-P CHAIN POLICY [-c PACKETS BYTES]` (with -v); `-N CHAIN`.
    const { words } = words0(raw);
    const policy = words[0] === '-P' || words[0] === '--policy';
    const chain = names.of(words[1]!);
    if (table) declare(chain);
    else afterCommit = false;
    sink.chain(c, ls, j, chain, policy ? words[2] : undefined, policy ? takeCounterOption(words) : undefined, table ? inTable : listing);
  };
  for (let j = 0; j < n; j++) {
    // A line that makes the parser fail becomes an issue for that line; the rest are still read.
    try {
      read(j);
    } catch (e) {
      c.issue(lineAt(j), `internal parser error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  closeUncommitted();
  let save = false;
  let chainLines = false;
  let rules = false;
  for (let j = 0; j < n; j++) {
    const k = kinds[j]!;
    if (k === TABLE || k === COMMIT || k === DECLARATION || k === COUNTED_RULE) save = true;
    else if (k === CHAIN) chainLines = true;
    else if (k === RULE || k === PLAIN_RULE) rules = true;
  }
  const listed = chainLines || [...commands.values()].some((x) => !x.save) || (rules && !save);
  if (!save && listed) c.format = 'iptables-S';
  names.trim();
  return { result: c.result(), lines: ls };
}

/** A line's kind from its first characters and words, without splitting it. */
function kindOf(raw: string, i: number, commands: Map<number, IptablesCommand>): LineKind {
  const c0 = raw.charCodeAt(0);
  // `-A ` then anything (the line is trimmed: something follows): the usual rule line.
  if (c0 === 45 && raw.charCodeAt(1) === 65 && raw.charCodeAt(2) === 32) return 'rule';
  // Rules, declarations and table lines (nearly every line) never start a command: skip that test.
  const command = c0 === 45 || c0 === 58 || c0 === 42 ? undefined : iptablesCommand(raw); // `-`, `:`, `*`
  if (command) {
    commands.set(i, command);
    return 'command';
  }
  if (c0 === 35) return 'comment'; // `#`
  if (c0 === 42) return 'table';
  if (raw === 'COMMIT') return 'commit';
  if (c0 === 58) return 'declaration';
  let rest = raw;
  let counted = false;
  if (c0 === 91) {
    // `[`
    const m = /^\[(\d+):(\d+)\]\s+/.exec(raw);
    if (m) {
      counted = true;
      rest = raw.slice(m[0].length);
    }
  }
  const sp = rest.search(/[ \t]/);
  const op = sp < 0 ? rest : rest.slice(0, sp);
  const hasChain = sp >= 0 && /\S/.test(rest.slice(sp));
  if (!hasChain) return 'other';
  if (!counted && (op === '-P' || op === '-N' || op === '--policy' || op === '--new-chain')) return 'chain';
  if (op === '-A' || op === '--append') return counted ? 'counted-rule' : 'rule';
  return 'other';
}

/** A rule or chain line's words (`[p:b]` counters apart). */
function words0(raw: string): { words: string[]; unterminated: boolean; counters?: RegExpExecArray } {
  const counters = raw.charCodeAt(0) === 91 ? (/^\[(\d+):(\d+)\]\s+/.exec(raw) ?? undefined) : undefined;
  const { words, unterminated } = split(counters ? raw.slice(counters[0].length) : raw);
  return counters ? { words, unterminated, counters } : { words, unterminated };
}

/**
 * A rule line's chain, `[p:b]` counters and whether a double quote is left open, as `words0` would
 * give them, without splitting the whole line: the chain is the second blank-separated word, unless a
 * tab or a quote comes before its end (then the line is split as iptables-restore splits it).
 */
export function ruleHead(raw: string): { chain: string; unterminated: boolean; counters?: RegExpExecArray } {
  const counters = raw.charCodeAt(0) === 91 ? (/^\[(\d+):(\d+)\]\s+/.exec(raw) ?? undefined) : undefined;
  const s = counters ? raw.slice(counters[0].length) : raw;
  const q = s.indexOf('"');
  const a = s.indexOf(' ');
  if (a > 0 && s.indexOf('\t') < 0) {
    let b = a;
    while (s.charCodeAt(b) === 32) b++;
    let e = s.indexOf(' ', b);
    if (e < 0) e = s.length;
    if (b < e && (q < 0 || q >= e)) {
      const chain = s.slice(b, e);
      const unterminated = q >= 0 && openQuote(s, q);
      return counters ? { chain, unterminated, counters } : { chain, unterminated };
    }
  }
  const { words, unterminated } = split(s);
  return counters ? { chain: words[1] ?? '', unterminated, counters } : { chain: words[1] ?? '', unterminated };
}

/** Is a double quote left open at the end of `s` (`q`: the first quote), as `split` reads quotes? */
function openQuote(s: string, q: number): boolean {
  let open = q;
  for (;;) {
    // Inside quotes from `open`: up to the next quote that no backslash escapes.
    let j = open + 1;
    let close: number;
    for (;;) {
      close = s.indexOf('"', j);
      if (close < 0) return true;
      const bs = s.indexOf('\\', j);
      if (bs < 0 || bs > close) break;
      j = bs + 2;
    }
    open = s.indexOf('"', close + 1);
    if (open < 0) return false;
  }
}

/** openQuote on the text: is a double quote left open before `end` (`q`: the line's first quote)? */
function openQuoteIn(q: number, end: number, quote: Ahead, backslash: Ahead): boolean {
  let open = q;
  for (;;) {
    let j = open + 1;
    let close: number;
    for (;;) {
      close = quote.next(j);
      if (close < 0 || close >= end) return true;
      const bs = backslash.next(j);
      if (bs < 0 || bs > close) break;
      j = bs + 2;
    }
    open = quote.next(close + 1);
    if (open < 0 || open >= end) return false;
  }
}

/**
 * For each line, whether a bare COMMIT follows it before any `*table`, command, `-P` or `-N` line: such
 * `-A` lines are the end of an iptables-save block whose start was not pasted, not `iptables -S` output.
 */
function headlessSaveLines(kinds: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let commitAhead = false;
  for (let i = n - 1; i >= 0; i--) {
    const k = kinds[i]!;
    if (k === COMMIT) commitAhead = true;
    else if (k === TABLE || k === COMMAND || k === CHAIN) commitAhead = false;
    out[i] = commitAhead ? 1 : 0;
  }
  return out;
}

/** A shell prompt before a pasted command: `#`, `$`, `%`, `>`, `[user@host dir]#`, `user@host:dir$`. */
const PROMPT = /^(?:\[[^\]]*\]\s*[#$%]|[\w.-]+@[\w.-]+(?::\S*)?\s*[#$%]|[#$%>])\s*/;
/** The iptables binaries, maybe by path and with the -legacy/-nft suffix of Debian's alternatives. */
const TOOL = /^(?:\S*\/)?(ip6?tables)(?:-legacy|-nft)?(-save)?$/;
/** Commands that run iptables for you: `sudo iptables -S`, `kubectl exec POD -- iptables -S`, `ip netns exec NS iptables -S`. */
const WRAPPERS: ReadonlySet<string> = new Set(['sudo', 'doas', 'env', 'kubectl', 'oc', 'crictl', 'docker', 'podman', 'nerdctl', 'nsenter', 'ip', 'chroot']);

/** A line that is a pasted iptables command (with its prompt), or undefined. */
export function iptablesCommand(raw: string): IptablesCommand | undefined {
  const words = raw.trim().replace(PROMPT, '').split(/\s+/);
  const first = words[0] ?? '';
  const at = TOOL.test(first) ? 0 : WRAPPERS.has(first) ? words.findIndex((w) => TOOL.test(w)) : -1;
  if (at < 0) return undefined;
  const m = TOOL.exec(words[at]!)!;
  const cmd: IptablesCommand = { family: m[1] === 'ip6tables' ? 6 : 4, save: m[2] !== undefined };
  for (let i = at + 1; i < words.length; i++) {
    const w = words[i]!;
    if (/^[|;&<>]/.test(w)) break; // `| grep KUBE`, `> rules.txt`, `&& ...`
    if (w === '-t' || w === '--table') cmd.table = words[++i];
    else if (w.startsWith('--table=')) cmd.table = w.slice('--table='.length);
    else if (/^-t\w+$/.test(w)) cmd.table = w.slice(2);
  }
  if (cmd.table === undefined || cmd.table === '') delete cmd.table;
  return cmd;
}

function counters(p: string | undefined, b: string | undefined): Counters | undefined {
  const packets = uint(p);
  const bytes = uint(b);
  return packets === undefined || bytes === undefined ? undefined : { packets, bytes };
}

/** `-c PACKETS BYTES` inside a rule (iptables -S -v, older iptables-save): counters, not part of the match. */
function takeCounterOption(t: string[]): Counters | undefined {
  const i = t.findIndex((w) => w === '-c' || w === '--set-counters');
  const cnt = i >= 0 ? counters(t[i + 1], t[i + 2]) : undefined;
  if (cnt) t.splice(i, 3);
  return cnt;
}

/** The first `-j`/`--jump` or `-g`/`--goto` option word (a comment's text is never taken for one). */
function findTarget(t: readonly string[]): { target: string; goto: boolean } | undefined {
  for (let i = 0; i < t.length - 1; i++) {
    const w = t[i]!;
    if (w === '--comment') i++;
    else if (w === '-j' || w === '--jump' || w === '-g' || w === '--goto') return { target: t[i + 1]!, goto: w === '-g' || w === '--goto' };
  }
  return undefined;
}

/** Splits a rule as iptables-restore does: blanks separate, `"` groups, `\` escapes inside quotes. */
export function split(s: string): { words: string[]; unterminated: boolean } {
  // Most rules have no quotes and no tabs: split on spaces.
  if (s.indexOf('"') < 0 && s.indexOf('\t') < 0) {
    const parts = s.split(' ');
    return { words: parts.indexOf('') < 0 ? parts : parts.filter((w) => w !== ''), unterminated: false };
  }
  // Otherwise word by word, taking unquoted runs and quoted runs as slices (a 100,000-rule kube-proxy
  // rule set has a quoted comment on nearly every line).
  const words: string[] = [];
  const n = s.length;
  let i = 0;
  let unterminated = false;
  while (i < n) {
    let c = s.charCodeAt(i);
    if (c === 32 || c === 9) {
      i++;
      continue;
    }
    let word = '';
    while (i < n) {
      c = s.charCodeAt(i);
      if (c === 32 || c === 9) break;
      if (c === 34) {
        // A quoted run: up to the closing quote, a backslash taking the next character as it is.
        i++;
        let from = i;
        for (;;) {
          if (i >= n) {
            word += s.slice(from, i);
            unterminated = true;
            break;
          }
          const q = s.charCodeAt(i);
          if (q === 34) {
            word += s.slice(from, i);
            i++;
            break;
          }
          if (q === 92 && i + 1 < n) {
            word += s.slice(from, i) + s[i + 1];
            i += 2;
            from = i;
            continue;
          }
          i++;
        }
        continue;
      }
      const from = i;
      while (i < n) {
        const u = s.charCodeAt(i);
        if (u === 32 || u === 9 || u === 34) break;
        i++;
      }
      word += s.slice(from, i);
    }
    words.push(word);
  }
  return { words, unterminated };
}

/** The built-in matches' short and long option names, and their names in records. */
const BUILTIN: ReadonlyMap<string, string> = new Map([
  ['-s', 'source'], ['--source', 'source'], ['--src', 'source'],
  ['-d', 'destination'], ['--destination', 'destination'], ['--dst', 'destination'],
  ['-i', 'in-interface'], ['--in-interface', 'in-interface'],
  ['-o', 'out-interface'], ['--out-interface', 'out-interface'],
  ['-p', 'protocol'], ['--protocol', 'protocol'],
  ['-f', 'fragment'], ['--fragment', 'fragment'],
]);
/** Long option aliases that iptables accepts for the same option. */
const ALIAS: ReadonlyMap<string, string> = new Map([
  ['destination-port', 'dport'], ['source-port', 'sport'],
  ['destination-ports', 'dports'], ['source-ports', 'sports'],
]);
/** Options whose value is one word whatever it looks like (free text). */
const ONE_WORD = new Set(['comment', 'log-prefix', 'nflog-prefix', 'name', 'string', 'hex-string']);
/** Protocols whose match module iptables loads by itself after `-p` (`-p tcp --dport 80`). */
const IMPLICIT = new Set(['tcp', 'udp', 'udplite', 'sctp', 'dccp', 'icmp', 'icmpv6', 'ipv6-icmp']);

/**
 * One shared empty array for every option without a value and every rule without target options.
 * Records are not changed after parsing; frozen, so that a change would fail loudly.
 */
const NO_VALUES = Object.freeze([]) as unknown as string[];
const NO_OPTIONS = Object.freeze([]) as unknown as IptablesOption[];

/**
 * The words a kube-proxy, Calico or flannel rule set repeats on every line, kept once: a 100,000-rule
 * rule set has two million words, most of them these.
 */
const COMMON_WORDS: ReadonlyMap<string, string> = new Map(
  [
    '-A', '-m', '-j', '-g', '-p', '-s', '-d', '-i', '-o', '!', 'tcp', 'udp', 'sctp', 'icmp', 'comment', '--comment', '--dport', '--sport',
    'multiport', '--dports', 'mark', '--mark', 'conntrack', '--ctstate', 'NEW', 'RELATED,ESTABLISHED', 'INVALID', 'addrtype', '--dst-type',
    '--src-type', 'LOCAL', 'statistic', '--mode', 'random', '--probability', 'recent', '--name', '--mask', '--rsource', '--rcheck', '--set',
    '--seconds', '--reap', 'set', '--match-set', 'dst', 'src', 'dst,dst', 'src,dst', 'physdev', 'ACCEPT', 'DROP', 'RETURN', 'REJECT',
    '--reject-with', 'icmp-port-unreachable', 'DNAT', 'SNAT', 'MASQUERADE', '--to-destination', '--to-source', '--random-fully', 'MARK',
    '--set-xmark', '--or-mark', '--xor-mark', '0x4000/0x4000', '0x4000', 'KUBE-MARK-MASQ', 'KUBE-SERVICES', 'KUBE-NODEPORTS',
    'KUBE-POSTROUTING', 'KUBE-FORWARD', '0.50000000000', '255.255.255.255',
  ].map((w) => [w, w]),
);

/** Is this word an option name (and not a value such as `-1` or `-`)? */
function isOption(w: string): boolean {
  if (w.charCodeAt(0) !== 45) return w === '!'; // `-`
  const c = w.charCodeAt(1) === 45 ? w.charCodeAt(2) : w.charCodeAt(1);
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/**
 * The matches and target options of a rule's tokens, read the way iptables reads them: `-m X` opens a
 * module whose options follow, `!` negates the option after it (or, in the old form, the value after
 * it: `--dport ! 80`), `-j`/`-g` ends the matches and what follows are the target's options.
 */
export function structure(tokens: readonly string[]): { matches: IptablesMatch[]; targetOptions: IptablesOption[] } {
  const matches: IptablesMatch[] = [];
  const targetOptions: IptablesOption[] = [];
  let base: IptablesMatch | undefined;
  let current: IptablesMatch | undefined;
  let inTarget = false;
  let negate = false;
  for (let i = 0; i < tokens.length; i++) {
    const w = tokens[i]!;
    if (w === '!') {
      negate = true;
      continue;
    }
    if (w === '-m' || w === '--match') {
      current = { module: tokens[++i] ?? '', options: [] };
      matches.push(current);
      negate = false;
      continue;
    }
    if (w === '-j' || w === '--jump' || w === '-g' || w === '--goto') {
      i++;
      inTarget = true;
      negate = false;
      continue;
    }
    const bname = inTarget ? undefined : BUILTIN.get(w);
    const long = w.startsWith('--') ? w.slice(2) : undefined;
    if (bname === undefined && long === undefined) continue; // a stray value: nothing to hang it on
    const name = bname ?? ALIAS.get(long!) ?? long!;
    let oldNegation = false;
    let from = i + 1;
    if (bname !== 'fragment') {
      if (tokens[i + 1] === '!' && tokens[i + 2] !== undefined && !isOption(tokens[i + 2]!)) {
        oldNegation = true;
        i++;
        from = i + 1;
      }
      if (ONE_WORD.has(name) && tokens[i + 1] !== undefined) i++;
      else while (i + 1 < tokens.length && !isOption(tokens[i + 1]!)) i++;
    }
    // A slice is exactly as long as its words; an array grown by push keeps room for 16 (a big rule set
    // has half a million of these).
    const values = bname === 'fragment' || from > i ? NO_VALUES : tokens.slice(from, i + 1);
    const opt: IptablesOption = negate || oldNegation ? { name, values, negated: true } : { name, values };
    negate = false;
    if (inTarget) targetOptions.push(opt);
    else if (bname !== undefined) {
      if (!base) {
        base = { module: '', options: [] };
        matches.push(base);
      }
      base.options.push(opt);
      // `-p tcp` loads the tcp match: its options may follow without `-m tcp`.
      if (bname === 'protocol' && IMPLICIT.has(values[0] ?? '') && !opt.negated) current = undefined;
    } else {
      if (!current) {
        const proto = base?.options.find((o) => o.name === 'protocol')?.values[0] ?? '';
        current = { module: proto, options: [] };
        matches.push(current);
      }
      current.options.push(opt);
    }
  }
  // The same for the arrays grown above: keep exact copies.
  for (const m of matches) m.options = m.options.slice();
  return { matches: matches.slice(), targetOptions: targetOptions.length ? targetOptions.slice() : NO_OPTIONS };
}
