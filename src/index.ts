// Public entry of the `conclave` package. Internals are not reachable from here.
export * from './raft/index.js';
