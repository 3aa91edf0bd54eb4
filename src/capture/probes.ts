// Which command produces each probe. Collectors (the lab, the cluster collector) run these argv
// arrays inside a host's network namespace; the first that succeeds wins. Commands are argv arrays,
// never shell strings, so nothing from a cluster can be interpreted by a shell.
import type { ProbeName } from '../parsers';

export interface ProbeCommand {
  argv: readonly string[];
  /** What produced the text, for the record and for messages. */
  form: 'iproute2' | 'busybox' | 'net-tools' | 'procps' | 'bridge-utils' | 'iptables' | 'nftables' | 'ipset' | 'ipvsadm' | 'wireguard-tools' | 'procfs';
}

/**
 * Kernel settings the engine reads; `sysctl` prints every interface below a `conf` key. `-e` keeps
 * going past keys the kernel lacks (net.bridge.* exists only with br_netfilter loaded).
 */
export const SYSCTL_KEYS = ['net.ipv4.ip_forward', 'net.ipv6.conf.all.forwarding', 'net.ipv4.conf', 'net.ipv6.conf', 'net.bridge.bridge-nf-call-iptables'] as const;

export const PROBE_COMMANDS: Readonly<Record<ProbeName, readonly ProbeCommand[]>> = {
  links: [
    { argv: ['ip', '-d', 'link', 'show'], form: 'iproute2' },
    { argv: ['busybox', 'ip', 'link', 'show'], form: 'busybox' },
  ],
  addrs: [
    { argv: ['ip', 'addr', 'show'], form: 'iproute2' },
    { argv: ['busybox', 'ip', 'addr', 'show'], form: 'busybox' },
  ],
  routes4: [
    { argv: ['ip', '-4', 'route', 'show', 'table', 'all'], form: 'iproute2' },
    { argv: ['busybox', 'ip', 'route', 'show', 'table', 'all'], form: 'busybox' },
    { argv: ['route', '-n'], form: 'net-tools' },
    // Neither ip nor BusyBox (Debian-slim images): the kernel's own table.
    { argv: ['cat', '/proc/net/route'], form: 'procfs' },
  ],
  routes6: [
    { argv: ['ip', '-6', 'route', 'show', 'table', 'all'], form: 'iproute2' },
  ],
  rules4: [
    { argv: ['ip', '-4', 'rule', 'show'], form: 'iproute2' },
    { argv: ['busybox', 'ip', 'rule', 'show'], form: 'busybox' },
  ],
  rules6: [{ argv: ['ip', '-6', 'rule', 'show'], form: 'iproute2' }],
  // `-s` adds how long ago each entry was used, confirmed and updated: the engine says "learned 12 s ago".
  neigh: [
    { argv: ['ip', '-s', 'neigh', 'show'], form: 'iproute2' },
    { argv: ['ip', 'neigh', 'show'], form: 'iproute2' },
    { argv: ['busybox', 'ip', 'neigh', 'show'], form: 'busybox' },
    { argv: ['cat', '/proc/net/arp'], form: 'procfs' },
  ],
  fdb: [
    { argv: ['bridge', '-s', 'fdb', 'show'], form: 'iproute2' },
    { argv: ['bridge', 'fdb', 'show'], form: 'iproute2' },
  ],
  sysctl: [
    { argv: ['sysctl', '-e', ...SYSCTL_KEYS], form: 'procps' },
    { argv: ['busybox', 'sysctl', '-e', ...SYSCTL_KEYS], form: 'busybox' },
  ],
  brctl: [{ argv: ['brctl', 'show'], form: 'bridge-utils' }],
  arp: [{ argv: ['arp', '-an'], form: 'net-tools' }],
  iptables: [{ argv: ['iptables-save'], form: 'iptables' }],
  ip6tables: [{ argv: ['ip6tables-save'], form: 'iptables' }],
  nft: [{ argv: ['nft', 'list', 'ruleset'], form: 'nftables' }],
  // `save` is the compact form (one line per member); both parse to the same records.
  ipset: [
    { argv: ['ipset', 'save'], form: 'ipset' },
    { argv: ['ipset', 'list'], form: 'ipset' },
  ],
  ipvs: [{ argv: ['ipvsadm', '-Ln'], form: 'ipvsadm' }],
  // WireGuard's cryptokey routing table (optional; only where a wireguard device exists).
  wg: [{ argv: ['wg', 'show', 'all', 'dump'], form: 'wireguard-tools' }],
};
