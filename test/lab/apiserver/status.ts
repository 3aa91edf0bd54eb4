// `metav1.Status` bodies exactly as a real kube-apiserver (and the kubelet's streaming server)
// writes them, so a client's error handling is tested against the real shapes and words.

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface Status {
  kind?: 'Status';
  apiVersion?: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { name?: string; group?: string; kind?: string; causes?: StatusCause[] };
  code?: number;
}

/** An error a handler throws to answer with a Status. */
export class StatusError extends Error {
  constructor(readonly status: Status) {
    super(status.message ?? status.reason ?? 'Failure');
    this.name = 'StatusError';
  }
  get code(): number {
    return this.status.code ?? 500;
  }
}

/** How the apiserver names a resource in messages: `pods`, `daemonsets.apps`. */
export interface ResourceName {
  group: string;
  plural: string;
}

export function qualified(r: ResourceName): string {
  return r.group ? `${r.plural}.${r.group}` : r.plural;
}

function failure(code: number, reason: string, message: string, details?: Status['details']): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

function detailsOf(r: ResourceName, name: string): NonNullable<Status['details']> {
  return { name, ...(r.group ? { group: r.group } : {}), kind: r.plural };
}

/** `pods "web-0" not found` (404). */
export function notFound(r: ResourceName, name: string): Status {
  return failure(404, 'NotFound', `${qualified(r)} "${name}" not found`, detailsOf(r, name));
}

/** A path the server does not serve (404, the apiserver's own wording). */
export function pathNotFound(): Status {
  return failure(404, 'NotFound', 'the server could not find the requested resource', {});
}

/** `pods "x" already exists` (409). */
export function alreadyExists(r: ResourceName, name: string): Status {
  return failure(409, 'AlreadyExists', `${qualified(r)} "${name}" already exists`, detailsOf(r, name));
}

/**
 * RBAC's denial (403), e.g. `pods "web-0" is forbidden: User "u" cannot create resource "pods/exec" in
 * API group "" in the namespace "default"`.
 */
export function forbidden(opts: { resource: ResourceName; subresource?: string; name?: string; namespace?: string; user: string; verb: string }): Status {
  const { resource: r, subresource, name, namespace, user, verb } = opts;
  const what = name ? `${qualified(r)} "${name}"` : qualified(r);
  const res = subresource ? `${r.plural}/${subresource}` : r.plural;
  const scope = namespace ? ` in the namespace "${namespace}"` : ' at the cluster scope';
  return failure(403, 'Forbidden', `${what} is forbidden: User "${user}" cannot ${verb} resource "${res}" in API group "${r.group}"${scope}`, {
    ...(name ? { name } : {}),
    ...(r.group ? { group: r.group } : {}),
    kind: r.plural,
  });
}

/** A missing or wrong bearer token (401). */
export function unauthorized(): Status {
  return failure(401, 'Unauthorized', 'Unauthorized');
}

export function badRequest(message: string): Status {
  return failure(400, 'BadRequest', message);
}

export function methodNotAllowed(): Status {
  return failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
}

export function unsupportedMediaType(contentType: string): Status {
  return failure(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got ${contentType || 'none'})`);
}

/** Validation failure (422): `Pod "x" is invalid: spec.containers: Required value`. */
export function invalid(kind: string, name: string, causes: { field: string; message: string }[]): Status {
  const text = causes.map((c) => `${c.field}: ${c.message}`).join(', ');
  return failure(422, 'Invalid', `${kind} "${name}" is invalid: ${causes.length > 1 ? `[${text}]` : text}`, {
    name,
    kind,
    causes: causes.map((c) => ({ reason: 'FieldValueInvalid', message: c.message, field: c.field })),
  });
}

/** `Internal error occurred: ...` (500), as the apiserver wraps an error it cannot classify. */
export function internalError(message: string): Status {
  return failure(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });
}

// ---------------------------------------------------------------------------------------------
// Exec streams: what the kubelet's streaming server writes on channel 3 (no kind, no code)

/** The command exited 0. */
export function execSuccess(): Status {
  return { metadata: {}, status: 'Success' };
}

/** The command exited non-zero: the shape client-go and client-node turn into an exit code. */
export function execExitCode(argv: readonly string[], code: number): Status {
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${argv.join(' ')}], exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

/** The runtime could not run the command at all (containerd reports a failed exec this way). */
export function execInternalError(message: string): Status {
  return { metadata: {}, status: 'Failure', message: `Internal error occurred: ${message}`, reason: 'InternalError', details: { causes: [{ message }] }, code: 500 };
}

const REASONS: Record<number, string> = { 400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 405: 'MethodNotAllowed', 409: 'Conflict', 410: 'Expired', 422: 'Invalid', 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable', 504: 'Timeout' };

/** Any failure, for injected errors: the reason defaults to the one the apiserver uses for the code. */
export function statusFor(code: number, reason?: string, message?: string): Status {
  return failure(code, reason ?? REASONS[code] ?? 'Unknown', message ?? `injected failure (${code})`);
}
