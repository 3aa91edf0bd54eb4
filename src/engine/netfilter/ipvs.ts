// IPVS: which virtual service takes a packet and which real server a new connection goes to. kube-proxy's
// IPVS mode puts each Service address on kube-ipvs0 (so the packet is local and reaches LOCAL_IN, where
// IPVS takes it) and one virtual service per address and port.
import { serviceKey } from '../../parsers/ipvs';
import type { IpvsDestRecord, IpvsServiceRecord } from '../../parsers';
import type { Ruleset } from './ruleset';
import type { NfEvidence, NfPacket } from './types';

export interface IpvsRealServer {
  addr: string;
  port: number;
  weight: number;
  forward: string;
  /** The chance a new connection is sent here: see `IpvsMatch.model`. */
  probability: number;
  evidence: NfEvidence;
}

export interface IpvsMatch {
  service: { protocol: string; addr?: string; port?: number; fwmark?: number; scheduler: string; persistent?: number; evidence: NfEvidence };
  realServers: IpvsRealServer[];
  /**
   * How the probabilities were made. `weight-proportional`: each server's share of the weights (wrr;
   * lc, wlc, sed, nq, lblc and the others also spread new connections by weight once load evens out, so
   * netpath takes them as weight-proportional); `equal`: rr sends to every server of weight > 0 in turn;
   * `hash`: sh/dh/mh pick by a hash of the address, one fixed server per client, unknown which: taken as
   * weight-proportional over clients.
   */
  model: 'weight-proportional' | 'equal' | 'hash';
  /** persistence (sessionAffinity): a returning client keeps its server for `persistent` seconds. */
  affinity?: number;
}

const ev = (host: string, r: { src: { line: number; raw: string } }): NfEvidence => ({ host, probe: 'ipvs', line: r.src.line, raw: r.src.raw });

/** The virtual service for this packet (by protocol, address and port, else by firewall mark), with its real servers. */
export function ipvsLookup(rs: Ruleset, pkt: NfPacket): IpvsMatch | undefined {
  const proto = pkt.proto.toUpperCase();
  const svc =
    rs.ipvs.services.find((s) => s.protocol === proto && s.addr !== undefined && s.addr.equals(pkt.dst) && s.port === pkt.dport) ??
    rs.ipvs.services.find((s) => s.protocol === 'FWM' && s.fwmark === pkt.mark && pkt.mark !== 0);
  if (!svc) return undefined;
  const key = serviceKey(svc);
  const dests = rs.ipvs.dests.filter((d) => d.service === key);
  return { service: describe(rs.host, svc), ...share(rs.host, svc, dests) };
}

function describe(host: string, s: IpvsServiceRecord): IpvsMatch['service'] {
  return {
    protocol: s.protocol,
    ...(s.addr && { addr: s.addr.toString() }),
    ...(s.port !== undefined && { port: s.port }),
    ...(s.fwmark !== undefined && { fwmark: s.fwmark }),
    scheduler: s.scheduler,
    ...(s.persistent !== undefined && { persistent: s.persistent }),
    evidence: ev(host, s),
  };
}

function share(host: string, s: IpvsServiceRecord, dests: readonly IpvsDestRecord[]): Omit<IpvsMatch, 'service'> {
  const model: IpvsMatch['model'] = s.scheduler === 'rr' ? 'equal' : ['sh', 'dh', 'mh'].includes(s.scheduler) ? 'hash' : 'weight-proportional';
  // Weight 0 quiesces a server: it takes no new connections under any scheduler.
  const live = dests.filter((d) => d.weight > 0);
  const total = model === 'equal' ? live.length : live.reduce((a, d) => a + d.weight, 0);
  const realServers = dests.map((d) => ({
    addr: d.addr.toString(),
    port: d.port,
    weight: d.weight,
    forward: d.forward,
    probability: d.weight > 0 && total > 0 ? (model === 'equal' ? 1 : d.weight) / total : 0,
    evidence: ev(host, d),
  }));
  return { realServers, model, ...(s.persistent !== undefined && { affinity: s.persistent }) };
}
