// Leader failover as a client sees it: writers write continuously, round robin over every node
// with a short per-request timeout and retries; the leader is SIGKILLed; the figure is the time
// from the kill to the first write acknowledged that was sent after the kill. The killed node is
// restarted and must report healthy before the next kill.
import { randomUUID } from 'node:crypto';
import { Agent } from 'undici';
import type { BenchCluster } from './bench-cluster.js';
import { node } from './bench-cluster.js';
import { percentile } from './bench-load.js';
import { sleep } from './bench-procs.js';

export interface FailoverOptions {
  readonly kills: number;
  /** Concurrent writer loops (each one write in flight at a time). */
  readonly writers: number;
  readonly requestTimeoutMs: number;
  /** Longest wait for the first acknowledged write after a kill before the kill counts as failed. */
  readonly recoveryTimeoutMs: number;
  readonly keys: readonly string[];
  readonly value: string;
  readonly onKill?: (index: number, leader: string, ms: number | undefined) => void;
}

export interface FailoverResult {
  readonly system: string;
  readonly kills: number;
  /** Kill-to-first-acknowledged-write times, in kill order (ms); a failed kill is not included. */
  readonly samplesMs: readonly number[];
  /** Kills after which no write was acknowledged within recoveryTimeoutMs. */
  readonly failed: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

export async function measureFailover(
  cluster: BenchCluster,
  options: FailoverOptions,
): Promise<FailoverResult> {
  const agent = new Agent({
    connections: 4,
    headersTimeout: options.requestTimeoutMs,
    bodyTimeout: options.requestTimeoutMs,
    connectTimeout: options.requestTimeoutMs,
  });
  let stopped = false;
  let waiter: { after: number; resolve: (ackAt: number) => void } | undefined;

  const acked = (sentAt: number, ackAt: number): void => {
    if (waiter !== undefined && sentAt >= waiter.after) {
      const w = waiter;
      waiter = undefined;
      w.resolve(ackAt);
    }
  };

  /** Resolves with the ack time of the first write sent at or after `after`, or undefined on timeout. */
  const firstAckAfter = async (after: number, timeoutMs: number): Promise<number | undefined> => {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await new Promise<number | undefined>((resolveAck) => {
        waiter = { after, resolve: resolveAck };
        timer = setTimeout(() => {
          waiter = undefined;
          resolveAck(undefined);
        }, timeoutMs);
      });
    } finally {
      clearTimeout(timer);
    }
  };

  const writer = async (index: number): Promise<void> => {
    let next = index;
    let seq = 0;
    let requestId = randomUUID();
    while (!stopped) {
      const target = cluster.nodes[next % cluster.nodes.length]!;
      next++;
      const key = options.keys[(index * 7919 + seq) % options.keys.length]!;
      const req = cluster.write(key, options.value, requestId);
      const sentAt = performance.now();
      let ok = false;
      try {
        const res = await agent.request({
          origin: target.clientUrl,
          method: req.method,
          path: req.path,
          headers: req.headers,
          body: req.body,
        });
        await res.body.text();
        ok = cluster.acknowledged(res.statusCode);
      } catch {
        // Refused, reset or timed out: try the next node.
      }
      if (ok) {
        acked(sentAt, performance.now());
        seq++;
        requestId = randomUUID();
        // Keep writing to a node that answers; move on only when it fails.
        next--;
      } else {
        await sleep(5);
      }
    }
  };

  const writers = Array.from({ length: options.writers }, (_, i) => writer(i));
  const samples: number[] = [];
  let failed = 0;
  try {
    for (let i = 0; i < options.kills; i++) {
      const leader = await cluster.leader(30_000);
      // Writes are flowing before the kill.
      if ((await firstAckAfter(performance.now(), 10_000)) === undefined) {
        throw new Error(`${cluster.system}: no write acknowledged before kill ${i + 1}\n${cluster.logs()}`);
      }
      const killAt = performance.now();
      const recovered = firstAckAfter(killAt, options.recoveryTimeoutMs);
      await cluster.kill(leader);
      const ackAt = await recovered;
      const ms = ackAt === undefined ? undefined : ackAt - killAt;
      if (ms === undefined) failed++;
      else samples.push(ms);
      options.onKill?.(i, `${leader} (${node(cluster, leader).clientUrl})`, ms);
      cluster.start(leader);
      await cluster.waitHealthy(leader, 30_000);
      // Let the restarted node catch up before the next kill.
      await sleep(500);
    }
  } finally {
    stopped = true;
    await Promise.all(writers);
    await agent.destroy();
  }
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    system: cluster.system,
    kills: options.kills,
    samplesMs: samples,
    failed,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    maxMs: sorted.length === 0 ? NaN : sorted[sorted.length - 1]!,
    meanMs: sorted.length === 0 ? NaN : sum / sorted.length,
  };
}
