// IPIP and WireGuard paths. This kernel has neither module, so there is no kernel to judge here:
// the captures are built by hand in the exact shapes `ip -d link`, `ip route`, `ip rule` and
// `wg show all dump` print on Calico nodes (IPIP mode and WireGuard mode).
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { validateCapture, type Capture } from '../../../src/capture/document';
import { buildNetwork, simulate, type TraceResult } from '../../../src/engine';

const D = ' promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 ';
const lo = `1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00${D}`;

interface NodeDef {
  name: string;
  ip: string;
  mac: string;
  block: string; // the node's Calico IPAM block, e.g. 10.244.0.0/26
  tunnelIp: string;
  pod: { name: string; ip: string; mac: string; cali: string; caliIndex: number };
}

const n1: NodeDef = { name: 'node-a', ip: '10.4.7.21', mac: '52:54:00:aa:00:21', block: '10.244.0.0/26', tunnelIp: '10.244.0.1', pod: { name: 'web-0', ip: '10.244.0.5', mac: '9e:1f:3c:aa:01:05', cali: 'calia1b2c3d4e5f', caliIndex: 9 } };
const n2: NodeDef = { name: 'node-b', ip: '10.4.7.22', mac: '52:54:00:aa:00:22', block: '10.244.1.0/26', tunnelIp: '10.244.1.1', pod: { name: 'db-0', ip: '10.244.1.7', mac: '9e:1f:3c:aa:02:07', cali: 'cali0f9e8d7c6b5', caliIndex: 11 } };

function podHost(n: NodeDef, proxyArpOk = true) {
  return {
    name: n.pod.name,
    role: 'pod' as const,
    node: n.name,
    namespace: 'default',
    pod: n.pod.name,
    ips: [n.pod.ip],
    probes: {
      links: `${lo}
3: eth0@if${n.pod.caliIndex}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1480 qdisc noqueue state UP mode DEFAULT group default qlen 1000
    link/ether ${n.pod.mac} brd ff:ff:ff:ff:ff:ff link-netnsid 0${D}
    veth addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535
`,
      addrs: `1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    inet 127.0.0.1/8 scope host lo
       valid_lft forever preferred_lft forever
3: eth0@if${n.pod.caliIndex}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1480 qdisc noqueue state UP group default qlen 1000
    link/ether ${n.pod.mac} brd ff:ff:ff:ff:ff:ff link-netnsid 0
    inet ${n.pod.ip}/32 scope global eth0
       valid_lft forever preferred_lft forever
`,
      routes4: `default via 169.254.1.1 dev eth0 
169.254.1.1 dev eth0 scope link 
local ${n.pod.ip} dev eth0 table local proto kernel scope host src ${n.pod.ip} 
`,
      neigh: proxyArpOk ? '' : '169.254.1.1 dev eth0 FAILED\n',
    },
  };
}

function nodeProbes(n: NodeDef, peer: NodeDef, mode: 'ipip' | 'wireguard', proxyArp: 0 | 1) {
  const tunnel =
    mode === 'ipip'
      ? `4: tunl0@NONE: <NOARP,UP,LOWER_UP> mtu 1480 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000
    link/ipip 0.0.0.0 brd 0.0.0.0 promiscuity 0  allmulti 0 minmtu 0 maxmtu 0 
    ipip any remote any local any ttl inherit nopmtudisc addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 `
      : `4: wireguard.cali: <POINTOPOINT,NOARP,UP,LOWER_UP> mtu 1440 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000
    link/none  promiscuity 0  allmulti 0 minmtu 0 maxmtu 2147483552 
    wireguard addrgenmode none numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 `;
  const dev = mode === 'ipip' ? 'tunl0' : 'wireguard.cali';
  const remoteRoute = mode === 'ipip' ? `${peer.block} via ${peer.ip} dev tunl0 proto bird onlink ` : `${peer.block} dev wireguard.cali table 1 proto static scope link `;
  return {
    links: `${lo}
2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP mode DEFAULT group default qlen 1000
    link/ether ${n.mac} brd ff:ff:ff:ff:ff:ff${D}
${tunnel}
${n.pod.caliIndex}: ${n.pod.cali}@if3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1480 qdisc noqueue state UP mode DEFAULT group default qlen 1000
    link/ether ee:ee:ee:ee:ee:ee brd ff:ff:ff:ff:ff:ff link-netnsid 1${D}
    veth addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535
`,
    addrs: `1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    inet 127.0.0.1/8 scope host lo
       valid_lft forever preferred_lft forever
2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP group default qlen 1000
    link/ether ${n.mac} brd ff:ff:ff:ff:ff:ff
    inet ${n.ip}/24 brd 10.4.7.255 scope global eth0
       valid_lft forever preferred_lft forever
4: ${dev}${mode === 'ipip' ? '@NONE' : ''}: <NOARP,UP,LOWER_UP> mtu 1480 qdisc noqueue state UNKNOWN group default qlen 1000
    ${mode === 'ipip' ? 'link/ipip 0.0.0.0 brd 0.0.0.0' : 'link/none '}
    inet ${n.tunnelIp}/32 scope global ${dev}
       valid_lft forever preferred_lft forever
`,
    routes4: `default via 10.4.7.1 dev eth0 proto static metric 100 
10.4.7.0/24 dev eth0 proto kernel scope link src ${n.ip} metric 100 
blackhole ${n.block} proto bird 
${n.pod.ip} dev ${n.pod.cali} scope link 
${remoteRoute}
local ${n.ip} dev eth0 table local proto kernel scope host src ${n.ip} 
local ${n.tunnelIp} dev ${dev} table local proto kernel scope host src ${n.tunnelIp} 
`,
    rules4:
      mode === 'wireguard'
        ? `0:\tfrom all lookup local
99:\tnot from all fwmark 0x100000/0x100000 lookup 1
32766:\tfrom all lookup main
32767:\tfrom all lookup default
`
        : `0:\tfrom all lookup local
32766:\tfrom all lookup main
32767:\tfrom all lookup default
`,
    neigh: `${peer.ip} dev eth0 lladdr ${peer.mac} REACHABLE
${n.pod.ip} dev ${n.pod.cali} lladdr ${n.pod.mac} STALE
`,
    sysctl: `net.ipv4.ip_forward = 1
net.ipv4.conf.all.rp_filter = 0
net.ipv4.conf.${n.pod.cali}.proxy_arp = ${proxyArp}
net.ipv4.conf.${n.pod.cali}.rp_filter = 1
net.ipv4.conf.${n.pod.cali}.forwarding = 1
net.ipv4.conf.${dev.replace('.', '/')}.forwarding = 1
net.ipv4.conf.${dev.replace('.', '/')}.rp_filter = 1
`,
    ...(mode === 'wireguard'
      ? {
          wg: `wireguard.cali\t(none)\t${key(n.name)}\t51820\t0x100000
wireguard.cali\t${key(peer.name)}\t(none)\t${peer.ip}:51820\t${peer.block},${peer.tunnelIp}/32\t1764019800\t2048\t4096\t0
`,
        }
      : {}),
  };
}

function key(seed: string): string {
  return Buffer.from(seed.padEnd(32, '.')).toString('base64');
}

function capture(mode: 'ipip' | 'wireguard', opts: { proxyArp?: 0 | 1; tweak?: (c: Capture) => void } = {}): Capture {
  const doc = {
    apiVersion: 'netpath/v1',
    kind: 'Capture',
    metadata: { cluster: `calico-${mode}` },
    hosts: [
      { name: n1.name, role: 'node', ips: [n1.ip], podCIDRs: [n1.block], probes: nodeProbes(n1, n2, mode, opts.proxyArp ?? 1) },
      { name: n2.name, role: 'node', ips: [n2.ip], podCIDRs: [n2.block], probes: nodeProbes(n2, n1, mode, 1) },
      podHost(n1, (opts.proxyArp ?? 1) === 1),
      podHost(n2),
    ],
  };
  const r = validateCapture(doc);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  opts.tweak?.(r.capture);
  return r.capture;
}

function trace(c: Capture, from = 'default/web-0', to = '10.244.1.7'): TraceResult {
  const r = simulate(buildNetwork(c), { from, to });
  if (!r.ok) throw new Error(r.error);
  return r.result;
}

const steps = (r: TraceResult, kind: string) => r.hops.flatMap((h) => h.steps.filter((s) => s.kind === kind));

describe('Calico IPIP', () => {
  test('pod -> node (proxy ARP for 169.254.1.1, /32 route) -> tunl0 -> node -> pod', () => {
    const r = trace(capture('ipip'));
    assert.equal(r.verdict, 'delivered', r.reason);
    assert.deepEqual(r.hops.map((h) => h.host), ['web-0', 'node-a', 'node-b', 'db-0']);
    const arp = steps(r, 'arp')[0]!;
    assert.match(arp.text, /169\.254\.1\.1.*node-a \(calia1b2c3d4e5f, proxy_arp\).*ee:ee:ee:ee:ee:ee/);
    assert.equal(arp.inferred, true);
    const encap = steps(r, 'tunnel-encap')[0]!;
    assert.match(encap.text, /IPIP tunnel.*to 10\.4\.7\.22 \(the route's gateway\), 84 bytes/);
    assert.match(steps(r, 'tunnel-decap')[0]!.text, /tunl0 \(IPIP\).*10\.244\.0\.5 -> 10\.244\.1\.7/);
    assert.equal(r.hops[2]!.in, 'eth0');
    assert.equal(r.hops[2]!.out, 'cali0f9e8d7c6b5');
    assert.ok(steps(r, 'rp-filter').some((s) => /strict\) passes/.test(s.text)));
  });

  test('without proxy ARP on the cali interface nobody answers for 169.254.1.1', () => {
    const r = trace(capture('ipip', { proxyArp: 0 }));
    assert.equal(r.verdict, 'neighbor-failed');
    assert.deepEqual(r.dropAt, { host: 'web-0', dev: 'eth0' });
  });

  test('a pod IP in the local block without its /32 route hits the blackhole block route', () => {
    const c = capture('ipip', {
      tweak: (cap) => {
        const h = cap.hosts.find((x) => x.name === 'node-b')!;
        h.probes!.routes4 = h.probes!.routes4!.split('\n').filter((l) => !l.startsWith('10.244.1.7 ')).join('\n');
      },
    });
    const r = trace(c);
    assert.equal(r.verdict, 'blackhole');
    assert.deepEqual(r.dropAt, { host: 'node-b', dev: null });
    assert.match(r.hops[2]!.steps.find((s) => s.kind === 'route' && /blackhole/.test(s.text))!.evidence, /^blackhole 10\.244\.1\.0\/26 proto bird/);
  });

  test('the inner packet is 20 bytes smaller than the outer: 1480 fits tunl0, 1481 does not', () => {
    const c = capture('ipip');
    const net = buildNetwork(c);
    const ok = simulate(net, { from: 'default/web-0', to: '10.244.1.7', size: 1480 });
    assert.ok(ok.ok && ok.result.verdict === 'delivered');
    const big = simulate(net, { from: 'default/web-0', to: '10.244.1.7', size: 1481 });
    assert.ok(big.ok && big.result.verdict === 'mtu-exceeded' && big.result.dropAt!.host === 'web-0');
  });
});

describe('Calico WireGuard', () => {
  test('policy rule 99 sends pod traffic to table 1 and wireguard.cali; the marked outer packet skips it', () => {
    const r = trace(capture('wireguard'));
    assert.equal(r.verdict, 'delivered', r.reason);
    assert.deepEqual(r.hops.map((h) => h.host), ['web-0', 'node-a', 'node-b', 'db-0']);
    const rule = steps(r, 'rule')[0]!;
    assert.match(rule.text, /rule 99 matches.*table 1/);
    const encap = steps(r, 'tunnel-encap')[0]!;
    assert.match(encap.text, /cryptokey routing sends 10\.244\.1\.7 to peer .*allowed IPs 10\.244\.1\.0\/26.*UDP to 10\.4\.7\.22:51820, 60 bytes of headers, 124 bytes/);
    assert.equal(encap.records[0]!.probe, 'wg');
    // The outer packet carries the device's fwmark, so rule 99 does not match it: it leaves by eth0.
    assert.equal(r.hops[1]!.out, 'eth0');
    assert.match(steps(r, 'tunnel-decap')[0]!.text, /WireGuard, UDP 51820.*allowed IPs include 10\.244\.0\.5/);
  });

  test('no peer whose allowed IPs hold the destination: unreachable at the sender', () => {
    const c = capture('wireguard', {
      tweak: (cap) => {
        const h = cap.hosts.find((x) => x.name === 'node-a')!;
        h.probes!.wg = h.probes!.wg!.replace('10.244.1.0/26,', '10.244.9.0/26,');
      },
    });
    const r = trace(c);
    assert.equal(r.verdict, 'unreachable');
    assert.deepEqual(r.dropAt, { host: 'node-a', dev: 'wireguard.cali' });
  });

  test('the receiver drops a source that is not among the sending peer\'s allowed IPs', () => {
    const c = capture('wireguard', {
      tweak: (cap) => {
        const h = cap.hosts.find((x) => x.name === 'node-b')!;
        h.probes!.wg = h.probes!.wg!.replace('10.244.0.0/26,', '10.244.8.0/26,');
      },
    });
    const r = trace(c);
    assert.equal(r.verdict, 'rp-filter');
    assert.deepEqual(r.dropAt, { host: 'node-b', dev: 'wireguard.cali' });
    assert.match(r.reason, /not among the sending peer's allowed IPs/);
  });

  test('without a wg probe the peer is inferred from the nodes\' podCIDRs and marked so', () => {
    const c = capture('wireguard', {
      tweak: (cap) => {
        for (const h of cap.hosts) if (h.probes) delete h.probes.wg;
      },
    });
    const r = trace(c);
    assert.equal(r.verdict, 'delivered', r.reason);
    assert.equal(r.inferred, true);
    assert.ok(steps(r, 'tunnel-encap')[0]!.inferred);
  });
});
