// The key-value tables, all prefixed kv_, living in the node's one SQLite file next to the Raft
// log. Created if absent; a file written by a different schema version is refused.

import type Database from 'better-sqlite3';
import { KvError } from './errors.js';

export const KV_SCHEMA_VERSION = 1;

/**
 * kv_keys: the live keys. Keys are UTF-8 BLOBs so the primary key orders them by bytes.
 * kv_changes: the change log by (revision, sub), for watches; a put stores the new pair, a
 *   delete only the key; both store the previous pair (prev_* all NULL if the key was absent).
 *   A change's mod revision is its `rev`, so it is not stored again.
 * kv_requests: exactly-once table, one row per applied command that carried a request id, keyed
 *   by its raft index (the rowid: appends, pruning and snapshots scan it in order), with a
 *   unique index on the request id for lookups.
 * kv_leases: the granted leases (id, TTL in seconds). Expiry is not stored: the leader tracks it in
 *   memory and revokes through the log. Every kv_keys.lease is NULL or a kv_leases.id.
 * kv_activity: the last ACTIVITY_KEEP joins, leaves, expiries and removals of member records
 *   (keys under _conclave/members/), by sequence number.
 * kv_meta: one row. Invariants: every kv_keys.mod_rev and kv_changes.rev <= revision;
 *   every kv_changes.rev > compacted_revision; request_count = COUNT(*) of kv_requests;
 *   every kv_requests.idx <= last_index.
 */
const DDL = `
CREATE TABLE IF NOT EXISTS kv_meta (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  schema_version INTEGER NOT NULL,
  revision INTEGER NOT NULL,
  compacted_revision INTEGER NOT NULL,
  last_index INTEGER NOT NULL,
  request_count INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS kv_keys (
  key BLOB NOT NULL PRIMARY KEY,
  value TEXT NOT NULL,
  create_rev INTEGER NOT NULL,
  mod_rev INTEGER NOT NULL,
  version INTEGER NOT NULL,
  lease INTEGER
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS kv_changes (
  rev INTEGER NOT NULL,
  sub INTEGER NOT NULL,
  key BLOB NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('put', 'delete')),
  value TEXT,
  create_rev INTEGER NOT NULL,
  version INTEGER NOT NULL,
  lease INTEGER,
  prev_value TEXT,
  prev_create_rev INTEGER,
  prev_mod_rev INTEGER,
  prev_version INTEGER,
  prev_lease INTEGER,
  PRIMARY KEY (rev, sub)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS kv_leases (
  id INTEGER PRIMARY KEY,
  ttl INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS kv_keys_by_lease ON kv_keys (lease) WHERE lease IS NOT NULL;
CREATE TABLE IF NOT EXISTS kv_activity (
  seq INTEGER PRIMARY KEY,
  revision INTEGER NOT NULL,
  member TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('join', 'leave', 'expire', 'remove')),
  reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS kv_requests (
  idx INTEGER PRIMARY KEY,
  request_id TEXT NOT NULL UNIQUE,
  result TEXT NOT NULL
);
INSERT OR IGNORE INTO kv_meta (id, schema_version, revision, compacted_revision, last_index, request_count)
  VALUES (1, ${KV_SCHEMA_VERSION}, 0, 0, 0, 0);
`;

/** Creates the tables if absent (atomically) and checks the schema version. */
export function ensureSchema(db: Database.Database): void {
  db.transaction(() => {
    db.exec(DDL);
  })();
  const row = db
    .prepare<[], { schema_version: number }>('SELECT schema_version FROM kv_meta WHERE id = 1')
    .get();
  if (row?.schema_version !== KV_SCHEMA_VERSION) {
    throw new KvError(
      'PRECONDITION_FAILED',
      `kv tables have schema version ${row?.schema_version ?? 'none'}; this code reads version ${KV_SCHEMA_VERSION}`,
    );
  }
}
