// Contrast of the path view's text in VS Code's own themes (real VS Code, the theme set through the
// user settings): the step-kind chips, the verdict, the drop text in the diagram and the details, the
// evidence lines with their marked value, and the labels inside the diagram's boxes. Each colour is
// read as the browser computed it and composited over the background it is drawn on (for SVG text
// inside a box, the box's fill); WCAG's ratio must be at least 4.5:1.
// Slow (one VS Code per theme): `node scripts/test.mjs test/e2e/pathview-contrast.e2e.test.ts`.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Frame } from 'playwright-core';
import { stepper, VsCode } from './harness';
import { traceWeb0ToWeb1, waitForPathView, waitForToastsGone } from './pathView';

const skip = process.env.NETPATH_SKIP_E2E === '1' ? 'NETPATH_SKIP_E2E=1' : false;


interface Pair {
  what: string;
  text: string;
  fg: number[];
  bg: number[];
  ratio: number;
}

/**
 * For each element matching the selectors (inside the path view), its text colour (`fill` for SVG
 * text) over its background: the first opaque background among its ancestors, with translucent
 * ones above it composited in; SVG text in a hop box or device box is over that box's fill.
 */
async function contrastPairs(frame: Frame, selectors: string[]): Promise<Pair[]> {
  return (await frame.evaluate(`((selectors) => {
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 1;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    const rgba = (css) => {
      ctx.clearRect(0, 0, 1, 1);
      ctx.fillStyle = '#000000';
      ctx.fillStyle = css;
      ctx.fillRect(0, 0, 1, 1);
      const d = ctx.getImageData(0, 0, 1, 1).data;
      return [d[0], d[1], d[2], d[3] / 255];
    };
    const over = (top, under) => [0, 1, 2].map((i) => top[i] * top[3] + under[i] * (1 - top[3])).concat(1);
    const layers = (el) => {
      const out = [];
      for (let e = el; e; e = e.parentElement) {
        let paint = null;
        if (e instanceof SVGElement && e !== el) {
          const frame = e.matches('g.device') ? e.querySelector(':scope > rect.device-frame') : e.matches('g.hop') ? e.querySelector(':scope > rect.box-frame') : e.matches('g.nf-badge') ? e.querySelector(':scope > rect.nf-frame') : null;
          if (frame) {
            const cs = getComputedStyle(frame);
            const c = rgba(cs.fill);
            c[3] *= parseFloat(cs.fillOpacity || '1');
            paint = c;
          }
        } else if (!(e instanceof SVGElement)) {
          const c = rgba(getComputedStyle(e).backgroundColor);
          if (c[3] > 0) paint = c;
        }
        if (paint) {
          out.push(paint);
          if (paint[3] >= 0.999) break;
        }
      }
      return out;
    };
    const lum = (c) => {
      const f = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
      return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
    };
    const pairs = [];
    for (const sel of selectors) {
      for (const el of document.querySelectorAll(sel)) {
        if (!el.textContent.trim()) continue;
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.height === 0) continue;
        const ls = layers(el);
        let bg = [255, 255, 255, 1];
        for (let i = ls.length - 1; i >= 0; i--) bg = i === ls.length - 1 && ls[i][3] >= 0.999 ? ls[i] : over(ls[i], bg);
        const cs = getComputedStyle(el);
        const fg0 = rgba(el instanceof SVGElement ? cs.fill : cs.color);
        fg0[3] *= el instanceof SVGElement ? parseFloat(cs.fillOpacity || '1') : 1;
        const fg = over(fg0, bg);
        const a = lum(fg);
        const b = lum(bg);
        const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        pairs.push({ what: sel, text: el.textContent.trim().slice(0, 40), fg: fg.slice(0, 3).map(Math.round), bg: bg.slice(0, 3).map(Math.round), ratio: Math.round(ratio * 100) / 100 });
      }
    }
    return pairs;
  })(${JSON.stringify(selectors)})`)) as Pair[];
}

// Everything the issue names, plus the diagram's labels.
const SELECTORS = [
  '.steps .step-kind',
  '.trace-head .verdict',
  '.details-end strong',
  '.details-end span',
  'svg.path-diagram .end-drop .end-label',
  '.evidence .evidence-raw',
  '.evidence mark.deciding',
  '.evidence .evidence-loc',
  '.step-text',
  'svg.path-diagram .box-title',
  'svg.path-diagram .box-subtitle',
  'svg.path-diagram .device-label',
  'svg.path-diagram .wire-line',
];

for (const theme of ['Default High Contrast', 'Default Light Modern', 'Default High Contrast Light', 'Default Dark Modern']) {
  const slug = theme.toLowerCase().replace(/\s+/g, '-');
  describe(`Path view contrast in ${theme}`, { skip, timeout: 5 * 60_000 }, () => {
    let vs: VsCode | undefined;
    const run = stepper(() => vs);

    before(async () => {
      vs = await VsCode.launch({ name: `pathview-${slug}`, settings: { 'workbench.colorTheme': theme } });
    });

    after(async () => {
      await vs?.close();
    });

    it(
      'a dropped trace (1500 bytes over web-0\'s MTU) and a delivered one: every text the view draws has at least 4.5:1 against its background',
      run('contrast', async (vs) => {
        await vs.runCommand('netpath: Load Demo Capture');
        await vs.webviewFrame('k8s-node1');
        await traceWeb0ToWeb1(vs, { size: 1500 });
        const view = await waitForPathView(vs, 'web-0 → web-1', { flow: '1500 bytes' });
        assert.equal(view.verdictKind, 'drop');
        // The theme really is the one asked for (VS Code marks the webview's body with its kind).
        assert.equal(await view.frame.evaluate('document.body.dataset.vscodeThemeKind'), theme.includes('High Contrast') ? (theme.includes('Light') ? 'vscode-high-contrast-light' : 'vscode-high-contrast') : theme.includes('Light') ? 'vscode-light' : 'vscode-dark');
        await waitForToastsGone(vs);
        await vs.screenshot(`pathview-contrast-${slug}-drop`);
        const pairs = await contrastPairs(view.frame, SELECTORS);
        for (const sel of ['.steps .step-kind', '.trace-head .verdict', '.details-end strong', 'svg.path-diagram .end-drop .end-label', '.evidence .evidence-raw', '.evidence mark.deciding']) {
          assert.ok(pairs.some((p) => p.what === sel), `nothing drawn for ${sel}: ${JSON.stringify(pairs.map((p) => p.what))}`);
        }
        const lowest = new Map<string, Pair>();
        for (const p of pairs) if (!lowest.has(p.what) || lowest.get(p.what)!.ratio > p.ratio) lowest.set(p.what, p);
        console.log(`# ${theme}: lowest contrast per kind of text: ${[...lowest.values()].map((p) => `${p.what} ${p.ratio} (rgb(${p.fg.join(',')}) on rgb(${p.bg.join(',')}))`).join('; ')}`);
        const low = pairs.filter((p) => p.ratio < 4.5);
        assert.deepEqual(low, [], `text below 4.5:1 in ${theme}`);

        // The delivered trace: its verdict, the diagram's devices and wire headers.
        await traceWeb0ToWeb1(vs);
        const ok = await waitForPathView(vs, 'web-0 → web-1', { flow: '64 bytes' });
        assert.equal(ok.verdictKind, 'delivered');
        await waitForToastsGone(vs);
        await vs.screenshot(`pathview-contrast-${slug}-delivered`);
        const more = await contrastPairs(ok.frame, [...SELECTORS, 'svg.path-diagram .end-delivered .end-label', 'svg.path-diagram .tunnel-label']);
        assert.ok(more.some((p) => p.what === 'svg.path-diagram .wire-line'), 'no wire header lines drawn');
        assert.deepEqual(more.filter((p) => p.ratio < 4.5), [], `text below 4.5:1 in ${theme} (delivered)`);
      }),
    );
  });
}
