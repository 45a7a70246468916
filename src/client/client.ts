// createClient: the TypeScript client of a Conclave cluster (docs/API.md § Client library).

import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Compare, Op } from '../kv/commands.js';
import type { KeyValue, RangeOptions } from '../kv/types.js';
import { Caller } from './caller.js';
import { parseEndpoints } from './endpoints.js';
import { ConclaveError, UnavailableError } from './errors.js';
import { Lease } from './lease.js';
import type {
  ClusterMembersAnswer,
  Consistency,
  DeleteAnswer,
  EndpointStatus,
  LeaderAnswer,
  LeaseInfoAnswer,
  LeaseListAnswer,
  MembersAnswer,
  NodeStatusAnswer,
  PutAnswer,
  RangeAnswer,
  TxnAnswer,
  WatchEvent,
} from './types.js';
import { watchChanges } from './watch.js';
import type { WatchOptions } from './watch.js';

export interface ClientOptions {
  /** Any nodes of the cluster, primaries or secondaries: an array, or one space/comma-separated string. */
  readonly endpoints: string | readonly string[];
  /** The cluster secret; sent as `authorization: Bearer …` (for nodes that require it). */
  readonly secret?: string;
  /** Limit of one attempt, ms (default 15000; the server waits at most 10 s for consensus). */
  readonly requestTimeoutMs?: number;
  /** Limit of one call with its retries, ms (default 30000). */
  readonly timeoutMs?: number;
  /** Retries after the first attempt (default 10). */
  readonly retries?: number;
  /** Backoff between attempts: doubles from `initial` up to `max`, with jitter (default 50, 1000). */
  readonly backoffMs?: { readonly initial: number; readonly max: number };
  /**
   * Send writes straight to the leader's advertised URL once known (default true). Set false
   * when only the given endpoints are reachable (behind a load balancer or NAT): followers
   * then forward writes.
   */
  readonly followLeader?: boolean;
}

/** Options every call takes. */
export interface CallOptions {
  readonly signal?: AbortSignal | undefined;
}

export interface ReadOptions extends CallOptions {
  /** Default linearizable (never stale). */
  readonly consistency?: Consistency;
}

export interface WriteOptions extends CallOptions {
  /**
   * The exactly-once key. The client makes one per call and keeps it across its retries; give
   * your own to retry a write across calls (or processes) safely.
   */
  readonly requestId?: string;
}

export interface PutOptions extends WriteOptions {
  readonly leaseId?: number;
  readonly prevKv?: boolean;
}

/** A range (the store's own RangeOptions) and how to read it. */
export interface RangeQuery extends RangeOptions, ReadOptions {}

export interface TxnRequest {
  readonly compare?: readonly Compare[];
  readonly success?: readonly Op[];
  readonly failure?: readonly Op[];
}

export interface SnapshotOptions extends CallOptions {
  /** Include the change log, exactly-once table and activity log (a full backup). Default false. */
  readonly history?: boolean;
  /** Called as bytes arrive: uncompressed bytes so far and the total. */
  readonly onProgress?: (received: number, total: number) => void;
}

export interface SnapshotStreamOptions extends SnapshotOptions {
  /**
   * Where the node sends the size and digest. `trailer` (the default): after the bytes, so
   * neither the node nor the client holds the snapshot whole; a proxy that drops HTTP trailers
   * makes the download fail with BAD_RESPONSE (`details.digestMissing`). `header`: before them,
   * which costs the node memory for the whole snapshot.
   */
  readonly digest?: 'trailer' | 'header';
}

/** A snapshot written out by `snapshotTo`: what it is, and its size and SHA-256 as checked. */
export interface SnapshotWritten {
  readonly size: number;
  readonly revision: number;
  readonly keyCount: number;
  readonly sha256: string;
  readonly endpoint: string;
}

export interface SnapshotAnswer {
  /** The snapshot in Conclave's checksummed format (`conclave snapshot restore` reads it). */
  readonly bytes: Uint8Array;
  readonly revision: number;
  readonly keyCount: number;
  readonly sha256: string;
  readonly endpoint: string;
}

/** A client of one cluster. Safe to share; close() it when done. */
export class ConclaveClient {
  readonly endpoints: readonly string[];
  private readonly caller: Caller;
  private readonly leases = new Set<Lease>();

  constructor(options: ClientOptions) {
    this.endpoints = parseEndpoints(options.endpoints);
    this.caller = new Caller({
      endpoints: this.endpoints,
      secret: options.secret,
      requestTimeoutMs: positive(options.requestTimeoutMs, 15_000, 'requestTimeoutMs'),
      timeoutMs: positive(options.timeoutMs, 30_000, 'timeoutMs'),
      retries: nonNegative(options.retries, 10, 'retries'),
      backoffMs: options.backoffMs ?? { initial: 50, max: 1_000 },
      followLeader: options.followLeader ?? true,
    });
  }

  // ---- key-value ------------------------------------------------------------------------------

  /** The pair, or undefined when the key does not exist. */
  async get(key: string, options: ReadOptions = {}): Promise<KeyValue | undefined> {
    const answer = await this.caller.json<{ kv?: KeyValue } | { error: unknown }>(
      {
        method: 'GET',
        path: withQuery(`/v1/kv/${encodeKey(key)}`, { consistency: options.consistency }),
        target: 'any',
        signal: options.signal,
      },
      [404],
    );
    if (answer.status === 404) {
      const code = (answer.body as { error?: { code?: string } }).error?.code;
      if (code === 'KEY_NOT_FOUND') return undefined;
      throw new ConclaveError(code ?? 'ROUTE_NOT_FOUND', `${answer.endpoint} answered 404`, {
        status: 404,
        endpoint: answer.endpoint,
      });
    }
    return (answer.body as { kv: KeyValue }).kv;
  }

  async put(key: string, value: string, options: PutOptions = {}): Promise<PutAnswer> {
    const body: Record<string, unknown> = { value };
    if (options.leaseId !== undefined) body.leaseId = options.leaseId;
    if (options.prevKv === true) body.prevKv = true;
    const answer = await this.caller.json<PutAnswer>({
      method: 'PUT',
      path: `/v1/kv/${encodeKey(key)}`,
      body,
      target: 'leader',
      requestId: options.requestId,
      signal: options.signal,
    });
    return pick(answer.body, ['revision', 'prevKv']);
  }

  async delete(key: string, options: WriteOptions & { prevKv?: boolean } = {}): Promise<DeleteAnswer> {
    const answer = await this.caller.json<DeleteAnswer>({
      method: 'DELETE',
      path: `/v1/kv/${encodeKey(key)}${options.prevKv === true ? '?prevKv=true' : ''}`,
      target: 'leader',
      requestId: options.requestId,
      signal: options.signal,
    });
    return pick(answer.body, ['revision', 'deleted', 'prevKvs']);
  }

  /** One page of a range (`limit`), or the whole range. See iterate() for every page. */
  async range(query: RangeQuery = {}): Promise<RangeAnswer> {
    const { prefix, start, end, after, limit, keysOnly, countOnly, consistency } = query;
    const answer = await this.caller.json<RangeAnswer>({
      method: 'GET',
      path: withQuery('/v1/kv', { prefix, start, end, after, limit, keysOnly, countOnly, consistency }),
      target: 'any',
      signal: query.signal,
    });
    return answer.body;
  }

  /** Every pair of a range, fetched `pageSize` at a time (each page its own read). */
  async *iterate(
    query: Omit<RangeQuery, 'limit' | 'countOnly'> & { pageSize?: number } = {},
  ): AsyncGenerator<KeyValue> {
    const { pageSize = 1_000, ...rest } = query;
    let after = rest.after;
    for (;;) {
      const page = await this.range({ ...rest, ...(after === undefined ? {} : { after }), limit: pageSize });
      yield* page.kvs;
      const last = page.kvs.at(-1);
      if (!page.more || last === undefined) return;
      after = last.key;
    }
  }

  async txn(request: TxnRequest, options: WriteOptions = {}): Promise<TxnAnswer> {
    const answer = await this.caller.json<TxnAnswer>({
      method: 'POST',
      path: '/v1/txn',
      body: {
        compare: request.compare ?? [],
        success: request.success ?? [],
        failure: request.failure ?? [],
      },
      target: 'leader',
      requestId: options.requestId,
      signal: options.signal,
    });
    return pick(answer.body, ['revision', 'succeeded', 'responses']);
  }

  /** Drops change history up to `revision` (watches can no longer start before it). */
  async compact(
    revision: number,
    options: WriteOptions = {},
  ): Promise<{ revision: number; compactedRevision: number }> {
    const answer = await this.caller.json<{ revision: number; compactedRevision: number }>({
      method: 'POST',
      path: '/v1/compact',
      body: { revision },
      target: 'leader',
      requestId: options.requestId,
      signal: options.signal,
    });
    return pick(answer.body, ['revision', 'compactedRevision']);
  }

  // ---- watches --------------------------------------------------------------------------------

  /**
   * Changes to a key or prefix as an async iterator, in revision order, with no gap and no
   * duplicate across node failures (it resumes on another node). `break` out of the loop, or
   * abort `signal`, to stop. Throws COMPACTED when it fell behind compaction.
   */
  watch(options: WatchOptions): AsyncGenerator<WatchEvent, void, undefined> {
    const signal =
      options.signal === undefined
        ? this.caller.signal
        : AbortSignal.any([options.signal, this.caller.signal]);
    return watchChanges(this.caller, { ...options, signal });
  }

  // ---- leases ---------------------------------------------------------------------------------

  /**
   * Grants a lease of `ttl` seconds and, unless `keepAlive: false`, keeps it alive until
   * revoke() or close() (on the lease or this client). Watch `lease.lost`.
   */
  async grantLease(
    ttl: number,
    options: WriteOptions & { id?: number; keepAlive?: boolean } = {},
  ): Promise<Lease> {
    const answer = await this.caller.json<{ id: number; ttl: number; revision: number }>({
      method: 'POST',
      path: '/v1/leases',
      body: options.id === undefined ? { ttl } : { ttl, id: options.id },
      target: 'leader',
      requestId: options.requestId,
      signal: options.signal,
    });
    const lease = new Lease(this.caller, answer.body, options.keepAlive ?? true);
    this.leases.add(lease);
    lease.signal.addEventListener('abort', () => this.leases.delete(lease), { once: true });
    return lease;
  }

  /** Revokes a lease by id: its keys are deleted. */
  async revokeLease(id: number, options: WriteOptions = {}): Promise<{ revision: number; deleted: number }> {
    const answer = await this.caller.json<{ revision: number; deleted: number }>({
      method: 'DELETE',
      path: `/v1/leases/${id}`,
      target: 'leader',
      requestId: options.requestId,
      signal: options.signal,
    });
    return pick(answer.body, ['revision', 'deleted']);
  }

  async leaseInfo(id: number, options: CallOptions = {}): Promise<LeaseInfoAnswer> {
    return (
      await this.caller.json<LeaseInfoAnswer>({
        method: 'GET',
        path: `/v1/leases/${id}`,
        target: 'leader',
        signal: options.signal,
      })
    ).body;
  }

  async listLeases(options: ReadOptions & { after?: number; limit?: number } = {}): Promise<LeaseListAnswer> {
    const { after, limit, consistency } = options;
    return (
      await this.caller.json<LeaseListAnswer>({
        method: 'GET',
        path: withQuery('/v1/leases', { after, limit, consistency }),
        target: 'any',
        signal: options.signal,
      })
    ).body;
  }

  // ---- members and cluster --------------------------------------------------------------------

  /** The member registry: every live node with its heartbeat, and the activity log. */
  async members(options: ReadOptions = {}): Promise<MembersAnswer> {
    return (
      await this.caller.json<MembersAnswer>({
        method: 'GET',
        path: withQuery('/v1/members', { consistency: options.consistency }),
        target: 'any',
        signal: options.signal,
      })
    ).body;
  }

  /** The primaries' Raft membership, as the leader sees it. */
  async clusterMembers(options: CallOptions = {}): Promise<ClusterMembersAnswer> {
    return (
      await this.caller.json<ClusterMembersAnswer>({
        method: 'GET',
        path: '/v1/cluster/members',
        target: 'leader',
        signal: options.signal,
      })
    ).body;
  }

  /** Adds a primary as a learner; it is promoted to voter once caught up unless `learner`. */
  async addMember(
    member: { name: string; url: string; learner?: boolean },
    options: CallOptions = {},
  ): Promise<{ name: string; url: string; role: string }> {
    return (
      await this.caller.json<{ name: string; url: string; role: string }>({
        method: 'POST',
        path: '/v1/cluster/members',
        body: member,
        target: 'leader',
        signal: options.signal,
      })
    ).body;
  }

  async promoteMember(
    name: string,
    options: CallOptions = {},
  ): Promise<{ name: string; url: string; role: string }> {
    return (
      await this.caller.json<{ name: string; url: string; role: string }>({
        method: 'POST',
        path: `/v1/cluster/members/${encodeURIComponent(name)}/promote`,
        target: 'leader',
        signal: options.signal,
      })
    ).body;
  }

  /** Removes a primary (the leader too: it hands leadership over first). */
  async removeMember(name: string, options: CallOptions = {}): Promise<{ removed: string }> {
    return (
      await this.caller.json<{ removed: string }>({
        method: 'DELETE',
        path: `/v1/cluster/members/${encodeURIComponent(name)}`,
        target: 'leader',
        signal: options.signal,
      })
    ).body;
  }

  /** `/status` of one node (default: the first endpoint that answers). */
  async status(options: CallOptions & { endpoint?: string } = {}): Promise<NodeStatusAnswer> {
    return (
      await this.caller.json<NodeStatusAnswer>({
        method: 'GET',
        path: '/status',
        target: 'any',
        endpoint: options.endpoint,
        signal: options.signal,
      })
    ).body;
  }

  /** `/status` of every endpoint, or why it could not be read. */
  async statusAll(options: CallOptions = {}): Promise<EndpointStatus[]> {
    return Promise.all(
      this.endpoints.map(async (endpoint): Promise<EndpointStatus> => {
        try {
          return { endpoint, ok: true, status: await this.status({ endpoint, signal: options.signal }) };
        } catch (error) {
          return { endpoint, ok: false, error: describe(error) };
        }
      }),
    );
  }

  /** The current leader, as the endpoints report it (highest term wins); throws NO_LEADER if none knows one. */
  async leader(options: CallOptions = {}): Promise<LeaderAnswer> {
    const found = await this.caller.findLeader(options.signal);
    if (found !== undefined) return found;
    const all = await this.statusAll(options);
    const failures = all.map((s) => ({ endpoint: s.endpoint, reason: s.ok ? 'knows no leader' : s.error }));
    if (!all.some((s) => s.ok)) throw new UnavailableError(failures, all.length);
    throw new ConclaveError('NO_LEADER', 'no endpoint knows a leader', {
      status: 503,
      details: { failures },
    });
  }

  // ---- snapshots ------------------------------------------------------------------------------

  /**
   * Downloads the state (a backup with `history: true`), checking its size and SHA-256. The node
   * streams it with both as trailers, so it never holds the snapshot whole; behind a proxy that
   * drops trailers (the download ends with `digestMissing`) it is downloaded again with both as
   * headers, which makes the node hold it whole until the end.
   */
  async snapshot(options: SnapshotOptions = {}): Promise<SnapshotAnswer> {
    try {
      return await this.snapshotWhole(options, 'trailer');
    } catch (error) {
      if (!(error instanceof ConclaveError && error.details?.digestMissing === true)) throw error;
      return this.snapshotWhole(options, 'header');
    }
  }

  private async snapshotWhole(
    options: SnapshotOptions,
    digest: 'trailer' | 'header',
  ): Promise<SnapshotAnswer> {
    const chunks: Buffer[] = [];
    const written = await this.snapshotTo(
      (chunk) => {
        chunks.push(chunk);
      },
      { ...options, digest },
    );
    return {
      bytes: new Uint8Array(Buffer.concat(chunks)),
      revision: written.revision,
      keyCount: written.keyCount,
      sha256: written.sha256,
      endpoint: written.endpoint,
    };
  }

  /**
   * Streams the state to `write` (the uncompressed bytes in order; each call awaited before the
   * next piece is read) and checks its size and SHA-256 at the end: the caller must not trust
   * what it wrote until this resolves. Nothing is held whole, on the node or here, unless
   * `digest: 'header'` is asked for.
   */
  async snapshotTo(
    write: (chunk: Buffer) => Promise<void> | void,
    options: SnapshotStreamOptions = {},
  ): Promise<SnapshotWritten> {
    const query = [
      ...(options.digest === 'header' ? ['digest=header'] : []),
      ...(options.history === true ? ['history=true'] : []),
    ];
    const call = {
      method: 'GET' as const,
      path: `/v1/snapshot${query.length > 0 ? `?${query.join('&')}` : ''}`,
      target: 'any' as const,
      signal: options.signal,
      requestTimeoutMs: 120_000,
    };
    let answer;
    try {
      answer = await this.caller.stream(call);
    } catch (error) {
      // Secondaries serve no snapshot: ask the other endpoints in turn.
      if (!(error instanceof ConclaveError && error.code === 'ROUTE_NOT_FOUND')) throw error;
      answer = await this.firstServing(call, error);
    }
    // Size and digest come as trailers when the node streamed the snapshot, else as headers.
    const header = (name: string): string => {
      const v = answer.headers[name] ?? answer.trailers[name];
      return typeof v === 'string' ? v : '';
    };
    const announced = Number(header('x-conclave-snapshot-bytes'));
    const bad = (message: string, details: Record<string, unknown> = {}): ConclaveError =>
      new ConclaveError('BAD_RESPONSE', `${answer.endpoint}: ${message}`, {
        endpoint: answer.endpoint,
        details,
      });
    const source: AsyncIterable<Buffer> =
      header('content-encoding') === 'gzip'
        ? // pipeline, not pipe: a cut or aborted download must fail the loop, not stall it.
          pipeline(answer.body, createGunzip({ chunkSize: 1 << 20 }), () => undefined)
        : (answer.body as AsyncIterable<Buffer>);
    let received = 0;
    const hash = createHash('sha256');
    try {
      for await (const chunk of source) {
        hash.update(chunk);
        received += chunk.length;
        await write(chunk);
        // 0 when the size is only known at the end.
        options.onProgress?.(received, Number.isSafeInteger(announced) ? announced : 0);
      }
    } catch (error) {
      answer.body.destroy();
      throw bad(`snapshot download failed: ${describe(error)}`);
    }
    const total = Number(header('x-conclave-snapshot-bytes'));
    const expected = header('x-conclave-snapshot-sha256');
    if (expected === '') {
      throw bad(
        'snapshot came without x-conclave-snapshot-sha256 (cut short, or a proxy dropped the HTTP trailers: ask with digest "header")',
        { digestMissing: true },
      );
    }
    if (received !== total) throw bad(`snapshot has ${received} bytes, the node says ${total}`);
    const sha256 = hash.digest('hex');
    if (sha256 !== expected) throw bad('snapshot digest does not match x-conclave-snapshot-sha256');
    return {
      size: received,
      revision: Number(header('x-conclave-revision')),
      keyCount: Number(header('x-conclave-key-count')),
      sha256,
      endpoint: answer.endpoint,
    };
  }

  /** The first endpoint that serves `call` (tried one by one), else the first error. */
  private async firstServing(call: Parameters<Caller['stream']>[0], first: ConclaveError) {
    for (const endpoint of this.endpoints) {
      try {
        return await this.caller.stream({ ...call, endpoint });
      } catch (error) {
        if (
          !(error instanceof ConclaveError && error.code === 'ROUTE_NOT_FOUND') &&
          !(error instanceof UnavailableError)
        ) {
          throw error;
        }
      }
    }
    throw first;
  }

  /** Stops every lease keep-alive loop and watch, and closes connections. Leases are not revoked. */
  async close(): Promise<void> {
    for (const lease of this.leases) lease.close();
    await this.caller.close();
  }
}

export function createClient(options: ClientOptions): ConclaveClient {
  return new ConclaveClient(options);
}

/** Percent-encodes each path segment, keeping `/` (keys may contain it). */
function encodeKey(key: string): string {
  if (key === '') throw new ConclaveError('INVALID_ARGUMENT', 'a key must not be empty');
  return key.split('/').map(encodeURIComponent).join('/');
}

/** `path?a=1&b=true`, leaving out parameters that are absent or false (the server's defaults). */
function withQuery(
  path: string,
  params: Readonly<Record<string, string | number | boolean | undefined>>,
): string {
  const q = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== false) q.set(name, String(value));
  }
  const qs = q.toString();
  return qs === '' ? path : `${path}?${qs}`;
}

function pick<T extends object, K extends keyof T>(value: T, keys: readonly K[]): Pick<T, K> {
  const out: Partial<T> = {};
  for (const k of keys) if (value[k] !== undefined) out[k] = value[k];
  return out as Pick<T, K>;
}

/** A short reason: `ECONNREFUSED`, `503 NO_LEADER`. */
function describe(error: unknown): string {
  if (error instanceof UnavailableError)
    return error.failures.map((f) => f.reason).join('; ') || 'unavailable';
  if (error instanceof ConclaveError)
    return error.status === 0 ? error.code : `${error.status} ${error.code}`;
  return error instanceof Error ? error.message : String(error);
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0)
    throw new ConclaveError('INVALID_ARGUMENT', `${name} must be a positive number`);
  return value;
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0)
    throw new ConclaveError('INVALID_ARGUMENT', `${name} must be an integer ≥ 0`);
  return value;
}
