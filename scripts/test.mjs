// Runs every *.test.ts under test/ and src/ with Node's built-in runner (TypeScript through tsx).
// Node 20's `node --test` does not expand globs, so the files are collected here.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const roots = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const flags = process.argv.slice(2).filter((a) => a.startsWith('-'));
// test/e2e starts VS Code and a browser (slow): it runs only when named, `node scripts/test.mjs test/e2e`.
const skip = new Set(['node_modules', 'dist', '.git', 'e2e']);
function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (skip.has(name)) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}
const files = (roots.length ? roots : ['src', 'test']).flatMap((r) => (statSync(r).isDirectory() ? walk(r, []) : [r])).sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
// Some tests run the built CLI (dist/cli.js) as a whole process: build it when it is missing or older
// than a source file, so a fresh clone or an edit is tested as it is, not as it was last built.
const newest = (dir) => readdirSync(dir, { withFileTypes: true }).reduce((t, e) => Math.max(t, e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs), 0);
const built = (() => {
  try {
    return statSync('dist/cli.js').mtimeMs;
  } catch {
    return -1;
  }
})();
if (built < Math.max(newest('src'), newest('webview'))) {
  console.error(built < 0 ? 'dist/cli.js is missing: building first (node scripts/build.mjs)' : 'dist/ is older than the sources: building first (node scripts/build.mjs)');
  const b = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...flags, ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
