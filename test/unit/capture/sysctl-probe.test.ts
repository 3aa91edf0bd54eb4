// The sysctl probe's first form reads only the settings the engine uses (SYSCTL_SCRIPT): run for real
// against this machine's /proc/sys (and, as root, a network namespace with an interface whose name has
// a dot), it must give exactly the values the full key list gives for those settings, for every
// interface, and nothing else. A source scan keeps the list and the engine's reads in step.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PROBE_COMMANDS, SYSCTL_KEYS, SYSCTL_SCRIPT } from '../../../src/capture/probes';
import { parseSysctl } from '../../../src/parsers/sysctl';

/** The per-interface settings the script reads, by family, and the global keys. */
const CONF = { 4: ['rp_filter', 'forwarding', 'proxy_arp'], 6: ['forwarding'] } as const;
const GLOBAL = ['net.ipv4.ip_forward', 'net.ipv6.conf.all.forwarding', 'net.bridge.bridge-nf-call-iptables'];

const hasSysctl = spawnSync('sh', ['-c', 'command -v sysctl']).status === 0;
const isRoot = process.getuid?.() === 0;

/** key -> value of `text`, and the interfaces of each family its conf keys name (dots unmangled). */
function read(text: string) {
  const parsed = parseSysctl(text);
  assert.deepEqual(parsed.issues, [], text.slice(0, 500));
  const values = new Map(parsed.records.map((r) => [r.key, r.value]));
  const ifaces = { 4: new Set<string>(), 6: new Set<string>() };
  for (const r of parsed.records) if (r.conf) ifaces[r.conf.family].add(r.conf.iface);
  return { records: parsed.records, values, ifaces };
}

/** Runs both forms in the network namespace `ns` (or this one) and compares them setting by setting. */
function compare(ns: string | undefined): { narrow: ReturnType<typeof read>; broad: ReturnType<typeof read> } {
  const wrap = (argv: readonly string[]) => (ns ? ['ip', 'netns', 'exec', ns, ...argv] : [...argv]);
  const run = (argv: readonly string[]) => {
    const a = wrap(argv);
    const r = spawnSync(a[0]!, a.slice(1), { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' } });
    assert.equal(r.status, 0, `${a.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const narrow = read(run(PROBE_COMMANDS.sysctl[0]!.argv));
  const broad = read(run(['sysctl', '-e', ...SYSCTL_KEYS]));
  // Every interface the full list shows, in both families, with each setting at the same value.
  assert.deepEqual([...narrow.ifaces[4]].sort(), [...broad.ifaces[4]].sort());
  assert.deepEqual([...narrow.ifaces[6]].sort(), [...broad.ifaces[6]].sort());
  for (const fam of [4, 6] as const) {
    for (const iface of broad.ifaces[fam]) {
      for (const param of CONF[fam]) {
        const rec = broad.records.find((r) => r.conf?.family === fam && r.conf.iface === iface && r.conf.param === param);
        const got = narrow.records.find((r) => r.conf?.family === fam && r.conf.iface === iface && r.conf.param === param);
        assert.equal(got?.value, rec?.value, `net.ipv${fam}.conf.${iface}.${param}`);
        assert.equal(got?.key, rec?.key, 'the key is printed as sysctl -a prints it');
      }
    }
  }
  for (const k of GLOBAL) assert.equal(narrow.values.get(k), broad.values.get(k), k);
  // And nothing else.
  for (const r of narrow.records) {
    assert.ok(GLOBAL.includes(r.key) || (r.conf && (CONF[r.conf.family] as readonly string[]).includes(r.conf.param)), `unexpected ${r.key}`);
  }
  return { narrow, broad };
}

describe('the sysctl probe reads only what the engine uses', () => {
  test('the script is the first form; the full key list and BusyBox follow', () => {
    assert.deepEqual(PROBE_COMMANDS.sysctl.map((c) => c.argv[0]), ['sh', 'sysctl', 'busybox']);
    assert.equal(PROBE_COMMANDS.sysctl[0]!.argv[2], SYSCTL_SCRIPT);
  });

  test('every setting the engine reads is one the script asks for', () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(dir, e.name));
        else if (e.name.endsWith('.ts')) files.push(join(dir, e.name));
      }
    };
    walk(join(__dirname, '../../../src/engine'));
    const params = new Set<string>();
    const keys = new Set<string>();
    for (const f of files) {
      const src = readFileSync(f, 'utf8');
      for (const m of src.matchAll(/confValue\([^)]*?,\s*'([a-z_]+)'\)/g)) params.add(m[1]!);
      for (const m of src.matchAll(/'(net\.(?:ipv4|ipv6|bridge)\.[a-z0-9_.-]+)'/g)) keys.add(m[1]!);
      for (const m of src.matchAll(/sysctl\.get\(`net\.ipv(4|6)\.conf\.\$\{[^}]+\}\.([a-z_]+)`\)/g)) params.add(m[2]!);
    }
    assert.ok(params.size >= 3 && keys.size >= 2, `the scan found ${[...params]} and ${[...keys]}: the engine's reads moved; update this scan`);
    for (const p of params) assert.ok(SYSCTL_SCRIPT.includes(`/*/${p}`), `the engine reads ${p}; SYSCTL_SCRIPT does not ask for it`);
    for (const k of keys) assert.ok(GLOBAL.includes(k) || k === 'net.bridge.bridge-nf-call-ip6tables', `the engine reads ${k}; SYSCTL_SCRIPT does not ask for it`);
  });

  test("this machine's /proc/sys: the same values as the full key list, and only those settings", (t) => {
    if (!hasSysctl) return t.skip('sysctl (procps) is not installed');
    const { narrow, broad } = compare(undefined);
    assert.ok(narrow.records.length < broad.records.length, `${narrow.records.length} vs ${broad.records.length}`);
  });

  describe('a namespace with an interface whose name has a dot', () => {
    const ns = `netpath-sysctl-${process.pid}`;
    let made = false;
    before(() => {
      if (!hasSysctl || !isRoot) return;
      made = spawnSync('ip', ['netns', 'add', ns]).status === 0;
      if (made) spawnSync('ip', ['-n', ns, 'link', 'add', 'eth0.100', 'type', 'veth', 'peer', 'name', 'flannel.1']);
    });
    after(() => {
      if (made) spawnSync('ip', ['netns', 'del', ns]);
    });
    test('dots print as slashes, unmangled by the parser, values as the full list gives them', (t) => {
      if (!made) return t.skip(!hasSysctl ? 'sysctl (procps) is not installed' : 'needs root and network namespaces');
      spawnSync('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv4.conf.eth0/100.rp_filter=2', 'net.ipv4.conf.flannel/1.proxy_arp=1']);
      const { narrow } = compare(ns);
      assert.equal(narrow.values.get('net.ipv4.conf.eth0/100.rp_filter'), '2');
      assert.equal(narrow.values.get('net.ipv4.conf.flannel/1.proxy_arp'), '1');
      assert.ok(narrow.ifaces[4].has('eth0.100') && narrow.ifaces[4].has('flannel.1'), [...narrow.ifaces[4]].join(' '));
    });
  });
});
