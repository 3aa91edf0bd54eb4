// What `netpath capture show` prints: hosts, roles, probes present and their parse issues.
import { isProbeName, parseProbe, type ParseIssue } from '../parsers';
import { kubernetesOf, type Capture, type CaptureProblem, type Role } from './document';
import { KUBE_LISTS, type KubeListName } from './kubernetes';

export interface ProbeSummary {
  probe: string;
  format: string;
  records: number;
  issues: ParseIssue[];
}

export interface HostSummary {
  name: string;
  role: Role;
  /** `namespace/pod on node` for pods. */
  where?: string;
  ips: string[];
  probes: ProbeSummary[];
}

export interface CaptureSummary {
  cluster?: string;
  /** The CNI a live collector found, and what it concluded that from. */
  cni?: { name: string; backend?: string; evidence: string[] };
  capturedAt?: string;
  counts: Record<Role, number>;
  hosts: HostSummary[];
  links: number;
  warnings: CaptureProblem[];
  totalIssues: number;
  /** The `kubernetes` section: how many objects of each list it holds (lists it has, even empty); absent without one. */
  kubernetes?: Partial<Record<KubeListName, number>>;
}

export function summarizeCapture(capture: Capture, warnings: CaptureProblem[] = []): CaptureSummary {
  const counts: Record<Role, number> = { node: 0, pod: 0, router: 0, switch: 0 };
  let totalIssues = 0;
  const hosts = capture.hosts.map((h): HostSummary => {
    counts[h.role]++;
    const probes = Object.entries(h.probes ?? {}).flatMap(([probe, text]): ProbeSummary[] => {
      if (!isProbeName(probe)) return [];
      const r = parseProbe(probe, text);
      totalIssues += r.issues.length;
      return [{ probe, format: r.format, records: r.records.length, issues: r.issues }];
    });
    const s: HostSummary = { name: h.name, role: h.role, ips: h.ips ?? [], probes };
    if (h.role === 'pod') s.where = `${h.namespace ?? '?'}/${h.pod ?? h.name} on ${h.node ?? '?'}`;
    return s;
  });
  const out: CaptureSummary = { counts, hosts, links: capture.links?.length ?? 0, warnings, totalIssues };
  const kube = kubernetesOf(capture);
  if (kube.present.size) out.kubernetes = Object.fromEntries(KUBE_LISTS.filter((l) => kube.present.has(l)).map((l) => [l, kube[l].length]));
  if (capture.metadata?.cluster !== undefined) out.cluster = capture.metadata.cluster;
  if (capture.metadata?.capturedAt !== undefined) out.capturedAt = capture.metadata.capturedAt;
  const cni = (capture.metadata as { cni?: unknown } | undefined)?.cni;
  if (cni && typeof cni === 'object' && typeof (cni as { name?: unknown }).name === 'string') {
    const c = cni as { name: string; backend?: unknown; evidence?: unknown };
    out.cni = { name: c.name, ...(typeof c.backend === 'string' ? { backend: c.backend } : {}), evidence: Array.isArray(c.evidence) ? c.evidence.filter((e): e is string => typeof e === 'string') : [] };
  }
  return out;
}
