// The key-value state machine (MVCC in the manner of etcd v3) on the node's SQLite database.
//
// Preconditions and invariants:
// - apply(), restore() and compactChanges() run INSIDE the caller's transaction (the node
//   driver's one transaction per Raft Ready, which also stores the applied index) and never open
//   their own; restore() nests a savepoint in it, so that a bad snapshot leaves the state as it
//   was. If the caller's transaction rolls back, so does everything they did.
// - The object holds no state besides prepared statements and its options: everything lives in
//   the database, so a rolled-back transaction cannot leave it out of step.
// - apply() is deterministic: the same commands at the same indexes, from the same starting
//   state and with the same options, give the same results and the same tables on every node
//   (no clock, no randomness, every scan ordered). serialize() therefore gives the same bytes.
// - A command either fails validation before it writes anything (an error result, nothing
//   changed) or succeeds. An exception other than KvError (disk full, I/O error) propagates: the
//   caller must roll back its transaction and must not advance.
// - Reads see the applied state at the time of the call. They assume this connection is the only
//   writer (true of a node: the driver is the only writer, and it is synchronous).

import type Database from 'better-sqlite3';
import { checkCompaction, compactLog, readChanges } from './changes.js';
import { listActivity, recordActivity } from './activity.js';
import { applyChangeEvents } from './replica-apply.js';
import type { ActivityEntry } from './activity.js';
import { getLease, grantLease, listLeases, requireLeasesOf, revokeLease } from './leases.js';
import type { LeaseInfo } from './leases.js';
import { decodeCommand, type Command, type Op, type TxnCommand } from './commands.js';
import { compareHolds } from './compare.js';
import { KvError } from './errors.js';
import { DEFAULT_MAX_REQUEST_IDS, DEFAULT_REQUEST_RETENTION_ENTRIES } from './limits.js';
import { readMeta, writeMeta, type Meta } from './meta.js';
import { readKey, readRange } from './reads.js';
import { lookupRequest, pruneByIndex, recordRequest, type RequestRetention } from './requests.js';
import { RevisionWriter } from './revision-writer.js';
import { ensureSchema } from './schema.js';
import { ReplicaLoader, SNAPSHOT_TABLES, STAGING_SCHEMA } from './replica-loader.js';
import { checkSnapshotEnvelope, installSnapshot, writeSnapshot } from './snapshot.js';
import type { RestoreProgress } from './snapshot.js';
import { prepareStatements, type Statements } from './statements.js';
import type {
  ApplyError,
  ApplyOk,
  ApplyResult,
  ChangeEvent,
  ChangesResult,
  GetResult,
  OpResponse,
  RangeOptions,
  RangeResult,
} from './types.js';
import { validateCommand, validateKey, validateRangeOptions } from './validate.js';

export interface KvStoreOptions {
  /**
   * Exactly-once window: at most this many request ids, the most recent by raft index
   * (default 100,000). Part of the replicated semantics: use the same value on every node.
   */
  readonly maxRequestIds?: number;
  /**
   * Exactly-once window: only ids applied within this many raft entries of the latest
   * (default 1,000,000). Same value on every node.
   */
  readonly requestRetentionEntries?: number;
}

function errorResult(err: unknown): ApplyError {
  if (err instanceof KvError) return { error: err.toInfo() };
  throw err;
}

function positiveInteger(n: number, what: string): number {
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new KvError('INVALID_ARGUMENT', `${what} must be a positive integer`);
  }
  return n;
}

/** A grant (`ttl` set) or a revoke (`ttl` undefined), numbered by KvStore.leasesVersion(). */
export interface LeaseChange {
  readonly version: number;
  readonly id: number;
  readonly ttl: number | undefined;
}

/** Lease changes kept for KvStore.leaseChangesSince (at least; up to twice as many). */
const LEASE_JOURNAL_KEEP = 10_000;

export class KvStore {
  private readonly s: Statements;
  private readonly retention: RequestRetention;
  /** Runs a function in a transaction, or in a savepoint when one is open already. */
  private readonly transaction: Database.Transaction<(fn: () => unknown) => unknown>;
  /**
   * Bumped whenever the set of leases changes (a grant or revoke applied; a restore), with the
   * last changes kept in `leaseJournal` (not after a restore), so that the leader's lessor can
   * follow grants and revokes without reading every lease again. In memory only, and written as
   * commands apply: a change whose transaction is then rolled back (the node stops when a Ready
   * fails to persist) stays in it; the lessor's periodic full read mends what that leaves.
   */
  private leaseTableVersion = 0;
  private leaseJournal: LeaseChange[] = [];

  /** Creates the kv_ tables if absent. The handle should be in WAL mode with synchronous=FULL. */
  constructor(
    private readonly db: Database.Database,
    options: KvStoreOptions = {},
  ) {
    this.retention = {
      maxRequestIds: positiveInteger(options.maxRequestIds ?? DEFAULT_MAX_REQUEST_IDS, 'maxRequestIds'),
      retentionEntries: positiveInteger(
        options.requestRetentionEntries ?? DEFAULT_REQUEST_RETENTION_ENTRIES,
        'requestRetentionEntries',
      ),
    };
    ensureSchema(db);
    this.s = prepareStatements(db);
    this.transaction = db.transaction((fn: () => unknown) => fn());
  }

  // ---- writes (inside the caller's transaction) ------------------------------------------

  /**
   * Applies the committed command at raft `index` (strictly greater than the last index
   * applied). Undecodable or invalid commands change nothing and give an error result; a
   * command whose requestId was already applied gives the first result and changes nothing.
   * Throws KvError PRECONDITION_FAILED when called outside a transaction or out of order.
   */
  apply(index: number, command: Uint8Array): ApplyResult {
    this.requireTransaction('apply');
    const meta = readMeta(this.s);
    if (!Number.isSafeInteger(index) || index <= meta.last_index) {
      throw new KvError(
        'PRECONDITION_FAILED',
        `apply index ${index} must be an integer above the last applied index ${meta.last_index}`,
      );
    }
    meta.last_index = index;
    pruneByIndex(this.s, meta, index, this.retention);
    const result = this.applyCommand(index, command, meta);
    writeMeta(this.s, meta);
    return result;
  }

  /**
   * Drops the change log up to and including `uptoRevision`. This changes replicated state:
   * call it only with the same arguments at the same point on every node (or propose a
   * `compact` command, which calls it from apply), else snapshots of the nodes differ.
   * Throws KvError COMPACTED (already compacted) or FUTURE_REVISION.
   */
  compactChanges(uptoRevision: number): void {
    this.requireTransaction('compactChanges');
    const meta = readMeta(this.s);
    checkCompaction(meta, uptoRevision);
    compactLog(this.s, meta, uptoRevision);
    writeMeta(this.s, meta);
  }

  /**
   * Replaces the whole state with a snapshot from serialize(). Throws KvError CORRUPT_SNAPSHOT
   * and leaves the state untouched if the bytes are bad: the checksum is checked before
   * anything changes, and the records are installed in a savepoint (nested in the caller's
   * transaction) that is rolled back if one of them breaks an invariant.
   */
  restore(bytes: Uint8Array, replica = false, progress?: RestoreProgress): void {
    this.requireTransaction('restore');
    const buf = checkSnapshotEnvelope(bytes);
    this.leasesReplaced();
    this.transaction(() => {
      const meta = installSnapshot(this.s, buf, replica, progress);
      writeMeta(this.s, meta);
      this.replicaPosition = { revision: meta.revision, sub: Number.MAX_SAFE_INTEGER };
    });
  }

  /**
   * Makes restored state (a backup) the start of a new cluster's log at raft `index`: the keys,
   * leases, change log and activity stay; the exactly-once table is emptied, since its ids and
   * indices belong to the old cluster's log (invariant: every kv_requests.idx <= last_index).
   */
  rebaseRaftIndex(index: number): void {
    this.requireTransaction('rebaseRaftIndex');
    const meta = readMeta(this.s);
    this.db.prepare('DELETE FROM kv_requests').run();
    meta.request_count = 0;
    meta.last_index = index;
    writeMeta(this.s, meta);
  }

  // ---- reads ----------------------------------------------------------------------------

  /** The store's revision: the number of revisions that changed at least one key. */
  revision(): number {
    return readMeta(this.s).revision;
  }

  /** Changes at or below this revision are gone from the change log (0: none are). */
  compactedRevision(): number {
    return readMeta(this.s).compacted_revision;
  }

  /** The raft index of the last command applied (0 before any). */
  lastAppliedIndex(): number {
    return readMeta(this.s).last_index;
  }

  /** Throws KvError for an invalid key. */
  get(key: string): GetResult {
    validateKey(key);
    return { kv: readKey(this.s, key), revision: this.revision() };
  }

  /** Keys in byte order. Throws KvError for invalid options. */
  range(options: RangeOptions = {}): RangeResult {
    validateRangeOptions(options);
    return { ...readRange(this.s, options), revision: this.revision() };
  }

  /**
   * Up to `limit` change events at or after (fromRevision, fromSub), in order. To continue
   * after a page, pass the last event's revision and sub + 1. Reports `compacted` when
   * fromRevision is at or below the compacted revision.
   */
  changesSince(fromRevision: number, limit: number, fromSub = 0): ChangesResult {
    return readChanges(this.s, readMeta(this.s), fromRevision, limit, fromSub);
  }

  /** A lease and the number of keys attached to it, if it exists. */
  lease(id: number): LeaseInfo | undefined {
    return getLease(this.s, id);
  }

  /**
   * Replica only: starts loading a snapshot that arrives in pieces (`write` each, then `finish`,
   * or `abort`). The store serves its current state until `finish` swaps the new one in, in one
   * transaction; a bad snapshot leaves it unchanged. One load at a time. `unserved`: the caller
   * reads nothing from this store until `finish` (a replica before its first sync); if it is
   * also empty, the snapshot is loaded in place, without a staging copy.
   */
  beginReplicaLoad(options: { unserved?: boolean } = {}): ReplicaLoader {
    const inPlace = options.unserved === true && this.isEmpty();
    return new ReplicaLoader(this.db, inPlace, (header, requestCount) => {
      this.leasesReplaced();
      this.transaction(() => {
        if (!inPlace) {
          for (const table of SNAPSHOT_TABLES) {
            this.db.prepare(`DELETE FROM main.${table}`).run();
            this.db.prepare(`INSERT INTO main.${table} SELECT * FROM ${STAGING_SCHEMA}.${table}`).run();
          }
        }
        writeMeta(this.s, {
          revision: header.revision,
          compacted_revision: header.compactedRevision,
          last_index: header.lastIndex,
          request_count: requestCount,
        });
      });
      this.replicaPosition = { revision: header.revision, sub: Number.MAX_SAFE_INTEGER };
    });
  }

  /** No revision yet and no row in any kv table. */
  private isEmpty(): boolean {
    if (readMeta(this.s).revision !== 0) return false;
    return SNAPSHOT_TABLES.every(
      (table) => this.db.prepare(`SELECT 1 FROM main.${table} LIMIT 1`).get() === undefined,
    );
  }

  /** Replica only: replaces the state with a snapshot, in its own transaction. */
  restoreReplica(bytes: Uint8Array): void {
    this.transaction(() => {
      this.restore(bytes, true);
    });
  }

  /**
   * Replica only (a secondary's copy, never a Raft-applied store): applies change events read
   * from another store's change log, in one transaction. Throws KvError PRECONDITION_FAILED if
   * they do not continue this store's log; nothing is applied then.
   */
  applyChangeEvents(events: readonly ChangeEvent[]): void {
    const position = { ...this.replicaPosition };
    this.transaction(() => {
      const meta = readMeta(this.s);
      applyChangeEvents(this.s, meta, position, events);
      writeMeta(this.s, meta);
    });
    // Only once the transaction held: a refused batch leaves the position where it was.
    this.replicaPosition = position;
  }

  /** Replica only: where to resume a change stream (a watch's Last-Event-ID). */
  replicaResumeId(): string {
    const p = this.replicaPosition;
    return p.sub === Number.MAX_SAFE_INTEGER || p.revision !== this.revision()
      ? String(this.revision())
      : `${p.revision}:${p.sub}`;
  }

  /** The (revision, sub) of the last change event applied by applyChangeEvents. */
  private replicaPosition = { revision: 0, sub: -1 };

  /** The last joins, leaves, expiries and removals of member records, oldest first. */
  activity(): ActivityEntry[] {
    return listActivity(this.s);
  }

  /** Every lease's id and TTL, in id order (cheap: no key counts). */
  leaseTtls(): [id: number, ttl: number][] {
    return this.s.dumpLeases.all();
  }

  /** Changes whenever the set of leases changes. */
  leasesVersion(): number {
    return this.leaseTableVersion;
  }

  /**
   * The grants (`ttl` set) and revokes (`ttl` undefined) applied since `version`, in order; undefined
   * when they are no longer all known (long ago, or a restore since): read every lease then.
   */
  leaseChangesSince(version: number): readonly LeaseChange[] | undefined {
    if (version === this.leaseTableVersion) return [];
    const first = this.leaseJournal[0];
    if (first === undefined || first.version > version + 1 || version > this.leaseTableVersion)
      return undefined;
    return this.leaseJournal.slice(version + 1 - first.version);
  }

  private leaseChanged(id: number, ttl: number | undefined): void {
    this.leaseTableVersion++;
    this.leaseJournal.push({ version: this.leaseTableVersion, id, ttl });
    if (this.leaseJournal.length > 2 * LEASE_JOURNAL_KEEP) {
      this.leaseJournal = this.leaseJournal.slice(-LEASE_JOURNAL_KEEP);
    }
  }

  private leasesReplaced(): void {
    this.leaseTableVersion++;
    this.leaseJournal = [];
  }

  /** Leases in id order, after `afterId` (0 for the first page), at most `limit`. */
  leases(afterId = 0, limit = 1_000): LeaseInfo[] {
    return listLeases(this.s, afterId, limit);
  }

  /**
   * The whole state (keys, change log, exactly-once table, revisions) as snapshot bytes; with
   * `history: false`, only the keys and leases, compacted at the current revision (what a
   * replica needs to start from: its cost follows the state, not its history).
   */
  serialize(options: { history?: boolean } = {}): Uint8Array {
    const build = (): Buffer => writeSnapshot(this.s, readMeta(this.s), options.history ?? true);
    return this.db.inTransaction ? build() : (this.transaction.deferred(build) as Buffer);
  }

  // ---- internals ------------------------------------------------------------------------

  private requireTransaction(what: string): void {
    if (!this.db.inTransaction) {
      throw new KvError('PRECONDITION_FAILED', `${what}() must run inside the caller's transaction`);
    }
  }

  private applyCommand(index: number, bytes: Uint8Array, meta: Meta): ApplyResult {
    let cmd: Command;
    try {
      cmd = decodeCommand(bytes);
      validateCommand(cmd);
    } catch (err) {
      return errorResult(err);
    }
    const requestId = cmd.type === 'noop' ? undefined : cmd.requestId;
    if (requestId !== undefined) {
      const first = lookupRequest(this.s, requestId);
      if (first !== undefined) return first;
    }
    const before = meta.revision;
    const result = this.execute(cmd, meta, index);
    if (meta.revision > before) recordActivity(this.s, cmd, meta.revision);
    if (requestId !== undefined) recordRequest(this.s, meta, requestId, index, result, this.retention);
    return result;
  }

  /** Runs a validated command. Writes happen only after every check that can fail. */
  private execute(cmd: Command, meta: Meta, index: number): ApplyOk | ApplyError {
    switch (cmd.type) {
      case 'noop':
        return { type: 'noop', revision: meta.revision };
      case 'put':
      case 'delete':
      case 'deleteRange': {
        try {
          requireLeasesOf(this.s, [cmd]);
        } catch (err) {
          return errorResult(err);
        }
        const writer = new RevisionWriter(this.s, meta.revision);
        const response = writer.write(cmd);
        meta.revision = writer.revisionAfter();
        return { ...response, revision: meta.revision };
      }
      case 'txn':
        try {
          return this.txn(cmd, meta);
        } catch (err) {
          return errorResult(err);
        }
      case 'compact':
        try {
          checkCompaction(meta, cmd.revision);
        } catch (err) {
          return errorResult(err);
        }
        compactLog(this.s, meta, cmd.revision);
        return { type: 'compact', revision: meta.revision, compactedRevision: meta.compacted_revision };
      case 'leaseGrant':
        try {
          const granted = grantLease(this.s, cmd, index);
          this.leaseChanged(granted.id, granted.ttl);
          return { type: 'leaseGrant', revision: meta.revision, ...granted };
        } catch (err) {
          return errorResult(err);
        }
      case 'leaseRevoke': {
        const writer = new RevisionWriter(this.s, meta.revision);
        let deleted: number;
        try {
          deleted = revokeLease(this.s, writer, cmd.id);
        } catch (err) {
          return errorResult(err);
        }
        meta.revision = writer.revisionAfter();
        this.leaseChanged(cmd.id, undefined);
        return { type: 'leaseRevoke', revision: meta.revision, id: cmd.id, deleted };
      }
    }
  }

  /** Compares see the state before the txn; each op sees the writes of the ops before it. */
  private txn(cmd: TxnCommand, meta: Meta): ApplyOk {
    const succeeded = cmd.compare.every((c) => compareHolds(c, readKey(this.s, c.key)));
    requireLeasesOf(this.s, succeeded ? cmd.success : cmd.failure);
    const writer = new RevisionWriter(this.s, meta.revision);
    const responses = (succeeded ? cmd.success : cmd.failure).map((op) => this.runOp(writer, op));
    meta.revision = writer.revisionAfter();
    return { type: 'txn', revision: meta.revision, succeeded, responses };
  }

  private runOp(writer: RevisionWriter, op: Op): OpResponse {
    switch (op.type) {
      case 'get': {
        const kv = readKey(this.s, op.key);
        return kv === undefined ? { type: 'get' } : { type: 'get', kv };
      }
      case 'range':
        return { type: 'range', ...readRange(this.s, op) };
      default:
        return writer.write(op);
    }
  }
}
