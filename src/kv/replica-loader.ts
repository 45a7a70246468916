// Loads a snapshot into a replica piece by piece, as its bytes arrive, without the replica ever
// showing a half-loaded state: records go into a staging copy of the kv tables (an attached
// in-memory database), each piece in its own short transaction, while the replica's own tables
// keep serving reads. Once the end record and the format's checksum are verified, one
// transaction replaces the replica's tables with the staged ones. A replica that serves nothing
// yet (empty, before its first sync) is loaded in place instead: there is no old state to keep,
// and no copy to make at the end; a failed load empties its tables again.

import type Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { KvError } from './errors.js';
import { asCorrupt, restoreSink } from './snapshot.js';
import type { RestoreSink } from './snapshot.js';
import { check, type SnapshotHeader, SnapshotScanner } from './snapshot-scanner.js';
import { prepareRestoreStatements } from './statements.js';

/** The attached staging database (private to the connection). */
export const STAGING_SCHEMA = 'kv_staging';
/** The kv tables a snapshot fills (kv_meta is written from the header). */
export const SNAPSHOT_TABLES = ['kv_keys', 'kv_changes', 'kv_requests', 'kv_leases', 'kv_activity'] as const;

const DIGEST_BYTES = 32;

export class ReplicaLoader {
  private readonly scanner: SnapshotScanner;
  private readonly sink: RestoreSink;
  /** Of every byte so far, in order: one pass gives the format's checksum and the whole's digest. */
  private readonly hash = createHash('sha256');
  /** SHA-256 of the bytes before the trailing digest, once the end record is read. */
  private bodyDigest: Buffer | undefined;
  private installed = false;
  /** Bytes received and not yet consumed by the scanner. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes after the end record: the digest. */
  private trailer: Buffer[] = [];
  private closed = false;

  /**
   * Staged: attaches the staging database, and `install` swaps the staged tables in. In place
   * (`inPlace`, for a store whose kv tables are empty and serve nothing until `finish`): records
   * go straight into them, and `install` only writes the header's meta.
   */
  constructor(
    private readonly db: Database.Database,
    readonly inPlace: boolean,
    private readonly install: (header: SnapshotHeader, requestCount: number) => void,
  ) {
    if (inPlace) {
      this.sink = restoreSink(prepareRestoreStatements(db, 'main'));
      this.scanner = new SnapshotScanner(this.sink);
      return;
    }
    db.exec(`ATTACH DATABASE ':memory:' AS ${STAGING_SCHEMA}`);
    try {
      const tables = db
        .prepare<string[], string>(
          `SELECT sql FROM main.sqlite_schema WHERE type = 'table' AND name IN (${SNAPSHOT_TABLES.map(() => '?').join(', ')})`,
        )
        .pluck()
        .all(...SNAPSHOT_TABLES);
      // Same definitions (and so the same constraints and column order) as the replica's own.
      for (const sql of tables) db.exec(sql.replace(/^CREATE TABLE /, `CREATE TABLE ${STAGING_SCHEMA}.`));
      this.sink = restoreSink(prepareRestoreStatements(db, STAGING_SCHEMA));
    } catch (error) {
      this.close();
      throw error;
    }
    this.scanner = new SnapshotScanner(this.sink);
  }

  /** The next bytes of the snapshot. Throws KvError CORRUPT_SNAPSHOT on bad ones. */
  write(chunk: Buffer): void {
    this.requireOpen();
    if (this.scanner.done) {
      this.trailer.push(chunk);
      this.hash.update(chunk);
      return;
    }
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    // A record cut by the end of the bytes so far: wait until it can be whole.
    if (this.pendingBytes >= this.scanner.needed) this.scan(false);
  }

  /**
   * After the last byte: checks the end record and the checksum, then replaces the replica's
   * state with the snapshot. Throws KvError CORRUPT_SNAPSHOT (the replica unchanged).
   */
  finish(): SnapshotHeader {
    this.requireOpen();
    try {
      if (!this.scanner.done) this.scan(true);
      const digest = Buffer.concat(this.trailer);
      check(digest.length === DIGEST_BYTES, `${digest.length} bytes after the end record, not a digest`);
      check(digest.equals(this.bodyDigest!), 'checksum mismatch');
      const header = this.scanner.head;
      check(header !== undefined, 'no header');
      this.install(header!, this.sink.requests);
      this.installed = true;
      return header!;
    } finally {
      this.close();
    }
  }

  /**
   * After the last byte, before `finish`: the SHA-256 (hex) of every byte written, for a check
   * against the digest the bytes came with. Throws KvError CORRUPT_SNAPSHOT on a cut snapshot.
   */
  sha256(): string {
    this.requireOpen();
    if (!this.scanner.done) this.scan(true);
    return this.hash.copy().digest('hex');
  }

  /** Drops what was staged; the replica is unchanged. */
  abort(): void {
    this.close();
  }

  private scan(last: boolean): void {
    const buf = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    let consumed: number;
    try {
      consumed = this.db.transaction(() => {
        const n = this.scanner.feed(buf, last);
        this.sink.flush();
        return n;
      })();
    } catch (error) {
      throw asCorrupt(error);
    }
    this.hash.update(buf.subarray(0, consumed));
    const rest = buf.subarray(consumed);
    if (this.scanner.done) {
      this.bodyDigest = this.hash.copy().digest();
      this.hash.update(rest);
      this.trailer.push(rest);
      this.pending = [];
      this.pendingBytes = 0;
    } else {
      this.pending = rest.length > 0 ? [rest] : [];
      this.pendingBytes = rest.length;
    }
  }

  private requireOpen(): void {
    if (this.closed) throw new KvError('PRECONDITION_FAILED', 'this snapshot load has ended');
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = [];
    this.trailer = [];
    // The connection may be closed already (the node stopping): nothing is left to drop then.
    if (!this.db.open) return;
    if (!this.inPlace) {
      this.db.exec(`DETACH DATABASE ${STAGING_SCHEMA}`);
      return;
    }
    if (this.installed) return;
    // A failed in-place load leaves the tables as they were: empty.
    this.db.transaction(() => {
      for (const table of SNAPSHOT_TABLES) this.db.prepare(`DELETE FROM main.${table}`).run();
    })();
  }
}
