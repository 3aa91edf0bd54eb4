// The Node Bridges tree: nodes are plain tagged data (model/bridges.ts); TreeItems are made only in
// getTreeItem; contextValue drives the menus. A live cluster's node is read when it is expanded.
import * as vscode from 'vscode';
import { childrenOf, deviceText, nodeEntries, podOnWords, portVlanWords, type BridgeNode } from '../model/bridges';
import type { DataSource } from '../source';

export class BridgesView implements vscode.TreeDataProvider<BridgeNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<BridgeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly sub: vscode.Disposable;

  constructor(
    private readonly source: DataSource,
    /** Reopens the last source of this workspace (after a window reload); false when there is none. */
    private readonly reopen: () => Promise<boolean> = async () => false,
  ) {
    this.sub = source.onDidChange(() => this.changed.fire(undefined));
  }

  async getChildren(parent?: BridgeNode): Promise<BridgeNode[]> {
    if (!parent) {
      const snap = this.source.snapshot() ?? ((await this.reopen()) ? this.source.snapshot() : undefined);
      if (!snap) return [];
      return nodeEntries(snap.network);
    }
    if (parent.kind === 'node' && !parent.hasTables && this.source.kind.kind === 'cluster') {
      const report = await vscode.window.withProgress({ location: { viewId: 'netpath.bridges' } }, (_p, token) => this.source.loadHost(parent.node, token));
      if (report?.error) return [{ kind: 'message', text: `${report.error.message} — ${report.error.hint}` }];
    }
    const snap = this.source.snapshot();
    return snap ? childrenOf(snap.network, parent) : [];
  }

  getTreeItem(n: BridgeNode): vscode.TreeItem {
    const C = vscode.TreeItemCollapsibleState;
    const problems = 'problems' in n ? n.problems : [];
    const warn = problems.length ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground')) : undefined;
    const tip = (lines: string[]) => {
      const md = new vscode.MarkdownString();
      for (const l of lines) md.appendText(l + '\n\n');
      return md;
    };
    switch (n.kind) {
      case 'node': {
        const item = new vscode.TreeItem(n.node, C.Collapsed);
        item.description = [n.ips.join(', '), n.podCIDRs.join(', ')].filter(Boolean).join(' · ');
        item.iconPath = warn ?? new vscode.ThemeIcon('server');
        item.tooltip = tip([`node ${n.node}`, `InternalIP ${n.ips.join(', ') || '?'}`, `podCIDR ${n.podCIDRs.join(', ') || '?'}`, ...problems.map((p) => `⚠ ${p.text}`)]);
        item.contextValue = 'netpath.node';
        return item;
      }
      case 'bridge': {
        const item = new vscode.TreeItem(n.name, n.ports ? C.Expanded : C.None);
        item.description = `bridge · ${n.ports} port${n.ports === 1 ? '' : 's'} · mtu ${n.mtu}${n.up ? '' : ' · DOWN'}`;
        item.iconPath = warn ?? new vscode.ThemeIcon('circuit-board');
        item.tooltip = tip([`bridge ${n.name} on ${n.node}`, `addresses ${n.addrs.join(', ') || 'none'}`, `MAC ${n.mac ?? '?'}`, ...problems.map((p) => `⚠ ${p.text}`)]);
        item.contextValue = 'netpath.bridge';
        return item;
      }
      case 'port': {
        const item = new vscode.TreeItem(n.name, C.Expanded);
        item.description = `${n.up ? 'up' : 'DOWN'}${n.state ? ` · ${n.state}` : ''}${n.vlan ? ` · VLAN ${n.vlan.id} on ${n.vlan.parent}` : ''} · mtu ${n.mtu}`;
        item.iconPath = warn ?? new vscode.ThemeIcon('plug');
        item.tooltip = tip([`port ${n.name} of ${n.bridge} on ${n.node}`, ...portVlanWords(n), ...problems.map((p) => `⚠ ${p.text}`)]);
        item.contextValue = 'netpath.port';
        return item;
      }
      case 'pod': {
        // The IP leads the label: a narrow sidebar clips the description first and then the label's
        // end (pod names run long), and the IP is what one looks for here. The MAC is the description.
        const item = new vscode.TreeItem(`${n.ip ? `${n.ip} · ` : ''}${n.namespace}/${n.pod}`, C.None);
        item.description = (n.mac ?? '') + (n.inferred ? `${n.mac ? ' ' : ''}(inferred)` : '');
        item.iconPath = new vscode.ThemeIcon('package');
        item.tooltip = tip([podOnWords(n), `IP ${n.ip ?? '?'}`, `MAC ${n.mac ?? '?'}`]);
        item.contextValue = 'netpath.pod';
        return item;
      }
      case 'tunnel': {
        const item = new vscode.TreeItem(n.name, C.Collapsed);
        item.description = `${n.type}${n.vni !== undefined ? ` · VNI ${n.vni}` : ''}${n.local ? ` · local ${n.local}` : ''}${n.dstport ? ` · udp ${n.dstport}` : ''} · mtu ${n.mtu}`;
        item.iconPath = warn ?? new vscode.ThemeIcon('git-compare');
        item.contextValue = 'netpath.tunnel';
        return item;
      }
      case 'vtep': {
        const item = new vscode.TreeItem(n.peer ?? n.dst, C.None);
        item.description = `${n.mac} → ${n.dst}`;
        item.iconPath = new vscode.ThemeIcon('arrow-right');
        item.tooltip = tip([`${n.tunnel} sends frames for ${n.mac} to the VTEP at ${n.dst}${n.peer ? ` (${n.peer})` : ''}`]);
        return item;
      }
      case 'routes': {
        const item = new vscode.TreeItem('routes', C.Collapsed);
        item.description = `${n.count}`;
        item.iconPath = new vscode.ThemeIcon('list-tree');
        return item;
      }
      case 'route': {
        const item = new vscode.TreeItem(n.text, C.None);
        item.tooltip = tip([`${n.node} routes4 line ${n.line}`, n.text]);
        item.iconPath = new vscode.ThemeIcon('arrow-small-right');
        return item;
      }
      case 'bond':
      case 'slave':
      case 'lower':
      case 'vlan':
      case 'macvlan': {
        // Label, description and tooltip come from the pure model (tested there); the icon and state here.
        const t = deviceText(n);
        const state = n.kind === 'slave' || n.kind === 'macvlan' || (n.kind === 'vlan' && n.uppers === 0) ? C.None : n.kind === 'bond' && n.slaves === 0 ? C.Collapsed : C.Expanded;
        const item = new vscode.TreeItem(t.label, state);
        item.description = t.description;
        const icon = { bond: 'link', slave: n.kind === 'slave' && n.state === 'ACTIVE' ? 'pass-filled' : 'circle-large-outline', lower: 'symbol-interface', vlan: 'tag', macvlan: 'type-hierarchy-sub' }[n.kind];
        item.iconPath = warn ?? new vscode.ThemeIcon(icon);
        item.tooltip = tip([...t.tooltip, ...problems.map((p) => `⚠ ${p.text}`)]);
        item.contextValue = `netpath.${n.kind}`;
        return item;
      }
      case 'message': {
        const item = new vscode.TreeItem(n.text, C.None);
        item.iconPath = new vscode.ThemeIcon('info');
        return item;
      }
    }
  }

  dispose(): void {
    this.sub.dispose();
    this.changed.dispose();
  }
}
