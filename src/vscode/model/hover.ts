// Hovers on IP addresses in any editor: a pure function from a line of text, a column and an index of
// the cluster's addresses to markdown with command links. It never waits on anything.
import { Addr } from '../../net/addr';
import { neighKey, type Network } from '../../engine/network';
import { podBehindPort } from './bridges';

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
}

/** Every pod and node address of a capture, with where it plugs in. */
export function indexAddresses(net: Network): Map<string, IpInfo> {
  const out = new Map<string, IpInfo>();
  for (const h of net.capture.hosts) {
    if (h.role === 'node') {
      for (const ip of h.ips ?? []) out.set(ip, { ip, kind: 'node', host: h.name, ref: h.name });
      continue;
    }
    if (h.role !== 'pod') continue;
    for (const ip of h.ips ?? []) {
      if (h.hostNetwork) continue;
      const info: IpInfo = { ip, kind: 'pod', host: h.name, ref: `${h.namespace ?? 'default'}/${h.pod ?? h.name}`, node: h.node };
      const node = h.node !== undefined ? net.hosts.get(h.node) : undefined;
      if (node) {
        for (const br of node.ifaces.values()) {
          if (br.type !== 'bridge') continue;
          const n = node.neigh.get(neighKey(br.name, Addr.must(ip)));
          for (const p of node.ifaces.values()) {
            if (p.master !== br.name) continue;
            const pod = podBehindPort(net, node, p.name);
            if (pod?.kind === 'pod' && pod.host === h.name) {
              info.veth = p.name;
              info.bridge = br.name;
              info.mac = pod.mac ?? n?.lladdr;
            }
          }
        }
      }
      out.set(ip, info);
    }
  }
  return out;
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

/** Markdown for the address, or undefined when it is not a known pod or node address. */
export function hoverMarkdown(info: IpInfo | undefined): string | undefined {
  if (!info) return undefined;
  const lines: string[] = [];
  if (info.kind === 'pod') {
    lines.push(`**pod** \`${info.ref.replace(/`/g, "'")}\` — ${mdEscape(info.ip)}`);
    const where = [info.node ? `node ${mdEscape(info.node)}` : undefined, info.phase ? mdEscape(info.phase) : undefined].filter(Boolean).join(', ');
    if (where) lines.push(where);
    const wire = [info.veth ? `veth ${mdEscape(info.veth)}` : undefined, info.bridge ? `bridge ${mdEscape(info.bridge)}` : undefined, info.mac ? `MAC ${mdEscape(info.mac)}` : undefined].filter(Boolean).join(' · ');
    if (wire) lines.push(wire);
  } else {
    lines.push(`**${info.kind}** \`${info.ref.replace(/`/g, "'")}\` — ${mdEscape(info.ip)}`);
  }
  lines.push(`${commandLink('Trace from here', 'netpath.traceFrom', { ref: info.kind === 'pod' ? info.ref : info.host })} · ${commandLink('Trace to here', 'netpath.traceTo', { ref: info.ip })}`);
  return lines.join('\n\n');
}
