// How a benchmark says what it measured: one line per case, `figure (target X)` and, where there is
// one, `vs <tool> Y (Nx)`, then what else is worth knowing; and one table of every case at the end of
// a run (bench/run.ts). Other bench files report through the same `Report`.

/** INFO: a measurement reported beside a target, not one itself. */
export type Status = 'PASS' | 'FAIL' | 'SKIP' | 'INFO';

export interface Measured {
  /** The figure judged, as printed: `0.42 ms per trace`, `55.1x faster`, `100,000/100,000 agree`. */
  figure: string;
  /** The target it is judged against, as printed: `< 1 ms`, `>= 50x`, `all`. */
  target?: string;
  /** The kernel or tool measured beside it: `kernel \`ip -batch route get\``, its figure, and the ratio (`55x`). */
  compared?: { tool: string; figure: string; ratio?: string };
  /** Everything else the line says (runs, spread, memory, what it checked). */
  detail?: string;
}

/**
 * `report(status, text)` prints `text` as it is (the form every bench file used first);
 * `report(status, name, measured)` prints `name: figure (target X), vs tool Y (Nx); detail` and
 * fills the figure, target and comparison columns of the summary table.
 */
export type Report = (status: Status, text: string, measured?: Measured) => void;

export function formatLine(text: string, m?: Measured): string {
  if (!m) return text;
  const target = m.target ? ` (target ${m.target})` : '';
  const vs = m.compared ? `, vs ${m.compared.tool} ${m.compared.figure}${m.compared.ratio ? ` (${m.compared.ratio})` : ''}` : '';
  return `${text}: ${m.figure}${target}${vs}${m.detail ? `; ${m.detail}` : ''}`;
}

interface Row {
  status: Status;
  name: string;
  figure: string;
  target: string;
  compared: string;
}

/** Collects every case of a run and prints them as one table. */
export class Summary {
  private readonly rows: Row[] = [];

  add(status: Status, text: string, m?: Measured): void {
    // A plain line is named by what comes before its first ': ' (its case), shortened.
    const name = m ? text : (text.split(': ')[0] ?? text);
    this.rows.push({
      status,
      name: name.length > 70 ? `${name.slice(0, 69)}…` : name,
      figure: m?.figure ?? '',
      target: m?.target ?? '',
      compared: m?.compared ? `${m.compared.tool} ${m.compared.figure}${m.compared.ratio ? ` (${m.compared.ratio})` : ''}` : '',
    });
  }

  toString(): string {
    const head: Row = { status: 'INFO', name: 'case', figure: 'figure', target: 'target', compared: 'compared with' };
    const cols: (keyof Row)[] = ['name', 'figure', 'target', 'compared', 'status'];
    const all = [head, ...this.rows];
    const width = cols.map((c) => Math.max(...all.map((r) => (c === 'status' && r === head ? 6 : r[c].length))));
    const fmt = (r: Row) => cols.map((c, i) => (c === 'status' && r === head ? 'status' : r[c]).padEnd(width[i]!)).join(' | ').trimEnd();
    return [fmt(head), width.map((w) => '-'.repeat(w)).join('-|-'), ...this.rows.map(fmt)].join('\n');
  }
}
