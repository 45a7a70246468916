// The one error type of the key-value state machine, with stable codes for programmatic handling.

/** Stable codes (the messages may change; the codes do not). */
export type KvErrorCode =
  /** A key (or range bound) is longer than MAX_KEY_BYTES in UTF-8. */
  | 'KEY_TOO_LARGE'
  /** A value is longer than MAX_VALUE_BYTES in UTF-8. */
  | 'VALUE_TOO_LARGE'
  /** A command's bytes cannot be decoded (wrong format tag, bad UTF-8 or JSON, wrong shape). */
  | 'BAD_COMMAND'
  /**
   * A decodable request with an argument out of range: empty key, ill-formed UTF-16 string,
   * bad limit, prefix together with start/end, a key written twice in one txn branch...
   */
  | 'INVALID_ARGUMENT'
  /** The requested revision is at or below the compacted revision: its changes are gone. */
  | 'COMPACTED'
  /** The requested revision is above the store's current revision. */
  | 'FUTURE_REVISION'
  /** No lease with that id (never granted, revoked or expired). */
  | 'LEASE_NOT_FOUND'
  /** A lease with the requested id exists already. */
  | 'LEASE_EXISTS'
  /** Snapshot bytes are truncated, corrupted or of an unknown format. */
  | 'CORRUPT_SNAPSHOT'
  /** The caller broke a precondition (no open transaction, apply indexes not increasing...). */
  | 'PRECONDITION_FAILED';

/** The plain-data form of a KvError, as carried in an apply result. */
export interface KvErrorInfo {
  readonly code: KvErrorCode;
  readonly message: string;
}

export class KvError extends Error {
  override readonly name = 'KvError';
  readonly code: KvErrorCode;

  constructor(code: KvErrorCode, message: string) {
    super(message);
    this.code = code;
  }

  toInfo(): KvErrorInfo {
    return { code: this.code, message: this.message };
  }
}
