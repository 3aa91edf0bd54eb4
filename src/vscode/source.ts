// The active source of network data: a capture file, or a live cluster read lazily through the
// collector. Views and commands ask it; it caches, and tells them when its data changed.
import * as vscode from 'vscode';
import { parseCapture, serializeCapture, type Capture } from '../capture/document';
import { CaptureSourceError } from '../capture/lazy';
import { openCaptureFile } from '../node/captureFile';
import { digestOf } from './captureDocuments';
import { buildNetwork, simulate, type Network, type TraceOutcome, type TraceRequest } from '../engine';
import type { ClusterApi } from '../kube/api';
import { ClusterCollector, type ApiNote, type HostReport } from '../kube/collector';
import type { NetpathConfig } from './config';
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
  /**
   * When the capture was read from a file: the digest of its bytes (evidence is found in the file as
   * written, read again when asked for), and how to let the file go (its probe text is read from it
   * as traces need it).
   */
  private file: { digest: string; close(): void } | undefined;
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

  /**
   * Opens a capture file (JSON, or gzip-compressed JSON). A local file is streamed and its probe text
   * left on disk until a trace reads it (node/captureFile.ts): a 500-node capture is hundreds of MiB.
   */
  async openFile(uri: vscode.Uri): Promise<{ ok: true; warnings: string[] } | { ok: false; errors: string[] }> {
    let opened: { loaded: ReturnType<typeof parseCapture>; digest: string; close(): void };
    if (uri.scheme === 'file') {
      const o = await openCaptureFile(uri.fsPath, { digest: true });
      opened = { loaded: o.loaded, digest: o.digest!, close: o.close };
    } else {
      const bytes = await vscode.workspace.fs.readFile(uri);
      opened = { loaded: parseCapture(new TextDecoder().decode(bytes)), digest: digestOf(bytes), close: () => undefined };
    }
    const loaded = opened.loaded;
    if (!loaded.ok) {
      opened.close();
      return { ok: false, errors: loaded.errors.map((e) => `${e.path}: ${e.message}`) };
    }
    this.collector = undefined;
    this.current = { kind: 'file', uri };
    this.captureId = `file:${opened.digest}`;
    this.setCapture(loaded.capture, { digest: opened.digest, close: opened.close });
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

  private setCapture(c: Capture, file?: { digest: string; close(): void }): void {
    // Traces computed from the old capture keep their results; only its unread probe text goes.
    if (this.file !== file) this.file?.close();
    this.capture = c;
    this.file = file;
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

  /** A live cluster: every node's and pod's tables, each host read once (Check Cluster); a capture file has them all. */
  async loadAll(token?: vscode.CancellationToken): Promise<HostReport[]> {
    if (!this.collector || !this.capture) return [];
    const names = this.capture.hosts.filter((h) => !(h.role === 'pod' && h.hostNetwork)).map((h) => h.name);
    const reports = await this.collector.collect(names, { signal: signalOf(token), full: true });
    this.setCapture(await this.collector.currentCapture(signalOf(token), new Set(names)));
    return reports;
  }

  async trace(req: TraceRequest, token?: vscode.CancellationToken): Promise<TraceAnswer> {
    if (this.collector) {
      const r = await this.collector.trace(req, signalOf(token));
      this.setCapture(r.capture);
      return { outcome: r.outcome, reports: r.reports, notes: r.notes };
    }
    const snap = this.snapshot();
    if (!snap) return { outcome: { ok: false, error: 'No network data yet: open a capture (netpath: Open Network Capture...) or select a cluster context.' }, reports: [], notes: [] };
    try {
      return { outcome: simulate(snap.network, req), reports: [], notes: [] };
    } catch (e) {
      // The file's probe text is read as the trace needs it: a file changed on disk is said so.
      if (e instanceof CaptureSourceError) return { outcome: { ok: false, error: `${e.message} (netpath: Open Network Capture...)` }, reports: [], notes: [] };
      throw e;
    }
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
   * What a trace computed now is computed from: a file (by the digest of its bytes; its text is read
   * again when evidence is shown), or a live cluster's capture as collected so far, serialized.
   */
  captureText(): { file: vscode.Uri; digest: string } | { text: string } | undefined {
    if (!this.capture) return undefined;
    if (this.file && this.current.kind === 'file') return { file: this.current.uri, digest: this.file.digest };
    return { text: serializeCapture(this.capture) };
  }

  serialized(): string | undefined {
    return this.capture ? serializeCapture(this.capture) : undefined;
  }

  dispose(): void {
    this.file?.close();
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
