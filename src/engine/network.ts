// The forwarding state of a whole capture: every namespace parsed and indexed once (netns.ts), pods
// without probes inferred from their nodes (infer.ts), the indexes a trace looks hosts up by, and the
// topology (topology.ts), owned here and computed as it is first needed. A trace is then only lookups.
import type { Capture, Host } from '../capture/document';
import { Addr } from '../net/addr';
import { hasNoInterfaceTables, inferPodNetns } from './infer';
import { addressKeys, buildNetns, candidateIndex, type Namespaces, type Netns, type Owner } from './netns';
import { Topology } from './topology';
import { NetfilterAdapter } from './netfilterHooks';
import { serviceIndexOf } from './services';
import { kubernetesOf } from '../capture/document';
import type { NetfilterHooks } from './walk/packet';

// What the shells (the Node Bridges tree, hovers) read of a namespace.
export { neighKey, type Iface, type InferredNetns, type Netns, type Owner } from './netns';

export interface Network extends Namespaces {
  /** `namespace/pod` -> pod host. */
  pods: Map<string, Host>;
  /** Kubernetes-reported IPs (`ips`) -> hosts, in capture order. */
  reported: Map<string, Host[]>;
  /** What is wired to what: veth peers, links, segments, bridge ports, VXLAN peers, pod attachments. */
  topology: Topology;
  /**
   * The netfilter evaluator the walk's hook points call (walk/hooks.ts). Absent: every hook accepts
   * the packet unchanged.
   */
  netfilter?: NetfilterHooks;
}

export function buildNetwork(capture: Capture): Network {
  const hosts = new LazyHosts(capture);
  const pods = new Map<string, Host>();
  const reported = new Map<string, Host[]>();
  for (const h of capture.hosts) {
    if (h.role === 'pod' && h.namespace !== undefined) pods.set(`${h.namespace}/${h.pod ?? h.name}`, h);
    for (const ip of h.ips ?? []) {
      const a = Addr.parse(ip);
      if (!a.ok) continue;
      const k = a.value.toString();
      const list = reported.get(k) ?? [];
      list.push(h);
      reported.set(k, list);
    }
  }
  const parts: Namespaces = { capture, hosts, podsOnNode: new PodsOnNode(capture, hosts), owners: new Owners(capture, hosts) };
  const net: Network = { ...parts, pods, reported, topology: new Topology(parts) };
  // Only a capture with rules (or with Services to stand in for a node's missing rules) gets an
  // evaluator: without one every hook point is no stage at all.
  if (NetfilterAdapter.hasRules(capture.hosts) || kubernetesOf(capture).services.length > 0) net.netfilter = new NetfilterAdapter(() => serviceIndexOf(net));
  return net;
}

/**
 * The capture's namespaces by host name, each built (netns.ts; a pod with no interface tables
 * inferred from its node, infer.ts) the first time it is asked for. Iteration is in capture order
 * and builds every namespace.
 */
class LazyHosts implements ReadonlyMap<string, Netns> {
  private readonly byName = new Map<string, Host>();
  private readonly built = new Map<string, Netns>();

  constructor(capture: Capture) {
    for (const h of capture.hosts) this.byName.set(h.name, h);
  }

  get(name: string): Netns | undefined {
    const known = this.built.get(name);
    if (known) return known;
    const h = this.byName.get(name);
    if (!h) return undefined;
    const ns = buildNetns(h);
    this.built.set(name, ns);
    if (hasNoInterfaceTables(ns)) inferPodNetns(ns, h.node !== undefined ? this.get(h.node) : undefined);
    return ns;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  get size(): number {
    return this.byName.size;
  }

  keys(): MapIterator<string> {
    return this.byName.keys();
  }

  *values(): MapIterator<Netns> {
    for (const name of this.byName.keys()) yield this.get(name)!;
  }

  *entries(): MapIterator<[string, Netns]> {
    for (const name of this.byName.keys()) yield [name, this.get(name)!];
  }

  [Symbol.iterator](): MapIterator<[string, Netns]> {
    return this.entries();
  }

  forEach(f: (value: Netns, key: string, map: ReadonlyMap<string, Netns>) => void): void {
    for (const [k, v] of this.entries()) f(v, k, this);
  }

  /** How many namespaces have been built so far (benchmarks, tests). */
  get builtCount(): number {
    return this.built.size;
  }
}

/** The namespaces a benchmark or test has caused to be built, of those in the capture. */
export function builtHosts(net: Network): { built: number; of: number } {
  const h = net.hosts;
  return h instanceof LazyHosts ? { built: h.builtCount, of: h.size } : { built: h.size, of: h.size };
}

/** The pods (not on the host network) of each node, from the capture's host list; built when asked for. */
class PodsOnNode {
  private readonly names = new Map<string, string[]>();
  private readonly built = new Map<string, Netns[]>();

  constructor(
    capture: Capture,
    private readonly hosts: LazyHosts,
  ) {
    for (const h of capture.hosts) {
      if (h.role !== 'pod' || h.node === undefined || h.hostNetwork) continue;
      const list = this.names.get(h.node);
      if (list) list.push(h.name);
      else this.names.set(h.node, [h.name]);
    }
  }

  get(node: string): Netns[] | undefined {
    let list = this.built.get(node);
    if (!list) {
      const names = this.names.get(node);
      if (!names) return undefined;
      list = names.map((n) => this.hosts.get(n)!);
      this.built.set(node, list);
    }
    return list;
  }
}

/**
 * Who owns an address. The first question reads every host's `addrs` text for what looks like an
 * address (and the IPs Kubernetes reports, which a pod without tables is given): a superset of the
 * owners, in capture order. Each answer then builds only those hosts and keeps the interfaces that
 * really hold the address.
 */
class Owners {
  private candidates: Map<string, number[]> | undefined;
  private readonly answers = new Map<string, Owner[]>();

  constructor(
    private readonly capture: Capture,
    private readonly hosts: LazyHosts,
  ) {}

  get(addr: string): Owner[] | undefined {
    const known = this.answers.get(addr);
    if (known) return known.length ? known : undefined;
    this.candidates ??= this.scan();
    const out: Owner[] = [];
    for (const i of this.candidates.get(addr) ?? []) {
      const ns = this.hosts.get(this.capture.hosts[i]!.name);
      if (!ns) continue;
      for (const iface of ns.ifaces.values()) for (const rec of iface.addrs) if (rec.local.toString() === addr) out.push({ ns, iface, rec });
    }
    this.answers.set(addr, out);
    return out.length ? out : undefined;
  }

  private scan(): Map<string, number[]> {
    return candidateIndex(this.capture.hosts, (h) => addressKeys(h.probes?.addrs ?? '', h.ips ?? []));
  }
}


/** The netns a host's packets really use: a hostNetwork pod uses its node's. */
export function netnsOf(net: Network, name: string): Netns | undefined {
  const ns = net.hosts.get(name);
  if (ns && ns.host.role === 'pod' && ns.host.hostNetwork && ns.host.node !== undefined) return net.hosts.get(ns.host.node) ?? ns;
  return ns;
}
