// The harness's own helpers against VS Code's built-in views and language features, so a test of a
// netpath tree view or hover that fails points at netpath, not at the harness.
// Run with `node scripts/test.mjs test/e2e`; NETPATH_SKIP_E2E=1 skips it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { stepper, VsCode } from './harness';

const skip = process.env.NETPATH_SKIP_E2E === '1' ? 'NETPATH_SKIP_E2E=1' : false;

describe('e2e harness in real VS Code', { skip, timeout: 15 * 60_000 }, () => {
  let vs: VsCode | undefined;
  const run = stepper(() => vs);

  before(async () => {
    vs = await VsCode.launch({
      name: 'harness',
      files: {
        // Two children, so the Explorer does not compact nested/inner into one row.
        'nested/inner/leaf.txt': 'leaf\n',
        'nested/top.txt': 'top\n',
        'hover.css': 'a {\n  color: red;\n}\n',
      },
    });
  });

  after(async () => {
    await vs?.close();
  });

  it(
    'openViewContainer and expandTreeRow walk the Explorer tree',
    run('tree', async (vs) => {
      await vs.openViewContainer('Explorer');
      assert.ok((await vs.treeRows()).includes('nested'), JSON.stringify(await vs.treeRows()));
      await vs.expandTreeRow('nested');
      await vs.expandTreeRow('inner');
      await vs.page.locator('.part.sidebar .monaco-list-row', { hasText: 'leaf.txt' }).waitFor();
      assert.ok((await vs.treeRows()).includes('leaf.txt'), JSON.stringify(await vs.treeRows()));
    }),
  );

  it(
    'hoverAt shows the hover of a language feature at a line and column',
    run('hover', async (vs) => {
      // The CSS language server describes `color` when hovered.
      const text = await vs.hoverAt('hover.css', 2, 4);
      assert.match(text, /color/i);
    }),
  );

  it(
    'runCommand and pickQuickItem drive the palette and a quick pick',
    run('quick-pick', async (vs) => {
      await vs.runCommand('View: Toggle Word Wrap');
      await vs.runCommand('Preferences: Color Theme');
      await vs.pickQuickItem('Dark Modern');
      await vs.page.locator('.monaco-workbench.vs-dark').waitFor({ timeout: 15_000 });
    }),
  );
});
