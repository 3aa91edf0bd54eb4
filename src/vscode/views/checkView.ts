// The Cluster Check tree: the last Check Cluster's findings (model/checkFindings.ts), a cause -> the
// pairs it fails, then the tables' own findings. A pair row traces that pair in the path view.
import * as vscode from 'vscode';
import type { ClusterCheckReport } from '../../engine';
import { childNodes, rootNodes, type FindingNode } from '../model/checkFindings';

export const CHECK_VIEW = 'netpath.check';
/** The command a pair row runs (registered by extension.ts; hidden from the palette). */
export const TRACE_PAIR_COMMAND = 'netpath.checkTracePair';

export class CheckView implements vscode.TreeDataProvider<FindingNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<FindingNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private report: ClusterCheckReport | undefined;
  /** The source the report was computed on (the status bar's words), shown beside the summary. */
  private source = '';

  show(r: ClusterCheckReport | undefined, source = ''): void {
    this.report = r;
    this.source = source;
    this.changed.fire(undefined);
  }

  getChildren(parent?: FindingNode): FindingNode[] {
    if (!this.report) return [];
    return parent ? childNodes(this.report, parent) : rootNodes(this.report);
  }

  getTreeItem(n: FindingNode): vscode.TreeItem {
    const C = vscode.TreeItemCollapsibleState;
    switch (n.kind) {
      case 'summary': {
        const item = new vscode.TreeItem(n.text, C.None);
        if (this.source) item.description = `on ${this.source}`;
        item.tooltip = this.source ? `Checked on ${this.source}.\n${n.tooltip}` : n.tooltip;
        item.iconPath = new vscode.ThemeIcon('pulse');
        item.contextValue = 'netpath.checkSummary';
        return item;
      }
      case 'group': {
        const item = new vscode.TreeItem(n.label, C.Collapsed);
        item.description = n.description;
        item.tooltip = n.tooltip;
        item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('problemsErrorIcon.foreground'));
        item.contextValue = 'netpath.checkCause';
        return item;
      }
      case 'pair': {
        const item = new vscode.TreeItem(n.label, C.None);
        item.description = n.description;
        item.tooltip = `Trace ${n.from} → ${n.to}`;
        item.iconPath = new vscode.ThemeIcon('arrow-right');
        item.command = { command: TRACE_PAIR_COMMAND, title: 'Trace this pair', arguments: [{ from: n.from, to: n.to }] };
        item.contextValue = 'netpath.checkPair';
        return item;
      }
      case 'more': {
        const item = new vscode.TreeItem(n.text, C.None);
        item.iconPath = new vscode.ThemeIcon('ellipsis');
        return item;
      }
      case 'tables': {
        const item = new vscode.TreeItem(n.count ? `What the tables show: ${n.count}` : 'What the tables show: nothing wrong', n.count ? C.Expanded : C.None);
        item.iconPath = new vscode.ThemeIcon('table');
        item.contextValue = 'netpath.checkTables';
        return item;
      }
      case 'table': {
        const item = new vscode.TreeItem(n.label, C.None);
        item.description = n.description;
        item.tooltip = n.tooltip;
        item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'));
        item.contextValue = 'netpath.checkTable';
        return item;
      }
      case 'skipped': {
        const item = new vscode.TreeItem(n.label, C.None);
        item.description = n.description;
        item.tooltip = n.description;
        item.iconPath = new vscode.ThemeIcon('circle-slash');
        return item;
      }
    }
  }

  dispose(): void {
    this.changed.dispose();
  }
}
