import type { RaftStorage } from './storage.js';
import type { Entry, Snapshot } from './types.js';

/**
 * The Raft log as the core sees it: a durable prefix in RaftStorage and an unstable suffix
 * (entries, and possibly a snapshot, not yet reported persisted by the caller).
 *
 * Invariants:
 * - unstable entries, when present, are at indices offset, offset + 1, ...;
 * - every index < offset that is >= storage.firstIndex() is answered by storage (or by the
 *   unstable snapshot at exactly its index);
 * - applied <= committed <= lastIndex();
 * - handedOut is the last unstable index already given to the caller in a Ready.
 */
export class RaftLog {
  committed: number;
  applied: number;
  /** Last index whose entry was handed out for applying (applied <= applying <= committed). */
  applying: number;
  private offset: number;
  private unstable: Entry[] = [];
  private unstableSnapshot: Snapshot | undefined;
  private snapshotHandedOut = false;
  private handedOut: number;

  constructor(
    private readonly storage: RaftStorage,
    applied: number,
  ) {
    this.offset = storage.lastIndex() + 1;
    this.handedOut = storage.lastIndex();
    // The state machine holds at least what storage's snapshot/conf record reflects: entries at
    // or below it are never handed out again (a snapshot-restored state machine would apply them twice).
    const { hardState, confIndex } = storage.initialState();
    const floor = Math.max(storage.firstIndex() - 1, confIndex);
    this.committed = Math.max(hardState.commit, floor);
    this.applied = Math.min(Math.max(applied, floor), this.committed);
    this.applying = this.applied;
  }

  firstIndex(): number {
    if (this.unstableSnapshot !== undefined) return this.unstableSnapshot.meta.index + 1;
    return this.storage.firstIndex();
  }

  lastIndex(): number {
    if (this.unstable.length > 0) return this.offset + this.unstable.length - 1;
    if (this.unstableSnapshot !== undefined) return this.unstableSnapshot.meta.index;
    return this.storage.lastIndex();
  }

  /** Last index known durable on this node (entries the caller has reported persisted). */
  persistedIndex(): number {
    if (this.unstableSnapshot !== undefined) return 0;
    return Math.min(this.offset - 1, this.storage.lastIndex());
  }

  lastTerm(): number {
    return this.term(this.lastIndex()) ?? 0;
  }

  /** Term at `index`, or undefined when compacted or beyond the end. */
  term(index: number): number | undefined {
    if (index >= this.offset) {
      return this.unstable[index - this.offset]?.term;
    }
    const snap = this.unstableSnapshot;
    if (snap !== undefined) {
      return index === snap.meta.index ? snap.meta.term : undefined;
    }
    if (index > this.storage.lastIndex()) return undefined;
    return this.storage.term(index);
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Whether a log ending at (lastIndex, lastTerm) is at least as up to date as ours (§5.4.1). */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * The largest index <= `index` whose term is <= `term` (or the compaction point). Used to
   * skip a whole term of conflicting entries per round trip when logs diverge.
   */
  findConflictByTerm(index: number, term: number): number {
    let i = Math.min(index, this.lastIndex());
    for (; i > 0; i--) {
      const t = this.term(i);
      if (t === undefined || t <= term) break;
    }
    return i;
  }

  /** Index of the first entry of `entries` that is absent or differs in term; 0 if none. */
  findConflict(entries: readonly Entry[]): number {
    for (const e of entries) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /** Appends entries, replacing any conflicting suffix. Returns the new last index. */
  append(entries: readonly Entry[]): number {
    const first = entries[0];
    if (first === undefined) return this.lastIndex();
    const after = first.index;
    if (after <= this.committed) {
      throw new Error(`raft: append at ${after} would overwrite committed entries up to ${this.committed}`);
    }
    if (after === this.offset + this.unstable.length) {
      for (const e of entries) this.unstable.push(e);
    } else if (after <= this.offset) {
      // Replaces part of the durable log: the caller truncates storage when it persists these.
      this.offset = after;
      this.unstable = entries.slice();
    } else {
      this.unstable = this.unstable.slice(0, after - this.offset);
      for (const e of entries) this.unstable.push(e);
    }
    if (this.handedOut >= after) this.handedOut = after - 1;
    return this.lastIndex();
  }

  /** Entries in [lo, hi) up to maxBytes (at least one). Undefined when lo is compacted. */
  slice(lo: number, hi: number, maxBytes: number): Entry[] | undefined {
    if (lo < this.firstIndex()) return undefined;
    hi = Math.min(hi, this.lastIndex() + 1);
    if (lo >= hi) return [];
    let out: Entry[] = [];
    if (lo < this.offset) {
      out = this.storage.entries(lo, Math.min(hi, this.offset), maxBytes);
      if (out.length < Math.min(hi, this.offset) - lo) return out;
    }
    if (hi > this.offset) {
      let bytes = 0;
      for (const e of out) bytes += e.data.length;
      const start = Math.max(lo, this.offset) - this.offset;
      const end = hi - this.offset;
      for (let i = start; i < end; i++) {
        const e = this.unstable[i]!;
        bytes += e.data.length;
        if (out.length > 0 && bytes > maxBytes) break;
        out.push(e);
      }
    }
    return out;
  }

  commitTo(index: number): void {
    if (index > this.committed) {
      if (index > this.lastIndex()) {
        throw new Error(`raft: commit ${index} is beyond the last index ${this.lastIndex()}`);
      }
      this.committed = index;
    }
  }

  /** Replaces the log with a snapshot; the caller persists and applies it from the next Ready. */
  restore(snapshot: Snapshot): void {
    this.committed = snapshot.meta.index;
    this.unstableSnapshot = snapshot;
    this.snapshotHandedOut = false;
    this.unstable = [];
    this.offset = snapshot.meta.index + 1;
    this.handedOut = snapshot.meta.index;
  }

  /** The latest snapshot in storage, for a follower that needs compacted entries. */
  latestSnapshot(): Snapshot | undefined {
    return this.storage.snapshot();
  }

  // --- Ready/advance bookkeeping ---

  hasEntriesToPersist(): boolean {
    return this.lastIndex() > this.handedOut;
  }

  entriesToPersist(): Entry[] {
    const from = Math.max(this.handedOut + 1, this.offset);
    const out = this.unstable.slice(from - this.offset);
    this.handedOut = this.lastIndex();
    return out;
  }

  snapshotToPersist(): Snapshot | undefined {
    if (this.unstableSnapshot === undefined || this.snapshotHandedOut) return undefined;
    this.snapshotHandedOut = true;
    return this.unstableSnapshot;
  }

  hasSnapshotToPersist(): boolean {
    return this.unstableSnapshot !== undefined && !this.snapshotHandedOut;
  }

  hasCommittedToApply(): boolean {
    return this.committed > this.applying && !this.hasSnapshotToPersist();
  }

  committedToApply(maxBytes: number): Entry[] {
    if (!this.hasCommittedToApply()) return [];
    const out = this.slice(this.applying + 1, this.committed + 1, maxBytes) ?? [];
    const last = out[out.length - 1];
    if (last !== undefined) this.applying = last.index;
    return out;
  }

  /** The caller persisted entries up to (index, term): they leave the unstable suffix. */
  stableTo(index: number, term: number): void {
    if (index < this.offset || this.term(index) !== term) return;
    this.unstable = this.unstable.slice(index + 1 - this.offset);
    this.offset = index + 1;
  }

  /** The caller persisted the snapshot at `index`. */
  stableSnapshotTo(index: number): void {
    if (this.unstableSnapshot?.meta.index === index) {
      this.unstableSnapshot = undefined;
    }
  }

  appliedTo(index: number): void {
    if (index > this.applied) this.applied = index;
    if (this.applying < this.applied) this.applying = this.applied;
  }
}
