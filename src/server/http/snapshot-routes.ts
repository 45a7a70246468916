import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { KvStore } from '../../kv/index.js';
import { parse } from './validation.js';

const gzipAsync = promisify(gzip);
const query = z.strictObject({ history: z.enum(['true', 'false']).optional() });

/** Headers of a snapshot answer: what a secondary checks before it uses the bytes. */
export const SNAPSHOT_HEADERS = {
  revision: 'x-conclave-revision',
  keys: 'x-conclave-key-count',
  sha256: 'x-conclave-snapshot-sha256',
  bytes: 'x-conclave-snapshot-bytes',
} as const;

export interface SnapshotRouteDeps {
  readonly kv: KvStore;
  readBarrier(): Promise<void>;
  /** gzip level, -1 for none. */
  readonly compression: number;
}

/**
 * GET /v1/snapshot: the whole key-value state (the checksummed format of src/kv/snapshot.ts),
 * gzip-compressed unless compression is -1, for secondaries to bootstrap from. The headers give
 * its revision, key count, size and the SHA-256 of the uncompressed bytes. The node first makes
 * sure it is up to date (ReadIndex), so the snapshot is never older than what a client saw.
 */
export function registerSnapshotRoutes(app: FastifyInstance, deps: SnapshotRouteDeps): void {
  app.get('/v1/snapshot', async (request, reply) => {
    const { history } = parse(query, request.query, 'query');
    await deps.readBarrier();
    const revision = deps.kv.revision();
    const keys = deps.kv.range({ countOnly: true }).count;
    const bytes = Buffer.from(deps.kv.serialize({ history: history === 'true' }));
    const digest = createHash('sha256').update(bytes).digest('hex');
    void reply
      .header('content-type', 'application/octet-stream')
      .header(SNAPSHOT_HEADERS.revision, String(revision))
      .header(SNAPSHOT_HEADERS.keys, String(keys))
      .header(SNAPSHOT_HEADERS.sha256, digest)
      .header(SNAPSHOT_HEADERS.bytes, String(bytes.length));
    if (deps.compression < 0) return reply.send(bytes);
    // In the thread pool: a large snapshot must not stall the event loop (and Raft with it).
    const body = await gzipAsync(bytes, { level: deps.compression });
    return reply.header('content-encoding', 'gzip').send(body);
  });
}
