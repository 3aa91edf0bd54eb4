// macvlan judged by the real kernel (drivers/net/macvlan.c): a Multus-style second network built in
// the netns lab (multus.ts) over a flannel host-gw cluster. Every node has an eth1 cabled to a second
// switch `tor2`; pods get a net1 that is a macvlan of their node's eth1. Each case reconfigures what it
// needs in place, captures, traces with the engine, sends ONE real packet (oracle.ts) and compares.
//
// What the kernel (6.18 here) did, which the engine must agree with:
//   - bridge mode, two pods on node1's eth1: macvlan_queue_xmit finds the sibling's MAC in the port's
//     hash and hands the frame to the lower device's receive path (dev_forward_skb(lowerdev): "send
//     to lowerdev first for its network taps"), whose rx_handler gives it to the sibling. node1's eth1
//     receives it (its netdev ingress hook counts it); tor2 never sees it. With the neighbours
//     forgotten, the ARP broadcast reaches the bridge-mode sibling (macvlan_broadcast), which answers.
//   - private mode: the pair's ARP broadcast goes out of eth1 only (macvlan_broadcast is for bridge
//     mode) and tor2 does not send it back out of the port it came in on (hairpin off): the ARP fails
//     and the packet is dropped at its source (neighbor-failed). With hairpin on the broadcast does come
//     back, but macvlan_handle_frame gives a private macvlan's own broadcast back only to itself: ARP
//     still fails. With neighbour entries pre-seeded (PERMANENT) the one packet is sent: out of eth1,
//     and tor2 drops it (its FDB puts the destination behind the same port); with hairpin on it comes
//     back and IS delivered, since macvlan_handle_frame checks no source for unicast (ip-link(8) says
//     private mode blocks siblings "even if the external switch supports hairpin mode": true of
//     broadcasts, so of ARP, not of a unicast whose neighbour entry exists).
//   - vepa mode (neighbours pre-seeded): every frame goes out of eth1; with hairpin off on tor2's port
//     it is dropped there, with hairpin on it comes back in on eth1 and goes to the sibling by MAC.
//     With neighbours forgotten and hairpin on, the ARP broadcast comes back too, and eth1 gives a vepa
//     macvlan's broadcast to the other vepa and bridge macvlans and to its own stack: mv-b answers,
//     and so does node1 for its eth1 address (the one way a macvlan reaches its own host).
//   - a pod to its own node's eth1 address (neighbour pre-seeded; ARP would fail as in private mode):
//     the frame goes out of eth1 to tor2, never up eth1's own stack; tor2 drops it (same port) and
//     node1 never receives it. With hairpin on it comes back, no macvlan has that MAC, node1 takes it.
//     The other way, node1's ARP for its own pod leaves by eth1 and never reaches eth1's macvlans.
//   - across nodes: out of node1's eth1, through tor2, into node2's eth1, whose rx_handler gives it to
//     the passthru macvlan (the one macvlan of a passthru port takes every frame), and back; node1 with
//     no neighbour entries ARPs across tor2 and the passthru pod answers.
//
// Needs root, network namespaces and nft (the oracle's per-device counters). Without them this test
// FAILS with what is missing, unless NETPATH_SKIP_LAB=1 is set, in which case it is skipped.
import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import { agree, bringUp, explain, hop, host, hostsOf, probe, stepOf, withFault, type Running } from './judge';
import { addMacvlanNetwork, type MacvlanNetwork } from './multus';
import { describeObservation, oracleUnavailable, type Observation } from './oracle';
import type { ClusterSpec } from './topology';

const SKIP = process.env.NETPATH_SKIP_LAB === '1';
const TIMEOUT = 120_000;

const MULTUS: ClusterSpec = {
  name: 'lab-multus-macvlan',
  underlay: { cidr: '10.4.12.0/24', switch: { name: 'tor' } },
  cni: { kind: 'flannel-host-gw', network: '10.244.0.0/16' },
  nodes: [
    { name: 'node1', ip: '10.4.12.21', podCIDR: '10.244.0.0/24', docker0: false, pods: [
      { name: 'mv-a', namespace: 'default', ip: '10.244.0.3' },
      { name: 'mv-b', namespace: 'default', ip: '10.244.0.4' },
    ] },
    { name: 'node2', ip: '10.4.12.22', podCIDR: '10.244.1.0/24', docker0: false, pods: [
      { name: 'mv-c', namespace: 'default', ip: '10.244.1.3' },
    ] },
  ],
};

const A = '192.168.50.101';
const B = '192.168.50.102';
const C = '192.168.50.103';
const NODE1 = '192.168.50.11';

if (SKIP) {
  test('netns lab macvlan', { skip: 'NETPATH_SKIP_LAB=1' }, () => {});
} else {
  const unavailable = oracleUnavailable();
  if (unavailable) {
    test('netns lab macvlan: prerequisites', () => {
      assert.fail(unavailable);
    });
  } else {
    describeMacvlan();
  }
}

function describeMacvlan(): void {
  describe('macvlan (Multus: net1 on the nodes\' eth1, a second switch tor2)', { timeout: TIMEOUT }, () => {
    let t: Running;
    let mv: MacvlanNetwork;
    before(async () => {
      // The proof pings also teach tor2 where every MAC of the second network is (mv-c's replies, node1's).
      t = await bringUp(MULTUS, [['mv-a', B], ['mv-a', C], ['mv-b', A], ['mv-c', A], ['mv-c', B], ['mv-c', NODE1]], () => {}, (lab, built) => {
        mv = addMacvlanNetwork(lab, built, {
          cidr: '192.168.50.0/24',
          switch: { name: 'tor2' },
          nodes: [{ node: 'node1', ip: NODE1 }, { node: 'node2' }],
          pods: [
            { pod: 'mv-a', ip: A, mode: 'bridge' },
            { pod: 'mv-b', ip: B, mode: 'bridge' },
            { pod: 'mv-c', ip: C, mode: 'passthru' },
          ],
        });
        return mv.built;
      });
    });
    after(() => t?.lab.dispose());

    /** Both pods on node1 in macvlan mode `m` (macvlan_changelink); back to bridge mode afterwards. */
    const inMode = (m: string, also: { apply: () => void; undo: () => void } = { apply: () => {}, undo: () => {} }) => ({
      apply: () => {
        for (const p of ['mv-a', 'mv-b']) t.lab.ip(p, 'link', 'set', 'net1', 'type', 'macvlan', 'mode', m);
        also.apply();
      },
      undo: () => {
        also.undo();
        for (const p of ['mv-a', 'mv-b']) t.lab.ip(p, 'link', 'set', 'net1', 'type', 'macvlan', 'mode', 'bridge');
      },
    });
    /** PERMANENT neighbour entries, so the one packet is sent whatever ARP would have done. */
    const seeded = (entries: [pod: string, ip: string, mac: string][]) => ({
      apply: () => {
        for (const [pod, ip, mac] of entries) t.lab.ip(pod, 'neigh', 'replace', ip, 'lladdr', mac, 'dev', 'net1', 'nud', 'permanent');
      },
      undo: () => {
        for (const [pod, ip] of entries) t.lab.ip(pod, 'neigh', 'del', ip, 'dev', 'net1');
      },
    });
    const both = (...fs: { apply: () => void; undo: () => void }[]) => ({ apply: () => fs.forEach((f) => f.apply()), undo: () => [...fs].reverse().forEach((f) => f.undo()) });
    const hairpin = (on: boolean) => ({
      apply: () => t.lab.bridge('tor2', 'link', 'set', 'dev', mv.nodes.get('node1')!.port, 'hairpin', on ? 'on' : 'off'),
      undo: () => t.lab.bridge('tor2', 'link', 'set', 'dev', mv.nodes.get('node1')!.port, 'hairpin', 'off'),
    });
    const macOf = (pod: string) => mv.pods.get(pod)!.mac;
    const pairSeeded = () => seeded([['mv-a', B, macOf('mv-b')], ['mv-b', A, macOf('mv-a')]]);
    const tx = (obs: Observation, host: string, dev: string) => obs.devices.find((d) => d.host === host && d.dev === dev)?.tx ?? 0;
    const rx = (obs: Observation, host: string, dev: string) => obs.devices.find((d) => d.host === host && d.dev === dev)?.rx ?? 0;

    // Fewer and faster ARP probes in mv-a (1 broadcast, 100 ms) so the kernel gives up at once; the
    // verdict is the same as with the default 3 x 1 s.
    const quickArpOn = (h: string, dev: string) => ({
      apply: () => {
        t.lab.ip(h, 'neigh', 'flush', 'dev', dev);
        t.lab.sysctl(h, `net.ipv4.neigh.${dev}.ucast_solicit=0`, `net.ipv4.neigh.${dev}.mcast_solicit=1`, `net.ipv4.neigh.${dev}.retrans_time_ms=100`);
      },
      undo: () => t.lab.sysctl(h, `net.ipv4.neigh.${dev}.ucast_solicit=3`, `net.ipv4.neigh.${dev}.mcast_solicit=3`, `net.ipv4.neigh.${dev}.retrans_time_ms=1000`),
    });
    const quickArp = quickArpOn('mv-a', 'net1');

    test('the lab as the macvlan plugin leaves it: net1@ifN in the pod, lower in the node (link-netnsid), mode printed by ip -d link', () => {
      const links = host(t.capture, 'mv-a').probes!.links!;
      assert.match(links, /\d+: net1@if\d+: <[^>]*UP[^>]*> mtu 1500 .*\n\s+link\/ether \S+ brd ff:ff:ff:ff:ff:ff link-netnsid \d+ .*\n\s+macvlan mode bridge /, links);
      assert.match(host(t.capture, 'mv-c').probes!.links!, /macvlan mode passthru /);
      assert.equal(mv.pods.get('mv-c')!.mac, mv.nodes.get('node2')!.mac, 'passthru inherits its lower device\'s MAC');
      assert.ok(probe(t.capture, 'node1', 'addrs').some((l) => l.includes(`inet ${NODE1}/24`)));
    });

    test('bridge mode, pod to pod on node1\'s eth1: through eth1\'s receive path to the sibling, tor2 never sees it', async () => {
      const { obs, r } = await agree(t, t.net, 'mv-a', B);
      assert.equal(r.verdict, 'delivered', explain(r));
      assert.deepEqual(hostsOf(r), ['mv-a', 'node1', 'mv-b']);
      assert.match(stepOf(r, 'mv-a', 'macvlan').text, /bridge-mode macvlan on the same lower device, so macvlan_queue_xmit puts the frame on eth1's receive path \(dev_forward_skb\)/);
      assert.equal(hop(r, 'node1').in, 'eth1');
      // dev_forward_skb(lowerdev): eth1's ingress hook counted it; nothing left eth1 and tor2 saw nothing.
      assert.equal(rx(obs, 'node1', 'eth1'), 1, describeObservation(obs));
      assert.equal(tx(obs, 'node1', 'eth1'), 0, describeObservation(obs));
      assert.ok(!obs.seenBy.includes('tor2'), describeObservation(obs));
    });

    test('bridge mode, neighbours forgotten: the ARP broadcast reaches the sibling (macvlan_broadcast), it answers, delivered', async () => {
      await withFault(t, quickArp, async (net) => {
        const { r } = await agree(t, net, 'mv-a', B);
        assert.equal(r.verdict, 'delivered', explain(r));
        assert.deepEqual(hostsOf(r), ['mv-a', 'node1', 'mv-b']);
        assert.match(stepOf(r, 'mv-a', 'arp').text, /mv-b/);
      });
    });

    test('private mode, neighbours forgotten: the ARP broadcast goes out of eth1 only and tor2 does not send it back, so ARP fails at mv-a (neighbor-failed)', async () => {
      await withFault(t, inMode('private', quickArp), async (net, capture) => {
        assert.ok(!probe(capture, 'mv-a', 'neigh').some((l) => l.startsWith(`${B} `)), 'the flush left the entry');
        const { obs, r } = await agree(t, net, 'mv-a', B);
        assert.equal(r.verdict, 'neighbor-failed', explain(r));
        assert.deepEqual(r.dropAt, { host: 'mv-a', dev: 'net1' });
        // What the kernel did: the entry went FAILED and nothing reached mv-b.
        assert.ok(obs.neighChanges.some((n) => n.host === 'mv-a' && n.dst === B && /FAILED/.test(n.after)), describeObservation(obs));
        assert.ok(!obs.seenBy.includes('mv-b'), describeObservation(obs));
      });
    });

    test('private mode, neighbours pre-seeded (PERMANENT): the one packet leaves eth1 and tor2 drops it (the destination is behind the port it came in on, hairpin off)', async () => {
      await withFault(t, inMode('private', pairSeeded()), async (net) => {
        const { obs, r } = await agree(t, net, 'mv-a', B);
        assert.equal(r.verdict, 'wrong-destination', explain(r));
        assert.equal(r.dropAt?.host, 'tor2');
        assert.deepEqual(hostsOf(r), ['mv-a', 'tor2']);
        assert.equal(tx(obs, 'node1', 'eth1'), 1, describeObservation(obs));
        assert.equal(obs.drop?.host, 'tor2', describeObservation(obs));
      });
    });

    test('private mode, neighbours pre-seeded, hairpin on: the unicast comes back in on eth1 and is delivered (macvlan_handle_frame checks no source for unicast; only broadcasts from a private macvlan are kept from its siblings)', async () => {
      await withFault(t, inMode('private', both(pairSeeded(), hairpin(true))), async (net) => {
        const { r } = await agree(t, net, 'mv-a', B);
        assert.equal(r.verdict, 'delivered', explain(r));
        assert.deepEqual(hostsOf(r), ['mv-a', 'tor2', 'node1', 'mv-b']);
      });
    });

    test('private mode, neighbours forgotten, hairpin on: tor2 sends the ARP broadcast back, but eth1 gives a private macvlan\'s own broadcast back only to itself, so ARP still fails (neighbor-failed)', async () => {
      await withFault(t, inMode('private', both(quickArp, hairpin(true))), async (net) => {
        const { obs, r } = await agree(t, net, 'mv-a', B);
        assert.equal(r.verdict, 'neighbor-failed', explain(r));
        assert.ok(!obs.seenBy.includes('mv-b'), describeObservation(obs));
      });
    });

    test('vepa mode, hairpin off on tor2\'s port: out to the switch and not back (dropped at tor2)', async () => {
      await withFault(t, inMode('vepa', pairSeeded()), async (net) => {
        const { obs, r } = await agree(t, net, 'mv-a', B);
        assert.equal(r.verdict, 'wrong-destination', explain(r));
        assert.deepEqual(hostsOf(r), ['mv-a', 'tor2']);
        assert.match(stepOf(r, 'mv-a', 'macvlan').text, /vepa: only a hairpinning switch sends it back/);
        assert.ok(!obs.seenBy.includes('mv-b'), describeObservation(obs));
      });
    });

    test('vepa mode, hairpin on: tor2 sends it back out of the same port, eth1 gives it to mv-b (delivered via the switch)', async () => {
      await withFault(t, inMode('vepa', both(pairSeeded(), hairpin(true))), async (net) => {
        const { obs, r } = await agree(t, net, 'mv-a', B);
        assert.equal(r.verdict, 'delivered', explain(r));
        assert.deepEqual(hostsOf(r), ['mv-a', 'tor2', 'node1', 'mv-b']);
        assert.match(stepOf(r, 'node1', 'macvlan').text, /eth1 in node1 hands the frame to net1 in mv-b/);
        const port = mv.nodes.get('node1')!.port;
        assert.deepEqual([rx(obs, 'tor2', port), tx(obs, 'tor2', port), tx(obs, 'node1', 'eth1'), rx(obs, 'node1', 'eth1')], [1, 1, 1, 1], describeObservation(obs));
      });
    });

    test('vepa mode, neighbours forgotten, hairpin on: tor2 sends the ARP broadcast back, eth1 gives a vepa macvlan\'s broadcast to the other vepa and bridge macvlans, mv-b answers (delivered)', async () => {
      await withFault(t, inMode('vepa', both(quickArp, hairpin(true))), async (net) => {
        const { r } = await agree(t, net, 'mv-a', B);
        assert.equal(r.verdict, 'delivered', explain(r));
        assert.deepEqual(hostsOf(r), ['mv-a', 'tor2', 'node1', 'mv-b']);
      });
    });

    test('vepa mode, neighbours forgotten, hairpin on, to its own node\'s eth1 address: the reflected broadcast also goes up eth1 (RX_HANDLER_PASS), node1 answers, and the packet goes out and back to it (delivered)', async () => {
      await withFault(t, inMode('vepa', both(quickArp, hairpin(true))), async (net) => {
        const { r } = await agree(t, net, 'mv-a', NODE1);
        assert.equal(r.verdict, 'delivered', explain(r));
        assert.deepEqual(hostsOf(r), ['mv-a', 'tor2', 'node1']);
      });
    });

    test('a pod to its own node\'s eth1 address: out of eth1, never up its stack; tor2 drops it (wrong-destination), and the diagnosis names the macvlan', async () => {
      await withFault(t, seeded([['mv-a', NODE1, mv.nodes.get('node1')!.mac]]), async (net) => {
        const { obs, r } = await agree(t, net, 'mv-a', NODE1);
        assert.equal(r.verdict, 'wrong-destination', explain(r));
        assert.deepEqual(hostsOf(r), ['mv-a', 'tor2']);
        assert.ok(!obs.seenBy.includes('node1'), describeObservation(obs));
        assert.equal(tx(obs, 'node1', 'eth1'), 1, describeObservation(obs));
        const d = r.diagnosis?.[0];
        assert.ok(d, explain(r));
        assert.match(d.text, /node1 never receives what mv-a's macvlan net1 sends/);
        assert.match(d.fix, /give the host its own macvlan interface on eth1/);
      });
    });

    test('... and with hairpin on at tor2, the frame comes back in on eth1, no macvlan claims the MAC, node1 takes it (delivered)', async () => {
      await withFault(t, both(seeded([['mv-a', NODE1, mv.nodes.get('node1')!.mac]]), hairpin(true)), async (net) => {
        const { r } = await agree(t, net, 'mv-a', NODE1);
        assert.equal(r.verdict, 'delivered', explain(r));
        assert.deepEqual(hostsOf(r), ['mv-a', 'tor2', 'node1']);
      });
    });

    test('across nodes: out of node1\'s eth1, through tor2, node2\'s eth1 hands it to its passthru macvlan', async () => {
      const { r } = await agree(t, t.net, 'mv-a', C);
      assert.equal(r.verdict, 'delivered', explain(r));
      assert.deepEqual(hostsOf(r), ['mv-a', 'tor2', 'node2', 'mv-c']);
      assert.match(stepOf(r, 'node2', 'macvlan').text, /in passthru mode/);
    });

    test('node1 with its neighbours forgotten -> mv-c: its ARP broadcast crosses tor2, node2\'s eth1 hands it to the passthru macvlan, which answers', async () => {
      await withFault(t, { apply: () => t.lab.ip('node1', 'neigh', 'flush', 'dev', 'eth1'), undo: () => {} }, async (net) => {
        const { r } = await agree(t, net, 'node1', C);
        assert.equal(r.verdict, 'delivered', explain(r));
        assert.deepEqual(hostsOf(r), ['node1', 'tor2', 'node2', 'mv-c']);
        assert.match(stepOf(r, 'node1', 'arp').text, /mv-c/);
      });
    });

    test('node1 -> its own pod mv-a: node1\'s ARP broadcast leaves by eth1 and never reaches eth1\'s own macvlans (only what comes in from the wire does): neighbor-failed at node1', async () => {
      await withFault(t, quickArpOn('node1', 'eth1'), async (net) => {
        const { obs, r } = await agree(t, net, 'node1', A);
        assert.equal(r.verdict, 'neighbor-failed', explain(r));
        assert.deepEqual(r.dropAt, { host: 'node1', dev: 'eth1' });
        assert.ok(obs.neighChanges.some((n) => n.host === 'node1' && n.dst === A && /FAILED/.test(n.after)), describeObservation(obs));
      });
    });

    test('and back: mv-c (passthru) -> mv-a (bridge) across tor2', async () => {
      const { r } = await agree(t, t.net, 'mv-c', A);
      assert.equal(r.verdict, 'delivered', explain(r));
      assert.deepEqual(hostsOf(r), ['mv-c', 'tor2', 'node1', 'mv-a']);
    });
  });
}
