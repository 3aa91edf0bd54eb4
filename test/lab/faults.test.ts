// The kernel is the judge: the demo flannel VXLAN cluster is built once, then each case of
// fault-cases.ts breaks it with real ip/bridge/sysctl commands, the lab is captured, the engine
// traces the capture, the real packet is sent and observed (oracle.ts), and the lab is repaired
// (or rebuilt when the repair does not bring it back). Per probe, two tests:
//   kernel: ...        what the kernel did is what fault-cases.ts says (delivered, drop point, verdict
//                      the counters point at, exactly which hosts saw the packet, further facts)
//   engine agrees: ... the engine's trace says the same (verdict, drop host and device, hosts), and
//                      compareWithEngine agrees with the observation. A known disagreement is a
//                      `todo` naming what the engine gets wrong; the expectation stays the kernel's.
//
// Needs root, network namespaces and nft. Without them these tests FAIL with what is missing, unless
// NETPATH_SKIP_LAB=1 is set, in which case they are skipped.
import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import { buildNetwork, simulate, type TraceResult } from '../../src/engine';
import { captureLab } from './capture';
import { DEMO_CLUSTER } from './demo-cluster';
import { FAULT_CASES, type FaultContext, type FaultProbe } from './fault-cases';
import { Lab, listNamespaces, sweepStaleNamespaces, which } from './netns';
import { compareWithEngine, describeObservation, observe, oracleUnavailable, type Observation } from './oracle';
import { buildCluster, settle } from './topology';
import { assertConnectivity, checkConnectivity } from './verify';

const SKIP = process.env.NETPATH_SKIP_LAB === '1';
const TIMEOUT = 600_000;

const unavailable = SKIP ? undefined : oracleUnavailable();

interface ProbeRun {
  obs: Observation;
  trace: TraceResult;
}

function describeTrace(t: TraceResult): string {
  const at = t.dropAt ? ` at ${t.dropAt.host}${t.dropAt.dev ? `/${t.dropAt.dev}` : ''}` : '';
  return `engine: ${t.verdict}${at}: ${t.hops.map((h) => h.host).join(' -> ')}\n  ${t.reason}`;
}

function checkKernel(p: FaultProbe, obs: Observation): void {
  const msg = describeObservation(obs);
  const e = p.expect;
  assert.equal(obs.delivered, e.delivered, `delivered?\n${msg}`);
  assert.deepEqual([...obs.seenBy].sort(), [...e.seenBy].sort(), `hosts that saw the packet\n${msg}`);
  if (!e.delivered) {
    assert.ok(obs.drop, `no drop point found\n${msg}`);
    assert.ok(e.drop && e.verdict, `the case must say where and why the kernel drops it`);
    assert.equal(obs.drop.host, e.drop.host, `drop host\n${msg}`);
    assert.equal(obs.drop.dev, e.drop.dev, `drop device\n${msg}`);
    assert.ok(obs.drop.verdicts.includes(e.verdict), `the kernel's evidence (${obs.drop.counter}) means ${obs.drop.verdicts.join('|')}, not ${e.verdict}\n${msg}`);
  }
  p.check?.(obs);
}

function checkEngine(p: FaultProbe, run: ProbeRun): void {
  const { obs, trace } = run;
  const msg = `${describeObservation(obs)}\n${describeTrace(trace)}`;
  const e = p.expect;
  assert.equal(trace.verdict, e.delivered ? 'delivered' : e.verdict, `verdict\n${msg}`);
  if (!e.delivered) {
    assert.equal(trace.dropAt?.host, e.drop?.host, `drop host\n${msg}`);
    if (e.drop?.dev !== null) assert.equal(trace.dropAt?.dev, e.drop?.dev, `drop device\n${msg}`);
  }
  compareWithEngine(obs, trace);
}

if (SKIP) {
  test('faults: engine vs kernel', { skip: 'NETPATH_SKIP_LAB=1' }, () => {});
} else if (unavailable) {
  test('faults: netns lab prerequisites', () => {
    assert.fail(unavailable);
  });
} else {
  describe('faults in the demo cluster: the engine against the kernel', { timeout: TIMEOUT }, () => {
    let lab: Lab;
    let ctx: FaultContext;

    async function build(): Promise<void> {
      lab = new Lab();
      const built = buildCluster(lab, DEMO_CLUSTER);
      await settle(lab);
      // Warm neighbour and bridge tables, as on a cluster that has carried traffic.
      assertConnectivity(checkConnectivity(lab, built));
      const brnf = lab.tryExecIn('k8s-node1', ['cat', '/proc/sys/net/bridge/bridge-nf-call-iptables']);
      ctx = { lab, built, brNetfilter: brnf.code === 0 && brnf.stdout.trim() === '1', python: which('python3') !== undefined };
    }

    before(async () => {
      sweepStaleNamespaces();
      await build();
    });
    after(() => lab?.disposeQuietly());

    test('the oracle refuses addresses outside the lab and leaves the lab as it found it', async () => {
      await assert.rejects(observe(lab, ctx.built, { from: 'web-0', to: '192.0.2.1', size: 84 }), /refusing to send to 192\.0\.2\.1/);
      const obs = await observe(lab, ctx.built, { from: 'web-0', to: '10.244.1.3', size: 84 });
      assert.ok(obs.delivered, describeObservation(obs));
      for (const h of lab.hostNames()) {
        assert.equal(lab.tryExecIn(h, ['nft', 'list', 'table', 'netdev', 'netpath_oracle']).code, 1, `${h} still has the oracle's nft table`);
        assert.equal(lab.execIn(h, ['cat', '/proc/sys/net/ipv4/icmp_echo_ignore_all']).trim(), '0', `${h}: icmp_echo_ignore_all not restored`);
      }
    });

    test('the kernel refuses a flannel.1 MTU above eth0 MTU - 50 (so overlay MTU faults come from a smaller eth0)', () => {
      assert.throws(() => lab.ip('k8s-node1', 'link', 'set', 'flannel.1', 'mtu', '1451'), /Invalid argument/);
      lab.ip('k8s-node1', 'link', 'set', 'flannel.1', 'mtu', '1450');
    });

    for (const c of FAULT_CASES) {
      describe(`${c.name}: ${c.kernel}`, () => {
        const runs = new Map<FaultProbe, ProbeRun>();
        const skipped = new Map<FaultProbe, string>();

        before(async () => {
          try {
            await c.apply?.(ctx);
            const capture = (await captureLab(lab, ctx.built)).capture;
            const net = buildNetwork(capture);
            for (const p of c.probes) {
              const why = p.skip?.(ctx);
              if (why) {
                skipped.set(p, why);
                continue;
              }
              const r = simulate(net, { from: p.flow.from, to: p.flow.to, size: p.flow.size, proto: p.flow.proto ?? 'icmp', ...(p.flow.port !== undefined ? { port: p.flow.port } : {}) });
              if (!r.ok) throw new Error(`engine: ${r.error}`);
              runs.set(p, { trace: r.result, obs: await observe(lab, ctx.built, p.flow, p.observe) });
            }
          } finally {
            let healthy: boolean;
            try {
              await c.repair?.(ctx);
              healthy = checkConnectivity(lab, ctx.built).every((x) => x.ok);
            } catch {
              healthy = false;
            }
            if (!healthy) {
              lab.disposeQuietly();
              await build();
            }
          }
        });

        for (const p of c.probes) {
          test(`kernel: ${p.name}`, (t) => {
            const why = skipped.get(p);
            if (why) return t.skip(why);
            const run = runs.get(p);
            assert.ok(run, 'the probe did not run');
            checkKernel(p, run.obs);
          });
          if (p.kernelOnly) continue;
          test(`engine agrees: ${p.name}`, p.engineTodo ? { todo: p.engineTodo } : {}, (t) => {
            const why = skipped.get(p);
            if (why) return t.skip(why);
            const run = runs.get(p);
            assert.ok(run, 'the probe did not run');
            checkEngine(p, run);
          });
        }
      });
    }

    test('nothing of the lab is left once it is disposed', () => {
      const prefix = lab.prefix;
      lab.dispose();
      assert.deepEqual(listNamespaces().filter((n) => n.startsWith(prefix)), []);
    });
  });
}
