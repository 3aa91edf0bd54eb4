// The lab topologies besides the demo (test/lab/demo-cluster.ts), built by topologies.test.ts and
// toolless.test.ts: flannel host-gw, Calico VXLAN, the bridge plugin in dual stack, and two underlay
// subnets joined by a router.
import type { ClusterSpec } from './topology';

export const FLANNEL_HOST_GW: ClusterSpec = {
  name: 'lab-flannel-host-gw',
  underlay: { cidr: '10.4.8.0/24', switch: { name: 'tor' }, router: { name: 'gw', ip: '10.4.8.1' } },
  cni: { kind: 'flannel-host-gw', network: '10.244.0.0/16' },
  nodes: [
    { name: 'node1', ip: '10.4.8.21', podCIDR: '10.244.0.0/24', docker0: false, pods: [
      { name: 'web-0', namespace: 'default', ip: '10.244.0.3' },
      { name: 'cache-0', namespace: 'default', ip: '10.244.0.4' },
    ] },
    { name: 'node2', ip: '10.4.8.22', podCIDR: '10.244.1.0/24', docker0: false, pods: [
      { name: 'web-1', namespace: 'default', ip: '10.244.1.3' },
    ] },
  ],
};

export const CALICO_VXLAN: ClusterSpec = {
  name: 'lab-calico-vxlan',
  underlay: { cidr: '10.4.9.0/24', switch: { name: 'tor' }, router: { name: 'gw', ip: '10.4.9.1' } },
  cni: { kind: 'calico-vxlan', network: '10.48.0.0/16' },
  nodes: [
    // podCIDR is the node's Calico IPAM block; its first address is vxlan.calico's.
    { name: 'node1', ip: '10.4.9.21', podCIDR: '10.48.97.0/26', docker0: false, pods: [
      { name: 'frontend-0', namespace: 'shop', ip: '10.48.97.1' },
      { name: 'cart-0', namespace: 'shop', ip: '10.48.97.2' },
    ] },
    { name: 'node2', ip: '10.4.9.22', podCIDR: '10.48.166.128/26', docker0: false, pods: [
      { name: 'checkout-0', namespace: 'shop', ip: '10.48.166.129' },
    ] },
  ],
};

export const BRIDGE_DUAL_STACK: ClusterSpec = {
  name: 'lab-bridge-dual-stack',
  underlay: { cidr: '10.4.10.0/24', cidr6: 'fd00:4:10::/64', switch: { name: 'tor' } },
  cni: { kind: 'bridge', network: '10.245.0.0/16', network6: 'fd00:10:245::/56' },
  nodes: [
    { name: 'node1', ip: '10.4.10.21', ip6: 'fd00:4:10::21', podCIDR: '10.245.0.0/24', podCIDR6: 'fd00:10:245::/64', docker0: false, pods: [
      { name: 'api-0', namespace: 'default', ip: '10.245.0.3', ip6: 'fd00:10:245::3' },
      { name: 'db-0', namespace: 'default', ip: '10.245.0.4', ip6: 'fd00:10:245::4' },
    ] },
    { name: 'node2', ip: '10.4.10.22', ip6: 'fd00:4:10::22', podCIDR: '10.245.1.0/24', podCIDR6: 'fd00:10:245:1::/64', docker0: false, pods: [
      { name: 'api-1', namespace: 'default', ip: '10.245.1.3', ip6: 'fd00:10:245:1::3' },
    ] },
  ],
};

export const TWO_SUBNETS: ClusterSpec = {
  name: 'lab-two-subnets',
  underlay: {
    cidr: '10.20.1.0/24',
    switch: { name: 'tor-a' },
    router: { name: 'rtr', ip: '10.20.1.1' },
    segments: [{ cidr: '10.20.2.0/24', switch: { name: 'tor-b' }, routerIp: '10.20.2.1' }],
  },
  cni: { kind: 'flannel-vxlan', network: '10.244.0.0/16' },
  nodes: [
    { name: 'node-a1', ip: '10.20.1.21', podCIDR: '10.244.0.0/24', docker0: false, pods: [
      { name: 'web-0', namespace: 'default', ip: '10.244.0.3' },
      { name: 'web-2', namespace: 'default', ip: '10.244.0.4' },
    ] },
    { name: 'node-a2', ip: '10.20.1.22', podCIDR: '10.244.1.0/24', docker0: false, pods: [
      { name: 'web-1', namespace: 'default', ip: '10.244.1.3' },
    ] },
    { name: 'node-b1', ip: '10.20.2.21', podCIDR: '10.244.2.0/24', docker0: false, pods: [
      { name: 'db-0', namespace: 'default', ip: '10.244.2.3' },
    ] },
  ],
};
