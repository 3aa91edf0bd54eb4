// Everything a flow's verdict needs, built once per `kubernetes` section: the cluster's pods,
// namespaces and nodes by name and address, NetworkPolicies compiled and grouped by namespace (a
// NetworkPolicy only ever selects pods of its own namespace), the admin tier sorted by priority and
// the baseline. Which policies select a pod is worked out the first time a flow touches that pod
// and kept, so a matrix of flows pays for each pod once.
import type { KubeSection } from '../../capture/kubernetes';
import { Cluster, type PodEntry } from './cluster';
import { compileNetworkPolicy, selecting, type CompiledNetworkPolicy } from './networkPolicy';
import { readAdminPolicy, subjectSelects, type TieredPolicy } from './tiered';
import type { Direction, PolicyWarning } from './types';

/** Problems the capture reader found in the lists policy reads: objects it left out. */
const POLICY_LISTS = /^kubernetes\.(networkPolicies|adminNetworkPolicies|baselineAdminNetworkPolicies|pods|namespaces|nodes)\b/;

export class PolicyIndex {
  readonly cluster: Cluster;
  readonly warnings: PolicyWarning[] = [];
  private readonly byNamespace = new Map<string, CompiledNetworkPolicy[]>();
  readonly byKey = new Map<string, CompiledNetworkPolicy>();
  /** Admin tier, lowest priority number first (ties by name, an order the API leaves undefined). */
  readonly admin: TieredPolicy[] = [];
  readonly baseline: TieredPolicy[] = [];
  readonly networkPolicyCount: number;
  private readonly selected = new Map<PodEntry, { ingress?: CompiledNetworkPolicy[]; egress?: CompiledNetworkPolicy[] }>();
  private readonly tiered = new Map<PodEntry, { admin: TieredPolicy[]; baseline: TieredPolicy[] }>();

  constructor(k: KubeSection) {
    const warn = (w: PolicyWarning) => this.warnings.push(w);
    for (const i of k.issues) if (POLICY_LISTS.test(i.path)) warn({ path: i.path, message: i.message });
    this.cluster = new Cluster(k);
    for (const np of k.networkPolicies) {
      const c = compileNetworkPolicy(np, warn);
      if (this.byKey.has(c.key)) {
        warn({ path: c.source, message: `a second NetworkPolicy named ${c.key}; the first one is used` });
        continue;
      }
      this.byKey.set(c.key, c);
      const list = this.byNamespace.get(c.namespace);
      if (list) list.push(c);
      else this.byNamespace.set(c.namespace, [c]);
    }
    this.networkPolicyCount = this.byKey.size;
    k.adminNetworkPolicies.forEach((o, i) => {
      const p = readAdminPolicy(o, 'admin', `kubernetes.adminNetworkPolicies[${i}]`, warn);
      if (p) this.admin.push(p);
    });
    this.admin.sort((a, b) => a.priority! - b.priority! || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    k.baselineAdminNetworkPolicies.forEach((o, i) => {
      const p = readAdminPolicy(o, 'baseline', `kubernetes.baselineAdminNetworkPolicies[${i}]`, warn);
      if (p) this.baseline.push(p);
    });
  }

  /** The NetworkPolicies that select this pod for a direction (those that isolate it). */
  selecting(pod: PodEntry, dir: Direction): CompiledNetworkPolicy[] {
    let s = this.selected.get(pod);
    if (!s) this.selected.set(pod, (s = {}));
    return (s[dir] ??= selecting(this.byNamespace.get(pod.namespace) ?? [], pod, dir));
  }

  /** The admin and baseline policies whose subject is this pod, in evaluation order. */
  tieredFor(pod: PodEntry): { admin: TieredPolicy[]; baseline: TieredPolicy[] } {
    let t = this.tiered.get(pod);
    if (!t) {
      const c = this.cluster;
      this.tiered.set(pod, (t = { admin: this.admin.filter((p) => subjectSelects(p.subject, pod, c)), baseline: this.baseline.filter((p) => subjectSelects(p.subject, pod, c)) }));
    }
    return t;
  }
}

const indexes = new WeakMap<KubeSection, PolicyIndex>();

/** Whether the section holds any policy at all (NetworkPolicy, admin or baseline): without one, policy decides nothing. */
export function hasPolicies(k: KubeSection): boolean {
  return k.networkPolicies.length + k.adminNetworkPolicies.length + k.baselineAdminNetworkPolicies.length > 0;
}

/** The index of a section, built on first use and kept for as long as the section lives. */
export function policyIndexOf(k: KubeSection): PolicyIndex {
  let i = indexes.get(k);
  if (!i) indexes.set(k, (i = new PolicyIndex(k)));
  return i;
}
