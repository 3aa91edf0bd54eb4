// The active source of network data: a capture file, or a live cluster read lazily through the
// collector. Views and commands ask it; it caches, and tells them when its data changed.
import * as vscode from 'vscode';
import { parseCapture, serializeCapture, type Capture } from '../capture/document';
import { buildNetwork, simulate, type Network, type TraceOutcome, type TraceRequest } from '../engine';
import type { ClusterApi } from '../kube/api';
import { ClusterCollector, type ApiNote, type HostReport } from '../kube/collector';
import type { NetpathConfig } from './config';
import { textIdentity } from './model/history';
import { sourceLabel, type SourceKind } from './lastSource';

export type { SourceKind };

export interface TraceAnswer {
  outcome: TraceOutcome;
  reports: HostReport[];
  /** Lists of the cluster's objects left out (RBAC, an API the cluster does not serve). */
  notes: ApiNote[];
}

export class DataSource implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private current: SourceKind = { kind: 'none' };
  private capture: Capture | undefined;
  /** The file's own text, when the capture was read from a file (evidence is found in it as written). */
  private fileText: string | undefined;
  private network: Network | undefined;
  private collector: ClusterCollector | undefined;
  /**
   * Which capture is loaded, for the path view's history: a file by its content (reopening an
   * unchanged file is the same capture), a cluster by its context and when it was (re)connected.
   */
  captureId: string | undefined;

  constructor(
    private config: NetpathConfig,
    private readonly connect: (c: NetpathConfig) => Promise<ClusterApi>,
  ) {}

  get kind(): SourceKind {
    return this.current;
  }

  get label(): string {
    return this.labelOf(this.current);
  }

  /** How a source is named in the status bar and the path view (lastSource.ts). */
  labelOf(k: SourceKind): string {
    return sourceLabel(k, this.extensionUri);
  }

  /** Set by the extension, to recognise its bundled files. */
  extensionUri: vscode.Uri | undefined;

  /** The data as it stands (a live cluster: what has been read so far). Never waits. */
  snapshot(): { capture: Capture; network: Network } | undefined {
    if (!this.capture) return undefined;
    this.network ??= buildNetwork(this.capture);
    return { capture: this.capture, network: this.network };
  }

  async openFile(uri: vscode.Uri): Promise<{ ok: true; warnings: string[] } | { ok: false; errors: string[] }> {
    const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
    const loaded = parseCapture(text);
    if (!loaded.ok) return { ok: false, errors: loaded.errors.map((e) => `${e.path}: ${e.message}`) };
    this.collector = undefined;
    this.current = { kind: 'file', uri };
    this.captureId = `file:${textIdentity(text)}`;
    this.setCapture(loaded.capture, text);
    return { ok: true, warnings: loaded.warnings.map((w) => `${w.path}: ${w.message}`) };
  }

  /** Connects to a cluster: lists its nodes and pods (no exec yet). */
  async useCluster(context: string | undefined, token?: vscode.CancellationToken): Promise<void> {
    const api = await this.connect({ ...this.config, context: context ?? this.config.context });
    this.collector = this.makeCollector(api);
    this.current = { kind: 'cluster', context: api.context };
    this.captureId = `cluster:${api.context}@${Date.now()}`;
    const sk = await this.collector.skeleton(signalOf(token));
    this.setCapture(sk.capture);
  }

  private makeCollector(api: ClusterApi): ClusterCollector {
    const c = this.config;
    return new ClusterCollector(api, { nodeAccess: c.nodeAccess, debugImage: c.debugImage, execTimeoutMs: c.execTimeoutSeconds * 1000, concurrency: c.concurrency });
  }

  updateConfig(c: NetpathConfig): void {
    this.config = c;
  }

  private setCapture(c: Capture, fileText?: string): void {
    this.capture = c;
    this.fileText = fileText;
    this.network = undefined;
    this.changed.fire();
  }

  /** Reads one host's tables from the cluster (for the tree); a capture file has them all already. */
  async loadHost(name: string, token?: vscode.CancellationToken): Promise<HostReport | undefined> {
    if (!this.collector) return undefined;
    const [report] = await this.collector.collect([name], { signal: signalOf(token) });
    this.setCapture(await this.collector.currentCapture(signalOf(token)));
    return report;
  }

  async trace(req: TraceRequest, token?: vscode.CancellationToken): Promise<TraceAnswer> {
    if (this.collector) {
      const r = await this.collector.trace(req, signalOf(token));
      this.setCapture(r.capture);
      return { outcome: r.outcome, reports: r.reports, notes: r.notes };
    }
    const snap = this.snapshot();
    if (!snap) return { outcome: { ok: false, error: 'No network data yet: open a capture (netpath: Open Network Capture...) or select a cluster context.' }, reports: [], notes: [] };
    return { outcome: simulate(snap.network, req), reports: [], notes: [] };
  }

  /** Forgets cached tables and reloads. */
  async refresh(token?: vscode.CancellationToken): Promise<void> {
    const k = this.current;
    if (k.kind === 'file') await this.openFile(k.uri);
    else if (k.kind === 'cluster' && this.collector) {
      this.collector.refresh();
      this.captureId = `cluster:${k.context}@${Date.now()}`;
      this.setCapture((await this.collector.skeleton(signalOf(token))).capture);
    }
  }

  /**
   * The capture's text as it stands: a file's own text (with its file), or a live cluster's capture
   * as collected so far, serialized. What a trace computed now was computed from.
   */
  captureText(): { text: string; file?: vscode.Uri } | undefined {
    if (!this.capture) return undefined;
    if (this.fileText !== undefined && this.current.kind === 'file') return { text: this.fileText, file: this.current.uri };
    return { text: serializeCapture(this.capture) };
  }

  serialized(): string | undefined {
    return this.capture ? serializeCapture(this.capture) : undefined;
  }

  dispose(): void {
    void this.collector?.dispose();
    this.changed.dispose();
  }
}

function signalOf(token: vscode.CancellationToken | undefined): AbortSignal | undefined {
  if (!token) return undefined;
  const ac = new AbortController();
  if (token.isCancellationRequested) ac.abort();
  token.onCancellationRequested(() => ac.abort());
  return ac.signal;
}
