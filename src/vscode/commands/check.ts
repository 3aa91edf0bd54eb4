// netpath: Check Cluster — the whole-cluster check (engine/clusterCheck.ts) on the loaded capture (a live
// cluster: every host read once first), stepped under a cancellable progress notification so the
// window stays responsive; the findings go to the Cluster Check tree and to the Problems panel, each
// at the capture line of its evidence (the capture file itself, or its read-only netpath-capture: copy).
import * as vscode from 'vscode';
import { startClusterCheck, type ClusterCheckReport } from '../../engine';
import type { CaptureDocuments } from '../captureDocuments';
import { lineAndCharacter, probeLineRange } from '../model/captureRange';
import { problemsOf } from '../model/checkFindings';
import { CHECK_VIEW, type CheckView } from '../views/checkView';
import type { Ctx } from './context';

/** Units (traces, or one node's table checks) between two progress reports and looks at the cancel button. */
const STEP = 100;

export interface CheckDeps {
  view: CheckView;
  diagnostics: vscode.DiagnosticCollection;
  captures: CaptureDocuments;
}

export async function checkCluster(ctx: Ctx, deps: CheckDeps): Promise<ClusterCheckReport | undefined> {
  if (!(await ctx.ensureSource())) return undefined;
  const report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'netpath: Check Cluster', cancellable: true }, async (progress, token) => {
    if (ctx.source.kind.kind === 'cluster') {
      progress.report({ message: 'reading every node and pod once' });
      const reports = await ctx.source.loadAll(token);
      const bad = reports.filter((r) => r.error);
      for (const r of bad) ctx.output.appendLine(`Check Cluster: ${r.host}: ${r.error!.message} (${r.error!.hint})`);
      if (token.isCancellationRequested) return undefined;
    }
    const snap = ctx.source.snapshot();
    if (!snap) return undefined;
    const run = startClusterCheck(snap.network);
    let shown = 0;
    for (;;) {
      if (token.isCancellationRequested) break;
      const finished = run.step(STEP);
      const pct = (100 * run.done) / Math.max(run.total, 1);
      progress.report({ increment: pct - shown, message: `${Math.floor(pct)}% of the traces and checks` });
      shown = pct;
      if (finished) break;
      // Let the window (and the cancel button) breathe between steps.
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
    }
    return run.report();
  });
  if (!report) return undefined;
  deps.view.show(report, ctx.source.label);
  await setProblems(ctx, deps, report);
  await vscode.commands.executeCommand(`${CHECK_VIEW}.focus`);
  const failed = report.failed.pod + report.failed.node + report.failed.service;
  const head = report.complete ? '' : 'Cancelled: what was found so far. ';
  const msg = `${head}netpath: ${failed ? `${failed} pair${failed === 1 ? '' : 's'} not delivered, ${report.groups.length} cause${report.groups.length === 1 ? '' : 's'}` : 'every pair traced is delivered'}; the tables show ${report.tables.length || 'nothing wrong'}${report.tables.length ? ` finding${report.tables.length === 1 ? '' : 's'}` : ''}.`;
  if (failed || report.tables.length) void vscode.window.showWarningMessage(msg);
  else void vscode.window.showInformationMessage(msg);
  return report;
}

/** Captures above this size are not read again to place problems on their lines. */
const PROBLEM_LINES_MAX_BYTES = 64 * 1024 * 1024;

/** Each finding in the Problems panel, on the capture line of its evidence. */
async function setProblems(ctx: Ctx, deps: CheckDeps, report: ClusterCheckReport): Promise<void> {
  deps.diagnostics.clear();
  const captured = ctx.source.captureText();
  const ref = ctx.captureRef();
  if (!captured || !ref) return;
  const uri = 'file' in captured ? captured.file : deps.captures.uriOf(ref);
  // A file is read again for the lines (unless it is too big to hold as one text: then each problem
  // sits on the first line and names its evidence in its message).
  const size = 'file' in captured ? (await vscode.workspace.fs.stat(captured.file).then((s) => s.size, () => Infinity)) : 0;
  const got = size <= PROBLEM_LINES_MAX_BYTES ? await deps.captures.textOf(ref) : undefined;
  const text = got?.ok ? got.text : undefined;
  const diags = problemsOf(report).map((p) => {
    let range = new vscode.Range(0, 0, 0, 0);
    if (p.at && text !== undefined) {
      const found = probeLineRange(text, p.at.host, p.at.probe, p.at.line);
      if (found.ok) {
        const a = lineAndCharacter(text, found.range.start);
        const b = lineAndCharacter(text, found.range.end);
        range = new vscode.Range(a.line, a.character, b.line, b.character);
      }
    }
    const d = new vscode.Diagnostic(range, p.message, p.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning);
    d.source = 'netpath check';
    d.code = p.code;
    return d;
  });
  deps.diagnostics.set(uri, diags);
}

/** A pair row of the tree: trace it in the path view. */
export function pairArg(arg: unknown): { from: string; to: string } | undefined {
  if (!arg || typeof arg !== 'object') return undefined;
  const a = arg as { from?: unknown; to?: unknown };
  return typeof a.from === 'string' && typeof a.to === 'string' ? { from: a.from, to: a.to } : undefined;
}
