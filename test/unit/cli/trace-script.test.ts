// `netpath trace` as a tool in scripts: exit codes that follow the verdict, --json untouched by them,
// colour only where it belongs (and never a control character from captured data), --short.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WriteStream } from 'node:tty';
import { after, describe, test } from 'node:test';
import { EXIT_BAD_INPUT, EXIT_DROPPED, EXIT_INSUFFICIENT_DATA, EXIT_OK, EXIT_USAGE, run } from '../../../src/cli/main';
import { traceExitCode } from '../../../src/cli/exit';
import { ansi, plain, useColor, type Role, type Style, type Terminal } from '../../../src/cli/style';
import { traceShort, traceText } from '../../../src/cli/traceText';
import type { Capture } from '../../../src/capture/document';
import { VERDICTS, type TraceRequest, type TraceResult } from '../../../src/engine';
import { FakeCluster } from '../kube/fake-cluster';
import { fakeIo } from './fake-io';
import { demo, edit, trace } from '../webview/cases';

const repo = join(__dirname, '../../..');
const ESC = '\u001b';
/** SGR sequences (colour, bold, dim) are the only escape codes the palette writes. */
const SGR = new RegExp(`${ESC}\\[\\d+(;\\d+)*m`, 'g');
const stripSgr = (t: string) => t.replace(SGR, '');
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

/** A terminal as Node's tty.WriteStream judges it (its real hasColors), without needing a tty. */
const realHasColors = WriteStream.prototype.hasColors as (env?: object) => boolean;
const tty: Terminal = { isTTY: true, hasColors: (env?: object) => realHasColors.call(undefined, env ?? {}) };
const pipe: Terminal = {};


const demoText = readFileSync(join(repo, 'examples/demo-flannel-vxlan.json'), 'utf8');
const json = (c: Capture) => JSON.stringify(c);
/** k8s-node2's tables are missing: the packet reaches the switch and nobody knows where p2 leads. */
function insufficient(): Capture {
  const c = demo();
  delete c.hosts.find((h) => h.name === 'k8s-node2')!.probes;
  return c;
}
/** web-1's MAC is missing from k8s-node2's bridge: cni0 floods, one copy reaches web-1. */
const flood = () => edit(demo(), 'k8s-node2', 'fdb', (ls) => ls.filter((l) => !l.startsWith('0a:58:0a:f4:01:03 ')));
/** Two next hops on k8s-node1: one reaches web-1, the other dies at the router. */
const ecmp = () => edit(demo(), 'k8s-node1', 'routes4', (ls) => ls.flatMap((l) => (l.startsWith('10.244.1.0/24') ? ['10.244.1.0/24 proto static ', '\tnexthop via 10.4.7.22 dev eth0 weight 1 ', '\tnexthop via 10.4.7.1 dev eth0 weight 1 '] : [l])));
/** web-1 has no tables: its side is inferred from its node, and marked so. */
function inferredPod(): Capture {
  const c = demo();
  delete c.hosts.find((h) => h.name === 'web-1')!.probes;
  return c;
}

interface Case {
  name: string;
  capture: () => Capture;
  req: TraceRequest;
  verdict: string;
  code: number;
}
const cases: Case[] = [
  { name: 'web-0 -> web-1 delivered', capture: demo, req: { from: 'default/web-0', to: 'default/web-1' }, verdict: 'delivered', code: EXIT_OK },
  { name: '--size 1500 mtu-exceeded', capture: demo, req: { from: 'default/web-0', to: 'default/web-1', size: 1500 }, verdict: 'mtu-exceeded', code: EXIT_DROPPED },
  { name: 'an address nobody owns: neighbor-failed', capture: demo, req: { from: 'default/web-0', to: '10.4.7.99' }, verdict: 'neighbor-failed', code: EXIT_DROPPED },
  { name: 'nowhere to go: no-route', capture: demo, req: { from: 'default/web-0', to: '192.168.1.1' }, verdict: 'no-route', code: EXIT_DROPPED },
  { name: 'a node without tables: insufficient-data', capture: insufficient, req: { from: 'default/web-0', to: 'default/web-1' }, verdict: 'insufficient-data', code: EXIT_INSUFFICIENT_DATA },
  { name: 'a flood where one copy arrives: delivered', capture: flood, req: { from: 'default/web-0', to: 'default/web-1' }, verdict: 'delivered', code: EXIT_OK },
  { name: 'ECMP where one branch dies: no-route', capture: ecmp, req: { from: 'default/web-0', to: 'default/web-1' }, verdict: 'no-route', code: EXIT_DROPPED },
];
const argsOf = (req: TraceRequest) => ['--capture', 'c.json', '--from', req.from, '--to', req.to, ...(req.size ? ['--size', String(req.size)] : [])];

describe('netpath trace exit codes', () => {
  for (const c of cases) {
    test(`${c.name}: exit ${c.code} in the default, --short and --json forms`, async () => {
      for (const form of [[], ['--short'], ['--json']]) {
        const f = fakeIo({ 'c.json': json(c.capture()) });
        assert.equal(await run(['trace', ...argsOf(c.req), ...form], f.io), c.code, `${form.join(' ')}: ${f.stderr()}`);
        assert.equal(f.stderr(), '');
        if (form[0] === '--json') assert.equal(JSON.parse(f.stdout()).verdict, c.verdict);
        else assert.match(f.stdout(), new RegExp(`^verdict: ${c.verdict.toUpperCase()}`, 'm'));
      }
    });
  }

  test('every verdict but delivered and insufficient-data is a drop', () => {
    for (const v of VERDICTS) assert.equal(traceExitCode(v), v === 'delivered' ? 0 : v === 'insufficient-data' ? 4 : 3, v);
    assert.deepEqual([EXIT_OK, EXIT_BAD_INPUT, EXIT_USAGE, EXIT_DROPPED, EXIT_INSUFFICIENT_DATA], [0, 1, 2, 3, 4]);
  });

  test('bad input exits 1 saying what and where; usage exits 2', async () => {
    const unknown = fakeIo({ 'c.json': demoText });
    assert.equal(await run(['trace', '--capture', 'c.json', '--from', 'default/nope', '--to', '10.244.1.3'], unknown.io), EXIT_BAD_INPUT);
    assert.match(unknown.stderr(), /--from "default\/nope" is not a host/);
    const missing = fakeIo({});
    assert.equal(await run(['trace', '--capture', 'gone.json', '--from', 'a', '--to', 'b'], missing.io), EXIT_BAD_INPUT);
    assert.match(missing.stderr(), /cannot read gone\.json: no such file/);
    const invalid = fakeIo({ 'c.json': '{"apiVersion":"netpath/v1","kind":"Capture","hosts":[{"name":"n1","role":"nod"}]}' });
    assert.equal(await run(['trace', '--capture', 'c.json', '--from', 'a', '--to', 'b', '--json'], invalid.io), EXIT_BAD_INPUT);
    assert.match(invalid.stderr(), /hosts\[0\]\.role/);
    assert.equal(invalid.stdout(), '');
    for (const extra of [['--size', 'big'], ['--short', '--json'], ['--proto', 'gre'], ['--sport', '80']]) {
      const f = fakeIo({ 'c.json': demoText });
      assert.equal(await run(['trace', '--capture', 'c.json', '--from', 'default/web-0', '--to', 'default/web-1', ...extra], f.io), EXIT_USAGE, extra.join(' '));
      assert.equal(f.stdout(), '');
    }
  });

  test('a live trace (--context) exits by its verdict too: 0, 3, and 4 when a node cannot be read', async () => {
    const liveDemo = () => {
      const c = demo();
      c.hosts = c.hosts.filter((h) => h.role === 'node' || h.role === 'pod');
      delete c.links;
      return c;
    };
    const live = async (extra: string[], fault?: string) => {
      const fake = new FakeCluster(liveDemo());
      if (fault) fake.faults.set(fault, { forbidden: true });
      const f = fakeIo({});
      f.io.cluster = () => fake;
      const code = await run(['trace', '--context', 'lab', '--from', 'default/web-0', '--to', 'default/web-1', '--json', ...extra], f.io);
      return { code, verdict: JSON.parse(f.stdout()).verdict as string, stderr: f.stderr() };
    };
    const ok = await live([]);
    assert.deepEqual([ok.code, ok.verdict], [EXIT_OK, 'delivered'], ok.stderr);
    const mtu = await live(['--size', '1500']);
    assert.deepEqual([mtu.code, mtu.verdict], [EXIT_DROPPED, 'mtu-exceeded'], mtu.stderr);
    const blind = await live([], 'kube-system/kube-flannel-ds-k8s-node2');
    assert.deepEqual([blind.code, blind.verdict], [EXIT_INSUFFICIENT_DATA, 'insufficient-data'], blind.stderr);
    assert.match(blind.stderr, /k8s-node2: exec .* forbidden/);
  });

  test('trace --help lists the exit codes', async () => {
    const f = fakeIo({});
    assert.equal(await run(['trace', '--help'], f.io), EXIT_OK);
    const help = f.stdout();
    for (const line of [/^ {2}0 +the packet is delivered$/m, /^ {2}1 +bad input/m, /^ {2}2 +usage/m, /^ {2}3 +the packet is dropped/m, /^ {2}4 +the capture lacks the data to decide \(verdict insufficient-data\)$/m]) assert.match(help, line);
    assert.match(help, /--short/);
    assert.match(help, /--no-color/);
  });
});

describe('netpath trace --json is the engine\'s result, whatever else is asked', () => {
  for (const c of cases) {
    test(c.name, async () => {
      const expected = JSON.stringify(trace(c.capture(), c.req), null, 2) + '\n';
      // With colour forced three ways at once, on a terminal: --json still prints only the JSON.
      for (const term of [{}, { env: { FORCE_COLOR: '1', TERM: 'xterm-256color' }, stdout: tty }]) {
        for (const flags of [[], ['--color']]) {
          const f = fakeIo({ 'c.json': json(c.capture()) }, term);
          assert.equal(await run(['trace', ...argsOf(c.req), '--json', ...flags], f.io), c.code);
          assert.equal(f.stdout(), expected);
          assert.ok(!f.stdout().includes(ESC));
        }
      }
    });
  }
});

describe('whether to colour', () => {
  const term = { TERM: 'xterm-256color' };
  test('a terminal gets colour; a pipe does not', () => {
    assert.equal(useColor({ env: term, stdout: tty }), true);
    assert.equal(useColor({ env: term, stdout: pipe }), false);
    assert.equal(useColor({ env: term }), false);
  });

  test('NO_COLOR with any non-empty value turns it off; an empty one does not (no-color.org)', () => {
    for (const v of ['1', 'true', '0', 'yes']) assert.equal(useColor({ env: { ...term, NO_COLOR: v }, stdout: tty }), false, v);
    assert.equal(useColor({ env: { ...term, NO_COLOR: '' }, stdout: tty }), true);
  });

  test('TERM=dumb turns it off', () => {
    assert.equal(useColor({ env: { TERM: 'dumb' }, stdout: tty }), false);
  });

  test('FORCE_COLOR as Node reads it: 1/2/3/true/empty force it even into a pipe, other values turn it off', () => {
    for (const v of ['1', '2', '3', 'true', '']) assert.equal(useColor({ env: { FORCE_COLOR: v }, stdout: pipe }), true, v);
    for (const v of ['0', 'false']) assert.equal(useColor({ env: { ...term, FORCE_COLOR: v }, stdout: tty }), false, v);
    // As in Node (and chalk), FORCE_COLOR wins over NO_COLOR and TERM=dumb.
    assert.equal(useColor({ env: { FORCE_COLOR: '1', NO_COLOR: '1', TERM: 'dumb' }, stdout: pipe }), true);
  });

  test('--color and --no-color win over everything', () => {
    assert.equal(useColor({ flag: true, env: { NO_COLOR: '1', TERM: 'dumb', FORCE_COLOR: '0' }, stdout: pipe }), true);
    assert.equal(useColor({ flag: false, env: { ...term, FORCE_COLOR: '1' }, stdout: tty }), false);
  });

  test('Node\'s own check of the terminal has the last word', () => {
    assert.equal(useColor({ env: term, stdout: { isTTY: true, hasColors: () => false } }), false);
    assert.equal(useColor({ env: term, stdout: { isTTY: true, hasColors: () => true } }), true);
  });

  const runs: { name: string; env: Record<string, string>; stdout: Terminal; flags?: string[]; color: boolean }[] = [
    { name: 'a terminal', env: term, stdout: tty, color: true },
    { name: 'a pipe', env: term, stdout: pipe, color: false },
    { name: 'NO_COLOR=1 on a terminal', env: { ...term, NO_COLOR: '1' }, stdout: tty, color: false },
    { name: 'TERM=dumb on a terminal', env: { TERM: 'dumb' }, stdout: tty, color: false },
    { name: 'FORCE_COLOR=1 into a pipe', env: { FORCE_COLOR: '1' }, stdout: pipe, color: true },
    { name: 'FORCE_COLOR=0 on a terminal', env: { ...term, FORCE_COLOR: '0' }, stdout: tty, color: false },
    { name: '--color into a pipe', env: term, stdout: pipe, flags: ['--color'], color: true },
    { name: '--no-color on a terminal with FORCE_COLOR=1', env: { ...term, FORCE_COLOR: '1' }, stdout: tty, flags: ['--no-color'], color: false },
  ];
  for (const r of runs) {
    test(`netpath trace on ${r.name}: ${r.color ? 'coloured' : 'no escape codes'}, in both text forms`, async () => {
      for (const form of [[], ['--short']]) {
        const f = fakeIo({ 'demo.json': demoText }, { env: r.env, stdout: r.stdout });
        assert.equal(await run(['trace', '--from', 'default/web-0', '--to', 'default/web-1', '--size', '1500', ...form, ...(r.flags ?? [])], f.io), EXIT_DROPPED);
        const out = f.stdout();
        assert.equal(out.includes(ESC), r.color, form.join(' '));
        if (r.color) assert.ok(out.includes('\nverdict: \u001b[31mMTU-EXCEEDED\u001b[39m'), out);
      }
    });
  }
});

/** Marks each role in the text, so a test reads which piece got which paint. */
const tag = (r: Role) => (t: string) => `<${r}>${t}</${r}>`;
const tags: Style = { ok: tag('ok'), drop: tag('drop'), unknown: tag('unknown'), where: tag('where'), host: tag('host'), kind: tag('kind'), inferred: tag('inferred'), evidence: tag('evidence'), quiet: tag('quiet') };
const untag = (t: string) => t.replace(/<\/?[a-z]+>/g, '');

describe('the palette paints the trace', () => {
  const results: [string, TraceResult][] = [...cases.map((c): [string, TraceResult] => [c.name, trace(c.capture(), c.req)]), ['inferred pod', trace(inferredPod(), { from: 'default/web-0', to: 'default/web-1' })]];

  test('colour adds escape codes and nothing else; plain adds none', () => {
    for (const [name, r] of results) {
      for (const fmt of [traceText, traceShort]) {
        const p = fmt(r, plain);
        assert.ok(!p.includes(ESC), name);
        const c = fmt(r, ansi);
        assert.notEqual(c, p, name);
        assert.equal(stripSgr(c), p, name);
        assert.equal(untag(fmt(r, tags)), p, name);
      }
    }
  });

  test('the verdict is green when delivered, red when dropped, yellow when undecided; the drop point in bold on top', () => {
    const [ok, mtu, , , undecided] = results.map(([, r]) => r);
    assert.match(traceText(ok!, tags), /^verdict: <ok>DELIVERED<\/ok>$/m);
    assert.match(traceText(mtu!, tags), /^verdict: <drop>MTU-EXCEEDED<\/drop> at <where><drop>web-0 eth0<\/drop><\/where>$/m);
    assert.match(traceText(undecided!, tags), /^verdict: <unknown>INSUFFICIENT-DATA<\/unknown> at <where><unknown>tor p2<\/unknown><\/where>$/m);
    assert.equal(ansi.ok('x'), '\u001b[32mx\u001b[39m');
    assert.equal(ansi.drop('x'), '\u001b[31mx\u001b[39m');
    assert.equal(ansi.evidence('x'), '\u001b[2mx\u001b[22m');
  });

  test('every step kind, every evidence line and every inferred mark is painted', () => {
    const r = results.find(([n]) => n === 'inferred pod')![1];
    const out = traceText(r, tags);
    const steps = r.hops.flatMap((h) => h.steps);
    assert.equal(out.match(/<kind>[a-z-]+<\/kind>/g)?.length, steps.length);
    assert.equal(out.match(/^ +<evidence>\| .+<\/evidence>$/gm)?.length, steps.flatMap((s) => s.records).length);
    assert.equal(out.match(/<\/kind><inferred>\*<\/inferred>/g)?.length, steps.filter((s) => s.inferred).length);
    assert.ok(steps.some((s) => s.inferred));
    assert.match(out, /^ {2}<inferred>\(some steps are inferred/m);
  });

  test('flood copies at the wrong host are quiet, not red', () => {
    const r = results.find(([n]) => n.startsWith('a flood'))![1];
    assert.match(traceText(r, tags), /^ {2}flood [^:]+: <quiet>wrong-destination<\/quiet> at <quiet>[^<]+<\/quiet>$/m);
    assert.match(traceText(r, tags), /^ {2}flood [^:]+: <ok>delivered<\/ok>$/m);
  });

  test('control characters in captured names and lines are escaped before any colour is added', () => {
    const evil = 'web-1\u001b]0;owned\u0007\u001b[2J\u009b';
    const c = demo();
    const web1 = c.hosts.find((h) => h.name === 'web-1')!;
    web1.name = evil;
    web1.probes!.addrs = web1.probes!.addrs!.replace('scope global eth0', 'scope global eth0\u001b[5m');
    const r = trace(c, { from: 'default/web-0', to: 'default/web-1' });
    assert.equal(r.hops.at(-1)!.host, evil);
    for (const fmt of [traceText, traceShort]) {
      const out = fmt(r, ansi);
      assert.ok(!CONTROL.test(stripSgr(out)), fmt.name);
      assert.ok(stripSgr(out).includes('web-1\\x1b]0;owned\\x07\\x1b[2J\\x9b'), fmt.name);
    }
    assert.ok(stripSgr(traceText(r, ansi)).includes('scope global eth0\\x1b[5m'));
  });

  test('a step kind as long as its column still gets a space before the sentence', () => {
    const r = structuredClone(results[0]![1]);
    const s = r.hops[1]!.steps[0]!;
    s.kind = 'tunnel-encap';
    s.inferred = true;
    assert.match(traceText(r), new RegExp(`^ {6}tunnel-encap\\* ${s.text.split(' ')[0]}`, 'm'));
  });
});

describe('netpath trace --short', () => {
  const short = async (c: Case) => {
    const f = fakeIo({ 'c.json': json(c.capture()) });
    const code = await run(['trace', ...argsOf(c.req), '--short'], f.io);
    return { code, lines: f.stdout().split('\n').slice(0, -1), r: trace(c.capture(), c.req) };
  };
  const hopLine = (i: number, h: TraceResult['hops'][number]) => new RegExp(`^ *${i + 1}\\. ${h.host} +${h.in ?? '-'} +-> ${h.out ?? '-'}(  |$)`);

  test('one line per hop (host, in -> out, what decided there), then the verdict', async () => {
    const { code, lines, r } = await short(cases[0]!);
    assert.equal(code, EXIT_OK);
    // The hops, the verdict, then one line per thing the trace did not check.
    assert.equal(lines.length, r.hops.length + 1 + (r.unchecked?.length ?? 0));
    assert.deepEqual(lines.slice(r.hops.length + 1), (r.unchecked ?? []).map((u) => `not checked: ${u.text}`));
    lines.splice(r.hops.length + 1);
    r.hops.forEach((h, i) => assert.match(lines[i]!, hopLine(i, h)));
    const route = r.hops[0]!.steps.find((s) => s.kind === 'route')!;
    assert.ok(lines[0]!.endsWith(`route ${route.records[0]!.raw.trim()}`), lines[0]);
    const encap = r.hops[1]!.steps.find((s) => s.kind === 'vxlan-encap')!.tunnel!;
    assert.ok(lines[1]!.endsWith(`vxlan-encap VNI ${encap.vni} to ${encap.outerDst}:${encap.port}`), lines[1]);
    assert.match(lines.at(-2)!, / {2}deliver /);
    assert.equal(lines.at(-1), 'verdict: DELIVERED');
    // The columns line up: every hop's "->" at the same place.
    assert.equal(new Set(lines.slice(0, -1).map((l) => l.indexOf(' -> '))).size, 1);
  });

  test('the hop where the packet stops shows the verdict; the verdict line says why', async () => {
    const { code, lines, r } = await short(cases[1]!);
    assert.equal(code, EXIT_DROPPED);
    // The hops, the verdict, the most likely cause, what was not checked.
    const extra = (r.diagnosis?.length ? 1 : 0) + (r.unchecked?.length ?? 0);
    assert.equal(lines.length, r.hops.length + 1 + extra);
    const v = r.hops.length;
    assert.match(lines[v - 1]!, new RegExp(`  MTU-EXCEEDED at ${r.dropAt!.dev}$`));
    assert.equal(lines[v], `verdict: MTU-EXCEEDED at ${r.dropAt!.host} ${r.dropAt!.dev}: ${r.reason}`);
    assert.equal(r.diagnosis?.[0]?.kind, 'mtu-exceeded');
    assert.ok(lines[v + 1]!.startsWith(`diagnosis at ${r.diagnosis![0]!.host}: `), lines[v + 1]);
  });

  for (const c of [cases[5]!, cases[6]!]) {
    test(`several paths get one block each, headed by the branch and its verdict (${c.name})`, async () => {
      const { code, lines, r } = await short(c);
      assert.equal(code, c.code);
      const paths = r.paths.filter((p) => p.branch !== '');
      assert.ok(paths.length >= 2);
      const extra = (r.diagnosis?.length ? 1 : 0) + (r.unchecked?.length ?? 0);
      assert.equal(lines.length, paths.reduce((n, p) => n + 1 + p.hops.length, 0) + 1 + extra);
      let at = 0;
      paths.forEach((p, k) => {
        assert.ok(lines[at]!.startsWith(`path ${k + 1} of ${paths.length}, ${p.branch}: ${p.verdict.toUpperCase()}`), lines[at]);
        p.hops.forEach((h, i) => assert.match(lines[at + 1 + i]!, hopLine(i, h)));
        at += 1 + p.hops.length;
      });
      assert.match(lines.at(-1 - extra)!, new RegExp(`^verdict: ${r.verdict.toUpperCase()}`));
    });
  }
});

describe('the built CLI (dist/cli.js) as a subprocess', () => {
  const cli = join(repo, 'dist/cli.js');
  const tmp = mkdtempSync(join(tmpdir(), 'netpath-cli-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  /** The environment of a script: no colour settings of the developer's shell leak in. */
  const env = (extra: Record<string, string> = {}) => {
    const e: Record<string, string | undefined> = { ...process.env, TERM: 'xterm-256color', ...extra };
    // CI and TEAMCITY_VERSION make Node's hasColors() say no on any terminal (CI runners set CI=true).
    for (const k of ['FORCE_COLOR', 'NO_COLOR', 'NODE_DISABLE_COLORS', 'CI', 'TEAMCITY_VERSION']) if (!(k in extra)) delete e[k];
    return e;
  };
  const node = (args: string[], extra?: Record<string, string>) => spawnSync(process.execPath, [cli, 'trace', ...args], { cwd: repo, encoding: 'utf8', env: env(extra) });

  test('exits 0 when delivered and 3 when dropped; piped output has no ESC byte unless FORCE_COLOR', () => {
    assert.ok(existsSync(cli), 'run node scripts/build.mjs first');
    const ok = node(['--from', 'default/web-0', '--to', 'default/web-1']);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^verdict: DELIVERED$/m);
    for (const form of [[], ['--short']]) {
      const drop = node(['--from', 'default/web-0', '--to', 'default/web-1', '--size', '1500', ...form]);
      assert.equal(drop.status, 3, drop.stderr);
      assert.match(drop.stdout, /verdict: MTU-EXCEEDED at web-0 eth0/);
      assert.ok(!drop.stdout.includes(ESC));
      const forced = node(['--from', 'default/web-0', '--to', 'default/web-1', '--size', '1500', ...form], { FORCE_COLOR: '1' });
      assert.equal(forced.status, 3);
      assert.ok(forced.stdout.includes(ESC));
      assert.equal(stripSgr(forced.stdout), drop.stdout);
    }
  });

  test('insufficient data exits 4 and bad input 1, through the file a user gives', () => {
    const file = join(tmp, 'no-node2.json');
    writeFileSync(file, json(insufficient()));
    const r = node(['--capture', file, '--from', 'default/web-0', '--to', 'default/web-1', '--json']);
    assert.equal(r.status, 4, r.stderr);
    assert.equal(JSON.parse(r.stdout).verdict, 'insufficient-data');
    const bad = node(['--capture', join(tmp, 'nope.json'), '--from', 'a', '--to', 'b']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /cannot read .*nope\.json: no such file/);
  });

  test('npm run --silent netpath -- trace --json: the JSON other tests read, with the exit code', () => {
    const r = spawnSync('npm', ['run', '--silent', 'netpath', '--', 'trace', '--from', 'default/web-0', '--to', 'default/web-1', '--size', '1500', '--json'], { cwd: repo, encoding: 'utf8', env: env({ FORCE_COLOR: '1' }) });
    assert.equal(r.status, 3, r.stderr);
    assert.equal(r.stdout, JSON.stringify(trace(demo(), { from: 'default/web-0', to: 'default/web-1', size: 1500 }), null, 2) + '\n');
  });

  // script(1) gives the CLI a real pseudo-terminal, so Node's own process.stdout decides.
  const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
  test('on a real terminal: colour, except with NO_COLOR or TERM=dumb; the exit code survives', { skip: !hasScript && 'script(1) is not installed' }, () => {
    const inPty = (extra: Record<string, string>) => spawnSync('script', ['-qec', `${process.execPath} ${cli} trace --from default/web-0 --to default/web-1 --size 1500 --short`, '/dev/null'], { cwd: repo, encoding: 'utf8', env: env(extra) });
    const coloured = inPty({});
    assert.equal(coloured.status, 3, coloured.stderr);
    assert.ok(coloured.stdout.includes('verdict: \u001b[31mMTU-EXCEEDED\u001b[39m'), coloured.stdout);
    for (const extra of [{ NO_COLOR: '1' }, { TERM: 'dumb' }] as Record<string, string>[]) {
      const r = inPty(extra);
      assert.equal(r.status, 3, JSON.stringify(extra));
      assert.match(r.stdout, /verdict: MTU-EXCEEDED/);
      assert.ok(!r.stdout.includes(ESC), JSON.stringify(extra));
    }
  });
});
