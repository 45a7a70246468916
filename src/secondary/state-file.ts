import type Database from 'better-sqlite3';
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { KvStore } from '../kv/index.js';
import type { StateFileWorkerData, StateFileWorkerResult } from './state-file-worker.js';

// The worker runs compiled JavaScript. Under a TypeScript loader (the test runner on sources)
// there is no such file next to this one; the file is then written on the calling thread.
const WORKER_URL = new URL('./state-file-worker.js', import.meta.url);
const COMPILED = import.meta.url.endsWith('.js');

/**
 * Writes a replica's state file (the kv snapshot format, as `kv.serialize()` writes it)
 * atomically: to `file.tmp`, fsynced, then renamed over `file`. Writing the snapshot of 100,000
 * keys takes about a second, which on the event loop stalled every read of the secondary each
 * time the file was saved: here the event loop only copies the in-memory database as an SQLite
 * image (`db.serialize()`, a few tens of milliseconds), and a worker thread writes the snapshot
 * from that copy.
 */
export function writeStateFile(db: Database.Database, kv: KvStore, file: string): Promise<void> {
  if (!COMPILED) {
    try {
      writeAtomically(file, [kv.serialize()]);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }
  const image = db.serialize();
  const workerData: StateFileWorkerData = { file, image };
  let worker: Worker;
  try {
    worker = new Worker(WORKER_URL, { workerData, transferList: [image.buffer as ArrayBuffer] });
  } catch {
    // A buffer that cannot be detached is copied instead.
    worker = new Worker(WORKER_URL, { workerData });
  }
  return new Promise((resolve, reject) => {
    worker.once('message', (result: StateFileWorkerResult) => {
      if (result.ok) resolve();
      else reject(new Error(result.message));
    });
    worker.once('error', reject);
    // After a message this changes nothing: a settled promise stays settled.
    worker.once('exit', (code) => {
      reject(new Error(`the state file writer exited (code ${code}) before the end`));
    });
  });
}

/** Writes `chunks` to `file.tmp`, fsyncs it and renames it over `file`. */
function writeAtomically(file: string, chunks: Iterable<Uint8Array>): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    for (const chunk of chunks) writeAll(fd, chunk);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

export function writeAll(fd: number, chunk: Uint8Array): void {
  let written = 0;
  while (written < chunk.length) written += writeSync(fd, chunk, written);
}
