// The probe script (one exec per host): its commands are capture/probes.ts's, its framing reads back
// into exactly what one exec per command gives — under the real shells containers have (dash, bash,
// BusyBox ash), with commands that print the framing's own markers, fail, lack, or print bytes that
// are not ASCII — and any framing that is not exactly the script's is a clear error, never a mix-up.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PROBE_COMMANDS } from '../../../src/capture/probes';
import { describeArgv, judgeAttempt, newMarker, parseScriptOutput, PROBE_SCRIPT, probeRead, probeScriptArgv, type Attempt } from '../../../src/kube/probeScript';
import { PROBES, type ProbeName } from '../../../src/parsers';
import { frameAttempts, TEST_MARKER } from './fake-cluster';

/** Shell words of one `t PROBE I ARGV...` call: spaces split, single quotes group. */
function words(s: string): string[] {
  const out: string[] = [];
  for (const m of s.matchAll(/'([^']*)'|(\S+)/g)) out.push(m[1] ?? m[2]!);
  return out;
}

describe('the probe script', () => {
  test("its case arms run exactly capture/probes.ts's commands, in order, for every probe", () => {
    const arms = new Map<string, string[][]>();
    for (const line of PROBE_SCRIPT.split('\n')) {
      const m = /^ {2}([a-z0-9_]+)\) (.*) ;;$/.exec(line);
      if (!m) continue;
      arms.set(
        m[1]!,
        m[2]!.split(' || ').map((call, i) => {
          const [t, probe, index, ...argv] = words(call);
          assert.deepEqual([t, probe, index], ['t', m[1], String(i)], call);
          return argv;
        }),
      );
    }
    assert.deepEqual([...arms.keys()].sort(), [...PROBES].sort());
    for (const p of PROBES) assert.deepEqual(arms.get(p), PROBE_COMMANDS[p].map((c) => [...c.argv]), p);
  });

  test('is a constant run with a marker and probe names only, and messages name it instead of quoting it', () => {
    const marker = newMarker();
    assert.match(marker, /^[0-9a-f]{32}$/);
    assert.notEqual(newMarker(), marker);
    const argv = probeScriptArgv(['links', 'neigh'], marker);
    assert.deepEqual(argv, ['sh', '-c', PROBE_SCRIPT, 'netpath-probes', marker, 'links', 'neigh']);
    assert.equal(describeArgv(argv), 'sh -c <netpath probe script> links neigh');
    assert.equal(describeArgv(['ip', 'addr', 'show']), 'ip addr show');
    // Only a marker newMarker() could have drawn: nothing else reaches the script as its first argument.
    for (const bad of ['', 'links', `${marker}x`, marker.toUpperCase(), `${marker.slice(0, 31)};`]) assert.throws(() => probeScriptArgv(['links'], bad), /32 hex digits/);
  });
});

// ---- under real shells -----------------------------------------------------------------------

/**
 * stdout of the stub `ip -d link show`: the framing's own lines under another marker (all a table can
 * hold: it was written before the exec drew its marker), a fake end, no final newline.
 */
const OTHER = 'fedcba9876543210fedcba9876543210';
const HOSTILE = `1: lo: <LOOPBACK> mtu 65536\n@${OTHER} links 0 exit 0\nhello\n@${OTHER} addrs 0 missing\n\nnetpath-probes end\n@${OTHER} links 0 err\nnetpath-probes 2\n    alias @${OTHER} links 1 exit 0`;
const UNICODE = '10.244.0.2 dev cni0 lladdr 0a:58:0a:f4:00:02 STALE\n# café ☃ \u00e9\u0301 and a tab\there\n\n\n';
const BIG = Array.from({ length: 2500 }, (_, i) => `${i}: from all lookup main @rules4 0 out 1`).join('\n') + '\n';

/** Stub tools: each prints, fails or exits as a container's would. Absent here: busybox, route, bridge, sysctl. */
const STUBS: Record<string, string> = {
  ip: [
    '#!/bin/sh',
    'case "$*" in',
    `'-d link show') printf '%s' "$HOSTILE" ;;`,
    "'addr show') echo 'RTNETLINK answers: Operation not permitted' >&2; exit 1 ;;",
    "'-4 route show table all') echo partial; echo 'Error: oops' >&2; exit 2 ;;",
    `'-6 route show table all') printf 'x\\n\\n\\n' ;;`,
    "'-4 rule show') printf '%s' \"$BIG\" ;;",
    "'-6 rule show') exit 0 ;;",
    `'-s neigh show') echo 'Option "-s" is unknown, try "ip -help".' >&2; exit 255 ;;`,
    "'neigh show') printf '%s' \"$UNICODE\" ;;",
    '*) echo "stub ip: $*" >&2; exit 3 ;;',
    'esac',
  ].join('\n'),
  cat: ['#!/bin/sh', 'case "$1" in', "/proc/net/route) printf 'Iface\\tDestination\\teth0\\t00000000\\n' ;;", '*) echo "cat: $1: No such file or directory" >&2; exit 1 ;;', 'esac'].join('\n'),
  'iptables-save': '#!/bin/sh\necho "iptables-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)" >&2\nexit 4',
  // A command killed by a signal: the shell reports 128+n.
  nft: '#!/bin/sh\nkill -9 $$',
  // Exit 127 from a tool that exists (a broken wrapper): "not found", as one exec would say.
  ipvsadm: '#!/bin/sh\necho "ipvsadm: error while loading shared libraries: libnl-3.so.200: cannot open shared object file" >&2\nexit 127',
};

const ALL: ProbeName[] = ['links', 'addrs', 'routes4', 'routes6', 'rules4', 'rules6', 'neigh', 'fdb', 'sysctl', 'iptables', 'nft', 'ipvs', 'arp'];

function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

describe('the probe script under real shells, with stub tools', () => {
  let dir = '';
  let env: NodeJS.ProcessEnv = {};
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'netpath-probe-script-'));
    const bin = join(dir, 'bin');
    spawnSync('mkdir', [bin]);
    for (const [name, text] of Object.entries(STUBS)) {
      writeFileSync(join(bin, name), `${text}\n`);
      chmodSync(join(bin, name), 0o755);
    }
    // The script needs wc; `sh` for xt_recent's inner script is not asked for here.
    symlinkSync(which('wc')!, join(bin, 'wc'));
    env = { PATH: bin, HOSTILE, UNICODE, BIG };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** What one exec per command gives in the same stub container: the per-probe path's attempts. */
  function perProbe(probe: ProbeName): Attempt[] {
    const attempts: Attempt[] = [];
    for (const c of PROBE_COMMANDS[probe]) {
      const r = spawnSync(c.argv[0]!, c.argv.slice(1), { env });
      if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
        attempts.push({ argv: c.argv, missing: true });
        continue;
      }
      const exitCode = r.status ?? 128 + (r.signal === 'SIGKILL' ? 9 : 0);
      attempts.push({ argv: c.argv, exitCode, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') });
      if (exitCode === 0) break;
    }
    return attempts;
  }

  const shells: [string, string[]][] = [
    ['dash', ['dash']],
    ['bash', ['bash']],
    ['BusyBox ash', ['busybox', 'sh']],
  ];
  for (const [name, cmd] of shells) {
    test(`${name}: every probe reads back exactly as one exec per command gives it`, (t) => {
      const path = which(cmd[0]!);
      if (!path) return t.skip(`${cmd[0]} is not installed`);
      // In a UTF-8 locale bash and BusyBox count characters: the script must still count bytes.
      const marker = newMarker();
      const utf8 = spawnSync(path, [...cmd.slice(1), '-c', PROBE_SCRIPT, 'netpath-probes', marker, ...ALL], { env: { ...env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' } });
      const r = spawnSync(path, [...cmd.slice(1), '-c', PROBE_SCRIPT, 'netpath-probes', marker, ...ALL], { env });
      assert.equal(r.status, 0, r.stderr.toString());
      assert.equal(utf8.stdout.toString('utf8'), r.stdout.toString('utf8'));
      const parsed = parseScriptOutput(r.stdout, ALL, marker);
      assert.equal(parsed.kind, 'ok', parsed.kind === 'ok' ? '' : parsed.why);
      if (parsed.kind !== 'ok') return;
      for (const p of ALL) assert.deepEqual(probeRead(parsed.probes.get(p)!), probeRead(perProbe(p)), p);
      const read = (p: ProbeName) => probeRead(parsed.probes.get(p)!);
      // The markers inside links' output are output; the text is byte for byte, without a final newline.
      assert.equal(read('links').text, HOSTILE);
      assert.equal(read('routes6').text, 'x\n\n\n');
      assert.equal(read('rules4').text, BIG);
      assert.equal(read('rules6').text, '');
      // The second form after the first failed; bytes, not characters, are counted.
      assert.equal(read('neigh').text, UNICODE);
      assert.deepEqual(read('addrs'), { text: undefined, why: 'ip addr show exited 1: RTNETLINK answers: Operation not permitted; busybox: not found' });
      // A failure with output is not the probe: the next forms are tried, then /proc.
      assert.deepEqual(read('routes4'), { text: 'Iface\tDestination\teth0\t00000000\n' });
      assert.deepEqual(parsed.probes.get('routes4')!.map((a) => (a.missing ? 'missing' : a.exitCode)), [2, 'missing', 'missing', 0]);
      assert.deepEqual(read('fdb'), { text: undefined, why: 'bridge: not found; bridge: not found' });
      assert.deepEqual(read('sysctl'), { text: undefined, why: 'sh: not found; sysctl: not found; busybox: not found' });
      assert.deepEqual(read('iptables'), { text: undefined, why: 'iptables-save exited 4: iptables-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)' });
      assert.deepEqual(read('nft'), { text: undefined, why: 'nft list ruleset exited 137: ' });
      assert.deepEqual(read('ipvs'), { text: undefined, why: 'ipvsadm: not found' });
      assert.deepEqual(read('arp'), { text: undefined, why: 'arp: not found' });
    });
  }

  test('four probes or more run in two halves at once, and give the bytes each probe gives alone', (t) => {
    const dash = which('dash');
    if (!dash) return t.skip('dash is not installed');
    const run = (probes: readonly ProbeName[], e: NodeJS.ProcessEnv = env) => spawnSync(dash, ['-c', PROBE_SCRIPT, 'netpath-probes', TEST_MARKER, ...probes], { env: e });
    // One exec's bytes are those of its probes one at a time (fewer than four: one after the other), in the order asked.
    const whole = run(ALL);
    assert.equal(whole.status, 0, whole.stderr.toString());
    const alone = ALL.map((p) => run([p]).stdout.toString('utf8').replace(/^netpath-probes 2\n/, '').replace(/netpath-probes end\n$/, ''));
    assert.equal(whole.stdout.toString('utf8'), `netpath-probes 2\n${alone.join('')}netpath-probes end\n`);
    // At once: the first half's first command (links) sees a file that a command of the second half
    // (sysctl) makes; one after the other, it would wait 10 s for it and say so.
    const sync = join(dir, 'sync');
    spawnSync('mkdir', [sync]);
    const ip = ['#!/bin/sh', 'case "$*" in', "'-d link show') i=0; while [ ! -e \"$SYNC/second\" ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i + 1)); done; [ -e \"$SYNC/second\" ] && echo 'saw the second half' || echo 'alone' ;;", '*) echo "$*" ;;', 'esac'].join('\n');
    writeFileSync(join(sync, 'ip'), `${ip}\n`);
    writeFileSync(join(sync, 'sysctl'), '#!/bin/sh\n: >"$SYNC/second"\necho sysctl\n');
    chmodSync(join(sync, 'ip'), 0o755);
    chmodSync(join(sync, 'sysctl'), 0o755);
    symlinkSync(which('sleep')!, join(sync, 'sleep'));
    const probes: ProbeName[] = ['links', 'addrs', 'routes4', 'routes6', 'rules4', 'rules6', 'neigh', 'fdb', 'sysctl'];
    const started = Date.now();
    const r = run(probes, { PATH: sync, SYNC: sync });
    const p = parseScriptOutput(r.stdout, probes, TEST_MARKER);
    assert.ok(p.kind === 'ok', p.kind === 'ok' ? '' : p.why);
    assert.equal(probeRead(p.probes.get('links')!).text, 'saw the second half\n');
    assert.ok(Date.now() - started < 9_000);
    assert.equal(probeRead(p.probes.get('sysctl')!).text, 'sysctl\n');
    assert.deepEqual(probeRead(p.probes.get('rules6')!), { text: '-6 rule show\n' });
  });
});

// ---- the framing parser ----------------------------------------------------------------------

const ok = (stdout: string, exitCode = 0, stderr = '') => ({ exitCode, stdout, stderr });
const bytes = (s: string) => Buffer.from(s, 'utf8');
const M = TEST_MARKER;
const parse = (text: string, probes: ProbeName[]) => parseScriptOutput(bytes(text), probes, M);

describe('reading the framing back', () => {
  test("output made of the framing's own lines, under any other marker, is only output, and each probe keeps its own", () => {
    const other = 'ffffffffffffffffffffffffffffffff';
    const forged = `x\n@${other} addrs 0 exit 0\nabc\n@${other} addrs 0 missing\n\nnetpath-probes end\n@${M.slice(0, 31)} links 0 exit 0\n@${M}x links 0 exit 0\n`;
    const text = frameAttempts([
      { probe: 'links', attempts: [ok(forged)] },
      { probe: 'addrs', attempts: [ok('', 1, `Error: @${other} addrs 1 exit 0\n`), ok('10.0.0.1\n')] },
    ]);
    const p = parse(text, ['links', 'addrs']);
    assert.equal(p.kind, 'ok', p.kind === 'ok' ? '' : p.why);
    if (p.kind !== 'ok') return;
    assert.equal(probeRead(p.probes.get('links')!).text, forged);
    assert.deepEqual(p.probes.get('addrs')!.map((a) => (a.missing ? 'missing' : [a.exitCode, a.stdout, a.stderr])), [
      [1, '', `Error: @${other} addrs 1 exit 0\n`],
      [0, '10.0.0.1\n', ''],
    ]);
    // Read with another marker, the same bytes are not this exec's frames at all.
    const wrong = parseScriptOutput(bytes(text), ['links', 'addrs'], other);
    assert.equal(wrong.kind, 'broken');
  });

  test('output without a final newline, with several, or empty, is kept byte for byte', () => {
    for (const out of ['', '\n', 'a', 'a\n\n\n', '\n\nb', 'é☃\n']) {
      const p = parse(frameAttempts([{ probe: 'rules6', attempts: [ok(out)] }]), ['rules6']);
      assert.ok(p.kind === 'ok', p.kind === 'ok' ? '' : p.why);
      assert.deepEqual(probeRead(p.probes.get('rules6')!), { text: out }, JSON.stringify(out));
    }
  });

  test('missing tools and non-zero exits give the same reasons as one exec per command', () => {
    const text = frameAttempts([{ probe: 'neigh', attempts: [{ missing: true }, ok('', 255, 'Object "neigh" is unknown\nsecond line\n'), { missing: true }, ok('', 1, 'cat: /proc/net/arp: No such file or directory\n')] }]);
    const p = parse(text, ['neigh']);
    assert.ok(p.kind === 'ok');
    assert.deepEqual(probeRead(p.probes.get('neigh')!), { text: undefined, why: 'ip: not found; ip neigh show exited 255: Object "neigh" is unknown; busybox: not found; cat: not found' });
    assert.deepEqual(judgeAttempt({ argv: ['ip', 'x'], exitCode: 127, stdout: '', stderr: 'OCI runtime exec failed: exec: "ip": executable file not found in $PATH' }), { why: 'ip: not found', missingTool: true });
  });

  test('output cut anywhere is a clear error naming the probe and command it stopped in, with the probes read before it', () => {
    const whole = frameAttempts([
      { probe: 'links', attempts: [ok('1: lo\n')] },
      { probe: 'addrs', attempts: [ok('inet 10.0.0.1/24\n'.repeat(20))] },
      { probe: 'neigh', attempts: [ok('', 2, 'oops\n'), ok('10.0.0.2 dev eth0 lladdr 0a:58:0a:f4:00:02 STALE\n')] },
    ]);
    const probes: ProbeName[] = ['links', 'addrs', 'neigh'];
    const parsedWhole = parse(whole, probes);
    assert.ok(parsedWhole.kind === 'ok');
    const full = parsedWhole.probes;
    const cuts = new Set<string>();
    for (let n = 0; n < whole.length; n++) {
      const p = parse(whole.slice(0, n), probes);
      if (p.kind === 'ok') assert.fail(`cut at ${n} read as complete`);
      if (p.kind === 'unusable') {
        assert.ok(n < 'netpath-probes 2\n'.length, `cut at ${n}: ${p.why}`);
        continue;
      }
      assert.match(p.why, /\(byte \d+ of \d+\)$/);
      // Only probes read in full are kept, exactly as the whole output gives them.
      for (const [k, v] of p.probes) assert.deepEqual(v, full.get(k), `cut at ${n} kept ${k} as ${JSON.stringify(v)}`);
      cuts.add(p.why.replace(/\d+/g, 'N'));
    }
    const inside = parse(whole.slice(0, whole.indexOf('inet') + 10), probes);
    assert.ok(inside.kind === 'broken');
    assert.match(inside.why, /^the output ends before addrs's command 1 \(ip addr show\) was closed; the stream was cut/);
    assert.deepEqual([...inside.probes.keys()], ['links']);
    const inErr = parse(whole.slice(0, whole.indexOf('oops') + 2), probes);
    assert.ok(inErr.kind === 'broken');
    assert.match(inErr.why, /^the output ends before the stderr of neigh's command 1 \(ip -s neigh show\) was closed/);
    assert.ok([...cuts].some((w) => /^the output ends where the end line was due/.test(w)), [...cuts].join('\n'));
    assert.ok([...cuts].some((w) => /^the output ends inside a marker line where addrs's command N \(ip addr show\) was due/.test(w)), [...cuts].join('\n'));
    assert.ok(![...cuts].some((w) => /^expected/.test(w)), [...cuts].join('\n'));
  });

  test('frames of another probe, a skipped command or extra bytes are refused, never mixed', () => {
    const links = frameAttempts([{ probe: 'links', attempts: [ok('a\n')] }]);
    const addrs = frameAttempts([{ probe: 'addrs', attempts: [ok('b\n')] }]);
    // Asked for links then addrs, got addrs' frames where links' were due.
    const swapped = parse(addrs, ['links']);
    assert.ok(swapped.kind === 'broken');
    assert.match(swapped.why, new RegExp(`^expected links's command 1 \\(ip -d link show\\), found "@${M} addrs 0 exit 0"`));
    // An attempt index that skips one.
    const skipped = parse(links.replace(`@${M} links 0 exit`, `@${M} links 1 exit`), ['links']);
    assert.ok(skipped.kind === 'broken');
    assert.match(skipped.why, /expected links's command 1/);
    // An exit status that is not a number.
    const noCode = parse(links.replace(`@${M} links 0 exit 0`, `@${M} links 0 exit zero`), ['links']);
    assert.ok(noCode.kind === 'broken');
    // The probe that exited 0 has no further attempts: a third frame for it is not the end line.
    const more = parse(links.replace('netpath-probes end\n', `@${M} links 1 missing\nnetpath-probes end\n`), ['links']);
    assert.ok(more.kind === 'broken');
    assert.match(more.why, new RegExp(`expected the end line after the last probe, found "@${M} links 1 missing"`));
    const trailing = parse(`${links}junk`, ['links']);
    assert.ok(trailing.kind === 'broken');
    assert.match(trailing.why, /^4 bytes after the end line/);
    const unknown = parse(`netpath-probes 2\n@${M} links unknown\nnetpath-probes end\n`, ['links']);
    assert.ok(unknown.kind === 'broken');
  });

  test('output that is not the script at all (no shell ran it, an older script) is unusable, with what came instead', () => {
    const p = parse('OCI runtime exec failed: exec failed: unable to start container process: exec: "sh": executable file not found in $PATH: unknown\r\n', ['links']);
    assert.equal(p.kind, 'unusable');
    assert.match(p.kind === 'unusable' ? p.why : '', /does not start with the probe script's header "netpath-probes 2" but "OCI runtime/);
    assert.equal(parse('', ['links']).kind, 'unusable');
    assert.equal(parse('netpath-probes 1\n@links 0 out 0\n\n', ['links']).kind, 'unusable');
  });
});
