// The CLI's I/O for tests: files in memory (a write lands in the same map), standard output and error
// collected, no cluster unless one is given, and optionally the terminal the colour decision looks at.
import type { ClusterApi } from '../../../src/kube/api';
import type { Io } from '../../../src/cli/main';
import type { Terminal } from '../../../src/cli/style';

export interface FakeIo {
  io: Io;
  files: Record<string, string>;
  stdout(): string;
  stderr(): string;
}

export function fakeIo(files: Record<string, string> = {}, opts: { cluster?: ClusterApi; env?: Record<string, string | undefined>; stdout?: Terminal } = {}): FakeIo {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    read: (p) => {
      if (!(p in files)) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
      return files[p]!;
    },
    demoCapture: 'demo.json',
    write: (p, t) => {
      files[p] = t;
    },
    cluster: () => {
      if (!opts.cluster) throw new Error('no cluster in this test');
      return opts.cluster;
    },
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.stdout ? { stdout: opts.stdout } : {}),
  };
  return { io, files, stdout: () => out.join(''), stderr: () => err.join('') };
}
