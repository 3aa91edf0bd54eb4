import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { EXIT_BAD_INPUT, EXIT_OK, EXIT_USAGE, run } from '../../../src/cli/main';
import { KubeError } from '../../../src/kube/api';
import { FakeCluster } from '../kube/fake-cluster';
import { fakeIo } from './fake-io';


const capture = (hosts: unknown[]) => JSON.stringify({ apiVersion: 'netpath/v1', kind: 'Capture', metadata: { cluster: 'c1' }, hosts });

describe('netpath parse', () => {
  test('prints records and issues as JSON, each with its source line', async () => {
    const f = fakeIo({ 'in.txt': 'net.ipv4.ip_forward = 1\nthis is not sysctl\nnet.ipv4.conf.cni0.rp_filter = 2\n' });
    assert.equal(await run(['parse', 'sysctl', 'in.txt'], f.io), EXIT_OK);
    const doc = JSON.parse(f.stdout());
    assert.equal(doc.probe, 'sysctl');
    assert.deepEqual(doc.records.map((r: { key: string; src: { line: number } }) => [r.key, r.src.line]), [['net.ipv4.ip_forward', 1], ['net.ipv4.conf.cni0.rp_filter', 3]]);
    assert.deepEqual(doc.issues.map((i: { line: number }) => i.line), [2]);
    assert.match(f.stderr(), /1 line\(s\) of sysctl could not be parsed/);
  });

  test('route without -n: lines kept with a gateway printed as a name are told apart from lines that gave nothing', async () => {
    const table = [
      'Kernel IP routing table',
      'Destination     Gateway         Genmask         Flags Metric Ref    Use Iface',
      'default         _gateway        0.0.0.0         UG    100    0        0 eth0',
      '10.0.0.0        0.0.0.0         255.255.255.0   U     0      0        0 eth0',
      'kube-svc        _gateway        255.240.0.0     UG    0      0        0 eth0',
      '10.244.2.0      qcloud-offline- 255.255.255.0   UG    0      0        0 eth0',
    ].join('\n');
    const f = fakeIo({ 'route.txt': table });
    assert.equal(await run(['parse', 'routes4', 'route.txt'], f.io), EXIT_OK);
    const doc = JSON.parse(f.stdout());
    assert.equal(doc.records.length, 3);
    assert.deepEqual(doc.issues.map((i: { line: number; kept?: boolean }) => [i.line, i.kept === true]), [[3, true], [5, false], [6, true]]);
    assert.match(f.stderr(), /^netpath: 1 line\(s\) of routes4 could not be parsed; see "issues"$/m);
    assert.match(f.stderr(), /^netpath: 2 line\(s\) of routes4 were read but lack something \(e\.g\. a gateway printed as a name\); see "issues"$/m);
    // --strict wants every line whole.
    assert.equal(await run(['parse', 'routes4', 'route.txt', '--strict'], fakeIo({ 'route.txt': table.split('\n').filter((l) => !l.startsWith('kube-svc')).join('\n') }).io), EXIT_BAD_INPUT);
  });

  test('--strict turns unparsed lines into exit 1', async () => {
    const f = fakeIo({ 'in.txt': 'net.ipv4.ip_forward = 1\ngarbage\n' });
    assert.equal(await run(['parse', 'sysctl', 'in.txt', '--strict'], f.io), EXIT_BAD_INPUT);
  });

  test('input with nothing usable is bad input (exit 1) with a message', async () => {
    const f = fakeIo({ 'in.txt': 'garbage\nmore garbage\n' });
    assert.equal(await run(['parse', 'sysctl', 'in.txt'], f.io), EXIT_BAD_INPUT);
    assert.match(f.stderr(), /nothing in the input could be read as sysctl output/);
  });

  test('--text prints an aligned table', async () => {
    const f = fakeIo({ '-': 'net.ipv4.ip_forward = 1\n' });
    assert.equal(await run(['parse', 'sysctl', '--text'], f.io), EXIT_OK);
    assert.match(f.stdout(), /^LINE\s+KIND\s+KEY\s+DETAILS\n1\s+sysctl\s+net\.ipv4\.ip_forward\s+1\n$/);
  });

  test('an unknown probe is a usage error (exit 2) that lists the probes', async () => {
    const f = fakeIo();
    assert.equal(await run(['parse', 'routez', 'x'], f.io), EXIT_USAGE);
    assert.match(f.stderr(), /unknown probe "routez"; expected one of: links, addrs, routes4/);
  });

  test('a missing file is bad input (exit 1) naming the file', async () => {
    const f = fakeIo();
    assert.equal(await run(['parse', 'links', 'nope.txt'], f.io), EXIT_BAD_INPUT);
    assert.match(f.stderr(), /cannot read nope\.txt: no such file/);
  });

  test('--help works on every command and exits 0', async () => {
    for (const args of [['--help'], ['parse', '--help'], ['capture', '--help'], ['capture', 'show', '--help']]) {
      const f = fakeIo();
      assert.equal(await run(args, f.io), EXIT_OK, args.join(' '));
      assert.match(f.stdout(), /Usage: netpath/);
    }
  });

  test('an unknown option is a usage error', async () => {
    const f = fakeIo();
    assert.equal(await run(['parse', 'links', '--frobnicate'], f.io), EXIT_USAGE);
  });
});

describe('netpath capture show', () => {
  const doc = capture([
    { name: 'n1', role: 'node', ips: ['10.4.7.21'], podCIDRs: ['10.244.0.0/24'], probes: { sysctl: 'net.ipv4.ip_forward = 1\nbroken line\n' } },
    { name: 'web-0', role: 'pod', node: 'n1', namespace: 'default', pod: 'web-0', ips: ['10.244.0.10'] },
  ]);

  test('summarises hosts, roles, probes and parse issues', async () => {
    const f = fakeIo({ 'c.json': doc });
    assert.equal(await run(['capture', 'show', 'c.json'], f.io), EXIT_OK);
    const out = f.stdout();
    assert.match(out, /^cluster c1\n1 node, 1 pod, 0 switches, 0 routers; 0 links\n/);
    assert.match(out, /n1\s+node\s+10\.4\.7\.21\s+sysctl\(1, 1!\)/);
    assert.match(out, /web-0\s+pod\s+default\/web-0 on n1\s+10\.244\.0\.10\s+\(no probes\)/);
    assert.match(out, /parse issues: 1\n {2}n1 sysctl line 2: expected "key = value"/);
  });

  test('--json gives the same summary as data', async () => {
    const f = fakeIo({ 'c.json': doc });
    assert.equal(await run(['capture', 'show', 'c.json', '--json'], f.io), EXIT_OK);
    const sum = JSON.parse(f.stdout());
    assert.deepEqual(sum.counts, { node: 1, pod: 1, router: 0, switch: 0 });
    assert.equal(sum.totalIssues, 1);
  });

  test('an invalid capture is bad input with JSON paths on stderr', async () => {
    const f = fakeIo({ 'c.json': capture([{ name: 'n1', role: 'nod' }]) });
    assert.equal(await run(['capture', 'show', 'c.json'], f.io), EXIT_BAD_INPUT);
    assert.match(f.stderr(), /c\.json is not a valid netpath capture:\n {2}hosts\[0\]\.role: expected one of "node", "pod", "router", "switch", got "nod"/);
  });

  test('a hostile host name cannot write control characters to the terminal', async () => {
    const f = fakeIo({ 'c.json': capture([{ name: 'n1\u001b[2J', role: 'node' }]) });
    assert.equal(await run(['capture', 'show', 'c.json'], f.io), EXIT_OK);
    assert.ok(!f.stdout().includes('\u001b'));
    assert.match(f.stdout(), /n1\\x1b\[2J/);
  });
});

describe('the built CLI through npm (the contract other tests use)', () => {
  test('npm run --silent netpath -- parse reads stdin and exits 0', async () => {
    const r = spawnSync('npm', ['run', '--silent', 'netpath', '--', 'parse', 'sysctl', '-'], { cwd: join(__dirname, '../../..'), input: 'net.ipv4.ip_forward = 1\n', encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).records[0].value, '1');
  });

  test('usage errors exit 2', async () => {
    const r = spawnSync('npm', ['run', '--silent', 'netpath', '--', 'parse'], { cwd: join(__dirname, '../../..'), encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /missing required argument 'probe'/);
  });
});

describe('netpath trace', () => {
  const repo = join(__dirname, '../../..');
  const demo = join(repo, 'examples/demo-flannel-vxlan.json');
  const npmTrace = (args: string[]) => spawnSync('npm', ['run', '--silent', 'netpath', '--', 'trace', ...args], { cwd: repo, encoding: 'utf8' });

  test('--json follows the spec: verdict, hops with host/in/out/steps {kind, text, evidence}, dropAt', async () => {
    const r = npmTrace(['--capture', demo, '--from', 'default/web-0', '--to', '10.244.1.3', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const t = JSON.parse(r.stdout);
    assert.equal(t.verdict, 'delivered');
    assert.equal(t.dropAt, null);
    assert.deepEqual(t.hops.map((h: { host: string }) => h.host), ['web-0', 'k8s-node1', 'tor', 'k8s-node2', 'web-1']);
    for (const h of t.hops) {
      assert.ok('in' in h && 'out' in h && Array.isArray(h.steps));
      for (const s of h.steps) assert.ok(typeof s.kind === 'string' && typeof s.text === 'string' && typeof s.evidence === 'string');
    }
    assert.equal(t.hops[0].in, null);
  });

  test('without --capture the bundled demo is traced; a drop prints where and why', async () => {
    const r = npmTrace(['--from', 'default/web-0', '--to', 'default/web-1', '--size', '1500']);
    assert.equal(r.status, 3, r.stderr); // dropped: trace gates a script as ping does
    assert.match(r.stdout, /^web-0 \(10\.244\.0\.3\) -> web-1 \(10\.244\.1\.3\), icmp, 1500 bytes, DF\nverdict: MTU-EXCEEDED at web-0 eth0\n/);
    assert.match(r.stdout, /\| web-0 links:\d+ {2}2: eth0@if7:/);
  });

  test('an unknown pod is bad input (exit 1) naming the hosts that exist', async () => {
    const f = fakeIo({ 'demo.json': readFileSync(demo, 'utf8') });
    assert.equal(await run(['trace', '--from', 'default/nope', '--to', '10.244.1.3'], f.io), EXIT_BAD_INPUT);
    assert.match(f.stderr(), /--from "default\/nope" is not a host, namespace\/pod or IP in this capture; hosts: k8s-node1/);
  });

  test('bad numbers and protocols are usage errors (exit 2)', async () => {
    for (const args of [['--size', 'big'], ['--proto', 'gre'], ['--port', '-1'], ['--proto', 'tcp', '--port', '70000'], ['--port', '80']]) {
      const f = fakeIo({ 'demo.json': readFileSync(demo, 'utf8') });
      assert.equal(await run(['trace', '--from', 'web-0', '--to', 'web-1', ...args], f.io), EXIT_USAGE, args.join(' '));
    }
    const f = fakeIo();
    assert.equal(await run(['trace', '--to', 'web-1'], f.io), EXIT_USAGE);
    assert.match(f.stderr(), /required option '--from <src>' not specified/);
  });

  test('a capture that is not valid is bad input', async () => {
    const f = fakeIo({ 'bad.json': '{"apiVersion":"netpath/v2","kind":"Capture","hosts":[]}' });
    assert.equal(await run(['trace', '--capture', 'bad.json', '--from', 'a', '--to', 'b'], f.io), EXIT_BAD_INPUT);
    assert.match(f.stderr(), /apiVersion: this capture is "netpath\/v2", newer than this netpath reads/);
  });
});

describe('live clusters from the CLI', () => {
  const demoCapture = () => {
    const c = JSON.parse(readFileSync(join(__dirname, '../../../examples/demo-flannel-vxlan.json'), 'utf8'));
    c.hosts = c.hosts.filter((h: { role: string }) => h.role === 'node' || h.role === 'pod');
    delete c.links;
    return c;
  };

  test('trace --context reads only the path and prints the verdict; --save keeps what was read', async () => {
    const fake = new FakeCluster(demoCapture());
    const f = fakeIo();
    f.io.cluster = (o) => {
      assert.equal(o.context, 'lab');
      return fake;
    };
    assert.equal(await run(['trace', '--context', 'lab', '--from', 'default/web-0', '--to', 'default/web-1', '--json', '--save', 'read.json'], f.io), EXIT_OK, f.stderr());
    assert.equal(JSON.parse(f.stdout()).verdict, 'delivered');
    assert.match(f.stderr(), /read 4 hosts with \d+ exec calls/);
    const saved = JSON.parse(f.files['read.json']!);
    assert.ok(saved.hosts.find((h: { name: string; probes?: object }) => h.name === 'k8s-node1').probes);
    assert.ok(!saved.hosts.find((h: { name: string; probes?: object }) => h.name === 'k8s-node3').probes);
  });

  test('capture --context -o writes every host; problems per host go to stderr', async () => {
    const fake = new FakeCluster(demoCapture());
    fake.faults.set('default/web-1', { forbidden: true });
    const f = fakeIo();
    f.io.cluster = () => fake;
    assert.equal(await run(['capture', '--context', 'lab', '-o', 'out.json'], f.io), EXIT_OK, f.stderr());
    const doc = JSON.parse(f.files['out.json']!);
    assert.equal(doc.apiVersion, 'netpath/v1');
    assert.match(f.stderr(), /wrote out\.json: \d+ hosts/);
    assert.match(f.stderr(), /netpath: CNI flannel \(vxlan\), from DaemonSet kube-system\/kube-flannel-ds \(docker\.io\/flannel\/flannel:v0\.26\.1\); ConfigMap kube-system\/kube-flannel-cfg net-conf\.json: Backend\.Type vxlan/);
    const show = fakeIo({ 'out.json': f.files['out.json']! });
    assert.equal(await run(['capture', 'show', 'out.json'], show.io), EXIT_OK);
    assert.match(show.stdout(), /^cluster fake, captured [^\n]+\nCNI: flannel \(vxlan\), from DaemonSet/);
    assert.match(f.stderr(), /web-1: exec .* forbidden \(403\)[^\n]*\n {4}Your RBAC role does not allow this/);
  });

  test('capture without -o is a usage error; a bad kubeconfig is bad input with a hint', async () => {
    const f = fakeIo();
    assert.equal(await run(['capture', '--context', 'lab'], f.io), EXIT_USAGE);
    assert.match(f.stderr(), /capture needs -o FILE/);
    const g = fakeIo();
    g.io.cluster = () => {
      throw new KubeError('config', 'context "nope" is not in the kubeconfig (contexts: lab)', 'Pick one of the listed contexts (kubectl config get-contexts).');
    };
    assert.equal(await run(['trace', '--context', 'nope', '--from', 'a', '--to', 'b'], g.io), EXIT_BAD_INPUT);
    assert.match(g.stderr(), /context "nope" is not in the kubeconfig \(contexts: lab\)\n {2}Pick one/);
  });

  test('a capture file and a cluster together are a usage error', async () => {
    const f = fakeIo();
    assert.equal(await run(['trace', '--context', 'lab', '--capture', 'x.json', '--from', 'a', '--to', 'b'], f.io), EXIT_USAGE);
  });
});
