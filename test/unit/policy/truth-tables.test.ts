// Reachability truth tables in the shape of the upstream NetworkPolicy e2e model (namespaces x, y, z,
// each with pods a, b, c labelled pod=<name>, namespaces labelled ns=<name>, containers serving 80 and
// 81 on TCP, UDP and SCTP under names like serve-80-tcp): each case is one scenario written from the
// API reference, and the whole 9 x 9 matrix (a pod to itself left out: implementation-specific) is
// checked against the expected truth table, given as the set of pairs that are denied.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { readKubernetes } from '../../../src/capture/kubernetes';
import { evaluatePolicy, type Protocol } from '../../../src/engine/policy';
import { np, ns, pod, type Obj } from './helpers';

const NS = ['x', 'y', 'z'] as const;
const PODS = ['a', 'b', 'c'] as const;
const ALL = NS.flatMap((n) => PODS.map((p) => `${n}/${p}`));
const ip = (key: string) => `10.0.${NS.indexOf(key[0] as 'x') + 1}.${PODS.indexOf(key[2] as 'a') + 1}`;

function model(policies: Obj[]): Obj {
  const ports = [80, 81].flatMap((port) => (['TCP', 'UDP', 'SCTP'] as const).map((protocol) => ({ name: `serve-${port}-${protocol.toLowerCase()}`, containerPort: port, protocol })));
  return {
    namespaces: NS.map((n) => ns(n, { ns: n })),
    pods: ALL.map((k) => pod(k, { labels: { pod: k[2]! }, ips: [ip(k)], ports })),
    networkPolicies: policies,
  };
}

/** The denied pairs of the 9 x 9 matrix, `from->to`, self pairs left out. */
function deniedPairs(policies: Obj[], proto: Protocol, port: number): string[] {
  const k = readKubernetes(model(policies));
  const out: string[] = [];
  for (const from of ALL)
    for (const to of ALL) {
      if (from === to) continue;
      const r = evaluatePolicy(k, { from, to, proto, port });
      if (!r.ok) throw new Error(r.error);
      if (r.result.verdict === 'denied') out.push(`${from}->${to}`);
    }
  return out;
}

/** Every pair (self left out) for which the predicate holds. */
const pairs = (p: (from: string, to: string) => boolean) => ALL.flatMap((f) => ALL.filter((t) => t !== f && p(f, t)).map((t) => `${f}->${t}`));
const nsOf = (k: string) => k[0]!;
const podOf = (k: string) => k[2]!;

interface Scenario {
  name: string;
  policies: Obj[];
  proto?: Protocol;
  port?: number;
  denied: (from: string, to: string) => boolean;
}

const xa = { matchLabels: { pod: 'a' } };
const scenarios: Scenario[] = [
  { name: 'no policies: everything reaches everything', policies: [], denied: () => false },
  { name: 'default-deny-ingress in x', policies: [np('x/deny-ingress', { podSelector: {}, policyTypes: ['Ingress'] })], denied: (_f, t) => nsOf(t) === 'x' },
  { name: 'default-deny-all in x (ingress and egress)', policies: [np('x/deny-all', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] })], denied: (f, t) => nsOf(t) === 'x' || nsOf(f) === 'x' },
  { name: 'allow-all ingress in x after a default deny', policies: [np('x/deny-ingress', { podSelector: {}, policyTypes: ['Ingress'] }), np('x/allow-all', { podSelector: {}, ingress: [{}] })], denied: () => false },
  {
    name: 'x/a allows ingress from pod=b of its own namespace (podSelector alone)',
    policies: [np('x/allow-b', { podSelector: xa, ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'b' } } }] }] })],
    denied: (f, t) => t === 'x/a' && f !== 'x/b',
  },
  {
    name: 'x/a allows ingress from namespaces ns NotIn [y] (matchExpressions)',
    policies: [np('x/not-y', { podSelector: xa, ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'ns', operator: 'NotIn', values: ['y'] }] } }] }] })],
    denied: (f, t) => t === 'x/a' && nsOf(f) === 'y',
  },
  {
    name: 'x/a allows ingress from pod=b OR namespace y (two peers)',
    policies: [np('x/or', { podSelector: xa, ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'b' } } }, { namespaceSelector: { matchLabels: { ns: 'y' } } }] }] })],
    denied: (f, t) => t === 'x/a' && f !== 'x/b' && nsOf(f) !== 'y',
  },
  {
    name: 'x/a allows ingress from pod=b AND namespace y (one peer)',
    policies: [np('x/and', { podSelector: xa, ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'b' } }, namespaceSelector: { matchLabels: { ns: 'y' } } }] }] })],
    denied: (f, t) => t === 'x/a' && f !== 'y/b',
  },
  {
    name: 'x/a allows ingress from namespace y on port 81 only: port 80 denied',
    policies: [np('x/port-81', { podSelector: xa, ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }], ports: [{ port: 81 }] }] })],
    port: 80,
    denied: (_f, t) => t === 'x/a',
  },
  {
    name: 'x/a allows ingress from namespace y on port 81 only: port 81 from y allowed',
    policies: [np('x/port-81', { podSelector: xa, ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }], ports: [{ port: 81 }] }] })],
    port: 81,
    denied: (f, t) => t === 'x/a' && nsOf(f) !== 'y',
  },
  { name: 'named port serve-81-tcp: 81 allowed', policies: [np('x/named', { podSelector: xa, ingress: [{ ports: [{ port: 'serve-81-tcp' }] }] })], port: 81, denied: () => false },
  { name: 'named port serve-81-tcp: 80 denied', policies: [np('x/named', { podSelector: xa, ingress: [{ ports: [{ port: 'serve-81-tcp' }] }] })], port: 80, denied: (_f, t) => t === 'x/a' },
  { name: 'named port serve-81-udp on a UDP flow', policies: [np('x/named-udp', { podSelector: xa, ingress: [{ ports: [{ port: 'serve-81-udp', protocol: 'UDP' }] }] })], proto: 'UDP', port: 81, denied: () => false },
  { name: 'named TCP port does not admit the UDP flow on that number', policies: [np('x/named', { podSelector: xa, ingress: [{ ports: [{ port: 'serve-81-tcp' }] }] })], proto: 'UDP', port: 81, denied: (_f, t) => t === 'x/a' },
  { name: 'SCTP: a TCP-only rule denies SCTP', policies: [np('x/tcp-80', { podSelector: xa, ingress: [{ ports: [{ port: 80, protocol: 'TCP' }] }] })], proto: 'SCTP', port: 80, denied: (_f, t) => t === 'x/a' },
  { name: 'endPort 80-81 admits 81', policies: [np('x/range', { podSelector: xa, ingress: [{ ports: [{ port: 80, endPort: 81 }] }] })], port: 81, denied: () => false },
  {
    name: 'egress from x/a only to namespace y pod=b (AND), ingress unrestricted',
    policies: [np('x/egress', { podSelector: xa, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: { matchLabels: { ns: 'y' } }, podSelector: { matchLabels: { pod: 'b' } } }] }] })],
    denied: (f, t) => f === 'x/a' && t !== 'y/b',
  },
  {
    name: 'egress from x/a to 10.0.1.0/24 except x/b\u2019s /32',
    policies: [np('x/cidr', { podSelector: xa, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '10.0.1.0/24', except: ['10.0.1.2/32'] } }] }] })],
    denied: (f, t) => f === 'x/a' && (nsOf(t) !== 'x' || t === 'x/b'),
  },
  {
    name: 'the client side denies egress even when the server allows ingress',
    policies: [np('x/deny-egress-a', { podSelector: xa, policyTypes: ['Egress'] }), np('y/allow-all', { podSelector: {}, ingress: [{}] })],
    denied: (f) => f === 'x/a',
  },
  {
    name: 'stacked policies with overlapping podSelectors union (from y, or from z)',
    policies: [np('x/from-y', { podSelector: xa, ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }] }] }), np('x/from-z', { podSelector: { matchExpressions: [{ key: 'pod', operator: 'In', values: ['a', 'b'] }] }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'z' } } }] }] })],
    denied: (f, t) => (t === 'x/a' && nsOf(f) === 'x') || (t === 'x/b' && nsOf(f) !== 'z'),
  },
  {
    name: 'Ingress and Egress together: x/a takes from y, sends to z only',
    policies: [np('x/both', { podSelector: xa, policyTypes: ['Ingress', 'Egress'], ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }] }], egress: [{ to: [{ namespaceSelector: { matchLabels: { ns: 'z' } } }] }] })],
    denied: (f, t) => (t === 'x/a' && nsOf(f) !== 'y') || (f === 'x/a' && nsOf(t) !== 'z'),
  },
  {
    name: 'namespaceSelector {} with podSelector: pod=c anywhere reaches every pod of y',
    policies: [np('y/from-c', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { pod: 'c' } } }] }] })],
    denied: (f, t) => nsOf(t) === 'y' && podOf(f) !== 'c',
  },
];

describe('truth tables in the upstream e2e model (x, y, z \u00d7 a, b, c)', () => {
  for (const s of scenarios) {
    test(s.name, () => {
      assert.deepEqual(deniedPairs(s.policies, s.proto ?? 'TCP', s.port ?? 80), pairs(s.denied));
    });
  }
});
