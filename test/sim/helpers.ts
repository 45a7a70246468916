import type { SimResult } from '../../src/sim/index.js';

/** Seeds the CI run checks (CONCLAVE_SIM_SEEDS; 300 by default for local runs). */
export function seedCount(): number {
  const raw = process.env.CONCLAVE_SIM_SEEDS;
  if (raw === undefined || raw === '') return 300;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new Error(`CONCLAVE_SIM_SEEDS must be a positive integer, got "${raw}"`);
  return n;
}

/** Splits [first, first + count) into consecutive ranges of at most `size` seeds. */
export function chunks(first: number, count: number, size: number): [number, number][] {
  const out: [number, number][] = [];
  for (let s = first; s < first + count; s += size) out.push([s, Math.min(first + count, s + size)]);
  return out;
}

/** A failure report that lets whoever reads the test output replay the run. */
export function report(r: SimResult): string {
  if (r.ok) return `seed ${r.seed}: ok`;
  const v = r.violation!;
  return [
    `seed ${r.seed}: ${v.kind} at ${v.time.toFixed(3)}ms`,
    `replay: ${r.replay}`,
    `setup: ${r.setup}`,
    v.message,
    'trace:',
    ...r.trace,
  ].join('\n');
}
