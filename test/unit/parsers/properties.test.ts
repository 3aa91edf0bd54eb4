// Property tests for every parser: random and mutated input never throws, and a broken line next
// to well-formed ones never costs a well-formed record.
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { PROBES, parseProbe, type ProbeName, type ProbeRecord } from '../../../src/parsers';
import { looksLikeJson } from '../../../src/parsers/common';

const root = join(__dirname, '../../fixtures/parsers');

function fixtures(probe: ProbeName): { name: string; body: string }[] {
  if (!existsSync(join(root, probe))) return [];
  const files = readdirSync(join(root, probe)).filter((f) => f.endsWith('.txt'));
  return files.map((f) => {
    const text = readFileSync(join(root, probe, f), 'utf8');
    return { name: f, body: text.slice(text.indexOf('\n---\n') + 5) };
  });
}

/** A record without its position, to compare records across inputs whose line numbers differ. */
const content = (r: ProbeRecord) => JSON.stringify({ ...r, src: { raw: r.src.raw } });

const runs = Number(process.env.PROPERTY_RUNS ?? 200);

describe('parsers never throw', () => {
  for (const probe of PROBES) {
    test(`${probe}: arbitrary text`, () => {
      fc.assert(
        fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 400 }), fc.array(fc.string({ maxLength: 80 }), { maxLength: 20 }).map((ls) => ls.join('\n'))), (text) => {
          const r = parseProbe(probe, text);
          assert.ok(Array.isArray(r.records) && Array.isArray(r.issues));
          const n = text.split('\n').length;
          for (const i of r.issues) assert.ok(i.line >= 1 && i.line <= n, `issue line ${i.line} outside 1..${n}`);
        }),
        { numRuns: runs },
      );
    });

    const fx = fixtures(probe);
    if (fx.length === 0) continue;
    test(`${probe}: mutated fixtures`, () => {
      fc.assert(
        fc.property(fc.constantFrom(...fx), fc.nat(), fc.nat(), fc.string({ maxLength: 12 }), fc.constantFrom('insert', 'delete', 'truncate', 'duplicate'), (f, li, ci, junk, op) => {
          const ls = f.body.split('\n');
          const i = li % ls.length;
          const line = ls[i]!;
          const at = line.length ? ci % line.length : 0;
          if (op === 'insert') ls[i] = line.slice(0, at) + junk + line.slice(at);
          else if (op === 'delete') ls[i] = line.slice(0, at) + line.slice(at + 1 + (ci % 5));
          else if (op === 'truncate') ls[i] = line.slice(0, at);
          else ls.splice(i, 0, line);
          parseProbe(probe, ls.join('\n'));
        }),
        { numRuns: runs },
      );
    });

    // nft -j prints one JSON object (`{"nftables": [...]}`): a JSON form too, not lines.
    const textual = fx.filter((f) => !looksLikeJson(f.body) && !/^\s*\{/.test(f.body));
    if (textual.length === 0) continue;
    test(`${probe}: a broken line beside well-formed ones loses none of them`, () => {
      fc.assert(
        fc.property(fc.constantFrom(...textual), fc.nat(), fc.stringMatching(/^[a-z0-9 .:/]{0,30}$/), (f, pos, tail) => {
          const before = parseProbe(probe, f.body);
          const ls = f.body.split('\n');
          const at = pos % (ls.length + 1);
          const broken = `%%${tail}`;
          ls.splice(at, 0, broken);
          const after = parseProbe(probe, ls.join('\n'));
          const got = new Set(after.records.map(content));
          for (const r of before.records) assert.ok(got.has(content(r)), `lost ${JSON.stringify(r.src)} after inserting "${broken}" at line ${at + 1} of ${f.name}`);
          assert.ok(after.issues.some((i) => i.line === at + 1), `no issue reported for the broken line ${at + 1} of ${f.name}`);
        }),
        { numRuns: runs },
      );
    });
  }
});
