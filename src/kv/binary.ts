// Length-prefixed binary records for snapshots: unsigned LEB128 varints (up to 2^53 - 1) and
// length-prefixed byte strings. The writer fills fixed-size chunks, so output
// can be handed on piece by piece; the reader bounds-checks everything and throws KvError
// CORRUPT_SNAPSHOT on malformed input, never reading past its buffer.

import { KvError } from './errors.js';

const CHUNK_BYTES = 1 << 20;
/** 2^53 needs 8 LEB128 groups of 7 bits; a 9th would be out of range. */
const MAX_VARINT_BYTES = 8;

export class ChunkWriter {
  private buf = Buffer.allocUnsafe(CHUNK_BYTES);
  private pos = 0;

  /**
   * `emit` receives each chunk once it is full, in order. A chunk owns its memory (never reused
   * by the writer), so it may be kept or transferred to another thread.
   */
  constructor(private readonly emit: (chunk: Buffer) => void) {}

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    if (this.pos > 0) this.emit(this.buf.subarray(0, this.pos));
    this.buf = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, n));
    this.pos = 0;
  }

  u8(n: number): void {
    this.ensure(1);
    this.buf[this.pos++] = n;
  }

  /** A non-negative safe integer. */
  varuint(n: number): void {
    this.ensure(MAX_VARINT_BYTES);
    const buf = this.buf;
    let pos = this.pos;
    let v = n;
    while (v >= 0x80) {
      buf[pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    buf[pos++] = v;
    this.pos = pos;
  }

  /** null as 0, n as n + 1. */
  nullableVaruint(n: number | null): void {
    this.varuint(n === null ? 0 : n + 1);
  }

  /** The bytes `b[start, end)`, length-prefixed. */
  slice(b: Buffer, start: number, end: number): void {
    const n = end - start;
    this.varuint(n);
    this.ensure(n);
    this.pos += b.copy(this.buf, this.pos, start, end);
  }

  /** Emits what is left. */
  finish(): void {
    if (this.pos > 0) this.emit(this.buf.subarray(0, this.pos));
    this.buf = Buffer.alloc(0);
    this.pos = 0;
  }
}

function corrupt(message: string): KvError {
  return new KvError('CORRUPT_SNAPSHOT', `corrupt snapshot: ${message}`);
}

/**
 * The bytes ended inside a value. A CORRUPT_SNAPSHOT like any other when the input is whole;
 * a reader of a stream takes it as "wait for more", with `needed` the end offset it wanted.
 */
export class TruncatedInput extends KvError {
  constructor(
    message: string,
    readonly needed: number,
  ) {
    super('CORRUPT_SNAPSHOT', `corrupt snapshot: ${message}`);
  }
}

export class Reader {
  private pos = 0;

  constructor(
    private readonly buf: Buffer,
    /** Reading stops here (exclusive). */
    private readonly end = buf.length,
  ) {}

  get offset(): number {
    return this.pos;
  }

  atEnd(): boolean {
    return this.pos >= this.end;
  }

  private need(n: number, what: string): void {
    if (n > this.end - this.pos)
      throw new TruncatedInput(`truncated ${what} at byte ${this.pos}`, this.pos + n);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  varuint(what: string): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const byte = this.u8(what);
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (!Number.isSafeInteger(result)) throw corrupt(`${what} out of range at byte ${this.pos}`);
        return result;
      }
      scale *= 0x80;
    }
    throw corrupt(`${what} varint too long at byte ${this.pos}`);
  }

  nullableVaruint(what: string): number | null {
    const n = this.varuint(what);
    return n === 0 ? null : n - 1;
  }

  /** A view into the buffer (not a copy). */
  bytes(what: string): Buffer {
    const n = this.varuint(`${what} length`);
    this.need(n, what);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}
