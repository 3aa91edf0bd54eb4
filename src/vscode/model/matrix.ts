// The policy matrix view's data, made from the policy engine's matrix without VS Code (tested under
// node): the cells as the webview draws them, the flow line, and one cell's explanation.
import { evaluateWith, type MatrixCell, type PolicyIndex, type PolicyMatrix } from '../../engine/policy';
import type { MatrixCellView, MatrixDetails, ShowMatrix } from '../../shared/protocol';

const cellView = (c: MatrixCell): MatrixCellView => ({ verdict: c.verdict, egress: c.egress, ingress: c.ingress, ...(c.self ? { self: true as const } : {}) });

/** "TCP 8080", "TCP 5432 (postgres)", "TCP (no port given)". */
export function matrixFlow(m: Pick<PolicyMatrix, 'proto' | 'port' | 'portName'>): string {
  return m.port !== undefined ? `${m.proto} ${m.port}${m.portName ? ` (${m.portName})` : ''}` : m.portName ? `${m.proto} port ${m.portName}` : `${m.proto} (no port given)`;
}

export function matrixView(m: PolicyMatrix, title: string, source: string): ShowMatrix {
  return { type: 'showMatrix', source, title, flow: matrixFlow(m), rows: m.rows, cols: m.cols, cells: m.cells.map((r) => r.map(cellView)), notes: m.notes.map((n) => n.text) };
}

/** Cell (row, col) explained: each direction's sentence and the notes (undefined: out of range, or the pair cannot be evaluated). */
export function matrixDetails(idx: PolicyIndex, m: PolicyMatrix, row: number, col: number): MatrixDetails | undefined {
  const from = m.rows[row];
  const to = m.cols[col];
  if (from === undefined || to === undefined) return undefined;
  const r = evaluateWith(idx, { from, to, proto: m.proto, ...(m.port !== undefined ? { port: m.port } : m.portName !== undefined ? { port: m.portName } : {}) });
  if (!r.ok) return undefined;
  return { row, col, from, to, verdict: r.result.verdict, egress: `egress: ${r.result.egress.explanation}`, ingress: `ingress: ${r.result.ingress.explanation}`, notes: r.result.notes.map((n) => n.text) };
}
