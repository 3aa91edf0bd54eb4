// `nft list ruleset` (also with -a: `# handle N`) and `nft -j list ruleset`: tables, chains (base chains
// with type, hook, priority and policy), rules as statements, and sets and maps with their elements
// (verdict maps and concatenations as kube-proxy's nftables mode writes them). Both forms give the same
// records (see types.ts for the expression model): the text is read into libnftables' JSON shapes.
//
// Text is read line by line inside `table F N { ... }` blocks, a set's `elements = { ... }` joined across
// lines until its braces close. A statement this reader does not know is kept as `{unknown: text}` up to
// the next statement it knows, so the rest of the rule is still read; the engine names such rules.
import { Collector, type Line, isObject, jsonDocument, lines, num, str } from './common';
import type {
  NftChainRecord,
  NftElement,
  NftExpr,
  NftRuleRecord,
  NftSetRecord,
  NftStatement,
  NftTableRecord,
  NftValue,
  NftVerdict,
  ParseIssue,
  ParseResult,
} from './types';

type Rec = NftTableRecord | NftChainRecord | NftRuleRecord | NftSetRecord;

export function parseNft(text: string): ParseResult<Rec> {
  if (/^\s*\{/.test(text)) return parseNftJson(text);
  return parseNftText(text);
}

// ---- priorities ---------------------------------------------------------------------------------

/** Named priorities (nft(8), "PRIORITY"): the bridge family has its own values. */
const NAMED_PRIORITY: Record<string, number> = { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 };
const BRIDGE_PRIORITY: Record<string, number> = { dstnat: -300, filter: -200, out: 100, srcnat: 300 };

/** `dstnat - 10`, `filter`, `-110`, `mangle + 5` as a number; undefined when it is none of these. */
export function priorityValue(text: string, family: string): number | undefined {
  const m = /^\s*(-?\d+|[a-z]+)\s*(?:([+-])\s*(\d+))?\s*$/.exec(text);
  if (!m) return undefined;
  const base = /^-?\d+$/.test(m[1]!) ? Number(m[1]) : (family === 'bridge' ? BRIDGE_PRIORITY : NAMED_PRIORITY)[m[1]!];
  if (base === undefined) return undefined;
  return m[2] === undefined ? base : m[2] === '+' ? base + Number(m[3]) : base - Number(m[3]);
}

/** `3h`, `10800s`, `1d2h3m4s`, `500ms` as seconds. */
function duration(text: string): number | undefined {
  const re = /(\d+)(d|h|ms|m|s)/g;
  let total = 0;
  let used = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const n = Number(m[1]);
    total += m[2] === 'd' ? n * 86400 : m[2] === 'h' ? n * 3600 : m[2] === 'm' ? n * 60 : m[2] === 's' ? n : n / 1000;
    used += m[0].length;
  }
  return used === text.length && used > 0 ? total : undefined;
}

// ---- text form -----------------------------------------------------------------------------------

interface Tok {
  t: string;
  quoted: boolean;
}

/** Words, quoted strings, and `{ } , ;` as tokens of their own (a comma list `a,b` splits too). */
export function tokenize(s: string): Tok[] {
  const out: Tok[] = [];
  let cur = '';
  const flush = () => {
    if (cur !== '') out.push({ t: cur, quoted: false });
    cur = '';
  };
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '"') {
      flush();
      let q = '';
      for (i++; i < s.length && s[i] !== '"'; i++) q += s[i] === '\\' && i + 1 < s.length ? s[++i] : s[i];
      out.push({ t: q, quoted: true });
    } else if (c === ' ' || c === '\t') flush();
    else if (c === '{' || c === '}' || c === ',' || c === ';') {
      flush();
      out.push({ t: c, quoted: false });
    } else cur += c;
  }
  flush();
  return out;
}

/** The line without a trailing `# handle N` (nft -a) and that handle. */
function handleOf(raw: string): { body: string; handle?: number } {
  const m = /\s#\s*handle\s+(\d+)\s*$/.exec(raw);
  return m ? { body: raw.slice(0, m.index), handle: Number(m[1]) } : { body: raw };
}

/** `{` minus `}` outside quotes. */
function braceDepth(s: string): number {
  let d = 0;
  let q = false;
  for (const c of s) {
    if (c === '"') q = !q;
    else if (!q && c === '{') d++;
    else if (!q && c === '}') d--;
  }
  return d;
}

type Block =
  | { kind: 'table'; family: string; name: string }
  | { kind: 'chain'; rec: NftChainRecord }
  | { kind: 'set'; rec: NftSetRecord }
  | { kind: 'other' };

function parseNftText(text: string): ParseResult<Rec> {
  const ls = lines(text);
  const c = new Collector<Rec>(ls.length === 0 ? 'empty' : 'nft');
  const stack: Block[] = [];
  /** A set's `elements = {` that has not closed yet: its text so far and its first line. */
  let pending: { set: NftSetRecord; text: string; line: Line } | undefined;
  const table = () => stack.find((b): b is Extract<Block, { kind: 'table' }> => b.kind === 'table');

  c.each(ls, (l) => {
    const { body, handle } = handleOf(l.raw);
    const raw = body.trim();
    if (pending) {
      if (!/^[\w.:/,\-\s"{}@*]+$/.test(raw)) return c.issue(l, `expected more elements of set ${pending.set.name}`);
      pending.text += ' ' + raw;
      if (braceDepth(pending.text) <= 0) {
        readElements(pending.set, pending.text, c, pending.line);
        pending = undefined;
      }
      return;
    }
    if (raw.startsWith('#')) return;
    const top = stack[stack.length - 1];
    if (raw === '}') {
      if (!stack.pop()) c.issue(l, 'a closing brace with no open block');
      return;
    }
    const words = raw.split(/\s+/);
    if (!top) {
      const m = /^table\s+(\S+)\s+(\S+)\s*\{$/.exec(raw) ?? /^table\s+(\S+)\s*\{$/.exec(raw);
      if (!m && /^(chain|set|map)\s+\S.*\{$/.test(raw)) {
        // A paste that starts inside a table: its chains and sets are kept with the table unknown ('').
        stack.push({ kind: 'table', family: '', name: '' });
        c.issue(l, 'a chain or set outside any `table FAMILY NAME {` block (a paste that starts inside a table?): kept with its table unknown', { kept: true });
        return handleInTable(l, raw, words, handle);
      }
      if (!m) return c.issue(l, 'expected `table FAMILY NAME {` (nft list ruleset)');
      const [family, name] = m[2] === undefined ? ['ip', m[1]!] : [m[1]!, m[2]];
      stack.push({ kind: 'table', family, name });
      const rec: NftTableRecord = { kind: 'nft-table', family, name, src: { line: l.line, raw: l.raw } };
      if (handle !== undefined) rec.handle = handle;
      c.records.push(rec);
      return;
    }
    if (top.kind === 'table') return handleInTable(l, raw, words, handle);
    continueInBlock(l, raw, words, handle, top);
  });

  /** A line directly inside a table: a chain, set or map opening, or a table property. */
  function handleInTable(l: Line, raw: string, words: string[], handle: number | undefined): void {
    {
      const t = stack[stack.length - 1] as Extract<Block, { kind: 'table' }>;
      if ((words[0] === 'chain' || words[0] === 'set' || words[0] === 'map') && raw.endsWith('{')) {
        const name = unquote(raw.slice(words[0].length, -1).trim());
        const src = { line: l.line, raw: l.raw };
        if (words[0] === 'chain') {
          const rec: NftChainRecord = { kind: 'nft-chain', family: t.family, table: t.name, name, src };
          if (handle !== undefined) rec.handle = handle;
          c.records.push(rec);
          stack.push({ kind: 'chain', rec });
        } else {
          const rec: NftSetRecord = { kind: 'nft-set', family: t.family, table: t.name, name, map: words[0] === 'map', keyType: [], elements: [], src };
          if (handle !== undefined) rec.handle = handle;
          c.records.push(rec);
          stack.push({ kind: 'set', rec });
        }
        return;
      }
      if (raw.endsWith('{')) {
        // flowtable, ct helper, counter, quota, limit, secmark, synproxy objects: not modelled.
        stack.push({ kind: 'other' });
        return;
      }
      if (words[0] === 'comment' || words[0] === 'flags') return;
      return c.issue(l, 'expected a chain, set or map in the table');
    }
  }

  /** A line inside a chain, a set or an object block. */
  function continueInBlock(l: Line, raw: string, words: string[], handle: number | undefined, top: Exclude<Block, { kind: 'table' }>): void {
    if (top.kind === 'other') {
      if (raw.endsWith('{')) stack.push({ kind: 'other' });
      return;
    }
    if (top.kind === 'set') {
      const set = top.rec;
      if (words[0] === 'type' || words[0] === 'typeof') {
        const rest = raw.slice(words[0].length).trim();
        const colon = rest.indexOf(' : ');
        const key = colon >= 0 ? rest.slice(0, colon) : rest;
        set.keyType = key.split(' . ').map((x) => x.trim());
        if (colon >= 0) set.dataType = rest.slice(colon + 3).trim();
        return;
      }
      if (words[0] === 'timeout') {
        const d = duration(words[1] ?? '');
        if (d !== undefined) set.timeout = d;
        return;
      }
      if (words[0] === 'elements') {
        const text = raw.slice(raw.indexOf('=') + 1);
        if (braceDepth(text) > 0) pending = { set, text, line: l };
        else readElements(set, text, c, l);
        return;
      }
      // flags, size, comment, policy, auto-merge, gc-interval, counter: no bearing on a lookup.
      if (['flags', 'size', 'comment', 'policy', 'auto-merge', 'gc-interval', 'counter'].includes(words[0]!)) return;
      return c.issue(l, `expected a set property (type, flags, timeout, elements, ...) in set ${set.name}`);
    }
    // In a chain: the base chain's header, a comment, or a rule.
    const chain = top.rec;
    if (words[0] === 'type' && / hook /.test(raw)) {
      for (const part of raw.split(';')) {
        const p = part.trim();
        const m = /^type\s+(\S+)\s+hook\s+(\S+)(?:\s+device\s+"?([^"\s]+)"?)?\s+priority\s+(.+)$/.exec(p);
        if (m) {
          chain.type = m[1]!;
          chain.hook = m[2]!;
          if (m[3] !== undefined) chain.device = m[3];
          const prio = priorityValue(m[4]!, chain.family);
          if (prio === undefined) c.issue(l, `priority "${m[4]}" is not a number or a named priority`, { kept: true });
          else chain.priority = prio;
        }
        const pm = /^policy\s+(accept|drop)$/.exec(p);
        if (pm) chain.policy = pm[1] as 'accept' | 'drop';
      }
      return;
    }
    if (words[0] === 'comment' && words.length >= 2 && /^comment\s+"[^"]*"$/.test(raw)) return;
    const rule: NftRuleRecord = { kind: 'nft-rule', family: chain.family, table: chain.table, chain: chain.name, statements: [], src: { line: l.line, raw: l.raw } };
    const parsed = parseRuleTokens(tokenize(raw));
    rule.statements = parsed.statements;
    if (parsed.comment !== undefined) rule.comment = parsed.comment;
    if (handle !== undefined) rule.handle = handle;
    c.records.push(rule);
    if (parsed.unknown.length) c.issue(l, `statement(s) netpath does not model, kept as unknown: ${parsed.unknown.join('; ')}`, { kept: true });
  }
  if (pending) c.issue(pending.line, `elements of set ${pending.set.name} never close (output cut short?)`);
  const open = table();
  if (stack.length && open) c.issue(ls[ls.length - 1]!, open.name ? `table ${open.family} ${open.name} is not closed (output cut short?)` : 'the paste ends inside a table (output cut short?)', { kept: true });
  return c.result();
}

function unquote(s: string): string {
  return s.startsWith('"') && s.endsWith('"') && s.length >= 2 ? s.slice(1, -1) : s;
}

function readElements(set: NftSetRecord, text: string, c: Collector<Rec>, l: Line): void {
  const toks = tokenize(text);
  const p = new TokParser(toks);
  if (!p.eat('{')) return c.issue(l, `elements of set ${set.name}: expected \`{\``, { kept: true });
  set.elements = p.elements();
  if (p.err) c.issue(l, `elements of set ${set.name}: ${p.err}`, { kept: true });
}

const VERDICTS = new Set(['accept', 'drop', 'continue', 'return', 'jump', 'goto', 'queue']);
const PAYLOAD_PROTOCOLS = new Set(['ip', 'ip6', 'tcp', 'udp', 'udplite', 'sctp', 'dccp', 'th', 'icmp', 'icmpv6', 'ether', 'vlan', 'arp', 'ah', 'esp', 'comp', 'igmp']);
const META_BARE = new Set(['mark', 'random', 'iif', 'oif', 'iifname', 'oifname', 'iiftype', 'oiftype', 'l4proto', 'nfproto', 'protocol', 'pkttype', 'skuid', 'skgid', 'length', 'priority', 'cpu', 'cgroup']);
/** ct keys whose type is a bit mask: the implicit operator is `in` (flags), as nft -j prints it. */
const CT_FLAG_KEYS = new Set(['state', 'status']);
/** Words that begin a statement (so an unknown statement ends before them). */
const STATEMENT_START = new Set([
  ...VERDICTS, 'counter', 'log', 'reject', 'dnat', 'snat', 'masquerade', 'redirect', 'notrack', 'meta', 'ct', 'fib', 'numgen',
  'update', 'add', 'delete', 'comment', ...PAYLOAD_PROTOCOLS, ...META_BARE, 'limit',
]);

/** Binary operators, also in the words nft accepts and prints for iptables-nft's MARK (`mark or 0x4000`). */
const BINOPS: Record<string, '&' | '|' | '^' | '<<' | '>>'> = { '&': '&', '|': '|', '^': '^', '<<': '<<', '>>': '>>', and: '&', or: '|', xor: '^' };

const isNumber = (s: string) => /^(0x[0-9a-fA-F]+|\d+)$/.test(s);
const toNumber = (s: string) => (s.startsWith('0x') || s.startsWith('0X') ? parseInt(s, 16) : Number(s));

/** A word as a value: a number when it is one, a prefix, a range, else the word. */
function atom(w: string, quoted: boolean): NftValue {
  if (quoted) return w;
  if (w.startsWith('@')) return { ref: w.slice(1) };
  if (isNumber(w)) return toNumber(w);
  const slash = w.lastIndexOf('/');
  if (slash > 0 && /^\d{1,3}$/.test(w.slice(slash + 1)) && /^[0-9a-fA-F.:]+$/.test(w.slice(0, slash))) return { prefix: { addr: w.slice(0, slash), len: Number(w.slice(slash + 1)) } };
  const dash = w.indexOf('-');
  if (dash > 0) {
    const a = w.slice(0, dash);
    const b = w.slice(dash + 1);
    if ((isNumber(a) && isNumber(b)) || (/^[\d.]+$/.test(a) && /^[\d.]+$/.test(b) && a.includes('.')) || (/^[0-9a-fA-F:]+$/.test(a) && a.includes(':') && /^[0-9a-fA-F:]+$/.test(b))) {
      return { range: [atom(a, false), atom(b, false)] };
    }
  }
  return w;
}

class TokParser {
  i = 0;
  err: string | undefined;
  constructor(readonly toks: Tok[]) {}

  peek(o = 0): string | undefined {
    return this.toks[this.i + o]?.t;
  }
  quoted(o = 0): boolean {
    return this.toks[this.i + o]?.quoted ?? false;
  }
  done(): boolean {
    return this.i >= this.toks.length;
  }
  next(): string {
    return this.toks[this.i++]?.t ?? '';
  }
  eat(t: string): boolean {
    if (this.peek() === t && !this.quoted()) {
      this.i++;
      return true;
    }
    return false;
  }

  /** `{ a, b . c : verdict, ... }` after the opening brace. */
  elements(): NftElement[] {
    const out: NftElement[] = [];
    while (!this.done() && !this.eat('}')) {
      if (this.eat(',')) continue;
      const key = this.concatValue();
      const el: NftElement = { key };
      // Dynamic sets print `timeout 3h expires 2h59m` after an element.
      while (this.peek() === 'timeout' || this.peek() === 'expires' || this.peek() === 'counter' || this.peek() === 'comment') {
        const w = this.next();
        if (w === 'comment') el.comment = this.next();
        else if (w === 'counter') {
          while (this.peek() === 'packets' || this.peek() === 'bytes') this.i += 2;
        } else this.next();
      }
      if (this.eat(':')) el.data = this.dataValue();
      out.push(el);
    }
    return out;
  }

  /** Map data: a verdict (`goto X`, `drop`) or a value. */
  dataValue(): NftValue {
    const w = this.peek();
    if (w !== undefined && VERDICTS.has(w) && !this.quoted()) {
      this.next();
      const v: NftVerdict = { verdict: w as NftVerdict['verdict'] };
      if (w === 'jump' || w === 'goto') v.target = this.next();
      return v;
    }
    return this.concatValue();
  }

  /** A value, `a . b . c` joined, and a bare comma list `a,b` (flags) as a set. */
  concatValue(): NftValue {
    const parts: NftValue[] = [this.single()];
    while (this.peek() === '.' && !this.quoted()) {
      this.next();
      parts.push(this.single());
    }
    return parts.length === 1 ? parts[0]! : { concat: parts };
  }

  single(): NftValue {
    if (this.eat('{')) return { set: this.elements() };
    const q = this.quoted();
    const w = this.next();
    return atom(w, q);
  }

  /** A right-hand side: a value, or a comma list of values (`established,related`). */
  rhs(): NftValue {
    const first = this.concatValue();
    if (this.peek() !== ',') return first;
    const list: NftElement[] = [{ key: first }];
    while (this.eat(',')) list.push({ key: this.concatValue() });
    return { set: list };
  }

  /** A primary expression: payload, meta, ct, fib, numgen; undefined when the word is none. */
  primary(): NftExpr | undefined {
    const w = this.peek();
    if (w === undefined || this.quoted()) return undefined;
    if (PAYLOAD_PROTOCOLS.has(w) && this.peek(1) !== undefined && /^[a-z][a-z0-9-]*$/.test(this.peek(1)!) && !this.quoted(1)) {
      // `ip saddr`, `th dport`; but `tcp` alone is a value (meta l4proto tcp).
      this.i += 2;
      return { payload: { protocol: w, field: this.toks[this.i - 1]!.t } };
    }
    if (w === 'meta') {
      this.i++;
      return { meta: this.next() };
    }
    if (META_BARE.has(w)) {
      this.i++;
      return { meta: w };
    }
    if (w === 'ct') {
      this.i++;
      let dir: string | undefined;
      if (this.peek() === 'original' || this.peek() === 'reply') dir = this.next();
      let family: string | undefined;
      if (this.peek() === 'ip' || this.peek() === 'ip6') family = this.next();
      const key = this.next();
      return { ct: { key, ...(dir !== undefined && { dir }), ...(family !== undefined && { family }) } };
    }
    if (w === 'fib') {
      this.i++;
      const flags: string[] = [];
      while (this.peek() !== undefined && ['saddr', 'daddr', 'mark', 'iif', 'oif'].includes(this.peek()!)) flags.push(this.next());
      return { fib: { flags, result: this.next() } };
    }
    if (w === 'numgen') {
      this.i++;
      const mode = this.next();
      let mod = 0;
      let offset = 0;
      if (this.eat('mod')) mod = toNumber(this.next());
      if (this.eat('offset')) offset = toNumber(this.next());
      return { numgen: { mode, mod, offset } };
    }
    return undefined;
  }

  /** A primary expression with `&`/`|`/`^` and `.` concatenation. */
  expr(): NftExpr | undefined {
    const first = this.withBinop();
    if (!first) return undefined;
    const parts = [first];
    while (this.peek() === '.' && !this.quoted()) {
      const save = this.i;
      this.next();
      const e = this.withBinop();
      if (!e) {
        this.i = save;
        break;
      }
      parts.push(e);
    }
    return parts.length === 1 ? first : { concat: parts };
  }

  withBinop(): NftExpr | undefined {
    let e = this.primary();
    while (e && BINOPS[this.peek() ?? ''] !== undefined && !this.quoted()) {
      const op = BINOPS[this.next()]!;
      e = { binop: { op, left: e, right: this.single() } };
    }
    return e;
  }
}

/** Reads one rule's tokens into statements. */
export function parseRuleTokens(toks: Tok[]): { statements: NftStatement[]; comment?: string; unknown: string[] } {
  const p = new TokParser(toks);
  const statements: NftStatement[] = [];
  const unknown: string[] = [];
  let comment: string | undefined;
  const skipUnknown = (first: string) => {
    const words = [first];
    while (!p.done() && !(STATEMENT_START.has(p.peek()!) && !p.quoted())) words.push(p.quoted() ? `"${p.next()}"` : p.next());
    const text = words.join(' ');
    statements.push({ unknown: text });
    unknown.push(text);
  };
  while (!p.done()) {
    const w = p.peek()!;
    if (p.quoted()) {
      skipUnknown(`"${p.next()}"`);
      continue;
    }
    if (VERDICTS.has(w)) {
      p.next();
      const v: NftVerdict = { verdict: w as NftVerdict['verdict'] };
      if (w === 'jump' || w === 'goto') v.target = p.next();
      statements.push(v);
      continue;
    }
    if (w === 'comment') {
      p.next();
      comment = p.next();
      continue;
    }
    if (w === 'counter') {
      p.next();
      while (p.peek() === 'packets' || p.peek() === 'bytes') p.i += 2;
      statements.push({ counter: true });
      continue;
    }
    if (w === 'log') {
      p.next();
      while (['prefix', 'level', 'group', 'snaplen', 'queue-threshold', 'flags'].includes(p.peek() ?? '')) {
        p.next();
        p.next();
      }
      statements.push({ log: true });
      continue;
    }
    if (w === 'notrack') {
      p.next();
      statements.push({ notrack: true });
      continue;
    }
    if (w === 'reject') {
      p.next();
      const r: { type?: string; code?: string } = {};
      if (p.eat('with')) {
        const type = p.next();
        if (type === 'tcp') {
          p.eat('reset');
          r.type = 'tcp reset';
        } else {
          r.type = type;
          p.eat('type');
          r.code = p.next();
        }
      }
      statements.push({ reject: r });
      continue;
    }
    if (w === 'dnat' || w === 'snat' || w === 'masquerade' || w === 'redirect') {
      p.next();
      statements.push({ nat: natText(w, p) });
      continue;
    }
    if ((w === 'update' || w === 'add' || w === 'delete') && p.peek(1)?.startsWith('@')) {
      p.next();
      const set = p.next().slice(1);
      p.eat('{');
      const elem = p.expr() ?? { unknown: '' };
      p.eat('}');
      statements.push({ setop: { op: w, set, elem } });
      continue;
    }
    const start = p.i;
    const left = p.expr();
    if (!left) {
      p.next();
      skipUnknown(w);
      continue;
    }
    if (p.eat('vmap')) {
      statements.push({ vmap: { key: left, data: p.peek() === '{' ? (p.next(), { set: p.elements() }) : p.single() } });
      continue;
    }
    if (p.eat('set')) {
      const value = p.expr() ?? p.single();
      statements.push({ mangle: { key: left, value } });
      continue;
    }
    const op = p.peek();
    if (op === '==' || op === '!=' || op === '<' || op === '>' || op === '<=' || op === '>=') {
      p.next();
      statements.push({ match: { op, left, right: p.rhs() } });
      continue;
    }
    if (p.done() || (STATEMENT_START.has(p.peek()!) && !p.quoted() && !isValueWord(left, p.peek()!))) {
      // An expression with nothing to compare: not something nft prints.
      p.i = start;
      p.next();
      skipUnknown(w);
      continue;
    }
    const right = p.rhs();
    const implicit = 'ct' in left && CT_FLAG_KEYS.has(left.ct.key) && typeof right !== 'object' ? 'in' : 'ct' in left && CT_FLAG_KEYS.has(left.ct.key) && 'set' in (right as object) ? 'in' : '==';
    statements.push({ match: { op: implicit, left, right } });
  }
  return { statements, ...(comment !== undefined && { comment }), unknown };
}

/** Words that start statements but are values after some expressions (`meta l4proto tcp`, `ip protocol udp`). */
function isValueWord(left: NftExpr, w: string): boolean {
  return 'ct' in left || PAYLOAD_PROTOCOLS.has(w) || w === 'mark';
}

function natText(type: 'dnat' | 'snat' | 'masquerade' | 'redirect', p: TokParser): Extract<NftStatement, { nat: unknown }>['nat'] {
  const nat: Extract<NftStatement, { nat: unknown }>['nat'] = { type };
  if (p.peek() === 'ip' || p.peek() === 'ip6') nat.family = p.next();
  if (p.eat('to')) {
    const target = p.next();
    // `10.0.0.1:80`, `[fd00::1]:80`, `:8080`, `10.0.0.1-10.0.0.3:80-81`, `fd00::1` (no port).
    let addr = target;
    let ports: string | undefined;
    if (target.startsWith('[')) {
      const end = target.indexOf(']');
      addr = target.slice(1, end);
      if (target[end + 1] === ':') ports = target.slice(end + 2);
    } else if ((target.match(/:/g) ?? []).length === 1) {
      addr = target.slice(0, target.indexOf(':'));
      ports = target.slice(target.indexOf(':') + 1);
    }
    if (addr !== '') {
      const dash = addr.indexOf('-');
      if (dash > 0) {
        nat.addr = addr.slice(0, dash);
        nat.addrTo = addr.slice(dash + 1);
      } else nat.addr = addr;
    }
    const pm = ports === undefined ? null : /^(\d+)(?:-(\d+))?$/.exec(ports);
    if (pm) {
      nat.port = Number(pm[1]);
      if (pm[2] !== undefined) nat.portTo = Number(pm[2]);
    }
  }
  const flags: string[] = [];
  while (p.peek() === 'random' || p.peek() === 'fully-random' || p.peek() === 'persistent' || p.eat(',')) {
    if (p.peek() === ',') continue;
    flags.push(p.next());
  }
  if (flags.length) nat.flags = flags;
  return nat;
}

// ---- JSON form ----------------------------------------------------------------------------------

function parseNftJson(text: string): ParseResult<Rec> {
  const c = new Collector<Rec>('nft-json');
  const { doc, issue } = jsonDocument(text);
  if (issue) {
    c.issues.push(issue);
    return c.result();
  }
  const items = isObject(doc) && Array.isArray(doc.nftables) ? (doc.nftables as unknown[]) : undefined;
  if (!items) {
    c.issues.push({ line: 1, raw: text.trimStart().split('\n')[0]!.slice(0, 200), message: 'expected {"nftables": [...]} (nft -j list ruleset)' });
    return c.result();
  }
  items.forEach((item) => {
    const raw = JSON.stringify(item);
    const src = { line: 1, raw };
    const issue = (message: string): void => void c.issues.push({ line: 1, raw, message } satisfies ParseIssue);
    try {
      if (!isObject(item)) return issue('expected an object');
      if (isObject(item.table)) {
        const t = item.table;
        const rec: NftTableRecord = { kind: 'nft-table', family: str(t.family) ?? '', name: str(t.name) ?? '', src };
        if (num(t.handle) !== undefined) rec.handle = num(t.handle)!;
        c.records.push(rec);
      } else if (isObject(item.chain)) {
        const ch = item.chain;
        const rec: NftChainRecord = { kind: 'nft-chain', family: str(ch.family) ?? '', table: str(ch.table) ?? '', name: str(ch.name) ?? '', src };
        if (str(ch.type) !== undefined) rec.type = str(ch.type)!;
        if (str(ch.hook) !== undefined) rec.hook = str(ch.hook)!;
        const prio = num(ch.prio) ?? (str(ch.prio) !== undefined ? priorityValue(str(ch.prio)!, rec.family) : undefined);
        if (prio !== undefined) rec.priority = prio;
        if (ch.policy === 'accept' || ch.policy === 'drop') rec.policy = ch.policy;
        if (str(ch.dev) !== undefined) rec.device = str(ch.dev)!;
        if (num(ch.handle) !== undefined) rec.handle = num(ch.handle)!;
        c.records.push(rec);
      } else if (isObject(item.set) || isObject(item.map)) {
        const s = (item.set ?? item.map) as Record<string, unknown>;
        const type = s.type;
        const rec: NftSetRecord = {
          kind: 'nft-set',
          family: str(s.family) ?? '',
          table: str(s.table) ?? '',
          name: str(s.name) ?? '',
          map: isObject(item.map),
          keyType: Array.isArray(type) ? type.map(String) : typeof type === 'string' ? [type] : [],
          elements: [],
          src,
        };
        if (str(s.map) !== undefined) rec.dataType = str(s.map)!;
        if (num(s.timeout) !== undefined) rec.timeout = num(s.timeout)!;
        if (Array.isArray(s.elem)) rec.elements = s.elem.map((e) => jsonElement(e, rec.map));
        if (num(s.handle) !== undefined) rec.handle = num(s.handle)!;
        c.records.push(rec);
      } else if (isObject(item.rule)) {
        const r = item.rule;
        const rec: NftRuleRecord = { kind: 'nft-rule', family: str(r.family) ?? '', table: str(r.table) ?? '', chain: str(r.chain) ?? '', statements: [], src };
        const exprs = Array.isArray(r.expr) ? r.expr : [];
        rec.statements = exprs.map((e) => jsonStatement(e, rec.family));
        if (str(r.comment) !== undefined) rec.comment = str(r.comment)!;
        if (num(r.handle) !== undefined) rec.handle = num(r.handle)!;
        c.records.push(rec);
        const unknown = rec.statements.filter((s): s is { unknown: string } => 'unknown' in s);
        if (unknown.length) issue(`statement(s) netpath does not model, kept as unknown: ${unknown.map((u) => u.unknown).join('; ')}`);
        if (unknown.length) c.issues[c.issues.length - 1]!.kept = true;
      }
      // metainfo, flowtables, objects: nothing to keep.
    } catch (e) {
      issue(`internal parser error: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
  return c.result();
}

function jsonElement(e: unknown, map: boolean): NftElement {
  if (map && Array.isArray(e) && e.length === 2) {
    const el = jsonElement(e[0], false);
    el.data = jsonValue(e[1]);
    return el;
  }
  if (isObject(e) && isObject(e.elem)) {
    const el: NftElement = { key: jsonValue(e.elem.val) };
    if (str(e.elem.comment) !== undefined) el.comment = str(e.elem.comment)!;
    return el;
  }
  return { key: jsonValue(e) };
}

function jsonValue(v: unknown): NftValue {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return v.startsWith('@') ? { ref: v.slice(1) } : v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (Array.isArray(v)) return { set: v.map((x) => jsonElement(x, false)) };
  if (!isObject(v)) return String(v);
  if (isObject(v.prefix)) return { prefix: { addr: str(v.prefix.addr) ?? '', len: num(v.prefix.len) ?? 0 } };
  if (Array.isArray(v.range) && v.range.length === 2) return { range: [jsonValue(v.range[0]), jsonValue(v.range[1])] };
  if (Array.isArray(v.concat)) return { concat: v.concat.map(jsonValue) };
  if (Array.isArray(v.set)) return { set: v.set.map((x: unknown) => jsonElement(x, Array.isArray(x) && x.length === 2)) };
  if (isObject(v.elem)) return jsonValue(v.elem.val);
  for (const verdict of VERDICTS) {
    if (verdict in v) {
      const out: NftVerdict = { verdict: verdict as NftVerdict['verdict'] };
      const body = v[verdict];
      if (isObject(body) && str(body.target) !== undefined) out.target = str(body.target)!;
      return out;
    }
  }
  return JSON.stringify(v);
}

function jsonExpr(v: unknown): NftExpr {
  if (!isObject(v)) return { unknown: JSON.stringify(v) };
  if (isObject(v.payload)) return { payload: { protocol: str(v.payload.protocol) ?? '', field: str(v.payload.field) ?? '' } };
  if (isObject(v.meta)) return { meta: str(v.meta.key) ?? '' };
  if (isObject(v.ct)) {
    const ct: { key: string; dir?: string; family?: string } = { key: str(v.ct.key) ?? '' };
    if (str(v.ct.dir) !== undefined) ct.dir = str(v.ct.dir)!;
    if (str(v.ct.family) !== undefined) ct.family = str(v.ct.family)!;
    return { ct };
  }
  if (isObject(v.fib)) {
    const flags = v.fib.flags;
    return { fib: { flags: Array.isArray(flags) ? flags.map(String) : typeof flags === 'string' ? [flags] : [], result: str(v.fib.result) ?? '' } };
  }
  if (isObject(v.numgen)) return { numgen: { mode: str(v.numgen.mode) ?? '', mod: num(v.numgen.mod) ?? 0, offset: num(v.numgen.offset) ?? 0 } };
  if (Array.isArray(v.concat)) return { concat: v.concat.map(jsonExpr) };
  for (const op of ['&', '|', '^', '<<', '>>'] as const) {
    const pair = v[op];
    if (Array.isArray(pair) && pair.length === 2) return { binop: { op, left: jsonExpr(pair[0]), right: jsonValue(pair[1]) } };
  }
  return { unknown: JSON.stringify(v) };
}

/** The default reject of each family: what `reject` with no `with` prints as in JSON. */
const DEFAULT_REJECT: Record<string, string> = { ip: 'icmp', ip6: 'icmpv6', inet: 'icmpx', bridge: 'icmpx' };

function jsonStatement(s: unknown, family: string): NftStatement {
  if (!isObject(s)) return { unknown: JSON.stringify(s) };
  if (isObject(s.match)) {
    const m = s.match;
    const op = str(m.op) ?? '==';
    const ops = ['==', '!=', '<', '>', '<=', '>=', 'in'] as const;
    const known = ops.find((o) => o === op);
    if (!known) return { unknown: JSON.stringify(s) };
    return { match: { op: known, left: jsonExpr(m.left), right: jsonValue(m.right) } };
  }
  for (const verdict of VERDICTS) {
    if (verdict in s) {
      const out: NftVerdict = { verdict: verdict as NftVerdict['verdict'] };
      const body = s[verdict];
      if (isObject(body) && str(body.target) !== undefined) out.target = str(body.target)!;
      return out;
    }
  }
  if (isObject(s.vmap)) return { vmap: { key: jsonExpr(s.vmap.key), data: jsonValue(s.vmap.data) } };
  for (const type of ['dnat', 'snat', 'masquerade', 'redirect'] as const) {
    if (type in s) {
      const b = isObject(s[type]) ? (s[type] as Record<string, unknown>) : {};
      const nat: Extract<NftStatement, { nat: unknown }>['nat'] = { type };
      if (str(b.family) !== undefined) nat.family = str(b.family)!;
      const addr = b.addr;
      if (typeof addr === 'string') nat.addr = addr;
      else if (isObject(addr) && Array.isArray(addr.range)) {
        nat.addr = String(addr.range[0]);
        nat.addrTo = String(addr.range[1]);
      }
      const port = b.port;
      if (typeof port === 'number') nat.port = port;
      else if (isObject(port) && Array.isArray(port.range)) {
        nat.port = Number(port.range[0]);
        nat.portTo = Number(port.range[1]);
      }
      const flags = Array.isArray(b.flags) ? b.flags.map(String) : typeof b.flags === 'string' ? [b.flags] : [];
      if (flags.length) nat.flags = flags;
      return { nat };
    }
  }
  if ('reject' in s) {
    const b = isObject(s.reject) ? s.reject : {};
    const r: { type?: string; code?: string } = {};
    const type = str(b.type);
    const code = str(b.expr);
    const isDefault = type === DEFAULT_REJECT[family] && (code === undefined || code === 'port-unreachable');
    if (type !== undefined && !isDefault) r.type = type;
    if (code !== undefined && !isDefault && type !== 'tcp reset') r.code = code;
    return { reject: r };
  }
  if (isObject(s.mangle)) {
    const val = s.mangle.value;
    const value = isObject(val) && !('prefix' in val) && !('range' in val) && !('set' in val) ? jsonExpr(val) : jsonValue(val);
    return { mangle: { key: jsonExpr(s.mangle.key), value } };
  }
  if (isObject(s.set) && str(s.set.op) !== undefined) {
    const set = str(s.set.set) ?? '';
    return { setop: { op: str(s.set.op)!, set: set.startsWith('@') ? set.slice(1) : set, elem: jsonExpr(s.set.elem) } };
  }
  if ('counter' in s) return { counter: true };
  if ('log' in s) return { log: true };
  if ('notrack' in s) return { notrack: true };
  return { unknown: JSON.stringify(s) };
}
