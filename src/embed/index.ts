// Public entry of embedding: `import { startNode } from 'conclave'`.
export { EmbeddedNode, startNode } from './start-node.js';
export { LocalReplica } from './local-replica.js';
export type { StartNodeOptions } from './start-node.js';
export type { ChangeListenerOptions } from './local-replica.js';
export { ConfigError, formatConfigError } from '../config/index.js';
export type { ConfigIssue } from '../config/index.js';
export { StorageError } from '../storage/index.js';
