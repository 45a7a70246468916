// The simulator's copy of one node's log, as the node last reported it: everything persisted
// plus what its latest Ready handed out for persisting. Because a Ready hands out every entry
// not handed out before, right after ready() this equals the node's whole log.

import type { Entry, MemoryStorage } from '../raft/index.js';

export class ShadowLog {
  /** Index and term of the log's origin (the latest snapshot, or 0/0). */
  baseIndex = 0;
  baseTerm = 0;
  /** entries[k].index === baseIndex + 1 + k. */
  entries: Entry[] = [];

  lastIndex(): number {
    return this.baseIndex + this.entries.length;
  }

  /** Term at `index`, or undefined when before the origin or past the end. */
  term(index: number): number | undefined {
    if (index === this.baseIndex) return this.baseTerm;
    return this.entries[index - this.baseIndex - 1]?.term;
  }

  entry(index: number): Entry | undefined {
    return index > this.baseIndex ? this.entries[index - this.baseIndex - 1] : undefined;
  }

  reset(index: number, term: number): void {
    this.baseIndex = index;
    this.baseTerm = term;
    this.entries = [];
  }

  /** Drops every entry at or after `index` (index > baseIndex). */
  truncateFrom(index: number): void {
    this.entries.length = Math.max(0, index - this.baseIndex - 1);
  }

  push(entry: Entry): void {
    this.entries.push(entry);
  }

  /** Rebuilds from what survived on disk (after a restart). */
  loadFrom(storage: MemoryStorage): void {
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.reset(first - 1, storage.term(first - 1) ?? 0);
    if (last >= first) this.entries = storage.entries(first, last + 1, Number.MAX_SAFE_INTEGER);
  }
}
