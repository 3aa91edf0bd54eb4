// The forwarding state of a whole capture: every namespace parsed and indexed once (netns.ts), pods
// without probes inferred from their nodes (infer.ts), the indexes a trace looks hosts up by, and the
// topology (topology.ts), owned here and computed as it is first needed. A trace is then only lookups.
import type { Capture, Host } from '../capture/document';
import type { AddrRecord } from '../parsers';
import { Addr } from '../net/addr';
import { hasNoInterfaceTables, inferPodNetns } from './infer';
import { buildNetns, type Iface, type Namespaces, type Netns } from './netns';
import { Topology } from './topology';
import { NetfilterAdapter } from './netfilterHooks';
import { serviceIndexOf } from './services';
import { kubernetesOf } from '../capture/document';
import type { NetfilterHooks } from './walk/packet';

// What the shells (the Node Bridges tree, hovers) read of a namespace.
export { neighKey, type Iface, type InferredNetns, type Netns } from './netns';

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
  const hosts = new Map<string, Netns>();
  const podsOnNode = new Map<string, Netns[]>();
  for (const h of capture.hosts) {
    const ns = buildNetns(h);
    hosts.set(h.name, ns);
  }
  for (const ns of hosts.values()) {
    if (hasNoInterfaceTables(ns)) inferPodNetns(ns, ns.host.node !== undefined ? hosts.get(ns.host.node) : undefined);
  }
  for (const ns of hosts.values()) {
    const h = ns.host;
    if (h.role === 'pod' && h.node !== undefined && !h.hostNetwork) {
      const list = podsOnNode.get(h.node) ?? [];
      list.push(ns);
      podsOnNode.set(h.node, list);
    }
  }
  const owners = new Map<string, { ns: Netns; iface: Iface; rec: AddrRecord }[]>();
  for (const ns of hosts.values()) {
    for (const iface of ns.ifaces.values()) {
      for (const rec of iface.addrs) {
        const k = rec.local.toString();
        const list = owners.get(k) ?? [];
        list.push({ ns, iface, rec });
        owners.set(k, list);
      }
    }
  }
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
  const parts: Namespaces = { capture, hosts, podsOnNode, owners };
  const net: Network = { ...parts, pods, reported, topology: new Topology(parts) };
  // Only a capture with rules (or with Services to stand in for a node's missing rules) gets an
  // evaluator: without one every hook point is no stage at all.
  if (NetfilterAdapter.hasRules(hosts.values()) || kubernetesOf(capture).services.length > 0) net.netfilter = new NetfilterAdapter(() => serviceIndexOf(net));
  return net;
}

/** The netns a host's packets really use: a hostNetwork pod uses its node's. */
export function netnsOf(net: Network, name: string): Netns | undefined {
  const ns = net.hosts.get(name);
  if (ns && ns.host.role === 'pod' && ns.host.hostNetwork && ns.host.node !== undefined) return net.hosts.get(ns.host.node) ?? ns;
  return ns;
}
