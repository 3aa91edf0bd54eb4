// Names from the cluster are data, never HTML. The webview's own code must not use any HTML sink:
// checked on its sources and on its bundled output. The full dist/webview/main.js cannot be
// grepped as a whole: Lit parses its own static templates with innerHTML and d3-selection defines
// (unused) .html(); so the guard bundles our code with the packages left external.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { build } from 'esbuild';

const repo = join(__dirname, '../../..');
const SINKS = /\binnerHTML\b|\bouterHTML\b|insertAdjacentHTML|\.html\(|document\.write|DOMParser|createContextualFragment|\bsrcdoc\b|\bsetHTML(Unsafe)?\b|\.on(error|load|click)\s*=/;

function sinks(text: string): string[] {
  return text.split('\n').filter((l) => SINKS.test(l) && !/^\s*(\/\/|\*)/.test(l));
}

test('the webview sources use no HTML sink', () => {
  const files = [...readdirSync(join(repo, 'webview')).filter((f) => f.endsWith('.ts')).map((f) => join(repo, 'webview', f)), join(repo, 'src/shared/protocol.ts')];
  assert.ok(files.length > 5);
  for (const f of files) assert.deepEqual(sinks(readFileSync(f, 'utf8')), [], f);
});

test('the webview code as bundled uses no HTML sink', async () => {
  const out = await build({ entryPoints: [join(repo, 'webview/main.ts')], bundle: true, write: false, format: 'esm', platform: 'browser', packages: 'external', logLevel: 'silent' });
  const js = out.outputFiles[0]!.text;
  assert.match(js, /textContent/, 'the bundle is our code');
  assert.deepEqual(sinks(js), []);
});

test('the built webview bundle is there and links the pieces the panel serves', () => {
  const dist = join(repo, 'dist/webview');
  for (const f of ['main.js', 'main.css', 'codicon.css', 'codicon.ttf']) assert.ok(existsSync(join(dist, f)), `dist/webview/${f} is missing: run node scripts/build.mjs`);
  const css = readFileSync(join(dist, 'codicon.css'), 'utf8');
  assert.match(css, /url\("\.\/codicon\.ttf/, 'codicon.css loads the font from beside it');
});
