// The packaged extension: a production build in a scratch copy (so the working dist/ other tests
// use is untouched), packaged with vsce; the .vsix holds the bundles and nothing from src/ or test/.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const repo = join(__dirname, '../../..');

test('npm run package builds a .vsix with the three bundles and no sources, tests or lab', () => {
  const dir = mkdtempSync(join(tmpdir(), 'netpath-pkg-'));
  try {
    for (const f of ['package.json', '.vscodeignore', 'README.md', 'CHANGELOG.md', 'LICENSE', 'tsconfig.json', 'src', 'webview', 'scripts', 'media', 'examples', 'test']) {
      cpSync(join(repo, f), join(dir, f), { recursive: true });
    }
    symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'));
    execFileSync('npm', ['run', '--silent', 'package'], { cwd: dir, stdio: 'pipe' });
    const listing = execFileSync('python3', ['-c', 'import sys,zipfile; print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))', join(dir, 'dist/netpath.vsix')], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter((n) => n.startsWith('extension/'))
      .map((n) => n.slice('extension/'.length))
      .sort();
    for (const f of ['package.json', 'dist/extension.js', 'dist/app.js', 'dist/cli.js', 'dist/webview/main.js', 'dist/webview/main.css', 'media/icon.png', 'examples/demo-flannel-vxlan.json']) assert.ok(listing.includes(f), `${f} missing from the .vsix: ${listing.join(', ')}`);
    for (const f of listing) assert.ok(!/^(src|test|webview|scripts|node_modules)\/|\.map$|\.ts$/.test(f), `${f} should not be in the .vsix`);
    // The extension bundle is CommonJS for node and leaves `vscode` to the host.
    const ext = readFileSync(join(dir, 'dist/extension.js'), 'utf8');
    assert.match(ext, /require\("vscode"\)/);
    assert.ok(readFileSync(join(dir, 'dist/cli.js'), 'utf8').startsWith('#!/usr/bin/env node'));
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    assert.ok(manifest.publisher && manifest.engines.vscode && manifest.icon && manifest.categories.length && manifest.activationEvents.length && manifest.bin.netpath);
    for (const c of manifest.contributes.commands) assert.ok(manifest.activationEvents.includes(`onCommand:${c.command}`), `${c.command} has no activation event`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
