// The request engine under every client call: picks a node (the leader for writes), retries
// network errors and "try again" answers with backoff on other nodes, keeps a write's request
// id across retries (so a retried write applies once), and honours AbortSignals.

import { randomUUID } from 'node:crypto';
import { Agent } from 'undici';
import { REQUEST_ID_PATTERN } from '../kv/limits.js';
import type { Dispatcher } from 'undici';
import { AbortedError, ConclaveError, UnavailableError } from './errors.js';
import type { EndpointFailure } from './errors.js';

export type HttpMethod = 'GET' | 'PUT' | 'POST' | 'DELETE';

export interface CallerOptions {
  readonly endpoints: readonly string[];
  readonly secret: string | undefined;
  /** One attempt's limit (headers and each body chunk). */
  readonly requestTimeoutMs: number;
  /** The whole call's limit, retries included. */
  readonly timeoutMs: number;
  /** Attempts after the first. */
  readonly retries: number;
  readonly backoffMs: { readonly initial: number; readonly max: number };
  /** Send leader-bound requests straight to the leader's advertised URL (else via any node). */
  readonly followLeader: boolean;
}

export interface Call {
  readonly method: HttpMethod;
  /** Path and query, starting with `/`. */
  readonly path: string;
  readonly body?: unknown;
  /** `leader`: writes and leader-only reads (sent to the leader when known); `any`: the current node. */
  readonly target: 'leader' | 'any';
  /** Writes: the exactly-once key, the same on every retry. Made up when absent. */
  readonly requestId?: string | undefined;
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal | undefined;
  /** Send to exactly this node, no failover (status of one node). */
  readonly endpoint?: string | undefined;
  /** Per-attempt limit override (long polls). */
  readonly requestTimeoutMs?: number | undefined;
}

export interface JsonAnswer<T> {
  readonly status: number;
  readonly body: T;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly endpoint: string;
  readonly requestId: string;
}

export interface StreamAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Dispatcher.ResponseData['body'];
  /** Filled once the body has ended. */
  readonly trailers: Readonly<Record<string, string>>;
  readonly endpoint: string;
  readonly requestId: string;
}

/** How long leader discovery may take before a call goes to any node instead. */
const DISCOVERY_TIMEOUT_MS = 1_000;

/** Node answers that mean "not here, not now": retried on another node after a backoff. */
function retryableStatus(status: number): boolean {
  return status === 502 || status === 503 || status === 504;
}

export class Caller {
  readonly endpoints: readonly string[];
  private readonly options: CallerOptions;
  private readonly agent: Agent;
  private readonly closed = new AbortController();
  /** Index into endpoints of the node used for `any` calls; moves on after a failure. */
  private current = 0;
  /** The leader's URL, when known. */
  private leader: string | undefined;
  private discovering: Promise<void> | undefined;
  private lastDiscovery = 0;

  constructor(options: CallerOptions) {
    this.options = options;
    this.endpoints = options.endpoints;
    this.agent = new Agent({ keepAliveTimeout: 10_000, connections: 64 });
  }

  get signal(): AbortSignal {
    return this.closed.signal;
  }

  /** The leader's URL, as last learnt. */
  knownLeader(): string | undefined {
    return this.leader;
  }

  /** A JSON call; a node's error answer is thrown as ConclaveError (except the statuses in `accept`). */
  async json<T>(call: Call, accept: readonly number[] = []): Promise<JsonAnswer<T>> {
    const answer = await this.attempts(call, accept);
    let text: string;
    try {
      text = await answer.body.text();
    } catch (cause) {
      if (call.signal?.aborted === true || this.closed.signal.aborted) throw new AbortedError(cause);
      throw new ConclaveError(
        'UNAVAILABLE',
        `${answer.endpoint} cut the answer short: ${networkReason(cause)}`,
        {
          endpoint: answer.endpoint,
          requestId: answer.requestId,
          cause,
        },
      );
    }
    return { ...answer, body: parseJson(text, answer) as T };
  }

  /** A streaming call (watch, snapshot): the body is the caller's to read and close. */
  stream(call: Call): Promise<StreamAnswer> {
    return this.attempts(call, []);
  }

  async close(): Promise<void> {
    this.closed.abort(new Error('client closed'));
    await this.agent.close();
  }

  private async attempts(call: Call, accept: readonly number[]): Promise<StreamAnswer> {
    const signal = AbortSignal.any(
      call.signal === undefined ? [this.closed.signal] : [this.closed.signal, call.signal],
    );
    if (call.requestId !== undefined && !REQUEST_ID_PATTERN.test(call.requestId)) {
      // A node would replace it with a fresh id, and the write would lose its exactly-once key.
      throw new ConclaveError('INVALID_ARGUMENT', `request id must match ${String(REQUEST_ID_PATTERN)}`, {
        details: { requestId: call.requestId },
      });
    }
    const requestId = call.requestId ?? randomUUID();
    const deadline = Date.now() + this.options.timeoutMs;
    const failures = new Map<string, string>();
    let lastServerError: ConclaveError | undefined;
    const maxAttempts = call.endpoint === undefined ? this.options.retries + 1 : 1;
    let attempt = 0;
    for (; attempt < maxAttempts; attempt++) {
      if (signal.aborted) throw new AbortedError(signal.reason);
      if (attempt > 0) {
        const wait = Math.min(this.backoff(attempt), deadline - Date.now());
        if (wait <= 0) break;
        await sleep(wait, signal);
      }
      if (call.target === 'leader' && call.endpoint === undefined) await this.learnLeader(signal);
      const endpoint = call.endpoint ?? this.pick(call.target);
      // The call's deadline bounds each attempt too (a stream's own limit is between chunks).
      const limit = Math.max(
        1,
        Math.min(call.requestTimeoutMs ?? this.options.requestTimeoutMs, deadline - Date.now()),
      );
      let res: Dispatcher.ResponseData;
      try {
        // origin + path, not a URL: a URL would resolve `.` and `..` segments of a key.
        const base = new URL(endpoint);
        res = await this.agent.request({
          origin: base.origin,
          path: `${base.pathname.replace(/\/$/, '')}${call.path}`,
          method: call.method,
          headers: this.headers(call, requestId),
          body: call.body === undefined ? null : JSON.stringify(call.body),
          signal,
          headersTimeout: limit,
          bodyTimeout: call.requestTimeoutMs ?? this.options.requestTimeoutMs,
        });
      } catch (error) {
        if (isAborted(signal)) throw new AbortedError(signal.reason);
        failures.set(endpoint, networkReason(error));
        this.failed(endpoint);
        continue;
      }
      if (res.statusCode < 400 || accept.includes(res.statusCode)) {
        if (call.endpoint === undefined) this.succeeded(endpoint, call.target);
        return {
          status: res.statusCode,
          headers: res.headers,
          body: res.body,
          trailers: res.trailers,
          endpoint,
          requestId,
        };
      }
      const text = await res.body.text().catch(() => '');
      const error = errorFrom(res.statusCode, text, endpoint, requestId);
      if (!retryableStatus(res.statusCode)) throw error;
      lastServerError = error;
      failures.set(endpoint, `${res.statusCode} ${error.code}`);
      this.answeredRetry(endpoint, error);
    }
    const list: EndpointFailure[] = [...failures].map(([endpoint, reason]) => ({ endpoint, reason }));
    if (lastServerError !== undefined) {
      throw new ConclaveError(
        lastServerError.code,
        `${lastServerError.message} (after ${attempt} attempt(s))`,
        {
          status: lastServerError.status,
          details: { ...(lastServerError.details ?? {}), failures: list },
          requestId,
          endpoint: lastServerError.endpoint,
        },
      );
    }
    throw new UnavailableError(list, attempt, { requestId });
  }

  private headers(call: Call, requestId: string): Record<string, string> {
    const headers: Record<string, string> = { 'x-request-id': requestId, ...call.headers };
    if (call.body !== undefined) headers['content-type'] = 'application/json';
    if (this.options.secret !== undefined) headers.authorization = `Bearer ${this.options.secret}`;
    return headers;
  }

  private pick(target: 'leader' | 'any'): string {
    if (target === 'leader' && this.options.followLeader && this.leader !== undefined) return this.leader;
    return this.endpoints[this.current % this.endpoints.length] ?? '';
  }

  /**
   * Before a leader-bound call with no leader known, asks the endpoints who leads (at most once
   * a second; concurrent calls share one round). Unknown afterwards: the call goes to any node,
   * which forwards it.
   */
  private async learnLeader(signal: AbortSignal): Promise<void> {
    if (!this.options.followLeader || this.leader !== undefined) return;
    if (this.discovering === undefined && Date.now() - this.lastDiscovery >= 1_000) {
      this.lastDiscovery = Date.now();
      this.discovering = this.findLeader(AbortSignal.timeout(DISCOVERY_TIMEOUT_MS))
        .then(() => undefined)
        .catch(() => undefined)
        .finally(() => {
          this.discovering = undefined;
        });
    }
    if (this.discovering === undefined) return;
    await Promise.race([
      this.discovering,
      new Promise<void>((resolve) => {
        signal.addEventListener(
          'abort',
          () => {
            resolve();
          },
          { once: true },
        );
      }),
    ]);
  }

  private succeeded(endpoint: string, target: 'leader' | 'any'): void {
    const index = this.endpoints.indexOf(endpoint);
    if (index >= 0 && target === 'any') this.current = index;
  }

  private failed(endpoint: string): void {
    if (endpoint === this.leader) this.leader = undefined;
    if (this.endpoints[this.current % this.endpoints.length] === endpoint) this.current++;
  }

  /** A 5xx answer: learn the leader from it when it names one, else move on. */
  private answeredRetry(endpoint: string, error: ConclaveError): void {
    const named = error.details?.leaderUrl;
    if (error.code === 'NOT_LEADER' && typeof named === 'string' && this.options.followLeader) {
      this.leader = named;
      return;
    }
    this.failed(endpoint);
  }

  private backoff(attempt: number): number {
    const { initial, max } = this.options.backoffMs;
    const ceiling = Math.min(max, initial * 2 ** (attempt - 1));
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  /** The leader named by the endpoints' status with the highest term, if any names one. */
  async findLeader(signal?: AbortSignal): Promise<{ name: string; url: string; term: number } | undefined> {
    const views = await Promise.all(
      this.endpoints.map(async (endpoint) => {
        try {
          const answer = await this.json<StatusLike>({
            method: 'GET',
            path: '/status',
            target: 'any',
            endpoint,
            signal,
          });
          return answer.body;
        } catch {
          return undefined;
        }
      }),
    );
    let best: { name: string; url: string; term: number } | undefined;
    for (const view of views) {
      const raft = view?.raft;
      if (raft?.leader == null || raft.leaderUrl == null) continue;
      if (best === undefined || raft.term > best.term)
        best = { name: raft.leader, url: raft.leaderUrl, term: raft.term };
    }
    if (best !== undefined && this.options.followLeader) this.leader = best.url;
    return best;
  }
}

interface StatusLike {
  readonly raft?: {
    readonly leader: string | null;
    readonly leaderUrl: string | null;
    readonly term: number;
  };
}

function parseJson(text: string, answer: { endpoint: string; requestId: string; status: number }): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new ConclaveError(
      'BAD_RESPONSE',
      `${answer.endpoint} answered ${answer.status} with a body that is not JSON`,
      {
        status: answer.status,
        endpoint: answer.endpoint,
        requestId: answer.requestId,
        cause,
      },
    );
  }
}

/** The server's error shape, or a stand-in for a body that is not one (a proxy's page). */
export function errorFrom(status: number, text: string, endpoint: string, requestId: string): ConclaveError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const error = (parsed as { error?: unknown } | undefined)?.error;
  if (typeof error === 'object' && error !== null) {
    const e = error as { code?: unknown; message?: unknown; details?: unknown };
    if (typeof e.code === 'string') {
      return new ConclaveError(e.code, typeof e.message === 'string' ? e.message : e.code, {
        status,
        details: typeof e.details === 'object' ? (e.details as Record<string, unknown> | null) : null,
        endpoint,
        requestId,
      });
    }
  }
  const fallback = status === 503 ? 'UNAVAILABLE' : 'BAD_RESPONSE';
  return new ConclaveError(fallback, `${endpoint} answered ${status}: ${text.slice(0, 200)}`, {
    status,
    endpoint,
    requestId,
  });
}

function networkReason(error: unknown): string {
  const e = error as { code?: unknown; cause?: { code?: unknown }; message?: unknown };
  const code =
    typeof e.code === 'string' ? e.code : typeof e.cause?.code === 'string' ? e.cause.code : undefined;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return 'timeout';
  if (code === 'UND_ERR_SOCKET') return 'connection closed';
  return code ?? (typeof e.message === 'string' ? e.message : 'network error');
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new AbortedError(signal.reason));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new AbortedError(signal.reason));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Reads the flag afresh (TypeScript narrows `signal.aborted` across awaits). */
export function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}
