// The Lessor's decisions with a fake clock, against a real KvStore.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
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
});
