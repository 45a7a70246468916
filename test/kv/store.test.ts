import { describe, expect, it } from 'vitest';
import { encodeCommand, KvStore } from '../../src/kv/index.js';
import { expectError, expectKvError, Harness, openDatabase } from './helpers.js';

describe('kv store - put, get, delete', () => {
  it('puts, gets and deletes a key', () => {
    const h = new Harness();
    expect(h.kv.get('a')).toEqual({ kv: undefined, revision: 0 });
    expect(h.apply({ type: 'put', key: 'a', value: '1' })).toEqual({ type: 'put', revision: 1 });
    expect(h.kv.get('a')).toEqual({
      kv: { key: 'a', value: '1', createRevision: 1, modRevision: 1, version: 1, lease: null },
      revision: 1,
    });
    expect(h.apply({ type: 'delete', key: 'a' })).toEqual({ type: 'delete', deleted: 1, revision: 2 });
    expect(h.kv.get('a')).toEqual({ kv: undefined, revision: 2 });
  });

  it('returns the previous pair when asked', () => {
    const h = new Harness();
    expect(h.apply({ type: 'put', key: 'a', value: '1', prevKv: true })).toEqual({
      type: 'put',
      revision: 1,
    });
    expect(h.apply({ type: 'put', key: 'a', value: '2', prevKv: true })).toEqual({
      type: 'put',
      revision: 2,
      prevKv: { key: 'a', value: '1', createRevision: 1, modRevision: 1, version: 1, lease: null },
    });
    expect(h.apply({ type: 'delete', key: 'a', prevKv: true })).toEqual({
      type: 'delete',
      deleted: 1,
      revision: 3,
      prevKvs: [{ key: 'a', value: '2', createRevision: 1, modRevision: 2, version: 2, lease: null }],
    });
  });

  it('stores values and keys of any Unicode, empty values included', () => {
    const h = new Harness();
    h.put('ключ/😀', '');
    h.put('k', 'naïve 😀 \u0000 end');
    expect(h.kv.get('ключ/😀').kv?.value).toBe('');
    expect(h.kv.get('k').kv?.value).toBe('naïve 😀 \u0000 end');
  });

  it('attaches a key to an existing lease only; a later put without one detaches it', () => {
    const h = new Harness();
    expectError(h.apply({ type: 'put', key: 'a', value: '1', leaseId: 42 }), 'LEASE_NOT_FOUND');
    expect(h.kv.get('a').kv).toBeUndefined();
    h.ok({ type: 'leaseGrant', id: 42, ttl: 10 });
    h.ok({ type: 'put', key: 'a', value: '1', leaseId: 42 });
    expect(h.kv.get('a').kv?.lease).toBe(42);
    expect(h.kv.lease(42)).toEqual({ id: 42, ttl: 10, keys: 1 });
    h.put('a', '2');
    expect(h.kv.get('a').kv?.lease).toBeNull();
    expect(h.kv.lease(42)).toEqual({ id: 42, ttl: 10, keys: 0 });
  });

  it('deletes by prefix, in key order, in one revision', () => {
    const h = new Harness();
    for (const k of ['a', 'dir/x', 'dir/a', 'dir', 'dir0', 'e']) h.put(k, k);
    expect(h.apply({ type: 'deleteRange', prefix: 'dir/', prevKv: true })).toMatchObject({
      type: 'delete',
      deleted: 2,
      revision: 7,
      prevKvs: [{ key: 'dir/a' }, { key: 'dir/x' }],
    });
    expect(h.keys()).toEqual(['a', 'dir', 'dir0', 'e']);
    expect(h.apply({ type: 'deleteRange', prefix: '' })).toEqual({ type: 'delete', deleted: 4, revision: 8 });
    expect(h.keys()).toEqual([]);
  });

  it('refuses invalid reads with a KvError', () => {
    const h = new Harness();
    expectKvError(() => h.kv.get(''), 'INVALID_ARGUMENT');
    expectKvError(() => h.kv.get('k'.repeat(5000)), 'KEY_TOO_LARGE');
    expectKvError(() => h.kv.range({ limit: -1 }), 'INVALID_ARGUMENT');
  });

  it('returns error results for invalid commands and changes nothing', () => {
    const h = new Harness();
    h.put('a', '1');
    expectError(h.apply({ type: 'put', key: '', value: 'v' }), 'INVALID_ARGUMENT');
    expectError(h.apply({ type: 'put', key: 'k'.repeat(4097), value: 'v' }), 'KEY_TOO_LARGE');
    expectError(h.apply({ type: 'put', key: 'b', value: 'v'.repeat(1024 * 1024 + 1) }), 'VALUE_TOO_LARGE');
    expect(h.kv.revision()).toBe(1);
    expect(h.keys()).toEqual(['a']);
  });
});

describe('kv store - undecodable entries', () => {
  it('gives an error result for garbage and changes nothing', () => {
    const h = new Harness();
    h.put('a', '1');
    const before = { range: h.kv.range(), changes: h.kv.changesSince(0, 100) };
    for (const garbage of [
      new Uint8Array([0xde, 0xad]),
      new Uint8Array([1, 0x7b]),
      new TextEncoder().encode('{}'),
    ]) {
      expectError(h.apply(garbage), 'BAD_COMMAND');
    }
    expect({ range: h.kv.range(), changes: h.kv.changesSince(0, 100) }).toEqual(before);
    expect(h.kv.lastAppliedIndex()).toBe(4);
  });

  it('treats an empty entry (the Raft leader no-op) as a no-op', () => {
    const h = new Harness();
    h.put('a', '1');
    expect(h.apply(new Uint8Array())).toEqual({ type: 'noop', revision: 1 });
    expect(h.apply({ type: 'noop' })).toEqual({ type: 'noop', revision: 1 });
  });
});

describe('kv store - preconditions', () => {
  it('apply, restore and compactChanges refuse to run outside a transaction', () => {
    const h = new Harness();
    expectKvError(() => h.kv.apply(1, encodeCommand({ type: 'noop' })), 'PRECONDITION_FAILED');
    expectKvError(() => {
      h.kv.restore(h.kv.serialize());
    }, 'PRECONDITION_FAILED');
    expectKvError(() => {
      h.kv.compactChanges(0);
    }, 'PRECONDITION_FAILED');
  });

  it('apply refuses indexes that do not increase', () => {
    const h = new Harness();
    h.put('a', '1');
    const noop = encodeCommand({ type: 'noop' });
    expectKvError(() => h.inTransaction(() => h.kv.apply(1, noop)), 'PRECONDITION_FAILED');
    expectKvError(() => h.inTransaction(() => h.kv.apply(0, noop)), 'PRECONDITION_FAILED');
    expectKvError(() => h.inTransaction(() => h.kv.apply(2.5, noop)), 'PRECONDITION_FAILED');
    // Gaps are fine: the driver does not pass every entry (membership changes...).
    h.inTransaction(() => h.kv.apply(10, noop));
    expect(h.kv.lastAppliedIndex()).toBe(10);
  });

  it("rolls back with the caller's transaction", () => {
    const h = new Harness();
    h.put('a', '1');
    expect(() =>
      h.inTransaction(() => {
        h.kv.apply(2, encodeCommand({ type: 'put', key: 'b', value: '2' }));
        throw new Error('driver failed to save hard state');
      }),
    ).toThrow('driver failed');
    expect(h.keys()).toEqual(['a']);
    expect(h.kv.revision()).toBe(1);
    expect(h.kv.lastAppliedIndex()).toBe(1);
  });

  it('reopens an existing database with its state', () => {
    const db = openDatabase();
    const first = new KvStore(db);
    db.transaction(() => first.apply(1, encodeCommand({ type: 'put', key: 'a', value: '1' })))();
    const second = new KvStore(db);
    expect(second.get('a').kv?.value).toBe('1');
    expect(second.revision()).toBe(1);
  });

  it('refuses a database of another schema version', () => {
    const db = openDatabase();
    new KvStore(db);
    db.prepare('UPDATE kv_meta SET schema_version = 99').run();
    expectKvError(() => new KvStore(db), 'PRECONDITION_FAILED');
  });
});
