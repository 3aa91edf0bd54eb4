// The extension's settings as one typed object; it reacts only to changes of its own keys, and the
// change applies without a reload.
import * as vscode from 'vscode';
import type { NodeAccess } from '../kube/collector';

export interface NetpathConfig {
  kubeconfig: string;
  context: string;
  nodeAccess: NodeAccess;
  debugImage: string;
  execTimeoutSeconds: number;
  concurrency: number;
}

export const SECTION = 'netpath';

export function readConfig(): NetpathConfig {
  const c = vscode.workspace.getConfiguration(SECTION);
  const access = c.get<string>('nodeAccess', 'host-network-pods');
  return {
    kubeconfig: c.get<string>('kubeconfig', '').trim(),
    context: c.get<string>('context', '').trim(),
    nodeAccess: access === 'debug-pods' || access === 'never' ? access : 'host-network-pods',
    debugImage: c.get<string>('debugImage', 'docker.io/nicolaka/netshoot:v0.13').trim() || 'docker.io/nicolaka/netshoot:v0.13',
    execTimeoutSeconds: Math.max(1, c.get<number>('execTimeoutSeconds', 10)),
    concurrency: Math.max(1, Math.floor(c.get<number>('concurrency', 8))),
  };
}

/** Calls `onChange` with the new settings whenever one of netpath's settings changes. */
export function watchConfig(onChange: (c: NetpathConfig) => void): vscode.Disposable {
  return vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration(SECTION)) onChange(readConfig());
  });
}
