// The writes of one command, all at one new revision. Each change of a key gets the next `sub`
// within the revision, and a row in the change log next to its row in kv_keys.
//
// Invariant: the revision advances (revisionAfter() = base + 1) iff at least one key changed;
// a command that changes nothing (delete of a missing key, a read-only txn) keeps the revision,
// as in etcd.

import type { DeleteOp, DeleteRangeOp, PutOp, WriteOp } from './commands.js';
import { keyBytes, rangeBounds } from './keys.js';
import { readKeyRow, scanRows, toKeyValue } from './reads.js';
import type { KeyRow, Statements } from './statements.js';
import type { DeleteResponse, KeyValue, PutResponse } from './types.js';

export class RevisionWriter {
  /** The revision every change of this command gets. */
  private readonly rev: number;
  private sub = 0;

  constructor(
    private readonly s: Statements,
    /** The store's revision before the command. */
    private readonly base: number,
  ) {
    this.rev = base + 1;
  }

  revisionAfter(): number {
    return this.sub > 0 ? this.rev : this.base;
  }

  write(op: WriteOp): PutResponse | DeleteResponse {
    switch (op.type) {
      case 'put':
        return this.put(op);
      case 'delete':
        return this.delete(op);
      case 'deleteRange':
        return this.deleteRange(op);
    }
  }

  /** A put keeps the key's createRevision, sets modRevision to this revision, bumps version. */
  put(op: PutOp): PutResponse {
    const key = keyBytes(op.key);
    const prev = this.s.getKey.get(key);
    const createRev = prev === undefined ? this.rev : prev.create_rev;
    const version = prev === undefined ? 1 : prev.version + 1;
    const lease = op.leaseId ?? null;
    this.s.upsertKey.run(key, op.value, createRev, this.rev, version, lease);
    this.s.insertChange.run(
      this.rev,
      this.sub++,
      key,
      'put',
      op.value,
      createRev,
      version,
      lease,
      ...prevColumns(prev),
    );
    return op.prevKv === true && prev !== undefined
      ? { type: 'put', prevKv: toKeyValue(prev) }
      : { type: 'put' };
  }

  delete(op: DeleteOp): DeleteResponse {
    const prev = readKeyRow(this.s, op.key);
    return this.deleteRows(prev === undefined ? [] : [prev], op.prevKv === true);
  }

  deleteRange(op: DeleteRangeOp): DeleteResponse {
    const bounds = rangeBounds({ prefix: op.prefix });
    const rows = bounds === undefined ? [] : scanRows(this.s, bounds, -1);
    return this.deleteRows(rows, op.prevKv === true);
  }

  /** Deletes these keys (a lease's), without their previous pairs in the answer. */
  deleteKeys(rows: readonly KeyRow[]): number {
    return this.deleteRows(rows, false).deleted;
  }

  /** Deletes the rows (in key order); the key's version and createRevision reset to 0. */
  private deleteRows(rows: readonly KeyRow[], wantPrev: boolean): DeleteResponse {
    const prevKvs: KeyValue[] = [];
    for (const row of rows) {
      this.s.deleteKey.run(row.key);
      this.s.insertChange.run(this.rev, this.sub++, row.key, 'delete', null, 0, 0, null, ...prevColumns(row));
      if (wantPrev) prevKvs.push(toKeyValue(row));
    }
    return wantPrev
      ? { type: 'delete', deleted: rows.length, prevKvs }
      : { type: 'delete', deleted: rows.length };
  }
}

type PrevColumns = [string | null, number | null, number | null, number | null, number | null];

function prevColumns(prev: KeyRow | undefined): PrevColumns {
  return prev === undefined
    ? [null, null, null, null, null]
    : [prev.value, prev.create_rev, prev.mod_rev, prev.version, prev.lease];
}
