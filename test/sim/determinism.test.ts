import { describe, expect, it } from 'vitest';
import { runSeed } from '../../src/sim/index.js';

describe('sim - determinism', () => {
  it('replays a seed byte for byte: full trace, history and stats', () => {
    for (const seed of [7, 12345]) {
      const a = runSeed(seed, { fullTrace: true });
      const b = runSeed(seed, { fullTrace: true });
      expect(a.fullTrace?.length).toBeGreaterThan(10_000);
      expect(b.fullTrace).toBe(a.fullTrace);
      expect(b.trace).toEqual(a.trace);
      expect(b.stats).toEqual(a.stats);
      expect(b.setup).toBe(a.setup);
    }
  });

  it('collecting the full trace does not change the run', () => {
    const a = runSeed(99, { fullTrace: true });
    const b = runSeed(99);
    expect(b.stats).toEqual(a.stats);
    expect(b.trace).toEqual(a.trace);
  });

  it('replays a failing run identically (same violation, same trace)', () => {
    let seed = 1;
    let first = runSeed(seed, { mutant: 'skip-prev-log-check' });
    while (first.ok && seed < 200) first = runSeed(++seed, { mutant: 'skip-prev-log-check' });
    expect(first.ok).toBe(false);
    const again = runSeed(seed, { mutant: 'skip-prev-log-check' });
    expect(again.violation).toEqual(first.violation);
    expect(again.trace).toEqual(first.trace);
    expect(first.replay).toBe(`npm run sim -- --seed ${seed} --mutant skip-prev-log-check`);
  });

  it('different seeds give different runs', () => {
    expect(runSeed(1, { fullTrace: true }).fullTrace).not.toBe(runSeed(2, { fullTrace: true }).fullTrace);
  });
});

describe('sim - no hidden sources of nondeterminism', () => {
  it('src/sim reads no clock and no ambient randomness (the CLI entry point times itself only)', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const dir = new URL('../../src/sim/', import.meta.url);
    for (const file of readdirSync(dir)) {
      if (!file.endsWith('.ts') || file === 'main.ts') continue;
      const text = readFileSync(new URL(file, dir), 'utf8');
      for (const banned of [
        'Math.random',
        'Date.now',
        'performance.now',
        'new Date(',
        'setTimeout',
        'process.hrtime',
      ]) {
        expect(text.includes(banned), `${file} uses ${banned}`).toBe(false);
      }
    }
  });
});
