// The probe registry: which parser reads which probe of the capture (shared/spec/capture-v1.md).
import { parseAddrs } from './addrs';
import { parseArp } from './arp';
import { parseBrctl } from './brctl';
import { guarded } from './common';
import { parseFdb } from './fdb';
import { parseIptables } from './iptables';
import { parseLinks } from './links';
import { parseNeigh } from './neigh';
import { parseRoutes } from './routes';
import { parseRules } from './rules';
import { parseSysctl } from './sysctl';
import { parseWg } from './wg';
import type { ParseOptions, ParseResult, ProbeRecord } from './types';

export const PROBES = ['links', 'addrs', 'routes4', 'routes6', 'rules4', 'rules6', 'neigh', 'fdb', 'sysctl', 'brctl', 'arp', 'iptables', 'wg'] as const;
export type ProbeName = (typeof PROBES)[number];

export function isProbeName(s: string): s is ProbeName {
  return (PROBES as readonly string[]).includes(s);
}

const parsers: Record<ProbeName, (text: string, opts: ParseOptions) => ParseResult<ProbeRecord>> = {
  links: parseLinks,
  addrs: parseAddrs,
  routes4: (t) => parseRoutes(t, 4),
  routes6: (t) => parseRoutes(t, 6),
  rules4: (t) => parseRules(t, 4),
  rules6: (t) => parseRules(t, 6),
  neigh: parseNeigh,
  fdb: parseFdb,
  sysctl: parseSysctl,
  brctl: parseBrctl,
  arp: parseArp,
  iptables: (t, opts) => parseIptables(t, opts),
  wg: parseWg,
};

/** Parses one probe's raw text. Never throws: what it cannot read comes back as issues. */
export function parseProbe(probe: ProbeName, text: string, opts: ParseOptions = {}): ParseResult<ProbeRecord> {
  return guarded(text, (t) => parsers[probe](t, opts));
}

export * from './types';
