import { describe, expect, it } from 'vitest';
import { runSeed } from '../../src/sim/index.js';
import { report } from './helpers.js';

/**
 * Seeds that once found a bug in the core, outside the range CI sweeps. Each must stay clean.
 * 12285: a leader re-elected after proposing its own removal appended a no-op after it, then
 * stepped down; the only remaining voter lacked that entry and the removed node could not
 * campaign, so no leader was ever elected again (liveness).
 */
const REGRESSION_SEEDS = [12285];

describe('sim - regression seeds', () => {
  for (const seed of REGRESSION_SEEDS) {
    it(`seed ${seed} stays clean`, () => {
      const result = runSeed(seed);
      expect(result.ok, report(result)).toBe(true);
    });
  }
});
