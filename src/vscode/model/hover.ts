// Hovers on IP addresses in any editor: a pure function from a line of text, a column and an index of
// the cluster's addresses to markdown with command links. It never waits on anything.
import { Addr } from '../../net/addr';
import { neighKey, type Network } from '../../engine/network';
import { checksFor, discrepanciesFor } from '../../engine/checks';
import { portEndpoints, servicesAt, type FrontendKind, type ServiceIndex } from '../../engine/services';
import { podBehindPort, upperWords, type UpperOf } from './bridges';
import type { KubeSection } from '../../capture/kubernetes';
import { hasPolicies, policyIndexOf } from '../../engine/policy';

/** The policies that govern a pod: NetworkPolicies selecting it per direction, and the admin tiers' policies whose subject it is. */
export interface PodPolicies {
  ingress: string[];
  egress: string[];
  admin: string[];
  baseline: string[];
}

/** Which policies select the pod `namespace/name` (undefined: the API section does not know the pod). */
export function podPolicies(kube: KubeSection, ref: string): PodPolicies | undefined {
  if (!hasPolicies(kube)) return undefined;
  const idx = policyIndexOf(kube);
  const pod = idx.cluster.byKey.get(ref);
  if (!pod) return undefined;
  const t = idx.tieredFor(pod);
  return {
    ingress: idx.selecting(pod, 'ingress').map((p) => p.key),
    egress: idx.selecting(pod, 'egress').map((p) => p.key),
    admin: t.admin.map((p) => `${p.name} (priority ${p.priority})`),
    baseline: t.baseline.map((p) => p.name),
  };
}

function policyLines(p: PodPolicies): string {
  const list = (xs: string[]) => xs.map((x) => `\`${x.replace(/`/g, "'")}\``).join(', ');
  const dir = (name: string, xs: string[]) => `${name}: ${xs.length ? `isolated by ${list(xs)}` : 'not isolated (no NetworkPolicy selects it)'}`;
  return [`**NetworkPolicy** — ${dir('ingress', p.ingress)}; ${dir('egress', p.egress)}`, ...(p.admin.length ? [`AdminNetworkPolicy: ${list(p.admin)}`] : []), ...(p.baseline.length ? [`BaselineAdminNetworkPolicy: ${list(p.baseline)}`] : [])].join('\n\n');
}

export interface IpInfo {
  ip: string;
  kind: 'pod' | 'node' | 'service';
  host: string;
  /** `namespace/name` for pods. */
  ref: string;
  node?: string | undefined;
  phase?: string | undefined;
  veth?: string | undefined;
  bridge?: string | undefined;
  mac?: string | undefined;
  /** The pod's interface is a macvlan/ipvlan or an 802.1Q sub-interface on this device of its node. */
  on?: (UpperOf & { parent?: string }) | undefined;
  /** What stands between the cluster and this pod (engine/checks.ts: the tree and a trace's diagnosis say the same). */
  problems?: string[];
}

/**
 * What stands between the cluster and this pod (engine/checks.ts: the tree and a trace's diagnosis say
 * the same): other nodes' routes and VTEP entries for its pod network, its own port and veth. Asked
 * per hover, not for the whole index: it reads every node's tables once per pod network.
 */
export function podProblems(net: Network, info: IpInfo): string[] | undefined {
  if (info.kind !== 'pod') return undefined;
  const a = Addr.parse(info.ip);
  if (!a.ok) return undefined;
  const found = [...discrepanciesFor(net, a.value), ...(info.node !== undefined ? checksFor(net, [info.node]).all.filter((d) => d.about.ip === info.ip) : [])].map((d) => d.text);
  return found.length ? [...new Set(found)] : undefined;
}

/**
 * Every pod and node address of a capture, with where it plugs in. Where a pod plugs into its node
 * (bridge, port, MAC) is worked out when that address is first looked up, not for every pod at once:
 * that reads the node's tables, and a 500-node capture has 15,000 pods.
 */
export function indexAddresses(net: Network): Map<string, IpInfo> {
  const out = new AddressIndex(net);
  for (const h of net.capture.hosts) {
    if (h.role === 'node') {
      for (const ip of h.ips ?? []) out.set(ip, { ip, kind: 'node', host: h.name, ref: h.name });
      continue;
    }
    if (h.role !== 'pod') continue;
    for (const ip of h.ips ?? []) {
      if (h.hostNetwork) continue;
      out.set(ip, { ip, kind: 'pod', host: h.name, ref: `${h.namespace ?? 'default'}/${h.pod ?? h.name}`, node: h.node });
    }
  }
  return out;
}

class AddressIndex extends Map<string, IpInfo> {
  private readonly placed = new WeakSet<IpInfo>();

  constructor(private readonly net: Network) {
    super();
  }

  override get(ip: string): IpInfo | undefined {
    const info = super.get(ip);
    if (info && info.kind === 'pod' && !this.placed.has(info)) {
      this.placed.add(info);
      place(this.net, info);
    }
    return info;
  }
}

/** The bridge, port and MAC a pod's address is behind on its node. */
function place(net: Network, info: IpInfo): void {
  const node = info.node !== undefined ? net.hosts.get(info.node) : undefined;
  if (!node) return;
  for (const br of node.ifaces.values()) {
    if (br.type !== 'bridge') continue;
    const n = node.neigh.get(neighKey(br.name, Addr.must(info.ip)));
    for (const p of node.ifaces.values()) {
      if (p.master !== br.name) continue;
      const pod = podBehindPort(net, node, p.name);
      if (pod?.kind === 'pod' && pod.host === info.host) {
        info.veth = p.name;
        info.bridge = br.name;
        info.mac = pod.mac ?? n?.lladdr;
      }
    }
  }
  // No veth: the pod's interface may be a macvlan/ipvlan or VLAN device whose parent is on the node.
  const ns = net.hosts.get(info.host);
  const eth = ns ? [...ns.ifaces.values()].find((i) => i.addrs.some((a) => a.local.toString() === info.ip)) : undefined;
  if (eth && (eth.type === 'macvlan' || eth.type === 'ipvlan' || eth.type === 'vlan')) {
    const l = eth.link;
    const mode = eth.type === 'macvlan' ? l?.macvlan?.mode : eth.type === 'ipvlan' ? l?.ipvlan?.mode : undefined;
    const parent = l?.linkIndex !== undefined ? node.byIndex.get(l.linkIndex)?.name : undefined;
    info.on = { type: eth.type, dev: eth.name, ...(mode ? { mode } : {}), ...(eth.type === 'vlan' && l?.vlan ? { id: l.vlan.id } : {}), ...(parent ? { parent } : {}) };
    info.mac ??= eth.mac?.toString();
  }
}

const IPV4 = /(?<![\d.])(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}(?![\d.])/g;
const IPV6 = /(?<![\w:.])(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}(?![\w:])/g;

/** The IP address under `column` (0-based) in `line`, if any, with its range. */
export function ipAt(line: string, column: number): { ip: string; start: number; end: number } | undefined {
  for (const re of [IPV4, IPV6]) {
    re.lastIndex = 0;
    for (let m = re.exec(line); m; m = re.exec(line)) {
      const start = m.index;
      const end = start + m[0].length;
      if (column >= start && column <= end) {
        const a = Addr.parse(m[0]);
        if (a.ok) return { ip: a.value.toString(), start, end };
      }
    }
  }
  return undefined;
}

/** Escapes text for markdown, so cluster names are shown as text and never as markup or links. */
export function mdEscape(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>&]/g, (c) => `\\${c}`);
}

function commandLink(label: string, command: string, args: unknown): string {
  return `[${label}](command:${command}?${encodeURIComponent(JSON.stringify([args]))})`;
}

/** A Service port an address answers for, with the endpoints the EndpointSlices list for it. */
export interface ServiceAtAddress {
  /** `namespace/name` */
  service: string;
  type: string;
  via: FrontendKind;
  /** The address as it reaches the Service (a ClusterIP, LoadBalancer IP, externalIP, or a node's address for a NodePort). */
  ip: string;
  port: { name: string; port: number; protocol: string; targetPort: number | string; nodePort?: number };
  /** What `--to` takes for it: `svc/default/web:http`. */
  ref: string;
  /** Whether the capture has EndpointSlices at all (absent: the endpoints are unknown, not none). */
  slices: boolean;
  endpoints: { ip: string; port: number; ready: boolean; pod?: string; node?: string }[];
}

/** The Service ports behind an address: its ClusterIP/LoadBalancer IP/externalIP ports, or a node's NodePorts. */
export function servicesAtAddress(ix: ServiceIndex, ip: string): ServiceAtAddress[] {
  return servicesAt(ix, ip).map((m) => ({
    service: m.service.key,
    type: m.service.type,
    via: m.via,
    ip,
    port: { name: m.port.name, port: m.port.port, protocol: m.port.protocol, targetPort: m.port.targetPort, ...(m.port.nodePort !== undefined ? { nodePort: m.port.nodePort } : {}) },
    ref: `svc/${m.service.key}:${m.port.name || m.port.port}`,
    slices: ix.haveSlices,
    endpoints: portEndpoints(ix, m.service, m.port).map((e) => ({ ip: e.ip, port: e.port, ready: e.ready, ...(e.pod !== undefined ? { pod: e.pod } : {}), ...(e.nodeName !== undefined ? { node: e.nodeName } : {}) })),
  }));
}

const VIA_TEXT: Record<FrontendKind, string> = { 'cluster-ip': 'ClusterIP', 'external-ip': 'external IP', 'load-balancer': 'LoadBalancer IP', 'node-port': 'NodePort' };
/** Endpoints listed in a hover; the rest are counted. */
const HOVER_ENDPOINTS = 6;
/** Service ports listed in a hover (a node address answers every NodePort); the rest are counted. */
const HOVER_PORTS = 8;

const code = (s: string) => `\`${s.replace(/`/g, "'")}\``;

function serviceLines(list: readonly ServiceAtAddress[]): string[] {
  const lines: string[] = [];
  const shown = list.slice(0, HOVER_PORTS);
  for (const key of [...new Set(shown.map((s) => `${s.service}\u0000${s.via}`))]) {
    const ports = shown.filter((s) => `${s.service}\u0000${s.via}` === key);
    const first = ports[0]!;
    lines.push(`**Service** ${code(first.service)} — ${mdEscape(first.type)}, ${VIA_TEXT[first.via]} ${mdEscape(first.ip)}`);
    for (const s of ports) {
      const p = s.port;
      const at = s.via === 'node-port' ? `${p.nodePort}/${p.protocol} (port ${p.port})` : `${p.port}/${p.protocol}`;
      const ready = s.endpoints.filter((e) => e.ready);
      const eps = !s.slices
        ? 'endpoints unknown (the capture has no EndpointSlices)'
        : s.endpoints.length === 0
          ? 'no endpoints (kube-proxy rejects new connections)'
          : `${ready.length} of ${s.endpoints.length} endpoint${s.endpoints.length === 1 ? '' : 's'} ready: ${s.endpoints
              .slice(0, HOVER_ENDPOINTS)
              .map((e) => `${mdEscape(e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`)}${e.pod ? ` ${code(e.pod)}` : ''}${e.node ? ` on ${mdEscape(e.node)}` : ''}${e.ready ? '' : ' (not ready)'}`)
              .join(', ')}${s.endpoints.length > HOVER_ENDPOINTS ? `, and ${s.endpoints.length - HOVER_ENDPOINTS} more` : ''}`;
      lines.push(`- ${p.name ? `${code(p.name)} ` : ''}${at} → ${mdEscape(String(p.targetPort))}: ${eps} · ${commandLink('Trace to this port', 'netpath.traceTo', { ref: s.ref })}`);
    }
  }
  if (list.length > shown.length) lines.push(`and ${list.length - shown.length} more Service ports`);
  return lines;
}

/**
 * Markdown for the address, or undefined when it is neither a known pod or node address nor a
 * Service's: a pod or node first, then the Service ports the address answers for (a ClusterIP, a
 * LoadBalancer IP, a node's NodePorts).
 */
export function hoverMarkdown(info: IpInfo | undefined, services: readonly ServiceAtAddress[] = [], policies?: PodPolicies): string | undefined {
  if (!info) return services.length ? serviceLines(services).join('\n\n') : undefined;
  return [hostMarkdown(info), ...(policies ? [policyLines(policies)] : []), ...(services.length ? [serviceLines(services).join('\n\n')] : [])].join('\n\n');
}

function hostMarkdown(info: IpInfo): string {
  const lines: string[] = [];
  if (info.kind === 'pod') {
    lines.push(`**pod** \`${info.ref.replace(/`/g, "'")}\` — ${mdEscape(info.ip)}`);
    const where = [info.node ? `node ${mdEscape(info.node)}` : undefined, info.phase ? mdEscape(info.phase) : undefined].filter(Boolean).join(', ');
    if (where) lines.push(where);
    const wire = [info.veth ? `veth ${mdEscape(info.veth)}` : undefined, info.bridge ? `bridge ${mdEscape(info.bridge)}` : undefined, info.mac ? `MAC ${mdEscape(info.mac)}` : undefined].filter(Boolean).join(' · ');
    if (wire) lines.push(wire);
    if (info.on) lines.push(mdEscape(`${info.on.dev} is ${upperWords(info.on)}${info.on.parent ? ` on ${info.on.parent}` : ''}${info.node ? ` of ${info.node}` : ''}`));
    for (const p of info.problems ?? []) lines.push(`⚠ ${mdEscape(p)}`);
  } else {
    lines.push(`**${info.kind}** \`${info.ref.replace(/`/g, "'")}\` — ${mdEscape(info.ip)}`);
  }
  lines.push(`${commandLink('Trace from here', 'netpath.traceFrom', { ref: info.kind === 'pod' ? info.ref : info.host })} · ${commandLink('Trace to here', 'netpath.traceTo', { ref: info.ip })}`);
  return lines.join('\n\n');
}
