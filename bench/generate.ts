// Deterministic synthetic kernel output for benchmarks: the shapes real clusters print.
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex2 = (n: number) => (n & 255).toString(16).padStart(2, '0');

/** `ip route show table all` of a big Calico/flannel-style node: block routes, /32 pod routes, blackholes, local table. */
export function ipRouteOutput(count: number, seed = 1): string {
  const rnd = prng(seed);
  const out: string[] = ['default via 10.4.7.1 dev eth0 proto static metric 100 ', '10.4.7.0/24 dev eth0 proto kernel scope link src 10.4.7.21 metric 100 '];
  for (let i = 0; out.length < count; i++) {
    const a = (i >> 8) & 255;
    const b = i & 255;
    const k = rnd();
    if (k < 0.45) out.push(`10.${(a % 200) + 20}.${b}.0/26 via 10.4.${(a % 7) + 1}.${(b % 250) + 2} dev eth0 proto bird onlink`);
    else if (k < 0.8) out.push(`10.244.${a}.${b} dev cali${(i * 2654435761 >>> 0).toString(16).padStart(11, '0')} scope link`);
    else if (k < 0.85) out.push(`blackhole 10.${(a % 200) + 20}.${b}.64/26 proto bird`);
    else if (k < 0.9) out.push(`10.96.${a}.${b} via 10.4.7.${(b % 200) + 2} dev eth0 table ${100 + (a % 5)} proto static metric ${b}`);
    else if (k < 0.95) out.push(`local 10.${a}.${b}.1 dev eth0 table local proto kernel scope host src 10.${a}.${b}.1 `);
    else out.push(`broadcast 10.${a}.${b}.255 dev eth0 table local proto kernel scope link src 10.${a}.${b}.1 `);
  }
  return out.slice(0, count).join('\n') + '\n';
}

/** `bridge fdb show` of a node with many pods and VXLAN peers. */
export function fdbOutput(count: number, seed = 2): string {
  const rnd = prng(seed);
  const out: string[] = [];
  for (let i = 0; out.length < count; i++) {
    const k = rnd();
    const mac = `0a:58:0a:f4:${hex2(i >> 8)}:${hex2(i)}`;
    if (k < 0.5) out.push(`${mac} dev veth${(i * 40503).toString(16).padStart(8, '0')} master cni0 `);
    else if (k < 0.6) out.push(`${mac} dev veth${(i * 40503).toString(16).padStart(8, '0')} vlan 1 master cni0 permanent`);
    else if (k < 0.85) out.push(`${hex2((i * 7) & 0xfe)}:${hex2(i * 13)}:${hex2(i >> 4)}:${hex2(i)}:1d:9e dev flannel.1 dst 10.4.${(i >> 8) & 255}.${i & 255} self permanent`);
    else if (k < 0.95) out.push(`33:33:00:00:00:${hex2(i)} dev veth${(i * 40503).toString(16).padStart(8, '0')} self permanent`);
    else out.push(`00:00:00:00:00:00 dev vxlan${i % 4} dst 10.4.7.${i & 255} port 4789 vni ${100 + (i % 50)} via eth0 self permanent`);
  }
  return out.join('\n') + '\n';
}
