// @kubernetes/client-node 1.4.0 against the lab API server on the demo lab: the reads a collector
// does, Exec with its stdout/stderr streams and status callback, every fault the server can inject
// as client-node surfaces it, debug pods and ephemeral containers that leave nothing behind.
import { strict as assert } from 'node:assert';
import { Readable, Writable } from 'node:stream';
import { test } from 'node:test';
import { AppsV1Api, CoreV1Api, DiscoveryV1Api, Exec, KubeConfig, NetworkingV1Api, PatchStrategy, Watch, setHeaderOptions, type V1Pod, type V1Status } from '@kubernetes/client-node';
import WebSocket from 'ws';
import { DEMO_CLUSTER } from '../demo-cluster';
import { describeWithLabApi } from './fixture';

type WsInterface = NonNullable<ConstructorParameters<typeof Exec>[1]>;

interface ExecResult {
  stdout: string;
  stderr: string;
  status: V1Status;
  ms: number;
}

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
}

/**
 * Exec.exec as a product would wrap it: resolves with the output and the status, rejects when the
 * upgrade fails, when the connection closes without a status, or when `timeoutMs` passes (then the
 * connection is closed: AbortController + timer, client-node has no timeout of its own).
 */
function execIn(kc: KubeConfig, ns: string, pod: string, command: string[], opts: { container?: string; timeoutMs?: number; ws?: (signal: AbortSignal) => WsInterface; stdin?: Readable } = {}): Promise<ExecResult> {
  const started = Date.now();
  const stdout = new Collect();
  const stderr = new Collect();
  const abort = new AbortController();
  return new Promise<ExecResult>((resolve, reject) => {
    let status: V1Status | undefined;
    let conn: { close(): void } | undefined;
    const timer = setTimeout(() => abort.abort(new Error(`exec ${command.join(' ')} in ${ns}/${pod} timed out after ${opts.timeoutMs} ms`)), opts.timeoutMs ?? 10_000);
    abort.signal.addEventListener('abort', () => {
      conn?.close();
      reject(abort.signal.reason);
    });
    const done = (f: () => void) => {
      clearTimeout(timer);
      f();
    };
    new Exec(kc, opts.ws?.(abort.signal))
      .exec(ns, pod, opts.container ?? '', command, stdout, stderr, opts.stdin ?? null, false, (s) => (status = s))
      .then((ws) => {
        conn = ws;
        if (abort.signal.aborted) ws.close();
        ws.on('close', (code: number) =>
          done(() => (status ? resolve({ stdout: stdout.text, stderr: stderr.text, status, ms: Date.now() - started }) : reject(new Error(`exec connection closed without a status (code ${code}); stdout so far: ${JSON.stringify(stdout.text)}`)))),
        );
      })
      // client-node rejects with ws's ErrorEvent (not an Error) when the upgrade fails.
      .catch((e: unknown) => done(() => reject(e instanceof Error ? e : new Error(`exec failed: ${(e as { message?: string }).message ?? String(e)}`))));
  });
}

const exitCode = (s: V1Status) => (s.status === 'Success' ? 0 : Number(s.details?.causes?.find((c) => c.reason === 'ExitCode')?.message ?? NaN));

/**
 * client-node's Exec with a WebSocket that keeps the body of a refused upgrade: with the stock
 * handler an upgrade answered 403/404 only says `Unexpected server response: 403`; the Status (who
 * may not do what) is in the body, which `ws` hands to an `unexpected-response` listener.
 */
function statusAwareWs(kc: KubeConfig, signal?: AbortSignal): WsInterface {
  return {
    async connect(path, _text, binary) {
      const opts: Record<string, unknown> = {};
      await kc.applyToHTTPSOptions(opts);
      const server = kc.getCurrentCluster()!.server.replace(/^http/, 'ws');
      const ws = new WebSocket(`${server}${path}`, ['v5.channel.k8s.io', 'v4.channel.k8s.io'], opts);
      signal?.addEventListener('abort', () => ws.terminate());
      return new Promise((resolve, reject) => {
        ws.on('unexpected-response', (req, res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => {
            req.destroy();
            try {
              const status = JSON.parse(body) as V1Status;
              reject(Object.assign(new Error(status.message ?? `HTTP ${res.statusCode}`), { code: res.statusCode, status }));
            } catch {
              reject(new Error(`HTTP ${res.statusCode}: ${body}`));
            }
          });
        });
        ws.on('error', reject);
        ws.on('open', () => resolve(ws as never));
        ws.on('message', (data: Buffer) => {
          if (binary && !binary(data[0]!, data.subarray(1))) ws.close();
        });
      });
    },
  };
}

describeWithLabApi('client-node 1.4.0 against the lab API server', {}, (get) => {
  const kc = () => {
    const k = new KubeConfig();
    k.loadFromFile(get().server.kubeconfigPath);
    return k;
  };
  const web0Image = () => get().server.model.getPod('default', 'web-0')!.spec.containers[0]!.image;

  test('loadFromFile: the kubeconfig has the server, the CA and the token', () => {
    const k = kc();
    assert.equal(k.getCurrentContext(), 'netpath-lab');
    assert.equal(k.getCurrentCluster()?.server, get().server.url);
    assert.match(k.getCurrentCluster()?.caData ?? '', /^LS0t/);
    assert.equal(k.getCurrentUser()?.token, get().server.token);
  });

  test('listNode: podCIDRs, InternalIP and the flannel annotations of every node', async () => {
    const nodes = await kc().makeApiClient(CoreV1Api).listNode();
    assert.deepEqual(nodes.items.map((n) => n.metadata?.name), ['k8s-node1', 'k8s-node2', 'k8s-node3']);
    for (const n of nodes.items) {
      const spec = DEMO_CLUSTER.nodes.find((x) => x.name === n.metadata?.name)!;
      const plan = get().built.plan.nodes.find((x) => x.name === spec.name)!;
      assert.deepEqual(n.spec?.podCIDRs, [spec.podCIDR]);
      assert.deepEqual(n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address, spec.ip);
      const a = n.metadata?.annotations ?? {};
      assert.deepEqual(JSON.parse(a['flannel.alpha.coreos.com/backend-data']!), { VNI: 1, VtepMAC: plan.vtepMac });
      assert.deepEqual([a['flannel.alpha.coreos.com/backend-type'], a['flannel.alpha.coreos.com/public-ip']], ['vxlan', spec.ip]);
      assert.equal(n.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    }
  });

  test('listPodForAllNamespaces: lab pods with their IPs, host-network agents on every node; selectors narrow it', async () => {
    const api = kc().makeApiClient(CoreV1Api);
    const all = await api.listPodForAllNamespaces();
    for (const n of DEMO_CLUSTER.nodes) {
      for (const p of n.pods) {
        const pod = all.items.find((x) => x.metadata?.name === p.name);
        assert.ok(pod, p.name);
        assert.deepEqual([pod.metadata?.namespace, pod.spec?.nodeName, pod.spec?.hostNetwork, pod.status?.phase, pod.status?.podIP, pod.status?.podIPs?.map((x) => x.ip)], [p.namespace, n.name, undefined, 'Running', p.ip, [p.ip]]);
      }
      const agents = all.items.filter((x) => x.spec?.nodeName === n.name && x.spec?.hostNetwork);
      assert.deepEqual(agents.map((x) => x.metadata?.labels?.['k8s-app']).sort(), ['flannel', 'kube-proxy']);
      for (const a of agents) assert.deepEqual([a.metadata?.namespace, a.status?.podIP, a.status?.hostIP, a.metadata?.ownerReferences?.[0]?.kind], ['kube-system', n.ip, n.ip, 'DaemonSet']);
    }
    const onNode2 = await api.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=k8s-node2' });
    assert.equal(onNode2.items.length, 4);
    assert.ok(onNode2.items.every((p) => p.spec?.nodeName === 'k8s-node2'));
    const flannel = await api.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'app=flannel,tier in (node)' });
    assert.equal(flannel.items.length, 3);
    const notDns = await api.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app!=kube-dns,!app' });
    assert.deepEqual(notDns.items.map((p) => p.metadata?.labels?.['k8s-app']), ['kube-proxy', 'kube-proxy', 'kube-proxy']);
    await assert.rejects(api.listPodForAllNamespaces({ labelSelector: 'a in (b' }), (e: { code?: number }) => e.code === 400);
  });

  test('readNamespacedConfigMap kube-flannel-cfg: net-conf.json and cni-conf.json', async () => {
    const cm = await kc().makeApiClient(CoreV1Api).readNamespacedConfigMap({ name: 'kube-flannel-cfg', namespace: 'kube-system' });
    assert.deepEqual(JSON.parse(cm.data!['net-conf.json']!), { Network: '10.244.0.0/16', Backend: { Type: 'vxlan' } });
    const cni = JSON.parse(cm.data!['cni-conf.json']!) as { plugins: { type: string; delegate?: Record<string, unknown> }[] };
    assert.deepEqual(cni.plugins[0], { type: 'flannel', delegate: { hairpinMode: true, isDefaultGateway: true } });
  });

  test('daemonsets, services, endpointslices and (empty) networkpolicies are served', async () => {
    const k = kc();
    const ds = await k.makeApiClient(AppsV1Api).listNamespacedDaemonSet({ namespace: 'kube-system' });
    assert.deepEqual(ds.items.map((d) => [d.metadata?.name, d.status?.numberReady]), [['kube-flannel-ds', 3], ['kube-proxy', 3]]);
    const svc = await k.makeApiClient(CoreV1Api).readNamespacedService({ name: 'kube-dns', namespace: 'kube-system' });
    assert.equal(svc.spec?.clusterIP, '10.96.0.10');
    const slices = await k.makeApiClient(DiscoveryV1Api).listNamespacedEndpointSlice({ namespace: 'kube-system', labelSelector: 'kubernetes.io/service-name=kube-dns' });
    assert.deepEqual(slices.items[0]?.endpoints.map((e) => e.addresses[0]).sort(), ['10.244.0.2', '10.244.1.2']);
    const np = await k.makeApiClient(NetworkingV1Api).listNetworkPolicyForAllNamespaces();
    assert.deepEqual(np.items, []);
  });

  test('a wrong token is refused with 401 and an Unauthorized Status', async () => {
    const k = new KubeConfig();
    k.loadFromString(get().server.kubeconfig('wrong-token'));
    // client-node 1.4 drops the body of a 401 (ApiException body undefined, message "Unauthorized").
    await assert.rejects(k.makeApiClient(CoreV1Api).listNode(), (e: { code?: number; body?: unknown }) => {
      assert.deepEqual([e.code, e.body], [401, undefined]);
      return true;
    });
    assert.deepEqual(get().server.requests.map((r) => [r.code, r.path]), [[401, '/api/v1/nodes']]);
  });

  test('Exec.exec ip route: stdout is the pod namespace real table, the status callback says Success', async () => {
    const r = await execIn(kc(), 'default', 'web-0', ['ip', 'route']);
    assert.equal(r.stdout, get().lab.execIn('web-0', ['ip', 'route']));
    assert.deepEqual([r.stderr, r.status.status, exitCode(r.status)], ['', 'Success', 0]);
    assert.deepEqual(get().server.execs.map((e) => [e.labHost, e.outcome, e.exitCode]), [['web-0', 'exited', 0]]);
  });

  test('Exec.exec: a non-zero exit arrives as NonZeroExitCode with the code, stderr on the stderr stream', async () => {
    const r = await execIn(kc(), 'default', 'web-0', ['ip', 'link', 'show', 'dev', 'nosuchdev']);
    assert.equal(r.status.reason, 'NonZeroExitCode');
    assert.equal(exitCode(r.status), 1);
    assert.equal(r.stderr, 'Device "nosuchdev" does not exist.\n');
    assert.equal(r.stdout, '');
  });

  test('Exec.exec with stdin: the data reaches the command, and the v5 close frame ends its input', async () => {
    const r = await execIn(kc(), 'default', 'web-1', ['cat'], { stdin: Readable.from([Buffer.from('hello\n'), Buffer.from('lab\n')]) });
    assert.deepEqual([r.stdout, exitCode(r.status)], ['hello\nlab\n', 0]);
  });

  test('on the wire: v4 when only v4 is offered; frames on channels 1-3 only (never 255); close 1000 after the status', async () => {
    const { server } = get();
    const run = (protocols: string[]) =>
      new Promise<{ protocol: string; frames: number[]; text: string; close: number }>((resolve, reject) => {
        const ws = new WebSocket(`${server.url.replace('https', 'wss')}/api/v1/namespaces/default/pods/web-0/exec?command=ip&command=route&stdout=1&stderr=1`, protocols, { ca: server.caPem, headers: { Authorization: `Bearer ${server.token}` } });
        const frames: number[] = [];
        let text = '';
        ws.on('message', (d: Buffer) => {
          frames.push(d[0]!);
          if (d[0] === 1) text += d.subarray(1).toString();
        });
        ws.on('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
        ws.on('error', reject);
        ws.on('close', (close: number) => resolve({ protocol: ws.protocol, frames, text, close }));
      });
    const v4 = await run(['v4.channel.k8s.io']);
    assert.equal(v4.protocol, 'v4.channel.k8s.io');
    assert.equal(v4.text, get().lab.execIn('web-0', ['ip', 'route']));
    assert.equal(v4.frames.at(-1), 3);
    assert.ok(v4.frames.every((f) => f === 1 || f === 2 || f === 3), JSON.stringify(v4.frames));
    assert.equal(v4.close, 1000);
    const v5 = await run(['v5.channel.k8s.io', 'v4.channel.k8s.io']);
    assert.deepEqual([v5.protocol, v5.close], ['v5.channel.k8s.io', 1000]);
    assert.ok(!v5.frames.includes(255));
    await assert.rejects(run(['channel.k8s.io']), /HTTP 400/);
  });

  test('fault: 403 on pods/exec; the stock handler says only 403, the Status body names user and verb', async () => {
    const { server } = get();
    const armed = server.inject({ kind: 'exec-forbidden', user: 'system:serviceaccount:netpath:reader', match: { pod: 'web-0' } });
    await assert.rejects(execIn(kc(), 'default', 'web-0', ['ip', 'route']), /Unexpected server response: 403/);
    await assert.rejects(execIn(kc(), 'default', 'web-0', ['ip', 'route'], { ws: () => statusAwareWs(kc()) }), (e: Error & { code?: number; status?: V1Status }) => {
      assert.equal(e.code, 403);
      assert.equal(e.status?.reason, 'Forbidden');
      assert.equal(e.message, 'pods "web-0" is forbidden: User "system:serviceaccount:netpath:reader" cannot create resource "pods/exec" in API group "" in the namespace "default"');
      return true;
    });
    assert.equal(armed.hits, 2);
    // Reads are still allowed, and other pods can be exec'd into.
    await kc().makeApiClient(CoreV1Api).readNamespacedPod({ name: 'web-0', namespace: 'default' });
    assert.equal(exitCode((await execIn(kc(), 'default', 'web-1', ['ip', 'route'])).status), 0);
  });

  test('fault: the pod is deleted during a trace: exec gets 404, reads get a NotFound Status', async () => {
    const { server } = get();
    server.inject({ kind: 'pod-deleted', match: { pod: 'web-1' }, times: 1 });
    await assert.rejects(execIn(kc(), 'default', 'web-1', ['ip', 'route'], { ws: () => statusAwareWs(kc()) }), (e: Error & { code?: number; status?: V1Status }) => {
      assert.deepEqual([e.code, e.status?.reason, e.message], [404, 'NotFound', 'pods "web-1" not found']);
      return true;
    });
    await assert.rejects(kc().makeApiClient(CoreV1Api).readNamespacedPod({ name: 'web-1', namespace: 'default' }), (e: { code?: number; body?: unknown }) => {
      assert.equal(e.code, 404);
      assert.deepEqual(JSON.parse(String(e.body)), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'pods "web-1" not found', reason: 'NotFound', details: { name: 'web-1', kind: 'pods' }, code: 404 });
      return true;
    });
    assert.deepEqual(server.model.deleted.map((d) => d.name), ['web-1']);
  });

  test('fault: the pod is deleted while a command runs in it: the command is killed (exit 137)', async () => {
    const { server } = get();
    const running = execIn(kc(), 'default', 'web-0', ['sleep', '10']);
    await waitFor(() => server.requests.some((r) => r.code === 101));
    await new Promise((r) => setTimeout(r, 100));
    server.deletePod('default', 'web-0');
    const r = await running;
    assert.deepEqual([r.status.reason, exitCode(r.status)], ['NonZeroExitCode', 137]);
    assert.ok(r.ms < 5_000);
    assert.deepEqual(server.execs.map((e) => [e.outcome, e.exitCode]), [['killed', 137]]);
  });

  test('fault: slow exec answers after the delay', async () => {
    get().server.inject({ kind: 'exec-delay', ms: 400 });
    const r = await execIn(kc(), 'default', 'web-0', ['ip', 'route']);
    assert.equal(exitCode(r.status), 0);
    assert.ok(r.ms >= 400, `answered after ${r.ms} ms`);
  });

  test('fault: hanging exec (no status) ends in our own timeout; the server sees the client leave', async () => {
    const { server } = get();
    server.inject({ kind: 'exec-hang', stage: 'stream', times: 1 });
    await assert.rejects(execIn(kc(), 'default', 'web-0', ['ip', 'route'], { timeoutMs: 300 }), /timed out after 300 ms/);
    await waitFor(() => server.execs.some((e) => e.outcome === 'hung'));
  });

  test('fault: hanging upgrade (no handshake answer): our timer gives up; only a handler that can cancel frees the socket', async () => {
    const { server } = get();
    server.inject({ kind: 'exec-hang', times: 2 });
    // client-node's own handler cannot be cancelled before the upgrade: its promise never settles and
    // the connection stays open (until the server closes it).
    await assert.rejects(execIn(kc(), 'default', 'web-0', ['ip', 'route'], { timeoutMs: 300 }), /timed out after 300 ms/);
    assert.equal(server.execs.length, 0);
    // A handler that terminates the socket on abort leaves nothing open.
    await assert.rejects(execIn(kc(), 'default', 'web-0', ['ip', 'route'], { timeoutMs: 300, ws: (signal) => statusAwareWs(kc(), signal) }), /timed out after 300 ms/);
    await waitFor(() => server.execs.length === 1);
    assert.deepEqual(server.execs.map((e) => e.outcome), ['hung']);
  });

  test('fault: the WebSocket is dropped mid-stream: part of stdout, then the connection closes without a status', async () => {
    get().server.inject({ kind: 'exec-drop', afterBytes: 10 });
    await assert.rejects(execIn(kc(), 'default', 'web-0', ['ip', 'route']), (e: Error) => {
      assert.match(e.message, /closed without a status \(code 1006\); stdout so far: "default vi"/);
      return true;
    });
    assert.deepEqual(get().server.execs.map((e) => e.outcome), ['dropped']);
  });

  test('fault: a container without ip: exit code 127 and the OCI runtime message on stderr', async () => {
    const { server } = get();
    server.setImage(web0Image(), { lacks: ['ip'] });
    const r = await execIn(kc(), 'default', 'web-0', ['ip', 'route']);
    assert.equal(exitCode(r.status), 127);
    assert.match(r.stderr, /^OCI runtime exec failed: exec failed: unable to start container process: exec: "ip": executable file not found in \$PATH: unknown\r\n$/);
    // The same image's other binaries are there.
    assert.equal(exitCode((await execIn(kc(), 'default', 'web-0', ['cat', '/proc/net/route'])).status), 0);
    // A containerd-like runtime reports it as an InternalError status instead.
    server.setImage(web0Image(), { lacks: ['ip'], missing: 'internal-error' });
    const c = await execIn(kc(), 'default', 'web-0', ['ip', 'route']);
    assert.equal(c.status.reason, 'InternalError');
    assert.match(c.status.message ?? '', /exec: "ip": executable file not found in \$PATH/);
    // And the fault form, for one pod only.
    server.setImage(web0Image(), {});
    server.inject({ kind: 'exec-missing-binary', match: { pod: 'web-0' } });
    assert.equal(exitCode((await execIn(kc(), 'default', 'web-0', ['ip', 'route'])).status), 127);
    assert.equal(exitCode((await execIn(kc(), 'default', 'web-1', ['ip', 'route'])).status), 0);
  });

  test('a debug pod: create hostNetwork pinned to a node, exec in the node namespace, delete; nothing left behind', async () => {
    const { server } = get();
    const api = kc().makeApiClient(CoreV1Api);
    const body: V1Pod = {
      metadata: { generateName: 'netpath-debug-', labels: { 'app.kubernetes.io/managed-by': 'netpath' } },
      spec: { nodeName: 'k8s-node2', hostNetwork: true, restartPolicy: 'Never', containers: [{ name: 'probe', image: 'docker.io/nicolaka/netshoot:v0.13', command: ['sleep', '3600'] }], tolerations: [{ operator: 'Exists' }] },
    };
    const created = await api.createNamespacedPod({ namespace: 'default', body });
    const name = created.metadata!.name!;
    assert.match(name, /^netpath-debug-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.deepEqual([created.status?.phase, created.status?.podIP, created.spec?.nodeName], ['Running', '10.4.7.22', 'k8s-node2']);
    const r = await execIn(kc(), 'default', name, ['ip', '-br', 'addr', 'show', 'dev', 'flannel.1']);
    assert.match(r.stdout, /^flannel\.1\s+UNKNOWN\s+10\.244\.1\.0\/32 /);
    assert.equal(server.execs.at(-1)?.labHost, 'k8s-node2');
    const listed = await api.listNamespacedPod({ namespace: 'default', labelSelector: 'app.kubernetes.io/managed-by=netpath' });
    assert.deepEqual(listed.items.map((p) => p.metadata?.name), [name]);
    assert.deepEqual(server.leftoverPods().map((p) => p.name), [name]);
    const deleted = await api.deleteNamespacedPod({ name, namespace: 'default', gracePeriodSeconds: 0 });
    assert.ok(deleted.metadata?.deletionTimestamp);
    await assert.rejects(api.readNamespacedPod({ name, namespace: 'default' }), (e: { code?: number }) => e.code === 404);
    assert.deepEqual(server.leftoverPods(), []);
    assert.deepEqual([server.model.created.length, server.model.deleted.length], [1, 1]);
    // Creating it again under the same name is a 409 only while it exists.
    await api.createNamespacedPod({ namespace: 'default', body: { ...body, metadata: { name: 'netpath-fixed' } } });
    await assert.rejects(api.createNamespacedPod({ namespace: 'default', body: { ...body, metadata: { name: 'netpath-fixed' } } }), (e: { code?: number }) => e.code === 409);
    await api.deleteNamespacedPod({ name: 'netpath-fixed', namespace: 'default' });
    assert.deepEqual(server.leftoverPods(), []);
  });

  test('a pod that cannot run in the lab (not hostNetwork) stays ContainerCreating; exec is refused', async () => {
    const api = kc().makeApiClient(CoreV1Api);
    const pod = await api.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'plain' }, spec: { nodeName: 'k8s-node1', containers: [{ name: 'c', image: 'busybox' }] } } });
    assert.equal(pod.status?.phase, 'Pending');
    assert.equal(pod.status?.containerStatuses?.[0]?.state?.waiting?.reason, 'ContainerCreating');
    await assert.rejects(execIn(kc(), 'default', 'plain', ['ip', 'route'], { ws: () => statusAwareWs(kc()) }), (e: Error & { code?: number }) => e.code === 400 && /container not found \("c"\)/.test(e.message));
    await api.deleteNamespacedPod({ name: 'plain', namespace: 'default' });
    assert.deepEqual(get().server.leftoverPods(), []);
  });

  test('an ephemeral container with ip in a pod whose image has none (what kubectl debug adds)', async () => {
    const { server } = get();
    server.setImage(web0Image(), { lacks: ['ip'] });
    const api = kc().makeApiClient(CoreV1Api);
    const patch = [{ op: 'add', path: '/spec/ephemeralContainers/-', value: { name: 'netpath-debugger', image: 'docker.io/nicolaka/netshoot:v0.13', targetContainerName: 'web' } }];
    const pod = await api.patchNamespacedPodEphemeralcontainers({ name: 'web-0', namespace: 'default', body: patch }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
    assert.equal(pod.status?.ephemeralContainerStatuses?.[0]?.state?.running !== undefined, true);
    assert.equal(exitCode((await execIn(kc(), 'default', 'web-0', ['ip', 'route'])).status), 127);
    const r = await execIn(kc(), 'default', 'web-0', ['ip', 'route'], { container: 'netpath-debugger' });
    assert.equal(r.stdout, get().lab.execIn('web-0', ['ip', 'route']));
    // Ephemeral containers cannot be removed.
    await assert.rejects(api.patchNamespacedPodEphemeralcontainers({ name: 'web-0', namespace: 'default', body: [{ op: 'remove', path: '/spec/ephemeralContainers/0' }] }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch)), (e: { code?: number }) => e.code === 422);
  });

  test('Watch: a created and deleted debug pod arrive as ADDED and DELETED events', async () => {
    const k = kc();
    const events: string[] = [];
    const controller = await new Watch(k).watch('/api/v1/namespaces/default/pods', { labelSelector: 'purpose=watch-test', resourceVersion: get().server.model.resourceVersion() }, (type, obj: V1Pod) => events.push(`${type} ${obj.metadata?.name}`), () => {});
    try {
      const api = k.makeApiClient(CoreV1Api);
      await api.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'watched', labels: { purpose: 'watch-test' } }, spec: { hostNetwork: true, containers: [{ name: 'c', image: 'busybox' }] } } });
      await api.deleteNamespacedPod({ name: 'watched', namespace: 'default' });
      await waitFor(() => events.length >= 2);
      assert.deepEqual(events, ['ADDED watched', 'DELETED watched']);
    } finally {
      controller.abort();
    }
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
