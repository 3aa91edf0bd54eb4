// What every command gets: the data source, output, status bar, and a few shared actions.
import * as vscode from 'vscode';
import type { EvidenceRef } from '../../shared/protocol';
import type { TraceStore } from '../panels/tracePanel';
import type { DataSource } from '../source';

export interface Ctx {
  extensionUri: vscode.Uri;
  source: DataSource;
  output: vscode.OutputChannel;
  /** Makes sure some data is loaded, asking the user where from if not. */
  ensureSource(): Promise<boolean>;
  revealEvidence(ref: EvidenceRef): Promise<void>;
  /** The workspace's record of the last trace shown (restored after a window reload). */
  traceStore: TraceStore;
}
