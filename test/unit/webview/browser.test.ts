// The path view in Debian's Chromium (headless, 127.0.0.1 only) under the trace panel's CSP, fed
// real traces by a stub acquireVsCodeApi (preview-server.ts): no CSP violations, hostile names
// shown as text, keyboard navigation, exports and evidence links as protocol messages, and the
// selection restored after a reload. Needs `node scripts/build.mjs` first (npm test does it).
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { summarizeCapture } from '../../../src/capture/summary';
import { isFromWebview } from '../../../src/shared/protocol';
import { cases, demo, HOSTILE_NS, HOSTILE_POD } from './cases';
import { repo, startPreview, type Preview, type Theme } from './preview-server';

const chromiumPath = process.env.NETPATH_CHROMIUM ?? '/usr/bin/chromium';
const skip = !existsSync(chromiumPath) ? `no Chromium at ${chromiumPath} (apt-get install chromium)` : false;

interface Opened {
  page: Page;
  problems: string[];
  dialogs: string[];
}

describe('path view in Chromium', { skip, timeout: 120_000 }, () => {
  let browser: Browser;
  let preview: Preview;
  const all = cases();

  before(async () => {
    assert.ok(existsSync(join(repo, 'dist/webview/main.js')), 'dist/webview/main.js is missing: run node scripts/build.mjs');
    preview = await startPreview({ ...all, capture: { type: 'showCapture', source: 'examples/demo-flannel-vxlan.json', summary: summarizeCapture(demo()) } });
    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-gpu'] });
  });

  after(async () => {
    await browser?.close();
    await preview?.close();
  });

  async function open(name: string, theme: Theme = 'dark'): Promise<Opened> {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const problems: string[] = [];
    const dialogs: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    // favicon.ico is the only request the page does not make itself.
    await page.route('**/favicon.ico', (r) => r.fulfill({ status: 204 }));
    await page.goto(preview.url(name, theme));
    await page.locator('svg.path-diagram g.hop').first().waitFor();
    return { page, problems, dialogs };
  }

  const posted = (page: Page) => page.evaluate('window.__posted') as Promise<unknown[]>;

  test('every case renders under the strict CSP with no errors (dark; two cases in light and high contrast)', async () => {
    const runs = [...Object.keys(all).map((name) => ['dark', name] as const), ...(['light', 'hc-dark'] as const).flatMap((theme) => ['flood', 'no-fdb-entry'].map((name) => [theme, name] as const))];
    for (const [theme, name] of runs) {
      const { page, problems } = await open(name, theme);
      const hops = await page.locator('svg.path-diagram g.hop').count();
      assert.ok(hops >= 1, `${name}: no hops drawn`);
      assert.deepEqual(problems, [], `${name} (${theme})`);
      await page.close();
    }
  });

  test('the same webview still shows a capture summary (the capture panel)', async () => {
    const page = await browser.newPage();
    await page.route('**/favicon.ico', (r) => r.fulfill({ status: 204 }));
    await page.goto(preview.url('capture'));
    await page.locator('table').waitFor();
    assert.equal(await page.locator('h1').textContent(), 'Capture of demo-flannel-vxlan');
    assert.equal(await page.locator('tr', { hasText: 'default/web-0 on k8s-node1' }).count(), 1);
    await page.close();
  });

  test('a CSP violation would be seen (so "no errors" above means something)', async () => {
    const { page, problems } = await open('pod-to-pod');
    await page.evaluate("document.body.append(Object.assign(document.createElement('img'), { src: 'https://example.invalid/probe.png' }))");
    await page.waitForTimeout(300);
    assert.ok(problems.some((p) => /Content Security Policy/.test(p)), problems.join('\n'));
    await page.close();
  });

  test('a pod named <img src=x onerror=alert(1)> is shown as text, and nothing runs', async () => {
    const { page, dialogs, problems } = await open('hostile');
    assert.equal(await page.locator('img').count(), 0);
    assert.equal(await page.locator('[onerror], [onload]').count(), 0);
    assert.equal(await page.locator('h1').textContent(), `web-0 → ${HOSTILE_POD}`);
    assert.equal(await page.locator('svg .box-title', { hasText: HOSTILE_POD }).count(), 1);
    assert.equal(await page.locator('svg .box-subtitle', { hasText: HOSTILE_NS }).count(), 1);
    await page.locator('svg g.hop').nth(4).click();
    assert.equal(await page.locator('.details-host').textContent(), HOSTILE_POD);
    assert.equal(await page.locator('.details-role').textContent(), `pod in ${HOSTILE_NS}`);
    assert.deepEqual(dialogs, []);
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('keyboard: Tab reaches the hops, arrows move between them, Enter selects', async () => {
    const { page } = await open('pod-to-pod');
    let onHop = false;
    for (let i = 0; i < 12 && !onHop; i++) {
      await page.keyboard.press('Tab');
      onHop = (await page.locator('g.hop:focus').count()) === 1;
    }
    assert.ok(onHop, 'Tab never reached a hop');
    assert.match((await page.locator('g.hop:focus').getAttribute('aria-label'))!, /^Hop 1 of 5: web-0/);
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    assert.match((await page.locator('g.hop:focus').getAttribute('aria-label'))!, /^Hop 3 of 5: tor, switch/);
    assert.equal(await page.locator('.details-host').textContent(), 'web-0', 'arrows move focus, not the selection');
    await page.keyboard.press('Enter');
    assert.equal(await page.locator('.details-host').textContent(), 'tor');
    assert.equal(await page.locator('g.hop[aria-pressed="true"]').getAttribute('aria-label').then((l) => l?.split(':')[1]?.trim().split(',')[0]), 'tor');
    await page.keyboard.press('End');
    await page.keyboard.press(' ');
    assert.equal(await page.locator('.details-host').textContent(), 'web-1');
    assert.equal(await page.locator('g.hop[tabindex="0"]').count(), 1, 'one tab stop in the diagram');
    await page.close();
  });

  test('arrow keys cross to another branch, and a path in the list selects where it ends', async () => {
    const { page } = await open('flood');
    await page.locator('svg g.hop').nth(3).click(); // k8s-node2, where the flood forks
    await page.locator('svg g.hop').nth(3).focus();
    await page.keyboard.press('ArrowDown');
    assert.match((await page.locator('g.hop:focus').getAttribute('aria-label'))!, /coredns/);
    await page.locator('.path-item').nth(1).click();
    assert.match((await page.locator('.details-host').textContent())!, /^coredns/);
    assert.equal(await page.locator('.path-item[aria-pressed="true"]').count(), 1);
    assert.match((await page.locator('.details-end').textContent())!, /wrong destination/);
    await page.close();
  });

  test('details: steps with evidence; clicking a location asks the extension to reveal that line', async () => {
    const { page } = await open('pod-to-pod');
    await page.locator('svg g.hop').nth(1).click();
    const steps = page.locator('.steps > li');
    assert.equal(await steps.count(), all['pod-to-pod']!.trace.hops[1]!.steps.length);
    const fdb = page.locator('.step-fdb');
    assert.match((await fdb.locator('.evidence-raw').textContent())!, /dev flannel\.1 dst 10\.4\.7\.22 /);
    await fdb.locator('button.evidence-loc').click();
    const m = (await posted(page)).at(-1) as { type: string; host: string; probe: string; line: number };
    assert.equal(m.type, 'revealEvidence');
    assert.deepEqual([m.host, m.probe], ['k8s-node1', 'fdb']);
    assert.ok(isFromWebview(m));
    await page.close();
  });

  test('Export SVG posts a standalone SVG (theme colours resolved, names escaped); Export JSON asks the extension', async () => {
    const { page } = await open('hostile', 'light');
    await page.locator('vscode-button', { hasText: 'Export SVG' }).click();
    await page.locator('vscode-button', { hasText: 'Export JSON' }).click();
    const msgs = await posted(page);
    assert.ok(msgs.every(isFromWebview), JSON.stringify(msgs).slice(0, 300));
    const svg = (msgs.find((m) => (m as { type: string }).type === 'exportSvg') as { svg: string }).svg;
    assert.ok(msgs.some((m) => (m as { type: string }).type === 'exportJson'));
    assert.ok(!svg.includes('var(--vscode'), 'colours are resolved');
    assert.ok(svg.includes('&lt;img src=x onerror=alert(1)&gt;'), 'the name is escaped text in the file');
    assert.ok(!svg.includes('<img'));
    assert.ok(!/tabindex|aria-pressed/.test(svg));
    const parsed = await page.evaluate(`(() => { const d = new DOMParser().parseFromString(${JSON.stringify(svg)}, 'image/svg+xml'); return [d.documentElement.nodeName, d.getElementsByTagName('parsererror').length, d.querySelectorAll('g.hop').length]; })()`);
    assert.deepEqual(parsed, ['svg', 0, 5]);
    await page.close();
  });

  test('the selection survives a reload of the webview (state), and the webview says ready again', async () => {
    const { page } = await open('pod-to-pod');
    await page.locator('svg g.hop').nth(3).click();
    assert.equal(await page.locator('.details-host').textContent(), 'k8s-node2');
    await page.reload();
    await page.locator('svg.path-diagram g.hop').first().waitFor();
    await page.waitForTimeout(100); // the extension's answer to `ready` arrives after the restore
    assert.equal(await page.locator('.details-host').textContent(), 'k8s-node2');
    assert.deepEqual(await posted(page), [{ type: 'ready' }]);
    await page.close();
  });
});
