// Default names of exported traces: what was traced, with which packet, and how it ended, so that a
// folder of exports tells them apart (`trace-default_web-0-to-default_web-1-tcp80-64B-delivered`).
// Names are cluster data: only safe characters survive. Pure: no vscode here.
import type { ShowTrace } from '../../shared/protocol';

const clean = (s: string) => s.replace(/[^A-Za-z0-9.-]+/g, '_').replace(/^[_.]+|_+$/g, '').slice(0, 60) || 'x';

/** The file name, without extension, for an export of the trace `m` shows. */
export function fileStem(m: ShowTrace): string {
  const f = m.trace.flow;
  const proto = m.request.proto ?? f.proto;
  const port = m.request.port ?? f.dport;
  const packet = `${proto}${proto !== 'icmp' && port !== undefined ? port : ''}-${m.request.size ?? f.size}B`;
  return `trace-${clean(m.request.from)}-to-${clean(m.request.to)}-${packet}-${clean(m.trace.verdict)}`;
}
