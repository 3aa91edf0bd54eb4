// Reads a live cluster into a capture, lazily: a trace asks only for the hosts it walks through
// (the source pod, its node, the next node the engine chooses, ...), so tracing in a 5,000-node
// cluster costs the same handful of exec calls as in a 3-node one. Nothing is installed on the
// cluster; a debug pod is created only with the user's consent and is always deleted.
import { API_VERSION, validateCapture, type Capture, type Host } from '../capture/document';
import { PROBE_COMMANDS } from '../capture/probes';
import { buildNetwork, simulate, type TraceOutcome, type TraceRequest } from '../engine';
import type { ProbeName } from '../parsers';
import { KubeError, type ClusterApi, type ExecTarget, type NodeInfo, type PodInfo } from './api';
import { detectCni, type CniInfo } from './cni';
import { asKubectlItem, listDenied, nodeInfoOf, podInfoOf, qualifiedName, RESOURCE_KEYS, RESOURCES, type KubeObject, type ResourceKey } from './objects';
import { judgeAttempt, newMarker, parseScriptOutput, probeRead, probeScriptArgv, type ProbeRead } from './probeScript';

export type NodeAccess = 'host-network-pods' | 'debug-pods' | 'never';

/**
 * How a host's probes are read: `script` runs them all in one exec (probeScript.ts; a container
 * without sh falls back to `per-probe` by itself), `per-probe` makes one exec per command.
 */
export type ExecMode = 'script' | 'per-probe';

export interface CollectorOptions {
  /** How to get into a node's network namespace: reuse hostNetwork pods, also create debug pods, or never. */
  nodeAccess: NodeAccess;
  debugImage: string;
  /** Namespace for debug pods. */
  debugNamespace: string;
  execTimeoutMs: number;
  /** Most exec calls in flight at once. */
  concurrency: number;
  /** How long a host's tables are reused before they are read again. */
  cacheTtlMs: number;
  /** One exec per host (`script`, the default) or one per probe command (benchmarks compare them). */
  execMode: ExecMode;
  now: () => number;
}

export const DEFAULT_OPTIONS: CollectorOptions = {
  nodeAccess: 'host-network-pods',
  debugImage: 'docker.io/nicolaka/netshoot:v0.13',
  debugNamespace: 'default',
  execTimeoutMs: 10_000,
  concurrency: 8,
  cacheTtlMs: 30_000,
  execMode: 'script',
  now: () => Date.now(),
};

/** The label every debug pod carries, so a later run can delete stragglers of a crashed one. */
export const DEBUG_LABEL = 'netpath.dev/debug-pod';
/** Debug pods end themselves after 600 s (activeDeadlineSeconds); older ones are leftovers. */
const STRAGGLER_AGE_MS = 11 * 60 * 1000;

/** What the engine reads; legacy forms (brctl, arp) and iptables only for a full capture. */
const TRACE_PROBES: ProbeName[] = ['links', 'addrs', 'routes4', 'routes6', 'rules4', 'rules6', 'neigh', 'fdb', 'sysctl'];
const FULL_PROBES: ProbeName[] = [...TRACE_PROBES, 'iptables'];
/**
 * The rule sets a node's netfilter hooks run (kube-proxy's Services, FORWARD filtering, masquerade),
 * read on every node a trace needs. `ipvs`, `ipset` and `xt_recent` are read only where they can
 * matter: IPVS only on a node with kube-proxy's `kube-ipvs0` device, ipsets only when a rule matches a
 * set, the `recent` lists only when a rule uses `-m recent`.
 */
const NODE_NETFILTER_PROBES: ProbeName[] = ['iptables', 'ip6tables', 'nft'];
const NETFILTER_PROBES: ReadonlySet<ProbeName> = new Set(['iptables', 'ip6tables', 'nft', 'ipvs', 'ipset', 'xt_recent']);

/** What the API refused or lacks: the collection went on without it. */
export interface ApiNote {
  /** `endpointslices.discovery.k8s.io` */
  resource: string;
  kind: 'forbidden' | 'unavailable';
  message: string;
}

export interface HostReport {
  host: string;
  /** Where the tables were read: `pod kube-system/kube-flannel-ds-x (kube-flannel)`, a debug pod, ... */
  via?: string;
  probes: ProbeName[];
  /** Probes that could not be read, and why. */
  missing: { probe: ProbeName; why: string }[];
  /** Set when nothing could be read from this host. */
  error?: { kind: KubeError['kind'] | 'no-access'; message: string; hint: string };
  /** The host's side is inferred from its node (a pod without tools). */
  inferred?: boolean;
  /** Exec calls made to read this host (the probe script: 1, or 2 with the probes the first ones call for). */
  execCalls?: number;
  /** Why the probes were read one exec per command (the container has no sh, or execMode says so). */
  perProbe?: string;
}

export interface Skeleton {
  at: number;
  capture: Capture;
  cni: CniInfo;
  pods: PodInfo[];
  nodes: NodeInfo[];
  /** Lists left out of the capture's `kubernetes` section, and why. */
  notes: ApiNote[];
}

interface Cached {
  at: number;
  probes: Record<string, string>;
  report: HostReport;
}

class Limiter {
  private active = 0;
  private readonly queue: (() => void)[] = [];
  constructor(private readonly max: number) {}
  async run<T>(f: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((r) => this.queue.push(r));
    this.active++;
    try {
      return await f();
    } finally {
      this.active--;
      this.queue.shift()?.();
    }
  }
}

const PREFERRED_NODE_PODS = /flannel|calico-node|cilium|kube-proxy|canal|weave|kube-router|antrea|ovnkube/;

export class ClusterCollector {
  private readonly opts: CollectorOptions;
  private readonly limiter: Limiter;
  private skeletonCache: Skeleton | undefined;
  private skeletonPending: { hosts: Promise<HostList>; skeleton: Promise<Skeleton> } | undefined;
  private readonly cache = new Map<string, Cached>();
  private readonly debugPods: { namespace: string; name: string }[] = [];
  /** Exec calls made so far (a benchmark and the tests count them). */
  execCalls = 0;
  private swept = false;
  /** Containers (`namespace/pod/container`) the probe script cannot run in, and why: read one exec per probe. */
  private readonly noScript = new Map<string, string>();
  /** Containers known to have no `sh`: their probes' shell forms (sysctl's first) are not tried. */
  private readonly noShell = new Set<string>();

  constructor(
    private readonly api: ClusterApi,
    opts: Partial<CollectorOptions> = {},
  ) {
    this.opts = { ...DEFAULT_OPTIONS, ...opts };
    this.limiter = new Limiter(Math.max(1, this.opts.concurrency));
  }

  /** Forgets every cached table and the cluster's object list. */
  refresh(): void {
    this.cache.clear();
    this.noScript.clear();
    this.noShell.clear();
    this.skeletonCache = undefined;
    this.skeletonPending = undefined;
  }

  /**
   * Nodes and pods from the API, as capture hosts without tables, the CNI in use, and the objects of
   * the capture's `kubernetes` section (Namespaces, Nodes, Pods, Services, EndpointSlices,
   * NetworkPolicies, and AdminNetworkPolicies and BaselineAdminNetworkPolicies where installed). A list the role may not read (or the cluster does not serve) is left out with a
   * note naming the verb and resource to grant; only Nodes and Pods are indispensable.
   */
  async skeleton(signal?: AbortSignal): Promise<Skeleton> {
    return this.startSkeleton(signal).skeleton;
  }

  /**
   * The skeleton, and before it the hosts alone (they need only the Nodes and Pods lists), so that a
   * trace can start reading its first hosts while the other lists (Services, EndpointSlices,
   * NetworkPolicies, DaemonSets, the flannel ConfigMap) are still on their way. Every list is asked
   * for at once. One listing at a time: a caller during it shares it.
   */
  private startSkeleton(signal: AbortSignal | undefined): { hosts: Promise<HostList>; skeleton: Promise<Skeleton> } {
    const s = this.skeletonCache;
    if (s && this.opts.now() - s.at < this.opts.cacheTtlMs) return { hosts: Promise.resolve({ hosts: s.capture.hosts, pods: s.pods, nodes: s.nodes }), skeleton: Promise.resolve(s) };
    if (this.skeletonPending) return this.skeletonPending;
    const notes: ApiNote[] = [];
    const lists = RESOURCE_KEYS.map((k) => this.listResource(k, notes, signal));
    const daemonSets = this.api.listDaemonSets({ signal });
    const flannelConfig = this.api.readConfigMap('kube-system', 'kube-flannel-cfg', { signal });
    const at = (k: ResourceKey) => lists[RESOURCE_KEYS.indexOf(k)]!;
    const hosts = Promise.all([at('nodes'), at('pods')]).then(([n, p]) => hostList((n ?? []).map(nodeInfoOf), (p ?? []).map(podInfoOf)));
    const skeleton = (async (): Promise<Skeleton> => {
      const [items, ds, fc, hl] = await Promise.all([Promise.all(lists), daemonSets, flannelConfig, hosts]);
      const kubernetes: Partial<Record<ResourceKey, KubeObject[]>> = {};
      RESOURCE_KEYS.forEach((k, i) => {
        const list = items[i];
        if (list) kubernetes[k] = list;
      });
      const cni = detectCni({ daemonSets: ds, nodes: hl.nodes, flannelConfig: fc });
      const doc = { apiVersion: API_VERSION, kind: 'Capture', metadata: { cluster: this.api.context, capturedAt: new Date(this.opts.now()).toISOString(), cni }, hosts: hl.hosts, kubernetes };
      const v = validateCapture(doc);
      if (!v.ok) throw new KubeError('server', `the cluster's objects do not make a valid capture: ${v.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, 'Please report this with `kubectl get nodes,pods -A -o wide`.');
      const out: Skeleton = { at: this.opts.now(), capture: v.capture, pods: hl.pods, nodes: hl.nodes, cni, notes };
      this.skeletonCache = out;
      return out;
    })();
    const pending = { hosts, skeleton };
    this.skeletonPending = pending;
    const done = () => {
      if (this.skeletonPending === pending) this.skeletonPending = undefined;
    };
    skeleton.then(done, done);
    // A failed list is reported by whoever awaits the skeleton; the hosts may be awaited alone.
    hosts.catch(() => undefined);
    return pending;
  }

  /** One kind of object, as kubectl prints it; undefined (with a note) when optional and refused or not served. */
  private async listResource(key: ResourceKey, notes: ApiNote[], signal: AbortSignal | undefined): Promise<KubeObject[] | undefined> {
    const r = RESOURCES[key];
    try {
      return (await this.api.listObjects(r, { signal })).map((o) => asKubectlItem(r, o));
    } catch (e) {
      if (!(e instanceof KubeError)) throw e;
      if (e.kind === 'forbidden') {
        const message = listDenied(r, e.message.replace(/^.*?forbidden \(403\): /, ''));
        if (!r.optional) throw new KubeError('forbidden', message, 'netpath needs to list nodes and pods; ask for the permission, or point netpath at a capture instead.', 403);
        notes.push({ resource: qualifiedName(r), kind: 'forbidden', message });
        return undefined;
      }
      if (e.kind === 'not-found' && r.optional) {
        if ('absentIsNormal' in r && r.absentIsNormal) return undefined;
        notes.push({ resource: qualifiedName(r), kind: 'unavailable', message: `the cluster does not serve ${qualifiedName(r)} (${r.group || 'core'}/${r.version}): left out` });
        return undefined;
      }
      throw e;
    }
  }

  /** Reads the tables of the named hosts (in parallel, bounded), from cache when fresh. */
  async collect(hostNames: readonly string[], opts: { signal?: AbortSignal | undefined; full?: boolean } = {}): Promise<HostReport[]> {
    const sk = await this.startSkeleton(opts.signal).hosts;
    return Promise.all(
      hostNames.map(async (name) => {
        const hit = this.cache.get(name);
        if (hit && this.opts.now() - hit.at < this.opts.cacheTtlMs) return hit.report;
        const host = sk.hosts.find((h) => h.name === name);
        if (!host) return { host: name, probes: [], missing: [], error: { kind: 'not-found' as const, message: `${name} is not a node or pod of the cluster`, hint: 'Refresh and pick another.' } };
        const base = opts.full ? FULL_PROBES : TRACE_PROBES;
        const probes = host.role === 'node' ? [...base, ...NODE_NETFILTER_PROBES.filter((p) => !base.includes(p))] : base;
        const got = await this.collectHost(host, sk.pods, probes, opts.signal);
        this.cache.set(name, { at: this.opts.now(), probes: got.probes, report: got.report });
        return got.report;
      }),
    );
  }

  /**
   * The skeleton with every collected host's tables filled in: those still fresh, and those read during
   * the current operation (`session`) however long it has run, so a slow capture loses nothing.
   */
  async currentCapture(signal?: AbortSignal, session?: ReadonlySet<string>): Promise<Capture> {
    const sk = await this.skeleton(signal);
    return {
      ...sk.capture,
      hosts: sk.capture.hosts.map((h) => {
        const c = this.cache.get(h.name);
        const usable = c && (session?.has(h.name) || this.opts.now() - c.at < this.opts.cacheTtlMs);
        return usable && Object.keys(c.probes).length ? { ...h, probes: c.probes } : h;
      }),
    };
  }

  /**
   * Traces lazily: both ends (the source and destination pods and their nodes) first, then whatever
   * hosts the engine says it needs, until it needs nothing more or nothing new can be read.
   */
  async trace(req: TraceRequest, signal?: AbortSignal): Promise<{ outcome: TraceOutcome; reports: HostReport[]; capture: Capture; notes: ApiNote[] }> {
    try {
      return await this.traceLazily(req, signal);
    } finally {
      // Tables are cached; the debug pods that read them are not needed any more.
      await this.dispose();
    }
  }

  /** Before creating debug pods, remove those a crashed earlier run left (older than their 10-minute deadline). */
  private async sweepOnce(signal: AbortSignal | undefined): Promise<void> {
    if (this.opts.nodeAccess !== 'debug-pods' || this.swept) return;
    this.swept = true;
    await this.cleanStragglers(signal, STRAGGLER_AGE_MS).catch(() => undefined);
  }

  private async traceLazily(req: TraceRequest, signal?: AbortSignal): Promise<{ outcome: TraceOutcome; reports: HostReport[]; capture: Capture; notes: ApiNote[] }> {
    await this.sweepOnce(signal);
    // The source and its node are read as soon as the Nodes and Pods lists are in, while the other
    // lists the engine needs are still on their way.
    const listing = this.startSkeleton(signal);
    const { hosts } = await listing.hosts;
    const named = (spec: string) => hosts.find((h) => h.name === spec || (h.role === 'pod' && `${h.namespace}/${h.pod}` === spec) || h.ips?.includes(spec));
    const wanted = new Set<string>();
    // Both ends at once: the source pod and its node, and the destination pod (unless it shares its
    // node's tables) and its node. Nearly every trace walks to the destination, and its node's tables
    // also serve the diagnosis of one that does not; reading them with the source's saves two rounds.
    const [first, last] = [named(req.from), named(req.to)];
    if (first) wanted.add(first.name);
    if (last && !(last.role === 'pod' && last.hostNetwork)) wanted.add(last.name);
    for (const end of [first, last]) if (end?.role === 'pod' && end.node) wanted.add(end.node);
    const tried = new Set<string>();
    const reports: HostReport[] = [];
    let sk: Skeleton | undefined;
    for (let round = 0; round < 12; round++) {
      const todo = [...wanted].filter((h) => !tried.has(h));
      for (const h of todo) tried.add(h);
      if (!sk) {
        // Both settle before either's failure is thrown: no read goes on after the trace has ended.
        const [got, listed] = await Promise.allSettled([this.collect(todo, { signal }), listing.skeleton]);
        if (got.status === 'rejected') throw got.reason;
        if (listed.status === 'rejected') throw listed.reason;
        reports.push(...got.value);
        sk = listed.value;
      } else reports.push(...(await this.collect(todo, { signal })));
      const capture = await this.currentCapture(signal, tried);
      const outcome = simulate(buildNetwork(capture), req);
      if (!outcome.ok) return { outcome, reports, capture, notes: sk.notes };
      let next = outcome.result.needs.filter((h) => !tried.has(h));
      // Nothing more on the path to read: the pods whose tables would settle a guess (which port leads
      // to a pod that could not be read) come last, so a readable pod on the path settles it first.
      if (next.length === 0) next = (outcome.result.settles ?? []).filter((h) => !tried.has(h));
      if (next.length === 0) return { outcome, reports, capture, notes: sk.notes };
      for (const h of next) wanted.add(h);
    }
    const capture = await this.currentCapture(signal, tried);
    return { outcome: simulate(buildNetwork(capture), req), reports, capture, notes: sk?.notes ?? [] };
  }

  /** Every node and pod (for `netpath capture`). */
  async captureAll(signal?: AbortSignal): Promise<{ capture: Capture; reports: HostReport[]; notes: ApiNote[] }> {
    try {
      await this.sweepOnce(signal);
      const sk = await this.skeleton(signal);
      const names = sk.capture.hosts.filter((h) => !(h.role === 'pod' && h.hostNetwork)).map((h) => h.name);
      const reports = await this.collect(names, { signal, full: true });
      return { capture: await this.currentCapture(signal, new Set(names)), reports, notes: sk.notes };
    } finally {
      await this.dispose();
    }
  }

  /** Deletes every debug pod this collector created. Safe to call more than once. */
  async dispose(): Promise<void> {
    const pods = this.debugPods.splice(0);
    await Promise.all(pods.map((p) => this.api.deletePod(p.namespace, p.name).catch(() => undefined)));
  }

  /**
   * Deletes debug pods left by earlier runs that crashed (found by their label). Only those older than
   * `minAgeMs`, so a run going on elsewhere at the same moment keeps its own.
   */
  async cleanStragglers(signal?: AbortSignal, minAgeMs = 0): Promise<string[]> {
    const now = this.opts.now();
    const left = (await this.api.listPods({ signal, labelSelector: `${DEBUG_LABEL}=true` })).filter((p) => minAgeMs === 0 || (p.createdAt !== undefined && now - p.createdAt > minAgeMs));
    await Promise.all(left.map((p) => this.api.deletePod(p.namespace, p.name, { signal }).catch(() => undefined)));
    return left.map((p) => `${p.namespace}/${p.name}`);
  }

  // ---- one host ---------------------------------------------------------------------------------

  private async collectHost(host: Host, pods: PodInfo[], probes: ProbeName[], signal: AbortSignal | undefined): Promise<{ probes: Record<string, string>; report: HostReport }> {
    const report: HostReport = { host: host.name, probes: [], missing: [] };
    const calls = { n: 0 };
    const got = await this.readHost(host, pods, probes, signal, report, calls);
    report.execCalls = calls.n;
    return got;
  }

  private async readHost(host: Host, pods: PodInfo[], probes: ProbeName[], signal: AbortSignal | undefined, report: HostReport, calls: { n: number }): Promise<{ probes: Record<string, string>; report: HostReport }> {
    const targets: { target: ExecTarget; label: string }[] = [];
    if (host.role === 'node') {
      const onNode = pods
        .filter((p) => p.nodeName === host.name && p.hostNetwork && p.phase === 'Running')
        .sort((a, b) => Number(PREFERRED_NODE_PODS.test(b.name)) - Number(PREFERRED_NODE_PODS.test(a.name)) || a.name.localeCompare(b.name));
      if (this.opts.nodeAccess !== 'never') for (const p of onNode) for (const c of p.containers) targets.push({ target: { namespace: p.namespace, pod: p.name, container: c }, label: `pod ${p.namespace}/${p.name} (${c})` });
    } else if (host.role === 'pod' && host.namespace && host.pod) {
      const p = pods.find((x) => x.namespace === host.namespace && x.name === host.pod);
      for (const c of p?.containers ?? []) targets.push({ target: { namespace: host.namespace, pod: host.pod, container: c }, label: `pod ${host.namespace}/${host.pod} (${c})` });
    }
    let lastError: KubeError | undefined;
    // What the probe script read in each container tried, so that looking again there (for /proc's
    // routes when no container has ip) costs no exec.
    const scripted = new Map<string, Map<ProbeName, ProbeRead>>();
    /** `probe` in a container: with the script, every probe at once; else that probe alone. */
    const readFirst = async (target: ExecTarget, probe: ProbeName): Promise<Map<ProbeName, ProbeRead>> => {
      const key = containerKey(target);
      const seen = scripted.get(key);
      if (seen) return seen;
      const all = await this.runScript(target, probes, signal, calls);
      if (all) {
        scripted.set(key, all);
        return all;
      }
      return new Map([[probe, await this.runProbe(target, probe, signal, calls)]]);
    };
    const tryTargets = async (list: { target: ExecTarget; label: string }[], probe: ProbeName = probes[0]!) => {
      for (const t of list) {
        try {
          const reads = await readFirst(t.target, probe);
          const first = reads.get(probe)!;
          if (first.text === undefined) continue; // no tools here: try the next container or pod
          return { t, first, probe, reads };
        } catch (e) {
          if (!(e instanceof KubeError)) throw e;
          lastError = e;
          if (e.kind === 'cancelled' || e.kind === 'unauthorized' || e.kind === 'unreachable') throw e;
          if (e.kind === 'forbidden') return undefined; // RBAC: other pods will be refused too
        }
      }
      return undefined;
    };
    let found = await tryTargets(targets);
    if (!found && host.role === 'node' && this.opts.nodeAccess === 'debug-pods' && lastError?.kind !== 'forbidden') {
      const debug = await this.startDebugPod(host, signal);
      found = await tryTargets([{ target: debug, label: `debug pod ${debug.namespace}/${debug.pod} (${this.opts.debugImage})` }]);
    }
    if (!found && host.role === 'pod' && host.namespace && host.pod && this.opts.nodeAccess === 'debug-pods' && lastError?.kind !== 'forbidden') {
      // The pod's own image has no tools: an ephemeral debug container shares its network namespace.
      const name = `netpath-debug-${Math.random().toString(36).slice(2, 7)}`;
      try {
        await this.api.addEphemeralContainer(host.namespace, host.pod, { name, image: this.opts.debugImage, command: ['sleep', '120'] }, { timeoutMs: this.opts.execTimeoutMs, signal });
        found = await tryTargets([{ target: { namespace: host.namespace, pod: host.pod, container: name }, label: `ephemeral container ${name} in ${host.namespace}/${host.pod} (${this.opts.debugImage})` }]);
      } catch (e) {
        if (!(e instanceof KubeError) || e.kind === 'cancelled') throw e;
        lastError = e;
      }
    }
    if (!found && host.role === 'pod' && lastError?.kind !== 'forbidden') {
      // No ip and no BusyBox in any container: /proc still has the pod's routes and neighbours
      // (`cat`, in Debian-slim images); its interfaces are then inferred from its IP and its node.
      found = await tryTargets(targets, 'routes4');
    }
    if (!found) {
      const noScript = targets.map((t) => this.noScript.get(containerKey(t.target))).find((w) => w !== undefined);
      if (noScript !== undefined && this.opts.execMode === 'script') report.perProbe = noScript;
      report.error = this.noAccess(host, targets.length, lastError);
      if (host.role === 'pod') report.inferred = true;
      return { probes: {}, report };
    }
    report.via = found.t.label;
    const target = found.t.target;
    const perProbe = this.opts.execMode === 'per-probe' ? 'execMode per-probe' : this.noScript.get(containerKey(target));
    if (perProbe !== undefined) report.perProbe = perProbe;
    const out: Record<string, string> = {};
    const record = (probe: ProbeName, r: ProbeRead) => {
      if (r.text !== undefined) {
        out[probe] = r.text;
        report.probes.push(probe);
      } else report.missing.push({ probe, why: r.why ?? 'no command for it worked' });
    };
    record(found.probe, found.first);
    const missingTools = new Set<string>(this.noShell.has(containerKey(target)) ? ['sh'] : []);
    const failed = (e: unknown): ProbeRead => ({ text: undefined, why: e instanceof Error ? e.message : String(e) });
    const read = async (p: ProbeName) => [p, found.reads.get(p) ?? (await this.runProbe(target, p, signal, calls, missingTools).catch(failed))] as const;
    for (const [p, r] of await Promise.all(probes.filter((p) => p !== found.probe).map(read))) record(p, r);
    // Probes that matter only given what the first ones showed: WireGuard's peers where a wireguard
    // device exists; a bridge's VLAN table where it filters VLANs; on a node, kube-proxy IPVS mode's
    // virtual services where kube-ipvs0 exists, the ipsets where a rule matches a set (IPVS mode,
    // Calico), and the `recent` lists where a rule uses
    // them (iptables mode's sessionAffinity ClientIP): which client is pinned to which endpoint.
    const more: ProbeName[] = [];
    if (/\bwireguard\b/.test(out.links ?? '')) more.push('wg');
    // A VLAN-aware bridge (`ip -d link`: `bridge ... vlan_filtering 1`): its VLAN table.
    if (/\bvlan_filtering 1\b/.test(out.links ?? '')) more.push('bridgevlan');
    if (probes.includes('nft')) {
      if (/\bkube-ipvs0\b/.test(out.links ?? '')) more.push('ipvs');
      const rules = `${out.iptables ?? ''}\n${out.ip6tables ?? ''}`;
      if (/(--match-set|-m set)\b/.test(rules)) more.push('ipset');
      if (/-m recent\b/.test(rules)) more.push('xt_recent');
    }
    if (more.length) {
      // The second (and last) exec for this host; one whose stream fails leaves each of its probes out with why.
      const again = await this.runScript(target, more, signal, calls).catch((e: unknown) => new Map(more.map((p) => [p, failed(e)])));
      const readMore = async (p: ProbeName) => [p, again?.get(p) ?? (await this.runProbe(target, p, signal, calls, missingTools).catch(failed))] as const;
      for (const [p, r] of await Promise.all(more.map(readMore))) record(p, r);
    }
    // A netfilter tool the container lacks leaves the probe out; the trace then says what it could not read.
    for (const m of report.missing) if (NETFILTER_PROBES.has(m.probe) && /not found/.test(m.why)) m.why = `${m.why} in ${found.t.label}${this.opts.nodeAccess === 'debug-pods' ? '' : ' (a debug pod with the tool, e.g. netshoot, can read it: allow debug pods)'}`;
    return { probes: out, report };
  }

  private noAccess(host: Host, candidates: number, e: KubeError | undefined): NonNullable<HostReport['error']> {
    if (e && e.kind !== 'missing-binary') return { kind: e.kind, message: e.message, hint: e.hint };
    if (host.role === 'pod') {
      return { kind: 'no-access', message: `no container of ${host.namespace}/${host.pod} has ip or busybox`, hint: `Its side is inferred from ${host.node}'s tables.` };
    }
    if (this.opts.nodeAccess === 'never') return { kind: 'no-access', message: `node access is off, so ${host.name}'s tables were not read`, hint: 'Allow reusing host-network pods (or debug pods) in the settings.' };
    return {
      kind: 'no-access',
      message: candidates ? `none of the ${candidates} host-network containers on ${host.name} has ip or busybox` : `no host-network pod runs on ${host.name}`,
      hint: this.opts.nodeAccess === 'debug-pods' ? 'The debug pod could not be used either; check the debug image.' : 'Allow a short-lived debug pod (--allow-debug-pods or the netpath.nodeAccess setting).',
    };
  }

  /**
   * Reads `probes` in one exec with the probe script. Undefined when this container cannot run it (no
   * sh, no wc, output that is not the script's): that is remembered, and the caller reads the
   * container one exec per probe. Exec failures (RBAC, timeout, a cut stream) throw, as one probe's would.
   */
  private async runScript(target: ExecTarget, probes: readonly ProbeName[], signal: AbortSignal | undefined, calls: { n: number }): Promise<Map<ProbeName, ProbeRead> | undefined> {
    const key = containerKey(target);
    if (this.opts.execMode === 'per-probe' || this.noScript.has(key)) return undefined;
    let r;
    const marker = newMarker();
    try {
      this.execCalls++;
      calls.n++;
      r = await this.limiter.run(() => this.api.exec(target, probeScriptArgv(probes, marker), { timeoutMs: this.opts.execTimeoutMs, signal }));
    } catch (e) {
      if (e instanceof KubeError && e.kind === 'missing-binary') {
        this.noScript.set(key, `no sh in the container: ${e.message}`);
        this.noShell.add(key);
        return undefined;
      }
      throw e;
    }
    const parsed = parseScriptOutput(r.stdoutBytes ?? Buffer.from(r.stdout, 'utf8'), probes, marker);
    if (parsed.kind !== 'ok') {
      const noShell = r.exitCode === 127 || /executable file not found|not found in \$PATH|no such file or directory/i.test(r.stderr);
      const stderr = r.stderr.trim().split('\n')[0] ?? '';
      if (noShell) this.noShell.add(key);
      this.noScript.set(key, noShell ? `no sh in the container${stderr ? `: ${stderr}` : ''}` : `the probe script's output could not be used (${parsed.why}; exit ${r.exitCode}${stderr ? `: ${stderr}` : ''})`);
      return undefined;
    }
    return new Map(probes.map((p) => [p, probeRead(parsed.probes.get(p)!)]));
  }

  /** Runs one probe, one exec per command: the first of its commands that exists wins. `text` undefined: none exists here. */
  private async runProbe(target: ExecTarget, probe: ProbeName, signal: AbortSignal | undefined, calls: { n: number }, missingTools?: Set<string>): Promise<ProbeRead> {
    const whys: string[] = [];
    for (const cmd of PROBE_COMMANDS[probe]) {
      // `ipset save` not found: `ipset list` is not either (one exec saved per missing tool).
      if (missingTools?.has(cmd.argv[0]!)) {
        whys.push(`${cmd.argv[0]}: not found`);
        continue;
      }
      let r;
      try {
        this.execCalls++;
        calls.n++;
        r = await this.limiter.run(() => this.api.exec(target, cmd.argv, { timeoutMs: this.opts.execTimeoutMs, signal }));
      } catch (e) {
        if (e instanceof KubeError && e.kind === 'missing-binary') {
          whys.push(`${cmd.argv[0]}: not found`);
          missingTools?.add(cmd.argv[0]!);
          continue;
        }
        throw e;
      }
      const j = judgeAttempt({ argv: cmd.argv, exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr });
      if ('text' in j) return { text: j.text };
      whys.push(j.why);
      if (j.missingTool) missingTools?.add(cmd.argv[0]!);
    }
    return { text: undefined, why: whys.join('; ') };
  }

  private async startDebugPod(node: Host, signal: AbortSignal | undefined): Promise<ExecTarget> {
    const name = `netpath-debug-${node.name.replace(/[^a-z0-9-]/g, '-').slice(0, 30)}-${Math.random().toString(36).slice(2, 7)}`;
    const ns = this.opts.debugNamespace;
    const manifest = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: ns, labels: { [DEBUG_LABEL]: 'true', 'app.kubernetes.io/managed-by': 'netpath' } },
      spec: {
        nodeName: node.name,
        hostNetwork: true,
        restartPolicy: 'Never',
        // Even if netpath dies before deleting it, the kubelet ends it.
        activeDeadlineSeconds: 600,
        terminationGracePeriodSeconds: 0,
        tolerations: [{ operator: 'Exists' }],
        containers: [{ name: 'netpath', image: this.opts.debugImage, command: ['sleep', '600'], securityContext: { capabilities: { add: ['NET_ADMIN'] } } }],
      },
    };
    await this.api.createPod(ns, manifest, { signal });
    this.debugPods.push({ namespace: ns, name });
    const deadline = this.opts.now() + Math.max(this.opts.execTimeoutMs * 3, 30_000);
    for (;;) {
      const p = await this.api.readPod(ns, name, { signal });
      if (p?.phase === 'Running') break;
      if (p?.phase === 'Failed' || p?.phase === 'Succeeded') throw new KubeError('server', `debug pod ${ns}/${name} ended (${p.phase}) before it could be used`, `Check that the image ${this.opts.debugImage} can be pulled on ${node.name}.`);
      if (this.opts.now() > deadline) throw new KubeError('timeout', `debug pod ${ns}/${name} did not start on ${node.name}`, `Check that the image ${this.opts.debugImage} can be pulled, or choose another debug image.`);
      await new Promise((r) => setTimeout(r, 300));
    }
    return { namespace: ns, pod: name, container: 'netpath' };
  }
}

/** A container, as the no-script cache knows it. */
const containerKey = (t: ExecTarget) => `${t.namespace}/${t.pod}/${t.container ?? ''}`;

/** The hosts of a capture, from the Nodes and Pods lists alone. */
interface HostList {
  hosts: Host[];
  pods: PodInfo[];
  nodes: NodeInfo[];
}

/** Nodes, then the running and pending pods on known nodes, as capture hosts without tables. */
function hostList(nodes: NodeInfo[], pods: PodInfo[]): HostList {
  const names = podHostNames(pods, new Set(nodes.map((n) => n.name)));
  const hosts: Host[] = nodes.map((n) => ({ name: n.name, role: 'node', ips: n.internalIPs, podCIDRs: n.podCIDRs }));
  for (const p of pods) {
    if (!p.nodeName || !nodes.some((n) => n.name === p.nodeName)) continue;
    if (p.phase !== 'Running' && p.phase !== 'Pending') continue;
    hosts.push({ name: names.get(p)!, role: 'pod', node: p.nodeName, namespace: p.namespace, pod: p.name, hostNetwork: p.hostNetwork, ips: p.podIPs });
  }
  return { hosts, pods, nodes };
}

/** Pod host names: the pod's own name when it is unique in the cluster, else `namespace/name`. */
function podHostNames(pods: PodInfo[], nodeNames: Set<string>): Map<PodInfo, string> {
  const count = new Map<string, number>();
  for (const p of pods) count.set(p.name, (count.get(p.name) ?? 0) + 1);
  return new Map(pods.map((p) => [p, count.get(p.name) === 1 && !nodeNames.has(p.name) ? p.name : `${p.namespace}/${p.name}`]));
}
