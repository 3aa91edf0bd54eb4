// Policy Matrix: pick a namespace (or every pod) and a port, see who may talk to whom (the policy
// engine's matrix), click a cell for the policies and rules behind it, and trace that pair.
import * as vscode from 'vscode';
import { showError } from '../notify';
import { kubernetesOf } from '../../capture/document';
import { policyIndexOf, policyMatrixWith } from '../../engine/policy';
import { matrixDetails, matrixView } from '../model/matrix';
import { MatrixPanel } from '../panels/matrixPanel';
import type { Ctx } from './context';
import { tracePodPath } from './trace';

export async function policyMatrixCommand(ctx: Ctx): Promise<void> {
  if (!(await ctx.ensureSource())) return;
  const snap = ctx.source.snapshot();
  if (!snap) return;
  const kube = kubernetesOf(snap.capture);
  const idx = policyIndexOf(kube);
  const pods = idx.cluster.pods;
  if (pods.length === 0) {
    void vscode.window.showInformationMessage('netpath: the capture lists no pods from the API (its kubernetes section), so there is no policy matrix to show.');
    return;
  }
  const byNs = new Map<string, number>();
  for (const p of pods) byNs.set(p.namespace, (byNs.get(p.namespace) ?? 0) + 1);
  const items: (vscode.QuickPickItem & { ns?: string })[] = [
    ...[...byNs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([ns, n]) => ({ label: ns, description: `${n} pod${n === 1 ? '' : 's'}`, ns })),
    { label: 'All pods', description: `${pods.length} pods` },
  ];
  const pick = await vscode.window.showQuickPick(items, { title: 'Policy Matrix: which pods', placeHolder: 'a namespace, or all pods' });
  if (!pick) return;
  const portText = await vscode.window.showInputBox({ title: 'Policy Matrix: TCP port', prompt: 'A port number or a container port name; empty for no port (rules that name ports then match nothing)', validateInput: (v) => (v.trim() === '' || /^\d+$/.test(v.trim()) ? (v.trim() === '' || (Number(v) >= 1 && Number(v) <= 65535) ? undefined : '1 to 65535') : /^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/i.test(v.trim()) ? undefined : 'a port number or a container port name') });
  if (portText === undefined) return;
  const t = portText.trim();
  const port = t === '' ? undefined : /^\d+$/.test(t) ? Number(t) : t;
  const out = policyMatrixWith(idx, { ...(pick.ns !== undefined ? { namespace: pick.ns } : {}), proto: 'TCP', ...(port !== undefined ? { port } : {}) });
  if (!out.ok) {
    void showError(`netpath: ${out.error}`);
    return;
  }
  const m = out.matrix;
  const source = ctx.source.kind.kind === 'cluster' ? `context ${ctx.source.kind.context}` : ctx.source.kind.kind === 'file' ? vscode.workspace.asRelativePath(ctx.source.kind.uri) : 'capture';
  const view = matrixView(m, pick.ns !== undefined ? `namespace ${pick.ns}` : 'all pods', source);
  MatrixPanel.show(ctx.extensionUri, view, {
    explain: (row, col) => matrixDetails(idx, m, row, col),
    trace: (row, col) => void tracePodPath(ctx, { from: m.rows[row]!, to: m.cols[col]!, packet: m.proto === 'ICMP' ? { size: 64, proto: 'icmp' } : { size: 64, proto: m.proto === 'UDP' ? 'udp' : m.proto === 'SCTP' ? 'sctp' : 'tcp', ...(m.port !== undefined ? { port: m.port } : {}) } }),
  });
}
