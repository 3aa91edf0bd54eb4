// Trace Pod Path: pick a source and a destination (and optionally the packet), trace with progress
// and cancel, and show the result in the path view.
import * as vscode from 'vscode';
import { showError, showWarning } from '../notify';
import { Addr } from '../../net/addr';
import type { Network, TraceRequest } from '../../engine';
import { isServiceRef, listServices, resolveServiceRef, serviceIndexOf } from '../../engine/services';
import { traceHosts, type ShowTrace } from '../../shared/protocol';
import { destinationEntries, sourceEntries, sourceEntriesExcept, typedAddressEntry, type PickEntry } from '../model/picks';
import type { Capture } from '../../capture/document';
import { isLoaded } from '../model/history';
import { reverseRequest } from '../model/reverse';
import { TracePanel, type TracePanelOptions } from '../panels/tracePanel';
import type { Ctx } from './context';

type Item = vscode.QuickPickItem & { entry?: PickEntry };
type Packet = Pick<TraceRequest, 'size' | 'proto' | 'port'>;

function toItems(entries: PickEntry[]): Item[] {
  return entries.map((e) => (e.kind === 'separator' ? { label: e.label, kind: vscode.QuickPickItemKind.Separator } : { label: e.label, description: e.description, ...((e.kind === 'host' || e.kind === 'service') && e.detail ? { detail: e.detail } : {}), entry: e }));
}

/** A Service port's packet: its protocol (TCP, UDP or SCTP) and port. */
function servicePacket(p: { proto: 'tcp' | 'udp' | 'sctp'; port: number }): Packet {
  return { size: 64, proto: p.proto, port: p.port };
}

/** A Service given by reference (a hover's "Trace to this port"): the packet its port takes. */
function presetPacket(net: Network, ref: string): Packet | undefined {
  if (!isServiceRef(ref)) return undefined;
  const r = resolveServiceRef(serviceIndexOf(net), ref);
  return r.ok ? servicePacket({ proto: r.value.proto, port: r.value.port }) : undefined;
}

/**
 * A quick pick of trace endpoints. Typing an address adds "Trace to <ip>" (or "from") at the top, also
 * for an address no host has, so a user who knows the IP need not find the row that has it.
 */
async function pickEndpoint(title: string, entries: PickEntry[], direction: 'from' | 'to', capture: Capture): Promise<{ ref: string; packet?: Packet | undefined } | undefined> {
  const qp = vscode.window.createQuickPick<Item>();
  qp.title = title;
  qp.matchOnDescription = true;
  qp.matchOnDetail = true;
  // One step of a multi-step flow (from, to, packet): a panel that finishes loading behind it (the
  // capture overview Load Demo Capture opens without taking the focus) must not cancel it.
  qp.ignoreFocusOut = true;
  qp.placeholder = direction === 'to' ? 'pod name, namespace, node, Service, or type an IP address' : 'pod name, namespace, node, or type an IP address';
  const base = toItems(entries);
  qp.items = base;
  const picked = await new Promise<Item | undefined>((resolve) => {
    const subs = [
      qp.onDidChangeValue((v) => {
        const typed = typedAddressEntry(v, direction, capture);
        if (!typed) {
          if (qp.items !== base) qp.items = base;
          return;
        }
        const item: Item = { ...toItems([typed])[0]!, alwaysShow: true };
        qp.items = [item, ...base];
        qp.activeItems = [item];
      }),
      qp.onDidAccept(() => {
        resolve(qp.selectedItems[0] ?? qp.activeItems[0]);
        qp.hide();
      }),
      qp.onDidHide(() => {
        resolve(undefined);
        for (const d of subs) d.dispose();
        qp.dispose();
      }),
    ];
    qp.show();
  });
  if (!picked?.entry) return undefined;
  if (picked.entry.kind === 'custom-ip') {
    const ip = await vscode.window.showInputBox({ title, prompt: `${direction === 'to' ? 'Destination' : 'Source'} IP address (IPv4 or IPv6)`, validateInput: (v) => (Addr.parse(v.trim()).ok ? undefined : 'Not an IP address') });
    return ip === undefined ? undefined : { ref: ip.trim() };
  }
  if (picked.entry.kind === 'service') return { ref: picked.entry.ref, packet: servicePacket(picked.entry.packet) };
  return picked.entry.kind === 'host' || picked.entry.kind === 'typed-ip' ? { ref: picked.entry.ref } : undefined;
}

/** The packet: ICMP 64 bytes (a Service port's protocol and port) unless the user changes it. Returns undefined when cancelled. */
async function pickPacket(initial: Packet = { size: 64, proto: 'icmp' }): Promise<Packet | undefined> {
  const packet: Packet = { ...initial };
  for (;;) {
    const describe = `${packet.proto!.toUpperCase()}${packet.port !== undefined ? ` port ${packet.port}` : ''}, ${packet.size} bytes, DF`;
    const choice = await vscode.window.showQuickPick(
      [
        { label: `$(play) Trace (${describe})`, id: 'go' },
        { label: '$(symbol-numeric) Packet size...', id: 'size' },
        { label: '$(plug) TCP port...', id: 'tcp' },
        { label: '$(plug) UDP port...', id: 'udp' },
        { label: '$(plug) SCTP port...', id: 'sctp' },
        { label: '$(pulse) ICMP', id: 'icmp' },
      ],
      { title: 'Packet', placeHolder: describe },
    );
    if (!choice) return undefined;
    if (choice.id === 'go') return packet;
    if (choice.id === 'icmp') {
      packet.proto = 'icmp';
      delete packet.port;
    } else if (choice.id === 'size') {
      const v = await vscode.window.showInputBox({ title: 'IP packet size in bytes (DF set)', value: String(packet.size), validateInput: (s) => (/^\d+$/.test(s) && Number(s) >= 20 && Number(s) <= 65535 ? undefined : '20 to 65535 bytes') });
      if (v !== undefined) packet.size = Number(v);
    } else {
      const v = await vscode.window.showInputBox({ title: `${choice.id.toUpperCase()} destination port`, validateInput: (s) => (/^\d+$/.test(s) && Number(s) >= 1 && Number(s) <= 65535 ? undefined : '1 to 65535') });
      if (v !== undefined) {
        packet.proto = choice.id as 'tcp' | 'udp' | 'sctp';
        packet.port = Number(v);
      }
    }
  }
}

export async function tracePodPath(ctx: Ctx, preset: { from?: string; to?: string; packet?: Packet } = {}): Promise<void> {
  if (!(await ctx.ensureSource())) return;
  const snap = ctx.source.snapshot();
  if (!snap) return;
  // "Trace to this pod": the destination is fixed, so the source pick names it and does not offer it.
  const from = preset.from ?? (await pickEndpoint(preset.to !== undefined ? `Trace Pod Path: from … to ${preset.to}` : 'Trace Pod Path: from', preset.to !== undefined ? sourceEntriesExcept(snap.capture, preset.to) : sourceEntries(snap.capture), 'from', snap.capture))?.ref;
  if (!from) return;
  const dest = preset.to !== undefined ? { ref: preset.to, packet: presetPacket(snap.network, preset.to) } : await pickEndpoint(`Trace Pod Path: ${from} to`, destinationEntries(snap.capture, from, listServices(serviceIndexOf(snap.network))), 'to', snap.capture);
  if (!dest) return;
  const to = dest.ref;
  const packet = preset.packet ?? (preset.from !== undefined && preset.to !== undefined ? { size: 64, proto: 'icmp' as const } : await pickPacket(dest.packet));
  if (!packet) return;
  await runTrace(ctx, { from, to, ...packet });
}

/** What the path view needs from the extension: evidence lines, the stores, the loaded capture, the reverse trace. */
export function tracePanelOptions(ctx: Ctx): TracePanelOptions {
  return {
    revealEvidence: (ref, capture) => ctx.revealEvidence(ref, capture),
    store: ctx.traceStore,
    loadedCapture: () => ctx.source.captureId,
    reverse: (shown) => reverseTrace(ctx, shown),
  };
}

/** netpath: Compare Traces: two traces of the path view's history side by side. */
export function compareTraces(ctx: Ctx): Promise<void> {
  return TracePanel.compare(ctx.extensionUri, tracePanelOptions(ctx));
}

/**
 * The path view's Reverse: the shown trace's packet from its destination back to its source (see
 * model/reverse.ts), traced on the capture loaded now, and shown (it enters the history).
 */
export async function reverseTrace(ctx: Ctx, shown: ShowTrace): Promise<void> {
  if (!(await ctx.ensureSource())) return;
  const r = reverseRequest(shown);
  const elsewhere = isLoaded(shown, ctx.source.captureId) ? '' : ` The trace reversed was computed on ${shown.source}, a capture no longer loaded; this one is traced on ${ctx.source.label}.`;
  await runTrace(ctx, r.request, `${r.note}${elsewhere}`);
}

/** Traces `req` on the loaded capture (or cluster) with progress and cancel, and shows it in the path view. */
export async function runTrace(ctx: Ctx, req: TraceRequest, note?: string): Promise<void> {
  const { from, to } = req;
  const answer = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `netpath: tracing ${from} → ${to}`, cancellable: true }, (progress, token) => {
    progress.report({ message: ctx.source.kind.kind === 'cluster' ? 'reading the hosts on the path' : 'tracing' });
    return ctx.source.trace(req, token).catch((e: unknown) => {
      if (token.isCancellationRequested) return undefined;
      throw e;
    });
  });
  if (!answer) return;
  // Lists RBAC refused: the trace goes on without them (no Services, say), and the user learns what to grant.
  for (const n of answer.notes) ctx.output.appendLine(`cluster: ${n.message}`);
  if (answer.notes.length) void showWarning(`netpath: ${answer.notes.length} kind(s) of cluster object could not be listed (${answer.notes.map((n) => n.resource).join(', ')}); details in the netpath output.`);
  for (const r of answer.reports.filter((x) => x.error || x.missing.length)) {
    ctx.output.appendLine(r.error ? `${r.host}: ${r.error.message} (${r.error.hint})` : `${r.host}: could not read ${r.missing.map((m) => `${m.probe} (${m.why})`).join(', ')}`);
  }
  if (!answer.outcome.ok) {
    void showError(`netpath: ${answer.outcome.error}`);
    return;
  }
  const trace = answer.outcome.result;
  const failures = answer.reports.filter((x) => x.error && !x.inferred);
  if (failures.length) void showWarning(`netpath: ${failures.length} host(s) could not be read (${failures.map((f) => f.host).join(', ')}); details in the netpath output.`);
  const capture = ctx.source.snapshot()?.capture;
  const captureRef = ctx.captureRef();
  TracePanel.show(
    ctx.extensionUri,
    {
      type: 'showTrace',
      trace,
      source: ctx.source.label,
      request: req,
      hosts: capture ? traceHosts(trace, capture.hosts) : [],
      shownAt: Date.now(),
      ...(captureRef ? { capture: captureRef } : {}),
      ...(ctx.source.captureId !== undefined ? { captureId: ctx.source.captureId } : {}),
      ...(note !== undefined ? { note } : {}),
    },
    tracePanelOptions(ctx),
  );
}
