// Public entry of the client: `import { createClient } from 'conclave'`.
export { createClient, ConclaveClient } from './client.js';
export { Lease } from './lease.js';
export { ConclaveError, UnavailableError, AbortedError } from './errors.js';
export { parseEndpoints } from './endpoints.js';
export type {
  CallOptions,
  ClientOptions,
  PutOptions,
  RangeQuery,
  ReadOptions,
  SnapshotAnswer,
  SnapshotOptions,
  SnapshotStreamOptions,
  SnapshotWritten,
  TxnRequest,
  WriteOptions,
} from './client.js';
export type { WatchOptions } from './watch.js';
export type { ClientErrorCode, EndpointFailure } from './errors.js';
export type * from './types.js';
