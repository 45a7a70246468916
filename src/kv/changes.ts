// The change log: reading it from a revision on, and compacting it.

import { KvError } from './errors.js';
import type { Meta } from './meta.js';
import type { ChangeRow, Statements } from './statements.js';
import type { ChangeEvent, ChangesResult, KeyValue } from './types.js';

function toChangeEvent(row: ChangeRow): ChangeEvent {
  const key = row.key.toString('utf8');
  const kv: KeyValue =
    row.kind === 'put'
      ? {
          key,
          value: row.value ?? '',
          createRevision: row.create_rev,
          modRevision: row.rev,
          version: row.version,
          lease: row.lease,
        }
      : { key, value: '', createRevision: 0, modRevision: row.rev, version: 0, lease: null };
  const base = { revision: row.rev, sub: row.sub, type: row.kind, kv };
  if (row.prev_version === null) return base;
  const prevKv: KeyValue = {
    key,
    value: row.prev_value ?? '',
    createRevision: row.prev_create_rev ?? 0,
    modRevision: row.prev_mod_rev ?? 0,
    version: row.prev_version,
    lease: row.prev_lease,
  };
  return { ...base, prevKv };
}

function checkInteger(n: number, min: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < min) {
    throw new KvError('INVALID_ARGUMENT', `${what} must be an integer >= ${min}, got ${n}`);
  }
}

/**
 * Up to `limit` changes at or after (fromRevision, fromSub). Compacted when fromRevision is at
 * or below the compacted revision (some of the asked-for changes are gone).
 */
export function readChanges(
  s: Statements,
  meta: Meta,
  fromRevision: number,
  limit: number,
  fromSub: number,
): ChangesResult {
  checkInteger(fromRevision, 0, 'fromRevision');
  checkInteger(limit, 1, 'limit');
  checkInteger(fromSub, 0, 'fromSub');
  if (meta.compacted_revision > 0 && fromRevision <= meta.compacted_revision) {
    return {
      compacted: true,
      oldest: meta.compacted_revision + 1,
      compactedRevision: meta.compacted_revision,
    };
  }
  const rows = s.changesFrom.all(fromRevision, fromSub, limit + 1);
  const more = rows.length > limit;
  const events = (more ? rows.slice(0, limit) : rows).map(toChangeEvent);
  return { compacted: false, events, more, revision: meta.revision };
}

/** Throws KvError unless the log can be compacted up to `upto` (etcd's rules). */
export function checkCompaction(meta: Meta, upto: number): void {
  checkInteger(upto, 0, 'compaction revision');
  if (upto > meta.revision) {
    throw new KvError(
      'FUTURE_REVISION',
      `cannot compact to revision ${upto}: the store is at revision ${meta.revision}`,
    );
  }
  if (upto <= meta.compacted_revision) {
    throw new KvError(
      'COMPACTED',
      `revision ${upto} is already compacted (compacted revision ${meta.compacted_revision})`,
    );
  }
}

/** Drops every change with revision <= upto. Call after checkCompaction. */
export function compactLog(s: Statements, meta: Meta, upto: number): void {
  s.deleteChangesUpTo.run(upto);
  meta.compacted_revision = upto;
}
