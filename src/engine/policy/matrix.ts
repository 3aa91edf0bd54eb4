// The policy matrix: who may talk to whom on one port, every ordered pair of a set of pods evaluated
// as one flow (`evaluateWith`) on one index, so each pod's selecting policies are worked out once.
// A cell keeps the verdict per direction, the tier that decided and the policies behind it; the
// rules themselves are one `evaluateWith` away for the cell a user asks about. Pods that cannot send
// or receive now (no address, not Running) and host-network pods (which policy does not apply to)
// are left out with a note; a pod's traffic to itself is evaluated as the API reads and flagged.
import type { KubeLabelSelector, KubeSection } from '../../capture/kubernetes';
import type { PodEntry } from './cluster';
import { resolveEnd } from './endpoints';
import { evaluateWith } from './evaluate';
import { policyIndexOf, type PolicyIndex } from './policyIndex';
import { compileSelector } from './selector';
import type { DirectionResult, FlowProtocol, PolicyNote, PolicyVerdict, PolicyWarning, Tier } from './types';

/** More pods than this on a side is refused: the table is unreadable and the cells cost memory. */
export const MATRIX_MAX_PODS = 500;

export interface MatrixRequest {
  /** Only pods of this namespace. */
  namespace?: string;
  /** These pods (`namespace/name` or a pod's IP), in this order; with `namespace`/`selector` too, those of them that match. */
  pods?: string[];
  /** A label selector as kubectl takes it: `app=web,tier in (a,b),!canary`. */
  selector?: string;
  proto?: FlowProtocol;
  port?: number | string;
  /** The most pods on a side (default MATRIX_MAX_PODS). */
  maxPods?: number;
}

export interface MatrixCell {
  verdict: PolicyVerdict;
  egress: PolicyVerdict;
  ingress: PolicyVerdict;
  egressTier: Tier;
  ingressTier: Tier;
  /**
   * The policies that decided each direction: those whose rules allowed it, the isolating
   * NetworkPolicies when none allowed, or the admin/baseline policy whose rule decided; empty when
   * nothing applies (default allow). `evaluateWith` on the pair gives the rules.
   */
  egressBy: string[];
  ingressBy: string[];
  /** A pod to itself: whether policy applies is implementation-specific (see the matrix notes). */
  self?: true;
}

export interface PolicyMatrix {
  proto: FlowProtocol;
  port?: number;
  portName?: string;
  /** Sources, `namespace/name`. */
  rows: string[];
  /** Destinations, `namespace/name`. */
  cols: string[];
  /** `cells[r][c]`: rows[r] to cols[c]. Equal cells are one shared (frozen) object. */
  cells: MatrixCell[][];
  notes: PolicyNote[];
  warnings: PolicyWarning[];
}

export type MatrixOutcome =
  | { ok: true; matrix: PolicyMatrix }
  | { ok: false; kind: 'bad-selector' | 'too-many-pods' | 'unknown-endpoint' | 'bad-port'; error: string; suggestions?: string[] };

export function policyMatrix(k: KubeSection, req: MatrixRequest): MatrixOutcome {
  return policyMatrixWith(policyIndexOf(k), req);
}

export function policyMatrixWith(idx: PolicyIndex, req: MatrixRequest): MatrixOutcome {
  const c = idx.cluster;
  const proto = req.proto ?? 'TCP';
  let match: ((p: PodEntry) => boolean) | undefined;
  if (req.selector !== undefined) {
    const sel = parseSelector(req.selector);
    if (!sel.ok) return { ok: false, kind: 'bad-selector', error: sel.error };
    const compiled = compileSelector(sel.selector);
    match = (p) => compiled.matches(p.labels);
  }
  let chosen: PodEntry[];
  if (req.pods) {
    chosen = [];
    const seen = new Set<PodEntry>();
    for (const given of req.pods) {
      const r = resolveEnd(c, given, '--pods');
      if (!r.ok) return { ok: false, kind: 'unknown-endpoint', error: r.error, suggestions: r.suggestions };
      if (!r.end.pod) return { ok: false, kind: 'unknown-endpoint', error: `--pods "${given}" is no pod's address in this capture's kubernetes section` };
      if (!seen.has(r.end.pod)) chosen.push(r.end.pod);
      seen.add(r.end.pod);
    }
  } else chosen = [...c.pods].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  if (req.namespace !== undefined) chosen = chosen.filter((p) => p.namespace === req.namespace);
  if (match) chosen = chosen.filter(match);

  const notes: PolicyNote[] = [];
  const left = (kind: PolicyNote['kind'], pods: PodEntry[], why: string) => {
    if (pods.length) notes.push({ kind, text: `left out: ${pods.map((p) => p.key).join(', ')} (${why})` });
  };
  left('host-network', chosen.filter((p) => p.hostNetwork), 'host network: NetworkPolicy and admin policies do not apply to it');
  left('not-running', chosen.filter((p) => !p.hostNetwork && p.phase !== undefined && p.phase !== 'Running'), 'not Running: it sends and receives nothing now');
  left('no-ip', chosen.filter((p) => !p.hostNetwork && (p.phase === undefined || p.phase === 'Running') && p.ips.length === 0), 'no IP address: not yet scheduled or started');
  const pods = chosen.filter((p) => !p.hostNetwork && (p.phase === undefined || p.phase === 'Running') && p.ips.length > 0);

  // A port by name is a destination pod's container port: a pod without it is no destination for it.
  let dests = pods;
  if (typeof req.port === 'string') {
    const name = req.port;
    dests = pods.filter((p) => p.ports.some((x) => x.name === name && x.proto === proto));
    if (pods.length && !dests.length) return { ok: false, kind: 'bad-port', error: `no selected pod has a ${proto} container port named "${name}"` };
    left('named-port', pods.filter((p) => !dests.includes(p)), `as a destination: no ${proto} container port named "${name}"`);
  }
  const max = req.maxPods ?? MATRIX_MAX_PODS;
  if (pods.length > max || dests.length > max) {
    return { ok: false, kind: 'too-many-pods', error: `${Math.max(pods.length, dests.length)} pods selected, more than ${max} on a side: narrow the matrix with --namespace, --selector or --pods` };
  }

  const cells: MatrixCell[][] = [];
  const shared = new Map<string, MatrixCell>();
  const noteTexts = new Set<string>();
  const cellNotes: PolicyNote[] = [];
  let self = false;
  const resolved = new Set<number>();
  for (const src of pods) {
    const row: MatrixCell[] = [];
    for (const dst of dests) {
      const out = evaluateWith(idx, { from: src.key, to: dst.key, proto, ...(req.port !== undefined ? { port: req.port } : {}) });
      if (!out.ok) return { ok: false, kind: out.kind, error: out.error, ...(out.suggestions ? { suggestions: out.suggestions } : {}) };
      const r = out.result;
      if (r.flow.port !== undefined) resolved.add(r.flow.port);
      const isSelf = src === dst;
      self ||= isSelf;
      for (const n of r.notes) {
        // Per-pair notes the matrix says once, or not at all (its pods are Running, with addresses).
        if (n.kind === 'self' || n.kind === 'not-running' || n.kind === 'no-ip') continue;
        if (!noteTexts.has(n.text)) cellNotes.push(n);
        noteTexts.add(n.text);
      }
      const cell: MatrixCell = {
        verdict: r.verdict,
        egress: r.egress.verdict,
        ingress: r.ingress.verdict,
        egressTier: r.egress.tier,
        ingressTier: r.ingress.tier,
        egressBy: decidedBy(r.egress),
        ingressBy: decidedBy(r.ingress),
        ...(isSelf ? { self: true as const } : {}),
      };
      const key = JSON.stringify(cell);
      let one = shared.get(key);
      if (!one) shared.set(key, (one = Object.freeze(cell) as MatrixCell));
      row.push(one);
    }
    cells.push(row);
  }
  if (self) notes.push({ kind: 'self', text: "cells of a pod to itself are evaluated as the API reads (as if from another pod with the same labels): the API does not say whether policy applies to a pod's traffic to itself, and most implementations do not filter it" });
  notes.push(...cellNotes);
  return {
    ok: true,
    matrix: {
      proto,
      // A named port resolves per destination pod: its number is given only when it is the same for all.
      ...(typeof req.port === 'number' ? { port: req.port } : resolved.size === 1 ? { port: [...resolved][0]! } : {}),
      ...(typeof req.port === 'string' ? { portName: req.port } : {}),
      rows: pods.map((p) => p.key),
      cols: dests.map((p) => p.key),
      cells,
      notes,
      warnings: idx.warnings,
    },
  };
}

/** The policies behind a direction's verdict, de-duplicated, in the result's order. */
function decidedBy(d: DirectionResult): string[] {
  if (d.decidedBy) return [d.decidedBy.policy];
  if (d.tier === 'networkpolicy') return d.verdict === 'allowed' ? [...new Set(d.allowedBy.map((a) => a.policy))] : d.policies;
  return [];
}

// kubectl's label selector syntax (k8s.io/apimachinery/pkg/labels): requirements separated by commas,
// each `key`, `!key`, `key=value`, `key==value`, `key!=value`, `key in (v1,v2)`, `key notin (v1,v2)`.
const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

export type SelectorParse = { ok: true; selector: KubeLabelSelector } | { ok: false; error: string };

/** A label selector string as kubectl's `-l` takes it, into the API's LabelSelector shape. */
export function parseSelector(text: string): SelectorParse {
  const matchExpressions: KubeLabelSelector['matchExpressions'] = [];
  const bad = (at: number, why: string): SelectorParse => ({ ok: false, error: `--selector ${JSON.stringify(text)}: ${why} at character ${at + 1}` });
  const key = (k: string, at: number) => (k.length <= 316 && KEY.test(k) && k.split('/').pop()!.length <= 63 ? undefined : bad(at, `"${k}" is not a label key`));
  const value = (v: string, at: number) => (v.length <= 63 && VALUE.test(v) ? undefined : bad(at, `"${v}" is not a label value`));
  let i = 0;
  const ws = () => {
    while (i < text.length && text[i] === ' ') i++;
  };
  const word = () => {
    const m = /^[^\s,=!()]+/.exec(text.slice(i));
    i += m ? m[0].length : 0;
    return m ? m[0] : '';
  };
  ws();
  if (i === text.length) return bad(i, 'an empty selector');
  for (;;) {
    ws();
    const start = i;
    const not = text[i] === '!';
    if (not) i++;
    ws();
    const kAt = i;
    const k = word();
    if (!k) return bad(kAt, 'a label key expected');
    const kErr = key(k, kAt);
    if (kErr) return kErr;
    ws();
    if (not) {
      matchExpressions.push({ key: k, operator: 'DoesNotExist', values: [] });
    } else if (text.startsWith('!=', i) || text.startsWith('==', i) || text[i] === '=') {
      const op = text.startsWith('!=', i) ? '!=' : text.startsWith('==', i) ? '==' : '=';
      i += op.length;
      ws();
      const vAt = i;
      const v = word();
      const vErr = value(v, vAt);
      if (vErr) return vErr;
      matchExpressions.push({ key: k, operator: op === '!=' ? 'NotIn' : 'In', values: [v] });
    } else if (/^(in|notin)\b/.test(text.slice(i)) && i > kAt + k.length) {
      const op = text.startsWith('notin', i) ? 'NotIn' : 'In';
      i += op === 'In' ? 2 : 5;
      ws();
      if (text[i] !== '(') return bad(i, `"(" expected after ${op === 'In' ? 'in' : 'notin'}`);
      i++;
      const values: string[] = [];
      for (;;) {
        ws();
        const vAt = i;
        const v = word();
        const vErr = value(v, vAt);
        if (vErr) return vErr;
        values.push(v);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ')') {
          i++;
          break;
        }
        return bad(i, i >= text.length ? '")" expected' : `"," or ")" expected, got "${text[i]}"`);
      }
      matchExpressions.push({ key: k, operator: op, values });
    } else if (i === text.length || text[i] === ',') {
      matchExpressions.push({ key: k, operator: 'Exists', values: [] });
    } else return bad(i, `an operator (=, ==, !=, in, notin) or "," expected after "${text.slice(start, i).trim()}"`);
    ws();
    if (i === text.length) break;
    if (text[i] !== ',') return bad(i, `"," expected, got "${text[i]}"`);
    i++;
  }
  return { ok: true, selector: { matchLabels: {}, matchExpressions } };
}
