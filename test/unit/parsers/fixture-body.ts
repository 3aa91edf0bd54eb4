// Reads a golden fixture's probe text (the part after the `---` header line), for the per-probe unit tests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export function fixtureBody(probe: string, name: string): string {
  const text = readFileSync(join(__dirname, '../../fixtures/parsers', probe, `${name}.txt`), 'utf8');
  const i = text.indexOf('\n---\n');
  if (i < 0) throw new Error(`${probe}/${name}.txt has no --- line`);
  return text.slice(i + 5);
}

/** Records as plain JSON without `src`, to compare two forms (text and JSON) of the same table. */
export function withoutSrc(records: readonly object[]): unknown[] {
  return records.map((r) => {
    const { src: _src, ...rest } = JSON.parse(JSON.stringify(r)) as { src: unknown };
    return rest;
  });
}
