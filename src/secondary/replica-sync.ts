import type { Logger } from 'pino';
import { request } from 'undici';
import type { ChangeEvent, KeyValue, KvStore } from '../kv/index.js';
import { KvError } from '../kv/index.js';
import type { WatchHub } from '../server/watch/watch-hub.js';
import { fetchSnapshot, SnapshotFetchError } from './snapshot-fetch.js';
import type { SnapshotPrefetch } from './snapshot-fetch.js';
import { SseReader } from './sse-reader.js';

export interface ReplicaSyncOptions {
  readonly joinUrls: readonly string[];
  /** Sent with every request to the primaries (client authentication). */
  readonly headers: Readonly<Record<string, string>>;
  /** Snapshot attempts per URL in one round. */
  readonly retries: number;
  readonly timeoutMs: number;
  readonly kv: KvStore;
  readonly hub: WatchHub;
  readonly logger: Logger;
  /** A download of the first join URL's snapshot already under way: the first attempt takes it. */
  readonly prefetch?: SnapshotPrefetch | undefined;
}

class Compacted extends Error {}

/**
 * The primary marks each revision's last change (`revisionEnd`): the revision is applied as soon as
 * that change arrives. Should a mark
 * never come (a primary of an older version), buffered changes are applied after this long idle.
 */
const IDLE_FLUSH_MS = 50;
/** The primary sends a progress notice after this long without a change: our sign of life. */
const PROGRESS_MS = 1_000;
/**
 * The primary sends the changes of this long together: fewer, larger writes and transactions
 * on both sides (at 1,000 changes/s, about 5 per write), for at most this much latency.
 */
const COALESCE_MS = 5;

/**
 * Keeps a secondary's replica in step with the primaries: bootstrap from a snapshot (round robin
 * over the join URLs, retries with backoff, each attempt under a timeout, digest checked), then
 * follow the change stream (`GET /v1/watch`, every key, with previous pairs) from the snapshot's
 * revision. When a stream breaks it resumes on the next primary from the last applied revision;
 * only a compacted revision (410) or a gap makes it bootstrap again.
 */
export class ReplicaSync {
  /** The replica holds a consistent state (from a snapshot, or a state file). */
  synced = false;
  /** When the primaries were last heard from (ms epoch); 0: never. */
  lastContact = 0;
  /** A change stream is open now. */
  connected = false;
  bootstraps = 0;
  /** Bytes received on change streams, and changes applied (bytes per change = the cost of a change). */
  streamBytes = 0;
  changesApplied = 0;
  private next = 0;
  private stopped = false;
  private abort: AbortController | undefined;
  private lastWarned = 0;

  constructor(private readonly options: ReplicaSyncOptions) {}

  start(): void {
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.options.prefetch?.cancel();
    this.abort?.abort();
  }

  /** The replica was loaded from a state file written at `savedAt`. */
  loadedFromFile(savedAt: number): void {
    this.options.prefetch?.cancel();
    this.synced = true;
    this.lastContact = savedAt;
  }

  private async run(): Promise<void> {
    let backoff = 100;
    let needSnapshot = !this.synced;
    while (!this.isStopped()) {
      if (needSnapshot) {
        await this.bootstrap();
        needSnapshot = false;
        continue;
      }
      const url = this.pick();
      try {
        await this.follow(url);
        backoff = 100;
      } catch (error) {
        if (error instanceof Compacted) {
          this.options.logger.warn(
            { url, revision: this.options.kv.revision() },
            'our revision was compacted on the primaries: bootstrapping again',
          );
          needSnapshot = true;
          continue;
        }
        if (error instanceof KvError) {
          this.options.logger.error(
            { url, err: error.message },
            'the change stream did not continue the replica: bootstrapping again',
          );
          needSnapshot = true;
          continue;
        }
        this.warn({ url, err: (error as Error).message }, 'change stream failed; trying the next primary');
      } finally {
        this.connected = false;
      }
      if (this.isStopped()) return;
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 2_000);
    }
  }

  /** A method, not the field: stop() changes it while the loops await. */
  private isStopped(): boolean {
    return this.stopped;
  }

  private pick(): string {
    const urls = this.options.joinUrls;
    const url = urls[this.next % urls.length]!;
    this.next++;
    return url;
  }

  private async bootstrap(): Promise<void> {
    const { joinUrls, retries, timeoutMs, kv, hub, logger } = this.options;
    for (let round = 0; !this.isStopped(); round++) {
      for (let u = 0; u < joinUrls.length && !this.isStopped(); u++) {
        const url = this.pick();
        let backoff = 100;
        for (let attempt = 0; attempt <= retries && !this.isStopped(); attempt++) {
          try {
            this.abort = new AbortController();
            const started = performance.now();
            // Loaded as it arrives, into staging (or in place, before the first sync): the replica
            // serves its current state (if any) until the snapshot is verified whole and swapped in.
            const load = kv.beginReplicaLoad({ unserved: !this.synced });
            let snap;
            try {
              const opened = url === this.options.prefetch?.url ? this.options.prefetch.take() : undefined;
              snap = await fetchSnapshot(
                url,
                timeoutMs,
                this.options.headers,
                this.abort.signal,
                load,
                opened,
              );
              // Stopped meanwhile: the store may be closed; nothing to install.
              if (this.isStopped()) return;
              load.finish();
            } finally {
              load.abort();
            }
            hub.reset();
            this.synced = true;
            this.lastContact = Date.now();
            this.bootstraps++;
            logger.info(
              {
                url,
                revision: snap.revision,
                keys: snap.keys,
                bytes: snap.bytes,
                wireBytes: snap.wireBytes,
                ms: Math.round(performance.now() - started),
              },
              'bootstrapped from a snapshot',
            );
            return;
          } catch (error) {
            if (this.isStopped()) return;
            const rejected =
              (error instanceof SnapshotFetchError && error.code === 'SNAPSHOT_DIGEST_MISMATCH') ||
              (error instanceof KvError && error.code === 'CORRUPT_SNAPSHOT');
            if (rejected)
              logger.warn({ url, err: (error as Error).message }, 'rejected a snapshot; retrying');
            else
              this.warn(
                { url, attempt, err: (error as Error).message },
                'snapshot download failed; retrying',
              );
            await sleep(backoff);
            backoff = Math.min(backoff * 2, 2_000);
          }
        }
      }
      await sleep(Math.min(1_000 * (round + 1), 5_000));
    }
  }

  /** Streams changes from `url` until the stream ends or fails. */
  private async follow(url: string): Promise<void> {
    const { kv, hub, timeoutMs } = this.options;
    this.abort = new AbortController();
    const res = await request(
      new URL(`/v1/watch?prefix=&prevKv=true&progressMs=${PROGRESS_MS}&coalesceMs=${COALESCE_MS}`, url),
      {
        headers: {
          ...this.options.headers,
          'last-event-id': kv.replicaResumeId(),
          accept: 'text/event-stream',
        },
        headersTimeout: timeoutMs,
        bodyTimeout: PROGRESS_MS * 5,
        signal: this.abort.signal,
      },
    );
    if (res.statusCode === 410) {
      await res.body.dump();
      throw new Compacted();
    }
    if (res.statusCode !== 200) {
      const text = await res.body.text();
      throw new Error(`${url} answered ${res.statusCode}: ${text.slice(0, 200)}`);
    }
    this.connected = true;
    this.lastContact = Date.now();
    const reader = new SseReader();
    let pending: ChangeEvent[] = [];
    /** How many of `pending` form whole revisions, ready to apply. */
    let whole = 0;
    let idle: NodeJS.Timeout | undefined;
    const apply = (events: ChangeEvent[]): void => {
      if (events.length === 0) return;
      kv.applyChangeEvents(events);
      this.changesApplied += events.length;
      // The events just applied are the store's log from the last dispatch: no reading them back.
      hub.dispatch(events);
    };
    /** Applies everything buffered, in one transaction (a progress notice, the idle timer, the end). */
    const flush = (): void => {
      const ready = pending;
      pending = [];
      whole = 0;
      apply(ready);
    };
    try {
      for await (const chunk of res.body) {
        const bytes = chunk as Buffer;
        this.streamBytes += bytes.length;
        this.lastContact = Date.now();
        if (idle !== undefined) clearTimeout(idle);
        for (const message of reader.push(bytes)) {
          if (message.event === 'progress') {
            flush();
            continue;
          }
          if (message.event === 'error') {
            flush();
            if (message.data.includes('"COMPACTED"')) throw new Compacted();
            throw new Error(`the primary ended the stream: ${message.data.slice(0, 200)}`);
          }
          if (message.event !== 'put' && message.event !== 'delete') continue;
          const { event, revisionEnd } = toChangeEvent(message.id, message.data);
          pending.push(event);
          if (revisionEnd) whole = pending.length;
        }
        // One transaction for every whole revision of the chunk: marked ones, and every one
        // before the last revision seen (a later revision has started, so those are complete).
        const last = pending.at(-1);
        if (last !== undefined) {
          const before = pending.findIndex((e) => e.revision >= last.revision);
          whole = Math.max(whole, before < 0 ? pending.length : before);
        }
        if (whole > 0) {
          const ready = pending.slice(0, whole);
          pending = pending.slice(whole);
          whole = 0;
          apply(ready);
        }
        if (pending.length > 0) {
          idle = setTimeout(() => {
            try {
              flush();
            } catch (error) {
              this.options.logger.error({ err: (error as Error).message }, 'applying changes failed');
              this.abort?.abort();
            }
          }, IDLE_FLUSH_MS);
        }
      }
      flush();
    } finally {
      if (idle !== undefined) clearTimeout(idle);
    }
  }

  private warn(fields: object, message: string): void {
    const now = Date.now();
    if (now - this.lastWarned < 5_000) return;
    this.lastWarned = now;
    this.options.logger.warn(fields, message);
  }
}

function toChangeEvent(id: string | undefined, data: string): { event: ChangeEvent; revisionEnd: boolean } {
  const match = /^(\d+):(\d+)$/.exec(id ?? '');
  if (match === null) throw new Error(`a change event without a revision:sub id (${id ?? 'none'})`);
  const parsed = JSON.parse(data) as Omit<ChangeEvent, 'sub'> & { revisionEnd?: boolean };
  const event: ChangeEvent = {
    revision: Number(match[1]),
    sub: Number(match[2]),
    type: parsed.type,
    kv: keyValue(parsed.kv),
  };
  return {
    event: parsed.prevKv === undefined ? event : { ...event, prevKv: keyValue(parsed.prevKv) },
    revisionEnd: parsed.revisionEnd === true,
  };
}

/**
 * The pair as the store reads it back (the same fields, in the same order): events handed to
 * local watches straight from the stream must be the ones they would read from the replica.
 */
function keyValue(kv: KeyValue): KeyValue {
  return {
    key: kv.key,
    value: kv.value,
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
    lease: kv.lease,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
