import type { ChangeEvent, KvStore } from '../../kv/index.js';

/** A position in the change log: the next change to read is (revision, sub). */
export interface Cursor {
  readonly revision: number;
  readonly sub: number;
}

/** Which keys a watch follows: one key, or every key starting with a prefix ('' = all). */
export type WatchFilter = { readonly key: string } | { readonly prefix: string };

/** The receiving end of a watch (an SSE stream, or an in-process listener). */
export interface WatchSink {
  /**
   * Takes one event (always); returns false when the sink is now full and wants no more until
   * drained(). `revisionEnd`: no change follows it at its revision in the whole log (a filtered
   * watch may get a revision's changes without the one that carries it).
   */
  event(event: ChangeEvent, revisionEnd: boolean): boolean;
  /** Everything up to `revision` was delivered (only called while the watch is caught up). */
  progress(revision: number): void;
  /** The watch cannot go on; the sink should end the stream. */
  fail(code: 'COMPACTED', details: { oldest: number; compactedRevision: number }): void;
  /** Resolves once a full sink may take events again. */
  drained(): Promise<void>;
}

export interface WatchHandle {
  stop(): void;
  /** Sends a progress notice if the watch is caught up and sent nothing for `idleMs`. */
  progressIfIdle(idleMs: number): void;
}

/** Changes read from SQLite per step while a watch catches up. */
const PAGE = 500;

interface Watch {
  readonly filter: WatchFilter;
  readonly sink: WatchSink;
  /** Caught up: fed by dispatch(). Otherwise it reads the log itself from `cursor`. */
  live: boolean;
  cursor: Cursor;
  closed: boolean;
  lastSent: number;
}

function before(event: ChangeEvent, cursor: Cursor): boolean {
  return event.revision < cursor.revision || (event.revision === cursor.revision && event.sub < cursor.sub);
}

/** For each event, whether it is the last of its revision (`lookahead`: the event after them). */
function revisionEnds(events: readonly ChangeEvent[], lookahead: ChangeEvent | undefined): boolean[] {
  return events.map((e, i) => (events[i + 1] ?? lookahead)?.revision !== e.revision);
}

export function matches(filter: WatchFilter, key: string): boolean {
  return 'key' in filter ? key === filter.key : key.startsWith(filter.prefix);
}

/**
 * Feeds watches from the KV change log. Invariant: after dispatch() returns, every change in the
 * log was offered to every live watch, in (revision, sub) order, exactly once; a watch that is
 * not live has a cursor at its first undelivered change and reads the log itself until it
 * reaches the end, then turns live in the same synchronous step (so no change can slip between
 * its last read and dispatch). A sink that is full turns its watch back into a reader at the
 * change it refused, so a slow client costs a cursor, not memory.
 */
export class WatchHub {
  private readonly watches = new Set<Watch>();
  /** The next change dispatch() will read. */
  private end: Cursor;

  constructor(private readonly kv: KvStore) {
    this.end = { revision: kv.revision() + 1, sub: 0 };
  }

  get size(): number {
    return this.watches.size;
  }

  /** The store's revision: every change up to it is in the log (or compacted). */
  revision(): number {
    return this.kv.revision();
  }

  compactedRevision(): number {
    return this.kv.compactedRevision();
  }

  /** Starts a watch at `from`; a compacted `from` fails the sink with COMPACTED. */
  watch(filter: WatchFilter, from: Cursor, sink: WatchSink): WatchHandle {
    const w: Watch = { filter, sink, live: false, cursor: from, closed: false, lastSent: Date.now() };
    this.watches.add(w);
    this.startCatchUp(w, false);
    return {
      stop: () => {
        w.closed = true;
        this.watches.delete(w);
      },
      progressIfIdle: (idleMs) => {
        const now = Date.now();
        if (w.closed || !w.live || now - w.lastSent < idleMs) return;
        w.lastSent = now;
        w.sink.progress(this.kv.revision());
      },
    };
  }

  /**
   * Offers every change applied since the last call to the live watches. Call after each apply.
   * `applied`: the changes just applied, when the caller has them (a secondary applying a
   * primary's stream). They are offered as they are, without reading them back from the store,
   * if they are exactly the log from where the last dispatch ended up to the store's revision
   * (whole revisions, as applyChangeEvents takes them); otherwise the log is read.
   */
  dispatch(applied?: readonly ChangeEvent[]): void {
    let anyLive = false;
    for (const w of this.watches) anyLive ||= w.live;
    if (!anyLive) {
      // Nobody to feed: skip reading the log on the write path. Watches that are catching up
      // read it themselves, and turn live only at its end, which this cursor marks.
      this.end = { revision: this.kv.revision() + 1, sub: 0 };
      return;
    }
    if (applied !== undefined && this.isTheRestOfTheLog(applied)) {
      this.offer(applied, revisionEnds(applied, undefined));
      this.end = { revision: applied.at(-1)!.revision + 1, sub: 0 };
      return;
    }
    for (;;) {
      const page = this.page(this.end);
      if (page.compacted) {
        // Changes went before they were dispatched (a compaction or a snapshot applied in the same
        // batch): a live watch can no longer be given everything, so it ends.
        for (const w of this.watches) {
          if (w.live) this.failCompacted(w, page.oldest, page.compactedRevision);
        }
        this.end = { revision: this.kv.revision() + 1, sub: 0 };
        return;
      }
      this.offer(page.events, page.ends);
      if (!page.more) {
        // A revision's changes are applied together, so at the end of the log the last revision
        // is complete: the next change can only be at a later one. (Keeps the cursor clear of a
        // compaction of the last revision.)
        this.end = { revision: page.revision + 1, sub: 0 };
        return;
      }
    }
  }

  /** Whether `events` start where the last dispatch ended and end at the store's revision. */
  private isTheRestOfTheLog(events: readonly ChangeEvent[]): boolean {
    const first = events[0];
    const last = events.at(-1);
    return (
      first !== undefined &&
      last !== undefined &&
      first.revision === this.end.revision &&
      first.sub === this.end.sub &&
      last.revision === this.kv.revision() &&
      this.kv.compactedRevision() < first.revision
    );
  }

  /** Offers `events` (the next ones of the log, in order) to the live watches. */
  private offer(events: readonly ChangeEvent[], ends: readonly boolean[]): void {
    for (const [i, event] of events.entries()) {
      const next = { revision: event.revision, sub: event.sub + 1 };
      const revisionEnd = ends[i]!;
      for (const w of this.watches) {
        // A watch that turned live with its cursor ahead of this change (a start beyond the
        // node's revision, a resume on a lagging replica, one added during this dispatch) has
        // it already or asked to start later.
        if (!w.live || before(event, w.cursor) || !matches(w.filter, event.kv.key)) continue;
        w.lastSent = Date.now();
        if (!w.sink.event(event, revisionEnd)) {
          // Full: this watch reads the log itself from the next change, once the sink drains.
          w.live = false;
          w.cursor = next;
          this.startCatchUp(w, true);
        }
      }
      this.end = next;
    }
  }

  /**
   * The store was replaced wholesale (a secondary re-bootstrapped from a snapshot): no watch can
   * vouch for continuity across that, so each ends with COMPACTED and its client starts afresh.
   */
  reset(): void {
    const gone = Math.max(this.kv.compactedRevision(), this.kv.revision());
    for (const w of [...this.watches]) this.failCompacted(w, gone + 1, gone);
    this.end = { revision: this.kv.revision() + 1, sub: 0 };
  }

  /** Ends every watch (node shutting down); sinks are closed by their owners. */
  closeAll(): void {
    for (const w of this.watches) w.closed = true;
    this.watches.clear();
  }

  /** Reads the log for a watch; if that fails (the store closed under it), the watch just ends. */
  private startCatchUp(w: Watch, drainFirst: boolean): void {
    this.catchUp(w, drainFirst).catch(() => {
      w.closed = true;
      this.watches.delete(w);
    });
  }

  private async catchUp(w: Watch, drainFirst: boolean): Promise<void> {
    if (drainFirst) await w.sink.drained();
    while (!w.closed) {
      const page = this.page(w.cursor);
      if (page.compacted) {
        this.failCompacted(w, page.oldest, page.compactedRevision);
        return;
      }
      let full = false;
      for (const [i, event] of page.events.entries()) {
        w.cursor = { revision: event.revision, sub: event.sub + 1 };
        if (!matches(w.filter, event.kv.key)) continue;
        w.lastSent = Date.now();
        if (!w.sink.event(event, page.ends[i]!)) full = true;
        if (full) break;
      }
      if (!full && !page.more) {
        // At the end of the log: from now on dispatch() feeds this watch (same synchronous step).
        w.live = true;
        return;
      }
      await w.sink.drained();
    }
  }

  /**
   * Up to PAGE changes from `from`, each marked with whether it ends its revision: one change
   * more is read as a lookahead, and at the end of the log the last revision is complete.
   */
  private page(
    from: Cursor,
  ):
    | { compacted: true; oldest: number; compactedRevision: number }
    | { compacted: false; events: readonly ChangeEvent[]; ends: boolean[]; more: boolean; revision: number } {
    const read = this.kv.changesSince(from.revision, PAGE + 1, from.sub);
    if (read.compacted) return read;
    const more = read.events.length > PAGE;
    const events = more ? read.events.slice(0, PAGE) : read.events;
    const ends = revisionEnds(events, more ? read.events[PAGE] : undefined);
    return { compacted: false, events, ends, more, revision: read.revision };
  }

  private failCompacted(w: Watch, oldest: number, compactedRevision: number): void {
    w.closed = true;
    this.watches.delete(w);
    w.sink.fail('COMPACTED', { oldest, compactedRevision });
  }
}
