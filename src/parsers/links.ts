// `ip -d link show` (iproute2 text), `ip -j -d link show` (JSON) and BusyBox `ip link`.
//
// A text block is a header `N: name[@link]: <FLAGS> mtu N ...` and indented lines after it:
//   link/TYPE [ADDR [brd|peer ADDR]] [link-netnsid N | link-netns NAME] [promiscuity N ...]
//   KIND [kind details ...]                  (-d only: veth, bridge, vxlan, vlan, ipip, bond, ...)
//   KIND_slave [port details ...]            (-d only, when enslaved: bridge_slave, bond_slave)
//   alias TEXT | altname NAME | vf N ... | RX:/TX: statistics (-s)
// Which of these lines appear, and where the generic `addrgenmode numtxqueues ...` tail lands,
// differs between iproute2 versions and device kinds, so a line is recognised by its first word,
// not its position. `ip addr` blocks have the same shape with `inet`/`inet6` lines added, so
// addrs.ts reuses `scanLinkBlocks`.
import { Addr } from '../net/addr';
import { Collector, isObject, jsonElements, lines, looksLikeJson, num, source, str, tokens, uint, type JsonElement, type Line } from './common';
import type { LinkRecord, ParseResult, TunnelInfo, VxlanInfo } from './types';

export function parseLinks(text: string): ParseResult<LinkRecord> {
  if (looksLikeJson(text)) return parseJson(text);
  const c = new Collector<LinkRecord>('iproute2');
  const ls = lines(text);
  if (ls.length === 0) {
    c.format = 'empty';
    return c.result();
  }
  const { sawState } = scanLinkBlocks(ls, c, { block: (rec) => c.records.push(rec) });
  if (!sawState && c.records.length > 0) c.format = 'busybox';
  return c.result();
}

// ---- the text block scanner (shared with addrs.ts) ----------------------------------------------

/** The interface an `inet`/`inet6`/`valid_lft` line belongs to. */
export interface BlockContext {
  ifindex: number;
  ifname: string;
}

export interface BlockVisitor {
  /** A header parsed: the record is filled in further as the block's lines arrive. */
  block(rec: LinkRecord, l: Line): void;
  /** `inet ...`, `inet6 ...` and `valid_lft ...` lines (`ip addr`), tokens without the `N: dev` of `ip -o`. */
  addrLine?(toks: string[], l: Line, ctx: BlockContext): void;
}

interface Block {
  rec: LinkRecord;
  /** The block of a broken header: read so that garbage in it is still reported, then dropped. */
  discard: boolean;
  seenLink: boolean;
  /** `promiscuity` was printed: `ip -d` output, so a kind line may follow. */
  detail: boolean;
  kindDone: boolean;
  afterStatsHeader: boolean;
}

const HEADER_MESSAGE = 'expected `N: name: <FLAGS> mtu N ...` interface header';

/** Kinds recognised even when the `-d` marker (`promiscuity`) is missing from the link line. */
const KNOWN_KINDS = new Set(['veth', 'bridge', 'vxlan', 'vlan', 'macvlan', 'ipvlan', 'ipip', 'sit', 'gre', 'gretap', 'ip6tnl', 'ip6gre', 'ip6gretap', 'geneve', 'wireguard', 'dummy', 'bond', 'team', 'vrf', 'tun', 'ifb', 'openvswitch', 'vti', 'vti6', 'xfrm']);
const TUNNEL_KINDS = new Set(['ipip', 'sit', 'gre', 'gretap', 'ip6tnl', 'ip6gre', 'ip6gretap', 'vti', 'vti6', 'erspan', 'ip6erspan', 'geneve']);
/** Words that follow `link/TYPE` and are not its address. */
const LINK_LINE_KEYS = new Set(['brd', 'peer', 'link-netnsid', 'link-netns', 'new-netns', 'new-netnsid', 'new-ifindex', 'permaddr', 'proto_down', 'promiscuity', 'allmulti', 'minmtu', 'maxmtu', 'addrgenmode', 'numtxqueues']);
/** Lines inside a block that carry nothing the forwarding model uses. */
const IGNORED_FIRST = new Set(['vf', 'ingress-qos-map', 'egress-qos-map', 'addrgenmode', 'numtxqueues', 'protodown_reason']);

/**
 * Walks `ip link` / `ip addr` text block by block. Never throws: an unreadable line becomes an
 * issue and the block goes on. Returns whether any header had `state` (iproute2 prints it; BusyBox
 * does not).
 */
export function scanLinkBlocks(ls: readonly Line[], c: Pick<Collector<unknown>, 'issue' | 'each'>, v: BlockVisitor): { sawState: boolean } {
  let cur: Block | undefined;
  let ctx: BlockContext | undefined;
  let sawState = false;

  const handle = (l: Line, part: string, toks: string[]): void => {
    if (toks[0] === 'Deleted') toks = toks.slice(1); // `ip monitor`
    const first = toks[0] ?? '';
    // The counters under an `RX:`/`TX:` line (`ip -s`) are numbers too, but indented.
    const statsLine = cur !== undefined && cur.afterStatsHeader && toks.every((t) => /^-?\d+$/.test(t));
    if (cur) cur.afterStatsHeader = false;
    if (statsLine) return;
    // `3 eth1 <...>` or `3:eth1:` at the start of a line is a broken header, not a line of the block before it.
    if (/^\d+:/.test(first) || (/^\d+$/.test(first) && !/^\s/.test(part))) {
      const ifindex = parseInt(first, 10);
      // `ip -o addr`: `2: eth0    inet 10.0.0.1/24 ...` (no flags: an address line with its device).
      if (toks[1] !== undefined && !toks[1].endsWith(':') && (toks[2] === 'inet' || toks[2] === 'inet6')) {
        cur = undefined;
        ctx = { ifindex, ifname: toks[1] };
        v.addrLine?.(toks.slice(2), l, ctx);
        return;
      }
      const h = parseHeader(toks, l);
      if (typeof h === 'string') {
        c.issue(l, h);
        // The block's own lines go with its header (no issue each), but garbage among them is still reported.
        const rec: LinkRecord = { kind: 'link', ifindex, ifname: `${toks[1] ?? '?'} (broken header)`, flags: [], mtu: 0, up: false, lowerUp: false, src: source(l) };
        cur = { rec, discard: true, seenLink: false, detail: true, kindDone: false, afterStatsHeader: false };
        ctx = undefined;
        return;
      }
      if (h.operstate !== undefined) sawState = true;
      cur = { rec: h, discard: false, seenLink: false, detail: false, kindDone: false, afterStatsHeader: false };
      ctx = { ifindex: h.ifindex, ifname: h.ifname };
      v.block(h, l);
      return;
    }
    if (first === 'inet' || first === 'inet6' || first === 'valid_lft') {
      if (ctx) v.addrLine?.(toks, l, ctx);
      else if (!cur) c.issue(l, HEADER_MESSAGE);
      return;
    }
    if (!cur) {
      c.issue(l, ctx ? `unexpected line after the address of ${ctx.ifname}` : HEADER_MESSAGE);
      return;
    }
    const b = cur;
    if (first.startsWith('link/')) linkLine(b, toks, l, c);
    else if (first === 'alias') b.rec.ifalias = part.trim().slice('alias'.length).trim();
    else if (first === 'altname') {
      if (toks[1] !== undefined) (b.rec.altnames ??= []).push(toks[1]);
    } else if (/^(RX|TX)/.test(first)) b.afterStatsHeader = true;
    else if (first === 'promiscuity') b.detail = true;
    else if (IGNORED_FIRST.has(first) || first.startsWith('prog/')) return;
    else if (first.endsWith('_slave') && first.length > 6) slaveLine(b.rec, toks);
    else if (!b.kindDone && b.seenLink && (b.detail || KNOWN_KINDS.has(first)) && /^[a-z][a-z0-9_-]*$/i.test(first)) {
      b.kindDone = true;
      const problems = kindLine(b.rec, toks);
      if (!b.discard) for (const m of problems) c.issue(l, m);
    } else {
      c.issue(l, `unexpected line in the block of ${b.rec.ifname}: expected \`link/TYPE\`, an \`ip -d\` detail line, \`alias\`, \`altname\` or \`vf\``);
    }
  };

  c.each(ls, (l) => {
    // `ip -o` prints a whole block on one line, its lines joined by a backslash.
    const parts = l.raw.includes('\\') ? l.raw.split('\\') : [l.raw];
    for (const part of parts) {
      const toks = tokens(part);
      if (toks[0] === '') continue;
      handle(l, part, toks);
    }
  });
  return { sawState };
}

function parseHeader(toks: string[], l: Line): LinkRecord | string {
  const nameTok = toks[1];
  const flagsTok = toks[2];
  if (!/^\d+:$/.test(toks[0]!) || nameTok === undefined || !nameTok.endsWith(':') || nameTok.length < 2 || flagsTok === undefined || !flagsTok.startsWith('<') || !flagsTok.endsWith('>')) {
    return HEADER_MESSAGE;
  }
  const full = nameTok.slice(0, -1);
  const at = full.lastIndexOf('@');
  const ifname = at > 0 ? full.slice(0, at) : full;
  const flags = flagsTok.length > 2 ? flagsTok.slice(1, -1).split(',') : [];
  const rec: LinkRecord = { kind: 'link', ifindex: Number(toks[0]!.slice(0, -1)), ifname, flags, mtu: 0, up: flags.includes('UP'), lowerUp: flags.includes('LOWER_UP'), src: source(l) };
  if (at > 0) setLinkName(rec, full.slice(at + 1));
  let mtu: number | undefined;
  for (let i = 3; i < toks.length; i++) {
    const key = toks[i]!;
    const val = toks[i + 1];
    switch (key) {
      case 'mtu':
        mtu = uint(val);
        break;
      case 'qdisc':
        rec.qdisc = val;
        break;
      case 'master':
        rec.master = val;
        break;
      case 'state':
        rec.operstate = val;
        break;
      case 'mode':
        rec.mode = val;
        break;
      case 'group':
        rec.group = val;
        break;
      case 'qlen':
        rec.qlen = uint(val);
        break;
      default:
        continue; // unknown words (xdp, event, ...) stand alone
    }
    i++;
  }
  if (mtu === undefined) return `${HEADER_MESSAGE}: no \`mtu N\``;
  rec.mtu = mtu;
  return dropUndefined(rec);
}

/** `@NONE` is no lower device; `@ifN` is the peer's ifindex when the name cannot be resolved here. */
function setLinkName(rec: LinkRecord, link: string | null | undefined): void {
  if (link === undefined || link === null || link === 'NONE' || link === rec.ifname) return; // BusyBox resolves a foreign ifindex locally and can print `veth0@veth0`
  const m = /^if(\d+)$/.exec(link);
  if (m) rec.linkIndex = Number(m[1]);
  else rec.link = link;
}

function linkLine(b: Block, toks: string[], l: Line, c: Pick<Collector<unknown>, 'issue'>): void {
  const rec = b.rec;
  if (b.seenLink) c.issue(l, `a second \`link/\` line in the block of ${rec.ifname}`);
  b.seenLink = true;
  rec.linkType = toks[0]!.slice('link/'.length);
  let i = 1;
  if (toks[i] !== undefined && !LINK_LINE_KEYS.has(toks[i]!)) rec.address = toks[i++]!.toLowerCase();
  if ((toks[i] === 'brd' || toks[i] === 'peer') && toks[i + 1] !== undefined) {
    rec.broadcast = toks[i + 1]!.toLowerCase();
    i += 2;
  }
  for (; i < toks.length; i++) {
    const key = toks[i]!;
    if (key === 'link-netnsid') {
      const id = uint(toks[i + 1]);
      if (id !== undefined) rec.linkNetnsid = id;
      i++;
    } else if (key === 'link-netns') {
      if (toks[i + 1] !== undefined) rec.linkNetns = toks[i + 1];
      i++;
    } else if (key === 'promiscuity') b.detail = true;
  }
}

/** Reads `key value` pairs and single-word flags of a detail line. */
function pairs(toks: string[], from: number, keys: ReadonlySet<string>): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = from; i < toks.length; i++) {
    const t = toks[i]!;
    if (keys.has(t) && toks[i + 1] !== undefined) {
      if (!m.has(t)) m.set(t, toks[i + 1]!); // the first wins: the kind's own words come before the generic tail
      i++;
    } else m.set(t, '');
  }
  return m;
}

const VXLAN_KEYS = new Set(['id', 'group', 'remote', 'local', 'dev', 'dstport', 'ttl', 'ageing', 'tos', 'df', 'flowlabel', 'maxaddr']);
const TUNNEL_KEYS = new Set(['remote', 'local', 'dev', 'ttl', 'hoplimit', 'tos', 'id', 'dstport', 'encaplimit', 'tclass', 'flowlabel', 'key', 'ikey', 'okey']);
const VLAN_KEYS = new Set(['protocol', 'id']);
const BRIDGE_KEYS = new Set(['stp_state', 'vlan_filtering', 'ageing_time']);
const BOND_KEYS = new Set(['mode', 'active_slave', 'xmit_hash_policy', 'miimon', 'all_slaves_active']);
/** ip/iplink_macvlan.c macvlan_print_opt: `mode %s `, the bare words `nopromisc `/`nodst `, `bcqueuelen %lu `, `usedbcqueuelen %lu `, `bclim %d `, then in source mode `remotes (N) MAC ...`. */
const MACVLAN_KEYS = new Set(['mode', 'bcqueuelen', 'usedbcqueuelen', 'bclim']);
const IPVLAN_KEYS = new Set(['mode']);
/**
 * The ipvlan flag word after the mode (ip/iplink_ipvlan.c ipvlan_print_opt: IPVLAN_F_PRIVATE, else
 * IPVLAN_F_VEPA, else bridge), printed whenever the kernel sends IFLA_IPVLAN_FLAGS (kernel 4.15+;
 * iproute2 since commit 1ef5c952). Older kernels send none and the line has no flag word.
 */
const IPVLAN_FLAGS = ['bridge', 'private', 'vepa'] as const;
const BRIDGE_PORT_KEYS = new Set(['state', 'learning', 'flood', 'hairpin', 'priority', 'cost']);
const BOND_PORT_KEYS = new Set(['state', 'mii_status', 'link_failure_count', 'perm_hwaddr', 'queue_id', 'prio', 'ad_aggregator_id', 'ad_actor_oper_port_state', 'ad_partner_oper_port_state']);

/** The kind line (`vxlan id 1 ...`): fills type-specific fields; returns problems with the line. */
function kindLine(rec: LinkRecord, toks: string[]): string[] {
  const kind = toks[0]!;
  rec.type = kind;
  const problems: string[] = [];
  if (kind === 'vxlan') {
    const m = pairs(toks, 1, VXLAN_KEYS);
    const id = uint(m.get('id'));
    if (id === undefined) return [`vxlan line without \`id N\``];
    // Before iproute2 3.10 there was no dstport; the kernel's default port is 8472.
    const info: VxlanInfo = { id, dstport: uint(m.get('dstport')) ?? 8472, learning: !m.has('nolearning') };
    const range = srcport(toks);
    if (range) info.srcport = range;
    const remote = addrOf(m.get('remote'), 'remote', problems);
    if (remote) info.remote = remote;
    const group = addrOf(m.get('group'), 'group', problems);
    if (group) info.group = group;
    const local = addrOf(m.get('local'), 'local', problems);
    if (local) info.local = local;
    if (m.get('dev')) info.dev = m.get('dev');
    const ttl = uint(m.get('ttl')); // `auto`/`inherit`: no fixed TTL
    if (ttl) info.ttl = ttl;
    const ageing = m.get('ageing');
    if (ageing !== undefined) info.ageing = ageing === 'none' ? 0 : uint(ageing);
    // iproute2 6.1 prints udpcsum or noudpcsum; later versions only the non-default `noudp_csum`.
    info.udpCsum = !(m.has('noudpcsum') || m.has('noudp_csum'));
    if (m.has('external')) info.external = true;
    rec.vxlan = dropUndefined(info);
  } else if (kind === 'vlan') {
    const m = pairs(toks, 1, VLAN_KEYS);
    const id = uint(m.get('id'));
    if (id === undefined) return ['vlan line without `id N`'];
    const protocol = vlanProtocol(m.get('protocol'));
    rec.vlan = protocol ? { id, protocol } : { id };
  } else if (kind === 'bridge') {
    const m = pairs(toks, 1, BRIDGE_KEYS);
    const vf = uint(m.get('vlan_filtering'));
    rec.bridge = dropUndefined({ stpState: uint(m.get('stp_state')), vlanFiltering: vf === undefined ? undefined : vf !== 0, ageingTime: uint(m.get('ageing_time')) });
  } else if (kind === 'bond') {
    const m = pairs(toks, 1, BOND_KEYS);
    const asa = uint(m.get('all_slaves_active'));
    rec.bond = dropUndefined({ mode: m.get('mode') || undefined, activeSlave: m.get('active_slave') || undefined, xmitHashPolicy: m.get('xmit_hash_policy') || undefined, miimon: uint(m.get('miimon')), allSlavesActive: asa === undefined ? undefined : asa !== 0 });
  } else if (kind === 'macvlan' || kind === 'macvtap') {
    const m = pairs(toks, 1, MACVLAN_KEYS);
    const mode = m.get('mode');
    if (!mode) return [`${kind} line without \`mode MODE\``];
    rec.macvlan = m.has('nopromisc') ? { mode, nopromisc: true } : { mode };
  } else if (kind === 'ipvlan' || kind === 'ipvtap') {
    const m = pairs(toks, 1, IPVLAN_KEYS);
    const mode = m.get('mode');
    if (!mode) return [`${kind} line without \`mode MODE\``];
    const flag = IPVLAN_FLAGS.find((f) => m.has(f));
    rec.ipvlan = flag ? { mode, flag } : { mode };
  } else if (TUNNEL_KINDS.has(kind)) {
    const m = pairs(toks, 1, TUNNEL_KEYS);
    const t: TunnelInfo = {};
    const remote = addrOf(m.get('remote'), 'remote', problems);
    if (remote) t.remote = remote;
    const local = addrOf(m.get('local'), 'local', problems);
    if (local) t.local = local;
    const ttl = uint(m.get('ttl') ?? m.get('hoplimit')); // `inherit`: no fixed TTL
    if (ttl) t.ttl = ttl;
    if (m.get('dev')) t.dev = m.get('dev');
    rec.tunnel = t;
  }
  return problems;
}

/** `srcport 0 0` (and `port 32768 61000` before iproute2 3.10). */
function srcport(toks: string[]): [number, number] | undefined {
  for (let i = 1; i + 2 < toks.length; i++) {
    if (toks[i] === 'srcport' || toks[i] === 'port') {
      const lo = uint(toks[i + 1]);
      const hi = uint(toks[i + 2]);
      if (lo !== undefined && hi !== undefined) return [lo, hi];
    }
  }
  return undefined;
}

/** An endpoint address; `any` and the unspecified address mean none. */
function addrOf(s: string | undefined, what: string, problems: string[]): Addr | undefined {
  if (s === undefined || s === '' || s === 'any') return undefined;
  const r = Addr.parse(s);
  if (!r.ok) {
    problems.push(`${what}: ${r.error}`);
    return undefined;
  }
  return r.value.isUnspecified() ? undefined : r.value;
}

/**
 * ip/iplink_vlan.c vlan_print_opt prints the protocol by ll_proto_n2a (`802.1Q`, `802.1ad`), but the
 * literal `802.1q` when the kernel sends no IFLA_VLAN_PROTOCOL (before 3.10): the same ETH_P_8021Q.
 */
function vlanProtocol(s: string | undefined): string | undefined {
  if (!s) return undefined;
  return s === '802.1q' ? '802.1Q' : s;
}

function onOff(s: string | undefined): boolean | undefined {
  return s === 'on' ? true : s === 'off' ? false : undefined;
}

function slaveLine(rec: LinkRecord, toks: string[]): void {
  const kind = toks[0]!;
  rec.slaveKind = kind;
  if (kind === 'bridge_slave') {
    const m = pairs(toks, 1, BRIDGE_PORT_KEYS);
    rec.bridgePort = dropUndefined({ state: m.get('state'), learning: onOff(m.get('learning')), flood: onOff(m.get('flood')), hairpin: onOff(m.get('hairpin')) });
  } else if (kind === 'bond_slave') {
    const m = pairs(toks, 1, BOND_PORT_KEYS);
    rec.bondPort = dropUndefined({ state: m.get('state'), miiStatus: m.get('mii_status'), linkFailureCount: uint(m.get('link_failure_count')), permHwaddr: m.get('perm_hwaddr')?.toLowerCase() });
  }
}

function dropUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

// ---- JSON: `ip -j -d link show` ------------------------------------------------------------------

function parseJson(text: string): ParseResult<LinkRecord> {
  const c = new Collector<LinkRecord>('json');
  const { elements, issue } = jsonElements(text);
  if (issue) c.issues.push(issue);
  for (const el of elements) {
    try {
      const r = linkFromJson(el);
      if (typeof r === 'string') c.issues.push({ line: el.line, raw: el.raw, message: r });
      else {
        c.records.push(r.rec);
        for (const m of r.problems) c.issues.push({ line: el.line, raw: el.raw, message: `${r.rec.ifname}: ${m}` });
      }
    } catch (e) {
      c.issues.push({ line: el.line, raw: el.raw, message: `internal parser error: ${e instanceof Error ? e.message : String(e)}` });
    }
  }
  return c.result();
}

/** The link fields of one `ip -j link`/`ip -j addr` element (addrs.ts uses it for ifindex/ifname). */
export function linkFromJson(el: JsonElement): { rec: LinkRecord; problems: string[] } | string {
  const o = el.value;
  const ifindex = isObject(o) ? num(o.ifindex) : undefined;
  const ifname = isObject(o) ? str(o.ifname) : undefined;
  const mtu = isObject(o) ? num(o.mtu) : undefined;
  if (!isObject(o) || ifindex === undefined || ifname === undefined || mtu === undefined || !Array.isArray(o.flags)) {
    return 'expected a link object with ifindex, ifname, flags and mtu';
  }
  const flags = o.flags.filter((f): f is string => typeof f === 'string');
  const rec: LinkRecord = { kind: 'link', ifindex, ifname, flags, mtu, up: flags.includes('UP'), lowerUp: flags.includes('LOWER_UP'), src: { line: el.line, raw: el.raw } };
  if (num(o.link_index) !== undefined) rec.linkIndex = num(o.link_index);
  else setLinkName(rec, str(o.link));
  if (num(o.link_netnsid) !== undefined) rec.linkNetnsid = num(o.link_netnsid);
  rec.qdisc = str(o.qdisc);
  rec.master = str(o.master);
  rec.operstate = str(o.operstate);
  rec.mode = str(o.linkmode) ?? (num(o.linkmode_index) !== undefined ? String(o.linkmode_index) : undefined);
  rec.group = str(o.group);
  rec.qlen = num(o.txqlen);
  rec.linkType = str(o.link_type);
  rec.address = str(o.address)?.toLowerCase();
  rec.broadcast = str(o.broadcast)?.toLowerCase();
  rec.ifalias = str(o.ifalias);
  if (Array.isArray(o.altnames) && o.altnames.length > 0) rec.altnames = o.altnames.filter((a): a is string => typeof a === 'string');
  const problems: string[] = [];
  if (isObject(o.linkinfo)) linkinfoFromJson(rec, o.linkinfo, problems);
  return { rec: dropUndefined(rec), problems };
}

function boolish(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  return onOff(str(v));
}

function linkinfoFromJson(rec: LinkRecord, li: Record<string, unknown>, problems: string[]): void {
  const kind = str(li.info_kind);
  const d = isObject(li.info_data) ? li.info_data : {};
  if (kind !== undefined) {
    rec.type = kind;
    if (kind === 'vxlan') {
      const id = num(d.id);
      if (id === undefined) problems.push('vxlan info_data without id');
      else {
        const info: VxlanInfo = { id, dstport: num(d.port) ?? 8472, learning: boolish(d.learning) ?? true };
        const pr = isObject(d.port_range) ? d.port_range : undefined;
        if (pr && num(pr.low) !== undefined && num(pr.high) !== undefined) info.srcport = [num(pr.low)!, num(pr.high)!];
        info.remote = addrOf(str(d.remote) ?? str(d.remote6), 'remote', problems);
        info.group = addrOf(str(d.group) ?? str(d.group6), 'group', problems);
        info.local = addrOf(str(d.local) ?? str(d.local6), 'local', problems);
        info.dev = str(d.link);
        info.ttl = num(d.ttl) || undefined; // 0: auto
        info.ageing = num(d.ageing);
        info.udpCsum = boolish(d.udp_csum) ?? true;
        if (d.external === true) info.external = true;
        rec.vxlan = dropUndefined(info);
      }
    } else if (kind === 'vlan') {
      const id = num(d.id);
      if (id === undefined) problems.push('vlan info_data without id');
      else {
        const protocol = vlanProtocol(str(d.protocol));
        rec.vlan = protocol ? { id, protocol } : { id };
      }
    } else if (kind === 'bridge') {
      rec.bridge = dropUndefined({ stpState: num(d.stp_state), vlanFiltering: boolish(d.vlan_filtering), ageingTime: num(d.ageing_time) });
    } else if (kind === 'bond') {
      // active_slave is a name (or a number when `ip` cannot name the ifindex).
      const active = str(d.active_slave) ?? (num(d.active_slave) !== undefined ? String(num(d.active_slave)) : undefined);
      rec.bond = dropUndefined({ mode: str(d.mode), activeSlave: active, xmitHashPolicy: str(d.xmit_hash_policy), miimon: num(d.miimon), allSlavesActive: boolish(d.all_slaves_active) });
    } else if (kind === 'macvlan' || kind === 'macvtap') {
      const mode = str(d.mode);
      if (mode === undefined) problems.push(`${kind} info_data without mode`);
      else rec.macvlan = d.nopromisc === true ? { mode, nopromisc: true } : { mode };
    } else if (kind === 'ipvlan' || kind === 'ipvtap') {
      const mode = str(d.mode);
      const flag = IPVLAN_FLAGS.find((f) => d[f] === true);
      if (mode === undefined) problems.push(`${kind} info_data without mode`);
      else rec.ipvlan = flag ? { mode, flag } : { mode };
    } else if (TUNNEL_KINDS.has(kind)) {
      rec.tunnel = dropUndefined<TunnelInfo>({
        remote: addrOf(str(d.remote) ?? str(d.remote6), 'remote', problems),
        local: addrOf(str(d.local) ?? str(d.local6), 'local', problems),
        ttl: num(d.ttl) || undefined, // 0: inherit
        dev: str(d.link),
      });
    }
  }
  const slave = str(li.info_slave_kind);
  if (slave !== undefined) {
    rec.slaveKind = `${slave}_slave`;
    const s = isObject(li.info_slave_data) ? li.info_slave_data : {};
    if (slave === 'bridge') {
      rec.bridgePort = dropUndefined({ state: str(s.state), learning: boolish(s.learning), flood: boolish(s.flood), hairpin: boolish(s.hairpin) });
    } else if (slave === 'bond') {
      rec.bondPort = dropUndefined({ state: str(s.state), miiStatus: str(s.mii_status), linkFailureCount: num(s.link_failure_count), permHwaddr: str(s.perm_hwaddr)?.toLowerCase() });
    }
  }
}
