// TEMPORARY: being written by a helper now; replaced before the first commit.
import type { Family } from '../engine/addr';
import type { ParseResult, RuleRecord } from './types';
export function parseRules(_text: string, _family: Family): ParseResult<RuleRecord> {
  return { format: 'empty', records: [], issues: [] };
}
