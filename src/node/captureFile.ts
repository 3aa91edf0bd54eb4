// Opening a capture file for the shells (CLI, VS Code): streamed through the pure scanner
// (capture/lazy.ts) in fixed-size chunks, so that a file of hundreds of MiB is never one string and
// its probe text stays on disk until a trace reads it. A gzip-compressed capture (`.json.gz`, known by
// its magic bytes, whatever its name) is gunzipped as it streams and its bytes are kept in memory:
// a gzip stream cannot be read from the middle.
import { closeSync, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { createHash, type Hash } from 'node:crypto';
import { createGunzip } from 'node:zlib';
import { CaptureScanner, CaptureSourceError, type ByteSource } from '../capture/lazy';
import type { LoadResult } from '../capture/document';

const CHUNK = 4 << 20;

export interface OpenedCapture {
  loaded: LoadResult;
  /** Bytes of JSON read (after gunzip). */
  bytes: number;
  gzip: boolean;
  /** sha256 of the file's bytes as stored (hex, 32 digits), when asked for. */
  digest?: string;
  /** Releases the file: probe text not read by then can no longer be read. */
  close(): void;
}

/** An open file whose probe ranges are read again on demand; refuses once the file changed. */
class FileSource implements ByteSource {
  private fd: number | undefined;
  constructor(
    private readonly path: string,
    fd: number,
    private readonly stat: Stats,
  ) {
    this.fd = fd;
  }

  read(start: number, end: number): Uint8Array {
    if (this.fd === undefined) throw new CaptureSourceError(`${this.path} was closed: load the capture again`);
    const now = fstatSync(this.fd);
    if (now.size !== this.stat.size || now.mtimeMs !== this.stat.mtimeMs) throw new CaptureSourceError(`${this.path} changed on disk since it was loaded: load the capture again`);
    const buf = Buffer.allocUnsafe(end - start);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(this.fd, buf, got, buf.length - got, start + got);
      if (n === 0) throw new CaptureSourceError(`${this.path} ended before byte ${end}: load the capture again`);
      got += n;
    }
    return buf;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Decompressed chunks held in memory, read by offset. */
class ChunkSource implements ByteSource {
  private readonly offsets: number[] = [];
  private total = 0;
  constructor(private readonly chunks: Buffer[]) {
    for (const c of chunks) {
      this.offsets.push(this.total);
      this.total += c.length;
    }
  }

  read(start: number, end: number): Uint8Array {
    if (end > this.total) throw new CaptureSourceError(`the capture has ${this.total} bytes, a probe ends at ${end}`);
    // The chunk holding `start`: the last offset <= start.
    let lo = 0;
    let hi = this.offsets.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.offsets[mid]! <= start) lo = mid;
      else hi = mid - 1;
    }
    const first = this.chunks[lo]!;
    const off = start - this.offsets[lo]!;
    if (off + (end - start) <= first.length) return first.subarray(off, off + (end - start));
    const out = Buffer.allocUnsafe(end - start);
    let at = 0;
    for (let k = lo; at < out.length; k++) {
      const c = this.chunks[k]!;
      const from = k === lo ? off : 0;
      const n = Math.min(c.length - from, out.length - at);
      c.copy(out, at, from, from + n);
      at += n;
    }
    return out;
  }
}

const isGzip = (b: Uint8Array, n: number) => n >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/**
 * Opens a capture file (plain or gzip-compressed JSON). Errors reading the file throw as Node's
 * (ENOENT, EISDIR, EACCES...); a file that is not a capture is `loaded.ok === false`.
 */
export async function openCaptureFile(path: string, opts: { digest?: boolean } = {}): Promise<OpenedCapture> {
  const fd = openSync(path, 'r');
  const hash = opts.digest ? createHash('sha256') : undefined;
  const digest = () => (hash ? { digest: hash.digest('hex').slice(0, 32) } : {});
  let keep = false;
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw Object.assign(new Error(`EISDIR: ${path} is a directory`), { code: 'EISDIR' });
    const buf = Buffer.allocUnsafe(CHUNK);
    const first = readSync(fd, buf, 0, CHUNK, 0);
    if (isGzip(buf, first)) {
      const chunks = await gunzipFile(fd, buf, first, hash);
      const scanner = new CaptureScanner();
      for (const c of chunks) scanner.push(c);
      const loaded = scanner.finish(new ChunkSource(chunks));
      return { loaded, bytes: scanner.size, gzip: true, ...digest(), close: () => undefined };
    }
    const scanner = new CaptureScanner();
    let pos = 0;
    let n = first;
    while (n > 0) {
      const chunk = buf.subarray(0, n);
      hash?.update(chunk);
      scanner.push(chunk);
      pos += n;
      n = readSync(fd, buf, 0, CHUNK, pos);
    }
    const source = new FileSource(path, fd, stat);
    const loaded = scanner.finish(source);
    keep = loaded.ok;
    // Not a capture: the file is closed below, once (a second close could close a descriptor reused meanwhile).
    return { loaded, bytes: scanner.size, gzip: false, ...digest(), close: keep ? () => source.close() : () => undefined };
  } finally {
    if (!keep) closeSync(fd);
  }
}

/** The whole file gunzipped, as the chunks zlib gives. */
async function gunzipFile(fd: number, buf: Buffer, first: number, hash?: Hash): Promise<Buffer[]> {
  const gunzip = createGunzip();
  const chunks: Buffer[] = [];
  gunzip.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => {
    gunzip.on('end', resolve);
    gunzip.on('error', (e) => reject(new Error(`not a readable gzip stream: ${e.message}`)));
  });
  let pos = 0;
  let n = first;
  while (n > 0) {
    hash?.update(buf.subarray(0, n));
    // zlib keeps a reference to what it is given until it has read it: give it its own copy.
    const more = gunzip.write(Buffer.from(buf.subarray(0, n)));
    pos += n;
    if (!more) await new Promise<void>((r) => gunzip.once('drain', r));
    n = readSync(fd, buf, 0, buf.length, pos);
  }
  gunzip.end();
  await done;
  return chunks;
}
