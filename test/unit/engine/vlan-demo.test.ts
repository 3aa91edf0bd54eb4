// The article's VLAN picture as a demo capture (examples/demo-vlan.json, written from demoVlan() in
// vlan-captures.ts, where each probe shape is cited), traced through the CLI as a user runs it:
// `netpath trace --capture examples/demo-vlan.json --from host-a --to 192.168.35.20 [--json]`.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { EXIT_OK, run } from '../../../src/cli/main';
import { fakeIo } from '../cli/fake-io';
import { demoVlan } from './vlan-captures';

const example = readFileSync(join(__dirname, '../../../examples/demo-vlan.json'), 'utf8');

describe('examples/demo-vlan.json', () => {
  test('is the capture vlan-captures.ts builds (regenerate it from demoVlan() when that changes)', () => {
    assert.deepEqual(JSON.parse(example), demoVlan());
  });

  test('netpath trace --json: PVID 10 on the access port, tagged 10 over the trunk, popped at eth0.10, routed, pushed 20 on eth0.20, untagged out of the VLAN 20 access port, delivered', async () => {
    const f = fakeIo({ 'demo-vlan.json': example });
    assert.equal(await run(['trace', '--capture', 'demo-vlan.json', '--from', 'host-a', '--to', '192.168.35.20', '--json'], f.io), EXIT_OK, f.stderr());
    const out = JSON.parse(f.stdout()) as { verdict: string; hops: { host: string; steps: { kind: string; detail?: Record<string, unknown> }[] }[] };
    assert.equal(out.verdict, 'delivered');
    // Each VLAN event and each wire, in path order, as the JSON contract carries them.
    const events = out.hops.flatMap((h) =>
      h.steps
        .map((s) => s.detail)
        .filter((d): d is Record<string, unknown> => d !== undefined && (d.type === 'wire' || String(d.type).startsWith('vlan-')))
        .map((d) => {
          switch (d.type) {
            case 'wire':
              return `${h.host} ${String(d.dev)} -> ${String(d.peer)} ${String(d.peerDev)}${d.vlans ? ` [${(d.vlans as number[]).join(',')}]` : ' untagged'}`;
            case 'vlan-ingress':
              return `${h.host} ${String(d.port)} in VLAN ${String(d.vlan)} (${String(d.how)})`;
            case 'vlan-egress':
              return `${h.host} ${String(d.port)} out VLAN ${String(d.vlan)} ${d.tagged ? 'tagged' : 'untagged'}`;
            case 'vlan-pop':
              return `${h.host} pop ${String(d.id)} -> ${String(d.dev)}`;
            case 'vlan-push':
              return `${h.host} push ${String(d.id)} on ${String(d.dev)} -> ${String(d.parent)}`;
            default:
              return String(d.type);
          }
        }),
    );
    assert.deepEqual(events, [
      'host-a eth0 -> switch swp1 untagged',
      'switch swp1 in VLAN 10 (pvid)',
      'switch swp3 out VLAN 10 tagged',
      'switch swp3 -> l3-switch eth0 [10]',
      'l3-switch pop 10 -> eth0.10',
      'l3-switch push 20 on eth0.20 -> eth0',
      'l3-switch eth0 -> switch swp3 [20]',
      'switch swp3 in VLAN 20 (tagged)',
      'switch swp2 out VLAN 20 untagged',
      'switch swp2 -> host-b eth0 untagged',
    ]);
    assert.equal(out.hops.at(-1)!.host, 'host-b');
  });

  test('netpath trace (text) shows the tags', async () => {
    const f = fakeIo({ 'demo-vlan.json': example });
    assert.equal(await run(['trace', '--capture', 'demo-vlan.json', '--from', 'host-a', '--to', '192.168.35.20'], f.io), EXIT_OK, f.stderr());
    const text = f.stdout().replace(/\s+/g, ' ');
    assert.match(text, /carries 802\.1Q tag VLAN 10/);
    assert.match(text, /carries 802\.1Q tag VLAN 20/);
    assert.match(text, /takes that port's PVID, VLAN 10/);
    assert.match(text, /eth0\.10 is eth0's VLAN device for id 10/);
    assert.match(text, /adds the tag VLAN 20/);
    assert.match(text, /Egress Untagged\): the frame leaves without its tag/);
  });
});
