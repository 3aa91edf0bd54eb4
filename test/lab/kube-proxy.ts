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
// A node's rules depend on where the endpoints run (externalTrafficPolicy Local), so each is made per node.
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
  /** Default Cluster. Only meaningful with NodePorts. */
  externalTrafficPolicy?: 'Cluster' | 'Local';
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

/** The endpoints this node's rules send a Service's external traffic to under its policy. */
const localEndpoints = (s: LabService, node: KubeProxyNode) => s.endpoints.filter((e) => e.node === node.name);
const isLocalPolicy = (s: LabService) => s.externalTrafficPolicy === 'Local';

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
      const eps = s.endpoints;
      const local = localEndpoints(s, node);
      const cip = `${s.clusterIP}/32`;
      if (eps.length === 0) {
        filter.push(`-A KUBE-SERVICES -d ${cip} -p ${pr} -m comment --comment "${name} has no endpoints" -m ${pr} --dport ${p.port} -j REJECT --reject-with icmp-port-unreachable`);
        if (p.nodePort !== undefined) filter.push(`-A KUBE-EXTERNAL-SERVICES -p ${pr} -m comment --comment "${name} has no endpoints" -m addrtype --dst-type LOCAL -m ${pr} --dport ${p.nodePort} -j REJECT --reject-with icmp-port-unreachable`);
        continue;
      }
      const svc = iptChain.svc(s, p);
      natChains.add(svc);
      services_.push(`-A KUBE-SERVICES -d ${cip} -p ${pr} -m comment --comment "${name} cluster IP" -m ${pr} --dport ${p.port} -j ${svc}`);
      chains.push(`-A ${svc} ! -s ${opts.clusterCIDR} -d ${cip} -p ${pr} -m comment --comment "${name} cluster IP" -m ${pr} --dport ${p.port} -j KUBE-MARK-MASQ`);
      const pick = (chain: string, list: readonly LabEndpoint[]) =>
        list.forEach((e, i) => {
          const stat = i < list.length - 1 ? ` -m statistic --mode random --probability ${probability(list.length - i)}` : '';
          chains.push(`-A ${chain} -m comment --comment "${name} -> ${endpointString(e, p)}"${stat} -j ${iptChain.sep(s, p, e)}`);
        });
      pick(svc, eps);
      const used = new Set(eps);
      if (p.nodePort !== undefined) {
        const ext = iptChain.ext(s, p);
        natChains.add(ext);
        nodeports.push(`-A KUBE-NODEPORTS -p ${pr} -m comment --comment "${name}" -m ${pr} --dport ${p.nodePort} -j ${ext}`);
        if (!isLocalPolicy(s)) {
          chains.push(`-A ${ext} -m comment --comment "masquerade traffic for ${name} external destinations" -j KUBE-MARK-MASQ`, `-A ${ext} -j ${svc}`);
        } else {
          chains.push(
            `-A ${ext} -s ${opts.clusterCIDR} -m comment --comment "pod traffic for ${name} external destinations" -j ${svc}`,
            `-A ${ext} -m comment --comment "masquerade LOCAL traffic for ${name} external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`,
            `-A ${ext} -m comment --comment "route LOCAL traffic for ${name} external destinations" -m addrtype --src-type LOCAL -j ${svc}`,
          );
          if (local.length) {
            const svl = iptChain.svl(s, p);
            natChains.add(svl);
            chains.push(`-A ${ext} -j ${svl}`);
            pick(svl, local);
          } else {
            filter.push(`-A KUBE-EXTERNAL-SERVICES -p ${pr} -m comment --comment "${name} has no local endpoints" -m addrtype --dst-type LOCAL -m ${pr} --dport ${p.nodePort} -j DROP`);
          }
        }
      }
      for (const e of used) {
        const sep = iptChain.sep(s, p, e);
        natChains.add(sep);
        chains.push(`-A ${sep} -s ${e.ip}/32 -m comment --comment "${name}" -j KUBE-MARK-MASQ`, `-A ${sep} -p ${pr} -m comment --comment "${name}" -m ${pr} -j DNAT --to-destination ${endpointString(e, p)}`);
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

/** nftables mode's chain names (hashAndTruncate of `ns/svc/proto/port[__ip/port]`). */
export const nftChain = {
  base: (s: LabService, p: LabServicePort) => {
    const n = `${s.namespace}/${s.name}/${proto(p)}/${p.name}`;
    return `${sha32(n).slice(0, 8)}-${n}`;
  },
  endpoint: (s: LabService, p: LabServicePort, e: LabEndpoint) => {
    const n = `${s.namespace}/${s.name}/${proto(p)}/${p.name}__${e.ip}/${p.targetPort}`;
    return `endpoint-${sha32(n).slice(0, 8)}-${n}`;
  },
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
      const local = localEndpoints(s, node);
      const hasEndpoints = s.endpoints.length > 0;
      const usesExternal = hasEndpoints && p.nodePort !== undefined;
      const hasExternalEndpoints = hasEndpoints && (!isLocalPolicy(s) || local.length > 0);
      const clusterChain = `service-${b}`;
      const localChain = `local-${b}`;
      const extChain = `external-${b}`;
      const endpointsUsed = hasEndpoints ? [...s.endpoints] : [];
      if (hasEndpoints) chainDecl.push(clusterChain);
      if (usesExternal && isLocalPolicy(s) && local.length) chainDecl.push(localChain);
      if (usesExternal) chainDecl.push(extChain);
      for (const e of endpointsUsed) chainDecl.push(nftChain.endpoint(s, p, e));
      const spn = servicePortName(s, p);
      const verdictFor = (hasAny: boolean) => (hasAny ? undefined : hasEndpoints ? 'drop' : 'goto reject-chain');
      rules.push(`add element ${T} cluster-ips { ${s.clusterIP} }`);
      if (hasEndpoints) {
        rules.push(`add element ${T} service-ips { ${s.clusterIP} . ${pr} . ${p.port} : goto ${clusterChain} }`);
        rules.push(`add rule ${T} ${clusterChain} ip daddr ${s.clusterIP} ${pr} dport ${p.port} ip saddr != ${opts.clusterCIDR} jump mark-for-masquerade`);
        rules.push(vmapRule(T, clusterChain, s, p, s.endpoints));
      } else {
        rules.push(`add element ${T} no-endpoint-services { ${s.clusterIP} . ${pr} . ${p.port} comment "${spn}" : ${verdictFor(false)} }`);
      }
      if (p.nodePort !== undefined) {
        if (hasEndpoints) rules.push(`add element ${T} service-nodeports { ${pr} . ${p.nodePort} : goto ${extChain} }`);
        if (!hasExternalEndpoints) rules.push(`add element ${T} no-endpoint-nodeports { ${pr} . ${p.nodePort} comment "${spn}" : ${verdictFor(false)} }`);
      }
      if (usesExternal) {
        if (!isLocalPolicy(s)) {
          rules.push(`add rule ${T} ${extChain} jump mark-for-masquerade`);
        } else {
          rules.push(
            `add rule ${T} ${extChain} ip saddr ${opts.clusterCIDR} goto ${clusterChain} comment "short-circuit pod traffic"`,
            `add rule ${T} ${extChain} fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"`,
            `add rule ${T} ${extChain} fib saddr type local goto ${clusterChain} comment "short-circuit local traffic"`,
          );
        }
        if (hasExternalEndpoints) rules.push(`add rule ${T} ${extChain} goto ${isLocalPolicy(s) ? localChain : clusterChain}`);
        if (isLocalPolicy(s) && local.length) rules.push(vmapRule(T, localChain, s, p, local));
      }
      for (const e of endpointsUsed) {
        const ec = nftChain.endpoint(s, p, e);
        rules.push(`add rule ${T} ${ec} ip saddr ${e.ip} jump mark-for-masquerade`, `add rule ${T} ${ec} meta l4proto ${pr} dnat to ${endpointString(e, p)}`);
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

/** writeServiceToEndpointRules: `numgen random mod N vmap { 0 : goto endpoint-..., ... }`. */
function vmapRule(T: string, chain: string, s: LabService, p: LabServicePort, eps: readonly LabEndpoint[]): string {
  return `add rule ${T} ${chain} numgen random mod ${eps.length} vmap { ${eps.map((e, i) => `${i} : goto ${nftChain.endpoint(s, p, e)}`).join(' , ')} }`;
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
