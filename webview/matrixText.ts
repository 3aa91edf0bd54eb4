// The policy matrix view's strings, built without the DOM (tested under node): a cell's mark and its
// accessible label. `.` allowed; denied at egress `E`, at ingress `I`, at both `X` (as netpath policy
// matrix prints it).
import type { MatrixCellView } from '../src/shared/protocol';

export function cellMark(c: MatrixCellView): string {
  if (c.verdict === 'allowed') return '·';
  return c.egress === 'denied' && c.ingress === 'denied' ? 'X' : c.egress === 'denied' ? 'E' : 'I';
}

export function cellLabel(from: string, to: string, c: MatrixCellView): string {
  const why = c.verdict === 'allowed' ? 'allowed' : c.egress === 'denied' && c.ingress === 'denied' ? 'denied at egress and at ingress' : c.egress === 'denied' ? `denied at egress (${from})` : `denied at ingress (${to})`;
  return `${from} → ${to}: ${why}${c.self ? '; a pod to itself (implementation-specific)' : ''}`;
}
