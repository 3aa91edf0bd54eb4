// The capture a trace was computed from, opened read-only where its evidence is. Each trace keeps a
// CaptureRef (digest, name, file); the text itself is held here, under its digest, served by a
// TextDocumentContentProvider of its own scheme (so the editor cannot change it). Loading another
// capture does not change what an older trace's evidence opens. After a window reload only the
// file is known: it is read again and used only if its digest is still the same.
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import * as vscode from 'vscode';
import type { CaptureRef, EvidenceRef } from '../shared/protocol';
import { lineAndCharacter, probeLineRange } from './model/captureRange';

export const CAPTURE_SCHEME = 'netpath-capture';

/** How many capture texts are held (most recently used first kept); older traces fall back to their file. */
const KEEP = 8;

/** sha256 (32 hex digits) of a text collected from a cluster, or of a file's bytes as stored. */
export function digestOf(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex').slice(0, 32);
}

export class CaptureDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly texts = new Map<string, string>();

  /**
   * The reference a trace keeps: of a capture collected from a cluster, whose text is held here (it
   * cannot be read again); or of a file, by the digest of its bytes, read again when its evidence is
   * shown (a file of hundreds of MiB is not kept in memory for every trace).
   */
  remember(from: { text: string } | { file: vscode.Uri; digest: string }, name: string): CaptureRef {
    if ('file' in from) return { digest: from.digest, name: safeName(name), file: from.file.toString() };
    const digest = digestOf(from.text);
    this.hold(digest, from.text);
    return { digest, name: safeName(name) };
  }

  private hold(digest: string, text: string): void {
    this.texts.delete(digest);
    this.texts.set(digest, text);
    while (this.texts.size > KEEP) this.texts.delete(this.texts.keys().next().value!);
  }

  uriOf(ref: CaptureRef): vscode.Uri {
    return vscode.Uri.from({ scheme: CAPTURE_SCHEME, path: `/${ref.digest}/${safeName(ref.name)}` });
  }

  provideTextDocumentContent(uri: vscode.Uri): string | undefined {
    return this.texts.get(uri.path.split('/')[1] ?? '');
  }

  /** The text of the capture `ref` names, or why it is not available any more. */
  async textOf(ref: CaptureRef): Promise<{ ok: true; text: string } | { ok: false; reason: string }> {
    const held = this.texts.get(ref.digest);
    if (held !== undefined) return { ok: true, text: held };
    if (ref.file === undefined) return { ok: false, reason: `the capture this trace was computed from (${ref.name}) was collected from a cluster and is no longer held (a window reload forgets it). Trace again to see the evidence.` };
    const uri = vscode.Uri.parse(ref.file);
    let bytes: Uint8Array;
    try {
      bytes = await vscode.workspace.fs.readFile(uri);
    } catch (e) {
      return { ok: false, reason: `the capture this trace was computed from, ${uri.fsPath}, cannot be read any more (${e instanceof Error ? e.message : String(e)}).` };
    }
    if (digestOf(bytes) !== ref.digest) return { ok: false, reason: `${uri.fsPath} has changed since this trace was computed from it, so its line numbers may not match. Trace again to see the evidence.` };
    // A gzip-compressed capture is shown as the JSON it holds.
    const text = new TextDecoder().decode(bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes);
    this.hold(ref.digest, text);
    return { ok: true, text };
  }

  /**
   * Opens the capture read-only beside the trace with the evidence's line selected (the characters of
   * that line inside the probe's JSON string) and centred. Returns an error sentence instead when it cannot.
   */
  async reveal(ref: CaptureRef, ev: EvidenceRef): Promise<string | undefined> {
    const got = await this.textOf(ref);
    if (!got.ok) return `netpath: cannot show ${ev.host} ${ev.probe}:${ev.line}: ${got.reason}`;
    const found = probeLineRange(got.text, ev.host, ev.probe, ev.line);
    if (!found.ok) return `netpath: cannot show ${ev.host} ${ev.probe}:${ev.line} in ${ref.name}: ${found.reason}.`;
    const doc = await vscode.workspace.openTextDocument(this.uriOf(ref));
    const [a, b] = [lineAndCharacter(got.text, found.range.start), lineAndCharacter(got.text, found.range.end)];
    const selection = new vscode.Selection(a.line, a.character, b.line, b.character);
    const editor = await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false, preview: true, selection });
    editor.revealRange(selection, vscode.TextEditorRevealType.InCenter);
    return undefined;
  }

  dispose(): void {
    this.texts.clear();
  }
}

/** The tab's name: the capture's file name, or a name made of safe characters. */
function safeName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? name;
  const clean = base.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
  return clean.endsWith('.json') ? clean : `${clean || 'capture'}.json`;
}
