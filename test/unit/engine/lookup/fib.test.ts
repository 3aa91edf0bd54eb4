// fib_lookup against a plain reading of the kernel's rules: for random tables (small ones that are
// scanned, big ones that use the trie, IPv4 and IPv6), every answer equals the one a naive search
// gives: the longest prefix holding the address that has a live route, its routes ordered by metric
// (first added first on a tie), dead prefixes skipped, throw passing the lookup on, local before main.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { Fib, type FibAnswer } from '../../../../src/engine/fib';
import { Addr, type Family } from '../../../../src/net/addr';
import { parseRoutes } from '../../../../src/parsers/routes';
import { parseRules } from '../../../../src/parsers/rules';
import type { RouteRecord } from '../../../../src/parsers/types';
// The benchmarks' mulberry32: deterministic, so that a failure names its seed.
import { prng } from '../../../../bench/generate';

const v4 = (n: number) => `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

/** Route lines clustered in a few /8s so that prefixes nest, repeat with other metrics, and die. */
function randomRoutes(family: Family, n: number, seed: number): string[] {
  const rnd = prng(seed);
  const int = (k: number) => Math.floor(rnd() * k);
  const bases = family === 4 ? [10, 172, 192] : [0x2001, 0xfd00];
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const len = rnd() < 0.05 ? 0 : family === 4 ? int(33) : int(129);
    let dst: string;
    if (family === 4) {
      const x = ((bases[int(bases.length)]! << 24) | (int(4) << 16) | (int(4) << 8) | int(8)) >>> 0;
      const masked = len === 0 ? 0 : (x & (0xffffffff << (32 - len))) >>> 0;
      dst = len === 0 ? 'default' : `${v4(masked)}/${len}`;
    } else {
      const x = (BigInt(bases[int(bases.length)]!) << 112n) | (BigInt(int(4)) << 96n) | BigInt(int(8));
      const masked = len === 0 ? 0n : (x >> BigInt(128 - len)) << BigInt(128 - len);
      const a = Addr.fromV6(masked).toString();
      dst = len === 0 ? 'default' : `${a}/${len}`;
    }
    const k = rnd();
    const type = k < 0.06 ? 'throw ' : k < 0.1 ? 'blackhole ' : k < 0.13 ? 'unreachable ' : '';
    const table = rnd() < 0.15 ? ' table local' : rnd() < 0.1 ? ' table 100' : '';
    const metric = rnd() < 0.5 ? ` metric ${int(4)}` : '';
    const dead = type === '' && rnd() < 0.2 ? ' dead' : '';
    const via = type === '' ? (family === 4 ? ` via 10.9.${int(4)}.${i % 250} dev eth${int(3)}` : ` via fe80::${i.toString(16)} dev eth${int(3)}`) : '';
    lines.push(`${type}${dst}${via}${table}${metric}${dead}`);
  }
  return lines;
}

/** Destinations inside or beside the routes' prefixes. */
function randomDestinations(family: Family, n: number, seed: number): Addr[] {
  const rnd = prng(seed);
  const int = (k: number) => Math.floor(rnd() * k);
  const out: Addr[] = [];
  for (let i = 0; i < n; i++) {
    if (family === 4) {
      const first = [10, 172, 192, 11, 8][int(5)]!;
      out.push(Addr.fromV4(((first << 24) | (int(5) << 16) | (int(5) << 8) | int(256)) >>> 0));
    } else {
      const first = [0x2001, 0xfd00, 0x2002][int(3)]!;
      out.push(Addr.fromV6((BigInt(first) << 112n) | (BigInt(int(5)) << 96n) | BigInt(int(256))));
    }
  }
  return out;
}

const live = (r: RouteRecord) => !(r.nexthops?.length ? r.nexthops.every((n) => n.flags.includes('dead')) : r.flags.includes('dead'));

/** The naive search: every route holding the address, the longest prefix with a live route, its first live route by metric. */
function naiveTable(routes: RouteRecord[], dst: Addr): { route: RouteRecord; others: RouteRecord[] } | undefined {
  const holding = routes.filter((r) => r.dst.contains(dst));
  const lens = [...new Set(holding.map((r) => r.dst.length))].sort((a, b) => b - a);
  for (const len of lens) {
    const same = holding.filter((r) => r.dst.length === len).sort((a, b) => (a.metric ?? 0) - (b.metric ?? 0));
    const route = same.find(live);
    if (route) return { route, others: same.filter((r) => r !== route) };
  }
  return undefined;
}

/** fib_lookup with the default rules: local and main as one table, then default. */
function naiveLookup(routes: RouteRecord[], dst: Addr): string {
  const merged = [...routes.filter((r) => r.table === 'local'), ...routes.filter((r) => r.table === 'main')];
  const m = naiveTable(merged, dst);
  if (m && m.route.type !== 'throw') return describeRoute(m.route.table, m.route, m.others);
  const d = naiveTable(routes.filter((r) => r.table === 'default'), dst);
  if (d && d.route.type !== 'throw') return describeRoute('default', d.route, d.others);
  return 'none';
}

const describeRoute = (table: string, route: RouteRecord, others: readonly RouteRecord[]) => `${table}: ${route.src.raw} | others: ${others.map((o) => o.src.raw).join(' ; ')}`;
/** Also checks that a route answer's own fields say what its route record says. */
const describe_ = (a: FibAnswer) => {
  if (a.kind !== 'route') return a.kind;
  const r = a.route.rec;
  assert.deepEqual({ type: a.type, dev: a.dev, gateway: a.gateway?.toString(), prefsrc: a.prefsrc?.toString() }, { type: r.type, dev: r.dev, gateway: r.gateway?.toString(), prefsrc: r.prefsrc?.toString() }, r.src.raw);
  return describeRoute(a.table, r, a.others.map((o) => o.rec));
};

function fibOf(family: Family, lines: string[], rules?: string): { fib: Fib; routes: RouteRecord[] } {
  const parsed = parseRoutes(lines.join('\n'), family);
  assert.deepEqual(parsed.issues, []);
  const routes = parsed.records as RouteRecord[];
  const fib = new Fib(family);
  for (const r of routes) fib.addRoute(r);
  if (rules) for (const r of parseRules(rules, family).records) fib.addRule(r);
  fib.finish();
  return { fib, routes };
}

describe('fib_lookup', () => {
  for (const family of [4, 6] as const) {
    for (const size of family === 4 ? [3, 10, 40, 1500] : [3, 10, 40, 300]) {
      test(`IPv${family}, ${size} random routes: every answer is the naive longest live prefix`, () => {
        for (let seed = 1; seed <= (size > 100 ? 2 : 10); seed++) {
          const { fib, routes } = fibOf(family, randomRoutes(family, size, seed * 7 + size));
          for (const dst of randomDestinations(family, size > 100 ? 600 : 200, seed)) {
            assert.equal(describe_(fib.lookup({ dst })), naiveLookup(routes, dst), `seed ${seed}, ${dst.toString()}`);
            // The merged table shares its slots with local and main: each still answers for itself.
            for (const table of ['local', 'main']) {
              const a = fib.lookupTable(table, dst);
              const n = naiveTable(routes.filter((r) => r.table === table), dst);
              assert.equal(a ? describeRoute(table, a.route.rec, a.others.map((o) => o.rec)) : 'none', n ? describeRoute(table, n.route, n.others) : 'none', `seed ${seed}, table ${table}, ${dst.toString()}`);
            }
          }
        }
      });
    }
  }

  test('a dead prefix is skipped for a shorter live one; a throw route passes the lookup to the default table', () => {
    const { fib } = fibOf(4, ['10.1.0.0/16 via 10.9.0.1 dev eth0', '10.1.2.0/24 via 10.9.0.2 dev eth0 dead', 'throw 10.3.0.0/16', '10.3.0.0/16 via 10.9.0.3 dev eth1 table default']);
    const at = (s: string) => describe_(fib.lookup({ dst: Addr.must(s) }));
    assert.equal(at('10.1.2.3'), 'main: 10.1.0.0/16 via 10.9.0.1 dev eth0 | others: ');
    assert.equal(at('10.3.0.9'), 'default: 10.3.0.0/16 via 10.9.0.3 dev eth1 table default | others: ');
    assert.equal(at('10.4.0.1'), 'none');
  });

  test('with a custom rule the tables are asked in rule order, and the trie answers lookupTable', () => {
    const lines = randomRoutes(4, 500, 99);
    const { fib, routes } = fibOf(4, lines, '0:\tfrom all lookup local\n100:\tfrom all lookup 100\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default');
    for (const dst of randomDestinations(4, 2000, 5)) {
      const t100 = naiveTable(routes.filter((r) => r.table === '100'), dst);
      const a = fib.lookupTable('100', dst);
      assert.equal(a ? describeRoute('100', a.route.rec, a.others.map((o) => o.rec)) : 'none', t100 ? describeRoute('100', t100.route, t100.others) : 'none', dst.toString());
      const ans = fib.lookup({ dst });
      describe_(ans);
      if (ans.kind === 'route') assert.ok(ans.rulesTried.length >= 1 && ans.route.rec.dst.contains(dst));
    }
  });

  test('answers a lookup that decides alike share one object, so nothing is made per packet', () => {
    const { fib } = fibOf(4, randomRoutes(4, 300, 3));
    const a = fib.lookup({ dst: Addr.must('10.1.2.3') });
    assert.equal(fib.lookup({ dst: Addr.must('10.1.2.3') }), a);
  });

  test("a route answer carries what `ip route get` prints: type, table, device, gateway and prefsrc, read off the route once", () => {
    const lines = [
      '10.1.0.0/16 via 10.9.0.1 dev eth0 proto bird',
      '10.2.0.0/24 dev eth1 proto kernel scope link src 10.2.0.7',
      'blackhole 10.3.0.0/26 proto bird',
      '10.5.0.0/16 proto static',
      '\tnexthop via 10.9.0.5 dev eth0 weight 1',
      '\tnexthop via 10.9.0.6 dev eth1 weight 1',
      '10.6.0.0/16 via 10.9.0.9 dev eth2 table default',
      'local 10.2.0.7 dev eth1 table local proto kernel scope host src 10.2.0.7',
    ];
    const fields = (a: FibAnswer) => (a.kind === 'route' ? { type: a.type, table: a.table, dev: a.dev, gateway: a.gateway?.toString(), prefsrc: a.prefsrc?.toString() } : a.kind);
    const expected = {
      '10.1.7.7': { type: 'unicast', table: 'main', dev: 'eth0', gateway: '10.9.0.1', prefsrc: undefined },
      '10.2.0.9': { type: 'unicast', table: 'main', dev: 'eth1', gateway: undefined, prefsrc: '10.2.0.7' },
      '10.2.0.7': { type: 'local', table: 'local', dev: 'eth1', gateway: undefined, prefsrc: '10.2.0.7' },
      '10.3.0.1': { type: 'blackhole', table: 'main', dev: undefined, gateway: undefined, prefsrc: undefined },
      // Multipath: the hops are the route's, and fib_select_path picks one.
      '10.5.1.1': { type: 'unicast', table: 'main', dev: undefined, gateway: undefined, prefsrc: undefined },
      '10.6.1.1': { type: 'unicast', table: 'default', dev: 'eth2', gateway: '10.9.0.9', prefsrc: undefined },
      '10.7.1.1': 'none',
    };
    // The default rules (the merged local+main table, its answers shared), then a custom rule (an
    // answer made per lookup): both say the same.
    for (const rules of [undefined, '0:\tfrom all lookup local\n100:\tfrom all fwmark 0x1 lookup 100\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default']) {
      const { fib } = fibOf(4, lines, rules);
      for (const [dst, want] of Object.entries(expected)) assert.deepEqual(fields(fib.lookup({ dst: Addr.must(dst) })), want, `${dst}, ${rules ? 'custom rules' : 'default rules'}`);
    }
  });
});

