// The `recent` match against the capture's lists (src/engine/netfilter/recent.ts, the xt_recent probe):
// kube-proxy's iptables mode pins a returning client of a sessionAffinity ClientIP Service to the
// endpoint its list names; a new client, one the lists forgot, or a capture without the lists gets the
// random pick.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { buildRuleset, runHook, type MatchNote, type NfContext, type NfPacket, type RecentEntry } from '../../../../src/engine/netfilter';
import { recentMatches } from '../../../../src/engine/netfilter/recent';
import { Addr } from '../../../../src/net/addr';

const RULES = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-SEP-A - [0:0]
:KUBE-SEP-B - [0:0]
:KUBE-SVC-X - [0:0]
-A PREROUTING -d 10.100.34.18/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-X
-A KUBE-SVC-X -m comment --comment "default/web-sticky:http -> 10.244.0.3:8080" -m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-A --mask 255.255.255.255 --rsource -j KUBE-SEP-A
-A KUBE-SVC-X -m comment --comment "default/web-sticky:http -> 10.244.1.3:8080" -m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-B --mask 255.255.255.255 --rsource -j KUBE-SEP-B
-A KUBE-SVC-X -m comment --comment "default/web-sticky:http -> 10.244.0.3:8080" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-A
-A KUBE-SVC-X -m comment --comment "default/web-sticky:http -> 10.244.1.3:8080" -j KUBE-SEP-B
-A KUBE-SEP-A -p tcp -m comment --comment "default/web-sticky:http" -m recent --set --name KUBE-SEP-A --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.244.0.3:8080
-A KUBE-SEP-B -p tcp -m comment --comment "default/web-sticky:http" -m recent --set --name KUBE-SEP-B --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.244.1.3:8080
COMMIT
`;

const rs = buildRuleset('k8s-node3', { iptables: RULES });
const pkt: NfPacket = { family: 4, src: Addr.must('10.244.2.3'), dst: Addr.must('10.100.34.18'), proto: 'tcp', sport: 40000, dport: 80, iif: 'cni0', mark: 0, connection: 'new' };
const base: NfContext = { addrType: () => 'unicast', masqueradeAddress: () => undefined, primaryAddress: () => undefined };
const ev = (line: number) => ({ host: 'k8s-node3', probe: 'xt_recent' as const, line, raw: `KUBE-SEP-B:src=10.244.2.3 ttl: 64 last_seen: 1 oldest_pkt: 1 1` });
const lists = (m: Record<string, RecentEntry>): NfContext['recent'] => (list, client) => m[`${list}|${client.toString()}`];

/** Where the packet goes: each outcome's DNAT target with its chance. */
function targets(ctx: NfContext, p: NfPacket = pkt): string[] {
  return runHook(rs, 'prerouting', p, ctx)
    .map((o) => `${o.packet.dst.toString()}:${o.packet.dport} ${o.probability}`)
    .sort();
}

describe('recent (sessionAffinity ClientIP in iptables mode)', () => {
  test('no xt_recent probe: a new client, each endpoint at its share, and a note saying the lists were not captured', () => {
    assert.deepEqual(targets(base), ['10.244.0.3:8080 0.5', '10.244.1.3:8080 0.5']);
    const notes: MatchNote[] = [];
    assert.equal(recentMatches({ list: 'KUBE-SEP-B', seconds: 10800, rdest: false }, pkt, base, notes), false);
    assert.equal(notes[0]!.note, 'new-client');
    assert.match(notes[0]!.detail!, /no xt_recent probe/);
  });

  test('the lists hold the client, seen within the timeout: it returns to its endpoint', () => {
    const ctx = { ...base, recent: lists({ 'KUBE-SEP-B|10.244.2.3': { ageSeconds: 42, evidence: ev(3) } }) };
    assert.deepEqual(targets(ctx), ['10.244.1.3:8080 1']);
    const notes: MatchNote[] = [];
    assert.equal(recentMatches({ list: 'KUBE-SEP-B', seconds: 10800, rdest: false }, pkt, ctx, notes), true);
    assert.deepEqual([notes[0]!.note, notes[0]!.detail], ['returning-client', 'list KUBE-SEP-B holds 10.244.2.3, last seen 42 s before the capture (xt_recent:3), within 10800 s: a returning client']);
  });

  test('another client is new: the lists hold someone else', () => {
    const ctx = { ...base, recent: lists({ 'KUBE-SEP-B|10.244.2.9': { ageSeconds: 42, evidence: ev(3) } }) };
    assert.deepEqual(targets(ctx), ['10.244.0.3:8080 0.5', '10.244.1.3:8080 0.5']);
  });

  test('seen longer ago than --seconds: forgotten (--reap), a new client again', () => {
    const ctx = { ...base, recent: lists({ 'KUBE-SEP-B|10.244.2.3': { ageSeconds: 10801, evidence: ev(3) } }) };
    assert.deepEqual(targets(ctx), ['10.244.0.3:8080 0.5', '10.244.1.3:8080 0.5']);
    const notes: MatchNote[] = [];
    recentMatches({ list: 'KUBE-SEP-B', seconds: 10800, rdest: false }, pkt, ctx, notes);
    assert.equal(notes[0]!.note, 'expired-client');
  });

  test('a clock the capture cannot read: the entry is taken as current, and the note says so', () => {
    const ctx = { ...base, recent: lists({ 'KUBE-SEP-A|10.244.2.3': { evidence: ev(2) } }) };
    assert.deepEqual(targets(ctx), ['10.244.0.3:8080 1']);
    const notes: MatchNote[] = [];
    recentMatches({ list: 'KUBE-SEP-A', seconds: 10800, rdest: false }, pkt, ctx, notes);
    assert.match(notes[0]!.detail!, /cannot date the entry/);
  });

  test('--rdest keys on the destination; --mask on the masked address', () => {
    const ctx = { ...base, recent: lists({ 'L|10.100.34.18': { ageSeconds: 1, evidence: ev(1) }, 'M|10.244.2.0': { ageSeconds: 1, evidence: ev(1) } }) };
    assert.equal(recentMatches({ list: 'L', rdest: true }, pkt, ctx, []), true);
    assert.equal(recentMatches({ list: 'L', rdest: false }, pkt, ctx, []), false);
    assert.equal(recentMatches({ list: 'M', rdest: false, mask: '255.255.255.0' }, pkt, ctx, []), true);
    assert.equal(recentMatches({ list: 'M', rdest: false }, pkt, ctx, []), false);
  });
});
