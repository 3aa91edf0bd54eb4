// Label selectors (`app=web,tier in (a,b),!canary`) and field selectors (`spec.nodeName=k8s-node1`)
// with the apiserver's grammar (apimachinery pkg/labels and pkg/fields), so a client's queries are
// answered as a real server would answer them, and a malformed one is refused the same way.

export type Result<T> = { ok: true; value: T } | { ok: false; error: string };

export interface LabelRequirement {
  key: string;
  op: 'exists' | '!exists' | '=' | '!=' | 'in' | 'notin' | 'gt' | 'lt';
  values: string[];
}

/** Splits on commas outside parentheses. */
function splitTop(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

const KEY_RE = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]{0,61}[a-z0-9A-Z])?$/;
const VALUE_RE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

export function parseLabelSelector(text: string): Result<LabelRequirement[]> {
  const reqs: LabelRequirement[] = [];
  if (text.trim() === '') return { ok: true, value: reqs };
  for (const raw of splitTop(text)) {
    const part = raw.trim();
    let m: RegExpExecArray | null;
    let req: LabelRequirement | undefined;
    if ((m = /^!\s*(\S+)$/.exec(part))) req = { key: m[1]!, op: '!exists', values: [] };
    else if ((m = /^(\S+?)\s+(in|notin)\s*\(([^()]*)\)$/.exec(part))) {
      const values = m[3]!.split(',').map((v) => v.trim());
      req = { key: m[1]!, op: m[2] as 'in' | 'notin', values };
    } else if ((m = /^([^=!<>\s]+)\s*(==|=|!=|>|<)\s*(\S*)$/.exec(part))) {
      const op = m[2] === '==' || m[2] === '=' ? '=' : m[2] === '!=' ? '!=' : m[2] === '>' ? 'gt' : 'lt';
      req = { key: m[1]!, op, values: [m[3]!] };
    } else if ((m = /^([^=!<>\s()]+)$/.exec(part))) req = { key: m[1]!, op: 'exists', values: [] };
    if (!req) return { ok: false, error: `unable to parse requirement: found '${part}', expected: in, notin, =, ==, !=, gt, lt` };
    if (!KEY_RE.test(req.key)) return { ok: false, error: `unable to parse requirement: invalid label key "${req.key}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character` };
    for (const v of req.values) {
      if ((req.op === 'gt' || req.op === 'lt') && !/^-?\d+$/.test(v)) return { ok: false, error: `unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer` };
      if (req.op !== 'gt' && req.op !== 'lt' && !VALUE_RE.test(v)) return { ok: false, error: `unable to parse requirement: invalid label value: "${v}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character` };
    }
    reqs.push(req);
  }
  return { ok: true, value: reqs };
}

export function matchLabels(reqs: readonly LabelRequirement[], labels: Readonly<Record<string, string>> | undefined): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case 'exists':
        return has;
      case '!exists':
        return !has;
      case '=':
      case 'in':
        return has && r.values.includes(v!);
      case '!=':
      case 'notin':
        return !has || !r.values.includes(v!);
      case 'gt':
        return has && /^-?\d+$/.test(v!) && Number(v) > Number(r.values[0]);
      case 'lt':
        return has && /^-?\d+$/.test(v!) && Number(v) < Number(r.values[0]);
    }
  });
}

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

/** Splits on unescaped commas and unescapes `\,`, `\=` and `\\` in values. */
export function parseFieldSelector(text: string): Result<FieldRequirement[]> {
  const out: FieldRequirement[] = [];
  if (text.trim() === '') return { ok: true, value: out };
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\' && i + 1 < text.length) {
      cur += ch + text[++i]!;
    } else if (ch === ',') {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  for (const part of parts) {
    const m = /^([^=!]+?)(!=|==|=)(.*)$/s.exec(part);
    if (!m) return { ok: false, error: `invalid selector: '${part}'; can't understand '${part}'` };
    out.push({ field: m[1]!.trim(), op: m[2] === '!=' ? '!=' : '=', value: m[3]!.replace(/\\(.)/g, '$1') });
  }
  return { ok: true, value: out };
}

/**
 * Which fields of a resource may be selected on, as the apiserver registers them; anything else is a
 * 400 `field label not supported: X`.
 */
export function matchFields(reqs: readonly FieldRequirement[], fields: Readonly<Record<string, string>>): Result<boolean> {
  for (const r of reqs) {
    if (!(r.field in fields)) return { ok: false, error: `field label not supported: ${r.field}` };
  }
  return { ok: true, value: reqs.every((r) => (fields[r.field] === r.value) === (r.op === '=')) };
}
