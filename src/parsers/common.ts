// Helpers shared by the probe parsers: line splitting, JSON-form detection, issue collection.
// The ESM build: bundlers inline it, where the UMD build's `main` requires its parts at run time.
import { parse as parseJsonc, printParseErrorCode, type ParseError } from 'jsonc-parser/lib/esm/main.js';
import type { ParseIssue, ParseResult, ProbeFormat, Source } from './types';

export interface Line {
  /** 1-based line number in the probe text. */
  line: number;
  /** The line as captured, without its line ending. */
  raw: string;
}

/** Splits probe text into lines (LF or CRLF), keeping 1-based numbers; blank lines are dropped. */
export function lines(text: string): Line[] {
  const out: Line[] = [];
  const parts = text.split('\n');
  for (let i = 0; i < parts.length; i++) {
    let raw = parts[i]!;
    if (raw.endsWith('\r')) raw = raw.slice(0, -1);
    if (raw.trim() !== '') out.push({ line: i + 1, raw });
  }
  return out;
}

/** Whitespace tokens of a line. */
export function tokens(raw: string): string[] {
  return raw.trim().split(/\s+/);
}

/** The JSON form of iproute2 output starts with `[` (after whitespace). */
export function looksLikeJson(text: string): boolean {
  return /^\s*\[/.test(text);
}

export function source(l: Line): Source {
  return { line: l.line, raw: l.raw };
}

/** Collects records and issues for one parse. */
export class Collector<R> {
  readonly records: R[] = [];
  readonly issues: ParseIssue[] = [];
  constructor(public format: ProbeFormat) {}

  /** A line the parser could not use; with `kept`, a line whose record was kept but lacks something. */
  issue(l: Line, message: string, how?: { kept: true }): void {
    this.issues.push(how ? { line: l.line, raw: l.raw, message, kept: true } : { line: l.line, raw: l.raw, message });
  }

  /**
   * Runs `fn` for each line; an exception from one line becomes an issue for that line and the
   * rest are still parsed (a parser never throws and never drops a good line beside a bad one).
   */
  each(ls: readonly Line[], fn: (l: Line, index: number) => void): void {
    ls.forEach((l, i) => {
      try {
        fn(l, i);
      } catch (e) {
        this.issue(l, `internal parser error: ${e instanceof Error ? e.message : String(e)}`);
      }
    });
  }

  result(): ParseResult<R> {
    return { format: this.format, records: this.records, issues: this.issues };
  }
}

export type JsonElement = { line: number; raw: string; value: unknown };

/**
 * Parses the JSON form (`ip -j ...`): an array of objects, possibly pretty-printed (`-p`). Each
 * element is reported with the line it starts on and its compact text as `raw`. Returns an issue
 * instead of throwing when the document is not valid JSON.
 */
export function jsonElements(text: string): { elements: JsonElement[]; issue?: ParseIssue } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { elements: [], issue: jsonIssue(text, e) };
  }
  if (!Array.isArray(doc)) return { elements: [], issue: { line: 1, raw: firstLine(text), message: 'JSON form must be an array of objects' } };
  const starts = topLevelElementLines(text);
  return {
    elements: doc.map((value, i) => ({ line: starts[i] ?? 1, raw: JSON.stringify(value), value })),
  };
}

/** A JSON form that is one document (not an array of records): the value, or the issue that says where it is not valid JSON. */
export function jsonDocument(text: string): { doc: unknown; issue?: undefined } | { doc?: undefined; issue: ParseIssue } {
  try {
    return { doc: JSON.parse(text) as unknown };
  } catch (e) {
    return { issue: jsonIssue(text, e) };
  }
}

function firstLine(text: string): string {
  return text.trimStart().split('\n')[0]!.slice(0, 200);
}

/**
 * The issue of text JSON.parse refused, at the line where it stops being JSON. Node 20's messages
 * give no position for most errors, so the place is found again by jsonc-parser held to strict JSON
 * (no comments, no trailing commas); the message names the line, column and what was expected there.
 */
function jsonIssue(text: string, e: unknown): ParseIssue {
  const message = e instanceof Error ? e.message : String(e);
  const errors: ParseError[] = [];
  parseJsonc(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const first = errors[0];
  const at = first?.offset ?? Number(/position (\d+)/.exec(message)?.[1] ?? NaN);
  if (!Number.isFinite(at)) return { line: 1, raw: firstLine(text), message: `not valid JSON: ${message}` };
  const before = text.slice(0, at);
  const line = before.split('\n').length;
  const column = at - (before.lastIndexOf('\n') + 1) + 1;
  const raw = (text.split('\n')[line - 1] ?? '').replace(/\r$/, '').slice(0, 200);
  // V8's words without the copy of the text or the offset it may add ("Unexpected token '}', "[..." is
  // not valid JSON"; "... in JSON at position 18"): the line and column say where.
  const head = message.replace(/, (?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s, '').replace(/ in JSON at position \d+.*$/s, '');
  const what = head && head !== message.trim() ? head : first ? printParseErrorCode(first.error).replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase() : message;
  return { line, raw, message: `not valid JSON: ${what} (line ${line}, column ${column})` };
}

/** Line numbers where each top-level array element begins (depth-1 `{` or scalar). */
function topLevelElementLines(text: string): number[] {
  const out: number[] = [];
  let depth = 0;
  let line = 1;
  let inString = false;
  let expectElement = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\n') line++;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      if (depth === 1 && expectElement) {
        out.push(line);
        expectElement = false;
      }
      inString = true;
    } else if (c === '[' || c === '{') {
      if (depth === 1 && expectElement) {
        out.push(line);
        expectElement = false;
      }
      depth++;
      if (depth === 1) expectElement = true;
    } else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 1) expectElement = true;
    else if (depth === 1 && expectElement && !/\s/.test(c)) {
      out.push(line);
      expectElement = false;
    }
  }
  return out;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Parses a non-negative decimal integer token, or undefined. */
export function uint(s: string | undefined): number | undefined {
  if (s === undefined || !/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Runs a parser and turns an unexpected exception into an issue, so callers never see a throw. */
export function guarded<R>(text: string, parse: (text: string) => ParseResult<R>): ParseResult<R> {
  try {
    return parse(text);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return { format: 'empty', records: [], issues: [{ line: 1, raw: firstLine(text), message: `internal parser error: ${message}` }] };
  }
}
