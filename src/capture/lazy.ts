// Reading a big capture without holding it as one string. A capture of a 500-node cluster is
// hundreds of MiB, nearly all of it probe text (`hosts[*].probes.*`), and V8 cannot hold a string of
// more than about 512 MiB; a trace reads the tables of a handful of hosts. So the bytes stream
// through a scanner that copies everything but probe text into a small skeleton and notes where
// each probe's JSON string lies; the skeleton is parsed and validated as any capture is, and each
// probe becomes a property that decodes its bytes when it is read (and keeps nothing).
//
// Pure: the shells give the bytes (a file read in chunks, gunzipped or not) and a `ByteSource` that
// reads a range of them again (from the file, or from memory).
import { validateCapture, type LoadResult } from './document';

/** Reads bytes `[start, end)` of the document again. Throws CaptureSourceError when it cannot. */
export interface ByteSource {
  read(start: number, end: number): Uint8Array;
}

/** The document a lazy probe lives in can no longer be read (the file changed, was truncated, or closed). */
export class CaptureSourceError extends Error {
  override readonly name = 'CaptureSourceError';
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** What a key names, as far as the scanner cares. */
const KEY_OTHER = 0;
const KEY_HOSTS = 1;
const KEY_PROBES = 2;
const HOSTS = [0x68, 0x6f, 0x73, 0x74, 0x73];
const PROBES = [0x70, 0x72, 0x6f, 0x62, 0x65, 0x73];

/** Strings shorter than this are searched byte by byte: a call to indexOf costs more. */
const SHORT = 48;

/**
 * Streams a capture document's bytes: `push()` each chunk in order, then `finish()`. Probe strings
 * (`hosts[i].probes[name]`) are not copied; everything else is, unchanged, into the skeleton. The
 * scanner knows only what it must: where strings begin and end, the nesting, and which keys are
 * "hosts" and "probes". JSON.parse then reads the skeleton (and says what is wrong with it).
 */
export class CaptureScanner {
  /** The skeleton: every byte but the probe strings', which are replaced by their numbers. */
  private skeleton = new Uint8Array(1 << 16);
  private skeletonBytes = 0;
  /** Byte ranges (quotes included) of the probe strings, by placeholder number. */
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  /** The nesting, one entry per open container: is it an array, does it expect a key, its key's kind, its last key's kind. */
  private isArray = new Uint8Array(64);
  private expectKey = new Uint8Array(64);
  private keyKind = new Uint8Array(64);
  private lastKey = new Uint8Array(64);
  private depth = 0;
  /** Absolute offset of the current chunk's first byte. */
  private base = 0;
  /** 0 outside strings, 1 in a copied string, 2 in a key, 3 in a probe string. */
  private state = 0;
  /** In a string: the previous byte was a backslash that escapes the next. */
  private escaped = false;
  /** A key's bytes so far, when it began in an earlier chunk. */
  private keyBytes: number[] = [];
  private lazyStart = 0;
  private done = false;

  push(chunk: Uint8Array): void {
    if (this.done) throw new Error('CaptureScanner: push after finish');
    const n = chunk.length;
    let i = 0;
    // Outside strings every byte but whitespace is written as it comes; a string (but a probe's) is
    // copied whole when it ends, or up to the chunk's end.
    this.room(n);
    let sk = this.skeleton;
    let at = this.skeletonBytes;
    /** Where the current copied string's bytes began in this chunk. */
    let strFrom = 0;
    /** Where the current key began in this chunk (-1: in an earlier one). */
    let keyFrom = -1;
    while (i < n) {
      if (this.state === 0) {
        const b = chunk[i]!;
        if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) {
          i++;
          continue;
        }
        const d = this.depth - 1;
        if (b === QUOTE) {
          this.escaped = false;
          if (d >= 0 && this.isArray[d] === 0 && this.expectKey[d] === 1) {
            this.state = 2;
            keyFrom = i + 1;
            this.keyBytes.length = 0;
          } else if (this.isProbeValue()) {
            this.state = 3;
            this.lazyStart = this.base + i;
            i++;
            continue;
          } else this.state = 1;
          sk[at++] = QUOTE;
          strFrom = i + 1;
          i++;
          continue;
        }
        if (b === 0x7b || b === 0x5b) {
          this.open(b === 0x5b, d >= 0 && this.isArray[d] === 0 ? this.lastKey[d]! : KEY_OTHER);
        } else if (b === 0x7d || b === 0x5d) {
          if (this.depth > 0) this.depth--;
        } else if (b === 0x3a) {
          if (d >= 0) this.expectKey[d] = 0;
        } else if (b === 0x2c) {
          if (d >= 0 && this.isArray[d] === 0) this.expectKey[d] = 1;
        }
        sk[at++] = b;
        i++;
        continue;
      }
      // Inside a string: find its closing quote, skipping escaped characters.
      const end = this.stringEnd(chunk, i);
      if (end < 0) {
        if (this.state === 2) this.saveKey(chunk, keyFrom < 0 ? i : keyFrom, n);
        if (this.state !== 3) {
          sk.set(chunk.subarray(strFrom, n), at);
          at += n - strFrom;
        }
        break;
      }
      if (this.state === 3) {
        this.skeletonBytes = at;
        this.placeholder(this.starts.length);
        this.starts.push(this.lazyStart);
        this.ends.push(this.base + end + 1);
        // placeholder() may have grown the skeleton.
        this.room(n - end);
        at = this.skeletonBytes;
        sk = this.skeleton;
      } else {
        if (this.state === 2) this.lastKey[this.depth - 1] = keyFrom >= 0 ? kindOf(chunk, keyFrom, end) : this.keyKindAcross(chunk, end);
        for (let j = strFrom; j <= end; j++) sk[at++] = chunk[j]!;
      }
      this.state = 0;
      i = end + 1;
    }
    this.skeletonBytes = at;
    this.base += n;
  }

  private open(array: boolean, key: number): void {
    if (this.depth === this.isArray.length) {
      const grow = (a: Uint8Array) => {
        const b = new Uint8Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.isArray = grow(this.isArray);
      this.expectKey = grow(this.expectKey);
      this.keyKind = grow(this.keyKind);
      this.lastKey = grow(this.lastKey);
    }
    const d = this.depth++;
    this.isArray[d] = array ? 1 : 0;
    this.expectKey[d] = array ? 0 : 1;
    this.keyKind[d] = key;
    this.lastKey[d] = KEY_OTHER;
  }

  /** Keeps the part of a key that this chunk holds (only while it may still be "hosts" or "probes"). */
  private saveKey(chunk: Uint8Array, from: number, to: number): void {
    if (this.keyBytes.length + (to - from) > PROBES.length) {
      this.keyBytes.length = PROBES.length + 1;
      return;
    }
    for (let j = from; j < to; j++) this.keyBytes.push(chunk[j]!);
  }

  /** The kind of a key that began in an earlier chunk and ends at `end` in this one. */
  private keyKindAcross(chunk: Uint8Array, end: number): number {
    this.saveKey(chunk, 0, end);
    const k = Uint8Array.from(this.keyBytes);
    this.keyBytes.length = 0;
    return kindOf(k, 0, k.length);
  }

  /** The index of the quote that closes the current string in `chunk` from `i`, or -1 (the string goes on). */
  private stringEnd(chunk: Uint8Array, i: number): number {
    const n = chunk.length;
    if (this.escaped) {
      this.escaped = false;
      i++;
      if (i >= n) return -1;
    }
    // Most strings outside probe text are short: look at them byte by byte first.
    const near = Math.min(n, i + SHORT);
    for (let j = i; j < near; j++) {
      const b = chunk[j]!;
      if (b === BACKSLASH) {
        j++;
        if (j >= n) {
          this.escaped = true;
          return -1;
        }
        continue;
      }
      if (b === QUOTE) return j;
      if (j === near - 1) i = j + 1;
    }
    if (near >= n) return -1;
    for (;;) {
      const q = chunk.indexOf(QUOTE, i);
      const stop = q < 0 ? n : q;
      // The run of backslashes just before `stop` (or the chunk's end) decides whether it is escaped.
      let run = 0;
      for (let j = stop - 1; j >= i && chunk[j] === BACKSLASH; j--) run++;
      if (q < 0) {
        // A backslash run that reaches back to `i` began after the last escape: count from `i` on.
        this.escaped = run % 2 === 1;
        return -1;
      }
      if (run % 2 === 0) return q;
      i = q + 1;
      if (i >= n) return -1;
    }
  }

  /** A string value of `hosts[i].probes`: root object -> "hosts" array -> host object -> "probes" object. */
  private isProbeValue(): boolean {
    return (
      this.depth === 4 &&
      this.isArray[3] === 0 &&
      this.keyKind[3] === KEY_PROBES &&
      this.expectKey[3] === 0 &&
      this.isArray[2] === 0 &&
      this.isArray[1] === 1 &&
      this.keyKind[1] === KEY_HOSTS &&
      this.isArray[0] === 0
    );
  }

  private room(n: number): void {
    if (this.skeletonBytes + n <= this.skeleton.length) return;
    let size = this.skeleton.length * 2;
    while (size < this.skeletonBytes + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.skeleton.subarray(0, this.skeletonBytes));
    this.skeleton = next;
  }

  /** Writes `"k"` (probe string number k) into the skeleton. */
  private placeholder(k: number): void {
    const digits = String(k);
    this.room(digits.length + 2);
    const s = this.skeleton;
    let at = this.skeletonBytes;
    s[at++] = QUOTE;
    for (let j = 0; j < digits.length; j++) s[at++] = digits.charCodeAt(j);
    s[at++] = QUOTE;
    this.skeletonBytes = at;
  }

  /** How many bytes have been pushed. */
  get size(): number {
    return this.base;
  }

  /** The number of probe strings left in the document. */
  get lazyCount(): number {
    return this.starts.length;
  }

  /** Parses and validates the skeleton; each probe reads its bytes from `source` when it is read. */
  finish(source: ByteSource): LoadResult {
    this.done = true;
    if (this.state !== 0 || this.depth > 0) {
      return { ok: false, errors: [{ path: '(root)', message: `not valid JSON: the document ends in the middle of ${this.state !== 0 ? 'a string' : 'an object or array'} (after ${this.base} bytes): the file is truncated` }] };
    }
    const all = this.skeleton.subarray(0, this.skeletonBytes);
    this.skeleton = new Uint8Array(0);
    let doc: unknown;
    try {
      doc = JSON.parse(new TextDecoder().decode(all));
    } catch (e) {
      return { ok: false, errors: [{ path: '(root)', message: `not valid JSON: ${e instanceof Error ? e.message : String(e)}` }] };
    }
    const loaded = validateCapture(doc);
    if (!loaded.ok) return loaded;
    const starts = this.starts;
    const ends = this.ends;
    const handler = lazyProbes(source, starts, ends);
    for (const h of loaded.capture.hosts) {
      const probes = h.probes;
      if (!probes) continue;
      // No prototype: a probe named "__proto__" or "toString" is a probe like any other.
      const ranges = Object.create(null) as Record<string, number>;
      for (const [name, mark] of Object.entries(probes)) {
        const k = Number(mark);
        if (!Number.isInteger(k) || k < 0 || k >= starts.length) throw new Error(`CaptureScanner: probe ${h.name}.${name} has no range (${mark})`);
        ranges[name] = k;
      }
      hostOf.set(ranges, h.name);
      h.probes = new Proxy(ranges, handler) as unknown as Record<string, string>;
    }
    return loaded;
  }
}

/** KEY_HOSTS, KEY_PROBES or KEY_OTHER for the key bytes `[from, to)` (as written, escapes and all). */
function kindOf(b: Uint8Array, from: number, to: number): number {
  const len = to - from;
  if (len === HOSTS.length && startsWith(b, from, HOSTS)) return KEY_HOSTS;
  if (len === PROBES.length && startsWith(b, from, PROBES)) return KEY_PROBES;
  return KEY_OTHER;
}

function startsWith(b: Uint8Array, from: number, w: readonly number[]): boolean {
  for (let j = 0; j < w.length; j++) if (b[from + j] !== w[j]) return false;
  return true;
}

/** The host each lazy probes object belongs to (for the error that says which probe could not be read). */
const hostOf = new WeakMap<object, string>();

/**
 * A host's `probes`, lazily: the object holds each probe's number, and reading a probe decodes its
 * JSON string from the source (and keeps nothing). Keys, `in`, Object.entries and JSON.stringify
 * behave as on a plain object of strings. One handler for all hosts: no closure per probe.
 */
function lazyProbes(source: ByteSource, starts: readonly number[], ends: readonly number[]): ProxyHandler<Record<string, number>> {
  const decoder = new TextDecoder();
  return {
    get(target, prop) {
      const k = typeof prop === 'string' ? target[prop] : undefined;
      if (k === undefined) return undefined;
      const start = starts[k]!;
      const end = ends[k]!;
      let v: unknown;
      try {
        v = JSON.parse(decoder.decode(source.read(start, end)));
      } catch (e) {
        if (e instanceof CaptureSourceError) throw e;
        v = undefined;
      }
      if (typeof v !== 'string') throw new CaptureSourceError(`the capture changed since it was loaded: bytes ${start}-${end} are no longer host ${hostOf.get(target) ?? '?'}'s "${String(prop)}" probe; load the capture again`);
      return v;
    },
    set() {
      return false;
    },
    defineProperty() {
      return false;
    },
    deleteProperty() {
      return false;
    },
  };
}

/** A source over bytes held in memory (a gunzipped capture, or a test's). */
export function memorySource(bytes: Uint8Array): ByteSource {
  return {
    read(start, end) {
      if (end > bytes.length) throw new CaptureSourceError(`the capture has ${bytes.length} bytes, a probe ends at ${end}`);
      return bytes.subarray(start, end);
    },
  };
}

/** Parses a whole document held in memory, probes left lazy (tests, small captures). */
export function parseCaptureBytes(bytes: Uint8Array): LoadResult {
  const s = new CaptureScanner();
  s.push(bytes);
  return s.finish(memorySource(bytes));
}
