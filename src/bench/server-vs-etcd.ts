// Benchmark: Conclave vs etcd 3.4, side by side, in one run on one machine. Three `conclave
// server` primaries and three etcd members on loopback (each with its own data dir under the same
// temp dir, fsync on for both), driven by the same Node HTTP client code (undici): 256-byte puts
// over 1,000 keys at several concurrency levels, sent to the leader so neither system pays
// forwarding; then leader failover as a retrying client sees it (SIGKILL, time to the first
// acknowledged write). Options: see parseOptions.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import type { BenchCluster } from './bench-cluster.js';
import { ConclaveCluster, node } from './bench-cluster.js';
import type { FailoverResult } from './bench-failover.js';
import { measureFailover } from './bench-failover.js';
import type { LoadResult } from './bench-load.js';
import { runLoad } from './bench-load.js';
import { cleanupNow, installCleanup, runBench } from './bench-procs.js';
import { CpuWindow } from './cpu-time.js';
import { EtcdCluster, ensureEtcd } from './etcd-cluster.js';

interface Options {
  seconds: number;
  warmup: number;
  prewarm: number;
  levels: number[];
  kills: number;
  writers: number;
  valueBytes: number;
  keys: number;
  json: string | undefined;
  failover: boolean;
  etcdFailover: boolean;
  conclaveArgs: string[];
  maxMinutes: number;
}

const USAGE = `usage: node dist/bench/server-vs-etcd.js [options]
  --seconds N            measured seconds per level (default 5)
  --warmup N             warmup seconds per level, not measured (default 1)
  --prewarm N            seconds of unmeasured load at 16 clients on each system before the
                         first level (default 10): Node.js compiles its hot code while it runs,
                         so without it the first levels would measure a cold JIT
  --concurrency A,B,..   concurrency levels (default 1,16,64,256)
  --kills N              leader kills per system for the failover figure (default 20)
  --writers N            concurrent writer loops during failover (default 4)
  --value-bytes N        value size (default 256)
  --keys N               distinct keys (default 1000)
  --json FILE            also write the results as JSON to FILE
  --skip-failover        throughput only
  --skip-etcd-failover   failover for Conclave only
  --conclave-arg ARG     extra flag for every conclave server (repeatable; for experiments only:
                         the default run uses the product defaults)
  --max-minutes N        abort the whole run after N minutes (default 30)`;

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      prewarm: { type: 'string', default: '10' },
      concurrency: { type: 'string', default: '1,16,64,256' },
      kills: { type: 'string', default: '20' },
      writers: { type: 'string', default: '4' },
      'value-bytes': { type: 'string', default: '256' },
      keys: { type: 'string', default: '1000' },
      json: { type: 'string' },
      'skip-failover': { type: 'boolean', default: false },
      'skip-etcd-failover': { type: 'boolean', default: false },
      'conclave-arg': { type: 'string', multiple: true, default: [] },
      'max-minutes': { type: 'string', default: '30' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const num = (name: string, v: string, min: number): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min}, got ${v}`);
    return n;
  };
  const int = (name: string, v: string, min: number): number => {
    const n = num(name, v, min);
    if (!Number.isInteger(n)) throw new Error(`--${name} must be an integer, got ${v}`);
    return n;
  };
  return {
    seconds: num('seconds', values.seconds, 0.1),
    warmup: num('warmup', values.warmup, 0),
    prewarm: num('prewarm', values.prewarm, 0),
    levels: values.concurrency.split(',').map((v) => int('concurrency', v.trim(), 1)),
    kills: int('kills', values.kills, 0),
    writers: int('writers', values.writers, 1),
    valueBytes: int('value-bytes', values['value-bytes'], 1),
    keys: int('keys', values.keys, 1),
    json: values.json,
    failover: !values['skip-failover'],
    etcdFailover: !values['skip-failover'] && !values['skip-etcd-failover'],
    conclaveArgs: values['conclave-arg'],
    maxMinutes: num('max-minutes', values['max-minutes'], 1),
  };
}

interface MachineInfo {
  date: string;
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  node: string;
  etcd: string;
  tmpdir: string;
  loadavgAtStart: number[];
}

/** CPU time per acknowledged write in the measured window, in microseconds (all threads). */
interface CpuPerWrite {
  leaderUs: number;
  /** The other members together. */
  followersUs: number;
  /** The load generator (this process). */
  clientUs: number;
  /** Share of the machine's cores in use by the cluster and the client together, in percent. */
  busyPercent: number;
}

type Measured = LoadResult & { cpu?: CpuPerWrite };

interface LevelRow {
  concurrency: number;
  conclave: Measured;
  etcd: Measured;
  /** Conclave ops/s divided by etcd ops/s. */
  ratio: number;
}

const fmt = (n: number, digits = 2): string =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : 'n/a';
const fmtLoad = (l: readonly number[]): string => l.map((v) => v.toFixed(2)).join(', ');

function table(rows: readonly LevelRow[]): string {
  const lines = [
    '| clients | Conclave ops/s | Conclave p50 ms | Conclave p99 ms | etcd ops/s | etcd p50 ms | etcd p99 ms | Conclave/etcd ops/s |',
    '| ------: | -------------: | --------------: | --------------: | ---------: | ----------: | ----------: | ------------------: |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.concurrency} | ${fmt(r.conclave.opsPerSec, 0)} | ${fmt(r.conclave.p50Ms)} | ${fmt(r.conclave.p99Ms)} | ` +
        `${fmt(r.etcd.opsPerSec, 0)} | ${fmt(r.etcd.p50Ms)} | ${fmt(r.etcd.p99Ms)} | ${fmt(r.ratio)}× |`,
    );
  }
  return lines.join('\n');
}

const fmtUs = (n: number | undefined): string => (n === undefined ? 'n/a' : fmt(n, 0));

/** Where the machine's CPU went per write: explains a ratio reached on a saturated machine. */
function cpuTable(rows: readonly LevelRow[]): string {
  const lines = [
    '| clients | Conclave µs/write: leader + followers = servers | client | etcd µs/write: leader + followers = servers | client | busy (C / e) |',
    '| ------: | ---------------------------------------------: | -----: | -----------------------------------------: | -----: | -----------: |',
  ];
  const cell = (c: CpuPerWrite | undefined): string =>
    c === undefined
      ? 'n/a | n/a'
      : `${fmtUs(c.leaderUs)} + ${fmtUs(c.followersUs)} = ${fmtUs(c.leaderUs + c.followersUs)} | ${fmtUs(c.clientUs)}`;
  const busy = (c: CpuPerWrite | undefined): string =>
    c === undefined ? 'n/a' : `${fmt(c.busyPercent, 0)} %`;
  for (const r of rows) {
    lines.push(
      `| ${r.concurrency} | ${cell(r.conclave.cpu)} | ${cell(r.etcd.cpu)} | ${busy(r.conclave.cpu)} / ${busy(r.etcd.cpu)} |`,
    );
  }
  return lines.join('\n');
}

function failoverLine(f: FailoverResult): string {
  return (
    `${f.system}: ${f.samplesMs.length}/${f.kills} kills recovered; kill → first acknowledged write: ` +
    `p50 ${fmt(f.p50Ms, 0)} ms, p99 ${fmt(f.p99Ms, 0)} ms, max ${fmt(f.maxMs, 0)} ms, mean ${fmt(f.meanMs, 0)} ms` +
    (f.failed > 0 ? `; ${f.failed} kill(s) with no write acknowledged in time` : '')
  );
}

function cpuOf(w: CpuWindow<'leader' | 'followers' | 'client'>, ops: number): { cpu?: CpuPerWrite } {
  const leader = w.seconds('leader');
  const followers = w.seconds('followers');
  const client = w.seconds('client');
  if (leader === undefined || followers === undefined || client === undefined || ops === 0) return {};
  const us = (seconds: number): number => (seconds / ops) * 1e6;
  return {
    cpu: {
      leaderUs: us(leader),
      followersUs: us(followers),
      clientUs: us(client),
      busyPercent: ((leader + followers + client) / (w.wallSeconds() * cpus().length)) * 100,
    },
  };
}

async function startCluster(cluster: BenchCluster): Promise<void> {
  cluster.startAll();
  await cluster.leader(60_000);
  for (const n of cluster.nodes) await cluster.waitHealthy(n.name, 60_000);
}

async function main(): Promise<void> {
  const options = parseOptions();
  installCleanup();
  const watchdog = setTimeout(() => {
    process.stderr.write(`\nbench: still running after ${options.maxMinutes} min; aborting\n`);
    cleanupNow();
    process.exit(1);
  }, options.maxMinutes * 60_000);
  watchdog.unref();

  const etcd = ensureEtcd();
  const cpuList = cpus();
  const machine: MachineInfo = {
    date: new Date().toISOString(),
    cpus: cpuList.length,
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()} ${arch()}`,
    node: process.version,
    etcd: etcd.version,
    tmpdir: tmpdir(),
    loadavgAtStart: loadavg(),
  };
  const defaults = options.conclaveArgs.length === 0;
  process.stdout.write(
    [
      '# Conclave vs etcd — server benchmark',
      `date:      ${machine.date}`,
      `machine:   ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, ${machine.os}`,
      `node:      ${machine.node}`,
      `etcd:      ${machine.etcd}`,
      `data dirs: under ${machine.tmpdir} (same disk for both; fsync on for both)`,
      `load avg:  ${fmtLoad(machine.loadavgAtStart)} (1, 5, 15 min) at start`,
      `workload:  3 nodes each, ${options.valueBytes}-byte values, ${options.keys} keys, writes to the leader, ` +
        `${options.prewarm} s prewarm per system, then ${options.warmup} s warmup + ${options.seconds} s per level`,
      `conclave:  ${defaults ? 'product defaults' : `NON-DEFAULT flags ${options.conclaveArgs.join(' ')}`}`,
      '',
    ].join('\n'),
  );

  const conclave = await ConclaveCluster.create(3, { extraArgs: options.conclaveArgs });
  const etcdCluster = await EtcdCluster.create(3, etcd.binary);
  try {
    await Promise.all([startCluster(conclave), startCluster(etcdCluster)]);

    const keys = Array.from({ length: options.keys }, (_, i) => `bench/k${i}`);
    const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
    const values = Array.from({ length: 16 }, () =>
      Array.from(randomBytes(options.valueBytes), (b) => alphabet[b % alphabet.length]!).join(''),
    );
    const requestsFor = (cluster: BenchCluster): ReturnType<BenchCluster['write']>[] =>
      keys.map((key, i) => cluster.write(key, values[i % values.length]!));

    const measure = async (
      cluster: BenchCluster,
      concurrency: number,
      warmupSeconds = options.warmup,
      seconds = options.seconds,
    ): Promise<Measured> => {
      const leader = await cluster.leader(30_000);
      const pidOf = (name: string): readonly number[] => {
        const pid = cluster.pid(name);
        return pid === undefined ? [] : [pid];
      };
      const cpuWindow = new CpuWindow<'leader' | 'followers' | 'client'>(
        () =>
          new Map([
            ['leader', pidOf(leader)],
            ['followers', cluster.nodes.filter((n) => n.name !== leader).flatMap((n) => pidOf(n.name))],
            ['client', [process.pid]],
          ]),
      );
      const load = await runLoad({
        origin: node(cluster, leader).clientUrl,
        concurrency,
        warmupMs: warmupSeconds * 1000,
        measureMs: seconds * 1000,
        timeoutMs: 10_000,
        requests: requestsFor(cluster),
        acknowledged: (status) => cluster.acknowledged(status),
        onWindow: (edge) => {
          if (edge === 'start') cpuWindow.start();
          else cpuWindow.stop();
        },
      });
      const result: Measured = { ...load, ...cpuOf(cpuWindow, load.ops) };
      process.stdout.write(
        `  ${cluster.system.padEnd(8)} c=${String(concurrency).padStart(3)}: ${fmt(result.opsPerSec, 0)} ops/s, ` +
          `p50 ${fmt(result.p50Ms)} ms, p99 ${fmt(result.p99Ms)} ms` +
          (result.errors > 0 ? `, ${result.errors} errors (first: ${result.firstError ?? '?'})` : '') +
          (result.cpu === undefined
            ? ''
            : `, CPU µs/write servers ${fmtUs(result.cpu.leaderUs + result.cpu.followersUs)} client ${fmtUs(result.cpu.clientUs)}`) +
          `  [load ${fmtLoad(loadavg())}]\n`,
      );
      return result;
    };

    if (options.prewarm > 0) {
      process.stdout.write(`## Prewarm: ${options.prewarm} s at 16 clients per system (not measured)\n`);
      for (const cluster of [conclave, etcdCluster]) await measure(cluster, 16, 0, options.prewarm);
    }
    process.stdout.write('## Throughput and latency (closed loop, one request in flight per client)\n');
    const rows: LevelRow[] = [];
    for (const [i, concurrency] of options.levels.entries()) {
      // Alternate which system goes first, so neither always runs on the warmer machine.
      const first = i % 2 === 0 ? conclave : etcdCluster;
      const second = first === conclave ? etcdCluster : conclave;
      const a = await measure(first, concurrency);
      const b = await measure(second, concurrency);
      const c = first === conclave ? a : b;
      const e = first === conclave ? b : a;
      rows.push({ concurrency, conclave: c, etcd: e, ratio: c.opsPerSec / e.opsPerSec });
    }
    const loadavgAfterThroughput = loadavg();
    process.stdout.write(
      `\n${table(rows)}\n\nCPU per acknowledged write (user + system, all threads; busy = share of the ${cpus().length} cores):\n\n${cpuTable(rows)}\n\nload avg after throughput: ${fmtLoad(loadavgAfterThroughput)}\n`,
    );

    const failovers: FailoverResult[] = [];
    const failoverTargets: BenchCluster[] = [];
    if (options.failover) failoverTargets.push(conclave);
    if (options.etcdFailover) failoverTargets.push(etcdCluster);
    for (const cluster of failoverTargets) {
      process.stdout.write(
        `\n## Failover: ${cluster.system}, ${options.kills} × SIGKILL of the leader, ${options.writers} retrying writers\n`,
      );
      const result = await measureFailover(cluster, {
        kills: options.kills,
        writers: options.writers,
        requestTimeoutMs: 300,
        recoveryTimeoutMs: 30_000,
        keys,
        value: values[0]!,
        onKill: (index, leader, ms) => {
          process.stdout.write(
            `  kill ${String(index + 1).padStart(2)}: ${leader} → ${ms === undefined ? 'no write acknowledged' : `${fmt(ms, 0)} ms`}\n`,
          );
        },
      });
      failovers.push(result);
      process.stdout.write(`${failoverLine(result)}\n`);
    }

    const loadavgAtEnd = loadavg();
    process.stdout.write(
      `\n## Summary\n\n${machine.cpus} × ${machine.cpuModel}, node ${machine.node}, etcd ${machine.etcd}\n`,
    );
    process.stdout.write(`${table(rows)}\n\n${cpuTable(rows)}\n\n`);
    for (const f of failovers) process.stdout.write(`${failoverLine(f)}\n`);
    process.stdout.write(
      `load avg: start ${fmtLoad(machine.loadavgAtStart)}; end ${fmtLoad(loadavgAtEnd)}\n`,
    );

    if (options.json !== undefined) {
      writeFileSync(
        options.json,
        `${JSON.stringify(
          {
            machine,
            options,
            conclaveDefaults: defaults,
            throughput: rows,
            failover: failovers,
            loadavgAfterThroughput,
            loadavgAtEnd,
          },
          null,
          2,
        )}\n`,
      );
      process.stdout.write(`results written to ${options.json}\n`);
    }
  } finally {
    await Promise.allSettled([conclave.destroy(), etcdCluster.destroy()]);
    clearTimeout(watchdog);
  }
}

runBench(main);
