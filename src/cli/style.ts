// Colour on the terminal: whether to use it (decided once per command from the flags, the environment
// and stdout) and the palette that paints text. The formatters take a Style and never ask themselves,
// so a test can render the same trace both ways.
import { inspect } from 'node:util';

/** What a piece of text is, for the palette to paint. */
export type Role =
  | 'ok' // the packet is delivered
  | 'drop' // the packet is dropped
  | 'unknown' // the capture lacks the data to decide
  | 'where' // the point where the packet stops (painted on top of its verdict's colour)
  | 'host' // a hop's host name
  | 'kind' // a step's kind (route, neigh, fdb, ...)
  | 'inferred' // the mark on a step the capture does not hold
  | 'evidence' // the raw probe lines quoted under a step
  | 'quiet'; // a path that ended as expected, e.g. a flood copy at the wrong host

/**
 * Paints text by role. Only ever applied to text that is already printable (capture/text.ts's
 * `printable()`): the escape codes it adds are the only control characters in the output.
 */
export type Style = Readonly<Record<Role, (text: string) => string>>;

const same = (t: string) => t;
export const plain: Style = { ok: same, drop: same, unknown: same, where: same, host: same, kind: same, inferred: same, evidence: same, quiet: same };

/** ANSI SGR codes from Node's own table, so an open code always has its matching close. */
function sgr(...names: string[]): (t: string) => string {
  const codes = names.map((n) => {
    const c = inspect.colors[n];
    if (!c) throw new Error(`no ANSI code for ${n}`);
    return c;
  });
  const open = codes.map(([o]) => `\u001b[${o}m`).join('');
  const close = codes.map(([, c]) => `\u001b[${c}m`).reverse().join('');
  return (t) => (t === '' ? t : open + t + close);
}

export const ansi: Style = {
  ok: sgr('green'),
  drop: sgr('red'),
  unknown: sgr('yellow'),
  where: sgr('bold'),
  host: sgr('bold'),
  kind: sgr('cyan'),
  inferred: sgr('magenta'),
  evidence: sgr('dim'),
  quiet: sgr('dim'),
};

/** The bits of a tty.WriteStream the decision reads; a piped stdout has neither. */
export interface Terminal {
  readonly isTTY?: boolean;
  hasColors?(env?: object): boolean;
}

export interface ColorInputs {
  /** `--color` (true) or `--no-color` (false); undefined when neither was given. */
  flag?: boolean | undefined;
  env: Readonly<Record<string, string | undefined>>;
  stdout?: Terminal | undefined;
}

/**
 * Whether to colour stdout. In order: the command line wins; then FORCE_COLOR as Node reads it
 * (`''`, `1`, `2`, `3`, `true` force colour even into a pipe, any other value turns it off); then
 * NO_COLOR with a non-empty value (https://no-color.org) turns it off; then only a terminal gets
 * colour, never one with TERM=dumb, and Node's own check of the terminal (hasColors) has the last word.
 */
export function useColor({ flag, env, stdout }: ColorInputs): boolean {
  if (flag !== undefined) return flag;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return ['', '1', '2', '3', 'true'].includes(force);
  if (env.NO_COLOR) return false;
  if (!stdout?.isTTY || env.TERM === 'dumb') return false;
  if (typeof stdout.hasColors !== 'function') return true;
  // Node counts an empty NO_COLOR as set; no-color.org does not, and neither does netpath.
  const rest: Record<string, string | undefined> = { ...env };
  delete rest.NO_COLOR;
  return stdout.hasColors(rest);
}
