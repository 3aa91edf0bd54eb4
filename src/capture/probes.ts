// Which command produces each probe. Collectors (the lab, the cluster collector) run these argv
// arrays inside a host's network namespace; the first that succeeds wins. Commands are argv arrays,
// never shell strings built from data, so nothing from a cluster can be interpreted by a shell
// (xt_recent's one fixed script says why it is safe). The live collector runs a host's commands in one
// exec through kube/probeScript.ts's fixed script, whose case arms a unit test keeps equal to this table.
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

/**
 * The settings the engine reads and no others (a node with 100 interfaces has some 9,000 `conf` keys;
 * sysctl reading them all was a third of a node's probe time): the global switches, then `rp_filter`,
 * `forwarding` and `proxy_arp` of every interface, `all` and `default` included, as the spec asks. A
 * fixed script (the one other probe run through a shell, after xt_recent): interface names reach
 * sysctl only through the glob, one argument each, never re-read by the shell, and each starts with
 * `net/`, so none is taken for an option. Given a path with slashes, procps-ng's sysctl prints the
 * key as `sysctl -a` does (an interface's dots as slashes: `net.ipv4.conf.flannel/1.rp_filter`). `-e`
 * passes over what the kernel lacks (no br_netfilter, IPv6 disabled: an unmatched glob stays a
 * pattern that names no file). Where /proc/sys or sysctl is missing the full key list is tried next.
 */
export const SYSCTL_SCRIPT = 'cd /proc/sys && exec sysctl -e net.ipv4.ip_forward net.ipv6.conf.all.forwarding net.bridge.bridge-nf-call-iptables net/ipv4/conf/*/rp_filter net/ipv4/conf/*/forwarding net/ipv4/conf/*/proxy_arp net/ipv6/conf/*/forwarding';

/**
 * The `recent` match's lists (kube-proxy's sessionAffinity ClientIP) and the kernel's clock their times
 * count in (optional; only where a rule uses `-m recent`). The one probe run through a shell, to read a
 * directory of files in one exec: the script is fixed, and the list names (which anyone with
 * CAP_NET_ADMIN chooses) reach grep only through the glob, never re-read by the shell; `--` stops a name
 * such as `--include=x` from being taken as an option (it would hide every list). `-H` prefixes each
 * line with its list. /proc/timer_list is masked in most containers: the clock lines are then absent,
 * and `exit 0` keeps the lists, which the last grep's failure would otherwise throw away.
 */
export const XT_RECENT_SCRIPT = 'cd /proc/net/xt_recent && grep -H "" -- *; grep -m1 "^now at" /proc/timer_list; grep -m1 "last_jiffies" /proc/timer_list; exit 0';

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
    { argv: ['sh', '-c', SYSCTL_SCRIPT], form: 'procps' },
    { argv: ['sysctl', '-e', ...SYSCTL_KEYS], form: 'procps' },
    { argv: ['busybox', 'sysctl', '-e', ...SYSCTL_KEYS], form: 'busybox' },
  ],
  brctl: [{ argv: ['brctl', 'show'], form: 'bridge-utils' }],
  // A VLAN-aware bridge's VLAN table (optional; only where a bridge has vlan_filtering 1).
  bridgevlan: [{ argv: ['bridge', 'vlan', 'show'], form: 'iproute2' }],
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
  xt_recent: [{ argv: ['sh', '-c', XT_RECENT_SCRIPT], form: 'procfs' }],
};
