// `netpath parse xt_recent`: the `recent` lists (kube-proxy's sessionAffinity ClientIP) and the clock.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { recordsTable } from '../../../src/capture/text';
import { EXIT_OK, run } from '../../../src/cli/main';
import { parseProbe } from '../../../src/parsers';
import { fixtureBody } from '../parsers/fixture-body';
import { fakeIo } from './fake-io';

const io = (files: Record<string, string>) => fakeIo(files);

describe('netpath parse xt_recent', () => {
  test('--text: one row per client with its list, then the clock with the tick rate it gives', async () => {
    const f = io({ 'r.txt': fixtureBody('xt_recent', 'netns-kube-affinity') });
    assert.equal(await run(['parse', 'xt_recent', 'r.txt', '--text'], f.io), EXIT_OK);
    assert.equal(f.stderr(), '');
    const rows = f.stdout().trimEnd().split('\n').map((l) => l.split(/\s{2,}/));
    assert.deepEqual(rows, [
      ['LINE', 'KIND', 'KEY', 'DETAILS'],
      ['1', 'xt-recent', 'KUBE-SEP-ABC', 'client 10.244.2.3 ttl 64 last-seen 4300871550 hits 6'],
      ['2', 'xt-recent', 'KUBE-SEP-ABC', 'client 127.0.0.1 ttl 64 last-seen 4300871648 hits 32'],
      ['3', 'xt-recent', 'KUBE-SEP-DEF', 'client 10.244.2.3 ttl 64 last-seen 4300871550 hits 6'],
      ['4', 'xt-recent', 'KUBE-SEP-V6', 'client fd00::1 ttl 64 last-seen 4300871717 hits 4'],
      ['5', 'xt-recent', 'KUBE-SEP-V6', 'client ::1 ttl 64 last-seen 4300871656 hits 2'],
      ['6', 'xt-recent-clock', 'now-ns 23917908541110 jiffies 4300870749 hz 250 (derived)'],
    ]);
  });

  test('without the clock lines no rate is claimed; a line it cannot read is listed under the records', () => {
    const r = parseProbe('xt_recent', 'now at 23713851941366 nsecs\nKUBE-SEP-X:src=bogus ttl: 1 last_seen: 1 oldest_pkt: 1 1\n');
    const out = recordsTable(r.records, r.issues);
    assert.match(out, /^1\s+xt-recent-clock\s+now-ns 23713851941366$/m);
    assert.doesNotMatch(out, /hz/);
    assert.match(out, /^LINE\s+ISSUE\s+RAW\n2\s+list KUBE-SEP-X: "bogus" is not an IPv4 address/m);
  });

  test('JSON: records with the client address as text', async () => {
    const f = io({ 'r.txt': 'KUBE-SEP-V6:src=fd00:0000:0000:0000:0000:0000:0000:0001 ttl: 64 last_seen: 9 oldest_pkt: 1 9\n' });
    assert.equal(await run(['parse', 'xt_recent', 'r.txt'], f.io), EXIT_OK);
    const doc = JSON.parse(f.stdout());
    assert.deepEqual([doc.probe, doc.format, doc.records], ['xt_recent', 'procfs', [{ kind: 'xt-recent-entry', list: 'KUBE-SEP-V6', client: 'fd00::1', lastSeen: 9, hits: [9], ttl: 64, src: { line: 1, raw: 'KUBE-SEP-V6:src=fd00:0000:0000:0000:0000:0000:0000:0001 ttl: 64 last_seen: 9 oldest_pkt: 1 9' } }]]);
  });
});
