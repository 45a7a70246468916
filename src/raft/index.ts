// Public entry of the Raft core: a pure, deterministic state machine and its ports.
export { RaftNode } from './raft-node.js';
export { MemoryStorage } from './memory-storage.js';
export { RaftError } from './errors.js';
export { createSeededRng } from './rng.js';
export { MUTANTS, RAFT_DEFAULTS, resolveRaftConfig } from './config.js';
export { NONE } from './types.js';
export { applyConfChange, confChangeProblem, decodeConfChange, encodeConfChange } from './confchange.js';
export { bootstrapEntries } from './bootstrap.js';
export { quorumSize } from './quorum.js';

export type { ProposeResult, RaftStatus, ProgressStatus } from './raft-node.js';
export type { RaftStorage } from './storage.js';
export type { RaftErrorCode } from './errors.js';
export type { Rng } from './rng.js';
export type { Mutant, RaftConfig, RaftConfigInput } from './config.js';
export type {
  AppendMessage,
  AppendResponseMessage,
  ConfChange,
  ConfChangeType,
  ConfState,
  Entry,
  EntryType,
  HardState,
  HeartbeatMessage,
  HeartbeatResponseMessage,
  Message,
  MessageType,
  NodeId,
  RaftRole,
  ReadIndexMessage,
  ReadIndexResponseMessage,
  ReadState,
  Ready,
  Snapshot,
  SnapshotChunkMessage,
  SnapshotMeta,
  SnapshotResponseMessage,
  SoftState,
  TimeoutNowMessage,
  VoteMessage,
  VoteResponseMessage,
} from './types.js';
