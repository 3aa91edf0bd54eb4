// Captures for the VLAN tests (vlan.test.ts) and the article's demo (examples/demo-vlan.json). This
// machine's kernel has no 8021q module and no VLAN filtering, so the probe texts are laid out exactly
// as iproute2 prints them, each shape taken from a real output:
//  - `ip -d link`: the lines of a plain NIC, a bridge and a bridge port (`bridge_slave state ...`) as
//    this machine's iproute2 printed them for the lab (test/fixtures/parsers/links/lab-detail.txt), with
//    `vlan_filtering 1 vlan_protocol 802.1Q` as ip/iplink_bridge.c prints them (bridge_print_opt:
//    "vlan_filtering %u", then "vlan_protocol %s"); a VLAN device `eth0.111@eth0 ... vlan protocol
//    802.1Q id 111 <REORDER_HDR>` from https://github.com/brona/iproute2mac/issues/52 (ip/iplink_vlan.c
//    vlan_print_opt), kept in test/fixtures/parsers/links/vlan-details-addr.txt.
//  - `bridge vlan show`: bridge/vlan.c print_vlan_info ("%-16s  " for the port, then the VLAN and
//    " PVID", " Egress Untagged"; one indented line per further VLAN), as OpenWrt 23.05 prints it in
//    https://github.com/openwrt/openwrt/issues/11877 (test/unit/parsers/bridge-vlan.test.ts).
//  - `bridge fdb show` on a VLAN-aware bridge: `MAC dev PORT vlan N master BR [permanent]`, as in
//    https://github.com/systemd/systemd/pull/12503 and https://github.com/openwrt/openwrt/pull/4973
//    (test/fixtures/parsers/fdb/public-*.txt): an entry per (MAC, VLAN), and the vid-0 ones without `vlan`.
import type { Capture, Host } from '../../../src/capture/document';

const D = ' promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 ';
const TAIL = 'addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 ';
const LO = `1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00 promiscuity 0  allmulti 0 minmtu 0 maxmtu 0 ${TAIL}`;
const LO_ADDR = `1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    inet 127.0.0.1/8 scope host lo
       valid_lft forever preferred_lft forever`;
const pad = (name: string) => name.padEnd(16) + '  ';

/** A NIC (no kind line under `ip -d`), optionally enslaved to a bridge. */
function nic(index: number, name: string, mac: string, master?: string): string {
  const head = `${index}: ${name}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel${master ? ` master ${master}` : ''} state UP mode DEFAULT group default qlen 1000
    link/ether ${mac} brd ff:ff:ff:ff:ff:ff${master ? ' promiscuity 1  allmulti 1 minmtu 68 maxmtu 65535 ' : D}`;
  if (!master) return `${head}${TAIL}`;
  return `${head}
    bridge_slave state forwarding priority 32 cost 100 hairpin off guard off root_block off fastleave off learning on flood on port_id 0x80${String(index).padStart(2, '0')} port_no 0x${index} designated_port 327${index} designated_cost 0 designated_bridge 8000.52:54:0:5:0:1 designated_root 8000.52:54:0:5:0:1 hold_timer    0.00 message_age_timer    0.00 forward_delay_timer    0.00 topology_change_ack 0 config_pending 0 proxy_arp off proxy_arp_wifi off mcast_router 1 mcast_fast_leave off mcast_flood on bcast_flood on mcast_to_unicast off neigh_suppress off group_fwd_mask 0 group_fwd_mask_str 0x0 vlan_tunnel off isolated off locked off ${TAIL}`;
}

function bridgeLink(index: number, name: string, mac: string, filtering: boolean): string {
  return `${index}: ${name}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000
    link/ether ${mac} brd ff:ff:ff:ff:ff:ff${D}
    bridge forward_delay 1500 hello_time 200 max_age 2000 ageing_time 30000 stp_state 0 priority 32768 vlan_filtering ${filtering ? 1 : 0} vlan_protocol 802.1Q bridge_id 8000.52:54:0:5:0:1 designated_root 8000.52:54:0:5:0:1 root_port 0 root_path_cost 0 topology_change 0 topology_change_detected 0 hello_timer    0.00 tcn_timer    0.00 topology_change_timer    0.00 gc_timer  134.97 vlan_default_pvid 1 vlan_stats_enabled 0 vlan_stats_per_port 0 group_fwd_mask 0 group_address 01:80:c2:00:00:00 mcast_snooping 1 no_linklocal_learn 0 mcast_vlan_snooping 0 mcast_router 1 nf_call_iptables 0 nf_call_ip6tables 0 nf_call_arptables 0 ${TAIL}`;
}

/** A VLAN device `name@parent` (it takes its parent's MAC, as vlan_dev_init does). */
function vlanLink(index: number, name: string, parent: string, id: number, mac: string): string {
  return `${index}: ${name}@${parent}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000
    link/ether ${mac} brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 0 maxmtu 65535 
    vlan protocol 802.1Q id ${id} <REORDER_HDR> ${TAIL}`;
}

function addr(index: number, name: string, mac: string, cidr: string): string {
  const [ip, len] = cidr.split('/');
  const dev = name.split('@')[0]!;
  return `${index}: ${name}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000
    link/ether ${mac} brd ff:ff:ff:ff:ff:ff
    inet ${ip}/${len} scope global ${dev}
       valid_lft forever preferred_lft forever`;
}

export interface EndHost {
  name: string;
  ip: string;
  mac: string;
  /** The gateway (its address), when the host routes off its subnet. */
  gw?: string;
  /** Neighbour entries: address -> MAC. */
  neigh: Record<string, string>;
  /** VLAN devices on eth0 (a host on a trunk): id -> its address. */
  vlanDevs?: Record<number, string>;
}

/** A host with one NIC eth0 (and optionally VLAN devices on it), one /24. */
export function endHost(h: EndHost): Host {
  const links = [LO, nic(2, 'eth0', h.mac)];
  const addrs = [LO_ADDR, addr(2, 'eth0', h.mac, `${h.ip}/24`)];
  const routes: string[] = [];
  const net = (ip: string) => ip.split('.').slice(0, 3).join('.') + '.0/24';
  routes.push(`${net(h.ip)} dev eth0 proto kernel scope link src ${h.ip} `);
  let i = 3;
  for (const [id, ip] of Object.entries(h.vlanDevs ?? {})) {
    links.push(vlanLink(i, `eth0.${id}`, 'eth0', Number(id), h.mac));
    addrs.push(addr(i, `eth0.${id}@eth0`, h.mac, `${ip}/24`));
    routes.push(`${net(ip)} dev eth0.${id} proto kernel scope link src ${ip} `);
    i++;
  }
  if (h.gw) routes.unshift(`default via ${h.gw} dev eth0 `);
  return {
    name: h.name,
    role: 'node',
    ips: [h.ip],
    probes: {
      links: links.join('\n') + '\n',
      addrs: addrs.join('\n') + '\n',
      routes4: routes.join('\n') + '\n',
      neigh: Object.entries(h.neigh).map(([ip, mac]) => `${ip} dev eth0 lladdr ${mac} REACHABLE`).join('\n') + '\n',
      sysctl: 'net.ipv4.ip_forward = 0\n',
    },
  };
}

export interface RouterDef {
  name: string;
  mac: string;
  /** VLAN id -> the router's address in it (on eth0.ID). */
  vlans: Record<number, string>;
  /** Neighbour entries per VLAN device: `eth0.20` -> address -> MAC. */
  neigh: Record<string, Record<string, string>>;
}

/** A router on a stick: eth0 on the trunk, a VLAN sub-interface per VLAN, routing between them. */
export function router(r: RouterDef): Host {
  const links = [LO, nic(2, 'eth0', r.mac)];
  const addrs = [LO_ADDR, `2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP group default qlen 1000
    link/ether ${r.mac} brd ff:ff:ff:ff:ff:ff`];
  const routes: string[] = [];
  let i = 3;
  for (const [id, ip] of Object.entries(r.vlans)) {
    links.push(vlanLink(i, `eth0.${id}`, 'eth0', Number(id), r.mac));
    addrs.push(addr(i, `eth0.${id}@eth0`, r.mac, `${ip}/24`));
    routes.push(`${ip.split('.').slice(0, 3).join('.')}.0/24 dev eth0.${id} proto kernel scope link src ${ip} `);
    i++;
  }
  const neigh = Object.entries(r.neigh).flatMap(([dev, m]) => Object.entries(m).map(([ip, mac]) => `${ip} dev ${dev} lladdr ${mac} REACHABLE`));
  return {
    name: r.name,
    role: 'router',
    probes: { links: links.join('\n') + '\n', addrs: addrs.join('\n') + '\n', routes4: routes.join('\n') + '\n', neigh: neigh.join('\n') + '\n', sysctl: 'net.ipv4.ip_forward = 1\n' },
  };
}

export interface SwitchDef {
  name: string;
  mac: string;
  /** Ports in order, each with its `bridge vlan show` lines (first VLAN on the port's line). */
  ports: { name: string; mac: string; vlans: string[] }[];
  /** The bridge's own (self) VLANs. */
  self: string[];
  /** `bridge fdb show` lines (learned entries). */
  fdb: string[];
  filtering?: boolean;
  /** Leave the bridgevlan probe out (a capture taken without it). */
  noVlanProbe?: boolean;
  /** A management address on a VLAN device of the bridge (br0.ID), as on a managed switch. */
  mgmt?: { id: number; ip: string };
}

/** A Linux host as a switch: br0 with the ports, VLAN-aware unless `filtering` is false. */
export function vlanSwitch(s: SwitchDef): Host {
  const links = [LO, ...s.ports.map((p, k) => nic(k + 2, p.name, p.mac, 'br0')), bridgeLink(s.ports.length + 2, 'br0', s.mac, s.filtering !== false)];
  const table = (name: string, vlans: string[]) => vlans.map((v, k) => `${pad(k === 0 ? name : '')}${v}`);
  const vlan = ['port              vlan-id  ', ...s.ports.flatMap((p) => table(p.name, p.vlans.length ? p.vlans : [])), ...table('br0', s.self)];
  const permanent = [...s.ports.flatMap((p) => [`${p.mac} dev ${p.name} vlan 1 master br0 permanent`, `${p.mac} dev ${p.name} master br0 permanent`]), `${s.mac} dev br0 vlan 1 master br0 permanent`, `${s.mac} dev br0 master br0 permanent`];
  const probes: Record<string, string> = { links: links.join('\n') + '\n', fdb: [...s.fdb, ...permanent].join('\n') + '\n', sysctl: 'net.ipv4.ip_forward = 0\n' };
  if (s.mgmt) {
    const i = s.ports.length + 3;
    probes.links += vlanLink(i, `br0.${s.mgmt.id}`, 'br0', s.mgmt.id, s.mac) + '\n';
    probes.addrs = `${LO_ADDR}\n${addr(i, `br0.${s.mgmt.id}@br0`, s.mac, `${s.mgmt.ip}/24`)}\n`;
    probes.routes4 = `${s.mgmt.ip.split('.').slice(0, 3).join('.')}.0/24 dev br0.${s.mgmt.id} proto kernel scope link src ${s.mgmt.ip} \n`;
  }
  if (!s.noVlanProbe) probes.bridgevlan = vlan.join('\n') + '\n';
  return { name: s.name, role: 'switch', probes };
}

export const cable = (a: string, ad: string, b: string, bd: string) => ({ a: { host: a, dev: ad }, b: { host: b, dev: bd } });

export function capture(cluster: string, hosts: Host[], links: ReturnType<typeof cable>[]): Capture {
  return { apiVersion: 'netpath/v1', kind: 'Capture', metadata: { cluster, capturedAt: '2026-12-06T09:00:00Z' }, hosts, links } as Capture;
}

// ---- the article's picture: two VLANs on one switch, a layer-3 switch (router on a stick) ----------
// VLAN 10 is the article's 192.168.36.0/24, VLAN 20 its 192.168.35.0/24.

export const MAC = {
  a: '52:54:00:0a:00:10',
  b: '52:54:00:0b:00:20',
  c: '52:54:00:0c:00:10',
  r: '52:54:00:0e:00:01',
  br: '52:54:00:05:00:01',
  swp1: '52:54:00:05:01:01',
  swp2: '52:54:00:05:01:02',
  swp3: '52:54:00:05:01:03',
  swp4: '52:54:00:05:01:04',
} as const;

export const ACCESS = (vid: number) => [`${vid} PVID Egress Untagged`];
export const TRUNK = ['10', '20'];

/** The article's demo: host-a (VLAN 10, swp1), host-b (VLAN 20, swp2), host-c (VLAN 10, swp4), l3-switch on the trunk swp3. */
export function demoVlan(): Capture {
  return capture(
    'demo-vlan',
    [
      endHost({ name: 'host-a', ip: '192.168.36.10', mac: MAC.a, gw: '192.168.36.1', neigh: { '192.168.36.1': MAC.r, '192.168.36.30': MAC.c } }),
      endHost({ name: 'host-b', ip: '192.168.35.20', mac: MAC.b, gw: '192.168.35.1', neigh: { '192.168.35.1': MAC.r } }),
      endHost({ name: 'host-c', ip: '192.168.36.30', mac: MAC.c, gw: '192.168.36.1', neigh: { '192.168.36.10': MAC.a } }),
      router({ name: 'l3-switch', mac: MAC.r, vlans: { 10: '192.168.36.1', 20: '192.168.35.1' }, neigh: { 'eth0.10': { '192.168.36.10': MAC.a }, 'eth0.20': { '192.168.35.20': MAC.b } } }),
      vlanSwitch({
        name: 'switch',
        mac: MAC.br,
        ports: [
          { name: 'swp1', mac: MAC.swp1, vlans: ACCESS(10) },
          { name: 'swp2', mac: MAC.swp2, vlans: ACCESS(20) },
          { name: 'swp3', mac: MAC.swp3, vlans: TRUNK },
          { name: 'swp4', mac: MAC.swp4, vlans: ACCESS(10) },
        ],
        self: ['1 PVID Egress Untagged'],
        fdb: [`${MAC.a} dev swp1 vlan 10 master br0 `, `${MAC.c} dev swp4 vlan 10 master br0 `, `${MAC.b} dev swp2 vlan 20 master br0 `, `${MAC.r} dev swp3 vlan 10 master br0 `, `${MAC.r} dev swp3 vlan 20 master br0 `],
      }),
    ],
    [cable('host-a', 'eth0', 'switch', 'swp1'), cable('host-b', 'eth0', 'switch', 'swp2'), cable('l3-switch', 'eth0', 'switch', 'swp3'), cable('host-c', 'eth0', 'switch', 'swp4')],
  );
}
