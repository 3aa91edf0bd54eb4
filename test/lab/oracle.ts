// The kernel is the judge: send ONE real packet through a built lab and report what the kernels did
// with it, so the engine's trace can be checked against the real data plane.
//
// API
//   observe(lab, built, flow, opts?) -> Promise<Observation>
//     flow = { from: <lab host name>, to: <IPv4 address>, size: <IP packet length, bytes>,
//              proto?: 'icmp' (default) | 'udp', port?: <UDP port, default 33434> }
//     Sends one packet with DF set from `from` to `to` (ICMP: iputils `ping -c 1 -M do -s size-28`;
//     UDP: a few lines of python3 with IP_PMTUDISC_DO) and returns an Observation:
//       delivered     a host owning `to` took the packet (its Icmp InEchos / Udp InDatagrams|NoPorts moved)
//       deliveredTo   the hosts where that happened
//       seenBy        hosts (lab order) with an interface that RECEIVED the probe, the source first
//                     (a veth that refused the frame, counting rx_dropped, counts as having received it)
//       devices       per host and device, how many probe packets were received (rx) and sent (tx)
//       sendError     the source's socket refused it (sendmsg errno text), e.g. "Network is unreachable"
//       icmpErrors    ICMP errors the source got back ("From 10.244.0.1 ... Frag needed ...")
//       drop          where it stopped {host, dev (null: the counters do not tell), counter, verdicts, detail};
//                     null when delivered. Of several drops, the first that is not a copy rejected as
//                     "not my MAC" (wrong-destination) — unless those are all there is
//       drops         every place a copy stopped (bridge flood copies at other hosts included)
//       deltas        every counter that moved, per host (SNMP, netstat, link stats): the evidence
//       neighChanges  neighbour entries that appeared or changed state (ARP traffic is kept apart here)
//     `describeObservation(obs)` renders all of it for assertion messages.
//   compareWithEngine(obs, trace, opts?) asserts (node:assert) that the engine agrees with the kernel:
//     - delivered or not (verdict class);
//     - when not delivered: the drop host, the drop device where the kernel's counters name one, and
//       (unless opts.verdict === false) that the engine's verdict is one the kernel's evidence allows;
//     - hosts: every host on the engine's chosen path saw the packet (or is its source), and every host
//       that saw it is on one of the engine's paths (`paths` holds flood copies; the kernel may flood
//       less than the engine predicts because bridges learn MACs after the capture was taken);
//     - devices (unless opts.devices === false): each hop's `in` received the probe and each `out` sent
//       it (the last hop's `out` of an undelivered packet excepted: that is the drop device).
//   kernelVerdicts(obs) -> the verdicts the evidence allows ([] when delivered).
//
// How the packet is followed, and why it is not fooled by background traffic
//   Interface counters (`ip -s link`, /proc/net/dev) move all the time in a lab: IPv6 router and
//   neighbour solicitations, MLD reports (sent by every bridge port too, and dropped by a VXLAN device
//   with no FDB entry for 33:33:..., which moves its tx_dropped), and the ARP that the probe itself
//   triggers. A delta of "1 packet" on an interface therefore proves nothing. So:
//   1. Where it went: for the duration of one observation every lab namespace gets an nftables table
//      `netdev netpath_oracle` with an ingress and an egress chain on every device (lo aside) whose
//      rules count only the probe: an IPv4 packet of exactly `size` bytes to the destination that is an
//      ICMP echo request (or UDP to the port), and the same packet inside VXLAN (outer UDP, inner
//      IPv4 length, destination and ICMP type / UDP port at the fixed offsets of UDP+VXLAN+Ethernet).
//      ICMP errors quoting the probe never match (their type, and their length is size+28 or 576).
//      netdev ingress runs before a bridge port's rx handler and egress runs in dev_queue_xmit before
//      the driver, so bridged frames are seen on ports, and a frame a driver drops (veth to a down or
//      smaller-MTU peer, VXLAN with no FDB entry) is seen leaving but never arriving. Peers of veths
//      are found from link-netnsid + `ip netns list-id`. The table is deleted afterwards; nothing else
//      of the lab is changed, apart from (2) and the route cache (below).
//   2. One-way: net.ipv4.icmp_echo_ignore_all=1 in every lab namespace while the probe runs (restored
//      after), so no echo reply travels back to move IPv4 counters on the return path. Icmp InEchos
//      still counts the request at the destination (icmp_rcv counts before icmp_echo looks at it).
//      For UDP the destination's port-unreachable error is left alone: it travels back, and only the
//      IPv4 SNMP counters of hosts on the return path are affected (see 3).
//   3. Why it stopped: IPv4 SNMP counters (/proc/net/snmp, /proc/net/netstat, read inside each
//      namespace) do not move for IPv6 or ARP, and the lab sends no other IPv4 traffic, so their
//      deltas are explained by the probe and the ICMP errors it caused. A VXLAN copy's outer header
//      counts too (Ip InReceives, InDelivers, Udp InDatagrams on the decapsulating node): the oracle
//      subtracts the encapsulated copies its nft counters saw arrive. The counters read, and the
//      verdicts they mean (kernel function in brackets), for a host that got the probe and sent it on
//      nowhere:
//        Ip OutNoRoutes, IpExt InNoRoutes         no-route (ip_route_output / ip_error ENETUNREACH)
//        Ip InAddrErrors, ForwDatagrams still     forwarding-disabled (ip_route_input_slow: !IN_DEV_FORWARD
//                                                 -> EHOSTUNREACH -> ip_error counts InAddrErrors, no ICMP)
//        TcpExt IPReversePathFilter               rp-filter (fib_validate_source)
//        Ip FragFails                             mtu-exceeded (ip_forward: DF and larger than the route MTU,
//                                                 with ICMP frag needed; or, seen on bridge ports only,
//                                                 br_netfilter's br_nf_dev_queue_xmit: DF and larger than
//                                                 the egress port's MTU, no ICMP). The device is asked of
//                                                 the kernel (`ip route get`) when routed
//        Ip InHdrErrors + Icmp OutTimeExcds       ttl-exceeded
//        Icmp OutDestUnreachs                     unreachable / prohibit / neighbor-failed / no-route: the
//                                                 ICMP error the source got back and the neighbour table
//                                                 (an entry that became FAILED or INCOMPLETE) decide
//        sent on a VXLAN device, nothing left     no-fdb-entry (vxlan_xmit found no FDB entry nor a default
//          its underlay device (tx_dropped)       one; the drop is placed on the VXLAN device)
//        sent on a veth, its peer never got it    link-down / mtu-exceeded (__dev_forward_skb ->
//          (rx_dropped on the peer)               is_skb_forwardable: peer down, or frame > peer MTU + 18;
//                                                 the drop is placed on the PEER, where rx_dropped moves;
//                                                 the sender's socket sees ENOBUFS)
//        received, nothing sent, IPv4 untouched   wrong-destination (a frame for another MAC: ip_rcv_core
//                                                 drops PACKET_OTHERHOST before counting InReceives)
//        received on bridge ports only, nothing   dropped inside the bridge (br_forward: port MTU, port
//          sent, IPv4 untouched                   state, or the destination behind the port it came in on
//                                                 with hairpin off; no counter) -> mtu-exceeded / link-down /
//                                                 no-fdb-entry / wrong-destination
//        IPv4 InReceives and nothing else         a silent IP drop: blackhole (a blackhole route on input
//                                                 is ip_error with EINVAL, which counts nothing)
//      A send the socket refuses never reaches a device: the errno decides (ENETUNREACH no-route,
//      EHOSTUNREACH unreachable, EINVAL blackhole, EACCES prohibit, EMSGSIZE mtu-exceeded). A packet
//      the socket took that never left the source (its ARP went unanswered) is judged at the source by
//      the same counters: Icmp OutDestUnreachs and a neighbour entry gone FAILED -> neighbor-failed.
//   Before sending, every namespace's route cache is flushed (PMTU learned from an earlier probe would
//   otherwise stop the next one at its source; the capture cannot show it), unless told otherwise.
//   A packet parked on an unresolved neighbour waits in the ARP queue for up to
//   mcast_solicit x retrans_time (3 s) before it is dropped; the observation waits while any lab
//   neighbour entry is INCOMPLETE (up to opts.neighWaitMs) so the drop is seen.
//
// Requires root, nft (nftables) and ping (iputils); UDP also needs python3. One observation at a
// time per lab (the nft table name is fixed). Only lab addresses can be targets.
import { strict as assert } from 'node:assert';
import { Addr, Prefix } from '../../src/net/addr';
import type { TraceResult, Verdict } from '../../src/engine/trace';
import { checkPrerequisites, describeMissing, tryRunAsync, which, type Lab, type RunResult } from './netns';
import type { BuiltCluster } from './topology';

export interface OracleFlow {
  /** Lab host the packet leaves from (a pod or node name). */
  from: string;
  /** Destination IPv4 address (must belong to the lab). */
  to: string;
  /** IP packet length in bytes (headers included), 28..65535. DF is always set. */
  size: number;
  proto?: 'icmp' | 'udp';
  /** UDP destination port (default 33434). */
  port?: number;
}

export interface ObserveOptions {
  /** How long the sender waits for an answer (no echo reply comes back; ICMP errors may). Default 400 ms. */
  waitMs?: number;
  /** Upper bound for waiting while neighbour entries are INCOMPLETE (packets queued on ARP). Default 5000 ms. */
  neighWaitMs?: number;
  /**
   * Flush every lab namespace's route cache first (default true). Path MTU learned from an earlier
   * probe's "fragmentation needed" lives there (`ip route get` shows it, a capture does not), and
   * would make the next probe fail at its source instead of where the capture says.
   */
  flushRouteCache?: boolean;
}

export interface DeviceSeen {
  host: string;
  dev: string;
  /** Probe packets received on this device (netdev ingress). */
  rx: number;
  /** Probe packets sent by this device (netdev egress, before the driver). */
  tx: number;
}

export interface DropPoint {
  host: string;
  /** The device where the kernel's evidence places the drop; null when it does not tell. */
  dev: string | null;
  /** The counter or errno that moved, e.g. "Ip.InAddrErrors", "tx_dropped flannel.1", "sendmsg". */
  counter: string;
  /** Engine verdicts consistent with the kernel's evidence (most likely first). */
  verdicts: Verdict[];
  detail: string;
}

export interface NeighChange {
  host: string;
  dev: string;
  dst: string;
  before: string;
  after: string;
}

export interface Observation {
  flow: Required<Pick<OracleFlow, 'from' | 'to' | 'size' | 'proto'>> & { port?: number };
  delivered: boolean;
  deliveredTo: string[];
  seenBy: string[];
  devices: DeviceSeen[];
  sendError?: string;
  icmpErrors: string[];
  drop: DropPoint | null;
  drops: DropPoint[];
  deltas: Record<string, Record<string, number>>;
  neighChanges: NeighChange[];
  sender: { code: number | null; output: string };
}

// ---------------------------------------------------------------------------------------------
// Snapshots

interface LinkInfo {
  ifindex: number;
  ifname: string;
  flags: string[];
  mtu: number;
  master?: string;
  kind?: string;
  /** Underlay device of a VXLAN device. */
  vxlanLink?: string;
  linkIndex?: number;
  linkNetnsid?: number;
  stats: Record<string, number>;
}

interface HostSnap {
  links: Map<string, LinkInfo>;
  counters: Map<string, number>;
  neigh: Map<string, string>;
  addrs: string[];
  nsids: { nsid: number; name?: string }[];
  echoIgnore: string;
}

const TABLE = 'netpath_oracle';

async function runIn(lab: Lab, host: string, argv: readonly string[], input?: string): Promise<RunResult> {
  const opts = input === undefined ? { timeoutMs: 15_000 } : { timeoutMs: 15_000, input };
  return tryRunAsync(['ip', 'netns', 'exec', lab.ns(host), ...argv], opts);
}

async function mustIn(lab: Lab, host: string, argv: readonly string[], input?: string): Promise<string> {
  const r = await runIn(lab, host, argv, input);
  if (r.code !== 0 || r.spawnError) throw new Error(`oracle: ${argv.join(' ')} in ${host} failed (${r.spawnError?.message ?? `exit ${r.code}`}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** "Ip: A B C\nIp: 1 2 3" pairs -> {"Ip.A": 1, ...}. */
export function parseSnmp(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const lines = text.split('\n');
  for (let i = 0; i + 1 < lines.length; i++) {
    const h = /^(\w+): (.*)$/.exec(lines[i]!);
    const v = /^(\w+): (.*)$/.exec(lines[i + 1]!);
    if (!h || !v || h[1] !== v[1] || !/^[A-Za-z]/.test(h[2]!.trim())) continue;
    const names = h[2]!.trim().split(/\s+/);
    const values = v[2]!.trim().split(/\s+/);
    names.forEach((n, j) => {
      const x = Number(values[j]);
      if (Number.isFinite(x)) out.set(`${h[1]}.${n}`, x);
    });
    i++;
  }
  return out;
}

interface RawLink {
  ifindex: number;
  ifname: string;
  flags?: string[];
  mtu?: number;
  master?: string;
  link_index?: number;
  link_netnsid?: number;
  linkinfo?: { info_kind?: string; info_data?: { link?: string } };
  stats64?: { rx?: Record<string, number>; tx?: Record<string, number> };
}

function parseLinks(raw: RawLink[]): Map<string, LinkInfo> {
  const out = new Map<string, LinkInfo>();
  for (const l of raw) {
    const stats: Record<string, number> = {};
    for (const dir of ['rx', 'tx'] as const) for (const [k, v] of Object.entries(l.stats64?.[dir] ?? {})) if (typeof v === 'number') stats[`${dir}_${k}`] = v;
    const info: LinkInfo = { ifindex: l.ifindex, ifname: l.ifname, flags: l.flags ?? [], mtu: l.mtu ?? 0, stats };
    if (l.master) info.master = l.master;
    if (l.linkinfo?.info_kind) info.kind = l.linkinfo.info_kind;
    if (l.linkinfo?.info_kind === 'vxlan' && l.linkinfo.info_data?.link) info.vxlanLink = l.linkinfo.info_data.link;
    if (l.link_index !== undefined) info.linkIndex = l.link_index;
    if (l.link_netnsid !== undefined) info.linkNetnsid = l.link_netnsid;
    out.set(l.ifname, info);
  }
  return out;
}

interface RawNeigh {
  dst: string;
  dev: string;
  state?: string[];
  probes?: number;
}

function parseNeigh(raw: RawNeigh[]): Map<string, string> {
  // The probe count is part of the value: a FAILED entry that is probed again and fails again
  // ends where it began, and only its probes show that ARP was tried.
  return new Map(raw.filter((n) => !n.dst.includes(':')).map((n) => [`${n.dev} ${n.dst}`, `${(n.state ?? []).join(',') || 'NONE'}${n.probes ? ` probes=${n.probes}` : ''}`]));
}

/**
 * One host's tables and counters in two processes (the machine may be busy: fewer processes, less
 * waiting): `ip -batch` for links with statistics, IPv4 addresses, neighbours and namespace ids, and
 * `cat` for the SNMP counters and icmp_echo_ignore_all.
 */
async function snapHost(lab: Lab, host: string): Promise<HostSnap> {
  const [ipOut, cat] = await Promise.all([
    mustIn(lab, host, ['ip', '-s', '-d', '-j', '-batch', '-'], 'link show\naddr show\nneigh show\nnetns list-id\n'),
    mustIn(lab, host, ['cat', '/proc/net/snmp', '/proc/net/netstat', '/proc/sys/net/ipv4/icmp_echo_ignore_all']),
  ]);
  const parts = ipOut.split('\n').filter((l) => l.startsWith('['));
  if (parts.length !== 4) throw new Error(`oracle: unexpected output of ip -batch in ${host}:\n${ipOut.slice(0, 500)}`);
  const [links, addrs, neigh, ids] = parts.map((x) => JSON.parse(x) as unknown) as [RawLink[], { addr_info?: { local?: string; family?: string }[] }[], RawNeigh[], { nsid: number; name?: string }[]];
  const lines = cat.trimEnd().split('\n');
  return {
    links: parseLinks(links),
    counters: parseSnmp(lines.slice(0, -1).join('\n')),
    neigh: parseNeigh(neigh),
    addrs: addrs.flatMap((l) => (l.addr_info ?? []).flatMap((a) => (a.local !== undefined && a.family === 'inet' ? [a.local] : []))),
    nsids: ids,
    echoIgnore: lines[lines.length - 1]!.trim(),
  };
}

// ---------------------------------------------------------------------------------------------
// The nft counters

interface CounterSlot {
  name: string;
  dev: string;
  dir: 'rx' | 'tx';
}

function ipHex(ip: Addr): string {
  return '0x' + (ip.v4 >>> 0).toString(16).padStart(8, '0');
}

/** The nft ruleset that counts the probe (plain and VXLAN-encapsulated) on every device of a host. */
function nftRuleset(devs: string[], flow: Observation['flow'], dst: Addr): { text: string; slots: CounterSlot[] } {
  const slots: CounterSlot[] = [];
  const q = (d: string) => JSON.stringify(d);
  const S = flow.size;
  const plain = flow.proto === 'icmp'
    ? `ip length ${S} ip daddr ${dst} icmp type echo-request`
    : `ip length ${S} ip daddr ${dst} udp dport ${flow.port}`;
  // Outer UDP, then 8 bytes VXLAN + 14 bytes Ethernet: the inner IPv4 header starts 30 bytes into
  // the transport header (bits 240..); length at +2, destination at +16, then the L4 header at +20.
  const inner = `ip protocol udp @th,256,16 ${S} @th,368,32 ${ipHex(dst)} ` +
    (flow.proto === 'icmp' ? '@th,312,8 1 @th,400,8 8' : `@th,312,8 17 @th,416,16 ${flow.port}`);
  const lines: string[] = [`table netdev ${TABLE} {`];
  devs.forEach((d, i) => {
    for (const dir of ['rx', 'tx'] as const) {
      const name = `${dir}_${i}`;
      slots.push({ name, dev: d, dir });
      lines.push(`  counter ${name} { }`, `  counter ${name}_vx { }`);
    }
  });
  if (devs.length) {
    for (const [chain, hook, dir, sel] of [['rx', 'ingress', 'rx', 'iifname'], ['tx', 'egress', 'tx', 'oifname']] as const) {
      lines.push(`  chain ${chain} {`, `    type filter hook ${hook} devices = { ${devs.map(q).join(', ')} } priority -500; policy accept;`);
      devs.forEach((d, i) => {
        lines.push(`    ${sel} ${q(d)} ${plain} counter name ${dir}_${i}`);
        lines.push(`    ${sel} ${q(d)} ${inner} counter name ${dir}_${i}_vx`);
      });
      lines.push('  }');
    }
  }
  lines.push('}');
  return { text: lines.join('\n') + '\n', slots };
}

async function readNft(lab: Lab, host: string): Promise<Map<string, number>> {
  const raw = JSON.parse(await mustIn(lab, host, ['nft', '-j', 'list', 'counters', 'table', 'netdev', TABLE])) as { nftables: { counter?: { name: string; packets: number } }[] };
  const out = new Map<string, number>();
  for (const e of raw.nftables) if (e.counter) out.set(e.counter.name, e.counter.packets);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Sending

const UDP_SENDER = [
  'import socket, sys',
  'dst, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])',
  's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
  's.setsockopt(socket.IPPROTO_IP, 10, 2)  # IP_MTU_DISCOVER = IP_PMTUDISC_DO: DF set, never fragment locally',
  'try:',
  '    s.sendto(b"n" * (size - 28), (dst, port))',
  'except OSError as e:',
  '    print("sendmsg: " + e.strerror, file=sys.stderr)',
  '    sys.exit(2)',
].join('\n');

async function send(lab: Lab, flow: Observation['flow'], waitMs: number): Promise<RunResult> {
  if (flow.proto === 'udp') {
    if (!which('python3')) throw new Error('oracle: UDP probes need python3 (apt-get install python3)');
    return runIn(lab, flow.from, ['python3', '-c', UDP_SENDER, flow.to, String(flow.port), String(flow.size)]);
  }
  const tool = which('ping');
  if (!tool) throw new Error('oracle: ICMP probes need iputils ping (apt-get install iputils-ping)');
  return runIn(lab, flow.from, ['ping', '-n', '-c', '1', '-W', (waitMs / 1000).toFixed(3), '-M', 'do', '-s', String(flow.size - 28), flow.to]);
}

/** errno text of a refused send -> verdicts. */
function sendErrorVerdicts(text: string): Verdict[] {
  if (/network is unreachable/i.test(text)) return ['no-route'];
  if (/no route to host/i.test(text)) return ['unreachable'];
  if (/invalid argument/i.test(text)) return ['blackhole'];
  if (/permission denied|operation not permitted/i.test(text)) return ['prohibit'];
  if (/message too long/i.test(text)) return ['mtu-exceeded'];
  if (/network is down/i.test(text)) return ['link-down'];
  return [];
}

function icmpErrorVerdicts(lines: readonly string[]): Verdict[] {
  const t = lines.join('\n');
  if (/Frag needed/i.test(t)) return ['mtu-exceeded'];
  if (/Destination Net Unreachable/i.test(t)) return ['no-route'];
  if (/Destination Host Unreachable/i.test(t)) return ['unreachable', 'neighbor-failed'];
  if (/Packet filtered|Prohibited/i.test(t)) return ['prohibit'];
  if (/Time to live exceeded/i.test(t)) return ['ttl-exceeded'];
  return [];
}

// ---------------------------------------------------------------------------------------------
// observe()

/** Every lab-defined IPv4 range: underlay segments, the CNI's network and the pod CIDRs. */
function labRanges(built: BuiltCluster): Prefix[] {
  const out: Prefix[] = [built.plan.underlay.prefix];
  const plan = built.plan as { segments?: { prefix: Prefix }[] };
  for (const s of plan.segments ?? []) out.push(s.prefix);
  const cni = built.spec.cni as { network?: string };
  if (cni.network !== undefined) {
    const p = Prefix.parse(cni.network);
    if (p.ok) out.push(p.value);
  }
  for (const n of built.plan.nodes) out.push(n.podCIDR);
  return out.filter((p) => p.family === 4);
}

function delta(a: number | undefined, b: number | undefined): number {
  return (b ?? 0) - (a ?? 0);
}

export async function observe(lab: Lab, built: BuiltCluster, flowIn: OracleFlow, opts: ObserveOptions = {}): Promise<Observation> {
  const proto = flowIn.proto ?? 'icmp';
  const flow: Observation['flow'] = { from: flowIn.from, to: flowIn.to, size: flowIn.size, proto, ...(proto === 'udp' ? { port: flowIn.port ?? 33434 } : {}) };
  const dstR = Addr.parse(flow.to);
  if (!dstR.ok || dstR.value.family !== 4) throw new Error(`oracle: ${flow.to} is not an IPv4 address`);
  const dst = dstR.value;
  if (!labRanges(built).some((p) => p.contains(dst)) && !built.hosts.some((h) => h.ips?.includes(flow.to))) {
    throw new Error(`oracle: refusing to send to ${flow.to}: not an address of the lab`);
  }
  if (!Number.isInteger(flow.size) || flow.size < 28 || flow.size > 65535) throw new Error(`oracle: size ${flow.size} is not an IPv4 packet length >= 28`);
  if (!which('nft')) throw new Error('oracle: nft (nftables) is needed to count the probe per device: apt-get install nftables');
  const hosts = built.hosts.map((h) => h.name);
  if (!hosts.includes(flow.from)) throw new Error(`oracle: ${flow.from} is not a host of the lab`);
  const waitMs = opts.waitMs ?? 400;

  // Before: tables and counters. Installing the nft counters and the sysctls below moves no counter.
  const before = await Promise.all(hosts.map((h) => snapHost(lab, h)));
  const owners = hosts.filter((_, i) => before[i]!.addrs.includes(flow.to));
  const slots = new Map<string, CounterSlot[]>();
  const installed: string[] = [];
  const tuned: string[] = [];
  try {
    await Promise.all(hosts.map(async (h, i) => {
      const devs = [...before[i]!.links.keys()].filter((d) => d !== 'lo');
      const rs = nftRuleset(devs, flow, dst);
      slots.set(h, rs.slots);
      const settings = ['net.ipv4.icmp_echo_ignore_all=1', ...(opts.flushRouteCache !== false ? ['net.ipv4.route.flush=1'] : [])];
      await Promise.all([
        mustIn(lab, h, ['nft', '-f', '-'], rs.text).then(() => installed.push(h)),
        mustIn(lab, h, ['sysctl', '-q', '-w', ...settings]).then(() => tuned.push(h)),
      ]);
    }));

    const sent = await send(lab, flow, waitMs);
    await new Promise((r) => setTimeout(r, 50));
    // Packets parked on an unresolved neighbour are dropped (and reported) only when resolution fails.
    const deadline = Date.now() + (opts.neighWaitMs ?? 5000);
    let after: HostSnap[];
    for (;;) {
      after = await Promise.all(hosts.map((h) => snapHost(lab, h)));
      if (!after.some((x) => [...x.neigh.values()].some((st) => st.startsWith('INCOMPLETE'))) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const nft = await Promise.all(hosts.map((h) => readNft(lab, h)));
    const obs = analyse(flow, hosts, owners, before, after, nft, slots, lab, sent);
    // EMSGSIZE / FragFails name no device: ask the kernel which device the route uses.
    const src = after[hosts.indexOf(flow.from)]!.addrs.find((a) => a !== '127.0.0.1');
    for (const d of obs.drops) {
      if (d.dev !== null || d.verdicts[0] !== 'mtu-exceeded') continue;
      let args: string[] = [];
      if (d.host !== flow.from) {
        const snap = after[hosts.indexOf(d.host)]!;
        const l3 = obs.devices.filter((x) => x.host === d.host && x.rx > 0 && !isPort(snap, x.dev));
        const iif = (l3.find((x) => snap.links.get(x.dev)?.kind === 'vxlan') ?? l3[l3.length - 1])?.dev;
        if (!iif || !src) continue;
        args = ['from', src, 'iif', iif];
      }
      const r = await runIn(lab, d.host, ['ip', '-j', 'route', 'get', flow.to, ...args]);
      const dev = r.code === 0 ? (JSON.parse(r.stdout) as { dev?: string }[])[0]?.dev : undefined;
      if (dev) d.dev = dev;
    }
    return obs;
  } finally {
    await Promise.all([
      ...installed.map((h) => runIn(lab, h, ['nft', 'delete', 'table', 'netdev', TABLE])),
      ...tuned.map((h) => runIn(lab, h, ['sysctl', '-q', '-w', `net.ipv4.icmp_echo_ignore_all=${before[hosts.indexOf(h)]!.echoIgnore}`])),
    ]);
  }
}

const DROP_COUNTERS: { key: string; verdicts: Verdict[]; ingress: boolean }[] = [
  { key: 'TcpExt.IPReversePathFilter', verdicts: ['rp-filter'], ingress: true },
  { key: 'Ip.InAddrErrors', verdicts: ['forwarding-disabled'], ingress: true },
  { key: 'Ip.InHdrErrors', verdicts: ['ttl-exceeded'], ingress: true },
  { key: 'Ip.FragFails', verdicts: ['mtu-exceeded'], ingress: false },
  { key: 'IpExt.InNoRoutes', verdicts: ['no-route'], ingress: false },
  { key: 'Ip.OutNoRoutes', verdicts: ['no-route'], ingress: false },
];

function isPort(s: HostSnap, dev: string): boolean {
  return s.links.get(dev)?.master !== undefined;
}

function analyse(
  flow: Observation['flow'],
  hosts: string[],
  owners: string[],
  before: HostSnap[],
  after: HostSnap[],
  nft: Map<string, number>[],
  slots: Map<string, CounterSlot[]>,
  lab: Lab,
  sent: RunResult,
): Observation {
  const output = (sent.stdout + sent.stderr).trim();
  const deltas: Record<string, Record<string, number>> = {};
  const devices: DeviceSeen[] = [];
  const neighChanges: NeighChange[] = [];
  /** Encapsulated copies of the probe received per host: their outer IPv4/UDP headers count in Ip/Udp too. */
  const outerRx = new Map<string, number>();
  const byNs = new Map(hosts.map((h) => [lab.ns(h), h]));
  hosts.forEach((h, i) => {
    const d: Record<string, number> = {};
    for (const [k, v] of after[i]!.counters) {
      const x = delta(before[i]!.counters.get(k), v);
      if (x !== 0) d[k] = x;
    }
    for (const [dev, l] of after[i]!.links) {
      for (const [k, v] of Object.entries(l.stats)) {
        if (k === 'tx_carrier_changes') continue;
        const x = delta(before[i]!.links.get(dev)?.stats[k], v);
        if (x !== 0 && !/bytes$/.test(k)) d[`link ${dev} ${k}`] = x;
      }
    }
    deltas[h] = d;
    const counts = nft[i]!;
    for (const s of slots.get(h) ?? []) {
      if (s.dir === 'rx') outerRx.set(h, (outerRx.get(h) ?? 0) + (counts.get(`${s.name}_vx`) ?? 0));
      const n = (counts.get(s.name) ?? 0) + (counts.get(`${s.name}_vx`) ?? 0);
      if (n === 0) continue;
      let e = devices.find((x) => x.host === h && x.dev === s.dev);
      if (!e) devices.push((e = { host: h, dev: s.dev, rx: 0, tx: 0 }));
      e[s.dir] += n;
    }
    for (const [k, st] of after[i]!.neigh) {
      const was = before[i]!.neigh.get(k) ?? 'absent';
      if (was !== st) {
        const [dev, ip] = k.split(' ');
        neighChanges.push({ host: h, dev: dev!, dst: ip!, before: was, after: st });
      }
    }
  });

  const dev = (h: string, d: string) => devices.find((x) => x.host === h && x.dev === d);
  const rxOn = (h: string) => devices.filter((x) => x.host === h && x.rx > 0);
  const txOn = (h: string) => devices.filter((x) => x.host === h && x.tx > 0);
  const linkOf = (h: string, d: string) => after[hosts.indexOf(h)]!.links.get(d);
  /** The other end of a veth, as {host, dev}, when it is in a lab namespace. */
  const peerOf = (h: string, d: string): { host: string; dev: string } | undefined => {
    const l = linkOf(h, d);
    if (!l || l.linkIndex === undefined) return undefined;
    let peerHost = h;
    if (l.linkNetnsid !== undefined) {
      const name = after[hosts.indexOf(h)]!.nsids.find((x) => x.nsid === l.linkNetnsid)?.name;
      const ph = name !== undefined ? byNs.get(name) : undefined;
      if (!ph) return undefined;
      peerHost = ph;
    }
    const p = [...after[hosts.indexOf(peerHost)]!.links.values()].find((x) => x.ifindex === l.linkIndex);
    return p ? { host: peerHost, dev: p.ifname } : undefined;
  };

  const deliveredKeys = flow.proto === 'icmp' ? ['Icmp.InEchos'] : ['Udp.InDatagrams', 'Udp.NoPorts', 'Udp.InErrors'];
  // Owners only: a VXLAN decapsulation counts Udp InDatagrams on the node too.
  const deliveredTo = owners.filter((h) => deliveredKeys.some((k) => (deltas[h]![k] ?? 0) > 0));
  const icmpErrors = output.split('\n').filter((l) => /^From \S+/.test(l));
  const sendErr = /(?:sendmsg|connect|sendto|local error): (.*)$/im.exec(sent.stderr + '\n' + sent.stdout);
  const drops: DropPoint[] = [];

  if (sendErr && (txOn(flow.from).length === 0)) {
    const text = sendErr[1]!.trim();
    drops.push({ host: flow.from, dev: null, counter: 'sendmsg', verdicts: sendErrorVerdicts(text), detail: `the socket refused the packet: ${text}` });
  }

  // The source is looked at even when nothing left it (and its socket took the packet): a packet that
  // dies on its own neighbour queue (ARP unanswered) is counted only there.
  const seen = hosts.filter((h) => rxOn(h).length > 0 || (h === flow.from && (txOn(h).length > 0 || !sendErr)));
  /** Hosts whose interface took the frame off the wire but dropped it before any hook ran. */
  const reachedOnly = new Set<string>();
  for (const h of seen) {
    if (deliveredTo.includes(h)) continue;
    const d = deltas[h]!;
    const rx = rxOn(h);
    const tx = txOn(h);
    // The L3 input device: a received device that is not a bridge port; for a VXLAN decap, the VTEP.
    const l3in = rx.filter((x) => linkOf(h, x.dev)?.master === undefined);
    const iif = (l3in.find((x) => linkOf(h, x.dev)?.kind === 'vxlan') ?? l3in[l3in.length - 1])?.dev ?? null;

    // Sent on a device, but nothing arrived where that device leads.
    for (const t of tx) {
      const l = linkOf(h, t.dev);
      if (!l) continue;
      if (l.kind === 'vxlan') {
        const under = l.vxlanLink ?? 'eth0';
        if ((dev(h, under)?.tx ?? 0) > 0) continue;
        if ((d['Ip.OutNoRoutes'] ?? 0) > 0) continue; // the outer packet had no route: see the counters below
        const moved = d[`link ${t.dev} tx_dropped`] ?? 0;
        drops.push({ host: h, dev: t.dev, counter: `link ${t.dev} tx_dropped`, verdicts: ['no-fdb-entry'],
          detail: `${t.dev} (VXLAN) took the probe but no encapsulated copy left ${under}; tx_dropped +${moved} (vxlan_xmit: no FDB entry for the inner destination MAC, nor a default one)` });
      } else if (l.kind === 'bridge') {
        const ports = [...after[hosts.indexOf(h)]!.links.values()].filter((x) => x.master === t.dev);
        if (ports.some((p) => (dev(h, p.ifname)?.tx ?? 0) > 0)) continue;
        drops.push({ host: h, dev: t.dev, counter: 'none (inside the bridge)', verdicts: ['no-fdb-entry', 'mtu-exceeded', 'link-down'],
          detail: `${h} sent the probe into bridge ${t.dev} but no port of it transmitted it` });
      } else if (l.kind === 'veth') {
        const p = peerOf(h, t.dev);
        if (!p || (dev(p.host, p.dev)?.rx ?? 0) > 0) continue;
        const pl = linkOf(p.host, p.dev);
        const down = !pl || !pl.flags.includes('UP');
        // is_skb_forwardable(): len > peer mtu + hard_header_len + VLAN_HLEN.
        const tooBig = !!pl && flow.size + 14 > pl.mtu + 14 + 4;
        const verdicts: Verdict[] = down ? ['link-down'] : tooBig ? ['mtu-exceeded'] : ['link-down', 'mtu-exceeded'];
        // __dev_forward_skb() counts a frame its device cannot take as rx_dropped on the PEER: the
        // frame reached the peer's interface and died there, before any hook of the peer's stack.
        reachedOnly.add(p.host);
        drops.push({ host: p.host, dev: p.dev, counter: `link ${p.dev} rx_dropped`, verdicts,
          detail: `${h} sent the probe on ${t.dev}; its peer ${p.host}/${p.dev} (${down ? 'down' : `mtu ${pl?.mtu}`}) refused it (veth_xmit -> is_skb_forwardable: rx_dropped +${deltas[p.host]?.[`link ${p.dev} rx_dropped`] ?? 0} there, tx_dropped +${d[`link ${t.dev} tx_dropped`] ?? 0} on ${t.dev}, the sender's socket sees ENOBUFS)` });
      }
    }
    // A drop counter that moved explains a drop here even if the probe also left (a loop passes the
    // same host many times before its TTL runs out).
    const fired = DROP_COUNTERS.filter((c) => (d[c.key] ?? 0) > 0 && !(c.key === 'Ip.InAddrErrors' && (d['Ip.ForwDatagrams'] ?? 0) > 0));
    if (fired.length) {
      const c = fired[0]!;
      // FragFails with the probe seen on bridge ports only: br_netfilter's br_nf_dev_queue_xmit refused
      // to fragment a DF packet for an egress port with a smaller MTU (no ICMP is sent).
      const bridged = c.key === 'Ip.FragFails' && l3in.length === 0 ? ' (bridged: br_netfilter found the egress port\'s MTU too small)' : '';
      const looped = Math.max(0, ...rx.map((x) => x.rx)) > 1;
      const verdicts: Verdict[] = c.key === 'Ip.InHdrErrors' && looped ? ['ttl-exceeded', 'loop'] : c.verdicts;
      drops.push({ host: h, dev: c.ingress ? iif : null, counter: c.key, verdicts,
        detail: `${c.key} +${d[c.key]} on ${h}${bridged}${looped ? ` (the probe came by ${Math.max(...rx.map((x) => x.rx))} times: a loop)` : ''}` });
      continue;
    }
    if (tx.length > 0) continue;

    // Received here, went nowhere, and this is not the destination: why?
    if ((d['Icmp.OutDestUnreachs'] ?? 0) > 0) {
      const failed = neighChanges.find((n) => n.host === h && /FAILED|INCOMPLETE/.test(n.after))
        ?? [...after[hosts.indexOf(h)]!.neigh].filter(([, st]) => /FAILED|INCOMPLETE/.test(st)).map(([k, st]) => ({ host: h, dev: k.split(' ')[0]!, dst: k.split(' ')[1]!, before: st, after: st }))[0];
      if (failed) {
        drops.push({ host: h, dev: failed.dev, counter: 'Icmp.OutDestUnreachs + neighbour', verdicts: ['neighbor-failed'],
          detail: `neighbour ${failed.dst} on ${failed.dev} went ${failed.before} -> ${failed.after}; ${h} sent ICMP host unreachable` });
      } else {
        const v = icmpErrorVerdicts(icmpErrors);
        drops.push({ host: h, dev: null, counter: 'Icmp.OutDestUnreachs', verdicts: v.length ? v.filter((x) => x !== 'neighbor-failed') : ['unreachable', 'prohibit'],
          detail: `${h} answered with ICMP destination unreachable${icmpErrors.length ? `: ${icmpErrors.join('; ')}` : ''}` });
      }
      continue;
    }
    // The outer header of a VXLAN copy counts in InReceives and InDelivers (the UDP socket that decapsulates).
    const outer = outerRx.get(h) ?? 0;
    if ((d['Ip.InReceives'] ?? 0) - outer > 0) {
      const local = (d['Ip.InDelivers'] ?? 0) - outer > 0;
      drops.push({ host: h, dev: local ? iif : null, counter: local ? 'Ip.InDelivers' : 'Ip.InReceives only', verdicts: local ? ['wrong-destination'] : ['blackhole'],
        detail: local ? `${h} took the packet for itself but is not ${flow.to}` : `${h}'s IPv4 layer received the probe and dropped it without counting why (a blackhole route on input)` });
      continue;
    }
    if (rx.length > 0 && l3in.length === 0) {
      // wrong-destination: the FDB puts the destination behind the port the frame came in on and
      // hairpin is off (br_forward's should_deliver), e.g. a macvlan's frame for its own lower device.
      drops.push({ host: h, dev: null, counter: 'none (inside the bridge)', verdicts: ['mtu-exceeded', 'link-down', 'no-fdb-entry', 'wrong-destination'],
        detail: `${h} received the probe on bridge port(s) ${rx.map((x) => x.dev).join(', ')} and forwarded it nowhere (br_forward drops on port MTU or state, or for a destination behind the port it came in on with hairpin off, without a counter)` });
      continue;
    }
    if (rx.length > 0) {
      drops.push({ host: h, dev: iif, counter: 'none (before IP)', verdicts: ['wrong-destination'],
        detail: `${h} received the probe on ${rx.map((x) => x.dev).join(', ')} but its IPv4 layer never saw it: the frame was for another MAC (PACKET_OTHERHOST)` });
    }
  }

  const delivered = deliveredTo.length > 0;
  const primary = delivered ? null : (drops.find((x) => !x.verdicts.every((v) => v === 'wrong-destination')) ?? drops[0] ?? null);
  const obs: Observation = {
    flow,
    delivered,
    deliveredTo,
    seenBy: [flow.from, ...hosts.filter((h) => h !== flow.from && (rxOn(h).length > 0 || reachedOnly.has(h)))],
    devices,
    icmpErrors,
    drop: primary,
    drops,
    deltas,
    neighChanges,
    sender: { code: sent.code, output },
  };
  if (sendErr) obs.sendError = sendErr[1]!.trim();
  return obs;
}

// ---------------------------------------------------------------------------------------------
// Comparing

export function kernelVerdicts(obs: Observation): Verdict[] {
  return obs.delivered ? [] : (obs.drop?.verdicts ?? []);
}

export function describeObservation(obs: Observation): string {
  const f = obs.flow;
  const lines = [
    `kernel: ${f.proto} ${f.size} bytes ${f.from} -> ${f.to}${f.port !== undefined ? `:${f.port}` : ''}: ${obs.delivered ? `delivered to ${obs.deliveredTo.join(', ')}` : 'NOT delivered'}`,
    `  seen by: ${obs.seenBy.join(', ')}`,
    `  devices: ${obs.devices.map((d) => `${d.host}/${d.dev}${d.rx ? ` rx${d.rx}` : ''}${d.tx ? ` tx${d.tx}` : ''}`).join(', ') || 'none'}`,
  ];
  if (obs.sendError) lines.push(`  send error: ${obs.sendError}`);
  if (obs.icmpErrors.length) lines.push(`  icmp errors: ${obs.icmpErrors.join(' | ')}`);
  for (const d of obs.drops) lines.push(`  ${d === obs.drop ? 'DROP' : 'drop (copy)'}: ${d.host}${d.dev ? `/${d.dev}` : ''} [${d.counter}] -> ${d.verdicts.join('|')}: ${d.detail}`);
  for (const n of obs.neighChanges) lines.push(`  neigh ${n.host} ${n.dev} ${n.dst}: ${n.before} -> ${n.after}`);
  const interesting = /^(Ip\.|IpExt\.InNoRoutes|Icmp\.|Udp\.|TcpExt\.IPReversePathFilter|link .* (rx_packets|tx_packets|rx_dropped|tx_dropped|rx_errors|tx_errors))/;
  for (const [h, d] of Object.entries(obs.deltas)) {
    const moved = Object.entries(d).filter(([k]) => interesting.test(k) && !/Octets|IcmpMsg/.test(k));
    if (moved.length) lines.push(`  ${h}: ${moved.map(([k, v]) => `${k} ${v > 0 ? '+' : ''}${v}`).join(', ')}`);
  }
  lines.push(`  sender: exit ${obs.sender.code}: ${obs.sender.output.split('\n').filter(Boolean).slice(0, 4).join(' / ')}`);
  return lines.join('\n');
}

function describeTrace(t: TraceResult): string {
  const d = t.dropAt ? ` at ${t.dropAt.host}${t.dropAt.dev ? `/${t.dropAt.dev}` : ''}` : '';
  return `engine: ${t.verdict}${d}: ${t.hops.map((h) => `${h.host}(${h.in ?? '-'}>${h.out ?? '-'})`).join(' -> ')}\n  ${t.reason}`;
}

export interface CompareOptions {
  /** Check that the engine's verdict is one the kernel's evidence allows (default true). */
  verdict?: boolean;
  /** Check the drop device where the kernel names one (default true). */
  dev?: boolean;
  /** Check every hop's in and out device against the devices that received and sent the probe (default true). */
  devices?: boolean;
}

/** Asserts that the engine's trace agrees with what the kernel did (see the file header). */
export function compareWithEngine(obs: Observation, trace: TraceResult, opts: CompareOptions = {}): void {
  const both = `${describeObservation(obs)}\n${describeTrace(trace)}`;
  assert.equal(trace.verdict === 'delivered', obs.delivered, `delivered? kernel ${obs.delivered}, engine ${trace.verdict}\n${both}`);
  if (!obs.delivered) {
    assert.ok(obs.drop, `the kernel did not deliver the packet but the oracle found no drop point\n${both}`);
    assert.ok(trace.dropAt, `engine has no dropAt\n${both}`);
    assert.equal(trace.dropAt.host, obs.drop.host, `drop host: kernel ${obs.drop.host}, engine ${trace.dropAt.host}\n${both}`);
    if (opts.dev !== false && obs.drop.dev !== null) assert.equal(trace.dropAt.dev, obs.drop.dev, `drop device on ${obs.drop.host}: kernel ${obs.drop.dev}, engine ${trace.dropAt.dev}\n${both}`);
    if (opts.verdict !== false) assert.ok(obs.drop.verdicts.includes(trace.verdict), `verdict: kernel evidence allows ${obs.drop.verdicts.join('|')}, engine says ${trace.verdict}\n${both}`);
  }
  const seen = new Set(obs.seenBy);
  const chosen = [...new Set(trace.hops.map((h) => h.host))];
  const missing = chosen.filter((h) => !seen.has(h));
  assert.deepEqual(missing, [], `hosts on the engine's path that never saw the packet: ${missing.join(', ')}\n${both}`);
  const possible = new Set([...chosen, ...trace.paths.flatMap((p) => p.hops.map((h) => h.host))]);
  const extra = obs.seenBy.filter((h) => !possible.has(h));
  assert.deepEqual(extra, [], `hosts that saw the packet but are on no engine path: ${extra.join(', ')}\n${both}`);
  if (opts.devices === false) return;
  // Devices on the engine's chosen path: each hop's `in` received the probe and each `out` sent it.
  // The last hop's `out` of an undelivered packet is where the engine says it would have left: the
  // drop device, compared above.
  const wrong: string[] = [];
  trace.hops.forEach((h, i) => {
    const seen = obs.devices.find((d) => d.host === h.host && d.dev === h.in);
    const refused = obs.drops.some((d) => d.host === h.host && d.dev === h.in && d.counter.endsWith('rx_dropped'));
    if (h.in !== null && !(seen && seen.rx > 0) && !refused) wrong.push(`${h.host}/${h.in} did not receive it`);
    const last = i === trace.hops.length - 1;
    const sent = obs.devices.find((d) => d.host === h.host && d.dev === h.out);
    if (h.out !== null && !(last && trace.verdict !== 'delivered') && !(sent && sent.tx > 0)) wrong.push(`${h.host}/${h.out} did not send it`);
  });
  assert.deepEqual(wrong, [], `devices on the engine's path that the kernel did not use: ${wrong.join('; ')}\n${both}`);
}

/**
 * Why the oracle cannot run here (the netns lab's prerequisites, and nftables, which counts the one
 * probe packet per device), or undefined when it can.
 */
export function oracleUnavailable(): string | undefined {
  const missing = describeMissing(checkPrerequisites());
  const nft = which('nft') ? '' : '- nft installed: NO\n  the oracle counts the probe per device with nftables: apt-get install nftables (dnf install nftables)';
  const text = [missing, nft].filter(Boolean).join('\n');
  return text ? `the netns lab cannot run here (set NETPATH_SKIP_LAB=1 to skip these tests):\n${text}` : undefined;
}
