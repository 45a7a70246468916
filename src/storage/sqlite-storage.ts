import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { applyConfChange, bootstrapEntries, decodeConfChange, NONE } from '../raft/index.js';
import type { ConfState, Entry, HardState, RaftStorage, Ready, Snapshot } from '../raft/index.js';
import { StorageError } from './errors.js';
import type { Identity } from './schema.js';
import { prepareSchema } from './schema.js';

/** The state machine kept in the same database, so its state and the applied index commit together. */
export interface StateMachinePort {
  /** Applies a committed normal entry. Runs inside the storage's transaction; must not throw. */
  apply(index: number, data: Uint8Array): unknown;
  /** The whole state, for a Raft snapshot. */
  serialize(): Uint8Array;
  /** Replaces the whole state. Runs inside the storage's transaction; throws on bad bytes. */
  restore(data: Uint8Array): void;
}

export interface OpenOptions extends Identity {
  readonly dataDir: string;
  /** Membership written as the first log entries when the database is new (a founding member). */
  readonly bootstrap: ConfState | undefined;
}

interface StateRow {
  term: number;
  vote: string;
  commit_index: number;
  compact_index: number;
  compact_term: number;
  applied_index: number;
  applied_term: number;
  applied_conf: string;
}

interface LogRow {
  idx: number;
  term: number;
  type: number;
  data: Uint8Array;
}

/** Recent entries kept in memory: the leader reads them to replicate, followers rarely lag further. */
const TAIL_CACHE_ENTRIES = 8192;
const EMPTY = new Uint8Array(0);

export const DATABASE_FILE = 'conclave.db';

/**
 * Where a restored data dir's snapshot sits. A founding member that was not restored bootstraps
 * its membership as entries 1..n at term 1, committed. Raft assumes committed prefixes agree, so
 * the restored snapshot must lie beyond anything a bootstrap commits (else that member would
 * take the snapshot for one it already holds and never load the state), and at a term no
 * bootstrap uses (so its log check fails and its older last term cannot win an election).
 */
const RESTORED_TERM = 2;
const RESTORED_INDEX_BASE = 1_000;

/**
 * RaftStorage on SQLite (WAL). One transaction per Ready persists the log, the hard state, and
 * the state machine with its applied index, so one fsync covers a whole batch (group commit).
 * A transaction is fsynced (synchronous=FULL) when the Ready carries entries, a snapshot or a
 * new term/vote; one that only applies committed entries is not (NORMAL), so a write costs one
 * fsync per node, not two.
 *
 * Invariants: log rows are exactly the indices (compactIndex, lastIndex]; `tail` holds a suffix
 * of them; appliedIndex <= commit index <= lastIndex.
 */
export class SqliteRaftStorage implements RaftStorage {
  readonly db: Database.Database;
  readonly file: string;
  private stateMachine: StateMachinePort | undefined;
  private state: StateRow;
  /** The connection's current `PRAGMA synchronous` mode (changed only when needed). */
  private syncMode: 'FULL' | 'NORMAL' = 'FULL';
  private last: number;
  private tail: Entry[] = [];
  private cachedSnapshot: Snapshot | undefined;
  /** Makes snapshots off the calling thread, when set (see setSnapshotProducer). */
  private produceSnapshot: (() => Promise<Snapshot>) | undefined;
  private producing = false;
  private closed = false;

  private readonly stmts: {
    selectRange: Database.Statement<[number, number], LogRow>;
    selectTerm: Database.Statement<[number], { term: number }>;
    deleteFrom: Database.Statement<[number]>;
    deleteUpTo: Database.Statement<[number]>;
    deleteAll: Database.Statement;
    insert: Database.Statement<[number, number, number, Uint8Array]>;
    updateHardState: Database.Statement<[number, string, number]>;
    updateApplied: Database.Statement<[number, number, string]>;
    updateCompaction: Database.Statement<[number, number]>;
    selectState: Database.Statement<[], StateRow>;
  };

  private constructor(db: Database.Database, file: string) {
    this.db = db;
    this.file = file;
    this.stmts = {
      selectRange: db.prepare(
        'SELECT idx, term, type, data FROM raft_log WHERE idx >= ? AND idx < ? ORDER BY idx',
      ),
      selectTerm: db.prepare('SELECT term FROM raft_log WHERE idx = ?'),
      deleteFrom: db.prepare('DELETE FROM raft_log WHERE idx >= ?'),
      deleteUpTo: db.prepare('DELETE FROM raft_log WHERE idx <= ?'),
      deleteAll: db.prepare('DELETE FROM raft_log'),
      insert: db.prepare('INSERT INTO raft_log (idx, term, type, data) VALUES (?, ?, ?, ?)'),
      updateHardState: db.prepare('UPDATE raft_state SET term = ?, vote = ?, commit_index = ? WHERE id = 1'),
      updateApplied: db.prepare(
        'UPDATE raft_state SET applied_index = ?, applied_term = ?, applied_conf = ? WHERE id = 1',
      ),
      updateCompaction: db.prepare('UPDATE raft_state SET compact_index = ?, compact_term = ? WHERE id = 1'),
      selectState: db.prepare('SELECT * FROM raft_state WHERE id = 1'),
    };
    this.state = this.readState();
    const lastRow = db.prepare('SELECT max(idx) AS idx FROM raft_log').get() as { idx: number | null };
    this.last = lastRow.idx ?? this.state.compact_index;
  }

  /** Opens (creating if needed) the node's database. Throws StorageError when it must not be used. */
  static open(options: OpenOptions): SqliteRaftStorage {
    try {
      mkdirSync(options.dataDir, { recursive: true });
    } catch (cause) {
      throw new StorageError('DATA_DIR_UNUSABLE', options.dataDir, 'cannot create the data directory', {
        cause,
      });
    }
    const file = join(options.dataDir, DATABASE_FILE);
    let db: Database.Database | undefined;
    try {
      db = new Database(file);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      const check = db.pragma('quick_check', { simple: true }) as string;
      if (check !== 'ok')
        throw new StorageError('DATA_CORRUPT', file, `SQLite integrity check failed: ${check}`);
      prepareSchema(db, file, options);
      const storage = new SqliteRaftStorage(db, file);
      storage.validate();
      if (storage.last === 0 && storage.state.term === 0 && options.bootstrap !== undefined) {
        storage.bootstrap(options.bootstrap);
      }
      return storage;
    } catch (error) {
      db?.close();
      if (error instanceof StorageError) throw error;
      const code = (error as { code?: unknown }).code;
      if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
        throw new StorageError(
          'DATA_CORRUPT',
          file,
          'not a valid Conclave database (corrupt or foreign file)',
          {
            cause: error,
          },
        );
      }
      throw new StorageError('DATA_DIR_UNUSABLE', file, `cannot open: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  /**
   * Creates a new node's database holding `data` (a state machine snapshot, e.g. a backup) as a
   * Raft snapshot of membership `conf` at index RESTORED_INDEX_BASE + number of members, term
   * RESTORED_TERM. Every founding
   * member restored from the same bytes starts with the same state, then elects a leader as
   * usual. Refuses (DATA_DIR_NOT_EMPTY) a data dir that has a database already.
   */
  static createFromSnapshot(
    options: Identity & { readonly dataDir: string; readonly conf: ConfState },
    attach: (db: Database.Database) => StateMachinePort & { rebase(index: number): void },
    data: Uint8Array,
  ): void {
    const file = join(options.dataDir, DATABASE_FILE);
    if (existsSync(file)) {
      throw new StorageError(
        'DATA_DIR_NOT_EMPTY',
        file,
        'a database exists here already; restore into an empty data directory',
      );
    }
    const storage = SqliteRaftStorage.open({ ...options, bootstrap: undefined });
    let done = false;
    try {
      const sm = attach(storage.db);
      const index = RESTORED_INDEX_BASE + options.conf.voters.length + options.conf.learners.length;
      const conf = JSON.stringify(options.conf);
      storage.db.transaction(() => {
        sm.restore(data);
        sm.rebase(index);
        storage.stmts.updateCompaction.run(index, RESTORED_TERM);
        storage.stmts.updateApplied.run(index, RESTORED_TERM, conf);
        storage.stmts.updateHardState.run(RESTORED_TERM, NONE, index);
      })();
      done = true;
    } finally {
      storage.close();
      // A failed restore leaves no database behind: an empty one would start as a fresh node.
      if (!done) for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
    }
  }

  /** Connects the state machine whose tables live in this database (before any Ready is persisted). */
  attachStateMachine(stateMachine: StateMachinePort): void {
    this.stateMachine = stateMachine;
  }

  close(): void {
    this.closed = true;
    this.db.close();
  }

  // ------------------------------------------------------------------ RaftStorage

  initialState(): { hardState: HardState; confState: ConfState; confIndex: number } {
    return {
      hardState: { term: this.state.term, vote: this.state.vote, commit: this.state.commit_index },
      confState: JSON.parse(this.state.applied_conf) as ConfState,
      confIndex: this.state.applied_index,
    };
  }

  appliedIndex(): number {
    return this.state.applied_index;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo <= this.state.compact_index || hi > this.last + 1) {
      throw new RangeError(
        `entries [${lo}, ${hi}) out of range (${this.state.compact_index + 1}..${this.last})`,
      );
    }
    const out: Entry[] = [];
    let bytes = 0;
    const tailStart = this.tail[0]?.index ?? Number.MAX_SAFE_INTEGER;
    if (lo < tailStart) {
      for (const row of this.stmts.selectRange.iterate(lo, Math.min(hi, tailStart))) {
        bytes += row.data.length;
        if (out.length > 0 && bytes > maxBytes) return out;
        out.push(rowToEntry(row));
      }
    }
    for (let i = Math.max(lo, tailStart); i < hi; i++) {
      const entry = this.tail[i - tailStart]!;
      bytes += entry.data.length;
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(entry);
    }
    return out;
  }

  term(index: number): number | undefined {
    if (index < this.state.compact_index || index > this.last) return undefined;
    if (index === this.state.compact_index) return this.state.compact_term;
    const tailStart = this.tail[0]?.index ?? Number.MAX_SAFE_INTEGER;
    if (index >= tailStart) return this.tail[index - tailStart]?.term;
    return this.stmts.selectTerm.get(index)?.term;
  }

  firstIndex(): number {
    return this.state.compact_index + 1;
  }

  lastIndex(): number {
    return this.last;
  }

  /**
   * Has snapshot() produce snapshots with `produce` (on another thread, from its own read of the
   * database) instead of serializing the state machine on the calling thread.
   */
  setSnapshotProducer(produce: () => Promise<Snapshot>): void {
    this.produceSnapshot = produce;
  }

  /**
   * The state machine as of its applied index. Serializing is costly, so a snapshot is reused
   * while it still covers the compaction point (a follower installing it can continue from the
   * log). With a producer, a missing snapshot is started and undefined returned: the Raft core
   * asks again later (RaftStorage.snapshot), and the calling thread never waits for it.
   */
  snapshot(): Snapshot | undefined {
    const cached = this.cachedSnapshot;
    if (cached !== undefined && cached.meta.index >= this.state.compact_index) return cached;
    if (this.produceSnapshot !== undefined) {
      this.startProducing(this.produceSnapshot);
      return undefined;
    }
    const sm = this.requireStateMachine();
    const snap: Snapshot = {
      meta: {
        index: this.state.applied_index,
        term: this.state.applied_term,
        conf: JSON.parse(this.state.applied_conf) as ConfState,
      },
      data: sm.serialize(),
    };
    this.cachedSnapshot = snap;
    return snap;
  }

  private startProducing(produce: () => Promise<Snapshot>): void {
    if (this.producing) return;
    this.producing = true;
    produce().then(
      (snap) => {
        this.producing = false;
        // A snapshot installed meanwhile may be newer: keep the newest.
        const cached = this.cachedSnapshot;
        if (!this.closed && (cached === undefined || snap.meta.index > cached.meta.index)) {
          this.cachedSnapshot = snap;
        }
      },
      () => {
        // The producer reports its failures; the next call tries again.
        this.producing = false;
      },
    );
  }

  // ------------------------------------------------------------------ writes

  /**
   * Persists a Ready and applies its committed entries in ONE transaction (one fsync): snapshot,
   * entries, hard state, state machine, applied index. Returns each applied entry's result.
   */
  persistReady(rd: Ready): Map<number, unknown> {
    const results = new Map<number, unknown>();
    const sm = this.requireStateMachine();
    const before = { last: this.last, tail: this.tail, snapshot: this.cachedSnapshot };
    const next: StateRow = { ...this.state };
    this.setSyncMode(needsFsync(rd, this.state) ? 'FULL' : 'NORMAL');
    try {
      this.db.transaction(() => {
        this.persistInTransaction(rd, sm, next, results);
      })();
    } catch (error) {
      // Rolled back: the in-memory mirror must not claim what the disk does not hold.
      this.last = before.last;
      this.tail = before.tail;
      this.cachedSnapshot = before.snapshot;
      throw error;
    }
    this.state = next;
    return results;
  }

  private persistInTransaction(
    rd: Ready,
    sm: StateMachinePort,
    next: StateRow,
    results: Map<number, unknown>,
  ): void {
    if (rd.snapshot !== undefined) this.installSnapshot(rd.snapshot, sm, next);
    this.appendEntries(rd.entries);
    if (rd.hardState !== undefined) {
      this.stmts.updateHardState.run(rd.hardState.term, rd.hardState.vote, rd.hardState.commit);
      next.term = rd.hardState.term;
      next.vote = rd.hardState.vote;
      next.commit_index = rd.hardState.commit;
    }
    const lastApplied = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastApplied === undefined) return;
    // The membership record is decoded and re-encoded only when a batch changes it.
    let conf: ConfState | undefined;
    for (const entry of rd.committedEntries) {
      if (entry.type === 'conf') {
        const change = decodeConfChange(entry.data);
        if (change !== undefined)
          conf = applyConfChange(conf ?? (JSON.parse(next.applied_conf) as ConfState), change);
      } else if (entry.data.length > 0) {
        results.set(entry.index, sm.apply(entry.index, entry.data));
      }
    }
    next.applied_index = lastApplied.index;
    next.applied_term = lastApplied.term;
    if (conf !== undefined) next.applied_conf = JSON.stringify(conf);
    this.stmts.updateApplied.run(next.applied_index, next.applied_term, next.applied_conf);
  }

  /**
   * FULL fsyncs the WAL at commit; NORMAL does not (the next FULL commit's fsync covers it). A
   * NORMAL commit is still atomic, and losing it in a power cut only loses work that is redone
   * from the durable log on restart (applying committed entries, a higher commit index).
   */
  private setSyncMode(mode: 'FULL' | 'NORMAL'): void {
    if (mode === this.syncMode) return;
    this.db.pragma(`synchronous = ${mode}`);
    this.syncMode = mode;
  }

  /** Drops log entries up to `index` (<= applied), keeping what followers may still need. */
  compact(index: number): void {
    if (index <= this.state.compact_index) return;
    if (index > this.state.applied_index)
      throw new RangeError(`cannot compact past applied ${this.state.applied_index}`);
    const term = this.term(index);
    if (term === undefined) throw new RangeError(`no term for ${index}`);
    this.db.transaction(() => {
      this.stmts.deleteUpTo.run(index);
      this.stmts.updateCompaction.run(index, term);
    })();
    this.state = this.readState();
    const drop = this.tail.findIndex((e) => e.index > index);
    this.tail = drop === -1 ? [] : this.tail.slice(drop);
  }

  private appendEntries(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    if (first.index <= this.state.compact_index) {
      throw new Error(`raft storage: append at ${first.index} is at or before the compaction point`);
    }
    if (first.index > this.last + 1) throw new Error(`raft storage: append at ${first.index} leaves a gap`);
    if (first.index <= this.last) this.stmts.deleteFrom.run(first.index);
    for (const e of entries) this.stmts.insert.run(e.index, e.term, e.type === 'conf' ? 1 : 0, e.data);
    this.last = entries[entries.length - 1]!.index;
    const tailStart = this.tail[0]?.index;
    if (tailStart === undefined || first.index < tailStart) {
      this.tail = entries.slice();
    } else {
      this.tail.length = first.index - tailStart;
      for (const e of entries) this.tail.push(e);
    }
    if (this.tail.length > TAIL_CACHE_ENTRIES)
      this.tail = this.tail.slice(this.tail.length - TAIL_CACHE_ENTRIES / 2);
  }

  private installSnapshot(snapshot: Snapshot, sm: StateMachinePort, next: StateRow): void {
    const { index, term, conf } = snapshot.meta;
    sm.restore(snapshot.data);
    this.stmts.deleteAll.run();
    next.compact_index = index;
    next.compact_term = term;
    next.applied_index = index;
    next.applied_term = term;
    next.applied_conf = JSON.stringify(conf);
    this.stmts.updateCompaction.run(index, term);
    this.stmts.updateApplied.run(index, term, next.applied_conf);
    this.last = index;
    this.tail = [];
    this.cachedSnapshot = snapshot;
  }

  private bootstrap(conf: ConfState): void {
    const { entries, hardState } = bootstrapEntries(conf);
    this.db.transaction(() => {
      this.appendEntries(entries);
      this.stmts.updateHardState.run(hardState.term, hardState.vote, hardState.commit);
    })();
    this.state = this.readState();
  }

  /** Cross-checks the stored state; a database violating Raft's invariants is refused. */
  private validate(): void {
    const s = this.state;
    const problems: string[] = [];
    if (s.applied_index > s.commit_index && s.commit_index !== 0)
      problems.push('applied index beyond commit index');
    if (s.compact_index > s.applied_index) problems.push('log compacted beyond the applied index');
    if (this.last < s.compact_index) problems.push('log ends before its compaction point');
    const count = (this.db.prepare('SELECT count(*) AS n FROM raft_log').get() as { n: number }).n;
    if (count !== this.last - s.compact_index) problems.push('log has gaps');
    try {
      JSON.parse(s.applied_conf);
    } catch {
      problems.push('membership record is unreadable');
    }
    if (problems.length > 0) {
      throw new StorageError('DATA_CORRUPT', this.file, `inconsistent Raft state: ${problems.join('; ')}`);
    }
  }

  private readState(): StateRow {
    const row = this.stmts.selectState.get();
    if (row === undefined) throw new StorageError('DATA_CORRUPT', this.file, 'the Raft state row is missing');
    return row;
  }

  private requireStateMachine(): StateMachinePort {
    if (this.stateMachine === undefined) throw new Error('raft storage: no state machine attached');
    return this.stateMachine;
  }
}

/**
 * Whether persisting `rd` must reach the disk before anything is acknowledged: new entries, a
 * snapshot, or a new term or vote (the Ready contract sends promises only after this). A Ready
 * that only applies committed entries or raises the commit index promises nothing.
 */
function needsFsync(rd: Ready, stored: StateRow): boolean {
  if (rd.entries.length > 0 || rd.snapshot !== undefined) return true;
  const hs = rd.hardState;
  return hs !== undefined && (hs.term !== stored.term || hs.vote !== stored.vote);
}

function rowToEntry(row: LogRow): Entry {
  return {
    index: row.idx,
    term: row.term,
    type: row.type === 1 ? 'conf' : 'normal',
    data: row.data.length === 0 ? EMPTY : row.data,
  };
}
