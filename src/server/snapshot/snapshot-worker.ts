// Worker thread: produces one snapshot of a node's key-value state from its own read-only
// connection to the node's database file, and hands it to the parent in chunks. Off the main
// thread, because serializing a large state takes long enough (about 1 s per 100,000 keys) to
// stall Raft heartbeats and start an election.
//
// The worker loads and opens the database at once, but reads only when the parent says `go`
// (after its ReadIndex round), so that the snapshot is at least as new as the round.
//
// Flow control: the parent counts the chunks it has not consumed yet in a shared Int32Array;
// past MAX_CHUNKS_AHEAD the worker blocks (Atomics.wait), so memory stays bounded however slow
// the reader is. A reader that is gone is handled by the parent terminating the worker.

import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
// kv's second public entry: it loads no more than the snapshot writer needs (not zod), which
// matters for a thread started per snapshot.
import { streamSnapshotOf } from '../../kv/snapshot-reader.js';
import { readAppliedPoint } from '../../storage/applied-point.js';
import type { SnapshotWorkerData, SnapshotWorkerMessage } from './snapshot-protocol.js';
import { MAX_CHUNKS_AHEAD, STALLED_READER_MS } from './snapshot-protocol.js';

const data = workerData as SnapshotWorkerData;
if (parentPort === null) throw new Error('snapshot-worker runs as a worker thread');
const port = parentPort;
const post = (message: SnapshotWorkerMessage, transfer: ArrayBuffer[] = []): void => {
  port.postMessage(message, transfer);
};
const ahead = new Int32Array(data.chunksAhead);

function produce(db: Database.Database): void {
  const totals = streamSnapshotOf(
    db,
    data.history,
    (head) => {
      // Called inside the read transaction: the applied point matches the tables read.
      post({ kind: 'head', ...head, applied: data.appliedPoint ? readAppliedPoint(db) : undefined });
    },
    (chunk) => {
      // The writer's chunks own their ArrayBuffer (never reused): transfer it. Small ones may
      // sit in Node's shared pool (an ArrayBuffer of Buffer.poolSize), which must not be
      // detached: copy those.
      const own = chunk.buffer.byteLength > Buffer.poolSize;
      const view = own
        ? new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)
        : new Uint8Array(chunk);
      post({ kind: 'chunk', chunk: view }, [view.buffer as ArrayBuffer]);
      Atomics.add(ahead, 0, 1);
      while (Atomics.load(ahead, 0) >= MAX_CHUNKS_AHEAD) {
        if (Atomics.wait(ahead, 0, Atomics.load(ahead, 0), STALLED_READER_MS) === 'timed-out') {
          throw new Error(`the reader took no snapshot bytes for ${STALLED_READER_MS} ms`);
        }
      }
    },
  );
  post({ kind: 'end', ...totals });
}

const fail = (error: unknown): void => {
  post({ kind: 'error', message: error instanceof Error ? error.message : String(error) });
};

function open(): Database.Database | undefined {
  try {
    return new Database(data.file, { readonly: true, fileMustExist: true });
  } catch (error) {
    fail(error);
    port.close();
    return undefined;
  }
}

const db = open();
if (db !== undefined) {
  port.once('message', () => {
    try {
      produce(db);
    } catch (error) {
      fail(error);
    } finally {
      db.close();
      port.close();
    }
  });
}
