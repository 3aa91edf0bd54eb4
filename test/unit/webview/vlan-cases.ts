// Hand-made traces with 802.1Q tags, in the shape the engine gives them once issue 13's engine side
// is merged (this branch's engine does not produce them yet): the wire step's `vlans`, and the
// `vlan-push` / `vlan-pop` steps of a sub-interface. The article's picture: host-a on an access port
// of VLAN 10, host-b on one of VLAN 20, a router with eth0.10 and eth0.20 on the switch's trunk.
import type { Hop, ShowTrace, Step, StepDetail, TraceHost, TraceResult } from '../../../src/shared/protocol';

const wire = (ns: string, dev: string, peer: string, peerDev: string, vlans?: number[]): Step => ({
  kind: 'underlay',
  text: `${ns} ${dev} sends the frame to ${peer} ${peerDev}`,
  evidence: '',
  records: [],
  detail: { type: 'wire', how: 'link', ns, dev, peer, peerDev, ...(vlans ? { vlans } : {}) },
});

/** A detail type this branch's StepDetail does not list yet (the engine helper adds it). */
const vlanStep = (type: 'vlan-push' | 'vlan-pop', dev: string, parent: string, id: number): Step => ({
  kind: 'bridge',
  text: type === 'vlan-push' ? `${dev} tags the frame with VLAN ${id} and hands it to ${parent}` : `${parent} gives the frame tagged ${id} to ${dev}, untagged`,
  evidence: '',
  records: [],
  detail: { type, ns: 'router', dev, parent, id } as unknown as StepDetail,
});

const fdb = (bridge: string, inPort: string, port: string): Step => ({
  kind: 'fdb',
  text: `${bridge} forwards to ${port}`,
  evidence: '',
  records: [],
  detail: { type: 'fdb-hit', ns: 'switch', bridge, inPort, mac: '02:00:00:00:00:01', port, state: 'learned' },
});

/** The demo path: untagged, tagged 10 on the trunk, popped, routed, pushed 20, tagged 20, untagged. */
export function vlanDemoHops(): Hop[] {
  return [
    {
      host: 'host-a',
      in: null,
      out: 'eth0',
      steps: [
        { kind: 'origin', text: 'host-a sends', evidence: '', records: [], detail: { type: 'origin', ns: 'host-a', proto: 'icmp', size: 84, src: '192.168.10.2', dst: '192.168.20.2', df: false } },
        wire('host-a', 'eth0', 'switch', 'swp1'),
      ],
    },
    { host: 'switch', in: 'swp1', out: 'swp3', steps: [fdb('br0', 'swp1', 'swp3'), wire('switch', 'swp3', 'router', 'eth0', [10])] },
    {
      host: 'router',
      in: 'eth0',
      out: 'eth0',
      steps: [
        vlanStep('vlan-pop', 'eth0.10', 'eth0', 10),
        { kind: 'route', text: 'route', evidence: '', records: [], detail: { type: 'route', ns: 'router', dst: '192.168.20.2', route: { type: 'unicast', dst: '192.168.20.0/24', dev: 'eth0.20', table: 'main' }, table: 'main', outcome: 'forward' } },
        vlanStep('vlan-push', 'eth0.20', 'eth0', 20),
        wire('router', 'eth0', 'switch', 'swp3', [20]),
      ],
    },
    { host: 'switch', in: 'swp3', out: 'swp2', steps: [fdb('br0', 'swp3', 'swp2'), wire('switch', 'swp2', 'host-b', 'eth0')] },
    { host: 'host-b', in: 'eth0', out: null, steps: [{ kind: 'deliver', text: 'delivered', evidence: '', records: [], detail: { type: 'deliver', ns: 'host-b', dst: '192.168.20.2', dev: 'eth0' } }] },
  ];
}

export function traceOf(hops: Hop[]): TraceResult {
  const t = { verdict: 'delivered' as const, hops, dropAt: null, reason: 'delivered to host-b', ending: 'delivered' as const };
  return {
    ...t,
    flow: { src: '192.168.10.2', dst: '192.168.20.2', proto: 'icmp', size: 84, df: false },
    from: { host: 'host-a', ip: '192.168.10.2' },
    to: { host: 'host-b', ip: '192.168.20.2' },
    paths: [{ ...t, branch: '', floodCopy: false }],
    inferred: false,
    needs: [],
  };
}

/** Two lanes: the demo path, and a flood copy at the switch that leaves with stacked tags (QinQ) to host-c. */
export function vlanForkTrace(): TraceResult {
  const hops = vlanDemoHops();
  const copy: Hop[] = [
    hops[0]!,
    { ...hops[1]!, out: 'swp4', steps: [hops[1]!.steps[0]!, { ...hops[1]!.steps[1]!, detail: { type: 'wire', how: 'link', ns: 'switch', dev: 'swp4', peer: 'host-c', peerDev: 'eth0', vlans: [100, 10] } }] },
    { host: 'host-c', in: 'eth0', out: null, steps: [] },
  ];
  const base = traceOf(hops);
  return {
    ...base,
    paths: [
      { ...base.paths[0]!, branch: 'flood br0 -> swp3', forks: [{ kind: 'flood', label: 'flood br0 -> swp3' }] as never },
      { verdict: 'wrong-destination', hops: copy, dropAt: { host: 'host-c', dev: 'eth0' }, reason: 'not for host-c', ending: 'discarded', branch: 'flood br0 -> swp4', floodCopy: true, forks: [{ kind: 'flood', label: 'flood br0 -> swp4' }] as never },
    ],
  };
}

const HOSTS: TraceHost[] = [
  { name: 'host-a', role: 'node' },
  { name: 'switch', role: 'switch' },
  { name: 'router', role: 'router' },
  { name: 'host-b', role: 'node' },
  { name: 'host-c', role: 'node' },
];

/** The path view's messages for both traces (the browser test and the preview). */
export function vlanMessages(): Record<string, ShowTrace> {
  const msg = (trace: TraceResult): ShowTrace => ({ type: 'showTrace', trace, source: 'hand-made VLAN trace', request: { from: 'host-a', to: '192.168.20.2' }, hosts: HOSTS });
  return { vlan: msg(traceOf(vlanDemoHops())), 'vlan-fork': msg(vlanForkTrace()) };
}
