// A watch as an async iterator that survives node failures: it resumes from the id of the last
// event received (Last-Event-ID) on the next node, so it sees no gap and no duplicate.

import { SseReader } from '../secondary/sse-reader.js';
import type { Caller } from './caller.js';
import { isAborted, sleep } from './caller.js';
import { AbortedError, ConclaveError } from './errors.js';
import type { WatchEvent } from './types.js';

export interface WatchOptions {
  /** Exactly one of `key` and `prefix` (`prefix: ''` follows every key). */
  readonly key?: string;
  readonly prefix?: string;
  /** The first revision to deliver; absent: changes after the watch starts. */
  readonly startRevision?: number;
  /** Add each change's previous pair. */
  readonly prevKv?: boolean;
  /** Idle notice interval on the server (100 … 600000 ms); default 5000. */
  readonly progressMs?: number;
  /** Called with each progress notice: every matching change up to `revision` was delivered. */
  readonly onProgress?: (revision: number) => void;
  readonly signal?: AbortSignal | undefined;
  /** Called each time a stream starts: the node, and the store revision it started at. */
  readonly onConnect?: (endpoint: string, revision: number) => void;
  /** Called with each failure the watch retries past (a node down, a stream cut). */
  readonly onRetry?: (error: unknown) => void;
}

const DEFAULT_PROGRESS_MS = 5_000;

/**
 * Yields events in revision order until the consumer stops (break, return, or the signal).
 * Throws a ConclaveError with code COMPACTED when the changes it still needs were compacted
 * away (start again from a fresh read), or a request error (bad key). Network failures and
 * node restarts are retried forever with backoff, on every endpoint in turn.
 */
export async function* watchChanges(
  caller: Caller,
  options: WatchOptions,
): AsyncGenerator<WatchEvent, void, undefined> {
  if ((options.key === undefined) === (options.prefix === undefined)) {
    throw new ConclaveError('INVALID_ARGUMENT', 'watch needs exactly one of key and prefix');
  }
  const progressMs = options.progressMs ?? DEFAULT_PROGRESS_MS;
  const own = new AbortController();
  const signal = options.signal === undefined ? own.signal : AbortSignal.any([own.signal, options.signal]);
  /** Where to resume: the id of the last event seen, or the revision to start from. */
  let lastEventId: string | undefined;
  let startRevision = options.startRevision;
  let failures = 0;
  try {
    for (;;) {
      if (signal.aborted) return;
      let answer;
      try {
        answer = await caller.stream({
          method: 'GET',
          path: `/v1/watch?${query(options, startRevision, progressMs)}`,
          target: 'any',
          signal,
          headers: lastEventId === undefined ? {} : { 'last-event-id': lastEventId },
          // A silent stream is a dead one: progress notices arrive every progressMs.
          requestTimeoutMs: progressMs * 3 + 2_000,
        });
      } catch (error) {
        if (error instanceof AbortedError || isAborted(signal)) return;
        // A request error (bad key, compacted, unauthorized: any 4xx, or one the client found
        // itself) will not go away by retrying.
        if (
          error instanceof ConclaveError &&
          ((error.status >= 400 && error.status < 500) || error.code === 'INVALID_ARGUMENT')
        ) {
          throw error;
        }
        options.onRetry?.(error);
        failures++;
        await pause(failures, signal);
        continue;
      }
      // Until an event arrives, a reconnect must start right after the revision this stream began at.
      const began = Number(answer.headers['x-conclave-revision']);
      options.onConnect?.(answer.endpoint, began);
      if (lastEventId === undefined && startRevision === undefined && Number.isSafeInteger(began)) {
        startRevision = began + 1;
      }
      const reader = new SseReader();
      try {
        for await (const chunk of answer.body as AsyncIterable<Uint8Array>) {
          failures = 0;
          for (const message of reader.push(chunk)) {
            if (message.event === 'error') throw errorEvent(message.data, answer.endpoint);
            if (message.id !== undefined) lastEventId = message.id;
            const event = JSON.parse(message.data) as WatchEvent;
            if (message.event === 'progress') {
              options.onProgress?.(event.revision);
              continue;
            }
            if (message.event === 'put' || message.event === 'delete') yield event;
          }
        }
      } catch (error) {
        if (error instanceof ConclaveError) throw error;
        if (isAborted(signal)) return;
        // The node went away mid-stream: resume elsewhere.
        options.onRetry?.(error);
      } finally {
        answer.body.destroy();
      }
      failures++;
      await pause(failures, signal);
    }
  } finally {
    own.abort();
  }
}

function query(options: WatchOptions, startRevision: number | undefined, progressMs: number): string {
  const q = new URLSearchParams();
  if (options.key !== undefined) q.set('key', options.key);
  if (options.prefix !== undefined) q.set('prefix', options.prefix);
  if (startRevision !== undefined) q.set('startRevision', String(startRevision));
  if (options.prevKv === true) q.set('prevKv', 'true');
  q.set('progressMs', String(progressMs));
  return q.toString();
}

function errorEvent(data: string, endpoint: string): ConclaveError {
  try {
    const e = JSON.parse(data) as {
      error?: { code?: string; message?: string; details?: Record<string, unknown> };
    };
    const inner = e.error ?? (e as { code?: string; message?: string; details?: Record<string, unknown> });
    return new ConclaveError(inner.code ?? 'BAD_RESPONSE', inner.message ?? 'watch ended by the server', {
      status: inner.code === 'COMPACTED' ? 410 : 0,
      details: inner.details ?? null,
      endpoint,
    });
  } catch {
    return new ConclaveError('BAD_RESPONSE', `unreadable error event from ${endpoint}`, { endpoint });
  }
}

async function pause(failures: number, signal: AbortSignal): Promise<void> {
  const ceiling = Math.min(2_000, 50 * 2 ** Math.min(failures, 6));
  try {
    await sleep(ceiling / 2 + (Math.random() * ceiling) / 2, signal);
  } catch {
    // Aborted: the loop sees the signal and ends.
  }
}
