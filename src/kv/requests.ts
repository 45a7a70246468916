// Exactly-once: the first result of each command that carried a request id, kept for a bounded
// window. The window is measured in raft indexes and in count only (never in wall-clock time),
// so every node prunes the same ids at the same entry and the table stays identical everywhere.

import type { Meta } from './meta.js';
import type { Statements } from './statements.js';
import type { ApplyResult } from './types.js';

export interface RequestRetention {
  /** Keep at most this many ids: the most recently applied. */
  readonly maxRequestIds: number;
  /** Keep only ids applied at an index > (current index - retentionEntries). */
  readonly retentionEntries: number;
}

/** The stored first result for `requestId`, if it is still remembered. */
export function lookupRequest(s: Statements, requestId: string): ApplyResult | undefined {
  const json = s.getRequestResult.get(requestId);
  // Our own JSON.stringify of an ApplyResult (results contain no undefined values).
  return json === undefined ? undefined : (JSON.parse(json) as ApplyResult);
}

/** Drops ids that fell out of the index window as of entry `index`. */
export function pruneByIndex(s: Statements, meta: Meta, index: number, retention: RequestRetention): void {
  const cutoff = index - retention.retentionEntries;
  if (cutoff <= 0 || meta.request_count === 0) return;
  meta.request_count -= s.pruneRequestsUpTo.run(cutoff).changes;
}

/** Remembers the result of entry `index`, then drops the oldest ids beyond the count bound. */
export function recordRequest(
  s: Statements,
  meta: Meta,
  requestId: string,
  index: number,
  result: ApplyResult,
  retention: RequestRetention,
): void {
  s.insertRequest.run(requestId, index, JSON.stringify(result));
  meta.request_count += 1;
  const excess = meta.request_count - retention.maxRequestIds;
  if (excess > 0) meta.request_count -= s.pruneOldestRequests.run(excess).changes;
}
