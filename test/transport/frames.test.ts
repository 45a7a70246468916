import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameError, FrameReader, FrameWriter } from '../../src/transport/frames.js';
import { sessionKey } from '../../src/transport/peer-auth.js';

const KEY = sessionKey(
  'secret-0123456789',
  { cluster: 'c', from: 'a', to: 'b', clientNonce: '00'.repeat(16) },
  '11'.repeat(16),
);
const OTHER_KEY = sessionKey(
  'secret-0123456789',
  { cluster: 'c', from: 'a', to: 'b', clientNonce: '00'.repeat(16) },
  '22'.repeat(16),
);

function stream(payloads: readonly Uint8Array[], key: Buffer | undefined): Buffer {
  const writer = new FrameWriter(key);
  return Buffer.concat(payloads.flatMap((p) => [writer.header(p), Buffer.from(p)]));
}

function frameError(fn: () => unknown): FrameError {
  try {
    fn();
  } catch (error) {
    if (error instanceof FrameError) return error;
    throw error;
  }
  throw new Error('no error');
}

describe('peer stream frames', () => {
  it('cut back into the same payloads however the bytes are split', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 20 }),
        fc.boolean(),
        (payloads, cuts, keyed) => {
          const key = keyed ? KEY : undefined;
          const bytes = stream(payloads, key);
          const reader = new FrameReader(1024, key);
          const out: Buffer[] = [];
          let at = 0;
          for (let i = 0; at < bytes.length; i++) {
            const n = cuts[i % cuts.length]!;
            out.push(...reader.push(bytes.subarray(at, at + n)));
            at += n;
          }
          expect(out.map((b) => [...b])).toEqual(payloads.map((p) => [...p]));
        },
      ),
    );
  });

  it('refuses a frame longer than the limit from its header alone', () => {
    const bytes = stream([new Uint8Array(2000)], KEY);
    const reader = new FrameReader(1000, KEY);
    const error = frameError(() => reader.push(bytes.subarray(0, 4)));
    expect(error.code).toBe('FRAME_TOO_LARGE');
  });

  it('refuses a tampered payload, a frame under another key, a replayed or a dropped frame', () => {
    const payloads = [Uint8Array.of(1, 2, 3), Uint8Array.of(4, 5, 6), Uint8Array.of(7, 8, 9)];
    const good = stream(payloads, KEY);
    const frameLength = good.length / 3;

    const tampered = Buffer.from(good);
    tampered[frameLength + 20]! ^= 1; // a payload byte of the second frame
    const reader = new FrameReader(1024, KEY);
    expect(frameError(() => reader.push(tampered)).code).toBe('BAD_FRAME_MAC');

    expect(frameError(() => new FrameReader(1024, OTHER_KEY).push(good)).code).toBe('BAD_FRAME_MAC');

    const replayed = Buffer.concat([good.subarray(0, frameLength), good.subarray(0, frameLength)]);
    const replayReader = new FrameReader(1024, KEY);
    expect(frameError(() => replayReader.push(replayed)).code).toBe('BAD_FRAME_MAC');

    const dropped = Buffer.concat([good.subarray(0, frameLength), good.subarray(2 * frameLength)]);
    expect(frameError(() => new FrameReader(1024, KEY).push(dropped)).code).toBe('BAD_FRAME_MAC');
  });

  it('a keyless stream carries no MAC', () => {
    const bytes = stream([Uint8Array.of(9)], undefined);
    expect([...bytes]).toEqual([0, 0, 0, 1, 9]);
  });
});
