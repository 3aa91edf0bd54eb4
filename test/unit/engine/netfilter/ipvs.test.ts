import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { buildRuleset, ipvsLookup } from '../../../../src/engine/netfilter';
import { fixtureBody } from '../../parsers/fixture-body';
import { pkt } from './helpers';

const rs = buildRuleset('node', { ipvs: fixtureBody('ipvs', 'constructed-kube-ipvs') });

test('rr: every real server of weight > 0 equally', () => {
  const m = ipvsLookup(rs, pkt('10.244.0.5', '10.96.0.1', 'tcp', 443))!;
  assert.deepEqual([m.model, m.realServers.map((r) => [r.addr, r.probability])], ['equal', [['192.168.0.10', 0.5], ['192.168.0.11', 0.5]]]);
  assert.equal(m.service.evidence.raw, 'TCP  10.96.0.1:443 rr');
});

test('wrr: by weight; weight 0 takes no new connection', () => {
  const m = ipvsLookup(rs, pkt('10.244.0.5', '10.96.0.20', 'tcp', 80))!;
  assert.deepEqual(m.realServers.map((r) => r.probability), [0.75, 0.25, 0]);
});

test('lc is taken as weight-proportional and says so; persistence is the affinity', () => {
  assert.equal(ipvsLookup(rs, pkt('10.244.0.5', '10.96.0.10', 'udp', 53))!.model, 'weight-proportional');
  assert.equal(ipvsLookup(rs, pkt('10.244.0.5', '10.96.0.30', 'tcp', 443))!.affinity, 10800);
});

test('a service with no real servers, a firewall-mark service, IPv6, and no service at all', () => {
  assert.deepEqual(ipvsLookup(rs, pkt('10.244.0.5', '10.96.0.50', 'tcp', 8080))!.realServers, []);
  assert.equal(ipvsLookup(rs, pkt('10.244.0.5', '10.1.1.1', 'tcp', 80, { mark: 1 }))!.service.fwmark, 1);
  assert.equal(ipvsLookup(rs, pkt('fd00:10:244::5', 'fd00:10:96::a', 'udp', 53))!.realServers[0]!.addr, 'fd00:10:244:1::2');
  assert.equal(ipvsLookup(rs, pkt('10.244.0.5', '10.96.0.1', 'udp', 443)), undefined);
});
