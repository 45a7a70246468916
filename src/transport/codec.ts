// Binary encoding of a batch of Raft messages (one HTTP request body to one peer).
//
// Layout (all integers are unsigned LEB128 varints, minimally encoded, at most 8 bytes, at most
// Number.MAX_SAFE_INTEGER; `str` is varint byte length + UTF-8; `bytes` is varint length + raw
// bytes; `bool` is one byte 0 or 1; `id` is a varint index into the batch's node-id table):
//
//   batch    := 'C' 'R' 'M' '1'  idCount  str*idCount  msgCount  message*msgCount   (nothing after)
//   message  := typeByte  from:id  to:id  term  body
//
//   type  body
//   1  append             index logTerm commit entryCount [layout entry*entryCount]
//                           layout (only when entryCount > 0): 0 = entries at index+1, index+2, ...
//                           (their indices are not written), 1 = each entry starts with its index
//                           entry := [index] term entryType(0 normal, 1 conf) data:bytes
//   2  appendResponse     index reject:bool hint hintTerm
//   3  heartbeat          commit readSeq
//   4  heartbeatResponse  readSeq
//   5  vote               lastIndex lastTerm transfer:bool
//   6  preVote            lastIndex lastTerm transfer:bool
//   7  voteResponse       reject:bool
//   8  preVoteResponse    reject:bool
//   9  snapshot           metaIndex metaTerm voterCount voter:id* learnerCount learner:id*
//                           offset totalBytes data:bytes     (offset + data length <= totalBytes)
//   10 snapshotResponse   snapshotIndex received
//   11 timeoutNow         (nothing)
//   12 readIndex          context:str
//   13 readIndexResponse  context:str index
//
// Decoding trusts nothing: any deviation throws CodecError (code BAD_PEER_MESSAGE) naming the
// field and the byte offset. Decoded `data` fields are views of the input (zero-copy).

import type {
  AppendMessage,
  Entry,
  Message,
  MessageType,
  NodeId,
  SnapshotChunkMessage,
} from '../raft/types.js';
import { ByteReader, ByteWriter, utf8Length, varintSize } from './codec-io.js';

export { CodecError } from './codec-errors.js';
export type { CodecErrorCode } from './codec-errors.js';

/** 'CRM' then the format version '1'. */
export const CODEC_MAGIC: readonly number[] = [0x43, 0x52, 0x4d];
export const CODEC_VERSION = 0x31;
const HEADER_BYTES = 4;

const TYPE_CODES: Record<MessageType, number> = {
  append: 1,
  appendResponse: 2,
  heartbeat: 3,
  heartbeatResponse: 4,
  vote: 5,
  preVote: 6,
  voteResponse: 7,
  preVoteResponse: 8,
  snapshot: 9,
  snapshotResponse: 10,
  timeoutNow: 11,
  readIndex: 12,
  readIndexResponse: 13,
};
const TYPES_BY_CODE: readonly (MessageType | undefined)[] = [
  undefined,
  'append',
  'appendResponse',
  'heartbeat',
  'heartbeatResponse',
  'vote',
  'preVote',
  'voteResponse',
  'preVoteResponse',
  'snapshot',
  'snapshotResponse',
  'timeoutNow',
  'readIndex',
  'readIndexResponse',
];

const LAYOUT_CONSECUTIVE = 0;
const LAYOUT_EXPLICIT = 1;

/** Smallest encodings, used to bound counts read from the wire before looping. */
const MIN_MESSAGE_BYTES = 4; // type, from, to, term
const MIN_ENTRY_BYTES = 3; // term, type, data length
const MIN_ID_BYTES = 1;

// ------------------------------------------------------------------------------------ encoding

/**
 * Encodes a batch of messages. Throws RangeError for a message that cannot be encoded faithfully:
 * a number that is not a non-negative safe integer, a string that is not well-formed UTF-16 (lone
 * surrogate), or a snapshot chunk extending past its totalBytes. These are programming errors,
 * not peer errors, so they are not CodecErrors.
 */
export function encodeMessages(messages: readonly Message[]): Uint8Array {
  const enc = new Encoder();
  let size = HEADER_BYTES;
  for (let i = 0; i < messages.length; i++) {
    enc.index = i;
    size += enc.measure(messages[i]!);
  }
  const ids = enc.ids;
  size += varintSize(ids.length);
  for (let i = 0; i < ids.length; i++) size += varintSize(enc.idLengths[i]!) + enc.idLengths[i]!;
  size += varintSize(messages.length);

  const w = new ByteWriter(size);
  w.byte(CODEC_MAGIC[0]!);
  w.byte(CODEC_MAGIC[1]!);
  w.byte(CODEC_MAGIC[2]!);
  w.byte(CODEC_VERSION);
  w.uint(ids.length);
  for (let i = 0; i < ids.length; i++) w.string(ids[i]!, enc.idLengths[i]!);
  w.uint(messages.length);
  for (const m of messages) enc.write(w, m);
  if (w.pos !== size) throw new Error(`codec: internal error, wrote ${w.pos} bytes, measured ${size}`);
  return w.buf;
}

/** Two passes: measure (validating and interning node ids), then write into an exact-size buffer. */
class Encoder {
  /** Node-id table in order of first use. */
  readonly ids: NodeId[] = [];
  readonly idLengths: number[] = [];
  /** Message being measured, for error messages. */
  index = 0;
  private readonly idIndex = new Map<NodeId, number>();
  // The two most recent ids, in front of idIndex: a batch mostly repeats the same from/to.
  private recentA = '';
  private recentAIndex = -1;
  private recentB = '';
  private recentBIndex = -1;

  measure(m: Message): number {
    let n = 1 + this.id(m.from, 'from') + this.id(m.to, 'to') + this.uint(m.term, m, 'term');
    switch (m.type) {
      case 'append': {
        n += this.uint(m.index, m, 'index') + this.uint(m.logTerm, m, 'logTerm');
        n += this.uint(m.commit, m, 'commit') + varintSize(m.entries.length);
        if (m.entries.length === 0) return n;
        const explicit = !consecutive(m);
        n += 1;
        for (const e of m.entries) {
          if (explicit) n += this.uint(e.index, m, 'entry index');
          n += this.uint(e.term, m, 'entry term') + 1 + varintSize(e.data.length) + e.data.length;
        }
        return n;
      }
      case 'appendResponse':
        n += this.uint(m.index, m, 'index') + 1;
        return n + this.uint(m.hint, m, 'hint') + this.uint(m.hintTerm, m, 'hintTerm');
      case 'heartbeat':
        return n + this.uint(m.commit, m, 'commit') + this.uint(m.readSeq, m, 'readSeq');
      case 'heartbeatResponse':
        return n + this.uint(m.readSeq, m, 'readSeq');
      case 'vote':
      case 'preVote':
        return n + this.uint(m.lastIndex, m, 'lastIndex') + this.uint(m.lastTerm, m, 'lastTerm') + 1;
      case 'voteResponse':
      case 'preVoteResponse':
        return n + 1;
      case 'snapshot': {
        const { meta } = m;
        n += this.uint(meta.index, m, 'meta.index') + this.uint(meta.term, m, 'meta.term');
        n += varintSize(meta.conf.voters.length);
        for (const v of meta.conf.voters) n += this.id(v, 'voter');
        n += varintSize(meta.conf.learners.length);
        for (const l of meta.conf.learners) n += this.id(l, 'learner');
        n += this.uint(m.offset, m, 'offset') + this.uint(m.totalBytes, m, 'totalBytes');
        if (m.offset + m.data.length > m.totalBytes) {
          this.fail(m, `chunk [${m.offset}, +${m.data.length}) extends past totalBytes ${m.totalBytes}`);
        }
        return n + varintSize(m.data.length) + m.data.length;
      }
      case 'snapshotResponse':
        n += this.uint(m.snapshotIndex, m, 'snapshotIndex');
        return n + this.uint(m.received, m, 'received');
      case 'timeoutNow':
        return n;
      case 'readIndex':
        return n + this.str(m.context, m, 'context');
      case 'readIndexResponse':
        return n + this.str(m.context, m, 'context') + this.uint(m.index, m, 'index');
      default:
        return unknownType(m, this.index);
    }
  }

  write(w: ByteWriter, m: Message): void {
    w.byte(TYPE_CODES[m.type]);
    w.uint(this.ref(m.from, 'from'));
    w.uint(this.ref(m.to, 'to'));
    w.uint(m.term);
    switch (m.type) {
      case 'append': {
        w.uint(m.index);
        w.uint(m.logTerm);
        w.uint(m.commit);
        const entries = m.entries;
        w.uint(entries.length);
        if (entries.length === 0) return;
        const explicit = !consecutive(m);
        w.byte(explicit ? LAYOUT_EXPLICIT : LAYOUT_CONSECUTIVE);
        for (const e of entries) {
          if (explicit) w.uint(e.index);
          w.uint(e.term);
          w.byte(e.type === 'conf' ? 1 : 0);
          w.bytes(e.data);
        }
        return;
      }
      case 'appendResponse':
        w.uint(m.index);
        w.byte(m.reject ? 1 : 0);
        w.uint(m.hint);
        w.uint(m.hintTerm);
        return;
      case 'heartbeat':
        w.uint(m.commit);
        w.uint(m.readSeq);
        return;
      case 'heartbeatResponse':
        w.uint(m.readSeq);
        return;
      case 'vote':
      case 'preVote':
        w.uint(m.lastIndex);
        w.uint(m.lastTerm);
        w.byte(m.transfer ? 1 : 0);
        return;
      case 'voteResponse':
      case 'preVoteResponse':
        w.byte(m.reject ? 1 : 0);
        return;
      case 'snapshot': {
        const { meta } = m;
        w.uint(meta.index);
        w.uint(meta.term);
        w.uint(meta.conf.voters.length);
        for (const v of meta.conf.voters) w.uint(this.ref(v, 'voter'));
        w.uint(meta.conf.learners.length);
        for (const l of meta.conf.learners) w.uint(this.ref(l, 'learner'));
        w.uint(m.offset);
        w.uint(m.totalBytes);
        w.bytes(m.data);
        return;
      }
      case 'snapshotResponse':
        w.uint(m.snapshotIndex);
        w.uint(m.received);
        return;
      case 'timeoutNow':
        return;
      case 'readIndex':
        w.string(m.context, utf8Length(m.context));
        return;
      case 'readIndexResponse':
        w.string(m.context, utf8Length(m.context));
        w.uint(m.index);
        return;
    }
  }

  /** Index of an interned node id (interning it if new). */
  private ref(id: NodeId, field: string): number {
    if (this.recentAIndex >= 0 && id === this.recentA) return this.recentAIndex;
    if (this.recentBIndex >= 0 && id === this.recentB) return this.recentBIndex;
    let i = this.idIndex.get(id);
    if (i === undefined) {
      const len = utf8Length(id);
      if (len < 0) throw new RangeError(`${this.prefix()}${field} is not well-formed UTF-16`);
      i = this.ids.length;
      this.ids.push(id);
      this.idLengths.push(len);
      this.idIndex.set(id, i);
    }
    this.recentB = this.recentA;
    this.recentBIndex = this.recentAIndex;
    this.recentA = id;
    this.recentAIndex = i;
    return i;
  }

  /** Interns a node id; returns the size of its reference. */
  private id(id: NodeId, field: string): number {
    return varintSize(this.ref(id, field));
  }

  private uint(v: number, m: Message, field: string): number {
    if (!Number.isSafeInteger(v) || v < 0) {
      this.fail(m, `${field} must be a non-negative safe integer, got ${String(v)}`);
    }
    return varintSize(v);
  }

  private str(s: string, m: Message, field: string): number {
    const len = utf8Length(s);
    if (len < 0) this.fail(m, `${field} is not well-formed UTF-16`);
    return varintSize(len) + len;
  }

  private fail(m: Message, detail: string): never {
    throw new RangeError(`${this.prefix()}${m.type}: ${detail}`);
  }

  private prefix(): string {
    return `codec: cannot encode message #${this.index}: `;
  }
}

/** Whether the entries sit at index+1, index+2, ... (so their indices need not be written). */
function consecutive(m: AppendMessage): boolean {
  const entries = m.entries;
  for (let i = 0; i < entries.length; i++) {
    if (entries[i]!.index !== m.index + 1 + i) return false;
  }
  return true;
}

function unknownType(m: never, index: number): never {
  throw new RangeError(
    `codec: cannot encode message #${index}: unknown type ${String((m as { type: unknown }).type)}`,
  );
}

// ------------------------------------------------------------------------------------ decoding

/**
 * Decodes a batch produced by encodeMessages. Throws CodecError (code BAD_PEER_MESSAGE) for any
 * malformed input: bad magic or version, truncation, unknown type or enum byte, varint longer than
 * 8 bytes / above Number.MAX_SAFE_INTEGER / not minimal, length or count beyond the input,
 * invalid UTF-8, node-id reference outside the table, a snapshot chunk past its totalBytes,
 * trailing bytes. Work and allocation are linear in the input size.
 *
 * Zero-copy: every decoded `data` field (entries, snapshot chunks) is a view of `bytes`' buffer,
 * not a copy. The views alias the input (mutating one mutates the other) and keep the whole
 * underlying ArrayBuffer alive (for a pooled Node Buffer, the pool slab); copy with `.slice()`
 * anything retained long-term. Views are plain Uint8Arrays even when `bytes` is a Buffer.
 */
export function decodeMessages(bytes: Uint8Array): Message[] {
  const r = new ByteReader(bytes);
  readHeader(r, bytes);
  const idCount = r.count('node-id table size', MIN_ID_BYTES);
  const ids: NodeId[] = [];
  for (let i = 0; i < idCount; i++) ids.push(r.string('node id'));
  const count = r.count('message count', MIN_MESSAGE_BYTES);
  const out: Message[] = [];
  for (let i = 0; i < count; i++) out.push(readMessage(r, ids, i));
  r.message = -1;
  if (r.remaining() !== 0) r.fail('batch', `${r.remaining()} trailing bytes after the last message`, r.pos);
  return out;
}

function readHeader(r: ByteReader, bytes: Uint8Array): void {
  const n = Math.min(bytes.length, CODEC_MAGIC.length);
  for (let i = 0; i < n; i++) {
    if (bytes[i] !== CODEC_MAGIC[i]) r.fail('header', 'bad magic (not a Conclave message batch)', i);
  }
  if (bytes.length < HEADER_BYTES) r.fail('header', 'truncated', bytes.length);
  const version = bytes[CODEC_MAGIC.length]!;
  if (version !== CODEC_VERSION) {
    r.fail('header', `unsupported version byte 0x${version.toString(16).padStart(2, '0')}`, 3);
  }
  r.pos = HEADER_BYTES;
}

function readMessage(r: ByteReader, ids: readonly NodeId[], i: number): Message {
  r.message = i;
  r.messageType = '';
  const at = r.pos;
  const code = r.byte('type');
  const type = TYPES_BY_CODE[code];
  if (type === undefined) return r.fail('type', `unknown message type ${code}`, at);
  r.messageType = type;
  const from = readId(r, ids, 'from');
  const to = readId(r, ids, 'to');
  const term = r.uint('term');
  switch (type) {
    case 'append': {
      const index = r.uint('index');
      const logTerm = r.uint('logTerm');
      const commit = r.uint('commit');
      const entries = readEntries(r, index);
      return { type, from, to, term, index, logTerm, entries, commit };
    }
    case 'appendResponse': {
      const index = r.uint('index');
      const reject = r.bool('reject');
      const hint = r.uint('hint');
      const hintTerm = r.uint('hintTerm');
      return { type, from, to, term, index, reject, hint, hintTerm };
    }
    case 'heartbeat': {
      const commit = r.uint('commit');
      const readSeq = r.uint('readSeq');
      return { type, from, to, term, commit, readSeq };
    }
    case 'heartbeatResponse':
      return { type, from, to, term, readSeq: r.uint('readSeq') };
    case 'vote':
    case 'preVote': {
      const lastIndex = r.uint('lastIndex');
      const lastTerm = r.uint('lastTerm');
      const transfer = r.bool('transfer');
      return { type, from, to, term, lastIndex, lastTerm, transfer };
    }
    case 'voteResponse':
    case 'preVoteResponse':
      return { type, from, to, term, reject: r.bool('reject') };
    case 'snapshot':
      return readSnapshot(r, ids, from, to, term);
    case 'snapshotResponse': {
      const snapshotIndex = r.uint('snapshotIndex');
      const received = r.uint('received');
      return { type, from, to, term, snapshotIndex, received };
    }
    case 'timeoutNow':
      return { type, from, to, term };
    case 'readIndex':
      return { type, from, to, term, context: r.string('context') };
    case 'readIndexResponse': {
      const context = r.string('context');
      const index = r.uint('index');
      return { type, from, to, term, context, index };
    }
  }
}

function readId(r: ByteReader, ids: readonly NodeId[], what: string): NodeId {
  const at = r.pos;
  const i = r.uint(what);
  const id = ids[i];
  if (id === undefined) r.fail(what, `node-id reference ${i} outside the table of ${ids.length}`, at);
  return id;
}

function readEntries(r: ByteReader, prevIndex: number): Entry[] {
  const count = r.count('entry count', MIN_ENTRY_BYTES);
  const entries: Entry[] = [];
  if (count === 0) return entries;
  const layoutAt = r.pos;
  const layout = r.byte('entry layout');
  if (layout !== LAYOUT_CONSECUTIVE && layout !== LAYOUT_EXPLICIT) {
    r.fail('entry layout', `unknown entry layout ${layout}`, layoutAt);
  }
  const explicit = layout === LAYOUT_EXPLICIT;
  if (!explicit && prevIndex + count > Number.MAX_SAFE_INTEGER) {
    r.fail('entries', `entry indices ${prevIndex} + ${count} exceed Number.MAX_SAFE_INTEGER`, layoutAt);
  }
  for (let i = 0; i < count; i++) {
    const index = explicit ? r.uint('entry index') : prevIndex + 1 + i;
    const term = r.uint('entry term');
    const typeAt = r.pos;
    const typeByte = r.byte('entry type');
    if (typeByte > 1) r.fail('entry type', `unknown entry type ${typeByte}`, typeAt);
    const data = r.bytes('entry data');
    entries.push({ index, term, type: typeByte === 1 ? 'conf' : 'normal', data });
  }
  return entries;
}

function readSnapshot(
  r: ByteReader,
  ids: readonly NodeId[],
  from: NodeId,
  to: NodeId,
  term: number,
): SnapshotChunkMessage {
  const index = r.uint('meta.index');
  const metaTerm = r.uint('meta.term');
  const voterCount = r.count('voter count', MIN_ID_BYTES);
  const voters: NodeId[] = [];
  for (let i = 0; i < voterCount; i++) voters.push(readId(r, ids, 'voter'));
  const learnerCount = r.count('learner count', MIN_ID_BYTES);
  const learners: NodeId[] = [];
  for (let i = 0; i < learnerCount; i++) learners.push(readId(r, ids, 'learner'));
  const offset = r.uint('offset');
  const totalBytes = r.uint('totalBytes');
  const dataAt = r.pos;
  const data = r.bytes('data');
  if (offset + data.length > totalBytes) {
    r.fail('data', `chunk [${offset}, +${data.length}) extends past totalBytes ${totalBytes}`, dataAt);
  }
  const meta = { index, term: metaTerm, conf: { voters, learners } };
  return { type: 'snapshot', from, to, term, meta, offset, totalBytes, data };
}
