// Semantic checks of commands and read options: sizes, argument ranges, txn rules. Pure and
// deterministic, so the HTTP layer can reject a request before proposing it and the state
// machine can re-check a committed command and reach the same verdict on every node.

import type { Command, Compare, Op } from './commands.js';
import { KvError } from './errors.js';
import { inBounds, keyBytes, rangeBounds } from './keys.js';
import {
  MAX_KEY_BYTES,
  MAX_LEASE_TTL_SECONDS,
  MAX_REQUEST_ID_BYTES,
  MAX_TXN_OPS,
  MAX_VALUE_BYTES,
} from './limits.js';
import type { RangeOptions } from './types.js';

/** A lone UTF-16 surrogate: it would be stored as U+FFFD, so two keys could collide. */
const LONE_SURROGATE = /\p{Cs}/u;

function checkWellFormed(s: string, what: string): void {
  if (LONE_SURROGATE.test(s)) {
    throw new KvError('INVALID_ARGUMENT', `${what} is not well-formed Unicode (lone surrogate)`);
  }
}

/** A key bound or prefix: may be empty, at most MAX_KEY_BYTES. */
function checkBound(s: string, what: string): void {
  const bytes = Buffer.byteLength(s, 'utf8');
  if (bytes > MAX_KEY_BYTES) {
    throw new KvError('KEY_TOO_LARGE', `${what} is ${bytes} bytes; the limit is ${MAX_KEY_BYTES}`);
  }
  checkWellFormed(s, what);
}

/** Throws KvError unless `key` is a valid key: non-empty, at most MAX_KEY_BYTES of UTF-8. */
export function validateKey(key: string, what = 'key'): void {
  if (key.length === 0) throw new KvError('INVALID_ARGUMENT', `${what} must not be empty`);
  checkBound(key, what);
}

/** Throws KvError unless `value` is at most MAX_VALUE_BYTES of well-formed UTF-8. */
export function validateValue(value: string): void {
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > MAX_VALUE_BYTES) {
    throw new KvError('VALUE_TOO_LARGE', `value is ${bytes} bytes; the limit is ${MAX_VALUE_BYTES}`);
  }
  checkWellFormed(value, 'value');
}

function checkInteger(n: number, min: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < min) {
    throw new KvError('INVALID_ARGUMENT', `${what} must be an integer >= ${min}, got ${n}`);
  }
}

/** Throws KvError unless the options describe a valid range read. */
export function validateRangeOptions(opts: RangeOptions): void {
  if (opts.prefix !== undefined) {
    if (opts.start !== undefined || opts.end !== undefined) {
      throw new KvError('INVALID_ARGUMENT', 'range takes either prefix or start/end, not both');
    }
    checkBound(opts.prefix, 'prefix');
  }
  if (opts.start !== undefined) checkBound(opts.start, 'start');
  if (opts.end !== undefined) checkBound(opts.end, 'end');
  if (opts.after !== undefined) checkBound(opts.after, 'after');
  if (opts.limit !== undefined) checkInteger(opts.limit, 1, 'limit');
  if (opts.keysOnly === true && opts.countOnly === true) {
    throw new KvError('INVALID_ARGUMENT', 'range takes keysOnly or countOnly, not both');
  }
}

function validateCompare(c: Compare): void {
  validateKey(c.key, 'compare key');
  if (c.target === 'value') validateValue(c.value);
  else checkInteger(c.value, 0, `compare ${c.target}`);
}

function validateOp(op: Op): void {
  switch (op.type) {
    case 'put':
      validateKey(op.key);
      validateValue(op.value);
      if (op.leaseId !== undefined) checkInteger(op.leaseId, 1, 'leaseId');
      return;
    case 'delete':
    case 'get':
      validateKey(op.key);
      return;
    case 'deleteRange':
      checkBound(op.prefix, 'prefix');
      return;
    case 'range':
      validateRangeOptions(op);
      return;
  }
}

/**
 * etcd's rule: within one branch, no key is put twice and no put key is also deleted. So each
 * key changes at most once per revision, and a watcher sees one event per key per revision.
 */
function checkNoDuplicateWrites(ops: readonly Op[], branch: string): void {
  const puts = new Set<string>();
  for (const op of ops) {
    if (op.type !== 'put') continue;
    if (puts.has(op.key)) throw duplicate(op.key, branch);
    puts.add(op.key);
  }
  for (const op of ops) {
    if (op.type === 'delete' && puts.has(op.key)) throw duplicate(op.key, branch);
    if (op.type === 'deleteRange') {
      const bounds = rangeBounds({ prefix: op.prefix });
      if (bounds === undefined) continue;
      for (const key of puts) if (inBounds(keyBytes(key), bounds)) throw duplicate(key, branch);
    }
  }
}

function duplicate(key: string, branch: string): KvError {
  return new KvError(
    'INVALID_ARGUMENT',
    `key ${JSON.stringify(key)} is written more than once in the txn's ${branch} branch`,
  );
}

function checkBranch(ops: readonly Op[], branch: string): void {
  if (ops.length > MAX_TXN_OPS) {
    throw new KvError(
      'INVALID_ARGUMENT',
      `txn ${branch} has ${ops.length} operations; the limit is ${MAX_TXN_OPS}`,
    );
  }
  for (const op of ops) validateOp(op);
  checkNoDuplicateWrites(ops, branch);
}

/** Throws KvError unless the (decoded) command is valid to apply. */
export function validateCommand(cmd: Command): void {
  if (cmd.type !== 'noop' && cmd.requestId !== undefined) {
    const bytes = Buffer.byteLength(cmd.requestId, 'utf8');
    if (bytes === 0 || bytes > MAX_REQUEST_ID_BYTES) {
      throw new KvError(
        'INVALID_ARGUMENT',
        `requestId must be 1 to ${MAX_REQUEST_ID_BYTES} bytes, got ${bytes}`,
      );
    }
    checkWellFormed(cmd.requestId, 'requestId');
  }
  switch (cmd.type) {
    case 'noop':
      return;
    case 'put':
    case 'delete':
    case 'deleteRange':
      validateOp(cmd);
      return;
    case 'txn':
      if (cmd.compare.length > MAX_TXN_OPS) {
        throw new KvError(
          'INVALID_ARGUMENT',
          `txn has ${cmd.compare.length} compares; the limit is ${MAX_TXN_OPS}`,
        );
      }
      for (const c of cmd.compare) validateCompare(c);
      checkBranch(cmd.success, 'success');
      checkBranch(cmd.failure, 'failure');
      return;
    case 'compact':
      checkInteger(cmd.revision, 0, 'compact revision');
      return;
    case 'leaseGrant':
      checkInteger(cmd.ttl, 1, 'lease ttl');
      if (cmd.ttl > MAX_LEASE_TTL_SECONDS) {
        throw new KvError('INVALID_ARGUMENT', `lease ttl must be at most ${MAX_LEASE_TTL_SECONDS} seconds`);
      }
      if (cmd.id !== undefined) checkInteger(cmd.id, 1, 'lease id');
      return;
    case 'leaseRevoke':
      checkInteger(cmd.id, 1, 'lease id');
      return;
  }
}
