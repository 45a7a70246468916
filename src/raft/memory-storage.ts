import { bootstrapEntries } from './bootstrap.js';
import type { RaftStorage } from './storage.js';
import type { ConfState, Entry, HardState, Snapshot } from './types.js';
import { NONE } from './types.js';

const EMPTY = new Uint8Array(0);

/**
 * RaftStorage held in memory, for the simulator, tests and benchmarks. It plays the role of the
 * disk: the caller writes to it exactly what a Ready asks to persist.
 *
 * Invariant: `entries[0]` is a dummy whose index and term are the snapshot's (the log's origin),
 * so entries[i].index === snapshotIndex + i.
 */
export class MemoryStorage implements RaftStorage {
  private hardState: HardState = { term: 0, vote: NONE, commit: 0 };
  private snap: Snapshot;
  private entriesWithDummy: Entry[];

  /**
   * An empty log. With `initialConf`, the log is bootstrapped with that membership as committed
   * conf-change entries (see bootstrapEntries), as every member of a new cluster must be; a node
   * that joins an existing cluster starts with no conf and learns it from the leader.
   */
  constructor(initialConf?: ConfState) {
    this.snap = { meta: { index: 0, term: 0, conf: { voters: [], learners: [] } }, data: EMPTY };
    this.entriesWithDummy = [{ index: 0, term: 0, type: 'normal', data: EMPTY }];
    if (initialConf !== undefined) {
      const bootstrap = bootstrapEntries(initialConf);
      this.append(bootstrap.entries);
      this.hardState = bootstrap.hardState;
    }
  }

  initialState(): { hardState: HardState; confState: ConfState; confIndex: number } {
    return { hardState: this.hardState, confState: this.snap.meta.conf, confIndex: this.snap.meta.index };
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const offset = this.offset();
    if (lo <= offset || hi > this.lastIndex() + 1) {
      throw new RangeError(`entries [${lo}, ${hi}) out of range (${offset + 1}..${this.lastIndex()})`);
    }
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i < hi; i++) {
      const entry = this.entriesWithDummy[i - offset]!;
      bytes += entry.data.length;
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(entry);
    }
    return out;
  }

  term(index: number): number | undefined {
    const offset = this.offset();
    if (index < offset) return undefined;
    return this.entriesWithDummy[index - offset]?.term;
  }

  firstIndex(): number {
    return this.offset() + 1;
  }

  lastIndex(): number {
    return this.offset() + this.entriesWithDummy.length - 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  // --- writes, done by the caller when it handles a Ready ---

  setHardState(hardState: HardState): void {
    this.hardState = hardState;
  }

  /** Appends entries, first dropping any stored entry at or after entries[0].index. */
  append(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    const offset = this.offset();
    if (first.index <= offset) {
      // Entries already covered by the snapshot are dropped; the rest replace the log.
      const rest = entries.filter((e) => e.index > offset);
      this.entriesWithDummy.length = 1;
      for (const e of rest) this.entriesWithDummy.push(e);
      return;
    }
    if (first.index > this.lastIndex() + 1) {
      throw new RangeError(`append at ${first.index} leaves a gap after ${this.lastIndex()}`);
    }
    this.entriesWithDummy.length = first.index - offset;
    for (const e of entries) this.entriesWithDummy.push(e);
  }

  /** Replaces the whole log with a snapshot received from the leader. */
  applySnapshot(snapshot: Snapshot): void {
    this.snap = snapshot;
    this.entriesWithDummy = [
      { index: snapshot.meta.index, term: snapshot.meta.term, type: 'normal', data: EMPTY },
    ];
  }

  /**
   * Records a snapshot of the state machine at `index` (<= applied) and compacts the log before
   * it, keeping `trailing` entries so slow followers can still catch up from the log.
   */
  createSnapshot(index: number, conf: ConfState, data: Uint8Array, trailing = 0): void {
    const term = this.term(index);
    if (term === undefined || index <= this.snap.meta.index || index > this.lastIndex()) {
      throw new RangeError(`cannot snapshot at ${index}`);
    }
    this.snap = { meta: { index, term, conf }, data };
    this.compact(Math.max(this.offset(), index - trailing));
  }

  /** Drops entries up to and including `index`; afterwards firstIndex() === index + 1. */
  compact(index: number): void {
    const offset = this.offset();
    if (index <= offset) return;
    if (index > this.lastIndex()) throw new RangeError(`cannot compact past ${this.lastIndex()}`);
    const term = this.term(index)!;
    this.entriesWithDummy = [
      { index, term, type: 'normal', data: EMPTY },
      ...this.entriesWithDummy.slice(index - offset + 1),
    ];
  }

  private offset(): number {
    return this.entriesWithDummy[0]!.index;
  }
}
