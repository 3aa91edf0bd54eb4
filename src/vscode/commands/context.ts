// What every command gets: the data source, output, status bar, and a few shared actions.
import * as vscode from 'vscode';
import type { CaptureRef, EvidenceRef } from '../../shared/protocol';
import type { TraceStore } from '../panels/tracePanel';
import type { DataSource } from '../source';

export interface Ctx {
  extensionUri: vscode.Uri;
  source: DataSource;
  output: vscode.OutputChannel;
  /** Makes sure some data is loaded, asking the user where from if not. */
  ensureSource(): Promise<boolean>;
  /** Opens the capture a trace was computed from (read-only) at an evidence line. */
  revealEvidence(ref: EvidenceRef, capture: CaptureRef | undefined): Promise<void>;
  /** Holds the capture text as it stands and returns the reference a trace computed now keeps. */
  captureRef(): CaptureRef | undefined;
  /** The workspace's record of the last trace shown (restored after a window reload). */
  traceStore: TraceStore;
}
