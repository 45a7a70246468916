// A minimal server-sent-events reader over undici, for the watch tests.
import { request } from 'undici';
import { SseReader } from '../../src/secondary/sse-reader.js';

export type { SseMessage as SseEvent } from '../../src/secondary/sse-reader.js';
import type { SseMessage as SseEvent } from '../../src/secondary/sse-reader.js';

export interface SseStream {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  /** The body, when the answer was not a stream (an error). */
  readonly body: string;
  readonly events: SseEvent[];
  /** Resolves when the server ends the stream (or it breaks). */
  readonly ended: Promise<void>;
  /** Waits until `ok(events)` holds. */
  waitFor(what: string, ok: (events: readonly SseEvent[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const controller = new AbortController();
  const res = await request(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: controller.signal,
  });
  const events: SseEvent[] = [];
  const isStream = res.statusCode === 200;
  let body = '';
  if (!isStream) body = await res.body.text();
  const ended = isStream
    ? (async () => {
        const reader = new SseReader();
        try {
          for await (const chunk of res.body) events.push(...reader.push(chunk as Buffer));
        } catch {
          // Aborted by close() or a broken connection: the stream is over either way.
        }
      })()
    : Promise.resolve();
  return {
    status: res.statusCode,
    headers: res.headers,
    body,
    events,
    ended,
    async waitFor(what, ok, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!ok(events)) {
        if (Date.now() > deadline) {
          throw new Error(
            `timed out waiting for ${what}; got ${events.length} events: ${JSON.stringify(events.slice(-3))}`,
          );
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    close() {
      controller.abort();
    },
  };
}
