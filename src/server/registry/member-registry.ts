import type { Logger } from 'pino';
import { request } from 'undici';
import { MEMBERS_PREFIX } from '../../kv/index.js';

/** What a node says about itself in its member record (the value of MEMBERS_PREFIX + name). */
export interface MemberRecord {
  readonly name: string;
  readonly role: 'primary' | 'secondary';
  readonly cluster: string;
  readonly apiUrl: string;
  readonly version: string;
  /** ISO 8601. */
  readonly startedAt: string;
  /** ISO 8601, this node's clock. */
  readonly lastHeartbeat: string;
  readonly heartbeatIntervalMs: number;
  /** Raft role of a primary (leader, follower, ...), null for a secondary. */
  readonly raftState: string | null;
  readonly appliedRevision: number;
  readonly rssBytes: number;
  /** Percent of one CPU since the last heartbeat. */
  readonly cpuPercent: number;
  readonly requestsPerSec: number;
}

export interface RegistryDeps {
  readonly name: string;
  /** Where this node's own API answers (it forwards to the leader as needed). */
  readonly localUrl: string;
  /** Sent with every call (client authentication). */
  readonly headers: Readonly<Record<string, string>>;
  readonly intervalMs: number;
  /** The record's fields that describe the node now. */
  describe(): Omit<MemberRecord, 'lastHeartbeat' | 'cpuPercent' | 'requestsPerSec' | 'rssBytes'>;
  /** Requests served since the node started. */
  requestCount(): number;
  readonly logger: Logger;
}

/** Where a node's own API answers, from its listen address (a wildcard address means loopback). */
export function localUrlOf(listen: { host: string; port: number }): string {
  const wildcard = listen.host === '0.0.0.0' || listen.host === '';
  const host = wildcard ? '127.0.0.1' : listen.host === '::' ? '::1' : listen.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${listen.port}`;
}

/** Lease TTL in heartbeats: a record missed for this many intervals expires. */
const TTL_BEATS = 3;

/**
 * Keeps this node's member record alive: a key under `_conclave/members/` attached to a lease
 * of 3 heartbeat intervals, rewritten every interval with fresh figures (which is the
 * heartbeat). A node that stops heartbeating disappears when its lease expires; one that stops
 * cleanly revokes its lease first. It talks to its own HTTP API, so followers' writes and
 * keep-alives reach the leader the way any client's do.
 */
export class MemberRegistry {
  private lease: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private lastCpu = process.cpuUsage();
  private lastAt = Date.now();
  private lastRequests = 0;
  private lastWarned = 0;

  constructor(private readonly deps: RegistryDeps) {}

  start(): void {
    this.running = true;
    this.schedule(Math.min(500, this.deps.intervalMs));
  }

  /** Revokes the lease (the record goes at once) and stops heartbeating. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    const lease = this.lease;
    this.lease = undefined;
    if (lease === undefined) return;
    await this.call('DELETE', `/v1/leases/${lease}`, undefined, 1_000).catch(() => undefined);
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      void this.beat().then((ok) => {
        // A failed beat (no leader yet, a partition) is retried sooner than the next interval.
        this.schedule(ok ? this.deps.intervalMs : Math.min(this.deps.intervalMs, 1_000));
      });
    }, ms);
    this.timer.unref();
  }

  private async beat(): Promise<boolean> {
    try {
      if (this.lease !== undefined) {
        const kept = await this.call('POST', `/v1/leases/${this.lease}/keepalive`);
        if (kept.status === 404) this.lease = undefined;
      }
      if (this.lease === undefined) {
        const ttl = Math.max(1, Math.ceil((TTL_BEATS * this.deps.intervalMs) / 1000));
        const granted = await this.call('POST', '/v1/leases', { ttl });
        if (granted.status !== 200) throw new Error(`lease grant answered ${granted.status}`);
        this.lease = (granted.body as { id: number }).id;
      }
      const put = await this.call('PUT', `/v1/kv/${MEMBERS_PREFIX}${this.deps.name}`, {
        value: JSON.stringify(this.record()),
        leaseId: this.lease,
      });
      if (put.status === 404) {
        this.lease = undefined; // expired between keep-alive and put: grant anew at once
        return false;
      }
      if (put.status !== 200) throw new Error(`record write answered ${put.status}`);
      return true;
    } catch (error) {
      const now = Date.now();
      if (now - this.lastWarned > 30_000) {
        this.lastWarned = now;
        this.deps.logger.warn({ err: (error as Error).message }, 'member heartbeat failed; retrying');
      }
      return false;
    }
  }

  private record(): MemberRecord {
    const now = Date.now();
    const cpu = process.cpuUsage(this.lastCpu);
    const elapsedMs = Math.max(1, now - this.lastAt);
    const requests = this.deps.requestCount();
    const record: MemberRecord = {
      ...this.deps.describe(),
      lastHeartbeat: new Date(now).toISOString(),
      rssBytes: process.memoryUsage.rss(),
      cpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / elapsedMs) * 1000) / 10,
      requestsPerSec: Math.round(((requests - this.lastRequests) / elapsedMs) * 10_000) / 10,
    };
    this.lastCpu = process.cpuUsage();
    this.lastAt = now;
    this.lastRequests = requests;
    return record;
  }

  private async call(
    method: 'GET' | 'PUT' | 'POST' | 'DELETE',
    path: string,
    json?: unknown,
    timeoutMs = Math.max(1_000, this.deps.intervalMs),
  ): Promise<{ status: number; body: unknown }> {
    const res = await request(new URL(path, this.deps.localUrl), {
      method,
      headers:
        json === undefined ? this.deps.headers : { ...this.deps.headers, 'content-type': 'application/json' },
      body: json === undefined ? null : JSON.stringify(json),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const text = await res.body.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.statusCode, body };
  }
}
