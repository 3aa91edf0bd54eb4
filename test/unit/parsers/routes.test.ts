import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { Addr } from '../../../src/net/addr';
import { parseRoutes } from '../../../src/parsers/routes';
import type { RouteRecord } from '../../../src/parsers/types';
import { fixtureBody, withoutSrc } from './fixture-body';

/** The one record for a destination (and table, when several tables hold it). */
function find(rs: readonly RouteRecord[], dst: string, table = 'main', dev?: string): RouteRecord {
  const hits = rs.filter((r) => r.dst.toString() === dst && r.table === table && (dev === undefined || r.dev === dev));
  assert.equal(hits.length, 1, `expected one route ${dst} table ${table}${dev ? ` dev ${dev}` : ''}, found ${hits.length}`);
  return hits[0]!;
}

const one = (text: string, family: 4 | 6 = 4): RouteRecord => {
  const r = parseRoutes(text, family);
  assert.deepEqual(r.issues, []);
  assert.equal(r.records.length, 1);
  return r.records[0]!;
};

/** `lockedMetrics` is text-only: `ip -j` does not print `lock`. */
function comparable(records: readonly RouteRecord[]): unknown[] {
  return withoutSrc(records).map((r) => {
    const { lockedMetrics: _locked, ...rest } = r as { lockedMetrics?: unknown };
    return rest;
  });
}

describe('parseRoutes: iproute2 text and JSON', () => {
  test('the text and JSON forms of the same tables give the same records', () => {
    for (const [probe, text, json] of [
      ['routes4', 'lab-table-all', 'lab-table-all-json'],
      ['routes4', 'lab-table-all', 'lab-table-all-pretty-json'],
      ['routes4', 'lab-cache', 'lab-cache-json'],
      ['routes6', 'lab-table-all', 'lab-table-all-json'],
      ['routes6', 'lab-cache', 'lab-cache-json'],
    ] as const) {
      const family = probe === 'routes4' ? 4 : 6;
      const a = parseRoutes(fixtureBody(probe, text), family);
      const b = parseRoutes(fixtureBody(probe, json), family);
      assert.equal(a.format, 'iproute2');
      assert.equal(b.format, 'json');
      assert.deepEqual(a.issues, []);
      assert.deepEqual(b.issues, []);
      assert.ok(a.records.length > 0);
      assert.deepEqual(comparable(a.records), comparable(b.records), `${probe}/${text} vs ${json}`);
    }
  });

  test('metric locks are kept from the text form only (ip -j drops them)', () => {
    const text = parseRoutes(fixtureBody('routes4', 'lab-table-all'), 4).records;
    const json = parseRoutes(fixtureBody('routes4', 'lab-table-all-json'), 4).records;
    assert.deepEqual(find(text, '10.20.0.0/16', '100').lockedMetrics, ['mtu']);
    assert.deepEqual(find(text, '10.21.0.0/16').lockedMetrics, ['rto_min', 'congctl']);
    assert.equal(find(json, '10.20.0.0/16', '100').lockedMetrics, undefined);
  });

  test('`ip -o` (one line per route, hops joined by a backslash) reads like the normal form', () => {
    const a = parseRoutes(fixtureBody('routes4', 'lab-table-all'), 4);
    const o = parseRoutes(fixtureBody('routes4', 'lab-table-all-oneline'), 4);
    assert.deepEqual(o.issues, []);
    assert.deepEqual(withoutSrc(o.records), withoutSrc(a.records));
  });

  test('`ip -d` adds unicast/table main/proto boot/scope global and nh_info lines without changing the routes', () => {
    const d = parseRoutes(fixtureBody('routes4', 'lab-table-all-details'), 4);
    assert.deepEqual(d.issues, []);
    const plain = parseRoutes(fixtureBody('routes4', 'lab-table-all'), 4).records;
    assert.equal(d.records.length, plain.length);
    const grouped = find(d.records, '10.30.0.0/16');
    assert.equal(grouped.nhid, 12);
    assert.deepEqual(grouped.nexthops?.map((h) => `${h.gateway} ${h.dev} ${h.weight}`), ['10.0.0.1 veth0 1', '10.0.1.1 veth2 1']);
    // `nh_info ... scope global proto unspec` must not be read as the route's own scope/protocol.
    assert.equal(grouped.protocol, 'boot');
    assert.equal(find(d.records, '10.31.0.0/16').scope, 'global');
  });

  test('every route type, tables, and IPv4 and IPv6 mixed in one `table all` output', () => {
    const rs = parseRoutes(fixtureBody('routes4', 'lab-table-all'), 4).records;
    assert.deepEqual(new Set(rs.map((r) => r.type)), new Set(['unicast', 'throw', 'prohibit', 'unreachable', 'blackhole', 'local', 'broadcast', 'anycast', 'multicast']));
    assert.equal(find(rs, '10.96.0.0/16', '100').type, 'throw');
    assert.equal(find(rs, '10.97.0.0/16').type, 'prohibit');
    assert.equal(find(rs, '10.98.0.0/16').metric, 5);
    assert.deepEqual([find(rs, '10.0.0.255/32', 'local').type, find(rs, '127.0.0.0/8', 'local').type], ['broadcast', 'local']);
    const v6 = rs.filter((r) => r.family === 6);
    assert.equal(v6.length, 28);
    const lo = find(v6, '::1/128', 'local');
    assert.deepEqual([lo.type, lo.protocol, lo.metric, lo.pref], ['local', 'kernel', 0, 'medium']);
    assert.equal(find(v6, 'ff00::/8', 'local', 'veth0').type, 'multicast');
    assert.equal(find(v6, 'fe80::/64', 'main', 'veth0').metric, 256);
    // IPv6 `default` takes its family from the gateway.
    const def6 = find(v6, '::/0');
    assert.deepEqual([def6.gateway?.toString(), def6.pref], ['2001:db8:1::1', 'high']);
  });

  test('a multipath route is one record with its next hops and no top-level gateway or dev', () => {
    const rs = parseRoutes(fixtureBody('routes4', 'lab-table-all'), 4).records;
    const ecmp = rs.find((r) => r.dst.toString() === '0.0.0.0/0' && r.metric === 200)!;
    assert.equal(ecmp.gateway, undefined);
    assert.equal(ecmp.dev, undefined);
    assert.equal(ecmp.protocol, 'static');
    assert.deepEqual(withoutSrc([ecmp])[0], {
      kind: 'route', family: 4, type: 'unicast', dst: '0.0.0.0/0', table: 'main', protocol: 'static', metric: 200, flags: [],
      nexthops: [
        { gateway: '10.0.0.1', dev: 'veth0', weight: 1, flags: [] },
        { gateway: '10.0.1.1', dev: 'veth2', weight: 2, flags: [] },
      ],
    });
    assert.deepEqual(find(rs, '10.44.0.0/16').nexthops?.map((h) => h.flags), [['linkdown'], []]);
    const v6 = find(rs, '2001:db8:100::/48');
    assert.deepEqual([v6.family, v6.nexthops?.length, v6.nexthops?.[1]?.gateway?.toString()], [6, 2, '2001:db8:2::1']);
  });

  test('next-hop objects, IPv6 next hops of IPv4 routes, onlink/linkdown, tos, realms, metrics', () => {
    const rs = parseRoutes(fixtureBody('routes4', 'lab-table-all'), 4).records;
    const single = find(rs, '10.31.0.0/16');
    assert.deepEqual([single.nhid, single.gateway?.toString(), single.dev], [10, '10.0.0.1', 'veth0']);
    const v6hop = find(rs, '10.40.0.0/16');
    assert.deepEqual([v6hop.family, v6hop.gateway?.family, v6hop.gateway?.toString()], [4, 6, 'fe80::1']);
    assert.deepEqual(find(rs, '10.23.0.0/16').flags, ['onlink']);
    assert.deepEqual(find(rs, '192.168.50.0/24').flags, ['linkdown']);
    assert.equal(find(rs, '10.24.0.0/16').tos, '0x10');
    assert.deepEqual(find(rs, '10.41.0.0/16').flow, { to: '5' });
    assert.deepEqual(find(rs, '10.21.0.0/16').metrics, { mtu: '1450', window: '65535', hoplimit: '64', initcwnd: '10', features: 'ecn', rto_min: '200ms', quickack: '1', congctl: 'cubic' });
    assert.equal(find(rs, '10.22.0.5/32').prefsrc?.toString(), '10.0.0.2');
    assert.equal(find(rs, '10.27.0.0/16').protocol, 'babel');
    const expiring = find(rs, '2001:db8:300::/48');
    assert.equal(expiring.expires, 86399);
  });

  test('cached exceptions: the `cache` continuation line marks the IPv4 route', () => {
    const [v4, v6] = parseRoutes(fixtureBody('routes4', 'lab-cache'), 4).records;
    assert.deepEqual([v4!.dst.toString(), v4!.cache, v4!.expires, v4!.metrics], ['10.70.2.2/32', [], 363, { mtu: '1300' }]);
    assert.equal(v4!.src.line, 1);
    assert.deepEqual([v6!.family, v6!.cache, v6!.metrics], [6, undefined, { mtu: '1300' }]);
    const flagged = one('10.1.2.3 via 10.0.0.1 dev eth0 \n    cache <redirected,notify> expires 290sec mtu 1400 \n');
    assert.deepEqual([flagged.cache, flagged.expires], [['redirected', 'notify'], 290]);
  });

  test('family hint: only for lines whose addresses do not tell the family', () => {
    const wg = 'default dev wg0 table 51820 scope link \n';
    assert.equal(one(wg, 4).dst.toString(), '0.0.0.0/0');
    assert.deepEqual([one(wg, 6).dst.toString(), one(wg, 6).family], ['::/0', 6]);
    assert.equal(one('blackhole default\n', 6).dst.toString(), '::/0');
    assert.equal(one('blackhole default\n', 4).type, 'blackhole');
    // `pref` is IPv6-only, so the kernel's IPv6 reject default is IPv6 even in an IPv4 probe.
    const null6 = one('unreachable default dev lo proto kernel metric 4294967295 error -101 pref medium\n', 4);
    assert.deepEqual([null6.family, null6.dst.toString(), null6.metric, null6.error], [6, '::/0', 4294967295, -101]);
    // New iproute2 prints rta_error as unsigned.
    assert.equal(one('unreachable 2001:db8::/32 dev lo metric 1024 error 4294967183 pref medium\n').error, -113);
    // An address anywhere wins over the hint.
    assert.equal(one('default via 10.0.0.1 dev eth0\n', 6).family, 4);
    assert.equal(one('default from 2001:db8::/56 dev ppp0 metric 1\n', 4).family, 6);
  });

  test('bare host addresses are /32 and /128; `0/N` keeps its length', () => {
    assert.equal(one('10.1.2.3 dev eth0 scope link\n').dst.toString(), '10.1.2.3/32');
    assert.equal(one('fe80::1 dev eth0 metric 256\n', 6).dst.toString(), 'fe80::1/128');
    assert.equal(one('unreachable 0/8 dev lo\n').dst.toString(), '0.0.0.0/8');
  });

  test('flags, types and attributes this lab could not create', () => {
    const nat = one('nat 10.25.0.0/16 via 10.0.0.1 table local\n');
    assert.deepEqual([nat.type, nat.table, nat.gateway?.toString()], ['nat', 'local', '10.0.0.1']);
    assert.equal(one('anycast 10.28.0.1 dev eth0 table local proto kernel scope link\n').type, 'anycast');
    assert.equal(one('multicast 224.1.0.0/16 dev eth0 table local proto boot scope link\n').type, 'multicast');
    assert.deepEqual(one('10.5.0.0/16 via 10.0.0.1 dev eth0 dead onlink pervasive offload notify rt_trap\n').flags, ['dead', 'onlink', 'pervasive', 'offload', 'notify', 'rt_trap']);
    const multi = one('default proto static metric 100 \n\tnexthop via 10.0.0.1 dev eth0 weight 1 dead linkdown \n\tnexthop via inet6 fe80::1 dev eth1 weight 3 onlink \n');
    assert.deepEqual(withoutSrc([multi])[0], {
      kind: 'route', family: 4, type: 'unicast', dst: '0.0.0.0/0', table: 'main', protocol: 'static', metric: 100, flags: [],
      nexthops: [
        { gateway: '10.0.0.1', dev: 'eth0', weight: 1, flags: ['dead', 'linkdown'] },
        { gateway: 'fe80::1', dev: 'eth1', weight: 3, flags: ['onlink'] },
      ],
    });
    // `encap ip ... src X tos Y` belongs to the tunnel, not to the route's prefsrc/tos.
    const encap = one('10.9.0.0/16  encap ip id 100 src 10.0.0.1 dst 10.0.0.2 ttl 64 tos 0 csum via 10.0.0.254 dev eth0 \n');
    assert.deepEqual([encap.encap, encap.prefsrc, encap.tos, encap.gateway?.toString(), encap.dev], ['ip', undefined, undefined, '10.0.0.254', 'eth0']);
    assert.deepEqual(one('10.9.0.0/16 via 10.0.0.1 dev eth0 realms 3/4\n').flow, { from: '3', to: '4' });
    assert.deepEqual(one('10.9.0.0/16 via 10.0.0.1 dev eth0 mtu lock 1400 advmss 1360 rto_min lock 1.5s features ecn 0x8\n').metrics, { mtu: '1400', advmss: '1360', rto_min: '1.5s', features: 'ecn 0x8' });
    assert.equal(one('Deleted 10.9.0.0/16 via 10.0.0.1 dev eth0\n').dst.toString(), '10.9.0.0/16');
  });

  test('unknown keywords are skipped, not issues; CRLF and trailing spaces are fine', () => {
    const r = one('10.9.0.0/16 via 10.0.0.1 dev eth0 proto static shinynewflag frobnicate 7 metric 9  \r\n');
    assert.deepEqual([r.gateway?.toString(), r.metric, r.protocol], ['10.0.0.1', 9, 'static']);
    assert.equal(r.src.raw, '10.9.0.0/16 via 10.0.0.1 dev eth0 proto static shinynewflag frobnicate 7 metric 9  ');
  });

  test('a broken line is an issue with its line number; its neighbours are kept', () => {
    const text = [
      'default via 10.0.0.1 dev eth0', // 1
      'bogus line here', // 2
      '10.1.0.0/16 via 10.0.0.999 dev eth0', // 3
      '10.2.0.0/16 dev eth0 metric', // 4
      '10.3.0.0/16 dev eth0 metric 5', // 5
      '', // 6
      'default proto static metric 100', // 7
      '\tnexthop via 10.0.0.1 dev eth0 weight 1', // 8
      '\tnexthop via 10.0.0.x dev eth1 weight 1', // 9
      '\tnexthop via 10.0.0.3 dev eth2 weight 1', // 10
      'unreachable', // 11
      '\tnexthop via 10.0.0.4 dev eth0 weight 1', // 12
      '10.4.0.0/16 dev eth0', // 13
    ].join('\n');
    const r = parseRoutes(text, 4);
    assert.deepEqual(
      r.issues.map((i) => [i.line, i.message]),
      [
        [2, 'expected a destination (prefix, address or "default"), got "bogus"'],
        [3, 'gateway "10.0.0.999" is not an IP address'],
        [4, '`metric` at the end of the line needs a value'],
        [9, 'gateway "10.0.0.x" is not an IP address'],
        [11, 'expected a destination after "unreachable"'],
        [12, '`nexthop` line of a route line that could not be read'],
      ],
    );
    assert.deepEqual(r.records.map((x) => `${x.src.line} ${x.dst}`), ['1 0.0.0.0/0', '5 10.3.0.0/16', '7 0.0.0.0/0', '13 10.4.0.0/16']);
    // The unreadable hop is reported (not kept half-read); the route keeps its other hops.
    assert.deepEqual(r.records[2]!.nexthops?.map((h) => `${h.gateway} ${h.dev}`), ['10.0.0.1 eth0', '10.0.0.3 eth2']);
  });

  test('a garbage line inside a multipath block is an issue and the block continues', () => {
    const text = 'default proto static metric 100\n\tnexthop via 10.0.0.1 dev eth0 weight 1\n%% pasted junk\n\tnexthop via 10.0.0.2 dev eth1 weight 1\n10.0.0.0/8 dev eth0\n';
    const r = parseRoutes(text, 4);
    assert.deepEqual(r.issues.map((i) => i.line), [3]);
    assert.deepEqual(r.records.map((x) => x.src.line), [1, 5]);
    assert.deepEqual(r.records[0]!.nexthops?.map((h) => h.dev), ['eth0', 'eth1']);
  });

  test('a continuation line with no route before it is an issue', () => {
    const r = parseRoutes('\tnexthop via 10.0.0.1 dev eth0 weight 1\n10.0.0.0/8 dev eth0\n', 4);
    assert.deepEqual(r.issues.map((i) => [i.line, i.message]), [[1, '`nexthop` continuation line without a route line before it']]);
    assert.equal(r.records.length, 1);
  });

  test('JSON: `multipath` as well as `nexthops`, metrics in the text form, broken elements as issues', () => {
    const json = `[
  {"dst":"10.1.0.0/16","protocol":"static","flags":[],"multipath":[{"gateway":"10.0.0.1","dev":"eth0","weight":1,"flags":["dead"]}]},
  {"dst":"10.2.0.0/16","gateway":"10.0.0.1","dev":"eth0","flags":[],"metrics":[{"mtu":1400,"rto_min":1500,"rtt":20,"ecn":null,"congestion":"bbr"}]},
  42,
  {"type":"weird","dst":"10.3.0.0/16","flags":[]},
  {"dst":"default","dev":"wg0","table":"51820","scope":"link","flags":[]}
]`;
    const r = parseRoutes(json, 6);
    assert.equal(r.format, 'json');
    assert.deepEqual(r.issues.map((i) => [i.line, i.message]), [[4, 'expected a route object'], [5, 'unknown route type "weird"']]);
    assert.deepEqual(r.records[0]!.nexthops, [{ gateway: Addr.must('10.0.0.1'), dev: 'eth0', weight: 1, flags: ['dead'] }]);
    assert.deepEqual(r.records[1]!.metrics, { mtu: '1400', rto_min: '1.5s', rtt: '20ms', features: 'ecn', congctl: 'bbr' });
    assert.deepEqual([r.records[2]!.family, r.records[2]!.dst.toString(), r.records[2]!.src.line], [6, '::/0', 6]);
    const broken = parseRoutes('[{"dst":"10.0.0.0/8",}]', 4);
    assert.equal(broken.records.length, 0);
    assert.equal(broken.issues.length, 1);
    assert.match(broken.issues[0]!.message, /^not valid JSON/);
    // `ip -j -p` cut short or edited by hand: the issue points at the line where it stops being JSON,
    // with the column (Node 20's own message gives no position for most errors).
    const pretty = ['[ {', '        "dst": "10.0.0.0/8",', '        "dev": "eth0"', '    },{', '        "dst": "default"', '        "gateway": "10.0.0.1"', '    } ]'].join('\n');
    const bad = parseRoutes(pretty, 4).issues;
    assert.equal(bad.length, 1);
    assert.equal(bad[0]!.line, 6, JSON.stringify(bad));
    assert.equal(bad[0]!.raw, '        "gateway": "10.0.0.1"');
    assert.match(bad[0]!.message, /^not valid JSON: .* \(line 6, column 9\)$/);
    const cut = parseRoutes(pretty.split('\n').slice(0, 5).join('\n'), 4).issues;
    assert.deepEqual([cut[0]!.line, cut[0]!.raw], [5, '        "dst": "default"'], JSON.stringify(cut));
    // V8 quotes the text around the error (`..."t",\n"dev":}]" is not valid JSON`): left out, the line and column say where.
    const value = parseRoutes('[\n{"dst":"default",\n"dev":}]', 4).issues[0]!;
    assert.deepEqual([value.line, value.raw, value.message], [3, '"dev":}]', "not valid JSON: Unexpected token '}' (line 3, column 7)"]);
  });

  test('empty input', () => {
    assert.deepEqual(parseRoutes('', 4), { format: 'empty', records: [], issues: [] });
    assert.deepEqual(parseRoutes('\n  \n', 6), { format: 'empty', records: [], issues: [] });
  });

  test('BusyBox `ip route` is recognised (no proto, double spaces)', () => {
    const bb = parseRoutes(fixtureBody('routes4', 'lab-busybox-ip-route-table-all'), 4);
    assert.equal(bb.format, 'busybox');
    assert.deepEqual(bb.issues, []);
    assert.equal(find(bb.records, '10.98.0.0/16').metric, 5);
    assert.equal(parseRoutes(fixtureBody('routes6', 'public-frr-1082-old-unreachable'), 6).format, 'iproute2');
  });

  test('old iproute2: double spaces, multipath with onlink hops', () => {
    const rs = parseRoutes(fixtureBody('routes4', 'public-specinfra-288-old-multipath'), 4).records;
    const r = find(rs, '10.2.1.2/32');
    assert.deepEqual([r.protocol, r.metric, r.nexthops?.length, r.nexthops?.[3]?.dev, r.nexthops?.[3]?.flags], ['zebra', 20, 4, 'swp4', ['onlink']]);
    assert.equal(find(rs, '10.4.1.128/25').prefsrc?.toString(), '10.4.1.129');
  });

  test('real-world IPv6: source-specific routes and kernel unreachable routes', () => {
    const rs = parseRoutes(fixtureBody('routes6', 'public-systemd-9745'), 6).records;
    const ss = rs[0]!;
    assert.deepEqual([ss.type, ss.dst.toString(), ss.from?.toString(), ss.error], ['unreachable', '::/0', '2a02:e840:303:3900::/56', -113]);
    const ra = rs.at(-1)!;
    assert.deepEqual([ra.protocol, ra.expires, ra.metrics], ['ra', 1683, { mtu: '1492' }]);
  });
});

describe('parseRoutes: route -n and netstat -rn', () => {
  test('net-tools `route -n`: headers skipped, reject rows unreachable, metric kept, table main', () => {
    const r = parseRoutes(fixtureBody('routes4', 'lab-net-tools-route-n'), 4);
    assert.equal(r.format, 'net-tools');
    assert.deepEqual(r.issues, []);
    assert.equal(r.records.length, 21);
    assert.equal(r.records[0]!.src.line, 3);
    const def = r.records[0]!;
    assert.deepEqual(withoutSrc([def])[0], { kind: 'route', family: 4, type: 'unicast', dst: '0.0.0.0/0', table: 'main', metric: 100, gateway: '10.0.0.1', dev: 'veth0', flags: [], rtFlags: 'UG' });
    const reject = find(r.records, '10.98.0.0/16');
    assert.deepEqual([reject.type, reject.metric, reject.gateway, reject.dev, reject.rtFlags], ['unreachable', 5, undefined, undefined, '!']);
    assert.equal(find(r.records, '10.22.0.5/32').rtFlags, 'UH');
  });

  test('the same table from net-tools, BusyBox and netstat gives the same routes', () => {
    const key = (rs: readonly RouteRecord[]) => rs.map((x) => `${x.type} ${x.dst} ${x.gateway ?? '-'} ${x.dev ?? '-'}`);
    const nt = parseRoutes(fixtureBody('routes4', 'lab-net-tools-route-n'), 4);
    const bb = parseRoutes(fixtureBody('routes4', 'lab-busybox-route-n'), 4);
    const ns = parseRoutes(fixtureBody('routes4', 'lab-net-tools-netstat-rn'), 4);
    const nee = parseRoutes(fixtureBody('routes4', 'lab-net-tools-route-nee'), 4);
    assert.equal(bb.format, 'busybox');
    assert.deepEqual(key(bb.records), key(nt.records));
    assert.deepEqual(key(ns.records), key(nt.records));
    assert.deepEqual(withoutSrc(nee.records), withoutSrc(nt.records));
    // netstat -rn has no Metric column.
    assert.equal(ns.records[0]!.metric, undefined);
  });

  test('IPv6 tables: net-tools and BusyBox, -1 metric, `!n` reject rows', () => {
    const nt = parseRoutes(fixtureBody('routes6', 'lab-net-tools-route-A-inet6'), 6);
    const bb = parseRoutes(fixtureBody('routes6', 'lab-busybox-route-A-inet6'), 6);
    assert.deepEqual([nt.format, bb.format], ['net-tools', 'busybox']);
    assert.deepEqual(withoutSrc(bb.records).map((x) => ({ ...(x as object), rtFlags: undefined })), withoutSrc(nt.records).map((x) => ({ ...(x as object), rtFlags: undefined })));
    const nul = nt.records[1]!;
    assert.deepEqual([nul.type, nul.dst.toString(), nul.metric, nul.dev], ['unreachable', '::/0', 4294967295, 'lo']);
    const gw = find(nt.records, '::/0', 'main', 'veth0');
    assert.equal(gw.gateway?.toString(), '2001:db8:1::1');
  });

  test('non-contiguous masks, a name instead of an address and rows before the header are issues', () => {
    const text = [
      '10.9.0.0        0.0.0.0         255.255.0.0     U     0      0        0 eth9', // 1: no header yet
      'Kernel IP routing table', // 2
      'Destination     Gateway         Genmask         Flags Metric Ref    Use Iface', // 3
      'default         _gateway        0.0.0.0         UG    100    0        0 eth0', // 4
      '10.1.0.0        0.0.0.0         255.0.255.0     U     0      0        0 eth0', // 5
      '10.2.0.0        *               255.255.0.0     U     0      0        0 eth1', // 6
      'default         10.0.0.1        0.0.0.0         UG    0      0        0 eth0', // 7
      '10.3.0.0        0.0.0.0         255.255.0.0     U     0      0', // 8
    ].join('\n');
    const r = parseRoutes(text, 4);
    assert.deepEqual(
      r.issues.map((i) => [i.line, i.message]),
      [
        [1, 'expected the column header (`Destination Gateway Genmask Flags ...`) before route rows'],
        [4, 'route printed names instead of addresses: gateway `_gateway` cannot be resolved from the capture; the route is kept with its gateway unresolved (the engine looks the name up in `arp -a`); capture with `route -n` (or `netstat -rn`)'],
        [5, 'Genmask 255.0.255.0 is not a contiguous netmask (Linux routes are prefixes)'],
        [8, 'expected 8 columns (dst gateway genmask flags metric ref use iface), got 6'],
      ],
    );
    assert.deepEqual(r.records.map((x) => `${x.src.line} ${x.dst} ${x.gateway ?? x.unresolvedGateway?.name ?? '-'} ${x.dev}`), ['4 0.0.0.0/0 _gateway eth0', '6 10.2.0.0/16 - eth1', '7 0.0.0.0/0 10.0.0.1 eth0']);
  });

  test('a redacted paste keeps the readable rows', () => {
    const r = parseRoutes(fixtureBody('routes4', 'public-flannel-134-netstat-rn-redacted'), 4);
    assert.deepEqual(r.issues.map((i) => i.line), [3, 6, 7]);
    assert.deepEqual(r.records.map((x) => x.dst.toString()), ['0.0.0.0/0', '10.244.0.0/16', '192.168.1.0/24', '192.168.1.1/32']);
  });
});

describe('parseRoutes: `route` and `netstat -r` without -n (names for addresses)', () => {
  /** The records and issues of a fixture, each route as `dst gateway dev flags`. */
  const rows = (rs: readonly RouteRecord[]) => rs.map((x) => `${x.src.line} ${x.type} ${x.dst} ${x.gateway ?? (x.unresolvedGateway ? `name:${x.unresolvedGateway.name}` : '-')} ${x.dev ?? '-'} ${x.rtFlags}`);

  test('a gateway printed as a name keeps the route, its gateway unresolved; the line says why and how to fix it', () => {
    const r = parseRoutes(fixtureBody('routes4', 'lab-net-tools-route-names'), 4);
    assert.equal(r.format, 'net-tools');
    const cut = find(r.records, '10.244.2.0/24');
    assert.deepEqual(withoutSrc([cut])[0], { kind: 'route', family: 4, type: 'unicast', dst: '10.244.2.0/24', table: 'main', metric: 0, dev: 'eth0', flags: [], rtFlags: 'UG', unresolvedGateway: { name: 'qcloud-offline-', maybeTruncated: true } });
    assert.equal(cut.gateway, undefined);
    const issue = r.issues.find((i) => i.line === cut.src.line)!;
    assert.equal(issue.message, 'route printed names instead of addresses: gateway `qcloud-offline-` (maybe cut to 15 characters) cannot be resolved from the capture; the route is kept with its gateway unresolved (the engine looks the name up in `arp -a`); capture with `route -n` (or `netstat -rn`)');
    // Shorter names fit the column: not cut.
    assert.deepEqual(find(r.records, '0.0.0.0/0').unresolvedGateway, { name: '_gateway', maybeTruncated: false });
    assert.deepEqual(find(r.records, '10.244.1.0/24').unresolvedGateway, { name: 'k8s-node-02', maybeTruncated: false });
    assert.match(r.issues.find((i) => i.line === find(r.records, '10.244.3.0/24').src.line)!.message, /^route printed names instead of addresses: gateway `gateway` cannot be resolved/);
    // An address is still an address; `0.0.0.0` and a reject row's `-` are no gateway, and say nothing.
    assert.equal(find(r.records, '10.244.4.0/24').gateway?.toString(), '10.0.0.14');
    for (const dst of ['10.0.0.0/24', '10.99.0.0/16', '10.244.0.0/24']) {
      const x = find(r.records, dst);
      assert.deepEqual([x.gateway, x.unresolvedGateway], [undefined, undefined], dst);
      assert.ok(!r.issues.some((i) => i.line === x.src.line), dst);
    }
  });

  test('flag G still decides: every route kept with an unresolved gateway is a gateway route, never on-link', () => {
    for (const [probe, name, family] of [['routes4', 'lab-net-tools-route-names', 4], ['routes4', 'lab-busybox-route-names', 4], ['routes4', 'public-azure-imds-netstat-r', 4], ['routes4', 'public-karmic-link-local-route', 4], ['routes6', 'lab-net-tools-route-A-inet6-names', 6]] as const) {
      const r = parseRoutes(fixtureBody(probe, name), family);
      const named = r.records.filter((x) => x.unresolvedGateway);
      assert.ok(named.length > 0, name);
      for (const x of named) {
        assert.match(x.rtFlags!, /G/, `${name} line ${x.src.line}`);
        assert.equal(x.gateway, undefined);
        assert.ok(r.issues.some((i) => i.line === x.src.line && i.message.includes(`gateway \`${x.unresolvedGateway!.name}\``)), `${name} line ${x.src.line} has its issue`);
      }
    }
  });

  test('`route` and `route -n` of one table: the same routes, names where -n has addresses, destination names left out', () => {
    const names = parseRoutes(fixtureBody('routes4', 'lab-net-tools-route-names'), 4);
    const numeric = parseRoutes(fixtureBody('routes4', 'lab-net-tools-route-names-n'), 4);
    assert.deepEqual(numeric.issues, []);
    // /etc/hosts of the lab: what each name stands for.
    const hosts: Record<string, string> = { _gateway: '10.0.0.1', 'k8s-node-02': '10.0.0.11', 'qcloud-offline-': '10.0.0.12', gateway: '10.0.0.13' };
    const kept = new Set(names.records.map((x) => x.src.line));
    for (const n of numeric.records) {
      if (!kept.has(n.src.line)) continue;
      const x = names.records.find((y) => y.src.line === n.src.line)!;
      assert.deepEqual([x.type, x.dst.toString(), x.dev, x.metric, x.rtFlags], [n.type, n.dst.toString(), n.dev, n.metric, n.rtFlags], `line ${n.src.line}`);
      assert.equal(x.gateway?.toString() ?? (x.unresolvedGateway && hosts[x.unresolvedGateway.name]), n.gateway?.toString(), `line ${n.src.line}`);
    }
    // Lines 5 and 6 name their destinations (`_gateway` UH, `kube-svc` from /etc/networks): issues, with what they said.
    assert.deepEqual(numeric.records.filter((n) => !kept.has(n.src.line)).map((n) => `${n.src.line} ${n.dst}`), ['5 10.0.0.1/32', '6 10.96.0.0/12']);
    const dropped = names.issues.filter((i) => i.line === 5 || i.line === 6).map((i) => i.message);
    assert.deepEqual(dropped, [
      'route printed names instead of addresses: destination `_gateway` is a host or network name the capture cannot resolve, so this route (_gateway/32 dev eth0) cannot be placed in the routing table and is left out; lookups it would have won fall to other routes; capture with `route -n` (or `netstat -rn`)',
      'route printed names instead of addresses: destination `kube-svc` is a host or network name the capture cannot resolve, so this route (kube-svc/12 via _gateway dev eth0) cannot be placed in the routing table and is left out; lookups it would have won fall to other routes; capture with `route -n` (or `netstat -rn`)',
    ]);
  });

  test('`link-local` is 169.254.0.0 (a well-known /etc/networks name, recorded as such); `default` is 0.0.0.0 with the Genmask\'s length', () => {
    const names = parseRoutes(fixtureBody('routes4', 'public-karmic-link-local-route'), 4);
    const numeric = parseRoutes(fixtureBody('routes4', 'public-karmic-link-local-route-n'), 4);
    assert.deepEqual(names.records.map((x) => x.dst.toString()), numeric.records.map((x) => x.dst.toString()));
    const ll = find(names.records, '169.254.0.0/16');
    assert.deepEqual(ll.dstName, { name: 'link-local', meaning: 'well-known' });
    assert.equal(find(numeric.records, '169.254.0.0/16').dstName, undefined);
    assert.deepEqual(names.issues.map((i) => i.line), [5]); // only `fritz.box`, the router
    assert.deepEqual(find(names.records, '0.0.0.0/0').unresolvedGateway, { name: 'fritz.box', maybeTruncated: false });
    assert.equal(find(numeric.records, '0.0.0.0/0').gateway?.toString(), '192.168.178.1');
    // BusyBox prints `default` for 0.0.0.0/1 too; net-tools 2.10 prints 0.0.0.0. Both are 0.0.0.0/1.
    for (const name of ['lab-busybox-route-half-default', 'lab-net-tools-route-half-default']) {
      const r = parseRoutes(fixtureBody('routes4', name), 4);
      assert.equal(r.records[0]!.dst.toString(), '0.0.0.0/1', name);
      assert.equal(r.records[0]!.unresolvedGateway?.name, 'qcloud-offline-', name);
    }
    // The cut name as a host route's destination is an issue, never an address.
    assert.match(parseRoutes(fixtureBody('routes4', 'lab-net-tools-route-half-default'), 4).issues[1]!.message, /destination `qcloud-offline-` \(maybe cut to 15 characters\) is a host or network name/);
  });

  test('`*` (BusyBox and old net-tools) is no gateway: such tables read like their -n form', () => {
    const r = parseRoutes(fixtureBody('routes4', 'public-code-maven-route'), 4);
    assert.deepEqual(r.issues, []);
    assert.deepEqual(rows(r.records), ['3 unicast 0.0.0.0/0 10.0.2.2 eth0 UG', '4 unicast 10.0.2.0/24 - eth0 U', '5 unicast 10.0.3.0/24 - lxcbr0 U']);
  });

  test('`netstat -r` and BusyBox `route`/`netstat -r` without -n read like `route`', () => {
    // Only net-tools names destinations: leave out the rows it names (BusyBox keeps them as addresses).
    const key = (rs: readonly RouteRecord[]) => rs.filter((x) => !['10.0.0.1/32', '10.96.0.0/12'].includes(x.dst.toString())).map((x) => `${x.type} ${x.dst} ${x.gateway ?? x.unresolvedGateway?.name ?? '-'} ${x.dev ?? '-'}`);
    const route = parseRoutes(fixtureBody('routes4', 'lab-net-tools-route-names'), 4);
    for (const name of ['lab-net-tools-netstat-r-names', 'lab-busybox-route-names', 'lab-busybox-netstat-r-names']) {
      const r = parseRoutes(fixtureBody('routes4', name), 4);
      assert.deepEqual(key(r.records), key(route.records), name);
      assert.deepEqual(r.issues.filter((i) => i.message.includes('gateway `')).length, r.records.filter((x) => x.unresolvedGateway).length, name);
    }
    // BusyBox names gateways only: 10.0.0.1, 10.96.0.0 and 169.254.0.0 stay addresses (net-tools: `_gateway`, `kube-svc`, `link-local`).
    const bb = parseRoutes(fixtureBody('routes4', 'lab-busybox-route-names'), 4);
    assert.equal(bb.format, 'busybox'); // its reject row prints `*` for gateway and interface
    assert.deepEqual([find(bb.records, '10.0.0.1/32').rtFlags, find(bb.records, '10.96.0.0/12').unresolvedGateway?.name, find(bb.records, '169.254.0.0/16').dstName], ['UH', '_gateway', undefined]);
    assert.equal(find(route.records, '169.254.0.0/16').dstName?.name, 'link-local');
  });

  test('IPv6: `[::]` is no next hop, `[::]/0` the default route, names are kept uncut or reported with their length', () => {
    const r = parseRoutes(fixtureBody('routes6', 'lab-net-tools-route-A-inet6-names'), 6);
    const ns = parseRoutes(fixtureBody('routes6', 'lab-net-tools-netstat-r6-names'), 6);
    assert.deepEqual(withoutSrc(ns.records), withoutSrc(r.records));
    const def = find(r.records, '::/0', 'main', 'eth0');
    assert.deepEqual([def.gateway, def.unresolvedGateway, def.rtFlags], [undefined, { name: 'v6-gateway', maybeTruncated: false }, 'UG']);
    const onLink = find(r.records, 'fd00:0:0:1::/64');
    assert.deepEqual([onLink.gateway, onLink.unresolvedGateway], [undefined, undefined]);
    assert.deepEqual(r.issues.map((i) => i.line), [3, 5, 9]);
    assert.match(r.issues[0]!.message, /destination `v6-gateway` is a host or network name .* \(v6-gateway\/128 dev eth0\) .*capture with `route -n -A inet6`/);
    assert.match(r.issues[1]!.message, /\(v6-pods-99\/64 via v6-gateway dev eth0\)/);
  });

  test('what is neither an address nor a name stays an issue, not a name', () => {
    const head = 'Destination     Gateway         Genmask         Flags Metric Ref    Use Iface';
    const r = parseRoutes([head, '10.1.0.0        %%x             255.255.0.0     UG    0      0        0 eth0', '%%y            0.0.0.0         255.255.0.0     U     0      0        0 eth0', '10.3.0.0        10.0.0.300      255.255.0.0     UG    0      0        0 eth0'].join('\n'), 4);
    assert.deepEqual(r.records, []);
    assert.deepEqual(r.issues.map((i) => i.message), ['gateway "%%x" is neither an IP address nor a host name', 'destination "%%y" is not an IPv4 address', 'gateway "10.0.0.300" is neither an IP address nor a host name']);
  });
});

describe('parseRoutes: robustness', () => {
  test('address reading agrees with Addr.parse for any destination text', () => {
    const v6ish = fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF::.%'.split('')), maxLength: 24 });
    const v4ish = fc.array(fc.oneof(fc.nat(300).map(String), fc.constantFrom('00', '01', '', '256')), { minLength: 1, maxLength: 5 }).map((a) => a.join('.'));
    fc.assert(
      fc.property(fc.oneof(v6ish, v4ish), (s) => {
        fc.pre(s !== '' && s !== 'default' && !s.startsWith('0/'));
        const ref = Addr.parse(s);
        const r = parseRoutes(`${s} dev x\n`, 6);
        const got = r.records[0]?.dst;
        if (!ref.ok) return got === undefined && r.issues.length === 1;
        return got !== undefined && got.addr.equals(ref.value) && got.length === ref.value.bits;
      }),
      { numRuns: 3000 },
    );
  });

  test('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.constantFrom<4 | 6>(4, 6), (s, f) => {
        const r = parseRoutes(s, f);
        return Array.isArray(r.records) && Array.isArray(r.issues);
      }),
      { numRuns: 500 },
    );
  });

  test('a table printed with names keeps every route of its -n form, each named gateway unresolved and said so', () => {
    const head = ['Kernel IP routing table', 'Destination     Gateway         Genmask         Flags Metric Ref    Use Iface'];
    const dotted = (len: number) => Addr.fromV4(len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0).toString();
    const row = (dst: string, gw: string, len: number, flags: string, metric: number) => `${dst.padEnd(15)} ${gw.padEnd(15)} ${dotted(len).padEnd(15)} ${flags.padEnd(5)} ${String(metric).padEnd(6)} 0        0 eth0`;
    fc.assert(
      fc.property(
        fc.array(fc.record({ a: fc.integer({ min: 1, max: 223 }), len: fc.integer({ min: 8, max: 32 }), gw: fc.option(fc.integer({ min: 1, max: 254 }), { nil: undefined }), name: fc.stringMatching(/^[a-z_][a-z0-9_.-]{0,22}$/), metric: fc.nat(2000) }), { minLength: 1, maxLength: 12 }),
        (rows) => {
          const numeric = parseRoutes([...head, ...rows.map((r) => row(`${r.a}.0.0.0`, r.gw === undefined ? '0.0.0.0' : `10.0.0.${r.gw}`, r.len, r.gw === undefined ? 'U' : 'UG', r.metric))].join('\n'), 4);
          // As route prints names: cut to 15 characters; `*` for no gateway.
          const named = parseRoutes([...head, ...rows.map((r) => row(`${r.a}.0.0.0`, r.gw === undefined ? '*' : r.name.slice(0, 15), r.len, r.gw === undefined ? 'U' : 'UG', r.metric))].join('\n'), 4);
          assert.deepEqual(numeric.issues, []);
          assert.equal(named.records.length, numeric.records.length);
          rows.forEach((r, i) => {
            const n = numeric.records[i]!;
            const x = named.records[i]!;
            assert.deepEqual([x.dst.toString(), x.metric, x.rtFlags, x.dev, x.gateway], [n.dst.toString(), n.metric, n.rtFlags, n.dev, undefined]);
            if (r.gw === undefined) assert.equal(x.unresolvedGateway, undefined);
            else assert.deepEqual(x.unresolvedGateway, { name: r.name.slice(0, 15), maybeTruncated: r.name.length >= 15 });
          });
          assert.deepEqual(named.issues.map((i) => i.line), rows.flatMap((r, i) => (r.gw === undefined ? [] : [i + 3])));
        },
      ),
      { numRuns: 300 },
    );
  });

  // Speed is measured by `npm run bench`; this checks only that a big table loses nothing.
  test('20,000 routes all parse, each to its own line', () => {
    const ls: string[] = [];
    for (let i = 0; i < 20000; i++) ls.push(`10.${(i >> 8) & 255}.${i & 255}.0/24 via 10.0.${i & 3}.1 dev eth0 proto bird metric 32 `);
    const r = parseRoutes(ls.join('\n'), 4);
    assert.equal(r.records.length, 20000);
    assert.equal(r.issues.length, 0);
    assert.equal(r.records[19999]!.src.line, 20000);
    assert.equal(r.records[19999]!.dst.toString(), '10.78.31.0/24');
  });
});
