// neigh_lookup and pneigh_lookup as tagged answers: each NUD state `ip neigh` prints, `arp`'s
// "complete or not", no entry, and proxy entries.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { isResolved, neighLookup, pneighLookup } from '../../../../src/engine/lookup/neigh';
import { buildNetns } from '../../../../src/engine/netns';
import { Addr } from '../../../../src/net/addr';

const ip = (s: string) => Addr.must(s);

const ns = buildNetns({
  name: 'n1',
  role: 'node',
  probes: {
    neigh: [
      '10.0.0.1 dev eth0 lladdr 02:00:00:00:00:01 REACHABLE',
      '10.0.0.2 dev eth0 lladdr 02:00:00:00:00:02 STALE',
      '10.0.0.3 dev eth0 lladdr 02:00:00:00:00:03 DELAY',
      '10.0.0.4 dev eth0 lladdr 02:00:00:00:00:04 PROBE',
      '10.0.0.5 dev eth0 lladdr 02:00:00:00:00:05 PERMANENT',
      '10.0.0.6 dev eth0  FAILED',
      '10.0.0.7 dev eth0  INCOMPLETE',
      '10.0.0.8 dev eth0 lladdr 02:00:00:00:00:08 NOARP',
      '10.244.1.0 dev flannel.1 lladdr 42:20:2d:f5:4d:c4 PERMANENT',
      'fe80::1 dev eth0 lladdr 02:00:00:00:00:09 router STALE',
      '169.254.1.1 dev cali1 proxy ',
    ].join('\n'),
    arp: [
      'Address                  HWtype  HWaddress           Flags Mask            Iface',
      '10.0.0.1                 ether   02:00:00:00:00:aa   C                     eth0',
      '10.0.0.20                ether   02:00:00:00:00:20   C                     eth0',
      '10.0.0.21                ether   02:00:00:00:00:21   CM                    eth0',
      '10.0.0.22                        (incomplete)                              eth0',
    ].join('\n'),
  },
});

describe('neigh_lookup', () => {
  test('each NUD state of `ip neigh` is its own answer, with the link-layer address where the kernel can send', () => {
    const kinds = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6', '10.0.0.7', '10.0.0.8'].map((a) => neighLookup(ns, 'eth0', ip(a)).kind);
    assert.deepEqual(kinds, ['reachable', 'stale', 'delay', 'probe', 'permanent', 'failed', 'incomplete', 'noarp']);
    const stale = neighLookup(ns, 'eth0', ip('10.0.0.2'));
    assert.ok(isResolved(stale));
    assert.equal(stale.lladdr, '02:00:00:00:00:02');
    assert.equal(stale.probe, 'neigh');
    assert.equal(isResolved(neighLookup(ns, 'eth0', ip('10.0.0.6'))), false, 'FAILED has no address to send with');
    assert.equal(isResolved(neighLookup(ns, 'eth0', ip('10.0.0.7'))), false, 'INCOMPLETE is still resolving');
  });

  test('the entry is per device and per family', () => {
    assert.equal(neighLookup(ns, 'flannel.1', ip('10.244.1.0')).kind, 'permanent');
    assert.equal(neighLookup(ns, 'eth0', ip('10.244.1.0')).kind, 'missing');
    assert.equal(neighLookup(ns, 'eth0', ip('fe80::1')).kind, 'stale');
  });

  test('`ip neigh` wins over `arp` for the same address; `arp` fills in the rest as resolved, permanent or incomplete', () => {
    const both = neighLookup(ns, 'eth0', ip('10.0.0.1'));
    assert.ok(isResolved(both));
    assert.deepEqual([both.kind, both.lladdr, both.probe], ['reachable', '02:00:00:00:00:01', 'neigh']);
    const fromArp = neighLookup(ns, 'eth0', ip('10.0.0.20'));
    assert.deepEqual([fromArp.kind, fromArp.kind !== 'missing' && fromArp.probe], ['resolved', 'arp']);
    assert.equal(neighLookup(ns, 'eth0', ip('10.0.0.21')).kind, 'permanent');
    assert.equal(neighLookup(ns, 'eth0', ip('10.0.0.22')).kind, 'incomplete');
  });

  test('no entry is missing, not an error', () => {
    assert.deepEqual(neighLookup(ns, 'eth0', ip('10.0.0.99')), { kind: 'missing' });
  });
});

describe('pneigh_lookup', () => {
  test('a proxy entry answers for its address on its device only; it is not a neighbour entry', () => {
    const p = pneighLookup(ns, 'cali1', ip('169.254.1.1'));
    assert.equal(p.kind, 'proxy');
    assert.equal(p.kind === 'proxy' && p.entry.src.raw, '169.254.1.1 dev cali1 proxy ');
    assert.equal(pneighLookup(ns, 'eth0', ip('169.254.1.1')).kind, 'missing');
    assert.equal(neighLookup(ns, 'cali1', ip('169.254.1.1')).kind, 'missing');
  });
});
