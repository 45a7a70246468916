// A minimal server-sent-events reader over undici, for the watch tests.
import { request } from 'undici';

export interface SseEvent {
  readonly id: string | undefined;
  readonly event: string;
  readonly data: string;
}

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
        let buffer = '';
        try {
          for await (const chunk of res.body) {
            buffer += (chunk as Buffer).toString('utf8');
            let cut: number;
            while ((cut = buffer.indexOf('\n\n')) >= 0) {
              const block = buffer.slice(0, cut);
              buffer = buffer.slice(cut + 2);
              const parsed = parseBlock(block);
              if (parsed !== undefined) events.push(parsed);
            }
          }
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

function parseBlock(block: string): SseEvent | undefined {
  let id: string | undefined;
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':') || line === '') continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0) return undefined;
  return { id, event, data: data.join('\n') };
}
