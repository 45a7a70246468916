// A single read/write/compare-and-set register that starts as null (Jepsen's `nil`).

import type { Model } from './model.js';

/** What a register holds. Values compare with `===`, so the number 3 and the string "3" differ. */
export type RegisterValue = string | number | null;

export type RegisterInput =
  | { readonly f: 'read' }
  | { readonly f: 'write'; readonly value: RegisterValue }
  | { readonly f: 'cas'; readonly from: RegisterValue; readonly to: RegisterValue };

/**
 * read: the value read. write: `true` (acknowledged; any defined output counts as "it
 * happened"). cas: `true` when it swapped, `false` when it executed but the comparison failed
 * (so the register did not hold `from`). A cas that is known not to have executed at all
 * (Jepsen `:fail`) is left out of the history instead.
 */
export type RegisterOutput = RegisterValue | boolean;

/**
 * The register's transition function, shared with the key-value model. Deterministic: returns
 * zero or one successor. With an unknown output every operation is accepted: a read has no
 * effect, a write takes effect, and a cas swaps exactly when the register holds `from`
 * (otherwise it would have failed, which has no effect either).
 */
export function registerStep(
  state: RegisterValue,
  input: RegisterInput,
  output: RegisterOutput | undefined,
): RegisterValue[] {
  switch (input.f) {
    case 'read':
      return output === undefined || output === state ? [state] : [];
    case 'write':
      return [input.value];
    case 'cas':
      if (output === undefined) return [state === input.from ? input.to : state];
      if (output === false) return state === input.from ? [] : [state];
      return state === input.from ? [input.to] : [];
  }
}

/** An injective string encoding of a register value (keeps 3 and "3" apart). */
export function registerValueKey(value: RegisterValue): string {
  if (value === null) return 'n';
  return typeof value === 'number' ? `d${value}` : `s${value}`;
}

export function showRegisterValue(value: RegisterValue): string {
  return value === null ? 'nil' : JSON.stringify(value);
}

export function describeRegisterOp(input: RegisterInput, output: RegisterOutput | undefined): string {
  const shown = (): string =>
    output === undefined ? '?' : typeof output === 'boolean' ? String(output) : showRegisterValue(output);
  switch (input.f) {
    case 'read':
      return `read() -> ${shown()}`;
    case 'write':
      return `write(${showRegisterValue(input.value)})${output === undefined ? ' -> ?' : ''}`;
    case 'cas':
      return `cas(${showRegisterValue(input.from)}, ${showRegisterValue(input.to)}) -> ${shown()}`;
  }
}

/** A single register, initially null. No partitioning: every operation touches the same value. */
export const registerModel: Model<RegisterValue, RegisterInput, RegisterOutput> = {
  init: () => null,
  step: registerStep,
  hash: registerValueKey,
  describe: describeRegisterOp,
};
