// Proof that a built lab forwards real packets: pings between lab addresses only, and the tunnel
// device counters that show the cross-node ones really went through the VTEPs.
import { which, type Lab } from './netns';
import type { BuiltCluster, NodePlan, PodPlan } from './topology';

export interface PingCheck {
  what: string;
  from: string;
  to: string;
  ok: boolean;
  detail: string;
}

/** Every address that belongs to the lab: nothing else may be the target of a packet. */
function labAddresses(built: BuiltCluster): Set<string> {
  const s = new Set<string>();
  for (const n of built.plan.nodes) {
    s.add(n.ip);
    for (const p of n.pods) s.add(p.ip);
  }
  if (built.plan.router) s.add(built.plan.router.ip);
  return s;
}

/** Pings `ip` from inside `host` (iputils ping or busybox's), a few tries; true when a reply came back. */
export function ping(lab: Lab, built: BuiltCluster, host: string, ip: string, tries = 3): { ok: boolean; output: string } {
  if (!labAddresses(built).has(ip)) throw new Error(`refusing to ping ${ip}: not an address of the lab`);
  const tool = which('ping') ? ['ping'] : ['busybox', 'ping'];
  let output = '';
  for (let i = 0; i < tries; i++) {
    const r = lab.tryExecIn(host, [...tool, '-c', '1', '-W', '2', ip], { timeoutMs: 10_000 });
    output = (r.stdout + r.stderr).trim();
    if (r.code === 0) return { ok: true, output };
  }
  return { ok: false, output };
}

interface Counters {
  rx: number;
  tx: number;
}

function counters(lab: Lab, host: string, dev: string): Counters {
  const j = JSON.parse(lab.ip(host, '-s', '-j', 'link', 'show', 'dev', dev)) as { stats64?: { rx: { packets: number }; tx: { packets: number } } }[];
  const s = j[0]?.stats64;
  if (!s) throw new Error(`no statistics for ${dev} on ${host}`);
  return { rx: s.rx.packets, tx: s.tx.packets };
}

/**
 * Pings pod to pod on each node (bridge), pod to pod across nodes (VXLAN: the source node's VTEP
 * must transmit and the destination's receive), and node to router (underlay). Returns every check;
 * `assertConnectivity` throws when one failed.
 */
export function checkConnectivity(lab: Lab, built: BuiltCluster, vtep = 'flannel.1'): PingCheck[] {
  const checks: PingCheck[] = [];
  const nodes = built.plan.nodes;
  const add = (what: string, from: string, to: string, ok: boolean, detail: string) => checks.push({ what, from, to, ok, detail });

  for (const n of nodes) {
    const [a, b] = n.pods;
    if (!a || !b) continue;
    const r = ping(lab, built, a.name, b.ip);
    add(`same node (${n.name}, via cni0)`, a.name, `${b.name} ${b.ip}`, r.ok, r.output);
  }

  const withPods = nodes.filter((n) => n.pods.length > 0);
  if (withPods.length > 1) {
    withPods.forEach((src: NodePlan, i) => {
      const dst = withPods[(i + 1) % withPods.length]!;
      const a: PodPlan = src.pods[0]!;
      const b: PodPlan = dst.pods[dst.pods.length - 1]!;
      const before = { src: counters(lab, src.name, vtep), dst: counters(lab, dst.name, vtep) };
      const r = ping(lab, built, a.name, b.ip);
      const after = { src: counters(lab, src.name, vtep), dst: counters(lab, dst.name, vtep) };
      const sent = after.src.tx - before.src.tx;
      const received = after.dst.rx - before.dst.rx;
      const tunneled = sent > 0 && received > 0;
      add(`across nodes (${src.name} -> ${dst.name}, via ${vtep})`, a.name, `${b.name} ${b.ip}`, r.ok && tunneled,
        `${r.output}\n${vtep} packets: ${src.name} tx +${sent}, ${dst.name} rx +${received}`);
    });
  }

  if (built.plan.router) {
    for (const n of nodes) {
      const r = ping(lab, built, n.name, built.plan.router.ip);
      add('underlay (node to router)', n.name, `${built.plan.router.name} ${built.plan.router.ip}`, r.ok, r.output);
    }
  }
  return checks;
}

export function assertConnectivity(checks: readonly PingCheck[]): void {
  const failed = checks.filter((c) => !c.ok);
  if (failed.length === 0) return;
  throw new Error(
    `the lab does not forward packets as it should (${failed.length} of ${checks.length} checks failed):\n` +
      failed.map((c) => `- ${c.what}: ${c.from} -> ${c.to}\n    ${c.detail.split('\n').join('\n    ')}`).join('\n'),
  );
}
