import { describe, expect, it } from 'vitest';
import { ACTIVITY_KEEP, MEMBERS_PREFIX } from '../../src/kv/index.js';
import { Harness } from './helpers.js';

const kinds = (h: Harness): string[] => h.kv.activity().map((a) => `${a.kind}:${a.member}`);

describe('kv store - member activity log', () => {
  it('records joins, expiries, leaves and removals of member records, and nothing else', () => {
    const h = new Harness();
    h.ok({ type: 'leaseGrant', id: 1, ttl: 5 });
    h.ok({ type: 'leaseGrant', id: 2, ttl: 5 });
    h.ok({ type: 'put', key: `${MEMBERS_PREFIX}n1`, value: '{}', leaseId: 1 });
    h.ok({ type: 'put', key: `${MEMBERS_PREFIX}n2`, value: '{}', leaseId: 2 });
    h.ok({ type: 'put', key: `${MEMBERS_PREFIX}n1`, value: '{"beat":2}', leaseId: 1 }); // a heartbeat
    h.put(`${MEMBERS_PREFIX}n3`, '{}');
    h.put('other/key', 'x');
    h.ok({ type: 'leaseRevoke', id: 1, reason: 'expired' });
    h.ok({ type: 'leaseRevoke', id: 2, reason: 'revoked' });
    h.ok({ type: 'delete', key: `${MEMBERS_PREFIX}n3` });
    expect(kinds(h)).toEqual(['join:n1', 'join:n2', 'join:n3', 'expire:n1', 'leave:n2', 'remove:n3']);
    expect(h.kv.activity()[3]!.reason).toContain('no heartbeat');
  });

  it(`keeps the last ${ACTIVITY_KEEP} entries`, () => {
    const h = new Harness();
    for (let i = 0; i < ACTIVITY_KEEP + 20; i++) {
      h.put(`${MEMBERS_PREFIX}m${i}`, '{}');
    }
    const log = h.kv.activity();
    expect(log).toHaveLength(ACTIVITY_KEEP);
    expect(log[0]!.member).toBe('m20');
    expect(log.at(-1)!.member).toBe(`m${ACTIVITY_KEEP + 19}`);
  });

  it('travels in snapshots', () => {
    const h = new Harness();
    h.put(`${MEMBERS_PREFIX}n1`, '{}');
    h.ok({ type: 'delete', key: `${MEMBERS_PREFIX}n1` });
    const other = new Harness();
    other.inTransaction(() => {
      other.kv.restore(h.kv.serialize());
    });
    expect(other.kv.activity()).toEqual(h.kv.activity());
  });
});
