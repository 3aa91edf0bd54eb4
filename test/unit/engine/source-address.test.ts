// The source address of a packet a host creates (inet_select_addr), against what a real kernel answered
// for the same tables: test/fixtures/dataplane/source-address.txt holds a namespace's `ip link`, `ip
// addr` and `ip route` output and the kernel's `ip route get` answers for three destinations. The
// Calico lab (test/lab/topologies.test.ts) asks the kernel itself for a node's packets to its pods.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseCapture } from '../../../src/capture/document';
import { buildNetwork, simulate } from '../../../src/engine';

const text = readFileSync(join(__dirname, '../../fixtures/dataplane/source-address.txt'), 'utf8');
/** The fixture's sections (`--- links`, `--- addrs`, `--- routes4`). */
const section = (name: string) => text.split(`--- ${name}\n`)[1]!.split('\n--- ')[0]!;
/** The kernel's answers quoted in the fixture's head: destination -> the source it chose. */
const kernel = new Map([...text.matchAll(/^#\s+(\S+) (?:via \S+ )?dev \S+ src (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));

function net() {
  const r = parseCapture(
    JSON.stringify({
      apiVersion: 'netpath/v1',
      kind: 'Capture',
      metadata: { cluster: 'source-address', capturedAt: '2026-12-06T13:00:00Z' },
      hosts: [{ name: 'sx', role: 'node', ips: ['10.9.9.1'], probes: { links: section('links'), addrs: section('addrs'), routes4: section('routes4') } }],
    }),
  );
  assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.errors));
  return buildNetwork(r.capture);
}

describe('the source address of a packet created here (inet_select_addr)', () => {
  const n = net();
  const srcStep = (dst: string) => {
    const out = simulate(n, { from: 'sx', to: dst });
    assert.ok(out.ok, out.ok ? '' : out.error);
    return { flow: out.result.flow, step: out.result.hops[0]!.steps.find((s) => s.kind === 'src') };
  };

  test('the fixture quotes three kernel answers', () => {
    assert.deepEqual([...kernel], [
      ['10.48.97.2', '10.9.9.1'],
      ['10.50.1.1', '10.2.2.5'],
      ['10.70.0.1', '10.9.9.1'],
    ]);
  });

  test('a device with no address (a route out of va): the first address of the namespace outside lo, as the kernel chose', () => {
    const { flow, step } = srcStep('10.48.97.2');
    assert.equal(flow.src, kernel.get('10.48.97.2'));
    assert.match(step!.text, /va has no address of its own in the route's scope, so the kernel takes the first one in the namespace: vc's/);
    assert.match(step!.evidence, /inet 10\.9\.9\.1\/24 scope global vc/);
    assert.deepEqual(step!.detail, { type: 'src', addr: '10.9.9.1', from: 'namespace', dev: 'va', addrDev: 'vc' });
  });

  test("a device with two addresses: the one whose subnet holds the route's gateway, as the kernel chose", () => {
    for (const [dst, gw] of [
      ['10.50.1.1', '10.2.2.1'],
      ['10.70.0.1', '10.9.9.254'],
    ] as const) {
      const { flow, step } = srcStep(dst);
      assert.equal(flow.src, kernel.get(dst), dst);
      assert.match(step!.text, new RegExp(`the address on vc whose subnet holds the next hop ${gw.replace(/\./g, '\\.')}`));
    }
  });
});
