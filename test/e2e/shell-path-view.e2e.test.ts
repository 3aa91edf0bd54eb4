// The extension around the path view, in real VS Code (code-server + Debian's Chromium) on the demo
// capture: Load Demo Capture keeps the focus where it was; an evidence line opens the trace's own
// capture read-only beside the trace with that probe line selected, also after another capture is
// loaded; Copy Markdown puts the trace on the clipboard; Export SVG writes a titled, light file
// under a name that tells traces apart; a typed IP in the destination pick traces to it; when the
// capture changed on disk after a reload the evidence click says so in an error toast whose "Open
// Output" button opens netpath's output; "Trace to this pod" names the fixed destination.
// Run with `node scripts/test.mjs test/e2e/shell-path-view.e2e.test.ts`; NETPATH_SKIP_E2E=1 skips it.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Frame } from 'playwright-core';
import { repoRoot } from '../../scripts/code-server.mjs';
import { artifactsDir, escapeRegExp, stepper, VsCode } from './harness';
import { acceptPacket, markPathViewsStale, pickTrace, selectHop, waitForPathView, waitForQuickTitle, waitForToastsGone } from './pathView';

const skip = process.env.NETPATH_SKIP_E2E === '1' ? 'NETPATH_SKIP_E2E=1' : false;

const demoText = readFileSync(join(repoRoot, 'examples', 'demo-flannel-vxlan.json'), 'utf8');
/** The demo with two comment lines put before k8s-node1's routes: its routes4 line 4 is another line here. */
const shifted = (() => {
  const c = JSON.parse(demoText) as { hosts: { name: string; probes?: Record<string, string> }[] };
  const n1 = c.hosts.find((h) => h.name === 'k8s-node1')!;
  n1.probes!.routes4 = `# shifted\n# shifted\n${n1.probes!.routes4}`;
  return `${JSON.stringify(c, null, 2)}\n`;
})();
/** k8s-node1 routes4:4 as the capture holds it (with its trailing blank): what the engine quotes, and what is selected. */
const ROUTE = (JSON.parse(demoText) as { hosts: { name: string; probes?: Record<string, string> }[] }).hosts.find((h) => h.name === 'k8s-node1')!.probes!.routes4!.split('\n')[3]!.replace(/\r$/, '');

/** Where the keyboard focus is: the element, whether it is read-only, and the active tab of its editor group. */
async function focusInfo(vs: VsCode): Promise<{ tag: string; tab: string; inEditor: boolean }> {
  return (await vs.page.evaluate(`(() => {
    const a = document.activeElement;
    const g = a && a.closest('.editor-group-container');
    const tab = g && g.querySelector('.tab.active');
    return { tag: a ? a.tagName : '', tab: tab ? (tab.getAttribute('aria-label') || tab.textContent || '').trim() : '', inEditor: !!(a && a.closest('.monaco-editor')) };
  })()`)) as { tag: string; tab: string; inEditor: boolean };
}

/** The editor groups, left to right, each with its tabs' labels. */
async function editorGroups(vs: VsCode): Promise<string[][]> {
  return (await vs.page.evaluate(`[...document.querySelectorAll('.editor-group-container')].map((g) => [...g.querySelectorAll('.tab')].map((t) => (t.getAttribute('aria-label') || t.textContent || '').trim()))`)) as string[][];
}

async function readClipboard(vs: VsCode): Promise<string> {
  return String(await vs.page.evaluate('navigator.clipboard.readText()'));
}

/** The editor's selection copied with Ctrl+C (the clipboard is the only place the page shows it as text). */
async function copiedSelection(vs: VsCode): Promise<string> {
  await vs.page.evaluate(`navigator.clipboard.writeText('')`);
  await vs.page.keyboard.press('Control+C');
  const deadline = Date.now() + 10_000;
  for (;;) {
    const text = await readClipboard(vs);
    if (text !== '') return text;
    if (Date.now() > deadline) throw new Error('Ctrl+C put nothing on the clipboard');
    await vs.page.waitForTimeout(100);
  }
}

async function waitForStatus(vs: VsCode, pattern: RegExp, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const items = (await vs.page.locator('.part.statusbar .statusbar-item').allInnerTexts()).map((t) => t.trim());
    const hit = items.find((t) => pattern.test(t));
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error(`no status bar item matches ${pattern}: ${JSON.stringify(items)}`);
    await vs.page.waitForTimeout(100);
  }
}

/** Clicks the evidence button `loc` ("k8s-node1 routes4:4") in the details pane. */
async function clickEvidence(frame: Frame, loc: string): Promise<void> {
  await frame.locator('.details button.evidence-loc', { hasText: new RegExp(`^${escapeRegExp(loc)}$`) }).first().click();
}

/** Waits for the keyboard focus to be in an editor whose active tab is `name`. */
async function waitForFocusedEditor(vs: VsCode, name: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const f = await focusInfo(vs);
    if (f.inEditor && f.tab.startsWith(name)) return;
    if (Date.now() > deadline) throw new Error(`no focused editor ${name}: ${JSON.stringify(f)}`);
    await vs.page.waitForTimeout(100);
  }
}

describe('the extension around the path view, in real VS Code (demo capture)', { skip, timeout: 8 * 60_000 }, () => {
  let vs: VsCode | undefined;
  const run = stepper(() => vs);

  before(async () => {
    vs = await VsCode.launch({ name: 'shell', files: { 'notes.txt': 'incident notes\n', 'shifted.json': shifted } });
    await vs.page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(vs.url).origin });
  });

  after(async () => {
    await vs?.close();
  });

  it(
    'Load Demo Capture from the palette leaves the keyboard in the editor that had it',
    run('demo-keeps-focus', async (vs) => {
      await vs.openFile('notes.txt');
      await vs.page.locator('.editor-group-container .monaco-editor .view-lines').first().click();
      assert.equal((await focusInfo(vs)).inEditor, true);
      await vs.runCommand('netpath: Load Demo Capture');
      await vs.webviewFrame('k8s-node1');
      const f = await focusInfo(vs);
      assert.ok(f.inEditor && f.tab.startsWith('notes.txt'), `focus after Load Demo Capture: ${JSON.stringify(f)}`);
      // And typing goes there.
      await vs.page.keyboard.type('typed after loading ');
      await vs.page.locator('.editor-group-container .monaco-editor .view-lines', { hasText: 'typed after loading' }).first().waitFor({ timeout: 10_000 });
      await vs.screenshot('demo-keeps-focus');
    }),
  );

  it(
    'an evidence line opens the capture read-only beside the trace, with exactly that probe line selected',
    run('evidence-opens-capture', async (vs) => {
      await vs.runCommand('netpath: Trace Pod Path');
      await pickTrace(vs, { ns: 'default', pod: 'web-0' }, { ns: 'default', pod: 'web-1' });
      const view = await waitForPathView(vs, 'web-0 → web-1');
      await selectHop(view.frame, 'k8s-node1');
      await clickEvidence(view.frame, 'k8s-node1 routes4:4');
      await waitForFocusedEditor(vs, 'demo-flannel-vxlan.json');
      assert.equal(await copiedSelection(vs), ROUTE);
      assert.match(await waitForStatus(vs, /selected\)/), new RegExp(`\\(${ROUTE.length} selected\\)`));
      // Beside the trace: the capture's tab is in another group than the path view's.
      const groups = await editorGroups(vs);
      const traceGroup = groups.findIndex((g) => g.some((t) => t.includes('web-0 → default/web-1')));
      const captureGroup = groups.findIndex((g) => g.some((t) => t.startsWith('demo-flannel-vxlan.json')));
      assert.ok(traceGroup >= 0 && captureGroup >= 0 && traceGroup !== captureGroup, `editor groups: ${JSON.stringify(groups)}`);
      // Typing changes nothing: the editor is read-only, and says so.
      await vs.page.keyboard.type('x');
      await vs.page.locator('.monaco-editor-overlaymessage', { hasText: /read-only/i }).first().waitFor({ timeout: 10_000 });
      assert.equal(await copiedSelection(vs), ROUTE);
      await waitForToastsGone(vs);
      await vs.screenshot('evidence-beside-trace');
    }),
  );

  it(
    'Copy Markdown puts the trace on the clipboard (verdict, reason, hops, evidence) and the status bar says so',
    run('copy-markdown', async (vs) => {
      const view = await waitForPathView(vs, 'web-0 → web-1');
      await vs.page.evaluate(`navigator.clipboard.writeText('')`);
      await view.frame.locator('vscode-button', { hasText: 'Copy Markdown' }).click();
      await waitForStatus(vs, /copied as Markdown/);
      const md = await readClipboard(vs);
      assert.match(md, /^# netpath trace: web-0 → web-1\n/);
      assert.match(md, /^\*\*Verdict:\*\* `delivered`$/m);
      assert.match(md, /^\*\*Reason:\*\* .*web-1 owns 10\.244\.1\.3/m);
      assert.match(md, /^### Hop 2 of 5: k8s-node1$/m);
      assert.ok(md.includes(`k8s-node1 routes4:4  ${ROUTE.trim()}`), md.slice(0, 2000));
      // The palette command copies the same text.
      await vs.page.evaluate(`navigator.clipboard.writeText('')`);
      await vs.runCommand('netpath: Copy Trace as Markdown');
      await waitForStatus(vs, /copied as Markdown/);
      assert.equal(await readClipboard(vs), md);
      await vs.screenshot('copy-markdown');
    }),
  );

  it(
    'Export SVG offers a name that tells the trace apart and writes a titled SVG on a white page',
    run('export-svg', async (vs) => {
      const view = await waitForPathView(vs, 'web-0 → web-1');
      await view.frame.locator('vscode-button', { hasText: 'Export SVG' }).click();
      const input = vs.quickInput();
      await input.waitFor({ state: 'visible' });
      const deadline = Date.now() + 15_000;
      while (!(await input.inputValue()).endsWith('.svg')) {
        if (Date.now() > deadline) throw new Error(`the save dialog shows ${JSON.stringify(await input.inputValue())}`);
        await vs.page.waitForTimeout(100);
      }
      const path = await input.inputValue();
      assert.equal(path.split('/').pop(), 'trace-default_web-0-to-default_web-1-icmp-64B-delivered.svg');
      await vs.acceptQuickInput();
      const file = join(vs.workspace, 'trace-default_web-0-to-default_web-1-icmp-64B-delivered.svg');
      const written = Date.now() + 20_000;
      while (!existsSync(file)) {
        if (Date.now() > written) throw new Error(`${file} was not written`);
        await vs.page.waitForTimeout(200);
      }
      const svg = readFileSync(file, 'utf8');
      mkdirSync(artifactsDir, { recursive: true });
      copyFileSync(file, join(artifactsDir, 'shell-export.svg'));
      assert.match(svg, /class="export-title"[^>]*>web-0 → web-1</);
      assert.match(svg, /class="export-packet"[^>]*>ICMP 10\.244\.0\.3 → 10\.244\.1\.3, 64 bytes, Don't Fragment</);
      assert.match(svg, /class="export-verdict"[^>]*>delivered</);
      assert.match(svg, /class="export-reason"[^>]*>[^<]*web-1 owns/);
      assert.match(svg, /<rect width="100%" height="100%" fill="#ffffff"/);
      assert.ok(!svg.includes('var(--vscode'), 'the SVG still uses VS Code theme variables');
      // The diagram's own text is dark on the white page (the test VS Code runs a dark theme).
      const titles = [...svg.matchAll(/<text[^>]*class="box-title"[^>]*fill="([^"]+)"/g)].map((m) => m[1]);
      const inherited = /<svg[^>]*fill="([^"]+)"/.exec(svg)?.[1];
      const fills = titles.length ? titles : [inherited];
      assert.ok(fills.every((f) => f !== undefined && /^rgb\((\d+), (\d+), (\d+)\)$/.test(f) && Math.max(...f.match(/\d+/g)!.map(Number)) < 128), `box title fills: ${JSON.stringify(fills)}`);
      await vs.screenshot('export-svg');
    }),
  );

  it(
    'after another capture is loaded, the old trace\'s evidence still opens the capture it was computed from',
    run('evidence-after-other-capture', async (vs) => {
      await vs.runCommand('netpath: Open Network Capture...');
      await vs.chooseFileInDialog(join(vs.workspace, 'shifted.json'));
      await vs.page.locator('.part.statusbar .statusbar-item', { hasText: 'netpath: shifted.json' }).first().waitFor({ timeout: 20_000 });
      // In shifted.json, line 4 of k8s-node1's routes is another route: the old trace must not point there.
      const view = await waitForPathView(vs, 'web-0 → web-1');
      await selectHop(view.frame, 'k8s-node1');
      await clickEvidence(view.frame, 'k8s-node1 routes4:4');
      await waitForFocusedEditor(vs, 'demo-flannel-vxlan.json');
      assert.equal(await copiedSelection(vs), ROUTE);
      await waitForToastsGone(vs);
      await vs.screenshot('evidence-after-other-capture');
    }),
  );

  it(
    'an IP typed into the destination pick ("Trace to 10.244.1.7", an address no pod has) traces to it',
    run('typed-ip', async (vs) => {
      await markPathViewsStale(vs);
      await vs.runCommand('netpath: Trace Pod Path');
      await waitForQuickTitle(vs, 'Trace Pod Path: from');
      await vs.typeInQuickInput('web-0');
      await vs.pickQuickItem('web-0');
      await waitForQuickTitle(vs, ' to');
      await vs.typeInQuickInput('10.244.1.7');
      await vs.pickQuickItem('Trace to 10.244.1.7');
      await acceptPacket(vs);
      const view = await waitForPathView(vs, 'web-0 → 10.244.1.7');
      assert.equal(view.flow, "ICMP 10.244.0.3 → 10.244.1.7, 64 bytes, Don't Fragment");
      assert.equal(view.hops[0]?.host, 'web-0');
      await waitForToastsGone(vs);
      await vs.screenshot('typed-ip');
    }),
  );

  it(
    'after a reload, when the capture file changed on disk, the evidence click says so in an error toast whose Open Output button opens netpath\'s output',
    run('changed-capture-toast', async (vs) => {
      // The trace to 10.244.1.7 was computed from shifted.json; change the file, then reload.
      await vs.waitForStoredWorkspaceState('netpath.netpath', (s) => (s['netpath.lastTrace'] as { request?: { to?: string } } | undefined)?.request?.to === '10.244.1.7');
      writeFileSync(join(vs.workspace, 'shifted.json'), shifted.replace('# shifted\\n# shifted\\n', '# changed\\n'));
      await vs.reload();
      const view = await waitForPathView(vs, 'web-0 → 10.244.1.7');
      await selectHop(view.frame, 'web-0');
      await view.frame.locator('.details button.evidence-loc').first().click();
      const toast = vs.page.locator('.notifications-toasts .notification-toast', { hasText: 'has changed since this trace was computed' }).first();
      await toast.waitFor({ timeout: 20_000 });
      const button = toast.locator('.monaco-button', { hasText: 'Open Output' });
      await button.waitFor();
      await vs.screenshot('changed-capture-toast');
      await button.click();
      const output = vs.page.locator('.part.panel .monaco-editor .view-lines', { hasText: 'has changed since this trace was computed' }).first();
      await output.waitFor({ timeout: 20_000 });
      // No editor was opened at a line of the changed file.
      assert.ok(!(await editorGroups(vs)).flat().some((t) => t.startsWith('shifted.json') && !t.includes('netpath')), JSON.stringify(await editorGroups(vs)));
      await vs.screenshot('changed-capture-output');
    }),
  );

  it(
    'Node Bridges shows pod IPs in the label with non-debugger icons; "Trace to this pod" names the destination and leaves it out of the list',
    run('trace-to-this-pod', async (vs) => {
      await vs.openViewContainer('netpath');
      await vs.expandTreeRow('k8s-node2');
      const label = '10.244.1.3 · default/web-1';
      const row = vs.page.locator('.part.sidebar .pane-body .monaco-list-row').filter({ has: vs.page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(label)}\\s*$`) }) }).first();
      await row.waitFor({ timeout: 20_000 });
      await row.hover();
      const from = row.locator('.actions .action-label[aria-label="Trace from this pod"]');
      await from.waitFor({ state: 'visible', timeout: 10_000 });
      // The IP is drawn inside the visible part of the row (with the inline actions showing), not clipped.
      const fits = (await vs.page.evaluate(`(() => {
        const ip = '10.244.1.3';
        const r = [...document.querySelectorAll('.part.sidebar .pane-body .monaco-list-row')].find((x) => (x.querySelector('.label-name')?.textContent || '').trim() === ${JSON.stringify(label)});
        if (!r) return { right: -2, visibleRight: 0, ok: false };
        const box = r.querySelector('.monaco-icon-label-container').getBoundingClientRect();
        const walker = document.createTreeWalker(r.querySelector('.label-name'), NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          const at = (n.textContent || '').indexOf(ip);
          if (at < 0) continue;
          const range = document.createRange();
          range.setStart(n, at);
          range.setEnd(n, at + ip.length);
          const rect = range.getBoundingClientRect();
          return { right: rect.right, visibleRight: box.right, ok: rect.width > 0 && rect.right <= box.right + 0.5 };
        }
        return { right: -1, visibleRight: box.right, ok: false };
      })()`)) as { right: number; visibleRight: number; ok: boolean };
      assert.ok(fits.ok, `the pod IP is clipped: ${JSON.stringify(fits)}`);
      const classes = `${await from.getAttribute('class')} ${await row.locator('.actions .action-label[aria-label="Trace to this pod"]').getAttribute('class')}`;
      assert.ok(!/codicon-debug/.test(classes), classes);
      await vs.screenshot('bridges-pod-ip');
      await row.click({ button: 'right' });
      const menu = vs.page.locator('.context-view .monaco-menu');
      await menu.waitFor({ timeout: 10_000 });
      const item = menu.locator('.action-label', { hasText: /^Trace to this pod$/ });
      await item.click();
      // On a loaded machine the menu sometimes keeps a click it has highlighted: Enter chooses it then.
      await waitForQuickTitle(vs, 'to default/web-1', 5_000).catch(async () => {
        if (await menu.isVisible()) {
          await item.hover();
          await vs.page.keyboard.press('Enter');
        }
        await waitForQuickTitle(vs, 'to default/web-1');
      });
      const items = await vs.quickItems();
      assert.ok(items.includes('web-0'), JSON.stringify(items));
      assert.ok(!items.includes('web-1'), `the fixed destination is offered as a source: ${JSON.stringify(items)}`);
      // The source pick takes a typed IP as well.
      await vs.typeInQuickInput('10.244.0.3');
      await vs.pickQuickItem('Trace from 10.244.0.3');
      await acceptPacket(vs);
      const view = await waitForPathView(vs, 'web-0 → web-1');
      assert.equal(view.verdictKind, 'delivered');
      await vs.page.locator('.tabs-container .tab.active', { hasText: '10.244.0.3 → default/web-1' }).waitFor({ timeout: 10_000 });
      assert.deepEqual(vs.cspViolations(), [], 'a webview broke its Content Security Policy');
      await waitForToastsGone(vs);
      await vs.screenshot('trace-to-this-pod');
    }),
  );
});
