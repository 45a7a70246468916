import { describe, expect, it } from 'vitest';
import type { Compare, CompareOp, Op } from '../../src/kv/index.js';
import { expectError, Harness } from './helpers.js';

/** Runs a read-only txn with one compare and returns whether it succeeded. */
function holds(h: Harness, compare: Compare): boolean {
  const r = h.ok({
    type: 'txn',
    compare: [compare],
    success: [{ type: 'get', key: 'a' }],
    failure: [],
  });
  if (r.type !== 'txn') throw new Error('not a txn result');
  return r.succeeded;
}

const OPS: CompareOp[] = ['=', '!=', '<', '>'];

describe('kv txn - compares', () => {
  // 'a' is put at revisions 2 (create) and 4: version 2, createRevision 2, modRevision 4.
  function fixture(): Harness {
    const h = new Harness();
    h.put('z', '0');
    h.put('a', 'm');
    h.put('z', '1');
    h.put('a', 'm');
    return h;
  }

  it('compares version, createRevision and modRevision with every operator', () => {
    const h = fixture();
    const actual = { version: 2, createRevision: 2, modRevision: 4 } as const;
    for (const target of ['version', 'createRevision', 'modRevision'] as const) {
      for (const op of OPS) {
        for (const delta of [-1, 0, 1]) {
          const value = actual[target] + delta;
          const expected = { '=': delta === 0, '!=': delta !== 0, '<': delta > 0, '>': delta < 0 }[op];
          expect(holds(h, { key: 'a', target, op, value }), `${target} ${op} ${value}`).toBe(expected);
        }
      }
    }
  });

  it('compares values by UTF-8 bytes with every operator', () => {
    const h = fixture();
    const cases: [string, boolean, boolean, boolean, boolean][] = [
      // value, =, !=, <, >   (stored value is 'm')
      ['m', true, false, false, false],
      ['l', false, true, false, true],
      ['n', false, true, true, false],
      ['mm', false, true, true, false],
      ['', false, true, false, true],
    ];
    for (const [value, ...expected] of cases) {
      OPS.forEach((op, i) => {
        expect(holds(h, { key: 'a', target: 'value', op, value }), `value ${op} ${value}`).toBe(expected[i]);
      });
    }
    h.put('u', '\uffff');
    // In UTF-16 '😀' < '\uffff'; in UTF-8 bytes '\uffff' < '😀'.
    expect(holds(h, { key: 'u', target: 'value', op: '<', value: '😀' })).toBe(true);
  });

  it('treats a missing key as version 0, revisions 0 and no value', () => {
    const h = fixture();
    for (const target of ['version', 'createRevision', 'modRevision'] as const) {
      expect(holds(h, { key: 'missing', target, op: '=', value: 0 })).toBe(true);
      expect(holds(h, { key: 'missing', target, op: '<', value: 1 })).toBe(true);
      expect(holds(h, { key: 'missing', target, op: '>', value: 0 })).toBe(false);
      expect(holds(h, { key: 'missing', target, op: '!=', value: 3 })).toBe(true);
    }
    for (const op of OPS) {
      for (const value of ['', 'x']) {
        expect(
          holds(h, { key: 'missing', target: 'value', op, value }),
          `missing value ${op} '${value}'`,
        ).toBe(false);
      }
    }
  });

  it('requires every compare to hold; no compares means success', () => {
    const h = fixture();
    const yes: Compare = { key: 'a', target: 'version', op: '=', value: 2 };
    const no: Compare = { key: 'a', target: 'version', op: '=', value: 3 };
    const run = (compare: Compare[]): boolean => {
      const r = h.ok({ type: 'txn', compare, success: [], failure: [] });
      return r.type === 'txn' && r.succeeded;
    };
    expect(run([])).toBe(true);
    expect(run([yes, yes])).toBe(true);
    expect(run([yes, no])).toBe(false);
  });
});

describe('kv txn - branches', () => {
  it('runs the success branch when the compares hold, else the failure branch', () => {
    const h = new Harness();
    const cas = (expected: string, next: string): unknown =>
      h.apply({
        type: 'txn',
        compare: [{ key: 'lock', target: 'value', op: '=', value: expected }],
        success: [{ type: 'put', key: 'lock', value: next, prevKv: true }],
        failure: [{ type: 'get', key: 'lock' }],
      });
    h.put('lock', 'free');
    expect(cas('free', 'held')).toEqual({
      type: 'txn',
      revision: 2,
      succeeded: true,
      responses: [
        {
          type: 'put',
          prevKv: { key: 'lock', value: 'free', createRevision: 1, modRevision: 1, version: 1, lease: null },
        },
      ],
    });
    expect(cas('free', 'held')).toEqual({
      type: 'txn',
      revision: 2,
      succeeded: false,
      responses: [
        {
          type: 'get',
          kv: { key: 'lock', value: 'held', createRevision: 1, modRevision: 2, version: 2, lease: null },
        },
      ],
    });
  });

  it('gives a response per operation; reads see earlier writes of the branch', () => {
    const h = new Harness();
    h.put('p/1', 'a');
    h.put('p/2', 'b');
    const success: Op[] = [
      { type: 'get', key: 'new' },
      { type: 'put', key: 'new', value: 'n' },
      { type: 'get', key: 'new' },
      { type: 'delete', key: 'p/1', prevKv: true },
      { type: 'range', prefix: 'p/' },
      { type: 'deleteRange', prefix: 'p/' },
      { type: 'range', prefix: '', keysOnly: true, limit: 1 },
    ];
    expect(h.apply({ type: 'txn', compare: [], success, failure: [] })).toEqual({
      type: 'txn',
      revision: 3,
      succeeded: true,
      responses: [
        { type: 'get' },
        { type: 'put' },
        {
          type: 'get',
          kv: { key: 'new', value: 'n', createRevision: 3, modRevision: 3, version: 1, lease: null },
        },
        {
          type: 'delete',
          deleted: 1,
          prevKvs: [{ key: 'p/1', value: 'a', createRevision: 1, modRevision: 1, version: 1, lease: null }],
        },
        {
          type: 'range',
          kvs: [{ key: 'p/2', value: 'b', createRevision: 2, modRevision: 2, version: 1, lease: null }],
          more: false,
          count: 1,
        },
        { type: 'delete', deleted: 1 },
        {
          type: 'range',
          kvs: [{ key: 'new', value: '', createRevision: 3, modRevision: 3, version: 1, lease: null }],
          more: false,
          count: 1,
        },
      ],
    });
    expect(h.keys()).toEqual(['new']);
  });

  it('refuses a txn that writes a key twice in a branch, changing nothing', () => {
    const h = new Harness();
    h.put('a', '1');
    expectError(
      h.apply({
        type: 'txn',
        compare: [],
        success: [{ type: 'put', key: 'b', value: '1' }],
        failure: [
          { type: 'put', key: 'a', value: '2' },
          { type: 'delete', key: 'a' },
        ],
      }),
      'INVALID_ARGUMENT',
    );
    expect(h.keys()).toEqual(['a']);
    expect(h.kv.revision()).toBe(1);
  });

  it('validates every operation before writing anything', () => {
    const h = new Harness();
    expectError(
      h.apply({
        type: 'txn',
        compare: [],
        success: [
          { type: 'put', key: 'ok', value: '1' },
          { type: 'put', key: 'k'.repeat(5000), value: '1' },
        ],
        failure: [],
      }),
      'KEY_TOO_LARGE',
    );
    expect(h.keys()).toEqual([]);
  });
});
