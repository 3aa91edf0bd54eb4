import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { parseWg } from '../../../src/parsers/wg';
import { fixtureBody } from './fixture-body';

const body = fixtureBody('wg', 'constructed-calico');

test('devices and peers with endpoints and allowed IPs (cryptokey routing)', () => {
  const r = parseWg(body);
  const dev = r.records.find((x) => x.kind === 'wg-interface' && x.ifname === 'wireguard.cali');
  assert.ok(dev && dev.kind === 'wg-interface');
  assert.deepEqual([dev.listenPort, dev.fwmark], [51820, 0x100000]);
  const peers = r.records.filter((x) => x.kind === 'wg-peer' && x.ifname === 'wireguard.cali');
  assert.equal(peers.length, 2);
  const p = peers[0]!;
  assert.ok(p.kind === 'wg-peer');
  assert.equal(`${p.endpoint!.addr}:${p.endpoint!.port}`, '10.4.7.22:51820');
  assert.deepEqual(p.allowedIps.map(String), ['10.244.1.0/26', '10.244.1.1/32']);
  const v6 = r.records.find((x) => x.kind === 'wg-peer' && x.ifname === 'wg0' && x.endpoint !== undefined);
  assert.ok(v6 && v6.kind === 'wg-peer' && v6.endpoint!.addr.family === 6 && v6.endpoint!.port === 51821);
  const none = r.records.filter((x) => x.kind === 'wg-peer' && x.ifname === 'wg0' && x.endpoint === undefined);
  assert.ok(none.length === 1 && none[0]!.kind === 'wg-peer' && none[0]!.allowedIps.length === 0);
});

test('private and preshared keys never appear in records or issues', () => {
  const lines = body.trim().split('\n');
  const secrets = [lines[0]!.split('\t')[1]!, lines[2]!.split('\t')[2]!, lines[3]!.split('\t')[1]!, lines[6]!.split('\t')[2]!];
  const out = JSON.stringify(parseWg(body));
  for (const s of secrets) assert.ok(!out.includes(s), `secret ${s.slice(0, 6)}... leaked`);
  assert.match(out, /\(hidden\)/);
});

test('a damaged line is an issue on its line and the rest is kept', () => {
  const r = parseWg(body);
  assert.deepEqual(r.issues.map((i) => i.line), [7]);
  assert.equal(r.records.length, 6);
});
