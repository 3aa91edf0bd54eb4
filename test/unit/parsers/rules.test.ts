import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseRules } from '../../../src/parsers/rules';
import type { RuleRecord } from '../../../src/parsers/types';
import { fixtureBody, withoutSrc } from './fixture-body';

const byPriority = (rs: readonly RuleRecord[], priority: number): RuleRecord => {
  const hits = rs.filter((r) => r.priority === priority);
  assert.equal(hits.length, 1, `expected one rule with priority ${priority}`);
  return hits[0]!;
};

const one = (text: string, family: 4 | 6 = 4): RuleRecord => {
  const r = parseRules(text, family);
  assert.deepEqual(r.issues, []);
  assert.equal(r.records.length, 1);
  return r.records[0]!;
};

describe('parseRules', () => {
  test('the text and JSON forms of the same rules give the same records', () => {
    for (const [probe, text, json] of [
      ['rules4', 'lab-rules', 'lab-rules-json'],
      ['rules6', 'lab-rules6', 'lab-rules6-json'],
    ] as const) {
      const family = probe === 'rules4' ? 4 : 6;
      const a = parseRules(fixtureBody(probe, text), family);
      const b = parseRules(fixtureBody(probe, json), family);
      assert.deepEqual([a.format, b.format], ['iproute2', 'json']);
      assert.deepEqual(a.issues, []);
      assert.deepEqual(b.issues, []);
      assert.ok(a.records.length > 0);
      assert.deepEqual(withoutSrc(a.records), withoutSrc(b.records), `${probe}/${text} vs ${json}`);
    }
  });

  test('the default rules: priorities, `all`, named tables', () => {
    const rs = parseRules(fixtureBody('rules4', 'lab-rules'), 4).records;
    assert.deepEqual(withoutSrc([rs[0]!])[0], { kind: 'rule', family: 4, priority: 0, not: false, from: '0.0.0.0/0', action: 'lookup', table: 'local' });
    assert.equal(rs[0]!.src.raw, '0:\tfrom all lookup local');
    assert.deepEqual([byPriority(rs, 32766).table, byPriority(rs, 32767).table], ['main', 'default']);
  });

  test('WireGuard and Calico rules: not, fwmark with and without a mask, suppress_prefixlength', () => {
    const rs = parseRules(fixtureBody('rules4', 'lab-rules'), 4).records;
    const calico = byPriority(rs, 100);
    assert.deepEqual([calico.fwmark, calico.table, calico.not], [{ value: 0x10000, mask: 0x10000 }, '250', false]);
    const wg = byPriority(rs, 32764);
    assert.deepEqual([wg.not, wg.fwmark, wg.table], [true, { value: 0xca6c }, '51820']);
    const suppress = byPriority(rs, 32763);
    assert.deepEqual([suppress.table, suppress.suppressPrefixlength], ['main', 0]);
  });

  test('selectors: from/to prefixes, iif [detached], oif, tos, ipproto and ports, uidrange, l3mdev', () => {
    const rs = parseRules(fixtureBody('rules4', 'lab-rules'), 4).records;
    const fromTo = byPriority(rs, 200);
    assert.deepEqual([fromTo.from.toString(), fromTo.to?.toString()], ['10.0.0.0/24', '10.1.0.0/16']);
    assert.equal(byPriority(rs, 216).from.toString(), '10.2.0.1/32');
    assert.deepEqual([byPriority(rs, 201).iif, byPriority(rs, 201).iifDetached], ['veth0', undefined]);
    assert.deepEqual([byPriority(rs, 202).iif, byPriority(rs, 202).iifDetached], ['nosuchdev', true]);
    assert.equal(byPriority(rs, 203).oif, 'veth2');
    assert.equal(byPriority(rs, 204).tos, '0x10');
    const ports = byPriority(rs, 205);
    assert.deepEqual([ports.ipproto, ports.sport, ports.dport], ['tcp', '80', '1-1024']);
    assert.equal(byPriority(rs, 206).uidrange, '1000-2000');
    const l3 = byPriority(rs, 1000);
    assert.deepEqual([l3.l3mdev, l3.action, l3.table], [true, 'lookup', undefined]);
    const notTo = byPriority(rs, 219);
    assert.deepEqual([notTo.not, notTo.to?.toString()], [true, '10.0.0.0/8']);
  });

  test('actions: goto, nop, blackhole, unreachable, prohibit; options: suppress_ifgroup, realms, proto', () => {
    const rs = parseRules(fixtureBody('rules4', 'lab-rules'), 4).records;
    assert.deepEqual([byPriority(rs, 207).action, byPriority(rs, 207).goto], ['goto', 32766]);
    assert.equal(byPriority(rs, 208).action, 'nop');
    assert.deepEqual([209, 210, 211].map((p) => [byPriority(rs, p).action, byPriority(rs, p).table]), [['blackhole', undefined], ['unreachable', undefined], ['prohibit', undefined]]);
    assert.equal(byPriority(rs, 212).suppressIfgroup, '5');
    assert.equal(byPriority(rs, 213).realms, '3/4');
    assert.equal(byPriority(rs, 214).protocol, 'bird');
  });

  test('IPv6 rules: `all` is ::/0 by the family hint; addresses tell the family themselves', () => {
    const rs = parseRules(fixtureBody('rules6', 'lab-rules6'), 6).records;
    assert.ok(rs.every((r) => r.family === 6));
    assert.equal(rs[0]!.from.toString(), '::/0');
    const dst = byPriority(rs, 300);
    assert.deepEqual([dst.to?.toString(), dst.iif, dst.action], ['2001:db8:1::/48', 'veth0', 'unreachable']);
    assert.equal(byPriority(rs, 302).from.toString(), '2001:db8:5::1/128');
    // An address wins over the hint.
    assert.equal(one('100:\tfrom 10.0.0.0/8 lookup 100\n', 6).family, 4);
    assert.equal(one('100:\tfrom all lookup 100\n', 6).from.toString(), '::/0');
  });

  test('`ip -d rule` prints proto kernel/unspec; it is kept as printed', () => {
    const rs = parseRules(fixtureBody('rules4', 'lab-rules-details'), 4).records;
    assert.deepEqual([rs[0]!.protocol, byPriority(rs, 100).protocol, byPriority(rs, 214).protocol], ['kernel', 'unspec', 'bird']);
  });

  test('BusyBox: `lookup unspec TYPE` is decoded to the action', () => {
    const r = parseRules(fixtureBody('rules4', 'lab-busybox-rules'), 4);
    assert.equal(r.format, 'busybox');
    assert.deepEqual(r.issues, []);
    const rs = r.records;
    assert.deepEqual([byPriority(rs, 207).action, byPriority(rs, 207).goto, byPriority(rs, 207).table], ['goto', undefined, undefined]);
    assert.equal(byPriority(rs, 208).action, 'nop');
    assert.deepEqual([209, 210, 211].map((p) => byPriority(rs, p).action), ['blackhole', 'unreachable', 'prohibit']);
    assert.deepEqual([byPriority(rs, 1000).action, byPriority(rs, 1000).table], ['lookup', undefined]);
    assert.equal(byPriority(rs, 204).tos, '16');
  });

  test('old and pasted forms: two spaces after the colon, trailing spaces, named Android tables', () => {
    const rs = parseRules(fixtureBody('rules4', 'public-android-vendor-px-6'), 4).records;
    assert.equal(rs.length, 14);
    const r = rs[1]!;
    assert.deepEqual([r.priority, r.fwmark, r.table], [10000, { value: 0xc0000, mask: 0xd0000 }, 'legacy_system']);
    assert.deepEqual([rs[13]!.priority, rs[13]!.action], [32000, 'unreachable']);
    const mwan = parseRules(fixtureBody('rules4', 'public-openwrt-packages-16837-mwan3'), 4).records;
    assert.deepEqual([byPriority(mwan, 2061).fwmark, byPriority(mwan, 2061).action], [{ value: 0x3d00, mask: 0x3f00 }, 'blackhole']);
  });

  test('a broken line is an issue with its line number; its neighbours are kept', () => {
    const text = [
      '0:\tfrom all lookup local', // 1
      'from all lookup main', // 2: no priority
      '100:\tfrom all fwmark 0xzz lookup 5', // 3
      '101:\tfrom 10.0.0.0/33 lookup 5', // 4
      '102:\tlookup 5', // 5: no from
      '103:\tfrom all goto somewhere', // 6
      '104:\tfrom all lookup', // 7
      '32766:\tfrom all lookup main\r', // 8
      '32767:\tfrom all lookup default tun_id 7 dscp 10 shiny', // 9: unknown words are fine
    ].join('\n');
    const r = parseRules(text, 4);
    assert.deepEqual(
      r.issues.map((i) => [i.line, i.message]),
      [
        [2, 'expected `PRIORITY:` at the start of a rule (`32766:\tfrom all lookup main`)'],
        [3, 'fwmark "0xzz" is not a 32-bit number'],
        [4, 'expected a prefix, address or "all", got "10.0.0.0/33"'],
        [5, 'expected `from PREFIX|all` in the rule'],
        [6, 'goto "somewhere" is not a rule priority'],
        [7, '`lookup` at the end of the line needs a value'],
      ],
    );
    assert.deepEqual(r.records.map((x) => `${x.src.line} ${x.priority} ${x.table}`), ['1 0 local', '8 32766 main', '9 32767 default']);
    assert.equal(r.records[1]!.src.raw, '32766:\tfrom all lookup main');
  });

  test('JSON: port ranges and masks, goto none, unknown actions and broken elements', () => {
    const json = `[
{"priority":10,"src":"all","sport":32768,"sport_mask":"0xff00","dport_start":1,"dport_end":1024,"table":"5"},
{"priority":11,"src":"all","goto":"none"},
{"priority":12,"src":"all","action":"masquerade"},
"oops",
{"priority":13,"src":"0","srclen":8,"dst":"192.168.0.0","dstlen":16,"fwmark":"0","fwmask":"0xff","table":"7"}
]`;
    const r = parseRules(json, 4);
    assert.deepEqual(r.issues.map((i) => [i.line, i.message]), [[4, 'unknown rule action "masquerade"'], [5, 'expected a rule object']]);
    const [ports, gotoNone, masked] = r.records;
    assert.deepEqual([ports!.sport, ports!.dport], ['0x8000/0xff00', '1-1024']);
    assert.deepEqual([gotoNone!.action, gotoNone!.goto], ['goto', undefined]);
    assert.deepEqual([masked!.from.toString(), masked!.to?.toString(), masked!.fwmark, masked!.src.line], ['0.0.0.0/8', '192.168.0.0/16', { value: 0, mask: 255 }, 6]);
    const broken = parseRules('[{"priority":0,', 4);
    assert.deepEqual([broken.records.length, broken.issues.length], [0, 1]);
    assert.match(broken.issues[0]!.message, /^not valid JSON/);
  });

  test('empty input', () => {
    assert.deepEqual(parseRules('', 4), { format: 'empty', records: [], issues: [] });
  });

  test('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.constantFrom<4 | 6>(4, 6), (s, f) => {
        const r = parseRules(s, f);
        return Array.isArray(r.records) && Array.isArray(r.issues);
      }),
      { numRuns: 500 },
    );
  });
});
