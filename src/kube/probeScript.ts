// One exec per host: a fixed shell script runs the probe commands of capture/probes.ts in the
// container, with the same fallbacks (iproute2, then BusyBox, then net-tools, then /proc), and frames
// each command's stdout, stderr and exit status so that one WebSocket carries everything. Each exec
// is a WebSocket upgrade through the API server and the kubelet; nine of them per host were seconds
// of round trips on a real cluster.
//
// The script is a constant: nothing from the cluster reaches it. Its arguments are a frame marker the
// collector draws at random for each exec (128 bits, hex) and probe names from netpath's own closed
// list, each matched by a `case` arm and never evaluated. A command's output ends where the marker's
// line for that command comes, so nothing a cluster holds can forge a frame: an interface alias, an
// iptables comment or a route protocol name was written before the marker existed. (A program the
// script runs could read the marker from the script's argv and forge later frames of the same exec,
// but such a program is the container's own tool, whose output is that host's tables anyway; it
// cannot reach another host's.)
import { randomBytes } from 'node:crypto';
import { PROBE_COMMANDS } from '../capture/probes';
import type { ProbeName } from '../parsers';

/**
 * The probe script, run as `sh -c PROBE_SCRIPT netpath-probes MARKER PROBE...`. For each probe it
 * tries its commands in PROBE_COMMANDS' order until one exits 0 (`t` fails otherwise, and `||` tries
 * the next). A command the container lacks (`command -v` fails) is one line, `@MARKER PROBE I
 * missing`; one that ran writes its stdout straight out, then a newline and `@MARKER PROBE I exit
 * RC`. stdout is kept exactly: the newline before the marker's line is the script's, whatever the
 * output ended with. A command that failed runs once more for its stderr (under load a process is
 * milliseconds, so stderr is not kept on the way; only its first line and "not found" are read),
 * written the same way and closed by `@MARKER PROBE I err`; the shell's own words ("Killed") go to
 * the exec's stderr, not into it. One process per command: capturing output in `$(...)` to count
 * its bytes cost a second process and string copies, a third of a node's probe time. Probe commands
 * only read: running one twice changes nothing, and running two at once changes nothing either: four
 * probes or more run in two halves at once (the commands' own run time is most of an exec's, and a
 * host's probes would otherwise use one CPU), the second half held in a variable until the first is
 * out, so frames come in the order asked.
 */
export const PROBE_SCRIPT = [
  'm=$1',
  'shift',
  "printf 'netpath-probes 2\\n'",
  't() {',
  '  p=$1 i=$2',
  '  shift 2',
  "  command -v \"$1\" >/dev/null 2>&1 || { printf '@%s %s %s missing\\n' \"$m\" \"$p\" \"$i\"; return 1; }",
  '  "$@" 2>/dev/null',
  '  r=$?',
  "  printf '\\n@%s %s %s exit %s\\n' \"$m\" \"$p\" \"$i\" \"$r\"",
  '  [ "$r" = 0 ] && return 0',
  '  (exec 2>&1 >/dev/null; exec "$@")',
  "  printf '\\n@%s %s %s err\\n' \"$m\" \"$p\" \"$i\"",
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
  "  sysctl) t sysctl 0 sh -c 'cd /proc/sys && exec sysctl -e net.ipv4.ip_forward net.ipv6.conf.all.forwarding net.bridge.bridge-nf-call-iptables net/ipv4/conf/*/rp_filter net/ipv4/conf/*/forwarding net/ipv4/conf/*/proxy_arp net/ipv6/conf/*/forwarding' || t sysctl 1 sysctl -e net.ipv4.ip_forward net.ipv6.conf.all.forwarding net.ipv4.conf net.ipv6.conf net.bridge.bridge-nf-call-iptables || t sysctl 2 busybox sysctl -e net.ipv4.ip_forward net.ipv6.conf.all.forwarding net.ipv4.conf net.ipv6.conf net.bridge.bridge-nf-call-iptables ;;",
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
  // the second meanwhile into a variable (`printf x` keeps its trailing newlines from `$(...)`),
  // printed once the first has ended. The bytes are those of one after the other.
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
const MARKER = /^[0-9a-f]{32}$/;

/** A frame marker for one exec: 128 random bits, which no output written before the exec can hold. */
export function newMarker(): string {
  return randomBytes(16).toString('hex');
}

/** The argv that reads `probes` in one exec, its frames marked with `marker` (newMarker()). */
export function probeScriptArgv(probes: readonly ProbeName[], marker: string): string[] {
  if (!MARKER.test(marker)) throw new Error(`probeScriptArgv: the marker must be 32 hex digits (newMarker()), not ${JSON.stringify(marker)}`);
  return ['sh', '-c', PROBE_SCRIPT, SCRIPT_NAME, marker, ...probes];
}

/** An argv as messages show it: the probe script by name and its probes, not its text or marker. */
export function describeArgv(argv: readonly string[]): string {
  if (argv[0] === 'sh' && argv[1] === '-c' && argv[2] === PROBE_SCRIPT) return `sh -c <netpath probe script> ${argv.slice(5).join(' ')}`;
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
  /** Not the script's output at all (another shell's words, nothing): read this container one exec per probe. */
  | { kind: 'unusable'; why: string }
  /** Not the script's framing, or cut short: `why` says where; `probes` holds those read in full before it. */
  | { kind: 'broken'; why: string; probes: Map<ProbeName, Attempt[]> };

const HEADER = 'netpath-probes 2';
const END = 'netpath-probes end';

/**
 * Reads the script's output back into each probe's attempts. Strict: every frame must be the probe
 * and command expected next (the probes in the order asked, each command in PROBE_COMMANDS' order,
 * stopping after one that exited 0), each output must be closed by its own marker line, and the end
 * line must close it all. A command's output is everything up to the newline before its marker line:
 * the marker is searched for with the probe and command it must name, so any other text is output.
 * `bytes` is the exec's stdout as sent; `marker` the one the argv carried.
 */
export function parseScriptOutput(bytes: Uint8Array, probes: readonly ProbeName[], marker: string): ScriptOutput {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const done = new Map<ProbeName, Attempt[]>();
  const shown = (s: string) => JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}...` : s);
  const broken = (why: string): ScriptOutput => ({ kind: 'broken', why: `${why} (byte ${at} of ${buf.length})`, probes: done });
  const startsWith = (text: string) => buf.length - at >= Buffer.byteLength(text) && buf.toString('utf8', at, at + Buffer.byteLength(text)) === text;
  /** The bytes up to `\n` + `closing` (which must end its line), and past it; or where it ends instead. */
  const upTo = (closing: string): { text: string; line: string } | undefined => {
    const end = buf.indexOf(`\n${closing}`, at);
    if (end < 0) return undefined;
    const nl = buf.indexOf(10, end + 1);
    if (nl < 0) return undefined;
    const text = buf.toString('utf8', at, end);
    const line = buf.toString('utf8', end + 1, nl);
    at = nl + 1;
    return { text, line };
  };

  const headerEnd = buf.indexOf(10);
  const first = headerEnd < 0 ? buf.toString('utf8', 0, Math.min(buf.length, 200)) : buf.toString('utf8', 0, Math.min(headerEnd, 200));
  if (first !== HEADER) return { kind: 'unusable', why: `the output does not start with the probe script's header "${HEADER}"${first ? ` but ${shown(first)}` : ' (it is empty)'}` };
  at = headerEnd + 1;
  for (const probe of probes) {
    const cmds = PROBE_COMMANDS[probe];
    const attempts: Attempt[] = [];
    for (let i = 0; i < cmds.length; i++) {
      const argv = cmds[i]!.argv;
      const what = `${probe}'s command ${i + 1} (${argv.join(' ')})`;
      const tag = `@${marker} ${probe} ${i}`;
      if (startsWith(`${tag} missing\n`)) {
        at += Buffer.byteLength(`${tag} missing\n`);
        attempts.push({ argv, missing: true });
        continue;
      }
      const start = at;
      const out = upTo(`${tag} exit `);
      const code = out && /^@[0-9a-f]+ \S+ \d+ exit (\d+)$/.exec(out.line);
      if (!out || !code) {
        at = start;
        // What this exec's next marker line says instead, if the output gets that far.
        const found = startsWith(`@${marker} `) ? at : buf.indexOf(`\n@${marker} `, at) + 1 || -1;
        if (found < 0) return broken(`the output ends before ${what} was closed; the stream was cut`);
        const nl = buf.indexOf(10, found);
        if (nl < 0) return broken(`the output ends inside a marker line where ${what} was due; the stream was cut`);
        return broken(`expected ${what}, found ${shown(buf.toString('utf8', found, nl))}`);
      }
      const exitCode = Number(code[1]);
      let stderr = '';
      if (exitCode !== 0) {
        const errStart = at;
        const err = upTo(`${tag} err`);
        if (!err || err.line !== `${tag} err`) {
          at = errStart;
          return broken(`the output ends before the stderr of ${what} was closed; the stream was cut`);
        }
        stderr = err.text;
      }
      attempts.push({ argv, exitCode, stdout: out.text, stderr });
      if (exitCode === 0) break;
    }
    done.set(probe, attempts);
  }
  const endStart = at;
  const nl = buf.indexOf(10, at);
  const end = nl < 0 ? undefined : buf.toString('utf8', at, nl);
  if (end !== END) {
    at = endStart;
    return broken(end === undefined ? 'the output ends where the end line was due' : `expected the end line after the last probe, found ${shown(end)}`);
  }
  at = nl + 1;
  if (at !== buf.length) return broken(`${buf.length - at} bytes after the end line`);
  return { kind: 'ok', probes: done };
}
