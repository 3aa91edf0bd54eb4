// Golden tests: every fixture under test/fixtures/parsers/<probe>/NAME.txt is parsed as <probe>
// and compared with NAME.json. A fixture starts with a header naming its source, ended by `---`.
// UPDATE_GOLDEN=1 rewrites the .json files (review the diff before committing them).
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isProbeName, parseProbe } from '../../../src/parsers';

const root = join(__dirname, '../../fixtures/parsers');

export function readFixture(path: string): { header: string; body: string } {
  const text = readFileSync(path, 'utf8');
  const i = text.indexOf('\n---\n');
  if (!text.startsWith('source:') || i < 0) throw new Error(`${path}: a fixture starts with "source: ..." and a "---" line`);
  return { header: text.slice(0, i), body: text.slice(i + 5) };
}

for (const probe of readdirSync(root).sort()) {
  if (!isProbeName(probe)) throw new Error(`fixture folder ${probe} is not a probe name`);
  for (const file of readdirSync(join(root, probe)).filter((f) => f.endsWith('.txt')).sort()) {
    test(`golden ${probe}/${file}`, () => {
      const { body } = readFixture(join(root, probe, file));
      const got = JSON.parse(JSON.stringify(parseProbe(probe, body)));
      const expectedPath = join(root, probe, file.replace(/\.txt$/, '.json'));
      if (process.env.UPDATE_GOLDEN === '1' || !existsSync(expectedPath)) {
        if (process.env.UPDATE_GOLDEN !== '1') assert.fail(`${expectedPath} is missing: run with UPDATE_GOLDEN=1 and review it`);
        writeFileSync(expectedPath, JSON.stringify(got, null, 2) + '\n');
        return;
      }
      assert.deepEqual(got, JSON.parse(readFileSync(expectedPath, 'utf8')));
    });
  }
}
