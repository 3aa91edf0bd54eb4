// What the lab API server knows: Kubernetes objects derived from a lab's BuiltCluster (nodes with
// their podCIDRs and flannel annotations, the lab's pods, the host-network pods of the node agents,
// the flannel and kube-proxy config maps and daemon sets, the default services), plus the pods
// clients create (debug pods) and the record of what they created and deleted.
//
// Every derived value (uids, name suffixes, container ids) comes from a hash of the object's name,
// so the same lab gives the same objects on every run.
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import type { BuiltCluster, LabHost } from '../topology';
import type { Container, ContainerStatus, KubeObject, Node, ObjectMeta, Pod } from './objects';
import { RESOURCES, type ResourceDef } from './resources';
import { alreadyExists, badRequest, invalid, notFound, StatusError, unsupportedMediaType, type ResourceName } from './status';

/** Debian's default PATH, as most images set it. */
export const DEFAULT_CONTAINER_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** How a container runtime reports an exec of a command the image does not have. */
export type MissingBinaryMode =
  /** The runtime's error on stderr and exit code 127 (Docker's convention for "command not found"). */
  | 'exit-127'
  /** containerd's way: no exit code, an InternalError Status on the status channel. */
  | 'internal-error';

/**
 * What an image provides. The lab runs commands with the machine's own binaries; an image narrows
 * that down, so a test can have a container that lacks `ip`.
 */
export interface ImageSpec {
  /** The container's PATH (default DEFAULT_CONTAINER_PATH). */
  path?: string;
  /** Executables (by name, e.g. `ip`) the image does not have although the lab machine does. */
  lacks?: string[];
  /** How a missing executable is reported (default exit-127). */
  missing?: MissingBinaryMode;
  /** Extra environment variables of the image. */
  env?: Record<string, string>;
}

export interface PodRecord {
  namespace: string;
  name: string;
  uid: string;
  /** ms since the epoch */
  at: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ModelEvent {
  type: WatchEventType;
  def: ResourceDef;
  object: KubeObject;
}

export interface ModelOptions {
  /** The minor version the nodes' kubelets report (the server reports the same). */
  minor: number;
  /** PEM of the cluster CA (kube-root-ca.crt). */
  caPem: string;
  /** Create the `kubernetes` and `kube-dns` services with their endpoints (default true). */
  services?: boolean;
}

/** Where an exec runs: the lab host whose network namespace the container shares. */
export interface ExecTarget {
  pod: Pod;
  container: Container;
  /** The lab host (a pod's own namespace, or the node's for hostNetwork pods); undefined: not running. */
  labHost: string | undefined;
}

const POD: ResourceName = { group: '', plural: 'pods' };
const NAMESPACE: ResourceName = { group: '', plural: 'namespaces' };
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

const hash = (text: string) => createHash('sha256').update(text).digest('hex');
/** A stable RFC 4122-shaped uid for an object. */
export function stableUid(key: string): string {
  const h = hash(`uid/${key}`);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
/** A 5-character name suffix as Kubernetes' generators make them (no vowels, no 0/1/3). */
export function stableSuffix(key: string, length = 5): string {
  const h = createHash('sha256').update(`suffix/${key}`).digest();
  let out = '';
  for (let i = 0; i < length; i++) out += SUFFIX_ALPHABET[h[i]! % SUFFIX_ALPHABET.length];
  return out;
}
function randomSuffix(): string {
  return [...randomBytes(5)].map((b) => SUFFIX_ALPHABET[b % SUFFIX_ALPHABET.length]).join('');
}

function osImage(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (m) return m[1]!;
  } catch {
    // No os-release: say what a typical node says.
  }
  return 'Linux';
}

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' };

/** Labels, container and image of a lab pod, from its name (the names follow the controllers' patterns). */
function labPodIdentity(name: string): { labels: Record<string, string>; container: string; image: string } {
  const images: Record<string, string> = {
    coredns: 'registry.k8s.io/coredns/coredns:v1.11.3',
    nginx: 'docker.io/library/nginx:1.27.3',
    web: 'docker.io/library/nginx:1.27.3',
    prometheus: 'quay.io/prometheus/prometheus:v2.55.1',
  };
  let m = /^(.+)-([a-z0-9]{6,10})-([a-z0-9]{5})$/.exec(name);
  if (m) {
    const base = m[1]!;
    const labels: Record<string, string> = base === 'coredns' ? { 'k8s-app': 'kube-dns' } : { app: base };
    labels['pod-template-hash'] = m[2]!;
    return { labels, container: base, image: images[base] ?? `docker.io/library/${base}:latest` };
  }
  m = /^(.+)-(\d+)$/.exec(name);
  if (m) {
    const base = m[1]!;
    return { labels: { app: base, 'apps.kubernetes.io/pod-index': m[2]!, 'statefulset.kubernetes.io/pod-name': name }, container: base, image: images[base] ?? `docker.io/library/${base}:latest` };
  }
  return { labels: { app: name }, container: name, image: images[name] ?? `docker.io/library/${name}:latest` };
}

const key = (ns: string | undefined, name: string) => (ns ? `${ns}/${name}` : name);
const defKey = (def: ResourceDef) => `${def.group}/${def.plural}`;

function mustDef(group: string, plural: string): ResourceDef {
  const d = RESOURCES.find((r) => r.group === group && r.plural === plural);
  if (!d) throw new Error(`no resource ${group}/${plural}`);
  return d;
}

const PODS = mustDef('', 'pods');

/** The cluster's objects. Emits `event` (ModelEvent) on every change, for watches. */
export class ClusterModel extends EventEmitter {
  private readonly store = new Map<string, Map<string, KubeObject>>();
  private rv = 1000;
  private readonly started = Date.now();
  /** Pods clients created, and pods deleted (by clients or by a test), in order. */
  readonly created: PodRecord[] = [];
  readonly deleted: PodRecord[] = [];
  /** Images by reference; an image not listed has everything the lab machine has. */
  readonly images = new Map<string, ImageSpec>();
  private readonly labHosts = new Map<string, string>();
  readonly kubeletVersion: string;

  constructor(
    readonly built: BuiltCluster,
    private readonly opts: ModelOptions,
  ) {
    super();
    this.kubeletVersion = `v1.${opts.minor}.4`;
    this.populate();
  }

  /** The lab's node names. */
  nodeNames(): string[] {
    return this.built.hosts.filter((h) => h.role === 'node').map((h) => h.name);
  }

  /** Back to the objects derived from the lab: created pods go, deleted lab pods come back, records are cleared. */
  reset(): void {
    for (const m of this.store.values()) m.clear();
    this.labHosts.clear();
    this.created.length = 0;
    this.deleted.length = 0;
    this.images.clear();
    this.populate();
  }

  /** Pods clients created and nobody deleted. */
  leftoverPods(): PodRecord[] {
    return this.created.filter((c) => !this.deleted.some((d) => d.uid === c.uid));
  }

  resourceVersion(): string {
    return String(this.rv);
  }

  list(def: ResourceDef, namespace?: string): KubeObject[] {
    const all = [...(this.store.get(defKey(def))?.values() ?? [])];
    return all
      .filter((o) => namespace === undefined || o.metadata.namespace === namespace)
      .sort((a, b) => (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') || a.metadata.name.localeCompare(b.metadata.name));
  }

  get(def: ResourceDef, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.store.get(defKey(def))?.get(key(def.namespaced ? namespace : undefined, name));
  }

  getPod(namespace: string, name: string): Pod | undefined {
    return this.get(PODS, namespace, name) as Pod | undefined;
  }

  namespaceExists(ns: string): boolean {
    return this.get(mustDef('', 'namespaces'), undefined, ns) !== undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // Pods: create, delete, ephemeral containers

  /** POST /api/v1/namespaces/NS/pods. Throws a StatusError as the apiserver would answer. */
  createPod(namespace: string, body: unknown): Pod {
    if (body === null || typeof body !== 'object') throw new StatusError(badRequest('the body of the request is not a Pod'));
    const input = structuredClone(body) as { kind?: unknown; metadata?: Partial<ObjectMeta>; spec?: Partial<Pod['spec']> };
    if (input.kind !== undefined && input.kind !== 'Pod') throw new StatusError(badRequest(`the kind of the body is ${String(input.kind)}, not Pod`));
    const meta: Partial<ObjectMeta> = input.metadata ?? {};
    if (meta.namespace !== undefined && meta.namespace !== namespace) throw new StatusError(badRequest('the namespace of the provided object does not match the namespace sent on the request'));
    let name = meta.name ?? '';
    if (!name && meta.generateName) name = `${meta.generateName}${randomSuffix()}`;
    const problems: { field: string; message: string }[] = [];
    if (!name) problems.push({ field: 'metadata.name', message: 'Required value: name or generateName is required' });
    else if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name)) problems.push({ field: 'metadata.name', message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character` });
    const containers = Array.isArray(input.spec?.containers) ? input.spec.containers : [];
    if (containers.length === 0) problems.push({ field: 'spec.containers', message: 'Required value' });
    containers.forEach((c, i) => {
      if (!c || typeof c.name !== 'string' || !c.name) problems.push({ field: `spec.containers[${i}].name`, message: 'Required value' });
      if (!c || typeof c.image !== 'string' || !c.image) problems.push({ field: `spec.containers[${i}].image`, message: 'Required value' });
    });
    if (problems.length) throw new StatusError(invalid('Pod', name, problems));
    if (!this.namespaceExists(namespace)) throw new StatusError(notFound(NAMESPACE, namespace));
    if (this.getPod(namespace, name)) throw new StatusError(alreadyExists(POD, name));

    const uid = stableUid(`${namespace}/${name}/${randomBytes(8).toString('hex')}`);
    const spec: Pod['spec'] = {
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default',
      serviceAccount: 'default',
      schedulerName: 'default-scheduler',
      enableServiceLinks: true,
      priority: 0,
      ...input.spec,
      containers,
    };
    // The scheduler's part: a pinned node, a hostname node selector, or else the first node.
    const nodes = this.nodeNames();
    if (!spec.nodeName) {
      const wanted = spec.nodeSelector?.['kubernetes.io/hostname'];
      const target = wanted !== undefined ? nodes.find((n) => n === wanted) : nodes[0];
      if (target) spec.nodeName = target;
    }
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { ...meta, name, namespace, uid, resourceVersion: '', creationTimestamp: new Date().toISOString() } as ObjectMeta,
      spec,
      status: { phase: 'Pending' },
    };
    delete (pod.metadata as Partial<ObjectMeta>).deletionTimestamp;
    this.startPod(pod);
    this.put(PODS, pod, 'ADDED');
    this.created.push({ namespace, name, uid, at: Date.now() });
    return pod;
  }

  /** DELETE: the pod goes at once (no kubelet to wait for); returns it with its deletion timestamp. */
  deletePod(namespace: string, name: string, gracePeriodSeconds?: number): Pod {
    const pod = this.getPod(namespace, name);
    if (!pod) throw new StatusError(notFound(POD, name));
    this.store.get(defKey(PODS))!.delete(key(namespace, name));
    this.labHosts.delete(key(namespace, name));
    const grace = gracePeriodSeconds ?? (typeof pod.spec.terminationGracePeriodSeconds === 'number' ? pod.spec.terminationGracePeriodSeconds : 30);
    const gone: Pod = { ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date(Date.now() + grace * 1000).toISOString().replace(/\.\d+Z$/, 'Z'), deletionGracePeriodSeconds: grace, resourceVersion: String(++this.rv) } };
    this.deleted.push({ namespace, name, uid: pod.metadata.uid, at: Date.now() });
    this.emit('event', { type: 'DELETED', def: PODS, object: gone } satisfies ModelEvent);
    return gone;
  }

  /**
   * PATCH pods/NAME/ephemeralcontainers (what `kubectl debug` sends): JSON patch, merge patch or
   * strategic merge patch of spec.ephemeralContainers. Ephemeral containers can only be added.
   */
  patchEphemeralContainers(namespace: string, name: string, contentType: string, body: unknown): Pod {
    const pod = this.getPod(namespace, name);
    if (!pod) throw new StatusError(notFound(POD, name));
    const before = pod.spec.ephemeralContainers ?? [];
    let after: unknown;
    const type = contentType.split(';')[0]!.trim();
    if (type === 'application/json-patch+json') {
      after = applyJsonPatch({ spec: { ephemeralContainers: structuredClone(before) } }, body).spec.ephemeralContainers;
    } else if (type === 'application/merge-patch+json' || type === 'application/strategic-merge-patch+json') {
      const patch = ((body as { spec?: { ephemeralContainers?: unknown } } | null)?.spec ?? {}).ephemeralContainers;
      if (patch === undefined) after = before;
      else if (!Array.isArray(patch)) throw new StatusError(badRequest('spec.ephemeralContainers must be a list'));
      else if (type === 'application/merge-patch+json') after = patch;
      else {
        // Strategic merge: the list merges by name.
        const merged = structuredClone(before) as Container[];
        for (const c of patch as Container[]) {
          const i = merged.findIndex((m) => m.name === c?.name);
          if (i >= 0) merged[i] = { ...merged[i]!, ...c };
          else merged.push(c);
        }
        after = merged;
      }
    } else if (type === 'application/json') {
      after = (body as Pod | null)?.spec?.ephemeralContainers ?? before;
    } else throw new StatusError(unsupportedMediaType(contentType));
    if (!Array.isArray(after)) throw new StatusError(badRequest('spec.ephemeralContainers must be a list'));
    const list = after as Container[];
    const problems: { field: string; message: string }[] = [];
    list.forEach((c, i) => {
      if (!c || typeof c.name !== 'string' || !c.name) problems.push({ field: `spec.ephemeralContainers[${i}].name`, message: 'Required value' });
      if (!c || typeof c.image !== 'string' || !c.image) problems.push({ field: `spec.ephemeralContainers[${i}].image`, message: 'Required value' });
      else if (pod.spec.containers.some((x) => x.name === c.name)) problems.push({ field: `spec.ephemeralContainers[${i}].name`, message: `Duplicate value: "${c.name}"` });
    });
    before.forEach((b, i) => {
      const now = list.find((c) => c?.name === b.name);
      if (!now || JSON.stringify(now) !== JSON.stringify(b)) problems.push({ field: `spec.ephemeralContainers[${i}]`, message: 'Forbidden: existing ephemeral containers may not be removed or changed' });
    });
    if (problems.length) throw new StatusError(invalid('Pod', name, problems));
    const next: Pod = structuredClone(pod);
    next.spec.ephemeralContainers = list;
    const running = next.status.phase === 'Running';
    next.status.ephemeralContainerStatuses = list.map((c) => this.containerStatus(next, c, running));
    this.put(PODS, next, 'MODIFIED');
    return next;
  }

  /** Where an exec into NS/NAME (container C) runs, or the StatusError the apiserver/kubelet gives. */
  execTarget(namespace: string, name: string, container: string | undefined): ExecTarget {
    const pod = this.getPod(namespace, name);
    if (!pod) throw new StatusError(notFound(POD, name));
    let c: Container | undefined;
    if (!container) {
      const wanted = pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'];
      if (pod.spec.containers.length === 1) c = pod.spec.containers[0];
      else if (wanted) c = pod.spec.containers.find((x) => x.name === wanted);
      if (!c) throw new StatusError(badRequest(`a container name must be specified for pod ${name}, choose one of: [${pod.spec.containers.map((x) => x.name).join(' ')}]`));
    } else {
      c = [...pod.spec.containers, ...(pod.spec.ephemeralContainers ?? []), ...(pod.spec.initContainers ?? [])].find((x) => x.name === container);
      if (!c) throw new StatusError(badRequest(`container ${container} is not valid for pod ${name}`));
    }
    if (!pod.spec.nodeName) throw new StatusError(badRequest(`pod ${name} does not have a host assigned`));
    const running = [...(pod.status.containerStatuses ?? []), ...(pod.status.ephemeralContainerStatuses ?? [])].some((s) => s.name === c.name && s.state.running);
    const labHost = running ? this.labHosts.get(key(namespace, name)) : undefined;
    return { pod, container: c, labHost };
  }

  imageOf(container: Container): ImageSpec {
    return this.images.get(container.image) ?? {};
  }

  // ---------------------------------------------------------------------------------------------
  // Building the objects

  private put(def: ResourceDef, obj: KubeObject, type: WatchEventType): void {
    let m = this.store.get(defKey(def));
    if (!m) this.store.set(defKey(def), (m = new Map()));
    obj.metadata.resourceVersion = String(++this.rv);
    m.set(key(def.namespaced ? obj.metadata.namespace : undefined, obj.metadata.name), obj);
    this.emit('event', { type, def, object: obj } satisfies ModelEvent);
  }

  private meta(group: string, plural: string, namespace: string | undefined, name: string, extra: Partial<ObjectMeta> = {}): ObjectMeta {
    return {
      name,
      ...(namespace !== undefined ? { namespace } : {}),
      uid: stableUid(`${group}/${plural}/${key(namespace, name)}`),
      resourceVersion: '',
      creationTimestamp: new Date(this.started).toISOString().replace(/\.\d+Z$/, 'Z'),
      ...extra,
    };
  }

  private add(group: string, plural: string, obj: Omit<KubeObject, 'apiVersion' | 'kind'>): void {
    const def = mustDef(group, plural);
    this.put(def, { apiVersion: group ? `${group}/${def.version}` : def.version, kind: def.kind, ...obj } as KubeObject, 'ADDED');
  }

  private containerStatus(pod: Pod, c: Container, running: boolean): ContainerStatus {
    const id = hash(`container/${pod.metadata.uid}/${c.name}`);
    const image = c.image.includes('/') ? c.image : `docker.io/library/${c.image}`;
    return {
      name: c.name,
      image,
      imageID: `${image.replace(/:[^/:]*$/, '')}@sha256:${hash(`image/${c.image}`)}`,
      ...(running ? { containerID: `containerd://${id}` } : {}),
      ready: running,
      started: running,
      restartCount: 0,
      state: running ? { running: { startedAt: pod.metadata.creationTimestamp } } : { waiting: { reason: 'ContainerCreating' } },
    };
  }

  /**
   * The kubelet's part: a pod on a lab node runs if the lab has a network namespace for it (a lab
   * pod) or it uses the node's (hostNetwork); any other pod stays ContainerCreating.
   */
  private startPod(pod: Pod, labHost?: string): void {
    const node = this.built.hosts.find((h) => h.role === 'node' && h.name === pod.spec.nodeName);
    const host = pod.spec.hostNetwork ? node?.name : labHost;
    const k = key(pod.metadata.namespace, pod.metadata.name);
    if (host) this.labHosts.set(k, host);
    const running = node !== undefined && host !== undefined;
    const created = pod.metadata.creationTimestamp;
    const ips = pod.spec.hostNetwork ? (node?.ips ?? []) : (this.built.hosts.find((h) => h.name === labHost)?.ips ?? []);
    pod.status = {
      phase: running ? 'Running' : 'Pending',
      conditions: [
        { type: 'PodReadyToStartContainers', status: running ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: created },
        { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: created },
        { type: 'Ready', status: running ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: created },
        { type: 'ContainersReady', status: running ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: created },
        { type: 'PodScheduled', status: pod.spec.nodeName ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: created },
      ],
      ...(node?.ips?.[0] ? { hostIP: node.ips[0], hostIPs: node.ips.map((ip) => ({ ip })) } : {}),
      ...(running && ips[0] ? { podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) } : {}),
      ...(pod.spec.nodeName ? { startTime: created } : {}),
      containerStatuses: pod.spec.containers.map((c) => this.containerStatus(pod, c, running)),
      qosClass: 'BestEffort',
    };
    if (pod.spec.ephemeralContainers?.length) pod.status.ephemeralContainerStatuses = pod.spec.ephemeralContainers.map((c) => this.containerStatus(pod, c, running));
  }

  private populate(): void {
    const { built, opts } = this;
    const nodes = built.hosts.filter((h) => h.role === 'node');
    const labPods = built.hosts.filter((h) => h.role === 'pod');
    const network = built.spec.cni.network;
    const flannel = built.spec.cni.kind === 'flannel-vxlan' || built.spec.cni.kind === 'flannel-host-gw';

    // Namespaces: the usual four and every namespace a lab pod uses.
    const namespaces = [...new Set(['default', 'kube-node-lease', 'kube-public', 'kube-system', ...labPods.map((p) => p.namespace ?? 'default')])].sort();
    for (const ns of namespaces) {
      this.add('', 'namespaces', { metadata: this.meta('', 'namespaces', undefined, ns, { labels: { 'kubernetes.io/metadata.name': ns } }), spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
      this.add('', 'configmaps', { metadata: this.meta('', 'configmaps', ns, 'kube-root-ca.crt', { annotations: { 'kubernetes.io/description': 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.' } }), data: { 'ca.crt': opts.caPem } });
    }

    nodes.forEach((h, i) => this.add('', 'nodes', this.nodeObject(h, i === 0)));

    for (const h of labPods) {
      const id = labPodIdentity(h.pod ?? h.name);
      const pod: Pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: this.meta('', 'pods', h.namespace ?? 'default', h.pod ?? h.name, { labels: id.labels }),
        spec: this.podSpec(h.node, [{ name: id.container, image: id.image }], false),
        status: { phase: 'Pending' },
      };
      this.startPod(pod, h.name);
      this.add('', 'pods', pod);
    }

    // The node agents: one host-network pod per node and daemon set.
    const agents: { ds: string; labels: Record<string, string>; container: string; image: string; when: boolean }[] = [
      { ds: 'kube-flannel-ds', labels: { app: 'flannel', 'k8s-app': 'flannel', tier: 'node' }, container: 'kube-flannel', image: 'docker.io/flannel/flannel:v0.26.1', when: flannel },
      { ds: 'kube-proxy', labels: { 'k8s-app': 'kube-proxy' }, container: 'kube-proxy', image: `registry.k8s.io/kube-proxy:${this.kubeletVersion}`, when: true },
    ];
    for (const a of agents.filter((x) => x.when)) {
      const dsMeta = this.meta('apps', 'daemonsets', 'kube-system', a.ds, { labels: a.labels, annotations: { 'deprecated.daemonset.template.generation': '1' }, generation: 1 });
      const revision = stableSuffix(`${a.ds}/revision`, 10).replace(/[^a-z0-9]/g, '');
      const template = { metadata: { labels: a.labels }, spec: { hostNetwork: true, priorityClassName: 'system-node-critical', serviceAccountName: a.ds === 'kube-proxy' ? 'kube-proxy' : 'flannel', tolerations: [{ operator: 'Exists', effect: 'NoSchedule' }], nodeSelector: { 'kubernetes.io/os': 'linux' }, containers: [{ name: a.container, image: a.image, securityContext: { privileged: a.ds === 'kube-proxy', capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } } }] } };
      this.add('apps', 'daemonsets', {
        metadata: dsMeta,
        spec: { selector: { matchLabels: a.labels }, template, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } }, revisionHistoryLimit: 10 },
        status: { currentNumberScheduled: nodes.length, numberMisscheduled: 0, desiredNumberScheduled: nodes.length, numberReady: nodes.length, observedGeneration: 1, updatedNumberScheduled: nodes.length, numberAvailable: nodes.length },
      });
      for (const n of nodes) {
        const name = `${a.ds}-${stableSuffix(`${a.ds}/${n.name}`)}`;
        const pod: Pod = {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: this.meta('', 'pods', 'kube-system', name, {
            generateName: `${a.ds}-`,
            labels: { ...a.labels, 'controller-revision-hash': revision, 'pod-template-generation': '1' },
            ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: a.ds, uid: dsMeta.uid, controller: true, blockOwnerDeletion: true }],
          }),
          spec: { ...this.podSpec(n.name, [{ name: a.container, image: a.image }], true), ...template.spec, containers: template.spec.containers },
          status: { phase: 'Pending' },
        };
        this.startPod(pod);
        this.add('', 'pods', pod);
      }
    }

    // Configuration the agents read.
    if (flannel) {
      const backend: Record<string, unknown> = { Type: built.spec.cni.kind === 'flannel-vxlan' ? 'vxlan' : 'host-gw' };
      const cni = built.spec.cni as { vni?: number; port?: number; network6?: string };
      if (cni.vni !== undefined) backend.VNI = cni.vni;
      if (cni.port !== undefined) backend.Port = cni.port;
      const netConf = { Network: network, ...(cni.network6 ? { EnableIPv6: true, IPv6Network: cni.network6 } : {}), Backend: backend };
      const cniConf = { name: 'cbr0', cniVersion: '0.3.1', plugins: [{ type: 'flannel', delegate: { hairpinMode: true, isDefaultGateway: true } }, { type: 'portmap', capabilities: { portMappings: true } }] };
      this.add('', 'configmaps', {
        metadata: this.meta('', 'configmaps', 'kube-system', 'kube-flannel-cfg', { labels: { app: 'flannel', 'k8s-app': 'flannel', tier: 'node' } }),
        data: { 'cni-conf.json': `${JSON.stringify(cniConf, null, 2)}\n`, 'net-conf.json': `${JSON.stringify(netConf, null, 2)}\n` },
      });
    }
    this.add('', 'configmaps', {
      metadata: this.meta('', 'configmaps', 'kube-system', 'kube-proxy', { labels: { app: 'kube-proxy' } }),
      data: {
        'config.conf': ['apiVersion: kubeproxy.config.k8s.io/v1alpha1', 'bindAddress: 0.0.0.0', `clusterCIDR: ${network}`, 'kind: KubeProxyConfiguration', 'mode: ""', 'iptables:', '  masqueradeAll: false', '  syncPeriod: 0s', ''].join('\n'),
        'kubeconfig.conf': ['apiVersion: v1', 'kind: Config', 'clusters:', '- cluster:', '    certificate-authority: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt', `    server: https://${nodes[0]?.ips?.[0] ?? '127.0.0.1'}:6443`, '  name: default', ''].join('\n'),
      },
    });
    this.add('', 'configmaps', {
      metadata: this.meta('', 'configmaps', 'kube-system', 'coredns'),
      data: { Corefile: '.:53 {\n    errors\n    health {\n       lameduck 5s\n    }\n    ready\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n       pods insecure\n       fallthrough in-addr.arpa ip6.arpa\n       ttl 30\n    }\n    prometheus :9153\n    forward . /etc/resolv.conf {\n       max_concurrent 1000\n    }\n    cache 30\n    loop\n    reload\n    loadbalance\n}\n' },
    });

    if (opts.services ?? true) this.addServices(nodes[0]);
  }

  private podSpec(nodeName: string | undefined, containers: Container[], hostNetwork: boolean): Pod['spec'] {
    const withDefaults = containers.map((c) => ({ ...c, imagePullPolicy: 'IfNotPresent', resources: {}, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' }));
    return {
      containers: withDefaults,
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: hostNetwork ? 'ClusterFirstWithHostNet' : 'ClusterFirst',
      serviceAccountName: 'default',
      serviceAccount: 'default',
      ...(nodeName ? { nodeName } : {}),
      ...(hostNetwork ? { hostNetwork: true } : {}),
      schedulerName: 'default-scheduler',
      enableServiceLinks: true,
      priority: 0,
    };
  }

  private nodeObject(h: LabHost, controlPlane: boolean): Omit<Node, 'apiVersion' | 'kind'> {
    const plan = this.built.plan.nodes.find((n) => n.name === h.name);
    const ips = h.ips ?? [];
    const annotations: Record<string, string> = {
      'kubeadm.alpha.kubernetes.io/cri-socket': 'unix:///var/run/containerd/containerd.sock',
      'node.alpha.kubernetes.io/ttl': '0',
      'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
    };
    const kind = this.built.spec.cni.kind;
    if (kind === 'flannel-vxlan' || kind === 'flannel-host-gw') {
      const v4 = ips.find((ip) => !ip.includes(':'));
      const v6 = ips.find((ip) => ip.includes(':'));
      const vni = (this.built.spec.cni as { vni?: number }).vni ?? 1;
      annotations['flannel.alpha.coreos.com/backend-data'] = kind === 'flannel-vxlan' ? JSON.stringify({ VNI: vni, VtepMAC: plan?.vtepMac ?? '' }) : 'null';
      annotations['flannel.alpha.coreos.com/backend-type'] = kind === 'flannel-vxlan' ? 'vxlan' : 'host-gw';
      annotations['flannel.alpha.coreos.com/kube-subnet-manager'] = 'true';
      if (v4) annotations['flannel.alpha.coreos.com/public-ip'] = v4;
      if (v6) annotations['flannel.alpha.coreos.com/public-ipv6'] = v6;
    }
    const arch = ARCH[process.arch] ?? process.arch;
    const labels: Record<string, string> = {
      'beta.kubernetes.io/arch': arch,
      'beta.kubernetes.io/os': 'linux',
      'kubernetes.io/arch': arch,
      'kubernetes.io/hostname': h.name,
      'kubernetes.io/os': 'linux',
      ...(controlPlane ? { 'node-role.kubernetes.io/control-plane': '', 'node.kubernetes.io/exclude-from-external-load-balancers': '' } : {}),
    };
    const now = new Date(this.started).toISOString().replace(/\.\d+Z$/, 'Z');
    const cond = (type: string, status: string, reason: string, message: string) => ({ type, status, lastHeartbeatTime: now, lastTransitionTime: now, reason, message });
    const capacity = { cpu: '4', 'ephemeral-storage': '50620216Ki', 'hugepages-2Mi': '0', memory: '8130312Ki', pods: '110' };
    return {
      metadata: this.meta('', 'nodes', undefined, h.name, { labels, annotations }),
      spec: { ...(h.podCIDRs?.[0] ? { podCIDR: h.podCIDRs[0], podCIDRs: h.podCIDRs } : {}) },
      status: {
        capacity,
        allocatable: capacity,
        conditions: [
          ...(kind.startsWith('flannel') ? [cond('NetworkUnavailable', 'False', 'FlannelIsUp', 'Flannel is running on this node')] : []),
          cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
          cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
          cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
          cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
        ],
        addresses: [...ips.map((address) => ({ type: 'InternalIP', address })), { type: 'Hostname', address: h.name }],
        daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
        nodeInfo: {
          machineID: hash(`machine/${h.name}`).slice(0, 32),
          systemUUID: stableUid(`system/${h.name}`),
          bootID: stableUid(`boot/${h.name}`),
          kernelVersion: release(),
          osImage: osImage(),
          containerRuntimeVersion: 'containerd://1.7.24',
          kubeletVersion: this.kubeletVersion,
          kubeProxyVersion: '',
          operatingSystem: 'linux',
          architecture: arch,
        },
      },
    };
  }

  /** `kubernetes` (the API server on the first node) and `kube-dns` (the coredns pods). */
  private addServices(first: LabHost | undefined): void {
    const apiIp = first?.ips?.find((ip) => !ip.includes(':'));
    this.add('', 'services', {
      metadata: this.meta('', 'services', 'default', 'kubernetes', { labels: { component: 'apiserver', provider: 'kubernetes' } }),
      spec: { type: 'ClusterIP', clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }], sessionAffinity: 'None', internalTrafficPolicy: 'Cluster' },
      status: { loadBalancer: {} },
    });
    if (apiIp) {
      this.add('', 'endpoints', { metadata: this.meta('', 'endpoints', 'default', 'kubernetes', { labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } }), subsets: [{ addresses: [{ ip: apiIp }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] }] });
      this.add('discovery.k8s.io', 'endpointslices', {
        metadata: this.meta('discovery.k8s.io', 'endpointslices', 'default', 'kubernetes', { labels: { 'kubernetes.io/service-name': 'kubernetes' } }),
        addressType: 'IPv4',
        endpoints: [{ addresses: [apiIp], conditions: { ready: true } }],
        ports: [{ name: 'https', port: 6443, protocol: 'TCP' }],
      });
    }
    const dnsPods = this.list(PODS, 'kube-system').filter((p) => p.metadata.labels?.['k8s-app'] === 'kube-dns') as Pod[];
    const ports = [
      { name: 'dns', port: 53, protocol: 'UDP' },
      { name: 'dns-tcp', port: 53, protocol: 'TCP' },
      { name: 'metrics', port: 9153, protocol: 'TCP' },
    ];
    this.add('', 'services', {
      metadata: this.meta('', 'services', 'kube-system', 'kube-dns', { labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' } }),
      spec: { type: 'ClusterIP', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', selector: { 'k8s-app': 'kube-dns' }, ports: ports.map((p) => ({ ...p, targetPort: p.port })), sessionAffinity: 'None', internalTrafficPolicy: 'Cluster' },
      status: { loadBalancer: {} },
    });
    const ready = dnsPods.filter((p) => p.status.podIP && !p.status.podIP.includes(':'));
    this.add('', 'endpoints', {
      metadata: this.meta('', 'endpoints', 'kube-system', 'kube-dns', { labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' } }),
      subsets: ready.length ? [{ addresses: ready.map((p) => ({ ip: p.status.podIP, nodeName: p.spec.nodeName, targetRef: { kind: 'Pod', namespace: 'kube-system', name: p.metadata.name, uid: p.metadata.uid } })), ports }] : [],
    });
    this.add('discovery.k8s.io', 'endpointslices', {
      metadata: this.meta('discovery.k8s.io', 'endpointslices', 'kube-system', `kube-dns-${stableSuffix('kube-dns/slice')}`, {
        generateName: 'kube-dns-',
        labels: { 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io', 'k8s-app': 'kube-dns', 'kubernetes.io/service-name': 'kube-dns' },
      }),
      addressType: 'IPv4',
      endpoints: ready.map((p) => ({ addresses: [p.status.podIP], conditions: { ready: true, serving: true, terminating: false }, nodeName: p.spec.nodeName, targetRef: { kind: 'Pod', namespace: 'kube-system', name: p.metadata.name, uid: p.metadata.uid } })),
      ports,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// JSON patch (RFC 6902), enough for kubectl and client-node: add, remove, replace, test

function decodePointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new StatusError(badRequest(`invalid JSON pointer "${path}"`));
  return path
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function applyJsonPatch<T>(doc: T, patch: unknown): T {
  if (!Array.isArray(patch)) throw new StatusError(badRequest('a JSON patch must be a list of operations'));
  const root = { doc: structuredClone(doc) as unknown };
  for (const op of patch as { op?: string; path?: string; value?: unknown }[]) {
    const parts = decodePointer(op.path ?? '');
    let parent: unknown = root;
    let last = 'doc';
    for (const p of parts) {
      parent = (parent as Record<string, unknown>)[last];
      last = p;
      if (parent === null || typeof parent !== 'object') throw new StatusError(badRequest(`JSON patch: path ${op.path} does not exist`));
    }
    const container = parent as Record<string, unknown> | unknown[];
    if (Array.isArray(container)) {
      const i = last === '-' ? container.length : Number(last);
      if (!Number.isInteger(i) || i < 0 || i > container.length) throw new StatusError(badRequest(`JSON patch: index ${last} out of range in ${op.path}`));
      if (op.op === 'add') container.splice(i, 0, op.value);
      else if (op.op === 'replace') container[i] = op.value;
      else if (op.op === 'remove') container.splice(i, 1);
      else if (op.op !== 'test') throw new StatusError(badRequest(`JSON patch: unsupported operation ${String(op.op)}`));
    } else {
      if (op.op === 'add' || op.op === 'replace') container[last] = op.value;
      else if (op.op === 'remove') delete container[last];
      else if (op.op !== 'test') throw new StatusError(badRequest(`JSON patch: unsupported operation ${String(op.op)}`));
    }
  }
  return root.doc as T;
}
