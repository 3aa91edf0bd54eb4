// The path view's diagram in real VS Code at the sizes users run it: the demo's cross-node trace
// (web-0 on k8s-node1 -> web-1 on k8s-node2, five hops) must be whole and legible in the webview at
// 1400x900 and at 1000x700 with the sidebar open; a broken capture's drop hop must be selected and in
// view, and stay in view after zooming in twice. Screenshots at each size are kept in test-artifacts/.
// Slow (a server and a browser): `node scripts/test.mjs test/e2e/pathview-fit.e2e.test.ts`.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Frame } from 'playwright-core';
import { repoRoot } from '../../scripts/code-server.mjs';
import { stepper, VsCode } from './harness';
import { markPathViewsStale, readDetails, traceWeb0ToWeb1, waitForPathView, waitForToastsGone } from './pathView';

const skip = process.env.NETPATH_SKIP_E2E === '1' ? 'NETPATH_SKIP_E2E=1' : false;


/** The demo capture with k8s-node1's route to k8s-node2's pod subnet removed. */
function brokenCapture(): string {
  const capture = JSON.parse(readFileSync(join(repoRoot, 'examples', 'demo-flannel-vxlan.json'), 'utf8')) as { hosts: { name: string; probes: Record<string, string> }[] };
  const node1 = capture.hosts.find((h) => h.name === 'k8s-node1')!;
  const route = /^10\.244\.1\.0\/24 via 10\.244\.1\.0 dev flannel\.1 onlink *\n/m;
  assert.match(node1.probes.routes4!, route, 'the demo capture changed: k8s-node1 no longer has the route this test removes');
  node1.probes.routes4 = node1.probes.routes4!.replace(route, '');
  return JSON.stringify(capture, null, 1);
}

interface HopRect {
  label: string;
  selected: boolean;
  rect: { left: number; top: number; right: number; bottom: number };
  inside: boolean;
  /** As much of the box as the view can hold is in it (all of it, when it is smaller than the view). */
  shown: boolean;
}

interface DiagramGeometry {
  scale: number;
  /** The smallest font size drawn in the diagram, times the zoom. */
  smallestText: number;
  view: { left: number; top: number; right: number; bottom: number };
  hops: HopRect[];
}

/**
 * Every hop box's rectangle against what the webview shows of the diagram: the diagram's own
 * box clipped to the webview's window (a box under the edge of either is not visible).
 */
async function geometry(frame: Frame): Promise<DiagramGeometry> {
  return (await frame.evaluate(`(() => {
    const svg = document.querySelector('svg.path-diagram');
    const v = svg.getBoundingClientRect();
    const view = { left: Math.max(0, v.left), top: Math.max(0, v.top), right: Math.min(window.innerWidth, v.right), bottom: Math.min(window.innerHeight, v.bottom) };
    const scale = Number(svg.getAttribute('data-scale'));
    let smallest = Infinity;
    for (const t of svg.querySelectorAll('g.hop text, .end-label, .wire-line')) {
      if (!t.textContent || t.classList.contains('role-icon')) continue;
      smallest = Math.min(smallest, parseFloat(getComputedStyle(t).fontSize));
    }
    const hops = [...svg.querySelectorAll('g.hop')].map((g) => {
      const r = g.querySelector('rect.box-frame').getBoundingClientRect();
      const rect = { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
      const inside = r.width > 0 && r.left >= view.left - 0.5 && r.top >= view.top - 0.5 && r.right <= view.right + 0.5 && r.bottom <= view.bottom + 0.5;
      const visW = Math.min(r.right, view.right) - Math.max(r.left, view.left);
      const visH = Math.min(r.bottom, view.bottom) - Math.max(r.top, view.top);
      // (the view keeps a 12 px margin round the box it brings into view)
      const shown = visW >= Math.min(r.width, view.right - view.left - 24) - 1 && visH >= Math.min(r.height, view.bottom - view.top - 24) - 1;
      return { label: g.getAttribute('aria-label') || '', selected: g.getAttribute('aria-pressed') === 'true', rect, inside, shown };
    });
    return { scale, smallestText: smallest * scale, view, hops };
  })()`)) as DiagramGeometry;
}

/** Waits (the view refits on resize) until every hop box is in view, then returns the geometry. */
async function waitAllInView(frame: Frame, timeoutMs = 20_000): Promise<DiagramGeometry> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const g = await geometry(frame);
    if (g.hops.length > 0 && g.hops.every((h) => h.inside)) return g;
    if (Date.now() > deadline) return g;
    await frame.page().waitForTimeout(100);
  }
}

const outside = (g: DiagramGeometry) => JSON.stringify({ view: g.view, scale: g.scale, out: g.hops.filter((h) => !h.inside).map((h) => ({ hop: h.label.split(';')[0], rect: h.rect })) });

describe('The path view fits the path in real VS Code', { skip, timeout: 6 * 60_000 }, () => {
  let vs: VsCode | undefined;
  const run = stepper(() => vs);

  before(async () => {
    vs = await VsCode.launch({ name: 'pathview-fit', viewport: { width: 1400, height: 900 }, files: { 'captures/no-route-to-node2.json': brokenCapture() } });
  });

  after(async () => {
    await vs?.close();
  });

  it(
    'at 1400x900 and at 1000x700 with the sidebar open, every hop of web-0 -> web-1 (5 hops, across nodes) is inside the view and legible',
    run('fit-sizes', async (vs) => {
      assert.ok(await vs.page.locator('.part.sidebar').isVisible(), 'the sidebar should be open');
      await vs.runCommand('netpath: Load Demo Capture');
      await vs.webviewFrame('k8s-node1');
      await traceWeb0ToWeb1(vs);
      const view = await waitForPathView(vs, 'web-0 → web-1');
      assert.deepEqual(view.hops.map((h) => h.host), ['web-0', 'k8s-node1', 'tor', 'k8s-node2', 'web-1']);
      await waitForToastsGone(vs);

      for (const size of [{ width: 1400, height: 900 }, { width: 1000, height: 700 }]) {
        await vs.page.setViewportSize(size);
        const g = await waitAllInView(view.frame);
        assert.equal(g.hops.length, 5);
        assert.ok(g.hops.every((h) => h.inside), `at ${size.width}x${size.height} some hops are outside the view: ${outside(g)}`);
        assert.ok(g.smallestText >= 9 - 1e-6, `at ${size.width}x${size.height} the smallest text is drawn at ${g.smallestText.toFixed(2)}px (zoom ${g.scale})`);
        await vs.screenshot(`pathview-fit-${size.width}x${size.height}`);
      }

      // The devices the packet passes in k8s-node1, in order, and the VXLAN stretch with its device.
      const devices = await view.frame.locator('svg.path-diagram g.hop').filter({ has: view.frame.locator('text.box-title', { hasText: /^k8s-node1$/ }) }).locator('.device-label').allTextContents();
      assert.deepEqual(devices, ['veth53842afe', 'cni0', 'flannel.1', 'eth0']);
      const tunnel = await view.frame.locator('svg.path-diagram .tunnel-label').allTextContents();
      assert.ok(tunnel.some((t) => t.includes('VNI 1') && t.includes('10.4.7.21') && t.includes('flannel.1')), JSON.stringify(tunnel));
      assert.deepEqual(vs.cspViolations(), [], 'the webview broke its Content Security Policy');
    }),
  );

  it(
    'a capture without k8s-node1\'s route to 10.244.1.0/24: the drop hop (gw) is selected and in view, and stays in view after zooming in twice',
    run('drop-in-view', async (vs) => {
      await vs.page.setViewportSize({ width: 1000, height: 700 });
      await vs.runCommand('netpath: Open Network Capture...');
      await vs.chooseFileInDialog(join(vs.workspace, 'captures', 'no-route-to-node2.json'));
      await vs.webviewFrame('no-route-to-node2.json');
      await markPathViewsStale(vs);
      await traceWeb0ToWeb1(vs);
      // The hidden path view comes back first with what it showed (the delivered trace, redrawn from its
      // state), then shows the new one: wait for the drop.
      const view = await waitForPathView(vs, 'web-0 → web-1', { verdictKind: 'drop' });
      assert.equal(view.verdictKind, 'drop');
      assert.equal((await readDetails(view.frame)).host, 'gw');
      await waitForToastsGone(vs);

      const g = await waitAllInView(view.frame);
      const drop = g.hops.find((h) => h.selected);
      assert.ok(drop && /^Hop \d+ of \d+: gw,/.test(drop.label), `the selected hop should be gw: ${JSON.stringify(g.hops.map((h) => [h.label.split(';')[0], h.selected]))}`);
      assert.ok(drop.inside, `the drop hop is not in view: ${outside(g)}`);
      await vs.screenshot('pathview-drop-1000x700');

      const zoomIn = view.frame.locator('.zoom-controls button[data-zoom="zoom-in"]');
      await zoomIn.click();
      await zoomIn.click();
      const deadline = Date.now() + 10_000;
      let z = await geometry(view.frame);
      while (!(z.scale >= g.scale * 1.5 && z.hops.find((h) => h.selected)?.shown) && Date.now() < deadline) {
        await vs.page.waitForTimeout(100);
        z = await geometry(view.frame);
      }
      assert.ok(z.scale >= g.scale * 1.5, `two zoom-ins took the scale from ${g.scale} to ${z.scale}`);
      const sel = z.hops.find((h) => h.selected);
      // Zoomed in, the box may be wider than the view: as much of it as fits is shown, from its title.
      assert.ok(sel && /: gw,/.test(sel.label) && sel.shown, `after zooming in the selected hop is not in view: ${JSON.stringify(sel)} in ${JSON.stringify(z.view)}`);
      assert.ok(sel.rect.left >= z.view.left - 0.5 && sel.rect.top >= z.view.top - 0.5, `the selected hop's title corner is out of view: ${JSON.stringify(sel)}`);
      await vs.screenshot('pathview-drop-zoomed');

      // 0 fits the path again (keyboard), and every hop is back in view.
      await view.frame.locator('svg.path-diagram g.hop[tabindex="0"]').focus();
      await vs.page.keyboard.press('0');
      const back = await waitAllInView(view.frame);
      assert.ok(back.hops.every((h) => h.inside), `after 0 (fit): ${outside(back)}`);
      assert.deepEqual(vs.cspViolations(), [], 'the webview broke its Content Security Policy');
    }),
  );
});

