// Byte-level primitives of the message codec: unsigned LEB128 varints limited to the safe-integer
// range (no BigInt), length-prefixed bytes and UTF-8 strings, over a plain Uint8Array.

import { CodecError } from './codec-errors.js';

/** Varints carry at most 8 bytes: 8 * 7 = 56 bits >= 53. */
export const MAX_VARINT_BYTES = 8;

/** Strings up to this many bytes are decoded in JS when they are ASCII. */
const SHORT_STRING = 32;

const textEncoder = new TextEncoder();
// ignoreBOM: a leading U+FEFF is data, not a byte-order mark to strip (or strings would not round-trip).
const textDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Encoded size of `n`, a non-negative safe integer. */
export function varintSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  if (n < 0x800000000) return 5;
  if (n < 0x40000000000) return 6;
  if (n < 0x2000000000000) return 7;
  return 8;
}

/**
 * UTF-8 length of `s`, or -1 when `s` is not well-formed UTF-16 (a lone surrogate would be
 * replaced by U+FFFD on encoding, so the string would not round-trip).
 */
export function utf8Length(s: string): number {
  const len = s.length;
  let n = len;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      n += 1;
    } else if (c < 0xd800 || c > 0xdfff) {
      n += 2;
    } else if (c <= 0xdbff && i + 1 < len) {
      const d = s.charCodeAt(i + 1);
      if (d < 0xdc00 || d > 0xdfff) return -1;
      n += 2; // two UTF-16 units, four bytes
      i++;
    } else {
      return -1;
    }
  }
  return n;
}

/** Writes into a buffer allocated at its exact final size (the caller measures first). */
export class ByteWriter {
  readonly buf: Uint8Array;
  pos = 0;

  constructor(size: number) {
    this.buf = new Uint8Array(size);
  }

  byte(b: number): void {
    this.buf[this.pos++] = b;
  }

  /** `n` must be a non-negative safe integer (checked by the caller while measuring). */
  uint(n: number): void {
    const buf = this.buf;
    let pos = this.pos;
    if (n < 0x80000000) {
      while (n >= 0x80) {
        buf[pos++] = (n & 0x7f) | 0x80;
        n >>>= 7;
      }
    } else {
      while (n >= 0x80) {
        buf[pos++] = (n % 0x80) | 0x80;
        n = Math.floor(n / 0x80);
      }
    }
    buf[pos++] = n;
    this.pos = pos;
  }

  /** Length varint, then the bytes. */
  bytes(b: Uint8Array): void {
    const n = b.length;
    this.uint(n);
    if (n <= 16) {
      const buf = this.buf;
      let pos = this.pos;
      for (let i = 0; i < n; i++) buf[pos++] = b[i]!;
    } else {
      this.buf.set(b, this.pos);
    }
    this.pos += n;
  }

  /** Length varint, then UTF-8; `byteLength` is utf8Length(s). */
  string(s: string, byteLength: number): void {
    this.uint(byteLength);
    if (byteLength === s.length) {
      // ASCII only.
      const buf = this.buf;
      let pos = this.pos;
      for (let i = 0; i < byteLength; i++) buf[pos++] = s.charCodeAt(i);
    } else {
      textEncoder.encodeInto(s, this.buf.subarray(this.pos, this.pos + byteLength));
    }
    this.pos += byteLength;
  }
}

/** Reads from untrusted bytes; every failure is a CodecError naming the field and the offset. */
export class ByteReader {
  pos = 0;
  /** Message being read (-1: none) and its type, for error messages; maintained by the caller. */
  message = -1;
  messageType = '';
  private readonly buf: Uint8Array;
  private readonly end: number;

  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.end = buf.length;
  }

  remaining(): number {
    return this.end - this.pos;
  }

  fail(what: string, detail: string, offset: number): never {
    let where = '';
    if (this.message >= 0) {
      where = `message #${this.message}${this.messageType === '' ? '' : ` (${this.messageType})`}: `;
    }
    throw new CodecError(`${where}${what}: ${detail}`, offset);
  }

  byte(what: string): number {
    if (this.pos >= this.end) this.fail(what, 'truncated (no bytes left)', this.pos);
    return this.buf[this.pos++]!;
  }

  bool(what: string): boolean {
    const at = this.pos;
    const b = this.byte(what);
    if (b === 0) return false;
    if (b === 1) return true;
    return this.fail(what, `a boolean must be 0 or 1, got ${b}`, at);
  }

  /** An unsigned LEB128 varint of at most 8 bytes, minimally encoded, <= Number.MAX_SAFE_INTEGER. */
  uint(what: string): number {
    const buf = this.buf;
    const start = this.pos;
    let pos = start;
    if (pos < this.end) {
      const b = buf[pos]!;
      if (b < 0x80) {
        this.pos = pos + 1;
        return b;
      }
    }
    let value = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      if (pos >= this.end) this.fail(what, 'truncated varint', start);
      const b = buf[pos++]!;
      if (i === MAX_VARINT_BYTES - 1 && b > 0x0f) {
        // The 8th byte holds bits 49..55: more than 4 of them, or a continuation, is too large.
        this.fail(what, 'varint exceeds Number.MAX_SAFE_INTEGER or is longer than 8 bytes', start);
      }
      value += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (b === 0 && i > 0) this.fail(what, 'varint is not minimally encoded', start);
        this.pos = pos;
        return value;
      }
      scale *= 0x80;
    }
  }

  /** A count of items each taking at least `minItemBytes`, checked against the remaining input. */
  count(what: string, minItemBytes: number): number {
    const at = this.pos;
    const n = this.uint(what);
    const remaining = this.end - this.pos;
    if (n * minItemBytes > remaining) {
      this.fail(what, `count ${n} cannot fit in the ${remaining} remaining bytes`, at);
    }
    return n;
  }

  /** Length-prefixed bytes, as a view of the input (no copy). */
  bytes(what: string): Uint8Array {
    const n = this.length(what);
    const buf = this.buf;
    const view = new Uint8Array(buf.buffer, buf.byteOffset + this.pos, n);
    this.pos += n;
    return view;
  }

  /** Length-prefixed UTF-8. */
  string(what: string): string {
    const n = this.length(what);
    const at = this.pos;
    this.pos += n;
    if (n <= SHORT_STRING) {
      // Short ASCII (node ids, read contexts): a loop beats a call into TextDecoder.
      const buf = this.buf;
      let s = '';
      let i = at;
      const end = at + n;
      for (; i < end; i++) {
        const b = buf[i]!;
        if (b >= 0x80) break;
        s += String.fromCharCode(b);
      }
      if (i === end) return s;
    }
    try {
      return textDecoder.decode(this.buf.subarray(at, at + n));
    } catch {
      return this.fail(what, 'invalid UTF-8', at);
    }
  }

  private length(what: string): number {
    const at = this.pos;
    const n = this.uint(what);
    const remaining = this.end - this.pos;
    if (n > remaining) this.fail(what, `length ${n} exceeds the ${remaining} remaining bytes`, at);
    return n;
  }
}
