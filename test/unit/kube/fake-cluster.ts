// A ClusterApi backed by a capture: the nodes and pods are the capture's hosts, and exec answers
// each probe command with that host's captured output. Faults are injected per pod.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCapture, type Capture, type Host } from '../../../src/capture/document';
import { PROBE_COMMANDS, SYSCTL_SCRIPT } from '../../../src/capture/probes';
import { KubeError, type ClusterApi, type DaemonSetInfo, type ExecOptions, type ExecResult, type ExecTarget, type NodeInfo, type PodInfo, type ResourceType } from '../../../src/kube/api';
import { isProbeName } from '../../../src/parsers';
import { ApiException } from '@kubernetes/client-node';
import { toKubeError } from '../../../src/kube/clientNode';
import { PROBE_SCRIPT } from '../../../src/kube/probeScript';

/**
 * The probe script's framing (probeScript.ts), written the way the script writes it: for the fake's
 * answers to `sh -c PROBE_SCRIPT`. The real script's output is checked against the parser under real
 * shells in probe-script.test.ts.
 */
export function frameAttempts(probes: { probe: string; attempts: ({ missing: true } | { exitCode: number; stdout: string; stderr: string })[] }[], marker: string = TEST_MARKER): string {
  let out = 'netpath-probes 2\n';
  for (const { probe, attempts } of probes) {
    attempts.forEach((a, i) => {
      const tag = `@${marker} ${probe} ${i}`;
      if ('missing' in a) {
        out += `${tag} missing\n`;
        return;
      }
      out += `${a.stdout}\n${tag} exit ${a.exitCode}\n`;
      if (a.exitCode !== 0) out += `${a.stderr}\n${tag} err\n`;
    });
  }
  return `${out}netpath-probes end\n`;
}

/** The marker frameAttempts uses unless told another: what a test's probeScriptArgv/parseScriptOutput pair passes. */
export const TEST_MARKER = '0123456789abcdef0123456789abcdef';

/** The demo capture as a cluster sees it: its nodes and pods (a Kubernetes cluster has no switch or router objects, nor links). */
export function demoCluster(): Capture {
  const r = parseCapture(readFileSync(join(__dirname, '../../../examples/demo-flannel-vxlan.json'), 'utf8'));
  if (!r.ok) throw new Error('demo');
  r.capture.hosts = r.capture.hosts.filter((h) => h.role === 'node' || h.role === 'pod');
  delete r.capture.links;
  return r.capture;
}

export interface Fault {
  /** exec is refused with 403. */
  forbidden?: boolean;
  /** exec never answers (until the caller's timeout). */
  hang?: boolean;
  /** The container has neither ip nor busybox nor net-tools nor procps: only `cat`, as Debian-slim images. */
  noTools?: boolean;
  /** Not even `cat` (a distroless image). */
  noCat?: boolean;
  /** The pod disappears (404) at its first exec. */
  vanish?: boolean;
  /** Executables the container lacks (`ipvsadm`, `nft`, `sh`): their exec fails as a missing binary. */
  missing?: string[];
  /** What reaches the client of the probe script's output (a stream cut short, a shell that misbehaves). */
  scriptOutput?: (stdout: string) => string;
}

export class FakeCluster implements ClusterApi {
  readonly context = 'fake';
  /** Every exec call. */
  readonly execLog: { pod: string; argv: string[] }[] = [];
  /** Every command tried: each exec's argv, and inside the probe script each command; `missing` when the container lacks it. */
  readonly ranLog: { pod: string; argv: string[]; missing?: true }[] = [];
  readonly created: string[] = [];
  readonly deleted: string[] = [];
  readonly faults = new Map<string, Fault>();
  private readonly extraPods: PodInfo[] = [];
  private readonly debugPods = new Map<string, { namespace: string; name: string; node: string; phase: string; createdAt: number }>();
  /** Plural resource names (`endpointslices`) the role may not list: 403 as RBAC answers. */
  readonly deniedLists = new Set<string>();
  /** Plural resource names the cluster does not serve: 404. */
  readonly unservedLists = new Set<string>();
  /** Every list call, by plural resource name. */
  readonly listLog: string[] = [];
  /** The fake's clock, for pod creation times. */
  clock: () => number = () => Date.now();

  constructor(
    readonly capture: Capture,
    /** Nodes with no host-network pod of their own (so only a debug pod gets in). */
    readonly bareNodes: Set<string> = new Set(),
  ) {
    // Like most clusters, it serves the admin policy CRDs only when its section holds such policies.
    const section = (capture as { kubernetes?: Record<string, unknown[]> }).kubernetes ?? {};
    if (!section.adminNetworkPolicies) this.unservedLists.add('adminnetworkpolicies');
    if (!section.baselineAdminNetworkPolicies) this.unservedLists.add('baselineadminnetworkpolicies');
    for (const n of capture.hosts.filter((h) => h.role === 'node')) {
      if (bareNodes.has(n.name)) continue;
      this.extraPods.push({ namespace: 'kube-system', name: `kube-flannel-ds-${n.name}`, nodeName: n.name, hostNetwork: true, phase: 'Running', podIPs: n.ips ?? [], containers: ['kube-flannel'], labels: { app: 'flannel' }, owner: 'DaemonSet/kube-flannel-ds' });
    }
  }

  private host(name: string): Host | undefined {
    return this.capture.hosts.find((h) => h.name === name);
  }

  async listNodes(): Promise<NodeInfo[]> {
    return this.capture.hosts.filter((h) => h.role === 'node').map((h) => ({ name: h.name, internalIPs: h.ips ?? [], podCIDRs: h.podCIDRs ?? [], annotations: { 'flannel.alpha.coreos.com/backend-type': 'vxlan' }, labels: {}, taints: [], ready: true }));
  }

  async listPods(opts?: { nodeName?: string; labelSelector?: string }): Promise<PodInfo[]> {
    const pods: PodInfo[] = this.capture.hosts
      .filter((h) => h.role === 'pod')
      .map((h) => ({ namespace: h.namespace ?? 'default', name: h.pod ?? h.name, nodeName: h.node, hostNetwork: h.hostNetwork === true, phase: 'Running', podIPs: h.ips ?? [], containers: ['app'], labels: {}, owner: undefined }));
    const debug = [...this.debugPods.values()].map((d) => ({ namespace: d.namespace, name: d.name, nodeName: d.node, hostNetwork: true, phase: d.phase, podIPs: [], containers: ['netpath'], labels: { 'netpath.dev/debug-pod': 'true' }, owner: undefined, createdAt: d.createdAt }));
    let all = [...pods, ...this.extraPods, ...debug];
    if (opts?.nodeName) all = all.filter((p) => p.nodeName === opts.nodeName);
    if (opts?.labelSelector === 'netpath.dev/debug-pod=true') all = all.filter((p) => p.labels['netpath.dev/debug-pod'] === 'true');
    return all;
  }

  async listObjects(r: ResourceType): Promise<unknown[]> {
    this.listLog.push(r.plural);
    const q = r.group ? `${r.plural}.${r.group}` : r.plural;
    if (this.deniedLists.has(r.plural)) {
      throw toKubeError(new ApiException(403, 'Forbidden', { kind: 'Status', status: 'Failure', reason: 'Forbidden', code: 403, message: `${q} is forbidden: User "dev" cannot list resource "${r.plural}" in API group "${r.group}" at the cluster scope` }, {}), `list ${q}`);
    }
    if (this.unservedLists.has(r.plural)) throw toKubeError(new ApiException(404, 'Not Found', { kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404, message: 'the server could not find the requested resource' }, {}), `list ${q}`);
    if (r.plural === 'nodes') {
      return (await this.listNodes()).map((n) => ({
        metadata: { name: n.name, annotations: n.annotations, labels: n.labels, managedFields: [{ manager: 'kubelet' }] },
        spec: { podCIDRs: n.podCIDRs, ...(n.podCIDRs[0] ? { podCIDR: n.podCIDRs[0] } : {}) },
        status: { addresses: n.internalIPs.map((address) => ({ type: 'InternalIP', address })), conditions: [{ type: 'Ready', status: 'True' }] },
      }));
    }
    if (r.plural === 'pods') {
      return (await this.listPods()).map((p) => ({
        metadata: { name: p.name, namespace: p.namespace, labels: p.labels, ...(p.createdAt !== undefined ? { creationTimestamp: new Date(p.createdAt).toISOString() } : {}), ...(p.owner ? { ownerReferences: [{ kind: p.owner.split('/')[0], name: p.owner.split('/')[1], controller: true }] } : {}) },
        spec: { ...(p.nodeName ? { nodeName: p.nodeName } : {}), hostNetwork: p.hostNetwork, containers: p.containers.map((name) => ({ name })) },
        status: { phase: p.phase, podIPs: p.podIPs.map((ip) => ({ ip })), ...(p.podIPs[0] ? { podIP: p.podIPs[0] } : {}) },
      }));
    }
    // Everything else from the capture's own `kubernetes` section, as the API would list it.
    const section = (this.capture as { kubernetes?: Record<string, unknown[]> }).kubernetes ?? {};
    return (section[r.key] ?? []).map((o) => {
      const { apiVersion: _a, kind: _k, ...rest } = o as Record<string, unknown>;
      return rest;
    });
  }

  async readPod(namespace: string, name: string): Promise<PodInfo | undefined> {
    return (await this.listPods()).find((p) => p.namespace === namespace && p.name === name);
  }

  async readConfigMap(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    return namespace === 'kube-system' && name === 'kube-flannel-cfg' ? { 'net-conf.json': '{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}' } : undefined;
  }

  async listDaemonSets(): Promise<DaemonSetInfo[]> {
    return [{ namespace: 'kube-system', name: 'kube-flannel-ds', images: ['docker.io/flannel/flannel:v0.26.1'] }];
  }

  /** Pods that got an ephemeral debug container (which has the tools). */
  readonly ephemeral = new Map<string, string>();
  /** When false, the API refuses ephemeral containers (an older cluster or RBAC). */
  ephemeralAllowed = true;

  async addEphemeralContainer(namespace: string, pod: string, container: { name: string }): Promise<void> {
    if (!this.ephemeralAllowed) throw toKubeError(new ApiException(403, 'Forbidden', { message: `pods "${pod}" is forbidden: cannot update resource "pods/ephemeralcontainers"` }, {}), 'add debug container');
    this.ephemeral.set(`${namespace}/${pod}`, container.name);
  }

  async createPod(namespace: string, manifest: Record<string, unknown>): Promise<void> {
    const meta = manifest.metadata as { name: string };
    const spec = manifest.spec as { nodeName: string };
    this.created.push(`${namespace}/${meta.name}`);
    this.debugPods.set(`${namespace}/${meta.name}`, { namespace, name: meta.name, node: spec.nodeName, phase: 'Running', createdAt: this.clock() });
  }

  async deletePod(namespace: string, name: string): Promise<void> {
    this.deleted.push(`${namespace}/${name}`);
    this.debugPods.delete(`${namespace}/${name}`);
  }

  get leftoverDebugPods(): string[] {
    return [...this.debugPods.keys()];
  }

  async exec(target: ExecTarget, argv: readonly string[], opts: ExecOptions): Promise<ExecResult> {
    const key = `${target.namespace}/${target.pod}`;
    this.execLog.push({ pod: key, argv: [...argv] });
    const fault = this.faults.get(key) ?? {};
    const what = `exec ${argv.join(' ')} in ${key}`;
    if (fault.forbidden) throw toKubeError(new ApiException(403, 'Forbidden', { kind: 'Status', status: 'Failure', reason: 'Forbidden', code: 403, message: `pods "${target.pod}" is forbidden: User "dev" cannot create resource "pods/exec" in API group "" in the namespace "${target.namespace}"` }, {}), what);
    if (fault.vanish) throw toKubeError(new ApiException(404, 'Not Found', { kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404, message: `pods "${target.pod}" not found` }, {}), what);
    if (fault.hang) {
      await new Promise((_, reject) => {
        const t = setTimeout(() => reject(new KubeError('timeout', `exec in ${key}: no answer within ${opts.timeoutMs} ms`, 'Raise the timeout.')), opts.timeoutMs);
        opts.signal?.addEventListener('abort', () => {
          clearTimeout(t);
          reject(new KubeError('cancelled', 'cancelled', 'Run it again.'));
        });
      });
    }
    const inDebugContainer = this.ephemeral.get(key) === target.container;
    const has = (cmd: string) => inDebugContainer || (!fault.missing?.includes(cmd) && (!fault.noTools || (cmd === 'cat' && !fault.noCat) || (cmd === 'sh' && !fault.noCat)));
    // sysctl's first form is a shell running sysctl: without sysctl the shell says so, as dash does.
    const shellLacks = (argv: readonly string[]): ExecResult | undefined => (argv[0] === 'sh' && argv[2] === SYSCTL_SCRIPT && !has('sysctl') ? { stdout: '', stderr: 'sh: 1: exec: sysctl: not found\n', exitCode: 127 } : undefined);
    if (argv[0] === 'sh' && argv[1] === '-c' && argv[2] === PROBE_SCRIPT) {
      // A shell runs the script: the same tools, the fallbacks tried in order until one exits 0.
      if (!has('sh')) {
        this.ranLog.push({ pod: key, argv: [...argv], missing: true });
        throw new KubeError('missing-binary', `exec: "sh": executable file not found in $PATH`, 'try another');
      }
      const host = this.hostSeenBy(target);
      const framed = argv.slice(5).map((probe) => {
        const attempts: ({ missing: true } | ExecResult)[] = [];
        for (const c of isProbeName(probe) ? PROBE_COMMANDS[probe] : []) {
          if (!has(c.argv[0]!)) {
            this.ranLog.push({ pod: key, argv: [...c.argv], missing: true });
            attempts.push({ missing: true });
            continue;
          }
          this.ranLog.push({ pod: key, argv: [...c.argv] });
          const r = shellLacks(c.argv) ?? this.answer(host, c.argv);
          attempts.push(r);
          if (r.exitCode === 0) break;
        }
        return { probe, attempts };
      });
      const stdout = frameAttempts(framed, argv[4]);
      return { stdout: fault.scriptOutput ? fault.scriptOutput(stdout) : stdout, stderr: '', exitCode: 0 };
    }
    if (!has(argv[0]!)) {
      this.ranLog.push({ pod: key, argv: [...argv], missing: true });
      throw new KubeError('missing-binary', `exec: "${argv[0]}": executable file not found in $PATH`, 'try another');
    }
    this.ranLog.push({ pod: key, argv: [...argv] });
    return shellLacks(argv) ?? this.answer(this.hostSeenBy(target), argv);
  }

  /** Which host's tables a container sees. */
  private hostSeenBy(target: ExecTarget): Host {
    const key = `${target.namespace}/${target.pod}`;
    const debug = this.debugPods.get(key);
    const extra = this.extraPods.find((p) => p.namespace === target.namespace && p.name === target.pod);
    const podHost = this.capture.hosts.find((h) => h.role === 'pod' && h.namespace === target.namespace && (h.pod ?? h.name) === target.pod);
    const hostName = debug?.node ?? extra?.nodeName ?? (podHost?.hostNetwork ? podHost.node : podHost?.name);
    const host = hostName ? this.host(hostName) : undefined;
    if (!host) throw new KubeError('not-found', `pods "${target.pod}" not found`, 'Refresh.', 404);
    return host;
  }

  /** A probe command's answer: the host's captured text, or "not found" when the capture lacks it. */
  private answer(host: Host, argv: readonly string[]): ExecResult {
    for (const [probe, cmds] of Object.entries(PROBE_COMMANDS)) {
      if (!isProbeName(probe) || !cmds.some((c) => c.argv.join(' ') === argv.join(' '))) continue;
      const text = host.probes?.[probe];
      if (text === undefined) return { stdout: '', stderr: `${argv[0]}: not found`, exitCode: 127 };
      return { stdout: text, stderr: '', exitCode: 0 };
    }
    return { stdout: '', stderr: `${argv[0]}: unexpected command in the fake`, exitCode: 2 };
  }
}
