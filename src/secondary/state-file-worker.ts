// Worker thread of writeStateFile: writes the kv snapshot of an in-memory database image to the
// state file, atomically (temporary file, fsync, rename).
import Database from 'better-sqlite3';
import { closeSync, fsyncSync, openSync, renameSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
// kv's light entry: no zod in a thread started every save.
import { streamSnapshotOf } from '../kv/snapshot-reader.js';
import { writeAll } from './state-file.js';

export interface StateFileWorkerData {
  readonly file: string;
  /** The replica's database, serialized (SQLite image). */
  readonly image: Uint8Array;
}

export type StateFileWorkerResult = { readonly ok: true } | { readonly ok: false; readonly message: string };

function write({ file, image }: StateFileWorkerData): void {
  const db = new Database(Buffer.from(image.buffer, image.byteOffset, image.byteLength));
  const tmp = `${file}.tmp`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      streamSnapshotOf(
        db,
        true,
        () => undefined,
        (chunk) => {
          writeAll(fd, chunk);
        },
      );
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } finally {
    db.close();
  }
}

if (parentPort !== null) {
  let result: StateFileWorkerResult;
  try {
    write(workerData as StateFileWorkerData);
    result = { ok: true };
  } catch (error) {
    result = { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  parentPort.postMessage(result);
}
