// The layer boundaries of STYLE.md are enforced by the linter: prove the rule fires.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';

const repo = join(__dirname, '../../..');
const eslint = new ESLint({ cwd: repo });

async function restricted(file: string, code: string, rule = 'no-restricted-imports'): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath: join(repo, file) });
  return r!.messages.filter((m) => m.ruleId === rule).map((m) => m.message);
}

test('pure layers may not import vscode or Node built-ins', async () => {
  for (const dir of ['net', 'engine', 'parsers', 'capture', 'shared']) {
    assert.equal((await restricted(`src/${dir}/x.ts`, "import * as fs from 'node:fs';\nexport const a = fs;\n")).length, 1, dir);
    assert.equal((await restricted(`src/${dir}/x.ts`, "import type * as vscode from 'vscode';\nexport type A = vscode.Uri;\n")).length, 1, dir);
    assert.equal((await restricted(`src/${dir}/x.ts`, "import { run } from '../cli/main';\nexport const a = run;\n")).length, 1, dir);
  }
  assert.equal((await restricted('src/engine/x.ts', "import { isIP } from 'net';\nexport const a = isIP;\n")).length, 1);
  assert.deepEqual(await restricted('src/engine/x.ts', "import { Addr } from '../net/addr';\nexport const a = Addr;\n"), []);
});

test('layers import only downward: net < parsers < capture < engine < shared', async () => {
  const below = (file: string, spec: string) => restricted(file, `import * as m from '${spec}';\nexport const a = m;\n`);
  assert.equal((await below('src/net/x.ts', '../parsers')).length, 1);
  assert.equal((await below('src/net/x.ts', '../engine/network')).length, 1);
  assert.equal((await below('src/parsers/x.ts', '../engine/fib')).length, 1);
  assert.equal((await below('src/parsers/x.ts', '../capture/document')).length, 1);
  assert.equal((await below('src/capture/x.ts', '../engine')).length, 1);
  assert.equal((await below('src/engine/x.ts', '../shared/protocol')).length, 1);
  assert.deepEqual(await below('src/parsers/x.ts', '../net/addr'), []);
  assert.deepEqual(await below('src/capture/x.ts', '../parsers'), []);
  assert.deepEqual(await below('src/engine/x.ts', '../capture/document'), []);
  assert.deepEqual(await below('src/shared/x.ts', '../engine/trace'), []);
});

test('no two modules import each other (import-x/no-cycle), as in the real tree', async () => {
  // neighRecord.ts imports nothing from the readers; a module it imported that imports it back is a cycle.
  const cyclic = await restricted('src/parsers/common.ts', "import { parseArp } from './arp';\nexport const a = parseArp;\n", 'import-x/no-cycle');
  assert.equal(cyclic.length, 1, 'a cycle through arp.ts -> common.ts is reported');
  assert.deepEqual(await restricted('src/parsers/neighRecord.ts', "import type { Line } from './common';\nexport type L = Line;\n", 'import-x/no-cycle'), []);
});

test('the webview imports only src/shared', async () => {
  assert.equal((await restricted('webview/x.ts', "import { parseProbe } from '../src/parsers';\nexport const a = parseProbe;\n")).length, 1);
  assert.equal((await restricted('webview/x.ts', "import * as vscode from 'vscode';\nexport const a = vscode;\n")).length, 1);
  assert.deepEqual(await restricted('webview/x.ts', "import type { ToWebview } from '../src/shared/protocol';\nexport type A = ToWebview;\n"), []);
});

test('shells may use Node built-ins', async () => {
  assert.deepEqual(await restricted('src/cli/x.ts', "import { readFileSync } from 'node:fs';\nexport const a = readFileSync;\n"), []);
});
