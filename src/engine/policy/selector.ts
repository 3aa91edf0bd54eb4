// Label selectors (metav1.LabelSelector) compiled once into a predicate: matchLabels and
// matchExpressions are ANDed; an empty selector matches everything. NotIn and DoesNotExist match an
// object that lacks the key, as labels.Selector does. Label maps are read by own keys only, so a
// label named `constructor` or `toString` is a label like any other.
import type { KubeLabelSelector } from '../../capture/kubernetes';
import type { PolicyWarning } from './types';

export type Labels = Readonly<Record<string, string>>;

export interface Selector {
  matches(labels: Labels): boolean;
  /** Matches every object (no matchLabels, no matchExpressions). */
  readonly empty: boolean;
}

const has = (o: Labels, k: string) => Object.prototype.hasOwnProperty.call(o, k);

type Test = (labels: Labels) => boolean;

export const MATCH_ALL: Selector = { matches: () => true, empty: true };

export function compileSelector(sel: KubeLabelSelector): Selector {
  const tests: Test[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels)) tests.push((l) => has(l, k) && l[k] === v);
  for (const e of sel.matchExpressions) {
    const values = new Set(e.values);
    const k = e.key;
    switch (e.operator) {
      case 'In':
        tests.push((l) => has(l, k) && values.has(l[k]!));
        break;
      case 'NotIn':
        tests.push((l) => !has(l, k) || !values.has(l[k]!));
        break;
      case 'Exists':
        tests.push((l) => has(l, k));
        break;
      case 'DoesNotExist':
        tests.push((l) => !has(l, k));
        break;
    }
  }
  if (tests.length === 0) return MATCH_ALL;
  if (tests.length === 1) return { matches: tests[0]!, empty: false };
  return { matches: (l) => tests.every((t) => t(l)), empty: false };
}

const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

/**
 * A selector from an object nothing has validated (an admin policy's `subject.namespaces`): checked as
 * the API server would, with a warning per problem. Undefined when it does not fit.
 */
export function readSelector(raw: unknown, path: string, warn: (w: PolicyWarning) => void): Selector | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    warn({ path, message: `expected a label selector (an object with matchLabels and/or matchExpressions), got ${show(raw)}` });
    return undefined;
  }
  const o = raw as Record<string, unknown>;
  const matchLabels: Record<string, string> = {};
  let ok = true;
  if (o.matchLabels !== undefined) {
    if (typeof o.matchLabels !== 'object' || o.matchLabels === null || Array.isArray(o.matchLabels)) {
      warn({ path: `${path}.matchLabels`, message: `expected a map of label keys to values, got ${show(o.matchLabels)}` });
      ok = false;
    } else {
      for (const [k, v] of Object.entries(o.matchLabels)) {
        if (typeof v !== 'string') {
          warn({ path: `${path}.matchLabels[${JSON.stringify(k)}]`, message: `expected a string label value, got ${show(v)}` });
          ok = false;
        } else matchLabels[k] = v;
      }
    }
  }
  const matchExpressions: KubeLabelSelector['matchExpressions'] = [];
  if (o.matchExpressions !== undefined) {
    if (!Array.isArray(o.matchExpressions)) {
      warn({ path: `${path}.matchExpressions`, message: `expected a list of expressions, got ${show(o.matchExpressions)}` });
      ok = false;
    } else {
      o.matchExpressions.forEach((e: unknown, i) => {
        const p = `${path}.matchExpressions[${i}]`;
        const x = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
        const values = x.values === undefined ? [] : x.values;
        if (typeof x.key !== 'string') {
          warn({ path: `${p}.key`, message: `expected a label key, got ${show(x.key)}` });
          ok = false;
        } else if (!OPERATORS.includes(x.operator as (typeof OPERATORS)[number])) {
          warn({ path: `${p}.operator`, message: `expected one of In, NotIn, Exists, DoesNotExist, got ${show(x.operator)}` });
          ok = false;
        } else if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) {
          warn({ path: `${p}.values`, message: `expected a list of strings, got ${show(values)}` });
          ok = false;
        } else {
          matchExpressions.push({ key: x.key, operator: x.operator as (typeof OPERATORS)[number], values: values as string[] });
        }
      });
    }
  }
  return ok ? compileSelector({ matchLabels, matchExpressions }) : undefined;
}

export function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  return JSON.stringify(v)?.slice(0, 80) ?? String(v);
}
