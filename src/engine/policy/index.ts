// NetworkPolicy, AdminNetworkPolicy and BaselineAdminNetworkPolicy evaluation for one flow, from a
// capture's `kubernetes` section alone (no node tables). Pure: no I/O.
export { evaluatePolicy, evaluateWith } from './evaluate';
export { hasPolicies, PolicyIndex, policyIndexOf } from './policyIndex';
export type { TieredPolicy, TieredRule, TieredPeer, Subject, Action, TierName } from './tiered';
export * from './types';
export { policyMatrix, policyMatrixWith, parseSelector, MATRIX_MAX_PODS, type MatrixRequest, type MatrixCell, type PolicyMatrix, type MatrixOutcome } from './matrix';
