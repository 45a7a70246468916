import type { ConfState, Entry, HardState, Snapshot } from './types.js';

/**
 * The read-only view of durable state that the Raft core consults. The application owns the
 * writes: it persists what each Ready asks for and only then calls advance(), so everything this
 * view returns is durable. Indices are 1-based; index 0 with term 0 is the empty log's origin.
 *
 * Invariants: firstIndex() - 1 is the compaction point (entries before firstIndex() are gone);
 * term(firstIndex() - 1) is still known; lastIndex() >= firstIndex() - 1; the latest snapshot's
 * index is >= firstIndex() - 1 (trailing entries may be kept behind it for slow followers).
 */
export interface RaftStorage {
  /**
   * Hard state and membership as last persisted. `confState` is the membership as of log index
   * `confIndex`; on restart the core replays conf-change entries in (confIndex, applied].
   */
  initialState(): {
    readonly hardState: HardState;
    readonly confState: ConfState;
    readonly confIndex: number;
  };
  /**
   * Entries in [lo, hi), at most `maxBytes` of data but always at least one entry when lo < hi.
   * Precondition: firstIndex() <= lo <= hi <= lastIndex() + 1.
   */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  /** Term of the entry at `index`, or undefined when compacted away (< firstIndex() - 1) or absent. */
  term(index: number): number | undefined;
  firstIndex(): number;
  lastIndex(): number;
  /**
   * The latest snapshot, to send to a follower that needs compacted entries; undefined while it
   * is being produced (storage that serializes a large state off the caller's thread): the
   * leader asks again when it next builds a Ready, and meanwhile the follower waits.
   */
  snapshot(): Snapshot | undefined;
}
