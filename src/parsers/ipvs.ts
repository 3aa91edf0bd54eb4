// `ipvsadm -Ln`: the IPVS virtual services and their real servers, as kube-proxy's IPVS mode programs
// them (its VIPs are also addresses on the kube-ipvs0 dummy device):
//
//   IP Virtual Server version 1.2.1 (size=4096)
//   Prot LocalAddress:Port Scheduler Flags
//     -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
//   TCP  10.96.0.1:443 rr
//     -> 192.168.0.10:6443            Masq    1      0          0
//   UDP  [fd00:10:96::a]:53 rr persistent 10800
//   FWM  1 wrr
//
// Line layout follows ipvsadm's print_service_entry/print_title (ipvsadm.c): the protocol, the virtual
// address, the scheduler, then `persistent N` and `mask M` (IPv4 netmask) or `ops`; real servers are
// indented `->` lines with the forwarding method and counters.
import { Addr } from '../net/addr';
import { Collector, lines, uint } from './common';
import type { IpvsDestRecord, IpvsServiceRecord, ParseResult } from './types';

type Rec = IpvsServiceRecord | IpvsDestRecord;

/** `10.96.0.1:443` or `[fd00::1]:443`. */
function hostPort(text: string): { addr: Addr; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!m) return undefined;
  const a = Addr.parse(m[1]!);
  const port = Number(m[2]);
  return a.ok && port <= 65535 ? { addr: a.value, port } : undefined;
}

export function serviceKey(s: Pick<IpvsServiceRecord, 'protocol' | 'addr' | 'port' | 'fwmark'>): string {
  if (s.protocol === 'FWM') return `FWM ${s.fwmark}`;
  const a = s.addr!;
  return `${s.protocol} ${a.family === 6 ? `[${a}]` : a}:${s.port}`;
}

export function parseIpvs(text: string): ParseResult<Rec> {
  const ls = lines(text);
  const c = new Collector<Rec>(ls.length === 0 ? 'empty' : 'ipvsadm');
  let current: IpvsServiceRecord | undefined;
  c.each(ls, (l) => {
    const raw = l.raw.trim();
    // A pasted command line (`[root@n1 ~]# ipvsadm -L -n`) and ipvsadm's own header lines.
    if (/(^|[\s#$])ipvsadm(\s|$)/.test(raw) && !raw.startsWith('->')) return;
    if (/^IP Virtual Server version/.test(raw) || /^Prot\s+LocalAddress/.test(raw) || /^->\s+RemoteAddress/.test(raw)) return;
    const w = raw.split(/\s+/);
    if (w[0] === '->') {
      if (!current) return c.issue(l, 'a real server line before any virtual service');
      const hp = hostPort(w[1] ?? '');
      const [weight, active, inact] = [uint(w[3]), uint(w[4]), uint(w[5])];
      if (!hp || w[2] === undefined || weight === undefined || active === undefined || inact === undefined) {
        return c.issue(l, 'expected `-> ADDRESS:PORT FORWARD WEIGHT ACTIVECONN INACTCONN`');
      }
      c.records.push({ kind: 'ipvs-dest', service: serviceKey(current), addr: hp.addr, port: hp.port, forward: w[2], weight, activeConn: active, inactConn: inact, src: { line: l.line, raw: l.raw } });
      return;
    }
    const proto = w[0];
    if (proto === 'TCP' || proto === 'UDP' || proto === 'SCTP' || proto === 'FWM') {
      const rec: IpvsServiceRecord = { kind: 'ipvs-service', protocol: proto, scheduler: w[2] ?? '', src: { line: l.line, raw: l.raw } };
      if (proto === 'FWM') {
        const mark = w[1]?.startsWith('0x') ? parseInt(w[1], 16) : uint(w[1]);
        if (mark === undefined || !Number.isFinite(mark)) return c.issue(l, 'expected `FWM MARK SCHEDULER`');
        rec.fwmark = mark;
      } else {
        const hp = hostPort(w[1] ?? '');
        if (!hp) return c.issue(l, `expected \`${proto} ADDRESS:PORT SCHEDULER\``);
        rec.addr = hp.addr;
        rec.port = hp.port;
      }
      if (!rec.scheduler) return c.issue(l, 'the virtual service has no scheduler');
      const flags: string[] = [];
      for (let i = 3; i < w.length; i++) {
        if (w[i] === 'persistent') rec.persistent = uint(w[++i]) ?? 0;
        else if (w[i] === 'mask') rec.netmask = w[++i]!;
        else flags.push(w[i]!);
      }
      if (flags.length) rec.flags = flags;
      c.records.push(rec);
      current = rec;
      return;
    }
    c.issue(l, 'expected a virtual service (`TCP|UDP|SCTP ADDRESS:PORT SCHEDULER`, `FWM MARK SCHEDULER`) or a `->` real server line');
  });
  return c.result();
}
