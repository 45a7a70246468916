// The contract between the linearizability checker and a sequential specification ("model").

/**
 * One completed (or possibly completed) operation of a concurrent history.
 *
 * Invariants:
 * - `call` is finite and `call <= return`.
 * - `return === Infinity` exactly when the outcome is unknown (a client timeout, Jepsen `:info`):
 *   the operation may have taken effect at any point after `call`, or never. Its `output` is then
 *   `undefined`. The checker also treats any operation with `output === undefined` as unknown.
 * - Operations that definitely did not happen (Jepsen `:fail`) must not appear at all.
 * - Timestamps only matter through their order. Two operations whose intervals merely touch
 *   (one's `return` equals the other's `call`) are treated as concurrent, the permissive choice.
 */
export interface Operation<I, O> {
  /** The client (process) that issued the operation. Used for reporting only. */
  readonly clientId: number;
  readonly input: I;
  /** What the operation returned; `undefined` when the outcome is unknown. */
  readonly output: O | undefined;
  /** When the operation was invoked. */
  readonly call: number;
  /** When the response arrived; `Infinity` when it never did. */
  readonly return: number;
}

/**
 * A sequential specification of the object under test, with states of type `S`.
 *
 * Invariants a model must keep (the checker's verdicts are only as sound as these):
 * - States are immutable values: `step` must never mutate the state it is given, and the
 *   checker never mutates states either, so successors may share structure with their parent.
 * - `hash` is a canonical key: two states are equivalent (no future operation could tell them
 *   apart) if and only if their hashes are equal. The checker memoizes on it, so a hash that
 *   merges distinguishable states makes it unsound, and one that splits equal states only
 *   makes it slower.
 * - `step` is a pure function of its arguments (no randomness, no hidden state).
 * - For an unknown outcome (`output === undefined`) `step` should return at least one
 *   successor in every state, because such an operation may have had no visible effect. (If it
 *   returns none, the checker falls back to "it did not happen": the state is left unchanged.)
 * - `partition`, if present, must split a history into parts that are independent: the whole
 *   history is linearizable if and only if every part is (P-compositionality, e.g. per key).
 *   Every operation must land in exactly one part.
 */
export interface Model<S, I, O> {
  /** The state before any operation. */
  readonly init: () => S;
  /**
   * The possible states after applying `input` in `state` and observing `output`.
   * An empty result means the operation cannot be linearized in `state` with that output.
   * More than one result expresses nondeterminism; the checker explores each.
   */
  readonly step: (state: S, input: I, output: O | undefined) => readonly S[];
  /** Canonical key of a state, used for memoization (see the invariants above). */
  readonly hash: (state: S) => string | number;
  /** Optional split of a history into independent sub-histories (see the invariants above). */
  readonly partition?: (operations: readonly Operation<I, O>[]) => readonly (readonly Operation<I, O>[])[];
  /** Optional human-readable rendering of one operation, for diagnostics. */
  readonly describe?: (input: I, output: O | undefined) => string;
}

/** `ok`: linearizable. `illegal`: not linearizable. `unknown`: the time or step budget ran out. */
export type CheckVerdict = 'ok' | 'illegal' | 'unknown';

export interface CheckOptions {
  /** Wall-clock budget for the whole check, in milliseconds. Exceeding it yields `unknown`. */
  readonly timeoutMs?: number;
  /**
   * Deterministic budget: the maximum number of model steps over the whole check. Exceeding it
   * yields `unknown`. Prefer this over `timeoutMs` in deterministic simulations.
   */
  readonly maxSteps?: number;
}

export interface CheckResult<I, O> {
  readonly result: CheckVerdict;
  /** How many independent parts the history was split into. */
  readonly partitions: number;
  /** Model steps taken over the whole check (a measure of search effort). */
  readonly steps: number;
  /** When `illegal`: the operations of a part that is not linearizable. */
  readonly illegalPartition?: readonly Operation<I, O>[];
  /**
   * When `illegal`: the longest sequence of operations of that part that the search managed to
   * linearize, in linearization order. The operations that could not follow it are the culprits.
   */
  readonly longestLinearizable?: readonly Operation<I, O>[];
}
