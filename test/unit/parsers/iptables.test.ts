import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { parseIptables, split } from '../../../src/parsers/iptables';
import type { IptablesChainRecord, IptablesRuleRecord } from '../../../src/parsers/types';
import { fixtureBody } from './fixture-body';

type Rec = IptablesChainRecord | IptablesRuleRecord;
const chains = (rs: readonly Rec[]) => rs.filter((r): r is IptablesChainRecord => r.kind === 'iptables-chain');
const rules = (rs: readonly Rec[]) => rs.filter((r): r is IptablesRuleRecord => r.kind === 'iptables-rule');

describe('parseIptables', () => {
  test('kube-proxy and flannel ruleset: tables, chains, policies, rules and targets', () => {
    const r = parseIptables(fixtureBody('iptables', 'lab-kube-flannel'));
    assert.equal(r.format, 'iptables-save');
    assert.deepEqual(r.issues, []);
    const cs = chains(r.records);
    assert.deepEqual(
      [...new Set(cs.map((c) => c.table))],
      ['mangle', 'filter', 'nat'],
    );
    const fwd = cs.find((c) => c.table === 'filter' && c.chain === 'FORWARD')!;
    assert.deepEqual([fwd.policy, fwd.family], ['DROP', 4]);
    assert.equal(cs.find((c) => c.chain === 'FLANNEL-POSTRTG')!.policy, undefined);
    const rs = rules(r.records);
    const flannel = rs.find((x) => x.chain === 'FLANNEL-FWD' && x.tokens.includes('-s'))!;
    assert.deepEqual(flannel.tokens, ['-s', '10.244.0.0/16', '-m', 'comment', '--comment', 'flanneld forward', '-j', 'ACCEPT']);
    assert.deepEqual([flannel.table, flannel.target, flannel.goto], ['filter', 'ACCEPT', false]);
    const nodeports = rs.find((x) => x.target === 'KUBE-NODEPORTS' && x.chain === 'KUBE-SERVICES')!;
    assert.ok(nodeports.tokens.includes('kubernetes service nodeports; NOTE: this must be the last rule in this chain'));
    const goto = rs.find((x) => x.goto)!;
    assert.deepEqual([goto.chain, goto.target, goto.tokens], ['FLANNEL-FWD', 'KUBE-FORWARD', ['-i', 'cni0', '-g', 'KUBE-FORWARD']]);
    const masq = rs.find((x) => x.chain === 'FLANNEL-POSTRTG' && x.target === 'MASQUERADE')!;
    assert.deepEqual(masq.tokens.slice(-3), ['-j', 'MASQUERADE', '--random-fully']);
    const dnat = rs.find((x) => x.target === 'DNAT')!;
    assert.deepEqual(dnat.tokens.slice(-2), ['--to-destination', '10.244.0.2:53']);
  });

  test('quotes: backslash escapes inside double quotes, a tab, an empty comment', () => {
    const rs = rules(parseIptables(fixtureBody('iptables', 'lab-kube-flannel')).records).filter((x) => x.chain === 'TEST');
    assert.deepEqual(
      rs.map((x) => x.tokens[x.tokens.indexOf('--comment') + 1]),
      ['it\'s a "quoted" \\ test', 'tab\tand  spaces', ''],
    );
    assert.deepEqual(split('-m comment --comment "a b" -j X'), { words: ['-m', 'comment', '--comment', 'a b', '-j', 'X'], unterminated: false });
    assert.deepEqual(split('--log-prefix "x\\"y" it\'s'), { words: ['--log-prefix', 'x"y', "it's"], unterminated: false });
  });

  test('-c counters on chains and rules', () => {
    const r = parseIptables(fixtureBody('iptables', 'lab-kube-flannel-counters'));
    assert.deepEqual(r.issues, []);
    const pre = chains(r.records).find((c) => c.table === 'mangle' && c.chain === 'PREROUTING')!;
    assert.deepEqual([pre.packets, pre.bytes], [9, 922]);
    const rule = rules(r.records).find((x) => x.chain === 'KUBE-FORWARD' && x.tokens.includes('RELATED,ESTABLISHED'))!;
    assert.deepEqual([rule.packets, rule.bytes], [3, 252]);
    assert.equal(rule.tokens[0], '-m');
  });

  test('ip6tables-save: family 6 from the header comment', () => {
    const r = parseIptables(fixtureBody('iptables', 'lab-ip6'));
    assert.ok(r.records.length > 0 && r.records.every((x) => x.family === 6));
    const masq = rules(r.records).find((x) => x.target === 'MASQUERADE')!;
    assert.deepEqual(masq.tokens.slice(0, 5), ['-s', 'fd00:10:244::/56', '!', '-d', 'ff00::/8']);
  });

  test('a Calico paste that starts inside a table and stops before COMMIT', () => {
    const r = parseIptables(fixtureBody('iptables', 'public-aws-calico-fragment'));
    const rs = rules(r.records);
    assert.equal(rs.length, 5);
    assert.ok(rs.every((x) => x.table === ''));
    assert.equal(chains(r.records).filter((c) => c.table === 'filter').length, 27);
    assert.deepEqual(
      r.issues.map((i) => i.line),
      [1, 2, 3, 4, 5, 6, 9],
    );
    assert.match(r.issues[0]!.message, /rule before any `\*table` line/);
    assert.match(r.issues[5]!.message, /COMMIT outside/);
    assert.match(r.issues[6]!.message, /table filter has no COMMIT/);
  });

  test('Calico counters and the accept mark, without a table', () => {
    const r = parseIptables(fixtureBody('iptables', 'public-felix-2606-counters'));
    const [, accept] = rules(r.records);
    assert.deepEqual([accept!.packets, accept!.bytes, accept!.target], [2, 120, 'ACCEPT']);
    assert.ok(accept!.tokens.includes('0x10000/0x10000'));
    assert.equal(r.issues.length, 3);
  });

  test('undeclared chain, rule after COMMIT, unterminated quote, garbage: issues with line numbers, rules kept', () => {
    const text = [
      '# Generated by iptables-save v1.8.9 (nf_tables) on Tue Nov 24 21:51:25 2026',
      '*filter',
      ':INPUT ACCEPT [0:0]',
      '-A INPUT -j ACCEPT',
      '-A NOPE -j DROP',
      '-A INPUT -m comment --comment "oops -j DROP',
      'this is not iptables-save',
      ':BROKEN',
      'COMMIT',
      '-A INPUT -j LOG',
      '# Completed on Tue Nov 24 21:51:25 2026',
    ].join('\n');
    const r = parseIptables(text);
    const rs = rules(r.records);
    assert.deepEqual(
      rs.map((x) => [x.chain, x.table, x.target ?? null]),
      [
        ['INPUT', 'filter', 'ACCEPT'],
        ['NOPE', 'filter', 'DROP'],
        ['INPUT', 'filter', null],
        ['INPUT', 'filter', 'LOG'],
      ],
    );
    assert.deepEqual(rs[2]!.tokens, ['-m', 'comment', '--comment', 'oops -j DROP']);
    assert.deepEqual(
      r.issues.map((i) => i.line),
      [5, 6, 7, 8, 10],
    );
    assert.match(r.issues[0]!.message, /does not declare/);
    assert.match(r.issues[1]!.message, /unterminated double quote/);
    assert.match(r.issues[4]!.message, /after COMMIT/);
  });

  test('`iptables -S` declarations and `-c` counters inside a rule', () => {
    const r = parseIptables('*filter\n-P FORWARD DROP\n-N KUBE-FORWARD\n-A FORWARD -j KUBE-FORWARD -c 10 840\nCOMMIT\n');
    assert.deepEqual(r.issues, []);
    const [p, n] = chains(r.records);
    assert.deepEqual([p!.chain, p!.policy, n!.chain, n!.policy], ['FORWARD', 'DROP', 'KUBE-FORWARD', undefined]);
    const [rule] = rules(r.records);
    assert.deepEqual([rule!.tokens, rule!.packets, rule!.bytes], [['-j', 'KUBE-FORWARD'], 10, 840]);
  });

  test('empty output', () => {
    assert.deepEqual(parseIptables(''), { format: 'empty', records: [], issues: [] });
  });
});
