// The VLAN labels on the path view's wires in Debian's Chromium under the panel's CSP, in the dark,
// light and high-contrast themes (test/unit/webview/themes): drawn with the tag (or "untagged"),
// each with its tooltip, no console errors, and at least 4.5:1 against the view's background (the
// threshold the VS Code contrast e2e test holds every diagram text to). Hand-made traces (vlan-cases.ts):
// the engine does not produce tags on this branch yet. Needs `node scripts/build.mjs` first.
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { repo, startPreview, type Preview, type Theme } from './preview-server';
import { vlanMessages } from './vlan-cases';

const chromiumPath = process.env.NETPATH_CHROMIUM ?? '/usr/bin/chromium';
const skip = !existsSync(chromiumPath) ? `no Chromium at ${chromiumPath} (apt-get install chromium)` : false;

interface Label {
  text: string;
  cls: string;
  title: string;
  ratio: number;
}

/** Each VLAN label's text, class, tooltip and contrast against the first opaque background behind it. */
const LABELS = `(() => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length >= 3 && (c.length < 4 || c[3] > 0)) return c;
    }
    return rgb(getComputedStyle(document.documentElement).backgroundColor);
  };
  return [...document.querySelectorAll('svg.path-diagram text.wire-vlan')].map((t) => {
    const fg = lum(rgb(getComputedStyle(t).fill));
    const bg = lum(background(t.closest('svg').parentElement));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    return { text: t.textContent.replace(t.querySelector('title')?.textContent ?? '', ''), cls: t.getAttribute('class'), title: t.querySelector('title')?.textContent ?? '', ratio: Math.round(ratio * 100) / 100 };
  });
})()`;

describe('VLAN labels in the path view (Chromium)', { skip, timeout: 120_000 }, () => {
  let browser: Browser;
  let preview: Preview;

  before(async () => {
    assert.ok(existsSync(join(repo, 'dist/webview/main.js')), 'dist/webview/main.js is missing: run node scripts/build.mjs');
    preview = await startPreview(vlanMessages());
    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-gpu'] });
  });

  after(async () => {
    await browser?.close();
    await preview?.close();
  });

  for (const theme of ['dark', 'light', 'hc-dark'] as Theme[]) {
    test(`${theme}: each wire's tag or "untagged" is drawn, with its tooltip, readable (>= 4.5:1), without errors`, async () => {
      for (const [name, want] of [
        ['vlan', ['untagged', 'VLAN 10', 'VLAN 20', 'untagged']],
        ['vlan-fork', ['untagged', 'VLAN 10', 'VLAN 20', 'untagged', '802.1Q 100.10']],
      ] as const) {
        const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
        const problems: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
        });
        page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
        await page.route('**/favicon.ico', (r) => r.fulfill({ status: 204 }));
        await page.goto(preview.url(name, theme));
        await page.locator('svg.path-diagram g.hop').first().waitFor();
        const labels = (await page.evaluate(LABELS)) as Label[];
        assert.deepEqual(labels.map((l) => l.text).sort(), [...want].sort(), `${name} (${theme})`);
        for (const l of labels) {
          assert.match(l.title, l.text === 'untagged' ? /^Untagged/ : /^Tagged/, `${name}: ${l.text}'s tooltip`);
          assert.equal(l.cls.includes('tagged') && !l.cls.includes('untagged'), l.text !== 'untagged', `${name}: ${l.text} is classed by whether it is tagged (${l.cls})`);
          assert.ok(l.ratio >= 4.5, `${name} (${theme}): "${l.text}" at ${l.ratio}:1`);
        }
        assert.deepEqual(problems, [], `${name} (${theme})`);
        await page.close();
      }
    });
  }
});
