import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KvError, MAX_VALUE_BYTES } from '../../src/kv/index.js';
import { expectKvError, Harness } from './helpers.js';

/** A store exercising every part of the state: keys, leases, change log, compaction, request ids. */
function populated(): Harness {
  const h = new Harness();
  h.put('a', 'alpha');
  h.ok({ type: 'leaseGrant', id: 9, ttl: 30 });
  h.ok({ type: 'leaseGrant', id: 12, ttl: 5 });
  h.ok({ type: 'put', key: 'b', value: 'beta', leaseId: 9, requestId: 'req-1' });
  h.ok({ type: 'put', key: 'e', value: 'leased', leaseId: 12 });
  h.put('a', 'alpha2');
  h.ok({ type: 'delete', key: 'b', requestId: 'req-2' });
  h.put('ключ/😀', 'значение');
  h.put('nul\u0000key', 'a\u0000b');
  h.put('nul\u0000key', '\u0000');
  h.ok({
    type: 'txn',
    compare: [{ key: 'a', target: 'version', op: '=', value: 2 }],
    success: [
      { type: 'put', key: 'c', value: '' },
      { type: 'put', key: 'd', value: 'delta' },
    ],
    failure: [],
    requestId: 'req-3',
  });
  h.ok({ type: 'compact', revision: 2 });
  return h;
}

/** Everything a client can observe. */
function observe(h: Harness): unknown {
  return {
    range: h.kv.range(),
    changes: h.kv.changesSince(h.kv.compactedRevision() + 1, 1000),
    compacted: h.kv.compactedRevision(),
    leases: h.kv.leases(),
    lastIndex: h.kv.lastAppliedIndex(),
  };
}

/** Re-seals a modified snapshot body with a valid checksum, to reach the structural checks. */
function reseal(body: Buffer): Buffer {
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

describe('kv store - snapshots', () => {
  it('round-trips the whole state', () => {
    const a = populated();
    const bytes = a.kv.serialize();
    const b = new Harness();
    b.inTransaction(() => {
      b.kv.restore(bytes);
    });
    expect(observe(b)).toEqual(observe(a));
    expect(Buffer.from(b.kv.serialize()).equals(Buffer.from(bytes))).toBe(true);
    // Exactly-once survives: a retry of req-1 changes nothing.
    b.index = a.index;
    expect(b.apply({ type: 'put', key: 'b', value: 'again', requestId: 'req-1' })).toEqual({
      type: 'put',
      revision: 2,
    });
    expect(b.kv.get('b').kv).toBeUndefined();
  });

  it('replaces a non-empty state entirely', () => {
    const a = new Harness();
    a.put('only', '1');
    const b = populated();
    b.inTransaction(() => {
      b.kv.restore(a.kv.serialize());
    });
    expect(observe(b)).toEqual(observe(a));
  });

  it('round-trips an empty store and large values across chunk boundaries', () => {
    const empty = new Harness();
    const restored = new Harness();
    restored.inTransaction(() => {
      restored.kv.restore(empty.kv.serialize());
    });
    expect(observe(restored)).toEqual(observe(empty));

    const big = new Harness();
    big.put('max', 'é'.repeat(MAX_VALUE_BYTES / 2));
    for (let i = 0; i < 300; i++) big.put(`k${String(i).padStart(3, '0')}`, String(i).repeat(3000));
    const copy = new Harness();
    copy.inTransaction(() => {
      copy.kv.restore(big.kv.serialize());
    });
    expect(observe(copy)).toEqual(observe(big));
  });

  it('refuses corrupt bytes before changing anything', () => {
    const source = populated();
    const good = Buffer.from(source.kv.serialize());
    const target = new Harness();
    target.put('mine', 'keep me');
    const before = observe(target);

    const flip = (at: number): Buffer => {
      const copy = Buffer.from(good);
      copy[at] = copy[at]! ^ 0x40;
      return copy;
    };
    const bad: Buffer[] = [
      Buffer.alloc(0),
      good.subarray(0, 10),
      good.subarray(0, good.length - 1),
      Buffer.concat([good, Buffer.from([0])]),
      flip(0), // magic
      flip(4), // format version
      flip(6), // header
      flip(Math.floor(good.length / 2)), // a record
      flip(good.length - 1), // the checksum
    ];
    for (const bytes of bad) {
      target.inTransaction(() => {
        expectKvError(() => {
          target.kv.restore(bytes);
        }, 'CORRUPT_SNAPSHOT');
        // Nothing changed even before the caller's transaction ends.
        expect(observe(target)).toEqual(before);
      });
    }
    expect(observe(target)).toEqual(before);
  });

  it('checks structure and invariants behind a valid checksum, leaving the state untouched', () => {
    const source = new Harness();
    source.put('a', '1');
    source.put('b', '2');
    const body = Buffer.from(source.kv.serialize()).subarray(0, -32);
    const target = populated();
    const before = observe(target);
    const restore = (bytes: Buffer): KvError =>
      target.inTransaction(() => {
        const err = expectKvError(() => {
          target.kv.restore(bytes);
        }, 'CORRUPT_SNAPSHOT');
        // Records before the bad one were inserted, then rolled back with the savepoint.
        expect(observe(target)).toEqual(before);
        return err;
      });

    // Swap the two keys ('a' and 'b' are one byte each, stored as length 1 then the byte).
    const swapped = Buffer.from(body);
    const aAt = swapped.indexOf(Buffer.from([1, 1, 0x61]));
    const bAt = swapped.indexOf(Buffer.from([1, 1, 0x62]));
    swapped[aAt + 2] = 0x62;
    swapped[bAt + 2] = 0x61;
    expect(restore(reseal(swapped)).message).toContain('order');

    // A body that ends before its end record.
    expect(restore(reseal(body.subarray(0, -1))).message).toContain('truncated');

    // An unknown record tag.
    const badTag = Buffer.from(body);
    badTag[bAt] = 9;
    expect(restore(reseal(badTag)).message).toContain('tag');

    // Invalid UTF-8 in a value.
    const badUtf8 = Buffer.from(body);
    badUtf8[bAt + 4] = 0xff; // tag, key length, key, value length, value
    expect(restore(reseal(badUtf8)).message).toContain('UTF-8');

    expect(observe(target)).toEqual(before);
  });

  it('refuses a snapshot that repeats a request id', () => {
    const source = new Harness();
    source.apply({ type: 'put', key: 'a', value: '1', requestId: 'r1' });
    source.apply({ type: 'put', key: 'b', value: '2', requestId: 'r2' });
    const body = Buffer.from(source.kv.serialize()).subarray(0, -32);
    // Request records: tag 3, id length 2, 'r', digit. Rename r2 to r1.
    const at = body.indexOf(Buffer.from([3, 2, 0x72, 0x32]));
    expect(at).toBeGreaterThan(0);
    body[at + 3] = 0x31;
    const target = new Harness();
    target.put('mine', 'keep');
    target.inTransaction(() => {
      expectKvError(() => {
        target.kv.restore(reseal(body));
      }, 'CORRUPT_SNAPSHOT');
    });
    expect(target.keys()).toEqual(['mine']);
  });
});
