import { pipeline, Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { KvStore } from '../../kv/index.js';
import { ServerError } from '../errors.js';
import {
  openSnapshotStream,
  SnapshotProductionError,
  type SnapshotStream,
} from '../snapshot/snapshot-stream.js';
import { parse } from './validation.js';

/** zlib output pieces: 1 MiB, not 16 KiB, so that an incompressible state is few thread-pool trips. */
const GZIP_CHUNK_BYTES = 1 << 20;

const query = z.strictObject({
  history: z.enum(['true', 'false']).optional(),
  /** `header`: size and digest as headers, for readers behind proxies that drop trailers. */
  digest: z.enum(['trailer', 'header']).optional(),
});

/**
 * Fields of a snapshot answer: what a secondary checks before it uses the bytes. Revision and
 * key count are headers; size and digest are known only once the last byte is out, so a
 * streamed snapshot sends them as HTTP trailers (a snapshot produced whole, as headers).
 */
export const SNAPSHOT_HEADERS = {
  revision: 'x-conclave-revision',
  keys: 'x-conclave-key-count',
  sha256: 'x-conclave-snapshot-sha256',
  bytes: 'x-conclave-snapshot-bytes',
} as const;

export interface SnapshotRouteDeps {
  readonly kv: KvStore;
  /** The SQLite file `kv` lives in (read by the snapshot worker on a connection of its own). */
  readonly file: string;
  readBarrier(): Promise<void>;
  /** gzip level, -1 for none. */
  readonly compression: number;
  /** Snapshots served at once; more are refused with SNAPSHOT_BUSY (503, Retry-After). */
  readonly concurrency: number;
}

/** The whole snapshot read into memory, with its totals known. */
async function held(snapshot: SnapshotStream): Promise<SnapshotStream> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of snapshot.body) chunks.push(chunk as Buffer);
    const known = await snapshot.done;
    return { ...snapshot, body: Readable.from([Buffer.concat(chunks)]), known };
  } catch (cause) {
    throw new ServerError(
      'SNAPSHOT_FAILED',
      `the snapshot could not be produced: ${(cause as Error).message}`,
      undefined,
      {
        cause,
      },
    );
  }
}

/**
 * GET /v1/snapshot: the whole key-value state (the checksummed format of src/kv/snapshot.ts),
 * gzip-compressed unless compression is -1, for secondaries to bootstrap from and for backups.
 * The node first makes sure it is up to date (ReadIndex), so the snapshot is never older than
 * what a client saw; then a worker thread streams it, so Raft never waits on a large state.
 */
export function registerSnapshotRoutes(app: FastifyInstance, deps: SnapshotRouteDeps): void {
  /** Snapshots being served: each holds a worker thread reading the whole state. */
  let serving = 0;
  app.get('/v1/snapshot', async (request, reply) => {
    const { history, digest } = parse(query, request.query, 'query');
    if (serving >= deps.concurrency) {
      throw new ServerError(
        'SNAPSHOT_BUSY',
        `this node is serving ${serving} snapshots already (snapshot-concurrency): retry later or ask another primary`,
      );
    }
    // Released when the exchange ends, however it ends (sent, failed, or the reader gone).
    serving++;
    reply.raw.once('close', () => {
      serving--;
    });
    let snapshot: SnapshotStream;
    try {
      // The worker starts while the ReadIndex round runs, and reads once it is done.
      snapshot = await openSnapshotStream(deps.kv, deps.file, history === 'true', deps.readBarrier());
    } catch (cause) {
      if (!(cause instanceof SnapshotProductionError)) throw cause;
      throw new ServerError(
        'SNAPSHOT_FAILED',
        `the snapshot could not be produced: ${(cause as Error).message}`,
        undefined,
        {
          cause,
        },
      );
    }
    void reply
      .header('content-type', 'application/octet-stream')
      .header(SNAPSHOT_HEADERS.revision, String(snapshot.revision))
      .header(SNAPSHOT_HEADERS.keys, String(snapshot.keys));
    if (digest === 'header' && snapshot.known === undefined) {
      // Still produced by the worker (the event loop stays free), but held whole until the
      // digest is known: memory for the whole snapshot, as the price of plain headers.
      snapshot = await held(snapshot);
    }
    if (snapshot.known !== undefined) {
      void reply
        .header(SNAPSHOT_HEADERS.sha256, snapshot.known.sha256)
        .header(SNAPSHOT_HEADERS.bytes, String(snapshot.known.bytes));
    } else {
      // A failed production sends no trailers: the reader sees no digest and refuses the bytes.
      void reply
        .trailer(SNAPSHOT_HEADERS.sha256, async () => (await snapshot.done).sha256)
        .trailer(SNAPSHOT_HEADERS.bytes, async () => String((await snapshot.done).bytes));
    }
    // A client that goes away destroys the reply's stream, and pipeline() the worker's with it.
    const body: Readable =
      deps.compression < 0
        ? snapshot.body
        : pipeline(
            snapshot.body,
            createGzip({ level: deps.compression, chunkSize: GZIP_CHUNK_BYTES }),
            () => undefined,
          );
    if (deps.compression >= 0) void reply.header('content-encoding', 'gzip');
    return reply.send(body);
  });
}
