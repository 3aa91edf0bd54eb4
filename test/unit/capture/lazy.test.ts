// The streamed capture (capture/lazy.ts, node/captureFile.ts): the same capture as JSON.parse gives,
// whatever the chunking, with probe text read back from the bytes only when asked for.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { parseCapture, serializeCapture, type Capture } from '../../../src/capture/document';
import { CaptureScanner, CaptureSourceError, memorySource, parseCaptureBytes, type ByteSource } from '../../../src/capture/lazy';
import { openCaptureFile } from '../../../src/node/captureFile';

const DEMO = join(__dirname, '../../../examples/demo-flannel-vxlan.json');
const demoText = readFileSync(DEMO, 'utf8');
const enc = (s: string) => new TextEncoder().encode(s);

/** The capture as a plain value: every probe read (so the lazy ones are decoded). */
const plain = (c: Capture) => JSON.parse(JSON.stringify(c)) as unknown;

function scanInChunks(bytes: Uint8Array, size: number, source: ByteSource = memorySource(bytes)) {
  const s = new CaptureScanner();
  for (let i = 0; i < bytes.length; i += size) s.push(bytes.subarray(i, i + size));
  return s.finish(source);
}

function must(r: ReturnType<typeof parseCapture>): Capture {
  if (!r.ok) assert.fail(r.errors.map((e) => `${e.path}: ${e.message}`).join('; '));
  return r.capture;
}

// Probe text with everything JSON escapes, and keys named like the ones the scanner looks for, in
// places where they are not the capture's hosts or probes.
const HOSTILE_PROBE = 'a "quoted" word\\ and \\\\" backslashes\\\n\ttab, unicode \u00e9 \u2028 \ud83d\ude00 "probes": "x"';
const hostile = JSON.stringify({
  apiVersion: 'netpath/v1',
  kind: 'Capture',
  metadata: { cluster: 'c"1', probes: 'not a probe', hosts: ['not', 'hosts'] },
  hosts: [
    { name: 'n1', role: 'node', extra: { probes: { links: 'nested, not a probe' } }, probes: { links: HOSTILE_PROBE, addrs: '', '0': 'zero', 'a"b': 'odd name' } },
    { name: 'p"1', role: 'pod', node: 'n1', namespace: 'default', probes: { routes4: 'default via 10.0.0.1 dev eth0\n' } },
    { name: 'n2', role: 'node' },
  ],
  kubernetes: { pods: [{ metadata: { name: 'x', namespace: 'default' }, probes: 'kube "probes" are not probes' }] },
});

describe('streamed capture', () => {
  test('the demo capture reads the same as JSON.parse gives, in one piece and in chunks of 1, 7 and 4096 bytes', () => {
    const eager = plain(must(parseCapture(demoText)));
    const bytes = enc(demoText);
    assert.deepEqual(plain(must(parseCaptureBytes(bytes))), eager);
    for (const size of [1, 7, 4096]) assert.deepEqual(plain(must(scanInChunks(bytes, size))), eager, `chunks of ${size}`);
  });

  test('escapes, quotes, unicode and look-alike keys survive every chunk boundary; only hosts[i].probes values are left lazy', () => {
    const eager = plain(must(parseCapture(hostile)));
    const bytes = enc(hostile);
    for (const size of [1, 2, 3, 5, 64, bytes.length]) {
      const s = new CaptureScanner();
      for (let i = 0; i < bytes.length; i += size) s.push(bytes.subarray(i, i + size));
      assert.equal(s.lazyCount, 5, `chunks of ${size}: the five probe strings, nothing else`);
      const c = must(s.finish(memorySource(bytes)));
      assert.deepEqual(plain(c), eager, `chunks of ${size}`);
      assert.equal(c.hosts[0]!.probes!.links, HOSTILE_PROBE);
      assert.deepEqual(Object.keys(c.hosts[0]!.probes!).sort(), ['0', 'a"b', 'addrs', 'links']);
      assert.equal('routes4' in c.hosts[1]!.probes!, true);
      assert.equal(c.hosts[0]!.probes!.routes4, undefined);
    }
  });

  test('a probe is decoded from the source when read, every time, and nothing is kept', () => {
    const bytes = enc(hostile);
    let reads = 0;
    const c = must(parseCaptureBytes(bytes));
    const counting = must(
      scanInChunks(bytes, 4096, {
        read: (a, b) => {
          reads++;
          return bytes.subarray(a, b);
        },
      }),
    );
    assert.equal(reads, 0, 'loading reads no probe');
    assert.equal(counting.hosts[1]!.probes!.routes4, 'default via 10.0.0.1 dev eth0\n');
    assert.equal(counting.hosts[1]!.probes!.routes4, c.hosts[1]!.probes!.routes4);
    assert.equal(reads, 2);
  });

  test('bytes that changed under a loaded capture are refused with CaptureSourceError, never read as another probe', () => {
    const bytes = enc(hostile);
    const changed = bytes.slice();
    const c = must(scanInChunks(bytes, 4096, memorySource(changed)));
    // Shift everything one byte: the range no longer holds a JSON string.
    changed.set(bytes.subarray(0, bytes.length - 1), 1);
    assert.throws(() => c.hosts[0]!.probes!.links, (e: unknown) => e instanceof CaptureSourceError && /changed since it was loaded.*host n1's "links" probe; load the capture again/.test(e.message));
  });

  test('probes cannot be changed through the lazy object', () => {
    const c = must(parseCaptureBytes(enc(hostile)));
    assert.throws(() => {
      (c.hosts[1]!.probes as Record<string, string>).routes4 = 'x';
    }, TypeError);
  });

  test('a truncated document, bad JSON and a probe that is not a string are errors with their place', () => {
    const t = parseCaptureBytes(enc(hostile.slice(0, hostile.indexOf('nested'))));
    assert.equal(t.ok, false);
    assert.match(!t.ok ? t.errors[0]!.message : '', /ends in the middle of a string .*truncated/);
    const t2 = parseCaptureBytes(enc(hostile.slice(0, -1)));
    assert.match(!t2.ok ? t2.errors[0]!.message : '', /ends in the middle of an object or array/);
    const bad = parseCaptureBytes(enc('{"apiVersion":"netpath/v1","kind":"Capture","hosts":[}'));
    assert.equal(bad.ok, false);
    assert.match(!bad.ok ? bad.errors[0]!.message : '', /^not valid JSON/);
    const notString = parseCaptureBytes(enc('{"apiVersion":"netpath/v1","kind":"Capture","hosts":[{"name":"n","role":"node","probes":{"links":42}}]}'));
    assert.equal(notString.ok, false);
    assert.deepEqual(!notString.ok ? notString.errors.map((e) => e.path) : [], ['hosts[0].probes.links']);
  });
});

describe('capture files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'netpath-lazy-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a plain and a gzip-compressed file give the demo capture; the plain one is read again only as probes are read', async () => {
    const eager = plain(must(parseCapture(demoText)));
    const json = join(dir, 'demo.json');
    const gz = join(dir, 'demo.json.gz');
    const misnamed = join(dir, 'demo-really-gzip.json');
    writeFileSync(json, demoText);
    writeFileSync(gz, gzipSync(demoText));
    writeFileSync(misnamed, gzipSync(demoText));
    for (const [file, gzip] of [[json, false], [gz, true], [misnamed, true]] as const) {
      const o = await openCaptureFile(file, { digest: true });
      try {
        assert.equal(o.gzip, gzip, file);
        assert.equal(o.bytes, Buffer.byteLength(demoText));
        assert.deepEqual(plain(must(o.loaded)), eager, file);
        assert.match(o.digest ?? '', /^[0-9a-f]{32}$/);
      } finally {
        o.close();
      }
    }
  });

  test('a file changed on disk after loading, or closed, is refused with a message that says to load it again', async () => {
    const file = join(dir, 'changing.json');
    writeFileSync(file, demoText);
    const o = await openCaptureFile(file);
    const c = must(o.loaded);
    assert.equal(typeof c.hosts[0]!.probes!.links, 'string');
    writeFileSync(file, demoText.replace('k8s-node1', 'k8s-nodeX'));
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    assert.throws(() => c.hosts[0]!.probes!.links, (e: unknown) => e instanceof CaptureSourceError && /changing\.json changed on disk since it was loaded: load the capture again/.test(e.message));
    o.close();
    assert.throws(() => c.hosts[0]!.probes!.links, /was closed: load the capture again/);
  });

  test('what is not a capture file fails as Node says (missing, a directory) or as a capture error (bad gzip, bad JSON)', async () => {
    await assert.rejects(openCaptureFile(join(dir, 'nope.json')), { code: 'ENOENT' });
    await assert.rejects(openCaptureFile(dir), { code: 'EISDIR' });
    const badGz = join(dir, 'bad.json.gz');
    writeFileSync(badGz, Buffer.concat([gzipSync(demoText).subarray(0, 200)]));
    const truncated = await openCaptureFile(badGz).then(
      (o) => (o.loaded.ok ? 'loaded' : o.loaded.errors[0]!.message),
      (e: Error) => e.message,
    );
    assert.match(truncated, /gzip|truncated|unexpected end/i);
    const notJson = join(dir, 'not.json');
    writeFileSync(notJson, 'hosts: []\n');
    // The file is closed once, not twice (closeSync throws EBADF on a second close), and never leaked.
    const fds = () => readdirSync('/proc/self/fd').length;
    const before = fds();
    const r = await openCaptureFile(notJson);
    assert.equal(r.loaded.ok, false);
    r.close();
    const notCapture = join(dir, 'not-capture.json');
    writeFileSync(notCapture, JSON.stringify({ apiVersion: 'netpath/v1', kind: 'Capture', hosts: 'none' }));
    const r2 = await openCaptureFile(notCapture);
    assert.equal(r2.loaded.ok, false);
    assert.equal(fds(), before);
  });

  test('probes named like Object.prototype\'s members ("__proto__", "toString") are probes like any other', async () => {
    const doc = { apiVersion: 'netpath/v1', kind: 'Capture', hosts: [{ name: 'n1', role: 'node', probes: { links: 'a', toString: 'b', constructor: 'c' } as Record<string, string> }, { name: 'n2', role: 'node', probes: { links: 'd' } as Record<string, string> }] };
    const text = JSON.stringify(doc).replace('"links":"a"', '"links":"a","__proto__":"p"');
    const eager = JSON.parse(text) as { hosts: { probes: Record<string, string> }[] };
    const c = must(parseCaptureBytes(enc(text)));
    for (const i of [0, 1]) {
      const lazy = c.hosts[i]!.probes!;
      assert.deepEqual(Object.keys(lazy), Object.keys(eager.hosts[i]!.probes));
      for (const k of Object.keys(eager.hosts[i]!.probes)) assert.equal(lazy[k], eager.hosts[i]!.probes[k], k);
    }
    assert.deepEqual(Object.keys(c.hosts[0]!.probes!), ['links', '__proto__', 'toString', 'constructor']);
    // A host without them has no such probe (not Object.prototype's function read as a byte range).
    assert.equal(c.hosts[1]!.probes!.toString, undefined);
    assert.equal('toString' in c.hosts[1]!.probes!, false);
  });

  test('a capture written back (serializeCapture) from a lazy one is the file it came from, probe for probe', async () => {
    const file = join(dir, 'round.json');
    const text = serializeCapture(must(parseCapture(demoText)));
    writeFileSync(file, text);
    const o = await openCaptureFile(file);
    try {
      assert.equal(serializeCapture(must(o.loaded)), text);
    } finally {
      o.close();
    }
  });
});
