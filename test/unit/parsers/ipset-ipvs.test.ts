import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { parseIpset } from '../../../src/parsers/ipset';
import { parseIpvs } from '../../../src/parsers/ipvs';
import { parseProbe } from '../../../src/parsers';
import type { IpvsDestRecord, IpvsServiceRecord } from '../../../src/parsers/types';
import { fixtureBody, withoutSrc } from './fixture-body';

describe('parseIpset', () => {
  test('`ipset list` and `ipset save` of the same sets give the same records', () => {
    const list = parseIpset(fixtureBody('ipset', 'lab-kube-ipvs-list'));
    const save = parseIpset(fixtureBody('ipset', 'lab-kube-ipvs-save'));
    assert.deepEqual([list.format, save.format], ['ipset-list', 'ipset-save']);
    assert.deepEqual([list.issues, save.issues], [[], []]);
    assert.deepEqual(withoutSrc(list.records), withoutSrc(save.records));
  });

  test('types, families, members with comments, an empty set', () => {
    const r = parseIpset(fixtureBody('ipset', 'lab-kube-ipvs-list'));
    const set = (n: string) => r.records.find((x) => x.kind === 'ipset' && x.name === n);
    assert.deepEqual(set('KUBE-CLUSTER-IP'), { kind: 'ipset', name: 'KUBE-CLUSTER-IP', type: 'hash:ip,port', options: { hashsize: '1024', maxelem: '65536', comment: true }, family: 4, src: set('KUBE-CLUSTER-IP')!.src });
    const v6 = set('KUBE-6-CLUSTER-IP')!;
    assert.equal(v6.kind === 'ipset' && v6.family, 6);
    const members = r.records.filter((x) => x.kind === 'ipset-member' && x.set === 'KUBE-CLUSTER-IP');
    assert.deepEqual(members.map((m) => m.kind === 'ipset-member' && [m.entry, m.options?.comment]), [['10.96.0.1,tcp:443', 'default/kubernetes:https'], ['10.96.0.10,udp:53', 'kube-system/kube-dns:dns'], ['10.96.0.10,tcp:53', 'kube-system/kube-dns:dns-tcp']]);
    assert.ok(set('KUBE-HEALTH-CHECK-NODE-PORT'));
    assert.equal(r.records.filter((x) => x.kind === 'ipset-member' && x.set === 'KUBE-HEALTH-CHECK-NODE-PORT').length, 0);
  });
});

describe('parseIpvs', () => {
  test('virtual services with their real servers, weights and persistence', () => {
    const r = parseIpvs(fixtureBody('ipvs', 'constructed-kube-ipvs'));
    assert.deepEqual(r.issues, []);
    const svcs = r.records.filter((x): x is IpvsServiceRecord => x.kind === 'ipvs-service');
    const dests = r.records.filter((x): x is IpvsDestRecord => x.kind === 'ipvs-dest');
    const wrr = svcs.find((s) => s.scheduler === 'wrr')!;
    assert.deepEqual([wrr.protocol, String(wrr.addr), wrr.port], ['TCP', '10.96.0.20', 80]);
    assert.deepEqual(dests.filter((d) => d.service === 'TCP 10.96.0.20:80').map((d) => [String(d.addr), d.port, d.weight, d.inactConn]), [['10.244.1.5', 8080, 3, 0], ['10.244.2.6', 8080, 1, 0], ['10.244.3.7', 8080, 0, 4]]);
    const aff = svcs.find((s) => s.persistent !== undefined)!;
    assert.deepEqual([aff.persistent, aff.netmask], [10800, '255.255.255.0']);
    assert.deepEqual(svcs.find((s) => s.scheduler === 'sh')!.flags, ['sh-fallback,sh-port']);
    assert.equal(svcs.find((s) => s.protocol === 'FWM')!.fwmark, 1);
    assert.ok(dests.some((d) => d.service === 'UDP [fd00:10:96::a]:53' && String(d.addr) === 'fd00:10:244:1::2'));
    assert.equal(dests.filter((d) => d.service === 'TCP 10.96.0.50:8080').length, 0);
  });

  test('a pasted ipvsadm command line is not an issue', () => {
    const r = parseIpvs(fixtureBody('ipvs', 'public-opsnull-251'));
    assert.deepEqual(r.issues, []);
    assert.equal(r.records.filter((x) => x.kind === 'ipvs-service').length, 7);
  });
});

test('ip6tables probe: IPv6 rules even when the text names no family', () => {
  const r = parseProbe('ip6tables', fixtureBody('ip6tables', 'lab-ip6-S'));
  assert.ok(r.records.length > 0 && r.records.every((x) => 'family' in x && x.family === 6));
});

test('ipset: a paste that starts inside a block keeps every complete set and names what it lost', () => {
  const r = parseIpset(fixtureBody('ipset', 'public-calico-2405'));
  assert.deepEqual(r.records.filter((x) => x.kind === 'ipset').map((x) => x.kind === 'ipset' && x.name), ['KUBE-CLUSTER-IP', 'KUBE-LOAD-BALANCER', 'KUBE-LOAD-BALANCER-LOCAL', 'KUBE-LOAD-BALANCER-SOURCE-IP']);
  assert.equal(r.records.filter((x) => x.kind === 'ipset-member' && x.set === 'KUBE-CLUSTER-IP').length, 9);
  assert.equal(r.issues.filter((i) => /member of a set whose Name: line is not in the text/.test(i.message)).length, 10);
});

test('ipvs: SCTP virtual services from a public paste', () => {
  const r = parseIpvs(fixtureBody('ipvs', 'public-kubernetes-81477-sctp'));
  assert.deepEqual(r.issues, []);
  const sctp = r.records.filter((x): x is IpvsServiceRecord => x.kind === 'ipvs-service' && x.protocol === 'SCTP');
  assert.deepEqual(sctp.map((s) => `${s.addr}:${s.port}`), ['10.0.2.15:31514', '10.103.164.9:1000']);
});
