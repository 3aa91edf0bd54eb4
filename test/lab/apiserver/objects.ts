// The Kubernetes object shapes this server stores and serves: only the fields it sets or reads are
// typed; everything a client sends is kept as it came.

export interface ObjectMeta {
  name: string;
  namespace?: string;
  generateName?: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }[];
  [field: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string }[];
  [field: string]: unknown;
}

export interface ContainerStatus {
  name: string;
  image: string;
  imageID: string;
  containerID?: string;
  ready: boolean;
  started?: boolean;
  restartCount: number;
  state: { running?: { startedAt: string }; waiting?: { reason: string; message?: string } };
  [field: string]: unknown;
}

export interface Pod extends KubeObject {
  spec: {
    nodeName?: string;
    hostNetwork?: boolean;
    nodeSelector?: Record<string, string>;
    containers: Container[];
    ephemeralContainers?: (Container & { targetContainerName?: string })[];
    initContainers?: Container[];
    [field: string]: unknown;
  };
  status: {
    phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
    podIP?: string;
    podIPs?: { ip: string }[];
    hostIP?: string;
    hostIPs?: { ip: string }[];
    containerStatuses?: ContainerStatus[];
    ephemeralContainerStatuses?: ContainerStatus[];
    [field: string]: unknown;
  };
}

export interface Node extends KubeObject {
  spec: { podCIDR?: string; podCIDRs?: string[]; [field: string]: unknown };
  status: {
    addresses: { type: string; address: string }[];
    conditions: { type: string; status: string; [field: string]: unknown }[];
    nodeInfo: Record<string, string>;
    [field: string]: unknown;
  };
}
