import { describe, expect, it } from 'vitest';
import type { ChangeEvent, ChangesResult } from '../../src/kv/index.js';
import { expectError, expectKvError, Harness } from './helpers.js';

function events(result: ChangesResult): readonly ChangeEvent[] {
  if (result.compacted) throw new Error('unexpectedly compacted');
  return result.events;
}

describe('kv store - change log', () => {
  it('records puts and deletes with the pairs before and after', () => {
    const h = new Harness();
    h.put('a', '1');
    h.put('a', '2');
    h.ok({ type: 'delete', key: 'a' });
    expect(events(h.kv.changesSince(1, 10))).toEqual([
      {
        revision: 1,
        sub: 0,
        type: 'put',
        kv: { key: 'a', value: '1', createRevision: 1, modRevision: 1, version: 1, lease: null },
      },
      {
        revision: 2,
        sub: 0,
        type: 'put',
        kv: { key: 'a', value: '2', createRevision: 1, modRevision: 2, version: 2, lease: null },
        prevKv: { key: 'a', value: '1', createRevision: 1, modRevision: 1, version: 1, lease: null },
      },
      {
        revision: 3,
        sub: 0,
        type: 'delete',
        kv: { key: 'a', value: '', createRevision: 0, modRevision: 3, version: 0, lease: null },
        prevKv: { key: 'a', value: '2', createRevision: 1, modRevision: 2, version: 2, lease: null },
      },
    ]);
  });

  it('reads from a revision on, and pages by (revision, sub)', () => {
    const h = new Harness();
    h.put('x', '0');
    h.ok({ type: 'deleteRange', prefix: '' });
    h.ok({
      type: 'txn',
      compare: [],
      success: ['a', 'b', 'c', 'd'].map((key) => ({ type: 'put' as const, key, value: key })),
      failure: [],
    });
    h.put('e', 'e');
    expect(events(h.kv.changesSince(3, 100)).map((e) => e.kv.key)).toEqual(['a', 'b', 'c', 'd', 'e']);
    const seen: [number, number][] = [];
    let from = { revision: 0, sub: 0 };
    for (;;) {
      const page = h.kv.changesSince(from.revision, 2, from.sub);
      if (page.compacted) throw new Error('compacted');
      seen.push(...page.events.map((e): [number, number] => [e.revision, e.sub]));
      const last = page.events.at(-1);
      if (!page.more || last === undefined) break;
      from = { revision: last.revision, sub: last.sub + 1 };
    }
    expect(seen).toEqual([
      [1, 0],
      [2, 0],
      [3, 0],
      [3, 1],
      [3, 2],
      [3, 3],
      [4, 0],
    ]);
    expect(h.kv.changesSince(5, 10)).toEqual({ compacted: false, events: [], more: false, revision: 4 });
  });

  it('compacts up to a revision and reports reads of compacted revisions', () => {
    const h = new Harness();
    for (let i = 1; i <= 5; i++) h.put('k', String(i));
    h.inTransaction(() => {
      h.kv.compactChanges(3);
    });
    expect(h.kv.compactedRevision()).toBe(3);
    expect(h.kv.changesSince(3, 10)).toEqual({ compacted: true, oldest: 4, compactedRevision: 3 });
    expect(h.kv.changesSince(0, 10)).toMatchObject({ compacted: true, oldest: 4 });
    expect(events(h.kv.changesSince(4, 10)).map((e) => e.revision)).toEqual([4, 5]);
    // The live keys are untouched.
    expect(h.kv.get('k').kv).toMatchObject({ value: '5', version: 5, createRevision: 1 });
  });

  it('refuses to compact a future or an already compacted revision', () => {
    const h = new Harness();
    h.put('k', '1');
    h.put('k', '2');
    expectKvError(() => {
      h.inTransaction(() => {
        h.kv.compactChanges(3);
      });
    }, 'FUTURE_REVISION');
    h.inTransaction(() => {
      h.kv.compactChanges(2);
    });
    expectKvError(() => {
      h.inTransaction(() => {
        h.kv.compactChanges(2);
      });
    }, 'COMPACTED');
    expectKvError(() => {
      h.inTransaction(() => {
        h.kv.compactChanges(1);
      });
    }, 'COMPACTED');
  });

  it('compacts through a replicated compact command', () => {
    const h = new Harness();
    for (let i = 1; i <= 4; i++) h.put('k', String(i));
    expect(h.apply({ type: 'compact', revision: 2 })).toEqual({
      type: 'compact',
      revision: 4,
      compactedRevision: 2,
    });
    expectError(h.apply({ type: 'compact', revision: 2 }), 'COMPACTED');
    expectError(h.apply({ type: 'compact', revision: 9 }), 'FUTURE_REVISION');
    expect(h.kv.changesSince(2, 10)).toMatchObject({ compacted: true, oldest: 3 });
  });

  it('refuses bad arguments', () => {
    const h = new Harness();
    expectKvError(() => h.kv.changesSince(-1, 10), 'INVALID_ARGUMENT');
    expectKvError(() => h.kv.changesSince(0, 0), 'INVALID_ARGUMENT');
    expectKvError(() => h.kv.changesSince(0, 1, -1), 'INVALID_ARGUMENT');
  });
});
