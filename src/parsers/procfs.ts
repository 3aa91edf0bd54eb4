// The kernel's own tables as /proc prints them, for containers that have `cat` but neither `ip` nor
// BusyBox (Debian-slim images): /proc/net/route (IPv4 main table) and /proc/net/arp (IPv4
// neighbours). Addresses there are hex in host byte order; netpath reads them as little-endian,
// which is what x86_64 and arm64 nodes print.
import { Addr, Prefix, maskLength } from '../net/addr';
import { finish } from './neighRecord';
import { Collector, source, type Line } from './common';
import type { NeighRecord, ParseResult, RouteRecord } from './types';

const RTF_GATEWAY = 0x2;
const RTF_REJECT = 0x200;
const ATF_COM = 0x2;
const ATF_PERM = 0x4;
const ATF_PUBL = 0x8;

export const isProcRouteHeader = (raw: string): boolean => /^Iface\s+Destination\s+Gateway\s+Flags/.test(raw.trim());
export const isProcArpHeader = (raw: string): boolean => /^IP address\s+HW type\s+Flags\s+HW address/.test(raw.trim());

/** A little-endian hex IPv4 address (`0100F40A` is 10.244.0.1). */
function hexAddr(h: string | undefined): Addr | undefined {
  if (h === undefined || !/^[0-9A-Fa-f]{8}$/.test(h)) return undefined;
  const n = parseInt(h, 16);
  return Addr.fromV4((((n & 0xff) << 24) | (((n >>> 8) & 0xff) << 16) | (((n >>> 16) & 0xff) << 8) | ((n >>> 24) & 0xff)) >>> 0);
}

export function parseProcRoute(ls: Line[]): ParseResult<RouteRecord> {
  const c = new Collector<RouteRecord>('procfs');
  c.each(ls, (l) => {
    if (isProcRouteHeader(l.raw)) return;
    const f = l.raw.trim().split(/\s+/);
    const dst = hexAddr(f[1]);
    const gw = hexAddr(f[2]);
    const flags = f[3] !== undefined && /^[0-9A-Fa-f]+$/.test(f[3]) ? parseInt(f[3], 16) : undefined;
    const metric = f[6] !== undefined && /^\d+$/.test(f[6]) ? Number(f[6]) : undefined;
    const mask = hexAddr(f[7]);
    const len = mask ? maskLength(mask) : undefined;
    if (f.length < 8 || !dst || !gw || flags === undefined || metric === undefined || len === undefined) {
      c.issue(l, 'expected a /proc/net/route row: Iface Destination Gateway Flags RefCnt Use Metric Mask ... (hex addresses, a contiguous mask)');
      return;
    }
    const dev = f[0]!;
    const reject = (flags & RTF_REJECT) !== 0;
    const rec: RouteRecord = {
      kind: 'route',
      family: 4,
      // `*` with no reject flag is a blackhole route (it has no device); with it, unreachable.
      type: reject ? 'unreachable' : dev === '*' ? 'blackhole' : 'unicast',
      dst: Prefix.of(dst, len),
      table: 'main',
      flags: [],
      metric,
      rtFlags: flags.toString(16).padStart(4, '0'),
      src: source(l),
    };
    if (dev !== '*') rec.dev = dev;
    if (flags & RTF_GATEWAY) rec.gateway = gw;
    else if (rec.type === 'unicast') rec.scope = 'link';
    c.records.push(rec);
  });
  return c.result();
}

export function parseProcArp(ls: Line[]): ParseResult<NeighRecord> {
  const c = new Collector<NeighRecord>('procfs');
  c.each(ls, (l) => {
    if (isProcArpHeader(l.raw)) return;
    const f = l.raw.trim().split(/\s+/);
    const dst = f[0] !== undefined ? Addr.parse(f[0]) : undefined;
    const flags = f[2] !== undefined && /^0x[0-9a-f]+$/i.test(f[2]) ? parseInt(f[2], 16) : undefined;
    if (f.length < 6 || !dst?.ok || flags === undefined) {
      c.issue(l, 'expected a /proc/net/arp row: IP address, HW type, Flags, HW address, Mask, Device');
      return;
    }
    const letters = new Set<string>();
    if (flags & ATF_COM) letters.add('C');
    if (flags & ATF_PERM) letters.add('M');
    if (flags & ATF_PUBL) letters.add('P');
    const rec: NeighRecord = { kind: 'neigh', family: 4, dst: dst.value, dev: f[5]!, state: [], router: false, proxy: false, externLearn: false, src: source(l) };
    if (letters.has('C') && f[3] !== '00:00:00:00:00:00') rec.lladdr = f[3]!.toLowerCase();
    c.records.push(finish(rec, letters));
  });
  return c.result();
}
