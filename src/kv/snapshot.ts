// Snapshot format of the whole key-value state, and its installation.
//
//   magic "CKVS", format version u8 (= 2; version 1 had no lease records)
//   revision, compacted revision, last applied index     (varuints)
//   records, each a tag byte then fields, in this order:
//     1 key      key, value, createRev, modRev, version, lease?                (kv_keys, key order)
//     2 change   rev, sub, kind u8 (0 put, 1 delete), key,
//                put only: value, createRev, version, lease?;
//                prev flag u8, if 1: value, createRev, modRev, version, lease?  (kv_changes, (rev, sub) order)
//     3 request  request id, index, result JSON                             (kv_requests, index order)
//     4 lease    id, ttl                                                    (kv_leases, id order)
//     5 activity seq, revision, member, kind, reason                        (kv_activity, seq order)
//   0 end
//   SHA-256 of every byte before it (32 bytes)
//
// Integers are unsigned LEB128 varints; `x?` is a nullable varint (0 = null, else n + 1); keys
// and strings are length-prefixed UTF-8 bytes. Records need no counts up front, so the format
// can be produced and consumed as a stream. The output is deterministic: the same state gives
// the same bytes on every node. Text moves as bytes end to end (SQLite casts), never decoded.

import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { ChunkWriter } from './binary.js';
import type { Meta } from './meta.js';
import {
  ACTIVITY_KINDS,
  check,
  corrupt,
  KIND_DELETE,
  KIND_PUT,
  SNAPSHOT_FORMAT_VERSION,
  SNAPSHOT_MAGIC,
  SnapshotScanner,
  TAG_ACTIVITY,
  TAG_CHANGE,
  TAG_END,
  TAG_KEY,
  TAG_LEASE,
  TAG_REQUEST,
  type SnapshotHeader,
  type SnapshotSink,
} from './snapshot-scanner.js';
import { RESTORE_BATCH_ROWS } from './statements.js';
import type { ChangeRecord, KeyRecord, RequestRecord, RestoreStatements, Statements } from './statements.js';

const DIGEST_BYTES = 32;
/** Magic, version, three one-byte varints, end tag. */
const MIN_BODY_BYTES = SNAPSHOT_MAGIC.length + 1 + 3 + 1;
/** Bytes scanned between two progress calls. */
const PROGRESS_BYTES = 1 << 20;

/** The state as snapshot bytes. Run inside a (read) transaction so that the reads agree. */
export function writeSnapshot(s: Statements, meta: Meta, history = true): Buffer {
  const chunks: Buffer[] = [];
  streamSnapshot(s, meta, history, (chunk) => chunks.push(chunk));
  return Buffer.concat(chunks);
}

/** What streamSnapshot wrote. */
export interface SnapshotTotals {
  readonly bytes: number;
  /** SHA-256 of every byte written, the trailing digest included (hex). */
  readonly sha256: string;
}

/**
 * The state as snapshot bytes handed to `emit` chunk by chunk (about 1 MiB each, the digest
 * last), so that a large state never sits whole in memory. Run inside a read transaction.
 * One pass of hashing gives both the format's digest and the digest of the whole.
 */
export function streamSnapshot(
  s: Statements,
  meta: Meta,
  history: boolean,
  emit: (chunk: Buffer) => void,
): SnapshotTotals {
  const hash = createHash('sha256');
  let bytes = 0;
  const w = new ChunkWriter((chunk) => {
    hash.update(chunk);
    bytes += chunk.length;
    emit(chunk);
  });
  for (const byte of SNAPSHOT_MAGIC) w.u8(byte);
  w.u8(SNAPSHOT_FORMAT_VERSION);
  w.varuint(meta.revision);
  // Without history the snapshot says everything up to its revision is compacted (true of it).
  w.varuint(history ? meta.compacted_revision : meta.revision);
  w.varuint(meta.last_index);
  for (const [keyBytes, keyValue, createRev, modRev, version, lease] of s.dumpKeys.iterate()) {
    w.u8(TAG_KEY);
    w.slice(keyValue, 0, keyBytes);
    w.slice(keyValue, keyBytes, keyValue.length);
    w.varuint(createRev);
    w.varuint(modRev);
    w.varuint(version);
    w.nullableVaruint(lease);
  }
  for (const c of history ? s.dumpChanges.iterate() : []) {
    const [rev, sub, kind, keyBytes, valueBytes, bytes, createRev, version, lease] = c;
    const [, , , , , , , , , prevCreateRev, prevModRev, prevVersion, prevLease] = c;
    const valueEnd = keyBytes + (valueBytes ?? 0);
    w.u8(TAG_CHANGE);
    w.varuint(rev);
    w.varuint(sub);
    w.u8(kind === 'put' ? KIND_PUT : KIND_DELETE);
    w.slice(bytes, 0, keyBytes);
    if (kind === 'put') {
      w.slice(bytes, keyBytes, valueEnd);
      w.varuint(createRev);
      w.varuint(version);
      w.nullableVaruint(lease);
    }
    if (prevVersion === null) {
      w.u8(0);
    } else {
      w.u8(1);
      w.slice(bytes, valueEnd, bytes.length);
      w.varuint(prevCreateRev ?? 0);
      w.varuint(prevModRev ?? 0);
      w.varuint(prevVersion);
      w.nullableVaruint(prevLease);
    }
  }
  for (const [idBytes, idResult, idx] of history ? s.dumpRequests.iterate() : []) {
    w.u8(TAG_REQUEST);
    w.slice(idResult, 0, idBytes);
    w.varuint(idx);
    w.slice(idResult, idBytes, idResult.length);
  }
  for (const [id, ttl] of s.dumpLeases.iterate()) {
    w.u8(TAG_LEASE);
    w.varuint(id);
    w.varuint(ttl);
  }
  for (const a of history ? s.listActivity.iterate() : []) {
    w.u8(TAG_ACTIVITY);
    w.varuint(a.seq);
    w.varuint(a.revision);
    const member = Buffer.from(a.member, 'utf8');
    const reason = Buffer.from(a.reason, 'utf8');
    w.slice(member, 0, member.length);
    w.u8(ACTIVITY_KINDS.indexOf(a.kind));
    w.slice(reason, 0, reason.length);
  }
  w.u8(TAG_END);
  w.finish();
  const whole = hash.copy();
  const digest = hash.digest();
  emit(digest);
  return { bytes: bytes + digest.length, sha256: whole.update(digest).digest('hex') };
}

/** Reads every record of a whole snapshot (whose envelope the caller checked). */
function scan(buf: Buffer, sink: SnapshotSink, progress?: RestoreProgress): SnapshotHeader {
  const scanner = new SnapshotScanner(sink);
  const body = buf.subarray(0, buf.length - DIGEST_BYTES);
  let offset = 0;
  while (!scanner.done) {
    const end = Math.min(body.length, offset + Math.max(PROGRESS_BYTES, scanner.needed));
    offset += scanner.feed(body.subarray(offset, end), end === body.length);
    progress?.(offset, buf.length);
  }
  check(offset === body.length, 'stray bytes after the end record');
  // The header is read before any record, and done implies the records were read.
  return scanner.head!;
}

/**
 * Checks the envelope of snapshot bytes: size, magic, format version and checksum. Returns a
 * Buffer view of the bytes. Throws KvError CORRUPT_SNAPSHOT. Corruption in transit or at rest
 * is caught here, before anything changes.
 */
export function checkSnapshotEnvelope(bytes: Uint8Array): Buffer {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  check(buf.length >= MIN_BODY_BYTES + DIGEST_BYTES, `${buf.length} bytes is too short`);
  check(buf.subarray(0, SNAPSHOT_MAGIC.length).equals(SNAPSHOT_MAGIC), 'bad magic (not a kv snapshot)');
  const version = buf[SNAPSHOT_MAGIC.length]!;
  check(version === SNAPSHOT_FORMAT_VERSION, `unknown format version ${version}`);
  const bodyEnd = buf.length - DIGEST_BYTES;
  const digest = createHash('sha256').update(buf.subarray(0, bodyEnd)).digest();
  check(digest.equals(buf.subarray(bodyEnd)), 'checksum mismatch');
  return buf;
}

/**
 * Replaces every kv table's content with the snapshot (whose envelope was checked) and returns
 * the new meta row. Records are checked as they are inserted: on a bad one this throws KvError
 * CORRUPT_SNAPSHOT part-way, so run it in a transaction or savepoint that the throw rolls back.
 */
/** Bytes of the snapshot read so far, of `total`. */
export type RestoreProgress = (read: number, total: number) => void;

/** Rows of one table, inserted RESTORE_BATCH_ROWS at a time (`flush` inserts the rest). */
class BatchedInsert<R extends unknown[]> {
  private values: unknown[] = [];
  private rows = 0;

  constructor(
    private readonly one: Database.Statement<R>,
    private readonly batch: Database.Statement,
  ) {}

  add(row: R): void {
    for (const v of row) this.values.push(v);
    if (++this.rows < RESTORE_BATCH_ROWS) return;
    this.batch.run(this.values);
    this.values = [];
    this.rows = 0;
  }

  flush(): void {
    const width = this.rows === 0 ? 0 : this.values.length / this.rows;
    for (let i = 0; i < this.rows; i++) this.one.run(...(this.values.slice(i * width, (i + 1) * width) as R));
    this.values = [];
    this.rows = 0;
  }
}

/** What a restore inserts through: call `flush` before the transaction ends. */
export interface RestoreSink extends SnapshotSink {
  /** Exactly-once rows inserted. */
  readonly requests: number;
  /** Inserts the rows still batched. */
  flush(): void;
}

/** A sink that inserts the records with `r`, counting the exactly-once rows. */
export function restoreSink(r: RestoreStatements): RestoreSink {
  const keys = new BatchedInsert(r.restoreKey, r.restoreKeyBatch);
  const changes = new BatchedInsert(r.restoreChange, r.restoreChangeBatch);
  let requests = 0;
  const flush = (): void => {
    keys.flush();
    changes.flush();
  };
  return {
    get requests() {
      return requests;
    },
    key: (record: KeyRecord) => {
      keys.add(record);
    },
    change: (record: ChangeRecord) => {
      keys.flush();
      changes.add(record);
    },
    request: (record: RequestRecord) => {
      flush();
      r.restoreRequest.run(...record);
      requests += 1;
    },
    lease: (id: number, ttl: number) => {
      flush();
      r.restoreLease.run(id, ttl);
    },
    activity: (seq: number, rev: number, member: string, kind: string, reason: string) => {
      flush();
      r.restoreActivity.run(seq, rev, member, kind, reason);
    },
    flush,
  };
}

/** A broken table constraint (a repeated request id, ...) is a corrupt snapshot too. */
export function asCorrupt(err: unknown): unknown {
  if (err instanceof Database.SqliteError && err.code.startsWith('SQLITE_CONSTRAINT'))
    return corrupt(err.message);
  return err;
}

export function installSnapshot(
  s: Statements,
  buf: Buffer,
  replica = false,
  progress?: RestoreProgress,
): Meta {
  s.clearKeys.run();
  s.clearChanges.run();
  s.clearRequests.run();
  s.clearLeases.run();
  s.clearActivity.run();
  const sink = restoreSink(s);
  let header: SnapshotHeader;
  try {
    header = scan(buf, sink, progress);
    sink.flush();
    // A replica's own snapshot (a secondary's state file) has keys' lease ids without the leases:
    // change events carry no grants, and a replica never expires anything itself.
    if (!replica) {
      check(s.countOrphanLeaseKeys.get() === 0, 'a key is attached to a lease the snapshot does not have');
    }
  } catch (err) {
    throw asCorrupt(err);
  }
  const requestCount = sink.requests;
  return {
    revision: header.revision,
    compacted_revision: header.compactedRevision,
    last_index: header.lastIndex,
    request_count: requestCount,
  };
}
