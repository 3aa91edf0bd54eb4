// The cluster as policy sees it: pods (labels, addresses, named container ports), namespaces (labels,
// with the `kubernetes.io/metadata.name` label the API server sets) and nodes (labels, addresses),
// indexed by name and by address. Built once per `kubernetes` section.
import { namespacedName, nodeIps, type KubeSection } from '../../capture/kubernetes';
import { Addr } from '../../net/addr';
import type { Labels } from './selector';
import type { Protocol } from './types';

export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export interface PodPort {
  name: string;
  port: number;
  proto: Protocol;
}

export interface PodEntry {
  key: string;
  namespace: string;
  name: string;
  labels: Labels;
  ips: Addr[];
  hostNetwork: boolean;
  phase?: string;
  nodeName?: string;
  /** Named container ports (init containers' too: a sidecar declared there listens like any other). */
  ports: PodPort[];
}

export interface NodeEntry {
  name: string;
  labels: Labels;
  ips: Addr[];
}

export class Cluster {
  readonly pods: PodEntry[] = [];
  readonly byKey = new Map<string, PodEntry>();
  private readonly byIp = new Map<string, PodEntry[]>();
  private readonly nodeByIp = new Map<string, NodeEntry>();
  readonly nodes: NodeEntry[] = [];
  private readonly nsLabels = new Map<string, Labels>();
  /** The capture holds a Namespaces list at all (without one, a namespace's only label is its name). */
  readonly hasNamespaces: boolean;

  constructor(k: KubeSection) {
    this.hasNamespaces = k.present.has('namespaces');
    for (const ns of k.namespaces) {
      const labels = { ...ns.metadata.labels };
      // The API server sets this label on every namespace (since 1.21); a manifest may lack it.
      if (!Object.prototype.hasOwnProperty.call(labels, NAMESPACE_NAME_LABEL)) labels[NAMESPACE_NAME_LABEL] = ns.metadata.name;
      this.nsLabels.set(ns.metadata.name, labels);
    }
    for (const n of k.nodes) {
      const entry: NodeEntry = { name: n.metadata.name, labels: n.metadata.labels, ips: nodeIps(n).flatMap((s) => addr(s)) };
      this.nodes.push(entry);
      for (const a of entry.ips) if (!this.nodeByIp.has(a.toString())) this.nodeByIp.set(a.toString(), entry);
    }
    for (const p of k.pods) {
      const ports: PodPort[] = [];
      for (const c of [...p.spec.containers, ...p.spec.initContainers]) for (const cp of c.ports) if (cp.name) ports.push({ name: cp.name, port: cp.containerPort, proto: cp.protocol });
      const entry: PodEntry = {
        key: namespacedName(p),
        namespace: p.metadata.namespace,
        name: p.metadata.name,
        labels: p.metadata.labels,
        ips: p.status.podIPs.flatMap((x) => addr(x.ip)),
        hostNetwork: p.spec.hostNetwork,
        ...(p.status.phase !== undefined ? { phase: p.status.phase } : {}),
        ...(p.spec.nodeName !== undefined ? { nodeName: p.spec.nodeName } : {}),
        ports,
      };
      if (this.byKey.has(entry.key)) continue;
      this.pods.push(entry);
      this.byKey.set(entry.key, entry);
      for (const a of entry.ips) {
        const list = this.byIp.get(a.toString());
        if (list) list.push(entry);
        else this.byIp.set(a.toString(), [entry]);
      }
    }
  }

  /** A namespace's labels: its object's, plus `kubernetes.io/metadata.name`; only that label for a namespace the capture does not list. */
  namespaceLabels(ns: string): Labels {
    let l = this.nsLabels.get(ns);
    if (!l) this.nsLabels.set(ns, (l = { [NAMESPACE_NAME_LABEL]: ns }));
    return l;
  }

  /** Pods with this address: one pod, or the host-network pods of a node (which share its address). */
  podsWithIp(a: Addr): readonly PodEntry[] {
    return this.byIp.get(a.toString()) ?? [];
  }

  nodeWithIp(a: Addr): NodeEntry | undefined {
    return this.nodeByIp.get(a.toString());
  }
}

function addr(s: string): Addr[] {
  const a = Addr.parse(s);
  return a.ok ? [a.value] : [];
}
