// kube-proxy's rules for a lab cluster, written the way kube-proxy writes them, so that a lab node's
// iptables-save / nft list ruleset reads like a real node's:
// - iptables mode (pkg/proxy/iptables/proxier.go): KUBE-SERVICES, KUBE-SVC-*/KUBE-SEP-* (chain names are
//   kube-proxy's own hashes: base32(sha256(...)) as servicePortChainName / servicePortEndpointChainName
//   make them), KUBE-EXT-*/KUBE-SVL-* for NodePorts, KUBE-MARK-MASQ, KUBE-POSTROUTING, KUBE-FORWARD, the
//   "has no endpoints" REJECTs and "has no local endpoints" DROPs in the filter table; and flannel's
//   FLANNEL-FWD / FLANNEL-POSTRTG (flanneld's iptables.go) where the cluster runs flannel;
// - nftables mode (pkg/proxy/nftables/proxier.go): `table ip kube-proxy` with its base chains, the
//   service-ips / service-nodeports verdict maps, service-/local-/external-/endpoint- chains (named
//   with hashAndTruncate's hash), numgen random, the no-endpoint maps and reject-chain, in the order
//   of kube-proxy's own transaction (as the expected output of its TestOverallNFTablesRules).
// Both follow the proxiers' endpoint categorization (CategorizeEndpoints, has*/uses* decisions): load
// balancer IPs (KUBE-EXT / service-ips), internalTrafficPolicy Local (KUBE-SVL / local- chains, a DROP
// where the node has no endpoint), sessionAffinity ClientIP (iptables' recent lists, nftables' affinity
// sets). A node's rules depend on where the endpoints run (the Local policies), so each is made per node.
import { createHash } from 'node:crypto';
import type { Lab } from './netns';

export interface LabServicePort {
  /** The port's name (`dns`, `http`); kube-proxy's chain names and comments carry it. */
  name: string;
  protocol: 'TCP' | 'UDP';
  port: number;
  targetPort: number;
  nodePort?: number;
}

export interface LabEndpoint {
  ip: string;
  /** The node the endpoint runs on (its pod's spec.nodeName). */
  node: string;
  /** The pod behind it; none for an endpoint that is a node's address (default/kubernetes). */
  pod?: { namespace: string; name: string };
}

export interface LabService {
  namespace: string;
  name: string;
  clusterIP: string;
  ports: LabServicePort[];
  /** Default Cluster. Only meaningful with NodePorts or load balancer IPs. */
  externalTrafficPolicy?: 'Cluster' | 'Local';
  /** Default Cluster. Local: a ClusterIP goes only to the node's own endpoints, and is dropped where there is none. */
  internalTrafficPolicy?: 'Cluster' | 'Local';
  /** The load balancer's ingress IPs (status.loadBalancer.ingress, ipMode VIP): a LoadBalancer Service. */
  loadBalancerIPs?: string[];
  /** sessionAffinity ClientIP with its timeout: kube-proxy's recent lists (iptables) or affinity sets (nftables). */
  sessionAffinity?: { timeoutSeconds: number };
  /** Ready endpoints, in the order kube-proxy lists them (its rules keep that order). */
  endpoints: LabEndpoint[];
  /** The pods' labels the Service selects (for the API objects). */
  selector: Record<string, string>;
}

export interface KubeProxyNode {
  name: string;
  /** The node's InternalIP (NodePorts are accepted on it). */
  ip: string;
  /** flannel's subnet of this node (FLANNEL-POSTRTG), when the cluster runs flannel. */
  podCIDR?: string;
}

export interface KubeProxyOptions {
  /** --cluster-cidr: traffic from outside it to a ClusterIP is masqueraded. */
  clusterCIDR: string;
  /** The Service CIDR (nftables mode drops traffic to unallocated ClusterIPs in it). */
  serviceCIDR: string;
  /** flannel's rules beside kube-proxy's (iptables mode). Default true. */
  flannel?: boolean;
  /**
   * The filter table's FORWARD policy. Docker sets DROP when it starts (the demo's nodes run it; its own
   * chains concern only docker0 and are left out); then flannel's FLANNEL-FWD is what lets pod traffic through.
   */
  forwardPolicy?: 'ACCEPT' | 'DROP';
}

const base32 = (buf: Buffer): string => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of buf) {
    value = ((value << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
};

const sha32 = (s: string): string => base32(createHash('sha256').update(s).digest());

/** ServicePortName.String(): `namespace/name:port` (`namespace/name` for an unnamed port). */
export const servicePortName = (s: LabService, p: LabServicePort): string => `${s.namespace}/${s.name}${p.name ? `:${p.name}` : ''}`;
const proto = (p: LabServicePort) => p.protocol.toLowerCase();
const endpointString = (e: LabEndpoint, p: LabServicePort) => `${e.ip}:${p.targetPort}`;

/** iptables mode's chain names (portProtoHash and servicePortEndpointChainName). */
export const iptChain = {
  svc: (s: LabService, p: LabServicePort) => `KUBE-SVC-${sha32(servicePortName(s, p) + proto(p)).slice(0, 16)}`,
  svl: (s: LabService, p: LabServicePort) => `KUBE-SVL-${sha32(servicePortName(s, p) + proto(p)).slice(0, 16)}`,
  ext: (s: LabService, p: LabServicePort) => `KUBE-EXT-${sha32(servicePortName(s, p) + proto(p)).slice(0, 16)}`,
  sep: (s: LabService, p: LabServicePort, e: LabEndpoint) => `KUBE-SEP-${sha32(servicePortName(s, p) + proto(p) + endpointString(e, p)).slice(0, 16)}`,
};

/** `--probability` as kube-proxy prints it: 1/(n-i) with 11 decimals (computeProbability). */
const probability = (n: number): string => (1 / n).toFixed(11);

const isLocalPolicy = (s: LabService) => s.externalTrafficPolicy === 'Local';
const isInternalLocal = (s: LabService) => s.internalTrafficPolicy === 'Local';

/**
 * What a node's kube-proxy makes of a Service port's endpoints under its traffic policies
 * (proxy.CategorizeEndpoints and the has*Endpoints / uses*Chain decisions of both proxiers).
 */
function categorize(s: LabService, p: LabServicePort, node: KubeProxyNode) {
  const externallyAccessible = p.nodePort !== undefined || (s.loadBalancerIPs ?? []).length > 0;
  const usesClusterEndpoints = !isInternalLocal(s) || externallyAccessible;
  const usesLocalEndpoints = isInternalLocal(s) || (isLocalPolicy(s) && externallyAccessible);
  const clusterEndpoints = usesClusterEndpoints ? s.endpoints : [];
  const localEndpoints = usesLocalEndpoints ? s.endpoints.filter((e) => e.node === node.name) : [];
  const hasEndpoints = s.endpoints.length > 0;
  return {
    hasEndpoints,
    clusterEndpoints,
    localEndpoints,
    /** allLocallyReachableEndpoints: an endpoint chain each, in the endpoints' order. */
    reachable: s.endpoints.filter((e) => clusterEndpoints.includes(e) || localEndpoints.includes(e)),
    usesClusterPolicyChain: clusterEndpoints.length > 0,
    usesLocalPolicyChain: localEndpoints.length > 0,
    hasInternal: hasEndpoints && (!isInternalLocal(s) || localEndpoints.length > 0),
    hasExternal: hasEndpoints && (!isLocalPolicy(s) || localEndpoints.length > 0),
    usesExternal: hasEndpoints && externallyAccessible,
  };
}

/**
 * The node's iptables rules in iptables-restore format (what kube-proxy and flanneld leave in the
 * kernel: iptables-save prints the same rules back).
 */
export function kubeProxyIptables(node: KubeProxyNode, services: readonly LabService[], opts: KubeProxyOptions): string {
  const flannel = opts.flannel ?? true;
  const filterChains = ['KUBE-EXTERNAL-SERVICES', 'KUBE-FIREWALL', 'KUBE-FORWARD', 'KUBE-KUBELET-CANARY', 'KUBE-NODEPORTS', 'KUBE-PROXY-CANARY', 'KUBE-PROXY-FIREWALL', 'KUBE-SERVICES'];
  if (flannel) filterChains.unshift('FLANNEL-FWD');
  const filter: string[] = [
    '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
    '-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS',
    '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
    '-A INPUT -j KUBE-FIREWALL',
    '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
    '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
    '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
    ...(flannel ? ['-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD'] : []),
    '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
    '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -j KUBE-FIREWALL',
    ...(flannel
      ? [
          `-A FLANNEL-FWD -s ${opts.clusterCIDR} -m comment --comment "flanneld forward" -j ACCEPT`,
          `-A FLANNEL-FWD -d ${opts.clusterCIDR} -m comment --comment "flanneld forward" -j ACCEPT`,
        ]
      : []),
    '-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
    '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP',
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  ];
  const natChains = new Set<string>(['KUBE-KUBELET-CANARY', 'KUBE-MARK-MASQ', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-PROXY-CANARY', 'KUBE-SERVICES']);
  if (flannel) natChains.add('FLANNEL-POSTRTG');
  const nat: string[] = [
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    ...(flannel ? ['-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG'] : []),
    '-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000',
    '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
    '-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000',
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
  ];
  if (flannel) {
    if (!node.podCIDR) throw new Error(`kubeProxyIptables: node ${node.name} needs its podCIDR for flannel's FLANNEL-POSTRTG`);
    const net = opts.clusterCIDR;
    const sub = node.podCIDR;
    nat.push(
      '-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment "flanneld masq" -j RETURN',
      `-A FLANNEL-POSTRTG -s ${sub} -d ${net} -m comment --comment "flanneld masq" -j RETURN`,
      `-A FLANNEL-POSTRTG -s ${net} -d ${sub} -m comment --comment "flanneld masq" -j RETURN`,
      `-A FLANNEL-POSTRTG ! -s ${net} -d ${sub} -m comment --comment "flanneld masq" -j RETURN`,
      `-A FLANNEL-POSTRTG -s ${net} ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully`,
      `-A FLANNEL-POSTRTG ! -s ${net} -d ${net} -m comment --comment "flanneld masq" -j MASQUERADE --random-fully`,
    );
  }
  const services_: string[] = [];
  const nodeports: string[] = [];
  const chains: string[] = [];
  for (const s of services) {
    for (const p of s.ports) {
      const name = servicePortName(s, p);
      const pr = proto(p);
      const k = categorize(s, p, node);
      const cip = `${s.clusterIP}/32`;
      const svc = iptChain.svc(s, p);
      const svl = iptChain.svl(s, p);
      const ext = iptChain.ext(s, p);
      const internalChain = isInternalLocal(s) ? svl : svc;
      const externalPolicyChain = isLocalPolicy(s) ? svl : svc;
      // No endpoints at all: REJECT; none this node may use under a Local policy: DROP.
      const filterComment = `-m comment --comment "${name} ${k.hasEndpoints ? 'has no local endpoints' : 'has no endpoints'}"`;
      const filterTarget = k.hasEndpoints ? 'DROP' : 'REJECT --reject-with icmp-port-unreachable';
      // The ClusterIP.
      if (k.hasInternal) services_.push(`-A KUBE-SERVICES -d ${cip} -p ${pr} -m comment --comment "${name} cluster IP" -m ${pr} --dport ${p.port} -j ${internalChain}`);
      else filter.push(`-A KUBE-SERVICES -d ${cip} -p ${pr} ${filterComment} -m ${pr} --dport ${p.port} -j ${filterTarget}`);
      // Load balancer ingress IPs.
      for (const lb of s.loadBalancerIPs ?? []) {
        if (k.hasEndpoints) services_.push(`-A KUBE-SERVICES -d ${lb}/32 -p ${pr} -m comment --comment "${name} loadbalancer IP" -m ${pr} --dport ${p.port} -j ${ext}`);
      }
      if (!k.hasExternal) {
        for (const lb of s.loadBalancerIPs ?? []) filter.push(`-A KUBE-EXTERNAL-SERVICES -d ${lb}/32 -p ${pr} ${filterComment} -m ${pr} --dport ${p.port} -j ${filterTarget}`);
      }
      // NodePorts.
      if (p.nodePort !== undefined) {
        if (k.hasEndpoints) nodeports.push(`-A KUBE-NODEPORTS -p ${pr} -m comment --comment "${name}" -m ${pr} --dport ${p.nodePort} -j ${ext}`);
        if (!k.hasExternal) filter.push(`-A KUBE-EXTERNAL-SERVICES -p ${pr} ${filterComment} -m addrtype --dst-type LOCAL -m ${pr} --dport ${p.nodePort} -j ${filterTarget}`);
      }
      // Internal traffic: masquerade what comes from outside the cluster CIDR.
      if (k.hasInternal) chains.push(`-A ${internalChain} ! -s ${opts.clusterCIDR} -d ${cip} -p ${pr} -m comment --comment "${name} cluster IP" -m ${pr} --dport ${p.port} -j KUBE-MARK-MASQ`);
      // External traffic.
      if (k.usesExternal) {
        natChains.add(ext);
        if (!isLocalPolicy(s)) {
          chains.push(`-A ${ext} -m comment --comment "masquerade traffic for ${name} external destinations" -j KUBE-MARK-MASQ`);
        } else {
          chains.push(
            `-A ${ext} -s ${opts.clusterCIDR} -m comment --comment "pod traffic for ${name} external destinations" -j ${svc}`,
            `-A ${ext} -m comment --comment "masquerade LOCAL traffic for ${name} external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`,
            `-A ${ext} -m comment --comment "route LOCAL traffic for ${name} external destinations" -m addrtype --src-type LOCAL -j ${svc}`,
          );
        }
        if (k.hasExternal) chains.push(`-A ${ext} -j ${externalPolicyChain}`);
      }
      // writeServiceToEndpointRules: affinity first, then the random picks.
      const pick = (chain: string, list: readonly LabEndpoint[]) => {
        natChains.add(chain);
        if (s.sessionAffinity) {
          for (const e of list) chains.push(`-A ${chain} -m comment --comment "${name} -> ${endpointString(e, p)}" -m recent --name ${iptChain.sep(s, p, e)} --rcheck --seconds ${s.sessionAffinity.timeoutSeconds} --reap -j ${iptChain.sep(s, p, e)}`);
        }
        list.forEach((e, i) => {
          const stat = i < list.length - 1 ? ` -m statistic --mode random --probability ${probability(list.length - i)}` : '';
          chains.push(`-A ${chain} -m comment --comment "${name} -> ${endpointString(e, p)}"${stat} -j ${iptChain.sep(s, p, e)}`);
        });
      };
      if (k.usesClusterPolicyChain) pick(svc, k.clusterEndpoints);
      if (k.usesLocalPolicyChain) pick(svl, k.localEndpoints);
      for (const e of k.reachable) {
        const sep = iptChain.sep(s, p, e);
        natChains.add(sep);
        const recent = s.sessionAffinity ? ` -m recent --set --name ${sep} --mask 255.255.255.255 --rsource` : '';
        chains.push(`-A ${sep} -s ${e.ip}/32 -m comment --comment "${name}" -j KUBE-MARK-MASQ`, `-A ${sep} -p ${pr} -m comment --comment "${name}"${recent} -m ${pr} -j DNAT --to-destination ${endpointString(e, p)}`);
      }
    }
  }
  // Always the last rule of KUBE-SERVICES (nodePortAddresses unset: every local address takes NodePorts).
  services_.push('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS');
  const head = (table: string, builtins: string[], policy: (c: string) => string, own: Iterable<string>) => [`*${table}`, ...builtins.map((c) => `:${c} ${policy(c)} [0:0]`), ...[...own].sort().map((c) => `:${c} - [0:0]`)];
  return [
    ...head('mangle', ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'], () => 'ACCEPT', ['KUBE-IPTABLES-HINT', 'KUBE-KUBELET-CANARY', 'KUBE-PROXY-CANARY']),
    'COMMIT',
    ...head('filter', ['INPUT', 'FORWARD', 'OUTPUT'], (c) => (c === 'FORWARD' ? (opts.forwardPolicy ?? 'ACCEPT') : 'ACCEPT'), filterChains),
    ...filter,
    'COMMIT',
    ...head('nat', ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'], () => 'ACCEPT', natChains),
    ...nat,
    ...nodeports,
    ...services_,
    ...chains,
    'COMMIT',
    '',
  ].join('\n');
}

const endpointBase = (s: LabService, p: LabServicePort, e: LabEndpoint) => {
  const n = `${s.namespace}/${s.name}/${proto(p)}/${p.name}__${e.ip}/${p.targetPort}`;
  return `${sha32(n).slice(0, 8)}-${n}`;
};

/** nftables mode's chain names (hashAndTruncate of `ns/svc/proto/port[__ip/port]`). */
export const nftChain = {
  base: (s: LabService, p: LabServicePort) => {
    const n = `${s.namespace}/${s.name}/${proto(p)}/${p.name}`;
    return `${sha32(n).slice(0, 8)}-${n}`;
  },
  endpoint: (s: LabService, p: LabServicePort, e: LabEndpoint) => `endpoint-${endpointBase(s, p, e)}`,
  /** The endpoint's session affinity set (servicePortEndpointAffinityNamePrefix). */
  affinity: (s: LabService, p: LabServicePort, e: LabEndpoint) => `affinity-${endpointBase(s, p, e)}`,
};

/** The node's `table ip kube-proxy` as kube-proxy's nftables mode writes it (nft -f input). */
export function kubeProxyNft(node: KubeProxyNode, services: readonly LabService[], opts: KubeProxyOptions): string {
  const T = 'ip kube-proxy';
  const out: string[] = [
    `add table ${T} { comment "rules for kube-proxy" ; }`,
    `add set ${T} cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }`,
    `add set ${T} nodeport-ips { type ipv4_addr ; comment "IPs that accept NodePort traffic" ; }`,
    `add map ${T} firewall-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "destinations that are subject to LoadBalancerSourceRanges" ; }`,
    `add map ${T} no-endpoint-nodeports { type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ; }`,
    `add map ${T} no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to services with no endpoints" ; }`,
    `add map ${T} service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }`,
    `add map ${T} service-nodeports { type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }`,
    `add chain ${T} cluster-ips-check`,
    `add chain ${T} filter-prerouting-pre-dnat { type filter hook prerouting priority -110 ; }`,
    `add chain ${T} filter-output-pre-dnat { type filter hook output priority -110 ; }`,
    `add chain ${T} filter-forward { type filter hook forward priority 0 ; }`,
    `add chain ${T} filter-input { type filter hook input priority 0 ; }`,
    `add chain ${T} filter-output { type filter hook output priority 0 ; }`,
    `add chain ${T} firewall-check`,
    `add chain ${T} mark-for-masquerade`,
    `add chain ${T} masquerading`,
    `add chain ${T} nat-output { type nat hook output priority -100 ; }`,
    `add chain ${T} nat-postrouting { type nat hook postrouting priority 100 ; }`,
    `add chain ${T} nat-prerouting { type nat hook prerouting priority -100 ; }`,
    `add chain ${T} nodeport-endpoints-check`,
    `add chain ${T} reject-chain { comment "helper for @no-endpoint-services / @no-endpoint-nodeports" ; }`,
    `add chain ${T} services`,
    `add chain ${T} service-endpoints-check`,
  ];
  const rules: string[] = [];
  const chainDecl: string[] = [];
  for (const s of services) {
    for (const p of s.ports) {
      const b = nftChain.base(s, p);
      const pr = proto(p);
      const k = categorize(s, p, node);
      const clusterChain = `service-${b}`;
      const localChain = `local-${b}`;
      const extChain = `external-${b}`;
      const internalChain = isInternalLocal(s) ? localChain : clusterChain;
      if (k.usesClusterPolicyChain) chainDecl.push(clusterChain);
      if (k.usesLocalPolicyChain) chainDecl.push(localChain);
      if (k.usesExternal) chainDecl.push(extChain);
      for (const e of k.reachable) chainDecl.push(nftChain.endpoint(s, p, e));
      const spn = servicePortName(s, p);
      const noEndpoints = k.hasEndpoints ? 'drop' : 'goto reject-chain';
      rules.push(`add element ${T} cluster-ips { ${s.clusterIP} }`);
      if (k.hasInternal) rules.push(`add element ${T} service-ips { ${s.clusterIP} . ${pr} . ${p.port} : goto ${internalChain} }`);
      else rules.push(`add element ${T} no-endpoint-services { ${s.clusterIP} . ${pr} . ${p.port} comment "${spn}" : ${noEndpoints} }`);
      for (const lb of s.loadBalancerIPs ?? []) {
        if (k.hasEndpoints) rules.push(`add element ${T} service-ips { ${lb} . ${pr} . ${p.port} : goto ${extChain} }`);
      }
      if (!k.hasExternal) {
        for (const lb of s.loadBalancerIPs ?? []) rules.push(`add element ${T} no-endpoint-services { ${lb} . ${pr} . ${p.port} comment "${spn}" : ${noEndpoints} }`);
      }
      if (p.nodePort !== undefined) {
        if (k.hasEndpoints) rules.push(`add element ${T} service-nodeports { ${pr} . ${p.nodePort} : goto ${extChain} }`);
        if (!k.hasExternal) rules.push(`add element ${T} no-endpoint-nodeports { ${pr} . ${p.nodePort} comment "${spn}" : ${noEndpoints} }`);
      }
      if (k.hasInternal) rules.push(`add rule ${T} ${internalChain} ip daddr ${s.clusterIP} ${pr} dport ${p.port} ip saddr != ${opts.clusterCIDR} jump mark-for-masquerade`);
      if (k.usesExternal) {
        if (!isLocalPolicy(s)) {
          rules.push(`add rule ${T} ${extChain} jump mark-for-masquerade`);
        } else {
          rules.push(
            `add rule ${T} ${extChain} ip saddr ${opts.clusterCIDR} goto ${clusterChain} comment "short-circuit pod traffic"`,
            `add rule ${T} ${extChain} fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"`,
            `add rule ${T} ${extChain} fib saddr type local goto ${clusterChain} comment "short-circuit local traffic"`,
          );
        }
        if (k.hasExternal) rules.push(`add rule ${T} ${extChain} goto ${isLocalPolicy(s) ? localChain : clusterChain}`);
      }
      if (s.sessionAffinity) {
        for (const e of k.reachable) out.push(`add set ${T} ${nftChain.affinity(s, p, e)} { type ipv4_addr ; flags dynamic,timeout ; timeout ${s.sessionAffinity.timeoutSeconds}s ; }`);
      }
      if (k.usesClusterPolicyChain) rules.push(...endpointRules(T, clusterChain, s, p, k.clusterEndpoints));
      if (k.usesLocalPolicyChain) rules.push(...endpointRules(T, localChain, s, p, k.localEndpoints));
      for (const e of k.reachable) {
        const ec = nftChain.endpoint(s, p, e);
        rules.push(
          `add rule ${T} ${ec} ip saddr ${e.ip} jump mark-for-masquerade`,
          ...(s.sessionAffinity ? [`add rule ${T} ${ec} update @${nftChain.affinity(s, p, e)} { ip saddr }`] : []),
          `add rule ${T} ${ec} meta l4proto ${pr} dnat to ${endpointString(e, p)}`,
        );
      }
    }
  }
  out.push(...chainDecl.map((c) => `add chain ${T} ${c}`));
  out.push(
    `add rule ${T} cluster-ips-check ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"`,
    `add rule ${T} cluster-ips-check ip daddr { ${opts.serviceCIDR} } drop comment "Drop traffic to unallocated ClusterIPs"`,
    `add rule ${T} filter-prerouting-pre-dnat ct state new jump firewall-check`,
    `add rule ${T} filter-forward ct state new jump service-endpoints-check`,
    `add rule ${T} filter-forward ct state new jump cluster-ips-check`,
    `add rule ${T} filter-input ct state new jump nodeport-endpoints-check`,
    `add rule ${T} filter-input ct state new jump service-endpoints-check`,
    `add rule ${T} filter-output ct state new jump service-endpoints-check`,
    `add rule ${T} filter-output-pre-dnat ct state new jump firewall-check`,
    `add rule ${T} filter-output ct state new jump cluster-ips-check`,
    `add rule ${T} firewall-check ip daddr . meta l4proto . th dport vmap @firewall-ips`,
    `add rule ${T} mark-for-masquerade mark set mark or 0x4000`,
    `add rule ${T} masquerading mark and 0x4000 == 0 return`,
    `add rule ${T} masquerading mark set mark xor 0x4000`,
    `add rule ${T} masquerading masquerade fully-random`,
    `add rule ${T} nat-output jump services`,
    `add rule ${T} nat-postrouting jump masquerading`,
    `add rule ${T} nat-prerouting jump services`,
    `add rule ${T} nodeport-endpoints-check ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports`,
    `add rule ${T} reject-chain reject`,
    `add rule ${T} services ip daddr . meta l4proto . th dport vmap @service-ips`,
    `add rule ${T} services ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports`,
    `add element ${T} nodeport-ips { ${node.ip} }`,
    `add rule ${T} service-endpoints-check ip daddr . meta l4proto . th dport vmap @no-endpoint-services`,
    ...rules,
  );
  return out.join('\n') + '\n';
}

/** writeServiceToEndpointRules: the affinity sets' gotos first, then `numgen random mod N vmap { 0 : goto endpoint-..., ... }`. */
function endpointRules(T: string, chain: string, s: LabService, p: LabServicePort, eps: readonly LabEndpoint[]): string[] {
  return [
    ...(s.sessionAffinity ? eps.map((e) => `add rule ${T} ${chain} ip saddr @${nftChain.affinity(s, p, e)} goto ${nftChain.endpoint(s, p, e)}`) : []),
    `add rule ${T} ${chain} numgen random mod ${eps.length} vmap { ${eps.map((e, i) => `${i} : goto ${nftChain.endpoint(s, p, e)}`).join(' , ')} }`,
  ];
}

export type KubeProxyMode = 'iptables' | 'nftables';

/**
 * Loads kube-proxy's rules (and, in iptables mode, flannel's) into every node of a lab, replacing
 * whatever rules the node had: iptables-restore (Debian's iptables is iptables-nft) or nft -f.
 */
export function loadKubeProxy(lab: Lab, nodes: readonly KubeProxyNode[], services: readonly LabService[], mode: KubeProxyMode, opts: KubeProxyOptions): void {
  for (const n of nodes) {
    lab.execIn(n.name, ['nft', 'flush', 'ruleset']);
    if (mode === 'iptables') lab.execIn(n.name, ['iptables-restore'], { input: kubeProxyIptables(n, services, opts) });
    else lab.execIn(n.name, ['nft', '-f', '-'], { input: kubeProxyNft(n, services, opts) });
  }
}
