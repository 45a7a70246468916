import { describe, expect, it } from 'vitest';
import { prefixEnd, rangeBounds, successor } from '../../src/kv/keys.js';

const hex = (b: Buffer | undefined): string | undefined => b?.toString('hex');

describe('kv keys - byte bounds', () => {
  it('ends a prefix range at the next byte string (etcd GetPrefixRangeEnd)', () => {
    expect(hex(prefixEnd(Buffer.from('ab')))).toBe(Buffer.from('ac').toString('hex'));
    expect(hex(prefixEnd(Buffer.from([0x61, 0xff])))).toBe('62');
    expect(prefixEnd(Buffer.from([0xff, 0xff]))).toBeUndefined();
    expect(prefixEnd(Buffer.alloc(0))).toBeUndefined();
    // 'é' is C3 A9: the range ends at C3 AA.
    expect(hex(prefixEnd(Buffer.from('é')))).toBe('c3aa');
  });

  it('takes the successor of a key by appending a zero byte', () => {
    expect(hex(successor(Buffer.from('a')))).toBe('6100');
  });

  it('combines prefix, start/end and after', () => {
    expect(rangeBounds({})).toEqual({ lo: Buffer.alloc(0), hi: undefined });
    expect(rangeBounds({ prefix: 'a', after: 'b' })).toBeUndefined();
    expect(rangeBounds({ prefix: 'a', after: '0' })).toEqual({ lo: Buffer.from('a'), hi: Buffer.from('b') });
    expect(rangeBounds({ start: 'a', end: 'c', after: 'b' })).toEqual({
      lo: Buffer.from('b\u0000'),
      hi: Buffer.from('c'),
    });
    expect(rangeBounds({ start: 'c', end: 'c' })).toBeUndefined();
  });
});
