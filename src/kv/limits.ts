// Size limits. They are part of the replicated semantics: every node of a cluster must run with
// the same values, or the same command could succeed on one node and fail on another.

/** Longest key, in UTF-8 bytes. Keys are also never empty. */
export const MAX_KEY_BYTES = 4096;

/** Longest value, in UTF-8 bytes. */
export const MAX_VALUE_BYTES = 1024 * 1024;

/** Longest request id, in UTF-8 bytes. */
export const MAX_REQUEST_ID_BYTES = 256;

/**
 * What the HTTP API takes as `x-request-id` (and so as a write's exactly-once key); a node
 * replaces any other id with a fresh one. Clients check theirs against it before sending.
 */
export const REQUEST_ID_PATTERN = /^[\w.:@-]{1,128}$/;

/** Most compares, and most operations per branch, in one txn (etcd's default --max-txn-ops). */
export const MAX_TXN_OPS = 128;

/** Request ids remembered for exactly-once: at most this many (the most recent by raft index)... */
export const DEFAULT_MAX_REQUEST_IDS = 100_000;

/** ...and only those applied within this many raft entries of the latest one. */
export const DEFAULT_REQUEST_RETENTION_ENTRIES = 1_000_000;

/** Longest lease TTL, in seconds (one year). */
export const MAX_LEASE_TTL_SECONDS = 365 * 24 * 3600;
