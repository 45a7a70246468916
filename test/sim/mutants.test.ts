// Each planted bug (RaftConfigInput.mutant) must be caught by the simulator, and by the check
// that matches the bug. The search is deterministic: it stops at the first seed that reports a
// violation of a sensible kind.

import { describe, expect, it } from 'vitest';
import { MUTANTS } from '../../src/raft/index.js';
import type { Mutant } from '../../src/raft/index.js';
import { runSeed } from '../../src/sim/index.js';
import type { ViolationKind } from '../../src/sim/index.js';
import { report } from './helpers.js';

/** Seeds tried per mutant before giving up. */
const LIMIT = 2000;

/** The checks that may legitimately catch each mutant first. */
const EXPECTED: Record<Mutant, readonly ViolationKind[]> = {
  // Figure 8: an earlier term's entry committed by counting replicas is later overwritten.
  'commit-old-term': ['leader-completeness', 'state-machine-safety', 'core-error', 'linearizability'],
  // A candidate with a stale log wins and lacks committed entries.
  'vote-without-log-check': ['leader-completeness', 'state-machine-safety', 'core-error', 'linearizability'],
  // A restarted voter votes twice in one term.
  'forget-vote-on-restart': ['election-safety'],
  // A follower appends after a mismatching entry.
  'skip-prev-log-check': [
    'log-matching',
    'state-machine-safety',
    'leader-completeness',
    'core-error',
    'apply-order',
  ],
  // A deposed leader serves reads from its stale state.
  'stale-leader-read': ['linearizability'],
  // A follower told its leader is gone votes a second time in the same term.
  'hint-clears-vote': ['election-safety', 'leader-completeness', 'state-machine-safety', 'linearizability'],
};

describe('sim - mutants are caught', () => {
  for (const mutant of MUTANTS) {
    it(`catches ${mutant}`, () => {
      // A liveness failure is not evidence of the planted bug (the unmutated core can have
      // those too, and the seed tests report them): keep looking for a safety violation.
      const skipped: string[] = [];
      for (let seed = 1; seed <= LIMIT; seed++) {
        const r = runSeed(seed, { mutant });
        if (r.ok) continue;
        if (r.violation!.kind === 'liveness') {
          skipped.push(String(seed));
          continue;
        }
        expect(EXPECTED[mutant], report(r)).toContain(r.violation!.kind);
        expect(r.replay).toBe(`npm run sim -- --seed ${seed} --mutant ${mutant}`);
        // The report must replay: same seed, same violation.
        expect(runSeed(seed, { mutant }).violation).toEqual(r.violation);
        return;
      }
      expect.fail(
        `${mutant} not caught within ${LIMIT} seeds (liveness-only failures: ${skipped.join(', ') || 'none'})`,
      );
    });
  }
});
