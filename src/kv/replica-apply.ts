// Applying another store's change events, in order, to a replica (a secondary's in-memory copy):
// the keys and the change log end up as the source's were at the same revision.

import { KvError } from './errors.js';
import { keyBytes } from './keys.js';
import type { Meta } from './meta.js';
import type { Statements } from './statements.js';
import type { ChangeEvent } from './types.js';

/** Where the last applied event left the replica: (revision, sub) of that event. */
export interface ReplicaPosition {
  revision: number;
  sub: number;
}

/**
 * Writes each event's effect and its change-log row. Events must continue the log exactly: the
 * next revision's first change, or the next change of the last revision applied. Throws KvError
 * PRECONDITION_FAILED otherwise (a gap or a repeat: the caller resynchronizes).
 */
export function applyChangeEvents(
  s: Statements,
  meta: Meta,
  position: ReplicaPosition,
  events: readonly ChangeEvent[],
): void {
  for (const e of events) {
    // Revisions are consecutive and so are the subs within one: anything else is a gap.
    const continues =
      (e.revision === meta.revision + 1 && e.sub === 0) ||
      (e.revision === position.revision && e.revision === meta.revision && e.sub === position.sub + 1);
    if (!continues) {
      throw new KvError(
        'PRECONDITION_FAILED',
        `change ${e.revision}:${e.sub} does not continue the replica at ${position.revision}:${position.sub}`,
      );
    }
    const key = keyBytes(e.kv.key);
    const prev = e.prevKv;
    const prevColumns: [string | null, number | null, number | null, number | null, number | null] =
      prev === undefined
        ? [null, null, null, null, null]
        : [prev.value, prev.createRevision, prev.modRevision, prev.version, prev.lease];
    if (e.type === 'put') {
      s.upsertKey.run(key, e.kv.value, e.kv.createRevision, e.revision, e.kv.version, e.kv.lease);
      s.insertChange.run(
        e.revision,
        e.sub,
        key,
        'put',
        e.kv.value,
        e.kv.createRevision,
        e.kv.version,
        e.kv.lease,
        ...prevColumns,
      );
    } else {
      s.deleteKey.run(key);
      s.insertChange.run(e.revision, e.sub, key, 'delete', null, 0, 0, null, ...prevColumns);
    }
    meta.revision = Math.max(meta.revision, e.revision);
    position.revision = e.revision;
    position.sub = e.sub;
  }
}
