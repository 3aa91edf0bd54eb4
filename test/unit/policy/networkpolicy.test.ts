// NetworkPolicy (networking.k8s.io/v1) as the API reference defines it, one corner per case: each
// case is a small cluster (baseCluster plus its policies), one flow, and the expected verdicts,
// isolating policies and allowing rules. `allowedBy` is written `policy#rule/peer/port`, `*` where the
// rule has no peer or port list.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import type { AllowedBy, NoteKind, PolicyRequest, PolicyResult, Tier } from '../../../src/engine/policy';
import { baseCluster, evaluate, np, ns, pod, type Obj } from './helpers';

interface DirExpect {
  verdict?: 'allowed' | 'denied';
  isolated?: boolean;
  policies?: string[];
  allowedBy?: string[];
  tier?: Tier;
}

interface Case {
  name: string;
  policies?: Obj[];
  /** Changes to the base cluster (extra pods, namespaces). */
  edit?: (k: ReturnType<typeof baseCluster>) => void;
  flow: PolicyRequest;
  verdict: 'allowed' | 'denied';
  egress?: DirExpect;
  ingress?: DirExpect;
  notes?: NoteKind[];
  /** Note kinds that must not be there. */
  noNotes?: NoteKind[];
  warnings?: RegExp[];
  explain?: { egress?: RegExp; ingress?: RegExp };
}

const ref = (a: AllowedBy) => `${a.policy}#${a.rule}/${a.peer ?? '*'}/${a.port ?? '*'}`;

const denyIngress = (key: string, podSelector: Obj = {}) => np(key, { podSelector, policyTypes: ['Ingress'] });
const denyEgress = (key: string, podSelector: Obj = {}) => np(key, { podSelector, policyTypes: ['Egress'] });
const allowFrom = (key: string, podSelector: Obj, from: Obj[] | undefined, ports?: Obj[]) => np(key, { podSelector, ingress: [{ ...(from ? { from } : {}), ...(ports ? { ports } : {}) }] });
const allowTo = (key: string, podSelector: Obj, to: Obj[] | undefined, ports?: Obj[]) => np(key, { podSelector, policyTypes: ['Egress'], egress: [{ ...(to ? { to } : {}), ...(ports ? { ports } : {}) }] });
const db = { matchLabels: { app: 'db' } };
const FE_TO_DB: PolicyRequest = { from: 'web/frontend-1', to: 'shop/db-0', port: 5432 };
const SHOP_FE_TO_DB: PolicyRequest = { from: 'shop/fe-0', to: 'shop/db-0', port: 5432 };

const cases: Case[] = [
  // ---- isolation and defaults ----
  { name: 'no policy: allowed both ways, nothing isolated', flow: FE_TO_DB, verdict: 'allowed', egress: { verdict: 'allowed', isolated: false, policies: [], allowedBy: [], tier: 'default' }, ingress: { verdict: 'allowed', isolated: false, policies: [], allowedBy: [], tier: 'default' } },
  {
    name: 'default-deny ingress (podSelector {}): isolated, denied, the policy named',
    policies: [denyIngress('shop/default-deny')],
    flow: FE_TO_DB,
    verdict: 'denied',
    egress: { verdict: 'allowed', isolated: false },
    ingress: { verdict: 'denied', isolated: true, policies: ['shop/default-deny'], allowedBy: [], tier: 'networkpolicy' },
    explain: { ingress: /^denied, because shop\/default-deny isolates shop\/db-0 for ingress and no rule of shop\/default-deny allows web\/frontend-1 on TCP 5432$/ },
  },
  { name: 'a manifest without podSelector selects every pod of its namespace (the API decodes it as {})', policies: [np('shop/no-selector', { policyTypes: ['Ingress'] })], flow: FE_TO_DB, verdict: 'denied', ingress: { isolated: true, policies: ['shop/no-selector'] } },
  { name: 'a policy in another namespace selects nothing here', policies: [denyIngress('web/default-deny')], flow: FE_TO_DB, verdict: 'allowed', ingress: { isolated: false, policies: [] } },
  { name: 'podSelector that does not match the pod does not isolate it', policies: [denyIngress('shop/deny-api', { matchLabels: { app: 'api' } })], flow: FE_TO_DB, verdict: 'allowed', ingress: { isolated: false } },
  { name: 'ingress: [{}] allows every peer on every port (no peer, no port index)', policies: [np('shop/allow-all', { podSelector: {}, ingress: [{}] })], flow: FE_TO_DB, verdict: 'allowed', ingress: { isolated: true, allowedBy: ['shop/allow-all#0/*/*'] } },
  { name: 'ingress: [] denies all (isolated, no rule)', policies: [np('shop/none', { podSelector: {}, ingress: [] })], flow: FE_TO_DB, verdict: 'denied', ingress: { isolated: true, policies: ['shop/none'] } },
  { name: 'from: [] is every peer, like an absent from', policies: [np('shop/empty-from', { podSelector: {}, ingress: [{ from: [] }] })], flow: FE_TO_DB, verdict: 'allowed', ingress: { allowedBy: ['shop/empty-from#0/*/*'] } },
  { name: 'ports: [] is every port, like absent ports', policies: [np('shop/empty-ports', { podSelector: {}, ingress: [{ ports: [] }] })], flow: FE_TO_DB, verdict: 'allowed', ingress: { allowedBy: ['shop/empty-ports#0/*/*'] } },
  {
    name: 'policyTypes defaulted: egress rules and no policyTypes isolate both ways (ingress denied)',
    policies: [np('shop/egress-only-rules', { podSelector: db, egress: [{}] })],
    flow: FE_TO_DB,
    verdict: 'denied',
    ingress: { verdict: 'denied', isolated: true, policies: ['shop/egress-only-rules'] },
  },
  { name: 'policyTypes [Egress] does not isolate for ingress', policies: [denyEgress('shop/deny-egress')], flow: FE_TO_DB, verdict: 'allowed', ingress: { isolated: false } },
  {
    name: 'egress is decided at the source: a default-deny egress there denies even when the destination allows',
    policies: [denyEgress('web/deny-egress'), np('shop/allow-all', { podSelector: {}, ingress: [{}] })],
    flow: FE_TO_DB,
    verdict: 'denied',
    egress: { verdict: 'denied', isolated: true, policies: ['web/deny-egress'] },
    ingress: { verdict: 'allowed', allowedBy: ['shop/allow-all#0/*/*'] },
    explain: { egress: /^denied, because web\/deny-egress isolates web\/frontend-1 for egress and no rule of web\/deny-egress allows web\/frontend-1 to shop\/db-0 on TCP 5432$/ },
  },
  {
    name: 'ingress rules ignored when policyTypes names only Egress (with a warning)',
    policies: [np('shop/odd', { podSelector: {}, policyTypes: ['Egress'], ingress: [{}], egress: [] })],
    flow: FE_TO_DB,
    verdict: 'allowed',
    ingress: { isolated: false },
    warnings: [/policyTypes does not name Ingress/],
  },
  // ---- peers ----
  { name: 'podSelector alone: pods of the policy\u2019s own namespace only (web/frontend-1 is not in shop)', policies: [allowFrom('shop/fe', db, [{ podSelector: { matchLabels: { app: 'frontend' } } }])], flow: FE_TO_DB, verdict: 'denied', ingress: { isolated: true, allowedBy: [] } },
  { name: 'podSelector alone: a matching pod in the policy\u2019s namespace is allowed', policies: [allowFrom('shop/fe', db, [{ podSelector: { matchLabels: { app: 'frontend' } } }])], flow: SHOP_FE_TO_DB, verdict: 'allowed', ingress: { allowedBy: ['shop/fe#0/0/*'] } },
  { name: 'namespaceSelector alone: every pod of matching namespaces', policies: [allowFrom('shop/team-b', db, [{ namespaceSelector: { matchLabels: { team: 'b' } } }])], flow: { from: 'web/batch-0', to: 'shop/db-0', port: 5432 }, verdict: 'allowed', ingress: { allowedBy: ['shop/team-b#0/0/*'] } },
  { name: 'namespaceSelector alone does not match other namespaces', policies: [allowFrom('shop/team-b', db, [{ namespaceSelector: { matchLabels: { team: 'b' } } }])], flow: { from: 'other/db-0', to: 'shop/db-0', port: 5432 }, verdict: 'denied' },
  {
    name: 'both selectors in one peer: AND (right namespace, wrong pod is denied)',
    policies: [allowFrom('shop/and', db, [{ namespaceSelector: { matchLabels: { team: 'b' } }, podSelector: { matchLabels: { app: 'frontend' } } }])],
    flow: { from: 'web/batch-0', to: 'shop/db-0', port: 5432 },
    verdict: 'denied',
  },
  {
    name: 'both selectors in one peer: AND (both match is allowed)',
    policies: [allowFrom('shop/and', db, [{ namespaceSelector: { matchLabels: { team: 'b' } }, podSelector: { matchLabels: { app: 'frontend' } } }])],
    flow: FE_TO_DB,
    verdict: 'allowed',
    ingress: { allowedBy: ['shop/and#0/0/*'] },
  },
  {
    name: 'separate peers: OR (the namespace peer alone lets batch-0 in; peer index 1)',
    policies: [allowFrom('shop/or', db, [{ podSelector: { matchLabels: { app: 'frontend' } } }, { namespaceSelector: { matchLabels: { team: 'b' } } }])],
    flow: { from: 'web/batch-0', to: 'shop/db-0', port: 5432 },
    verdict: 'allowed',
    ingress: { allowedBy: ['shop/or#0/1/*'] },
  },
  {
    name: 'every peer that matches is listed (peers 0 and 2)',
    policies: [allowFrom('shop/multi', db, [{ namespaceSelector: {} }, { podSelector: { matchLabels: { app: 'nope' } } }, { ipBlock: { cidr: '10.244.0.0/16' } }])],
    flow: FE_TO_DB,
    verdict: 'allowed',
    ingress: { allowedBy: ['shop/multi#0/0/*', 'shop/multi#0/2/*'] },
    notes: ['ip-block-pod'],
  },
  { name: 'namespaceSelector {}: every pod of every namespace', policies: [allowFrom('shop/any-ns', db, [{ namespaceSelector: {} }])], flow: { from: 'other/db-0', to: 'shop/db-0', port: 5432 }, verdict: 'allowed' },
  { name: 'podSelector {} alone: every pod of the own namespace, not others', policies: [allowFrom('shop/own-ns', db, [{ podSelector: {} }])], flow: FE_TO_DB, verdict: 'denied' },
  { name: 'podSelector {} alone: a pod of the own namespace is allowed', policies: [allowFrom('shop/own-ns', db, [{ podSelector: {} }])], flow: { from: 'shop/api-0', to: 'shop/db-0', port: 5432 }, verdict: 'allowed' },
  { name: 'kubernetes.io/metadata.name is set on every namespace', policies: [allowFrom('shop/by-name', db, [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'web' } } }])], flow: FE_TO_DB, verdict: 'allowed' },
  {
    name: 'a namespace with no object still has its kubernetes.io/metadata.name label',
    edit: (k) => k.pods.push(pod('ghost/p', { ips: ['10.244.9.9'] })),
    policies: [allowFrom('shop/by-name', db, [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ghost' } } }])],
    flow: { from: 'ghost/p', to: 'shop/db-0', port: 5432 },
    verdict: 'allowed',
  },
  {
    name: 'without Namespace objects, a namespace has only its name label (a note says so)',
    edit: (k) => {
      (k as { namespaces?: Obj[] }).namespaces = undefined;
    },
    policies: [allowFrom('shop/team-b', db, [{ namespaceSelector: { matchLabels: { team: 'b' } } }])],
    flow: FE_TO_DB,
    verdict: 'denied',
    notes: ['no-namespaces'],
  },
  // ---- matchExpressions ----
  { name: 'In matches a listed value', policies: [allowFrom('shop/in', db, [{ namespaceSelector: {}, podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['frontend', 'x'] }] } }])], flow: FE_TO_DB, verdict: 'allowed' },
  { name: 'In does not match a pod without the key', policies: [allowFrom('shop/in', db, [{ namespaceSelector: {}, podSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }] } }])], flow: { from: 'web/batch-0', to: 'shop/db-0', port: 5432 }, verdict: 'denied' },
  { name: 'NotIn matches a pod without the key', policies: [allowFrom('shop/notin', db, [{ namespaceSelector: {}, podSelector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] } }])], flow: { from: 'web/batch-0', to: 'shop/db-0', port: 5432 }, verdict: 'allowed' },
  { name: 'NotIn does not match a listed value', policies: [allowFrom('shop/notin', db, [{ namespaceSelector: {}, podSelector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] } }])], flow: FE_TO_DB, verdict: 'denied' },
  { name: 'Exists needs the key', policies: [allowFrom('shop/exists', db, [{ namespaceSelector: {}, podSelector: { matchExpressions: [{ key: 'tier', operator: 'Exists' }] } }])], flow: { from: 'web/batch-0', to: 'shop/db-0', port: 5432 }, verdict: 'denied' },
  { name: 'DoesNotExist matches a pod without the key', policies: [allowFrom('shop/dne', db, [{ namespaceSelector: {}, podSelector: { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] } }])], flow: { from: 'web/batch-0', to: 'shop/db-0', port: 5432 }, verdict: 'allowed' },
  {
    name: 'matchLabels and matchExpressions are ANDed',
    policies: [allowFrom('shop/both', db, [{ namespaceSelector: {}, podSelector: { matchLabels: { app: 'frontend' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] } }])],
    flow: FE_TO_DB,
    verdict: 'denied',
  },
  { name: 'namespace expressions: NotIn on a namespace label', policies: [allowFrom('shop/ns-notin', db, [{ namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] } }])], flow: { from: 'other/db-0', to: 'shop/db-0', port: 5432 }, verdict: 'allowed' },
  { name: 'a label named like an Object method is a label like any other', edit: (k) => k.pods.push(pod('web/odd', { labels: { constructor: 'x' }, ips: ['10.244.2.99'] })), policies: [allowFrom('shop/odd', db, [{ namespaceSelector: {}, podSelector: { matchLabels: { constructor: 'x' } } }])], flow: { from: 'web/odd', to: 'shop/db-0', port: 5432 }, verdict: 'allowed' },
  { name: 'a label named like an Object method: a pod without it does not match', edit: (k) => k.pods.push(pod('web/odd', { labels: { constructor: 'x' }, ips: ['10.244.2.99'] })), policies: [allowFrom('shop/odd', db, [{ namespaceSelector: {}, podSelector: { matchLabels: { constructor: 'x' } } }])], flow: FE_TO_DB, verdict: 'denied' },
  { name: 'DoesNotExist on a key named like an Object method matches a pod without it', policies: [allowFrom('shop/odd', db, [{ namespaceSelector: {}, podSelector: { matchExpressions: [{ key: 'toString', operator: 'DoesNotExist' }, { key: 'constructor', operator: 'NotIn', values: ['x'] }] } }])], flow: FE_TO_DB, verdict: 'allowed' },
  {
    name: 'the isolating policy\u2019s selector uses expressions too',
    policies: [np('shop/iso', { podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['db'] }] }, policyTypes: ['Ingress'] })],
    flow: { from: 'shop/db-0', to: 'shop/api-0', port: 8080 },
    verdict: 'allowed',
    ingress: { isolated: false },
  },
  // ---- ipBlock ----
  { name: 'ipBlock matches the peer address', policies: [allowFrom('shop/blk', db, [{ ipBlock: { cidr: '10.244.2.0/24' } }])], flow: FE_TO_DB, verdict: 'allowed', ingress: { allowedBy: ['shop/blk#0/0/*'] }, notes: ['ip-block-pod'] },
  { name: 'ipBlock except carves out the address', policies: [allowFrom('shop/blk', db, [{ ipBlock: { cidr: '10.244.0.0/16', except: ['10.244.2.0/24'] } }])], flow: FE_TO_DB, verdict: 'denied' },
  { name: 'ipBlock except leaves the rest', policies: [allowFrom('shop/blk', db, [{ ipBlock: { cidr: '10.244.0.0/16', except: ['10.244.2.0/24'] } }])], flow: { from: 'other/db-0', to: 'shop/db-0', port: 5432 }, verdict: 'allowed' },
  { name: 'non-canonical CIDR 10.244.2.77/24 is masked to 10.244.2.0/24', policies: [allowFrom('shop/blk', db, [{ ipBlock: { cidr: '10.244.2.77/24' } }])], flow: { from: 'web/batch-0', to: 'shop/db-0', port: 5432 }, verdict: 'allowed' },
  { name: 'non-canonical except is masked too', policies: [allowFrom('shop/blk', db, [{ ipBlock: { cidr: '10.244.0.0/16', except: ['10.244.2.200/24'] } }])], flow: { from: 'web/batch-0', to: 'shop/db-0', port: 5432 }, verdict: 'denied' },
  { name: 'IPv6 ipBlock with an IPv6 flow', policies: [allowFrom('shop/blk6', db, [{ ipBlock: { cidr: 'fd00::/112', except: ['fd00::11/128'] } }])], flow: { from: 'fd00::20', to: 'shop/db-0', port: 5432 }, verdict: 'allowed', ingress: { allowedBy: ['shop/blk6#0/0/*'] } },
  { name: 'IPv6 except', policies: [allowFrom('shop/blk6', db, [{ ipBlock: { cidr: 'fd00::/112', except: ['fd00::11/128'] } }])], flow: { from: 'fd00::11', to: 'shop/db-0', port: 5432 }, verdict: 'denied' },
  { name: 'an IPv4 block does not match an IPv6 flow', policies: [allowFrom('shop/blk', db, [{ ipBlock: { cidr: '0.0.0.0/0' } }])], flow: { from: 'fd00::20', to: 'shop/db-0', port: 5432 }, verdict: 'denied' },
  { name: 'an external address (no pod) is matched by ipBlock', policies: [allowFrom('shop/ext', db, [{ ipBlock: { cidr: '203.0.113.0/24' } }])], flow: { from: '203.0.113.9', to: 'shop/db-0', port: 5432 }, verdict: 'allowed', egress: { verdict: 'allowed', isolated: false }, noNotes: ['ip-block-pod'] },
  { name: 'an external address is not matched by selectors', policies: [allowFrom('shop/sel', db, [{ namespaceSelector: {} }])], flow: { from: '203.0.113.9', to: 'shop/db-0', port: 5432 }, verdict: 'denied' },
  { name: 'egress ipBlock to an outside address', policies: [allowTo('shop/out', db, [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }], [{ port: 443 }])], flow: { from: 'shop/db-0', to: '198.51.100.1', port: 443 }, verdict: 'allowed', egress: { isolated: true, allowedBy: ['shop/out#0/0/0'] }, ingress: { verdict: 'allowed', isolated: false } },
  { name: 'egress ipBlock except excludes the cluster', policies: [allowTo('shop/out', db, [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }])], flow: { from: 'shop/db-0', to: 'shop/api-0', port: 8080 }, verdict: 'denied', egress: { verdict: 'denied' } },
  // ---- ports ----
  { name: 'port by number', policies: [allowFrom('shop/p', db, undefined, [{ port: 5432 }])], flow: FE_TO_DB, verdict: 'allowed', ingress: { allowedBy: ['shop/p#0/*/0'] } },
  { name: 'port by number: another port is denied', policies: [allowFrom('shop/p', db, undefined, [{ port: 5432 }])], flow: { ...FE_TO_DB, port: 5433 }, verdict: 'denied' },
  {
    name: 'named port resolved on the destination pod (postgres = 5432 on db-0)',
    policies: [np('shop/allow-web', { podSelector: db, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'api' } } }, { namespaceSelector: { matchLabels: { team: 'b' } } }], ports: [{ port: 'metrics' }, { port: 'postgres' }] }] })],
    flow: FE_TO_DB,
    verdict: 'allowed',
    ingress: { allowedBy: ['shop/allow-web#0/1/1'] },
    explain: { ingress: /^allowed by shop\/allow-web, ingress rule 0, peer 1, port `postgres` \(5432 on db-0\)$/ },
  },
  { name: 'named port: the same name means another number on another pod (postgres = 6432 on api-0)', policies: [allowFrom('shop/p', {}, undefined, [{ port: 'postgres' }])], flow: { from: 'web/frontend-1', to: 'shop/api-0', port: 5432 }, verdict: 'denied' },
  { name: 'named port: the resolved number on api-0 is allowed', policies: [allowFrom('shop/p', {}, undefined, [{ port: 'postgres' }])], flow: { from: 'web/frontend-1', to: 'shop/api-0', port: 6432 }, verdict: 'allowed' },
  { name: 'named port of another protocol does not match (dns is UDP on db-0)', policies: [allowFrom('shop/p', db, undefined, [{ port: 'dns' }])], flow: { ...FE_TO_DB, port: 53 }, verdict: 'denied' },
  { name: 'named port with its protocol matches', policies: [allowFrom('shop/p', db, undefined, [{ port: 'dns', protocol: 'UDP' }])], flow: { ...FE_TO_DB, proto: 'UDP', port: 53 }, verdict: 'allowed' },
  { name: 'egress named port is the destination pod\u2019s (http = 8080 on api-0)', policies: [allowTo('shop/eg', db, [{ podSelector: {} }], [{ port: 'http' }])], flow: { from: 'shop/db-0', to: 'shop/api-0', port: 8080 }, verdict: 'allowed', egress: { allowedBy: ['shop/eg#0/0/0'] } },
  { name: 'egress named port is not the source pod\u2019s (postgres is 5432 on db-0, 6432 on api-0)', policies: [allowTo('shop/eg', db, [{ podSelector: {} }], [{ port: 'postgres' }])], flow: { from: 'shop/db-0', to: 'shop/api-0', port: 5432 }, verdict: 'denied' },
  { name: 'egress named port to an address that is no pod cannot resolve (a note)', policies: [allowTo('shop/eg', db, undefined, [{ port: 'https' }])], flow: { from: 'shop/db-0', to: '198.51.100.1', port: 443 }, verdict: 'denied', notes: ['named-port'] },
  { name: 'endPort range includes both ends', policies: [allowFrom('shop/r', db, undefined, [{ port: 5000, endPort: 5432 }])], flow: FE_TO_DB, verdict: 'allowed', ingress: { allowedBy: ['shop/r#0/*/0'] } },
  { name: 'endPort range excludes beyond the end', policies: [allowFrom('shop/r', db, undefined, [{ port: 5000, endPort: 5431 }])], flow: FE_TO_DB, verdict: 'denied' },
  { name: 'a rule whose port list does not name the flow\u2019s protocol does not match (UDP rule, TCP flow)', policies: [allowFrom('shop/u', db, undefined, [{ port: 5432, protocol: 'UDP' }])], flow: FE_TO_DB, verdict: 'denied' },
  { name: 'protocol defaults to TCP in a port entry: a UDP flow does not match', policies: [allowFrom('shop/t', db, undefined, [{ port: 5432 }])], flow: { ...FE_TO_DB, proto: 'UDP' }, verdict: 'denied' },
  { name: 'SCTP port', policies: [allowFrom('shop/s', db, undefined, [{ port: 7777, protocol: 'SCTP' }])], flow: { ...FE_TO_DB, proto: 'SCTP', port: 7777 }, verdict: 'allowed' },
  { name: 'a protocol-only entry allows every port of that protocol', policies: [allowFrom('shop/udp', db, undefined, [{ protocol: 'UDP' }])], flow: { ...FE_TO_DB, proto: 'UDP', port: 9999 }, verdict: 'allowed', ingress: { allowedBy: ['shop/udp#0/*/0'] } },
  { name: 'every matching port entry is listed', policies: [allowFrom('shop/ports', db, undefined, [{ port: 80 }, { port: 5432 }, { port: 5000, endPort: 6000 }])], flow: FE_TO_DB, verdict: 'allowed', ingress: { allowedBy: ['shop/ports#0/*/1', 'shop/ports#0/*/2'] } },
  // ---- no port ----
  { name: 'no port: a rule with ports does not match (a note says so)', policies: [allowFrom('shop/p', db, undefined, [{ port: 5432 }])], flow: { from: 'web/frontend-1', to: 'shop/db-0' }, verdict: 'denied', notes: ['no-port'] },
  { name: 'no port: a protocol-only entry matches', policies: [allowFrom('shop/p', db, undefined, [{ port: 5432 }, { protocol: 'TCP' }])], flow: { from: 'web/frontend-1', to: 'shop/db-0' }, verdict: 'allowed', ingress: { allowedBy: ['shop/p#0/*/1'] }, notes: ['no-port'] },
  { name: 'no port: a rule without ports matches', policies: [allowFrom('shop/p', db, [{ namespaceSelector: {} }])], flow: { from: 'web/frontend-1', to: 'shop/db-0' }, verdict: 'allowed', noNotes: ['no-port'] },
  // ---- several policies ----
  {
    name: 'policies union: every selecting policy is listed, every allowing rule across them',
    policies: [denyIngress('shop/default-deny'), allowFrom('shop/a', db, [{ namespaceSelector: {} }]), np('shop/b', { podSelector: {}, ingress: [{ ports: [{ port: 80 }] }, { ports: [{ port: 5432 }] }] }), allowFrom('shop/c', { matchLabels: { app: 'api' } }, undefined)],
    flow: FE_TO_DB,
    verdict: 'allowed',
    ingress: { isolated: true, policies: ['shop/default-deny', 'shop/a', 'shop/b'], allowedBy: ['shop/a#0/0/*', 'shop/b#1/*/0'] },
  },
  {
    name: 'the issue\u2019s sentence: two isolating policies, neither allows',
    policies: [denyIngress('shop/default-deny'), allowFrom('shop/allow-web', db, [{ podSelector: { matchLabels: { app: 'api' } } }])],
    flow: FE_TO_DB,
    verdict: 'denied',
    ingress: { policies: ['shop/default-deny', 'shop/allow-web'] },
    explain: { ingress: /^denied, because shop\/default-deny and shop\/allow-web isolate shop\/db-0 for ingress and no rule of shop\/default-deny or shop\/allow-web allows web\/frontend-1 on TCP 5432$/ },
  },
  // ---- ends that policy does not apply to, and what the API leaves open ----
  { name: 'a pod\u2019s IP names the pod (its policies apply)', policies: [denyIngress('shop/default-deny')], flow: { from: '10.244.2.20', to: '10.244.1.10', port: 5432 }, verdict: 'denied', ingress: { policies: ['shop/default-deny'] } },
  { name: 'an IP that is no pod\u2019s has no policy of its own', policies: [denyEgress('shop/deny-egress')], flow: { from: '203.0.113.9', to: '198.51.100.1', port: 80 }, verdict: 'allowed', egress: { isolated: false, tier: 'default' }, ingress: { isolated: false, tier: 'default' } },
  {
    name: 'host-network source: not subject to egress policy, not matched by pod selectors, notes say so',
    policies: [denyEgress('kube-system/deny'), allowFrom('shop/sel', db, [{ namespaceSelector: {} }])],
    flow: { from: 'kube-system/agent', to: 'shop/db-0', port: 5432 },
    verdict: 'denied',
    egress: { verdict: 'allowed', isolated: false },
    notes: ['host-network', 'from-node'],
  },
  { name: 'host-network source is matched by an ipBlock of its node\u2019s address', policies: [allowFrom('shop/node', db, [{ ipBlock: { cidr: '10.4.0.0/24' } }])], flow: { from: 'kube-system/agent', to: 'shop/db-0', port: 5432 }, verdict: 'allowed', noNotes: ['ip-block-pod'] },
  { name: 'host-network destination: ingress not restricted', policies: [denyIngress('kube-system/deny')], flow: { from: 'shop/db-0', to: 'kube-system/agent', port: 10250 }, verdict: 'allowed', ingress: { isolated: false }, notes: ['host-network'] },
  { name: 'from a node\u2019s address: evaluated per the API with a note (its own node)', policies: [denyIngress('shop/default-deny')], flow: { from: '10.4.0.2', to: 'shop/db-0', port: 5432 }, verdict: 'denied', notes: ['from-node'] },
  { name: 'a pod to itself: evaluated per the API with a note', policies: [allowFrom('shop/self', db, [{ podSelector: db }])], flow: { from: 'shop/db-0', to: 'shop/db-0', port: 5432 }, verdict: 'allowed', notes: ['self'] },
  { name: 'a pod to itself, denied per the API, still says it is implementation-specific', policies: [denyIngress('shop/default-deny')], flow: { from: 'shop/db-0', to: 'shop/db-0', port: 5432 }, verdict: 'denied', notes: ['self'] },
  {
    name: 'a pod that is not Running: a note',
    edit: (k) => k.pods.push(pod('web/done', { labels: { app: 'frontend' }, ips: ['10.244.2.50'], phase: 'Succeeded' })),
    flow: { from: 'web/done', to: 'shop/db-0', port: 5432 },
    verdict: 'allowed',
    notes: ['not-running'],
  },
  {
    name: 'a pod with no IP: matched by labels, not by ipBlock (a note)',
    edit: (k) => k.pods.push(pod('web/pending', { labels: { app: 'frontend' }, phase: 'Pending' })),
    policies: [allowFrom('shop/mix', db, [{ ipBlock: { cidr: '0.0.0.0/0' } }, { namespaceSelector: {}, podSelector: { matchLabels: { app: 'frontend' } } }])],
    flow: { from: 'web/pending', to: 'shop/db-0', port: 5432 },
    verdict: 'allowed',
    ingress: { allowedBy: ['shop/mix#0/1/*'] },
    notes: ['no-ip', 'not-running'],
  },
  { name: 'a pod given by name uses its address of the other end\u2019s family', policies: [allowFrom('shop/blk6', db, [{ ipBlock: { cidr: 'fd00::/64' } }])], flow: { from: 'web/frontend-1', to: 'fd00::10', port: 5432 }, verdict: 'allowed' },
  { name: 'a single-stack pod has no address of an IPv6 flow (a note)', policies: [allowFrom('shop/blk6', db, [{ ipBlock: { cidr: '::/0' } }])], flow: { from: 'shop/fe-0', to: 'fd00::10', port: 5432 }, verdict: 'denied', notes: ['family'] },
  // ---- malformed objects: a warning with the JSON path, evaluation goes on ----
  {
    name: 'a NetworkPolicy that does not fit is left out with its path; the others still apply',
    policies: [np('shop/bad', { podSelector: {}, ingress: [{ ports: [{ port: 'x', protocol: 'ICMP' }] }] }), denyIngress('shop/default-deny')],
    flow: FE_TO_DB,
    verdict: 'denied',
    ingress: { policies: ['shop/default-deny'] },
    warnings: [/^kubernetes\.networkPolicies\[0\]\.spec\.ingress\[0\]\.ports\[0\]\.protocol: .*NetworkPolicy shop\/bad is left out/],
  },
  {
    name: 'a peer with ipBlock and selectors matches nothing (warned), its rule\u2019s other peers still do',
    policies: [allowFrom('shop/mixed', db, [{ ipBlock: { cidr: '0.0.0.0/0' }, podSelector: {} }, { namespaceSelector: {} }])],
    flow: FE_TO_DB,
    verdict: 'allowed',
    ingress: { allowedBy: ['shop/mixed#0/1/*'] },
    warnings: [/^kubernetes\.networkPolicies\[0\]\.spec\.ingress\[0\]\.from\[0\]: a peer may have an ipBlock or selectors, not both/],
  },
  { name: 'an empty peer matches nothing (warned)', policies: [allowFrom('shop/empty-peer', db, [{}])], flow: FE_TO_DB, verdict: 'denied', warnings: [/from\[0\]: a peer needs podSelector, namespaceSelector or ipBlock/] },
  { name: 'endPort below port: the entry matches nothing (warned)', policies: [allowFrom('shop/r', db, undefined, [{ port: 6000, endPort: 5000 }])], flow: FE_TO_DB, verdict: 'denied', warnings: [/ports\[0\]\.endPort: endPort 5000 is below port 6000/] },
  { name: 'a quoted number is a port name to the API, and refused: matches nothing (warned)', policies: [allowFrom('shop/q', db, undefined, [{ port: '5432' }])], flow: FE_TO_DB, verdict: 'denied', warnings: [/ports\[0\]\.port: "5432" is a quoted number/] },
  {
    name: 'In without values matches nothing, Exists with values ignores them (both warned, as the API server refuses them)',
    policies: [allowFrom('shop/sel', db, [{ namespaceSelector: {}, podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: [] }] } }, { namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'Exists', values: ['b'] }] } }])],
    flow: { from: 'other/db-0', to: 'shop/db-0', port: 5432 },
    verdict: 'allowed',
    ingress: { allowedBy: ['shop/sel#0/1/*'] },
    warnings: [/from\[0\]\.podSelector\.matchExpressions\[0\]\.values: In needs at least one value/, /from\[1\]\.namespaceSelector\.matchExpressions\[0\]\.values: Exists takes no values/],
  },
  {
    name: 'a Node that does not fit is the capture reader\u2019s warning; its address is then no node\u2019s (no from-node note)',
    edit: (k) => k.nodes.push({ metadata: { name: 'node3' }, status: { addresses: 'nope' } }),
    flow: { from: '10.4.0.3', to: 'shop/db-0', port: 5432 },
    verdict: 'allowed',
    noNotes: ['from-node'],
    warnings: [/^kubernetes\.nodes\[2\]\.status\.addresses: .*Node node3 is left out/],
  },
  { name: 'endPort with a named port: the entry matches nothing (warned)', policies: [allowFrom('shop/r', db, undefined, [{ port: 'postgres', endPort: 6000 }])], flow: FE_TO_DB, verdict: 'denied', warnings: [/endPort needs a numeric port, not the name "postgres"/] },
];

describe('NetworkPolicy: the API reference, corner by corner', () => {
  for (const c of cases) {
    test(c.name, () => {
      const k = baseCluster();
      c.edit?.(k);
      const r: PolicyResult = evaluate({ ...k, networkPolicies: c.policies ?? [] }, c.flow);
      assert.equal(r.verdict, c.verdict, `verdict; egress: ${r.egress.explanation}; ingress: ${r.ingress.explanation}`);
      for (const dir of ['egress', 'ingress'] as const) {
        const want = c[dir];
        if (!want) continue;
        const got = r[dir];
        if (want.verdict) assert.equal(got.verdict, want.verdict, `${dir} verdict: ${got.explanation}`);
        if (want.isolated !== undefined) assert.equal(got.isolated, want.isolated, `${dir} isolated`);
        if (want.policies) assert.deepEqual(got.policies, want.policies, `${dir} policies`);
        if (want.allowedBy) assert.deepEqual(got.allowedBy.map(ref), want.allowedBy, `${dir} allowedBy`);
        if (want.tier) assert.equal(got.tier, want.tier, `${dir} tier`);
        // Spec invariants: a direction is allowed iff not isolated or something allows it (no admin tiers here).
        assert.equal(got.verdict === 'allowed', !got.isolated || got.allowedBy.length > 0);
      }
      const kinds = r.notes.map((n) => n.kind);
      for (const n of c.notes ?? []) assert.ok(kinds.includes(n), `note ${n} expected; got ${kinds.join(', ') || 'none'}`);
      for (const n of c.noNotes ?? []) assert.ok(!kinds.includes(n), `note ${n} not expected: ${r.notes.find((x) => x.kind === n)?.text}`);
      const warnings = r.warnings.map((w) => `${w.path}: ${w.message}`);
      for (const w of c.warnings ?? []) assert.ok(warnings.some((x) => w.test(x)), `warning ${w} expected; got ${warnings.join(' | ') || 'none'}`);
      if (!c.warnings) assert.deepEqual(warnings, []);
      if (c.explain?.egress) assert.match(r.egress.explanation, c.explain.egress);
      if (c.explain?.ingress) assert.match(r.ingress.explanation, c.explain.ingress);
    });
  }
});

describe('NetworkPolicy: ends that are not pods, and errors', () => {
  const kube = () => ({ ...baseCluster(), networkPolicies: [denyIngress('shop/default-deny')] });
  test('an unknown pod is an error naming the nearest pods', async () => {
    const { readKubernetes } = await import('../../../src/capture/kubernetes');
    const { evaluatePolicy } = await import('../../../src/engine/policy');
    const out = evaluatePolicy(readKubernetes(kube()), { from: 'shop/db-1', to: 'shop/api-0' });
    assert.equal(out.ok, false);
    if (out.ok) return;
    assert.equal(out.kind, 'unknown-endpoint');
    assert.deepEqual(out.suggestions?.slice(0, 2), ['shop/db-0', 'shop/fe-0']);
    assert.match(out.error, /--from "shop\/db-1" is no pod in this capture's kubernetes section; did you mean shop\/db-0/);
  });
  test('a bare pod name suggests namespace/pod', async () => {
    const { readKubernetes } = await import('../../../src/capture/kubernetes');
    const { evaluatePolicy } = await import('../../../src/engine/policy');
    const out = evaluatePolicy(readKubernetes(kube()), { from: 'web/frontend-1', to: 'api-0' });
    assert.ok(!out.ok && out.suggestions?.[0] === 'shop/api-0', JSON.stringify(out));
  });
  test('a port name the destination pod does not have is an error listing its named ports', async () => {
    const { readKubernetes } = await import('../../../src/capture/kubernetes');
    const { evaluatePolicy } = await import('../../../src/engine/policy');
    const out = evaluatePolicy(readKubernetes(kube()), { from: 'web/frontend-1', to: 'shop/db-0', port: 'mysql' });
    assert.ok(!out.ok);
    assert.equal(out.kind, 'bad-port');
    assert.match(out.error, /shop\/db-0 has no TCP container port named "mysql"; its named ports: postgres \(TCP 5432\), metrics \(TCP 9187\)/);
  });
  test('a port given by name is resolved on the destination pod and reported', () => {
    const r = evaluate({ ...baseCluster(), networkPolicies: [allowFrom('shop/p', db, undefined, [{ port: 5432 }])] }, { from: 'web/frontend-1', to: 'shop/db-0', port: 'postgres' });
    assert.equal(r.verdict, 'allowed');
    assert.deepEqual(r.flow, {
      from: { given: 'web/frontend-1', kind: 'pod', pod: 'web/frontend-1', ip: '10.244.2.20' },
      to: { given: 'shop/db-0', kind: 'pod', pod: 'shop/db-0', ip: '10.244.1.10' },
      proto: 'TCP',
      port: 5432,
      portName: 'postgres',
    });
  });
  test('hostile names pass through as data', () => {
    const evil = 'x\u001b[31m\nred';
    const k = { namespaces: [ns(evil)], pods: [pod(`${evil}/p\u0000q`, { labels: { 'a\nb': 'c' }, ips: ['10.1.1.1'] }), pod('shop/db-0', { ips: ['10.1.1.2'] })], networkPolicies: [np(`${evil}/deny`, { podSelector: {}, policyTypes: ['Egress'] })] };
    const r = evaluate(k, { from: `${evil}/p\u0000q`, to: 'shop/db-0', port: 1 });
    assert.equal(r.egress.verdict, 'denied');
    assert.deepEqual(r.egress.policies, [`${evil}/deny`]);
  });
});

describe('the capture reader\u2019s defaulting, as policy sees it', () => {
  test('a port entry without protocol is TCP, a namespace-less manifest is in default', () => {
    const r = evaluate({ ...baseCluster(), networkPolicies: [{ kind: 'NetworkPolicy', metadata: { name: 'p' }, spec: { podSelector: {}, ingress: [{ ports: [{ port: 80 }] }] } }] }, { from: 'shop/db-0', to: 'default/plain', port: 80 });
    assert.deepEqual(r.ingress.policies, ['default/p']);
    assert.equal(r.verdict, 'allowed');
  });
});
