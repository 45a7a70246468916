// Every SQL statement of the store, prepared once per KvStore. Row types mirror schema.ts.

import type Database from 'better-sqlite3';

export interface MetaRow {
  revision: number;
  compacted_revision: number;
  last_index: number;
  request_count: number;
}

export interface KeyRow {
  key: Buffer;
  value: string;
  create_rev: number;
  mod_rev: number;
  version: number;
  lease: number | null;
}

export interface LeaseRow {
  id: number;
  ttl: number;
}

export interface LeaseListRow extends LeaseRow {
  keys: number;
}

export interface ActivityRow {
  seq: number;
  revision: number;
  member: string;
  kind: 'join' | 'leave' | 'expire' | 'remove';
  reason: string;
}

export interface ChangeRow {
  rev: number;
  sub: number;
  key: Buffer;
  kind: 'put' | 'delete';
  /** NULL for a delete. */
  value: string | null;
  create_rev: number;
  version: number;
  lease: number | null;
  /** All NULL when the key did not exist before the change. */
  prev_value: string | null;
  prev_create_rev: number | null;
  prev_mod_rev: number | null;
  prev_version: number | null;
  prev_lease: number | null;
}

// Snapshot dump rows carry each row's text and blob columns as ONE byte string (the columns'
// UTF-8 bytes concatenated in SQL) plus the lengths to split it at: one Buffer per row instead of
// two or three, since materializing row values is most of the cost of a dump.

/** A kv_keys row for a dump: key bytes then value bytes, split at keyBytes. */
export type KeyDumpRow = [
  keyBytes: number,
  keyValue: Buffer,
  createRev: number,
  modRev: number,
  version: number,
  lease: number | null,
];

/** A kv_changes row for a dump: key, value (null for a delete), prev value (null if none). */
export type ChangeDumpRow = [
  rev: number,
  sub: number,
  kind: 'put' | 'delete',
  keyBytes: number,
  valueBytes: number | null,
  keyValuePrev: Buffer,
  createRev: number,
  version: number,
  lease: number | null,
  prevCreateRev: number | null,
  prevModRev: number | null,
  prevVersion: number | null,
  prevLease: number | null,
];

/** A kv_requests row for a dump: request id bytes then result bytes, split at idBytes. */
export type RequestDumpRow = [idBytes: number, idResult: Buffer, idx: number];

/** kv_keys columns for a restore, text as UTF-8 bytes (cast to TEXT in SQL). */
export type KeyRecord = [
  key: Buffer,
  value: Buffer,
  createRev: number,
  modRev: number,
  version: number,
  lease: number | null,
];

/** kv_changes columns for a restore, text as UTF-8 bytes. */
export type ChangeRecord = [
  rev: number,
  sub: number,
  key: Buffer,
  kind: 'put' | 'delete',
  value: Buffer | null,
  createRev: number,
  version: number,
  lease: number | null,
  prevValue: Buffer | null,
  prevCreateRev: number | null,
  prevModRev: number | null,
  prevVersion: number | null,
  prevLease: number | null,
];

/** kv_requests columns for a restore, text as UTF-8 bytes. */
export type RequestRecord = [requestId: Buffer, idx: number, result: Buffer];

/** Positional parameters of upsertKey, in column order. */
export type KeyTuple = [
  key: Buffer,
  value: string,
  createRev: number,
  modRev: number,
  version: number,
  lease: number | null,
];

/** Positional parameters of insertChange, in column order. */
export type ChangeTuple = [
  rev: number,
  sub: number,
  key: Buffer,
  kind: 'put' | 'delete',
  value: string | null,
  createRev: number,
  version: number,
  lease: number | null,
  prevValue: string | null,
  prevCreateRev: number | null,
  prevModRev: number | null,
  prevVersion: number | null,
  prevLease: number | null,
];

const KEY_COLUMNS = 'key, value, create_rev, mod_rev, version, lease';
const KEY_ONLY_COLUMNS = "key, '' AS value, create_rev, mod_rev, version, lease";
const CHANGE_COLUMNS =
  'rev, sub, key, kind, value, create_rev, version, lease, prev_value, prev_create_rev, prev_mod_rev, prev_version, prev_lease';

/** Range scans come in variants, so that SQLite sees plain `key >= ? AND key < ?` index bounds. */
interface RangeStatements {
  /** (lo, limit): key >= lo. A negative limit means none. */
  readonly open: Database.Statement<[Buffer, number], KeyRow>;
  /** (lo, hi, limit): lo <= key < hi. */
  readonly closed: Database.Statement<[Buffer, Buffer, number], KeyRow>;
}

export interface Statements extends RestoreStatements {
  readonly getMeta: Database.Statement<[], MetaRow>;
  readonly setMeta: Database.Statement<
    [revision: number, compacted: number, lastIndex: number, requestCount: number]
  >;

  readonly getKey: Database.Statement<[Buffer], KeyRow>;
  readonly upsertKey: Database.Statement<KeyTuple>;
  readonly deleteKey: Database.Statement<[Buffer]>;
  readonly range: RangeStatements;
  readonly rangeKeysOnly: RangeStatements;
  readonly countOpen: Database.Statement<[Buffer], number>;
  readonly countClosed: Database.Statement<[Buffer, Buffer], number>;

  readonly insertChange: Database.Statement<ChangeTuple>;
  /** (rev, sub, limit): changes at or after (rev, sub), in order. */
  readonly changesFrom: Database.Statement<[number, number, number], ChangeRow>;
  readonly deleteChangesUpTo: Database.Statement<[number]>;

  readonly getLease: Database.Statement<[number], LeaseRow>;
  readonly maxLeaseId: Database.Statement<[], number>;
  readonly insertLease: Database.Statement<[id: number, ttl: number]>;
  readonly deleteLease: Database.Statement<[number]>;
  /** (after id, limit): leases with their key counts, by id. */
  readonly listLeases: Database.Statement<[number, number], LeaseListRow>;
  readonly keysWithLease: Database.Statement<[number], KeyRow>;
  /** Keys whose lease does not exist (0 in a consistent store). */
  readonly countOrphanLeaseKeys: Database.Statement<[], number>;

  readonly insertActivity: Database.Statement<
    [revision: number, member: string, kind: string, reason: string]
  >;
  readonly trimActivity: Database.Statement<[keep: number]>;
  readonly listActivity: Database.Statement<[], ActivityRow>;
  readonly clearActivity: Database.Statement<[]>;

  readonly getRequestResult: Database.Statement<[string], string>;
  readonly insertRequest: Database.Statement<[requestId: string, idx: number, result: string]>;
  readonly pruneRequestsUpTo: Database.Statement<[idx: number]>;
  readonly pruneOldestRequests: Database.Statement<[count: number]>;

  // Snapshots move text columns as UTF-8 bytes (CAST to/from BLOB in SQL), so that a snapshot
  // never decodes or re-encodes a value in JavaScript.
  readonly dumpKeys: Database.Statement<[], KeyDumpRow>;
  readonly dumpChanges: Database.Statement<[], ChangeDumpRow>;
  readonly dumpRequests: Database.Statement<[], RequestDumpRow>;
  readonly dumpLeases: Database.Statement<[], [id: number, ttl: number]>;
  readonly clearKeys: Database.Statement<[]>;
  readonly clearChanges: Database.Statement<[]>;
  readonly clearRequests: Database.Statement<[]>;
  readonly clearLeases: Database.Statement<[]>;
}

export function prepareStatements(db: Database.Database): Statements {
  const rangeOf = (columns: string): RangeStatements => ({
    open: db.prepare(`SELECT ${columns} FROM kv_keys WHERE key >= ? ORDER BY key LIMIT ?`),
    closed: db.prepare(`SELECT ${columns} FROM kv_keys WHERE key >= ? AND key < ? ORDER BY key LIMIT ?`),
  });
  return {
    ...prepareRestoreStatements(db, 'main'),
    getMeta: db.prepare(
      'SELECT revision, compacted_revision, last_index, request_count FROM kv_meta WHERE id = 1',
    ),
    setMeta: db.prepare(
      'UPDATE kv_meta SET revision = ?, compacted_revision = ?, last_index = ?, request_count = ? WHERE id = 1',
    ),

    getKey: db.prepare(`SELECT ${KEY_COLUMNS} FROM kv_keys WHERE key = ?`),
    upsertKey: db.prepare(
      `INSERT INTO kv_keys (${KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, create_rev = excluded.create_rev,
         mod_rev = excluded.mod_rev, version = excluded.version, lease = excluded.lease`,
    ),
    deleteKey: db.prepare('DELETE FROM kv_keys WHERE key = ?'),
    range: rangeOf(KEY_COLUMNS),
    rangeKeysOnly: rangeOf(KEY_ONLY_COLUMNS),
    countOpen: db.prepare<[Buffer], number>('SELECT COUNT(*) FROM kv_keys WHERE key >= ?').pluck(),
    countClosed: db
      .prepare<[Buffer, Buffer], number>('SELECT COUNT(*) FROM kv_keys WHERE key >= ? AND key < ?')
      .pluck(),

    insertChange: db.prepare(
      `INSERT INTO kv_changes (${CHANGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    changesFrom: db.prepare(
      `SELECT ${CHANGE_COLUMNS} FROM kv_changes WHERE (rev, sub) >= (?, ?) ORDER BY rev, sub LIMIT ?`,
    ),
    deleteChangesUpTo: db.prepare('DELETE FROM kv_changes WHERE rev <= ?'),

    getLease: db.prepare('SELECT id, ttl FROM kv_leases WHERE id = ?'),
    maxLeaseId: db.prepare<[], number>('SELECT ifnull(max(id), 0) FROM kv_leases').pluck(),
    insertLease: db.prepare('INSERT INTO kv_leases (id, ttl) VALUES (?, ?)'),
    deleteLease: db.prepare('DELETE FROM kv_leases WHERE id = ?'),
    listLeases: db.prepare(
      `SELECT id, ttl, (SELECT count(*) FROM kv_keys WHERE lease = kv_leases.id) AS keys
       FROM kv_leases WHERE id > ? ORDER BY id LIMIT ?`,
    ),
    keysWithLease: db.prepare(`SELECT ${KEY_COLUMNS} FROM kv_keys WHERE lease = ? ORDER BY key`),
    countOrphanLeaseKeys: db
      .prepare<[], number>(
        'SELECT count(*) FROM kv_keys WHERE lease IS NOT NULL AND lease NOT IN (SELECT id FROM kv_leases)',
      )
      .pluck(),

    insertActivity: db.prepare(
      'INSERT INTO kv_activity (seq, revision, member, kind, reason) VALUES ((SELECT ifnull(max(seq), 0) + 1 FROM kv_activity), ?, ?, ?, ?)',
    ),
    trimActivity: db.prepare(
      'DELETE FROM kv_activity WHERE seq <= (SELECT ifnull(max(seq), 0) FROM kv_activity) - ?',
    ),
    listActivity: db.prepare('SELECT seq, revision, member, kind, reason FROM kv_activity ORDER BY seq'),
    clearActivity: db.prepare('DELETE FROM kv_activity'),

    getRequestResult: db
      .prepare<[string], string>('SELECT result FROM kv_requests WHERE request_id = ?')
      .pluck(),
    insertRequest: db.prepare('INSERT INTO kv_requests (request_id, idx, result) VALUES (?, ?, ?)'),
    pruneRequestsUpTo: db.prepare('DELETE FROM kv_requests WHERE idx <= ?'),
    pruneOldestRequests: db.prepare(
      'DELETE FROM kv_requests WHERE idx IN (SELECT idx FROM kv_requests ORDER BY idx LIMIT ?)',
    ),

    dumpKeys: db
      .prepare<[], KeyDumpRow>(
        `SELECT length(key), CAST(key || value AS BLOB), create_rev, mod_rev, version, lease
         FROM kv_keys ORDER BY key`,
      )
      .raw(),
    dumpChanges: db
      .prepare<[], ChangeDumpRow>(
        `SELECT rev, sub, kind, length(key), length(CAST(value AS BLOB)),
           CAST(key || ifnull(value, '') || ifnull(prev_value, '') AS BLOB), create_rev, version, lease,
           prev_create_rev, prev_mod_rev, prev_version, prev_lease
         FROM kv_changes ORDER BY rev, sub`,
      )
      .raw(),
    dumpRequests: db
      .prepare<[], RequestDumpRow>(
        'SELECT length(CAST(request_id AS BLOB)), CAST(request_id || result AS BLOB), idx FROM kv_requests ORDER BY idx',
      )
      .raw(),
    dumpLeases: db.prepare<[], [number, number]>('SELECT id, ttl FROM kv_leases ORDER BY id').raw(),
    clearKeys: db.prepare('DELETE FROM kv_keys'),
    clearChanges: db.prepare('DELETE FROM kv_changes'),
    clearRequests: db.prepare('DELETE FROM kv_requests'),
    clearLeases: db.prepare('DELETE FROM kv_leases'),
  };
}

/**
 * Rows per multi-row INSERT of a restore: one statement call per batch rather than per row
 * (100,000 keys of 256 bytes: about 300 → 190 ms). 64 × 13 change columns stays far below
 * SQLite's limit of 32,766 parameters.
 */
export const RESTORE_BATCH_ROWS = 64;

/** The inserts a snapshot restore makes; `*Batch` take RESTORE_BATCH_ROWS rows, flattened. */
export interface RestoreStatements {
  readonly restoreKey: Database.Statement<KeyRecord>;
  readonly restoreKeyBatch: Database.Statement;
  readonly restoreChange: Database.Statement<ChangeRecord>;
  readonly restoreChangeBatch: Database.Statement;
  readonly restoreRequest: Database.Statement<RequestRecord>;
  readonly restoreLease: Database.Statement<[id: number, ttl: number]>;
  readonly restoreActivity: Database.Statement<[number, number, string, string, string]>;
}

/** Restore inserts into the kv tables of `schema` (`main`, or an attached staging database). */
export function prepareRestoreStatements(db: Database.Database, schema: string): RestoreStatements {
  const keyRow = '(?, CAST(? AS TEXT), ?, ?, ?, ?)';
  const changeRow = '(?, ?, ?, ?, CAST(? AS TEXT), ?, ?, ?, CAST(? AS TEXT), ?, ?, ?, ?)';
  const rows = (row: string, n: number): string => Array<string>(n).fill(row).join(', ');
  return {
    restoreKey: db.prepare(`INSERT INTO ${schema}.kv_keys (${KEY_COLUMNS}) VALUES ${keyRow}`),
    restoreKeyBatch: db.prepare(
      `INSERT INTO ${schema}.kv_keys (${KEY_COLUMNS}) VALUES ${rows(keyRow, RESTORE_BATCH_ROWS)}`,
    ),
    restoreChange: db.prepare(`INSERT INTO ${schema}.kv_changes (${CHANGE_COLUMNS}) VALUES ${changeRow}`),
    restoreChangeBatch: db.prepare(
      `INSERT INTO ${schema}.kv_changes (${CHANGE_COLUMNS}) VALUES ${rows(changeRow, RESTORE_BATCH_ROWS)}`,
    ),
    restoreRequest: db.prepare(
      `INSERT INTO ${schema}.kv_requests (request_id, idx, result) VALUES (CAST(? AS TEXT), ?, CAST(? AS TEXT))`,
    ),
    restoreLease: db.prepare(`INSERT INTO ${schema}.kv_leases (id, ttl) VALUES (?, ?)`),
    restoreActivity: db.prepare(
      `INSERT INTO ${schema}.kv_activity (seq, revision, member, kind, reason) VALUES (?, ?, ?, ?, ?)`,
    ),
  };
}
