import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = ['node:*', 'fs', 'fs/*', 'path', 'os', 'child_process', 'http', 'https', 'net', 'tls', 'crypto', 'stream', 'util', 'events', 'url', 'zlib', 'process', 'buffer'];
const pure = {
  patterns: [
    { group: ['vscode'], message: 'The engine, parsers, capture and shared layers are pure: no vscode (STYLE.md).' },
    { group: nodeBuiltins, message: 'The engine, parsers, capture and shared layers are pure: no Node built-ins, no I/O (STYLE.md).' },
    { group: ['**/kube/**', '**/cli/**', '**/vscode/**'], message: 'Pure layers must not import the shells.' },
  ],
};

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
  { files: ['src/engine/**/*.ts', 'src/parsers/**/*.ts', 'src/capture/**/*.ts', 'src/shared/**/*.ts'], rules: { 'no-restricted-imports': ['error', pure] } },
  {
    files: ['webview/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['vscode', ...nodeBuiltins], message: 'The webview runs in a browser: no vscode, no Node built-ins.' },
          { group: ['**/src/*', '!**/src/shared', '**/src/engine/*', '**/src/parsers/*', '**/src/capture/*', '**/src/kube/*', '**/src/cli/*', '**/src/vscode/*'], message: 'The webview imports only src/shared (STYLE.md).' },
        ],
      }],
    },
  },
  { files: ['scripts/**/*.mjs', 'eslint.config.mjs'], languageOptions: { globals: { process: 'readonly', console: 'readonly' } } },
);
