// The linearizability search for one (already partitioned) history: Wing & Gong's algorithm
// with Lowe's memoization, as in the porcupine checker ("just-in-time linearization").
//
// The history is a list of entries (one call and one return per operation) ordered by time.
// The search repeatedly scans the list from the front for a call entry whose operation can be
// linearized next: it is minimal in real-time order exactly when it comes before every return
// entry still in the list. Linearizing an operation applies it to the model and removes
// ("lifts") its two entries. Reaching a return entry means the operation it closes should have
// been linearized already, so the search backtracks. The history is linearizable when the list
// becomes empty.
//
// Memoization: two search nodes with the same set of linearized operations and the same model
// state have identical futures, so each (set, state) pair is expanded at most once. That bounds
// the search by (number of reachable sets) x (number of states) rather than by the number of
// interleavings. The search is iterative with an explicit stack, so long histories cannot
// overflow the call stack.

import { Bitset } from './bitset.js';
import type { Budget } from './budget.js';
import type { Model, Operation } from './model.js';

export type PartitionOutcome<I, O> =
  | { readonly verdict: 'ok' }
  | { readonly verdict: 'unknown' }
  | { readonly verdict: 'illegal'; readonly longestLinearizable: readonly Operation<I, O>[] };

/**
 * Entry encoding: operation `k` has call entry `2k` and return entry `2k + 1`, so the low bit
 * tells the kind and `entry >>> 1` the operation. `HEAD` and `TAIL` are list sentinels.
 */
function sortedEntries<I, O>(ops: readonly Operation<I, O>[]): number[] {
  const time = (e: number): number => {
    const op = ops[e >>> 1]!;
    return (e & 1) === 0 ? op.call : op.return;
  };
  const entries = Array.from({ length: ops.length * 2 }, (_, e) => e);
  // By time; on a tie calls come first (touching intervals count as concurrent); then by entry
  // number, which keeps the order deterministic.
  entries.sort((a, b) => {
    const ta = time(a);
    const tb = time(b);
    if (ta !== tb) return ta < tb ? -1 : 1;
    return (a & 1) - (b & 1) || a - b;
  });
  return entries;
}

export function validateOperations<I, O>(ops: readonly Operation<I, O>[]): void {
  for (const [i, op] of ops.entries()) {
    if (!Number.isFinite(op.call)) {
      throw new RangeError(`operation ${i}: call time must be finite, got ${op.call}`);
    }
    if (Number.isNaN(op.return) || op.return < op.call) {
      throw new RangeError(`operation ${i}: return time ${op.return} precedes call time ${op.call}`);
    }
  }
}

/** Checks one independent history. `ops` must satisfy the `Operation` invariants. */
export function searchPartition<S, I, O>(
  model: Model<S, I, O>,
  operations: readonly Operation<I, O>[],
  budget: Budget,
): PartitionOutcome<I, O> {
  // Number operations by call time (stable): the linearized set then tends to be "all ops up
  // to some point, plus a few after", which the bitset encodes compactly (see Bitset.key).
  const ops = [...operations].sort((a, b) => a.call - b.call);
  const n = ops.length;
  if (n === 0) return { verdict: 'ok' };

  // Doubly linked list over the entries, in time order, between two sentinels.
  const HEAD = 2 * n;
  const TAIL = 2 * n + 1;
  const next = new Int32Array(2 * n + 2);
  const prev = new Int32Array(2 * n + 2);
  let last = HEAD;
  for (const e of sortedEntries(ops)) {
    next[last] = e;
    prev[e] = last;
    last = e;
  }
  next[last] = TAIL;
  prev[TAIL] = last;

  // Removes an operation's call and return entries. `unlift` undoes the most recent `lift`
  // still in effect (dancing links: restores happen in exact reverse order of removals).
  const lift = (call: number): void => {
    const ret = call | 1;
    next[prev[call]!] = next[call]!;
    prev[next[call]!] = prev[call]!;
    next[prev[ret]!] = next[ret]!;
    prev[next[ret]!] = prev[ret]!;
  };
  const unlift = (call: number): void => {
    const ret = call | 1;
    next[prev[ret]!] = ret;
    prev[next[ret]!] = ret;
    next[prev[call]!] = call;
    prev[next[call]!] = call;
  };

  // Memo of expanded (linearized set, state) pairs. States are interned to small integers so
  // that a key is a number followed by the bitset key: injective and short.
  const linearized = new Bitset(n);
  const seen = new Set<string>();
  const stateIds = new Map<string | number, number>();
  const stateId = (s: S): number => {
    const h = model.hash(s);
    let id = stateIds.get(h);
    if (id === undefined) {
      id = stateIds.size;
      stateIds.set(h, id);
    }
    return id;
  };
  // Index of the first successor from `from` on whose (linearized, successor) pair is new,
  // marking it seen; -1 if none. Precondition: the operation's bit is already set.
  const firstNew = (succs: readonly S[], from: number): number => {
    const base = linearized.key();
    for (let i = from; i < succs.length; i++) {
      // The state id is digits then a colon, so prefixing it keeps the key injective.
      const key = `${stateId(succs[i]!)}:${base}`;
      if (!seen.has(key)) {
        seen.add(key);
        return i;
      }
    }
    return -1;
  };

  // The explicit stack: one frame per linearized operation, in linearization order.
  // Invariant: frame k linearized the call entry `frameCall[k]` from state `frameState[k]` to
  // `frameSuccs[k][frameIdx[k]]`, and `state` is the result of the top frame (or init()).
  const frameCall: number[] = [];
  const frameState: S[] = [];
  const frameSuccs: (readonly S[])[] = [];
  const frameIdx: number[] = [];
  // The deepest stack seen, for diagnostics. Invariant: longest[k] === frameCall[k] for every
  // k < longestValid, so recording a new maximum only copies what changed since the last one
  // (amortized O(1) per push, where a full copy each time would be quadratic).
  const longest: number[] = [];
  let longestValid = 0;

  let state = model.init();
  let node = next[HEAD]!;
  for (;;) {
    if ((node & 1) === 0 && node < HEAD) {
      // A call entry before any pending return: its operation may be linearized now.
      const opIndex = node >>> 1;
      const op = ops[opIndex]!;
      if (!budget.spend()) return { verdict: 'unknown' };
      let succs = model.step(state, op.input, op.output);
      // An operation with an unknown outcome may also never have happened (see Model).
      if (succs.length === 0 && op.output === undefined) succs = [state];
      if (succs.length > 0) {
        linearized.set(opIndex);
        const i = firstNew(succs, 0);
        if (i >= 0) {
          frameCall.push(node);
          frameState.push(state);
          frameSuccs.push(succs);
          frameIdx.push(i);
          state = succs[i]!;
          lift(node);
          if (next[HEAD] === TAIL) return { verdict: 'ok' };
          if (frameCall.length > longest.length) {
            for (let k = longestValid; k < frameCall.length; k++) longest[k] = frameCall[k]!;
            longestValid = frameCall.length;
          }
          node = next[HEAD]!;
          continue;
        }
        linearized.clear(opIndex);
      }
      node = next[node]!;
    } else {
      // A return entry: its operation is still unlinearized, so this branch is dead. (The list
      // always ends with a return entry, so the scan never runs into TAIL.) Backtrack.
      const top = frameCall.length - 1;
      if (top < 0) {
        return { verdict: 'illegal', longestLinearizable: longest.map((e) => ops[e >>> 1]!) };
      }
      const call = frameCall[top]!;
      // First try the operation's other possible successor states (nondeterministic models).
      const i = firstNew(frameSuccs[top]!, frameIdx[top]! + 1);
      if (i >= 0) {
        frameIdx[top] = i;
        state = frameSuccs[top]![i]!;
        node = next[HEAD]!;
        continue;
      }
      state = frameState[top]!;
      frameCall.pop();
      frameState.pop();
      frameSuccs.pop();
      frameIdx.pop();
      longestValid = Math.min(longestValid, frameCall.length);
      linearized.clear(call >>> 1);
      unlift(call);
      node = next[call]!;
    }
  }
}
