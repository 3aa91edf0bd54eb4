// `--from` and `--to` for policy: `namespace/pod`, or an IP (a pod's IP names that pod; any other
// address is no pod's, subject to no policy of its own). A name that is no pod's is an error that
// lists the nearest pod names.
import { Addr } from '../../net/addr';
import type { Cluster, PodEntry } from './cluster';
import type { FlowEnd } from './flow';

export type EndResolution = { ok: true; end: FlowEnd } | { ok: false; error: string; suggestions: string[] };

export function resolveEnd(cluster: Cluster, text: string, flag: string): EndResolution {
  // `namespace/pod` never parses as an address: tried first, as most ends are pods.
  const a = text.includes('/') ? undefined : Addr.parse(text);
  if (a?.ok && a.value.zone === undefined) {
    const ip = a.value;
    const pod = podOwning(cluster.podsWithIp(ip));
    const node = cluster.nodeWithIp(ip);
    return { ok: true, end: { given: text, ip, ...(pod ? { pod } : {}), ...(node ? { node } : {}) } };
  }
  const slash = text.indexOf('/');
  if (slash > 0 && slash < text.length - 1) {
    const pod = cluster.byKey.get(text);
    if (pod) {
      const node = pod.hostNetwork && pod.ips[0] ? cluster.nodeWithIp(pod.ips[0]) : undefined;
      return { ok: true, end: { given: text, pod, ...(node ? { node } : {}) } };
    }
    const suggestions = nearPods(cluster, text);
    return { ok: false, error: `${flag} "${text}" is no pod in this capture's kubernetes section${hint(suggestions)}`, suggestions };
  }
  const suggestions = nearPods(cluster, text);
  return { ok: false, error: `${flag} "${text}" is neither namespace/pod nor an IP address${hint(suggestions)}`, suggestions };
}

/** The pod an address names: a pod on the pod network (a Running one before a finished one); the host-network pods sharing a node's address name none. */
function podOwning(pods: readonly PodEntry[]): PodEntry | undefined {
  const own = pods.filter((p) => !p.hostNetwork);
  return own.find((p) => p.phase === undefined || p.phase === 'Running') ?? own[0];
}

const hint = (s: string[]) => (s.length ? `; did you mean ${s.join(', ')}?` : '');

/** Pods whose `namespace/name` is close to the text (edit distance), or whose name is the text (a namespace left out). */
export function nearPods(cluster: Cluster, text: string, limit = 5): string[] {
  const name = text.includes('/') ? text.slice(text.indexOf('/') + 1) : text;
  const scored: { key: string; d: number }[] = [];
  const max = Math.max(2, Math.floor(text.length / 3));
  for (const p of cluster.pods) {
    if (p.name === name) {
      scored.push({ key: p.key, d: 0 });
      continue;
    }
    if (Math.abs(p.key.length - text.length) > max) continue;
    const d = distance(p.key, text, max);
    if (d <= max) scored.push({ key: p.key, d });
  }
  scored.sort((x, y) => x.d - y.d || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  return scored.slice(0, limit).map((s) => s.key);
}

/** Levenshtein distance, giving up (max + 1) once every entry of a row exceeds max. */
function distance(a: string, b: string, max: number): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      if (v < best) best = v;
    }
    if (best > max) return max + 1;
    prev = cur;
  }
  return prev[b.length]!;
}
