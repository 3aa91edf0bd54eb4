// Services as the Kubernetes API describes them (the capture's `kubernetes` section): each Service's
// frontends (ClusterIPs, dual-stack; NodePorts; LoadBalancer ingress IPs; externalIPs), its ports, and
// the endpoints its EndpointSlices list — then the endpoints kube-proxy would program from them
// (pkg/proxy/topology.go CategorizeEndpoints: ready endpoints; when none is ready anywhere, the serving
// ones that are terminating; traffic policy Local keeps the node's own). Used to resolve `--to
// svc/NS/NAME[:PORT]`, to name the Service behind an address (hovers, steps), to list Services for
// pickers, to compare with a node's rules (serviceFindings.ts) and to stand in for rules a capture
// lacks (serviceHooks.ts). Pure.
//
// Topology-aware routing is modelled by zone hints (trafficDistribution / topology-mode Auto); not
// modelled: node hints (PreferSameNode) and loadBalancerSourceRanges (a firewall before the Service rules).
import {
  namespacedName,
  nodeIps,
  PLAIN_V4,
  sliceService,
  sourceOf,
  type KubeEndpoint,
  type KubeEndpointSlice,
  type KubeProtocol,
  type KubeSection,
  type KubeService,
  type KubeServicePort,
} from '../capture/kubernetes';
import { kubernetesOf } from '../capture/document';
import { Addr, Prefix, type Family } from '../net/addr';
import type { Network } from './network';
import { addressKeys, candidateIndex } from './netns';
import type { Evidence } from './trace';

export type ServiceProto = 'tcp' | 'udp' | 'sctp';

/**
 * Evidence from the API: host `kubernetes`, the object's JSON path in the capture's section as the
 * probe (`endpointSlices[2].endpoints[1]`), line 0 (an object has no line), the object (or the part
 * that decided) as compact JSON.
 */
export function apiEvidence(path: string, value: unknown): Evidence {
  return { host: 'kubernetes', probe: path.replace(/^kubernetes\./, ''), line: 0, raw: JSON.stringify(value) };
}

export interface ServicePortView {
  /** The port's name ('' when unnamed, as the API has it). */
  name: string;
  protocol: KubeProtocol;
  port: number;
  /** As the Service gives it: a number, or a container port's name (the EndpointSlice has the number). */
  targetPort: number | string;
  nodePort?: number;
}

/** One endpoint of one Service port, as the EndpointSlices list it. */
export interface ServiceEndpoint {
  ip: string;
  family: Family;
  port: number;
  /** The conditions as kube-proxy reads them: an absent ready/serving is true, an absent terminating false. */
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  nodeName?: string;
  /** `namespace/name` of the Pod behind it (targetRef), when the slice says. */
  pod?: string;
  /** `namespace/name` of the EndpointSlice. */
  slice: string;
  /** Topology hints: the zones this endpoint should serve. */
  zoneHints?: string[];
  evidence: Evidence;
}

export interface ServiceView {
  namespace: string;
  name: string;
  /** `namespace/name`. */
  key: string;
  type: KubeService['spec']['type'];
  /** ClusterIPs in the Service's order (the first is the primary family); empty for headless and ExternalName. */
  clusterIPs: string[];
  /** `clusterIP: None`. */
  headless: boolean;
  externalName?: string;
  externalIPs: string[];
  /** status.loadBalancer.ingress[].ip (type LoadBalancer). */
  loadBalancerIPs: string[];
  /** Only for NodePort and LoadBalancer Services. */
  externalTrafficPolicy?: 'Cluster' | 'Local';
  internalTrafficPolicy: 'Cluster' | 'Local';
  sessionAffinity: 'None' | 'ClientIP';
  /** ClientIP affinity's timeout in seconds. */
  affinityTimeout?: number;
  ports: ServicePortView[];
  /** Whether the Service has a selector (else its EndpointSlices are managed by hand or by another controller). */
  selector: boolean;
  /**
   * Topology-aware routing asked for (`spec.trafficDistribution`, or the `service.kubernetes.io/topology-mode`
   * annotation, formerly `topology-aware-hints`, set to Auto): kube-proxy may keep the endpoints hinted for its node's zone.
   */
  topology: boolean;
  evidence: Evidence;
  object: KubeService;
}

/** How an address reaches a Service. */
export type FrontendKind = 'cluster-ip' | 'external-ip' | 'load-balancer' | 'node-port';

export interface ServiceMatch {
  service: ServiceView;
  port: ServicePortView;
  via: FrontendKind;
  /** kube-proxy's name for the Service port: `namespace/name:port` (`namespace/name` for an unnamed port). */
  label: string;
}

export interface ServiceIndex {
  services: ServiceView[];
  byKey: Map<string, ServiceView>;
  /** `ip|proto|port` -> the Service ports answering there (ClusterIP, externalIP, LoadBalancer IP). */
  frontends: Map<string, ServiceMatch[]>;
  /** `proto|nodePort` -> the Service port. */
  nodePorts: Map<string, ServiceMatch>;
  /** Node addresses (API Node status and the capture's node hosts) -> node name. */
  nodeAddrs: NodeAddrs;
  /** `namespace/name` of a Service -> its endpoints by port name and protocol (`name|PROTO`). */
  endpoints: Map<string, Map<string, ServiceEndpoint[]>>;
  /** Pod IPs the API reports -> `namespace/name`. */
  podIps: Map<string, string>;
  /** The nodes' pod CIDRs (API Nodes' spec.podCIDRs and the capture's node hosts): kube-proxy's idea of "the cluster" for masquerade. */
  podCidrs: Prefix[];
  /** Node name -> its `topology.kubernetes.io/zone` label. */
  nodeZones: Map<string, string>;
  /** Whether the section has EndpointSlices at all (absent: endpoints are unknown, not none). */
  haveSlices: boolean;
  /** Whether the section lists Services at all (absent: a rule for an unknown Service is not stale, just unknown). */
  haveServices: boolean;
}

/** An address as Addr prints it (IPv6 compressed); a plain dotted quad is already so. */
const canon = (ip: string): string | undefined => {
  if (PLAIN_V4.test(ip)) return ip;
  const a = Addr.parse(ip);
  return a.ok ? a.value.toString() : undefined;
};

export const protoOf = (p: KubeProtocol): ServiceProto => p.toLowerCase() as ServiceProto;

/** kube-proxy's ServicePortName: `namespace/name:port`, or `namespace/name` for an unnamed port. */
export function servicePortLabel(svc: Pick<ServiceView, 'key'>, port: Pick<ServicePortView, 'name'>): string {
  return port.name ? `${svc.key}:${port.name}` : svc.key;
}

function viewOf(s: KubeService): ServiceView {
  const spec = s.spec;
  const headless = spec.clusterIP === 'None';
  const at = sourceOf(s) ?? 'kubernetes.services[?]';
  return {
    namespace: s.metadata.namespace,
    name: s.metadata.name,
    key: namespacedName(s),
    type: spec.type,
    clusterIPs: headless || spec.type === 'ExternalName' ? [] : spec.clusterIPs.flatMap((ip) => (ip === 'None' ? [] : [canon(ip) ?? ip])),
    headless,
    ...(spec.externalName !== undefined ? { externalName: spec.externalName } : {}),
    externalIPs: spec.externalIPs.map((ip) => canon(ip) ?? ip),
    loadBalancerIPs: spec.type === 'LoadBalancer' ? s.status.loadBalancer.ingress.flatMap((i) => (i.ip !== undefined ? [canon(i.ip) ?? i.ip] : [])) : [],
    ...(spec.externalTrafficPolicy !== undefined ? { externalTrafficPolicy: spec.externalTrafficPolicy } : {}),
    internalTrafficPolicy: spec.internalTrafficPolicy,
    sessionAffinity: spec.sessionAffinity,
    ...(spec.sessionAffinity === 'ClientIP' && spec.sessionAffinityConfig?.clientIP?.timeoutSeconds !== undefined
      ? { affinityTimeout: spec.sessionAffinityConfig.clientIP.timeoutSeconds }
      : {}),
    ports: spec.ports.map((p: KubeServicePort) => ({
      name: p.name,
      protocol: p.protocol,
      port: p.port,
      targetPort: p.targetPort,
      ...(p.nodePort !== undefined && (spec.type === 'NodePort' || spec.type === 'LoadBalancer') ? { nodePort: p.nodePort } : {}),
    })),
    selector: spec.selector !== undefined && Object.keys(spec.selector).length > 0,
    topology:
      spec.trafficDistribution !== undefined ||
      ['Auto', 'auto'].includes(s.metadata.annotations['service.kubernetes.io/topology-mode'] ?? s.metadata.annotations['service.kubernetes.io/topology-aware-hints'] ?? ''),
    // Made when asked for (most of a big cluster's Services are never quoted).
    get evidence() {
      return apiEvidence(at, { kind: 'Service', metadata: { namespace: s.metadata.namespace, name: s.metadata.name }, spec: s.spec });
    },
    object: s,
  };
}

function endpointOf(slice: KubeEndpointSlice, e: KubeEndpoint, ei: number, address: string, port: number): ServiceEndpoint | undefined {
  const ip = canon(address);
  if (ip === undefined) return undefined;
  const ref = e.targetRef;
  const at = sourceOf(slice) ?? 'kubernetes.endpointSlices[?]';
  return {
    ip,
    family: ip.includes(':') ? 6 : 4,
    port,
    ready: e.conditions.ready ?? true,
    serving: e.conditions.serving ?? e.conditions.ready ?? true,
    terminating: e.conditions.terminating ?? false,
    ...(e.nodeName !== undefined ? { nodeName: e.nodeName } : {}),
    ...(ref?.kind === 'Pod' && ref.name !== undefined ? { pod: `${ref.namespace ?? slice.metadata.namespace}/${ref.name}` } : {}),
    slice: namespacedName(slice),
    ...(e.hints && e.hints.forZones.length ? { zoneHints: e.hints.forZones.map((z) => z.name) } : {}),
    get evidence() {
      return apiEvidence(`${at}.endpoints[${ei}]`, e);
    },
  };
}

/**
 * Builds the index. `nodeAddresses`: node name -> its addresses from the capture (node hosts' `ips`
 * and interface addresses), added to what the API's Node objects report.
 */
/**
 * The addresses of the capture's nodes (their `ips` and global interface addresses), asked one at a
 * time so that a 500-node capture need not parse every node to answer for one address.
 */
export interface NodeAddressSource {
  /** The first node (capture order) with this canonical address. */
  owner(ip: string): string | undefined;
  /** A node's addresses, canonical, in order. */
  of(node: string): string[];
}

function eagerNodeAddresses(m: ReadonlyMap<string, readonly string[]>): NodeAddressSource {
  const owner = new Map<string, string>();
  const of = new Map<string, string[]>();
  for (const [node, ips] of m) {
    const list: string[] = [];
    for (const ip of ips) {
      const k = canon(ip) ?? ip;
      if (!owner.has(k)) owner.set(k, node);
      if (!list.includes(k)) list.push(k);
    }
    of.set(node, list);
  }
  return { owner: (ip) => owner.get(ip), of: (node) => of.get(node) ?? [] };
}

/** Node addresses -> node name: the API's Node objects first, then the capture's node hosts. */
export class NodeAddrs {
  constructor(
    private readonly api: ReadonlyMap<string, string>,
    private readonly hosts: NodeAddressSource,
  ) {}

  get(ip: string): string | undefined {
    return this.api.get(ip) ?? this.hosts.owner(ip);
  }

  has(ip: string): boolean {
    return this.get(ip) !== undefined;
  }

  /** Every address that names `node`: the API's, then its interfaces' (those no other node claimed first). */
  of(node: string): string[] {
    const out: string[] = [];
    for (const [ip, n] of this.api) if (n === node) out.push(ip);
    for (const ip of this.hosts.of(node)) if (!this.api.has(ip) && this.hosts.owner(ip) === node && !out.includes(ip)) out.push(ip);
    return out;
  }
}

export function buildServiceIndex(kube: KubeSection, nodeAddresses: ReadonlyMap<string, readonly string[]> | NodeAddressSource = new Map(), nodePodCidrs: readonly string[] = []): ServiceIndex {
  const services = kube.services.map(viewOf).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const byKey = new Map(services.map((s) => [s.key, s]));
  const frontends = new Map<string, ServiceMatch[]>();
  const nodePorts = new Map<string, ServiceMatch>();
  const add = (ip: string, m: ServiceMatch) => {
    const k = `${ip}|${protoOf(m.port.protocol)}|${m.port.port}`;
    const list = frontends.get(k);
    if (list) list.push(m);
    else frontends.set(k, [m]);
  };
  for (const s of services) {
    for (const p of s.ports) {
      const label = servicePortLabel(s, p);
      for (const ip of s.clusterIPs) add(ip, { service: s, port: p, via: 'cluster-ip', label });
      for (const ip of s.externalIPs) add(ip, { service: s, port: p, via: 'external-ip', label });
      for (const ip of s.loadBalancerIPs) add(ip, { service: s, port: p, via: 'load-balancer', label });
      if (p.nodePort !== undefined) nodePorts.set(`${protoOf(p.protocol)}|${p.nodePort}`, { service: s, port: p, via: 'node-port', label });
    }
  }
  const api = new Map<string, string>();
  for (const n of kube.nodes) for (const ip of nodeIps(n)) api.set(canon(ip) ?? ip, n.metadata.name);
  const nodeAddrs = new NodeAddrs(api, nodeAddresses instanceof Map ? eagerNodeAddresses(nodeAddresses) : (nodeAddresses as NodeAddressSource));
  const nodeZones = new Map<string, string>();
  for (const n of kube.nodes) {
    const zone = n.metadata.labels['topology.kubernetes.io/zone'];
    if (zone) nodeZones.set(n.metadata.name, zone);
  }
  const podIps = new Map<string, string>();
  for (const p of kube.pods) {
    if (p.spec.hostNetwork) continue;
    for (const { ip } of p.status.podIPs) podIps.set(canon(ip) ?? ip, namespacedName(p));
  }
  // Endpoints per Service port; slices in name order, an ip:port listed twice counted once (the first).
  const endpoints = new Map<string, Map<string, ServiceEndpoint[]>>();
  const slices = [...kube.endpointSlices].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
  for (const slice of slices) {
    const key = sliceService(slice);
    if (key === undefined || slice.addressType === 'FQDN') continue;
    const byPort = endpoints.get(key) ?? new Map<string, ServiceEndpoint[]>();
    endpoints.set(key, byPort);
    for (const sp of slice.ports) {
      if (sp.port === undefined) continue;
      const pk = `${sp.name}|${sp.protocol}`;
      const list = byPort.get(pk) ?? [];
      byPort.set(pk, list);
      slice.endpoints.forEach((e, ei) => {
        for (const ip of e.addresses) {
          const ep = endpointOf(slice, e, ei, ip, sp.port!);
          if (ep && !list.some((x) => x.ip === ep.ip && x.port === ep.port)) list.push(ep);
        }
      });
    }
  }
  const podCidrs: Prefix[] = [];
  for (const text of [...kube.nodes.flatMap((n) => n.spec.podCIDRs), ...nodePodCidrs]) {
    const r = Prefix.parse(text);
    if (r.ok && !podCidrs.some((x) => x.toString() === r.value.toString())) podCidrs.push(r.value);
  }
  return { services, byKey, frontends, nodePorts, nodeAddrs, endpoints, podIps, podCidrs, nodeZones, haveSlices: kube.present.has('endpointSlices'), haveServices: kube.present.has('services') };
}

/** Every endpoint the EndpointSlices list for one Service port (any condition), of one family or both. */
export function portEndpoints(ix: ServiceIndex, svc: ServiceView, port: ServicePortView, family?: Family): ServiceEndpoint[] {
  const list = ix.endpoints.get(svc.key)?.get(`${port.name}|${port.protocol}`) ?? [];
  return family === undefined ? list : list.filter((e) => e.family === family);
}

/** What kube-proxy programs for one Service port on one node, for one kind of traffic. */
export interface ProgrammedEndpoints {
  /** The endpoints a new connection may be sent to, each equally likely (iptables statistic, nft numgen, IPVS rr). */
  endpoints: ServiceEndpoint[];
  /** The traffic policy that applies: `Local` keeps the node's own endpoints. */
  policy: 'Cluster' | 'Local';
  /** No ready endpoint was left, and kube-proxy fell back to serving endpoints that are terminating. */
  terminatingFallback: boolean;
  /** Topology-aware routing kept the endpoints hinted for this zone (the node's). */
  zone?: string;
  /**
   * With no endpoint: `reject` (the Service has none anywhere: ICMP port unreachable / TCP reset) or
   * `drop` (there are endpoints, none on this node, under policy Local).
   */
  none?: 'reject' | 'drop';
}

/**
 * The endpoints kube-proxy on `node` programs for this Service port and family: `internal` traffic
 * (to a ClusterIP) follows internalTrafficPolicy, `external` traffic (NodePort, LoadBalancer IP,
 * externalIP) externalTrafficPolicy. Ready endpoints; when none is ready anywhere, the serving ones
 * that are terminating; under policy Local the node's own, with the same fallback among them.
 */
export function programmedEndpoints(
  ix: ServiceIndex,
  svc: ServiceView,
  port: ServicePortView,
  family: Family,
  node: string,
  /** `cluster`: the Service's cluster-wide endpoints whatever its policies (kube-proxy's KUBE-SVC chain). */
  traffic: 'internal' | 'external' | 'cluster',
): ProgrammedEndpoints {
  const all = portEndpoints(ix, svc, port, family);
  const usable = (list: ServiceEndpoint[]) => {
    const ready = list.filter((e) => e.ready);
    if (ready.length) return { endpoints: ready, terminatingFallback: false };
    const term = list.filter((e) => e.serving && e.terminating);
    return { endpoints: term, terminatingFallback: term.length > 0 };
  };
  // externalIPs are external traffic too, but kube-proxy applies externalTrafficPolicy only when the
  // Service type allows external traffic policy (NodePort, LoadBalancer).
  const policy = traffic === 'cluster' ? 'Cluster' : traffic === 'internal' ? svc.internalTrafficPolicy : (svc.externalTrafficPolicy ?? 'Cluster');
  // Topology-aware routing (kube-proxy's canUseTopology): only when every ready endpoint has zone
  // hints and one of them is for this node's zone; then the ready endpoints are those hinted for it.
  const zone = ix.nodeZones.get(node);
  const ready = all.filter((e) => e.ready);
  const useZone = svc.topology && zone !== undefined && ready.every((e) => e.zoneHints !== undefined) && ready.some((e) => e.zoneHints!.includes(zone));
  const cluster = useZone ? { endpoints: ready.filter((e) => e.zoneHints!.includes(zone!)), terminatingFallback: false, zone: zone! } : usable(all);
  if (policy === 'Cluster') return { ...cluster, policy, ...(cluster.endpoints.length === 0 ? { none: 'reject' as const } : {}) };
  const local = usable(all.filter((e) => e.nodeName === node));
  if (local.endpoints.length) return { ...local, policy };
  return { endpoints: [], policy, terminatingFallback: false, none: cluster.endpoints.length ? 'drop' : 'reject' };
}

// ---- lookups ---------------------------------------------------------------------------------------------

/**
 * The Service ports an address answers for: its ClusterIP, externalIP or LoadBalancer IP with that
 * port and protocol, or a NodePort on a node's address. Without a port (a hover on an address), every
 * port of the Services at that address.
 */
export function servicesAt(ix: ServiceIndex, ip: string, port?: number, proto?: ServiceProto): ServiceMatch[] {
  const a = canon(ip);
  if (a === undefined) return [];
  if (port !== undefined && proto !== undefined) {
    const direct = ix.frontends.get(`${a}|${proto}|${port}`) ?? [];
    const np = ix.nodeAddrs.has(a) ? ix.nodePorts.get(`${proto}|${port}`) : undefined;
    return np ? [...direct, np] : direct;
  }
  const out: ServiceMatch[] = [];
  for (const [k, list] of ix.frontends) {
    const [fip, fproto, fport] = k.split('|');
    if (fip === a && (proto === undefined || fproto === proto) && (port === undefined || Number(fport) === port)) out.push(...list);
  }
  if (ix.nodeAddrs.has(a)) {
    for (const [k, m] of ix.nodePorts) {
      const [fproto, fport] = k.split('|');
      if ((proto === undefined || fproto === proto) && (port === undefined || Number(fport) === port)) out.push(m);
    }
  }
  return out;
}

/** A Service for a picker: what it is, and how to trace to each port (or why not). */
export interface ServiceListing {
  key: string;
  namespace: string;
  name: string;
  type: ServiceView['type'];
  clusterIPs: string[];
  headless: boolean;
  externalName?: string;
  ports: { name: string; protocol: KubeProtocol; port: number; nodePort?: number; label: string; ref: string; endpoints: number }[];
  /** Why `--to svc/...` cannot trace it (headless, ExternalName, no ClusterIP in the capture). */
  untraceable?: string;
}

/** Every Service, in `namespace/name` order, for pickers. */
export function listServices(ix: ServiceIndex): ServiceListing[] {
  return ix.services.map((s) => {
    const why = untraceable(ix, s);
    return {
      key: s.key,
      namespace: s.namespace,
      name: s.name,
      type: s.type,
      clusterIPs: s.clusterIPs,
      headless: s.headless,
      ...(s.externalName !== undefined ? { externalName: s.externalName } : {}),
      ports: s.ports.map((p) => ({
        name: p.name,
        protocol: p.protocol,
        port: p.port,
        ...(p.nodePort !== undefined ? { nodePort: p.nodePort } : {}),
        label: servicePortLabel(s, p),
        ref: `svc/${s.key}:${p.name || p.port}`,
        endpoints: portEndpoints(ix, s, p).filter((e) => e.ready).length,
      })),
      ...(why !== undefined ? { untraceable: why } : {}),
    };
  });
}

function untraceable(ix: ServiceIndex, s: ServiceView): string | undefined {
  if (s.type === 'ExternalName') {
    return `${s.key} is an ExternalName Service: DNS answers its name with a CNAME to ${JSON.stringify(s.externalName ?? '')}, and kube-proxy programs no rules for it (no ClusterIP to trace); trace to the address that name resolves to (--to IP)`;
  }
  if (s.headless) {
    const eps = ix.endpoints.get(s.key);
    const some = [...(eps?.values() ?? [])].flat().filter((e) => e.ready);
    const pods = [...new Set(some.map((e) => e.pod ?? e.ip))].slice(0, 4);
    return `${s.key} is headless (clusterIP: None): DNS answers with its pods' own addresses and kube-proxy programs no rules for it (no ClusterIP to trace); trace to one of its pods instead${pods.length ? ` (--to ${pods.join(', --to ')})` : ' (its EndpointSlices list no ready endpoint)'}`;
  }
  if (s.clusterIPs.length === 0) {
    return `${s.key} has no clusterIP in the capture (a manifest the API server never allocated one for?): read the Service back with kubectl get -o json, or trace to its ClusterIP (--to IP)`;
  }
  return undefined;
}

// ---- --to svc/NAMESPACE/NAME[:PORT] -----------------------------------------------------------------------

export interface ResolvedService {
  /** The ClusterIP to send to (of the family asked for, else the primary). */
  ip: string;
  port: number;
  proto: ServiceProto;
  /** kube-proxy's name for the port: `default/web:http`. */
  service: string;
  match: ServiceMatch;
}

export type ServiceRefResult = { ok: true; value: ResolvedService } | { ok: false; error: string };

/** Is this `--to` a Service reference (`svc/...`)? */
export const isServiceRef = (ref: string): boolean => ref.startsWith('svc/');

/**
 * Resolves `svc/NAMESPACE/NAME[:PORT]` (PORT: the port's name or number; optional when the Service
 * has one port) to the ClusterIP, port and protocol a trace sends to. `proto` narrows the ports
 * (`--proto udp` for DNS on 53), `family` picks the ClusterIP of a dual-stack Service (the source's
 * family; default: the primary, the first of clusterIPs). Every failure says what to do.
 */
export function resolveServiceRef(ix: ServiceIndex | undefined, ref: string, opts: { proto?: string; port?: number; family?: Family } = {}): ServiceRefResult {
  const fail = (error: string): ServiceRefResult => ({ ok: false, error });
  const m = /^svc\/([^/]+)\/([^/:]+)(?::([^/:]+))?$/.exec(ref);
  if (!m) return fail(`--to "${ref}" is not a Service reference: write svc/NAMESPACE/NAME or svc/NAMESPACE/NAME:PORT (PORT is the port's name or number)`);
  const [, ns, name, portText] = m as unknown as [string, string, string, string | undefined];
  if (!ix || ix.services.length === 0) {
    return fail(`--to "${ref}": this capture has no Services (its "kubernetes" section has no "services" list): capture them (kubectl get services -A -o json) or trace to the ClusterIP (--to IP)`);
  }
  const svc = ix.byKey.get(`${ns}/${name}`);
  if (!svc) {
    const same = ix.services.filter((s) => s.namespace === ns).map((s) => s.name);
    const elsewhere = ix.services.filter((s) => s.name === name).map((s) => s.key);
    const hint = elsewhere.length
      ? `; a Service of that name is in ${elsewhere.map((k) => `svc/${k}`).join(', ')}`
      : same.length
        ? `; Services in namespace ${JSON.stringify(ns)}: ${same.slice(0, 12).join(', ')}${same.length > 12 ? `, ... (${same.length} in all)` : ''}`
        : `; no Service in namespace ${JSON.stringify(ns)} (namespaces with Services: ${[...new Set(ix.services.map((s) => s.namespace))].slice(0, 12).join(', ')})`;
    return fail(`--to "${ref}": no Service ${ns}/${name} in this capture${hint}`);
  }
  const why = untraceable(ix, svc);
  if (why !== undefined) return fail(`--to "${ref}": ${why}`);
  if (svc.ports.length === 0) return fail(`--to "${ref}": ${svc.key} has no ports, so kube-proxy programs nothing for it; trace to its ClusterIP with --to ${svc.clusterIPs[0]}`);
  const protoWanted = opts.proto?.toUpperCase();
  const portsText = (ps: ServicePortView[]) => ps.map((p) => `${p.name ? `${p.name} (${p.port}/${p.protocol})` : `${p.port}/${p.protocol}`}`).join(', ');
  let candidates = svc.ports;
  if (protoWanted !== undefined && protoWanted !== 'ICMP') {
    candidates = candidates.filter((p) => p.protocol === protoWanted);
    if (candidates.length === 0) return fail(`--to "${ref}": ${svc.key} has no ${protoWanted} port; its ports: ${portsText(svc.ports)}`);
  }
  let chosen: ServicePortView[];
  if (portText !== undefined) {
    const byName = candidates.filter((p) => p.name === portText);
    chosen = byName.length ? byName : /^\d+$/.test(portText) ? candidates.filter((p) => p.port === Number(portText)) : [];
    if (chosen.length === 0) return fail(`--to "${ref}": ${svc.key} has no port ${JSON.stringify(portText)}${protoWanted ? ` for ${protoWanted}` : ''}; its ports: ${portsText(svc.ports)}`);
  } else if (opts.port !== undefined) {
    chosen = candidates.filter((p) => p.port === opts.port);
    if (chosen.length === 0) return fail(`--to "${ref}" --port ${opts.port}: ${svc.key} has no port ${opts.port}; its ports: ${portsText(svc.ports)}`);
  } else {
    chosen = candidates;
  }
  if (chosen.length > 1) {
    const refs = chosen.map((p) => (p.name ? `svc/${svc.key}:${p.name}` : `svc/${svc.key}:${p.port}`));
    const sameNumber = chosen.every((p) => p.port === chosen[0]!.port);
    return fail(
      `--to "${ref}": ${svc.key} has ${chosen.length} ports (${portsText(chosen)}): name one, e.g. ${refs.join(' or ')}${sameNumber ? `, or give --proto ${chosen.map((p) => p.protocol.toLowerCase()).join('|')}` : ''}`,
    );
  }
  const port = chosen[0]!;
  const byFamily = (f: Family) => svc.clusterIPs.find((ip) => Addr.parse(ip).ok && Addr.must(ip).family === f);
  const ip = (opts.family !== undefined ? byFamily(opts.family) : undefined) ?? svc.clusterIPs[0]!;
  const label = servicePortLabel(svc, port);
  return { ok: true, value: { ip, port: port.port, proto: protoOf(port.protocol), service: label, match: { service: svc, port, via: 'cluster-ip', label } } };
}

// ---- the index of a Network ----------------------------------------------------------------------------------

const indexes = new WeakMap<Network, ServiceIndex>();

/**
 * The Service index of a capture's Network, built on first use and kept with it (the Network is
 * only ever read once built). Node addresses come from the API's Nodes, the node hosts' `ips` and
 * their interfaces' global addresses.
 */
/**
 * Whether a source address is "the cluster" to kube-proxy's local-traffic detector (its cluster CIDR):
 * inside a node's pod CIDR, or a pod IP the API reports (Calico-style pools need not follow podCIDRs).
 * Traffic to a ClusterIP from anywhere else is masqueraded.
 */
export function fromCluster(ix: ServiceIndex, src: Addr): boolean {
  const key = src.toString();
  return ix.podCidrs.some((p) => p.addr.family === src.family && p.masked().contains(src)) || (ix.podIps.has(key) && !ix.nodeAddrs.has(key));
}

/**
 * The capture's node addresses, without parsing every node: the nodes whose `ips` or `addrs` text
 * shows an address (a superset, network.ts addressTokens) are built and asked, in capture order.
 */
function lazyNodeAddresses(net: Network): NodeAddressSource {
  const nodes = net.capture.hosts.filter((h) => h.role === 'node');
  let candidates: Map<string, number[]> | undefined;
  const owners = new Map<string, string | undefined>();
  const lists = new Map<string, string[]>();
  const of = (node: string): string[] => {
    let list = lists.get(node);
    if (!list) {
      const ns = net.hosts.get(node);
      const all = [...(ns?.host.ips ?? [])];
      for (const i of ns?.ifaces.values() ?? []) for (const a of i.addrs) if (a.scope === 'global') all.push(a.local.toString());
      list = [];
      for (const ip of all) {
        const k = canon(ip) ?? ip;
        if (!list.includes(k)) list.push(k);
      }
      lists.set(node, list);
    }
    return list;
  };
  const owner = (ip: string): string | undefined => {
    if (owners.has(ip)) return owners.get(ip);
    candidates ??= candidateIndex(nodes, (h) => addressKeys(h.probes?.addrs ?? '', h.ips ?? []));
    const found = (candidates.get(ip) ?? []).map((i) => nodes[i]!.name).find((n) => of(n).includes(ip));
    owners.set(ip, found);
    return found;
  };
  return { owner, of };
}

export function serviceIndexOf(net: Network): ServiceIndex {
  let ix = indexes.get(net);
  if (!ix) {
    const podCidrs: string[] = [];
    for (const h of net.capture.hosts) if (h.role === 'node') podCidrs.push(...(h.podCIDRs ?? []));
    ix = buildServiceIndex(kubernetesOf(net.capture), lazyNodeAddresses(net), podCidrs);
    indexes.set(net, ix);
  }
  return ix;
}
