// Four more data planes, built in the netns lab the way the real components build them
// (test/lab/cni-bridge.ts, cni-calico.ts, topology.ts), proved with real packets, captured, and
// traced by the engine; every trace is checked against what the kernels did with one real packet
// (test/lab/oracle.ts for IPv4; oracle6.ts for IPv6):
//   - flannel host-gw: one route per remote subnet via the peer's node IP on eth0, no tunnel
//   - Calico VXLAN: routed cali veths with proxy ARP for 169.254.1.1, /32 routes, BIRD's blackhole
//     for the local block, vxlan.calico with Felix's routes, neighbour and FDB entries
//   - the bridge plugin in dual stack: IPv4 and IPv6 pod addresses, host-gw routes for both, ND
//   - two underlay subnets joined by a router, flannel VXLAN across it
// Each topology is built once; its faults are applied, captured, observed and undone in place.
// Where the engine disagrees with the kernel the test states what the kernel did and is marked todo.
//
// Needs root, network namespaces and nft (the oracle's per-device counters). Without them these tests
// FAIL with what is missing, unless NETPATH_SKIP_LAB=1 is set, in which case they are skipped.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { CALICO_HOST_VETH_MAC, CALICO_POD_GATEWAY, calicoVethName } from './cni-calico';
import { agree, bringUp, explain, hop, host, hostsOf, kinds, probe, SIZE, stepOf, trace, withFault, type Running } from './judge';
import { compareWithEngine, describeObservation, observe, oracleUnavailable } from './oracle';
import { compare6, describe6, observe6 } from './oracle6';
import { CNI_PLUGINS, planCluster, type ClusterSpec } from './topology';
import { BRIDGE_DUAL_STACK, CALICO_VXLAN, FLANNEL_HOST_GW, TWO_SUBNETS } from './topology-specs';

const SKIP = process.env.NETPATH_SKIP_LAB === '1';
const TIMEOUT = 180_000;

// ---------------------------------------------------------------------------------------------
// The tests

describe('topology specs of the new CNIs (planning only: no root needed)', () => {
  test('two segments: each node on the switch of its subnet, ports numbered per switch, one router leg per segment', () => {
    const plan = planCluster(TWO_SUBNETS);
    assert.deepEqual(plan.nodes.map((n) => [n.name, n.segment, n.port.name]), [['node-a1', 0, 'p1'], ['node-a2', 0, 'p2'], ['node-b1', 1, 'p1']]);
    assert.deepEqual(plan.router?.legs.map((l) => [l.dev, l.segment, l.ip, l.port.name]), [['eth0', 0, '10.20.1.1', 'p3'], ['eth1', 1, '10.20.2.1', 'p2']]);
    assert.deepEqual(plan.segments.map((g) => [g.switchName, g.prefix.toString(), g.routerIp]), [['tor-a', '10.20.1.0/24', '10.20.1.1'], ['tor-b', '10.20.2.0/24', '10.20.2.1']]);
  });

  test("Calico: host veth cali + 11 hex digits of sha1('<namespace>.<pod>'), MAC ee:ee:ee:ee:ee:ee; the block's first address is the tunnel's", () => {
    const pod = planCluster(CALICO_VXLAN).nodes[0]!.pods[0]!;
    assert.equal(pod.hostVeth, 'cali' + createHash('sha1').update('shop.frontend-0').digest('hex').slice(0, 11));
    assert.equal(pod.hostVeth, calicoVethName('shop', 'frontend-0'));
    assert.equal(pod.hostVethMac, CALICO_HOST_VETH_MAC);
    const bad = { ...CALICO_VXLAN, nodes: [{ ...CALICO_VXLAN.nodes[0]!, pods: [{ name: 'x', namespace: 'shop', ip: '10.48.97.0' }] }] };
    assert.throws(() => planCluster(bad), /10\.48\.97\.0 is the VXLAN tunnel address \(the first address of the IPAM block\) of 10\.48\.97\.0\/26/);
  });

  test('an invalid dual-stack or multi-segment spec is rejected with every problem listed', () => {
    const n = BRIDGE_DUAL_STACK.nodes[0]!;
    const spec: ClusterSpec = {
      ...BRIDGE_DUAL_STACK,
      underlay: { cidr: '10.4.10.0/24', switch: { name: 'tor' }, segments: [{ cidr: '10.4.11.0/24', switch: { name: 'tor-b' }, routerIp: '10.4.11.1' }] },
      nodes: [{ ...n, ip: '10.9.9.9', pods: [{ name: 'p', namespace: 'default', ip: '10.245.0.3', ip6: 'fd00:10:245:7::3' }] }],
    };
    assert.throws(() => planCluster(spec), (e: Error) => {
      for (const re of [/segments are joined by the router, so underlay\.router is required/, /nodes\[0\]\.ip: 10\.9\.9\.9 is outside the underlay 10\.4\.10\.0\/24 and 10\.4\.11\.0\/24/,
        /nodes\[0\]\.ip6: the node has an IPv6 address but underlay\.cidr6 is not set/, /pods\[0\]\.ip6: fd00:10:245:7::3 is outside the node's podCIDR6 fd00:10:245::\/64/]) assert.match(e.message, re);
      return true;
    });
  });

  test('plugin checks: host-gw routes need every node on one segment; dual stack needs IPv6 on the underlay, every node and every pod', () => {
    const hostGw = { ...TWO_SUBNETS, cni: { kind: 'flannel-host-gw' as const, network: '10.244.0.0/16' } };
    assert.match(CNI_PLUGINS['flannel-host-gw'].check(hostGw.cni, planCluster(hostGw)).join('\n'), /needs every node on one L2 segment .* 2 segments/);
    const v4only: ClusterSpec = { ...BRIDGE_DUAL_STACK, underlay: { ...BRIDGE_DUAL_STACK.underlay, cidr6: undefined }, nodes: [{ ...BRIDGE_DUAL_STACK.nodes[1]!, ip6: undefined, podCIDR6: undefined, pods: [] }] };
    const problems = CNI_PLUGINS.bridge.check(BRIDGE_DUAL_STACK.cni as Extract<ClusterSpec['cni'], { kind: 'bridge' }>, planCluster(v4only));
    assert.deepEqual(problems, ['underlay.cidr6: dual stack needs an IPv6 subnet on the underlay', "node2: dual stack needs the node's IPv6 address (ip6)", 'node2: dual stack needs an IPv6 podCIDR (podCIDR6)']);
  });
});

if (SKIP) {
  test('netns lab topologies', { skip: 'NETPATH_SKIP_LAB=1' }, () => {});
} else {
  const unavailable = oracleUnavailable();
  if (unavailable) {
    test('netns lab topologies: prerequisites', () => {
      assert.fail(unavailable);
    });
  } else {
    describeHostGw();
    describeCalico();
    describeDualStack();
    describeTwoSubnets();
  }
}

function describeHostGw(): void {
  describe('flannel host-gw (2 nodes, one L2 segment, no tunnel)', { timeout: TIMEOUT }, () => {
    let t: Running;
    before(async () => {
      t = await bringUp(FLANNEL_HOST_GW, [
        ['web-0', '10.244.0.4'],
        ['web-0', '10.244.1.3'],
        ['web-1', '10.244.0.3'],
        ['node1', '10.4.8.1'],
        ['node2', '10.4.8.1'],
      ]);
    });
    after(() => t?.lab.dispose());

    test('flanneld host-gw tables: a route per remote subnet via the peer node IP on eth0, cni0 holds the gateway, no VXLAN device', () => {
      const c = t.capture;
      const r1 = probe(c, 'node1', 'routes4');
      assert.ok(r1.includes('10.244.1.0/24 via 10.4.8.22 dev eth0'), r1.join('\n'));
      assert.ok(r1.includes('10.244.0.0/24 dev cni0 proto kernel scope link src 10.244.0.1'), r1.join('\n'));
      assert.ok(probe(c, 'node2', 'routes4').includes('10.244.0.0/24 via 10.4.8.21 dev eth0'));
      for (const n of ['node1', 'node2']) {
        assert.doesNotMatch(host(c, n).probes!.links!, /vxlan|flannel\.1/);
        assert.match(host(c, n).probes!.links!, /^\d+: cni0: <[^>]*UP[^>]*> mtu 1500 /m);
      }
      const pod = probe(c, 'web-0', 'routes4');
      assert.ok(pod.includes('default via 10.244.0.1 dev eth0'), pod.join('\n'));
      assert.ok(pod.includes('10.244.0.0/16 via 10.244.0.1 dev eth0'), pod.join('\n'));
      assert.match(host(c, 'web-0').probes!.links!, /eth0@if\d+: <[^>]*> mtu 1500 .*\n\s+link\/ether 0a:58:0a:f4:00:03 /);
    });

    test('pod -> pod on one node: through cni0 only; kernel and engine agree', async () => {
      const { r } = await agree(t, t.net, 'web-0', '10.244.0.4');
      assert.equal(r.verdict, 'delivered');
      assert.deepEqual(hostsOf(r), ['web-0', 'node1', 'cache-0']);
      assert.ok(kinds(r).includes('fdb') || kinds(r).includes('flood'), explain(r));
    });

    test('pod -> pod across nodes: node1 routes it to 10.4.8.22 over the switch, plain IP, no encapsulation', async () => {
      const { obs, r } = await agree(t, t.net, 'web-0', '10.244.1.3');
      assert.equal(r.verdict, 'delivered');
      assert.deepEqual(hostsOf(r), ['web-0', 'node1', 'tor', 'node2', 'web-1']);
      assert.equal(stepOf(r, 'node1', 'route').evidence.trimEnd(), '10.244.1.0/24 via 10.4.8.22 dev eth0');
      assert.match(stepOf(r, 'node1', 'neigh').text, /10\.4\.8\.22 on eth0/);
      assert.ok(!kinds(r).some((k) => k === 'vxlan-encap' || k === 'vxlan-decap'), explain(r));
      assert.equal(hop(r, 'node1').out, 'eth0');
      // The kernel forwarded it twice (node1, node2) and it left node1 on eth0 unencapsulated.
      assert.equal(obs.deltas.node1?.['Ip.ForwDatagrams'], 1, describeObservation(obs));
      assert.equal(obs.deltas.node2?.['Ip.ForwDatagrams'], 1, describeObservation(obs));
      assert.ok(obs.devices.some((d) => d.host === 'node1' && d.dev === 'eth0' && d.tx === 1), describeObservation(obs));
    });

    test('and back: web-1 -> web-0 through node2, tor, node1', async () => {
      const { r } = await agree(t, t.net, 'web-1', '10.244.0.3');
      assert.deepEqual(hostsOf(r), ['web-1', 'node2', 'tor', 'node1', 'web-0']);
      assert.equal(stepOf(r, 'node2', 'route').evidence.trimEnd(), '10.244.0.0/24 via 10.4.8.21 dev eth0');
    });

    test("fault: flanneld's route to node2's subnet is gone: the packet follows node1's default route to gw, which has no route (no-route at gw)", async () => {
      await withFault(t, { apply: () => t.lab.ip('node1', 'route', 'del', '10.244.1.0/24'), undo: () => t.lab.ip('node1', 'route', 'add', '10.244.1.0/24', 'via', '10.4.8.22', 'dev', 'eth0') }, async (net) => {
        const { obs, r } = await agree(t, net, 'web-0', '10.244.1.3');
        assert.equal(r.verdict, 'no-route');
        assert.deepEqual(r.dropAt, { host: 'gw', dev: null });
        assert.deepEqual(hostsOf(r), ['web-0', 'node1', 'tor', 'gw']);
        assert.match(stepOf(r, 'node1', 'route').evidence.trimEnd(), /^default via 10\.4\.8\.1 dev eth0 proto static metric 100$/);
        assert.equal(obs.deltas.gw?.['IpExt.InNoRoutes'], 1, describeObservation(obs));
      });
    });

    test('fault: ip_forward=0 on node2: the packet reaches node2 and is dropped there (forwarding-disabled at node2 eth0)', async () => {
      await withFault(t, { apply: () => t.lab.sysctl('node2', 'net.ipv4.ip_forward=0'), undo: () => t.lab.sysctl('node2', 'net.ipv4.ip_forward=1') }, async (net) => {
        const { obs, r } = await agree(t, net, 'web-0', '10.244.1.3');
        assert.equal(r.verdict, 'forwarding-disabled');
        assert.deepEqual(r.dropAt, { host: 'node2', dev: 'eth0' });
        assert.equal(obs.deltas.node2?.['Ip.InAddrErrors'], 1, describeObservation(obs));
      });
    });

    test(
      'an idle peer: node1 has no ARP entry for node2, so the kernel ARPs across tor and delivers',
      {},
      async () => {
        await withFault(t, { apply: () => t.lab.ip('node1', 'neigh', 'flush', 'dev', 'eth0'), undo: () => {} }, async (net, capture) => {
          assert.ok(!probe(capture, 'node1', 'neigh').some((l) => l.startsWith('10.4.8.22 ')), 'the flush left the entry');
          const { r } = await agree(t, net, 'web-0', '10.244.1.3');
          assert.equal(r.verdict, 'delivered', explain(r));
          assert.match(stepOf(r, 'node1', 'arp').text, /10\.4\.8\.22[\s\S]*node2 \(eth0\)/);
        });
      },
    );
  });
}

function describeCalico(): void {
  describe('Calico VXLAN (2 nodes: cali veths with proxy ARP, /32 routes, vxlan.calico)', { timeout: TIMEOUT }, () => {
    let t: Running;
    const cali = (ns: string, pod: string) => calicoVethName(ns, pod);
    const frontendCali = calicoVethName('shop', 'frontend-0');
    before(async () => {
      t = await bringUp(
        CALICO_VXLAN,
        [
          ['frontend-0', '10.48.97.2'],
          ['frontend-0', '10.48.166.129'],
          ['checkout-0', '10.48.97.1'],
          ['node1', '10.4.9.1'],
          ['node2', '10.4.9.1'],
        ],
        // A pod has no ARP entry for 169.254.1.1 until it asks: forget what the proof pings taught them.
        (lab) => {
          for (const p of ['frontend-0', 'cart-0', 'checkout-0']) lab.ip(p, 'neigh', 'flush', 'dev', 'eth0');
        },
      );
    });
    after(() => t?.lab.dispose());

    test("Calico's tables: cali veths (ee:ee:ee:ee:ee:ee, no bridge, proxy_arp=1), /32 routes, blackhole for the local block, Felix's VXLAN route, neighbour and FDB entries", () => {
      const c = t.capture;
      const routes = probe(c, 'node1', 'routes4');
      assert.ok(routes.includes(`10.48.97.1 dev ${cali('shop', 'frontend-0')} scope link`), routes.join('\n'));
      assert.ok(routes.includes(`10.48.97.2 dev ${cali('shop', 'cart-0')} scope link`), routes.join('\n'));
      assert.ok(routes.includes('blackhole 10.48.97.0/26 proto bird'), routes.join('\n'));
      assert.ok(routes.includes('10.48.166.128/26 via 10.48.166.128 dev vxlan.calico onlink'), routes.join('\n'));
      assert.ok(probe(c, 'node2', 'routes4').includes('10.48.97.0/26 via 10.48.97.0 dev vxlan.calico onlink'));
      const links = host(c, 'node1').probes!.links!;
      assert.match(links, new RegExp(`^\\d+: ${frontendCali}@if2: <[^>]*UP[^>]*> mtu 1450 .*\\n\\s+link/ether ${CALICO_HOST_VETH_MAC} `, 'm'));
      assert.doesNotMatch(links, new RegExp(`${frontendCali}@if2: [^\\n]* master `), 'a cali veth is on no bridge');
      assert.match(links, /vxlan id 4096 local 10\.4\.9\.21 dev eth0 srcport 0 0 dstport 4789 nolearning/);
      assert.match(host(c, 'node1').probes!.addrs!, /inet 10\.48\.97\.0\/32 scope global vxlan\.calico/);
      assert.doesNotMatch(host(c, 'node1').probes!.addrs!, /169\.254\.1\.1/, 'nobody holds 169.254.1.1: proxy ARP answers for it');
      const node2Mac = t.built.plan.nodes[1]!.vtepMac;
      assert.ok(probe(c, 'node1', 'neigh').some((l) => new RegExp(`^10\\.48\\.166\\.128 dev vxlan\\.calico lladdr ${node2Mac} .*PERMANENT$`).test(l)), probe(c, 'node1', 'neigh').join('\n'));
      assert.ok(probe(c, 'node1', 'fdb').some((l) => new RegExp(`^${node2Mac} dev vxlan\\.calico dst 10\\.4\\.9\\.22 .*self permanent$`).test(l)), probe(c, 'node1', 'fdb').join('\n'));
      // The settings the engine reads, as Calico sets them on its veth (the probe reads no others: route_localnet, which Calico also sets, is not among them).
      const sysctl = probe(c, 'node1', 'sysctl');
      for (const kv of [`net.ipv4.conf.${frontendCali}.proxy_arp = 1`, `net.ipv4.conf.${frontendCali}.forwarding = 1`, `net.ipv4.conf.${frontendCali}.rp_filter = 1`]) {
        assert.ok(sysctl.includes(kv), `${kv} missing`);
      }
      assert.equal(t.lab.execIn('node1', ['sysctl', '-n', `net.ipv4.conf.${frontendCali}.route_localnet`]).trim(), '1', 'the lab set up Calico as Felix does');
      const pod = probe(c, 'frontend-0', 'routes4');
      assert.ok(pod.includes(`default via ${CALICO_POD_GATEWAY} dev eth0`), pod.join('\n'));
      assert.ok(pod.includes(`${CALICO_POD_GATEWAY} dev eth0 scope link`), pod.join('\n'));
      assert.match(host(c, 'frontend-0').probes!.addrs!, /inet 10\.48\.97\.1\/32 scope global eth0/);
      assert.ok(!probe(c, 'frontend-0', 'neigh').some((l) => l.startsWith(`${CALICO_POD_GATEWAY} `)), 'the pod has no ARP entry for 169.254.1.1 until it asks');
      assert.equal(host(c, 'node1').podCIDRs, undefined, "Calico's IPAM does not use spec.podCIDRs");
    });

    test('pod -> pod on one node: proxy ARP answers 169.254.1.1, then the /32 route to the other cali veth; kernel and engine agree', async () => {
      const { obs, r } = await agree(t, t.net, 'frontend-0', '10.48.97.2');
      assert.deepEqual(hostsOf(r), ['frontend-0', 'node1', 'cart-0']);
      const arp = stepOf(r, 'frontend-0', 'arp');
      assert.match(arp.text, new RegExp(`169\\.254\\.1\\.1[\\s\\S]*node1 \\(${frontendCali}[\\s\\S]*proxy[ _]arp[\\s\\S]*${CALICO_HOST_VETH_MAC}`));
      assert.match(arp.evidence, new RegExp(`net\\.ipv4\\.conf\\.${frontendCali}\\.proxy_arp = 1`));
      assert.equal(stepOf(r, 'node1', 'route').evidence.trimEnd(), `10.48.97.2 dev ${cali('shop', 'cart-0')} scope link`);
      assert.deepEqual([hop(r, 'node1').in, hop(r, 'node1').out], [frontendCali, cali('shop', 'cart-0')]);
      assert.ok(!kinds(r).includes('bridge') && !kinds(r).includes('vxlan-encap'), explain(r));
      // The kernel: the pod asked, and the node's answer is now in its table.
      assert.ok(obs.neighChanges.some((n) => n.host === 'frontend-0' && n.dst === CALICO_POD_GATEWAY && n.before === 'absent' && !/FAILED|INCOMPLETE/.test(n.after)), describeObservation(obs));
      assert.match(t.lab.ip('frontend-0', 'neigh', 'show', CALICO_POD_GATEWAY), new RegExp(`lladdr ${CALICO_HOST_VETH_MAC}`));
    });

    test('pod -> pod across nodes: cali veth, the block route via vxlan.calico (VNI 4096, UDP 4789), tor, node2, its /32 route', async () => {
      const { obs, r } = await agree(t, t.net, 'frontend-0', '10.48.166.129');
      assert.deepEqual(hostsOf(r), ['frontend-0', 'node1', 'tor', 'node2', 'checkout-0']);
      assert.match(stepOf(r, 'frontend-0', 'arp').text, /proxy[ _]arp/);
      assert.equal(stepOf(r, 'node1', 'route').evidence.trimEnd(), '10.48.166.128/26 via 10.48.166.128 dev vxlan.calico onlink');
      assert.match(stepOf(r, 'node1', 'neigh').evidence.trimEnd(), /^10\.48\.166\.128 dev vxlan\.calico lladdr \S+ .*PERMANENT$/);
      assert.match(stepOf(r, 'node1', 'fdb').evidence.trimEnd(), /dev vxlan\.calico dst 10\.4\.9\.22 .*self permanent$/);
      assert.match(stepOf(r, 'node1', 'vxlan-encap').text, /VNI 4096.*10\.4\.9\.22:4789 from 10\.4\.9\.21/);
      stepOf(r, 'node2', 'vxlan-decap');
      assert.equal(stepOf(r, 'node2', 'route', /10\.48\.166\.129/).evidence.trimEnd(), `10.48.166.129 dev ${cali('shop', 'checkout-0')} scope link`);
      for (const [h, d, dir] of [['node1', 'vxlan.calico', 'tx'], ['node1', 'eth0', 'tx'], ['node2', 'vxlan.calico', 'rx']] as const) {
        assert.ok(obs.devices.some((x) => x.host === h && x.dev === d && x[dir] === 1), `kernel: ${h}/${d} ${dir}\n${describeObservation(obs)}`);
      }
    });

    test("a node's own packets: the source address is the one the kernel picks (ip route get), also through a cali veth, which has no address", () => {
      // inet_select_addr: a cali veth lends no address, so the kernel takes the namespace's first
      // outside lo's host scope (eth0's); vxlan.calico's own /32 for the peer's block; eth0's for the gateway.
      const cases: [string, string][] = [
        ['node1', '10.48.97.1'],
        ['node1', '10.48.97.2'],
        ['node1', '10.48.166.129'],
        ['node1', '10.4.9.1'],
        ['node2', '10.48.166.129'],
        ['node2', '10.48.97.2'],
      ];
      const rows = cases.map(([from, to]) => ({ from, to, kernel: /\bsrc (\S+)/.exec(t.lab.ip(from, 'route', 'get', to))?.[1], engine: trace(t.net, from, to).flow.src }));
      const text = rows.map((x) => `${x.from} -> ${x.to}: kernel ${x.kernel}, engine ${x.engine}`).join('\n');
      assert.deepEqual(rows.filter((x) => x.kernel === undefined || x.kernel !== x.engine), [], text);
      assert.deepEqual(rows.map((x) => x.kernel), ['10.4.9.21', '10.4.9.21', '10.48.97.0', '10.4.9.21', '10.4.9.22', '10.48.166.128'], text);
      const src = stepOf(trace(t.net, 'node1', '10.48.97.2'), 'node1', 'src');
      assert.match(src.text, new RegExp(`${cali('shop', 'cart-0')} has no address of its own in the route's scope, so the kernel takes the first one in the namespace: eth0's`));
      assert.match(src.evidence, /inet 10\.4\.9\.21\/24 .*eth0/);
    });

    test('and back: checkout-0 -> frontend-0 through node2, vxlan.calico, tor, node1', async () => {
      const { r } = await agree(t, t.net, 'checkout-0', '10.48.97.1');
      assert.deepEqual(hostsOf(r), ['checkout-0', 'node2', 'tor', 'node1', 'frontend-0']);
      assert.equal(stepOf(r, 'node2', 'route').evidence.trimEnd(), '10.48.97.0/26 via 10.48.97.0 dev vxlan.calico onlink');
      assert.equal(stepOf(r, 'node1', 'route', /10\.48\.97\.1/).evidence.trimEnd(), `10.48.97.1 dev ${frontendCali} scope link`);
    });

    const noCartRoute = () => ({
      apply: () => t.lab.ip('node1', 'route', 'del', '10.48.97.2', 'dev', cali('shop', 'cart-0')),
      undo: () => t.lab.ip('node1', 'route', 'add', '10.48.97.2', 'dev', cali('shop', 'cart-0'), 'scope', 'link'),
    });

    test("fault: cart-0's /32 route is gone: its address falls into the local block's blackhole route (blackhole at node1)", async () => {
      await withFault(t, noCartRoute(), async (net) => {
        const { obs, r } = await agree(t, net, 'frontend-0', '10.48.97.2');
        assert.equal(r.verdict, 'blackhole');
        assert.equal(r.dropAt?.host, 'node1');
        assert.equal(stepOf(r, 'node1', 'route').evidence.trimEnd(), 'blackhole 10.48.97.0/26 proto bird');
        // The kernel: received on the cali veth, counted by IPv4, forwarded nowhere, no ICMP error.
        const d = obs.deltas.node1 ?? {};
        assert.deepEqual([d['Ip.InReceives'], d['Ip.ForwDatagrams'], d['Icmp.OutDestUnreachs']], [1, undefined, undefined], describeObservation(obs));
      });
    });

    test('fault: the same from node2 (checkout-0 -> cart-0): decapsulated on node1, then the blackhole', async () => {
      await withFault(t, noCartRoute(), async (net) => {
        const { obs, r } = await agree(t, net, 'checkout-0', '10.48.97.2');
        // The kernel: decapsulated on node1 (vxlan.calico rx; Ip.InReceives counts the outer and the
        // inner packet, Udp.InDatagrams the outer), then neither forwarded nor sent anywhere.
        const d = obs.deltas.node1 ?? {};
        assert.deepEqual([d['Ip.InReceives'], d['Udp.InDatagrams'], d['Ip.ForwDatagrams']], [2, 1, undefined], describeObservation(obs));
        assert.ok(obs.devices.some((x) => x.host === 'node1' && x.dev === 'vxlan.calico' && x.rx === 1) && !obs.devices.some((x) => x.host === 'node1' && x.tx > 0), describeObservation(obs));
        assert.equal(r.verdict, 'blackhole', explain(r));
        assert.deepEqual(hostsOf(r), ['checkout-0', 'node2', 'tor', 'node1']);
        assert.equal(stepOf(r, 'node1', 'route', /blackhole/).evidence.trimEnd(), 'blackhole 10.48.97.0/26 proto bird');
      });
    });

    test("fault: proxy_arp=0 on frontend-0's cali veth: nobody answers the pod's ARP for 169.254.1.1 (neighbor-failed at frontend-0 eth0)", async () => {
      const fault = {
        apply: () => {
          t.lab.sysctl('node1', `net.ipv4.conf.${frontendCali}.proxy_arp=0`);
          t.lab.ip('frontend-0', 'neigh', 'flush', 'dev', 'eth0');
        },
        undo: () => t.lab.sysctl('node1', `net.ipv4.conf.${frontendCali}.proxy_arp=1`),
      };
      await withFault(t, fault, async (net) => {
        const r = trace(net, 'frontend-0', '10.48.166.129');
        const obs = await observe(t.lab, t.built, { from: 'frontend-0', to: '10.48.166.129', size: SIZE });
        // The oracle looks for drops on hosts a device of which carried the probe; this one never left
        // the pod (it waited for ARP, then the kernel gave up), so the evidence is checked here.
        assert.equal(obs.delivered, false, describeObservation(obs));
        assert.deepEqual(obs.devices, [], describeObservation(obs));
        assert.ok(obs.neighChanges.some((n) => n.host === 'frontend-0' && n.dev === 'eth0' && n.dst === CALICO_POD_GATEWAY && /FAILED/.test(n.after)), describeObservation(obs));
        assert.equal(obs.deltas['frontend-0']?.['Icmp.OutDestUnreachs'], 1, describeObservation(obs));
        assert.equal(r.verdict, 'neighbor-failed', explain(r));
        assert.deepEqual(r.dropAt, { host: 'frontend-0', dev: 'eth0' });
        assert.deepEqual(hostsOf(r), ['frontend-0']);
      });
    });
  });
}

function describeDualStack(): void {
  describe('the bridge plugin in dual stack (2 nodes, host-gw routes for IPv4 and IPv6)', { timeout: TIMEOUT }, () => {
    let t: Running;
    before(async () => {
      t = await bringUp(
        BRIDGE_DUAL_STACK,
        [
          ['api-0', '10.245.0.4'],
          ['api-0', 'fd00:10:245::4'],
          ['api-0', '10.245.1.3'],
          ['api-0', 'fd00:10:245:1::3'],
          ['api-1', 'fd00:10:245::3'],
        ],
        // api-0 forgets its gateway's IPv6 neighbour entry, so the trace must say how ND resolves it.
        (lab) => lab.ip('api-0', '-6', 'neigh', 'del', 'fd00:10:245::1', 'dev', 'eth0'),
      );
    });
    after(() => t?.lab.dispose());

    test('both families: gateways on cni0, a default route per family in the pod, a route per family and peer on the node, forwarding on', () => {
      const c = t.capture;
      const r4 = probe(c, 'node1', 'routes4');
      const r6 = probe(c, 'node1', 'routes6');
      assert.ok(r4.includes('10.245.1.0/24 via 10.4.10.22 dev eth0'), r4.join('\n'));
      assert.ok(r6.some((l) => /^fd00:10:245:1::\/64 via fd00:4:10::22 dev eth0 metric 1024/.test(l)), r6.join('\n'));
      assert.ok(r6.some((l) => /^fd00:10:245::\/64 dev cni0 proto kernel metric 256/.test(l)), r6.join('\n'));
      const addrs = host(c, 'node1').probes!.addrs!;
      assert.match(addrs, /inet 10\.245\.0\.1\/24 brd 10\.245\.0\.255 scope global cni0/);
      assert.match(addrs, /inet6 fd00:10:245::1\/64 scope global/);
      assert.doesNotMatch(addrs, /tentative/);
      const p6 = probe(c, 'api-0', 'routes6');
      assert.ok(p6.some((l) => /^default via fd00:10:245::1 dev eth0 metric 1024/.test(l)), p6.join('\n'));
      assert.ok(probe(c, 'api-0', 'routes4').includes('default via 10.245.0.1 dev eth0'));
      assert.match(host(c, 'api-0').probes!.addrs!, /inet6 fd00:10:245::3\/64 scope global/);
      const sysctl = probe(c, 'node1', 'sysctl');
      assert.ok(sysctl.includes('net.ipv4.ip_forward = 1') && sysctl.includes('net.ipv6.conf.all.forwarding = 1'));
      assert.deepEqual(host(c, 'node1').podCIDRs, ['10.245.0.0/24', 'fd00:10:245::/64']);
      assert.deepEqual(host(c, 'api-0').ips, ['10.245.0.3', 'fd00:10:245::3']);
    });

    test('IPv4 pod -> pod, same node and across nodes: kernel and engine agree', async () => {
      const same = await agree(t, t.net, 'api-0', '10.245.0.4');
      assert.deepEqual(hostsOf(same.r), ['api-0', 'node1', 'db-0']);
      const across = await agree(t, t.net, 'api-0', '10.245.1.3');
      assert.deepEqual(hostsOf(across.r), ['api-0', 'node1', 'tor', 'node2', 'api-1']);
      assert.equal(stepOf(across.r, 'node1', 'route').evidence.trimEnd(), '10.245.1.0/24 via 10.4.10.22 dev eth0');
    });

    test('IPv6 pod -> pod on one node: the neighbour entry ND made for db-0, through cni0; kernel and engine agree', async () => {
      const r = trace(t.net, 'api-0', 'fd00:10:245::4');
      const o = await observe6(t.lab, t.built, 'api-0', 'fd00:10:245::4');
      compare6(o, r);
      assert.deepEqual(hostsOf(r), ['api-0', 'node1', 'db-0']);
      assert.deepEqual(o.deliveredTo, ['db-0'], describe6(o));
      assert.match(stepOf(r, 'api-0', 'neigh').evidence.trimEnd(), /^fd00:10:245::4 dev eth0 lladdr /);
    });

    test(
      'a pod with no IPv6 neighbour entry for a pod on its own node: ND finds it across cni0 and the kernel delivers',
      {},
      async () => {
        await withFault(t, { apply: () => t.lab.ip('api-0', '-6', 'neigh', 'flush', 'dev', 'eth0'), undo: () => {} }, async (net) => {
          const r = trace(net, 'api-0', 'fd00:10:245::4');
          const o = await observe6(t.lab, t.built, 'api-0', 'fd00:10:245::4');
          compare6(o, r);
          assert.match(stepOf(r, 'api-0', 'arp').text, /fd00:10:245::4[\s\S]*db-0 \(eth0\)/);
        });
      },
    );

    test('IPv6 pod -> pod across nodes: ND for the gateway fd00:10:245::1, node1 routes via fd00:4:10::22, node2 to cni0', async () => {
      const r = trace(t.net, 'api-0', 'fd00:10:245:1::3');
      const o = await observe6(t.lab, t.built, 'api-0', 'fd00:10:245:1::3');
      compare6(o, r);
      assert.deepEqual(hostsOf(r), ['api-0', 'node1', 'tor', 'node2', 'api-1']);
      assert.equal(r.flow.src, 'fd00:10:245::3');
      const nd = stepOf(r, 'api-0', 'arp');
      assert.match(nd.text, /fd00:10:245::1[\s\S]*neighbour (discovery|solicitation)[\s\S]*node1 \(cni0\)/);
      assert.doesNotMatch(nd.text, /\bARP\b/);
      assert.match(stepOf(r, 'node1', 'route').evidence.trimEnd(), /^fd00:10:245:1::\/64 via fd00:4:10::22 dev eth0 metric 1024/);
      // node1 learnt node2 by ND: the entry carries the router flag an IPv4 ARP entry cannot have.
      assert.match(stepOf(r, 'node1', 'neigh').evidence.trimEnd(), /^fd00:4:10::22 dev eth0 lladdr \S+ .*router/);
      assert.match(stepOf(r, 'node2', 'route').evidence.trimEnd(), /^fd00:10:245:1::\/64 dev cni0 proto kernel metric 256/);
      for (const h of ['node1', 'node2']) assert.equal(o.deltas[h]?.['Ip6OutForwDatagrams'], 1, describe6(o));
    });

    test('fault: IPv6 forwarding off on node2 (net.ipv6.conf.all.forwarding=0): IPv6 stops at node2 eth0, IPv4 still flows', async () => {
      await withFault(t, { apply: () => t.lab.sysctl('node2', 'net.ipv6.conf.all.forwarding=0'), undo: () => t.lab.sysctl('node2', 'net.ipv6.conf.all.forwarding=1') }, async (net) => {
        const r = trace(net, 'api-0', 'fd00:10:245:1::3');
        const o = await observe6(t.lab, t.built, 'api-0', 'fd00:10:245:1::3');
        compare6(o, r);
        assert.equal(r.verdict, 'forwarding-disabled', explain(r));
        assert.deepEqual(r.dropAt, { host: 'node2', dev: 'eth0' });
        assert.equal(o.deltas.node2?.['Ip6InAddrErrors'], 1, describe6(o));
        const v4 = await agree(t, net, 'api-0', '10.245.1.3');
        assert.equal(v4.r.verdict, 'delivered');
      });
    });

    test("fault: node1 has no IPv6 route to node2's pods (only the IPv4 one was programmed): no-route at node1 for IPv6", async () => {
      await withFault(t, { apply: () => t.lab.ip('node1', '-6', 'route', 'del', 'fd00:10:245:1::/64'), undo: () => t.lab.ip('node1', '-6', 'route', 'add', 'fd00:10:245:1::/64', 'via', 'fd00:4:10::22', 'dev', 'eth0') }, async (net) => {
        const r = trace(net, 'api-0', 'fd00:10:245:1::3');
        const o = await observe6(t.lab, t.built, 'api-0', 'fd00:10:245:1::3');
        compare6(o, r);
        assert.equal(r.verdict, 'no-route', explain(r));
        assert.equal(r.dropAt?.host, 'node1');
        assert.equal(o.deltas.node1?.['Ip6InNoRoutes'], 1, describe6(o));
        assert.match(o.output, /Destination unreachable: No route/);
      });
    });
  });
}

function describeTwoSubnets(): void {
  describe('two underlay subnets joined by a router (3 nodes, flannel VXLAN across it)', { timeout: TIMEOUT }, () => {
    let t: Running;
    before(async () => {
      t = await bringUp(TWO_SUBNETS, [
        ['web-0', '10.244.0.4'],
        ['web-0', '10.244.1.3'],
        ['web-0', '10.244.2.3'],
        ['db-0', '10.244.0.3'],
        ['node-a1', '10.20.2.21'],
      ]);
    });
    after(() => t?.lab.dispose());

    test('the underlay: two switches, the router on both (eth0 10.20.1.1, eth1 10.20.2.1), each node behind its own segment', () => {
      const c = t.capture;
      assert.deepEqual(c.links, [
        { a: { host: 'node-a1', dev: 'eth0' }, b: { host: 'tor-a', dev: 'p1' } },
        { a: { host: 'node-a2', dev: 'eth0' }, b: { host: 'tor-a', dev: 'p2' } },
        { a: { host: 'node-b1', dev: 'eth0' }, b: { host: 'tor-b', dev: 'p1' } },
        { a: { host: 'rtr', dev: 'eth0' }, b: { host: 'tor-a', dev: 'p3' } },
        { a: { host: 'rtr', dev: 'eth1' }, b: { host: 'tor-b', dev: 'p2' } },
      ]);
      assert.deepEqual(host(c, 'rtr').ips, ['10.20.1.1', '10.20.2.1']);
      const rr = probe(c, 'rtr', 'routes4');
      assert.ok(rr.includes('10.20.1.0/24 dev eth0 proto kernel scope link src 10.20.1.1') && rr.includes('10.20.2.0/24 dev eth1 proto kernel scope link src 10.20.2.1'), rr.join('\n'));
      assert.ok(probe(c, 'node-b1', 'routes4').includes('default via 10.20.2.1 dev eth0 proto static metric 100'));
      assert.ok(probe(c, 'node-a1', 'fdb').some((l) => /dev flannel\.1 dst 10\.20\.2\.21 /.test(l)), 'flanneld sends node-b1 VXLAN to its address in the other subnet');
      assert.deepEqual(c.hosts.filter((h) => h.role === 'switch').map((h) => h.name), ['tor-a', 'tor-b']);
    });

    test('pod -> pod, same node and same subnet: no router; kernel and engine agree', async () => {
      const same = await agree(t, t.net, 'web-0', '10.244.0.4');
      assert.deepEqual(hostsOf(same.r), ['web-0', 'node-a1', 'web-2']);
      const near = await agree(t, t.net, 'web-0', '10.244.1.3');
      assert.deepEqual(hostsOf(near.r), ['web-0', 'node-a1', 'tor-a', 'node-a2', 'web-1']);
      assert.equal(near.obs.deltas.rtr?.['Ip.ForwDatagrams'], undefined, describeObservation(near.obs));
    });

    test('pod -> pod across subnets: the VXLAN packet leaves by the default route, the router forwards it from eth0 to eth1', async () => {
      const { obs, r } = await agree(t, t.net, 'web-0', '10.244.2.3');
      assert.deepEqual(hostsOf(r), ['web-0', 'node-a1', 'tor-a', 'rtr', 'tor-b', 'node-b1', 'db-0']);
      assert.match(stepOf(r, 'node-a1', 'vxlan-encap').text, /VNI 1.*10\.20\.2\.21:8472 from 10\.20\.1\.21/);
      assert.equal(stepOf(r, 'node-a1', 'route', /10\.20\.2\.21/).evidence.trimEnd(), 'default via 10.20.1.1 dev eth0 proto static metric 100');
      assert.deepEqual([hop(r, 'rtr').in, hop(r, 'rtr').out], ['eth0', 'eth1']);
      stepOf(r, 'rtr', 'forward');
      assert.equal(stepOf(r, 'rtr', 'route').evidence.trimEnd(), '10.20.2.0/24 dev eth1 proto kernel scope link src 10.20.2.1');
      stepOf(r, 'node-b1', 'vxlan-decap');
      assert.equal(obs.deltas.rtr?.['Ip.ForwDatagrams'], 1, describeObservation(obs));
    });

    test('and back: db-0 -> web-0 crosses the router from eth1 to eth0', async () => {
      const { r } = await agree(t, t.net, 'db-0', '10.244.0.3');
      assert.deepEqual(hostsOf(r), ['db-0', 'node-b1', 'tor-b', 'rtr', 'tor-a', 'node-a1', 'web-0']);
      assert.deepEqual([hop(r, 'rtr').in, hop(r, 'rtr').out], ['eth1', 'eth0']);
    });

    test('fault: ip_forward=0 on the router: cross-subnet pod traffic stops at rtr eth0 (forwarding-disabled), same-subnet traffic still flows', async () => {
      await withFault(t, { apply: () => t.lab.sysctl('rtr', 'net.ipv4.ip_forward=0'), undo: () => t.lab.sysctl('rtr', 'net.ipv4.ip_forward=1') }, async (net) => {
        const { obs, r } = await agree(t, net, 'web-0', '10.244.2.3');
        assert.equal(r.verdict, 'forwarding-disabled');
        assert.deepEqual(r.dropAt, { host: 'rtr', dev: 'eth0' });
        assert.equal(obs.deltas.rtr?.['Ip.InAddrErrors'], 1, describeObservation(obs));
        const near = await agree(t, net, 'web-0', '10.244.1.3');
        assert.equal(near.r.verdict, 'delivered');
      });
    });

    const noDefault = () => ({
      apply: () => t.lab.ip('node-a1', 'route', 'del', 'default'),
      undo: () => t.lab.ip('node-a1', 'route', 'add', 'default', 'via', '10.20.1.1', 'dev', 'eth0', 'proto', 'static', 'metric', '100'),
    });

    test('fault: node-a1 lost its default route: the VXLAN packet to node-b1 has no route (no-route at node-a1); node-a2 in the same subnet is still reached', async () => {
      await withFault(t, noDefault(), async (net) => {
        const r = trace(net, 'web-0', '10.244.2.3');
        const obs = await observe(t.lab, t.built, { from: 'web-0', to: '10.244.2.3', size: SIZE });
        // vxlan_xmit's route lookup for the outer packet fails: flannel.1 counts tx_errors (not
        // Ip.OutNoRoutes, which the oracle expects, so it names the drop no-fdb-entry), and nothing
        // leaves eth0.
        compareWithEngine(obs, r, { verdict: false, dev: false });
        // tx_carrier_errors is what vxlan_xmit counts for ENETUNREACH (drop reason IP_OUTNOROUTES).
        assert.equal(obs.deltas['node-a1']?.['link flannel.1 tx_errors'], 1, describeObservation(obs));
        assert.equal(obs.deltas['node-a1']?.['link flannel.1 tx_carrier_errors'], 1, describeObservation(obs));
        assert.ok(!obs.devices.some((d) => d.host === 'node-a1' && d.dev === 'eth0'), describeObservation(obs));
        assert.equal(r.verdict, 'no-route', explain(r));
        assert.equal(r.dropAt?.host, 'node-a1');
        assert.equal(hop(r, 'node-a1').out, 'flannel.1');
        const near = await agree(t, net, 'web-0', '10.244.1.3');
        assert.equal(near.r.verdict, 'delivered');
      });
    });

    test(
      'the same fault: the drop is on flannel.1, where the kernel counts it (tx_errors)',
      {},
      async () => {
        await withFault(t, noDefault(), async (net) => {
          const r = trace(net, 'web-0', '10.244.2.3');
          assert.deepEqual(r.dropAt, { host: 'node-a1', dev: 'flannel.1' }, explain(r));
        });
      },
    );
  });
}
