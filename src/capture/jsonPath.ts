// JSON paths as error messages print them (`hosts[2].role`, `kubernetes.services[3].spec.ports[0]`),
// and the value a validator's issue path points at, for the capture document and its kubernetes section.

/** `base` followed by `path`: `.name` for identifier keys, `[0]` for indexes, `["a b"]` for any other key. */
export function jsonPath(base: string, path: readonly PropertyKey[]): string {
  let out = base;
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (typeof p === 'string' && /^[A-Za-z_$][\w$]*$/.test(p)) out += `.${p}`;
    else out += `[${JSON.stringify(String(p))}]`;
  }
  return out;
}

/** The value at `path` in `doc`, or undefined where the path leaves the document. */
export function valueAt(doc: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = doc;
  for (const p of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}
