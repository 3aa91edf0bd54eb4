// The capture document's loader (src/capture/document.ts): what it accepts, and that every error
// names the JSON path and what was expected there.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { API_VERSION, findHost, parseCapture, serializeCapture, validateCapture, type CaptureProblem, type LoadResult } from '../../../src/capture/document';

function validDoc(): Record<string, unknown> & { hosts: Record<string, unknown>[]; links: unknown[] } {
  return {
    apiVersion: 'netpath/v1',
    kind: 'Capture',
    metadata: { cluster: 'lab', capturedAt: '2026-11-24T21:30:00Z' },
    hosts: [
      {
        name: 'k8s-node1',
        role: 'node',
        ips: ['10.4.7.21'],
        podCIDRs: ['10.244.0.0/24'],
        probes: {
          routes4: '10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink \n',
          fdb: '42:20:2d:f5:4d:c4 dev flannel.1 dst 10.4.7.22 self permanent\n',
        },
      },
      {
        name: 'web-0',
        role: 'pod',
        node: 'k8s-node1',
        namespace: 'default',
        pod: 'web-0',
        hostNetwork: false,
        ips: ['10.244.0.3'],
        probes: { routes4: 'default via 10.244.0.1 dev eth0 \n' },
      },
      { name: 'tor', role: 'switch', probes: { fdb: '' } },
      { name: 'gw', role: 'router', ips: ['10.4.7.1'] },
    ],
    links: [
      { a: { host: 'k8s-node1', dev: 'eth0' }, b: { host: 'tor', dev: 'p1' } },
      { a: { host: 'gw', dev: 'eth0' }, b: { host: 'tor', dev: 'p2' } },
    ],
  };
}

function errorsOf(r: LoadResult): CaptureProblem[] {
  assert.equal(r.ok, false, 'expected the document to be rejected');
  return r.ok ? [] : r.errors;
}

function errorAt(r: LoadResult, path: string): CaptureProblem {
  const errors = errorsOf(r);
  const e = errors.find((x) => x.path === path);
  assert.ok(e, `expected an error at ${path}, got: ${JSON.stringify(errors)}`);
  return e;
}

describe('capture document', () => {
  test('a valid capture loads with its hosts, links and probes and no warnings', () => {
    const r = parseCapture(JSON.stringify(validDoc()));
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(r.warnings, []);
    assert.equal(r.capture.apiVersion, API_VERSION);
    assert.deepEqual(r.capture.hosts.map((h) => [h.name, h.role]), [['k8s-node1', 'node'], ['web-0', 'pod'], ['tor', 'switch'], ['gw', 'router']]);
    assert.equal(r.capture.links?.length, 2);
    assert.equal(findHost(r.capture, 'k8s-node1')?.probes?.routes4, '10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink \n');
    assert.equal(findHost(r.capture, 'missing'), undefined);
  });

  test('a host may have no probes at all and the capture no links', () => {
    const doc = validDoc();
    delete doc.hosts[1]!.probes;
    delete (doc as Record<string, unknown>).links;
    const r = validateCapture(doc);
    assert.ok(r.ok, JSON.stringify(r));
  });

  test('unknown fields are kept', () => {
    const doc = validDoc();
    doc.hosts[0]!.labels = { zone: 'a' };
    (doc as Record<string, unknown>).extra = 1;
    const r = validateCapture(doc);
    assert.ok(r.ok);
    assert.deepEqual((r.capture.hosts[0] as Record<string, unknown>).labels, { zone: 'a' });
    assert.equal((r.capture as Record<string, unknown>).extra, 1);
  });

  test('a wrong role names hosts[1].role and the expected values', () => {
    const doc = validDoc();
    doc.hosts[1]!.role = 'container';
    const e = errorAt(validateCapture(doc), 'hosts[1].role');
    for (const role of ['"node"', '"pod"', '"router"', '"switch"']) assert.match(e.message, new RegExp(role));
    assert.match(e.message, /got "container"/);
  });

  test('a wrong type names the path and the type expected', () => {
    const doc = validDoc();
    doc.hosts[0]!.ips = '10.4.7.21';
    const e = errorAt(validateCapture(doc), 'hosts[0].ips');
    assert.match(e.message, /expected array/);
  });

  test('a bad address or CIDR names the element', () => {
    const doc = validDoc();
    doc.hosts[0]!.ips = ['10.4.7.21', '10.4.7.300'];
    doc.hosts[0]!.podCIDRs = ['10.244.0.0'];
    const r = validateCapture(doc);
    assert.match(errorAt(r, 'hosts[0].ips[1]').message, /IPv4 or IPv6 address.*10\.4\.7\.300/);
    assert.match(errorAt(r, 'hosts[0].podCIDRs[0]').message, /CIDR prefix/);
  });

  test('a probe that is not text names hosts[i].probes.<probe>', () => {
    const doc = validDoc();
    doc.hosts[0]!.probes = { routes4: ['default via 10.4.7.1'] };
    assert.match(errorAt(validateCapture(doc), 'hosts[0].probes.routes4').message, /expected string/);
  });

  test('a missing apiVersion says which one is expected', () => {
    const doc = validDoc();
    delete (doc as Record<string, unknown>).apiVersion;
    assert.match(errorAt(validateCapture(doc), 'apiVersion').message, /missing; expected "netpath\/v1"/);
  });

  test('a newer apiVersion netpath/v2 says to upgrade netpath', () => {
    const doc = validDoc();
    doc.apiVersion = 'netpath/v2';
    const errors = errorsOf(validateCapture(doc));
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.path, 'apiVersion');
    assert.match(errors[0]!.message, /"netpath\/v2".*newer.*upgrade netpath/);
  });

  test('a foreign apiVersion names the one expected', () => {
    const doc = validDoc();
    doc.apiVersion = 'v1';
    assert.match(errorAt(validateCapture(doc), 'apiVersion').message, /"netpath\/v1"/);
  });

  test('a wrong kind is rejected at kind', () => {
    const doc = validDoc();
    doc.kind = 'Trace';
    assert.match(errorAt(validateCapture(doc), 'kind').message, /"Capture"/);
  });

  test('duplicate host names are rejected at the second one, naming the first', () => {
    const doc = validDoc();
    doc.hosts[3]!.name = 'tor';
    const e = errorAt(validateCapture(doc), 'hosts[3].name');
    assert.match(e.message, /duplicate host name "tor".*hosts\[2\]/);
  });

  test('a pod must name its node', () => {
    const doc = validDoc();
    delete doc.hosts[1]!.node;
    assert.match(errorAt(validateCapture(doc), 'hosts[1].node').message, /must name the node/);
  });

  test('a pod whose node is not in the capture is rejected', () => {
    const doc = validDoc();
    doc.hosts[1]!.node = 'k8s-node9';
    assert.match(errorAt(validateCapture(doc), 'hosts[1].node').message, /"k8s-node9", which is not a host/);
  });

  test('a pod whose node is not a node is rejected, naming its role', () => {
    const doc = validDoc();
    doc.hosts[1]!.node = 'tor';
    assert.match(errorAt(validateCapture(doc), 'hosts[1].node').message, /role "switch", not "node"/);
  });

  test('a link to an unknown host names the link end', () => {
    const doc = validDoc();
    doc.links[1] = { a: { host: 'gw', dev: 'eth0' }, b: { host: 'spine', dev: 'p9' } };
    assert.match(errorAt(validateCapture(doc), 'links[1].b.host').message, /"spine", which is not in this capture/);
  });

  test('a link end without a device names links[i].a.dev', () => {
    const doc = validDoc();
    doc.links[0] = { a: { host: 'k8s-node1' }, b: { host: 'tor', dev: 'p1' } };
    errorAt(validateCapture(doc), 'links[0].a.dev');
  });

  test('an unknown probe is a warning, not an error', () => {
    const doc = validDoc();
    (doc.hosts[0]!.probes as Record<string, string>).ethtool = 'Settings for eth0:';
    const r = validateCapture(doc);
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(r.warnings, [{ path: 'hosts[0].probes.ethtool', message: 'unknown probe "ethtool" is ignored' }]);
  });

  test('pod-only fields on a node and podCIDRs on a pod are warnings', () => {
    const doc = validDoc();
    doc.hosts[0]!.namespace = 'default';
    doc.hosts[1]!.podCIDRs = ['10.244.0.0/24'];
    const r = validateCapture(doc);
    assert.ok(r.ok);
    assert.deepEqual(r.warnings.map((w) => w.path).sort(), ['hosts[0].namespace', 'hosts[1].podCIDRs']);
  });

  test('serializeCapture round-trips and orders keys as the spec shows them', () => {
    const doc = validDoc();
    // Shuffle the key order: the serializer puts it back.
    const shuffled = { links: doc.links, hosts: doc.hosts.map((h) => Object.fromEntries(Object.entries(h).reverse())), kind: doc.kind, metadata: doc.metadata, apiVersion: doc.apiVersion };
    const r = validateCapture(shuffled);
    assert.ok(r.ok);
    const text = serializeCapture(r.capture);
    assert.ok(text.endsWith('}\n'));
    assert.deepEqual(Object.keys(JSON.parse(text)), ['apiVersion', 'kind', 'metadata', 'hosts', 'links']);
    assert.deepEqual(Object.keys(JSON.parse(text).hosts[1]), ['name', 'role', 'node', 'namespace', 'pod', 'hostNetwork', 'ips', 'probes']);
    const again = parseCapture(text);
    assert.ok(again.ok);
    assert.deepEqual(again.capture, r.capture);
    assert.equal(serializeCapture(again.capture), text);
  });

  test('text that is not JSON is rejected at (root) with the parser message', () => {
    const e = errorAt(parseCapture('{"apiVersion": "netpath/v1",'), '(root)');
    assert.match(e.message, /not valid JSON/);
  });

  test('JSON that is not an object is rejected at (root)', () => {
    assert.match(errorAt(parseCapture('[1, 2]'), '(root)').message, /expected a JSON object/);
    assert.match(errorAt(parseCapture('null'), '(root)').message, /expected a JSON object/);
  });
});
