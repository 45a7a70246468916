// The store's one row of bookkeeping, read at the start of a write and written back at its end.

import type { MetaRow, Statements } from './statements.js';

export type Meta = MetaRow;

export function readMeta(s: Statements): Meta {
  const row = s.getMeta.get();
  // ensureSchema inserts the row; it can only be missing if someone deleted it behind our back.
  if (row === undefined) throw new Error('kv_meta row is missing');
  return { ...row };
}

export function writeMeta(s: Statements, meta: Meta): void {
  s.setMeta.run(meta.revision, meta.compacted_revision, meta.last_index, meta.request_count);
}
