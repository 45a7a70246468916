// A public entry of the kv package besides index.ts, for threads that only write snapshots: it
// loads the snapshot writer and the statements, not the command validation (zod).
//
// Streams a store's snapshot from a connection of its own: the read transaction pins one
// consistent state (SQLite WAL) while the store's writer goes on committing, so a worker thread
// can produce a large snapshot without stalling the node that applies Raft entries.

import type Database from 'better-sqlite3';
import { readMeta } from './meta.js';
import { streamSnapshot, type SnapshotTotals } from './snapshot.js';
import { prepareStatements } from './statements.js';

export interface SnapshotHead {
  readonly revision: number;
  /** Keys in the snapshot. */
  readonly keys: number;
}

/**
 * Writes the snapshot of the kv tables that `db` (a read-only connection to a store's file is
 * enough) sees at the start of its read transaction: `head` first, then the bytes in chunks;
 * returns their size and SHA-256.
 */
export function streamSnapshotOf(
  db: Database.Database,
  history: boolean,
  head: (head: SnapshotHead) => void,
  emit: (chunk: Buffer) => void,
): SnapshotTotals {
  const s = prepareStatements(db);
  return db
    .transaction(() => {
      const meta = readMeta(s);
      head({ revision: meta.revision, keys: s.countOpen.get(Buffer.alloc(0)) ?? 0 });
      return streamSnapshot(s, meta, history, emit);
    })
    .deferred();
}
