// Where the API and a node's kube-proxy rules disagree (src/engine/serviceFindings.ts), on kube-proxy's
// own rule formats: iptables mode (the lab's rule set), nftables mode (kube-proxy's own test rule set),
// ip6tables, IPVS (ipvsadm -Ln) — each against API objects that agree, then with one thing changed.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { buildRuleset } from '../../../src/engine/netfilter';
import { validateCapture } from '../../../src/capture/document';
import { buildNetwork } from '../../../src/engine/network';
import { findingsForTrace, kubeProxyLabel, kubeProxyModes, serviceFindings, staleServiceFindings, traceFindings, type ServiceFinding } from '../../../src/engine/serviceFindings';
import { KUBE_PROXY_IP6TABLES, KUBE_PROXY_IPTABLES } from '../../lab/netfilter-rulesets';
import { fixtureBody } from '../parsers/fixture-body';
import { indexOf, node, service, slice, type EndpointSpec } from './services-objects';

const NODE = 'lab-node';
const iptRules = buildRuleset(NODE, { iptables: KUBE_PROXY_IPTABLES });

/** The API objects the lab's iptables rule set was written from (netfilter-rulesets.ts). */
function labApi(change: { dns?: EndpointSpec[]; empty?: EndpointSpec[]; extra?: unknown[]; extraSlices?: unknown[] } = {}) {
  const dnsEps = change.dns ?? ['10.244.1.11', '10.244.1.12', '10.244.1.13'].map((ip) => ({ ip, node: NODE }));
  return indexOf({
    nodes: [node(NODE, ['10.99.0.1', '10.244.1.1'])],
    services: [
      service('default', 'dns', ['10.96.0.10'], [{ name: 'udp', port: 53, protocol: 'UDP', targetPort: 8080, nodePort: 30054 }], { type: 'NodePort', externalTrafficPolicy: 'Cluster' }),
      service('default', 'local', ['10.96.0.30'], [{ name: 'udp', port: 53, protocol: 'UDP', targetPort: 8080, nodePort: 30053 }], { type: 'NodePort', externalTrafficPolicy: 'Local' }),
      service('default', 'empty', ['10.96.0.20'], [{ name: 'udp', port: 80, protocol: 'UDP', targetPort: 8080, nodePort: 30020 }], { type: 'NodePort', externalTrafficPolicy: 'Cluster' }),
      ...(change.extra ?? []),
    ],
    endpointSlices: [
      slice('default', 'dns', 'a1b2c', 'IPv4', dnsEps, [{ name: 'udp', port: 8080, protocol: 'UDP' }]),
      slice('default', 'local', 'd3e4f', 'IPv4', [{ ip: '10.244.1.12', node: NODE }], [{ name: 'udp', port: 8080, protocol: 'UDP' }]),
      slice('default', 'empty', 'g5h6i', 'IPv4', change.empty ?? [], change.empty ? [{ name: 'udp', port: 8080, protocol: 'UDP' }] : []),
      ...(change.extraSlices ?? []),
    ],
  });
}

const brief = (fs: ServiceFinding[]) => fs.map((f) => `${f.kind} ${f.service ?? ''} ${f.endpoint ? `${f.endpoint.ip}:${f.endpoint.port}` : ''}`.trim());

describe('API vs rules: iptables mode', () => {
  test('the mode of each family is read from the rules', () => {
    assert.deepEqual([...kubeProxyModes(iptRules)], [[4, 'iptables']]);
  });

  test('rules written from the API objects: no finding', () => {
    assert.deepEqual(serviceFindings(iptRules, labApi(), NODE), []);
  });

  test('an endpoint the EndpointSlices no longer list is stale; the evidence is its DNAT rule', () => {
    const fs = serviceFindings(iptRules, labApi({ dns: ['10.244.1.11', '10.244.1.12'].map((ip) => ({ ip, node: NODE })) }), NODE);
    assert.deepEqual(brief(fs), ['endpoint-stale default/dns:udp 10.244.1.13:8080']);
    const f = fs[0]!;
    assert.equal(f.host, NODE);
    assert.equal(f.probe, 'iptables');
    assert.equal(f.mode, 'iptables');
    assert.deepEqual(f.frontend, { ip: '10.96.0.10', port: 53, proto: 'udp' });
    assert.equal(f.evidence.length, 1);
    assert.match(f.evidence[0]!.raw, /^-A KUBE-SEP-PXD6POUVGD2I37UY .*-j DNAT --to-destination 10\.244\.1\.13:8080$/);
    assert.equal(f.evidence[0]!.probe, 'iptables');
    assert.ok(f.evidence[0]!.line > 0);
    assert.equal(f.api.says, 'no EndpointSlice of default/dns lists 10.244.1.13:8080');
    assert.match(f.text, /lab-node's iptables rules still send default\/dns:udp \(10\.96\.0\.10:53\/udp\) to 10\.244\.1\.13:8080, but no EndpointSlice/);
    assert.equal(f.expected, '10.244.1.11:8080, 10.244.1.12:8080');
    assert.equal(f.actual, '10.244.1.11:8080, 10.244.1.12:8080, 10.244.1.13:8080');
    assert.equal(f.owner, 'kube-proxy');
  });

  test('a terminating endpoint the rules still use, while others are ready, is stale and says so', () => {
    const fs = serviceFindings(iptRules, labApi({ dns: [{ ip: '10.244.1.11', node: NODE }, { ip: '10.244.1.12', node: NODE }, { ip: '10.244.1.13', node: NODE, pod: 'dns-2', ready: false, serving: true, terminating: true }] }), NODE);
    assert.deepEqual(brief(fs), ['endpoint-stale default/dns:udp 10.244.1.13:8080']);
    assert.match(fs[0]!.api.says, /EndpointSlice default\/dns-a1b2c lists 10\.244\.1\.13:8080 \(default\/dns-2\) as terminating \(still serving\) on lab-node, which kube-proxy does not use here/);
    assert.equal(fs[0]!.api.evidence[0]!.probe, 'endpointSlices[0].endpoints[2]');
  });

  test('only terminating endpoints left: kube-proxy falls back to them, so rules sending to them agree', () => {
    const term = ['10.244.1.11', '10.244.1.12', '10.244.1.13'].map((ip) => ({ ip, node: NODE, ready: false, serving: true, terminating: true }));
    assert.deepEqual(serviceFindings(iptRules, labApi({ dns: term }), NODE), []);
  });

  test('an endpoint in the EndpointSlice missing from the rules; the evidence is the rules that choose', () => {
    const fs = serviceFindings(iptRules, labApi({ dns: ['10.244.1.11', '10.244.1.12', '10.244.1.13', '10.244.1.14'].map((ip) => ({ ip, node: NODE })) }), NODE);
    assert.deepEqual(brief(fs), ['endpoint-missing default/dns:udp 10.244.1.14:8080']);
    const f = fs[0]!;
    assert.ok(f.evidence.some((e) => e.raw.includes('-A KUBE-SERVICES -d 10.96.0.10/32')), 'the ClusterIP rule');
    assert.ok(f.evidence.some((e) => e.raw.includes('--probability 0.33333333349')), 'the statistic rule');
    assert.match(f.api.says, /EndpointSlice default\/dns-a1b2c lists 10\.244\.1\.14:8080 as ready on lab-node/);
    assert.equal(f.api.evidence[0]!.host, 'kubernetes');
  });

  test('endpoints for a Service whose rules REJECT (no endpoints when kube-proxy last synced)', () => {
    const fs = serviceFindings(iptRules, labApi({ empty: [{ ip: '10.244.1.15', node: NODE }] }), NODE);
    assert.deepEqual(brief(fs), ['endpoint-missing default/empty:udp 10.244.1.15:8080']);
    assert.equal(fs[0]!.actual, 'reject');
    assert.match(fs[0]!.evidence[0]!.raw, /"default\/empty:udp has no endpoints" .*-j REJECT/);
  });

  test('every endpoint gone from the API: each rule endpoint is stale', () => {
    assert.deepEqual(brief(serviceFindings(iptRules, labApi({ dns: [] }), NODE)), [
      'endpoint-stale default/dns:udp 10.244.1.11:8080',
      'endpoint-stale default/dns:udp 10.244.1.12:8080',
      'endpoint-stale default/dns:udp 10.244.1.13:8080',
    ]);
  });

  test('a Service in the API with no rules on the node', () => {
    const api = labApi({
      extra: [service('default', 'new', ['10.96.0.40'], [{ name: 'http', port: 80, targetPort: 8080 }])],
      extraSlices: [slice('default', 'new', 'x1', 'IPv4', [{ ip: '10.244.1.40', node: NODE }], [{ name: 'http', port: 8080 }])],
    });
    const fs = serviceFindings(iptRules, api, NODE);
    assert.deepEqual(brief(fs), ['service-missing default/new:http']);
    assert.match(fs[0]!.text, /lab-node's iptables rules have nothing for default\/new:http \(10\.96\.0\.40:80\/tcp\), which the API has with 10\.244\.1\.40:8080/);
    assert.equal(fs[0]!.api.evidence[0]!.probe, 'services[3]');
  });

  test('a filter on Service names keeps only theirs', () => {
    const api = labApi({ dns: [], empty: [{ ip: '10.244.1.15', node: NODE }] });
    assert.deepEqual(brief(serviceFindings(iptRules, api, NODE, { services: ['default/empty'] })), ['endpoint-missing default/empty:udp 10.244.1.15:8080']);
    assert.equal(serviceFindings(iptRules, api, NODE, { services: ['default/dns:udp'] }).length, 3);
  });
});

describe('API vs rules: other modes and families', () => {
  for (const form of ['kube-proxy-overall', 'kube-proxy-overall-json']) {
  test(`nftables mode (kube-proxy's own test rule set, nft list ruleset ${form.endsWith('json') ? '-j' : 'text'}): agreement, then a stale endpoint quoted from its dnat rule`, () => {
    const rs = buildRuleset('node-192-168-0-2', { nft: fixtureBody('nft', form) });
    assert.deepEqual([...kubeProxyModes(rs)], [[4, 'nftables']]);
    const api = (svc4: string[]) =>
      indexOf({
        nodes: [node('node-192-168-0-2', ['192.168.0.2'])],
        services: [service('ns1', 'svc1', ['172.30.0.41'], [{ name: 'p80', port: 80 }]), service('ns4', 'svc4', ['172.30.0.44'], [{ name: 'p80', port: 80 }])],
        endpointSlices: [
          slice('ns1', 'svc1', 'a', 'IPv4', [{ ip: '10.180.0.1', node: 'node-192-168-0-2' }], [{ name: 'p80', port: 80 }]),
          slice('ns4', 'svc4', 'b', 'IPv4', svc4.map((ip) => ({ ip })), [{ name: 'p80', port: 80 }]),
        ],
      });
    assert.deepEqual(serviceFindings(rs, api(['10.180.0.4', '10.180.0.5']), 'node-192-168-0-2'), []);
    const fs = serviceFindings(rs, api(['10.180.0.4']), 'node-192-168-0-2');
    assert.deepEqual(brief(fs), ['endpoint-stale ns4/svc4:p80 10.180.0.5:80']);
    assert.equal(fs[0]!.probe, 'nft');
    assert.match(fs[0]!.evidence[0]!.raw, /10\.180\.0\.5/);
    const missing = serviceFindings(rs, api(['10.180.0.4', '10.180.0.5', '10.180.0.6']), 'node-192-168-0-2');
    assert.deepEqual(brief(missing), ['endpoint-missing ns4/svc4:p80 10.180.0.6:80']);
    assert.ok(missing[0]!.evidence.some((e) => e.raw.includes('numgen')));
  });
  }

  test('ip6tables: a dual-stack Service is compared only in the family the node has rules for', () => {
    const rs = buildRuleset(NODE, { ip6tables: KUBE_PROXY_IP6TABLES });
    assert.deepEqual([...kubeProxyModes(rs)], [[6, 'iptables']]);
    const api = (v6: string[]) =>
      indexOf({
        services: [service('default', 'dns6', ['10.96.0.66', 'fd00:96::a'], [{ name: 'udp', port: 53, protocol: 'UDP', targetPort: 8080 }])],
        endpointSlices: [
          slice('default', 'dns6', 'v4', 'IPv4', [{ ip: '10.244.1.66' }], [{ name: 'udp', port: 8080, protocol: 'UDP' }]),
          slice('default', 'dns6', 'v6', 'IPv6', v6.map((ip) => ({ ip })), [{ name: 'udp', port: 8080, protocol: 'UDP' }]),
        ],
      });
    assert.deepEqual(serviceFindings(rs, api(['fd00:244:1::11', 'fd00:244:1::12']), NODE), []);
    const fs = serviceFindings(rs, api(['fd00:244:1::11']), NODE);
    assert.deepEqual(brief(fs), ['endpoint-stale default/dns6:udp fd00:244:1::12:8080']);
    assert.equal(fs[0]!.probe, 'ip6tables');
    assert.match(fs[0]!.text, /\[fd00:96::a\]:53\/udp\) to \[fd00:244:1::12\]:8080/);
  });

  test('IPVS mode: real servers of weight 0 are drained, not stale; a missing real server, an empty virtual service and a missing one', () => {
    const rs = buildRuleset('ipvs-node', { ipvs: fixtureBody('ipvs', 'constructed-kube-ipvs') });
    assert.equal(kubeProxyModes(rs).get(4), 'ipvs');
    const ix = indexOf({
      services: [
        service('default', 'web', ['10.96.0.20'], [{ port: 80, targetPort: 8080 }]),
        service('default', 'idle', ['10.96.0.50'], [{ port: 8080 }]),
        service('default', 'gone', ['10.96.0.99'], [{ port: 80 }]),
      ],
      endpointSlices: [
        slice('default', 'web', 'a', 'IPv4', ['10.244.1.5', '10.244.2.6', '10.244.3.8'].map((ip) => ({ ip })), [{ port: 8080 }]),
        slice('default', 'idle', 'b', 'IPv4', [{ ip: '10.244.1.50' }], [{ port: 8080 }]),
        slice('default', 'gone', 'c', 'IPv4', [{ ip: '10.244.1.99' }], [{ port: 80 }]),
      ],
    });
    const fs = serviceFindings(rs, ix, 'ipvs-node');
    assert.deepEqual(brief(fs), ['service-missing default/gone', 'endpoint-missing default/idle 10.244.1.50:8080', 'endpoint-missing default/web 10.244.3.8:8080']);
    assert.ok(fs.every((f) => f.probe === 'ipvs' && f.mode === 'ipvs'));
    assert.equal(fs[1]!.actual, 'no endpoint');
    assert.equal(fs[2]!.evidence[0]!.raw.trim(), 'TCP  10.96.0.20:80 wrr');
  });

  test('a node with rule probes but no kube-proxy rules at all: one finding, not one per Service', () => {
    const rs = buildRuleset(NODE, { iptables: '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n' });
    const fs = serviceFindings(rs, labApi(), NODE);
    assert.deepEqual(brief(fs), ['no-kube-proxy-rules']);
    assert.match(fs[0]!.text, /hold no kube-proxy rules at all, while the API has 3 Service\(s\) with a ClusterIP/);
    assert.deepEqual(serviceFindings(buildRuleset(NODE, {}), labApi(), NODE), [], 'no probes: nothing to compare');
  });
});

describe('the findings of one trace', () => {
  const api = labApi({ dns: ['10.244.1.11', '10.244.1.12'].map((ip) => ({ ip, node: NODE })), empty: [{ ip: '10.244.1.15', node: NODE }] });
  const nodes = (host: string) => (host === NODE || host === 'other-node' ? { ruleset: host === NODE ? iptRules : undefined } : undefined);
  const trace = (dst: string, proto: string, dport: number | undefined, hops: string[][]) => ({ flow: { dst, proto, ...(dport !== undefined ? { dport } : {}) }, paths: hops.map((h) => ({ hops: h.map((host) => ({ host })) })) });

  test('the Service behind the flow\'s destination, on the first node of each path only', () => {
    const fs = traceFindings(api, trace('10.96.0.10', 'udp', 53, [['dns-client', NODE, 'dns-0'], ['dns-client', NODE, 'other-node', 'dns-1']]), nodes);
    assert.deepEqual(brief(fs), ['endpoint-stale default/dns:udp 10.244.1.13:8080'], 'default/empty is not this trace\'s Service');
  });

  test('the Service the trace was asked for (--to svc/...), whatever the destination became', () => {
    assert.deepEqual(brief(traceFindings(api, trace('10.244.1.15', 'udp', 8080, [[NODE]]), nodes, 'default/empty:udp')), ['endpoint-missing default/empty:udp 10.244.1.15:8080']);
  });

  test('nothing for a flow to no Service, or when the first node has no rules', () => {
    assert.deepEqual(traceFindings(api, trace('10.244.1.11', 'udp', 8080, [[NODE]]), nodes), []);
    assert.deepEqual(traceFindings(api, trace('10.96.0.10', 'icmp', undefined, [[NODE]]), nodes), []);
    assert.deepEqual(traceFindings(api, trace('10.96.0.10', 'udp', 53, [['other-node', NODE]]), nodes), []);
  });
});

describe('the findings of a trace of a capture', () => {
  test('node hosts\' rule sets from their probes, pods skipped, the API from the capture\'s kubernetes section', () => {
    const r = validateCapture({
      apiVersion: 'netpath/v1',
      kind: 'Capture',
      hosts: [
        { name: NODE, role: 'node', ips: ['10.99.0.1'], probes: { iptables: KUBE_PROXY_IPTABLES } },
        { name: 'client', role: 'pod', node: NODE, namespace: 'default', pod: 'client', ips: ['10.244.1.50'] },
      ],
      kubernetes: {
        services: [service('default', 'dns', ['10.96.0.10'], [{ name: 'udp', port: 53, protocol: 'UDP', targetPort: 8080 }])],
        endpointSlices: [slice('default', 'dns', 'a1b2c', 'IPv4', [{ ip: '10.244.1.11' }, { ip: '10.244.1.12' }], [{ name: 'udp', port: 8080, protocol: 'UDP' }])],
      },
    });
    assert.ok(r.ok);
    const net = buildNetwork(r.capture);
    const trace = { flow: { dst: '10.96.0.10', proto: 'udp', dport: 53 }, paths: [{ hops: [{ host: 'client' }, { host: NODE }] }] };
    const fs = findingsForTrace(net, trace);
    assert.deepEqual(brief(fs), ['endpoint-stale default/dns:udp 10.244.1.13:8080']);
    assert.equal(fs[0]!.evidence[0]!.host, NODE);
    assert.deepEqual(findingsForTrace(net, trace, { rulesetOf: () => undefined }), [], 'the adapter says the node has no rules');
  });
});

describe('rules for Services the API does not have', () => {
  const without = (name: string) => {
    const k = labApi();
    return indexOf({
      nodes: [node(NODE, ['10.99.0.1'])],
      services: k.services.filter((v) => v.name !== name).map((v) => v.object as unknown),
      endpointSlices: [],
    });
  };

  test('iptables: a deleted Service\'s ClusterIP rule is stale, quoted from KUBE-SERVICES', () => {
    assert.deepEqual(staleServiceFindings(iptRules, labApi(), NODE), []);
    const fs = staleServiceFindings(iptRules, without('local'), NODE);
    assert.deepEqual(brief(fs), ['service-stale default/local:udp']);
    assert.deepEqual(fs[0]!.frontend, { ip: '10.96.0.30', port: 53, proto: 'udp' });
    assert.match(fs[0]!.evidence[0]!.raw, /^-A KUBE-SERVICES -d 10\.96\.0\.30\/32 .*-j KUBE-SVC-ZR2B5KPMSXCOQPRF$/);
    assert.equal(fs[0]!.api.says, 'the API has no Service default/local');
  });

  test('iptables: a changed ClusterIP is stale at the old address and missing at the new one', () => {
    const api = indexOf({
      nodes: [node(NODE, ['10.99.0.1'])],
      services: [service('default', 'dns', ['10.96.0.11'], [{ name: 'udp', port: 53, protocol: 'UDP', targetPort: 8080 }])],
      endpointSlices: [slice('default', 'dns', 'a1b2c', 'IPv4', ['10.244.1.11', '10.244.1.12', '10.244.1.13'].map((ip) => ({ ip })), [{ name: 'udp', port: 8080, protocol: 'UDP' }])],
    });
    const stale = staleServiceFindings(iptRules, api, NODE).filter((f) => f.service === 'default/dns:udp');
    assert.equal(stale.length, 1);
    assert.equal(stale[0]!.api.says, "the API's Service default/dns is 10.96.0.11 with ports udp 53/UDP, not 10.96.0.10:53/udp");
    assert.deepEqual(brief(serviceFindings(iptRules, api, NODE)), ['service-missing default/dns:udp']);
  });

  test('nftables: Service chains of Services the API does not list', () => {
    const rs = buildRuleset('n', { nft: fixtureBody('nft', 'kube-proxy-overall') });
    const api = indexOf({ services: [service('ns1', 'svc1', ['172.30.0.41'], [{ name: 'p80', port: 80 }])] });
    assert.deepEqual(brief(staleServiceFindings(rs, api, 'n')).sort(), ['service-stale ns2/svc2:p80', 'service-stale ns3/svc3:p80', 'service-stale ns4/svc4:p80', 'service-stale ns5/svc5:p80']);
  });

  test('a trace to an address the API has no Service at, which the first node\'s rules still rewrite', () => {
    const trace = { flow: { dst: '10.96.0.30', proto: 'udp', dport: 53 }, paths: [{ hops: [{ host: NODE }] }] };
    const fs = traceFindings(without('local'), trace, () => ({ ruleset: iptRules }));
    assert.deepEqual(brief(fs), ['service-stale default/local:udp']);
    assert.ok(fs[0]!.evidence.some((e) => e.raw.includes('--to-destination 10.244.1.12:8080')));
    assert.match(fs[0]!.text, /lab-node's iptables rules still handle default\/local:udp at 10\.96\.0\.30:53\/udp, but the API has no Service default\/local/);
  });

  test('no Services list in the capture: nothing is stale, only unknown', () => {
    assert.deepEqual(staleServiceFindings(iptRules, indexOf({ pods: [] }), NODE), []);
  });

  test('the Service a kube-proxy rule names', () => {
    assert.equal(kubeProxyLabel('-A KUBE-SVC-X -m comment --comment "default/web:http -> 10.244.1.3:8080" -j KUBE-SEP-Y'), 'default/web:http');
    assert.equal(kubeProxyLabel('-A KUBE-SEP-Y -p tcp -m comment --comment default/web -j DNAT --to-destination 10.244.1.3:80'), 'default/web');
    assert.equal(kubeProxyLabel('', 'endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80'), 'ns1/svc1:p80');
    assert.equal(kubeProxyLabel('-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000'), undefined);
  });
});

describe('kube-proxy\'s nftables test rule set against the API objects it was written from', () => {
  // TestOverallNFTablesRules: svc1 plain, svc2 with an externalIP and a LoadBalancer IP (Local), svc3
  // NodePort, svc4 two endpoints, svc5 ClientIP affinity (a dynamic set) and a firewall, svc6 no endpoints.
  const rs = buildRuleset('node-192-168-0-2', { nft: fixtureBody('nft', 'kube-proxy-overall') });
  const ep = (ns: string, name: string, ips: string[]) => slice(ns, name, 'a', 'IPv4', ips.map((ip) => ({ ip, node: 'node-192-168-0-2' })), [{ name: 'p80', port: 80 }]);
  const api = (svc5: string[], svc6: string[]) =>
    indexOf({
      nodes: [node('node-192-168-0-2', ['192.168.0.2'])],
      services: [
        service('ns1', 'svc1', ['172.30.0.41'], [{ name: 'p80', port: 80 }]),
        service('ns2', 'svc2', ['172.30.0.42'], [{ name: 'p80', port: 80, nodePort: 3001 }], { type: 'LoadBalancer', externalTrafficPolicy: 'Local', externalIPs: ['192.168.99.22'] }),
        service('ns3', 'svc3', ['172.30.0.43'], [{ name: 'p80', port: 80, nodePort: 3003 }], { type: 'NodePort', externalTrafficPolicy: 'Cluster' }),
        service('ns4', 'svc4', ['172.30.0.44'], [{ name: 'p80', port: 80 }], { externalIPs: ['192.168.99.33'] }),
        service('ns5', 'svc5', ['172.30.0.45'], [{ name: 'p80', port: 80, nodePort: 3002 }], { type: 'LoadBalancer', externalTrafficPolicy: 'Cluster', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } } }),
        service('ns6', 'svc6', ['172.30.0.46'], [{ name: 'p80', port: 80 }]),
      ],
      endpointSlices: [
        ep('ns1', 'svc1', ['10.180.0.1']),
        ep('ns2', 'svc2', ['10.180.0.2']),
        ep('ns3', 'svc3', ['10.180.0.3']),
        ep('ns4', 'svc4', ['10.180.0.4', '10.180.0.5']),
        ep('ns5', 'svc5', svc5),
        ep('ns6', 'svc6', svc6),
      ],
    });

  test('they agree: affinity (a new client) and the no-endpoint map (reject) included', () => {
    assert.deepEqual(serviceFindings(rs, api(['10.180.0.3'], []), 'node-192-168-0-2'), []);
    assert.deepEqual(staleServiceFindings(rs, api(['10.180.0.3'], []), 'node-192-168-0-2'), []);
  });

  test('svc6 gains an endpoint the rules reject; svc5 moves to another', () => {
    const fs = serviceFindings(rs, api(['10.180.0.9'], ['10.180.0.6']), 'node-192-168-0-2');
    assert.deepEqual(brief(fs), ['endpoint-missing ns5/svc5:p80 10.180.0.9:80', 'endpoint-stale ns5/svc5:p80 10.180.0.3:80', 'endpoint-missing ns6/svc6:p80 10.180.0.6:80']);
    assert.equal(fs[2]!.actual, 'reject');
  });
});
