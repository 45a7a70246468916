// Benchmark: secondaries (issue 4). Three primaries and N secondaries on loopback.
// 1. Propagation: writes at a fixed rate to the leader; each secondary serves a watch of the
//    written prefix from its replica; for each write, the time from its acknowledgement to its
//    arrival on the LAST secondary (p50/p99/max over all writes).
// 2. Cost per change: bytes a secondary received on its change stream per change applied.
// 3. Bootstrap: the primaries hold K keys of V bytes; a new secondary is started and timed from
//    spawn to its first answered read (and to /health ready), with its snapshot size.
import { setMaxListeners } from 'node:events';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { Pool, request } from 'undici';
import { ConclaveCluster, node } from './bench-cluster.js';
import { freePorts, installCleanup, pollUntil, runBench, sleep, TrackedProcess } from './bench-procs.js';
import { CpuWindow } from './cpu-time.js';

const USAGE = `usage: node dist/bench/secondaries.js [options]
  --secondaries N   secondaries for the propagation run (default 20)
  --rate N          writes per second (default 1000)
  --seconds N       measured seconds (default 10)
  --connections N   connections the writes are sent over (default 64: enough to offer the rate
                    even when each write takes tens of milliseconds)
  --keys N          keys for the bootstrap run (default 100000)
  --value-bytes N   value size (default 256)`;

const BIN = new URL('../../bin/conclave', import.meta.url).pathname;

interface Options {
  secondaries: number;
  rate: number;
  seconds: number;
  connections: number;
  keys: number;
  valueBytes: number;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      secondaries: { type: 'string', default: '20' },
      rate: { type: 'string', default: '1000' },
      seconds: { type: 'string', default: '10' },
      connections: { type: 'string', default: '64' },
      keys: { type: 'string', default: '100000' },
      'value-bytes': { type: 'string', default: '256' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const n = (v: string, name: string): number => {
    const x = Number(v);
    if (!Number.isInteger(x) || x < 1) throw new Error(`--${name} must be a positive integer`);
    return x;
  };
  return {
    secondaries: n(values.secondaries, 'secondaries'),
    rate: n(values.rate, 'rate'),
    seconds: n(values.seconds, 'seconds'),
    connections: n(values.connections, 'connections'),
    keys: n(values.keys, 'keys'),
    valueBytes: n(values['value-bytes'], 'value-bytes'),
  };
}

function startSecondary(cluster: ConclaveCluster, name: string, port: number): TrackedProcess {
  return new TrackedProcess(`secondary ${name}`, process.execPath, [
    BIN,
    'server',
    '--role',
    'secondary',
    '--name',
    name,
    '--cluster-name',
    'bench',
    '--listen',
    `127.0.0.1:${port}`,
    '--join',
    cluster.nodes.map((n) => n.clientUrl).join(','),
    '--secret',
    cluster.secret,
    '--log-level',
    'warn',
  ]);
}

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await request(`${url}/health`, { headersTimeout: 1_000, bodyTimeout: 1_000 });
    await res.body.dump();
    return res.statusCode === 200;
  } catch {
    return false;
  }
}

const quantile = (sorted: readonly number[], q: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

/** Reads a watch stream and records when each revision's event arrived. */
async function watchArrivals(url: string, arrivals: Map<number, number>, signal: AbortSignal): Promise<void> {
  const res = await request(`${url}/v1/watch?prefix=prop/&progressMs=60000`, { signal, bodyTimeout: 0 });
  let buffer = '';
  try {
    for await (const chunk of res.body) {
      const now = performance.now();
      buffer += (chunk as Buffer).toString('utf8');
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const id = /^id: (\d+):/m.exec(block);
        if (id !== null) arrivals.set(Number(id[1]), now);
      }
    }
  } catch {
    // aborted at the end
  }
}

async function propagation(cluster: ConclaveCluster, o: Options): Promise<void> {
  const ports = await freePorts(o.secondaries);
  const secondaries = ports.map((port, i) => ({
    url: `http://127.0.0.1:${port}`,
    proc: startSecondary(cluster, `s${i + 1}`, port),
  }));
  try {
    for (const s of secondaries)
      await pollUntil(`${s.url} ready`, 60_000, async () => ((await healthy(s.url)) ? true : undefined));
    const abort = new AbortController();
    // One listener per secondary's stream.
    setMaxListeners(o.secondaries + 10, abort.signal);
    const arrivals = secondaries.map(() => new Map<number, number>());
    const streams = secondaries.map((s, i) => watchArrivals(s.url, arrivals[i]!, abort.signal));
    await sleep(500);
    const leader = node(cluster, await cluster.leader(10_000)).clientUrl;
    const pool = new Pool(leader, { connections: o.connections });
    const value = 'v'.repeat(o.valueBytes);
    const acks = new Map<number, number>();
    const total = o.rate * o.seconds;
    const pids = (procs: readonly (number | undefined)[]): number[] =>
      procs.filter((p): p is number => p !== undefined);
    const cpuWindow = new CpuWindow<'primaries' | 'secondaries' | 'bench'>(
      () =>
        new Map([
          ['primaries', pids(cluster.nodes.map((n) => cluster.pid(n.name)))],
          ['secondaries', pids(secondaries.map((s) => s.proc.child.pid))],
          ['bench', [process.pid]],
        ]),
    );
    cpuWindow.start();
    const start = performance.now();
    const inflight: Promise<void>[] = [];
    let failed = 0;
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / o.rate;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      inflight.push(
        pool
          .request({
            method: 'PUT',
            path: `/v1/kv/prop/k${i % 1000}`,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ value }),
          })
          .then(async (res) => {
            const at = performance.now();
            await res.body.dump();
            const revision = Number(res.headers['x-conclave-revision']);
            if (res.statusCode === 200) acks.set(revision, at);
            else failed++;
          })
          .catch(() => {
            failed++;
          }),
      );
      if (inflight.length > 256) await Promise.all(inflight.splice(0, 128));
    }
    await Promise.all(inflight);
    const elapsed = (performance.now() - start) / 1000;
    cpuWindow.stop();
    await sleep(1_000);
    abort.abort();
    await Promise.allSettled(streams);
    await pool.close();
    const delays: number[] = [];
    let missing = 0;
    for (const [revision, ackAt] of acks) {
      let last = -Infinity;
      for (const a of arrivals) {
        const at = a.get(revision);
        if (at === undefined) {
          last = NaN;
          break;
        }
        last = Math.max(last, at);
      }
      if (Number.isNaN(last)) missing++;
      else delays.push(Math.max(0, last - ackAt));
    }
    delays.sort((a, b) => a - b);
    const stats = await Promise.all(
      secondaries.map(async (s) => {
        const res = await request(`${s.url}/status`);
        return (await res.body.json()) as { streamBytes: number; changesApplied: number };
      }),
    );
    const bytes = stats.reduce((n, s) => n + s.streamBytes, 0);
    const changes = stats.reduce((n, s) => n + s.changesApplied, 0);
    process.stdout.write(
      [
        `## Propagation: ${o.secondaries} secondaries, ${o.rate} writes/s of ${o.valueBytes}-byte values for ${o.seconds} s over ${o.connections} connections`,
        `writes acknowledged: ${acks.size} in ${elapsed.toFixed(1)} s (${(acks.size / elapsed).toFixed(0)}/s), failed ${failed}`,
        `ack → visible on every secondary: p50 ${quantile(delays, 0.5).toFixed(2)} ms, p99 ${quantile(delays, 0.99).toFixed(2)} ms, max ${quantile(delays, 1).toFixed(2)} ms` +
          (missing > 0 ? `; ${missing} writes not seen everywhere` : ''),
        `bytes received per change on a secondary's stream: ${(bytes / Math.max(1, changes)).toFixed(0)} (values of ${o.valueBytes} bytes, with the previous value)`,
        cpuLine(cpuWindow, acks.size, changes),
        '',
      ].join('\n'),
    );
  } finally {
    await Promise.all(secondaries.map((s) => s.proc.kill('SIGKILL')));
  }
}

/** Where the machine's cores went while the writes were sent (Linux; "n/a" elsewhere). */
function cpuLine(
  w: CpuWindow<'primaries' | 'secondaries' | 'bench'>,
  writes: number,
  changes: number,
): string {
  const wall = w.wallSeconds();
  const share = (group: 'primaries' | 'secondaries' | 'bench'): string => {
    const seconds = w.seconds(group);
    return seconds === undefined ? 'n/a' : `${((seconds / wall) * 100).toFixed(0)} %`;
  };
  const primaries = w.seconds('primaries');
  const secondaries = w.seconds('secondaries');
  const perWrite = primaries === undefined || writes === 0 ? 'n/a' : ((primaries / writes) * 1e6).toFixed(0);
  const perChange =
    secondaries === undefined || changes === 0 ? 'n/a' : ((secondaries / changes) * 1e6).toFixed(0);
  return (
    `CPU while writing (one core = 100 %, ${cpus().length} cores): primaries ${share('primaries')}, ` +
    `secondaries ${share('secondaries')}, bench ${share('bench')}; ` +
    `${perWrite} µs per write on the primaries together, ${perChange} µs per change applied on a secondary`
  );
}

async function bootstrap(cluster: ConclaveCluster, o: Options): Promise<void> {
  const leader = node(cluster, await cluster.leader(10_000)).clientUrl;
  const value = 'b'.repeat(o.valueBytes);
  const perTxn = 100;
  const pool = new Pool(leader, { connections: 8 });
  const loadStart = performance.now();
  const batches: Promise<void>[] = [];
  for (let first = 0; first < o.keys; first += perTxn) {
    const ops = [];
    for (let k = first; k < Math.min(o.keys, first + perTxn); k++)
      ops.push({ type: 'put', key: `boot/${String(k).padStart(7, '0')}`, value });
    batches.push(
      pool
        .request({
          method: 'POST',
          path: '/v1/txn',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ compare: [], success: ops, failure: [] }),
        })
        .then(async (res) => {
          const text = await res.body.text();
          if (res.statusCode !== 200) throw new Error(`txn: ${res.statusCode} ${text}`);
        }),
    );
    if (batches.length >= 16) await Promise.all(batches.splice(0));
  }
  await Promise.all(batches);
  await pool.close();
  process.stdout.write(
    `## Bootstrap: ${o.keys} keys of ${o.valueBytes} bytes (loaded in ${((performance.now() - loadStart) / 1000).toFixed(1)} s)\n`,
  );
  const snapStart = performance.now();
  const snap = await request(`${leader}/v1/snapshot`);
  const wire = (await snap.body.arrayBuffer()).byteLength;
  // Streamed: the size is a trailer.
  const size = snap.trailers['x-conclave-snapshot-bytes'] ?? snap.headers['x-conclave-snapshot-bytes'];
  process.stdout.write(
    `snapshot: ${String(size)} bytes, ${wire} on the wire (gzip level 1, the default), served in ${(performance.now() - snapStart).toFixed(0)} ms\n`,
  );
  const [port] = await freePorts(1);
  const url = `http://127.0.0.1:${port!}`;
  const spawnedAt = performance.now();
  const proc = startSecondary(cluster, 'boot', port!);
  try {
    await pollUntil(
      'the new secondary serving',
      60_000,
      async () => {
        try {
          const res = await request(`${url}/v1/kv/boot/${String(o.keys - 1).padStart(7, '0')}`, {
            headersTimeout: 1_000,
          });
          await res.body.dump();
          return res.statusCode === 200 ? true : undefined;
        } catch {
          return undefined;
        }
      },
      5,
    );
    const servedMs = performance.now() - spawnedAt;
    process.stdout.write(
      `spawn → first read answered from the replica: ${servedMs.toFixed(0)} ms (includes Node.js start-up)\n`,
    );
  } finally {
    await proc.kill('SIGKILL');
  }
}

async function main(): Promise<void> {
  const o = options();
  installCleanup();
  const cluster = await ConclaveCluster.create(3);
  cluster.startAll();
  try {
    await cluster.leader(30_000);
    for (const n of cluster.nodes) await cluster.waitHealthy(n.name, 30_000);
    process.stdout.write(`# Conclave secondaries benchmark — ${new Date().toISOString()}\n`);
    await propagation(cluster, o);
    await bootstrap(cluster, o);
  } finally {
    await cluster.destroy();
  }
}

runBench(main);
