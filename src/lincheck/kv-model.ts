// A key-value store: independent keys, each a string (get/put/append) or a register
// (read/write/cas). Partitioned per key, since operations on different keys commute.

import type { Model, Operation } from './model.js';
import {
  describeRegisterOp,
  registerStep,
  registerValueKey,
  type RegisterInput,
  type RegisterOutput,
  type RegisterValue,
} from './register-model.js';

/**
 * An operation on one key. An absent `key` names one more, distinct key (a lone register).
 * get/put/append have string semantics: `get` returns "" for an absent key; read/write/cas
 * have register semantics, where an absent key reads as null. Mixing both on one key works:
 * absent = null = "" for get, and a non-string value reads as its String() for get/append.
 */
export type KvInput =
  | { readonly f: 'get'; readonly key?: string }
  | { readonly f: 'put'; readonly key?: string; readonly value: string }
  | { readonly f: 'append'; readonly key?: string; readonly value: string }
  | (RegisterInput & { readonly key?: string });

/** get: the string read. put/append: `true`. read/write/cas: as for the register. */
export type KvOutput = RegisterOutput;

/**
 * Invariant: absent keys have no entry (no entry maps to null), so equal stores have equal
 * hashes. Treated as immutable: steps copy the map.
 */
export type KvState = ReadonlyMap<string | undefined, Exclude<RegisterValue, null>>;

type Key = string | undefined;

function withValue(state: KvState, key: Key, value: RegisterValue): KvState {
  if (value === (state.get(key) ?? null)) return state;
  const next = new Map(state);
  if (value === null) next.delete(key);
  else next.set(key, value);
  return next;
}

const asString = (value: RegisterValue): string => (value === null ? '' : String(value));

function kvStep(state: KvState, input: KvInput, output: KvOutput | undefined): KvState[] {
  const key = input.key;
  const current = state.get(key) ?? null;
  switch (input.f) {
    case 'get':
      return output === undefined || output === asString(current) ? [state] : [];
    case 'put':
      return [withValue(state, key, input.value)];
    case 'append':
      return [withValue(state, key, asString(current) + input.value)];
    default:
      return registerStep(current, input, output).map((v) => withValue(state, key, v));
  }
}

/** Length-prefixed, so that concatenations of encoded keys stay injective. */
const keyCode = (k: Key): string => (k === undefined ? '-' : `${k.length}:${k}`);

/**
 * The entries sorted by key, each as its length-prefixed key then its length-prefixed value
 * code: a self-delimiting encoding, hence injective. The one-entry case (every state of a
 * per-key partition) allocates nothing but the result.
 */
function kvHash(state: KvState): string {
  if (state.size === 0) return '';
  const code = (k: Key, v: Exclude<RegisterValue, null>): string => {
    const vc = registerValueKey(v);
    return `${keyCode(k)}${vc.length}:${vc}`;
  };
  if (state.size === 1) {
    for (const [k, v] of state) return code(k, v);
  }
  const keys = [...state.keys()].sort((a, b) =>
    a === b ? 0 : a === undefined ? -1 : b === undefined ? 1 : a < b ? -1 : 1,
  );
  return keys.map((k) => code(k, state.get(k)!)).join('');
}

/** Groups operations by key, keeping each group in the original order. */
function partitionByKey<T extends { readonly input: { readonly key?: string } }>(ops: readonly T[]): T[][] {
  const groups = new Map<Key, T[]>();
  for (const op of ops) {
    const group = groups.get(op.input.key);
    if (group) group.push(op);
    else groups.set(op.input.key, [op]);
  }
  return [...groups.values()];
}

function describeKvOp(input: KvInput, output: KvOutput | undefined): string {
  const on = input.key === undefined ? '' : `[${JSON.stringify(input.key)}]`;
  switch (input.f) {
    case 'get':
      return `get${on}() -> ${output === undefined ? '?' : JSON.stringify(output)}`;
    case 'put':
    case 'append':
      return `${input.f}${on}(${JSON.stringify(input.value)})${output === undefined ? ' -> ?' : ''}`;
    default:
      return `${on}${describeRegisterOp(input, output)}`;
  }
}

/** A key-value store, initially empty, checked one key at a time. */
export const kvModel: Model<KvState, KvInput, KvOutput> = {
  init: () => new Map(),
  step: kvStep,
  hash: kvHash,
  partition: (ops: readonly Operation<KvInput, KvOutput>[]) => partitionByKey(ops),
  describe: describeKvOp,
};
