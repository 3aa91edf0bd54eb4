import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { Addr, Mac, Prefix, maskAddr, maskLength } from '../../../src/net/addr';

test('IPv4 parses four decimal octets and rejects other forms', () => {
  assert.equal(Addr.must('10.244.1.10').v4, 0x0af4010a);
  for (const bad of ['10.244.1', '10.244.1.256', '0x0a.1.1.1', '10.1.1.1.1', '', ' ', '1.2.3.-1', '10.0.0.1/24']) {
    const r = Addr.parse(bad);
    assert.equal(r.ok, false, bad);
  }
  const r = Addr.parse('10.1');
  assert.ok(!r.ok && /expected four decimal octets/.test(r.error));
});

test('IPv6 parses, prints canonical RFC 5952 form and keeps zones', () => {
  assert.equal(Addr.must('FE80:0:0:0:0:0:0:1').toString(), 'fe80::1');
  assert.equal(Addr.must('2001:db8:0:0:1:0:0:1').toString(), '2001:db8::1:0:0:1');
  assert.equal(Addr.must('fe80::1%eth0').toString(), 'fe80::1%eth0');
  assert.equal(Addr.must('::ffff:10.0.0.1').v6, 0xffff0a000001n);
  assert.equal(Addr.parse('fe80::1%').ok, false);
  assert.equal(Addr.parse('2001:db8:::1').ok, false);
});

test('address classes', () => {
  assert.ok(Addr.must('169.254.1.1').isLinkLocal());
  assert.ok(Addr.must('fe80::1').isLinkLocal());
  assert.ok(Addr.must('224.0.0.1').isMulticast());
  assert.ok(Addr.must('ff02::1').isMulticast());
  assert.ok(Addr.must('127.0.0.53').isLoopback());
  assert.ok(Addr.must('::1').isLoopback());
  assert.ok(Addr.must('0.0.0.0').isUnspecified());
  assert.ok(!Addr.must('10.0.0.1').isLinkLocal());
});

test('prefix containment, masking and host routes', () => {
  const p = Prefix.must('10.244.1.7/24');
  assert.equal(p.isMasked(), false);
  assert.equal(p.masked().toString(), '10.244.1.0/24');
  assert.ok(p.contains(Addr.must('10.244.1.250')));
  assert.ok(!p.contains(Addr.must('10.244.2.1')));
  assert.ok(!p.contains(Addr.must('::1')));
  assert.equal(Prefix.must('10.4.7.21').toString(), '10.4.7.21/32');
  assert.equal(Prefix.must('fd00::1').length, 128);
  assert.ok(Prefix.must('10.244.0.0/16').covers(Prefix.must('10.244.3.0/24')));
  assert.ok(!Prefix.must('10.244.3.0/24').covers(Prefix.must('10.244.0.0/16')));
  assert.ok(Prefix.must('10.244.3.0/24').overlaps(Prefix.must('10.244.0.0/16')));
  assert.ok(Prefix.any(6).contains(Addr.must('2001:db8::1')));
  assert.equal(Prefix.must('2001:db8:abcd:12::1/48').masked().toString(), '2001:db8:abcd::/48');
  for (const bad of ['10.0.0.0/33', '10.0.0.0/', '10.0.0.0/a', '::/129', '10.0.0.0/-1']) assert.equal(Prefix.parse(bad).ok, false, bad);
});

test('MAC addresses', () => {
  const m = Mac.must('0A:58:0a:F4:01:0a');
  assert.equal(m.toString(), '0a:58:0a:f4:01:0a');
  assert.ok(Mac.must('00:00:00:00:00:00').isZero());
  assert.ok(Mac.must('ff:ff:ff:ff:ff:ff').isBroadcast());
  assert.ok(Mac.must('33:33:00:00:00:01').isMulticast());
  assert.ok(!m.isMulticast());
  assert.equal(Mac.parse('0a:58:0a:f4:01').ok, false);
  assert.equal(Mac.parse('0a:58:0a:f4:01:zz').ok, false);
  assert.equal(JSON.stringify({ m }), '{"m":"0a:58:0a:f4:01:0a"}');
});

test('property: Mac.text is Mac.parse(text).toString(), or undefined where parse fails', () => {
  const octet = fc.stringMatching(/^[0-9a-fA-F]{1,3}$/);
  const sep = fc.constantFrom(':', '-', '.', '');
  const token = fc.tuple(fc.array(fc.tuple(octet, sep), { minLength: 5, maxLength: 7 }), octet).map(([xs, last]) => xs.map(([o, s]) => o + s).join('') + last);
  fc.assert(
    fc.property(fc.oneof(token, fc.string()), (t) => {
      const m = Mac.parse(t);
      assert.equal(Mac.text(t), m.ok ? m.value.toString() : undefined, t);
    }),
    { numRuns: 5000 },
  );
  assert.equal(Mac.text('0A-58-0a-F4-01-0A'), '0a:58:0a:f4:01:0a');
  assert.equal(Mac.text('a:b:c:d:e:f'), '0a:0b:0c:0d:0e:0f');
});

test('property: IPv4 and IPv6 text round-trips', () => {
  fc.assert(fc.property(fc.ipV4(), (s) => Addr.must(s).toString() === s));
  fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (n) => Addr.must(Addr.fromV6(n).toString()).v6 === n));
});

test('property: a masked prefix contains exactly the addresses that share its first bits', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }), (a, b, len) => {
      const p = Prefix.of(Addr.fromV4(a), len).masked();
      const shift = 32 - len;
      const same = len === 0 || a >>> shift === b >>> shift;
      return p.contains(Addr.fromV4(b)) === same && p.contains(Addr.fromV4(a));
    }),
  );
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.integer({ min: 0, max: 128 }), (n, len) => {
      const m = maskAddr(Addr.fromV6(n), len);
      return Prefix.of(m, len).isMasked() && Prefix.of(Addr.fromV6(n), len).contains(m);
    }),
  );
});

test('netmask lengths, and non-contiguous masks refused', () => {
  assert.equal(maskLength(Addr.must('255.255.255.0')), 24);
  assert.equal(maskLength(Addr.must('0.0.0.0')), 0);
  assert.equal(maskLength(Addr.must('255.255.255.255')), 32);
  assert.equal(maskLength(Addr.must('255.255.192.0')), 18);
  assert.equal(maskLength(Addr.must('255.0.255.0')), undefined);
  assert.equal(maskLength(Addr.must('::')), undefined);
});

test('property: IPv4 is accepted exactly when ipaddr.js calls it four decimal octets (the hand-read fast path)', () => {
  const octet = fc.oneof(fc.integer({ min: 0, max: 300 }).map(String), fc.constantFrom('00', '01', '007', '0x1', '', '-1', '1e2', ' 1', '255', '256', '٣'));
  const text = fc.oneof(
    fc.array(octet, { minLength: 1, maxLength: 6 }).map((parts) => parts.join('.')),
    fc.constantFrom('default/web-0', 'k8s-node1', 'svc/default/web:http', '10.0.0.1 ', '10.0.0.1\n', '1.2.3.4.'),
    fc.string({ maxLength: 16 }),
  );
  fc.assert(
    fc.property(text, (t) => {
      const s = t.trim();
      if (s.includes(':')) return;
      assert.equal(Addr.parse(t).ok, ipaddr.IPv4.isValidFourPartDecimal(s), JSON.stringify(t));
      if (Addr.parse(t).ok) assert.equal(Addr.must(t).toString(), ipaddr.IPv4.parse(s).toString());
    }),
    { numRuns: 2000 },
  );
});
