// runHook's kernel semantics: base chains in priority order across iptables tables and nft chains,
// ACCEPT ends only its base chain, DROP/REJECT end everything, jump/goto/return, policies, NAT only on
// a connection's first packet and once per hook, rewrites seen by later chains.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { buildRuleset, runHook } from '../../../../src/engine/netfilter';
import { hostCtx, pkt, save, trail } from './helpers';

const ctx = hostCtx(['192.168.0.2', '10.244.0.1'], { eth0: '192.168.0.2' });

describe('hook order', () => {
  test('output: raw -300, an nft chain at -200, mangle -150, nat -100, filter 0, security 50, in that order', () => {
    const iptables = save({
      raw: [':OUTPUT ACCEPT [0:0]', '-A OUTPUT -j ACCEPT'],
      mangle: [':OUTPUT ACCEPT [0:0]', '-A OUTPUT -j ACCEPT'],
      nat: [':OUTPUT ACCEPT [0:0]', '-A OUTPUT -j ACCEPT'],
      filter: [':OUTPUT ACCEPT [0:0]', '-A OUTPUT -j ACCEPT'],
      security: [':OUTPUT ACCEPT [0:0]', '-A OUTPUT -j ACCEPT'],
    });
    const nft = 'table inet t {\n\tchain early {\n\t\ttype filter hook output priority -200; policy accept;\n\t\taccept\n\t}\n}\n';
    const [o, ...rest] = runHook(buildRuleset('h', { iptables, nft }), 'output', pkt('192.168.0.2', '10.0.0.9', 'tcp', 80), ctx);
    assert.equal(rest.length, 0);
    assert.deepEqual(
      o!.steps.filter((s) => s.kind === 'chain').map((s) => (s.kind === 'chain' ? `${s.table} ${s.priority}` : '')),
      ['raw -300', 't -200', 'mangle -150', 'nat -100', 'filter 0', 'security 50'],
    );
    assert.deepEqual(o!.verdict, { kind: 'accept' });
  });

  test('ACCEPT ends its base chain only: a later base chain still drops', () => {
    const iptables = save({ filter: [':FORWARD ACCEPT [0:0]', '-A FORWARD -j ACCEPT'] });
    const nft = 'table ip late {\n\tchain fwd {\n\t\ttype filter hook forward priority 10; policy drop;\n\t}\n}\n';
    const [o] = runHook(buildRuleset('h', { iptables, nft }), 'forward', pkt('10.0.0.1', '10.0.0.2', 'udp', 53), ctx);
    assert.deepEqual(trail(o!), ['filter/FORWARD:', 'filter/FORWARD#1 accept', 'late/fwd:', 'late/fwd policy drop']);
    assert.deepEqual(o!.verdict, { kind: 'drop' });
  });

  test('DROP ends everything: no later base chain runs', () => {
    const iptables = save({ mangle: [':FORWARD ACCEPT [0:0]', '-A FORWARD -j DROP'], filter: [':FORWARD ACCEPT [0:0]', '-A FORWARD -j ACCEPT'] });
    const [o] = runHook(buildRuleset('h', { iptables }), 'forward', pkt('10.0.0.1', '10.0.0.2', 'udp', 53), ctx);
    assert.deepEqual(trail(o!), ['mangle/FORWARD:', 'mangle/FORWARD#1 drop']);
  });

  test('a FORWARD policy DROP with no rule that accepts drops cross-node traffic', () => {
    const iptables = save({ filter: [':FORWARD DROP [0:0]', ':KUBE-FORWARD - [0:0]', '-A FORWARD -j KUBE-FORWARD', '-A KUBE-FORWARD -m mark --mark 0x4000/0x4000 -j ACCEPT'] });
    const [o] = runHook(buildRuleset('h', { iptables }), 'forward', pkt('10.244.0.5', '10.244.1.7', 'tcp', 80, { iif: 'cni0', oif: 'flannel.1' }), ctx);
    assert.deepEqual(o!.verdict, { kind: 'drop' });
    assert.deepEqual(trail(o!).slice(-2), ['filter/KUBE-FORWARD return', 'filter/FORWARD policy drop']);
    const policy = o!.steps.at(-1)!;
    assert.ok(policy.kind === 'policy' && policy.evidence?.raw === ':FORWARD DROP [0:0]');
  });
});

describe('jumps, gotos, returns', () => {
  const iptables = save({
    filter: [
      ':INPUT DROP [0:0]',
      ':A - [0:0]',
      ':B - [0:0]',
      ':C - [0:0]',
      '-A INPUT -j A',
      '-A INPUT -p tcp -j ACCEPT',
      '-A A -g B',
      '-A A -j DROP',
      '-A B -p udp -j RETURN',
      '-A B -j C',
      '-A B -j LOG --log-prefix "b "',
      '-A C -p tcp --dport 22 -j RETURN',
    ],
  });
  const rs = buildRuleset('h', { iptables });

  test('goto does not come back to its chain: B returns to INPUT, past A\'s DROP', () => {
    const [o] = runHook(rs, 'input', pkt('10.0.0.1', '192.168.0.2', 'tcp', 22), ctx);
    assert.deepEqual(trail(o!), ['filter/INPUT:', 'filter/INPUT#1 jump A', 'filter/A#1 goto B', 'filter/B#2 jump C', 'filter/C#1 return', 'filter/B#3 continue', 'filter/B return', 'filter/INPUT#2 accept']);
  });

  test('RETURN from the goto target goes back to the chain that jumped; the base chain policy ends it', () => {
    const [o] = runHook(rs, 'input', pkt('10.0.0.1', '192.168.0.2', 'udp', 53), ctx);
    assert.deepEqual(trail(o!), ['filter/INPUT:', 'filter/INPUT#1 jump A', 'filter/A#1 goto B', 'filter/B#1 return', 'filter/INPUT policy drop']);
    assert.deepEqual(o!.verdict, { kind: 'drop' });
  });

  test('RETURN in a base chain applies its policy', () => {
    const r2 = buildRuleset('h', { iptables: save({ filter: [':INPUT DROP [0:0]', '-A INPUT -j RETURN', '-A INPUT -j ACCEPT'] }) });
    const [o] = runHook(r2, 'input', pkt('10.0.0.1', '192.168.0.2', 'udp', 53), ctx);
    assert.deepEqual(trail(o!), ['filter/INPUT:', 'filter/INPUT#1 return', 'filter/INPUT policy drop']);
  });
});

describe('NAT', () => {
  const iptables = save({
    nat: [
      ':PREROUTING ACCEPT [0:0]',
      ':POSTROUTING ACCEPT [0:0]',
      '-A PREROUTING -d 10.96.0.10/32 -p udp -m udp --dport 53 -j DNAT --to-destination 10.244.1.2:5353',
      '-A POSTROUTING -m mark --mark 0x4000/0x4000 -j MASQUERADE --random-fully',
    ],
    filter: [':FORWARD DROP [0:0]', '-A FORWARD -d 10.244.1.2/32 -p udp -m udp --dport 5353 -j ACCEPT'],
  });
  const rs = buildRuleset('h', { iptables });

  test('DNAT at prerouting changes the packet that FORWARD and the rest of the walk see', () => {
    const [pre] = runHook(rs, 'prerouting', pkt('10.0.0.1', '10.96.0.10', 'udp', 53, { iif: 'eth0' }), ctx);
    assert.deepEqual([pre!.packet.dst.toString(), pre!.packet.dport, pre!.packet.ctStatus], ['10.244.1.2', 5353, ['dnat']]);
    assert.deepEqual(pre!.nat.map((n) => [n.kind, n.before, n.after]), [['dnat', { addr: '10.96.0.10', port: 53 }, { addr: '10.244.1.2', port: 5353 }]]);
    const [fwd] = runHook(rs, 'forward', { ...pre!.packet, oif: 'cni0' }, ctx);
    assert.deepEqual(fwd!.verdict, { kind: 'accept' });
    // The same packet without the DNAT would have met the FORWARD policy.
    assert.deepEqual(runHook(rs, 'forward', pkt('10.0.0.1', '10.96.0.10', 'udp', 53, { iif: 'eth0', oif: 'cni0' }), ctx)[0]!.verdict, { kind: 'drop' });
  });

  test('nat chains run only for a connection\'s first packet', () => {
    const [o] = runHook(rs, 'prerouting', pkt('10.0.0.1', '10.96.0.10', 'udp', 53, { iif: 'eth0', connection: 'established' }), ctx);
    assert.deepEqual(trail(o!), ['nat skipped (established)']);
    assert.equal(o!.packet.dst.toString(), '10.96.0.10');
  });

  test('MASQUERADE takes the output device\'s address; the source port may change', () => {
    const [o] = runHook(rs, 'postrouting', pkt('10.244.0.5', '10.4.7.9', 'tcp', 443, { oif: 'eth0', mark: 0x4000 }), ctx);
    assert.equal(o!.packet.src.toString(), '192.168.0.2');
    const s = o!.steps.find((x) => x.kind === 'rule')!;
    assert.ok(s.kind === 'rule' && s.action.kind === 'masquerade' && s.action.portsMayChange);
  });

  test('once one NAT chain of the hook sets up the NAT, the others at that hook are skipped', () => {
    const nft = 'table ip other {\n\tchain pre {\n\t\ttype nat hook prerouting priority 50; policy accept;\n\t\tip daddr 10.244.1.2 dnat to 10.9.9.9\n\t}\n}\n';
    const [o] = runHook(buildRuleset('h', { iptables, nft }), 'prerouting', pkt('10.0.0.1', '10.96.0.10', 'udp', 53, { iif: 'eth0' }), ctx);
    assert.equal(o!.packet.dst.toString(), '10.244.1.2');
    assert.ok(!trail(o!).includes('other/pre:'));
  });

  test('NAT chains run together at the NAT priority (-100 at prerouting), whatever their own priority', () => {
    const nft = 'table ip t {\n\tchain natlate {\n\t\ttype nat hook prerouting priority 50; policy accept;\n\t}\n\tchain filt {\n\t\ttype filter hook prerouting priority 0; policy accept;\n\t}\n}\n';
    const [o] = runHook(buildRuleset('h', { nft }), 'prerouting', pkt('10.0.0.1', '10.0.0.2', 'udp', 53), ctx);
    assert.deepEqual(trail(o!).filter((x) => x.endsWith(':')), ['t/natlate:', 't/filt:']);
  });
});
