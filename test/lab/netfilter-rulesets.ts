// Rule sets for the netfilter lab (netfilter.test.ts), in the exact format kube-proxy writes them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * kube-proxy iptables mode, as pkg/proxy/iptables/proxier.go writes it (chain names, comments, rule
 * order, KUBE-MARK-MASQ with --or-mark and KUBE-POSTROUTING's --xor-mark, statistic probabilities
 * 1/3 then 1/2), for the lab's addresses: node 10.99.0.1 (client side) and 10.244.1.1 (pods side),
 * pod CIDR 10.244.0.0/16, endpoints 10.244.1.11-13:8080. Services:
 * - default/dns:udp ClusterIP 10.96.0.10:53 with three endpoints; NodePort 30054 (externalTrafficPolicy Cluster);
 * - default/local:udp ClusterIP 10.96.0.30:53, NodePort 30053 with externalTrafficPolicy Local (one local endpoint, 10.244.1.12);
 * - default/empty:udp ClusterIP 10.96.0.20:80 with no endpoints (REJECT in filter KUBE-SERVICES);
 * FORWARD policy DROP with KUBE-FORWARD (accepts only marked or established traffic).
 */
export const KUBE_PROXY_IPTABLES = `*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-EXTERNAL-SERVICES - [0:0]
:KUBE-FIREWALL - [0:0]
:KUBE-FORWARD - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-PROXY-FIREWALL - [0:0]
:KUBE-SERVICES - [0:0]
-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL
-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS
-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES
-A INPUT -j KUBE-FIREWALL
-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES
-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL
-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -j KUBE-FIREWALL
-A KUBE-EXTERNAL-SERVICES -p udp -m comment --comment "default/empty:udp has no endpoints" -m addrtype --dst-type LOCAL -m udp --dport 30020 -j REJECT --reject-with icmp-port-unreachable
-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A KUBE-SERVICES -d 10.96.0.20/32 -p udp -m comment --comment "default/empty:udp has no endpoints" -m udp --dport 80 -j REJECT --reject-with icmp-port-unreachable
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-EXT-QDOWQAQCV3QLKDX3 - [0:0]
:KUBE-EXT-ZR2B5KPMSXCOQPRF - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-SEP-3JOIVZTXZYXKQLVI - [0:0]
:KUBE-SEP-4K3YNMXG3L3VM5VA - [0:0]
:KUBE-SEP-PXD6POUVGD2I37UY - [0:0]
:KUBE-SEP-UMMAXLQ4CWG5MRRD - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-QDOWQAQCV3QLKDX3 - [0:0]
:KUBE-SVC-ZR2B5KPMSXCOQPRF - [0:0]
:KUBE-SVL-ZR2B5KPMSXCOQPRF - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-EXT-QDOWQAQCV3QLKDX3 -m comment --comment "masquerade traffic for default/dns:udp external destinations" -j KUBE-MARK-MASQ
-A KUBE-EXT-QDOWQAQCV3QLKDX3 -j KUBE-SVC-QDOWQAQCV3QLKDX3
-A KUBE-EXT-ZR2B5KPMSXCOQPRF -s 10.244.0.0/16 -m comment --comment "pod traffic for default/local:udp external destinations" -j KUBE-SVC-ZR2B5KPMSXCOQPRF
-A KUBE-EXT-ZR2B5KPMSXCOQPRF -m comment --comment "masquerade LOCAL traffic for default/local:udp external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ
-A KUBE-EXT-ZR2B5KPMSXCOQPRF -m comment --comment "route LOCAL traffic for default/local:udp external destinations" -m addrtype --src-type LOCAL -j KUBE-SVC-ZR2B5KPMSXCOQPRF
-A KUBE-EXT-ZR2B5KPMSXCOQPRF -j KUBE-SVL-ZR2B5KPMSXCOQPRF
-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
-A KUBE-NODEPORTS -p udp -m comment --comment "default/dns:udp" -m udp --dport 30054 -j KUBE-EXT-QDOWQAQCV3QLKDX3
-A KUBE-NODEPORTS -p udp -m comment --comment "default/local:udp" -m udp --dport 30053 -j KUBE-EXT-ZR2B5KPMSXCOQPRF
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
-A KUBE-SEP-3JOIVZTXZYXKQLVI -s 10.244.1.11/32 -m comment --comment "default/dns:udp" -j KUBE-MARK-MASQ
-A KUBE-SEP-3JOIVZTXZYXKQLVI -p udp -m comment --comment "default/dns:udp" -m udp -j DNAT --to-destination 10.244.1.11:8080
-A KUBE-SEP-4K3YNMXG3L3VM5VA -s 10.244.1.12/32 -m comment --comment "default/dns:udp" -j KUBE-MARK-MASQ
-A KUBE-SEP-4K3YNMXG3L3VM5VA -p udp -m comment --comment "default/dns:udp" -m udp -j DNAT --to-destination 10.244.1.12:8080
-A KUBE-SEP-PXD6POUVGD2I37UY -s 10.244.1.13/32 -m comment --comment "default/dns:udp" -j KUBE-MARK-MASQ
-A KUBE-SEP-PXD6POUVGD2I37UY -p udp -m comment --comment "default/dns:udp" -m udp -j DNAT --to-destination 10.244.1.13:8080
-A KUBE-SEP-UMMAXLQ4CWG5MRRD -s 10.244.1.12/32 -m comment --comment "default/local:udp" -j KUBE-MARK-MASQ
-A KUBE-SEP-UMMAXLQ4CWG5MRRD -p udp -m comment --comment "default/local:udp" -m udp -j DNAT --to-destination 10.244.1.12:8080
-A KUBE-SERVICES -d 10.96.0.10/32 -p udp -m comment --comment "default/dns:udp cluster IP" -m udp --dport 53 -j KUBE-SVC-QDOWQAQCV3QLKDX3
-A KUBE-SERVICES -d 10.96.0.30/32 -p udp -m comment --comment "default/local:udp cluster IP" -m udp --dport 53 -j KUBE-SVC-ZR2B5KPMSXCOQPRF
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
-A KUBE-SVC-QDOWQAQCV3QLKDX3 ! -s 10.244.0.0/16 -d 10.96.0.10/32 -p udp -m comment --comment "default/dns:udp cluster IP" -m udp --dport 53 -j KUBE-MARK-MASQ
-A KUBE-SVC-QDOWQAQCV3QLKDX3 -m comment --comment "default/dns:udp -> 10.244.1.11:8080" -m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-3JOIVZTXZYXKQLVI
-A KUBE-SVC-QDOWQAQCV3QLKDX3 -m comment --comment "default/dns:udp -> 10.244.1.12:8080" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-4K3YNMXG3L3VM5VA
-A KUBE-SVC-QDOWQAQCV3QLKDX3 -m comment --comment "default/dns:udp -> 10.244.1.13:8080" -j KUBE-SEP-PXD6POUVGD2I37UY
-A KUBE-SVC-ZR2B5KPMSXCOQPRF ! -s 10.244.0.0/16 -d 10.96.0.30/32 -p udp -m comment --comment "default/local:udp cluster IP" -m udp --dport 53 -j KUBE-MARK-MASQ
-A KUBE-SVC-ZR2B5KPMSXCOQPRF -m comment --comment "default/local:udp -> 10.244.1.12:8080" -j KUBE-SEP-UMMAXLQ4CWG5MRRD
-A KUBE-SVL-ZR2B5KPMSXCOQPRF -m comment --comment "default/local:udp -> 10.244.1.12:8080" -j KUBE-SEP-UMMAXLQ4CWG5MRRD
COMMIT
`;

/**
 * kube-proxy IPVS mode's netfilter part (pkg/proxy/ipvs/proxier.go writes these chains, comments and
 * set names; IPVS itself does the load balancing, which this kernel does not have): the Service
 * addresses are local (on kube-ipvs0, here on lo), KUBE-SERVICES marks traffic for masquerade by ipset
 * membership and accepts Service traffic, KUBE-IPVS-FILTER rejects new connections to a Service address
 * on a port no Service has. Sets: KUBE-CLUSTER-IP (hash:ip,port), KUBE-IPVS-IPS (hash:ip), KUBE-NODE-PORT-UDP (bitmap:port).
 */
export const KUBE_PROXY_IPVS_IPSET = `create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536
add KUBE-CLUSTER-IP 10.96.0.10,udp:53
add KUBE-CLUSTER-IP 10.96.0.10,tcp:53
create KUBE-IPVS-IPS hash:ip family inet hashsize 1024 maxelem 65536
add KUBE-IPVS-IPS 10.96.0.10
create KUBE-NODE-PORT-UDP bitmap:port range 0-65535
add KUBE-NODE-PORT-UDP 30053
create KUBE-EXTERNAL-IP hash:ip,port family inet hashsize 1024 maxelem 65536
create KUBE-LOAD-BALANCER hash:ip,port family inet hashsize 1024 maxelem 65536
create KUBE-HEALTH-CHECK-NODE-PORT bitmap:port range 0-65535
`;

export const KUBE_PROXY_IPVS_IPTABLES = `*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-FORWARD - [0:0]
:KUBE-IPVS-FILTER - [0:0]
:KUBE-NODE-PORT - [0:0]
-A INPUT -m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-FILTER
-A INPUT -m comment --comment "kube-proxy firewall rules" -j KUBE-NODE-PORT
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A KUBE-IPVS-FILTER -m set --match-set KUBE-LOAD-BALANCER dst,dst -j RETURN
-A KUBE-IPVS-FILTER -m set --match-set KUBE-CLUSTER-IP dst,dst -j RETURN
-A KUBE-IPVS-FILTER -m set --match-set KUBE-EXTERNAL-IP dst,dst -j RETURN
-A KUBE-IPVS-FILTER -m set --match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j RETURN
-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT --reject-with icmp-port-unreachable
-A KUBE-NODE-PORT -m comment --comment "Kubernetes health check node port" -m set --match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j ACCEPT
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-NODE-PORT - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-SERVICES - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
-A KUBE-NODE-PORT -p udp -m comment --comment "Kubernetes nodeport UDP port for masquerade purpose" -m set --match-set KUBE-NODE-PORT-UDP dst -j KUBE-MARK-MASQ
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
-A KUBE-SERVICES ! -s 10.244.0.0/16 -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ
-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT
-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT
COMMIT
`;

/**
 * kube-proxy iptables mode for an IPv6 Service (ip6tables-save as proxier.go writes it for the IPv6
 * family): ClusterIP fd00:96::a port 53/udp with two endpoints (statistic 0.5), KUBE-MARK-MASQ for
 * traffic from outside the pod CIDR fd00:244::/56, FORWARD policy DROP with KUBE-FORWARD.
 */
export const KUBE_PROXY_IP6TABLES = `*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-FORWARD - [0:0]
:KUBE-SERVICES - [0:0]
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-SEP-6VUQ2XJ5ZIEAXKQJ - [0:0]
:KUBE-SEP-TY5AQM2QAQGNDV3Q - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-6BLYAQ2YNZGQYJNV - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
-A KUBE-SEP-6VUQ2XJ5ZIEAXKQJ -s fd00:244:1::11/128 -m comment --comment "default/dns6:udp" -j KUBE-MARK-MASQ
-A KUBE-SEP-6VUQ2XJ5ZIEAXKQJ -p udp -m comment --comment "default/dns6:udp" -m udp -j DNAT --to-destination [fd00:244:1::11]:8080
-A KUBE-SEP-TY5AQM2QAQGNDV3Q -s fd00:244:1::12/128 -m comment --comment "default/dns6:udp" -j KUBE-MARK-MASQ
-A KUBE-SEP-TY5AQM2QAQGNDV3Q -p udp -m comment --comment "default/dns6:udp" -m udp -j DNAT --to-destination [fd00:244:1::12]:8080
-A KUBE-SERVICES -d fd00:96::a/128 -p udp -m comment --comment "default/dns6:udp cluster IP" -m udp --dport 53 -j KUBE-SVC-6BLYAQ2YNZGQYJNV
-A KUBE-SVC-6BLYAQ2YNZGQYJNV ! -s fd00:244::/56 -d fd00:96::a/128 -p udp -m comment --comment "default/dns6:udp cluster IP" -m udp --dport 53 -j KUBE-MARK-MASQ
-A KUBE-SVC-6BLYAQ2YNZGQYJNV -m comment --comment "default/dns6:udp -> [fd00:244:1::11]:8080" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-6VUQ2XJ5ZIEAXKQJ
-A KUBE-SVC-6BLYAQ2YNZGQYJNV -m comment --comment "default/dns6:udp -> [fd00:244:1::12]:8080" -j KUBE-SEP-TY5AQM2QAQGNDV3Q
COMMIT
`;

/** kube-proxy nftables mode: its own test rule set (see the file's header). */
export const KUBE_PROXY_NFT = readFileSync(join(__dirname, 'kube-proxy-nft-overall.nft'), 'utf8');
