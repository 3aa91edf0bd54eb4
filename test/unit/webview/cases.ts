// Real traces for the path view's tests and preview: the engine run on the demo capture
// (examples/demo-flannel-vxlan.json, real kernel tables from the lab) and on faults made by editing
// its tables, as test/unit/engine/simulate.test.ts does.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCapture, type Capture } from '../../../src/capture/document';
import { buildNetwork, simulate, type TraceRequest, type TraceResult } from '../../../src/engine';
import { traceHosts, type ShowTrace } from '../../../src/shared/protocol';
import { withKubeProxy } from './kube-proxy-cases';

const demoPath = join(__dirname, '../../../examples/demo-flannel-vxlan.json');
const demoText = readFileSync(demoPath, 'utf8');

export function demo(): Capture {
  const r = parseCapture(demoText);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.capture;
}

export function edit(c: Capture, host: string, probe: string, f: (lines: string[]) => string[]): Capture {
  const h = c.hosts.find((x) => x.name === host);
  if (!h?.probes?.[probe]) throw new Error(`${host} has no ${probe}`);
  h.probes[probe] = f(h.probes[probe].split('\n')).join('\n');
  return c;
}

export function trace(c: Capture, req: TraceRequest): TraceResult {
  const r = simulate(buildNetwork(c), req);
  if (!r.ok) throw new Error(r.error);
  return r.result;
}

export function message(c: Capture, req: TraceRequest, source = 'examples/demo-flannel-vxlan.json'): ShowTrace {
  const t = trace(c, req);
  return { type: 'showTrace', trace: t, source, request: req, hosts: traceHosts(t, c.hosts) };
}

export const HOSTILE_POD = '<img src=x onerror=alert(1)>';
export const HOSTILE_NS = '"><svg onload=alert(2)></svg>';

/** The healthy cross-node trace with web-1 renamed to markup and its namespace to more markup. */
export function hostileMessage(): ShowTrace {
  const m = message(demo(), { from: 'default/web-0', to: 'default/web-1' });
  const json = JSON.stringify(m).replaceAll('"web-1"', JSON.stringify(HOSTILE_POD)).replaceAll('web-1', HOSTILE_POD.replaceAll('"', '\\"'));
  const out = JSON.parse(json) as ShowTrace;
  for (const h of out.hosts ?? []) if (h.name === HOSTILE_POD) h.namespace = HOSTILE_NS;
  return out;
}

/**
 * Traces through kube-proxy's rules (kube-proxy-cases.ts): default/web:http (10.96.0.20:80) with three
 * endpoints, default/empty:http (10.96.0.30:80) with none.
 */
export function serviceCases(): Record<string, ShowTrace> {
  return {
    // From prometheus-0 on k8s-node3: a third each to web-0 and web-1 across the switch, nginx beside it.
    'service-endpoints': message(withKubeProxy(demo()), { from: 'monitoring/prometheus-0', to: 'svc/default/web:http', proto: 'tcp', port: 80 }),
    // From web-0, one of the endpoints: hairpin back through its own port for a third of new connections.
    'service-hairpin': message(withKubeProxy(demo()), { from: 'default/web-0', to: 'svc/default/web:http', proto: 'tcp', port: 80 }),
    // No endpoints: REJECT in filter KUBE-SERVICES on the client's node.
    'service-rejected': message(withKubeProxy(demo()), { from: 'monitoring/prometheus-0', to: 'svc/default/empty:http', proto: 'tcp', port: 80 }),
    // FORWARD policy DROP (Docker on the node): every endpoint's packet is dropped in the client node's FORWARD.
    'service-filtered': message(withKubeProxy(demo(), 'DROP'), { from: 'monitoring/prometheus-0', to: 'svc/default/web:http', proto: 'tcp', port: 80 }),
  };
}

/** The cases the preview and the browser test show. */
export function cases(): Record<string, ShowTrace> {
  return {
    ...serviceCases(),
    'pod-to-pod': message(demo(), { from: 'default/web-0', to: 'default/web-1' }),
    'mtu-1500': message(demo(), { from: 'default/web-0', to: 'default/web-1', size: 1500 }),
    'node-to-gw': message(demo(), { from: 'k8s-node1', to: '10.4.7.1' }),
    flood: message(edit(demo(), 'k8s-node2', 'fdb', (ls) => ls.filter((l) => !l.startsWith('0a:58:0a:f4:01:03 '))), { from: 'default/web-0', to: 'default/web-1' }),
    // Two next hops on k8s-node1: one reaches web-1 through the switch, the other dies at the router.
    ecmp: message(
      edit(demo(), 'k8s-node1', 'routes4', (ls) => ls.flatMap((l) => (l.startsWith('10.244.1.0/24') ? ['10.244.1.0/24 proto static ', '\tnexthop via 10.4.7.22 dev eth0 weight 1 ', '\tnexthop via 10.4.7.1 dev eth0 weight 1 '] : [l]))),
      { from: 'default/web-0', to: 'default/web-1' },
    ),
    'no-fdb-entry': message(edit(demo(), 'k8s-node1', 'fdb', (ls) => ls.filter((l) => !/dev flannel\.1 dst 10\.4\.7\.22 /.test(l))), { from: 'default/web-0', to: 'default/web-1' }),
    'inferred-pod': (() => {
      const c = demo();
      delete c.hosts.find((h) => h.name === 'web-1')!.probes;
      return message(c, { from: 'default/web-0', to: 'default/web-1' });
    })(),
    'inferred-source': (() => {
      const c = demo();
      delete c.hosts.find((h) => h.name === 'web-0')!.probes;
      return message(c, { from: 'default/web-0', to: 'default/web-1' });
    })(),
    hostile: hostileMessage(),
    // flannel.1 on node1 with only default (all-zero) VXLAN entries: a copy to every VTEP; node3's is
    // discarded there (not its flannel.1 MAC), as expected, and web-1 gets the other.
    'vxlan-default': message(
      edit(demo(), 'k8s-node1', 'fdb', (ls) => [
        ...ls.filter((l) => !/ dev flannel\.1 dst /.test(l)),
        '00:00:00:00:00:00 dev flannel.1 dst 10.4.7.22 self permanent',
        '00:00:00:00:00:00 dev flannel.1 dst 10.4.7.23 self permanent',
      ]),
      { from: 'default/web-0', to: 'default/web-1' },
    ),
  };
}
