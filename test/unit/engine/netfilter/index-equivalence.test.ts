// The destination index gives exactly the kernel's linear walk: random long chains and packets are
// evaluated with the index and with every rule visited in order, and the outcomes must be identical.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import { buildRuleset, runHook } from '../../../../src/engine/netfilter';
import { hostCtx, pkt, save } from './helpers';

const ctx = hostCtx(['192.168.0.2']);
const dsts = ['10.96.0.1', '10.96.0.2', '10.96.0.3', '192.168.0.2'];
const ports = [53, 80, 443];
const protos = ['tcp', 'udp'] as const;

const ruleArb = fc.record({
  dst: fc.option(fc.constantFrom(...dsts), { nil: undefined }),
  negDst: fc.boolean(),
  proto: fc.option(fc.constantFrom(...protos), { nil: undefined }),
  port: fc.option(fc.constantFrom(...ports), { nil: undefined }),
  src: fc.option(fc.constantFrom('10.244.0.0/16', '10.0.0.0/8'), { nil: undefined }),
  local: fc.boolean(),
  target: fc.constantFrom('ACCEPT', 'DROP', 'RETURN', 'SUB', 'MARK --set-xmark 0x1/0x1'),
});

type RuleSpec = typeof ruleArb extends fc.Arbitrary<infer T> ? T : never;

function line(r: RuleSpec): string {
  const w = ['-A SVC'];
  if (r.src) w.push('-s', r.src);
  if (r.dst) w.push(...(r.negDst ? ['!', '-d', `${r.dst}/32`] : ['-d', `${r.dst}/32`]));
  if (r.proto) w.push('-p', r.proto);
  if (r.proto && r.port !== undefined) w.push('-m', r.proto, '--dport', String(r.port));
  if (r.local) w.push('-m', 'addrtype', '--dst-type', 'LOCAL');
  w.push('-j', r.target);
  return w.join(' ');
}

test('index or linear walk: the same outcomes for any chain and packet', () => {
  fc.assert(
    fc.property(
      fc.array(ruleArb, { minLength: 20, maxLength: 60 }),
      fc.constantFrom(...dsts),
      fc.constantFrom(...protos),
      fc.constantFrom(...ports),
      fc.constantFrom('10.244.1.1', '172.16.0.1'),
      (rules, dst, proto, port, src) => {
        const text = save({ filter: [':INPUT DROP [0:0]', ':SVC - [0:0]', ':SUB - [0:0]', '-A INPUT -j SVC', ...rules.map(line), '-A SUB -p udp -j DROP'] });
        const indexed = buildRuleset('h', { iptables: text });
        const linear = buildRuleset('h', { iptables: text });
        for (const c of linear.chains.values()) delete c.index;
        assert.ok([...indexed.chains.values()].some((c) => c.index), 'the long chain is indexed');
        const p = pkt(src, dst, proto, port);
        assert.deepEqual(JSON.parse(JSON.stringify(runHook(indexed, 'input', p, ctx))), JSON.parse(JSON.stringify(runHook(linear, 'input', p, ctx))));
      },
    ),
    { numRuns: Number(process.env.PROPERTY_RUNS ?? 200) },
  );
});

test('mutated rule sets never make the evaluator throw', () => {
  const seeds = [
    save({ nat: [':PREROUTING ACCEPT [0:0]', ':S - [0:0]', '-A PREROUTING -j S', '-A S -m statistic --mode random --probability 0.5 -j DNAT --to-destination 10.0.0.1:80', '-A S -j DNAT --to-destination [fd00::1]:80'] }),
    save({ filter: [':FORWARD DROP [0:0]', '-A FORWARD -m set --match-set X dst,dst -j ACCEPT', '-A FORWARD -g NOWHERE', '-A FORWARD -m mark --mark 0x4000/0x4000 -j MARK --set-xmark 0x0/0x4000'] }),
  ];
  fc.assert(
    fc.property(fc.constantFrom(...seeds), fc.nat(), fc.string({ maxLength: 20 }), fc.constantFrom('prerouting', 'forward', 'input') as fc.Arbitrary<'prerouting' | 'forward' | 'input'>, (text, at, junk, hook) => {
      const i = at % (text.length + 1);
      const rs = buildRuleset('h', { iptables: text.slice(0, i) + junk + text.slice(i) });
      for (const o of runHook(rs, hook, pkt('10.0.0.9', '10.96.0.1', 'tcp', 80), ctx)) assert.ok(o.probability >= 0 && o.probability <= 1);
    }),
    { numRuns: Number(process.env.PROPERTY_RUNS ?? 200) },
  );
});
