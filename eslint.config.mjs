import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

// Node's built-in modules by exact name (a pattern such as 'net' would also match any path with a
// folder of that name, e.g. '../net/addr'), and the node: scheme and subpaths by pattern.
const builtinNames = ['fs', 'path', 'os', 'child_process', 'http', 'https', 'net', 'tls', 'crypto', 'stream', 'util', 'events', 'url', 'zlib', 'process', 'buffer'];
const builtinPatterns = ['node:*', 'fs/*'];
const pureMessage = 'The net, parsers, capture, engine and shared layers are pure: no Node built-ins, no I/O (STYLE.md).';
const pure = {
  paths: builtinNames.map((name) => ({ name, message: pureMessage })),
  patterns: [
    { group: ['vscode'], message: 'The net, parsers, capture, engine and shared layers are pure: no vscode (STYLE.md).' },
    { group: builtinPatterns, message: pureMessage },
    { group: ['**/kube/**', '**/cli/**', '**/vscode/**'], message: 'Pure layers must not import the shells.' },
  ],
};

const LAYERS = ['net', 'parsers', 'capture', 'engine', 'shared'];

/** One no-restricted-imports entry per pure layer: the pure rules plus every layer above it. */
function pureLayers() {
  return LAYERS.map((layer, i) => {
    const above = LAYERS.slice(i + 1);
    const patterns = above.length
      ? [{ group: above.flatMap((l) => [`**/${l}`, `**/${l}/**`]), message: `Layers import only downward (net < parsers < capture < engine < shared): ${layer} may not import ${above.join(', ')}.` }]
      : [];
    return { files: [`src/${layer}/**/*.ts`], rules: { 'no-restricted-imports': ['error', { paths: pure.paths, patterns: [...pure.patterns, ...patterns] }] } };
  });
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.vscode-test/**', '.cache/**', 'test-artifacts/**', 'test/lab/.state/**', '**/*.vsix'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // The pure layers import only downward: net < parsers < capture < engine (< shared, which carries the
  // engine's types to the webview). A folder never imports one above it.
  ...pureLayers(),
  // No two modules import each other, directly or round about.
  {
    files: ['src/**/*.ts', 'webview/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.mjs', '.json'] })],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    files: ['webview/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: builtinNames.map((name) => ({ name, message: 'The webview runs in a browser: no Node built-ins.' })),
        patterns: [
          { group: ['vscode', ...builtinPatterns], message: 'The webview runs in a browser: no vscode, no Node built-ins.' },
          { group: ['**/src/*', '!**/src/shared', '**/src/net/*', '**/src/engine/*', '**/src/parsers/*', '**/src/capture/*', '**/src/kube/*', '**/src/cli/*', '**/src/vscode/*'], message: 'The webview imports only src/shared (STYLE.md).' },
        ],
      }],
    },
  },
  { files: ['scripts/**/*.mjs', 'eslint.config.mjs'], languageOptions: { globals: { process: 'readonly', console: 'readonly' } } },
);
