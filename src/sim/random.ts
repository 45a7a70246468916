// The simulator's single source of randomness. Every decision of a run (fault schedule, network
// latency, client workload, and the Raft core's election jitter) draws from one seeded stream,
// in event order, so a seed fixes the whole run.

import { createSeededRng } from '../raft/rng.js';
import type { Rng } from '../raft/rng.js';

export class SimRandom implements Rng {
  private readonly next: () => number;

  constructor(seed: number) {
    const rng = createSeededRng(seed);
    this.next = () => rng.float();
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.next();
  }

  /** Uniform integer in [0, bound). Precondition: bound >= 1. */
  int(bound: number): number {
    return Math.floor(this.next() * bound);
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [lo, hi] (both inclusive). */
  intIn(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Exponentially distributed with the given mean (a long tail for latencies). */
  exp(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.int(items.length)]!;
  }

  /** Picks a key of `weights` with probability proportional to its (non-negative) weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const keys = Object.keys(weights) as K[];
    let total = 0;
    for (const k of keys) total += weights[k];
    let x = this.next() * total;
    for (const k of keys) {
      x -= weights[k];
      if (x < 0) return k;
    }
    return keys[keys.length - 1]!;
  }
}
