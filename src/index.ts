// Public entry of the `conclave` package. Internals are not reachable from here.
export * from './raft/index.js';
export * from './client/index.js';
export * from './embed/index.js';
