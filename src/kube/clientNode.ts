// ClusterApi over @kubernetes/client-node 1.4 (the 2.x line needs Node >= 22; VS Code builds in use
// and code-server here run extensions on Node 20). Exec goes over client-node's WebSocket exec.
import * as k8s from '@kubernetes/client-node';
import { Writable } from 'node:stream';
import WebSocket from 'ws';
import * as http from 'node:http';
import * as https from 'node:https';
import { KubeError, type CallOptions, type ClusterApi, type DaemonSetInfo, type ExecOptions, type ExecResult, type ExecTarget, type NodeInfo, type PodInfo, type ResourceType } from './api';
import { listPath, nodeInfoOf, podInfoOf, qualifiedName } from './objects';
import { describeArgv } from './probeScript';

export interface KubeconfigOptions {
  /** An explicit kubeconfig file; otherwise KUBECONFIG (several files merged) or ~/.kube/config, as kubectl finds it. */
  kubeconfig?: string | undefined;
  /** A context name; otherwise the kubeconfig's current-context. */
  context?: string | undefined;
}

/** Loads a kubeconfig the way kubectl does, and selects the context. */
export function loadKubeConfig(opts: KubeconfigOptions = {}): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  try {
    if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
    else kc.loadFromDefault();
  } catch (e) {
    throw new KubeError('config', `cannot load the kubeconfig${opts.kubeconfig ? ` ${opts.kubeconfig}` : ''}: ${message(e)}`, 'Check the file (kubectl config view) or pass --kubeconfig.');
  }
  if (opts.context) {
    if (!kc.getContexts().some((c) => c.name === opts.context)) {
      throw new KubeError('config', `context "${opts.context}" is not in the kubeconfig (contexts: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'})`, 'Pick one of the listed contexts (kubectl config get-contexts).');
    }
    kc.setCurrentContext(opts.context);
  }
  if (!kc.getCurrentCluster()) {
    const contexts = kc.getContexts().map((c) => c.name).join(', ') || 'none';
    throw new KubeError(
      'config',
      kc.getCurrentContext() ? `the kubeconfig has no cluster for context "${kc.getCurrentContext()}" (contexts: ${contexts})` : `the kubeconfig sets no current-context (contexts: ${contexts})`,
      'Choose a context with --context (or the netpath.context setting), or run kubectl config use-context.',
    );
  }
  return kc;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Turns client-node and network errors into a KubeError that says what to do. */
export function toKubeError(e: unknown, what: string): KubeError {
  if (e instanceof KubeError) return e;
  const status = e instanceof k8s.ApiException ? e.code : statusFromMessage(message(e));
  const body = e instanceof k8s.ApiException ? statusMessage(e.body) : undefined;
  const detail = body ?? message(e);
  if (status === 401) return new KubeError('unauthorized', `${what}: the API server did not accept the credentials (401): ${detail}`, 'Refresh your credentials (the exec plugin or token in the kubeconfig) and try again.', 401);
  if (status === 403) return new KubeError('forbidden', `${what}: forbidden (403): ${detail}`, 'Your RBAC role does not allow this; ask for the permission, or point netpath at a capture instead.', 403);
  if (status === 404) return new KubeError('not-found', `${what}: not found (404): ${detail}`, 'It may have just been deleted; refresh and trace again.', 404);
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && /^(ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|ECONNRESET|EAI_AGAIN)$/.test(code)) {
    return new KubeError('unreachable', `${what}: cannot reach the API server (${code})`, 'Check the cluster address in the kubeconfig, VPN and proxy settings (kubectl cluster-info).');
  }
  if (/ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|socket hang up|certificate|self.signed/i.test(message(e))) {
    return new KubeError('unreachable', `${what}: cannot reach the API server: ${message(e)}`, 'Check the cluster address and certificates in the kubeconfig (kubectl cluster-info).');
  }
  return new KubeError('server', `${what}: ${detail}`, 'See the message from the API server.', status);
}

function statusFromMessage(m: string): number | undefined {
  const r = /Unexpected server response: (\d{3})|HTTP-Code: (\d{3})|status code (\d{3})/.exec(m);
  const n = r ? Number(r[1] ?? r[2] ?? r[3]) : undefined;
  return n;
}

function statusMessage(body: unknown): string | undefined {
  if (typeof body === 'string') {
    try {
      return statusMessage(JSON.parse(body));
    } catch {
      return body.slice(0, 300) || undefined;
    }
  }
  if (body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') return (body as { message: string }).message;
  return undefined;
}

/** Stops waiting when `signal` aborts (the request itself may still finish in the background). */
function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(new KubeError('cancelled', `${what}: cancelled`, 'Run it again when you are ready.'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new KubeError('cancelled', `${what}: cancelled`, 'Run it again when you are ready.'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** client-node's WebSocketInterface (not exported from the package root in 1.4). */
type ExecSocket = NonNullable<ConstructorParameters<typeof k8s.Exec>[1]>;

const strMap = (m: Record<string, string> | undefined): Record<string, string> => ({ ...(m ?? {}) });

export const podInfo = (p: k8s.V1Pod): PodInfo => podInfoOf(p);
export const nodeInfo = (n: k8s.V1Node): NodeInfo => nodeInfoOf(n);

class Collect extends Writable {
  readonly chunks: Buffer[] = [];
  constructor(private readonly limit: number) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    if (this.size() < this.limit) this.chunks.push(chunk);
    cb();
  }
  size(): number {
    return this.chunks.reduce((n, c) => n + c.length, 0);
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
  text(): string {
    return this.bytes().toString('utf8');
  }
}

/** Most a single probe may print (a node with huge tables still fits; a runaway command does not). */
const MAX_OUTPUT = 64 * 1024 * 1024;

export class ClientNodeCluster implements ClusterApi {
  readonly context: string;
  private readonly core: k8s.CoreV1Api;
  private readonly apps: k8s.AppsV1Api;

  constructor(readonly kc: k8s.KubeConfig) {
    this.context = kc.getCurrentContext();
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.apps = kc.makeApiClient(k8s.AppsV1Api);
  }

  /**
   * The exec WebSocket, opened here rather than by client-node: a refused upgrade then yields the API
   * server's Status (who may not do what), and a timeout or cancellation can close a socket whose
   * upgrade never answered (client-node's own handler never settles then).
   */
  private execSocket(hold: { ws?: WebSocket }): ExecSocket {
    return {
      connect: async (path: string, _text: unknown, binary: ((stream: number, buff: Buffer) => boolean) | null) => {
        const opts: WebSocket.ClientOptions = {};
        await this.kc.applyToHTTPSOptions(opts);
        const server = this.kc.getCurrentCluster()!.server.replace(/^http/, 'ws');
        const ws = new WebSocket(`${server}${path}`, ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'], opts);
        hold.ws = ws;
        return new Promise<WebSocket>((resolve, reject) => {
          ws.on('unexpected-response', (req, res) => {
            let body = '';
            res.on('data', (d: Buffer) => (body += d.toString()));
            res.on('end', () => {
              req.destroy();
              let status: unknown = body;
              try {
                status = JSON.parse(body);
              } catch {
                // not a Status: keep the text
              }
              reject(new k8s.ApiException(res.statusCode ?? 0, `HTTP ${res.statusCode}`, status, {}));
            });
          });
          ws.on('error', reject);
          ws.on('open', () => resolve(ws));
          ws.on('message', (data: Buffer) => {
            if (binary && data.length > 0 && !binary(data[0]!, data.subarray(1))) ws.close();
          });
        });
      },
    };
  }

  static fromKubeconfig(opts: KubeconfigOptions = {}): ClientNodeCluster {
    return new ClientNodeCluster(loadKubeConfig(opts));
  }

  private async call<T>(what: string, opts: CallOptions | undefined, f: () => Promise<T>): Promise<T> {
    try {
      return await abortable(f(), opts?.signal, what);
    } catch (e) {
      throw toKubeError(e, what);
    }
  }

  async listNodes(opts?: CallOptions): Promise<NodeInfo[]> {
    const list = await this.call('list nodes', opts, () => this.core.listNode());
    return list.items.map(nodeInfo);
  }

  async listPods(opts?: CallOptions & { nodeName?: string; labelSelector?: string }): Promise<PodInfo[]> {
    const fieldSelector = opts?.nodeName ? `spec.nodeName=${opts.nodeName}` : undefined;
    const list = await this.call('list pods', opts, () => this.core.listPodForAllNamespaces({ ...(fieldSelector ? { fieldSelector } : {}), ...(opts?.labelSelector ? { labelSelector: opts.labelSelector } : {}) }));
    return list.items.map(podInfo);
  }

  /**
   * Every object of a kind, cluster-wide, in its JSON form (client-node's typed lists would turn
   * timestamps into Dates and drop fields its models lack). Read in pages of 500, as kubectl does.
   */
  async listObjects(r: ResourceType, opts?: CallOptions): Promise<unknown[]> {
    const what = `list ${qualifiedName(r)}`;
    const items: unknown[] = [];
    let cont: string | undefined;
    for (let page = 0; page < 10_000; page++) {
      const q = new URLSearchParams({ limit: '500', ...(cont ? { continue: cont } : {}) });
      const body = await this.call(what, opts, () => this.getJson(`${listPath(r)}?${q}`, opts?.signal));
      const list = (typeof body === 'object' && body !== null ? body : {}) as { items?: unknown; metadata?: { continue?: unknown } };
      if (!Array.isArray(list.items)) throw new KubeError('server', `${what}: the API server did not answer with a list`, 'Check that the cluster serves this API (kubectl api-resources).');
      items.push(...(list.items as unknown[]));
      cont = typeof list.metadata?.continue === 'string' && list.metadata.continue ? list.metadata.continue : undefined;
      if (!cont) break;
    }
    return items;
  }

  /** GET a path of the API server as JSON, with the kubeconfig's TLS and credentials. */
  private async getJson(path: string, signal: AbortSignal | undefined): Promise<unknown> {
    const opts: https.RequestOptions = { method: 'GET', headers: { Accept: 'application/json' } };
    await this.kc.applyToHTTPSOptions(opts);
    const url = new URL(this.kc.getCurrentCluster()!.server.replace(/\/+$/, '') + path);
    const mod = url.protocol === 'http:' ? http : https;
    return new Promise((resolve, reject) => {
      const req = mod.request(url, { ...opts, ...(signal ? { signal } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // not JSON: keep the text for the message
          }
          const code = res.statusCode ?? 0;
          if (code >= 200 && code < 300) resolve(body);
          else reject(new k8s.ApiException(code, `HTTP ${code}`, body, {}));
        });
      });
      req.on('error', reject);
      req.end();
    });
  }

  async readPod(namespace: string, name: string, opts?: CallOptions): Promise<PodInfo | undefined> {
    try {
      return podInfo(await this.call(`read pod ${namespace}/${name}`, opts, () => this.core.readNamespacedPod({ name, namespace })));
    } catch (e) {
      if (e instanceof KubeError && e.kind === 'not-found') return undefined;
      throw e;
    }
  }

  async readConfigMap(namespace: string, name: string, opts?: CallOptions): Promise<Record<string, string> | undefined> {
    try {
      const cm = await this.call(`read configmap ${namespace}/${name}`, opts, () => this.core.readNamespacedConfigMap({ name, namespace }));
      return strMap(cm.data);
    } catch (e) {
      if (e instanceof KubeError && (e.kind === 'not-found' || e.kind === 'forbidden')) return undefined;
      throw e;
    }
  }

  async listDaemonSets(opts?: CallOptions): Promise<DaemonSetInfo[]> {
    try {
      const list = await this.call('list daemonsets', opts, () => this.apps.listDaemonSetForAllNamespaces());
      return list.items.map((d) => ({ namespace: d.metadata?.namespace ?? '', name: d.metadata?.name ?? '', images: (d.spec?.template.spec?.containers ?? []).map((c) => c.image ?? '') }));
    } catch (e) {
      // DaemonSets only help to name the CNI; without the permission, detection uses other clues.
      if (e instanceof KubeError && e.kind === 'forbidden') return [];
      throw e;
    }
  }

  async addEphemeralContainer(namespace: string, pod: string, container: { name: string; image: string; command: string[]; targetContainer?: string | undefined }, opts: ExecOptions): Promise<void> {
    const what = `add debug container to ${namespace}/${pod}`;
    const current = await this.call(what, opts, () => this.core.readNamespacedPod({ name: pod, namespace }));
    const body: k8s.V1Pod = {
      ...current,
      spec: {
        ...current.spec!,
        ephemeralContainers: [
          ...(current.spec?.ephemeralContainers ?? []),
          { name: container.name, image: container.image, command: container.command, ...(container.targetContainer ? { targetContainerName: container.targetContainer } : {}), securityContext: { capabilities: { add: ['NET_ADMIN'] } } },
        ],
      },
    };
    await this.call(what, opts, () => this.core.replaceNamespacedPodEphemeralcontainers({ name: pod, namespace, body }));
    const deadline = Date.now() + opts.timeoutMs * 3;
    for (;;) {
      const p = await this.call(what, opts, () => this.core.readNamespacedPod({ name: pod, namespace }));
      const st = p.status?.ephemeralContainerStatuses?.find((c) => c.name === container.name);
      if (st?.state?.running) return;
      if (st?.state?.terminated) throw new KubeError('server', `${what}: the debug container ended (${st.state.terminated.reason ?? 'terminated'})`, `Check that the image ${container.image} can run there.`);
      if (Date.now() > deadline) throw new KubeError('timeout', `${what}: the debug container did not start`, `Check that the image ${container.image} can be pulled, or choose another debug image.`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  async createPod(namespace: string, manifest: Record<string, unknown>, opts?: CallOptions): Promise<void> {
    await this.call(`create pod in ${namespace}`, opts, () => this.core.createNamespacedPod({ namespace, body: manifest as k8s.V1Pod }));
  }

  async deletePod(namespace: string, name: string, opts?: CallOptions): Promise<void> {
    try {
      await this.call(`delete pod ${namespace}/${name}`, opts, () => this.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 }));
    } catch (e) {
      if (e instanceof KubeError && e.kind === 'not-found') return;
      throw e;
    }
  }

  exec(target: ExecTarget, argv: readonly string[], opts: ExecOptions): Promise<ExecResult> {
    const what = `exec ${describeArgv(argv)} in ${target.namespace}/${target.pod}${target.container ? ` (${target.container})` : ''}`;
    return new Promise<ExecResult>((resolve, reject) => {
      const stdout = new Collect(MAX_OUTPUT);
      const stderr = new Collect(1024 * 1024);
      let status: k8s.V1Status | undefined;
      const hold: { ws?: WebSocket } = {};
      let settled = false;
      const finish = (f: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        f();
      };
      const kill = () => {
        try {
          hold.ws?.terminate();
        } catch {
          // already closed
        }
      };
      const timer = setTimeout(() => {
        kill();
        finish(() => reject(new KubeError('timeout', `${what}: no answer within ${Math.round(opts.timeoutMs / 1000)} s`, 'The node may be overloaded or unreachable from the API server; raise the exec timeout or try again.')));
      }, opts.timeoutMs);
      const onAbort = () => {
        kill();
        finish(() => reject(new KubeError('cancelled', `${what}: cancelled`, 'Run it again when you are ready.')));
      };
      if (opts.signal?.aborted) return onAbort();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      const onStatus = (s: k8s.V1Status) => {
        status = s;
      };
      new k8s.Exec(this.kc, this.execSocket(hold))
        .exec(target.namespace, target.pod, target.container ?? '', [...argv], stdout, stderr, null, false, onStatus)
        .then((ws) => {
          if (settled) return kill();
          ws.on('close', () =>
            finish(() => {
              if (!status) return reject(new KubeError('connection-lost', `${what}: the connection closed before the command finished`, 'The API server or kubelet dropped the stream; try again.'));
              const out = stdout.bytes();
              const r = execResult(status, out, stderr.text(), what);
              if (r instanceof KubeError) reject(r);
              else resolve(r);
            }),
          );
          ws.on('error', (e: Error) => finish(() => reject(toKubeError(e, what))));
        })
        .catch((e: unknown) => finish(() => reject(toKubeError(e, what))));
    });
  }
}

/** Exit code from the exec Status; a missing binary becomes a KubeError the collector can fall back on. */
function execResult(s: k8s.V1Status, bytes: Buffer, err: string, what: string): ExecResult | KubeError {
  const out = bytes.toString('utf8');
  if (s.status === 'Success') return { stdout: out, stderr: err, exitCode: 0, stdoutBytes: bytes };
  const cause = s.details?.causes?.find((c) => c.reason === 'ExitCode');
  if (s.reason === 'NonZeroExitCode' && cause?.message !== undefined && /^\d+$/.test(cause.message)) {
    const code = Number(cause.message);
    return { stdout: out, stderr: err, exitCode: code, stdoutBytes: bytes };
  }
  const msg = s.message ?? '';
  if (/executable file not found|no such file or directory|not found in \$PATH/i.test(msg)) {
    return new KubeError('missing-binary', `${what}: ${msg}`, 'The container lacks this tool; netpath tries BusyBox and other pods next.');
  }
  return { stdout: out, stderr: err + msg, exitCode: 1, stdoutBytes: bytes };
}
