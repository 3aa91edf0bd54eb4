import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { parseProbe, type XtRecentClockRecord, type XtRecentEntryRecord } from '../../../src/parsers';
import { parseXtRecent, recentClock } from '../../../src/parsers/xtRecent';
import { fixtureBody } from './fixture-body';

const entries = (text: string) => parseXtRecent(text).records.filter((r): r is XtRecentEntryRecord => r.kind === 'xt-recent-entry');
const clockOf = (text: string) => parseXtRecent(text).records.find((r): r is XtRecentClockRecord => r.kind === 'xt-recent-clock');
const clockText = (nowNs: number | string, jiffies: number | string) => `now at ${nowNs} nsecs\n  .last_jiffies   : ${jiffies}\n`;

describe('xt_recent lists as the kernel prints them', () => {
  const body = fixtureBody('xt_recent', 'netns-kube-affinity');

  test('one record per client per list, with its list, address, TTL and last-seen jiffies', () => {
    const r = parseXtRecent(body);
    assert.equal(r.format, 'procfs');
    assert.deepEqual(r.issues, []);
    assert.deepEqual(
      entries(body).map((e) => [e.src.line, e.list, e.client.toString(), e.ttl, e.lastSeen, e.hits.length]),
      [
        [1, 'KUBE-SEP-ABC', '10.244.2.3', 64, 4300871550, 6],
        [2, 'KUBE-SEP-ABC', '127.0.0.1', 64, 4300871648, 32],
        [3, 'KUBE-SEP-DEF', '10.244.2.3', 64, 4300871550, 6],
        [4, 'KUBE-SEP-V6', 'fd00::1', 64, 4300871717, 4],
        [5, 'KUBE-SEP-V6', '::1', 64, 4300871656, 2],
      ],
    );
    assert.ok(entries(body).slice(3).every((e) => e.client.family === 6));
  });

  test('packet times come oldest first, also from a full ring that the kernel prints from its slot 0', () => {
    const [partial, full] = entries(body);
    assert.deepEqual(partial!.hits, [4300871448, 4300871448, 4300871499, 4300871499, 4300871550, 4300871550]);
    // oldest_pkt 12 of 32 slots: slot 12 holds the oldest time, slot 11 the newest.
    const printed = full!.src.raw.split('oldest_pkt: 12 ')[1]!.split(', ').map(Number);
    assert.deepEqual(full!.hits, [...printed.slice(12), ...printed.slice(0, 12)]);
    assert.deepEqual(full!.hits, [...full!.hits].sort((a, b) => a - b));
    assert.equal(full!.hits.at(-1), full!.lastSeen);
    assert.notDeepEqual(full!.hits, printed);
  });

  test('the clock lines make one record that quotes both', () => {
    const c = clockOf(body)!;
    assert.deepEqual([c.nowNs, c.jiffies, c.src.line], [23917908541110, 4300870749, 6]);
    assert.equal(c.src.raw, 'now at 23917908541110 nsecs\n  .last_jiffies   : 4300870749');
  });

  test('with /proc/timer_list masked there is no clock record, and no tick rate', () => {
    const masked = fixtureBody('xt_recent', 'netns-timer-list-masked');
    const r = parseXtRecent(masked);
    assert.deepEqual(r.issues, []);
    assert.equal(entries(masked).length, 5);
    assert.equal(clockOf(masked), undefined);
    assert.equal(recentClock(r.records), undefined);
  });

  test('no lists: only the clock; nothing at all: the empty form', () => {
    const r = parseXtRecent(fixtureBody('xt_recent', 'netns-no-lists'));
    assert.deepEqual(r.records.map((x) => x.kind), ['xt-recent-clock']);
    assert.deepEqual(parseXtRecent(''), { format: 'empty', records: [], issues: [] });
    assert.deepEqual(parseProbe('xt_recent', '\n'), { format: 'empty', records: [], issues: [] });
  });

  test('IPv6 in its short form (as pasted) and list names with colons or leading dashes', () => {
    const text = [
      'KUBE-SEP-V6:src=fd00::1 ttl: 64 last_seen: 4300825947 oldest_pkt: 1 4300825947',
      '--include=x:src=10.0.0.1 ttl: 63 last_seen: 10 oldest_pkt: 1 10',
      'a:src=b:src=10.0.0.2 ttl: 1 last_seen: 20 oldest_pkt: 1 20',
    ].join('\n');
    assert.deepEqual(
      entries(text).map((e) => [e.list, e.client.toString(), e.ttl]),
      [
        ['KUBE-SEP-V6', 'fd00::1', 64],
        ['--include=x', '10.0.0.1', 63],
        ['a:src=b', '10.0.0.2', 1],
      ],
    );
  });
});

describe('xt_recent lines it cannot read', () => {
  test('garbage, a missing list name, a bad address and a cut line are issues on their lines; the rest is kept', () => {
    const text = [
      'KUBE-SEP-ABC:src=10.244.2.3 ttl: 64 last_seen: 4300825947 oldest_pkt: 4 4300825896, 4300825896, 4300825947, 4300825947',
      'grep: KUBE-SEP-X: Permission denied',
      'src=10.0.0.9 ttl: 64 last_seen: 5 oldest_pkt: 1 5',
      'KUBE-SEP-ABC:src=10.244.2.999 ttl: 64 last_seen: 5 oldest_pkt: 1 5',
      'KUBE-SEP-ABC:src=10.244.2.4 ttl: 64 last_seen:',
      'now at soon nsecs',
      'KUBE-SEP-DEF:src=10.244.1.7 ttl: 64 last_seen: 4300825000 oldest_pkt: 1 4300825000',
    ].join('\n');
    const r = parseXtRecent(text);
    assert.deepEqual(entries(text).map((e) => [e.src.line, e.list, e.client.toString()]), [
      [1, 'KUBE-SEP-ABC', '10.244.2.3'],
      [7, 'KUBE-SEP-DEF', '10.244.1.7'],
    ]);
    assert.deepEqual(r.issues.map((i) => i.line), [2, 3, 4, 5, 6]);
    assert.match(r.issues[1]!.message, /without its list name/);
    assert.match(r.issues[2]!.message, /10\.244\.2\.999/);
    assert.equal(clockOf(text), undefined);
  });

  test('an oldest slot past the times printed keeps the record, its times as printed, with a kept issue', () => {
    const r = parseXtRecent('L:src=10.0.0.1 ttl: 64 last_seen: 30 oldest_pkt: 7 10, 20, 30');
    assert.deepEqual(entries('L:src=10.0.0.1 ttl: 64 last_seen: 30 oldest_pkt: 7 10, 20, 30')[0]!.hits, [10, 20, 30]);
    assert.deepEqual(r.issues.map((i) => [i.line, i.kept]), [[1, true]]);
  });

  test('a second clock line is an issue and the first is kept', () => {
    const r = parseXtRecent(clockText(23713851941366, 4300820709) + 'now at 1 nsecs\n');
    assert.deepEqual(r.issues.map((i) => i.line), [3]);
    assert.equal(clockOf(clockText(23713851941366, 4300820709) + 'now at 1 nsecs\n')!.nowNs, 23713851941366);
  });

  test('only one clock line: a clock record without the other value, and no tick rate', () => {
    const only = parseXtRecent('now at 23713851941366 nsecs\n');
    assert.deepEqual(only.records.map((x) => x.kind === 'xt-recent-clock' && [x.nowNs, x.jiffies]), [[23713851941366, undefined]]);
    assert.equal(recentClock(only.records), undefined);
    assert.equal(recentClock(parseXtRecent('  .last_jiffies   : 4300820709').records), undefined);
  });
});

describe('recentClock: the tick rate from the clock', () => {
  const rate = (nowNs: number | string, jiffies: number | string) => recentClock(parseXtRecent(clockText(nowNs, jiffies)).records);

  test('jiffies start at 2^32 - 300 HZ: the numbers of a 250 HZ node give 250', () => {
    assert.deepEqual(rate(23713851941366, 4300820709), { hz: 250, jiffiesNow: 4300820709 });
  });

  test('the fixture machine (CONFIG_HZ=250); now is the latest of the clock and the times the lists recorded', () => {
    const r = parseXtRecent(fixtureBody('xt_recent', 'netns-kube-affinity'));
    // .last_jiffies (4300870749) lagged the last packet the lists saw (4300871717): that CPU was idle.
    assert.deepEqual(recentClock(r.records), { hz: 250, jiffiesNow: 4300871717 });
  });

  test('each rate the kernel offers, within 2%', () => {
    const up = 86_400; // one day
    for (const hz of [100, 250, 300, 1000]) assert.equal(rate(up * 1e9, 2 ** 32 + Math.round(hz * (up - 300)))?.hz, hz);
    assert.equal(rate(up * 1e9, 2 ** 32 + Math.round(250 * 1.019 * (up - 300)))?.hz, 250);
    assert.equal(rate(up * 1e9, 2 ** 32 + Math.round(250 * 1.021 * (up - 300))), undefined);
    assert.equal(rate(up * 1e9, 2 ** 32 + Math.round(180 * (up - 300))), undefined);
  });

  test('no rate within 600 s of boot, nor from a 32-bit counter', () => {
    assert.equal(rate(600e9, 2 ** 32 + 250 * 300), undefined);
    assert.equal(rate(601e9, 2 ** 32 + 250 * 301)?.hz, 250);
    // A 32-bit kernel's jiffies wrapped 300 s after boot: far below 2^32.
    assert.equal(rate(86_400e9, 250 * 86_100), undefined);
  });

  test('uptime past 2^53 ns (104 days) is read, rounded, and still gives the rate', () => {
    const up = 200 * 86_400;
    assert.equal(rate(`${up}000000123`, 2 ** 32 + 1000 * (up - 300))?.hz, 1000);
  });
});
