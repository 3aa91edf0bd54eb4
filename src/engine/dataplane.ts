// Where the kernel's tables do not decide: nodes whose packets eBPF programs move. Cilium attaches
// programs to the pods' lxc devices and to the uplink; with its kube-proxy replacement it translates
// Service addresses in eBPF maps (no KUBE-SERVICES chain), and with eBPF host routing it hands packets
// between an lxc device and the uplink with bpf_redirect_peer/bpf_redirect_neigh, past the host's
// netfilter hooks. netpath reads tables, not BPF maps: a trace through such a node says so, names
// what the node showed, and marks the steps it cannot vouch for.
//
// Pure: reads the capture's link, iptables and nft text, the API objects and the metadata the
// collector wrote (`metadata.cni`, `metadata.cilium`).
import type { Capture, Host } from '../capture/document';
import type { Netns } from './netns';
import { kubernetesOf } from '../capture/document';
import type { CiliumNode, DataplaneBasis, Evidence, Step, StepKind, Unvouched } from './trace';

export type { CiliumNode, DataplaneBasis, Unvouched } from './trace';

const CILIUM_LINKS = /^cilium_(host|net|vxlan|geneve|wg0|ipip4|ipip6)$/;

/** The `metadata.cilium` a collector may write (from the cilium-config ConfigMap or `cilium status`). */
interface CiliumMetadata {
  /** `kube-proxy-replacement`: true/strict/partial/false/disabled. */
  kubeProxyReplacement?: unknown;
  /** `cilium status`'s "Host Routing:" (BPF | Legacy), or the ConfigMap's enable-host-legacy-routing read as Legacy. */
  hostRouting?: unknown;
}

function lineOf(text: string, index: number): { line: number; raw: string } {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) line++;
  const start = text.lastIndexOf('\n', index - 1) + 1;
  const end = text.indexOf('\n', index);
  return { line, raw: text.slice(start, end === -1 ? undefined : end) };
}

/** The first line of `text` that `re` (multiline) matches, as evidence (the line holding the match's start). */
export function matchEvidence(host: string, probe: string, text: string | undefined, re: RegExp): Evidence | undefined {
  if (text === undefined) return undefined;
  const m = re.exec(text);
  if (!m) return undefined;
  return { host, probe, ...lineOf(text, m.index) };
}

// A chain declaration in iptables-save (`:NAME POLICY`), iptables -S (`-N NAME`, `-P NAME`) or a rule
// of it (`-A NAME`); nft prints `chain NAME {` and `table ip kube-proxy {`.
const KUBE_PROXY_IPT = /^(?::|-[NA] )KUBE-(SERVICES|SVC-|SEP-|NODEPORTS)/m;
const CILIUM_IPT = /^(?::|-[NA] )CILIUM_/m;
const KUBE_PROXY_NFT = /^table ip6? kube-proxy \{|^[ \t]*chain (KUBE-SERVICES|services) \{/m;

function kprSetting(v: unknown): 'yes' | 'no' | undefined {
  if (typeof v !== 'string' && typeof v !== 'boolean') return undefined;
  const s = String(v).toLowerCase();
  if (['true', 'strict', 'partial'].includes(s)) return 'yes';
  if (['false', 'disabled'].includes(s)) return 'no';
  return undefined;
}

function hostRoutingSetting(v: unknown): 'bpf' | 'legacy' | undefined {
  if (typeof v !== 'string') return undefined;
  const s = v.toLowerCase();
  return s === 'bpf' ? 'bpf' : s === 'legacy' ? 'legacy' : undefined;
}

/** ciliumAgents by the capture's typed kubernetes section (read once per capture): a trace asks for every path. */
const agentsBySection = new WeakMap<object, Map<string, string>>();

/** Cilium agent pods by the node they run on (the `k8s-app: cilium` DaemonSet), from the API objects. */
function ciliumAgents(capture: Capture): Map<string, string> {
  const section = kubernetesOf(capture);
  const known = agentsBySection.get(section);
  if (known) return known;
  const out = new Map<string, string>();
  agentsBySection.set(section, out);
  for (const p of section.pods) {
    const node = p.spec?.nodeName;
    if (node === undefined || p.metadata.labels?.['k8s-app'] !== 'cilium') continue;
    out.set(node, `${p.metadata.namespace ?? 'default'}/${p.metadata.name}`);
  }
  return out;
}

/**
 * Which nodes of the capture run Cilium, and what their tables and the cluster say of its eBPF data
 * path. A node is Cilium's when it has Cilium's devices (cilium_host, cilium_net, cilium_vxlan ...)
 * or runs a Cilium agent pod (API objects); a capture whose `metadata.cni` is cilium marks nodes that
 * show neither only when they have no links probe to contradict it.
 */
export function detectDataplanes(capture: Capture, hosts: ReadonlyMap<string, Netns>, only?: ReadonlySet<string>): Map<string, CiliumNode> {
  const out = new Map<string, CiliumNode>();
  const meta = capture.metadata as { cni?: { name?: unknown }; cilium?: CiliumMetadata } | undefined;
  const cniIsCilium = meta?.cni?.name === 'cilium';
  const agents = ciliumAgents(capture);
  for (const ns of only ? [...only].flatMap((n) => hosts.get(n) ?? []) : hosts.values()) {
    const h: Host = ns.host;
    if (h.role !== 'node') continue;
    const basis: DataplaneBasis[] = [];
    for (const iface of ns.ifaces.values()) {
      if (CILIUM_LINKS.test(iface.name) && iface.link) {
        basis.push({ from: 'probe', evidence: { host: h.name, probe: 'links', line: iface.link.src.line, raw: iface.link.src.raw } });
        break;
      }
    }
    const agent = agents.get(h.name);
    if (agent) basis.push({ from: 'api', what: `Cilium agent pod ${agent} runs on this node` });
    if (basis.length === 0 && !(cniIsCilium && !ns.probes.has('links'))) continue;
    if (basis.length === 0) basis.push({ from: 'metadata', what: 'the capture says the cluster\'s CNI is cilium (metadata.cni)' });

    const ipt = h.probes?.iptables;
    const nft = h.probes?.nft;
    const kubeProxy = matchEvidence(h.name, 'iptables', ipt, KUBE_PROXY_IPT) ?? matchEvidence(h.name, 'nft', nft, KUBE_PROXY_NFT);
    const ciliumChain = matchEvidence(h.name, 'iptables', ipt, CILIUM_IPT);
    let kpr: CiliumNode['kubeProxyReplacement'] = 'unknown';
    const configured = kprSetting(meta?.cilium?.kubeProxyReplacement);
    if (kubeProxy) {
      kpr = 'no';
      basis.push({ from: 'probe', evidence: kubeProxy });
    } else if (configured !== undefined) {
      kpr = configured;
      basis.push({ from: 'metadata', what: `kube-proxy-replacement: ${String(meta?.cilium?.kubeProxyReplacement)} (metadata.cilium)` });
    } else if (ciliumChain) {
      // Cilium's own chains and none of kube-proxy's: Services are not in the tables.
      kpr = 'yes';
      basis.push({ from: 'probe', evidence: ciliumChain }, { from: 'absence', what: 'no KUBE-SERVICES chain or kube-proxy table in this node\'s rules' });
    }
    let hostRouting: CiliumNode['hostRouting'] = 'unknown';
    const hr = hostRoutingSetting(meta?.cilium?.hostRouting);
    if (hr !== undefined) {
      hostRouting = hr;
      basis.push({ from: 'metadata', what: `Host Routing: ${String(meta?.cilium?.hostRouting)} (metadata.cilium)` });
    } else if (kpr === 'no') {
      // eBPF host routing needs Cilium's kube-proxy replacement (and eBPF masquerading).
      hostRouting = 'legacy';
    }
    out.set(h.name, { host: h.name, kind: 'cilium', kubeProxyReplacement: kpr, hostRouting, basis });
  }
  return out;
}

/** Steps that eBPF host routing may bypass on a Cilium node: the host's netfilter hooks and forwarding checks. */
const BYPASSED_BY_HOST_ROUTING: ReadonlySet<StepKind> = new Set<StepKind>(['netfilter', 'forward', 'rp-filter']);

/**
 * Why `step`, taken on `node`, is not vouched for, or undefined. `serviceTarget`: the traced
 * destination is a Service address (so, on a node whose Services Cilium translates, the tables'
 * answer for it is not what happens).
 */
export function unvouched(node: CiliumNode | undefined, step: Step, serviceTarget: boolean): Unvouched | undefined {
  if (!node) return undefined;
  if (serviceTarget && node.kubeProxyReplacement !== 'no' && (step.kind === 'route' || step.kind === 'netfilter' || step.kind === 'origin')) {
    return { by: 'cilium', reason: 'kube-proxy-replacement', host: node.host, kubeProxyReplacement: node.kubeProxyReplacement };
  }
  if (node.hostRouting !== 'legacy' && BYPASSED_BY_HOST_ROUTING.has(step.kind)) {
    return { by: 'cilium', reason: 'bpf-host-routing', host: node.host, hostRouting: node.hostRouting };
  }
  return undefined;
}

/** A result's paths and hops, as annotate() reads and marks them. */
interface Annotatable {
  hops: { host: string; steps: (Step & { unvouched?: Unvouched })[] }[];
  paths: { hops: { host: string; steps: (Step & { unvouched?: Unvouched })[] }[] }[];
}

/**
 * Marks every step a Cilium node's eBPF programs may decide differently from the tables, and returns
 * the Cilium nodes the trace went through (in the order first met), or [] when there are none (the
 * result is then left untouched). A pod's hop belongs to its node: with the kube-proxy replacement,
 * Cilium translates a Service address at the pod's socket (or its lxc device), before the pod's route.
 */
export function annotate(result: Annotatable, nodes: ReadonlyMap<string, CiliumNode>, hostOf: (name: string) => Host | undefined, serviceTarget: boolean): CiliumNode[] {
  if (nodes.size === 0) return [];
  const met: CiliumNode[] = [];
  const seen = new Set<Step>();
  const nodeOf = (host: string): CiliumNode | undefined => {
    const h = hostOf(host);
    return nodes.get(h?.role === 'pod' && h.node !== undefined ? h.node : host);
  };
  for (const hops of [result.hops, ...result.paths.map((p) => p.hops)]) {
    for (const hop of hops) {
      const node = nodeOf(hop.host);
      if (!node) continue;
      if (!met.includes(node)) met.push(node);
      const isPod = hostOf(hop.host)?.role === 'pod';
      for (const s of hop.steps) {
        if (seen.has(s)) continue;
        seen.add(s);
        // eBPF host routing acts on the node's own stack; a pod's own netfilter hooks still run.
        const u = unvouched(node, s, serviceTarget);
        if (u && (!isPod || u.reason === 'kube-proxy-replacement')) s.unvouched = u;
      }
    }
  }
  return met;
}
