// Public entry of the key-value state machine: an etcd-v3-style MVCC store on the node's SQLite
// database, fed committed Raft entries by the node driver.
export { KvStore } from './kv-store.js';
export type { ReplicaLoader } from './replica-loader.js';
export { ACTIVITY_KEEP, MEMBERS_PREFIX } from './activity.js';
export type { ActivityEntry } from './activity.js';
export { KvError } from './errors.js';
export { streamSnapshotOf } from './snapshot-reader.js';
export type { SnapshotHead } from './snapshot-reader.js';
export type { SnapshotTotals } from './snapshot.js';
export { COMMAND_FORMAT_JSON, decodeCommand, encodeCommand } from './commands.js';
export { validateCommand, validateKey, validateRangeOptions, validateValue } from './validate.js';
export {
  DEFAULT_MAX_REQUEST_IDS,
  DEFAULT_REQUEST_RETENTION_ENTRIES,
  MAX_KEY_BYTES,
  MAX_LEASE_TTL_SECONDS,
  MAX_REQUEST_ID_BYTES,
  MAX_TXN_OPS,
  MAX_VALUE_BYTES,
} from './limits.js';

export type { KvStoreOptions } from './kv-store.js';
export type { LeaseInfo } from './leases.js';
export type { KvErrorCode, KvErrorInfo } from './errors.js';
export type {
  Command,
  CompactCommand,
  Compare,
  CompareOp,
  CompareTarget,
  DeleteCommand,
  DeleteOp,
  DeleteRangeCommand,
  DeleteRangeOp,
  GetOp,
  LeaseGrantCommand,
  LeaseRevokeCommand,
  NoopCommand,
  Op,
  PutCommand,
  PutOp,
  RangeOp,
  TxnCommand,
  WriteOp,
} from './commands.js';
export type {
  ApplyError,
  ApplyOk,
  ApplyResult,
  ChangeEvent,
  ChangesResult,
  DeleteResponse,
  GetResponse,
  GetResult,
  KeyValue,
  OpResponse,
  PutResponse,
  RangeOptions,
  RangeResponse,
  RangeResult,
} from './types.js';
