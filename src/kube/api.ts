// What netpath needs from a Kubernetes cluster, as an interface a test can fake. The client-node
// implementation lives in clientNode.ts; nothing else in netpath talks to a cluster.

export interface NodeInfo {
  name: string;
  /** InternalIP addresses (the underlay the nodes talk on). */
  internalIPs: string[];
  podCIDRs: string[];
  annotations: Record<string, string>;
  labels: Record<string, string>;
  /** spec.taints, to give a debug pod the tolerations it needs to land on this node. */
  taints: { key: string; effect: string; value?: string }[];
  ready: boolean;
}

export interface PodInfo {
  namespace: string;
  name: string;
  nodeName: string | undefined;
  hostNetwork: boolean;
  phase: string;
  podIPs: string[];
  containers: string[];
  labels: Record<string, string>;
  /** The owning controller, e.g. `DaemonSet/kube-flannel-ds`. */
  owner: string | undefined;
  /** metadata.creationTimestamp, as milliseconds since the epoch. */
  createdAt?: number | undefined;
}

/** A kind of object the collector lists for the capture's `kubernetes` section (objects.ts lists them). */
export interface ResourceType {
  /** The key in the capture's `kubernetes` section. */
  key: 'namespaces' | 'nodes' | 'pods' | 'services' | 'endpointSlices' | 'networkPolicies' | 'adminNetworkPolicies' | 'baselineAdminNetworkPolicies';
  group: string;
  version: string;
  kind: string;
  plural: string;
  /** Whether the collection can go on without it. */
  optional: boolean;
  /** A cluster that does not serve it is the usual case (an optional CRD): no note when it is absent. */
  absentIsNormal?: boolean;
}

export interface DaemonSetInfo {
  namespace: string;
  name: string;
  images: string[];
}

export interface ExecTarget {
  namespace: string;
  pod: string;
  container?: string | undefined;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** stdout's bytes as the container wrote them, when the transport has them (the probe script's frames count bytes). */
  stdoutBytes?: Uint8Array;
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
}

export interface ExecOptions extends CallOptions {
  timeoutMs: number;
}

export type KubeErrorKind =
  | 'config' // the kubeconfig or context is unusable
  | 'unreachable' // the API server did not answer
  | 'unauthorized' // 401
  | 'forbidden' // 403 (RBAC)
  | 'not-found' // 404 (e.g. the pod vanished)
  | 'timeout'
  | 'cancelled'
  | 'connection-lost' // a stream ended without a status
  | 'missing-binary' // the command does not exist in the container
  | 'server'; // anything else the API server refused

/** A cluster error that says what happened and what the user can do about it. */
/** Marks a KubeError whichever copy of this module made it (the extension bundles client-node's side apart: dist/kube.js). */
const KUBE_ERROR = Symbol.for('netpath.KubeError');

export class KubeError extends Error {
  readonly [KUBE_ERROR] = true;

  constructor(
    readonly kind: KubeErrorKind,
    message: string,
    /** One sentence: what the user can do. */
    readonly hint: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'KubeError';
  }

  /**
   * `e instanceof KubeError` holds for a KubeError from any copy of this module: the extension loads
   * the cluster client as a separate bundle with its own copy, and the collector (in the extension's
   * bundle) must still recognise a refused or unserved list as what it is.
   */
  static override [Symbol.hasInstance](x: unknown): boolean {
    return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[KUBE_ERROR] === true;
  }
}

export interface ClusterApi {
  /** The kubeconfig context in use. */
  readonly context: string;
  listNodes(opts?: CallOptions): Promise<NodeInfo[]>;
  /**
   * Every object of a kind, cluster-wide, in its JSON form (the items of the list as the API server
   * sends them). A role that may not list it gets a KubeError of kind `forbidden`.
   */
  listObjects(resource: ResourceType, opts?: CallOptions): Promise<unknown[]>;
  listPods(opts?: CallOptions & { nodeName?: string; labelSelector?: string }): Promise<PodInfo[]>;
  readPod(namespace: string, name: string, opts?: CallOptions): Promise<PodInfo | undefined>;
  /** A ConfigMap's data, or undefined when it does not exist. */
  readConfigMap(namespace: string, name: string, opts?: CallOptions): Promise<Record<string, string> | undefined>;
  listDaemonSets(opts?: CallOptions): Promise<DaemonSetInfo[]>;
  /** Runs argv in a container (a shell only for the fixed probe script: probeScript.ts). */
  exec(target: ExecTarget, argv: readonly string[], opts: ExecOptions): Promise<ExecResult>;
  /**
   * Adds an ephemeral debug container to a running pod (it shares the pod's network namespace) and
   * waits until it runs. Ephemeral containers cannot be removed; they end with their command.
   */
  addEphemeralContainer(namespace: string, pod: string, container: { name: string; image: string; command: string[]; targetContainer?: string | undefined }, opts: ExecOptions): Promise<void>;
  createPod(namespace: string, manifest: Record<string, unknown>, opts?: CallOptions): Promise<void>;
  deletePod(namespace: string, name: string, opts?: CallOptions): Promise<void>;
}
