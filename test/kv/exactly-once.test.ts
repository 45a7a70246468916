import { describe, expect, it } from 'vitest';
import type { Command } from '../../src/kv/index.js';
import { expectError, Harness } from './helpers.js';

describe('kv store - exactly-once', () => {
  it('applies a request id once: a retry returns the first result and changes nothing', () => {
    const h = new Harness();
    h.put('a', '0');
    const put: Command = { type: 'put', key: 'a', value: '1', prevKv: true, requestId: 'client-1:7' };
    const first = h.apply(put);
    expect(first).toMatchObject({ type: 'put', revision: 2, prevKv: { value: '0' } });
    h.put('a', '2');
    const snapshot = h.kv.range();
    expect(h.apply(put)).toEqual(first);
    expect(h.kv.revision()).toBe(3);
    expect(h.kv.range()).toEqual(snapshot);
  });

  it('remembers the first result even when the retry carries a different command', () => {
    const h = new Harness();
    const first = h.apply({ type: 'put', key: 'a', value: '1', requestId: 'r' });
    expect(h.apply({ type: 'delete', key: 'a', requestId: 'r' })).toEqual(first);
    expect(h.keys()).toEqual(['a']);
  });

  it('remembers txn results, including which branch ran', () => {
    const h = new Harness();
    const txn: Command = {
      type: 'txn',
      compare: [{ key: 'a', target: 'version', op: '=', value: 0 }],
      success: [{ type: 'put', key: 'a', value: 'created' }],
      failure: [{ type: 'get', key: 'a' }],
      requestId: 'create-a',
    };
    const first = h.apply(txn);
    expect(first).toMatchObject({ succeeded: true, revision: 1 });
    // Re-applied without the id, the compare would now fail; with it, the first answer stands.
    expect(h.apply(txn)).toEqual(first);
    expect(h.apply({ ...txn, requestId: 'other' })).toMatchObject({ succeeded: false, revision: 1 });
  });

  it('remembers error results of commands that passed validation', () => {
    const h = new Harness();
    const compact: Command = { type: 'compact', revision: 5, requestId: 'c' };
    expectError(h.apply(compact), 'FUTURE_REVISION');
    for (let i = 0; i < 6; i++) h.put(`k${i}`, 'v');
    expectError(h.apply(compact), 'FUTURE_REVISION');
  });

  it('keeps at most maxRequestIds ids, dropping the oldest', () => {
    const h = new Harness({ maxRequestIds: 3 });
    for (const id of ['r1', 'r2', 'r3', 'r4']) h.apply({ type: 'put', key: id, value: 'v', requestId: id });
    expect(h.kv.revision()).toBe(4);
    // r1 was forgotten: its retry applies again; r2..r4 are still deduplicated.
    h.apply({ type: 'put', key: 'r1', value: 'v', requestId: 'r1' });
    expect(h.kv.revision()).toBe(5);
    h.apply({ type: 'put', key: 'r4', value: 'v', requestId: 'r4' });
    expect(h.kv.revision()).toBe(5);
  });

  it('forgets ids applied more than requestRetentionEntries entries ago', () => {
    const h = new Harness({ requestRetentionEntries: 5 });
    h.apply({ type: 'put', key: 'a', value: 'v', requestId: 'old' }); // index 1
    for (let i = 0; i < 4; i++) h.apply({ type: 'noop' }); // indexes 2..5
    h.apply({ type: 'put', key: 'a', value: 'v', requestId: 'old' }); // index 6: 1 <= 6 - 5, gone
    expect(h.kv.revision()).toBe(2);
    h.apply({ type: 'put', key: 'a', value: 'v', requestId: 'old' }); // index 7: remembered again
    expect(h.kv.revision()).toBe(2);
  });

  it('survives a snapshot install', () => {
    const a = new Harness();
    const put: Command = { type: 'put', key: 'a', value: '1', requestId: 'r' };
    const first = a.apply(put);
    const b = new Harness();
    b.inTransaction(() => {
      b.kv.restore(a.kv.serialize());
    });
    b.index = a.index;
    expect(b.apply(put)).toEqual(first);
    expect(b.kv.revision()).toBe(1);
  });
});
