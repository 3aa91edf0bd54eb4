// The kernel judges the netfilter evaluator (see netfilter-judge.ts): for each case, one traced packet's
// chain/rule/verdict sequence on the node must be one of runHook's outcomes, with the same verdict and
// DNAT endpoint; for a Service with several endpoints, many new connections must spread over the
// endpoints as runHook's probabilities say (binomial tolerance, a fixed number of connections).
//
// Needs root, network namespaces, nft and iptables (iptables-nft). Without them these tests FAIL with
// what is missing, unless NETPATH_SKIP_LAB=1 is set, in which case they are skipped.
import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import { sweepStaleNamespaces } from './netns';
import { KUBE_PROXY_IP6TABLES, KUBE_PROXY_IPTABLES, KUBE_PROXY_IPVS_IPSET, KUBE_PROXY_IPVS_IPTABLES, KUBE_PROXY_NFT } from './netfilter-rulesets';
import {
  NfLab,
  engineTrail,
  kernelTrail,
  netfilterLabUnavailable,
  probePacket,
  rulePositions,
  walkNode,
  withinBinomial,
  type Probe,
} from './netfilter-judge';
import type { Ruleset } from '../../src/engine/netfilter';

const SKIP = process.env.NETPATH_SKIP_LAB === '1';
const unavailable = SKIP ? undefined : netfilterLabUnavailable();
const TIMEOUT = 300_000;

interface Case {
  name: string;
  probe: Probe;
  /** What the kernel does: the final verdict on the node and, for a DNAT, where to. */
  expect: { verdict: 'accept' | 'drop'; dnatTo?: string[]; local?: boolean };
}

/** Judges one traced packet: the kernel's sequence must be among the evaluator's outcomes. */
async function judge(l: NfLab, rs: Ruleset, c: Case): Promise<void> {
  const events = await l.traceOne(c.probe);
  const kernel = kernelTrail(events, rulePositions(l.lab.execIn('node', ['nft', '-a', 'list', 'ruleset'])));
  assert.ok(kernel.length > 0, `no trace events for ${c.name}`);
  assert.ok(kernel.every((k) => !k.includes('#?')), `trace rules not found in nft list ruleset:\n${kernel.join('\n')}`);
  const paths = walkNode(rs, l, probePacket(c.probe));
  const trails = paths.map((p) => engineTrail(p.outcomes));
  const hit = trails.findIndex((t) => JSON.stringify(t) === JSON.stringify(kernel));
  assert.ok(hit >= 0, `kernel:\n  ${kernel.join('\n  ')}\nevaluator's outcomes:\n${trails.map((t, i) => `  [${paths[i]!.probability.toFixed(3)}]\n    ${t.join('\n    ')}`).join('\n')}`);
  const path = paths[hit]!;
  const kernelVerdict = kernel.at(-1)!.endsWith('drop') ? 'drop' : 'accept';
  assert.equal(kernelVerdict, c.expect.verdict, `the kernel's verdict for ${c.name}`);
  assert.equal(path.final.verdict.kind === 'reject' ? 'drop' : path.final.verdict.kind, c.expect.verdict);
  assert.equal(path.hooks.includes('input'), c.expect.local ?? false, 'local delivery');
  const dnat = path.outcomes.flatMap((o) => o.nat).find((n) => n.kind === 'dnat');
  if (c.expect.dnatTo) assert.ok(dnat && c.expect.dnatTo.includes(`${dnat.after.addr}:${dnat.after.port}`), `DNAT to one of ${c.expect.dnatTo}, got ${JSON.stringify(dnat?.after)}`);
  else assert.equal(dnat, undefined);
  assert.deepEqual(path.outcomes.flatMap((o) => o.unevaluated), [], 'every rule on the path was evaluated');
}

/** Many new connections: per endpoint, the count must fit the evaluator's probability. */
async function spread(l: NfLab, rs: Ruleset, probe: Probe, n: number, proto: 'udp' | 'tcp'): Promise<void> {
  const paths = walkNode(rs, l, probePacket(probe));
  const byEndpoint = new Map<string, number>();
  for (const p of paths) {
    const d = p.outcomes.flatMap((o) => o.nat).find((x) => x.kind === 'dnat');
    if (d && p.final.verdict.kind === 'accept') byEndpoint.set(`${d.after.addr}:${d.after.port}`, (byEndpoint.get(`${d.after.addr}:${d.after.port}`) ?? 0) + p.probability);
  }
  const eps = [...byEndpoint.keys()].sort();
  assert.ok(eps.length >= 2, `several endpoints expected, the evaluator gives ${eps.join(', ')}`);
  const counter = l.countAt(eps.map((e) => ({ addr: e.slice(0, e.lastIndexOf(':')), port: Number(e.slice(e.lastIndexOf(':') + 1)), proto })));
  counter.reset();
  await l.send(probe, n);
  const got = counter.read();
  const total = got.reduce((a, b) => a + b, 0);
  assert.ok(total >= n * 0.95, `only ${total} of ${n} connections reached the pods`);
  const report = eps.map((e, i) => `${e}: ${got[i]} of ${total} (evaluator ${(byEndpoint.get(e)! * 100).toFixed(1)}%)`).join(', ');
  eps.forEach((e, i) => assert.ok(withinBinomial(got[i]!, total, byEndpoint.get(e)!), `${e} out of the binomial tolerance: ${report}`));
  console.log(`  spread over ${total} new connections: ${report}`);
}

if (SKIP) {
  test('netfilter: evaluator vs kernel', { skip: 'NETPATH_SKIP_LAB=1' }, () => {});
} else if (unavailable) {
  test('netfilter: evaluator vs kernel', () => assert.fail(`${unavailable} (set NETPATH_SKIP_LAB=1 to skip)`));
} else {
  describe('kube-proxy iptables mode: evaluator vs kernel', { timeout: TIMEOUT }, () => {
    let l: NfLab;
    let rs: Ruleset;
    before(() => {
      sweepStaleNamespaces();
      l = new NfLab({ client: ['10.99.0.2/24'], node: ['10.99.0.1/24', '10.244.1.1/24'], pods: ['10.244.1.11/24', '10.244.1.12/24', '10.244.1.13/24'] });
      l.loadIptables(KUBE_PROXY_IPTABLES);
      rs = l.ruleset();
    });
    after(() => l?.dispose());

    const cases: Case[] = [
      { name: 'ClusterIP with three endpoints (statistic 1/3, 1/2)', probe: { src: '10.99.0.2', dst: '10.96.0.10', proto: 'udp', sport: 41000, dport: 53 }, expect: { verdict: 'accept', dnatTo: ['10.244.1.11:8080', '10.244.1.12:8080', '10.244.1.13:8080'] } },
      { name: 'Service with no endpoints: REJECT in filter KUBE-SERVICES', probe: { src: '10.99.0.2', dst: '10.96.0.20', proto: 'udp', sport: 41001, dport: 80 }, expect: { verdict: 'drop' } },
      { name: 'NodePort, externalTrafficPolicy Cluster: KUBE-NODEPORTS via addrtype LOCAL, masquerade', probe: { src: '10.99.0.2', dst: '10.99.0.1', proto: 'udp', sport: 41002, dport: 30054 }, expect: { verdict: 'accept', dnatTo: ['10.244.1.11:8080', '10.244.1.12:8080', '10.244.1.13:8080'] } },
      // eTP Local keeps the client's address (no masquerade mark), so KUBE-FORWARD does not accept it and,
      // with no CNI rule that accepts pod traffic, FORWARD's policy DROP drops it: the issue's own example.
      { name: 'NodePort, externalTrafficPolicy Local: KUBE-EXT to KUBE-SVL, DNAT to the local endpoint, then FORWARD policy DROP', probe: { src: '10.99.0.2', dst: '10.99.0.1', proto: 'udp', sport: 41003, dport: 30053 }, expect: { verdict: 'drop', dnatTo: ['10.244.1.12:8080'] } },
      { name: 'straight to a pod, no Service: FORWARD policy DROP', probe: { src: '10.99.0.2', dst: '10.244.1.11', proto: 'udp', sport: 41004, dport: 8080 }, expect: { verdict: 'drop' } },
      { name: 'NodePort of a Service with no endpoints: REJECT in KUBE-EXTERNAL-SERVICES', probe: { src: '10.99.0.2', dst: '10.99.0.1', proto: 'udp', sport: 41005, dport: 30020 }, expect: { verdict: 'drop', local: true } },
      { name: 'to the node itself on another port: INPUT accepts', probe: { src: '10.99.0.2', dst: '10.99.0.1', proto: 'udp', sport: 41006, dport: 9999 }, expect: { verdict: 'accept', local: true } },
    ];
    for (const c of cases) test(c.name, async () => judge(l, rs, c));

    test('statistic random: 600 new connections spread over the three endpoints as the probabilities say', async () => {
      await spread(l, rs, { src: '10.99.0.2', dst: '10.96.0.10', proto: 'udp', sport: 20000, dport: 53 }, 600, 'udp');
    });
  });

  describe('kube-proxy nftables mode (its own test rule set): evaluator vs kernel', { timeout: TIMEOUT }, () => {
    let l: NfLab;
    let rs: Ruleset;
    before(() => {
      l = new NfLab({
        client: ['192.168.0.9/24', '10.0.0.2/32'],
        node: ['192.168.0.2/24', '10.180.0.254/24'],
        pods: ['10.180.0.1/24', '10.180.0.2/24', '10.180.0.3/24', '10.180.0.4/24', '10.180.0.5/24'],
        nodeRoutes: ['10.0.0.2/32'],
      });
      l.loadNft(KUBE_PROXY_NFT);
      rs = l.ruleset();
    });
    after(() => l?.dispose());

    const cases: Case[] = [
      { name: 'ClusterIP from outside the pod network: marked, numgen picks one of two endpoints, masqueraded', probe: { src: '192.168.0.9', dst: '172.30.0.44', proto: 'tcp', sport: 42000, dport: 80 }, expect: { verdict: 'accept', dnatTo: ['10.180.0.4:80', '10.180.0.5:80'] } },
      { name: 'ClusterIP from a pod address: not marked', probe: { src: '10.0.0.2', dst: '172.30.0.41', proto: 'tcp', sport: 42001, dport: 80 }, expect: { verdict: 'accept', dnatTo: ['10.180.0.1:80'] } },
      { name: 'Service with no endpoints: the no-endpoint-services map goes to reject-chain', probe: { src: '192.168.0.9', dst: '172.30.0.46', proto: 'tcp', sport: 42002, dport: 80 }, expect: { verdict: 'drop' } },
      { name: 'unallocated ClusterIP: cluster-ips-check drops it', probe: { src: '192.168.0.9', dst: '172.30.0.50', proto: 'tcp', sport: 42003, dport: 80 }, expect: { verdict: 'drop' } },
      { name: 'ExternalIP of an externalTrafficPolicy Local Service with no local endpoint: dropped', probe: { src: '192.168.0.9', dst: '192.168.99.22', proto: 'tcp', sport: 42004, dport: 80 }, expect: { verdict: 'drop' } },
      { name: 'NodePort on the node address: service-nodeports map, external chain, DNAT', probe: { src: '192.168.0.9', dst: '192.168.0.2', proto: 'tcp', sport: 42005, dport: 3003 }, expect: { verdict: 'accept', dnatTo: ['10.180.0.3:80'] } },
      { name: 'a wrong port of a ClusterIP: rejected by cluster-ips-check', probe: { src: '192.168.0.9', dst: '172.30.0.41', proto: 'tcp', sport: 42006, dport: 81 }, expect: { verdict: 'drop' } },
    ];
    for (const c of cases) test(c.name, async () => judge(l, rs, c));

    test('numgen random: 400 new connections spread over the two endpoints as the probabilities say', async () => {
      await spread(l, rs, { src: '192.168.0.9', dst: '172.30.0.44', proto: 'tcp', sport: 21000, dport: 80 }, 400, 'tcp');
    });
  });

  describe('kube-proxy IPVS mode\'s iptables rules with ipsets: evaluator vs kernel', { timeout: TIMEOUT }, () => {
    let l: NfLab;
    let rs: Ruleset;
    before(() => {
      l = new NfLab({ client: ['10.99.0.2/24'], node: ['10.99.0.1/24', '10.244.1.1/24'], pods: ['10.244.1.11/24'], nodeLocal: ['10.96.0.10/32'] });
      l.loadIpset(KUBE_PROXY_IPVS_IPSET);
      l.loadIptables(KUBE_PROXY_IPVS_IPTABLES);
      rs = l.ruleset();
    });
    after(() => l?.dispose());

    const cases: Case[] = [
      { name: 'a Service address and port in KUBE-CLUSTER-IP: marked for masquerade, accepted, delivered locally to IPVS', probe: { src: '10.99.0.2', dst: '10.96.0.10', proto: 'udp', sport: 44000, dport: 53 }, expect: { verdict: 'accept', local: true } },
      { name: 'a Service address on a port no Service has: KUBE-IPVS-FILTER rejects it', probe: { src: '10.99.0.2', dst: '10.96.0.10', proto: 'udp', sport: 44001, dport: 99 }, expect: { verdict: 'drop', local: true } },
      { name: 'a NodePort in the KUBE-NODE-PORT-UDP bitmap: marked for masquerade', probe: { src: '10.99.0.2', dst: '10.99.0.1', proto: 'udp', sport: 44002, dport: 30053 }, expect: { verdict: 'accept', local: true } },
    ];
    for (const c of cases) test(c.name, async () => judge(l, rs, c));
  });

  describe('kube-proxy iptables mode for IPv6 (ip6tables): evaluator vs kernel', { timeout: TIMEOUT }, () => {
    let l: NfLab;
    let rs: Ruleset;
    before(() => {
      l = new NfLab({ client: ['fd00:99::2/64'], node: ['fd00:99::1/64', 'fd00:244:1::1/64'], pods: ['fd00:244:1::11/64', 'fd00:244:1::12/64'] });
      l.loadIp6tables(KUBE_PROXY_IP6TABLES);
      rs = l.ruleset();
    });
    after(() => l?.dispose());

    test('IPv6 ClusterIP with two endpoints: DNAT to [addr]:port, marked, masqueraded', async () => {
      await judge(l, rs, { name: 'v6 ClusterIP', probe: { src: 'fd00:99::2', dst: 'fd00:96::a', proto: 'udp', sport: 45000, dport: 53 }, expect: { verdict: 'accept', dnatTo: ['fd00:244:1::11:8080', 'fd00:244:1::12:8080'] } });
    });
    test('IPv6 straight to a pod: FORWARD policy DROP', async () => {
      await judge(l, rs, { name: 'v6 pod', probe: { src: 'fd00:99::2', dst: 'fd00:244:1::11', proto: 'udp', sport: 45001, dport: 8080 }, expect: { verdict: 'drop' } });
    });
    test('statistic random over IPv6: 400 new connections spread over the two endpoints', async () => {
      await spread(l, rs, { src: 'fd00:99::2', dst: 'fd00:96::a', proto: 'udp', sport: 22000, dport: 53 }, 400, 'udp');
    });
  });

  describe('hook order: the NAT chains of a hook run at the NAT priority', { timeout: TIMEOUT }, () => {
    let l: NfLab;
    before(() => {
      l = new NfLab({ client: ['10.99.0.2/24'], node: ['10.99.0.1/24', '10.244.1.1/24'], pods: ['10.244.1.11/24'] });
      l.loadNft(
        [
          'table ip order {',
          '  chain natlate {\n    type nat hook prerouting priority 50; policy accept;\n    ip daddr 10.96.0.77 counter dnat to 10.244.1.11\n  }',
          '  chain filt0 {\n    type filter hook prerouting priority 0; policy accept;\n    counter\n  }',
          '  chain filtm {\n    type filter hook prerouting priority -120; policy accept;\n    counter\n  }',
          '  chain fw {\n    type filter hook forward priority 0; policy accept;\n    ip daddr 10.244.1.11 counter accept\n  }',
          '}',
        ].join('\n') + '\n',
      );
    });
    after(() => l?.dispose());

    test('a nat chain of priority 50 runs before a filter chain of priority 0 (both at prerouting)', async () => {
      await judge(l, l.ruleset(), { name: 'nat priority', probe: { src: '10.99.0.2', dst: '10.96.0.77', proto: 'udp', sport: 43000, dport: 53 }, expect: { verdict: 'accept', dnatTo: ['10.244.1.11:53'] } });
    });
  });
}
