// The path view's history, Compare and Reverse in real VS Code (code-server + Debian's Chromium) on the
// demo capture: 64 then 1500 bytes from web-0 to web-1 on k8s-node2 (web-0's eth0 has MTU 1450, so the
// 1500-byte packet with DF is dropped there), Back/Forward/Alt+Left and the list show stored traces
// again, Compare puts them side by side parting at the MTU step, Reverse traces web-1 back to web-0;
// then the same 1500-byte trace on a "fixed" capture (web-0's MTU raised) compared with the one before,
// whose capture is marked no longer loaded; and the history after a window reload.
// Run with `node scripts/test.mjs test/e2e/history.e2e.test.ts`; NETPATH_SKIP_E2E=1 skips it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Frame } from 'playwright-core';
import { repoRoot } from '../../scripts/code-server.mjs';
import { stepper, VsCode } from './harness';
import { markPathViewsStale, pickTrace, waitForPathView, waitForQuickTitle, waitForToastsGone, type PathView } from './pathView';

const skip = process.env.NETPATH_SKIP_E2E === '1' ? 'NETPATH_SKIP_E2E=1' : false;

/** The demo capture with web-0's eth0 MTU raised from 1450 to 1500: the "fix" tried in the last test. */
function fixedCapture(): string {
  const c = JSON.parse(readFileSync(join(repoRoot, 'examples', 'demo-flannel-vxlan.json'), 'utf8')) as { hosts: { name: string; probes?: Record<string, string> }[] };
  const web0 = c.hosts.find((h) => h.name === 'web-0')!;
  const links = web0.probes!.links!;
  const fixed = links.replace(/^(2: eth0@if7: .*?) mtu 1450 /m, '$1 mtu 1500 ');
  if (fixed === links) throw new Error("the demo capture's web-0 links changed: eth0 mtu 1450 not found");
  web0.probes!.links = fixed;
  return JSON.stringify(c, null, 1);
}

/**
 * Runs a palette command that opens a quick pick, and waits for it. A webview that finishes drawing
 * just then takes the focus, which closes a quick pick (the command then ends as if cancelled): seen
 * on a loaded machine right after a capture's overview opened. A user runs the command again; so
 * does this.
 */
async function openQuickPick(vs: VsCode, command: string, title: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await vs.runCommand(command);
    try {
      await waitForQuickTitle(vs, title, 10_000);
      return;
    } catch (e) {
      if (attempt >= 3) throw e;
      console.log(`# ${command}: its quick pick closed before it was answered (attempt ${attempt}); running it again`);
    }
  }
}

/**
 * Types `filter` into the open quick pick, waits until its first row is a 1500-byte trace whose detail
 * names `capture`, and accepts it with Enter.
 */
async function acceptFirstFiltered(vs: VsCode, filter: string, capture: string): Promise<void> {
  const title = await vs.quickTitle();
  await vs.typeInQuickInput(filter);
  const first = vs.page.locator('.quick-input-widget .monaco-list-row').first();
  const deadline = Date.now() + 15_000;
  for (;;) {
    const text = (await first.innerText({ timeout: 1000 }).catch(() => '')).replace(/\s+/g, ' ');
    if (text.includes('ICMP, 1500 bytes') && text.includes(capture)) break;
    if (Date.now() > deadline) throw new Error(`the first row after typing ${filter} is ${JSON.stringify(text)}`);
    await vs.page.waitForTimeout(100);
  }
  await vs.acceptQuickInput();
  const until = Date.now() + 15_000;
  while ((await vs.quickTitle()) === title) {
    if (Date.now() > until) throw new Error(`the quick pick ${JSON.stringify(title)} did not take Enter`);
    await vs.page.waitForTimeout(100);
  }
}

interface HistoryBar {
  /** The rows of the recent-traces list, newest first. */
  options: string[];
  /** The row selected (the trace shown). */
  selected: string;
  backDisabled: boolean;
  forwardDisabled: boolean;
  provenance: string;
  note: string;
}

async function readHistoryBar(frame: Frame): Promise<HistoryBar> {
  const head = frame.locator('main.trace-view .trace-head').first();
  const options = await head.locator('select.history-list option').allTextContents();
  const value = await head.locator('select.history-list').inputValue();
  const selected = (await head.locator(`select.history-list option[value="${value}"]`).textContent()) ?? '';
  const disabled = async (cls: string) => (await head.locator(`vscode-button.${cls}`).getAttribute('disabled')) !== null;
  const text = (sel: string) => head.locator(sel).first().textContent({ timeout: 500 }).then((s) => (s ?? '').trim(), () => '');
  return { options, selected: String(selected), backDisabled: await disabled('history-back'), forwardDisabled: await disabled('history-forward'), provenance: await text('.provenance'), note: await text('.trace-note') };
}

/** Clicks a button of the history bar and waits for the path view it brings up. */
async function historyClick(vs: VsCode, view: PathView, cls: string): Promise<void> {
  await markPathViewsStale(vs);
  await view.frame.locator(`main.trace-view .trace-head vscode-button.${cls}`).first().click();
}

interface CompareView {
  frame: Frame;
  sides: { name: string; title: string; verdict: string; flow: string; reason: string; provenance: string }[];
  packet: string;
  divergence: string;
  steps: { side: string; label: string; text: string }[];
  rows: { a: string; mark: string; b: string; diverges: boolean }[];
}

async function waitForCompare(vs: VsCode, timeoutMs = 60_000): Promise<CompareView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const frame of vs.page.frames()) {
      if (frame === vs.page.mainFrame()) continue;
      if ((await frame.locator('main.compare-view .compare-divergence').count().catch(() => 0)) > 0) return readCompare(frame);
    }
    if (Date.now() > deadline) throw new Error('no compare view appeared');
    await vs.page.waitForTimeout(250);
  }
}

// One string, run in the page (a function would be rewritten by the test's TypeScript loader with
// helpers the page does not have); textContent only.
const READ_COMPARE = `(() => {
  const root = document.querySelector('main.compare-view');
  const t = (e, sel) => ((e && e.querySelector(sel) && e.querySelector(sel).textContent) || '').trim();
  return {
    sides: Array.from(root.querySelectorAll('.compare-side')).map((e) => ({ name: t(e, '.compare-side-name'), title: t(e, 'h2'), verdict: t(e, '.verdict'), flow: t(e, '.flow'), reason: t(e, '.reason'), provenance: t(e, '.provenance') })),
    steps: Array.from(root.querySelectorAll('.compare-step')).map((e) => ({ side: t(e, '.compare-side-name'), label: t(e, '.step-kind'), text: t(e, '.step-text') })),
    rows: Array.from(root.querySelectorAll('table.compare-hops tbody tr')).map((tr) => {
      const tds = Array.from(tr.querySelectorAll('td')).map((td) => (td.textContent || '').trim());
      return { a: tds[0] || '', mark: tds[1] || '', b: tds[2] || '', diverges: tr.classList.contains('diverges') };
    }),
    packet: t(root, '.compare-packet'),
    divergence: t(root, '.compare-divergence'),
  };
})()`;

async function readCompare(frame: Frame): Promise<CompareView> {
  return { frame, ...((await frame.evaluate(READ_COMPARE)) as Omit<CompareView, 'frame'>) };
}

describe('Trace history, Compare and Reverse in the path view (real VS Code, demo capture)', { skip, timeout: 6 * 60_000 }, () => {
  let vs: VsCode | undefined;
  const run = stepper(() => vs);
  const web0 = { ns: 'default', pod: 'web-0' };
  const web1 = { ns: 'default', pod: 'web-1' };

  before(async () => {
    vs = await VsCode.launch({ name: 'history', files: { 'fixed-mtu.json': fixedCapture() } });
  });

  after(async () => {
    await vs?.close();
  });

  it(
    '64 then 1500 bytes from web-0 to web-1 (on k8s-node2): the second is dropped at web-0 (eth0 MTU 1450) and the history lists both',
    run('two-traces', async (vs) => {
      await vs.runCommand('netpath: Load Demo Capture');
      await vs.webviewFrame('k8s-node1');
      await openQuickPick(vs, 'netpath: Trace Pod Path', 'Trace Pod Path: from');
      await pickTrace(vs, web0, web1);
      const first = await waitForPathView(vs, 'web-0 → web-1', { flow: '64 bytes' });
      assert.equal(first.verdict, 'delivered');
      assert.deepEqual(first.hops.map((h) => h.host), ['web-0', 'k8s-node1', 'tor', 'k8s-node2', 'web-1']);
      let bar = await readHistoryBar(first.frame);
      assert.equal(bar.options.length, 1, JSON.stringify(bar.options));
      assert.ok(bar.backDisabled && bar.forwardDisabled, 'one trace: nothing to go back or forward to');
      assert.match(bar.provenance, /^Computed on demo capture at /);

      await openQuickPick(vs, 'netpath: Trace Pod Path', 'Trace Pod Path: from');
      await pickTrace(vs, web0, web1, { size: 1500 });
      const second = await waitForPathView(vs, 'web-0 → web-1', { flow: '1500 bytes' });
      assert.equal(second.verdict, 'MTU exceeded');
      assert.deepEqual(second.hops.map((h) => h.host), ['web-0']);
      assert.deepEqual(second.endLabels, ['MTU exceeded at eth0']);
      assert.match(second.reason, /1500 bytes but eth0 in web-0 carries at most 1450/);
      bar = await readHistoryBar(second.frame);
      assert.equal(bar.options.length, 2, JSON.stringify(bar.options));
      assert.match(bar.options[0]!, /^web-0 → web-1 · ICMP, 1500 bytes · MTU exceeded · demo capture /);
      assert.match(bar.options[1]!, /^web-0 → web-1 · ICMP, 64 bytes · delivered · demo capture /);
      assert.equal(bar.selected, bar.options[0]);
      assert.ok(!bar.backDisabled && bar.forwardDisabled);
      assert.ok(bar.options.every((o) => !o.includes('no longer loaded')), JSON.stringify(bar.options));
      await waitForToastsGone(vs);
      await vs.screenshot('1500-mtu-exceeded');
    }),
  );

  it(
    'Back shows the 64-byte trace again from the history (no new trace), Forward the 1500-byte one; Alt+Left, Alt+Right and the list do the same',
    run('back-forward', async (vs) => {
      let view = await waitForPathView(vs, 'web-0 → web-1', { flow: '1500 bytes' });
      await historyClick(vs, view, 'history-back');
      view = await waitForPathView(vs, 'web-0 → web-1', { flow: '64 bytes' });
      assert.equal(view.verdict, 'delivered');
      assert.deepEqual(view.hops.map((h) => h.host), ['web-0', 'k8s-node1', 'tor', 'k8s-node2', 'web-1']);
      let bar = await readHistoryBar(view.frame);
      assert.equal(bar.options.length, 2, 'shown again, not traced again');
      assert.match(bar.selected, /64 bytes/);
      assert.ok(bar.backDisabled && !bar.forwardDisabled);
      await waitForToastsGone(vs);
      await vs.screenshot('back-64');

      await historyClick(vs, view, 'history-forward');
      view = await waitForPathView(vs, 'web-0 → web-1', { flow: '1500 bytes' });
      assert.equal(view.verdict, 'MTU exceeded');

      // The keyboard: Alt+Left / Alt+Right with the focus in the view.
      await markPathViewsStale(vs);
      await view.frame.locator('main.trace-view .trace-head h1').first().click();
      await vs.page.keyboard.press('Alt+ArrowLeft');
      view = await waitForPathView(vs, 'web-0 → web-1', { flow: '64 bytes' });
      await markPathViewsStale(vs);
      await view.frame.locator('main.trace-view .trace-head h1').first().click();
      await vs.page.keyboard.press('Alt+ArrowRight');
      view = await waitForPathView(vs, 'web-0 → web-1', { flow: '1500 bytes' });

      // The list: choose the 64-byte row.
      bar = await readHistoryBar(view.frame);
      await markPathViewsStale(vs);
      await view.frame.locator('select.history-list').first().selectOption({ label: bar.options[1]! });
      view = await waitForPathView(vs, 'web-0 → web-1', { flow: '64 bytes' });
      bar = await readHistoryBar(view.frame);
      assert.equal(bar.options.length, 2);
      assert.match(bar.selected, /64 bytes/);
      // Back to the 1500-byte trace for the comparison.
      await historyClick(vs, view, 'history-forward');
      await waitForPathView(vs, 'web-0 → web-1', { flow: '1500 bytes' });
    }),
  );

  it(
    'Compare with... shows the 1500- and the 64-byte trace side by side, parting at web-0 where the 1500-byte packet meets eth0 MTU 1450',
    run('compare', async (vs) => {
      const view = await waitForPathView(vs, 'web-0 → web-1', { flow: '1500 bytes' });
      await view.frame.locator('main.trace-view .trace-head vscode-button.history-compare').first().click();
      await waitForQuickTitle(vs, 'Compare web-0 → web-1 (ICMP, 1500 bytes) with');
      // The other traces of the history (the shown one is A): only the 64-byte one. Each row's detail
      // names its capture and time and says how it ended.
      const rows = await vs.quickItems();
      assert.ok(rows.includes('web-0 → web-1 · ICMP, 64 bytes'), JSON.stringify(rows));
      assert.ok(!rows.some((r) => r.includes('1500 bytes')), JSON.stringify(rows));
      assert.ok(rows.some((r) => /^demo capture, .*: web-1 owns 10\.244\.1\.3/.test(r)), JSON.stringify(rows));
      await vs.pickQuickItem('web-0 → web-1 · ICMP, 64 bytes');
      const c = await waitForCompare(vs);
      assert.deepEqual(
        c.sides.map((s) => [s.name, s.title, s.verdict, s.flow]),
        [
          ['A', 'web-0 → web-1', 'MTU exceeded', "ICMP 10.244.0.3 → 10.244.1.3, 1500 bytes, Don't Fragment"],
          ['B', 'web-0 → web-1', 'delivered', "ICMP 10.244.0.3 → 10.244.1.3, 64 bytes, Don't Fragment"],
        ],
      );
      assert.match(c.sides[0]!.reason, /carries at most 1450/);
      assert.match(c.sides[1]!.reason, /web-1 owns 10\.244\.1\.3/);
      assert.equal(c.packet, 'The packets differ: size 1500 → 64 bytes.');
      assert.equal(c.divergence, 'The traces part at web-0 (hop 1 of A, 1 of B), step 3: drop (mtu) in A, neigh in B.');
      assert.deepEqual(c.steps.map((s) => [s.side, s.label]), [['A', 'drop (mtu)'], ['B', 'neigh']]);
      assert.match(c.steps[0]!.text, /1450/);
      assert.deepEqual(c.rows.map((r) => [r.a.split(' · ')[0], r.mark, r.b.split(' · ')[0], r.diverges]), [
        ['1. web-0', 'parts here', '1. web-0', true],
        ['—', '≠', '2. k8s-node1', false],
        ['—', '≠', '3. tor', false],
        ['—', '≠', '4. k8s-node2', false],
        ['—', '≠', '5. web-1', false],
      ]);
      await waitForToastsGone(vs);
      await vs.screenshot('compare-64-vs-1500');
      assert.deepEqual(vs.cspViolations(), [], 'the webview broke its Content Security Policy');
    }),
  );

  it(
    'Show B returns to the 64-byte trace; Reverse traces from web-1 back to web-0 on the same capture, and it enters the history',
    run('reverse', async (vs) => {
      const c = await waitForCompare(vs);
      await markPathViewsStale(vs);
      await c.frame.locator('main.compare-view vscode-button', { hasText: 'Show B' }).first().click();
      let view = await waitForPathView(vs, 'web-0 → web-1', { flow: '64 bytes' });
      await historyClick(vs, view, 'history-reverse');
      view = await waitForPathView(vs, 'web-1 → web-0');
      assert.equal(view.verdict, 'delivered');
      assert.equal(view.flow, "ICMP 10.244.1.3 → 10.244.0.3, 64 bytes, Don't Fragment");
      assert.deepEqual(view.hops.map((h) => h.host), ['web-1', 'k8s-node2', 'tor', 'k8s-node1', 'web-0']);
      assert.match(view.reason, /web-0 owns 10\.244\.0\.3/);
      const bar = await readHistoryBar(view.frame);
      assert.equal(bar.note, 'Reverse of default/web-0 → default/web-1: from web-1 back to default/web-0.');
      assert.equal(bar.options.length, 3, JSON.stringify(bar.options));
      assert.match(bar.options[0]!, /^web-1 → web-0 · ICMP, 64 bytes · delivered · demo capture /);
      await waitForToastsGone(vs);
      await vs.screenshot('reverse');

      // Hidden behind another tab, the webview is destroyed; shown again, it is drawn anew from its
      // saved state (the old document carried the stale mark), history included.
      await markPathViewsStale(vs);
      await vs.page.locator('.tabs-container .tab', { hasText: 'netpath: capture' }).first().click();
      await vs.page.locator('.tabs-container .tab', { hasText: 'netpath: web-1 → default/web-0' }).first().click();
      const again = await waitForPathView(vs, 'web-1 → web-0');
      assert.equal((await readHistoryBar(again.frame)).options.length, 3);
    }),
  );

  it(
    'before and after a fix: the 1500-byte trace on a capture with web-0 at MTU 1500 now stops at k8s-node1; the earlier entries are marked as computed on a capture no longer loaded; Compare Traces from the palette',
    run('before-after', async (vs) => {
      await vs.runCommand('netpath: Open Network Capture...');
      await vs.chooseFileInDialog(join(vs.workspace, 'fixed-mtu.json'));
      // The capture's overview opens and takes the focus once drawn; a quick pick opened before that
      // would close. Wait for it, as a user would look at it.
      await vs.webviewFrame('fixed-mtu.json');
      await waitForToastsGone(vs);
      await markPathViewsStale(vs);
      await openQuickPick(vs, 'netpath: Trace Pod Path', 'Trace Pod Path: from');
      await pickTrace(vs, web0, web1, { size: 1500 });
      const after = await waitForPathView(vs, 'web-0 → web-1', { flow: '1500 bytes' });
      assert.equal(after.verdict, 'MTU exceeded');
      assert.deepEqual(after.hops.map((h) => h.host), ['web-0', 'k8s-node1']);
      assert.match(after.reason, /veth53842afe/);
      const bar = await readHistoryBar(after.frame);
      assert.equal(bar.options.length, 4, JSON.stringify(bar.options));
      assert.match(bar.options[0]!, /^web-0 → web-1 · ICMP, 1500 bytes · MTU exceeded · fixed-mtu\.json /);
      assert.ok(!bar.options[0]!.includes('no longer loaded'));
      assert.ok(bar.options.slice(1).every((o) => o.includes('demo capture') && o.endsWith('(capture no longer loaded)')), JSON.stringify(bar.options));
      assert.match(bar.provenance, /^Computed on fixed-mtu\.json at /);

      await openQuickPick(vs, 'netpath: Compare Traces', 'Compare Traces: first trace (A)');
      // Newest first: of the two 1500-byte rows the first is the trace on the fixed capture. Two rows
      // share that label, so the list is filtered and the first row accepted with Enter, as a user types.
      await acceptFirstFiltered(vs, '1500', 'fixed-mtu.json');
      await waitForQuickTitle(vs, 'Compare Traces: web-0 → web-1 (ICMP, 1500 bytes) with');
      await acceptFirstFiltered(vs, '1500', 'demo capture');
      const c = await waitForCompare(vs);
      assert.deepEqual(c.sides.map((s) => [s.name, s.verdict]), [['A', 'MTU exceeded'], ['B', 'MTU exceeded']]);
      assert.match(c.sides[0]!.provenance, /^Computed on fixed-mtu\.json at /);
      assert.match(c.sides[1]!.provenance, /^Computed on demo capture at .*\(that capture is no longer loaded\)$/);
      assert.equal(c.packet, 'The same packet.');
      assert.equal(c.divergence, 'The traces part at web-0 (hop 1 of A, 1 of B), step 3: neigh in A, drop (mtu) in B.');
      assert.deepEqual(c.rows.map((r) => [r.a.split(' · ')[0], r.b.split(' · ')[0], r.diverges]), [['1. web-0', '1. web-0', true], ['2. k8s-node1', '—', false]]);
      await waitForToastsGone(vs);
      await vs.screenshot('compare-before-after-fix');
      assert.deepEqual(vs.cspViolations(), [], 'the webview broke its Content Security Policy');
    }),
  );

  it(
    'after a window reload the path view comes back on the trace last shown, with its history',
    run('reload', async (vs) => {
      await vs.waitForStoredWorkspaceState('netpath.netpath', (s) => ((s['netpath.traceHistory'] as { entries?: unknown[] } | undefined)?.entries?.length ?? 0) === 4);
      await vs.reload();
      const view = await waitForPathView(vs, 'web-0 → web-1', { flow: '1500 bytes' });
      assert.deepEqual(view.hops.map((h) => h.host), ['web-0', 'k8s-node1'], 'the trace on the fixed capture');
      const bar = await readHistoryBar(view.frame);
      assert.equal(bar.options.length, 4, JSON.stringify(bar.options));
      // Back still works from the stored results, with nothing loaded yet.
      await historyClick(vs, view, 'history-back');
      const back = await waitForPathView(vs, 'web-1 → web-0');
      assert.equal(back.verdict, 'delivered');
      await vs.screenshot('after-reload');
    }),
  );
});
