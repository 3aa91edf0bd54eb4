// IPv6 (ip6tables, ip6 and inet nft tables), the bridge family, and what a rule set cannot place.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { buildRuleset, runHook } from '../../../../src/engine/netfilter';
import { hostCtx, pkt, save, trail } from './helpers';

const ctx = hostCtx(['fd00::2', '192.168.0.2'], { eth0: 'fd00::2' });

test('ip6tables: DNAT to [addr]:port and MASQUERADE for IPv6; iptables rules never see IPv6 packets', () => {
  const ip6tables = save({
    nat: [':PREROUTING ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]', '-A PREROUTING -d fd00:96::a/128 -p udp -m udp --dport 53 -j DNAT --to-destination [fd00:244:1::5]:5353', '-A POSTROUTING -s fd00:244::/48 ! -d fd00:244::/48 -j MASQUERADE'],
  });
  const iptables = save({ nat: [':PREROUTING ACCEPT [0:0]', '-A PREROUTING -j DROP'] });
  const rs = buildRuleset('h', { iptables, ip6tables });
  const [pre] = runHook(rs, 'prerouting', pkt('fd00:244::7', 'fd00:96::a', 'udp', 53, { iif: 'eth0' }), ctx);
  assert.deepEqual([pre!.verdict.kind, pre!.packet.dst.toString(), pre!.packet.dport], ['accept', 'fd00:244:1::5', 5353]);
  assert.ok(pre!.steps.every((s) => s.kind !== 'rule' || s.family === 'ip6'));
  const [post] = runHook(rs, 'postrouting', pkt('fd00:244::7', '2001:db8::1', 'tcp', 443, { oif: 'eth0' }), ctx);
  assert.equal(post!.packet.src.toString(), 'fd00::2');
  // The IPv4 rule set drops every IPv4 packet at prerouting, and only those.
  assert.deepEqual(runHook(rs, 'prerouting', pkt('10.0.0.1', '10.0.0.2', 'udp', 53), ctx)[0]!.verdict, { kind: 'drop' });
});

test('nft: an inet chain sees both families, `ip daddr` only IPv4, `ip6 daddr` only IPv6', () => {
  const nft = 'table inet f {\n\tchain input {\n\t\ttype filter hook input priority 0; policy accept;\n\t\tip daddr 192.168.0.2 udp dport 53 drop\n\t\tip6 daddr fd00::2 udp dport 53 reject\n\t}\n}\n';
  const rs = buildRuleset('h', { nft });
  assert.deepEqual(runHook(rs, 'input', pkt('10.0.0.1', '192.168.0.2', 'udp', 53), ctx)[0]!.verdict, { kind: 'drop' });
  assert.deepEqual(runHook(rs, 'input', pkt('fd00::9', 'fd00::2', 'udp', 53), ctx)[0]!.verdict, { kind: 'reject', with: 'icmpx port-unreachable' });
});

test('bridge family: its chains run only for the bridge layer, with the ports as iif/oif', () => {
  const nft = 'table bridge b {\n\tchain fwd {\n\t\ttype filter hook forward priority 0; policy accept;\n\t\tiifname "veth1" oifname "veth2" drop\n\t}\n}\n';
  const rs = buildRuleset('h', { nft });
  const frame = pkt('10.244.0.5', '10.244.0.6', 'tcp', 80, { iif: 'veth1', oif: 'veth2' });
  assert.deepEqual(runHook(rs, 'forward', frame, ctx, 'bridge')[0]!.verdict, { kind: 'drop' });
  assert.deepEqual(trail(runHook(rs, 'forward', frame, ctx)[0]!), [], 'no inet chain at forward');
});

test('rules the rule set cannot place are counted in its notes', () => {
  const rs = buildRuleset('h', { iptables: '-P FORWARD DROP\n-A FORWARD -j ACCEPT\n', nft: '\tchain c {\n\t\taccept\n\t}\n' });
  assert.deepEqual(
    rs.notes.filter((n) => n.kind === 'rules-without-table' || n.kind === 'chains-without-table'),
    [
      { kind: 'rules-without-table', probe: 'iptables', count: 1 },
      { kind: 'chains-without-table', count: 1 },
    ],
  );
});
