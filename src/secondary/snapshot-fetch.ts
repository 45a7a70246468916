import { request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { PassThrough, pipeline } from 'node:stream';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

// node:http rather than undici: this module is loaded before the rest of a secondary's code so
// that the download can start first (see SnapshotPrefetch), and node:http costs no load time.

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

/** A primary's answer to GET /v1/snapshot, its body possibly still arriving. */
interface SnapshotResponse {
  readonly statusCode: number;
  readonly headers: IncomingHttpHeaders;
  /** The trailers: complete once the body has ended. */
  trailers(): IncomingHttpHeaders;
  readonly body: Readable;
}

/** Sends GET /v1/snapshot; resolves with the response once its headers are in. */
function openSnapshot(
  baseUrl: string,
  headers: Readonly<Record<string, string>>,
  signal: AbortSignal,
): Promise<SnapshotResponse> {
  return new Promise((resolve, reject) => {
    let url: URL;
    try {
      url = new URL('/v1/snapshot', baseUrl);
    } catch (error) {
      reject(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, { headers, signal }, (res) => {
      resolve({
        statusCode: res.statusCode ?? 0,
        headers: res.headers,
        trailers: () => res.trailers,
        body: res,
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Bytes a prefetched snapshot may hold unread before the primary is held back (TCP backpressure):
 * enough for the compressed snapshot of a large state to arrive while the secondary loads its code.
 */
const PREFETCH_BUFFER_BYTES = 64 * 1024 * 1024;

/**
 * A snapshot download started as early as a secondary process can (right after its
 * configuration is read), so that the primary produces it while the secondary loads the rest of
 * its code. The body is read into memory meanwhile; `take` hands the response to the first
 * bootstrap attempt, which checks it like any other. Untaken, it ends at `timeoutMs` or `cancel`.
 */
export class SnapshotPrefetch {
  private readonly controller = new AbortController();
  private response: Promise<SnapshotResponse> | undefined;

  constructor(
    readonly url: string,
    headers: Readonly<Record<string, string>>,
    timeoutMs: number,
  ) {
    const signal = AbortSignal.any([this.controller.signal, AbortSignal.timeout(timeoutMs)]);
    this.response = openSnapshot(url, headers, signal).then((res) => {
      const buffered = new PassThrough({ highWaterMark: PREFETCH_BUFFER_BYTES });
      // A failure of the source reaches the reader through the pass-through.
      pipeline(res.body, buffered, () => undefined);
      return { ...res, body: buffered };
    });
    // Until taken, a failure is nobody's yet: the attempt that takes it sees it.
    this.response.catch(() => undefined);
  }

  /** The response, once; undefined after the first call or `cancel`. */
  take(): Promise<SnapshotResponse> | undefined {
    const response = this.response;
    this.response = undefined;
    return response;
  }

  /** Ends the download (whoever holds it). */
  cancel(): void {
    this.response = undefined;
    this.controller.abort();
  }
}

/** Where a download's uncompressed bytes go (a KvStore's ReplicaLoader). */
export interface SnapshotConsumer {
  /** The next bytes; an error thrown ends the download and is rethrown. */
  write(chunk: Buffer): void;
  /**
   * After the last byte: the SHA-256 (hex) of every byte written. The consumer computes it, as
   * it reads them anyway: hashing 28 MB twice on a secondary cost about 0.14 s.
   */
  sha256(): string;
}

/**
 * Downloads a primary's snapshot (GET /v1/snapshot), handing the uncompressed bytes to
 * `consumer` as they arrive. Resolves only if the size and SHA-256 match the ones the primary
 * sent (as trailers when it streamed the snapshot, else as headers): the caller must not use
 * the bytes before. `opened` is a response already under way (a prefetch from `baseUrl`);
 * `timeoutMs` then counts from now.
 */
export async function fetchSnapshot(
  baseUrl: string,
  timeoutMs: number,
  headers: Readonly<Record<string, string>> = {},
  /** Aborted when the secondary stops. */
  signal: AbortSignal | undefined,
  consumer: SnapshotConsumer,
  opened?: Promise<SnapshotResponse>,
): Promise<FetchedSnapshot> {
  const limit = AbortSignal.timeout(timeoutMs);
  const ended = signal === undefined ? limit : AbortSignal.any([limit, signal]);
  const res = await (opened ?? openSnapshot(baseUrl, headers, ended));
  // A response opened elsewhere carries another signal: this one must end it too.
  const stop = (): void => {
    res.body.destroy(new Error('the snapshot download was aborted'));
  };
  if (ended.aborted) stop();
  else ended.addEventListener('abort', stop, { once: true });
  try {
    return await readSnapshot(baseUrl, res, ended, consumer);
  } finally {
    ended.removeEventListener('abort', stop);
  }
}

async function readSnapshot(
  baseUrl: string,
  res: SnapshotResponse,
  ended: AbortSignal,
  consumer: SnapshotConsumer,
): Promise<FetchedSnapshot> {
  if (res.statusCode !== 200) {
    const text = await readText(res.body, 200).catch(() => '');
    throw new SnapshotFetchError('SNAPSHOT_UNAVAILABLE', `${baseUrl} answered ${res.statusCode}: ${text}`);
  }
  const field = (name: string): string | undefined => {
    const v = res.headers[name] ?? res.trailers()[name];
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
      size += chunk.length;
      try {
        consumer.write(chunk);
      } catch (error) {
        throw new ConsumerError(error);
      }
    }
  } catch (error) {
    res.body.destroy();
    if (error instanceof ConsumerError) throw error.cause;
    if (ended.aborted) throw error;
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
  let actual: string;
  try {
    actual = consumer.sha256();
  } catch (error) {
    // A cut snapshot: its digest cannot match either.
    if (size === announced) throw error;
    actual = '(incomplete)';
  }
  if (actual !== digest || size !== announced) {
    throw new SnapshotFetchError(
      'SNAPSHOT_DIGEST_MISMATCH',
      `the snapshot from ${baseUrl} does not match its digest (sha256 ${actual.slice(0, 16)}…, expected ${digest.slice(0, 16)}…; ${size} bytes, expected ${announced})`,
    );
  }
  return { bytes: size, revision, keys, wireBytes };
}

/** At most `max` characters of a (short) body, for an error message. */
async function readText(body: Readable, max: number): Promise<string> {
  let text = '';
  body.setEncoding('utf8');
  for await (const chunk of body as AsyncIterable<string>) {
    if (text.length < max) text += chunk;
  }
  return text.slice(0, max);
}
