// `wg show all dump`: tab-separated. Per device, first a line `ifname private-key public-key
// listen-port fwmark`, then one per peer: `ifname public-key preshared-key endpoint allowed-ips
// latest-handshake rx-bytes tx-bytes persistent-keepalive`. Secrets (private and preshared keys)
// are replaced in the kept raw text, so a capture quoted as evidence never shows them.
import { Addr, Prefix } from '../net/addr';
import { Collector, lines, uint } from './common';
import type { ParseResult, WgInterfaceRecord, WgPeerRecord } from './types';

const KEY = /^[A-Za-z0-9+/]{42,43}=$/;
const HIDDEN = '(hidden)';

function endpoint(text: string): { addr: Addr; port: number } | undefined | 'bad' {
  if (text === '(none)') return undefined;
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(text);
  if (!m) return 'bad';
  const a = Addr.parse(m[1]!);
  const port = Number(m[2]);
  return a.ok && port <= 65535 ? { addr: a.value, port } : 'bad';
}

export function parseWg(text: string): ParseResult<WgInterfaceRecord | WgPeerRecord> {
  const c = new Collector<WgInterfaceRecord | WgPeerRecord>('wireguard-tools');
  const ls = lines(text);
  if (ls.length === 0) c.format = 'empty';
  c.each(ls, (l) => {
    const f = l.raw.split('\t').map((x) => x.trim());
    if (f.length === 5 && (KEY.test(f[2]!) || f[2] === '(none)')) {
      const redacted = { line: l.line, raw: [f[0], f[1] === '(none)' ? '(none)' : HIDDEN, ...f.slice(2)].join('\t') };
      const port = uint(f[3]);
      const rec: WgInterfaceRecord = { kind: 'wg-interface', ifname: f[0]!, publicKey: f[2]!, src: redacted };
      if (port !== undefined) rec.listenPort = port;
      if (f[4] !== 'off' && f[4] !== undefined) {
        const mark = f[4].startsWith('0x') ? parseInt(f[4], 16) : uint(f[4]);
        if (mark !== undefined && Number.isFinite(mark)) rec.fwmark = mark;
      }
      c.records.push(rec);
      return;
    }
    if (f.length === 9 && KEY.test(f[1]!)) {
      const ep = endpoint(f[3]!);
      if (ep === 'bad') return c.issue(l, `expected an endpoint "ip:port" or "(none)", got "${f[3]}"`);
      const allowed: Prefix[] = [];
      if (f[4] !== '(none)') {
        for (const p of f[4]!.split(',')) {
          const r = Prefix.parse(p);
          if (!r.ok) return c.issue(l, `allowed IP "${p}": ${r.error}`);
          allowed.push(r.value);
        }
      }
      const rec: WgPeerRecord = { kind: 'wg-peer', ifname: f[0]!, publicKey: f[1]!, allowedIps: allowed, src: { line: l.line, raw: [f[0], f[1], f[2] === '(none)' ? '(none)' : HIDDEN, ...f.slice(3)].join('\t') } };
      if (ep) rec.endpoint = ep;
      const hs = uint(f[5]);
      if (hs !== undefined) rec.latestHandshake = hs;
      const rx = uint(f[6]);
      if (rx !== undefined) rec.rxBytes = rx;
      const tx = uint(f[7]);
      if (tx !== undefined) rec.txBytes = tx;
      const ka = uint(f[8]);
      if (ka !== undefined) rec.persistentKeepalive = ka;
      c.records.push(rec);
      return;
    }
    // A line that cannot be read may still hold a secret: every key-shaped field is hidden.
    c.issue({ line: l.line, raw: f.map((x) => (KEY.test(x) ? HIDDEN : x)).join('\t') }, 'expected a `wg show all dump` line (5 tab-separated fields for a device, 9 for a peer)');
  });
  return c.result();
}
