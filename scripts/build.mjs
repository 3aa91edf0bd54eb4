// Builds the bundles: the extension's entry and its app (node/cjs, vscode external), client-node, the CLI (node) and the webview (browser).
import { build } from 'esbuild';
import { chmod, copyFile, mkdir, rm } from 'node:fs/promises';

const production = process.argv.includes('--production');
const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'warning', legalComments: 'none' };

await rm('dist', { recursive: true, force: true });
await Promise.all([
  // The extension's entry registers and forwards only; everything else is dist/app.js, loaded on first
  // use (src/vscode/extension.ts), so that activation reads and compiles a few KiB.
  build({ ...common, entryPoints: ['src/vscode/extension.ts'], outfile: 'dist/extension.js', platform: 'node', format: 'cjs', target: 'node20', external: ['vscode'] }),
  build({ ...common, entryPoints: ['src/vscode/app.ts'], outfile: 'dist/app.js', platform: 'node', format: 'cjs', target: 'node20', external: ['vscode'] }),
  build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', platform: 'node', format: 'cjs', target: 'node20', banner: { js: '#!/usr/bin/env node' } }),
  // client-node on its own, loaded by the extension on first cluster use (src/vscode/kubeModule.ts).
  build({ ...common, entryPoints: ['src/kube/clientNode.ts'], outfile: 'dist/kube.js', platform: 'node', format: 'cjs', target: 'node20' }),
  build({ ...common, entryPoints: ['webview/main.ts'], outfile: 'dist/webview/main.js', platform: 'browser', format: 'esm', target: 'es2022' }),
]);
await chmod('dist/cli.js', 0o755);
await mkdir('dist/webview', { recursive: true });
await copyFile('webview/main.css', 'dist/webview/main.css');
// The codicon font for <vscode-icon>, vscode-button icons and the diagram's role glyphs: the webview
// links codicon.css (id `vscode-codicon-stylesheet`), which loads codicon.ttf from beside it.
for (const f of ['codicon.css', 'codicon.ttf']) await copyFile(`node_modules/@vscode/codicons/dist/${f}`, `dist/webview/${f}`);
