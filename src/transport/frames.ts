// Length-prefixed frames on a peer stream: [u32 BE payload length][MAC, when keyed][payload].
// Each payload is one encoded message batch (see codec.ts).
import { FRAME_MAC_BYTES, frameMac } from './peer-auth.js';

export type FrameErrorCode = 'FRAME_TOO_LARGE' | 'BAD_FRAME_MAC';

export class FrameError extends Error {
  constructor(
    readonly code: FrameErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'FrameError';
  }
}

const LENGTH_BYTES = 4;

/** Numbers the frames of one connection and builds each frame's header (length and MAC). */
export class FrameWriter {
  private seq = 0;

  constructor(private readonly key: Buffer | undefined) {}

  /** The header to write right before `payload`. Frames must be written in the order built. */
  header(payload: Uint8Array): Buffer {
    const macBytes = this.key === undefined ? 0 : FRAME_MAC_BYTES;
    const header = Buffer.allocUnsafe(LENGTH_BYTES + macBytes);
    header.writeUInt32BE(payload.length, 0);
    if (this.key !== undefined) frameMac(this.key, this.seq, payload).copy(header, LENGTH_BYTES);
    this.seq++;
    return header;
  }
}

/**
 * Cuts a byte stream back into frame payloads and checks each MAC. Holds at most one partial
 * frame; a frame longer than `maxFrameBytes` is refused from its header, before it is buffered.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private seq = 0;

  constructor(
    private readonly maxFrameBytes: number,
    private readonly key: Buffer | undefined,
  ) {}

  /** Adds bytes read from the socket; returns the payloads completed by them, in order. */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: Buffer[] = [];
    const macBytes = this.key === undefined ? 0 : FRAME_MAC_BYTES;
    for (;;) {
      if (this.buffered < LENGTH_BYTES) return out;
      const head = this.peek(LENGTH_BYTES + macBytes);
      const length = head.readUInt32BE(0);
      if (length > this.maxFrameBytes) {
        throw new FrameError(
          'FRAME_TOO_LARGE',
          `frame of ${length} bytes exceeds the limit of ${this.maxFrameBytes}`,
        );
      }
      const total = LENGTH_BYTES + macBytes + length;
      if (this.buffered < total) return out;
      const frame = this.take(total);
      const payload = frame.subarray(LENGTH_BYTES + macBytes);
      if (this.key !== undefined) {
        const given = frame.subarray(LENGTH_BYTES, LENGTH_BYTES + macBytes);
        if (!frameMac(this.key, this.seq, payload).equals(given)) {
          throw new FrameError('BAD_FRAME_MAC', `frame ${this.seq} failed authentication`);
        }
      }
      this.seq++;
      out.push(payload);
    }
  }

  /** The first `n` buffered bytes (fewer if fewer are buffered), without consuming them. */
  private peek(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n || this.chunks.length === 1) return first;
    this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!;
  }

  private take(n: number): Buffer {
    let first = this.chunks[0]!;
    if (first.length < n) {
      first = Buffer.concat(this.chunks);
      this.chunks = [first];
    }
    const frame = first.subarray(0, n);
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return frame;
  }
}
