// A safety or liveness property the simulator found broken. Thrown from the check that found
// it (fail fast) and caught by the run loop, which attaches the seed and the trace.

export type ViolationKind =
  /** Two leaders in one term. */
  | 'election-safety'
  /** A leader overwrote or removed entries of its own log during its term. */
  | 'leader-append-only'
  /** Two logs hold the same (index, term) but differ in the entry or in what precedes it. */
  | 'log-matching'
  /** A leader's log lacks an entry that was committed (applied somewhere) in an earlier term. */
  | 'leader-completeness'
  /** Two nodes applied different entries at one index, or a snapshot disagrees with them. */
  | 'state-machine-safety'
  /** Entries handed to the state machine out of order, with a gap or twice. */
  | 'apply-order'
  /** A node's commit index went down while it was running. */
  | 'commit-regression'
  /** The core broke its Ready contract or threw. */
  | 'core-error'
  /** No progress within the bound after the network healed and every node came back. */
  | 'liveness'
  /** Live members did not converge to the same state after healing. */
  | 'convergence'
  /** The client history is not linearizable. */
  | 'linearizability'
  /** The simulator itself failed (a bug here, not in the core). */
  | 'simulator-error';

export class SimViolation extends Error {
  override readonly name = 'SimViolation';

  constructor(
    readonly kind: ViolationKind,
    message: string,
    /** For violations found after the fact (linearizability): the simulated time to look at. */
    readonly focusTime?: number,
  ) {
    super(message);
  }
}

export function violation(kind: ViolationKind, message: string, focusTime?: number): never {
  throw new SimViolation(kind, message, focusTime);
}
