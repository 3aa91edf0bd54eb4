import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { parseNft, priorityValue } from '../../../src/parsers/nft';
import type { NftChainRecord, NftRuleRecord, NftSetRecord } from '../../../src/parsers/types';
import { fixtureBody, withoutSrc } from './fixture-body';

/** Records without src and handles, in a fixed order (nft -j lists every chain before the rules; the text interleaves them). */
const stripHandles = (rs: readonly object[]) =>
  withoutSrc(rs)
    .map((r) => {
      const { handle: _h, ...rest } = r as { handle?: number };
      return rest;
    })
    .sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));

describe('parseNft', () => {
  test('kube-proxy nftables mode: the text and the JSON form give the same records', () => {
    const text = parseNft(fixtureBody('nft', 'kube-proxy-overall'));
    const json = parseNft(fixtureBody('nft', 'kube-proxy-overall-json'));
    assert.deepEqual([text.format, json.format], ['nft', 'nft-json']);
    assert.deepEqual(text.issues, []);
    assert.deepEqual(json.issues, []);
    assert.deepEqual(stripHandles(text.records), stripHandles(json.records));
  });

  test('base chains: type, hook, priority (named and with an offset) and policy', () => {
    const r = parseNft(fixtureBody('nft', 'kube-proxy-overall'));
    const chains = r.records.filter((x): x is NftChainRecord => x.kind === 'nft-chain' && x.hook !== undefined);
    const pre = chains.find((c) => c.name === 'filter-prerouting-pre-dnat')!;
    assert.deepEqual([pre.type, pre.hook, pre.priority, pre.policy], ['filter', 'prerouting', -110, 'accept']);
    assert.deepEqual(chains.find((c) => c.name === 'nat-postrouting')!.priority, 100);
    assert.equal(priorityValue('dstnat - 10', 'ip'), -110);
    assert.equal(priorityValue('filter', 'bridge'), -200);
    assert.equal(priorityValue('mangle + 5', 'inet'), -145);
  });

  test('verdict maps with concatenated keys, element comments, numgen vmaps and DNAT', () => {
    const r = parseNft(fixtureBody('nft', 'kube-proxy-overall'));
    const sets = r.records.filter((x): x is NftSetRecord => x.kind === 'nft-set');
    const noEp = sets.find((s) => s.name === 'no-endpoint-services')!;
    assert.deepEqual([noEp.map, noEp.keyType, noEp.dataType], [true, ['ipv4_addr', 'inet_proto', 'inet_service'], 'verdict']);
    assert.deepEqual(noEp.elements[2], { key: { concat: ['172.30.0.46', 'tcp', 80] }, comment: 'ns6/svc6:p80', data: { verdict: 'goto', target: 'reject-chain' } });
    assert.equal(sets.find((s) => s.name.startsWith('affinity-'))!.timeout, 10800);
    const rules = r.records.filter((x): x is NftRuleRecord => x.kind === 'nft-rule');
    const ng = rules.find((x) => x.chain === 'service-LAUZTJTB-ns4/svc4/tcp/p80' && x.src.raw.includes('numgen'))!;
    assert.deepEqual(ng.statements, [
      { vmap: { key: { numgen: { mode: 'random', mod: 2, offset: 0 } }, data: { set: [
        { key: 0, data: { verdict: 'goto', target: 'endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80' } },
        { key: 1, data: { verdict: 'goto', target: 'endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80' } },
      ] } } },
    ]);
    const dnat = rules.find((x) => x.chain.startsWith('endpoint-5OJB2KTY') && x.src.raw.includes('dnat'))!;
    assert.deepEqual(dnat.statements, [{ match: { op: '==', left: { meta: 'l4proto' }, right: 'tcp' } }, { nat: { type: 'dnat', addr: '10.180.0.1', port: 80 } }]);
    const masq = rules.filter((x) => x.chain === 'masquerading');
    assert.deepEqual(masq[0]!.statements[0], { match: { op: '==', left: { binop: { op: '&', left: { meta: 'mark' }, right: 16384 } }, right: 0 } });
    assert.deepEqual(masq[2]!.statements, [{ nat: { type: 'masquerade', flags: ['fully-random'] } }]);
  });

  test('iptables-nft tables seen by nft: ct status, meta random, mark or', () => {
    const r = parseNft(fixtureBody('nft', 'lab-iptables-nft'));
    assert.deepEqual(r.issues, []);
    const rules = r.records.filter((x): x is NftRuleRecord => x.kind === 'nft-rule');
    const fw = rules.find((x) => x.chain === 'KUBE-FIREWALL')!;
    assert.deepEqual(fw.statements[2], { match: { op: 'in', left: { ct: { key: 'status' } }, right: 'dnat' } });
    const stat = rules.find((x) => x.src.raw.includes('meta random'))!;
    assert.deepEqual(stat.statements[0], { match: { op: '<', left: { binop: { op: '&', left: { meta: 'random' }, right: 2147483647 } }, right: 1073741824 } });
    const mark = rules.find((x) => x.chain === 'KUBE-MARK-MASQ')!;
    assert.deepEqual(mark.statements, [{ counter: true }, { mangle: { key: { meta: 'mark' }, value: { binop: { op: '|', left: { meta: 'mark' }, right: 16384 } } } }]);
  });

  test('a statement it does not model is kept as unknown and named in an issue; the rest of the rule is read', () => {
    const r = parseNft('table inet t {\n\tchain c {\n\t\ttcp dport 22 limit rate 5/second accept\n\t}\n}\n');
    const rule = r.records.find((x): x is NftRuleRecord => x.kind === 'nft-rule')!;
    assert.deepEqual(rule.statements, [{ match: { op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: 22 } }, { unknown: 'limit rate 5/second' }, { verdict: 'accept' }]);
    assert.equal(r.issues.length, 1);
    assert.equal(r.issues[0]!.kept, true);
  });
});

test('nft: a paste that starts inside a table keeps its chains with the table unknown', () => {
  const r = parseNft(fixtureBody('nft', 'public-calico-8025-nat-chains'));
  const chains = r.records.filter((x): x is NftChainRecord => x.kind === 'nft-chain');
  assert.deepEqual(chains.map((c) => [c.family, c.table, c.name]).slice(0, 2), [['', '', 'CNI-DN-52884ef77991f54199eaa'], ['', '', 'KUBE-SVC-JOQCPDX2ATLAF3TL']]);
  const f = parseNft(fixtureBody('nft', 'public-calico-8025-filter'));
  const pre = f.records.find((x): x is NftChainRecord => x.kind === 'nft-chain' && x.name === 'PREROUTING')!;
  assert.deepEqual([pre.family, pre.table, pre.type, pre.priority], ['ip', 'nat', 'nat', -100]);
  const redirect = f.records.find((x): x is NftRuleRecord => x.kind === 'nft-rule' && x.src.raw.includes('redirect'))!;
  assert.deepEqual(redirect.statements.at(-1), { nat: { type: 'redirect', port: 1162 } });
});
