// Every sentence of a trace, made from the typed details (detail.ts) in this one place: the text of
// each step, the reason of each path, and the label of each fork. Views read the details; they never
// parse these sentences. The wording is part of the trace JSON: change it on purpose only.
import { describeStep, describeUnevaluated } from './netfilter/narrate';
import type { AttachmentFacts, ForkChoice, InferredIp, InferredNetnsFacts, RouteView, RpFailure, StepDetail, WgPeerRef } from './detail';
import type { Diagnosis } from './trace';

type Of<T extends StepDetail['type']> = Extract<StepDetail, { type: T }>;

/** A route as `ip route` prints it: `default`, a bare address for a host route, else the prefix. */
export function describeRoute(r: RouteView): string {
  const via = r.gateway ? ` via ${r.gateway}` : r.gatewayName ? ` via ${r.gatewayName} (a name, address unknown)` : '';
  const dev = r.dev ? ` dev ${r.dev}` : '';
  return `${r.type === 'unicast' ? '' : r.type + ' '}${r.dst}${via}${dev}${r.table !== 'main' ? ` table ${r.table}` : ''}`;
}

const REJECT_RULE = { blackhole: 'silently discards it', unreachable: 'rejects it as unreachable', prohibit: 'rejects it as administratively prohibited' };
const REJECT_ROUTE = { blackhole: 'silently discards the packet', unreachable: 'rejects it with "No route to host"', prohibit: 'rejects it as administratively prohibited' };

const neighbourProto = (family: 4 | 6) => (family === 4 ? 'ARP' : 'neighbour discovery');
const nexthopWho = (d: { nexthop: string; gateway: boolean }) => (d.gateway ? `gateway ${d.nexthop}` : d.nexthop);

/** "web-0 has no neighbour entry for 10.0.0.1 on eth0", or what stands in for a table that is inferred. */
function noEntry(d: { ns: string; dev: string; nexthop: string; gateway: boolean; nsInferred: boolean }): string {
  const who = nexthopWho(d);
  return d.nsInferred ? `${d.ns}'s neighbour table is not in the capture; with no entry for ${who} on ${d.dev}` : `${d.ns} has no neighbour entry for ${who} on ${d.dev};`;
}

function answerer(a: { host: string; dev: string; by: 'owner' | 'proxy-entry' | 'proxy_arp' }): string {
  return a.by === 'owner' ? `${a.host} (${a.dev})` : a.by === 'proxy-entry' ? `${a.host} (${a.dev}, proxy neighbour entry)` : `${a.host} (${a.dev}, proxy_arp)`;
}

function rpRefusal(rp: RpFailure): string {
  if (rp.result === 'no-route') return `its reverse-path filter (${rp.mode}) finds no unicast route back to the sender ${rp.src}${rp.route ? ` (the route is "${describeRoute(rp.route)}")` : ''}`;
  return `its reverse-path filter (strict) sends replies to ${rp.src} out of ${rp.devs.join(', ')}, not ${rp.iif}`;
}

/** What a pod's attachment to a node port was inferred from, to follow "inferred: ". */
export function attachmentText(a: AttachmentFacts): string {
  switch (a.how) {
    case 'route':
      return `${a.node}'s route "${a.route}" sends ${a.ip} to ${a.dev}`;
    case 'neigh':
      return `${a.node}'s neighbour entry for ${a.ip} is on ${a.dev}, a veth on no bridge`;
    case 'fdb':
      return `${a.node}'s neighbour entry gives ${a.ip} the MAC ${a.mac}, which ${a.bridge}'s forwarding table places behind ${a.port}`;
    case 'elimination':
    case 'candidates': {
      const nothing = `nothing in ${a.node}'s tables (no neighbour or forwarding entry for ${a.ips.join(', ')}) says which port of ${a.bridge} leads to ${a.pod}`;
      const others = a.known.length ? ` (the others lead to pods whose tables it has: ${a.known.map((k) => `${k.port} to ${k.pod}`).join(', ')})` : '';
      const names = a.ports.join(', ');
      if (a.how === 'elimination') return `${nothing}; ${a.ports[0]} is the only one whose other end the capture does not show${others}`;
      if (a.pods.length > 1) return `${nothing}; the ports whose other ends the capture does not show, ${names}, lead to ${a.pods.join(', ')} in an order nothing in the capture gives${others}`;
      return `${nothing}; it is behind one of ${names}, the ports whose other ends the capture does not show${others}`;
    }
  }
}

function inferredIp(p: InferredIp, f: InferredNetnsFacts): string {
  if (p.layout === 'none') return `${p.ip}/${p.len} on eth0, with no routes: ${f.nodeInCapture ? `nothing in ${f.from}'s tables leads to ${p.ip}` : `${f.from} is not in the capture either`}`;
  const how = p.via === 'route' ? `${f.from} routes ${p.ip} to ${p.dev}` : `${f.from}'s neighbour entry for ${p.ip} is on ${p.dev}`;
  if (p.layout === 'bridge') {
    const onLink = p.subnet !== undefined ? `"${p.subnet} dev eth0"` : 'no on-link route';
    const gw = p.gateway ? ` and "default via ${p.gateway} dev eth0"` : '';
    return `${p.ip}/${p.len} on eth0 with ${onLink}${gw} (${how}, a bridge: the bridge CNI plugin's layout${p.gateway ? `, ${p.dev}'s address as the gateway` : ''})`;
  }
  return `${p.ip}/${p.len} on eth0${p.gateway ? ` with "default via ${p.gateway} dev eth0"` : ''} (${how}, a veth on no bridge: Calico's layout)`;
}

/** What a namespace the capture holds no tables for was inferred from. */
export function inferredNetnsText(f: InferredNetnsFacts): string {
  const parts = f.ips.map((p) => inferredIp(p, f));
  if (f.mac) parts.push(`MAC ${f.mac.mac} (${f.from}'s neighbour entry for ${f.mac.ip} on ${f.mac.dev})`);
  if (f.mtu) parts.push(`MTU ${f.mtu.mtu} (${f.mtu.dev}'s: the CNI gives both ends of the veth the same)`);
  const what = f.ips.length ? parts.join('; ') : 'Kubernetes reports no IP for it, so nothing';
  return `The capture holds no tables for ${f.pod} (a pod whose image has no ip, BusyBox or cat, or one not read), so its namespace is inferred from ${f.nodeInCapture ? `${f.from}'s tables` : 'Kubernetes alone'} and the IPs Kubernetes reports: ${what}.`;
}

function wgPeer(p: WgPeerRef, dst: string): string {
  return 'key' in p ? `peer ${p.key.slice(0, 8)}... (allowed IPs ${p.allowedIps.join(', ')})` : `${p.node} (its podCIDR holds ${dst}; inferred, no wg probe)`;
}

function gatewayName(d: Of<'gateway-name'>): string {
  const printed = `route printed its gateway as the name "${d.name}"${d.maybeTruncated ? ' (maybe cut to 15 characters)' : ''} instead of an address`;
  const fix = 'capture the table with `route -n` (or `ip route`)';
  if (d.outcome === 'found') {
    const e = d.entries[0]!;
    return `The ${printed}; ${d.ns}'s \`arp -a\` names ${e.addr}${e.dev !== undefined ? ` on ${e.dev}` : ''} "${e.hostname}", the only address ${d.maybeTruncated ? 'whose name starts so' : 'with that name'}, so the gateway is taken to be ${e.addr} (inferred; ${fix} to know).`;
  }
  if (d.outcome === 'ambiguous') {
    return `The ${printed}, and ${d.ns}'s \`arp -a\` has ${d.entries.length} addresses it could be (${d.entries.map((e) => `"${e.hostname}" ${e.addr}`).join(', ')}), so which gateway the kernel sends to is unknown; ${fix}.`;
  }
  const why =
    d.why === 'no-match' ? `no name in ${d.ns}'s \`arp -a\` output matches it${d.dev !== undefined ? ` on ${d.dev}` : ''}`
    : d.why === 'no-names' ? `${d.ns}'s \`arp\` output prints no names to look it up by (it was captured with -n)`
    : `the capture of ${d.ns} has no \`arp -a\` output to look it up in`;
  return `The ${printed}, and ${why}, so the gateway's address, and where the packet goes next, are unknown (the route has flag G: it is not on-link); ${fix}.`;
}

function sentence(d: StepDetail): string {
  switch (d.type) {
    case 'origin':
      return `${/^[aeiou]/i.test(d.proto) ? 'An' : 'A'} ${d.proto.toUpperCase()} packet of ${d.size} bytes from ${d.src ?? 'a source the kernel will choose'} to ${d.dst}${d.dport !== undefined ? ` port ${d.dport}` : ''} leaves a socket in ${d.ns}${d.df ? " (Don't Fragment set)" : ''}.`;
    case 'rule':
      return d.action === 'lookup'
        ? `Policy rule ${d.priority} matches and sends the lookup to table ${d.table}${d.gaveNoRoute.length ? ` (rules ${d.gaveNoRoute.join(', ')} matched but gave no route)` : ''}.`
        : `Policy rule ${d.priority} matches and its action is ${d.action}.`;
    case 'route': {
      const r = describeRoute(d.route);
      switch (d.outcome) {
        case 'forward': {
          const n = d.nexthops ?? 1;
          return `The longest matching route in ${d.ns} for ${d.dst} is "${r}" (table ${d.table}${d.route.metric !== undefined ? `, metric ${d.route.metric}` : ''})${n > 1 ? `: ${n} equal-cost next hops, each explored` : ''}.`;
        }
        case 'reject':
          return `The longest matching route in ${d.ns} for ${d.dst} is "${r}" (table ${d.table}).`;
        case 'local':
          return `${d.dst} is a local address of ${d.ns} (local table: "${r}").`;
        case 'cast':
          return `${d.dst} matches the ${d.route.type} route "${r}".`;
        case 'not-local':
          return `The packet is not for ${d.ns}; the route "${r}" would forward it.`;
      }
      break;
    }
    case 'no-routes-captured':
      return `${d.ns} has no IPv${d.family} routes in the capture, so where it sends ${d.dst} is unknown.`;
    case 'no-route':
      return `No route in ${d.ns} matches ${d.dst} (tables searched: ${d.tables.join(', ') || 'none'}); the kernel answers "Network is unreachable".`;
    case 'rule-reject':
      return `Policy rule ${d.priority} in ${d.ns} ${REJECT_RULE[d.action]}.`;
    case 'route-reject':
      return `It is a ${d.routeType} route: the kernel ${REJECT_ROUTE[d.routeType]}.`;
    case 'route-unusable':
      return `The lookup ended on a ${d.route.type} route "${describeRoute(d.route)}" that leaves no usable route.`;
    case 'gateway-name':
      return gatewayName(d);
    case 'forward':
      return `${d.ns} forwards the packet (${d.sysctl} = 1); its TTL drops from ${d.ttl} to ${d.ttl - 1}.`;
    case 'forward-assumed':
      return `The capture has no forwarding sysctls for ${d.ns}; a Kubernetes ${d.role} is assumed to forward.`;
    case 'forwarding-disabled':
      return `Forwarding is disabled on ${d.iif} in ${d.ns} (${d.sysctl}${d.assumed ? ' (assumed 0 in a pod)' : ''} = 0), so the kernel drops packets it would have to route.`;
    case 'ttl-exceeded':
      return `The packet's TTL is ${d.ttl}: forwarding it would reach 0, so ${d.ns} drops it (ICMP time exceeded).`;
    case 'rp-filter':
      return `Reverse-path filter (${d.mode}) passes: the route back to ${d.src} leaves by ${d.devs.join(', ')}.`;
    case 'rp-filter-drop':
      return d.result === 'no-route'
        ? `Reverse-path filter (${d.mode}) in ${d.ns}: there is no unicast route back to ${d.src}, so the packet from it is dropped as a martian.`
        : `Reverse-path filter (strict) in ${d.ns}: the packet from ${d.src} arrived on ${d.iif}, but the route back to ${d.src} ("${describeRoute(d.route)}") leaves by ${d.devs.join(', ')}; the kernel drops it.`;
    case 'route-dev-unknown':
      return `The route names device ${d.dev ?? '(none)'}, which ${d.ns}'s links do not show.`;
    case 'dev-down':
      return `${d.dev} in ${d.ns} is ${d.state === 'no-carrier' ? 'up but has no carrier (NO-CARRIER)' : 'administratively down'}, so nothing can be sent on it.`;
    case 'src':
      return `The kernel picks ${d.addr} as the source address (${
        d.from === 'route'
          ? "the route's src"
          : d.from === 'destination'
            ? 'a local destination is its own source'
            : d.from === 'namespace'
              ? `${d.dev} has no address of its own in the route's scope, so the kernel takes the first one in the namespace: ${d.addrDev ?? '?'}'s`
              : d.nexthop
                ? `the address on ${d.dev} whose subnet holds the next hop ${d.nexthop}`
                : `the first address on ${d.dev}`
      }).`;
    case 'mtu':
      return d.result === 'fragment'
        ? `The packet (${d.size} bytes) is larger than ${d.dev}'s MTU ${d.mtu}; without DF the kernel fragments it.`
        : `The packet is ${d.size} bytes but ${d.dev} in ${d.ns} carries at most ${d.mtu} (MTU${d.inferredMtu ? ', inferred' : ''}); with Don't Fragment set it is dropped and the sender is told to use ${d.mtu}.`;
    case 'neigh': {
      const age = d.confirmed !== undefined && d.nud !== 'permanent' ? `, confirmed ${d.confirmed} s ago` : '';
      const stale = d.nud === 'stale' ? ' The entry is STALE: the kernel uses it and re-confirms it in the background.' : '';
      return `The neighbour table of ${d.ns} maps ${nexthopWho(d)} on ${d.dev} to ${d.lladdr} (${d.state}${age}).${stale}`;
    }
    case 'arp': {
      const who = answerer(d.answer);
      if (d.entry) {
        return `The neighbour entry for ${nexthopWho(d)} on ${d.dev} is ${d.entry.state}; the kernel asks again with ${neighbourProto(d.family)}, and ${who} answers with ${d.answer.mac ?? 'its address (its MAC is not in the capture)'}.`;
      }
      return `${noEntry(d)} it would send ${d.family === 4 ? 'an ARP request' : 'a neighbour solicitation'}, and ${who} answers${d.answer.mac ? ` with ${d.answer.mac}` : ' (its MAC is not in the capture)'}.`;
    }
    case 'neigh-failed':
      return `The neighbour entry for ${nexthopWho(d)} on ${d.dev} in ${d.ns} is ${d.state} and nothing on that segment owns ${d.nexthop}, so ${neighbourProto(d.family)} gets no answer and the packet is dropped.`;
    case 'arp-refused': {
      const r = d.refusal;
      return `${noEntry(d)} it would send an ARP request, but ${r.host} would answer for ${r.ip} on ${r.dev} by proxy_arp, and ${rpRefusal(r.rp)}, so it ignores the request: the request goes unanswered and the packet is dropped.`;
    }
    case 'neigh-unanswered': {
      const who = nexthopWho(d);
      const text = d.placed.length
        ? `${d.ns} has no neighbour entry for ${who} on ${d.dev}, and ${d.placed.join(', ')}, which has it, is not reached by a broadcast from ${d.dev} (where it is was inferred)`
        : `${d.ns} has no neighbour entry for ${who} on ${d.dev} and no host in the capture on that segment owns ${d.nexthop}`;
      return `${text}${d.tableKnown ? `, so ${neighbourProto(d.family)} goes unanswered and the packet is dropped` : ''}.`;
    }
    case 'loop':
      return `The packet leaves ${d.dev} of ${d.ns} a second time with the same addresses: this is a forwarding loop. It goes round until its TTL runs out.`;
    case 'l2-loop':
      return `The frame goes round a loop that never lowers its TTL (${d.hosts.join(' -> ')}): a layer-2 loop.`;
    case 'too-many-hops':
      return `The path exceeds ${d.max} hops.`;
    case 'dummy':
      return `${d.dev} is a dummy device: everything sent to it is discarded.`;
    case 'unsupported-dev':
      return `${d.dev} is a ${d.devType} device, which netpath does not model yet; the path stops here.`;
    case 'unwired':
      return `Nothing in the capture says what ${d.dev} of ${d.ns} is connected to${d.veth ? ' (its veth peer is not in the capture)' : ''}.`;
    case 'segment-no-owner':
      return `${d.dev} of ${d.ns} sends to ${d.mac ?? 'an unknown MAC'} on its subnet, but no host in the capture has that address.`;
    case 'wire': {
      const via = d.via ? ` (inferred: ${attachmentText(d.via)})` : '';
      if (d.how === 'veth') {
        return d.peerMtu !== undefined
          ? `${d.dev} is one end of a veth pair whose other end, ${d.peerDev} in ${d.peer}, has MTU ${d.peerMtu}${via}.`
          : `${d.dev} is one end of a veth pair; the frame comes out of the other end, ${d.peerDev} in ${d.peer}${via}.`;
      }
      const tags = d.vlans?.length ? ` The frame carries 802.1Q tag${d.vlans.length > 1 ? 's' : ''} VLAN ${d.vlans.join(' / ')}.` : '';
      if (d.how === 'link') return `${d.dev} is cabled to ${d.peer} ${d.peerDev} (capture links).${tags}`;
      return `${d.dev} sends the frame onto the ${d.segment ?? 'shared'} segment, where ${d.peer} ${d.peerDev} has ${d.to}.${tags}`;
    }
    case 'vlan-push':
      return `${d.dev} is a VLAN device (id ${d.id}${d.protocol ? `, ${d.protocol}` : ''}) on ${d.parent}: it adds the tag VLAN ${d.id} to the frame and sends it out of ${d.parent}.`;
    case 'vlan-pop':
      return `The frame arrives on ${d.parent} tagged VLAN ${d.id}; ${d.dev} is ${d.parent}'s VLAN device for id ${d.id}, so it takes the frame with the tag removed.`;
    case 'vlan-parent-unknown':
      return d.parent === undefined
        ? `${d.dev} in ${d.ns} is a VLAN device whose lower device or id the capture does not show (capture ip -d link).`
        : `${d.dev} in ${d.ns} is a VLAN device on ${d.parent}, which ${d.ns}'s links do not show (or its VLAN id is missing: capture ip -d link).`;
    case 'vlan-no-dev': {
      const has = d.devices.length ? `its VLAN devices are ${d.devices.map((v) => `${v.dev} (${v.id})`).join(', ')}` : 'it has no VLAN device';
      return d.unknown?.length
        ? `The frame arrives on ${d.dev} in ${d.ns} tagged VLAN ${d.id}; ${has}, and the kind of ${d.unknown.join(', ')} on it is not in the capture (capture ip -d link), so whether one takes VLAN ${d.id} is unknown.`
        : `The frame arrives on ${d.dev} in ${d.ns} tagged VLAN ${d.id}, but ${has}: no VLAN device takes VLAN ${d.id}, so the kernel treats the frame as for another host and drops it.`;
    }
    case 'vlan-ingress':
      return d.how === 'pvid'
        ? `${d.bridge} filters by VLAN: the frame came in untagged on ${d.port === d.bridge ? 'the bridge itself' : d.port}, so it takes that port's PVID, VLAN ${d.vlan}.`
        : `${d.bridge} filters by VLAN: the frame came in tagged VLAN ${d.vlan} on ${d.port === d.bridge ? 'the bridge itself' : d.port}, which is a member of VLAN ${d.vlan}.`;
    case 'vlan-egress':
      return d.port === d.bridge
        ? `VLAN ${d.vlan} is one of bridge ${d.bridge}'s own VLANs${d.tagged ? ', tagged: the frame goes up to the host with its tag' : ', untagged: the frame goes up to the host without its tag'}.`
        : `Port ${d.port} is a member of VLAN ${d.vlan}${d.tagged ? ', tagged: the frame leaves with its tag' : ' (Egress Untagged): the frame leaves without its tag'}.`;
    case 'vlan-filtered': {
      const who = d.port === d.bridge ? `bridge ${d.bridge} itself` : `port ${d.port} of ${d.bridge}`;
      const has = d.member.length ? `its VLANs: ${d.member.join(', ')}` : 'it has no VLAN at all in bridge vlan show';
      if (d.why === 'no-pvid') return `The frame comes in untagged on ${who}, which has no PVID (${has}): the VLAN-aware bridge drops it.`;
      if (d.why === 'state') return `VLAN ${d.vlan} is in state ${d.state} on ${who}: it does not forward.`;
      if (d.at === 'ingress') return `The frame comes in tagged VLAN ${d.vlan} on ${who}, which is not a member of VLAN ${d.vlan} (${has}): the VLAN-aware bridge drops it.`;
      if (d.at === 'up') return `The frame is in VLAN ${d.vlan}, which is not one of ${who}'s own VLANs (${has}): it does not go up to the host.`;
      return `The frame is in VLAN ${d.vlan}, but ${who} is not a member of VLAN ${d.vlan} (${has}): the bridge does not send it out there.`;
    }
    case 'vlan-flood-none': {
      const fdb = d.fdb?.length ? ` Its forwarding table has ${d.mac} only in ${d.fdb.map((e) => `VLAN ${e.vlan} behind ${e.port}`).join(', ')}.` : '';
      return `${d.bridge} floods the frame${d.mac ? ` for ${d.mac}` : ''} within VLAN ${d.vlan} only, and none of its other ports (${d.ports.join(', ')}) is a member of VLAN ${d.vlan}: the frame goes nowhere.${fdb}`;
    }
    case 'vlan-table-missing':
      return `Bridge ${d.bridge} in ${d.ns} filters by VLAN (vlan_filtering 1), but the capture has no ${d.probe} probe (bridge vlan show) of ${d.ns}: which VLANs its ports carry is unknown.`;
    case 'veth-too-big':
      return `The ${d.size}-byte packet is larger than ${d.dev}'s MTU ${d.mtu} allows (up to ${d.mtu + 4} bytes cross a veth): it is dropped as it arrives, and the sender sees "No buffer space available".`;
    case 'netns-inferred':
      return inferredNetnsText(d.facts);
    case 'rx-down':
      return `${d.dev} in ${d.ns} is down: the frame is dropped on arrival.`;
    case 'bond-xmit': {
      const onto = `${d.bond} in ${d.ns} (${d.mode}) sends the frame out of ${d.slave}`;
      switch (d.how) {
        case 'active-slave':
          return `${onto}, its active slave (active_slave ${d.slave}).`;
        case 'active-state':
          return `${onto}, the slave in state ACTIVE.`;
        case 'only-slave':
          return `${onto}, the only slave that is up.`;
        case 'hash':
          return `${onto}: bond_xmit_hash (${d.policy}) of this flow is ${d.hash}, and ${d.hash} mod ${d.of} = ${d.index} picks ${d.slave} of the usable slaves ${(d.slaves ?? []).join(', ')} (taken in ifindex order: the capture does not show the order they were enslaved in).`;
      }
      break;
    }
    case 'bond-spread': {
      const why = {
        'round-robin': 'balance-rr sends each packet out of the next slave in turn',
        load: `${d.mode} spreads flows by the slaves' current load, which a capture does not hold`,
        'hash-inputs': `the ${d.policy ?? 'transmit'} hash needs header fields this flow does not give (an ICMP id, inner headers, a VLAN)`,
        broadcast: 'broadcast mode sends a copy out of every slave',
      }[d.why];
      return `${d.bond} in ${d.ns} (${d.mode}): ${why}; each of ${d.slaves.join(', ')} is followed.`;
    }
    case 'bond-no-slave': {
      const each = d.slaves.map((x) => `${x.name} ${!x.up ? 'down' : x.mii !== undefined && x.mii !== 'UP' ? `mii_status ${x.mii}` : (x.state ?? 'unusable')}`);
      return `${d.bond} in ${d.ns} (${d.mode}) has no slave that can send: ${each.length ? each.join(', ') : 'it has no slaves'}. The frame is dropped.`;
    }
    case 'bond-rx':
      return `${d.slave} is a slave of ${d.bond}${d.state ? ` (${d.state})` : ''}: bond_handle_frame hands the frame to ${d.bond}.`;
    case 'bond-inactive-slave':
      return `${d.slave} is a ${d.state} slave of ${d.bond} (${d.mode}): bond_handle_frame delivers frames on an inactive slave only to handlers bound to that slave exactly (RX_HANDLER_EXACT), so IP never sees it and it is dropped.`;
    case 'macvlan-xmit': {
      const what = `${d.dev} in ${d.ns} (${d.driver} ${d.mode}${d.flag ? ` ${d.flag}` : ''} on ${d.lower} of ${d.lowerNs})`;
      switch (d.to) {
        case 'sibling':
          return d.driver === 'macvlan'
            ? `${what}: the destination MAC is ${d.sibling!.dev}'s in ${d.sibling!.ns}, a bridge-mode macvlan on the same lower device, so macvlan_queue_xmit puts the frame on ${d.lower}'s receive path (dev_forward_skb) instead of its wire, and ${d.lower} hands it to ${d.sibling!.dev}.`
            : `${what} hands the packet straight to ${d.sibling!.dev} in ${d.sibling!.ns}, the ipvlan on the same lower device that owns its destination address (ipvlan_addr_lookup).`;
        case 'lower':
          return `${what} sends the frame out of ${d.lower} onto its wire${d.driver === 'macvlan' && d.mode === 'vepa' ? ' (vepa: only a hairpinning switch sends it back)' : ''}.`;
        case 'route':
          return `${what}: no sibling owns the destination, so the packet is routed in ${d.lowerNs} out of ${d.lower} (ipvlan_process_outbound).`;
        case 'lower-stack':
          return `${what}: the frame is for the shared MAC and no sibling owns the destination, so it goes up ${d.lower}'s own stack in ${d.lowerNs} (dev_forward_skb).`;
      }
      break;
    }
    case 'macvlan-rx':
      return `${d.lower} in ${d.ns} hands the frame to ${d.upper} in ${d.upperNs}, the ${d.driver} (${d.mode}) ${d.by === 'mac' ? 'whose MAC it is for' : d.by === 'ip' ? 'that owns its destination address' : 'in passthru mode'}; ${d.lower} itself never sees it.`;
    case 'macvlan-no-lower':
      return `${d.dev} in ${d.ns} is a ${d.driver} device, but the capture does not show its lower device${d.lower ? ` ${d.lower}` : d.linkIndex !== undefined ? ` (ifindex ${d.linkIndex} in its node)` : ''}; the path stops here.`;
    case 'macvlan-to-lower':
      return d.driver === 'macvlan'
        ? `${d.dev} in ${d.ns} (macvlan ${d.mode}) sends to ${d.addr}, an address of ${d.lowerNs}, whose ${d.lower} is ${d.dev}'s own lower device: macvlan_queue_xmit puts the frame on ${d.lower}'s transmit, never on its receive path, so it leaves on ${d.lower}'s wire and ${d.lowerNs} sees it only if the switch sends it back out of the port it came in on (hairpin).`
        : `${d.dev} in ${d.ns} (ipvlan ${d.mode}) sends to ${d.addr}, an address of ${d.lowerNs}, whose ${d.lower} is ${d.dev}'s own lower device: ipvlan puts the packet on ${d.lower}'s transmit, never on its receive path, so ${d.lowerNs} never sees it (an ipvlan cannot reach its own host).`;
    case 'ipvlan-private':
      return `${d.dev} in ${d.ns} is an ipvlan in private mode: the packet for ${d.addr}, owned by ${d.sibling.dev} in ${d.sibling.ns} on the same lower device, is dropped.`;
    case 'master-unknown':
      return d.masterType === undefined
        ? `${d.dev} is enslaved to ${d.master}, which ${d.ns}'s links do not show.`
        : `${d.dev} is enslaved to ${d.master}, a ${d.masterType} device, which netpath does not model yet.`;
    case 'port-blocked':
      return `Port ${d.port} of bridge ${d.bridge} is in state ${d.state}: it does not forward${d.at === 'ingress' ? ' frames' : ''}.`;
    case 'otherhost':
      switch (d.why) {
        case 'mac':
          return `The frame is for ${d.mac}, but ${d.dev} in ${d.ns} has ${d.devMac}: the kernel discards frames for other hosts.`;
        case 'nic':
          return `The frame is for the MAC of ${d.nic.dev} in ${d.nic.host} (not in the capture), not for ${d.dev} in ${d.ns}: the kernel discards frames for other hosts.`;
        case 'address':
          return `The frame is for ${d.mac}, the MAC of ${d.nexthop}, which is not ${d.ns}'s address: its ${d.dev} discards frames for other hosts.`;
      }
      break;
    case 'bridge-xmit':
      return `${d.bridge} is a Linux bridge: the host sends the frame into it${d.mac ? ` for ${d.mac}` : ''}.`;
    case 'bridge-own-mac':
      return `${d.port} is a port of bridge ${d.bridge}; the frame is addressed to the bridge's own MAC ${d.mac}, so it goes up to ${d.ns}'s IP layer on ${d.bridge}.`;
    case 'fdb-local':
      return `${d.port ? `${d.port} is a port of bridge ${d.bridge}; its` : `Bridge ${d.bridge}'s`} forwarding table marks ${d.mac} as a local address, so the frame goes up to ${d.ns}'s IP layer on ${d.bridge}.`;
    case 'fdb-hit': {
      const how = d.state === 'learned' && d.age !== undefined ? `learned ${d.age} s ago` : d.state;
      return `${d.inPort ? `${d.inPort} is a port of bridge ${d.bridge}. ` : ''}${d.bridge} is a Linux bridge: it looked up ${d.mac}${d.vlan !== undefined ? ` in VLAN ${d.vlan}` : ''} in its forwarding table and found it behind port ${d.port}, ${how}.`;
    }
    case 'hairpin':
      return `${d.port} has hairpin mode on, so the bridge sends the frame back out of the port it came in on.`;
    case 'flood': {
      const inText = d.inPort ? `${d.inPort} is a port of bridge ${d.bridge}. ` : '';
      const nic = d.nic ? `${d.nic.host}'s ${d.nic.dev}` : '';
      const why = d.why === 'miss'
        ? `${inText}${d.bridge} is a Linux bridge: ${d.mac} is not in its forwarding table${d.vlan !== undefined ? ` for VLAN ${d.vlan}` : ''}${d.fdbKnown ? '' : ' (the capture has no fdb probe)'}, so it floods the frame`
        : `${inText}${d.bridge} is a Linux bridge: the frame is for ${nic}, whose MAC the capture does not show, so no entry of its forwarding table can match it and the frame is followed as a flood`;
      const after = d.why === 'miss' ? '' : `; in the kernel the bridge learnt that MAC's port from the ARP/ND answer, and only the copy that reaches ${nic} is taken`;
      const every = d.vlan !== undefined ? `every other port in VLAN ${d.vlan}` : 'every other port';
      return `${why} to ${d.ports.length ? `${every} (${d.ports.join(', ')})` : 'no port: it has none besides the one the frame came in on'}${after}.`;
    }
    case 'bridge-down':
      return `Bridge ${d.bridge} in ${d.ns} is down.`;
    case 'bridge-no-mac':
      return `Bridge ${d.bridge} got a frame with no known destination MAC.`;
    case 'fdb-port-unknown':
      return `Bridge ${d.bridge}'s forwarding table sends ${d.mac} to port ${d.port}, which ${d.ns}'s links do not show.`;
    case 'fdb-not-port':
      return `Bridge ${d.bridge}'s forwarding table sends ${d.mac} to ${d.port}, but ${d.port} is not a port of ${d.bridge} (stale entry): the frame is dropped.`;
    case 'hairpin-off':
      return `The frame for ${d.mac} would go back out ${d.port}, the port it came in on; hairpin mode is off on that port, so the bridge drops it.`;
    case 'flood-no-port':
      return `Bridge ${d.bridge} has no other port to flood the frame for ${d.to} to.`;
    case 'port-down':
      return `Port ${d.port} of bridge ${d.bridge} is down: the frame is dropped.`;
    case 'port-too-big':
      return `The ${d.size}-byte packet is larger than port ${d.port}'s MTU ${d.mtu}${d.limit > d.mtu ? ` (the bridge lets through up to ${d.limit})` : ''}: the bridge drops it without telling the sender.`;
    case 'vxlan-fdb':
      return `${d.dev} is a VXLAN device (VNI ${d.vni}): its forwarding table sends ${d.default ? 'frames with no specific entry (default 00:00:00:00:00:00 entry)' : d.mac} to the VTEP at ${d.vtep}.`;
    case 'vxlan-remote':
      return `${d.dev} has no forwarding entry for ${d.mac}; it sends to its configured remote ${d.remote}.`;
    case 'vxlan-no-details':
      return `${d.dev} is a VXLAN device but the capture lacks its details (ip -d link).`;
    case 'vxlan-no-mac':
      return `${d.dev} needs the inner destination MAC to choose a VTEP, and none was resolved.`;
    case 'vxlan-fdb-miss':
      return `${d.dev} (VXLAN, VNI ${d.vni}) has no forwarding entry for ${d.mac}${d.fdbKnown ? ', nor a default (00:00:00:00:00:00) one' : ' (the capture has no fdb probe)'}, so the kernel does not know which VTEP to send to and drops the frame.`;
    case 'vxlan-encap':
      return `${d.dev} wraps the ${d.size}-byte packet in VXLAN (VNI ${d.vni}) inside UDP to ${d.vtep}:${d.port}${d.local ? ` from ${d.local}` : ''}: ${d.overhead} bytes of headers, ${d.total} bytes in all. The outer packet is routed again in ${d.ns}.`;
    case 'vxlan-decap':
      return `${d.dev} (VXLAN, VNI ${d.vni}, UDP ${d.port}) takes the datagram and decapsulates it: the inner packet ${d.src} -> ${d.dst} arrives on ${d.dev}.`;
    case 'vxlan-no-dev':
      return `${d.ns} received a VXLAN datagram (VNI ${d.vni}, UDP ${d.port}) but has no VXLAN device with that VNI and port: the kernel drops it.`;
    case 'ipip-encap':
      return `${d.dev} is an IPIP tunnel: it puts the ${d.size}-byte packet inside a new IPv4 header to ${d.remote}${d.fixed ? " (the tunnel's remote)" : " (the route's gateway)"}, ${d.total} bytes in all. The outer packet is routed again in ${d.ns}.`;
    case 'ipip-decap':
      return `${d.dev} (IPIP) takes the packet from ${d.from} and strips the outer header: ${d.src} -> ${d.dst} arrives on ${d.dev}.`;
    case 'ipip-no-remote':
      return `${d.dev} is an IPIP tunnel with no fixed remote, and the route gives no gateway to use as the far end.`;
    case 'ipip-no-dev':
      return `${d.ns} received an IPIP packet from ${d.from} but has no IPIP device that accepts it (the kernel answers "protocol unreachable").`;
    case 'wg-encap':
      return `${d.dev} is a WireGuard device: cryptokey routing sends ${d.dst} to ${wgPeer(d.peer, d.dst)}; the packet is encrypted into UDP to ${d.endpoint}:${d.port}, ${d.overhead} bytes of headers, ${d.total} bytes in all. The outer packet is routed again in ${d.ns}.`;
    case 'wg-decap':
      return `${d.dev} (WireGuard, UDP ${d.port}) decrypts the datagram${d.peerChecked ? ` from a peer whose allowed IPs include ${d.src}` : ''}: ${d.src} -> ${d.dst} arrives on ${d.dev}.`;
    case 'wg-no-peer':
      return `${d.dev} is a WireGuard device; no peer's allowed IPs include ${d.dst}, so it drops the packet (ENOKEY) and answers "host unreachable".`;
    case 'wg-no-table':
      return `${d.dev} is a WireGuard device and the capture has no \`wg\` probe to say which peer gets ${d.dst}.`;
    case 'wg-no-endpoint':
      return `${d.dev} would send to ${wgPeer(d.peer, d.dst)}, but that peer has no endpoint yet (EDESTADDRREQ).`;
    case 'wg-no-listener':
      return `${d.ns} received a WireGuard datagram on UDP ${d.port}, but no WireGuard device listens there.`;
    case 'wg-unknown-peer':
      return `${d.dev} in ${d.ns} has no peer with the sender's public key: the handshake fails and the datagram is dropped.`;
    case 'wg-source':
      return `${d.dev} decrypts the packet, but its source ${d.src} is not among the sending peer's allowed IPs (${d.allowed.join(', ') || 'none'}): WireGuard drops it.`;
    case 'deliver':
      return `${d.ns} owns ${d.dst}${d.dev ? ` (on ${d.dev})` : ''}: the packet is delivered to the local socket layer.`;
    case 'not-target':
      return `The packet for ${d.dst} was delivered locally in ${d.ns}, which is not ${d.target}.`;
    case 'netfilter':
      return `${describeStep(d.step)}${d.service !== undefined && d.step.kind === 'rule' ? ` (Service ${d.service})` : ''}`;
    case 'nf-verdict':
      if (d.by === 'ipvs') return `IPVS in ${d.ns} has no real server for the virtual service: it answers ICMP port unreachable (ip_vs_leave) and drops the packet.`;
      return `The ${d.layer === 'bridge' ? 'bridge ' : ''}${d.hook} hook's rules in ${d.ns} ${d.verdict === 'drop' ? 'drop the packet' : 'reject the packet'}.`;
    case 'br-nf-dnat':
      return d.how === 'bridged'
        ? `The destination was rewritten to ${d.dst}, which ${d.bridge} reaches itself: br_netfilter keeps the frame bridged, to ${d.mac}.`
        : `The destination was rewritten to ${d.dst}, which is routed: br_netfilter hands the frame up to ${d.ns}'s IP layer (to ${d.bridge}'s own MAC ${d.mac}).`;
    case 'nf-summary':
      return nfSummary(d);
    case 'nf-unevaluated':
      return `netpath cannot evaluate ${describeUnevaluated(d.rule)}.`;
    case 'nf-queue':
      return `The ${d.hook} hook's rules in ${d.ns} queue the packet to userspace (NFQUEUE): netpath cannot see that program's verdict and takes the packet as accepted.`;
    case 'nf-ruleset-note':
      return `The netfilter rules of ${d.ns}: ${d.note}.`;
    case 'ipvs': {
      const s = d.service;
      const vs = s.fwmark !== undefined ? `FWM ${s.fwmark}` : `${s.protocol} ${s.addr !== undefined && s.addr.includes(':') ? `[${s.addr}]` : (s.addr ?? '?')}:${s.port ?? '?'}`;
      const svc = `IPVS virtual service ${vs} (scheduler ${s.scheduler}${s.persistent !== undefined ? `, persistent ${s.persistent}s` : ''})${d.k8sService !== undefined ? ` for Service ${d.k8sService}` : ''} at ${d.hook === 'input' ? 'LOCAL_IN' : 'LOCAL_OUT'} in ${d.ns}`;
      if (!d.server) return `${svc} has no real server.`;
      const rs = d.server.addr.includes(':') ? `[${d.server.addr}]:${d.server.port}` : `${d.server.addr}:${d.server.port}`;
      const pct = `${(d.server.probability * 100).toFixed(d.server.probability < 0.1 && d.server.probability > 0 ? 1 : 0)}%`;
      const how = d.model === 'equal' ? 'round robin' : d.model === 'hash' ? 'by a hash of the address, taken as weight-proportional over clients' : 'weight-proportional';
      return `${svc}: real server ${rs} (weight ${d.server.weight}, ${d.server.forward}), one of ${d.servers}, chosen for ${pct} of new connections (${how}); the destination is rewritten to ${rs} (DNAT) and the packet routed to it.`;
    }
    case 'service-inferred':
      return serviceInferred(d);
    case 'policy':
      return policySentence(d);
    case 'service-masquerade-inferred':
      return `${d.ns}'s kube-proxy rules are not in the capture; kube-proxy marked this connection for masquerade, so its POSTROUTING rule rewrites the source ${d.from} to ${d.to}, the address of ${d.dev} (MASQUERADE). Inferred.`;
  }
}

const list = (xs: readonly string[]) => (xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} and ${xs.at(-1)}`);

function policySentence(d: Of<'policy'>): string {
  const head = `NetworkPolicy, ${d.direction} of ${d.subject}: ${d.explanation.replace(/\.$/, '')}.`;
  switch (d.effect) {
    case 'drop':
      return d.enforcers.length
        ? `${head} ${list(d.enforcers)} ${d.enforcers.length > 1 ? 'enforce' : 'enforces'} NetworkPolicy here and drops the packet (from the API objects: its own rules for them are not in the capture).`
        : `${head} The capture does not show which CNI runs; assuming it enforces NetworkPolicy, as most do, the packet is dropped here.`;
    case 'allow':
      return head;
    case 'not-enforced':
      return `${head} The policy would deny this, but ${list(d.nonEnforcing)} ${d.nonEnforcing.length > 1 ? 'do' : 'does'} not enforce NetworkPolicy, so the packet goes on.`;
    case 'rules-decide':
      return `${head} ${list(d.enforcers)}'s own rules for policy are in the capture: the kernel's rules decide, and this is what the API intends beside them.`;
  }
}

const MASQUERADE_WHY: Record<NonNullable<Of<'service-inferred'>['masquerade']>, string> = {
  'outside-cluster': 'the source is outside the cluster\'s pod CIDRs',
  external: 'external traffic under the Cluster policy may cross nodes',
  'local-external': 'the node\'s own traffic to an external address',
  hairpin: 'the endpoint is the client itself (hairpin)',
};

function serviceInferred(d: Of<'service-inferred'>): string {
  const hp = (ip: string, port: number) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);
  const front = `${hp(d.frontend.ip, d.frontend.port)}/${d.frontend.proto}`;
  const what = d.via === 'cluster-ip' ? 'ClusterIP' : d.via === 'node-port' ? 'NodePort' : d.via === 'load-balancer' ? 'LoadBalancer IP' : 'externalIP';
  const head = `${d.ns}'s kube-proxy rules are not in the capture; from the API, ${front} is the ${what} of Service ${d.service}`;
  const policyName = d.traffic === 'internal' ? 'internalTrafficPolicy' : 'externalTrafficPolicy';
  if (d.verdict === 'reject') return `${head}, which has no endpoint: kube-proxy rejects it (ICMP port unreachable). Inferred.`;
  if (d.verdict === 'drop') return `${head}, which has no endpoint on ${d.ns} (${policyName} Local keeps ${d.ns}'s own): kube-proxy drops it. Inferred.`;
  const e = d.endpoint!;
  const pct = `${Math.round(d.probability * 1000) / 10}%`;
  const who = e.pod ? ` (${e.pod}${e.nodeName ? ` on ${e.nodeName}` : ''})` : e.nodeName ? ` (on ${e.nodeName})` : '';
  const policy = d.policy === 'Local' ? ` (${policyName} Local: ${d.ns}'s own endpoints)` : '';
  const fallback = d.terminatingFallback ? ', a terminating endpoint used because none is ready' : '';
  const affinity = d.affinity !== undefined ? `; ClientIP affinity keeps a returning client on its endpoint for ${d.affinity}s` : '';
  const masq = d.masquerade ? `; it marks the connection for masquerade (${MASQUERADE_WHY[d.masquerade]})` : '';
  return `${head}: kube-proxy would rewrite the destination to ${hp(e.ip, e.port)}${who}, endpoint ${d.choice} of ${d.of} (${pct} of new connections)${policy}${fallback}${affinity}${masq}. Inferred.`;
}

const hostPort = (e: { addr: string; port?: number }) => (e.port === undefined ? e.addr : e.addr.includes(':') ? `[${e.addr}]:${e.port}` : `${e.addr}:${e.port}`);

/** What a rule did, in iptables' own words: `DNAT to 10.244.1.3:8080`, `MARK or 0x4000`, `policy DROP`. */
function nfDid(a: Extract<StepDetail, { type: 'nf-summary' }>['did'][number]): string {
  switch (a.kind) {
    case 'policy':
      return `policy ${a.policy.toUpperCase()}`;
    case 'dnat':
      return `DNAT to ${hostPort(a.to)}`;
    case 'snat':
      return `SNAT to ${hostPort(a.to)}`;
    case 'masquerade':
      return `MASQUERADE as ${a.to.addr}`;
    case 'redirect':
      return `REDIRECT to ${hostPort(a.to)}`;
    case 'mark':
      return `MARK 0x${a.from.toString(16)} -> 0x${a.to.toString(16)}`;
    case 'connmark':
      return `CONNMARK 0x${a.from.toString(16)} -> 0x${a.to.toString(16)}`;
    case 'reject':
      return `REJECT (${a.with})`;
    case 'accept':
    case 'drop':
    case 'queue':
    case 'notrack':
    case 'return':
      return a.kind.toUpperCase();
    case 'jump':
    case 'goto':
      return `${a.kind} ${a.chain}`;
    case 'continue':
      return a.what;
    case 'branch':
      return `random choice (${a.probability})`;
    case 'no-map-element':
      return `no element in ${a.map}`;
  }
}

/** `nat PREROUTING: KUBE-SERVICES -> KUBE-SVC-X (default/web:http cluster IP) -> KUBE-SEP-Y: MARK ..., DNAT to 10.244.1.3:8080 (probability 0.333)`. */
function nfSummary(d: Extract<StepDetail, { type: 'nf-summary' }>): string {
  const c = d.chain;
  const head = c.source === 'iptables' ? `${c.family === 'ip6' ? 'ip6tables ' : ''}${c.table} ${c.chain}` : `nft ${c.family} ${c.table} ${c.chain}`;
  const path = d.path.map((p) => `${p.chain}${p.comment !== undefined ? ` (${p.comment})` : ''}`).join(' -> ');
  const p = d.probability !== undefined && d.probability < 1 ? ` (probability ${Number(d.probability.toFixed(3))})` : '';
  return `${head}${path ? `: ${path}` : ''}: ${d.did.map(nfDid).join(', ')}${p}`;
}

/** The sentence of a step; on the step that ends a looping path, with how it went round. */
export function narrate(d: StepDetail): string {
  const text = sentence(d);
  if (!d.loop) return text;
  return `${text} The packet was caught in a forwarding loop (${d.loop.hosts.join(' -> ')} and back), sent out of ${d.loop.dev} of ${d.loop.host} ${d.loop.times} times in all.`;
}

/** A fork's label, as the path's `branch` joins them. */
export function forkLabel(f: ForkChoice): string {
  switch (f.kind) {
    case 'ecmp':
      return `nexthop ${f.gateway ? `via ${f.gateway} ` : ''}dev ${f.dev ?? '?'}`;
    case 'flood':
      return `flood ${f.bridge} -> ${f.port}`;
    case 'vxlan':
      return `vxlan ${f.dev} -> ${f.vtep}`;
    case 'candidate':
      return `${f.dev} -> ${f.peer} ${f.peerDev} (one of ${f.of})`;
    case 'bond':
      return `bond ${f.bond} -> ${f.slave} (one of ${f.of})`;
    case 'netfilter': {
      const pct = `${(f.probability * 100).toFixed(f.probability < 0.1 ? 1 : 0)}%`;
      const ep = f.endpoint ? (f.endpoint.port === undefined ? f.endpoint.ip : f.endpoint.ip.includes(':') ? `[${f.endpoint.ip}]:${f.endpoint.port}` : `${f.endpoint.ip}:${f.endpoint.port}`) : undefined;
      return ep ? `${f.hook} -> ${ep} (${pct})` : `${f.hook} outcome ${f.choice} (${pct})`;
    }
  }
}

/** A Service port as kube-proxy names it in words: `53/UDP (dns)`. */
const servicePortWords = (p: { port: number; protocol: string; name: string }) => `${p.port}/${p.protocol}${p.name ? ` (${p.name})` : ''}`;

/**
 * The diagnosis of a packet to a Service address on a protocol or port the Service does not serve:
 * kube-proxy rewrites only the Service's own ports, so the packet went on unrewritten.
 */
export function servicePortNotServed(f: { ip: string; service: string; ports: { port: number; protocol: string; name: string }[]; proto: string; port: number | undefined; node: string | undefined }): Pick<Diagnosis, 'text' | 'expected' | 'actual' | 'fix'> {
  const served = f.ports.map(servicePortWords).join(', ');
  const asked = f.proto === 'icmp' ? 'ICMP' : f.port === undefined ? `${f.proto.toUpperCase()} with no destination port` : `${f.port}/${f.proto.toUpperCase()}`;
  const first = f.ports[0]!;
  const svcRef = `svc/${f.service}${first.name ? `:${first.name}` : f.ports.length > 1 ? `:${first.port}` : ''}`;
  return {
    text: `${f.ip} is the address of Service ${f.service}, which serves ${served}; kube-proxy${f.node ? ` on ${f.node}` : ''} rewrites only those, so this ${asked} packet went on with ${f.ip} as its destination${f.proto === 'icmp' ? ' (a ClusterIP does not answer ping in iptables or nftables mode)' : ''}.`,
    expected: `a port the Service serves: ${served}`,
    actual: asked,
    fix: `trace a port the Service serves: --proto ${first.protocol.toLowerCase()} --port ${first.port}, or --to ${svcRef}`,
  };
}
