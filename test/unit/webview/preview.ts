// Screenshots of the path view outside VS Code: every case of cases.ts in every theme, through
// Debian's Chromium (headless, 127.0.0.1 only). Prints console errors and CSP violations.
//   npm run build && node --import tsx test/unit/webview/preview.ts [out-dir] [--serve]
// With --serve it prints the URLs and keeps serving until interrupted.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { cases } from './cases';
import { startPreview, THEMES, type Theme } from './preview-server';
import { vlanMessages } from './vlan-cases';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const out = args.find((a) => !a.startsWith('--')) ?? join(__dirname, '../../../test-artifacts/webview');
  // The hand-made VLAN traces too (the engine gives no tags on this branch yet).
  const all = { ...cases(), ...vlanMessages() };
  const preview = await startPreview(all);
  if (args.includes('--serve')) {
    for (const c of Object.keys(all)) console.log(preview.url(c));
  } else {
    mkdirSync(out, { recursive: true });
    const browser = await chromium.launch({ executablePath: process.env.NETPATH_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
    try {
      for (const theme of Object.keys(THEMES) as Theme[]) {
        for (const name of Object.keys(all)) {
          const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
          const problems: string[] = [];
          page.on('console', (m) => {
            if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
          });
          page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
          await page.goto(preview.url(name, theme));
          await page.waitForSelector('svg.path-diagram .hop');
          await page.evaluate('document.fonts.ready');
          const file = join(out, `${name}-${theme}.png`);
          await page.screenshot({ path: file, fullPage: true });
          console.log(`${file}${problems.length ? `\n  ${problems.join('\n  ')}` : ''}`);
          await page.close();
        }
      }
    } finally {
      await browser.close();
      await preview.close();
    }
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
