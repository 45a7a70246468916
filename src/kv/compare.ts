// Evaluation of txn compares, etcd semantics.

import type { Compare, CompareOp } from './commands.js';
import type { KeyValue } from './types.js';

function holds(order: number, op: CompareOp): boolean {
  switch (op) {
    case '=':
      return order === 0;
    case '!=':
      return order !== 0;
    case '<':
      return order < 0;
    case '>':
      return order > 0;
  }
}

/**
 * Whether `c` holds for the key's current pair (undefined: the key is missing). A missing key
 * has version, createRevision and modRevision 0 and no value: every value compare on it is
 * false, `!=` included. Values compare by UTF-8 bytes (not UTF-16 code units).
 */
export function compareHolds(c: Compare, kv: KeyValue | undefined): boolean {
  if (c.target === 'value') {
    if (kv === undefined) return false;
    return holds(Buffer.compare(Buffer.from(kv.value, 'utf8'), Buffer.from(c.value, 'utf8')), c.op);
  }
  const actual = kv === undefined ? 0 : kv[c.target];
  return holds(Math.sign(actual - c.value), c.op);
}
