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
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { ChunkWriter, Reader } from './binary.js';
import { KvError } from './errors.js';
import { MAX_KEY_BYTES } from './limits.js';
import type { Meta } from './meta.js';
import type { ChangeRecord, KeyRecord, RequestRecord, Statements } from './statements.js';

const MAGIC = Buffer.from('CKVS', 'latin1');
const FORMAT_VERSION = 2;
const DIGEST_BYTES = 32;
/** Magic, version, three one-byte varints, end tag. */
const MIN_BODY_BYTES = MAGIC.length + 1 + 3 + 1;

const TAG_END = 0;
const TAG_KEY = 1;
const TAG_CHANGE = 2;
const TAG_REQUEST = 3;
const TAG_LEASE = 4;
const TAG_ACTIVITY = 5;
const ACTIVITY_KINDS = ['join', 'leave', 'expire', 'remove'];

const KIND_PUT = 0;
const KIND_DELETE = 1;

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
  for (const byte of MAGIC) w.u8(byte);
  w.u8(FORMAT_VERSION);
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

function corrupt(message: string): KvError {
  return new KvError('CORRUPT_SNAPSHOT', `corrupt snapshot: ${message}`);
}

function check(ok: boolean, message: string): void {
  if (!ok) throw corrupt(message);
}

interface SnapshotHeader {
  readonly revision: number;
  readonly compactedRevision: number;
  readonly lastIndex: number;
}

/** Receives the records of a snapshot, in order. The arrays are fresh; the Buffers are views. */
interface SnapshotSink {
  key(record: KeyRecord): void;
  change(record: ChangeRecord): void;
  request(record: RequestRecord): void;
  lease(id: number, ttl: number): void;
  activity(seq: number, revision: number, member: string, kind: string, reason: string): void;
}

function text(r: Reader, what: string): Buffer {
  const bytes = r.bytes(what);
  check(isUtf8(bytes), `${what} is not UTF-8 at byte ${r.offset}`);
  return bytes;
}

function key(r: Reader, what: string): Buffer {
  const bytes = text(r, what);
  check(bytes.length > 0 && bytes.length <= MAX_KEY_BYTES, `${what} of ${bytes.length} bytes`);
  return bytes;
}

/** Records between two progress calls. */
const PROGRESS_EVERY = 4096;

/**
 * Reads every record, checking the structure and the schema invariants (order, ranges) on the
 * way; throws KvError CORRUPT_SNAPSHOT. The envelope (magic, version, checksum) is checked by
 * the caller. Uniqueness of request ids is left to the table's primary key.
 */
function scan(buf: Buffer, sink: SnapshotSink, progress?: RestoreProgress): SnapshotHeader {
  const r = new Reader(buf, buf.length - DIGEST_BYTES);
  for (let i = 0; i < MAGIC.length + 1; i++) r.u8('header');
  const revision = r.varuint('revision');
  const compactedRevision = r.varuint('compacted revision');
  const lastIndex = r.varuint('last index');
  check(compactedRevision <= revision, `compacted revision ${compactedRevision} > revision ${revision}`);

  let lastTag = TAG_KEY;
  let prevKey: Buffer | undefined;
  let prevRev = 0;
  let prevSub = -1;
  let prevIdx = 0;
  let prevLease = 0;
  let prevActivity = 0;
  let records = 0;
  for (;;) {
    if (progress !== undefined && ++records % PROGRESS_EVERY === 0) progress(r.offset, buf.length);
    const tag = r.u8('record tag');
    if (tag === TAG_END) break;
    check(tag >= lastTag && tag <= TAG_ACTIVITY, `unexpected record tag ${tag} at byte ${r.offset - 1}`);
    lastTag = tag;
    if (tag === TAG_KEY) {
      const k = key(r, 'key');
      check(prevKey === undefined || Buffer.compare(prevKey, k) < 0, 'keys out of order or repeated');
      prevKey = k;
      const value = text(r, 'value');
      const createRev = r.varuint('create revision');
      const modRev = r.varuint('mod revision');
      const version = r.varuint('version');
      const lease = r.nullableVaruint('lease');
      check(createRev >= 1 && createRev <= modRev && modRev <= revision, 'key revisions out of range');
      check(version >= 1, 'key version 0');
      sink.key([k, value, createRev, modRev, version, lease]);
    } else if (tag === TAG_CHANGE) {
      const rev = r.varuint('change revision');
      const sub = r.varuint('change sub');
      check(rev > compactedRevision && rev <= revision, `change revision ${rev} out of range`);
      check(rev > prevRev || (rev === prevRev && sub > prevSub), 'changes out of order or repeated');
      prevRev = rev;
      prevSub = sub;
      const kind = r.u8('change kind');
      check(kind === KIND_PUT || kind === KIND_DELETE, `unknown change kind ${kind}`);
      const k = key(r, 'change key');
      let value: Buffer | null = null;
      let createRev = 0;
      let version = 0;
      let lease: number | null = null;
      if (kind === KIND_PUT) {
        value = text(r, 'change value');
        createRev = r.varuint('change create revision');
        version = r.varuint('change version');
        lease = r.nullableVaruint('change lease');
        check(createRev >= 1 && createRev <= rev && version >= 1, 'change fields out of range');
      }
      const hasPrev = r.u8('change prev flag');
      check(hasPrev === 0 || hasPrev === 1, `bad prev flag ${hasPrev}`);
      if (hasPrev === 0) {
        check(kind === KIND_PUT, 'a delete without the deleted pair');
        sink.change([rev, sub, k, 'put', value, createRev, version, lease, null, null, null, null, null]);
        continue;
      }
      const prevValue = text(r, 'prev value');
      const prevCreate = r.varuint('prev create revision');
      const prevMod = r.varuint('prev mod revision');
      const prevVersion = r.varuint('prev version');
      const prevLease = r.nullableVaruint('prev lease');
      check(
        prevCreate >= 1 && prevCreate <= prevMod && prevMod < rev && prevVersion >= 1,
        'prev fields out of range',
      );
      const kindName = kind === KIND_PUT ? 'put' : 'delete';
      sink.change([
        rev,
        sub,
        k,
        kindName,
        value,
        createRev,
        version,
        lease,
        prevValue,
        prevCreate,
        prevMod,
        prevVersion,
        prevLease,
      ]);
    } else if (tag === TAG_ACTIVITY) {
      const seq = r.varuint('activity seq');
      const rev = r.varuint('activity revision');
      const member = text(r, 'activity member').toString('utf8');
      const kind = ACTIVITY_KINDS[r.u8('activity kind')];
      const reason = text(r, 'activity reason').toString('utf8');
      check(
        seq > prevActivity && rev <= revision && kind !== undefined,
        `activity ${seq} out of order or range`,
      );
      prevActivity = seq;
      sink.activity(seq, rev, member, kind ?? '', reason);
    } else if (tag === TAG_LEASE) {
      const id = r.varuint('lease id');
      const ttl = r.varuint('lease ttl');
      check(id > prevLease && ttl >= 1, `lease ${id} out of order, or ttl ${ttl}`);
      prevLease = id;
      sink.lease(id, ttl);
    } else {
      const requestId = text(r, 'request id');
      const idx = r.varuint('request index');
      const result = text(r, 'request result');
      check(idx > prevIdx && idx <= lastIndex, `request index ${idx} out of order or range`);
      check(requestId.length > 0, 'empty request id');
      prevIdx = idx;
      sink.request([requestId, idx, result]);
    }
  }
  check(r.atEnd(), 'stray bytes after the end record');
  return { revision, compactedRevision, lastIndex };
}

/**
 * Checks the envelope of snapshot bytes: size, magic, format version and checksum. Returns a
 * Buffer view of the bytes. Throws KvError CORRUPT_SNAPSHOT. Corruption in transit or at rest
 * is caught here, before anything changes.
 */
export function checkSnapshotEnvelope(bytes: Uint8Array): Buffer {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  check(buf.length >= MIN_BODY_BYTES + DIGEST_BYTES, `${buf.length} bytes is too short`);
  check(buf.subarray(0, MAGIC.length).equals(MAGIC), 'bad magic (not a kv snapshot)');
  const version = buf[MAGIC.length]!;
  check(version === FORMAT_VERSION, `unknown format version ${version}`);
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
  let requestCount = 0;
  let header: SnapshotHeader;
  try {
    header = scan(
      buf,
      {
        key: (record) => s.restoreKey.run(...record),
        change: (record) => s.restoreChange.run(...record),
        request: (record) => {
          s.restoreRequest.run(...record);
          requestCount += 1;
        },
        lease: (id, ttl) => s.restoreLease.run(id, ttl),
        activity: (seq, rev, member, kind, reason) => s.restoreActivity.run(seq, rev, member, kind, reason),
      },
      progress,
    );
    // A replica's own snapshot (a secondary's state file) has keys' lease ids without the leases:
    // change events carry no grants, and a replica never expires anything itself.
    if (!replica) {
      check(s.countOrphanLeaseKeys.get() === 0, 'a key is attached to a lease the snapshot does not have');
    }
  } catch (err) {
    // A repeated request id (or any other broken table constraint) is a corrupt snapshot too.
    if (err instanceof Database.SqliteError && err.code.startsWith('SQLITE_CONSTRAINT')) {
      throw corrupt(err.message);
    }
    throw err;
  }
  return {
    revision: header.revision,
    compacted_revision: header.compactedRevision,
    last_index: header.lastIndex,
    request_count: requestCount,
  };
}
