// The article's cluster (shared/seed): three nodes on 10.4.7.0/24 behind the gateway 10.4.7.1,
// flannel VXLAN with 10.244.0.0/16 and one /24 per node, a docker0 on every node. Shared by
// make-demo.ts (which writes examples/demo-flannel-vxlan.json) and the lab tests.
import { join } from 'node:path';
import { captureLab, type LabCapture } from './capture';
import type { Lab } from './netns';
import { buildCluster, settle, type BuiltCluster, type ClusterSpec } from './topology';
import { assertConnectivity, checkConnectivity, type PingCheck } from './verify';

export const DEMO_CAPTURE_PATH = join(__dirname, '../../examples/demo-flannel-vxlan.json');

export const DEMO_CLUSTER: ClusterSpec = {
  name: 'demo-flannel-vxlan',
  underlay: {
    cidr: '10.4.7.0/24',
    switch: { name: 'tor' },
    router: { name: 'gw', ip: '10.4.7.1' },
  },
  cni: { kind: 'flannel-vxlan', network: '10.244.0.0/16' },
  nodes: [
    {
      name: 'k8s-node1',
      ip: '10.4.7.21',
      podCIDR: '10.244.0.0/24',
      pods: [
        { name: 'coredns-6d8c4cb4d-xk7t2', namespace: 'kube-system', ip: '10.244.0.2' },
        { name: 'web-0', namespace: 'default', ip: '10.244.0.3' },
      ],
    },
    {
      name: 'k8s-node2',
      ip: '10.4.7.22',
      podCIDR: '10.244.1.0/24',
      pods: [
        { name: 'coredns-6d8c4cb4d-q9m4r', namespace: 'kube-system', ip: '10.244.1.2' },
        { name: 'web-1', namespace: 'default', ip: '10.244.1.3' },
      ],
    },
    {
      name: 'k8s-node3',
      ip: '10.4.7.23',
      podCIDR: '10.244.2.0/24',
      pods: [
        { name: 'nginx-7c5ddbdf54-2xq8n', namespace: 'default', ip: '10.244.2.2' },
        { name: 'prometheus-0', namespace: 'monitoring', ip: '10.244.2.3' },
      ],
    },
  ],
};

export interface DemoRun {
  built: BuiltCluster;
  checks: PingCheck[];
  result: LabCapture;
  timings: { buildMs: number; proveMs: number; captureMs: number };
}

/** Builds the demo in `lab`, proves it forwards (throws if not) and captures it. The caller disposes the lab. */
export async function runDemo(lab: Lab, log: (line: string) => void = () => {}): Promise<DemoRun> {
  let t = Date.now();
  const built = buildCluster(lab, DEMO_CLUSTER);
  await settle(lab);
  const buildMs = Date.now() - t;
  log(`built ${lab.namespaces().length} namespaces in ${buildMs} ms`);

  t = Date.now();
  const checks = checkConnectivity(lab, built);
  for (const c of checks) log(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.what}: ${c.from} -> ${c.to}`);
  assertConnectivity(checks);
  const proveMs = Date.now() - t;

  t = Date.now();
  const result = await captureLab(lab, built);
  const captureMs = Date.now() - t;
  log(`captured ${result.capture.hosts.length} hosts in ${captureMs} ms`);
  return { built, checks, result, timings: { buildMs, proveMs, captureMs } };
}
