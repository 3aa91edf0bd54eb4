// The `netpath` exit codes, and what a trace's verdict means for a script (`netpath trace ... || ...`,
// as with ping). The codes follow the top-level verdict printed and in --json, so a script that reads
// the JSON and one that reads the code agree.
import type { Verdict } from '../engine';

export const EXIT_OK = 0;
/** The input was bad: a file, a capture, a host name, a cluster; the message on stderr says what and where. */
export const EXIT_BAD_INPUT = 1;
export const EXIT_USAGE = 2;
/** trace: the capture shows the packet dropped (any verdict but `delivered` and `insufficient-data`). */
export const EXIT_DROPPED = 3;
/** trace: the capture lacks the tables to decide (`insufficient-data`). */
export const EXIT_INSUFFICIENT_DATA = 4;

export type Outcome = 'delivered' | 'dropped' | 'undecided';

export function outcomeOf(v: Verdict): Outcome {
  return v === 'delivered' ? 'delivered' : v === 'insufficient-data' ? 'undecided' : 'dropped';
}

const CODES: Record<Outcome, number> = { delivered: EXIT_OK, dropped: EXIT_DROPPED, undecided: EXIT_INSUFFICIENT_DATA };

export function traceExitCode(v: Verdict): number {
  return CODES[outcomeOf(v)];
}

export const TRACE_EXIT_HELP = `Exit status:
  0    the packet is delivered
  1    bad input: a file, capture, host or cluster that cannot be used (stderr says what and where)
  2    usage: a missing or malformed option
  3    the packet is dropped: any verdict but delivered and insufficient-data (no-route, mtu-exceeded, ...)
  4    the capture lacks the data to decide (verdict insufficient-data)
  130  a live trace (--context) interrupted with Ctrl+C: its answer is not to be trusted
  The same with --json and --short. On a live cluster, 4 also covers hosts that could not be read.`;
