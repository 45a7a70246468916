// Reads the records of a snapshot (format in snapshot.ts), checking the structure and the schema
// invariants (order, ranges) on the way; throws KvError CORRUPT_SNAPSHOT. It can be fed a whole
// snapshot or a stream of it piece by piece: records are handed to the sink only once whole,
// and a record cut by the end of a piece is read again, from its start, with the next piece.
// The envelope (magic, version, checksum) is the caller's to check.

import { isUtf8 } from 'node:buffer';
import { Reader, TruncatedInput } from './binary.js';
import { KvError } from './errors.js';
import { MAX_KEY_BYTES } from './limits.js';
import type { ChangeRecord, KeyRecord, RequestRecord } from './statements.js';

export const SNAPSHOT_MAGIC = Buffer.from('CKVS', 'latin1');
export const SNAPSHOT_FORMAT_VERSION = 2;

export const TAG_END = 0;
export const TAG_KEY = 1;
export const TAG_CHANGE = 2;
export const TAG_REQUEST = 3;
export const TAG_LEASE = 4;
export const TAG_ACTIVITY = 5;
export const ACTIVITY_KINDS = ['join', 'leave', 'expire', 'remove'];

export const KIND_PUT = 0;
export const KIND_DELETE = 1;

export interface SnapshotHeader {
  readonly revision: number;
  readonly compactedRevision: number;
  readonly lastIndex: number;
}

/** Receives the records of a snapshot, in order. The arrays are fresh; the Buffers are views. */
export interface SnapshotSink {
  key(record: KeyRecord): void;
  change(record: ChangeRecord): void;
  request(record: RequestRecord): void;
  lease(id: number, ttl: number): void;
  activity(seq: number, revision: number, member: string, kind: string, reason: string): void;
}

export function corrupt(message: string): KvError {
  return new KvError('CORRUPT_SNAPSHOT', `corrupt snapshot: ${message}`);
}

export function check(ok: boolean, message: string): void {
  if (!ok) throw corrupt(message);
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

/** What the order checks remember of the records before. */
interface ScanState {
  lastTag: number;
  prevKey: Buffer | undefined;
  prevRev: number;
  prevSub: number;
  prevIdx: number;
  prevLease: number;
  prevActivity: number;
}

export class SnapshotScanner {
  private header: SnapshotHeader | undefined;
  private state: ScanState = {
    lastTag: TAG_KEY,
    prevKey: undefined,
    prevRev: 0,
    prevSub: -1,
    prevIdx: 0,
    prevLease: 0,
    prevActivity: 0,
  };
  private ended = false;
  /** Records read so far. */
  records = 0;
  /** Bytes the next feed() needs at least (from the start of what it is given) to make progress. */
  needed = 0;

  constructor(private readonly sink: SnapshotSink) {}

  /** Set once the header has been read. */
  get head(): SnapshotHeader | undefined {
    return this.header;
  }

  /** Whether the end record has been read. */
  get done(): boolean {
    return this.ended;
  }

  /**
   * Reads the records whole in `buf` (the bytes after those consumed by earlier calls) and
   * returns how many bytes it consumed; it stops after the end record. With `last`, `buf` is
   * all that is left and a cut record is corrupt.
   */
  feed(buf: Buffer, last: boolean): number {
    const r = new Reader(buf);
    let consumed = 0;
    try {
      if (this.header === undefined) {
        this.header = readHeader(r);
        consumed = r.offset;
      }
      while (!this.ended) {
        const saved = { ...this.state };
        try {
          const tag = r.u8('record tag');
          if (tag === TAG_END) {
            this.ended = true;
          } else {
            check(
              tag >= this.state.lastTag && tag <= TAG_ACTIVITY,
              `unexpected record tag ${tag} at byte ${r.offset - 1}`,
            );
            this.state.lastTag = tag;
            this.record(r, tag, this.header);
            this.records++;
          }
        } catch (error) {
          this.state = saved;
          throw error;
        }
        consumed = r.offset;
      }
    } catch (error) {
      if (last || !(error instanceof TruncatedInput)) throw error;
      this.needed = error.needed - consumed;
      return consumed;
    }
    this.needed = 0;
    return consumed;
  }

  private record(r: Reader, tag: number, h: SnapshotHeader): void {
    const st = this.state;
    if (tag === TAG_KEY) {
      const k = key(r, 'key');
      check(st.prevKey === undefined || Buffer.compare(st.prevKey, k) < 0, 'keys out of order or repeated');
      st.prevKey = k;
      const value = text(r, 'value');
      const createRev = r.varuint('create revision');
      const modRev = r.varuint('mod revision');
      const version = r.varuint('version');
      const lease = r.nullableVaruint('lease');
      check(createRev >= 1 && createRev <= modRev && modRev <= h.revision, 'key revisions out of range');
      check(version >= 1, 'key version 0');
      this.sink.key([k, value, createRev, modRev, version, lease]);
    } else if (tag === TAG_CHANGE) {
      const rev = r.varuint('change revision');
      const sub = r.varuint('change sub');
      check(rev > h.compactedRevision && rev <= h.revision, `change revision ${rev} out of range`);
      check(rev > st.prevRev || (rev === st.prevRev && sub > st.prevSub), 'changes out of order or repeated');
      st.prevRev = rev;
      st.prevSub = sub;
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
        this.sink.change([
          rev,
          sub,
          k,
          'put',
          value,
          createRev,
          version,
          lease,
          null,
          null,
          null,
          null,
          null,
        ]);
        return;
      }
      const prevValue = text(r, 'prev value');
      const prevCreate = r.varuint('prev create revision');
      const prevMod = r.varuint('prev mod revision');
      const prevVersion = r.varuint('prev version');
      const prevKeyLease = r.nullableVaruint('prev lease');
      check(
        prevCreate >= 1 && prevCreate <= prevMod && prevMod < rev && prevVersion >= 1,
        'prev fields out of range',
      );
      const kindName = kind === KIND_PUT ? 'put' : 'delete';
      this.sink.change([
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
        prevKeyLease,
      ]);
    } else if (tag === TAG_ACTIVITY) {
      const seq = r.varuint('activity seq');
      const rev = r.varuint('activity revision');
      const member = text(r, 'activity member').toString('utf8');
      const kind = ACTIVITY_KINDS[r.u8('activity kind')];
      const reason = text(r, 'activity reason').toString('utf8');
      check(
        seq > st.prevActivity && rev <= h.revision && kind !== undefined,
        `activity ${seq} out of order or range`,
      );
      st.prevActivity = seq;
      this.sink.activity(seq, rev, member, kind ?? '', reason);
    } else if (tag === TAG_LEASE) {
      const id = r.varuint('lease id');
      const ttl = r.varuint('lease ttl');
      check(id > st.prevLease && ttl >= 1, `lease ${id} out of order, or ttl ${ttl}`);
      st.prevLease = id;
      this.sink.lease(id, ttl);
    } else {
      const requestId = text(r, 'request id');
      const idx = r.varuint('request index');
      const result = text(r, 'request result');
      check(idx > st.prevIdx && idx <= h.lastIndex, `request index ${idx} out of order or range`);
      check(requestId.length > 0, 'empty request id');
      st.prevIdx = idx;
      this.sink.request([requestId, idx, result]);
    }
  }
}

function readHeader(r: Reader): SnapshotHeader {
  for (const byte of SNAPSHOT_MAGIC) check(r.u8('header') === byte, 'bad magic (not a kv snapshot)');
  const version = r.u8('header');
  check(version === SNAPSHOT_FORMAT_VERSION, `unknown format version ${version}`);
  const revision = r.varuint('revision');
  const compactedRevision = r.varuint('compacted revision');
  const lastIndex = r.varuint('last index');
  check(compactedRevision <= revision, `compacted revision ${compactedRevision} > revision ${revision}`);
  return { revision, compactedRevision, lastIndex };
}
