import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ChangeEvent } from '../../kv/index.js';
import { ServerError } from '../errors.js';
import { parse } from './validation.js';
import type { Cursor, WatchFilter, WatchHub, WatchSink } from '../watch/watch-hub.js';

export interface WatchRouteDeps {
  readonly hub: WatchHub;
  /** Resolves once this node's state is at least as new as the cluster's commit (ReadIndex). */
  readBarrier(): Promise<void>;
  readonly maxKeyBytes: number;
}

/** Progress notices go out after this long without an event, unless the client asks otherwise. */
export const DEFAULT_PROGRESS_MS = 5_000;

const boolString = z.enum(['true', 'false']).transform((v) => v === 'true');
const watchQuery = z.strictObject({
  key: z.string().optional(),
  prefix: z.string().optional(),
  startRevision: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
  prevKv: boolString.optional(),
  progressMs: z.coerce.number().int().min(100).max(600_000).optional(),
  coalesceMs: z.coerce.number().int().min(0).max(1_000).optional(),
});

/** A coalesced watch writes at once past this many buffered bytes (so backpressure still works). */
const COALESCE_MAX_BYTES = 64 * 1024;

const LAST_EVENT_ID = /^(\d{1,15})(?::(\d{1,9}))?$/;

/**
 * GET /v1/watch: the changes to a key or prefix, in revision order, as server-sent events.
 * Before streaming, the node confirms with a ReadIndex that it is not behind the cluster, so a
 * watch resumed on another node never goes back in time. Resuming with `Last-Event-ID` (an
 * event's `revision:sub`, or a progress notice's `revision`) continues right after that event.
 */
export function registerWatchRoutes(app: FastifyInstance, deps: WatchRouteDeps): void {
  const open = new Set<ServerResponse>();
  app.addHook('preClose', (done) => {
    deps.hub.closeAll();
    for (const res of open) res.end();
    open.clear();
    done();
  });

  app.get('/v1/watch', async (request, reply) => {
    const query = parse(watchQuery, request.query, 'query');
    const filter = filterOf(query.key, query.prefix, deps.maxKeyBytes);
    const resumeAfter = parseLastEventId(request.headers['last-event-id']);

    await deps.readBarrier();
    const hub = deps.hub;
    const current = hub.revision();
    const from: Cursor = resumeAfter ?? {
      revision: query.startRevision ?? current + 1,
      sub: 0,
    };
    const compacted = hub.compactedRevision();
    if (compacted > 0 && from.revision <= compacted) {
      throw new ServerError(
        'COMPACTED',
        `revision ${from.revision} is compacted; the oldest revision still kept is ${compacted + 1}`,
        { oldest: compacted + 1, compactedRevision: compacted },
      );
    }

    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      // nginx: do not buffer the stream.
      'x-accel-buffering': 'no',
      'x-request-id': request.id,
      'x-conclave-revision': String(current),
    });
    res.write(`retry: 1000\n: watching from revision ${from.revision}\n\n`);
    open.add(res);

    const prevKv = query.prevKv === true;
    // With coalesceMs, events wait up to that long to go out together: fewer, larger writes for
    // a reader that follows every change (a secondary), at the cost of that much latency.
    const coalesceMs = query.coalesceMs ?? 0;
    let buffered: string[] = [];
    let bufferedBytes = 0;
    let flushTimer: NodeJS.Timeout | undefined;
    const flush = (): void => {
      if (flushTimer !== undefined) clearTimeout(flushTimer);
      flushTimer = undefined;
      if (buffered.length === 0 || res.destroyed) return;
      res.write(buffered.join(''));
      buffered = [];
      bufferedBytes = 0;
    };
    /** Whether the stream takes more (false: the hub waits for drained()). */
    const write = (text: string): boolean => {
      if (coalesceMs === 0) return res.write(text);
      buffered.push(text);
      bufferedBytes += text.length;
      if (bufferedBytes >= COALESCE_MAX_BYTES) flush();
      else flushTimer ??= setTimeout(flush, coalesceMs);
      return !res.writableNeedDrain;
    };
    const sink: WatchSink = {
      event: (event, revisionEnd) => write(formatEvent(event, prevKv, revisionEnd)),
      progress: (revision) => {
        flush();
        res.write(`id: ${revision}\nevent: progress\ndata: {"revision":${revision}}\n\n`);
      },
      fail: (code, details) => {
        flush();
        const message = `revision ${details.oldest - 1} and older were compacted while the watch fell behind`;
        res.end(`event: error\ndata: ${JSON.stringify({ error: { code, message, details } })}\n\n`);
      },
      drained: () =>
        new Promise<void>((resolve) => {
          if (!res.writableNeedDrain || res.destroyed) {
            resolve();
            return;
          }
          const done = (): void => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.on('drain', done);
          res.on('close', done);
        }),
    };
    const handle = hub.watch(filter, from, sink);
    const progressMs = query.progressMs ?? DEFAULT_PROGRESS_MS;
    const timer = setInterval(
      () => {
        handle.progressIfIdle(progressMs);
      },
      Math.max(50, Math.floor(progressMs / 4)),
    );
    res.on('close', () => {
      clearInterval(timer);
      if (flushTimer !== undefined) clearTimeout(flushTimer);
      handle.stop();
      open.delete(res);
    });
    request.log.debug({ filter, from }, 'watch started');
  });
}

function filterOf(key: string | undefined, prefix: string | undefined, maxKeyBytes: number): WatchFilter {
  if ((key === undefined) === (prefix === undefined)) {
    throw new ServerError(
      'INVALID_ARGUMENT',
      'give exactly one of key and prefix (prefix= watches every key)',
    );
  }
  const text = key ?? prefix ?? '';
  if (key === '') throw new ServerError('INVALID_ARGUMENT', 'the key must not be empty');
  if (Buffer.byteLength(text) > maxKeyBytes) {
    throw new ServerError('KEY_TOO_LARGE', `the key or prefix exceeds max-key-bytes (${maxKeyBytes})`);
  }
  return key !== undefined ? { key } : { prefix: prefix ?? '' };
}

/** `R:S` → resume at (R, S+1); `R` (a progress notice) → resume at (R+1, 0). */
function parseLastEventId(value: string | string[] | undefined): Cursor | undefined {
  if (value === undefined) return undefined;
  const match = typeof value === 'string' ? LAST_EVENT_ID.exec(value.trim()) : null;
  if (match === null) {
    throw new ServerError('INVALID_ARGUMENT', 'Last-Event-ID must be "revision:sub" or "revision"');
  }
  const revision = Number(match[1]);
  return match[2] === undefined
    ? { revision: revision + 1, sub: 0 }
    : { revision, sub: Number(match[2]) + 1 };
}

/**
 * Each event as sent, per variant (with or without prevKv, revision end or not). The hub offers
 * the same event object to every watch in one dispatch, so a primary feeding many secondaries
 * formats each change once instead of once per stream; entries go with the events.
 */
const formatted = new WeakMap<ChangeEvent, (string | undefined)[]>();

function formatEvent(event: ChangeEvent, withPrev: boolean, revisionEnd: boolean): string {
  const variant = (withPrev ? 2 : 0) + (revisionEnd ? 1 : 0);
  let texts = formatted.get(event);
  if (texts === undefined) {
    texts = [];
    formatted.set(event, texts);
  }
  return (texts[variant] ??= formatEventText(event, withPrev, revisionEnd));
}

function formatEventText(event: ChangeEvent, withPrev: boolean, revisionEnd: boolean): string {
  const data: Record<string, unknown> = { type: event.type, revision: event.revision, kv: event.kv };
  if (withPrev && event.prevKv !== undefined) data.prevKv = event.prevKv;
  if (revisionEnd) data.revisionEnd = true;
  return `id: ${event.revision}:${event.sub}\nevent: ${event.type}\ndata: ${JSON.stringify(data)}\n\n`;
}
