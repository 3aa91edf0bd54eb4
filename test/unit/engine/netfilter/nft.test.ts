// nftables: kube-proxy's nftables mode (its own test rule set, dumped by nft) and nft's statements.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { buildRuleset, runHook } from '../../../../src/engine/netfilter';
import { fixtureBody } from '../../parsers/fixture-body';
import { hostCtx, pkt, trail } from './helpers';

// TestOverallNFTablesRules' conventions: pods 10.0.0.0/8, node 192.168.0.2, ClusterIPs 172.30.0.0/16.
const ctx = hostCtx(['192.168.0.2'], { eth0: '192.168.0.2' });

for (const form of ['kube-proxy-overall', 'kube-proxy-overall-json']) {
  describe(`kube-proxy nftables mode (${form})`, () => {
    const rs = buildRuleset('node', { nft: fixtureBody('nft', form) });
    const dnats = (o: ReturnType<typeof runHook>) => o.map((x) => [x.probability, x.nat.map((n) => `${n.after.addr}:${n.after.port}`).join()]);

    test('a ClusterIP with two endpoints: numgen picks each half the time', () => {
      const out = runHook(rs, 'prerouting', pkt('10.0.0.2', '172.30.0.44', 'tcp', 80, { iif: 'eth0' }), ctx);
      assert.deepEqual(dnats(out).sort(), [[0.5, '10.180.0.4:80'], [0.5, '10.180.0.5:80']]);
      assert.ok(out.every((o) => o.packet.mark === 0), 'pod traffic is not marked for masquerade');
    });

    test('traffic from outside the pod network is marked for masquerade, and masqueraded at postrouting', () => {
      const [o] = runHook(rs, 'prerouting', pkt('203.0.113.2', '172.30.0.41', 'tcp', 80, { iif: 'eth0' }), ctx);
      assert.deepEqual([o!.packet.dst.toString(), o!.packet.mark], ['10.180.0.1', 0x4000]);
      const [post] = runHook(rs, 'postrouting', { ...o!.packet, oif: 'eth0' }, ctx);
      assert.deepEqual([post!.packet.src.toString(), post!.packet.mark], ['192.168.0.2', 0]);
    });

    test('a NodePort on the node address goes through external- and service- chains', () => {
      const out = runHook(rs, 'prerouting', pkt('203.0.113.2', '192.168.0.2', 'tcp', 3003, { iif: 'eth0' }), ctx);
      assert.deepEqual(dnats(out), [[1, '10.180.0.3:80']]);
      assert.ok(trail(out[0]!).includes('kube-proxy/services#2 goto external-4AT6LBPK-ns3/svc3/tcp/p80'));
    });

    test('a Service with no endpoints is rejected in filter-forward; an unallocated ClusterIP is dropped', () => {
      const [o] = runHook(rs, 'forward', pkt('10.0.0.2', '172.30.0.46', 'tcp', 80, { iif: 'eth0' }), ctx);
      assert.deepEqual(o!.verdict, { kind: 'reject', with: 'icmp port-unreachable' });
      const [d] = runHook(rs, 'forward', pkt('10.0.0.2', '172.30.0.50', 'tcp', 80, { iif: 'eth0' }), ctx);
      assert.deepEqual(d!.verdict, { kind: 'drop' });
      assert.deepEqual(trail(d!).slice(-1), ['kube-proxy/cluster-ips-check#2 drop']);
    });

    test('LoadBalancer source ranges: a blocked client is dropped at prerouting, an allowed one passes', () => {
      const [blocked] = runHook(rs, 'prerouting', pkt('203.0.113.130', '5.6.7.8', 'tcp', 80, { iif: 'eth0' }), ctx);
      assert.deepEqual(blocked!.verdict, { kind: 'drop' });
      const [ok] = runHook(rs, 'prerouting', pkt('203.0.113.2', '5.6.7.8', 'tcp', 80, { iif: 'eth0' }), ctx);
      assert.deepEqual([ok!.verdict.kind, ok!.packet.dst.toString()], ['accept', '10.180.0.3']);
    });

    test('session affinity: a client not in the affinity set gets the random pick and is added to the set', () => {
      const [o] = runHook(rs, 'prerouting', pkt('10.0.0.2', '172.30.0.45', 'tcp', 80, { iif: 'eth0' }), ctx);
      assert.deepEqual(o!.packet.dst.toString(), '10.180.0.3');
      const rule2 = trail(o!).find((t) => t.startsWith('kube-proxy/service-HVFWP5L3-ns5/svc5/tcp/p80#2'));
      assert.equal(rule2, undefined, 'the affinity set holds no client in the capture: rule 2 does not match');
      const update = o!.steps.find((s) => s.kind === 'rule' && s.chain.startsWith('endpoint-GTK6MW7G') && s.rule === 2);
      assert.ok(update && update.kind === 'rule' && update.notes?.some((n) => n.note === 'added-to-list'));
    });
  });
}

describe('nft statements', () => {
  test('ct state, iifname, a named set, reject with tcp reset, an inet table for both families', () => {
    const nft = [
      'table inet fw {',
      '\tset allowed {',
      '\t\ttype ipv4_addr',
      '\t\tflags interval',
      '\t\telements = { 10.1.0.0/16, 10.2.0.5 }',
      '\t}',
      '\tchain input {',
      '\t\ttype filter hook input priority filter; policy drop;',
      '\t\tct state established,related accept',
      '\t\tiifname "lo" accept',
      '\t\tip saddr @allowed tcp dport { 22, 443 } accept',
      '\t\tmeta nfproto ipv6 tcp dport 22 accept',
      '\t\ttcp dport 23 reject with tcp reset',
      '\t}',
      '}',
    ].join('\n');
    const rs = buildRuleset('h', { nft });
    const v = (p: ReturnType<typeof pkt>) => runHook(rs, 'input', p, ctx)[0]!.verdict;
    assert.deepEqual(v(pkt('10.1.3.4', '192.168.0.2', 'tcp', 443)), { kind: 'accept' });
    assert.deepEqual(v(pkt('10.2.0.6', '192.168.0.2', 'tcp', 443)), { kind: 'drop' });
    assert.deepEqual(v(pkt('10.3.0.1', '192.168.0.2', 'tcp', 443, { connection: 'established' })), { kind: 'accept' });
    assert.deepEqual(v(pkt('fd00::1', 'fd00::2', 'tcp', 22)), { kind: 'accept' });
    assert.deepEqual(v(pkt('10.3.0.1', '192.168.0.2', 'tcp', 23)), { kind: 'reject', with: 'tcp reset' });
  });

  test('iptables-nft\'s statistic (meta random & 0x7fffffff < N) is a random choice with probability N / 2^31', () => {
    const nft = 'table ip nat {\n\tchain OUTPUT {\n\t\ttype nat hook output priority -100; policy accept;\n\t\tmeta random & 2147483647 < 1073741824 counter packets 0 bytes 0 dnat to 10.0.0.1\n\t\tdnat to 10.0.0.2\n\t}\n}\n';
    const out = runHook(buildRuleset('h', { nft }), 'output', pkt('192.168.0.2', '10.96.0.1', 'tcp', 443), ctx);
    assert.deepEqual(out.map((o) => [o.probability, o.packet.dst.toString()]).sort(), [[0.5, '10.0.0.1'], [0.5, '10.0.0.2']]);
  });

  test('iptables-nft tables in `nft list ruleset` are read once, from iptables-save', () => {
    const rs = buildRuleset('h', { iptables: fixtureBody('iptables', 'lab-kube-flannel'), nft: fixtureBody('nft', 'lab-iptables-nft') });
    assert.deepEqual(rs.notes.filter((n) => n.kind === 'nft-table-from-iptables').map((n) => n.kind === 'nft-table-from-iptables' && n.table).sort(), ['filter', 'mangle', 'nat']);
    const [o] = runHook(rs, 'forward', pkt('10.244.0.5', '10.96.0.99', 'tcp', 80, { iif: 'cni0' }), ctx);
    assert.ok(o!.steps.every((s) => s.kind === 'nat-skipped' || s.source === 'iptables'));
  });

  test('the nft view of iptables-nft rules alone decides the same as iptables-save', () => {
    const a = buildRuleset('h', { iptables: fixtureBody('iptables', 'lab-kube-flannel') });
    const b = buildRuleset('h', { nft: fixtureBody('nft', 'lab-iptables-nft') });
    for (const [hook, p] of [
      ['prerouting', pkt('10.244.0.5', '10.96.0.10', 'udp', 53, { iif: 'cni0' })],
      ['prerouting', pkt('10.4.7.9', '10.4.7.21', 'tcp', 30080, { iif: 'eth0' })],
      ['forward', pkt('10.244.0.5', '10.96.0.99', 'tcp', 80, { iif: 'cni0', oif: 'eth0' })],
      ['forward', pkt('10.244.0.5', '10.244.1.9', 'tcp', 80, { iif: 'cni0', oif: 'flannel.1' })],
      ['postrouting', pkt('10.244.0.5', '8.8.8.8', 'udp', 53, { oif: 'eth0' })],
    ] as const) {
      const ctx2 = hostCtx(['10.4.7.21'], { eth0: '10.4.7.21' });
      const sum = (rs: typeof a) => runHook(rs, hook, p, ctx2).map((o) => `${o.probability.toFixed(6)} ${o.verdict.kind} ${o.packet.src}:${o.packet.sport} ${o.packet.dst}:${o.packet.dport} ${o.packet.mark}`).sort();
      assert.deepEqual(sum(b), sum(a), `${hook} ${p.src} -> ${p.dst}:${p.dport}`);
    }
  });
});

test('a verdict map with interval elements (prefixes, ranges) is scanned for them', () => {
  const nft = [
    'table ip t {',
    '\tmap zones {',
    '\t\ttype ipv4_addr : verdict',
    '\t\tflags interval',
    '\t\telements = { 10.1.0.0/16 : accept, 10.2.0.1-10.2.0.9 : drop, 10.3.0.1 : drop }',
    '\t}',
    '\tchain input {',
    '\t\ttype filter hook input priority 0; policy drop;',
    '\t\tip saddr vmap @zones',
    '\t\tudp dport 53 accept',
    '\t}',
    '}',
  ].join('\n');
  const rs = buildRuleset('h', { nft });
  const v = (src: string) => runHook(rs, 'input', pkt(src, '192.168.0.2', 'tcp', 80), ctx)[0]!.verdict.kind;
  assert.deepEqual([v('10.1.200.3'), v('10.2.0.5'), v('10.2.0.10'), v('10.3.0.1')], ['accept', 'drop', 'drop', 'drop']);
  assert.equal(runHook(rs, 'input', pkt('10.2.0.10', '192.168.0.2', 'udp', 53), ctx)[0]!.verdict.kind, 'accept', 'no element: the next rule decides');
});
