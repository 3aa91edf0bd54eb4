// Helpers shared by the netpath e2e tests: the Trace Pod Path quick-input flow, and reading the path
// view (webview/traceView.ts, diagram.ts, details.ts) out of its DOM. Only what a user sees is read:
// the diagram's hop boxes (their aria-labels say "Hop N of M: host, ..."), the verdict badge, the
// details pane with its evidence lines.
import type { Frame } from 'playwright-core';
import { escapeRegExp, type VsCode } from './harness';

/** Waits until the open quick input's title contains `text` (the widget is reused between prompts). */
export async function waitForQuickTitle(vs: VsCode, text: string, timeoutMs = 30_000): Promise<void> {
  const title = vs.page.locator('.quick-input-widget .quick-input-title');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const visible = await vs.page.locator('.quick-input-widget').isVisible().catch(() => false);
    const now = visible ? await title.innerText({ timeout: 1000 }).catch(() => '') : '';
    if (now.includes(text)) return;
    if (Date.now() > deadline) throw new Error(`the quick input's title did not become ${JSON.stringify(text)}; it is ${JSON.stringify(now)} (visible: ${visible})`);
    await vs.page.waitForTimeout(100);
  }
}

/** The description next to a quick-pick row's label (e.g. "10.244.0.3 on k8s-node1"). */
export async function quickItemDescription(vs: VsCode, label: string): Promise<string> {
  const row = vs.page.locator('.quick-input-widget .monaco-list-row').filter({ has: vs.page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(label)}\\s*$`) }) }).first();
  return (await row.locator('.label-description').innerText({ timeout: 5000 }).catch(() => '')).trim();
}

/**
 * Answers the packet quick pick of Trace Pod Path (title "Packet"): optionally sets the size through
 * "Packet size...", then accepts "Trace (...)". Returns the label it accepted.
 */
export async function acceptPacket(vs: VsCode, opts: { size?: number } = {}): Promise<string> {
  await waitForQuickTitle(vs, 'Packet');
  if (opts.size !== undefined) {
    await vs.pickQuickItem(/^\s*Packet size\.\.\.\s*$/);
    await waitForQuickTitle(vs, 'IP packet size');
    await vs.typeInQuickInput(String(opts.size));
    await vs.acceptQuickInput();
    // Back in the packet pick, which now describes the new size.
    await vs.page.locator('.quick-input-widget .monaco-list-row .label-name', { hasText: `${opts.size} bytes` }).first().waitFor({ timeout: 15_000 });
  }
  const trace = /^\s*Trace \(/;
  const row = vs.page.locator('.quick-input-widget .monaco-list-row .label-name', { hasText: trace }).first();
  await row.waitFor({ timeout: 15_000 });
  const label = (await row.innerText()).trim();
  await vs.pickQuickItem(trace);
  return label;
}

/**
 * Answers the quick inputs Trace Pod Path opens: the source pod (unless preset, `null`), the
 * destination pod (unless preset, `null`), then the packet.
 */
export async function pickTrace(vs: VsCode, from: { ns: string; pod: string } | null, to: { ns: string; pod: string } | null, opts: { size?: number } = {}): Promise<void> {
  if (from) {
    await waitForQuickTitle(vs, 'Trace Pod Path: from');
    await vs.typeInQuickInput(from.pod);
    await vs.pickQuickItem(from.pod);
  }
  if (to) {
    // The destination prompt's title names the source ("Trace Pod Path: default/web-0 to").
    await waitForQuickTitle(vs, ' to');
    await vs.typeInQuickInput(to.pod);
    await vs.pickQuickItem(to.pod);
  }
  await acceptPacket(vs, opts);
}

export interface PathHop {
  index: number;
  of: number;
  host: string;
}

export interface PathView {
  frame: Frame;
  /** The header's title, "web-0 → web-1". */
  title: string;
  /** The verdict badge's text ("delivered", "MTU exceeded") and its kind (delivered, drop, discarded). */
  verdict: string;
  verdictKind: string;
  /** "ICMP 10.244.0.3 → 10.244.1.3, 64 bytes, Don't Fragment" */
  flow: string;
  reason: string;
  /** The hop boxes of the (first) path, in hop order. */
  hops: PathHop[];
  /** The labels under the boxes where paths end ("delivered", "MTU exceeded at eth0"). */
  endLabels: string[];
}

// A path view rendered before markPathViewsStale() carries this attribute on its header (the
// webview replaces the header when it renders a new trace).
const HEAD = 'main.trace-view .trace-head:not([data-e2e-stale])';

/**
 * Marks what every open path view shows now as old, so that the next waitForPathView() waits for a
 * new render even when the new trace has the same title and packet (the panel is reused).
 */
export async function markPathViewsStale(vs: VsCode): Promise<void> {
  for (const frame of vs.page.frames()) {
    if (frame === vs.page.mainFrame()) continue;
    await frame.evaluate(`document.querySelectorAll('main.trace-view .trace-head').forEach((h) => h.setAttribute('data-e2e-stale', ''))`).catch(() => undefined);
  }
}

const frameHasTrace = async (frame: Frame, match: (title: string, flow: string, verdictClass: string) => boolean): Promise<boolean> => {
  const title = await frame.locator(`${HEAD} h1`).first().textContent({ timeout: 200 }).catch(() => null);
  if (title === null) return false;
  const flow = (await frame.locator(`${HEAD} .flow`).first().textContent({ timeout: 200 }).catch(() => null)) ?? '';
  const verdictClass = (await frame.locator(`${HEAD} .verdict`).first().getAttribute('class', { timeout: 200 }).catch(() => null)) ?? '';
  return match(title, flow, verdictClass);
};

/**
 * Waits for a webview that shows the path view with this title (and, with `flow`, a flow line
 * containing it: the panel is reused, so a second trace is told apart by its packet), and reads it.
 */
export async function waitForPathView(vs: VsCode, title: string, opts: { flow?: string; verdictKind?: string; timeoutMs?: number } = {}): Promise<PathView> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    for (const frame of vs.page.frames()) {
      if (frame === vs.page.mainFrame()) continue;
      if (await frameHasTrace(frame, (t, f, v) => t === title && (opts.flow === undefined || f.includes(opts.flow)) && (opts.verdictKind === undefined || v.split(/\s+/).includes(`verdict-${opts.verdictKind}`)))) {
        // The diagram is drawn in the same task as the header, but be sure the boxes are there.
        await frame.locator('svg.path-diagram g.hop').first().waitFor({ timeout: 10_000 });
        return readPathView(frame);
      }
    }
    if (Date.now() > deadline) {
      const seen = await Promise.all(vs.page.frames().map(async (f) => `${f.url().slice(0, 80)}: ${JSON.stringify(((await f.locator('body').innerText({ timeout: 500 }).catch(() => '')) ?? '').slice(0, 160))}`));
      throw new Error(`no path view titled ${JSON.stringify(title)}${opts.flow ? ` with ${JSON.stringify(opts.flow)}` : ''}; frames:\n${seen.join('\n')}`);
    }
    await vs.page.waitForTimeout(250);
  }
}

export async function readPathView(frame: Frame): Promise<PathView> {
  const text = (sel: string) => frame.locator(sel).first().innerText({ timeout: 5000 }).then((s) => s.trim());
  const verdictClass = (await frame.locator('.trace-head .verdict').first().getAttribute('class')) ?? '';
  const labels = await frame.locator('svg.path-diagram g.hop').evaluateAll((gs) => gs.map((g) => g.getAttribute('aria-label') ?? ''));
  const hops: PathHop[] = [];
  for (const l of labels) {
    const m = /^Hop (\d+) of (\d+): ([^,;]+)[,;]/.exec(l);
    if (m) hops.push({ index: Number(m[1]), of: Number(m[2]), host: m[3]!.trim() });
  }
  hops.sort((a, b) => a.index - b.index);
  return {
    frame,
    title: await text('.trace-head h1'),
    verdict: await text('.trace-head .verdict'),
    verdictKind: /\bverdict-(\w+)/.exec(verdictClass)?.[1] ?? '',
    flow: await text('.trace-head .flow'),
    reason: await text('.trace-head .reason'),
    hops,
    endLabels: (await frame.locator('svg.path-diagram .end-label').allTextContents()).map((s) => s.trim()),
  };
}

export interface DetailsPane {
  host: string;
  position: string;
  end: string;
  steps: string[];
  evidence: { loc: string; raw: string }[];
}

/** Clicks the hop box titled `host` in the diagram and waits for the details pane to show it. */
export async function selectHop(frame: Frame, host: string): Promise<DetailsPane> {
  const box = frame.locator('svg.path-diagram g.hop').filter({ has: frame.locator('text.box-title', { hasText: new RegExp(`^${escapeRegExp(host)}$`) }) }).first();
  await box.click();
  await frame.locator('.details .details-host', { hasText: new RegExp(`^${escapeRegExp(host)}$`) }).waitFor({ timeout: 10_000 });
  if ((await box.getAttribute('aria-pressed')) !== 'true') throw new Error(`the hop box ${host} is not marked selected after the click`);
  return readDetails(frame);
}

export async function readDetails(frame: Frame): Promise<DetailsPane> {
  const pane = frame.locator('section.details');
  const opt = (sel: string) => pane.locator(sel).first().innerText({ timeout: 1000 }).then((s) => s.trim(), () => '');
  const evidence = await pane.locator('.evidence li').evaluateAll((lis) =>
    lis.map((li) => ({ loc: (li.querySelector('.evidence-loc')?.textContent ?? '').trim(), raw: (li.querySelector('.evidence-raw')?.textContent ?? '').trim() })),
  );
  return {
    host: await opt('.details-host'),
    position: await opt('.details-position'),
    end: await opt('.details-end'),
    steps: (await pane.locator('.steps > li .step-kind').allTextContents()).map((s) => s.trim()),
    evidence,
  };
}

/**
 * Waits (up to `timeoutMs`) until no notification toast is showing, e.g. the "tracing" progress that
 * VS Code keeps on screen a moment after the trace finished; for clean screenshots. Never fails.
 */
export async function waitForToastsGone(vs: VsCode, timeoutMs = 10_000): Promise<void> {
  await vs.page.locator('.notifications-toasts .notification-toast').first().waitFor({ state: 'hidden', timeout: timeoutMs }).catch(() => undefined);
}

/**
 * Trace Pod Path web-0 -> web-1 from the palette. On this loaded machine a click on a quick-pick
 * row is now and then lost as the list redraws, and the command ends without the next prompt (the
 * quick input just closes); a user runs the command again, and so does this, once.
 */
export async function traceWeb0ToWeb1(vs: VsCode, opts: { size?: number } = {}): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await vs.runCommand('netpath: Trace Pod Path');
    try {
      await pickTrace(vs, { ns: 'default', pod: 'web-0' }, { ns: 'default', pod: 'web-1' }, opts);
      return;
    } catch (e) {
      if (attempt >= 2) throw e;
      console.log(`# the trace prompts did not go through (${e instanceof Error ? e.message : String(e)}); running the command again`);
      await vs.page.keyboard.press('Escape');
    }
  }
}
