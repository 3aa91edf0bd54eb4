// The layer boundaries of STYLE.md are enforced by the linter: prove the rule fires.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';

const repo = join(__dirname, '../../..');
const eslint = new ESLint({ cwd: repo });

async function restricted(file: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath: join(repo, file) });
  return r!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

test('pure layers may not import vscode or Node built-ins', async () => {
  for (const dir of ['engine', 'parsers', 'capture', 'shared']) {
    assert.equal((await restricted(`src/${dir}/x.ts`, "import * as fs from 'node:fs';\nexport const a = fs;\n")).length, 1, dir);
    assert.equal((await restricted(`src/${dir}/x.ts`, "import type * as vscode from 'vscode';\nexport type A = vscode.Uri;\n")).length, 1, dir);
    assert.equal((await restricted(`src/${dir}/x.ts`, "import { run } from '../cli/main';\nexport const a = run;\n")).length, 1, dir);
  }
  assert.deepEqual(await restricted('src/engine/x.ts', "import { Addr } from './addr';\nexport const a = Addr;\n"), []);
});

test('the webview imports only src/shared', async () => {
  assert.equal((await restricted('webview/x.ts', "import { parseProbe } from '../src/parsers';\nexport const a = parseProbe;\n")).length, 1);
  assert.equal((await restricted('webview/x.ts', "import * as vscode from 'vscode';\nexport const a = vscode;\n")).length, 1);
  assert.deepEqual(await restricted('webview/x.ts', "import type { ToWebview } from '../src/shared/protocol';\nexport type A = ToWebview;\n"), []);
});

test('shells may use Node built-ins', async () => {
  assert.deepEqual(await restricted('src/cli/x.ts', "import { readFileSync } from 'node:fs';\nexport const a = readFileSync;\n"), []);
});
