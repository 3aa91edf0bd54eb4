// Every command id in one place; package.json's `contributes.commands` lists the same ids.
export const Commands = {
  tracePodPath: 'netpath.tracePodPath',
  traceFrom: 'netpath.traceFrom',
  traceTo: 'netpath.traceTo',
  openCapture: 'netpath.openCapture',
  saveCapture: 'netpath.saveCapture',
  loadDemoCapture: 'netpath.loadDemoCapture',
  selectContext: 'netpath.selectContext',
  refresh: 'netpath.refresh',
  policyMatrix: 'netpath.policyMatrix',
  copyTraceMarkdown: 'netpath.copyTraceMarkdown',
  compareTraces: 'netpath.compareTraces',
  checkCluster: 'netpath.checkCluster',
  /** A Cluster Check tree pair row: trace that pair (not in the palette). */
  checkTracePair: 'netpath.checkTracePair',
} as const;
export type CommandId = (typeof Commands)[keyof typeof Commands];
