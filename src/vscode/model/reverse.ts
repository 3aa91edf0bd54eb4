// The reverse of a trace: the same packet (protocol, size) from where the path ended back to where it
// started, for asymmetric routes and rp_filter. A reply goes from the server's port to the client's:
// the ports swap. Pure data, no VS Code.
import type { TracePath, TraceRequestInfo, TraceResult } from '../../shared/protocol';

export interface ReverseRequest {
  request: TraceRequestInfo;
  /** One or more sentences saying what was reversed and what was assumed. */
  note: string;
}

/** The path whose end the reverse starts from: the first delivered one, else the first. */
function reachedPath(t: TraceResult): TracePath | undefined {
  return t.paths.find((p) => p.verdict === 'delivered' && !p.floodCopy) ?? t.paths[0];
}

/**
 * The request that traces `trace` the other way. From: the host the packet was delivered to (for a
 * Service, the endpoint the path reached), else the destination address. To: the request's source as
 * the user named it. Ports: the reply leaves from the port the packet reached (the endpoint's after a
 * DNAT) for the client's source port; without a known source port, the reverse has no port.
 */
export function reverseRequest(original: { request: TraceRequestInfo; trace: TraceResult }): ReverseRequest {
  const { request: req, trace: t } = original;
  const path = reachedPath(t);
  const delivered = path?.verdict === 'delivered';
  const endHost = delivered ? path.hops.at(-1)?.host : undefined;
  const endpoint = path?.endpoint;
  let from: string;
  const notes: string[] = [];
  const forward = `${req.from} → ${req.to}`;
  if (endpoint && t.service !== undefined) {
    from = endHost ?? endpoint.ip;
    const several = t.paths.filter((p) => p.endpoint !== undefined).length > 1;
    notes.push(`Reverse of ${forward}: from the Service endpoint ${endpoint.ip}${endpoint.port !== undefined ? `:${endpoint.port}` : ''}${endHost && endHost !== endpoint.ip ? ` (${endHost})` : ''}${several ? ', the first path\'s endpoint,' : ''} back to ${req.from}.`);
  } else {
    from = endHost ?? t.to.host ?? t.to.ip;
    notes.push(`Reverse of ${forward}: from ${from} back to ${req.from}.`);
  }
  const out: TraceRequestInfo = { from, to: req.from };
  if (req.size !== undefined) out.size = req.size;
  else out.size = t.flow.size;
  out.proto = req.proto ?? t.flow.proto;
  if (out.proto !== 'icmp') {
    const serverPort = endpoint?.port ?? t.flow.dport ?? req.port;
    const clientPort = req.sport ?? t.flow.sport;
    if (clientPort !== undefined) out.port = clientPort;
    if (serverPort !== undefined) out.sport = serverPort;
    if (clientPort === undefined) {
      notes.push(`The client's source port is not known (the kernel picks an ephemeral one), so the reply is traced with no destination port${serverPort !== undefined ? `, from port ${serverPort}` : ''}: rules that match the destination port cannot decide.`);
    }
  }
  return { request: out, note: notes.join(' ') };
}
