// Open / Save Network Capture, Load Demo Capture, Select Context, Refresh.
import * as vscode from 'vscode';
import { showError, showWarning } from '../notify';
import { summarizeCapture } from '../../capture/summary';
import { CapturePanel } from '../panels/capturePanel';
import { loadKube } from '../kubeModule';
import { KubeError } from '../../kube/api';
import type { NetpathConfig } from '../config';
import type { Ctx } from './context';

export async function openCaptureFile(ctx: Ctx, uri: vscode.Uri, opts: { overview?: boolean; preserveFocus?: boolean } = {}): Promise<boolean> {
  let r;
  try {
    r = await ctx.source.openFile(uri);
  } catch (e) {
    void showError(`netpath: cannot read ${uri.fsPath}: ${e instanceof Error ? e.message : String(e)}`);
    return false;
  }
  if (!r.ok) {
    ctx.output.appendLine(`${uri.fsPath} is not a valid netpath capture:`);
    for (const e of r.errors) ctx.output.appendLine(`  ${e}`);
    void showError(`netpath: ${uri.fsPath} is not a valid capture (${r.errors[0]}). Details are in the netpath output.`);
    return false;
  }
  for (const w of r.warnings) ctx.output.appendLine(`${uri.fsPath}: ${w}`);
  // An overview of what was loaded: hosts, roles, probes and parse issues.
  const snap = ctx.source.snapshot();
  if (snap && opts.overview !== false) CapturePanel.show(ctx.extensionUri, { type: 'showCapture', source: uri.fsPath, summary: summarizeCapture(snap.capture, []) }, { preserveFocus: opts.preserveFocus === true });
  return true;
}

export async function openCapture(ctx: Ctx): Promise<boolean> {
  const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'netpath capture': ['json', 'gz'] }, title: 'Open Network Capture' });
  return picked?.[0] ? openCaptureFile(ctx, picked[0]) : false;
}

export function loadDemo(ctx: Ctx): Promise<boolean> {
  // Loading the demo is a side trip: the editor the user was in keeps the focus.
  return openCaptureFile(ctx, vscode.Uri.joinPath(ctx.extensionUri, 'examples', 'demo-flannel-vxlan.json'), { preserveFocus: true });
}

export async function saveCapture(ctx: Ctx): Promise<void> {
  const text = ctx.source.serialized();
  if (!text) {
    void showWarning('netpath: nothing to save yet: open a capture or trace in a cluster first.');
    return;
  }
  const uri = await vscode.window.showSaveDialog({ filters: { 'netpath capture': ['json'] }, title: 'Save Network Capture', saveLabel: 'Save Capture' });
  if (!uri) return;
  await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
  void vscode.window.showInformationMessage(`netpath: saved ${vscode.workspace.asRelativePath(uri)}`);
}

export async function selectContext(ctx: Ctx, config: NetpathConfig): Promise<boolean> {
  let names: string[];
  let current = '';
  try {
    const kc = (await loadKube(ctx.extensionUri)).loadKubeConfig({ kubeconfig: config.kubeconfig || undefined });
    names = kc.getContexts().map((c) => c.name);
    current = kc.getCurrentContext();
  } catch (e) {
    void showError(`netpath: ${e instanceof KubeError ? `${e.message}. ${e.hint}` : String(e)}`);
    return false;
  }
  if (names.length === 0) {
    void showError('netpath: the kubeconfig has no contexts. Set netpath.kubeconfig or KUBECONFIG.');
    return false;
  }
  const picked = await vscode.window.showQuickPick(
    names.map((n) => ({ label: n, description: n === current ? 'current' : '' })),
    { title: 'netpath: Select Context' },
  );
  if (!picked) return false;
  try {
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `netpath: connecting to ${picked.label}`, cancellable: true }, (_p, token) => ctx.source.useCluster(picked.label, token));
    return true;
  } catch (e) {
    void showError(`netpath: ${e instanceof KubeError ? `${e.message}. ${e.hint}` : e instanceof Error ? e.message : String(e)}`);
    return false;
  }
}

export async function refresh(ctx: Ctx): Promise<void> {
  try {
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'netpath: refreshing' }, (_p, token) => ctx.source.refresh(token));
  } catch (e) {
    void showError(`netpath: ${e instanceof KubeError ? `${e.message}. ${e.hint}` : String(e)}`);
  }
}
