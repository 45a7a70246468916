// The effort budget of one check: a step count and/or a wall-clock deadline, shared by all the
// partitions of a history.

/** Reading the clock on every step would dominate the search; read it this often instead. */
const CLOCK_EVERY = 1024;

export class Budget {
  /** Model steps taken so far. Monotonic. */
  steps = 0;
  private readonly maxSteps: number;
  private readonly deadline: number;

  /** `timeoutMs` and `maxSteps` default to no limit. */
  constructor(timeoutMs?: number, maxSteps?: number) {
    this.maxSteps = maxSteps ?? Infinity;
    this.deadline = timeoutMs === undefined ? Infinity : performance.now() + timeoutMs;
  }

  /**
   * Accounts for one model step. Returns false once the budget is exhausted; from then on it
   * keeps returning false (the caller is expected to give up with an `unknown` verdict).
   */
  spend(): boolean {
    this.steps++;
    if (this.steps > this.maxSteps) return false;
    if (this.steps % CLOCK_EVERY === 0 && this.deadline !== Infinity) {
      return performance.now() <= this.deadline;
    }
    return true;
  }
}
