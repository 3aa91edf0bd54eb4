import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { iptablesCommand, parseIptables, split } from '../../../src/parsers/iptables';
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
    assert.ok(rs.every((x) => x.table === undefined && !('table' in x)));
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

describe('parseIptables: `iptables -S` as people paste it', () => {
  /** A record as `table family chain policy|target tokens`, without where it came from or counters. */
  const key = (x: Rec) => (x.kind === 'iptables-chain' ? `chain ${x.table ?? '?'} ${x.chain} ${x.policy ?? '-'}` : `rule ${x.table ?? '?'} ${x.chain} ${x.goto ? 'goto' : 'jump'} ${x.target ?? '-'} ${x.tokens.join(' ')}`);
  const sorted = (rs: readonly Rec[]) => rs.map(key).sort();
  /** The records of one table of the lab's iptables-save output. */
  const saved = (fixture: string, table: string) => parseIptables(fixtureBody('iptables', fixture)).records.filter((x) => x.table === table);

  test('`iptables -S` gives the records iptables-save gives for that table: -P/-N as chains, -A as rules, no issue per line', () => {
    const plain = parseIptables(fixtureBody('iptables', 'lab-kube-flannel-S'));
    assert.equal(plain.format, 'iptables-S');
    assert.deepEqual(plain.issues, []);
    // Nothing in the text says which table: left unknown, not guessed.
    assert.ok(plain.records.length > 0 && plain.records.every((x) => !('table' in x) && !('family' in x)));
    const filter = parseIptables(fixtureBody('iptables', 'lab-kube-flannel-S'), { table: 'filter' });
    assert.deepEqual(sorted(filter.records), sorted(saved('lab-kube-flannel', 'filter')));
    // The rules in their order, the chains apart from them.
    assert.deepEqual(rules(filter.records).map(key), rules(saved('lab-kube-flannel', 'filter')).map(key));
    const fwd = chains(filter.records).find((c) => c.chain === 'FORWARD')!;
    assert.deepEqual([fwd.policy, fwd.src.raw], ['DROP', '-P FORWARD DROP']);
    assert.equal(chains(filter.records).find((c) => c.chain === 'FLANNEL-FWD')!.policy, undefined);
    const nat = parseIptables(fixtureBody('iptables', 'lab-kube-flannel-nat-S'), { table: 'nat' });
    assert.deepEqual([nat.format, nat.issues], ['iptables-S', []]);
    assert.deepEqual(sorted(nat.records), sorted(saved('lab-kube-flannel', 'nat')));
    const v6 = parseIptables('# ip6tables -S\n' + fixtureBody('iptables', 'lab-ip6-S'));
    assert.deepEqual(sorted(v6.records), sorted(saved('lab-ip6', 'filter')));
    assert.ok(v6.records.every((x) => x.family === 6 && x.table === 'filter'));
  });

  test('`iptables -S -v`: counters of policies and rules, not left in the rule', () => {
    const r = parseIptables(fixtureBody('iptables', 'lab-kube-flannel-S-v'), { table: 'filter' });
    assert.deepEqual(r.issues, []);
    const input = chains(r.records).find((c) => c.chain === 'INPUT')!;
    assert.deepEqual([input.policy, input.packets, input.bytes], ['ACCEPT', 0, 0]);
    assert.ok(rules(r.records).every((x) => x.packets === 0 && x.bytes === 0 && !x.tokens.includes('-c')));
    assert.deepEqual(rules(r.records).map(key), rules(parseIptables(fixtureBody('iptables', 'lab-kube-flannel-S'), { table: 'filter' }).records).map(key));
  });

  test('each pasted block takes its table and family from the command line before it, whatever the prompt', () => {
    const r = parseIptables(fixtureBody('iptables', 'constructed-pasted-S-blocks'));
    assert.equal(r.format, 'iptables-S');
    assert.deepEqual(r.issues, []);
    const where = (line: number) => {
      const x = r.records.find((y) => y.src.line === line)!;
      return `${x.table} ${x.family} ${x.src.raw.split(' ').slice(0, 2).join(' ')}`;
    };
    assert.deepEqual([where(2), where(3)], ['nat 4 -N KUBE-SERVICES', 'nat 4 -A KUBE-SERVICES']); // [root@node1 ~]# iptables -t nat -S KUBE-SERVICES
    assert.equal(where(8), 'mangle 4 -P PREROUTING'); // [root@node1 ~]# sudo iptables -S -t mangle
    assert.equal(where(17), 'filter 4 -P INPUT'); // $ sudo iptables -S (no -t: filter)
    assert.equal(where(50), 'nat 6 -P PREROUTING'); // # ip6tables -t nat -S
    assert.deepEqual([...new Set(r.records.map((x) => `${x.table}/${x.family}`))], ['nat/4', 'mangle/4', 'filter/4', 'nat/6']);
    // The text's own command lines win over the caller's table.
    assert.deepEqual(parseIptables(fixtureBody('iptables', 'constructed-pasted-S-blocks'), { table: 'raw' }).records, r.records);
  });

  test('mixed text: save blocks keep their tables, -S lines their command\'s, and -S lines after a save block with none are unknown', () => {
    const text = fixtureBody('iptables', 'constructed-save-and-S');
    const r = parseIptables(text);
    assert.equal(r.format, 'iptables-save');
    assert.deepEqual(r.issues, []);
    const at = (raw: string, nth = 0) => r.records.filter((x) => x.src.raw === raw)[nth]!;
    assert.deepEqual([at(':PREROUTING ACCEPT [9:922]').table, at(':PREROUTING ACCEPT [9:922]').family], ['mangle', 4]);
    assert.deepEqual([at('-P FORWARD DROP').table, at('-P FORWARD DROP').family], ['filter', 4]); // after `# iptables -S`
    assert.equal(at(':POSTROUTING ACCEPT [4:430]').table, 'nat');
    const last = at('-P FORWARD DROP', 1);
    assert.deepEqual([last.table, last.family], [undefined, undefined]); // after the nat block, no command line
    assert.equal(parseIptables(text, { table: 'filter' }).records.find((x) => x.src.line === last.src.line)!.table, 'filter');
  });

  test('pasted command lines: prompts, sudo, kubectl exec, -t forms, pipes; comments and rules are not commands', () => {
    const cases: [string, ReturnType<typeof iptablesCommand>][] = [
      ['# iptables -t nat -S', { family: 4, save: false, table: 'nat' }],
      ['$ sudo iptables -S -t nat', { family: 4, save: false, table: 'nat' }],
      ['[root@node1 ~]# iptables -t nat -S', { family: 4, save: false, table: 'nat' }],
      ['root@node1:~# ip6tables --table=mangle -S', { family: 6, save: false, table: 'mangle' }],
      ['user@host:~$ sudo iptables -tnat -S KUBE-SERVICES', { family: 4, save: false, table: 'nat' }],
      ['$ kubectl -n kube-system exec kube-proxy-x7k2p -- iptables -t nat -S | grep -- -t raw', { family: 4, save: false, table: 'nat' }],
      ['iptables-legacy -S', { family: 4, save: false }],
      ['# /usr/sbin/ip6tables-nft-save -t filter', { family: 6, save: true, table: 'filter' }],
      ['# Generated by iptables-save v1.8.9 (nf_tables) on Tue Nov 24 21:51:59 2026', undefined],
      ['# Warning: iptables-legacy tables present, use iptables-legacy to see them', undefined],
      ['-A INPUT -m comment --comment "iptables -t nat -S" -j ACCEPT', undefined],
      ['*nat', undefined],
    ];
    for (const [line, want] of cases) assert.deepEqual(iptablesCommand(line), want, line);
  });

  test('long options: --policy, --new-chain, --append', () => {
    const r = parseIptables('--policy INPUT DROP\n--new-chain KUBE-FIREWALL\n--append INPUT --jump KUBE-FIREWALL', { table: 'filter' });
    assert.deepEqual([r.format, r.issues], ['iptables-S', []]);
    assert.deepEqual(r.records.map(key), ['chain filter INPUT DROP', 'chain filter KUBE-FIREWALL -', 'rule filter INPUT jump KUBE-FIREWALL --jump KUBE-FIREWALL']);
  });

  test('save fragments stay save fragments: `-A` lines a bare COMMIT follows, counted rules, a rule right after COMMIT', () => {
    const r = parseIptables(['-A KUBE-SERVICES -j KUBE-NODEPORTS', 'COMMIT', '[3:180] -A FORWARD -j ACCEPT', '-P INPUT ACCEPT', '-A INPUT -j KUBE-FIREWALL'].join('\n'));
    assert.deepEqual(r.issues.map((i) => [i.line, i.message]), [
      [1, 'rule before any `*table` line (kept with no table)'],
      [2, 'COMMIT outside a `*table` block'],
      [3, 'rule before any `*table` line (kept with no table)'],
    ]);
    assert.equal(r.format, 'iptables-save');
    assert.equal(r.records.length, 4);
  });
});
