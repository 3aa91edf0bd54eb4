// The resources this server serves: discovery data (what `/api/v1` and `/apis/GROUP/VERSION` list),
// the field selectors each one supports, and the columns of its Table (what `kubectl get -o wide`
// prints), copied from the apiserver's printers (pkg/printers/internalversion/printers.go).
import type { KubeObject, Node, Pod } from './objects';

export interface Column {
  name: string;
  type: 'string' | 'integer' | 'number' | 'date';
  format: string;
  description: string;
  /** 1: shown only with `-o wide`. */
  priority: number;
}

export interface ResourceDef {
  group: string;
  version: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  verbs: string[];
  subresources?: { name: string; kind: string; verbs: string[] }[];
  columns: Column[];
  cells: (obj: KubeObject, now: number) => unknown[];
  /** Values of the fields a field selector may name (metadata.name and metadata.namespace always). */
  fields?: (obj: KubeObject) => Record<string, string>;
}

const READ = ['get', 'list', 'watch'];

function col(name: string, opts: Partial<Omit<Column, 'name'>> = {}): Column {
  return { name, type: opts.type ?? 'string', format: opts.format ?? '', description: opts.description ?? '', priority: opts.priority ?? 0 };
}
const NAME = col('Name', { format: 'name', description: 'Name must be unique within a namespace.' });
const AGE = col('Age', { description: 'CreationTimestamp is a timestamp representing the server time when this object was created.' });

/** k8s.io/apimachinery/pkg/util/duration.HumanDuration: `45s`, `5m3s`, `3h20m`, `2d4h`, `400d`. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(seconds / 3600);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.floor(hours / 24) % 365;
    return days === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${days}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

const age = (o: KubeObject, now: number) => humanDuration(now - Date.parse(o.metadata.creationTimestamp));
const none = (v: string | undefined) => (v === undefined || v === '' ? '<none>' : v);
const rec = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const selectorText = (m: unknown) =>
  Object.entries(rec(m))
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(',');

function podCells(o: KubeObject, now: number): unknown[] {
  const p = o as Pod;
  const statuses = p.status.containerStatuses ?? [];
  const ready = statuses.filter((s) => s.ready).length;
  const restarts = statuses.reduce((n, s) => n + s.restartCount, 0);
  let reason: string = p.status.phase;
  for (const s of statuses) if (s.state.waiting) reason = s.state.waiting.reason;
  if (p.metadata.deletionTimestamp) reason = 'Terminating';
  return [p.metadata.name, `${ready}/${p.spec.containers.length}`, reason, String(restarts), age(o, now), none(p.status.podIP), none(p.spec.nodeName), '<none>', '<none>'];
}

function nodeCells(o: KubeObject, now: number): unknown[] {
  const n = o as Node;
  const ready = n.status.conditions.find((c) => c.type === 'Ready')?.status === 'True' ? 'Ready' : 'NotReady';
  const roles = Object.keys(n.metadata.labels ?? {})
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length))
    .sort();
  const addr = (t: string) => n.status.addresses.find((a) => a.type === t)?.address;
  const info = n.status.nodeInfo;
  return [n.metadata.name, ready, roles.length ? roles.join(',') : '<none>', age(o, now), info.kubeletVersion ?? '', none(addr('InternalIP')), none(addr('ExternalIP')), info.osImage ?? '<unknown>', info.kernelVersion ?? '<unknown>', info.containerRuntimeVersion ?? '<unknown>'];
}

function servicePorts(o: KubeObject): string {
  const ports = arr(rec(o.spec).ports).map((p) => {
    const r = rec(p);
    return `${String(r.port)}/${str(r.protocol) ?? 'TCP'}`;
  });
  return ports.length ? ports.join(',') : '<none>';
}

function sliceEndpoints(o: KubeObject): string {
  const addrs = arr(o.endpoints).flatMap((e) => arr(rec(e).addresses).map(String));
  if (addrs.length === 0) return '<unset>';
  return addrs.length > 3 ? `${addrs.slice(0, 3).join(',')} + ${addrs.length - 3} more...` : addrs.join(',');
}

function endpointsText(o: KubeObject): string {
  const eps = arr(o.subsets).flatMap((s) => {
    const ports = arr(rec(s).ports).map((p) => rec(p).port);
    return arr(rec(s).addresses).flatMap((a) => (ports.length ? ports.map((port) => `${String(rec(a).ip)}:${String(port)}`) : [String(rec(a).ip)]));
  });
  if (eps.length === 0) return '<none>';
  return eps.length > 3 ? `${eps.slice(0, 3).join(',')} + ${eps.length - 3} more...` : eps.join(',');
}

const podFields = (o: KubeObject): Record<string, string> => {
  const p = o as Pod;
  return {
    'spec.nodeName': p.spec.nodeName ?? '',
    'spec.restartPolicy': str(p.spec.restartPolicy) ?? 'Always',
    'spec.schedulerName': str(p.spec.schedulerName) ?? 'default-scheduler',
    'spec.serviceAccountName': str(p.spec.serviceAccountName) ?? 'default',
    'spec.hostNetwork': String(p.spec.hostNetwork ?? false),
    'status.phase': p.status.phase,
    'status.podIP': p.status.podIP ?? '',
    'status.nominatedNodeName': '',
  };
};

export const RESOURCES: ResourceDef[] = [
  {
    group: '', version: 'v1', kind: 'Pod', listKind: 'PodList', plural: 'pods', singular: 'pod', namespaced: true, shortNames: ['po'], categories: ['all'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'watch'],
    subresources: [
      { name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] },
      { name: 'log', kind: 'Pod', verbs: ['get'] },
      { name: 'status', kind: 'Pod', verbs: ['get'] },
      { name: 'ephemeralcontainers', kind: 'Pod', verbs: ['get', 'patch'] },
    ],
    columns: [
      NAME,
      col('Ready', { description: 'The aggregate readiness state of this pod for accepting traffic.' }),
      col('Status', { description: 'The aggregate status of the containers in this pod.' }),
      col('Restarts', { description: 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.' }),
      AGE,
      col('IP', { priority: 1, description: 'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.' }),
      col('Node', { priority: 1, description: 'NodeName indicates in which node this pod is scheduled.' }),
      col('Nominated Node', { priority: 1, description: 'nominatedNodeName is set only when this pod preempts other pods on the node.' }),
      col('Readiness Gates', { priority: 1, description: 'If specified, all readiness gates will be evaluated for pod readiness.' }),
    ],
    cells: podCells,
    fields: podFields,
  },
  {
    group: '', version: 'v1', kind: 'Node', listKind: 'NodeList', plural: 'nodes', singular: 'node', namespaced: false, shortNames: ['no'], verbs: READ,
    subresources: [{ name: 'status', kind: 'Node', verbs: ['get'] }],
    columns: [
      NAME,
      col('Status', { description: 'The status of the node' }),
      col('Roles', { description: 'The roles of the node' }),
      AGE,
      col('Version', { description: 'Kubelet Version reported by the node.' }),
      col('Internal-IP', { priority: 1, description: 'List of addresses reachable to the node. Queried from cloud provider, if available.' }),
      col('External-IP', { priority: 1, description: 'List of addresses reachable to the node. Queried from cloud provider, if available.' }),
      col('OS-Image', { priority: 1, description: 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).' }),
      col('Kernel-Version', { priority: 1, description: "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)." }),
      col('Container-Runtime', { priority: 1, description: 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).' }),
    ],
    cells: nodeCells,
    fields: (o) => ({ 'spec.unschedulable': String(rec(o.spec).unschedulable ?? false) }),
  },
  {
    group: '', version: 'v1', kind: 'Namespace', listKind: 'NamespaceList', plural: 'namespaces', singular: 'namespace', namespaced: false, shortNames: ['ns'], verbs: READ,
    columns: [NAME, col('Status', { description: 'The status of the namespace' }), AGE],
    cells: (o, now) => [o.metadata.name, str(rec(o.status).phase) ?? 'Active', age(o, now)],
    fields: (o) => ({ 'status.phase': str(rec(o.status).phase) ?? 'Active' }),
  },
  {
    group: '', version: 'v1', kind: 'ConfigMap', listKind: 'ConfigMapList', plural: 'configmaps', singular: 'configmap', namespaced: true, shortNames: ['cm'], verbs: READ,
    columns: [NAME, col('Data', { type: 'integer', description: 'Data contains the configuration data.' }), AGE],
    cells: (o, now) => [o.metadata.name, Object.keys(rec(o.data)).length + Object.keys(rec(o.binaryData)).length, age(o, now)],
  },
  {
    group: '', version: 'v1', kind: 'Service', listKind: 'ServiceList', plural: 'services', singular: 'service', namespaced: true, shortNames: ['svc'], categories: ['all'], verbs: READ,
    columns: [
      NAME,
      col('Type', { description: 'type determines how the Service is exposed.' }),
      col('Cluster-IP', { description: 'clusterIP is the IP address of the service.' }),
      col('External-IP', { description: 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.' }),
      col('Port(s)', { description: 'The list of ports that are exposed by this service.' }),
      AGE,
      col('Selector', { priority: 1, description: 'Route service traffic to pods with label keys and values matching this selector.' }),
    ],
    cells: (o, now) => {
      const s = rec(o.spec);
      return [o.metadata.name, str(s.type) ?? 'ClusterIP', str(s.clusterIP) ?? '<none>', '<none>', servicePorts(o), age(o, now), none(selectorText(s.selector))];
    },
  },
  {
    group: '', version: 'v1', kind: 'Endpoints', listKind: 'EndpointsList', plural: 'endpoints', singular: 'endpoints', namespaced: true, shortNames: ['ep'], verbs: READ,
    columns: [NAME, col('Endpoints', { description: 'Endpoints of the service' }), AGE],
    cells: (o, now) => [o.metadata.name, endpointsText(o), age(o, now)],
  },
  {
    group: '', version: 'v1', kind: 'Event', listKind: 'EventList', plural: 'events', singular: 'event', namespaced: true, shortNames: ['ev'], verbs: READ,
    columns: [col('Last Seen'), col('Type'), col('Reason'), col('Object'), col('Message')],
    cells: (o) => ['<unknown>', str(o.type) ?? '', str(o.reason) ?? '', '', str(o.message) ?? ''],
    fields: (o) => {
      const io = rec(o.involvedObject);
      return { 'involvedObject.kind': str(io.kind) ?? '', 'involvedObject.name': str(io.name) ?? '', 'involvedObject.namespace': str(io.namespace) ?? '', 'involvedObject.uid': str(io.uid) ?? '', reason: str(o.reason) ?? '', type: str(o.type) ?? '' };
    },
  },
  {
    group: 'apps', version: 'v1', kind: 'DaemonSet', listKind: 'DaemonSetList', plural: 'daemonsets', singular: 'daemonset', namespaced: true, shortNames: ['ds'], categories: ['all'], verbs: READ,
    subresources: [{ name: 'status', kind: 'DaemonSet', verbs: ['get'] }],
    columns: [
      NAME,
      col('Desired', { type: 'integer' }),
      col('Current', { type: 'integer' }),
      col('Ready', { type: 'integer' }),
      col('Up-to-date', { type: 'integer' }),
      col('Available', { type: 'integer' }),
      col('Node Selector'),
      AGE,
      col('Containers', { priority: 1 }),
      col('Images', { priority: 1 }),
      col('Selector', { priority: 1 }),
    ],
    cells: (o, now) => {
      const st = rec(o.status);
      const tpl = rec(rec(rec(o.spec).template).spec);
      const containers = arr(tpl.containers).map((c) => rec(c));
      return [
        o.metadata.name,
        st.desiredNumberScheduled ?? 0,
        st.currentNumberScheduled ?? 0,
        st.numberReady ?? 0,
        st.updatedNumberScheduled ?? 0,
        st.numberAvailable ?? 0,
        none(selectorText(tpl.nodeSelector)),
        age(o, now),
        containers.map((c) => String(c.name)).join(','),
        containers.map((c) => String(c.image)).join(','),
        none(selectorText(rec(rec(o.spec).selector).matchLabels)),
      ];
    },
  },
  {
    group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice', listKind: 'EndpointSliceList', plural: 'endpointslices', singular: 'endpointslice', namespaced: true, verbs: READ,
    columns: [NAME, col('AddressType'), col('Ports'), col('Endpoints'), AGE],
    cells: (o, now) => {
      const ports = arr(o.ports).map((p) => String(rec(p).port));
      return [o.metadata.name, str(o.addressType) ?? '', ports.length ? ports.join(',') : '<unset>', sliceEndpoints(o), age(o, now)];
    },
  },
  {
    group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy', listKind: 'NetworkPolicyList', plural: 'networkpolicies', singular: 'networkpolicy', namespaced: true, shortNames: ['netpol'], verbs: READ,
    columns: [NAME, col('Pod-Selector'), AGE],
    cells: (o, now) => [o.metadata.name, none(selectorText(rec(rec(o.spec).podSelector).matchLabels)), age(o, now)],
  },
];

export function apiVersionOf(r: ResourceDef): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** The resource served at GROUP/VERSION/PLURAL, if any. */
export function findResource(group: string, version: string, plural: string): ResourceDef | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
}

/** The group/versions served, in discovery order ('' is the core group). */
export function groupVersions(): { group: string; version: string }[] {
  const out: { group: string; version: string }[] = [];
  for (const r of RESOURCES) if (!out.some((g) => g.group === r.group && g.version === r.version)) out.push({ group: r.group, version: r.version });
  return out;
}

/** `APIResourceList` for one group/version, as `/api/v1` or `/apis/apps/v1` returns it. */
export function resourceList(group: string, version: string): Record<string, unknown> {
  const resources: Record<string, unknown>[] = [];
  for (const r of RESOURCES.filter((x) => x.group === group && x.version === version)) {
    resources.push({
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
      ...(r.shortNames ? { shortNames: r.shortNames } : {}),
      ...(r.categories ? { categories: r.categories } : {}),
    });
    for (const s of r.subresources ?? []) resources.push({ name: `${r.plural}/${s.name}`, singularName: '', namespaced: r.namespaced, kind: s.kind, verbs: s.verbs });
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}

/** `metav1.Table` for a list of objects; `include` is the request's includeObject (default Metadata). */
export function toTable(def: ResourceDef, objs: KubeObject[], listMeta: Record<string, unknown>, include: 'None' | 'Metadata' | 'Object', now = Date.now()): Record<string, unknown> {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: def.columns,
    rows: objs.map((o) => ({
      cells: def.cells(o, now),
      ...(include === 'None'
        ? {}
        : { object: include === 'Object' ? { apiVersion: apiVersionOf(def), kind: def.kind, ...o } : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata } }),
    })),
  };
}
