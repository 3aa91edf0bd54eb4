// `sysctl -a` style `key = value` lines. In keys, an interface name's dots are printed as slashes
// (`net.ipv4.conf.flannel/1.rp_filter`), because the dot separates the key's parts.
import { Collector, lines, source } from './common';
import type { ParseResult, SysctlRecord } from './types';

export function parseSysctl(text: string): ParseResult<SysctlRecord> {
  const c = new Collector<SysctlRecord>('procps');
  const ls = lines(text);
  if (ls.length === 0) c.format = 'empty';
  c.each(ls, (l) => {
    if (/^\s*[#;]/.test(l.raw)) return;
    // `sysctl: permission denied on key ...` and similar diagnostics are reported, not dropped silently.
    const m = /^\s*([^\s=:]+)\s*(?:=|:)\s?(.*?)\s*$/.exec(l.raw);
    if (!m || !/^[A-Za-z0-9_]/.test(m[1]!) || !m[1]!.includes('.')) {
      c.issue(l, 'expected "key = value" (sysctl -a format)');
      return;
    }
    const key = m[1]!;
    const rec: SysctlRecord = { kind: 'sysctl', key, value: m[2]!.replace(/\t/g, ' '), src: source(l) };
    const parts = key.split('.');
    if (parts.length === 5 && parts[0] === 'net' && (parts[1] === 'ipv4' || parts[1] === 'ipv6') && parts[2] === 'conf') {
      rec.conf = { family: parts[1] === 'ipv4' ? 4 : 6, iface: parts[3]!.replace(/\//g, '.'), param: parts[4]! };
    } else if (parts.length > 5 && parts[0] === 'net' && (parts[1] === 'ipv4' || parts[1] === 'ipv6') && parts[2] === 'conf') {
      // `/proc/sys` walked with find|cat prints dots: ambiguous, so take the last part as the parameter.
      rec.conf = { family: parts[1] === 'ipv4' ? 4 : 6, iface: parts.slice(3, -1).join('.'), param: parts[parts.length - 1]! };
    }
    c.records.push(rec);
  });
  return c.result();
}
