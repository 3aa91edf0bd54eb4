// Builds the demo lab, starts the lab API server against it, prints the kubeconfig path and waits
// until Ctrl+C (or SIGTERM), then tears everything down. Needs root.
//
//   sudo -E node --import tsx test/lab/apiserver/serve-demo.ts [--minor 31] [--verbose]
//   kubectl --kubeconfig <printed path> get pods -A -o wide
import { Lab, describeMissing, checkPrerequisites, sweepStaleNamespaces } from '../netns';
import { DEMO_CLUSTER } from '../demo-cluster';
import { buildCluster, settle } from '../topology';
import { LabApiServer } from './server';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const verbose = args.includes('--verbose');
  const minorAt = args.indexOf('--minor');
  const minor = minorAt >= 0 ? Number(args[minorAt + 1]) : undefined;
  const missing = describeMissing(checkPrerequisites());
  if (missing) throw new Error(`the netns lab cannot run here:\n${missing}`);
  sweepStaleNamespaces();

  const lab = new Lab();
  let server: LabApiServer | undefined;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await server?.close();
    lab.disposeQuietly();
    process.stdout.write('lab API server stopped, lab removed\n');
    process.exit(code);
  };
  // The lab's own signal handler (installed by `new Lab()`) removes the namespaces and re-raises the
  // signal; this one catches it, closes the server and exits.
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  try {
    const built = buildCluster(lab, DEMO_CLUSTER);
    await settle(lab);
    server = await LabApiServer.start({ lab, built, ...(minor !== undefined ? { minor } : {}), log: verbose ? (l) => process.stdout.write(`${l}\n`) : () => {} });
    process.stdout.write(
      [
        `demo lab ${lab.prefix}* is up; lab API server at ${server.url}`,
        `kubeconfig: ${server.kubeconfigPath}`,
        '',
        `  kubectl --kubeconfig ${server.kubeconfigPath} get pods -A -o wide`,
        `  kubectl --kubeconfig ${server.kubeconfigPath} exec -n default web-0 -- ip route`,
        '',
        'Ctrl+C stops the server and removes the lab.',
        '',
      ].join('\n'),
    );
  } catch (e) {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    await stop(1);
  }
}

void main();
