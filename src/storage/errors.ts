/** Stable codes for a data directory the node must refuse to start on. */
export type StorageErrorCode =
  /** The data file belongs to a cluster with another name. */
  | 'DATA_DIR_OTHER_CLUSTER'
  /** The data file belongs to another node name. */
  | 'DATA_DIR_OTHER_NODE'
  /** The data file was written by a newer Conclave (its schema version is unknown here). */
  | 'SCHEMA_TOO_NEW'
  /** The file is not a valid Conclave database, or fails SQLite's integrity check. */
  | 'DATA_CORRUPT'
  /** A restore was asked into a data directory that already has a database. */
  | 'DATA_DIR_NOT_EMPTY'
  /** The data directory cannot be created, read or written. */
  | 'DATA_DIR_UNUSABLE';

export class StorageError extends Error {
  override readonly name = 'StorageError';
  readonly code: StorageErrorCode;
  /** The file or directory at fault. */
  readonly path: string;

  constructor(code: StorageErrorCode, path: string, message: string, options?: { cause?: unknown }) {
    super(`${path}: ${message}`, options);
    this.code = code;
    this.path = path;
  }
}
