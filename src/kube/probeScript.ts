// One exec per host: a fixed shell script runs the probe commands of capture/probes.ts in the
// container, with the same fallbacks (iproute2, then BusyBox, then net-tools, then /proc), and frames
// each command's stdout, stderr and exit status so that one WebSocket carries everything. Each exec
// is a WebSocket upgrade through the API server and the kubelet; nine of them per host were seconds
// of round trips on a real cluster.
//
// The script is a constant: nothing from the cluster reaches it. Its only arguments are probe names
// from netpath's own closed list, each matched by a `case` arm and never evaluated. Output is framed
// by byte counts (`wc -c`), never by scanning for a marker, so a command that prints the markers
// (an interface alias, an iptables comment) cannot forge a frame.
import { PROBE_COMMANDS } from '../capture/probes';
import type { ProbeName } from '../parsers';

/**
 * The probe script, run as `sh -c PROBE_SCRIPT netpath-probes PROBE...`. For each probe it tries its
 * commands in PROBE_COMMANDS' order until one exits 0 (`t` fails otherwise, and `||` tries the next).
 * A command the container lacks (`command -v` fails) is one `missing` line; one that ran gives two
 * frames: `@PROBE I out N` followed by its N bytes of stdout and a newline, then `@PROBE I err M exit
 * RC` with M bytes of stderr and a newline. stdout is kept exactly: `printf x` after it stops `$(...)`
 * from dropping its trailing newlines, and `${o%x}` removes that x again. Each command costs two
 * processes (the `$(...)` and the command): under load a process is milliseconds, so stderr is not
 * captured on the way; a command that failed runs once more for its stderr (trailing newlines dropped;
 * only its first line and "not found" are read), which the shell's own words ("Killed") stay out of.
 * Byte counts come from `${#var}` where the shell counts bytes under LC_ALL=C (dash, bash, BusyBox
 * ash), else from `wc -c`; a shell that can do neither says `no-wc` and the collector reads that
 * container one exec per probe. Probe commands only read: running one twice changes nothing, and
 * running two at once changes nothing either: four probes or more run in two halves at once (the
 * commands' own run time is most of an exec's, and a host's probes would otherwise use one CPU),
 * their frames written in the order asked.
 */
export const PROBE_SCRIPT = [
  // Two bytes, one character in UTF-8: where ${#b} is 2 under LC_ALL=C the shell counts bytes itself.
  "b='\u00e9'",
  "command -v wc >/dev/null 2>&1 || (LC_ALL=C; [ \"${#b}\" = 2 ]) || { printf 'netpath-probes 1 no-wc\\n'; exit 0; }",
  "printf 'netpath-probes 1\\n'",
  // The byte count of $1 in n: LC_ALL=C only for ${#}, then as it was (the commands keep the container's locale).
  'len() {',
  '  if [ "${LC_ALL+set}" ]; then l=$LC_ALL; LC_ALL=C; n=${#1}; k=${#b}; LC_ALL=$l; else LC_ALL=C; n=${#1}; k=${#b}; unset LC_ALL; fi',
  '  [ "$k" = 2 ] || n=$(printf %s "$1" | wc -c)',
  '}',
  't() {',
  '  p=$1 i=$2',
  '  shift 2',
  "  command -v \"$1\" >/dev/null 2>&1 || { printf '@%s %s missing\\n' \"$p\" \"$i\"; return 1; }",
  '  o=$("$@" 2>/dev/null; r=$?; printf x; exit "$r")',
  '  r=$?',
  '  o=${o%x}',
  '  len "$o"',
  "  printf '@%s %s out %s\\n%s\\n' \"$p\" \"$i\" $n \"$o\"",
  '  e=',
  '  [ "$r" = 0 ] || e=$(exec 2>&1 >/dev/null; exec "$@")',
  '  len "$e"',
  "  printf '@%s %s err %s exit %s\\n%s\\n' \"$p\" \"$i\" $n \"$r\" \"$e\"",
  '  return "$r"',
  '}',
  // One probe: its commands in PROBE_COMMANDS' order until one exits 0.
  'probe() {',
  '  case $1 in',
  '  links) t links 0 ip -d link show || t links 1 busybox ip link show ;;',
  '  addrs) t addrs 0 ip addr show || t addrs 1 busybox ip addr show ;;',
  '  routes4) t routes4 0 ip -4 route show table all || t routes4 1 busybox ip route show table all || t routes4 2 route -n || t routes4 3 cat /proc/net/route ;;',
  '  routes6) t routes6 0 ip -6 route show table all ;;',
  '  rules4) t rules4 0 ip -4 rule show || t rules4 1 busybox ip rule show ;;',
  '  rules6) t rules6 0 ip -6 rule show ;;',
  '  neigh) t neigh 0 ip -s neigh show || t neigh 1 ip neigh show || t neigh 2 busybox ip neigh show || t neigh 3 cat /proc/net/arp ;;',
  '  fdb) t fdb 0 bridge -s fdb show || t fdb 1 bridge fdb show ;;',
  '  sysctl) t sysctl 0 sysctl -e net.ipv4.ip_forward net.ipv6.conf.all.forwarding net.ipv4.conf net.ipv6.conf net.bridge.bridge-nf-call-iptables || t sysctl 1 busybox sysctl -e net.ipv4.ip_forward net.ipv6.conf.all.forwarding net.ipv4.conf net.ipv6.conf net.bridge.bridge-nf-call-iptables ;;',
  '  brctl) t brctl 0 brctl show ;;',
  '  bridgevlan) t bridgevlan 0 bridge vlan show ;;',
  '  arp) t arp 0 arp -an ;;',
  '  iptables) t iptables 0 iptables-save ;;',
  '  ip6tables) t ip6tables 0 ip6tables-save ;;',
  '  nft) t nft 0 nft list ruleset ;;',
  '  ipset) t ipset 0 ipset save || t ipset 1 ipset list ;;',
  '  ipvs) t ipvs 0 ipvsadm -Ln ;;',
  '  wg) t wg 0 wg show all dump ;;',
  `  xt_recent) t xt_recent 0 sh -c 'cd /proc/net/xt_recent && grep -H "" -- *; grep -m1 "^now at" /proc/timer_list; grep -m1 "last_jiffies" /proc/timer_list; exit 0' ;;`,
  "  *) printf '@%s unknown\\n' \"$1\" ;;",
  '  esac',
  '}',
  // Four probes or more run in two halves at once: the first in a background job straight to stdout,
  // the second meanwhile into a variable (kept whole as `t` keeps a command's output), printed once
  // the first has ended. The bytes are those of one after the other.
  'if [ $# -ge 4 ]; then',
  '  h=$((($# + 1) / 2))',
  '  {',
  '    q=0',
  '    for x in "$@"; do',
  '      q=$((q + 1))',
  '      [ "$q" -gt "$h" ] || probe "$x"',
  '    done',
  '  } &',
  '  o=$(',
  '    q=0',
  '    for x in "$@"; do',
  '      q=$((q + 1))',
  '      [ "$q" -le "$h" ] || probe "$x"',
  '    done',
  '    printf x',
  '  )',
  '  wait',
  '  printf %s "${o%x}"',
  'else',
  '  for x in "$@"; do probe "$x"; done',
  'fi',
  "printf 'netpath-probes end\\n'",
  '',
].join('\n');

/** `$0` of the script: what `ps` in the container shows. */
const SCRIPT_NAME = 'netpath-probes';

/** The argv that reads `probes` in one exec. */
export function probeScriptArgv(probes: readonly ProbeName[]): string[] {
  return ['sh', '-c', PROBE_SCRIPT, SCRIPT_NAME, ...probes];
}

/** An argv as messages show it: the probe script by name and its probes, not its text. */
export function describeArgv(argv: readonly string[]): string {
  if (argv[0] === 'sh' && argv[1] === '-c' && argv[2] === PROBE_SCRIPT) return `sh -c <netpath probe script> ${argv.slice(4).join(' ')}`;
  return argv.join(' ');
}

/** One command of a probe as it went: the container lacked it, or it ran and exited. */
export type Attempt = { argv: readonly string[]; missing: true } | { argv: readonly string[]; missing?: false; exitCode: number; stdout: string; stderr: string };

/** What reading one probe gave: its text, or why there is none (each command's reason, `; `-joined). */
export interface ProbeRead {
  text: string | undefined;
  why?: string;
}

/**
 * How the fallback rule reads one command's result, in either mode: exit 0 is the probe's text; a
 * missing tool (the runtime's or the shell's "not found", exit 127) and a missing file are "not found"
 * (and the next form is tried); any other failure is the command, its exit code and its first line of
 * stderr.
 */
export function judgeAttempt(a: Attempt): { text: string } | { why: string; missingTool: boolean } {
  const tool = a.argv[0]!;
  if (a.missing) return { why: `${tool}: not found`, missingTool: true };
  if (a.exitCode === 0) return { text: a.stdout };
  if (a.exitCode === 127 || /not found|No such file/i.test(a.stderr)) return { why: `${tool}: not found`, missingTool: a.exitCode === 127 };
  return { why: `${a.argv.join(' ')} exited ${a.exitCode}: ${a.stderr.trim().split('\n')[0] ?? ''}`, missingTool: false };
}

/** A probe's result from its commands' attempts, in order: the first text wins. */
export function probeRead(attempts: readonly Attempt[]): ProbeRead {
  const whys: string[] = [];
  for (const a of attempts) {
    const j = judgeAttempt(a);
    if ('text' in j) return { text: j.text };
    whys.push(j.why);
  }
  return { text: undefined, why: whys.join('; ') || 'no command for it worked' };
}

export type ScriptOutput =
  /** Every probe asked for, in order, with the attempts of its commands. */
  | { kind: 'ok'; probes: Map<ProbeName, Attempt[]> }
  /** The script could not measure output (no `wc`): read this container one exec per probe. */
  | { kind: 'unusable'; why: string }
  /** Not the script's framing, or cut short: `why` says where; `probes` holds those read in full before it. */
  | { kind: 'broken'; why: string; probes: Map<ProbeName, Attempt[]> };

const HEADER = 'netpath-probes 1';
const END = 'netpath-probes end';
/** Longest header line the script writes (a probe name, numbers): anything longer is not a header. */
const MAX_HEADER = 120;

/**
 * Reads the script's output back into each probe's attempts. Strict: every frame must name the probe
 * and command expected next (the probes in the order asked, each command in PROBE_COMMANDS' order,
 * stopping after one that exited 0), every byte count must be there in full, and the end line must
 * close it. Content is skipped by its count, never searched, so output that contains the markers is
 * only output. `bytes` is the exec's stdout as sent (byte counts are bytes, not UTF-16 units).
 */
export function parseScriptOutput(bytes: Uint8Array, probes: readonly ProbeName[]): ScriptOutput {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const done = new Map<ProbeName, Attempt[]>();
  const shown = (s: string) => JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}...` : s);
  const broken = (why: string): ScriptOutput => ({ kind: 'broken', why: `${why} (byte ${at} of ${buf.length})`, probes: done });
  /** Why there is no header line where one is due: the output ended, or what is there is too long for one. */
  let noLine = '';
  /** The next line, without its newline; undefined (with `noLine` saying why) at the end or when longer than a header. */
  const line = (): string | undefined => {
    const nl = buf.indexOf(10, at);
    if (nl < 0 || nl - at > MAX_HEADER) {
      noLine = nl < 0 && buf.length - at <= MAX_HEADER ? (at === buf.length ? 'the output ends' : 'the output ends inside a frame header') : 'a line too long for a frame header is';
      return undefined;
    }
    const s = buf.toString('utf8', at, nl);
    at = nl + 1;
    return s;
  };
  /** `n` bytes of content and the newline the script writes after them. */
  const content = (n: number, what: string): string | ScriptOutput => {
    if (at + n + 1 > buf.length) return broken(`the output ends inside ${what}: ${n} bytes announced, ${Math.max(0, buf.length - at)} there; the stream was cut`);
    if (buf[at + n] !== 10) return broken(`${what} is not followed by a newline after its ${n} bytes`);
    const s = buf.toString('utf8', at, at + n);
    at += n + 1;
    return s;
  };

  const first = line();
  if (first === `${HEADER} no-wc`) return { kind: 'unusable', why: 'the container has sh but no wc to measure output with' };
  if (first !== HEADER) {
    const head = buf.toString('utf8', 0, Math.min(buf.length, 200)).split('\n')[0]!;
    return { kind: 'unusable', why: `the output does not start with the probe script's header "${HEADER}"${head ? ` but ${shown(head)}` : ' (it is empty)'}` };
  }
  for (const probe of probes) {
    const cmds = PROBE_COMMANDS[probe];
    const attempts: Attempt[] = [];
    for (let i = 0; i < cmds.length; i++) {
      const argv = cmds[i]!.argv;
      const what = `${probe}'s command ${i + 1} (${argv.join(' ')})`;
      const start = at;
      const h = line();
      if (h === undefined) return broken(`${noLine} where ${what} was due`);
      if (h === `@${probe} ${i} missing`) {
        attempts.push({ argv, missing: true });
        continue;
      }
      const out = new RegExp(`^@${probe} ${i} out (\\d+)$`).exec(h);
      if (!out) {
        at = start;
        return broken(`expected ${what}, found ${shown(h)}`);
      }
      const stdout = content(Number(out[1]), `the stdout of ${what}`);
      if (typeof stdout !== 'string') return stdout;
      const errStart = at;
      const eh = line();
      const err = eh === undefined ? null : new RegExp(`^@${probe} ${i} err (\\d+) exit (\\d+)$`).exec(eh);
      if (!err) {
        at = errStart;
        return broken(eh === undefined ? `${noLine} where the exit status of ${what} was due` : `expected the exit status of ${what}, found ${shown(eh)}`);
      }
      const stderr = content(Number(err[1]), `the stderr of ${what}`);
      if (typeof stderr !== 'string') return stderr;
      const exitCode = Number(err[2]);
      attempts.push({ argv, exitCode, stdout, stderr });
      if (exitCode === 0) break;
    }
    done.set(probe, attempts);
  }
  const endStart = at;
  const end = line();
  if (end !== END) {
    at = endStart;
    return broken(end === undefined ? `${noLine} where the end line was due` : `expected the end line after the last probe, found ${shown(end)}`);
  }
  if (at !== buf.length) return broken(`${buf.length - at} bytes after the end line`);
  return { kind: 'ok', probes: done };
}
