import { describe, expect, it } from 'vitest';
import { runSeed } from '../../src/sim/index.js';
import { report } from './helpers.js';

describe('sim - liveness check', () => {
  it('reports a cluster that never recovers', () => {
    const r = runSeed(5, { neverHeal: true, healBoundMs: 2000 });
    expect(r.ok).toBe(false);
    expect(r.violation?.kind, report(r)).toBe('liveness');
    expect(r.violation?.message).toContain('no progress within 2000ms after the heal');
    expect(r.replay).toBe('npm run sim -- --seed 5');
  });

  it('a healed run reaches the end: progress after the heal, then convergence', () => {
    const r = runSeed(5);
    expect(r.ok, report(r)).toBe(true);
    expect(r.trace.some((l) => l.includes('converged: every member applied the whole log'))).toBe(true);
    expect(r.stats.lincheck).toBe('ok');
  });

  it('single-node and five-node clusters work too', () => {
    for (const nodes of [1, 5] as const) {
      for (let seed = 1; seed <= 5; seed++) {
        const r = runSeed(seed, { nodes });
        expect(r.ok, report(r)).toBe(true);
        expect(r.stats.nodes).toBe(nodes);
      }
    }
  });
});
