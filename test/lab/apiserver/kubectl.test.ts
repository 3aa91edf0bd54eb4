// The real kubectl (/usr/bin/kubectl, which picks kubectl 1.27..1.33 by the server's minor version)
// against the lab API server on the demo lab: get with -o wide, exec with the exit code passed
// through, and what kubectl prints for the faults a test can arm.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DEMO_CLUSTER } from '../demo-cluster';
import { tryRunAsync, type RunResult } from '../netns';
import { describeWithLabApi } from './fixture';

/** Rows of kubectl's table output as column -> value, using the header's column starts. */
function table(text: string): Record<string, string>[] {
  const [header, ...rows] = text.split('\n').filter((l) => l.trim() !== '');
  assert.ok(header, `no output:\n${text}`);
  const starts = [...header.matchAll(/(\S+(?: \S+)*)/g)].map((m) => ({ name: m[1]!, at: m.index }));
  return rows.map((row) => Object.fromEntries(starts.map((c, i) => [c.name, row.slice(c.at, starts[i + 1]?.at ?? row.length).trim()])));
}

const header = (text: string) => (text.split('\n')[0] ?? '').trim().split(/\s{2,}/);

describeWithLabApi('kubectl against the lab API server', { kubectl: true }, (get) => {
  let cache = '';
  before(() => {
    cache = mkdtempSync(join(tmpdir(), 'netpath-kubectl-cache-'));
  });
  after(() => rmSync(cache, { recursive: true, force: true }));

  /** Runs kubectl asynchronously (the server answers from this process's event loop). */
  const kubectl = (args: string[], kubeconfig = get().server.kubeconfigPath): Promise<RunResult> => tryRunAsync(['kubectl', '--kubeconfig', kubeconfig, '--cache-dir', cache, ...args], { timeoutMs: 20_000 });
  const ok = async (args: string[]) => {
    const r = await kubectl(args);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
    return r.stdout;
  };

  test('the dispatcher picks a kubectl >= 1.30 from /version, so exec goes over WebSocket', async () => {
    const v = JSON.parse(await ok(['version', '-o', 'json'])) as { clientVersion: { minor: string }; serverVersion: { minor: string; gitVersion: string } };
    assert.equal(v.serverVersion.minor, '31');
    assert.equal(v.serverVersion.gitVersion, 'v1.31.4');
    assert.ok(Number(v.clientVersion.minor) >= 30, `client ${v.clientVersion.minor}`);
  });

  test('get pods -A -o wide lists every lab pod on its node with its IP, and the host-network agents with node IPs', async () => {
    const out = await ok(['get', 'pods', '-A', '-o', 'wide']);
    assert.deepEqual(header(out), ['NAMESPACE', 'NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
    const rows = table(out);
    for (const n of DEMO_CLUSTER.nodes) {
      for (const p of n.pods) {
        const row = rows.find((r) => r.NAME === p.name);
        assert.ok(row, `${p.name} missing:\n${out}`);
        assert.deepEqual([row.NAMESPACE, row.READY, row.STATUS, row.RESTARTS, row.IP, row.NODE], [p.namespace, '1/1', 'Running', '0', p.ip, n.name]);
      }
      for (const agent of ['kube-flannel-ds-', 'kube-proxy-']) {
        const row = rows.find((r) => r.NAME!.startsWith(agent) && r.NODE === n.name);
        assert.ok(row, `no ${agent}* on ${n.name}:\n${out}`);
        assert.deepEqual([row.NAMESPACE, row.STATUS, row.IP], ['kube-system', 'Running', n.ip]);
        assert.match(row.NAME!, new RegExp(`^${agent}[bcdfghjklmnpqrstvwxz2456789]{5}$`));
      }
    }
    assert.equal(rows.length, DEMO_CLUSTER.nodes.flatMap((n) => n.pods).length + 2 * DEMO_CLUSTER.nodes.length);
  });

  test('get nodes -o wide shows each node Ready with its InternalIP; get node -o json has podCIDR and the flannel annotations', async () => {
    const out = await ok(['get', 'nodes', '-o', 'wide']);
    assert.deepEqual(header(out).slice(0, 6), ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION', 'INTERNAL-IP']);
    const rows = table(out);
    assert.deepEqual(rows.map((r) => [r.NAME, r.STATUS, r.VERSION, r['INTERNAL-IP']]), DEMO_CLUSTER.nodes.map((n) => [n.name, 'Ready', 'v1.31.4', n.ip]));
    const node = JSON.parse(await ok(['get', 'node', 'k8s-node2', '-o', 'json'])) as { spec: { podCIDR: string; podCIDRs: string[] }; metadata: { annotations: Record<string, string> } };
    assert.deepEqual([node.spec.podCIDR, node.spec.podCIDRs], ['10.244.1.0/24', ['10.244.1.0/24']]);
    const vtep = get().built.plan.nodes.find((n) => n.name === 'k8s-node2')!.vtepMac;
    assert.deepEqual(JSON.parse(node.metadata.annotations['flannel.alpha.coreos.com/backend-data']!), { VNI: 1, VtepMAC: vtep });
    assert.equal(node.metadata.annotations['flannel.alpha.coreos.com/backend-type'], 'vxlan');
    assert.equal(node.metadata.annotations['flannel.alpha.coreos.com/public-ip'], '10.4.7.22');
  });

  test('get configmap -n kube-system lists kube-flannel-cfg with its two keys', async () => {
    const rowsText = await ok(['get', 'configmap', '-n', 'kube-system']);
    const rows = table(rowsText);
    assert.deepEqual(header(rowsText), ['NAME', 'DATA', 'AGE']);
    assert.deepEqual(rows.map((r) => [r.NAME, r.DATA]), [['coredns', '1'], ['kube-flannel-cfg', '2'], ['kube-proxy', '2'], ['kube-root-ca.crt', '1']]);
    const net = await ok(['get', 'configmap', '-n', 'kube-system', 'kube-flannel-cfg', '-o', 'jsonpath={.data.net-conf\\.json}']);
    assert.deepEqual(JSON.parse(net), { Network: '10.244.0.0/16', Backend: { Type: 'vxlan' } });
  });

  test('label and field selectors: -l app=web, --field-selector spec.nodeName=k8s-node1', async () => {
    const web = table(await ok(['get', 'pods', '-A', '-l', 'app=web']));
    assert.deepEqual(web.map((r) => r.NAME), ['web-0', 'web-1']);
    const onNode1 = table(await ok(['get', 'pods', '-A', '--field-selector', 'spec.nodeName=k8s-node1']));
    assert.deepEqual(onNode1.map((r) => r.NAME!.replace(/-[bcdfghjklmnpqrstvwxz2456789]{5}$/, '-*')), ['web-0', 'coredns-6d8c4cb4d-*', 'kube-flannel-ds-*', 'kube-proxy-*']);
    const bad = await kubectl(['get', 'pods', '--field-selector', 'spec.foo=x']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /field label not supported: spec\.foo/);
  });

  test('exec -n default web-0 -- ip route prints exactly what the pod namespace holds', async () => {
    const out = await ok(['exec', '-n', 'default', 'web-0', '--', 'ip', 'route']);
    assert.equal(out, get().lab.execIn('web-0', ['ip', 'route']));
    assert.match(out, /^default via 10\.244\.0\.1 dev eth0 $/m);
  });

  test('exec -i passes stdin through to the command', async () => {
    const r = await tryRunAsync(['kubectl', '--kubeconfig', get().server.kubeconfigPath, '--cache-dir', cache, 'exec', '-i', 'web-1', '--', 'cat'], { input: 'through the lab\n', timeoutMs: 20_000 });
    assert.deepEqual([r.code, r.stdout], [0, 'through the lab\n'], r.stderr);
  });

  test('exec into a hostNetwork pod runs in its node: the flannel pod sees flannel.1 and eth0 with the node IP', async () => {
    const pods = table(await ok(['get', 'pods', '-n', 'kube-system', '-o', 'wide']));
    const flannel = pods.find((r) => r.NAME!.startsWith('kube-flannel-ds-') && r.NODE === 'k8s-node3')!;
    const out = await ok(['exec', '-n', 'kube-system', flannel.NAME!, '--', 'ip', '-br', 'addr']);
    assert.match(out, /^eth0@if\d+\s+UP\s+10\.4\.7\.23\/24 /m);
    assert.match(out, /^flannel\.1\s+UNKNOWN\s+10\.244\.2\.0\/32 /m);
  });

  test('exit codes pass through: non-zero exit, stderr, and kubectl says "command terminated with exit code N"', async () => {
    const r = await kubectl(['exec', 'web-0', '--', 'ip', 'link', 'show', 'dev', 'nosuchdev']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Device "nosuchdev" does not exist\./);
    assert.match(r.stderr, /command terminated with exit code 1/);
    const three = await kubectl(['exec', 'web-0', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.deepEqual([three.code, three.stdout], [3, 'out\n']);
    assert.match(three.stderr, /^err\ncommand terminated with exit code 3\n$/);
  });

  test('a container without ip: exit code 127 and the runtime message', async () => {
    const { server } = get();
    server.setImage(server.model.getPod('default', 'web-0')!.spec.containers[0]!.image, { lacks: ['ip'] });
    const r = await kubectl(['exec', 'web-0', '--', 'ip', 'route']);
    assert.equal(r.code, 127);
    assert.match(r.stderr, /exec: "ip": executable file not found in \$PATH/);
    assert.match(r.stderr, /command terminated with exit code 127/);
  });

  test('a container without ip on a containerd-like runtime: kubectl reports the internal error and exits 1', async () => {
    const { server } = get();
    server.setImage(server.model.getPod('default', 'web-0')!.spec.containers[0]!.image, { lacks: ['ip'], missing: 'internal-error' });
    const r = await kubectl(['exec', 'web-0', '--', 'ip', 'route']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /error executing command in container: failed to exec in container: failed to start exec "[0-9a-f]{64}": OCI runtime exec failed: .*exec: "ip": executable file not found in \$PATH: unknown/);
  });

  test('403 on pods/exec: kubectl prints the Forbidden status', async () => {
    const { server } = get();
    server.inject({ kind: 'exec-forbidden', user: 'system:serviceaccount:default:netpath' });
    const r = await kubectl(['exec', 'web-0', '--', 'ip', 'route']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /pods "web-0" is forbidden: User "system:serviceaccount:default:netpath" cannot create resource "pods\/exec" in API group "" in the namespace "default"/);
  });

  test('a deleted pod: NotFound', async () => {
    get().server.deletePod('default', 'web-1');
    const r = await kubectl(['exec', 'web-1', '--', 'ip', 'route']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Error from server \(NotFound\): pods "web-1" not found/);
  });

  test('a wrong token: kubectl says it must be logged in (401)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netpath-kubeconfig-'));
    try {
      const bad = join(dir, 'kubeconfig');
      writeFileSync(bad, get().server.kubeconfig('not-the-token'), { mode: 0o600 });
      const r = await kubectl(['get', 'pods'], bad);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /You must be logged in to the server \(Unauthorized\)|Unauthorized/);
      assert.ok(get().server.requests.some((q) => q.code === 401));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
