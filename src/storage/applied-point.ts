// A light public entry of the storage layer (it loads no Raft code): what a thread with its own
// connection to a node's database file reads to describe the state it sees as a Raft snapshot.

import type Database from 'better-sqlite3';

/** The Raft position the state machine's tables are at (written in the same transactions). */
export interface AppliedPoint {
  readonly index: number;
  readonly term: number;
  /** The membership as of `index`, as stored (JSON of a ConfState). */
  readonly confJson: string;
}

/** Reads the applied point; inside a read transaction, it matches the kv tables read in it. */
export function readAppliedPoint(db: Database.Database): AppliedPoint {
  const row = db
    .prepare<[], { index: number; term: number; confJson: string }>(
      'SELECT applied_index AS "index", applied_term AS term, applied_conf AS confJson FROM raft_state WHERE id = 1',
    )
    .get();
  if (row === undefined) throw new Error('the database has no raft state');
  return row;
}
