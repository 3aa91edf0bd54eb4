// Each match and target the Kubernetes data planes use, evaluated against one packet.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { buildRuleset, runHook, type NfPacket } from '../../../../src/engine/netfilter';
import { hostCtx, pkt, save, trail } from './helpers';

const ctx = hostCtx(['192.168.0.2', '10.244.0.1'], { eth0: '192.168.0.2', cni0: '10.244.0.1' });

/** The first rule of filter/INPUT with `rule` as its matches: does it match the packet? */
function matches(rule: string, p: NfPacket, extra: { ipset?: string } = {}): boolean | 'unevaluated' {
  const rs = buildRuleset('h', { iptables: save({ filter: [':INPUT ACCEPT [0:0]', `-A INPUT ${rule} -j DROP`] }), ...(extra.ipset !== undefined && { ipset: extra.ipset }) });
  const [o, ...more] = runHook(rs, 'input', p, ctx);
  assert.equal(more.length, 0);
  if (o!.unevaluated.length) return 'unevaluated';
  return o!.verdict.kind === 'drop';
}

const tcp = (more: Partial<NfPacket> = {}) => pkt('10.244.0.5', '192.168.0.2', 'tcp', 443, { iif: 'cni0', ...more });

describe('matches', () => {
  test('addresses, prefixes and negation', () => {
    assert.equal(matches('-s 10.244.0.0/16', tcp()), true);
    assert.equal(matches('! -s 10.244.0.0/16', tcp()), false);
    assert.equal(matches('-d 192.168.0.2/32', tcp()), true);
    assert.equal(matches('-d 192.168.0.3', tcp()), false);
  });
  test('interfaces with the + wildcard', () => {
    assert.equal(matches('-i cni+', tcp()), true);
    assert.equal(matches('-i cali+', tcp()), false);
    assert.equal(matches('! -i cni0', tcp()), false);
  });
  test('protocols and ports, multiport with ranges', () => {
    assert.equal(matches('-p tcp -m tcp --dport 443', tcp()), true);
    assert.equal(matches('-p udp -m udp --dport 443', tcp()), false);
    assert.equal(matches('-p tcp -m tcp ! --dport 443', tcp()), false);
    assert.equal(matches('-p tcp -m tcp --dport 400:500', tcp()), true);
    assert.equal(matches('-p tcp -m multiport --dports 80,8000:9000,443', tcp()), true);
    assert.equal(matches('-p tcp -m multiport --dports 80,8080', tcp()), false);
    assert.equal(matches('-p tcp --sport 40000', tcp()), true);
  });
  test('tcp flags: a new connection\'s first packet is a SYN', () => {
    assert.equal(matches('-p tcp -m tcp --syn', tcp()), true);
    assert.equal(matches('-p tcp -m tcp --tcp-flags SYN,RST,ACK SYN', tcp({ connection: 'established' })), false);
  });
  test('comment matches everything', () => {
    assert.equal(matches('-m comment --comment "anything at all"', tcp()), true);
  });
  test('mark and connmark with masks', () => {
    assert.equal(matches('-m mark --mark 0x4000/0x4000', tcp({ mark: 0x4001 })), true);
    assert.equal(matches('-m mark --mark 0x4000/0x4000', tcp({ mark: 0x1 })), false);
    assert.equal(matches('-m mark ! --mark 0x4000/0x4000', tcp({ mark: 0x1 })), true);
    assert.equal(matches('-m connmark --mark 0x1/0xf', tcp({ ctmark: 0x11 })), true);
  });
  test('conntrack state: NEW for the first packet, ESTABLISHED when the caller says so, DNAT after a DNAT', () => {
    assert.equal(matches('-m conntrack --ctstate NEW', tcp()), true);
    assert.equal(matches('-m conntrack --ctstate RELATED,ESTABLISHED', tcp()), false);
    assert.equal(matches('-m conntrack --ctstate RELATED,ESTABLISHED', tcp({ connection: 'established' })), true);
    assert.equal(matches('-m conntrack --ctstate INVALID', tcp()), false);
    assert.equal(matches('-m conntrack --ctstate DNAT', tcp({ ctStatus: ['dnat'] })), true);
    assert.equal(matches('-m state --state NEW', tcp()), true);
  });
  test('addrtype from the host\'s addresses', () => {
    assert.equal(matches('-m addrtype --dst-type LOCAL', tcp()), true);
    assert.equal(matches('-m addrtype --dst-type LOCAL', pkt('10.244.0.5', '10.96.0.1', 'tcp', 443)), false);
    assert.equal(matches('-m addrtype ! --src-type LOCAL', tcp()), true);
  });
  test('physdev: bridged frames carry their ports', () => {
    const bridged = tcp({ physIn: 'veth1', physOut: 'veth2' });
    assert.equal(matches('-m physdev --physdev-is-bridged', bridged), true);
    assert.equal(matches('-m physdev --physdev-is-bridged', tcp()), false);
    assert.equal(matches('-m physdev --physdev-in veth+', bridged), true);
    assert.equal(matches('-m physdev ! --physdev-out veth2', bridged), false);
  });
  test('ipset membership by the flags\' directions, from the ipset probe', () => {
    const ipset = 'create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536\nadd KUBE-CLUSTER-IP 192.168.0.2,tcp:443\ncreate NETS hash:net family inet hashsize 1024 maxelem 65536\nadd NETS 10.244.0.0/16\nadd NETS 10.244.0.0/24 nomatch\n';
    assert.equal(matches('-m set --match-set KUBE-CLUSTER-IP dst,dst', tcp(), { ipset }), true);
    assert.equal(matches('-m set --match-set KUBE-CLUSTER-IP dst,src', tcp(), { ipset }), false);
    assert.equal(matches('-m set ! --match-set KUBE-CLUSTER-IP dst,dst', tcp(), { ipset }), false);
    assert.equal(matches('-m set --match-set NETS src', pkt('10.244.1.5', '192.168.0.2', 'tcp', 1), { ipset }), true);
    assert.equal(matches('-m set --match-set NETS src', tcp(), { ipset }), false, 'a nomatch entry inside the net wins');
    assert.equal(matches('-m set --match-set MISSING src', tcp(), { ipset }), 'unevaluated');
  });
  test('an unknown match is named and taken as not matching', () => {
    const rs = buildRuleset('h', { iptables: save({ filter: [':INPUT ACCEPT [0:0]', '-A INPUT -p tcp -m socket --transparent -j DROP'] }) });
    const [o] = runHook(rs, 'input', tcp(), ctx);
    assert.deepEqual(o!.verdict, { kind: 'accept' });
    assert.equal(o!.unevaluated.length, 1);
    assert.deepEqual([o!.unevaluated[0]!.assumed, o!.unevaluated[0]!.rule, o!.unevaluated[0]!.evidence.raw], ['not-matched', 1, '-A INPUT -p tcp -m socket --transparent -j DROP']);
  });
  test('recent: a new client is in no list, and --set adds it', () => {
    const rs = buildRuleset('h', {
      iptables: save({
        nat: [
          ':PREROUTING ACCEPT [0:0]',
          ':KUBE-SVC-X - [0:0]',
          ':KUBE-SEP-A - [0:0]',
          ':KUBE-SEP-B - [0:0]',
          '-A PREROUTING -j KUBE-SVC-X',
          '-A KUBE-SVC-X -m recent --name KUBE-SEP-A --mask 255.255.255.255 --rsource --rcheck --seconds 10800 --reap -j KUBE-SEP-A',
          '-A KUBE-SVC-X -m recent --name KUBE-SEP-B --mask 255.255.255.255 --rsource --rcheck --seconds 10800 --reap -j KUBE-SEP-B',
          '-A KUBE-SVC-X -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-A',
          '-A KUBE-SVC-X -j KUBE-SEP-B',
          '-A KUBE-SEP-A -p tcp -m recent --set --name KUBE-SEP-A --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.244.1.5:8080',
          '-A KUBE-SEP-B -p tcp -m recent --set --name KUBE-SEP-B --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.244.2.5:8080',
        ],
      }),
    });
    const out = runHook(rs, 'prerouting', pkt('10.244.0.5', '10.96.0.50', 'tcp', 80), ctx);
    // In the rules' order: the statistic rule's match (KUBE-SEP-A) first.
    assert.deepEqual(out.map((o) => [o.probability, o.packet.dst.toString()]), [[0.5, '10.244.1.5'], [0.5, '10.244.2.5']]);
    const dnat = out[0]!.steps.find((s) => s.kind === 'rule' && s.action.kind === 'dnat')!;
    assert.ok(dnat.kind === 'rule' && dnat.notes?.some((n) => n.note === 'added-to-list'));
    assert.ok(out[1]!.steps.every((s) => s.kind !== 'rule' || s.rule > 2 || s.chain !== 'KUBE-SVC-X'), 'no recent check matched');
  });
});

describe('targets', () => {
  test('statistic random: kube-proxy\'s 1/3, 1/2, rest gives each endpoint a third', () => {
    const rs = buildRuleset('h', {
      iptables: save({
        nat: [
          ':OUTPUT ACCEPT [0:0]',
          ':SVC - [0:0]',
          '-A OUTPUT -j SVC',
          '-A SVC -m statistic --mode random --probability 0.33333333349 -j DNAT --to-destination 10.0.0.1:80',
          '-A SVC -m statistic --mode random --probability 0.50000000000 -j DNAT --to-destination 10.0.0.2:80',
          '-A SVC -j DNAT --to-destination 10.0.0.3:80',
        ],
      }),
    });
    const out = runHook(rs, 'output', pkt('192.168.0.2', '10.96.0.5', 'tcp', 80), ctx);
    const by = Object.fromEntries(out.map((o) => [o.packet.dst.toString(), o.probability]));
    assert.deepEqual(Object.keys(by).sort(), ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    for (const p of Object.values(by)) assert.ok(Math.abs(p - 1 / 3) < 1e-9, `${p}`);
    assert.ok(Math.abs(out.reduce((a, o) => a + o.probability, 0) - 1) < 1e-12);
  });
  test('MARK --set-xmark, --or-mark, --xor-mark and CONNMARK --save-mark / --restore-mark', () => {
    const rs = buildRuleset('h', {
      iptables: save({
        mangle: [
          ':OUTPUT ACCEPT [0:0]',
          '-A OUTPUT -j MARK --set-xmark 0x4000/0x4000',
          '-A OUTPUT -j MARK --or-mark 0x1',
          '-A OUTPUT -j CONNMARK --save-mark',
          '-A OUTPUT -j MARK --xor-mark 0x4000',
          '-A OUTPUT -j CONNMARK --restore-mark --nfmask 0xf000 --ctmask 0xf000',
        ],
      }),
    });
    const [o] = runHook(rs, 'output', pkt('192.168.0.2', '10.0.0.5', 'udp', 53), ctx);
    assert.deepEqual(trail(o!).slice(1), ['mangle/OUTPUT#1 mark 0x4000', 'mangle/OUTPUT#2 mark 0x4001', 'mangle/OUTPUT#3 connmark 0x4001', 'mangle/OUTPUT#4 mark 0x1', 'mangle/OUTPUT#5 mark 0x4001', 'mangle/OUTPUT policy accept']);
    assert.deepEqual([o!.packet.mark, o!.packet.ctmark], [0x4001, 0x4001]);
  });
  test('REJECT with its type; the family\'s default without one', () => {
    const rs = buildRuleset('h', { iptables: save({ filter: [':INPUT ACCEPT [0:0]', '-A INPUT -p tcp -j REJECT --reject-with tcp-reset', '-A INPUT -j REJECT'] }) });
    assert.deepEqual(runHook(rs, 'input', tcp(), ctx)[0]!.verdict, { kind: 'reject', with: 'tcp-reset' });
    assert.deepEqual(runHook(rs, 'input', pkt('10.0.0.1', '192.168.0.2', 'udp', 53), ctx)[0]!.verdict, { kind: 'reject', with: 'icmp-port-unreachable' });
  });
  test('an unknown target is named; the walk goes on past it', () => {
    const rs = buildRuleset('h', { iptables: save({ mangle: [':PREROUTING ACCEPT [0:0]', '-A PREROUTING -p tcp -j TPROXY --on-port 15001 --tproxy-mark 0x1/0x1'] }) });
    const [o] = runHook(rs, 'prerouting', tcp(), ctx);
    assert.deepEqual([o!.verdict.kind, o!.unevaluated[0]?.assumed, o!.unevaluated[0]?.what], ['accept', 'continued', '-j TPROXY']);
  });
  test('REDIRECT at prerouting goes to the input device\'s address', () => {
    const rs = buildRuleset('h', { iptables: save({ nat: [':PREROUTING ACCEPT [0:0]', '-A PREROUTING -p tcp -j REDIRECT --to-ports 15001'] }) });
    const [o] = runHook(rs, 'prerouting', tcp(), ctx);
    assert.deepEqual([o!.packet.dst.toString(), o!.packet.dport], ['10.244.0.1', 15001]);
  });
});
