// A route whose gateway `route` printed by name (no -n): the engine places the gateway from the host's
// `arp -a` names, as an inference it says, or stops with insufficient-data; it never takes such a route
// for an on-link one. The capture is the demo's, with web-0's routes4 replaced by real `route` output
// of the same table (the gateway 10.244.0.1 printed as `k8s-node1-cni0.`, cut from
// `k8s-node1-cni0.cluster.internal`).
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseCapture, type Capture } from '../../../src/capture/document';
import { buildNetwork, simulate, type TraceRequest, type TraceResult } from '../../../src/engine';
import { fixtureBody } from '../parsers/fixture-body';

const demoText = readFileSync(join(__dirname, '../../../examples/demo-flannel-vxlan.json'), 'utf8');
const routeNames = fixtureBody('routes4', 'lab-demo-web-0-route-names');
const arpNames = fixtureBody('arp', 'lab-demo-web-0-a-names');

/** The demo capture with web-0's probes replaced. */
function demoWith(probes: Record<string, string>): Capture {
  const r = parseCapture(demoText);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  const web0 = r.capture.hosts.find((h) => h.name === 'web-0')!;
  web0.probes = { ...web0.probes, ...probes };
  return r.capture;
}

function trace(c: Capture, req: TraceRequest): TraceResult {
  const r = simulate(buildNetwork(c), req);
  if (!r.ok) throw new Error(r.error);
  return r.result;
}

const web0Steps = (r: TraceResult) => r.hops.find((h) => h.host === 'web-0')!.steps;
const toWeb1: TraceRequest = { from: 'default/web-0', to: 'default/web-1' };

describe('a gateway printed as a name', () => {
  test('one `arp -a` name matches: the gateway is taken from it, the step says it is inferred, the packet is delivered', () => {
    const healthy = trace(demoWith({}), toWeb1);
    const r = trace(demoWith({ routes4: routeNames, arp: arpNames }), toWeb1);
    assert.equal(r.verdict, 'delivered');
    assert.deepEqual(r.hops.map((h) => h.host), healthy.hops.map((h) => h.host));
    assert.equal(r.inferred, true);
    const steps = web0Steps(r);
    const route = steps.find((s) => s.kind === 'route')!;
    assert.match(route.text, /"10\.244\.0\.0\/16 via k8s-node1-cni0\. \(a name, address unknown\) dev eth0"/);
    const placed = steps[steps.indexOf(route) + 1]!;
    assert.equal(placed.kind, 'inferred');
    assert.equal(placed.inferred, true);
    assert.match(placed.text, /route printed its gateway as the name "k8s-node1-cni0\." \(maybe cut to 15 characters\)/);
    assert.match(placed.text, /names 10\.244\.0\.1 on eth0 "k8s-node1-cni0\.cluster\.internal".*taken to be 10\.244\.0\.1 \(inferred; capture the table with `route -n`/);
    assert.deepEqual(placed.records.map((e) => `${e.probe}:${e.line}`), ['routes4:5', 'arp:1']);
    assert.equal(placed.records[1]!.raw, 'k8s-node1-cni0.cluster.internal (10.244.0.1) at 12:f1:86:a7:b2:ae [ether] on eth0');
    // From there on, the neighbour lookup is for the gateway, as with `ip route`.
    const neigh = steps.find((s) => s.kind === 'neigh')!;
    assert.match(neigh.text, /gateway 10\.244\.0\.1 on eth0/);
  });

  test('no name to look it up by: insufficient-data naming the name and the fix, and never on-link', () => {
    const r = trace(demoWith({ routes4: routeNames }), toWeb1); // the demo's own `arp -an`: `? (10.244.0.1) ...`
    assert.equal(r.verdict, 'insufficient-data');
    assert.deepEqual(r.dropAt, { host: 'web-0', dev: 'eth0' });
    assert.match(r.reason, /route printed its gateway as the name "k8s-node1-cni0\."/);
    assert.match(r.reason, /web-0's `arp` output prints no names to look it up by \(it was captured with -n\).*it is not on-link\); capture the table with `route -n`/);
    // Taking it for on-link would have asked ARP for 10.244.1.3 itself: nothing after the route step.
    const kinds = web0Steps(r).map((s) => s.kind);
    assert.ok(!kinds.includes('neigh') && !kinds.includes('arp'), kinds.join(' '));
    assert.equal(r.hops.length, 1);
    // Names that are not the gateway's, or no `arp` probe at all: the reason says which.
    const other = trace(demoWith({ routes4: routeNames, arp: arpNames.split('\n').slice(1).join('\n') }), toWeb1);
    assert.equal(other.verdict, 'insufficient-data');
    assert.match(other.reason, /no name in web-0's `arp -a` output matches it on eth0/);
    const none = demoWith({ routes4: routeNames });
    delete none.hosts.find((h) => h.name === 'web-0')!.probes!.arp;
    assert.match(trace(none, toWeb1).reason, /the capture of web-0 has no `arp -a` output to look it up in/);
  });

  test('several names it could be: insufficient-data listing them', () => {
    const arp = `${arpNames.trimEnd()}\nk8s-node1-cni0.other.internal (10.244.0.9) at 12:f1:86:a7:b2:af [ether] on eth0\n`;
    const r = trace(demoWith({ routes4: routeNames, arp }), toWeb1);
    assert.equal(r.verdict, 'insufficient-data');
    assert.match(r.reason, /has 2 addresses it could be \("k8s-node1-cni0\.cluster\.internal" 10\.244\.0\.1, "k8s-node1-cni0\.other\.internal" 10\.244\.0\.9\)/);
    const last = web0Steps(r).at(-1)!;
    assert.deepEqual(last.records.map((e) => `${e.probe}:${e.line}`), ['routes4:5', 'arp:1', 'arp:3']);
  });

  test('a name that fits its column must match whole, and on the route\'s device', () => {
    const route = routeNames.replace(/k8s-node1-cni0\./g, 'cni0-gw        ');
    assert.match(route, /^default {9}cni0-gw {9}0\.0\.0\.0 /m);
    const wrongDev = trace(demoWith({ routes4: route, arp: 'cni0-gw (10.244.0.1) at 12:f1:86:a7:b2:ae [ether] on eth1\n' }), toWeb1);
    assert.equal(wrongDev.verdict, 'insufficient-data');
    const longer = trace(demoWith({ routes4: route, arp: 'cni0-gw-2 (10.244.0.1) at 12:f1:86:a7:b2:ae [ether] on eth0\n' }), toWeb1);
    assert.equal(longer.verdict, 'insufficient-data');
    const exact = trace(demoWith({ routes4: route, arp: 'cni0-gw-2 (10.244.0.7) at 12:f1:86:a7:b2:af [ether] on eth0\nCNI0-GW (10.244.0.1) at 12:f1:86:a7:b2:ae [ether] on eth0\n' }), toWeb1);
    assert.equal(exact.verdict, 'delivered');
    assert.match(web0Steps(exact).find((s) => s.kind === 'inferred')!.text, /taken to be 10\.244\.0\.1/);
  });

  test('only the route that wins matters: an on-link destination is delivered without any inference', () => {
    const r = trace(demoWith({ routes4: routeNames }), { from: 'default/web-0', to: '10.244.0.2' });
    assert.equal(r.verdict, 'delivered');
    assert.ok(!web0Steps(r).some((s) => s.kind === 'inferred' && /printed its gateway/.test(s.text)));
  });
});
