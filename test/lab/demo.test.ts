// The netns lab, for real: builds the demo cluster (test/lab/demo-cluster.ts), captures it, and checks
// that the capture holds the kernel's real tables, that it matches examples/demo-flannel-vxlan.json,
// and that nothing of the lab is left behind however a run ends.
//
// Needs root and network namespaces. Without them these tests FAIL with what is missing, unless
// NETPATH_SKIP_LAB=1 is set, in which case they are skipped.
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { kubernetesOf, parseCapture, serializeCapture, validateCapture, type Capture, type Host } from '../../src/capture/document';
import { PROBES } from '../../src/parsers';
import { PROBE_COMMANDS } from '../../src/capture/probes';
import { captureLab, describeGaps, writeCaptureFile } from './capture';
import { DEMO_CAPTURE_PATH, DEMO_CLUSTER, DEMO_SERVICES, demoKubernetes, runDemo, type DemoRun } from './demo-cluster';
import { iptChain } from './kube-proxy';
import { CommandError, Lab, checkPrerequisites, describeMissing, listNamespaces, parseLabNamespace, run, sweepStaleNamespaces, withLab } from './netns';
import { buildCluster } from './topology';

const SKIP = process.env.NETPATH_SKIP_LAB === '1';
const TIMEOUT = 120_000;

function labUnavailable(): string | undefined {
  const missing = describeMissing(checkPrerequisites());
  return missing ? `the netns lab cannot run here (set NETPATH_SKIP_LAB=1 to skip these tests):\n${missing}` : undefined;
}

const unavailable = SKIP ? undefined : labUnavailable();

const lines = (text: string | undefined): string[] =>
  (text ?? '')
    .split('\n')
    .map((l) => l.trimEnd())
    .filter(Boolean);

function host(c: Capture, name: string): Host {
  const h = c.hosts.find((x) => x.name === name);
  assert.ok(h, `host ${name} is missing from the capture`);
  return h;
}

function probe(c: Capture, name: string, p: string): string {
  const text = host(c, name).probes?.[p];
  assert.ok(text !== undefined, `${name} has no ${p} probe`);
  return text;
}

/** `N: name@peer: <FLAGS> mtu M ... MAC link-netnsid K` per interface of `ip -d link show`: everything stable about a link. */
function linkHeads(text: string | undefined): string[] {
  const out: string[] = [];
  for (const l of lines(text)) {
    const head = /^(\d+): (\S+): <([^>]*)> mtu (\d+)/.exec(l);
    if (head) out.push(`${head[1]}: ${head[2]} <${head[3]}> mtu ${head[4]}`);
    const ll = /^\s+link\/(\S+) (\S+)(?: brd \S+)?(?: (link-netnsid \d+))?/.exec(l);
    if (ll && out.length) out[out.length - 1] += ` ${ll[1]} ${ll[2]}${ll[3] ? ` ${ll[3]}` : ''}`;
  }
  return out;
}

/**
 * `bridge -s fdb` and `ip -s neigh` add counters that change from run to run (`used 2/2`; iproute2 6.1
 * prints `ref 1 used 0/60/0probes 4`, with no space before `probes`).
 */
function withoutStats(l: string): string {
  return l.replace(/\s+ref \d+/, '').replace(/\s+used \d+(?:\/\d+)*/, '').replace(/\s*probes \d+/, '').replace(/\s+/g, ' ').trim();
}

/** What must be identical between two captures of the demo: everything but timers, timestamps and neighbour freshness. */
function structure(c: Capture) {
  return {
    cluster: c.metadata?.cluster,
    links: c.links,
    hosts: c.hosts.map((h) => ({
      name: h.name,
      role: h.role,
      node: h.node,
      namespace: h.namespace,
      pod: h.pod,
      ips: h.ips,
      podCIDRs: h.podCIDRs,
      probes: Object.keys(h.probes ?? {}).sort(),
      routes4: lines(h.probes?.routes4).sort(),
      rules4: lines(h.probes?.rules4),
      links: linkHeads(h.probes?.links),
      permanentNeigh: lines(h.probes?.neigh).map(withoutStats).filter((l) => / PERMANENT$/.test(l)).sort(),
      permanentFdb: lines(h.probes?.fdb).map(withoutStats).filter((l) => / permanent$/.test(l)).sort(),
      iptables: ruleLines(h.probes?.iptables),
      ip6tables: ruleLines(h.probes?.ip6tables),
    })),
    kubernetes: c.kubernetes,
  };
}

/** iptables-save's rules and chains without its comment lines and packet counters, which change from run to run. */
function ruleLines(text: string | undefined): string[] {
  return lines(text)
    .filter((l) => !l.startsWith('#'))
    .map((l) => l.replace(/\[\d+:\d+\]$/, '[0:0]'));
}

const NODES = DEMO_CLUSTER.nodes;
const POD_NAMES = NODES.flatMap((n) => n.pods.map((p) => p.name));

if (SKIP) {
  test('netns lab', { skip: 'NETPATH_SKIP_LAB=1' }, () => {});
} else if (unavailable) {
  test('netns lab prerequisites', () => {
    assert.fail(unavailable);
  });
} else {
  describe('demo lab (flannel VXLAN, 3 nodes)', { timeout: TIMEOUT }, () => {
    let lab: Lab;
    let demo: DemoRun;
    let capture: Capture;

    before(async () => {
      sweepStaleNamespaces();
      lab = new Lab();
      demo = await runDemo(lab);
      capture = demo.result.capture;
    });
    after(() => lab?.disposeQuietly());

    test('every ping (same node, across nodes through flannel.1, to the router) got a reply', () => {
      assert.equal(demo.checks.length, 3 + 3 + 3);
      for (const c of demo.checks) assert.ok(c.ok, `${c.what}: ${c.from} -> ${c.to}\n${c.detail}`);
      for (const c of demo.checks.filter((x) => x.what.startsWith('across'))) assert.match(c.detail, /flannel\.1 packets: \S+ tx \+[1-9]\d*, \S+ rx \+[1-9]/);
    });

    test('the capture validates, without warnings, and survives serialisation', () => {
      const v = validateCapture(JSON.parse(JSON.stringify(capture)));
      assert.ok(v.ok, JSON.stringify(v));
      assert.deepEqual(v.warnings, []);
      assert.deepEqual(demo.result.warnings, []);
      const again = parseCapture(serializeCapture(capture));
      assert.ok(again.ok);
      assert.deepEqual(again.capture, capture);
      assert.equal(capture.metadata?.cluster, 'demo-flannel-vxlan');
      assert.match(capture.metadata?.capturedAt ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    });

    test('hosts, roles, IPs and podCIDRs are the demo topology', () => {
      assert.deepEqual(
        capture.hosts.map((h) => `${h.name}:${h.role}`),
        [...NODES.map((n) => `${n.name}:node`), ...POD_NAMES.map((p) => `${p}:pod`), 'tor:switch', 'gw:router'],
      );
      assert.deepEqual(host(capture, 'k8s-node1').ips, ['10.4.7.21']);
      assert.deepEqual(host(capture, 'k8s-node1').podCIDRs, ['10.244.0.0/24']);
      assert.deepEqual(host(capture, 'k8s-node2').podCIDRs, ['10.244.1.0/24']);
      assert.deepEqual(host(capture, 'k8s-node3').podCIDRs, ['10.244.2.0/24']);
      const web0 = host(capture, 'web-0');
      assert.deepEqual([web0.node, web0.namespace, web0.pod, web0.ips, web0.hostNetwork], ['k8s-node1', 'default', 'web-0', ['10.244.0.3'], false]);
      assert.equal(host(capture, 'coredns-6d8c4cb4d-q9m4r').namespace, 'kube-system');
      assert.deepEqual(host(capture, 'gw').ips, ['10.4.7.1']);
    });

    test('links cable every node eth0 and the router to a port of the switch', () => {
      assert.deepEqual(capture.links, [
        { a: { host: 'k8s-node1', dev: 'eth0' }, b: { host: 'tor', dev: 'p1' } },
        { a: { host: 'k8s-node2', dev: 'eth0' }, b: { host: 'tor', dev: 'p2' } },
        { a: { host: 'k8s-node3', dev: 'eth0' }, b: { host: 'tor', dev: 'p3' } },
        { a: { host: 'gw', dev: 'eth0' }, b: { host: 'tor', dev: 'p4' } },
      ]);
      const tor = probe(capture, 'tor', 'links');
      for (const p of ['p1', 'p2', 'p3', 'p4']) assert.match(tor, new RegExp(`^\\d+: ${p}@if2: .* master br0 state UP`, 'm'));
      assert.match(probe(capture, 'tor', 'brctl'), /^br0\s+8000\.\S+\s+no\s+p1$/m);
    });

    test('every host has every probe (the lab machine has all the tools)', () => {
      const missing = demo.result.outcomes.filter((o) => o.status !== 'ok');
      // Optional tools may be absent on another machine; `ip` and `bridge` never. ipvsadm needs the
      // kernel's IPVS, which this machine's kernel lacks: then, and only then, ipvs is missing.
      const optional = ['brctl', 'arp', 'iptables', 'ip6tables', 'nft', 'ipset'];
      for (const o of missing) {
        const why = `${o.host} ${o.probe}: ${o.notes.join('; ')}`;
        if (o.probe === 'ipvs') assert.match(o.notes.join('; '), /Can't initialize ipvs|not found|No such file/, why);
        else assert.ok(optional.includes(o.probe), why);
      }
      for (const h of capture.hosts) for (const p of ['links', 'addrs', 'routes4', 'routes6', 'rules4', 'neigh', 'fdb', 'sysctl']) assert.ok(h.probes?.[p] !== undefined, `${h.name} lacks ${p}`);
      assert.ok(Object.keys(host(capture, 'k8s-node1').probes ?? {}).every((p) => (PROBES as readonly string[]).includes(p)));
    });

    test("a node's routes4 is flannel's table: local subnet on cni0, one onlink route per remote subnet via flannel.1", () => {
      NODES.forEach((n, i) => {
        const routes = lines(probe(capture, n.name, 'routes4'));
        assert.ok(routes.includes('default via 10.4.7.1 dev eth0 proto static metric 100'), routes.join('\n'));
        assert.ok(routes.includes(`10.4.7.0/24 dev eth0 proto kernel scope link src ${n.ip} metric 100`));
        assert.ok(routes.includes(`10.244.${i}.0/24 dev cni0 proto kernel scope link src 10.244.${i}.1`));
        assert.ok(routes.includes('172.17.0.0/16 dev docker0 proto kernel scope link src 172.17.0.1 linkdown'));
        assert.ok(routes.includes(`local 10.244.${i}.0 dev flannel.1 table local proto kernel scope host src 10.244.${i}.0`));
        NODES.forEach((_, j) => {
          if (j !== i) assert.ok(routes.includes(`10.244.${j}.0/24 via 10.244.${j}.0 dev flannel.1 onlink`), `${n.name} lacks the route to 10.244.${j}.0/24:\n${routes.join('\n')}`);
        });
      });
      assert.ok(lines(probe(capture, 'k8s-node1', 'routes4')).includes('10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink'));
    });

    test("a node's fdb and neigh hold the remote VTEPs: FDB entry to the remote node IP, permanent ARP entry", () => {
      const plan = demo.built.plan;
      for (const n of plan.nodes) {
        const fdb = lines(probe(capture, n.name, 'fdb')).map(withoutStats);
        const neigh = lines(probe(capture, n.name, 'neigh')).map(withoutStats);
        for (const peer of plan.nodes.filter((p) => p !== n)) {
          const vtepIp = `10.244.${peer.podCIDR.addr.toString().split('.')[2]}.0`;
          assert.ok(fdb.includes(`${peer.vtepMac} dev flannel.1 dst ${peer.ip} self permanent`), `${n.name} fdb lacks ${peer.name}'s VTEP:\n${fdb.join('\n')}`);
          assert.ok(neigh.includes(`${vtepIp} dev flannel.1 lladdr ${peer.vtepMac} PERMANENT`), `${n.name} neigh lacks ${vtepIp}:\n${neigh.join('\n')}`);
        }
        const links = probe(capture, n.name, 'links');
        assert.match(links, new RegExp(`^\\d+: flannel\\.1: <[^>]*UP[^>]*> mtu 1450 `, 'm'));
        assert.match(links, new RegExp(`vxlan id 1 local ${n.ip.replace(/\./g, '\\.')} dev eth0 srcport 0 0 dstport 8472 nolearning`));
        assert.match(links, new RegExp(`link/ether ${n.vtepMac} `));
        assert.match(probe(capture, n.name, 'addrs'), new RegExp(`inet 10\\.244\\.\\d+\\.0/32 scope global flannel\\.1`));
        assert.match(probe(capture, n.name, 'sysctl'), /^net\.ipv4\.ip_forward = 1$/m);
      }
    });

    test("a pod's links show eth0@ifN with link-netnsid 0, N being its veth on the node, which is in cni0", () => {
      for (const n of demo.built.plan.nodes) {
        const nodeLinks = probe(capture, n.name, 'links');
        for (const p of n.pods) {
          const podLinks = probe(capture, p.name, 'links');
          const m = /^2: eth0@if(\d+): <[^>]*> mtu 1450 .*\n\s+link\/ether (\S+) brd \S+ link-netnsid 0 /m.exec(podLinks);
          assert.ok(m, `${p.name} links:\n${podLinks}`);
          assert.equal(m[2], p.mac);
          assert.match(p.mac, /^0a:58:0a:f4:/);
          assert.match(nodeLinks, new RegExp(`^${m[1]}: ${p.hostVeth}@if2: <[^>]*> mtu 1450 qdisc \\S+ master cni0 state UP`, 'm'));
          assert.match(nodeLinks, /bridge_slave state forwarding .*hairpin on/);
          const routes = lines(probe(capture, p.name, 'routes4'));
          const gw = `10.244.${n.podCIDR.addr.toString().split('.')[2]}.1`;
          assert.ok(routes.includes(`default via ${gw} dev eth0`), routes.join('\n'));
          assert.ok(routes.includes(`10.244.0.0/16 via ${gw} dev eth0`), routes.join('\n'));
          assert.ok(routes.includes(`${n.podCIDR} dev eth0 proto kernel scope link src ${p.ip}`), routes.join('\n'));
        }
      }
    });

    test("every node holds kube-proxy's rules for the demo's Services as the kernel took them (iptables-nft: iptables-save and nft list ruleset)", () => {
      const dns = DEMO_SERVICES.find((s) => s.name === 'kube-dns')!;
      // kube-proxy's own chain name for kube-dns:dns, as every cluster shows it.
      assert.equal(iptChain.svc(dns, dns.ports[0]!), 'KUBE-SVC-TCOU7JCQXEZGVUNU');
      for (const n of NODES) {
        const ipt = probe(capture, n.name, 'iptables');
        assert.match(ipt, /^:FORWARD DROP \[\d+:\d+\]$/m);
        assert.match(ipt, /^-A KUBE-SERVICES -d 10\.96\.0\.10\/32 -p udp -m comment --comment "kube-system\/kube-dns:dns cluster IP" -m udp --dport 53 -j KUBE-SVC-TCOU7JCQXEZGVUNU$/m);
        assert.match(ipt, /^-A KUBE-SVC-TCOU7JCQXEZGVUNU -m comment --comment "kube-system\/kube-dns:dns -> 10\.244\.0\.2:53" -m statistic --mode random --probability 0\.50000000000 -j KUBE-SEP-\w{16}$/m);
        assert.match(ipt, /^-A KUBE-SERVICES -d 10\.110\.7\.93\/32 -p tcp -m comment --comment "monitoring\/alertmanager:web has no endpoints" -m tcp --dport 9093 -j REJECT --reject-with icmp-port-unreachable$/m);
        assert.match(ipt, new RegExp(`^-A FLANNEL-POSTRTG -s ${n.podCIDR.replace(/[./]/g, '\\$&')} -d 10\\.244\\.0\\.0/16 -m comment --comment "flanneld masq" -j RETURN$`, 'm'));
        // eTP Local: only k8s-node3 runs the nginx pod; the other nodes drop its NodePort.
        const local = /-A KUBE-EXTERNAL-SERVICES -p tcp -m comment --comment "default\/nginx:http has no local endpoints" -m addrtype --dst-type LOCAL -m tcp --dport 30081 -j DROP/;
        if (n.name === 'k8s-node3') assert.doesNotMatch(ipt, local);
        else assert.match(ipt, local);
        // iptables-nft: the same rules are nf_tables tables, which nft list ruleset shows too.
        assert.match(probe(capture, n.name, 'nft'), /^table ip nat \{$/m);
      }
    });

    test("the kubernetes section holds the demo's Namespaces, Nodes, Pods, Services and EndpointSlices, valid and as kube-proxy's rules have them", () => {
      assert.deepEqual(capture.kubernetes, demoKubernetes());
      const k = kubernetesOf(capture);
      assert.deepEqual(k.services.map((s) => `${s.metadata.namespace}/${s.metadata.name} ${s.spec.clusterIP}`), DEMO_SERVICES.map((s) => `${s.namespace}/${s.name} ${s.clusterIP}`));
      assert.equal(k.pods.length, POD_NAMES.length);
      const web = k.endpointSlices.find((e) => e.metadata.name.startsWith('web-'))!;
      assert.deepEqual(web.endpoints.map((e) => [e.addresses[0], e.nodeName]), [['10.244.0.3', 'k8s-node1'], ['10.244.1.3', 'k8s-node2']]);
      assert.deepEqual(k.endpointSlices.find((e) => e.metadata.name.startsWith('alertmanager-'))!.endpoints, []);
    });

    test('a probe whose tool is missing or fails is left out and reported, and the capture is still valid', async () => {
      const commands = {
        ...PROBE_COMMANDS,
        arp: [{ argv: ['netpath-no-such-tool', '-an'], form: 'net-tools' as const }],
        brctl: [{ argv: ['false'], form: 'bridge-utils' as const }],
        routes4: [{ argv: ['netpath-no-such-tool'], form: 'net-tools' as const }, ...PROBE_COMMANDS.routes4],
      };
      const r = await captureLab(lab, demo.built, { probes: ['arp', 'brctl', 'routes4'], commands });
      for (const h of r.capture.hosts) assert.deepEqual(Object.keys(h.probes ?? {}), ['routes4'], h.name);
      const web0 = r.outcomes.filter((o) => o.host === 'web-0');
      assert.deepEqual(web0.map((o) => [o.probe, o.status]), [['arp', 'missing-tool'], ['brctl', 'failed'], ['routes4', 'ok']]);
      assert.deepEqual(web0[2]!.argv, PROBE_COMMANDS.routes4[0]!.argv);
      assert.deepEqual(web0[2]!.notes, ['netpath-no-such-tool: not installed']);
      const gaps = describeGaps(r.outcomes);
      assert.deepEqual(gaps, ['arp (missing-tool) on every host: netpath-no-such-tool: not installed', 'brctl (failed) on every host: false: exit code 1']);
    });

    test("the lab's own namespace names never appear in the capture", () => {
      const text = serializeCapture(capture);
      assert.doesNotMatch(text, /np\d+-\d+-/);
      assert.doesNotMatch(text, /link-netns /);
    });

    test('it matches the committed examples/demo-flannel-vxlan.json (hosts, routes, links, permanent entries)', () => {
      assert.ok(existsSync(DEMO_CAPTURE_PATH), `${DEMO_CAPTURE_PATH} is missing: run npm run lab:demo (as root) and commit it`);
      const committed = parseCapture(readFileSync(DEMO_CAPTURE_PATH, 'utf8'));
      assert.ok(committed.ok, `the committed example does not load: ${JSON.stringify(committed)}`);
      assert.deepEqual(structure(capture), structure(committed.capture), 'the lab no longer builds what the committed example shows: rerun npm run lab:demo and review the diff');
    });

    test('writeCaptureFile writes atomically (no temporary file left) and refuses invalid captures', () => {
      const dir = mkdtempSync(join(tmpdir(), 'netpath-lab-'));
      try {
        const path = join(dir, 'sub', 'demo.json');
        writeCaptureFile(path, capture);
        assert.equal(readFileSync(path, 'utf8'), serializeCapture(capture));
        assert.deepEqual(spawnSync('ls', ['-A', join(dir, 'sub')], { encoding: 'utf8' }).stdout.trim().split('\n'), ['demo.json']);
        const bad = { ...capture, hosts: [...capture.hosts, { ...capture.hosts[0]! }] };
        assert.throws(() => writeCaptureFile(join(dir, 'bad.json'), bad), /hosts\[11\]\.name: duplicate host name "k8s-node1"/);
        assert.equal(existsSync(join(dir, 'bad.json')), false);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('dispose removes every namespace and probe view of the lab', () => {
      const prefix = lab.prefix;
      const views = lab.probeViewPids();
      assert.equal(views.length, capture.hosts.length);
      assert.equal(listNamespaces().filter((n) => n.startsWith(prefix)).length, capture.hosts.length);
      lab.dispose();
      assert.deepEqual(listNamespaces().filter((n) => n.startsWith(prefix)), []);
      lab.dispose(); // idempotent
      assert.throws(() => lab.ip('tor', 'link'), /has been disposed/);
    });
  });

  describe('lab lifecycle', { timeout: TIMEOUT }, () => {
    test('a failing command names the command, the exit code and stderr, and withLab still removes everything', async () => {
      let prefix = '';
      await assert.rejects(
        withLab((lab) => {
          prefix = lab.prefix;
          buildCluster(lab, DEMO_CLUSTER);
          // eth0 exists already: the kernel says so.
          lab.ip('k8s-node1', 'link', 'add', 'eth0', 'type', 'dummy');
        }),
        (e: unknown) => {
          assert.ok(e instanceof CommandError, String(e));
          assert.match(e.message, new RegExp(`^ip -n ${prefix}k8s-node1 link add eth0 type dummy: failed \\(exit code 2\\)`));
          assert.match(e.message, /stderr: RTNETLINK answers: File exists/);
          assert.equal(e.result.code, 2);
          return true;
        },
      );
      assert.ok(prefix);
      assert.deepEqual(listNamespaces().filter((n) => n.startsWith(prefix)), []);
    });

    test('an invalid spec is rejected before anything is created', async () => {
      let prefix = '';
      const spec = { ...DEMO_CLUSTER, nodes: [{ ...DEMO_CLUSTER.nodes[0]!, podCIDR: '10.245.0.0/24' }, DEMO_CLUSTER.nodes[0]!] };
      await assert.rejects(
        withLab((lab) => {
          prefix = lab.prefix;
          buildCluster(lab, spec);
        }),
        /outside the CNI network 10\.244\.0\.0\/16[\s\S]*host name "k8s-node1" is also used by nodes\[0\]/,
      );
      assert.deepEqual(listNamespaces().filter((n) => n.startsWith(prefix)), []);
    });

    for (const [mode, how, expect] of [
      ['exit', 'process.exit() without dispose', { code: 3, signal: null }],
      ['throw', 'an uncaught exception', { code: 1, signal: null }],
      ['wait', 'SIGTERM', { code: null, signal: 'SIGTERM' }],
      ['wait', 'SIGINT', { code: null, signal: 'SIGINT' }],
    ] as const) {
      test(`a lab process ended by ${how} removes its namespaces and probe views`, async () => {
        const child = await startChild(mode);
        if (how === 'SIGTERM' || how === 'SIGINT') child.proc.kill(how);
        const ended = await child.exited;
        assert.deepEqual(ended, expect, `child output:\n${child.output()}`);
        assert.deepEqual(listNamespaces().filter((n) => n.startsWith(child.prefix)), []);
        for (const pid of child.viewPids) assert.ok(await gone(pid), `probe view ${pid} outlived its lab`);
      });
    }

    test('after SIGKILL (no handler runs) the probe view ends by itself and the sweep removes the namespaces', async () => {
      const child = await startChild('wait');
      child.proc.kill('SIGKILL');
      await child.exited;
      for (const pid of child.viewPids) assert.ok(await gone(pid), `probe view ${pid} outlived its killed lab`);
      const left = listNamespaces().filter((n) => n.startsWith(child.prefix));
      assert.deepEqual(left.sort(), [`${child.prefix}a`, `${child.prefix}b`]);
      const swept = sweepStaleNamespaces();
      assert.deepEqual(swept.failed, []);
      for (const n of left) assert.ok(swept.removed.includes(n), `sweep kept ${n}`);
      assert.deepEqual(listNamespaces().filter((n) => n.startsWith(child.prefix)), []);
    });

    test('the sweep removes only stale lab namespaces: not live labs, not other names', () => {
      const dead = spawnSync('true').pid!;
      const stale = `np${dead}-0-stale`;
      const others = listNamespaces().filter((n) => !parseLabNamespace(n));
      const lab = new Lab();
      try {
        lab.addNamespace('live');
        run(['ip', 'netns', 'add', stale]);
        const swept = sweepStaleNamespaces();
        assert.ok(swept.removed.includes(stale), JSON.stringify(swept));
        for (const n of swept.removed) assert.ok(parseLabNamespace(n), `sweep removed ${n}, which is not a lab namespace`);
        const now = listNamespaces();
        assert.ok(now.includes(lab.ns('live')), 'the sweep removed a live lab namespace');
        for (const o of others) assert.ok(now.includes(o), `the sweep removed ${o}, which is not a lab namespace`);
      } finally {
        lab.dispose();
        if (listNamespaces().includes(stale)) run(['ip', 'netns', 'delete', stale]);
      }
    });

    test('prerequisites are all met here, and a missing one says what and how to install it', () => {
      const checks = checkPrerequisites();
      assert.equal(describeMissing(checks), '');
      for (const what of ['running as root', 'ip installed', 'bridge installed', '`ip netns add` works', 'kernel supports VXLAN devices']) {
        assert.ok(checks.find((c) => c.what === what)?.ok, what);
      }
      const text = describeMissing([{ what: 'bridge installed', ok: false, fix: 'install iproute2 (apt-get install iproute2)' }]);
      assert.equal(text, '- bridge installed: NO\n  install iproute2 (apt-get install iproute2)');
      assert.equal(describeMissing([{ what: 'arp installed', ok: false, optional: true, fix: 'x' }]), '');
    });
  });
}

interface Child {
  proc: ReturnType<typeof spawn>;
  prefix: string;
  viewPids: number[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
}

/** Starts test/lab/lab-child.ts and waits for its READY line. */
function startChild(mode: string): Promise<Child> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'lab-child.ts'), mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`lab-child did not get ready:\n${out}`)), 30_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /^READY (\S+) (\S*)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, prefix: m[1]!, viewPids: m[2]!.split(',').filter(Boolean).map(Number), exited, output: () => out });
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    void exited.then(() => {
      clearTimeout(timer);
      if (!/^READY /m.test(out)) reject(new Error(`lab-child exited before it was ready:\n${out}`));
    });
  });
}

/** True once pid no longer runs (gone, or a zombie nobody has reaped yet). */
async function gone(pid: number, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    let state: string | undefined;
    try {
      state = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0];
    } catch {
      return true;
    }
    if (state === 'Z' || state === 'X') return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
