// Programmatic entry of the deterministic Raft simulator (for tests and tools).
export { runSeed, replayCommand } from './run.js';
export type { SimOptions, SimResult, SimStats, SimViolationReport } from './run.js';
export { SimViolation } from './violation.js';
export type { ViolationKind } from './violation.js';
export type { HistoryOp } from './history.js';
