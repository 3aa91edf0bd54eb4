// Hovers on pod, node and Service IPs (ClusterIPs, LoadBalancer IPs, a node's NodePorts) in any editor;
// a pod's says which NetworkPolicies (and admin policies) select it. They use only the data already loaded (never the
// network) and return nothing rather than wait.
import * as vscode from 'vscode';
import { serviceIndexOf } from '../../engine/services';
import { kubernetesOf } from '../../capture/document';
import { hoverMarkdown, indexAddresses, ipAt, podPolicies, podProblems, servicesAtAddress, type IpInfo } from '../model/hover';
import type { DataSource } from '../source';
import { Commands } from '../commands';

export class IpHoverProvider implements vscode.HoverProvider, vscode.Disposable {
  private index: Map<string, IpInfo> | undefined;
  private readonly sub: vscode.Disposable;

  constructor(private readonly source: DataSource) {
    this.sub = source.onDidChange(() => (this.index = undefined));
  }

  provideHover(doc: vscode.TextDocument, pos: vscode.Position): vscode.Hover | undefined {
    const line = doc.lineAt(pos.line).text;
    if (line.length > 10_000) return undefined;
    const hit = ipAt(line, pos.character);
    if (!hit) return undefined;
    const snap = this.source.snapshot();
    if (!snap) return undefined;
    this.index ??= indexAddresses(snap.network);
    const indexed = this.index.get(hit.ip);
    const problems = indexed ? podProblems(snap.network, indexed) : undefined;
    const info = indexed && problems ? { ...indexed, problems } : indexed;
    const policies = info?.kind === 'pod' ? podPolicies(kubernetesOf(snap.network.capture), info.ref) : undefined;
    const md = hoverMarkdown(info, servicesAtAddress(serviceIndexOf(snap.network), hit.ip), policies);
    if (!md) return undefined;
    const m = new vscode.MarkdownString(md);
    m.isTrusted = { enabledCommands: [Commands.traceFrom, Commands.traceTo] };
    return new vscode.Hover(m, new vscode.Range(pos.line, hit.start, pos.line, hit.end));
  }

  dispose(): void {
    this.sub.dispose();
  }
}
