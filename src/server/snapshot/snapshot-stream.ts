import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import type { KvStore, SnapshotTotals } from '../../kv/index.js';
import type { AppliedPoint } from '../../storage/applied-point.js';
import type { SnapshotWorkerData, SnapshotWorkerMessage } from './snapshot-protocol.js';

/** A snapshot being produced: what is known up front, the bytes, and what is known at the end. */
export interface SnapshotStream {
  readonly revision: number;
  readonly keys: number;
  /** The Raft applied point of the state, when asked for (worker-produced snapshots only). */
  readonly applied?: AppliedPoint | undefined;
  /** The snapshot bytes. Destroying it stops their production. */
  readonly body: Readable;
  /** Known up front only when the snapshot was produced whole (see `done`). */
  readonly known?: SnapshotTotals;
  /** Once the last byte is out: the size and SHA-256; rejects when production failed. */
  readonly done: Promise<SnapshotTotals>;
}

// The worker runs compiled JavaScript. Under a TypeScript loader (the test runner on sources)
// there is no such file next to this one; snapshots are then produced on the calling thread.
const WORKER_URL = new URL('./snapshot-worker.js', import.meta.url);
const COMPILED = import.meta.url.endsWith('.js');

/** Whether snapshots are produced by worker threads here (compiled code), not on the caller's. */
export const SNAPSHOT_WORKERS = COMPILED;

/** The snapshot could not be produced (its worker failed). */
export class SnapshotProductionError extends Error {
  override readonly name = 'SnapshotProductionError';
}

/**
 * Streams the snapshot of the key-value state in the database `file` (the store `kv` writes
 * to): produced by a worker thread on a read connection of its own, so the calling thread (and
 * Raft on it) is not held up. The worker starts at once and reads once `ready` resolves (the
 * state is then the one committed at that moment); a rejected `ready` rejects with its error.
 */
export async function openSnapshotStream(
  kv: KvStore,
  file: string,
  history: boolean,
  ready: Promise<void>,
  options: { appliedPoint?: boolean } = {},
): Promise<SnapshotStream> {
  if (COMPILED) return fromWorker(file, history, ready, options.appliedPoint === true);
  await ready;
  return inThread(kv, history);
}

function inThread(kv: KvStore, history: boolean): SnapshotStream {
  const bytes = Buffer.from(kv.serialize({ history }));
  const totals = { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  return {
    revision: kv.revision(),
    keys: kv.range({ countOnly: true }).count,
    body: Readable.from([bytes]),
    known: totals,
    done: Promise.resolve(totals),
  };
}

function fromWorker(
  file: string,
  history: boolean,
  ready: Promise<void>,
  appliedPoint: boolean,
): Promise<SnapshotStream> {
  const chunksAhead = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
  const ahead = new Int32Array(chunksAhead);
  const workerData: SnapshotWorkerData = { file, history, appliedPoint, chunksAhead };
  const worker = new Worker(WORKER_URL, { workerData });
  const take = (n: number): void => {
    Atomics.sub(ahead, 0, n);
    Atomics.notify(ahead, 0);
  };
  /** Chunks pushed past the reader's high-water mark: taken when it asks for more. */
  let owed = 0;
  let finished = false;
  const body = new Readable({
    highWaterMark: 1 << 20,
    read() {
      if (owed > 0) take(owed);
      owed = 0;
    },
    destroy(error, callback) {
      void worker.terminate();
      callback(error);
    },
  });
  let settle!: { resolve: (t: SnapshotTotals) => void; reject: (e: Error) => void };
  const done = new Promise<SnapshotTotals>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // Whoever wants the totals awaits `done`; a failure nobody waits for is no crash.
  done.catch(() => undefined);

  return new Promise<SnapshotStream>((resolve, reject) => {
    let started = false;
    const fail = (error: Error): void => {
      if (finished) return;
      finished = true;
      if (!started) reject(error);
      settle.reject(error);
      body.destroy(error);
    };
    ready.then(
      () => {
        worker.postMessage('go');
      },
      (cause: unknown) => {
        // Not a production failure: the caller's own error (no leader, shutting down, ...).
        const error = cause instanceof Error ? cause : new Error(String(cause));
        if (!finished) reject(error);
        finished = true;
        settle.reject(error);
        void worker.terminate();
      },
    );
    worker.on('message', (message: SnapshotWorkerMessage) => {
      switch (message.kind) {
        case 'head':
          started = true;
          resolve({ revision: message.revision, keys: message.keys, applied: message.applied, body, done });
          break;
        case 'chunk': {
          const { chunk } = message;
          if (body.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))) take(1);
          else owed++;
          break;
        }
        case 'end':
          finished = true;
          settle.resolve({ bytes: message.bytes, sha256: message.sha256 });
          body.push(null);
          break;
        case 'error':
          fail(new SnapshotProductionError(message.message));
          break;
      }
    });
    worker.on('error', (error) => {
      fail(new SnapshotProductionError(error.message));
    });
    worker.on('exit', (code) => {
      fail(new SnapshotProductionError(`the snapshot worker exited (code ${code}) before the end`));
    });
  });
}
