// A small HTTPS server that speaks the Kubernetes API for a netns lab, so that kubectl and
// @kubernetes/client-node work against the lab as against a real cluster: discovery, list/get/watch
// of the objects in model.ts (JSON or meta.k8s.io Table), pod create/delete and ephemeral
// containers, and pods/exec over WebSocket running real commands in the lab's namespaces.
//
// Test infrastructure only. It listens on 127.0.0.1 only, checks a bearer token, and runs commands
// only inside the lab's namespaces.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Lab } from '../netns';
import type { BuiltCluster } from '../topology';
import { ExecSession, EXEC_PROTOCOLS, ImageBins, LabRunner, parseExecQuery, type ExecRecord } from './exec';
import { FaultSet, type Fault } from './faults';
import { ClusterModel, type ImageSpec, type ModelEvent, type PodRecord } from './model';
import type { KubeObject } from './objects';
import { apiVersionOf, findResource, groupVersions, resourceList, toTable, type ResourceDef } from './resources';
import { matchFields, matchLabels, parseFieldSelector, parseLabelSelector } from './selectors';
import { badRequest, forbidden, methodNotAllowed, notFound, pathNotFound, StatusError, statusFor, unauthorized, unsupportedMediaType, type Status } from './status';
import { makeTls } from './tls';

export interface LabApiServerOptions {
  lab: Lab;
  built: BuiltCluster;
  /** The minor version /version and the kubelets report (default 31). kubectl >= 1.30 execs over WebSocket, 1.29 over SPDY (not served). */
  minor?: number;
  /** Who the token authenticates as; appears in Forbidden messages (default `netpath-lab-admin`). */
  user?: string;
  /** The bearer token (random when absent). */
  token?: string;
  /** Create the `kubernetes` and `kube-dns` services (default true). */
  services?: boolean;
  /** Where the certificates and the kubeconfig go; a fresh temp directory, removed on close, when absent. */
  dir?: string;
  /** Progress and request lines. */
  log?: (line: string) => void;
}

export interface RequestRecord {
  method: string;
  path: string;
  query: string;
  code: number;
  userAgent: string;
  at: number;
}

const PUBLIC_PATHS = new Set(['/version', '/healthz', '/livez', '/readyz']);
const MAX_BODY = 4 * 1024 * 1024;

interface Watcher {
  res: ServerResponse;
  end: () => void;
}

/** Parsed request path: a discovery document or a resource (collection, object, subresource). */
type Route =
  | { kind: 'discovery'; group: string; version: string }
  | { kind: 'group'; group: string }
  | { kind: 'resource'; def: ResourceDef; namespace: string | undefined; name: string | undefined; sub: string | undefined };

export class LabApiServer {
  readonly model: ClusterModel;
  readonly faults = new FaultSet();
  /** Every exec, in the order they ended. */
  readonly execs: ExecRecord[] = [];
  /** Every request (also refused ones and upgrades), in the order they finished. */
  readonly requests: RequestRecord[] = [];
  readonly token: string;
  readonly user: string;
  readonly caPem: string;
  private url_ = '';
  private kubeconfigPath_ = '';
  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private readonly runner: LabRunner;
  private readonly binsDir: string;
  private readonly bins: ImageBins;
  private readonly sockets = new Set<Duplex>();
  private readonly sessions = new Set<ExecSession>();
  private readonly watchers = new Set<Watcher>();
  private readonly ownDir: boolean;
  private readonly dir: string;
  private readonly log: (line: string) => void;
  private readonly minor: number;
  private closed = false;

  private constructor(private readonly opts: LabApiServerOptions) {
    this.minor = opts.minor ?? 31;
    if (this.minor < 30) throw new Error(`minor ${this.minor}: kubectl below 1.30 execs over SPDY, which this server does not speak; use 30 or more`);
    this.ownDir = opts.dir === undefined;
    this.dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'netpath-apiserver-'));
    this.log = opts.log ?? (() => {});
    this.token = opts.token ?? randomBytes(24).toString('hex');
    this.user = opts.user ?? 'netpath-lab-admin';
    const tls = makeTls(this.dir);
    this.caPem = tls.caPem;
    this.model = new ClusterModel(opts.built, { minor: this.minor, caPem: tls.caPem, services: opts.services ?? true });
    this.runner = new LabRunner(opts.lab);
    this.binsDir = mkdtempSync(join(tmpdir(), 'netpath-apiserver-images-'));
    this.bins = new ImageBins(this.binsDir);
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, handleProtocols: (offered) => EXEC_PROTOCOLS.find((p) => offered.has(p)) ?? false });
    this.server = createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => void this.handle(req, res));
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server.on('secureConnection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.model.on('event', (e: ModelEvent) => this.onModelEvent(e));
  }

  /** Makes the certificates, starts listening on 127.0.0.1 (a free port) and writes the kubeconfig. */
  static async start(opts: LabApiServerOptions): Promise<LabApiServer> {
    const s = new LabApiServer(opts);
    try {
      await new Promise<void>((resolve, reject) => {
        s.server.once('error', reject);
        s.server.listen(0, '127.0.0.1', () => resolve());
      });
      const addr = s.server.address();
      if (addr === null || typeof addr === 'string') throw new Error('the server has no TCP address');
      s.url_ = `https://127.0.0.1:${addr.port}`;
      s.kubeconfigPath_ = join(s.dir, 'kubeconfig');
      writeFileSync(s.kubeconfigPath_, s.kubeconfig(), { mode: 0o600 });
      s.log(`lab API server at ${s.url_}, kubeconfig ${s.kubeconfigPath_}`);
      return s;
    } catch (e) {
      await s.close();
      throw e;
    }
  }

  get url(): string {
    return this.url_;
  }

  /** A kubeconfig file for this server: context `netpath-lab`, namespace default, bearer token. */
  get kubeconfigPath(): string {
    return this.kubeconfigPath_;
  }

  /** The kubeconfig's text (YAML). */
  kubeconfig(token = this.token): string {
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: netpath-lab',
      '  cluster:',
      `    server: ${this.url_}`,
      `    certificate-authority-data: ${Buffer.from(this.caPem).toString('base64')}`,
      'users:',
      `- name: ${this.user}`,
      '  user:',
      `    token: ${token}`,
      'contexts:',
      '- name: netpath-lab',
      '  context:',
      '    cluster: netpath-lab',
      `    user: ${this.user}`,
      '    namespace: default',
      'current-context: netpath-lab',
      'preferences: {}',
      '',
    ].join('\n');
  }

  /** Arms a fault (see faults.ts); returns a handle with its hit count and `remove()`. */
  inject(fault: Fault): ReturnType<FaultSet['add']> {
    return this.faults.add(fault);
  }

  /** Sets what an image provides (e.g. `{ lacks: ['ip'] }`); applies to every container using it. */
  setImage(image: string, spec: ImageSpec): void {
    this.model.images.set(image, spec);
  }

  /** Deletes a pod out of band (someone else's `kubectl delete`); running execs in it are killed. */
  deletePod(namespace: string, name: string): void {
    this.model.deletePod(namespace, name, 0);
  }

  /** Pods clients created and did not delete. */
  leftoverPods(): PodRecord[] {
    return this.model.leftoverPods();
  }

  /** Between tests: no faults, default images, the lab's objects only, empty records. */
  reset(): void {
    this.faults.clear();
    this.model.reset();
    this.execs.length = 0;
    this.requests.length = 0;
  }

  /** Stops everything: exec sessions, watches, hanging connections, the listener; removes its temp directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.sessions) s.destroy();
    for (const w of this.watchers) w.end();
    for (const s of this.sockets) s.destroy();
    this.wss.close();
    await new Promise<void>((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    if (this.ownDir) rmSync(this.dir, { recursive: true, force: true });
    rmSync(this.binsDir, { recursive: true, force: true });
  }

  // ---------------------------------------------------------------------------------------------
  // Plain requests

  private authenticate(req: IncomingMessage, path: string): void {
    const auth = req.headers.authorization;
    if (auth === undefined && PUBLIC_PATHS.has(path)) return;
    if (auth !== `Bearer ${this.token}`) throw new StatusError(unauthorized());
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const method = req.method ?? 'GET';
    res.on('close', () => this.record(req, url, res.statusCode));
    try {
      this.authenticate(req, url.pathname);
      const injected = this.faults.forHttp(method, url.pathname);
      if (injected) throw new StatusError(statusFor(injected.code, injected.reason, injected.message));
      await this.route(req, res, url, method);
    } catch (e) {
      const status = e instanceof StatusError ? e.status : statusFor(500, 'InternalError', `Internal error occurred: ${(e as Error).message}`);
      if (!(e instanceof StatusError)) this.log(`error serving ${method} ${url.pathname}: ${(e as Error).stack ?? String(e)}`);
      if (!res.headersSent) this.json(res, status.code ?? 500, status);
      else res.end();
    }
  }

  private record(req: IncomingMessage, url: URL, code: number): void {
    const r: RequestRecord = { method: req.method ?? 'GET', path: url.pathname, query: url.search, code, userAgent: String(req.headers['user-agent'] ?? ''), at: Date.now() };
    this.requests.push(r);
    this.log(`${r.code} ${r.method} ${r.path}${r.query}`);
  }

  private json(res: ServerResponse, code: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
    res.end(text);
  }

  private parseRoute(path: string): Route | undefined {
    const seg = path.split('/').filter(Boolean).map(decodeURIComponent);
    let group: string;
    let version: string;
    let rest: string[];
    if (seg[0] === 'api' && seg.length >= 2) [group, version, rest] = ['', seg[1]!, seg.slice(2)];
    else if (seg[0] === 'apis' && seg.length === 2) return groupVersions().some((g) => g.group === seg[1]) ? { kind: 'group', group: seg[1]! } : undefined;
    else if (seg[0] === 'apis' && seg.length >= 3) [group, version, rest] = [seg[1]!, seg[2]!, seg.slice(3)];
    else return undefined;
    if (!groupVersions().some((g) => g.group === group && g.version === version)) return undefined;
    if (rest.length === 0) return { kind: 'discovery', group, version };
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1]!;
      rest = rest.slice(2);
    }
    const def = findResource(group, version, rest[0]!);
    if (!def || rest.length > 3) return undefined;
    if (namespace !== undefined && !def.namespaced) return undefined;
    return { kind: 'resource', def, namespace, name: rest[1], sub: rest[2] };
  }

  private async route(req: IncomingMessage, res: ServerResponse, url: URL, method: string): Promise<void> {
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (method === 'GET') {
      if (path === '/version') return this.json(res, 200, this.version());
      if (path === '/healthz' || path === '/livez' || path === '/readyz') {
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
        return void res.end('ok');
      }
      // Plain JSON (not the aggregated apidiscovery.k8s.io/v2 form): kubectl then reads each group/version.
      if (path === '/api') return this.json(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: new URL(this.url_).host }] });
      if (path === '/apis') return this.json(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups: this.groups() });
    }
    const r = this.parseRoute(path);
    if (!r) throw new StatusError(pathNotFound());
    if (r.kind === 'group') {
      if (method !== 'GET') throw new StatusError(methodNotAllowed());
      return this.json(res, 200, { kind: 'APIGroup', apiVersion: 'v1', ...this.groups().find((g) => g.name === r.group) });
    }
    if (r.kind === 'discovery') {
      if (method !== 'GET') throw new StatusError(methodNotAllowed());
      return this.json(res, 200, resourceList(r.group, r.version));
    }
    const { def, namespace, name, sub } = r;
    const isPods = def.group === '' && def.plural === 'pods';
    if (sub !== undefined) {
      if (!name || !(def.subresources ?? []).some((s) => s.name === sub)) throw new StatusError(pathNotFound());
      if (isPods && sub === 'exec') throw new StatusError(badRequest('Upgrade request required'));
      if (isPods && sub === 'ephemeralcontainers' && method === 'PATCH') {
        const body = await readJson(req);
        return this.json(res, 200, this.model.patchEphemeralContainers(namespace ?? '', name, String(req.headers['content-type'] ?? ''), body));
      }
      if (method !== 'GET') throw new StatusError(methodNotAllowed());
      const obj = this.mustGet(def, namespace, name);
      if (isPods && sub === 'log') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        return void res.end('');
      }
      return this.json(res, 200, obj);
    }
    if (method === 'GET' && name === undefined) {
      const q = url.searchParams;
      if (['true', '1'].includes(q.get('watch') ?? '')) return this.watch(req, res, def, namespace, q);
      return this.list(req, res, def, namespace, q);
    }
    if (method === 'GET' && name !== undefined) {
      const obj = this.mustGet(def, namespace, name);
      if (wantsTable(req)) return this.json(res, 200, toTable(def, [obj], { resourceVersion: this.model.resourceVersion() }, includeObject(url.searchParams)));
      return this.json(res, 200, obj);
    }
    if (isPods && method === 'POST' && name === undefined && namespace !== undefined) {
      const body = await readJson(req);
      const pod = this.model.createPod(namespace, body);
      this.log(`created pod ${namespace}/${pod.metadata.name} (${pod.status.phase} on ${pod.spec.nodeName ?? 'no node'})`);
      return this.json(res, 201, pod);
    }
    if (isPods && method === 'DELETE' && name !== undefined && namespace !== undefined) {
      const body = await readJson(req, true);
      const fromBody = (body as { gracePeriodSeconds?: unknown } | undefined)?.gracePeriodSeconds;
      const fromQuery = url.searchParams.get('gracePeriodSeconds');
      const grace = typeof fromBody === 'number' ? fromBody : fromQuery !== null && fromQuery !== '' ? Number(fromQuery) : undefined;
      const gone = this.model.deletePod(namespace, name, grace);
      this.log(`deleted pod ${namespace}/${name}`);
      return this.json(res, 200, gone);
    }
    throw new StatusError(methodNotAllowed());
  }

  private mustGet(def: ResourceDef, namespace: string | undefined, name: string): KubeObject {
    const obj = this.model.get(def, namespace, name);
    if (!obj) throw new StatusError(notFound(def, name));
    return obj;
  }

  /** The objects a list or watch selects; throws a 400 Status for a malformed selector. */
  private select(def: ResourceDef, namespace: string | undefined, q: URLSearchParams): (o: KubeObject) => boolean {
    const labels = parseLabelSelector(q.get('labelSelector') ?? '');
    if (!labels.ok) throw new StatusError(badRequest(labels.error));
    const fields = parseFieldSelector(q.get('fieldSelector') ?? '');
    if (!fields.ok) throw new StatusError(badRequest(fields.error));
    // Checked once up front, so an unsupported field is refused even when nothing would match.
    const probe = matchFields(fields.value, { 'metadata.name': '', 'metadata.namespace': '', ...(def.fields ? def.fields({ metadata: { name: '', uid: '', resourceVersion: '', creationTimestamp: '' }, spec: { containers: [] }, status: { phase: 'Pending' } }) : {}) });
    if (!probe.ok) throw new StatusError(badRequest(probe.error));
    return (o) => {
      if (namespace !== undefined && o.metadata.namespace !== namespace) return false;
      if (!matchLabels(labels.value, o.metadata.labels)) return false;
      const f = matchFields(fields.value, { 'metadata.name': o.metadata.name, 'metadata.namespace': o.metadata.namespace ?? '', ...(def.fields ? def.fields(o) : {}) });
      return f.ok && f.value;
    };
  }

  private list(req: IncomingMessage, res: ServerResponse, def: ResourceDef, namespace: string | undefined, q: URLSearchParams): void {
    const keep = this.select(def, namespace, q);
    let items = this.model.list(def, namespace).filter(keep);
    const meta: Record<string, unknown> = { resourceVersion: this.model.resourceVersion() };
    const limit = Number(q.get('limit') ?? '0');
    const start = q.get('continue') ? Number(Buffer.from(q.get('continue')!, 'base64').toString('utf8')) : 0;
    if (!Number.isInteger(start) || start < 0) throw new StatusError(badRequest('invalid continue token'));
    if (start || (limit > 0 && items.length - start > limit)) {
      const end = limit > 0 ? start + limit : items.length;
      if (end < items.length) {
        meta.continue = Buffer.from(String(end)).toString('base64');
        meta.remainingItemCount = items.length - end;
      }
      items = items.slice(start, end);
    }
    if (wantsTable(req)) return this.json(res, 200, toTable(def, items, meta, includeObject(q)));
    this.json(res, 200, { kind: def.listKind, apiVersion: apiVersionOf(def), metadata: meta, items: items.map(({ apiVersion: _a, kind: _k, ...rest }) => rest) });
  }

  /** A watch: newline-delimited events until timeoutSeconds, the client leaves, or the server closes. */
  private watch(req: IncomingMessage, res: ServerResponse, def: ResourceDef, namespace: string | undefined, q: URLSearchParams): void {
    const keep = this.select(def, namespace, q);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    // Headers now, not with the first event: a client waits for them before it goes on.
    res.flushHeaders();
    // `kubectl get -w` asks for Tables: then every event carries a one-row Table.
    const table = wantsTable(req);
    const send = (type: string, object: KubeObject) => {
      const body = table ? toTable(def, [object], { resourceVersion: object.metadata.resourceVersion }, includeObject(q)) : { apiVersion: apiVersionOf(def), kind: def.kind, ...object };
      res.write(`${JSON.stringify({ type, object: body })}\n`);
    };
    const rv = q.get('resourceVersion');
    // No resourceVersion (or 0): "get state and start at most recent" begins with the current objects.
    if (!rv || rv === '0' || q.get('sendInitialEvents') === 'true') for (const o of this.model.list(def, namespace).filter(keep)) send('ADDED', o);
    const onEvent = (e: ModelEvent) => {
      if (e.def === def && keep(e.object)) send(e.type, e.object);
    };
    this.model.on('event', onEvent);
    const timeout = Number(q.get('timeoutSeconds') ?? '0');
    const timer = timeout > 0 ? setTimeout(() => w.end(), timeout * 1000) : undefined;
    const w: Watcher = {
      res,
      end: () => {
        if (!this.watchers.delete(w)) return;
        this.model.off('event', onEvent);
        if (timer) clearTimeout(timer);
        res.end();
      },
    };
    this.watchers.add(w);
    res.on('close', () => w.end());
  }

  private version(): Record<string, string> {
    const arch = process.arch === 'x64' ? 'amd64' : process.arch;
    return {
      major: '1',
      minor: String(this.minor),
      gitVersion: this.model.kubeletVersion,
      gitCommit: '0000000000000000000000000000000000000000',
      gitTreeState: 'clean',
      buildDate: '2025-01-01T00:00:00Z',
      goVersion: 'go1.22.10',
      compiler: 'gc',
      platform: `linux/${arch}`,
    };
  }

  private groups(): Record<string, unknown>[] {
    return groupVersions()
      .filter((g) => g.group !== '')
      .map((g) => {
        const gv = { groupVersion: `${g.group}/${g.version}`, version: g.version };
        return { name: g.group, versions: [gv], preferredVersion: gv };
      });
  }

  // ---------------------------------------------------------------------------------------------
  // pods/exec

  private refuse(socket: Duplex, req: IncomingMessage, url: URL, status: Status): void {
    const code = status.code ?? 500;
    const body = JSON.stringify(status);
    socket.end(`HTTP/1.1 ${code} ${STATUS_CODES[code] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    this.record(req, url, code);
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {});
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const method = req.method ?? 'GET';
    try {
      this.authenticate(req, url.pathname);
      const injected = this.faults.forHttp(method, url.pathname);
      if (injected) throw new StatusError(statusFor(injected.code, injected.reason, injected.message));
      const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec\/?$/.exec(url.pathname);
      if (!m) throw new StatusError(pathNotFound());
      const [namespace, pod] = [decodeURIComponent(m[1]!), decodeURIComponent(m[2]!)];
      const er = parseExecQuery(namespace, pod, url.searchParams);
      if (er.command.length === 0) throw new StatusError(badRequest('you must specify at least 1 command'));
      const faults = this.faults.forExec({ namespace, pod, container: er.container, command: er.command });
      const deny = faults.find((f): f is Extract<Fault, { kind: 'exec-forbidden' }> => f.kind === 'exec-forbidden');
      if (deny) throw new StatusError(forbidden({ resource: { group: '', plural: 'pods' }, subresource: 'exec', name: pod, namespace, user: deny.user ?? this.user, verb: 'create' }));
      if (faults.some((f) => f.kind === 'pod-deleted') && this.model.getPod(namespace, pod)) this.deletePod(namespace, pod);
      const target = this.model.execTarget(namespace, pod, er.container);
      if (target.labHost === undefined) throw new StatusError(badRequest(`container not found ("${target.container.name}")`));
      const isWebSocket = String(req.headers.upgrade ?? '').toLowerCase() === 'websocket';
      if (!isWebSocket) throw new StatusError(badRequest(`this lab API server speaks pods/exec over WebSocket (${EXEC_PROTOCOLS.join(', ')}) only, not ${String(req.headers.upgrade ?? 'a plain request')}`));
      const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
      if (!EXEC_PROTOCOLS.some((p) => offered.includes(p))) throw new StatusError(badRequest(`none of the offered subprotocols (${offered.join(', ') || 'none'}) is supported: use ${EXEC_PROTOCOLS.join(' or ')}`));
      const hang = faults.find((f): f is Extract<Fault, { kind: 'exec-hang' }> => f.kind === 'exec-hang');
      const labHost = target.labHost;
      if (hang && (hang.stage ?? 'upgrade') === 'upgrade') {
        // Say nothing: the socket stays open until the client gives up or the server closes.
        socket.on('close', () => {
          this.record(req, url, 0);
          this.execs.push({ namespace, pod, container: target.container.name, command: er.command, labHost, outcome: 'hung', at: Date.now() });
        });
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        this.record(req, url, 101);
        const session = new ExecSession({
          ws,
          req: er,
          target: { ...target, labHost },
          image: this.model.imageOf(target.container),
          runner: this.runner,
          bins: this.bins,
          faults,
          onEnd: (rec) => {
            this.sessions.delete(session);
            this.execs.push(rec);
            this.log(`exec ${rec.namespace}/${rec.pod} [${rec.command.join(' ')}] in ${rec.labHost}: ${rec.outcome}${rec.exitCode !== undefined ? ` ${rec.exitCode}` : ''}`);
          },
        });
        this.sessions.add(session);
        void session.run();
      });
    } catch (e) {
      const status = e instanceof StatusError ? e.status : statusFor(500, 'InternalError', `Internal error occurred: ${(e as Error).message}`);
      this.refuse(socket, req, url, status);
    }
  }

  private onModelEvent(e: ModelEvent): void {
    if (e.type !== 'DELETED' || e.def.plural !== 'pods' || e.def.group !== '') return;
    for (const s of this.sessions) if (s.namespace === e.object.metadata.namespace && s.pod === e.object.metadata.name) s.kill();
  }
}

/** Starts a lab API server (see LabApiServer.start). */
export function startLabApiServer(opts: LabApiServerOptions): Promise<LabApiServer> {
  return LabApiServer.start(opts);
}

function wantsTable(req: IncomingMessage): boolean {
  return String(req.headers.accept ?? '')
    .split(',')
    .some((r) => /;\s*as=Table/.test(r));
}

function includeObject(q: URLSearchParams): 'None' | 'Metadata' | 'Object' {
  const v = q.get('includeObject');
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}

/** The request body as JSON (undefined when empty and `optional`); 400/415 as the apiserver answers. */
async function readJson(req: IncomingMessage, optional = false): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY) throw new StatusError(statusFor(413, 'RequestEntityTooLarge', 'the request body is too large'));
    chunks.push(c);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') {
    if (optional) return undefined;
    throw new StatusError(badRequest('the request has no body'));
  }
  const type = String(req.headers['content-type'] ?? 'application/json');
  if (/yaml/.test(type)) throw new StatusError(unsupportedMediaType(type));
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new StatusError(badRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`));
  }
}
