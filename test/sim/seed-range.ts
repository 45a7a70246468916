import { describe, expect, it } from 'vitest';
import { runSeed } from '../../src/sim/index.js';
import { chunks, report, seedCount } from './helpers.js';

/**
 * Registers tests that run one share of the CI seeds with no mutant and expect no violation.
 * The seeds are split across several test files so that vitest runs them in parallel.
 */
export function seedRangeSuite(share: number, shares: number): void {
  const total = seedCount();
  const per = Math.ceil(total / shares);
  const first = 1 + share * per;
  const count = Math.max(0, Math.min(per, total + 1 - first));
  describe(`sim - seeds ${first}..${first + count - 1} (share ${share + 1}/${shares} of ${total})`, () => {
    for (const [lo, hi] of chunks(first, count, 100)) {
      it(`seeds ${lo}..${hi - 1}: no violation`, () => {
        for (let seed = lo; seed < hi; seed++) {
          const r = runSeed(seed);
          if (!r.ok) expect.fail(report(r));
        }
      });
    }
  });
}
