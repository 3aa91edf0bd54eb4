// `netpath trace --markdown`: the trace as Markdown for a ticket (src/engine/markdown.ts), through the CLI.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { EXIT_DROPPED, EXIT_OK, EXIT_USAGE, run } from '../../../src/cli/main';
import { traceMarkdown } from '../../../src/engine/markdown';
import type { TraceResult } from '../../../src/engine/trace';
import { fakeIo } from './fake-io';

const demo = readFileSync(join(__dirname, '../../../examples/demo-flannel-vxlan.json'), 'utf8');

async function markdown(args: string[]): Promise<{ code: number; md: string }> {
  const f = fakeIo({ 'demo.json': demo });
  const code = await run(['trace', ...args, '--markdown'], f.io);
  return { code, md: f.stdout() };
}

describe('netpath trace --markdown', () => {
  test('web-0 -> web-1: title, verdict, reason, flow, every hop with its steps and their evidence lines as code', async () => {
    const { code, md } = await markdown(['--from', 'default/web-0', '--to', 'default/web-1']);
    assert.equal(code, EXIT_OK);
    assert.match(md, /^# netpath trace: web-0 → web-1\n\n\*\*Verdict:\*\* `delivered`\n\n\*\*Reason:\*\* .*web-1 owns 10\.244\.1\.3/);
    assert.match(md, /^\*\*Flow:\*\* `ICMP 10\.244\.0\.3 → 10\.244\.1\.3, 64 bytes, Don't Fragment`/m);
    const hops = [...md.matchAll(/^### Hop (\d) of 5: (\S+)$/gm)].map((m) => m[2]);
    assert.deepEqual(hops, ['web-0', 'k8s-node1', 'tor', 'k8s-node2', 'web-1']);
    // The route on k8s-node1 that sent it into the tunnel, quoted in a code block under its step.
    assert.match(md, /- \*\*route\*\*: [^\n]*\n {2}```text\n(?: {2}[^\n]*\n)* {2}k8s-node1 routes4:4 {2}10\.244\.1\.0\/24 via 10\.244\.1\.0 dev flannel\.1 onlink\n/);
    assert.match(md, /- \*\*fdb\*\*: /);
    // Every fence opened is closed.
    assert.equal((md.match(/^ {2}```/gm) ?? []).length % 2, 0);
    assert.ok(!/Likely causes/.test(md));
  });

  test('a dropped packet: where it stopped, and the diagnosis with expected, found, owner and fix', async () => {
    const { code, md } = await markdown(['--from', 'default/web-0', '--to', '10.96.0.10']);
    assert.equal(code, EXIT_DROPPED);
    assert.match(md, /^\*\*Verdict:\*\* `no-route` at gw$/m);
    assert.match(md, /^## Likely causes\n\n1\. 10\.96\.0\.10 is the address of Service kube-system\/kube-dns/m);
    assert.match(md, /^ {3}- where: k8s-node1 `iptables`$/m);
    assert.match(md, /^ {3}- expected: a port the Service serves: 53\/UDP \(dns\), 53\/TCP \(dns-tcp\), 9153\/TCP \(metrics\)$/m);
    assert.match(md, /^ {3}- found: ICMP$/m);
    assert.match(md, /^ {3}- fix \(kube-proxy\): trace a port the Service serves: --proto udp --port 53, or --to svc\/kube-system\/kube-dns:dns$/m);
  });

  test('a Service with several endpoints: one section per path with its endpoint', async () => {
    const { code, md } = await markdown(['--from', 'default/web-0', '--to', 'svc/kube-system/kube-dns:dns']);
    assert.equal(code, EXIT_OK);
    assert.match(md, /^## \d+ paths$/m);
    assert.match(md, /^### Path 1: .*$/m);
    assert.match(md, /endpoint `10\.244\.\d+\.\d+:53`/);
  });

  test('--markdown with --json is a usage error', async () => {
    const f = fakeIo({ 'demo.json': demo });
    assert.equal(await run(['trace', '--from', 'web-0', '--to', 'web-1', '--markdown', '--json'], f.io), EXIT_USAGE);
  });

  test('names from the cluster cannot break out of their place: Markdown punctuation escaped, backticks in evidence fenced longer', () => {
    const t: TraceResult = {
      verdict: 'no-route', hops: [{ host: 'evil*_[x](y)', in: null, out: 'e`th0', steps: [{ kind: 'route', text: 'no route <b>', evidence: 'a ``` b', records: [{ host: 'h', probe: 'routes4', line: 1, raw: 'a ``` b' }] }] }],
      dropAt: { host: 'evil*_[x](y)', dev: null }, reason: 'r', flow: { src: '1.1.1.1', dst: '2.2.2.2', proto: 'icmp', size: 64, df: true },
      from: { host: 'evil*_[x](y)', ip: '1.1.1.1' }, to: { host: null, ip: '2.2.2.2' }, paths: [], inferred: false, needs: [],
    };
    const md = traceMarkdown(t);
    assert.match(md, /^### Hop 1 of 1: evil\\\*\\_\\\[x\\\]\(y\)$/m);
    assert.match(md, /^in —, out ``e`th0``$/m);
    assert.match(md, /no route \\<b\\>/);
    assert.match(md, /^ {2}````text\n {2}h routes4:1 {2}a ``` b\n {2}````$/m);
  });
});
