// client-node is most of the extension's weight and only live clusters need it: it is bundled on its
// own (dist/kube.js) and loaded the first time a cluster is used, so activation stays fast.
import type * as vscode from 'vscode';

export type KubeModule = typeof import('../kube/clientNode');

let loaded: KubeModule | undefined;

export async function loadKube(extensionUri: vscode.Uri): Promise<KubeModule> {
  // A path esbuild cannot follow, so the module stays out of extension.js.
  const file = `${extensionUri.fsPath}/dist/kube.js`;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a separate bundle, loaded at run time
  loaded ??= (await Promise.resolve().then(() => require(file))) as KubeModule;
  return loaded;
}
