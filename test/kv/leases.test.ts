import { describe, expect, it } from 'vitest';
import { MAX_LEASE_TTL_SECONDS } from '../../src/kv/index.js';
import { expectError, Harness } from './helpers.js';

describe('kv store - leases', () => {
  it('grants with a store-chosen id that is never one in use', () => {
    const h = new Harness();
    h.put('x', '1'); // index 1
    const first = h.ok({ type: 'leaseGrant', ttl: 10 }); // index 2
    expect(first).toEqual({ type: 'leaseGrant', revision: 1, id: 2, ttl: 10 });
    h.ok({ type: 'leaseGrant', id: 100, ttl: 5 });
    expect(h.ok({ type: 'leaseGrant', ttl: 7 })).toMatchObject({ id: 101 });
    expectError(h.apply({ type: 'leaseGrant', id: 100, ttl: 5 }), 'LEASE_EXISTS');
    expect(h.kv.leases().map((l) => l.id)).toEqual([2, 100, 101]);
  });

  it('refuses a TTL or id out of range, changing nothing', () => {
    const h = new Harness();
    expectError(h.apply({ type: 'leaseGrant', ttl: 0 }), 'INVALID_ARGUMENT');
    expectError(h.apply({ type: 'leaseGrant', ttl: MAX_LEASE_TTL_SECONDS + 1 }), 'INVALID_ARGUMENT');
    expectError(h.apply({ type: 'leaseGrant', ttl: 1.5 }), 'INVALID_ARGUMENT');
    expectError(h.apply({ type: 'leaseGrant', ttl: 5, id: -1 }), 'INVALID_ARGUMENT');
    expect(h.kv.leases()).toEqual([]);
  });

  it('revoking deletes every attached key at one new revision, with change events', () => {
    const h = new Harness();
    h.ok({ type: 'leaseGrant', id: 7, ttl: 10 });
    h.ok({ type: 'put', key: 'm/b', value: '1', leaseId: 7 });
    h.ok({ type: 'put', key: 'm/a', value: '2', leaseId: 7 });
    h.put('m/c', 'kept');
    const before = h.kv.revision();
    const result = h.ok({ type: 'leaseRevoke', id: 7 });
    expect(result).toEqual({ type: 'leaseRevoke', revision: before + 1, id: 7, deleted: 2 });
    expect(h.keys()).toEqual(['m/c']);
    const changes = h.kv.changesSince(before + 1, 10);
    if (changes.compacted) throw new Error('compacted');
    expect(changes.events.map((e) => [e.type, e.kv.key, e.revision, e.sub])).toEqual([
      ['delete', 'm/a', before + 1, 0],
      ['delete', 'm/b', before + 1, 1],
    ]);
    expect(h.kv.lease(7)).toBeUndefined();
    expectError(h.apply({ type: 'leaseRevoke', id: 7 }), 'LEASE_NOT_FOUND');
  });

  it('a revoke of a lease without keys keeps the revision', () => {
    const h = new Harness();
    h.put('a', '1');
    h.ok({ type: 'leaseGrant', id: 3, ttl: 10 });
    expect(h.ok({ type: 'leaseRevoke', id: 3, reason: 'expired' })).toEqual({
      type: 'leaseRevoke',
      revision: 1,
      id: 3,
      deleted: 0,
    });
  });

  it('a txn whose branch puts to a missing lease fails whole', () => {
    const h = new Harness();
    h.ok({ type: 'leaseGrant', id: 1, ttl: 10 });
    const result = h.apply({
      type: 'txn',
      compare: [],
      success: [
        { type: 'put', key: 'a', value: '1', leaseId: 1 },
        { type: 'put', key: 'b', value: '2', leaseId: 2 },
      ],
      failure: [],
    });
    expectError(result, 'LEASE_NOT_FOUND');
    expect(h.keys()).toEqual([]);
    // The other branch does not need the lease.
    h.ok({
      type: 'txn',
      compare: [{ key: 'a', target: 'version', op: '>', value: 0 }],
      success: [{ type: 'put', key: 'b', value: '2', leaseId: 2 }],
      failure: [{ type: 'put', key: 'a', value: '1', leaseId: 1 }],
    });
    expect(h.keys()).toEqual(['a']);
  });
});
