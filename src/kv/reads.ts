// Reads of the live keys, shared by the public read API and by txn get/range operations (which
// run inside apply and see the writes made before them in the same txn branch).

import { keyBytes, rangeBounds, type ByteBounds } from './keys.js';
import type { KeyRow, Statements } from './statements.js';
import type { KeyValue, RangeOptions } from './types.js';

export function toKeyValue(row: KeyRow): KeyValue {
  return {
    key: row.key.toString('utf8'),
    value: row.value,
    createRevision: row.create_rev,
    modRevision: row.mod_rev,
    version: row.version,
    lease: row.lease,
  };
}

export function readKeyRow(s: Statements, key: string): KeyRow | undefined {
  return s.getKey.get(keyBytes(key));
}

export function readKey(s: Statements, key: string): KeyValue | undefined {
  const row = readKeyRow(s, key);
  return row === undefined ? undefined : toKeyValue(row);
}

/** Rows in the bounds in key order; a negative limit means none. */
export function scanRows(s: Statements, bounds: ByteBounds, limit: number, keysOnly = false): KeyRow[] {
  const stmts = keysOnly ? s.rangeKeysOnly : s.range;
  return bounds.hi === undefined
    ? stmts.open.all(bounds.lo, limit)
    : stmts.closed.all(bounds.lo, bounds.hi, limit);
}

function countRows(s: Statements, bounds: ByteBounds): number {
  return (
    (bounds.hi === undefined ? s.countOpen.get(bounds.lo) : s.countClosed.get(bounds.lo, bounds.hi)) ?? 0
  );
}

export interface RangeAnswer {
  readonly kvs: readonly KeyValue[];
  readonly more: boolean;
  readonly count: number;
}

/** A range read of validated options. Counts with a second query only when the limit cut it short. */
export function readRange(s: Statements, opts: RangeOptions): RangeAnswer {
  const bounds = rangeBounds(opts);
  if (bounds === undefined) return { kvs: [], more: false, count: 0 };
  if (opts.countOnly === true) return { kvs: [], more: false, count: countRows(s, bounds) };
  const limit = opts.limit;
  const rows = scanRows(s, bounds, limit === undefined ? -1 : limit + 1, opts.keysOnly === true);
  if (limit === undefined || rows.length <= limit) {
    return { kvs: rows.map(toKeyValue), more: false, count: rows.length };
  }
  return { kvs: rows.slice(0, limit).map(toKeyValue), more: true, count: countRows(s, bounds) };
}
