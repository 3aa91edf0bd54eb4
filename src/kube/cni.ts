// Which CNI a cluster runs, and with which backend, from what the API shows: DaemonSets, the
// flannel ConfigMap, node annotations. Pure: the caller fetches the objects.
import type { DaemonSetInfo, NodeInfo } from './api';

export interface CniInfo {
  /** flannel, calico, cilium, weave, kube-router, antrea, ovn-kubernetes, or unknown. */
  name: string;
  /** vxlan, host-gw, ipip, wireguard, bgp, ... when it can be told. */
  backend?: string;
  /** What each conclusion came from, for the user to check. */
  evidence: string[];
}

const DAEMONSETS: [RegExp, string][] = [
  [/flannel/, 'flannel'],
  [/calico-node/, 'calico'],
  [/cilium/, 'cilium'],
  [/weave-net/, 'weave'],
  [/kube-router/, 'kube-router'],
  [/antrea-agent/, 'antrea'],
  [/ovnkube-node/, 'ovn-kubernetes'],
];

export function detectCni(input: { daemonSets: DaemonSetInfo[]; nodes: NodeInfo[]; flannelConfig?: Record<string, string> | undefined }): CniInfo {
  const evidence: string[] = [];
  let name = 'unknown';
  for (const ds of input.daemonSets) {
    const hit = DAEMONSETS.find(([re]) => re.test(ds.name) || ds.images.some((i) => re.test(i)));
    if (hit) {
      name = hit[1];
      evidence.push(`DaemonSet ${ds.namespace}/${ds.name}${ds.images[0] ? ` (${ds.images[0]})` : ''}`);
      break;
    }
  }
  const ann = (key: string) => input.nodes.map((n) => n.annotations[key]).find((v) => v !== undefined);
  const flannelType = ann('flannel.alpha.coreos.com/backend-type');
  if (name === 'unknown' && flannelType !== undefined) name = 'flannel';
  if (name === 'unknown' && ann('projectcalico.org/IPv4Address') !== undefined) name = 'calico';

  let backend: string | undefined;
  if (name === 'flannel') {
    const conf = input.flannelConfig?.['net-conf.json'];
    if (conf !== undefined) {
      try {
        const t = (JSON.parse(conf) as { Backend?: { Type?: unknown } }).Backend?.Type;
        if (typeof t === 'string') {
          backend = t.toLowerCase();
          evidence.push(`ConfigMap kube-system/kube-flannel-cfg net-conf.json: Backend.Type ${t}`);
        }
      } catch {
        evidence.push('ConfigMap kube-system/kube-flannel-cfg: net-conf.json is not valid JSON');
      }
    }
    if (backend === undefined && flannelType !== undefined) {
      backend = flannelType;
      evidence.push(`node annotation flannel.alpha.coreos.com/backend-type: ${flannelType}`);
    }
  }
  if (name === 'calico') {
    if (ann('projectcalico.org/IPv4WireguardInterfaceAddr') !== undefined) {
      backend = 'wireguard';
      evidence.push('node annotation projectcalico.org/IPv4WireguardInterfaceAddr');
    } else if (ann('projectcalico.org/IPv4VXLANTunnelAddr') !== undefined) {
      backend = 'vxlan';
      evidence.push('node annotation projectcalico.org/IPv4VXLANTunnelAddr');
    } else if (ann('projectcalico.org/IPv4IPIPTunnelAddr') !== undefined) {
      backend = 'ipip';
      evidence.push('node annotation projectcalico.org/IPv4IPIPTunnelAddr');
    } else if (ann('projectcalico.org/IPv4Address') !== undefined) {
      backend = 'bgp';
      evidence.push('node annotation projectcalico.org/IPv4Address without tunnel addresses');
    }
  }
  if (name === 'unknown') evidence.push('no known CNI DaemonSet, ConfigMap or node annotation was found');
  return backend === undefined ? { name, evidence } : { name, backend, evidence };
}
