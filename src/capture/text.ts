// Plain-text renderings (terminal tables, the capture summary) shared by the CLI and the extension's output.
import type { CaptureSummary } from './summary';
import type { ParseIssue, ProbeRecord } from '../parsers';
import { recentClock } from '../parsers/xtRecent';

/** Control characters from captured data (a hostile pod name, a raw line) never reach the terminal as-is. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => (c === '\t' ? ' ' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

export function table(header: string[], body: string[][]): string {
  const rows = body.map((r) => r.map(printable));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [fmt(header), ...rows.map(fmt)].join('\n') + '\n';
}

const s = (v: unknown): string => (v === undefined || v === null ? '' : Array.isArray(v) ? v.join(',') : String(v));
const kv = (pairs: [string, unknown][]): string =>
  pairs
    .filter(([, v]) => v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0) && v !== false)
    .map(([k, v]) => (v === true ? k : `${k} ${s(v)}`))
    .join(' ');

/** One row per record: line number, kind, the record's key and the rest as `key value` pairs. */
export function recordRow(r: ProbeRecord): string[] {
  switch (r.kind) {
    case 'link':
      return [s(r.src.line), 'link', r.ifname, kv([['type', r.type], ['state', r.operstate], ['mtu', r.mtu], ['master', r.master], ['peer-ifindex', r.linkIndex], ['link', r.link], ['netnsid', r.linkNetnsid], ['address', r.address], ['vni', r.vxlan?.id], ['local', r.vxlan?.local], ['dstport', r.vxlan?.dstport]])];
    case 'addr':
      return [s(r.src.line), 'addr', `${r.local}/${r.prefixlen}`, kv([['dev', r.dev], ['scope', r.scope], ['brd', r.broadcast], ['flags', r.flags]])];
    case 'route':
      return [s(r.src.line), 'route', `${r.type === 'unicast' ? '' : r.type + ' '}${r.dst}`, kv([['table', r.table], ['via', r.gateway ?? (r.unresolvedGateway && `${r.unresolvedGateway.name} (name, unresolved)`)], ['dev', r.dev], ['proto', r.protocol], ['scope', r.scope], ['src', r.prefsrc], ['metric', r.metric], ['flags', r.flags], ['nexthops', r.nexthops?.map((n) => `${n.gateway ?? ''}@${n.dev ?? ''}`)]])];
    case 'rule':
      return [s(r.src.line), 'rule', String(r.priority), kv([['not', r.not], ['from', r.from], ['to', r.to], ['iif', r.iif], ['oif', r.oif], ['fwmark', r.fwmark && `0x${r.fwmark.value.toString(16)}${r.fwmark.mask !== undefined ? `/0x${r.fwmark.mask.toString(16)}` : ''}`], [r.action, r.table ?? r.goto ?? true], ['suppress_prefixlength', r.suppressPrefixlength]])];
    case 'neigh':
      return [s(r.src.line), 'neigh', r.dst.toString(), kv([['name', r.hostname], ['dev', r.dev], ['lladdr', r.lladdr], ['state', r.state], ['router', r.router], ['proxy', r.proxy], ['extern_learn', r.externLearn]])];
    case 'fdb':
      return [s(r.src.line), 'fdb', r.mac, kv([['dev', r.dev], ['master', r.master], ['vlan', r.vlan], ['dst', r.dst], ['vni', r.vni], ['port', r.port], ['self', r.self], ['state', r.state], ['flags', r.flags]])];
    case 'bridge-port':
      return [s(r.src.line), 'bridge-port', r.bridge, kv([['port', r.port ?? '(none)'], ['id', r.bridgeId], ['stp', r.stp ? 'yes' : 'no']])];
    case 'bridge-vlan':
      return [s(r.src.line), 'bridge-vlan', r.port, kv([['vlan', r.vlanEnd !== undefined ? `${r.vlan}-${r.vlanEnd}` : r.vlan], ['pvid', r.pvid], ['untagged', r.untagged], ['state', r.state]])];
    case 'sysctl':
      return [s(r.src.line), 'sysctl', r.key, r.value];
    case 'iptables-chain':
      return [s(r.src.line), 'chain', `${r.table ?? '?'}/${r.chain}`, kv([['policy', r.policy ?? '-']])];
    case 'iptables-rule':
      return [s(r.src.line), 'rule', `${r.table ?? '?'}/${r.chain}`, r.tokens.join(' ')];
    case 'ipset':
      return [s(r.src.line), 'ipset', r.name, kv([['type', r.type], ['family', r.family && `inet${r.family === 6 ? '6' : ''}`]])];
    case 'ipset-member':
      return [s(r.src.line), 'member', r.set, r.entry];
    case 'ipvs-service':
      return [s(r.src.line), 'ipvs-service', r.protocol === 'FWM' ? `FWM ${r.fwmark}` : `${r.protocol} ${r.addr}:${r.port}`, kv([['scheduler', r.scheduler], ['persistent', r.persistent]])];
    case 'ipvs-dest':
      return [s(r.src.line), 'ipvs-dest', r.service, kv([['to', `${r.addr}:${r.port}`], ['forward', r.forward], ['weight', r.weight]])];
    case 'nft-table':
      return [s(r.src.line), 'nft-table', `${r.family} ${r.name}`, ''];
    case 'nft-chain':
      return [s(r.src.line), 'nft-chain', `${r.family} ${r.table} ${r.name}`, kv([['type', r.type], ['hook', r.hook], ['priority', r.priority], ['policy', r.policy]])];
    case 'nft-rule':
      return [s(r.src.line), 'nft-rule', `${r.family} ${r.table} ${r.chain}`, r.src.raw.trim()];
    case 'nft-set':
      return [s(r.src.line), r.map ? 'nft-map' : 'nft-set', `${r.family} ${r.table} ${r.name}`, kv([['type', r.keyType.join(' . ') + (r.dataType ? ` : ${r.dataType}` : '')], ['elements', r.elements.length]])];
    case 'wg-interface':
      return [s(r.src.line), 'wg-interface', r.ifname, kv([['public-key', r.publicKey], ['listen-port', r.listenPort], ['fwmark', r.fwmark]])];
    case 'wg-peer':
      return [s(r.src.line), 'wg-peer', r.ifname, kv([['public-key', r.publicKey], ['endpoint', r.endpoint && `${r.endpoint.addr}:${r.endpoint.port}`], ['allowed-ips', r.allowedIps.map(String)], ['latest-handshake', r.latestHandshake]])];
    case 'xt-recent-entry':
      return [s(r.src.line), 'xt-recent', r.list, kv([['client', r.client], ['ttl', r.ttl], ['last-seen', r.lastSeen], ['hits', r.hits.length]])];
    case 'xt-recent-clock': {
      const clock = recentClock([r]);
      return [s(r.src.line), 'xt-recent-clock', '', kv([['now-ns', r.nowNs], ['jiffies', r.jiffies], ['hz', clock && `${clock.hz} (derived)`]])];
    }
  }
}

export function recordsTable(records: ProbeRecord[], issues: ParseIssue[]): string {
  let out = table(['LINE', 'KIND', 'KEY', 'DETAILS'], records.map(recordRow));
  if (issues.length) out += '\n' + table(['LINE', 'ISSUE', 'RAW'], issues.map((i) => [String(i.line), i.message, i.raw]));
  return out;
}

const KIND_NAMES: Record<string, [string, string]> = {
  namespaces: ['Namespace', 'Namespaces'],
  nodes: ['Node', 'Nodes'],
  pods: ['Pod', 'Pods'],
  services: ['Service', 'Services'],
  endpointSlices: ['EndpointSlice', 'EndpointSlices'],
  networkPolicies: ['NetworkPolicy', 'NetworkPolicies'],
  adminNetworkPolicies: ['AdminNetworkPolicy', 'AdminNetworkPolicies'],
  baselineAdminNetworkPolicies: ['BaselineAdminNetworkPolicy', 'BaselineAdminNetworkPolicies'],
};

export function summaryText(sum: CaptureSummary): string {
  const lines: string[] = [];
  const head = [sum.cluster ? `cluster ${sum.cluster}` : 'capture', sum.capturedAt ? `captured ${sum.capturedAt}` : ''].filter(Boolean).join(', ');
  lines.push(printable(head));
  if (sum.cni) lines.push(printable(`CNI: ${sum.cni.name}${sum.cni.backend ? ` (${sum.cni.backend})` : ''}${sum.cni.evidence.length ? `, from ${sum.cni.evidence.join('; ')}` : ''}`));
  const c = sum.counts;
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : w.endsWith('h') ? 'es' : 's'}`;
  lines.push(`${plural(c.node, 'node')}, ${plural(c.pod, 'pod')}, ${plural(c.switch, 'switch')}, ${plural(c.router, 'router')}; ${plural(sum.links, 'link')}`);
  if (sum.kubernetes) {
    const kinds = Object.entries(sum.kubernetes).map(([l, n]) => {
      const [one, many] = KIND_NAMES[l] ?? [l, l];
      return `${n} ${n === 1 ? one : many}`;
    });
    lines.push(`Kubernetes API: ${kinds.join(', ')}`);
  }
  lines.push('');
  const rows = sum.hosts.map((h) => [
    h.name,
    h.role,
    h.where ?? '',
    h.ips.join(',') || '-',
    h.probes.map((p) => `${p.probe}(${p.records}${p.issues.length ? `, ${p.issues.length}!` : ''})`).join(' ') || '(no probes)',
  ]);
  lines.push(table(['HOST', 'ROLE', 'WHERE', 'IPS', 'PROBES (records, issues!)'], rows).trimEnd());
  lines.push('');
  if (sum.totalIssues === 0) lines.push('parse issues: none');
  else {
    lines.push(`parse issues: ${sum.totalIssues}`);
    for (const h of sum.hosts) for (const p of h.probes) for (const i of p.issues) lines.push(printable(`  ${h.name} ${p.probe} line ${i.line}: ${i.message}: ${i.raw}`));
  }
  for (const w of sum.warnings) lines.push(printable(`warning: ${w.path}: ${w.message}`));
  return lines.join('\n') + '\n';
}
