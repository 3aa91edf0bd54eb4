// `npm run lab:demo`: builds the demo cluster in network namespaces, proves it forwards packets,
// captures it to examples/demo-flannel-vxlan.json and tears everything down.
import { relative } from 'node:path';
import { describeGaps, writeCaptureFile } from './capture';
import { DEMO_CAPTURE_PATH, runDemo } from './demo-cluster';
import { Lab, describeMissing, requirePrerequisites, sweepStaleNamespaces } from './netns';

async function main(): Promise<void> {
  const started = Date.now();
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const checks = requirePrerequisites();
  const optional = describeMissing(checks.filter((c) => c.optional), true);
  if (optional) log(`optional tools missing (their probes are left out):\n${optional}`);
  const swept = sweepStaleNamespaces();
  if (swept.removed.length) log(`removed ${swept.removed.length} namespaces left by earlier runs: ${swept.removed.join(', ')}`);
  for (const f of swept.failed) log(`could not remove stale namespace ${f.name}: ${f.error}`);

  const lab = new Lab({ log, trace: process.env.NETPATH_LAB_TRACE === '1' });
  try {
    const { result, timings } = await runDemo(lab, log);
    for (const gap of describeGaps(result.outcomes)) log(`not captured: ${gap}`);
    writeCaptureFile(DEMO_CAPTURE_PATH, result.capture);
    log(`wrote ${relative(process.cwd(), DEMO_CAPTURE_PATH)} (build ${timings.buildMs} ms, ping checks ${timings.proveMs} ms, capture ${timings.captureMs} ms)`);
  } finally {
    lab.dispose();
  }
  log(`done in ${Date.now() - started} ms; lab removed`);
}

main().catch((e: unknown) => {
  process.stderr.write(`lab:demo failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
