// Whether the cluster enforces NetworkPolicy, and what does. The API can hold policies that nothing
// carries out: plain flannel (and the bridge/host-local reference plugins) never look at them, while
// Calico (Canal included), Cilium, Antrea, kube-router, Weave Net, OVN-Kubernetes, Kube-OVN and the
// kube-network-policies controller program them. A trace's policy verdict depends on it: a flow a
// policy denies is `policy-denied` where an enforcer runs, and only a note ("a policy would deny this,
// but flannel does not enforce NetworkPolicy") where none does.
//
// Read from what the capture shows, each conclusion with what it rests on: the enforcers' agent pods
// (API objects), their devices on the nodes (links) and their chains in the nodes' rules (iptables,
// nft), and the collector's `metadata.cni`. Pure.
import { kubernetesOf, type Capture } from '../capture/document';
import { sourceOf } from '../capture/kubernetes';
import { matchEvidence } from './dataplane';
import { apiEvidence } from './services';
import type { Netns } from './netns';
import type { Evidence } from './trace';

export type PolicyEnforcer = 'calico' | 'cilium' | 'antrea' | 'kube-router' | 'weave-net' | 'ovn-kubernetes' | 'kube-ovn' | 'kube-network-policies';
/** CNIs that forward pod traffic but do not enforce NetworkPolicy themselves. */
export type NonEnforcingCni = 'flannel';

export interface EnforcementBasis {
  /** Who it points to. */
  name: PolicyEnforcer | NonEnforcingCni;
  /** What was seen, in words: "agent pod kube-system/calico-node-x7k2p", "device cali1a2b3c4d5e6 on k8s-node1". */
  what: string;
  evidence?: Evidence;
}

export interface PolicyEnforcement {
  /** yes: an enforcer runs; no: only a CNI that does not enforce was found; unknown: nothing says either way. */
  enforced: 'yes' | 'no' | 'unknown';
  enforcers: PolicyEnforcer[];
  nonEnforcing: NonEnforcingCni[];
  basis: EnforcementBasis[];
  /** One sentence: who enforces, or why netpath thinks nobody does, or that it cannot tell. */
  text: string;
  /** Per node: the first line of its rules that shows a CNI's policy chains (there, the kernel's rules decide policy). */
  policyRules: ReadonlyMap<string, Evidence>;
}

const DISPLAY: Record<PolicyEnforcer | NonEnforcingCni, string> = {
  calico: 'Calico',
  cilium: 'Cilium',
  antrea: 'Antrea',
  'kube-router': 'kube-router',
  'weave-net': 'Weave Net',
  'ovn-kubernetes': 'OVN-Kubernetes',
  'kube-ovn': 'Kube-OVN',
  'kube-network-policies': 'kube-network-policies',
  flannel: 'flannel',
};

/** The project's own name for it: `Calico`, `Weave Net`. */
export const displayName = (n: PolicyEnforcer | NonEnforcingCni): string => DISPLAY[n];

/** Agent pods by their DaemonSets' labels (each project's own manifests). */
const AGENT_LABELS: { name: PolicyEnforcer | NonEnforcingCni; key: string; values: readonly string[] }[] = [
  { name: 'calico', key: 'k8s-app', values: ['calico-node', 'canal'] },
  { name: 'cilium', key: 'k8s-app', values: ['cilium'] },
  { name: 'antrea', key: 'component', values: ['antrea-agent'] },
  { name: 'kube-router', key: 'k8s-app', values: ['kube-router'] },
  { name: 'weave-net', key: 'name', values: ['weave-net'] },
  { name: 'ovn-kubernetes', key: 'name', values: ['ovnkube-node'] },
  { name: 'kube-ovn', key: 'app', values: ['kube-ovn-cni'] },
  { name: 'kube-network-policies', key: 'app', values: ['kube-network-policies'] },
  { name: 'flannel', key: 'app', values: ['flannel'] },
];

/** Devices each one creates on a node. */
const DEVICES: { name: PolicyEnforcer | NonEnforcingCni; re: RegExp }[] = [
  { name: 'calico', re: /^(cali[0-9a-f]{11}|vxlan\.calico|vxlan-v6\.calico)$/ },
  { name: 'cilium', re: /^cilium_(host|net|vxlan|geneve)$/ },
  { name: 'antrea', re: /^antrea-(gw0|tun0)$/ },
  { name: 'kube-router', re: /^kube-bridge$/ },
  { name: 'weave-net', re: /^weave$/ },
  { name: 'ovn-kubernetes', re: /^ovn-k8s-mp0$/ },
  { name: 'kube-ovn', re: /^ovn0$/ },
  { name: 'flannel', re: /^flannel[.-](1|wg|wgv6|v6\.1)$/ },
];

/** Policy chains in the nodes' rules (iptables-save `:NAME`, iptables -S `-N NAME`, nft `chain NAME {`). */
const CHAINS: { name: PolicyEnforcer; re: RegExp }[] = [
  { name: 'calico', re: /^(?::|-N |[ \t]*chain )cali-(pi|po|tw|fw)-/m },
  { name: 'kube-router', re: /^(?::|-N |[ \t]*chain )KUBE-(NWPLCY|POD-FW)-/m },
  { name: 'antrea', re: /^(?::|-N |[ \t]*chain )ANTREA-/m },
  { name: 'weave-net', re: /^(?::|-N |[ \t]*chain )WEAVE-NPC/m },
  { name: 'kube-network-policies', re: /^table inet kube-network-policies \{/m },
];

const enforcements = new WeakMap<Capture, PolicyEnforcement>();

/** Who enforces NetworkPolicy in this capture's cluster (computed once per capture); `hosts`: its namespaces (the Network's). */
export function policyEnforcement(capture: Capture, hosts: ReadonlyMap<string, Netns>): PolicyEnforcement {
  const known = enforcements.get(capture);
  if (known) return known;
  const basis: EnforcementBasis[] = [];
  const policyRules = new Map<string, Evidence>();
  const seen = new Set<string>();
  const add = (b: EnforcementBasis) => {
    // One piece of evidence of each kind per name is enough to say it.
    const key = `${b.name}|${b.evidence ? `${b.evidence.probe.replace(/\[\d+\]$/, '')}` : b.what}`;
    if (seen.has(key)) return;
    seen.add(key);
    basis.push(b);
  };
  const section = kubernetesOf(capture);
  section.pods.forEach((p, i) => {
    const labels = p.metadata.labels ?? {};
    for (const a of AGENT_LABELS) {
      if (a.values.includes(labels[a.key] ?? '')) {
        const name = `${p.metadata.namespace ?? 'default'}/${p.metadata.name}`;
        add({ name: a.name, what: `agent pod ${name} (${a.key}=${labels[a.key]})`, evidence: apiEvidence(sourceOf(p) ?? `pods[${i}]`, { kind: 'Pod', metadata: { namespace: p.metadata.namespace, name: p.metadata.name, labels: { [a.key]: labels[a.key] } } }) });
      }
    }
  });
  for (const h of capture.hosts) {
    // Nodes only, looked up by name: pods' namespaces are not built for this.
    if (h.role !== 'node') continue;
    const ns = hosts.get(h.name);
    if (!ns) continue;
    for (const iface of ns.ifaces.values()) {
      const d = DEVICES.find((x) => x.re.test(iface.name));
      if (d) add({ name: d.name, what: `device ${iface.name} on ${h.name}`, ...(iface.link ? { evidence: { host: h.name, probe: 'links', line: iface.link.src.line, raw: iface.link.src.raw } } : {}) });
    }
    for (const probe of ['iptables', 'ip6tables', 'nft'] as const) {
      for (const c of CHAINS) {
        const evidence = matchEvidence(h.name, probe, h.probes?.[probe], c.re);
        if (!evidence) continue;
        if (!policyRules.has(h.name)) policyRules.set(h.name, evidence);
        add({ name: c.name, what: `${DISPLAY[c.name]}'s policy chains in ${h.name}'s ${probe} rules`, evidence });
      }
    }
  }
  const cni = (capture.metadata as { cni?: { name?: unknown } } | undefined)?.cni?.name;
  if (typeof cni === 'string') {
    const n = cni.toLowerCase();
    const match = (Object.keys(DISPLAY) as (PolicyEnforcer | NonEnforcingCni)[]).find((k) => k === n || (k === 'calico' && n === 'canal'));
    if (match) add({ name: match, what: `the capture says the cluster's CNI is ${cni} (metadata.cni)` });
  }
  const enforcers = [...new Set(basis.map((b) => b.name).filter((n): n is PolicyEnforcer => n !== 'flannel'))];
  const nonEnforcing = [...new Set(basis.map((b) => b.name).filter((n): n is NonEnforcingCni => n === 'flannel'))];
  const list = (names: readonly string[]) => names.map((n) => DISPLAY[n as PolicyEnforcer]).join(', ');
  const result: PolicyEnforcement = {
    enforced: enforcers.length ? 'yes' : nonEnforcing.length ? 'no' : 'unknown',
    enforcers,
    nonEnforcing,
    basis,
    text: enforcers.length
      ? `${list(enforcers)} ${enforcers.length > 1 ? 'enforce' : 'enforces'} NetworkPolicy in this cluster${nonEnforcing.length ? ` (beside ${list(nonEnforcing)}, which does not)` : ''}.`
      : nonEnforcing.length
        ? `${list(nonEnforcing)} does not enforce NetworkPolicy, and nothing else that does shows in the capture (no agent pods, devices or policy chains of Calico, Cilium, Antrea, kube-router, Weave Net, OVN-Kubernetes or kube-network-policies): policies are not carried out.`
        : 'The capture does not show which CNI runs or whether anything enforces NetworkPolicy.',
    policyRules,
  };
  enforcements.set(capture, result);
  return result;
}
