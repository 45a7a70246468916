// Benchmark: KvStore snapshot serialize and restore, and apply throughput, on real SQLite files
// (WAL, synchronous=FULL) in a temp directory. Keys are written by applying put commands in
// batches of one transaction each, as the node driver does per Raft Ready.
//
//   node dist/bench/kv-snapshot.js [--keys 100000] [--value-bytes 256] [--batch 1000] [--runs 3]
//                                  [--request-ids]
//
// --request-ids gives every put a request id, so the snapshot also carries 100,000 rows of the
// exactly-once table (its default cap).
//
// Serialize and restore are timed twice: with the change log as the puts left it (one event
// per key, so the snapshot carries each value twice) and after compacting it away.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { arch, cpus, loadavg, platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeCommand, KvStore } from '../kv/index.js';

interface Options {
  keys: number;
  valueBytes: number;
  batch: number;
  runs: number;
  requestIds: boolean;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      keys: { type: 'string', default: '100000' },
      'value-bytes': { type: 'string', default: '256' },
      batch: { type: 'string', default: '1000' },
      runs: { type: 'string', default: '3' },
      'request-ids': { type: 'boolean', default: false },
    },
  });
  const int = (name: string, v: string): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got ${v}`);
    return n;
  };
  return {
    keys: int('keys', values.keys),
    valueBytes: int('value-bytes', values['value-bytes']),
    batch: int('batch', values.batch),
    runs: int('runs', values.runs),
    requestIds: values['request-ids'],
  };
}

function open(dir: string, name: string): Database.Database {
  const db = new Database(join(dir, name));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  return db;
}

interface Timing {
  /** Wall-clock milliseconds. */
  wall: number;
  /** Milliseconds of CPU time of this process (user + system): less disturbed by other load. */
  cpu: number;
}

function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** The fastest of `runs` calls, by each measure. */
function fastest(runs: number, fn: () => void): Timing {
  const best = { wall: Infinity, cpu: Infinity };
  for (let i = 0; i < runs; i++) {
    const wall = performance.now();
    const cpu = cpuMs();
    fn();
    best.cpu = Math.min(best.cpu, cpuMs() - cpu);
    best.wall = Math.min(best.wall, performance.now() - wall);
  }
  return best;
}

const show = (t: Timing): string => `${t.wall.toFixed(0)} ms (cpu ${t.cpu.toFixed(0)} ms)`;

function main(options: Options): void {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-bench-kv-'));
  try {
    const db = open(dir, 'source.db');
    const kv = new KvStore(db);
    const value = 'v'.repeat(options.valueBytes);
    let index = 0;
    const applyStart = performance.now();
    for (let done = 0; done < options.keys;) {
      const n = Math.min(options.batch, options.keys - done);
      db.transaction(() => {
        for (let i = 0; i < n; i++, done++) {
          const key = `bench/${String(done).padStart(9, '0')}`;
          const cmd = options.requestIds
            ? { type: 'put' as const, key, value, requestId: `client:${done}` }
            : { type: 'put' as const, key, value };
          kv.apply(++index, encodeCommand(cmd));
        }
      })();
    }
    const applySeconds = (performance.now() - applyStart) / 1000;

    const target = open(dir, 'target.db');
    const restored = new KvStore(target);
    const measure = (label: string): void => {
      let bytes: Uint8Array = new Uint8Array();
      const serialize = fastest(options.runs, () => {
        bytes = kv.serialize();
      });
      const restore = fastest(options.runs, () => {
        target.transaction(() => {
          restored.restore(bytes);
        })();
      });
      const mb = (bytes.length / 1e6).toFixed(1);
      console.log(`${label}: ${mb} MB snapshot, serialize ${show(serialize)}, restore ${show(restore)}`);
    };

    console.log(
      `bench:kv — ${options.keys} keys × ${options.valueBytes}-byte values, batches of ${options.batch}`,
    );
    console.log(
      `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${platform()} ${arch()}, node ${process.version}, ` +
        `load ${loadavg()[0]?.toFixed(1) ?? '?'}`,
    );
    console.log(`apply: ${Math.round(options.keys / applySeconds)} puts/s (${applySeconds.toFixed(2)} s)`);
    measure('with change log');
    db.transaction(() => {
      kv.compactChanges(kv.revision());
    })();
    measure('compacted');
    db.close();
    target.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main(parseOptions());
