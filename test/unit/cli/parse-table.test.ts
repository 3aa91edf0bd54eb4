// `netpath parse iptables --table TABLE`: the table of `iptables -S` output the text does not name.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { EXIT_OK, EXIT_USAGE, run } from '../../../src/cli/main';
import { fakeIo } from './fake-io';

const io = (files: Record<string, string>) => fakeIo(files);

const natS = '-P PREROUTING ACCEPT\n-N KUBE-SERVICES\n-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\n';

describe('netpath parse iptables --table', () => {
  test('places `iptables -S` lines in the given table, with no issue; without it the table is left out', async () => {
    const withTable = io({ 'nat.txt': natS });
    assert.equal(await run(['parse', 'iptables', 'nat.txt', '--table', 'nat'], withTable.io), EXIT_OK);
    const doc = JSON.parse(withTable.stdout());
    assert.equal(doc.format, 'iptables-S');
    assert.deepEqual(doc.issues, []);
    assert.deepEqual(doc.records.map((r: { kind: string; table?: string; chain: string }) => `${r.kind} ${r.table} ${r.chain}`), ['iptables-chain nat PREROUTING', 'iptables-chain nat KUBE-SERVICES', 'iptables-rule nat PREROUTING']);
    assert.equal(withTable.stderr(), '');
    const without = io({ 'nat.txt': natS });
    assert.equal(await run(['parse', 'iptables', 'nat.txt'], without.io), EXIT_OK);
    assert.ok(JSON.parse(without.stdout()).records.every((r: object) => !('table' in r)));
    // A pasted command line says it itself, and wins.
    const pasted = io({ 'p.txt': `[root@node1 ~]# iptables -t mangle -S\n${natS}` });
    assert.equal(await run(['parse', 'iptables', 'p.txt', '--table', 'nat', '--text'], pasted.io), EXIT_OK);
    assert.match(pasted.stdout(), /^2\s+chain\s+mangle\/PREROUTING\s+policy ACCEPT$/m);
  });

  test('--table with another probe is a usage error', async () => {
    const f = io({ 'r.txt': 'default via 10.0.0.1 dev eth0\n' });
    assert.equal(await run(['parse', 'routes4', 'r.txt', '--table', 'nat'], f.io), EXIT_USAGE);
    assert.match(f.stderr(), /--table is for the iptables and ip6tables probes only/);
  });
});
