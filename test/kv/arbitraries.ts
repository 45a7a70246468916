// fast-check generators of kv commands over a small key space (so that keys collide often),
// with keys whose UTF-16 and UTF-8 orders differ.

import fc from 'fast-check';
import type { Command, Compare, Op } from '../../src/kv/index.js';

export const keyArb = fc.constantFrom('a', 'ab', 'abc', 'b', 'ba', 'é', '\uffff', '😀');
const prefixArb = fc.constantFrom('', 'a', 'ab', 'b', 'é', '😀', 'z');
const valueArb = fc.constantFrom('', 'x', 'y', 'zz', 'é', '😀');
const requestIdArb = fc.constantFrom('r1', 'r2', 'r3', 'r4');

const putArb = fc.record(
  {
    type: fc.constant('put' as const),
    key: keyArb,
    value: valueArb,
    prevKv: fc.boolean(),
    leaseId: fc.integer({ min: 1, max: 3 }),
  },
  { requiredKeys: ['type', 'key', 'value'] },
);
const deleteArb = fc.record(
  { type: fc.constant('delete' as const), key: keyArb, prevKv: fc.boolean() },
  { requiredKeys: ['type', 'key'] },
);
const deleteRangeArb = fc.record(
  { type: fc.constant('deleteRange' as const), prefix: prefixArb, prevKv: fc.boolean() },
  { requiredKeys: ['type', 'prefix'] },
);
const getArb = fc.record({ type: fc.constant('get' as const), key: keyArb });
const rangeArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record(
    {
      type: fc.constant('range' as const),
      prefix: prefixArb,
      limit: fc.integer({ min: 1, max: 4 }),
      keysOnly: fc.boolean(),
    },
    { requiredKeys: ['type'] },
  ),
  fc.record(
    {
      type: fc.constant('range' as const),
      start: keyArb,
      end: keyArb,
      after: keyArb,
      countOnly: fc.boolean(),
    },
    { requiredKeys: ['type'] },
  ),
);

const opArb: fc.Arbitrary<Op> = fc.oneof(putArb, deleteArb, deleteRangeArb, getArb, rangeArb);

const compareArb: fc.Arbitrary<Compare> = fc.oneof(
  fc.record({
    key: keyArb,
    target: fc.constant('value' as const),
    op: fc.constantFrom('=', '!=', '<', '>'),
    value: valueArb,
  }),
  fc.record({
    key: keyArb,
    target: fc.constantFrom('version', 'createRevision', 'modRevision'),
    op: fc.constantFrom('=', '!=', '<', '>'),
    value: fc.integer({ min: 0, max: 12 }),
  }),
);

const txnArb = fc.record(
  {
    type: fc.constant('txn' as const),
    compare: fc.array(compareArb, { maxLength: 3 }),
    success: fc.array(opArb, { maxLength: 4 }),
    failure: fc.array(opArb, { maxLength: 4 }),
    requestId: requestIdArb,
  },
  { requiredKeys: ['type', 'compare', 'success', 'failure'] },
);

const withRequestId = <T extends Command>(arb: fc.Arbitrary<T>): fc.Arbitrary<T> =>
  fc
    .tuple(arb, fc.option(requestIdArb, { nil: undefined, freq: 4 }))
    .map(([cmd, requestId]) => (requestId === undefined ? cmd : { ...cmd, requestId }));

export const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { arbitrary: withRequestId(putArb), weight: 5 },
  { arbitrary: withRequestId(deleteArb), weight: 2 },
  { arbitrary: withRequestId(deleteRangeArb), weight: 1 },
  { arbitrary: txnArb, weight: 3 },
  { arbitrary: fc.constant({ type: 'noop' as const }), weight: 1 },
  {
    arbitrary: fc.record({
      type: fc.constant('compact' as const),
      revision: fc.integer({ min: 0, max: 20 }),
    }),
    weight: 1,
  },
  {
    // Explicit ids collide with the puts' leaseIds (1..3); store-chosen ids come from the index.
    arbitrary: withRequestId(
      fc.record(
        {
          type: fc.constant('leaseGrant' as const),
          ttl: fc.integer({ min: 1, max: 100 }),
          id: fc.integer({ min: 1, max: 3 }),
        },
        { requiredKeys: ['type', 'ttl'] },
      ),
    ),
    weight: 2,
  },
  {
    arbitrary: withRequestId(
      fc.record({ type: fc.constant('leaseRevoke' as const), id: fc.integer({ min: 1, max: 3 }) }),
    ),
    weight: 1,
  },
);
