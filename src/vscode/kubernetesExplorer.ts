// The Kubernetes extension's Cluster Explorer (ms-kubernetes-tools): "Trace from/to this pod" on a
// pod node. The API package activates that extension when imported, so it is loaded only here, only
// when such a node is the command's target.
import * as vscode from 'vscode';

export const KUBERNETES_EXTENSION = 'ms-kubernetes-tools.vscode-kubernetes-tools';

/** `namespace/pod` for a Cluster Explorer pod node, or undefined for anything else. */
export async function podFromExplorerNode(target: unknown): Promise<string | undefined> {
  if (!target || typeof target !== 'object' || !vscode.extensions.getExtension(KUBERNETES_EXTENSION)) return undefined;
  const k8s = await import('vscode-kubernetes-tools-api');
  const api = await k8s.extension.clusterExplorer.v1_1;
  if (!api.available) return undefined;
  const node = api.api.resolveCommandTarget(target);
  if (node?.nodeType !== 'resource' || node.resourceKind.manifestKind !== 'Pod') return undefined;
  return `${node.namespace || 'default'}/${node.name}`;
}
