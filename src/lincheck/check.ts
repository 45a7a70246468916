// Checks a whole history: split it into independent parts with the model's partition function
// (P-compositionality), then search each part.

import { Budget } from './budget.js';
import type { CheckOptions, CheckResult, Model, Operation } from './model.js';
import { searchPartition, validateOperations } from './search.js';

/**
 * Decides whether `operations` is linearizable with respect to `model`.
 *
 * The verdict is `illegal` as soon as one part is not linearizable, `ok` when every part is,
 * and `unknown` when the budget in `opts` ran out first. Throws a RangeError when an operation
 * breaks the `Operation` timing invariants.
 */
export function checkOperations<S, I, O>(
  model: Model<S, I, O>,
  operations: readonly Operation<I, O>[],
  opts: CheckOptions = {},
): CheckResult<I, O> {
  validateOperations(operations);
  const parts = model.partition ? model.partition(operations) : [operations];
  const budget = new Budget(opts.timeoutMs, opts.maxSteps);
  // Smallest parts first: they are cheap, and an illegal part found early ends the check.
  const order = parts.map((_, i) => i).sort((a, b) => parts[a]!.length - parts[b]!.length || a - b);
  for (const i of order) {
    const part = parts[i]!;
    const outcome = searchPartition(model, part, budget);
    if (outcome.verdict === 'illegal') {
      return {
        result: 'illegal',
        partitions: parts.length,
        steps: budget.steps,
        illegalPartition: part,
        longestLinearizable: outcome.longestLinearizable,
      };
    }
    // The budget is shared, so once it is spent no later part could be decided either.
    if (outcome.verdict === 'unknown') {
      return { result: 'unknown', partitions: parts.length, steps: budget.steps };
    }
  }
  return { result: 'ok', partitions: parts.length, steps: budget.steps };
}
