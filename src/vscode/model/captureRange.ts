// Where a probe line sits in the capture file as written: evidence says {host, probe, line}, the line
// counted in the host's probe text (split on \n, a trailing \r dropped: parsers/common.ts `lines`),
// but in the file that text is one JSON string with escapes. This finds the exact characters of that
// line inside the string, so the editor can select what the engine quoted. Pure: no vscode here.

/** Character offsets [start, end) in the capture text (UTF-16 units, as JS strings and VS Code count). */
export interface TextRange {
  start: number;
  end: number;
}

export type ProbeLineRange =
  | { ok: true; range: TextRange }
  | { ok: false; reason: string };

type Located =
  | { kind: 'object'; entries: Map<string, Located> }
  | { kind: 'array'; items: Located[] }
  /** `start`/`end` enclose the quotes. */
  | { kind: 'string'; value: string; start: number; end: number }
  | { kind: 'other' };

class Scanner {
  i = 0;
  constructor(readonly text: string) {}

  fail(what: string): never {
    throw new SyntaxError(`${what} at offset ${this.i}`);
  }

  ws(): void {
    while (this.i < this.text.length && ' \t\r\n'.includes(this.text[this.i]!)) this.i++;
  }

  value(): Located {
    this.ws();
    const c = this.text[this.i];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    const m = /^(?:true|false|null|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(this.text.slice(this.i, this.i + 64));
    if (!m) this.fail('unexpected character');
    this.i += m[0].length;
    return { kind: 'other' };
  }

  object(): Located {
    const entries = new Map<string, Located>();
    this.i++;
    this.ws();
    if (this.text[this.i] === '}') {
      this.i++;
      return { kind: 'object', entries };
    }
    for (;;) {
      this.ws();
      if (this.text[this.i] !== '"') this.fail('expected a key');
      const key = this.string();
      this.ws();
      if (this.text[this.i] !== ':') this.fail('expected :');
      this.i++;
      // JSON.parse keeps the last of duplicate keys: so does this.
      entries.set(key.value, this.value());
      this.ws();
      const c = this.text[this.i++];
      if (c === '}') return { kind: 'object', entries };
      if (c !== ',') this.fail('expected , or }');
    }
  }

  array(): Located {
    const items: Located[] = [];
    this.i++;
    this.ws();
    if (this.text[this.i] === ']') {
      this.i++;
      return { kind: 'array', items };
    }
    for (;;) {
      items.push(this.value());
      this.ws();
      const c = this.text[this.i++];
      if (c === ']') return { kind: 'array', items };
      if (c !== ',') this.fail('expected , or ]');
    }
  }

  string(): Located & { kind: 'string' } {
    const start = this.i;
    this.i++;
    for (;;) {
      const c = this.text[this.i];
      if (c === undefined) this.fail('unterminated string');
      if (c === '"') break;
      this.i += c === '\\' ? 2 : 1;
    }
    this.i++;
    return { kind: 'string', value: JSON.parse(this.text.slice(start, this.i)) as string, start, end: this.i };
  }
}

/** The JSON string of `hosts[name=host].probes[probe]` in `text`, with where it is. */
function probeString(text: string, host: string, probe: string): (Located & { kind: 'string' }) | string {
  let doc: Located;
  try {
    doc = new Scanner(text).value();
  } catch (e) {
    return `the capture is not valid JSON (${e instanceof Error ? e.message : String(e)})`;
  }
  const hosts = doc.kind === 'object' ? doc.entries.get('hosts') : undefined;
  if (hosts?.kind !== 'array') return 'the capture has no hosts list';
  const h = hosts.items.find((x) => x.kind === 'object' && (x.entries.get('name') as { value?: unknown } | undefined)?.value === host);
  if (h?.kind !== 'object') return `the capture has no host named ${host}`;
  const probes = h.entries.get('probes');
  const p = probes?.kind === 'object' ? probes.entries.get(probe) : undefined;
  if (p?.kind !== 'string') return `host ${host} has no ${probe} probe in the capture`;
  return p;
}

/**
 * The characters of line `line` (1-based) of `host`'s `probe` text inside the capture's JSON text:
 * from the line's first character to its last, escapes included as written (`\"`, `\\`, `\u00e9`),
 * its line ending (`\n`, or `\r\n` written as `\r\n`) left out.
 */
export function probeLineRange(text: string, host: string, probe: string, line: number): ProbeLineRange {
  const s = probeString(text, host, probe);
  if (typeof s === 'string') return { ok: false, reason: s };
  const count = s.value.split('\n').length;
  if (!Number.isInteger(line) || line < 1 || line > count) return { ok: false, reason: `${host} ${probe} has ${count} line${count === 1 ? '' : 's'}, not a line ${line}` };
  // Walk the raw string once, decoding escape by escape: each raw unit maps to one decoded character
  // (a \uXXXX escape is one UTF-16 unit, a surrogate pair is two escapes or two raw units).
  let current = 1;
  let lineBegin = s.start + 1;
  let start = -1;
  let lastEnd = -1;
  for (let i = s.start + 1; i < s.end - 1; ) {
    const rawStart = i;
    let ch: string;
    if (text[i] === '\\') {
      const e = text[i + 1]!;
      if (e === 'u') {
        ch = String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
        i += 6;
      } else {
        ch = ({ n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', '"': '"', '\\': '\\', '/': '/' } as Record<string, string>)[e] ?? e;
        i += 2;
      }
    } else {
      ch = text[i]!;
      i += 1;
    }
    if (ch === '\n') {
      if (current === line) break;
      current++;
      lineBegin = i;
      continue;
    }
    if (current !== line) continue;
    if (start < 0) start = rawStart;
    // A \r ends the line's text only where the line ends (as the parsers read it): until a later
    // character shows it was inside the line, it is not counted.
    if (ch !== '\r') lastEnd = i;
  }
  if (start < 0) return { ok: true, range: { start: lineBegin, end: lineBegin } };
  return { ok: true, range: { start, end: lastEnd < 0 ? start : lastEnd } };
}

/** The decoded text of that line, as the engine quotes it (for checks and messages). */
export function probeLineText(text: string, host: string, probe: string, line: number): string | undefined {
  const s = probeString(text, host, probe);
  if (typeof s === 'string') return undefined;
  const raw = s.value.split('\n')[line - 1];
  return raw === undefined ? undefined : raw.endsWith('\r') ? raw.slice(0, -1) : raw;
}

/**
 * The (0-based) line and character of `offset` in `text` as an editor counts them: \r\n, \r and \n
 * each end a line (VS Code normalises mixed line endings, so offsets alone would drift).
 */
export function lineAndCharacter(text: string, offset: number): { line: number; character: number } {
  let line = 0;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, character: offset - lineStart };
}
