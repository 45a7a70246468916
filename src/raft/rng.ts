/** Source of randomness injected into the core, so a seed fixes every decision. */
export interface Rng {
  /** An integer uniformly drawn from [0, bound). Precondition: bound >= 1. */
  int(bound: number): number;
}

/**
 * A small, fast, seedable generator (mulberry32). Good enough for election jitter and for the
 * simulator's fault schedules; not for cryptography.
 */
export function createSeededRng(seed: number): Rng & { float(): number } {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (bound: number): number => Math.floor(next() * bound),
    float: next,
  };
}
