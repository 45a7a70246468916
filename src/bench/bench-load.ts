// Closed-loop write load: N workers, each with one request in flight at a time, over an undici
// Pool with N connections to one origin. Throughput and latency count the acknowledged writes
// that complete inside the measurement window (after the warmup).
import { Pool } from 'undici';
import type { WriteRequest } from './bench-cluster.js';
import { sleep } from './bench-procs.js';

export interface LoadSpec {
  readonly origin: string;
  readonly concurrency: number;
  readonly warmupMs: number;
  readonly measureMs: number;
  /** Per-request timeout. */
  readonly timeoutMs: number;
  /** The requests to pick from, uniformly at random. */
  readonly requests: readonly WriteRequest[];
  readonly acknowledged: (status: number) => boolean;
  /** Called when the measured window starts and when it ends (e.g. to read CPU time). */
  readonly onWindow?: (edge: 'start' | 'end') => void;
}

export interface LoadResult {
  readonly concurrency: number;
  /** Acknowledged writes completed in the window. */
  readonly ops: number;
  readonly seconds: number;
  readonly opsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  readonly maxMs: number;
  /** Failed requests (error status, network error, timeout) in the window. */
  readonly errors: number;
  readonly firstError?: string;
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  if (spec.requests.length === 0) throw new Error('no requests to send');
  const pool = new Pool(spec.origin, {
    connections: spec.concurrency,
    pipelining: 1,
    headersTimeout: spec.timeoutMs,
    bodyTimeout: spec.timeoutMs,
    keepAliveTimeout: 60_000,
  });
  const t0 = performance.now();
  const measureStart = t0 + spec.warmupMs;
  const measureEnd = measureStart + spec.measureMs;
  const latencies: number[][] = [];
  let errors = 0;
  let firstError: string | undefined;

  const worker = async (samples: number[]): Promise<void> => {
    for (;;) {
      const start = performance.now();
      if (start >= measureEnd) return;
      const req = spec.requests[Math.floor(Math.random() * spec.requests.length)]!;
      let ok = false;
      let failure: string | undefined;
      try {
        const res = await pool.request({
          method: req.method,
          path: req.path,
          headers: req.headers,
          body: req.body,
        });
        const text = await res.body.text();
        ok = spec.acknowledged(res.statusCode);
        if (!ok) failure = `HTTP ${res.statusCode}: ${text.slice(0, 200)}`;
      } catch (error) {
        failure = (error as Error).message;
      }
      const end = performance.now();
      if (end >= measureStart && end <= measureEnd) {
        if (ok) samples.push(end - start);
        else {
          errors++;
          firstError ??= failure;
        }
      }
      // A failing server answers at once; do not spin on it.
      if (!ok) await sleep(5);
    }
  };

  // Each edge is reported exactly once, in order, even if the workers end before a timer fires.
  let edgesReported = 0;
  const reportEdge = (): void => {
    spec.onWindow?.(edgesReported === 0 ? 'start' : 'end');
    edgesReported++;
  };
  const windowTimers = [
    setTimeout(reportEdge, spec.warmupMs),
    setTimeout(reportEdge, spec.warmupMs + spec.measureMs),
  ];
  try {
    await Promise.all(
      Array.from({ length: spec.concurrency }, () => {
        const samples: number[] = [];
        latencies.push(samples);
        return worker(samples);
      }),
    );
  } finally {
    for (const t of windowTimers) clearTimeout(t);
    while (edgesReported < 2) reportEdge();
    await pool.destroy();
  }

  const all = Float64Array.from(latencies.flat()).sort();
  const seconds = spec.measureMs / 1000;
  let sum = 0;
  for (const v of all) sum += v;
  return {
    concurrency: spec.concurrency,
    ops: all.length,
    seconds,
    opsPerSec: all.length / seconds,
    p50Ms: percentile(all, 0.5),
    p99Ms: percentile(all, 0.99),
    meanMs: all.length === 0 ? NaN : sum / all.length,
    maxMs: all.length === 0 ? NaN : all[all.length - 1]!,
    errors,
    ...(firstError === undefined ? {} : { firstError }),
  };
}

/** Nearest-rank percentile of sorted values; NaN when empty. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}
