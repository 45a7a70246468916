import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { request } from 'undici';

export class SnapshotFetchError extends Error {
  constructor(
    readonly code: 'SNAPSHOT_DIGEST_MISMATCH' | 'SNAPSHOT_UNAVAILABLE' | 'SNAPSHOT_MALFORMED',
    message: string,
  ) {
    super(message);
    this.name = 'SnapshotFetchError';
  }
}

/**
 * Decompressed pieces of 1 MiB rather than zlib's 16 KiB: each piece is a round trip to the
 * thread pool and a load step on the event loop, and 28 MB in 16 KiB pieces is 1,700 of them.
 */
const GUNZIP_CHUNK_BYTES = 1 << 20;

/** Carries an error of the bytes' consumer out of the download loop unchanged. */
class ConsumerError extends Error {
  constructor(override readonly cause: unknown) {
    super('the snapshot consumer failed');
  }
}

export interface FetchedSnapshot {
  /** Uncompressed size. */
  readonly bytes: number;
  readonly revision: number;
  readonly keys: number;
  /** Bytes on the wire (compressed or not). */
  readonly wireBytes: number;
}

/**
 * Downloads a primary's snapshot (GET /v1/snapshot), handing the uncompressed bytes to
 * `onBytes` as they arrive (an error it throws ends the download and is rethrown). Resolves
 * only if the size and SHA-256 match the ones the primary sent (as trailers when it streamed
 * the snapshot, else as headers): the caller must not use the bytes before.
 */
export async function fetchSnapshot(
  baseUrl: string,
  timeoutMs: number,
  headers: Readonly<Record<string, string>> = {},
  /** Aborted when the secondary stops. */
  signal: AbortSignal | undefined,
  onBytes: (chunk: Buffer) => void,
): Promise<FetchedSnapshot> {
  const limit = AbortSignal.timeout(timeoutMs);
  const res = await request(new URL('/v1/snapshot', baseUrl), {
    headers,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    signal: signal === undefined ? limit : AbortSignal.any([limit, signal]),
  });
  if (res.statusCode !== 200) {
    const text = await res.body.text().catch(() => '');
    throw new SnapshotFetchError(
      'SNAPSHOT_UNAVAILABLE',
      `${baseUrl} answered ${res.statusCode}: ${text.slice(0, 200)}`,
    );
  }
  const field = (name: string): string | undefined => {
    const v = res.headers[name] ?? res.trailers[name];
    return typeof v === 'string' ? v : undefined;
  };
  const revision = Number(field('x-conclave-revision'));
  const keys = Number(field('x-conclave-key-count'));
  if (!Number.isSafeInteger(revision) || !Number.isSafeInteger(keys)) {
    res.body.destroy();
    throw new SnapshotFetchError(
      'SNAPSHOT_MALFORMED',
      `${baseUrl} sent a snapshot without its revision or key count`,
    );
  }
  const gzipped = field('content-encoding') === 'gzip';
  let size = 0;
  const hash = createHash('sha256');
  let wireBytes = 0;
  if (gzipped) {
    res.body.on('data', (chunk: Buffer) => {
      wireBytes += chunk.length;
    });
  }
  try {
    // pipeline, not pipe: a cut or aborted download fails the loop instead of stalling it.
    const source: AsyncIterable<Buffer> = gzipped
      ? pipeline(res.body, createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES }), () => undefined)
      : res.body;
    for await (const chunk of source) {
      hash.update(chunk);
      size += chunk.length;
      try {
        onBytes(chunk);
      } catch (error) {
        throw new ConsumerError(error);
      }
    }
  } catch (error) {
    res.body.destroy();
    if (error instanceof ConsumerError) throw error.cause;
    if (signal?.aborted === true || limit.aborted) throw error;
    throw new SnapshotFetchError(
      'SNAPSHOT_MALFORMED',
      `${baseUrl} sent a snapshot that does not decompress or was cut: ${(error as Error).message}`,
    );
  }
  if (!gzipped) wireBytes = size;
  // Trailers are complete once the body has ended.
  const digest = field('x-conclave-snapshot-sha256');
  const announced = Number(field('x-conclave-snapshot-bytes'));
  if (digest === undefined || !Number.isSafeInteger(announced)) {
    throw new SnapshotFetchError(
      'SNAPSHOT_MALFORMED',
      `${baseUrl} sent a snapshot without its size or digest`,
    );
  }
  const actual = hash.digest('hex');
  if (actual !== digest || size !== announced) {
    throw new SnapshotFetchError(
      'SNAPSHOT_DIGEST_MISMATCH',
      `the snapshot from ${baseUrl} does not match its digest (sha256 ${actual.slice(0, 16)}…, expected ${digest.slice(0, 16)}…; ${size} bytes, expected ${announced})`,
    );
  }
  return { bytes: size, revision, keys, wireBytes };
}
