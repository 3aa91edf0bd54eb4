// Small helpers the CNI plugins of the lab share: deterministic MACs, the n-th address of a prefix,
// interface-name rules, the bridge plugin's pod MAC, veth name and address rules. Kept apart from topology.ts so that the plugin files (cni-*.ts) and the
// topology can import them without importing each other at run time.
import { createHash } from 'node:crypto';
import { Addr, Mac, type Prefix } from '../../src/net/addr';

/**
 * A MAC that looks random but is derived from `seed`, so every build gives every device the same
 * address (and the same IPv6 link-local address). Locally administered unicast unless an OUI is given.
 */
export function stableMac(seed: string, oui: readonly number[] = []): string {
  const h = createHash('sha256').update(seed).digest();
  const bytes = [...oui, ...h.subarray(0, 6 - oui.length)];
  if (oui.length === 0) bytes[0] = (bytes[0]! & 0xfc) | 0x02;
  return Mac.must(bytes.map((b) => b.toString(16).padStart(2, '0')).join(':')).toString();
}

/** The address of host number `n` in a prefix (0 = the network address), IPv4 or IPv6. */
export function nth(prefix: Prefix, n: number): string {
  const base = prefix.masked().addr;
  return (base.family === 4 ? Addr.fromV4(base.v4 + n) : Addr.fromV6(base.v6 + BigInt(n))).toString();
}

/** Host number of `a` inside `prefix` (0 = the network address). */
export function hostIndex(prefix: Prefix, a: Addr): bigint {
  const base = prefix.masked().addr;
  return a.family === 4 ? BigInt(a.v4 - base.v4) : a.v6 - base.v6;
}

/** A Linux interface name: 1-15 characters, no slash or whitespace. */
export const IFNAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;

/** flannel's bridge plugin: 0a:58 followed by the pod's IPv4 address (10.244.1.3 -> 0a:58:0a:f4:01:03). */
export function cniPodMac(ip: string): string {
  const a = Addr.must(ip);
  if (a.family !== 4) throw new Error(`cniPodMac: ${ip} is not IPv4`);
  const o = [a.v4 >>> 24, (a.v4 >>> 16) & 255, (a.v4 >>> 8) & 255, a.v4 & 255];
  return ['0a', '58', ...o.map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/** `veth` + 8 hex digits, the shape of the CNI's host-side names (random there, derived from the pod here). */
export function hostVethName(namespace: string, pod: string): string {
  return 'veth' + createHash('sha256').update(`${namespace}/${pod}`).digest('hex').slice(0, 8);
}

/**
 * The bridge plugin's rule for a pod address: not the subnet's network address, not the gateway
 * the bridge holds (the first host), not the IPv4 broadcast address.
 */
export function bridgeSubnetReserved(podCIDR: Prefix, a: Addr): string | undefined {
  const host = hostIndex(podCIDR, a);
  const last = (1n << BigInt(a.bits - podCIDR.length)) - 1n;
  if (host <= 1n || (a.family === 4 && host >= last)) return a.family === 4 ? 'the network, gateway (.1) or broadcast address' : 'the subnet-router anycast (::) or gateway (::1) address';
  return undefined;
}
