import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { request } from 'undici';

const gunzipAsync = promisify(gunzip);

export class SnapshotFetchError extends Error {
  constructor(
    readonly code: 'SNAPSHOT_DIGEST_MISMATCH' | 'SNAPSHOT_UNAVAILABLE' | 'SNAPSHOT_MALFORMED',
    message: string,
  ) {
    super(message);
    this.name = 'SnapshotFetchError';
  }
}

export interface FetchedSnapshot {
  readonly bytes: Buffer;
  readonly revision: number;
  readonly keys: number;
  /** Bytes on the wire (compressed or not). */
  readonly wireBytes: number;
}

/**
 * Downloads a primary's snapshot (GET /v1/snapshot) and checks it before anyone uses it: the
 * SHA-256 of the uncompressed bytes must match the header, and so must the size.
 */
export async function fetchSnapshot(
  baseUrl: string,
  timeoutMs: number,
  headers: Readonly<Record<string, string>> = {},
  /** Aborted when the secondary stops. */
  signal?: AbortSignal,
): Promise<FetchedSnapshot> {
  const limit = AbortSignal.timeout(timeoutMs);
  const res = await request(new URL('/v1/snapshot', baseUrl), {
    headers,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    signal: signal === undefined ? limit : AbortSignal.any([limit, signal]),
  });
  const body = Buffer.from(await res.body.arrayBuffer());
  if (res.statusCode !== 200) {
    throw new SnapshotFetchError(
      'SNAPSHOT_UNAVAILABLE',
      `${baseUrl} answered ${res.statusCode}: ${body.toString().slice(0, 200)}`,
    );
  }
  const header = (name: string): string | undefined => {
    const v = res.headers[name];
    return typeof v === 'string' ? v : undefined;
  };
  const digest = header('x-conclave-snapshot-sha256');
  const revision = Number(header('x-conclave-revision'));
  const keys = Number(header('x-conclave-key-count'));
  const size = Number(header('x-conclave-snapshot-bytes'));
  if (
    digest === undefined ||
    !Number.isSafeInteger(revision) ||
    !Number.isSafeInteger(keys) ||
    !Number.isSafeInteger(size)
  ) {
    throw new SnapshotFetchError(
      'SNAPSHOT_MALFORMED',
      `${baseUrl} sent a snapshot without its revision, key count, size or digest`,
    );
  }
  let bytes: Buffer;
  try {
    bytes = header('content-encoding') === 'gzip' ? await gunzipAsync(body) : body;
  } catch (error) {
    throw new SnapshotFetchError(
      'SNAPSHOT_MALFORMED',
      `${baseUrl} sent a snapshot that does not decompress: ${(error as Error).message}`,
    );
  }
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== digest || bytes.length !== size) {
    throw new SnapshotFetchError(
      'SNAPSHOT_DIGEST_MISMATCH',
      `the snapshot from ${baseUrl} does not match its digest (sha256 ${actual.slice(0, 16)}…, expected ${digest.slice(0, 16)}…; ${bytes.length} bytes, expected ${size})`,
    );
  }
  return { bytes, revision, keys, wireBytes: body.length };
}
