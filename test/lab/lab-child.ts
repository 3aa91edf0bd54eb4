// A lab run that ends badly, for demo.test.ts: creates two namespaces joined by a veth and a probe
// view, prints `READY <prefix> <probe view pid>`, then ends as argv[2] says: `exit` (process.exit
// without dispose), `throw` (uncaught exception), or `wait` (until a signal arrives).
import { Lab } from './netns';

async function main(): Promise<void> {
  const mode = process.argv[2] ?? 'wait';
  const lab = new Lab();
  lab.addNamespace('a');
  lab.addNamespace('b');
  lab.ip('a', 'link', 'add', 'x', 'type', 'veth', 'peer', 'name', 'y', 'netns', lab.ns('b'));
  const r = await lab.tryProbeAsync('a', ['ip', 'link', 'show']);
  if (r.code !== 0) throw new Error(`probe failed: ${r.stderr}`);
  process.stdout.write(`READY ${lab.prefix} ${lab.probeViewPids().join(',')}\n`);
  if (mode === 'exit') process.exit(3);
  if (mode === 'throw') setTimeout(() => {
    throw new Error('lab-child fails on purpose');
  }, 10);
  if (mode === 'wait') setInterval(() => {}, 1000);
}

void main();
