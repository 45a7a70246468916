// The Lessor's decisions with a fake clock, against a real KvStore.
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { ApplyResult, Command } from '../../src/kv/index.js';
import { Lessor } from '../../src/server/lease/lessor.js';
import { Harness } from '../kv/helpers.js';

function setup(): { h: Harness; lessor: Lessor; proposed: Command[]; leader: { now: boolean } } {
  const h = new Harness();
  const proposed: Command[] = [];
  const leader = { now: true };
  const lessor = new Lessor({
    kv: h.kv,
    isLeader: () => leader.now,
    propose: (command): Promise<ApplyResult> => {
      proposed.push(command);
      return Promise.resolve(h.apply(command));
    },
    logger: pino({ level: 'silent' }),
  });
  return { h, lessor, proposed, leader };
}

const revokes = (proposed: Command[]): number[] =>
  proposed.flatMap((c) => (c.type === 'leaseRevoke' ? [c.id] : []));

describe('Lessor', () => {
  it('revokes a lease once its TTL passes without a keep-alive, and not before', () => {
    const { h, lessor, proposed } = setup();
    h.ok({ type: 'leaseGrant', id: 1, ttl: 2 });
    h.ok({ type: 'leaseGrant', id: 2, ttl: 2 });
    lessor.tick(10_000);
    lessor.tick(11_000);
    expect(lessor.keepAlive(2, 11_500)).toEqual({ ttl: 2 });
    lessor.tick(11_900);
    expect(revokes(proposed)).toEqual([]);
    lessor.tick(12_000);
    expect(revokes(proposed)).toEqual([1]);
    lessor.tick(13_400);
    expect(revokes(proposed)).toEqual([1]);
    lessor.tick(13_500);
    expect(revokes(proposed)).toEqual([1, 2]);
  });

  it('a follower revokes nothing; a new leader starts every lease afresh', () => {
    const { h, lessor, proposed, leader } = setup();
    h.ok({ type: 'leaseGrant', id: 1, ttl: 1 });
    leader.now = false;
    lessor.tick(0);
    lessor.tick(5_000);
    expect(revokes(proposed)).toEqual([]);
    leader.now = true;
    lessor.tick(5_250);
    lessor.tick(6_000);
    expect(revokes(proposed)).toEqual([]);
    lessor.tick(6_250);
    expect(revokes(proposed)).toEqual([1]);
  });

  it('a stall moves every deadline by its length instead of expiring leases en masse', () => {
    const { h, lessor, proposed } = setup();
    for (let id = 1; id <= 5; id++) h.ok({ type: 'leaseGrant', id, ttl: 3 });
    lessor.tick(0);
    lessor.tick(250);
    lessor.tick(60_000); // the process was stopped for a minute
    expect(revokes(proposed)).toEqual([]);
    lessor.tick(62_000);
    expect(revokes(proposed)).toEqual([]);
    lessor.tick(62_250);
    lessor.tick(62_500);
    lessor.tick(62_750);
    lessor.tick(63_000);
    expect(revokes(proposed)).toEqual([1, 2, 3, 4, 5]);
  });

  it('an expired lease whose revoke is on the way cannot be kept alive', () => {
    const { h, lessor } = setup();
    h.ok({ type: 'leaseGrant', id: 1, ttl: 1 });
    lessor.tick(0);
    lessor.tick(1_000);
    expect(lessor.keepAlive(1, 1_010)).toBeUndefined();
    expect(lessor.keepAlive(99, 1_010)).toBeUndefined();
  });

  it("follows grants and revokes through the store's journal; reads every lease only when it must", () => {
    const { h, lessor, proposed } = setup();
    const ticks = (from: number, to: number): void => {
      for (let t = from; t <= to; t += 250) lessor.tick(t);
    };
    h.ok({ type: 'leaseGrant', id: 1, ttl: 600 });
    const reads = vi.spyOn(h.kv, 'leaseTtls');
    ticks(0, 4_750);
    expect(reads).toHaveBeenCalledTimes(1);
    h.ok({ type: 'leaseGrant', id: 2, ttl: 1 });
    ticks(5_000, 5_000);
    expect(lessor.remainingMs(2, 5_000)).toBe(1_000);
    ticks(5_250, 6_000);
    expect(revokes(proposed)).toEqual([2]);
    // The revoke is applied: the lease is forgotten, still without reading every lease.
    ticks(6_250, 6_250);
    expect(lessor.remainingMs(2, 6_250)).toBeUndefined();
    expect(lessor.remainingMs(1, 6_250)).toBeGreaterThan(0);
    expect(reads).toHaveBeenCalledTimes(1);
    // A restore replaces every lease at once: read them all.
    h.inTransaction(() => {
      h.kv.restore(h.kv.serialize());
    });
    ticks(6_500, 6_500);
    expect(reads).toHaveBeenCalledTimes(2);
    // And once a minute whatever happens, as a safety net.
    ticks(6_750, 66_250);
    expect(reads).toHaveBeenCalledTimes(2);
    ticks(66_500, 66_500);
    expect(reads).toHaveBeenCalledTimes(3);
    expect(revokes(proposed)).toEqual([2]);
  });

  it('the journal of lease changes gives exactly the grants and revokes since a version', () => {
    const { h } = setup();
    const v0 = h.kv.leasesVersion();
    h.ok({ type: 'leaseGrant', id: 7, ttl: 5 });
    h.ok({ type: 'leaseGrant', id: 8, ttl: 9 });
    h.apply({ type: 'leaseGrant', id: 8, ttl: 9 }); // refused (exists): no change
    h.ok({ type: 'leaseRevoke', id: 7 });
    expect(h.kv.leaseChangesSince(v0)?.map((c) => [c.id, c.ttl])).toEqual([
      [7, 5],
      [8, 9],
      [7, undefined],
    ]);
    expect(h.kv.leaseChangesSince(v0 + 2)?.map((c) => c.id)).toEqual([7]);
    expect(h.kv.leaseChangesSince(h.kv.leasesVersion())).toEqual([]);
    h.inTransaction(() => {
      h.kv.restore(h.kv.serialize());
    });
    expect(h.kv.leaseChangesSince(v0)).toBeUndefined();
  });
});
