// The capture's `kubernetes` section (shared/spec/capture-v1.md): what the API says, as `kubectl get -o
// json` prints each object. Read leniently: every object is validated on its own, and one that does
// not fit (a port that is not a number, a Service that is not an object) is left out with an issue
// naming its JSON path, never a failed capture. Objects written by hand (a manifest never sent to an
// API server) get the defaults the API server would give them (a port's protocol TCP, a Service's
// type ClusterIP, targetPort = port, a NetworkPolicy's policyTypes ...). Unknown fields are kept;
// `null`, which the API prints for an empty list (an EndpointSlice with no endpoints), reads as absent.
// Names are data: anything a string can hold passes through unchanged.
// Pure: no I/O.
import { z } from 'zod';
import { Addr, Prefix } from '../net/addr';
import { jsonPath, valueAt } from './jsonPath';

/** A problem with one object of the section: its JSON path (`kubernetes.services[2].spec.ports[0].port`) and what is wrong. */
export interface KubeIssue {
  path: string;
  message: string;
}

/** A dotted quad as Addr.parse accepts it (no leading zeros): checked without parsing, as most addresses are. */
export const PLAIN_V4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const isIp = (s: string) => PLAIN_V4.test(s) || Addr.parse(s).ok;
const ipString = z.string().refine(isIp, { message: 'expected an IPv4 or IPv6 address' });
const cidrString = z.string().refine((s) => s.includes('/') && Prefix.parse(s).ok, { message: 'expected a CIDR prefix such as 10.0.0.0/8' });
const portNumber = z.number().int().min(1).max(65535);
const stringMap = z.record(z.string(), z.string());

export const PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;
export type KubeProtocol = (typeof PROTOCOLS)[number];
const protocol = z.enum(PROTOCOLS).default('TCP');
/** A port by number or by name (`targetPort: http`, a NetworkPolicy's `port: dns`). */
const intOrString = z.union([z.number().int().min(0).max(65535), z.string().min(1)]);

const objectMeta = z.looseObject({
  name: z.string().min(1, 'expected a non-empty name'),
  namespace: z.string().min(1).optional(),
  uid: z.string().optional(),
  labels: stringMap.default({}),
  annotations: stringMap.default({}),
  deletionTimestamp: z.string().optional(),
});
/** A namespaced object's metadata: a manifest without a namespace lands in `default`, as kubectl apply puts it. */
const namespacedMeta = objectMeta.transform((m) => ({ ...m, namespace: m.namespace ?? 'default' }));

const labelSelector = z.looseObject({
  matchLabels: stringMap.default({}),
  matchExpressions: z
    .array(z.looseObject({ key: z.string(), operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']), values: z.array(z.string()).default([]) }))
    .default([]),
});

// ---- Namespace, Node, Pod --------------------------------------------------------------------------

const namespaceSchema = z.looseObject({ apiVersion: z.string().default('v1'), kind: z.literal('Namespace').default('Namespace'), metadata: objectMeta });

const nodeSchema = z.looseObject({
  apiVersion: z.string().default('v1'),
  kind: z.literal('Node').default('Node'),
  metadata: objectMeta,
  spec: z
    .looseObject({ podCIDR: cidrString.optional(), podCIDRs: z.array(cidrString).optional(), providerID: z.string().optional() })
    .default({})
    .transform((s) => ({ ...s, podCIDRs: s.podCIDRs ?? (s.podCIDR !== undefined ? [s.podCIDR] : []) })),
  status: z
    .looseObject({ addresses: z.array(z.looseObject({ type: z.string(), address: z.string() })).default([]) })
    .default({ addresses: [] }),
});

const containerPort = z.looseObject({
  name: z.string().optional(),
  containerPort: portNumber,
  protocol,
  hostPort: portNumber.optional(),
  hostIP: z.string().optional(),
});
const container = z.looseObject({ name: z.string(), ports: z.array(containerPort).default([]) });

const podSchema = z.looseObject({
  apiVersion: z.string().default('v1'),
  kind: z.literal('Pod').default('Pod'),
  metadata: namespacedMeta,
  spec: z
    .looseObject({
      nodeName: z.string().optional(),
      hostNetwork: z.boolean().default(false),
      containers: z.array(container).default([]),
      initContainers: z.array(container).default([]),
    })
    .default({ hostNetwork: false, containers: [], initContainers: [] }),
  status: z
    .looseObject({
      phase: z.string().optional(),
      podIP: ipString.optional(),
      podIPs: z.array(z.looseObject({ ip: ipString })).optional(),
      hostIP: z.string().optional(),
    })
    .default({})
    .transform((s) => ({ ...s, podIPs: s.podIPs ?? (s.podIP !== undefined ? [{ ip: s.podIP }] : []) })),
});

// ---- Service -----------------------------------------------------------------------------------------

const servicePort = z
  .looseObject({
    name: z.string().default(''),
    protocol,
    appProtocol: z.string().optional(),
    port: portNumber,
    targetPort: intOrString.optional(),
    nodePort: portNumber.optional(),
  })
  // The API server sets targetPort to port when a manifest leaves it out.
  .transform((p) => ({ ...p, targetPort: p.targetPort ?? p.port }));

const clusterIPValue = z.string().refine((s) => s === 'None' || s === '' || isIp(s), { message: 'expected an IP address, "None" (headless) or ""' });
const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] as const;

const serviceSpec = z
  .looseObject({
    type: z.enum(SERVICE_TYPES).default('ClusterIP'),
    clusterIP: clusterIPValue.optional(),
    clusterIPs: z.array(clusterIPValue).optional(),
    ports: z.array(servicePort).default([]),
    selector: stringMap.optional(),
    externalIPs: z.array(ipString).default([]),
    externalName: z.string().optional(),
    externalTrafficPolicy: z.enum(['Cluster', 'Local']).optional(),
    internalTrafficPolicy: z.enum(['Cluster', 'Local']).default('Cluster'),
    sessionAffinity: z.enum(['None', 'ClientIP']).default('None'),
    sessionAffinityConfig: z.looseObject({ clientIP: z.looseObject({ timeoutSeconds: z.number().int().min(1).optional() }).optional() }).optional(),
    ipFamilies: z.array(z.enum(['IPv4', 'IPv6'])).optional(),
    ipFamilyPolicy: z.enum(['SingleStack', 'PreferDualStack', 'RequireDualStack']).optional(),
    loadBalancerIP: z.string().optional(),
    loadBalancerSourceRanges: z.array(cidrString).default([]),
    healthCheckNodePort: portNumber.optional(),
    publishNotReadyAddresses: z.boolean().default(false),
    /** `PreferClose` (or newer values): kube-proxy routes by the endpoints' zone hints. */
    trafficDistribution: z.string().optional(),
  })
  .transform((s) => {
    const clusterIPs = s.clusterIPs ?? (s.clusterIP !== undefined && s.clusterIP !== '' ? [s.clusterIP] : []);
    const clusterIP = s.clusterIP ?? clusterIPs[0];
    const families = clusterIPs.flatMap((ip) => {
      const a = Addr.parse(ip);
      return a.ok ? [a.value.family === 4 ? ('IPv4' as const) : ('IPv6' as const)] : [];
    });
    const external = s.type === 'NodePort' || s.type === 'LoadBalancer';
    return {
      ...s,
      clusterIPs,
      ...(clusterIP !== undefined ? { clusterIP } : {}),
      ...(s.ipFamilies === undefined && families.length ? { ipFamilies: families } : {}),
      // Defaulted only for the types that take external traffic, as the API server does.
      ...(s.externalTrafficPolicy === undefined && external ? { externalTrafficPolicy: 'Cluster' as const } : {}),
      ...(s.sessionAffinity === 'ClientIP' && s.sessionAffinityConfig?.clientIP?.timeoutSeconds === undefined
        ? { sessionAffinityConfig: { ...s.sessionAffinityConfig, clientIP: { ...s.sessionAffinityConfig?.clientIP, timeoutSeconds: 10800 } } }
        : {}),
    };
  });

const serviceSchema = z
  .looseObject({
    apiVersion: z.string().default('v1'),
    kind: z.literal('Service').default('Service'),
    metadata: namespacedMeta,
    spec: serviceSpec,
    status: z
      .looseObject({
        loadBalancer: z
          .looseObject({
            ingress: z
              .array(z.looseObject({ ip: ipString.optional(), hostname: z.string().optional(), ipMode: z.enum(['VIP', 'Proxy']).optional() }))
              .default([]),
          })
          .default({ ingress: [] }),
      })
      .default({ loadBalancer: { ingress: [] } }),
  })
  .superRefine((svc, ctx) => {
    if (svc.spec.type === 'ExternalName' && !svc.spec.externalName) {
      ctx.addIssue({ code: 'custom', path: ['spec', 'externalName'], message: 'a Service of type ExternalName needs spec.externalName' });
    }
  });

// ---- EndpointSlice -------------------------------------------------------------------------------------

const endpointSchema = z.looseObject({
  addresses: z.array(z.string().min(1)).min(1, 'expected at least one address'),
  // An absent condition: ready and serving "unknown", which consumers take as true; terminating false.
  conditions: z.looseObject({ ready: z.boolean().optional(), serving: z.boolean().optional(), terminating: z.boolean().optional() }).default({}),
  nodeName: z.string().optional(),
  zone: z.string().optional(),
  hostname: z.string().optional(),
  targetRef: z.looseObject({ kind: z.string().optional(), namespace: z.string().optional(), name: z.string().optional(), uid: z.string().optional() }).optional(),
  /** Topology-aware routing: the zones this endpoint should serve. */
  hints: z.looseObject({ forZones: z.array(z.looseObject({ name: z.string() })).default([]) }).optional(),
});

const slicePort = z.looseObject({
  name: z.string().default(''),
  protocol,
  /** Absent: every port (a Service without ports); kube-proxy programs nothing for it. */
  port: z.number().int().min(1).max(65535).optional(),
  appProtocol: z.string().optional(),
});

const endpointSliceSchema = z
  .looseObject({
    apiVersion: z.string().default('discovery.k8s.io/v1'),
    kind: z.literal('EndpointSlice').default('EndpointSlice'),
    metadata: namespacedMeta,
    addressType: z.enum(['IPv4', 'IPv6', 'FQDN']),
    endpoints: z.array(endpointSchema).default([]),
    ports: z.array(slicePort).default([]),
  })
  .superRefine((s, ctx) => {
    if (s.addressType === 'FQDN') return;
    s.endpoints.forEach((e, i) =>
      e.addresses.forEach((a, j) => {
        if (s.addressType === 'IPv4' && PLAIN_V4.test(a)) return;
        const r = Addr.parse(a);
        const fam = s.addressType === 'IPv4' ? 4 : 6;
        if (!r.ok || r.value.family !== fam) ctx.addIssue({ code: 'custom', path: ['endpoints', i, 'addresses', j], message: `expected an ${s.addressType} address (the slice's addressType)` });
      }),
    );
  });

// ---- NetworkPolicy (and the admin policies, kept as objects) ---------------------------------------------

const policyPort = z.looseObject({ protocol, port: intOrString.optional(), endPort: portNumber.optional() });
const policyPeer = z.looseObject({
  podSelector: labelSelector.optional(),
  namespaceSelector: labelSelector.optional(),
  ipBlock: z.looseObject({ cidr: cidrString, except: z.array(cidrString).default([]) }).optional(),
});

const networkPolicySchema = z.looseObject({
  apiVersion: z.string().default('networking.k8s.io/v1'),
  kind: z.literal('NetworkPolicy').default('NetworkPolicy'),
  metadata: namespacedMeta,
  spec: z
    .looseObject({
      // A struct, not a pointer, in the API: a manifest without it decodes to {} (every pod of the namespace).
      podSelector: labelSelector.default({ matchLabels: {}, matchExpressions: [] }),
      policyTypes: z.array(z.enum(['Ingress', 'Egress'])).optional(),
      // A rule's absent `from`/`to` (any peer) differs from an empty list: kept as given.
      ingress: z.array(z.looseObject({ from: z.array(policyPeer).optional(), ports: z.array(policyPort).optional() })).default([]),
      egress: z.array(z.looseObject({ to: z.array(policyPeer).optional(), ports: z.array(policyPort).optional() })).default([]),
    })
    // The API server's default: Ingress always, Egress when there are egress rules.
    .transform((s) => ({ ...s, policyTypes: s.policyTypes?.length ? s.policyTypes : s.egress.length ? (['Ingress', 'Egress'] as const) : (['Ingress'] as const) })),
});

const adminPolicySchema = z.looseObject({ apiVersion: z.string().optional(), kind: z.string().optional(), metadata: objectMeta, spec: z.looseObject({}).default({}) });

export type KubeNamespace = z.output<typeof namespaceSchema>;
export type KubeNode = z.output<typeof nodeSchema>;
export type KubePod = z.output<typeof podSchema>;
export type KubeService = z.output<typeof serviceSchema>;
export type KubeServicePort = KubeService['spec']['ports'][number];
export type KubeEndpointSlice = z.output<typeof endpointSliceSchema>;
export type KubeEndpoint = KubeEndpointSlice['endpoints'][number];
export type KubeNetworkPolicy = z.output<typeof networkPolicySchema>;
export type KubeLabelSelector = z.output<typeof labelSelector>;
export type KubeAdminPolicy = z.output<typeof adminPolicySchema>;

const LISTS = {
  namespaces: namespaceSchema,
  nodes: nodeSchema,
  pods: podSchema,
  services: serviceSchema,
  endpointSlices: endpointSliceSchema,
  networkPolicies: networkPolicySchema,
  adminNetworkPolicies: adminPolicySchema,
  baselineAdminNetworkPolicies: adminPolicySchema,
} as const;
export type KubeListName = keyof typeof LISTS;
export const KUBE_LISTS = Object.keys(LISTS) as KubeListName[];

/** The section, typed, with the API server's defaults applied; objects that did not validate are left out (see `issues`). */
export interface KubeSection {
  namespaces: KubeNamespace[];
  nodes: KubeNode[];
  pods: KubePod[];
  services: KubeService[];
  endpointSlices: KubeEndpointSlice[];
  networkPolicies: KubeNetworkPolicy[];
  adminNetworkPolicies: KubeAdminPolicy[];
  baselineAdminNetworkPolicies: KubeAdminPolicy[];
  /** Which lists the capture has at all (an absent list is "not collected", not "none"). */
  present: Set<KubeListName>;
  issues: KubeIssue[];
}

/** Where each typed object came from in the capture (`kubernetes.services[3]`), for evidence. */
const sources = new WeakMap<object, string>();

/** The JSON path an object of a KubeSection was read from, e.g. `kubernetes.services[3]`. */
export function sourceOf(obj: object): string | undefined {
  return sources.get(obj);
}

function hasNull(v: unknown): boolean {
  if (v === null) return true;
  if (typeof v !== 'object') return false;
  if (Array.isArray(v)) return v.some(hasNull);
  for (const k in v) if (hasNull((v as Record<string, unknown>)[k])) return true;
  return false;
}

/** `null` means absent in the API's JSON (`"endpoints": null`): removed before validation (copied only when there is one). */
function withoutNulls(v: unknown): unknown {
  return hasNull(v) ? copyWithoutNulls(v) : v;
}

function copyWithoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(copyWithoutNulls);
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = copyWithoutNulls(x);
  return out;
}

function describe(i: z.core.$ZodIssue, obj: unknown): string {
  const got = valueAt(obj, i.path);
  const shown = got === undefined ? 'nothing' : (JSON.stringify(got)?.slice(0, 80) ?? String(got));
  if (i.code === 'invalid_value') return `expected one of ${i.values.map((v) => JSON.stringify(v)).join(', ')}, got ${shown}`;
  if (i.code === 'invalid_type') return `expected ${i.expected}, got ${shown}`;
  if (i.code === 'invalid_union') return `expected a port number or a port name, got ${shown}`;
  return `${i.message}, got ${shown}`;
}

const KIND_OF: Record<KubeListName, string> = {
  namespaces: 'Namespace',
  nodes: 'Node',
  pods: 'Pod',
  services: 'Service',
  endpointSlices: 'EndpointSlice',
  networkPolicies: 'NetworkPolicy',
  adminNetworkPolicies: 'AdminNetworkPolicy',
  baselineAdminNetworkPolicies: 'BaselineAdminNetworkPolicy',
};

function nameOf(obj: unknown): string {
  const m = typeof obj === 'object' && obj !== null ? (obj as { metadata?: { name?: unknown; namespace?: unknown } }).metadata : undefined;
  if (typeof m?.name !== 'string') return '';
  return typeof m.namespace === 'string' ? ` ${m.namespace}/${m.name}` : ` ${m.name}`;
}

/** Sections already read, by their raw value: a capture is validated once and read by the engine again. */
const read = new WeakMap<object, KubeSection>();

/**
 * Reads a capture's `kubernetes` value (anything: it is checked here). Never throws: what does not
 * fit is an issue, and the object is left out. The same raw object gives the same section (read
 * once): treat both as read-only.
 */
export function readKubernetes(raw: unknown): KubeSection {
  if (typeof raw !== 'object' || raw === null) return readSection(raw);
  let k = read.get(raw);
  if (!k) read.set(raw, (k = readSection(raw)));
  return k;
}

function readSection(raw: unknown): KubeSection {
  const out: KubeSection = {
    namespaces: [],
    nodes: [],
    pods: [],
    services: [],
    endpointSlices: [],
    networkPolicies: [],
    adminNetworkPolicies: [],
    baselineAdminNetworkPolicies: [],
    present: new Set(),
    issues: [],
  };
  if (raw === undefined || raw === null) return out;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    out.issues.push({ path: 'kubernetes', message: `expected an object with lists such as "services" and "pods", got ${JSON.stringify(raw)?.slice(0, 40)}; the section is ignored` });
    return out;
  }
  const section = raw as Record<string, unknown>;
  for (const list of KUBE_LISTS) {
    const items = section[list];
    if (items === undefined || items === null) continue;
    if (!Array.isArray(items)) {
      out.issues.push({ path: `kubernetes.${list}`, message: `expected a list of ${KIND_OF[list]} objects, got ${JSON.stringify(items)?.slice(0, 40)}; the list is ignored` });
      continue;
    }
    out.present.add(list);
    const schema = LISTS[list] as z.ZodType<object>;
    const target = out[list] as object[];
    items.forEach((item, i) => {
      const base = `kubernetes.${list}[${i}]`;
      if (typeof item !== 'object' || item === null || Array.isArray(item)) {
        out.issues.push({ path: base, message: `expected a ${KIND_OF[list]} object, got ${JSON.stringify(item)?.slice(0, 40)}; left out` });
        return;
      }
      const clean = withoutNulls(item);
      // Pods are most of a big cluster's section: read by hand when plainly well-formed, else by the schema.
      const plain = list === 'pods' ? plainPod(clean as Obj) : undefined;
      if (plain) {
        sources.set(plain, base);
        target.push(plain);
        return;
      }
      const r = schema.safeParse(clean);
      if (!r.success) {
        // One issue per problem, each saying which object is left out.
        for (const iss of r.error.issues) {
          out.issues.push({ path: jsonPath(base, iss.path), message: `${describe(iss, clean)}; ${KIND_OF[list]}${nameOf(item)} is left out` });
        }
        return;
      }
      sources.set(r.data, base);
      target.push(r.data);
    });
  }
  for (const k of Object.keys(section)) {
    if (!(KUBE_LISTS as string[]).includes(k)) out.issues.push({ path: `kubernetes.${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}`, message: `unknown list "${k}" is ignored` });
  }
  return out;
}

/** One object read by its list's schema alone (nulls removed first), as readKubernetes does without the hand reader: undefined when it does not validate. */
export function readBySchema(list: KubeListName, item: unknown): object | undefined {
  const r = (LISTS[list] as z.ZodType<object>).safeParse(withoutNulls(item));
  return r.success ? r.data : undefined;
}

// ---- pods without the schema ----------------------------------------------------------------------
// A 500-node cluster has some 15,000 pods, and the schema takes about 25 µs each (0.3 s of a cold
// trace). Pods as the API prints them are read here by hand instead, into exactly what podSchema
// gives (same fields, defaults, key order, unknown fields kept); anything this reader is not sure of
// (a wrong type, an odd key) returns undefined and goes to the schema, which also words the issue.
// test/unit/capture/kubernetes-plain.test.ts holds the two to the same output.

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const optStr = (v: unknown) => v === undefined || typeof v === 'string';
const isPort = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;

/** Copies a loose object's fields that its schema does not name onto `to`, in order; false on a key the schema is left to handle. */
function copyRest(from: Obj, known: ReadonlySet<string>, to: Obj): boolean {
  for (const k of Object.keys(from)) {
    if (k === '__proto__') return false;
    if (!known.has(k)) to[k] = from[k];
  }
  return true;
}

function plainStringMap(v: unknown): Obj | undefined {
  if (v === undefined) return {};
  if (!isObj(v)) return undefined;
  const out: Obj = {};
  for (const k of Object.keys(v)) {
    const x = v[k];
    if (k === '__proto__' || typeof x !== 'string') return undefined;
    out[k] = x;
  }
  return out;
}

const META_KEYS = new Set(['name', 'namespace', 'uid', 'labels', 'annotations', 'deletionTimestamp']);
function plainMeta(m: unknown): Obj | undefined {
  if (!isObj(m)) return undefined;
  const { name, namespace, uid, deletionTimestamp } = m;
  if (typeof name !== 'string' || name.length === 0) return undefined;
  if (namespace !== undefined && (typeof namespace !== 'string' || namespace.length === 0)) return undefined;
  if (!optStr(uid) || !optStr(deletionTimestamp)) return undefined;
  const labels = plainStringMap(m.labels);
  const annotations = plainStringMap(m.annotations);
  if (!labels || !annotations) return undefined;
  const out: Obj = { name };
  if (namespace !== undefined) out.namespace = namespace;
  if (uid !== undefined) out.uid = uid;
  out.labels = labels;
  out.annotations = annotations;
  if (deletionTimestamp !== undefined) out.deletionTimestamp = deletionTimestamp;
  if (!copyRest(m, META_KEYS, out)) return undefined;
  if (namespace === undefined) out.namespace = 'default';
  return out;
}

const PORT_KEYS = new Set(['name', 'containerPort', 'protocol', 'hostPort', 'hostIP']);
function plainContainerPort(p: unknown): Obj | undefined {
  if (!isObj(p)) return undefined;
  const { name, containerPort, protocol, hostPort, hostIP } = p;
  if (!optStr(name) || !isPort(containerPort) || !optStr(hostIP)) return undefined;
  if (protocol !== undefined && !(PROTOCOLS as readonly unknown[]).includes(protocol)) return undefined;
  if (hostPort !== undefined && !isPort(hostPort)) return undefined;
  const out: Obj = {};
  if (name !== undefined) out.name = name;
  out.containerPort = containerPort;
  out.protocol = protocol ?? 'TCP';
  if (hostPort !== undefined) out.hostPort = hostPort;
  if (hostIP !== undefined) out.hostIP = hostIP;
  return copyRest(p, PORT_KEYS, out) ? out : undefined;
}

const CONTAINER_KEYS = new Set(['name', 'ports']);
function plainContainers(v: unknown): Obj[] | undefined {
  if (v === undefined) return [];
  if (!Array.isArray(v)) return undefined;
  const out: Obj[] = [];
  for (const c of v) {
    if (!isObj(c) || typeof c.name !== 'string') return undefined;
    const ports: Obj[] = [];
    if (c.ports !== undefined) {
      if (!Array.isArray(c.ports)) return undefined;
      for (const p of c.ports) {
        const port = plainContainerPort(p);
        if (!port) return undefined;
        ports.push(port);
      }
    }
    const one: Obj = { name: c.name, ports };
    if (!copyRest(c, CONTAINER_KEYS, one)) return undefined;
    out.push(one);
  }
  return out;
}

const SPEC_KEYS = new Set(['nodeName', 'hostNetwork', 'containers', 'initContainers']);
function plainPodSpec(s: unknown): Obj | undefined {
  if (s === undefined) return { hostNetwork: false, containers: [], initContainers: [] };
  if (!isObj(s)) return undefined;
  const { nodeName, hostNetwork } = s;
  if (!optStr(nodeName) || (hostNetwork !== undefined && typeof hostNetwork !== 'boolean')) return undefined;
  const containers = plainContainers(s.containers);
  const initContainers = plainContainers(s.initContainers);
  if (!containers || !initContainers) return undefined;
  const out: Obj = {};
  if (nodeName !== undefined) out.nodeName = nodeName;
  out.hostNetwork = hostNetwork ?? false;
  out.containers = containers;
  out.initContainers = initContainers;
  return copyRest(s, SPEC_KEYS, out) ? out : undefined;
}

const STATUS_KEYS = new Set(['phase', 'podIP', 'podIPs', 'hostIP']);
const POD_IP_KEYS = new Set(['ip']);
function plainPodStatus(s: unknown): Obj | undefined {
  if (s === undefined) return { podIPs: [] };
  if (!isObj(s)) return undefined;
  const { phase, podIP, podIPs, hostIP } = s;
  if (!optStr(phase) || !optStr(hostIP) || (podIP !== undefined && !(typeof podIP === 'string' && isIp(podIP)))) return undefined;
  let ips: Obj[] | undefined;
  if (podIPs !== undefined) {
    if (!Array.isArray(podIPs)) return undefined;
    ips = [];
    for (const e of podIPs) {
      if (!isObj(e) || typeof e.ip !== 'string' || !isIp(e.ip)) return undefined;
      const one: Obj = { ip: e.ip };
      if (!copyRest(e, POD_IP_KEYS, one)) return undefined;
      ips.push(one);
    }
  }
  const out: Obj = {};
  if (phase !== undefined) out.phase = phase;
  if (podIP !== undefined) out.podIP = podIP;
  if (ips !== undefined) out.podIPs = ips;
  if (hostIP !== undefined) out.hostIP = hostIP;
  if (!copyRest(s, STATUS_KEYS, out)) return undefined;
  if (ips === undefined) out.podIPs = podIP !== undefined ? [{ ip: podIP }] : [];
  return out;
}

const POD_KEYS = new Set(['apiVersion', 'kind', 'metadata', 'spec', 'status']);
/**
 * A Pod (nulls already removed) read by hand into what podSchema would give, or undefined when it
 * is not plainly well-formed: then the schema reads it (and says what is wrong). Exported for the
 * test that holds the two to the same output.
 */
export function plainPod(p: Obj): KubePod | undefined {
  const { apiVersion, kind } = p;
  if (!optStr(apiVersion) || (kind !== undefined && kind !== 'Pod')) return undefined;
  const metadata = plainMeta(p.metadata);
  const spec = metadata && plainPodSpec(p.spec);
  const status = spec && plainPodStatus(p.status);
  if (!status) return undefined;
  const out: Obj = { apiVersion: apiVersion ?? 'v1', kind: 'Pod', metadata, spec, status };
  return copyRest(p, POD_KEYS, out) ? (out as KubePod) : undefined;
}

// ---- accessors -----------------------------------------------------------------------------------------

/** `namespace/name` as users write it. */
export function namespacedName(o: { metadata: { name: string; namespace?: string | undefined } }): string {
  return o.metadata.namespace !== undefined ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;
}

/** The Service an EndpointSlice belongs to (its `kubernetes.io/service-name` label), as `namespace/name`. */
export function sliceService(s: KubeEndpointSlice): string | undefined {
  const name = s.metadata.labels['kubernetes.io/service-name'];
  return name ? `${s.metadata.namespace}/${name}` : undefined;
}

export function findService(k: KubeSection, namespace: string, name: string): KubeService | undefined {
  return k.services.find((s) => s.metadata.namespace === namespace && s.metadata.name === name);
}

/** The EndpointSlices of a Service (by the `kubernetes.io/service-name` label). */
export function slicesOf(k: KubeSection, svc: KubeService): KubeEndpointSlice[] {
  const key = namespacedName(svc);
  return k.endpointSlices.filter((s) => sliceService(s) === key);
}

export function findPod(k: KubeSection, namespace: string, name: string): KubePod | undefined {
  return k.pods.find((p) => p.metadata.namespace === namespace && p.metadata.name === name);
}

/** A node's addresses as its status reports them (InternalIP, ExternalIP ...; hostnames left out). */
export function nodeIps(n: KubeNode): string[] {
  return n.status.addresses.filter((a) => a.type !== 'Hostname' && a.type !== 'InternalDNS' && a.type !== 'ExternalDNS').map((a) => a.address);
}

/** Does a label selector select these labels? (An empty selector selects everything.) */
export function selects(sel: KubeLabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels)) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const v = labels[e.key];
    switch (e.operator) {
      case 'In':
        if (!has || !e.values.includes(v!)) return false;
        break;
      case 'NotIn':
        if (has && e.values.includes(v!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}
