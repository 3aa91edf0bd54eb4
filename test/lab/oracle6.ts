// IPv6: the oracle (oracle.ts) counts IPv4 only, so IPv6 probes are followed here the same way:
// nftables counters in a netdev table on every device of every namespace count the echo request to the
// destination (ingress before a bridge port's rx handler, egress before the driver), echo replies are
// switched off while it runs (one-way), and /proc/net/snmp6 says why it stopped.
import { strict as assert } from 'node:assert';
import { Addr } from '../../src/net/addr';
import type { TraceResult } from '../../src/engine';
import { explain, hostsOf } from './judge';
import { tryRunAsync, type Lab } from './netns';
import { labAddresses, type BuiltCluster } from './topology';

export interface Observation6 {
  from: string;
  to: string;
  delivered: boolean;
  deliveredTo: string[];
  /** The source, then every host with a device that received the probe (lab order). */
  seenBy: string[];
  devices: { host: string; dev: string; rx: number; tx: number }[];
  /** /proc/net/snmp6 counters that moved, per host. */
  deltas: Record<string, Record<string, number>>;
  output: string;
}

const T6 = 'netpath_topo6';

async function in6(lab: Lab, h: string, argv: string[], input?: string): Promise<string> {
  const r = await tryRunAsync(['ip', 'netns', 'exec', lab.ns(h), ...argv], input === undefined ? {} : { input });
  if (r.code !== 0 || r.spawnError) throw new Error(`${argv.join(' ')} in ${h}: ${r.spawnError?.message ?? r.stderr.trim()}`);
  return r.stdout;
}

function snmp6(text: string): Map<string, number> {
  return new Map(text.split('\n').map((l) => l.trim().split(/\s+/)).filter((p) => p.length === 2).map(([k, v]) => [k!, Number(v)] as [string, number]));
}

export async function observe6(lab: Lab, built: BuiltCluster, from: string, to: string): Promise<Observation6> {
  const dst = Addr.must(to);
  if (dst.family !== 6 || !labAddresses(built).has(dst.toString())) throw new Error(`refusing to send to ${to}: not an IPv6 address of the lab`);
  const hosts = built.hosts.map((h) => h.name);
  const devs = await Promise.all(hosts.map(async (h) => (JSON.parse(await in6(lab, h, ['ip', '-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname).filter((d) => d !== 'lo')));
  const echo = new Map<string, string>();
  const installed: string[] = [];
  try {
    await Promise.all(hosts.map(async (h, i) => {
      const ds = devs[i]!;
      const rules = [`table netdev ${T6} {`];
      ds.forEach((_, j) => rules.push(`  counter rx_${j} { }`, `  counter tx_${j} { }`));
      if (ds.length) {
        for (const [dir, hook, sel] of [['rx', 'ingress', 'iifname'], ['tx', 'egress', 'oifname']] as const) {
          rules.push(`  chain ${dir} {`, `    type filter hook ${hook} devices = { ${ds.map((d) => JSON.stringify(d)).join(', ')} } priority -500; policy accept;`);
          ds.forEach((d, j) => rules.push(`    ${sel} ${JSON.stringify(d)} ip6 daddr ${dst} icmpv6 type echo-request counter name ${dir}_${j}`));
          rules.push('  }');
        }
      }
      rules.push('}');
      await in6(lab, h, ['nft', '-f', '-'], rules.join('\n') + '\n');
      installed.push(h);
      echo.set(h, (await in6(lab, h, ['cat', '/proc/sys/net/ipv6/icmp/echo_ignore_all'])).trim());
      await in6(lab, h, ['sysctl', '-q', '-w', 'net.ipv6.icmp.echo_ignore_all=1']);
    }));
    const before = await Promise.all(hosts.map(async (h) => snmp6(await in6(lab, h, ['cat', '/proc/net/snmp6']))));
    const sent = await tryRunAsync(['ip', 'netns', 'exec', lab.ns(from), 'ping', '-6', '-n', '-c', '1', '-W', '0.4', to]);
    await new Promise((r) => setTimeout(r, 50));
    const afterSnap = await Promise.all(hosts.map(async (h) => snmp6(await in6(lab, h, ['cat', '/proc/net/snmp6']))));
    const counts = await Promise.all(hosts.map(async (h) => {
      const raw = JSON.parse(await in6(lab, h, ['nft', '-j', 'list', 'counters', 'table', 'netdev', T6])) as { nftables: { counter?: { name: string; packets: number } }[] };
      return new Map(raw.nftables.flatMap((e) => (e.counter ? [[e.counter.name, e.counter.packets] as [string, number]] : [])));
    }));
    const devices: Observation6['devices'] = [];
    const deltas: Observation6['deltas'] = {};
    hosts.forEach((h, i) => {
      devs[i]!.forEach((d, j) => {
        const rx = counts[i]!.get(`rx_${j}`) ?? 0;
        const tx = counts[i]!.get(`tx_${j}`) ?? 0;
        if (rx || tx) devices.push({ host: h, dev: d, rx, tx });
      });
      const dd: Record<string, number> = {};
      for (const [k, v] of afterSnap[i]!) {
        const x = v - (before[i]!.get(k) ?? 0);
        if (x) dd[k] = x;
      }
      deltas[h] = dd;
    });
    const deliveredTo = hosts.filter((h) => (deltas[h]!['Icmp6InEchos'] ?? 0) > 0);
    return {
      from,
      to,
      delivered: deliveredTo.length > 0,
      deliveredTo,
      seenBy: [from, ...hosts.filter((h) => h !== from && devices.some((d) => d.host === h && d.rx > 0))],
      devices,
      deltas,
      output: (sent.stdout + sent.stderr).trim(),
    };
  } finally {
    await Promise.all(installed.map(async (h) => {
      await tryRunAsync(['ip', 'netns', 'exec', lab.ns(h), 'nft', 'delete', 'table', 'netdev', T6]);
      const v = echo.get(h);
      if (v !== undefined) await tryRunAsync(['ip', 'netns', 'exec', lab.ns(h), 'sysctl', '-q', '-w', `net.ipv6.icmp.echo_ignore_all=${v}`]);
    }));
  }
}

export function describe6(o: Observation6): string {
  const moved = Object.entries(o.deltas)
    .map(([h, d]) => [h, Object.entries(d).filter(([k]) => /^(Ip6|Icmp6)(In|Out)(Echos|Receives|Delivers|ForwDatagrams|AddrErrors|NoRoutes|DestUnreachs|Discards)$/.test(k))] as const)
    .filter(([, d]) => d.length)
    .map(([h, d]) => `  ${h}: ${d.map(([k, v]) => `${k} +${v}`).join(', ')}`);
  return [`kernel: ${o.from} -> ${o.to}: ${o.delivered ? `delivered to ${o.deliveredTo.join(', ')}` : 'NOT delivered'}`, `  seen by: ${o.seenBy.join(', ')}`,
    `  devices: ${o.devices.map((d) => `${d.host}/${d.dev}${d.rx ? ` rx${d.rx}` : ''}${d.tx ? ` tx${d.tx}` : ''}`).join(', ')}`, ...moved, `  ping: ${o.output.split('\n').filter(Boolean).join(' / ')}`].join('\n');
}

/** The IPv6 counterpart of the oracle's compareWithEngine: delivered or not, and the same hosts. */
export function compare6(o: Observation6, r: TraceResult): void {
  const both = `${describe6(o)}\n${explain(r)}`;
  assert.equal(r.verdict === 'delivered', o.delivered, `delivered? kernel ${o.delivered}, engine ${r.verdict}\n${both}`);
  const engineHosts = [...new Set(hostsOf(r))];
  assert.deepEqual(engineHosts.filter((h) => !o.seenBy.includes(h)), [], `hosts on the engine's path that never saw the packet\n${both}`);
  const possible = new Set([...engineHosts, ...r.paths.flatMap((p) => p.hops.map((h) => h.host))]);
  assert.deepEqual(o.seenBy.filter((h) => !possible.has(h)), [], `hosts that saw the packet but are on no engine path\n${both}`);
}

/**
 * The devices on the engine's chosen path are the ones the kernel used: each hop's `in` received the
 * probe and each `out` sent it (the last hop's `out` of an undelivered packet excepted: that is where
 * the engine says it stops).
 */
export function devicesAgree6(o: Observation6, r: TraceResult): void {
  const wrong: string[] = [];
  r.hops.forEach((h, i) => {
    if (h.in !== null && !o.devices.some((d) => d.host === h.host && d.dev === h.in && d.rx > 0)) wrong.push(`${h.host}/${h.in} did not receive it`);
    const last = i === r.hops.length - 1;
    if (h.out !== null && !(last && r.verdict !== 'delivered') && !o.devices.some((d) => d.host === h.host && d.dev === h.out && d.tx > 0)) wrong.push(`${h.host}/${h.out} did not send it`);
  });
  assert.deepEqual(wrong, [], `devices on the engine's path that the kernel did not use: ${wrong.join('; ')}\n${describe6(o)}\n${explain(r)}`);
}

