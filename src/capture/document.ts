// The capture document (shared/spec/capture-v1.md): parse and validate JSON text, and write it back.
// Pure: the shells read and write files. Unknown fields are kept (a capture may carry more than v1
// names), unknown probes produce warnings, and every error names the JSON path and what was expected.
import { z } from 'zod';
import { Addr, Prefix } from '../net/addr';
import { isProbeName } from '../parsers';
import { jsonPath, valueAt } from './jsonPath';
import { readKubernetes, type KubeSection } from './kubernetes';

export const API_VERSION = 'netpath/v1';

const ip = z.string().refine((s) => Addr.parse(s).ok, { message: 'expected an IPv4 or IPv6 address' });
const cidr = z.string().refine((s) => s.includes('/') && Prefix.parse(s).ok, { message: 'expected a CIDR prefix such as 10.244.0.0/24' });

const hostSchema = z.looseObject({
  name: z.string().min(1, 'expected a non-empty host name'),
  role: z.enum(['node', 'pod', 'router', 'switch']),
  node: z.string().min(1).optional(),
  namespace: z.string().optional(),
  pod: z.string().optional(),
  hostNetwork: z.boolean().optional(),
  ips: z.array(ip).optional(),
  podCIDRs: z.array(cidr).optional(),
  probes: z.record(z.string(), z.string()).optional(),
});

const endpointSchema = z.looseObject({ host: z.string().min(1), dev: z.string().min(1) });

const captureSchema = z.looseObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Capture'),
  metadata: z.looseObject({ cluster: z.string().optional(), capturedAt: z.string().optional() }).optional(),
  hosts: z.array(hostSchema),
  links: z.array(z.looseObject({ a: endpointSchema, b: endpointSchema })).optional(),
  // What the Kubernetes API says (kubernetes.ts reads it): checked object by object, so a malformed
  // object is a warning with its path and never fails the capture.
  kubernetes: z.unknown().optional(),
});

export type Host = z.infer<typeof hostSchema>;
export type CaptureLink = NonNullable<z.infer<typeof captureSchema>['links']>[number];
export type Capture = z.infer<typeof captureSchema>;
export type Role = Host['role'];

export interface CaptureProblem {
  /** JSON path such as `hosts[2].role`, or `(root)`. */
  path: string;
  message: string;
}

export type LoadResult = { ok: true; capture: Capture; warnings: CaptureProblem[] } | { ok: false; errors: CaptureProblem[] };

export function formatPath(path: readonly PropertyKey[]): string {
  return jsonPath('', path).replace(/^\./, '') || '(root)';
}

/** Parses capture JSON text. Never throws. */
export function parseCapture(text: string): LoadResult {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { ok: false, errors: [{ path: '(root)', message: `not valid JSON: ${e instanceof Error ? e.message : String(e)}` }] };
  }
  return validateCapture(doc);
}

/** Validates a parsed JSON value as a v1 capture, with cross-reference checks. */
export function validateCapture(doc: unknown): LoadResult {
  const versionError = checkVersion(doc);
  if (versionError) return { ok: false, errors: [versionError] };
  let capture: Capture;
  // A 500-node capture has 15,000 hosts: a plain check of the common case first, the schema (and
  // its messages) only when that check finds something wrong.
  if (plainlyValid(doc)) capture = doc;
  else {
    const r = captureSchema.safeParse(doc);
    if (!r.success) {
      return { ok: false, errors: r.error.issues.map((i) => ({ path: formatPath(i.path), message: describeIssue(i, doc) })) };
    }
    capture = r.data;
  }
  const errors: CaptureProblem[] = [];
  const warnings: CaptureProblem[] = [];
  const byName = new Map<string, number>();
  capture.hosts.forEach((h, i) => {
    const first = byName.get(h.name);
    if (first !== undefined) errors.push({ path: `hosts[${i}].name`, message: `duplicate host name "${h.name}" (also hosts[${first}]); host names must be unique` });
    else byName.set(h.name, i);
  });
  capture.hosts.forEach((h, i) => {
    if (h.role === 'pod') {
      if (h.node === undefined) errors.push({ path: `hosts[${i}].node`, message: `pod "${h.name}" must name the node it runs on` });
      else {
        const n = byName.get(h.node);
        if (n === undefined) errors.push({ path: `hosts[${i}].node`, message: `pod "${h.name}" runs on node "${h.node}", which is not a host in this capture` });
        else if (capture.hosts[n]!.role !== 'node') errors.push({ path: `hosts[${i}].node`, message: `pod "${h.name}" runs on "${h.node}", which has role "${capture.hosts[n]!.role}", not "node"` });
      }
    } else {
      for (const f of ['node', 'namespace', 'pod', 'hostNetwork'] as const) {
        if (h[f] !== undefined) warnings.push({ path: `hosts[${i}].${f}`, message: `"${f}" is meaningful only for pods; ignored on a ${h.role}` });
      }
    }
    if (h.podCIDRs !== undefined && h.role !== 'node') warnings.push({ path: `hosts[${i}].podCIDRs`, message: `podCIDRs is meaningful only for nodes; ignored on a ${h.role}` });
    for (const p of Object.keys(h.probes ?? {})) {
      if (!isProbeName(p)) warnings.push({ path: `hosts[${i}].probes.${p}`, message: `unknown probe "${p}" is ignored` });
    }
  });
  (capture.links ?? []).forEach((l, i) => {
    for (const side of ['a', 'b'] as const) {
      if (!byName.has(l[side].host)) errors.push({ path: `links[${i}].${side}.host`, message: `link end names host "${l[side].host}", which is not in this capture` });
    }
  });
  for (const issue of readKubernetes(capture.kubernetes).issues) warnings.push(issue);
  return errors.length ? { ok: false, errors } : { ok: true, capture, warnings };
}

const ROLES: readonly unknown[] = hostSchema.shape.role.options;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const optString = (v: unknown, nonEmpty = false) => v === undefined || (typeof v === 'string' && (!nonEmpty || v.length > 0));
const optArray = (v: unknown, each: (x: unknown) => boolean) => v === undefined || (Array.isArray(v) && v.every(each));
const isIp = (x: unknown) => typeof x === 'string' && Addr.parse(x).ok;
const isCidr = (x: unknown) => typeof x === 'string' && x.includes('/') && Prefix.parse(x).ok;

/**
 * Exactly the captures `captureSchema` accepts unchanged (it has no defaults or transforms): true
 * only when every field it checks is plainly right, so that anything else goes through the schema
 * and gets its message.
 */
function plainlyValid(doc: unknown): doc is Capture {
  if (!isObject(doc) || doc.apiVersion !== API_VERSION || doc.kind !== 'Capture') return false;
  const m = doc.metadata;
  if (m !== undefined && !(isObject(m) && optString(m.cluster) && optString(m.capturedAt))) return false;
  if (!Array.isArray(doc.hosts)) return false;
  for (const h of doc.hosts as unknown[]) {
    if (!isObject(h) || typeof h.name !== 'string' || h.name.length === 0 || !ROLES.includes(h.role)) return false;
    if (!optString(h.node, true) || !optString(h.namespace) || !optString(h.pod)) return false;
    if (h.hostNetwork !== undefined && typeof h.hostNetwork !== 'boolean') return false;
    if (!optArray(h.ips, isIp) || !optArray(h.podCIDRs, isCidr)) return false;
    const p = h.probes;
    if (p !== undefined && !(isObject(p) && Object.values(p).every((v) => typeof v === 'string'))) return false;
  }
  const end = (e: unknown) => isObject(e) && typeof e.host === 'string' && e.host.length > 0 && typeof e.dev === 'string' && e.dev.length > 0;
  return optArray(doc.links, (l) => isObject(l) && end(l.a) && end(l.b));
}

/** The capture's `kubernetes` section, typed and defaulted (empty lists when the capture has none). */
export function kubernetesOf(capture: Capture): KubeSection {
  return readKubernetes(capture.kubernetes);
}

function checkVersion(doc: unknown): CaptureProblem | undefined {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return { path: '(root)', message: 'expected a JSON object (a netpath capture document)' };
  const v = (doc as Record<string, unknown>).apiVersion;
  if (v === undefined) return { path: 'apiVersion', message: `missing; expected "${API_VERSION}"` };
  if (typeof v === 'string') {
    const m = /^netpath\/v(\d+)$/.exec(v);
    if (m && Number(m[1]) > 1) return { path: 'apiVersion', message: `this capture is "${v}", newer than this netpath reads ("${API_VERSION}"): upgrade netpath to open it` };
  }
  return undefined;
}

function describeIssue(i: z.core.$ZodIssue, doc: unknown): string {
  const got = valueAt(doc, i.path);
  const shown = got === undefined ? 'nothing' : JSON.stringify(got)?.slice(0, 80);
  if (i.code === 'invalid_value') return `expected one of ${i.values.map((v) => JSON.stringify(v)).join(', ')}, got ${shown}`;
  if (i.code === 'invalid_type') return `expected ${i.expected}, got ${got === undefined ? 'nothing' : shown}`;
  return `${i.message}, got ${shown}`;
}

/** Serialises a capture with stable key order and two-space indent, ending with a newline. */
export function serializeCapture(capture: Capture): string {
  const order = ['apiVersion', 'kind', 'metadata', 'hosts', 'links', 'kubernetes'];
  const hostOrder = ['name', 'role', 'node', 'namespace', 'pod', 'hostNetwork', 'ips', 'podCIDRs', 'probes'];
  const sorted = (o: Record<string, unknown>, first: string[]) =>
    Object.fromEntries([...first.filter((k) => k in o), ...Object.keys(o).filter((k) => !first.includes(k))].map((k) => [k, o[k]]));
  const doc = sorted({ ...capture, hosts: capture.hosts.map((h) => sorted(h, hostOrder)) }, order);
  return JSON.stringify(doc, null, 2) + '\n';
}

export function findHost(capture: Capture, name: string): Host | undefined {
  return capture.hosts.find((h) => h.name === name);
}
