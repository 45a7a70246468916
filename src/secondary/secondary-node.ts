import { readFileSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { NodeConfig } from '../config/index.js';
import { KvStore } from '../kv/index.js';
import { ServerError } from '../server/errors.js';
import { createApp } from '../server/http/app.js';
import { authorizationHeader, clientSecretOf, requireClientSecret } from '../server/http/client-auth.js';
import { forwardToPrimary } from '../server/http/forward.js';
import { registerKvRoutes } from '../server/http/kv-routes.js';
import { registerWatchRoutes } from '../server/http/watch-routes.js';
import { localUrlOf, MemberRegistry } from '../server/registry/member-registry.js';
import { VERSION } from '../server/version.js';
import type { LocalState } from '../server/node-view.js';
import { WatchHub } from '../server/watch/watch-hub.js';
import { ReplicaSync } from './replica-sync.js';
import { writeStateFile } from './state-file.js';
import type { SnapshotPrefetch } from './snapshot-fetch.js';

type ResolvedNodeConfig = NodeConfig & { readonly name: string };

/** How often the replica is written to the state file (when it changed). */
const SAVE_EVERY_MS = 10_000;
/** Without news from the primaries for this long, a secondary reports itself degraded. */
const DEGRADED_AFTER_MS = 3_000;
const FORWARD_TIMEOUT_MS = 12_000;

export interface SecondaryHealth {
  readonly ok: boolean;
  readonly status: 'ready' | 'degraded' | 'stale' | 'not-synced';
  readonly revision: number;
  /** Seconds since the primaries were last heard from; null before the first sync. */
  readonly stalenessSeconds: number | null;
  readonly reasons: readonly string[];
}

/**
 * A secondary: an in-memory replica of the primaries' key-value state (SQLite `:memory:`, no
 * disk unless a state file is set), kept in step by ReplicaSync. It votes on nothing, serves
 * reads and watches from memory with `x-conclave-revision`, forwards writes to the primaries, and
 * keeps serving its last state when every primary is unreachable.
 */
export class SecondaryNode {
  private readonly db: Database.Database;
  private readonly kv: KvStore;
  private readonly hub: WatchHub;
  private readonly sync: ReplicaSync;
  private readonly app: FastifyInstance;
  private readonly registry: MemberRegistry;
  private saveTimer: NodeJS.Timeout | undefined;
  private savedRevision = -1;
  /** The state file save under way (one at a time). */
  private saving: Promise<void> | undefined;
  private requests = 0;
  private stopping: Promise<void> | undefined;
  /** Aborted when stopping: ends forwards in flight. */
  private readonly shutdown = new AbortController();

  private constructor(
    private readonly config: ResolvedNodeConfig,
    private readonly logger: Logger,
    prefetch: SnapshotPrefetch | undefined,
  ) {
    this.db = new Database(':memory:');
    this.kv = new KvStore(this.db);
    this.hub = new WatchHub(this.kv);
    this.sync = new ReplicaSync({
      joinUrls: config.join,
      headers: authorizationHeader(clientSecretOf(config)),
      retries: config.joinRetries,
      timeoutMs: config.joinTimeoutMs,
      kv: this.kv,
      hub: this.hub,
      logger: logger.child({ component: 'sync' }),
      prefetch,
    });
    this.loadStateFile();

    this.app = createApp({ logger, maxRequestBytes: config.maxRequestBytes });
    requireClientSecret(this.app, clientSecretOf(config));
    this.app.addHook('onResponse', (_request, _reply, done) => {
      this.requests++;
      done();
    });
    // Every read, whatever its consistency, needs a synced replica that is not too stale.
    this.app.addHook('preHandler', async (request) => {
      if (request.method === 'GET' && /^\/v1\/(kv|watch)/.test(request.url)) await this.readable();
    });
    const forward = (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> =>
      forwardToPrimary(request, reply, this.primariesInOrder(), FORWARD_TIMEOUT_MS, this.shutdown.signal);
    registerKvRoutes(this.app, {
      kv: this.kv,
      propose: () => Promise.reject(new ServerError('NOT_LEADER', 'a secondary forwards writes')),
      readBarrier: () => Promise.resolve(),
      forward: (request, reply) => forward(request, reply),
      maxKeyBytes: config.maxKeyBytes,
      maxValueBytes: config.maxValueBytes,
    });
    registerWatchRoutes(this.app, {
      hub: this.hub,
      readBarrier: () => Promise.resolve(),
      maxKeyBytes: config.maxKeyBytes,
    });
    // Leases, membership and the registry live on the primaries.
    for (const url of ['/v1/leases', '/v1/leases/*', '/v1/members', '/v1/cluster/*']) {
      this.app.all(url, (request, reply) => forward(request, reply));
    }
    this.registerHealth();
    this.registry = new MemberRegistry({
      name: config.name,
      localUrl: localUrlOf(config.listen),
      headers: authorizationHeader(clientSecretOf(config)),
      intervalMs: config.memberHeartbeatIntervalMs,
      describe: () => ({
        name: config.name,
        role: 'secondary',
        cluster: config.clusterName,
        apiUrl: config.advertiseUrl,
        version: VERSION,
        startedAt: this.startedAt,
        heartbeatIntervalMs: config.memberHeartbeatIntervalMs,
        raftState: null,
        appliedRevision: this.kv.revision(),
      }),
      requestCount: () => this.requests,
      logger: logger.child({ component: 'registry' }),
    });
  }

  private readonly startedAt = new Date().toISOString();

  /**
   * `prefetch`: a snapshot download of `config.join[0]` started before this code was loaded
   * (`snapshotPrefetchFor`); the first bootstrap takes it, or cancels it when a state file
   * loaded the replica.
   */
  static async start(
    config: ResolvedNodeConfig,
    logger: Logger,
    prefetch?: SnapshotPrefetch,
  ): Promise<SecondaryNode> {
    if (config.join.length === 0) {
      prefetch?.cancel();
      throw new ServerError('INVALID_ARGUMENT', 'a secondary needs join: the URLs of one or more primaries');
    }
    const node = new SecondaryNode(config, logger, prefetch);
    // The snapshot download starts first: it waits mostly on a primary, while Fastify gets
    // ready. Until the first sync, reads answer NOT_SYNCED anyway.
    node.sync.start();
    try {
      await node.app.listen({ host: config.listen.host, port: config.listen.port });
    } catch (error) {
      node.sync.stop();
      throw error;
    }
    node.registry.start();
    if (config.stateFile !== undefined) {
      node.saveTimer = setInterval(() => {
        void node.saveStateFile();
      }, SAVE_EVERY_MS);
      node.saveTimer.unref();
    }
    logger.info(
      { name: config.name, role: 'secondary', join: config.join, url: config.advertiseUrl },
      'node started',
    );
    return node;
  }

  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    await this.registry.stop();
    this.sync.stop();
    if (this.saveTimer !== undefined) clearInterval(this.saveTimer);
    // The last state, after any save under way (the image is taken before the database closes).
    await this.saving;
    const saved = this.saveStateFile();
    this.hub.closeAll();
    const closed = this.app.close();
    this.shutdown.abort();
    await closed;
    await saved;
    this.db.close();
    this.logger.info({ name: this.config.name }, 'node stopped');
  }

  /** The replica and its change feed, for an application embedding this node. */
  local(): LocalState {
    return { kv: this.kv, watches: this.hub, synced: () => this.sync.synced };
  }

  health(): SecondaryHealth {
    const revision = this.kv.revision();
    if (!this.sync.synced) {
      return {
        ok: false,
        status: 'not-synced',
        revision,
        stalenessSeconds: null,
        reasons: ['not synced with the primaries yet'],
      };
    }
    const staleMs = this.sync.connected ? 0 : Date.now() - this.sync.lastContact;
    const stalenessSeconds = Math.round(staleMs / 100) / 10;
    const limit = this.config.staleAfterMs;
    if (limit !== undefined && staleMs > limit) {
      return {
        ok: false,
        status: 'stale',
        revision,
        stalenessSeconds,
        reasons: [`no news from the primaries for ${stalenessSeconds} s (stale-after is ${limit / 1000} s)`],
      };
    }
    if (staleMs > DEGRADED_AFTER_MS) {
      return {
        ok: true,
        status: 'degraded',
        revision,
        stalenessSeconds,
        reasons: [`no primary reachable for ${stalenessSeconds} s; serving the last state`],
      };
    }
    return { ok: true, status: 'ready', revision, stalenessSeconds, reasons: [] };
  }

  /** Reads wait for nothing on a secondary, but need a synced replica that is not too stale. */
  private readable(): Promise<void> {
    const h = this.health();
    if (h.status === 'not-synced')
      return Promise.reject(
        new ServerError('NOT_SYNCED', 'this secondary has not synced with the primaries yet'),
      );
    if (h.status === 'stale')
      return Promise.reject(
        new ServerError('STALE', h.reasons[0] ?? 'stale', { stalenessSeconds: h.stalenessSeconds }),
      );
    return Promise.resolve();
  }

  private registerHealth(): void {
    this.app.get('/health', (_request, reply) => {
      const h = this.health();
      return reply.status(h.ok ? 200 : 503).send(h);
    });
    this.app.get('/status', () => ({
      name: this.config.name,
      cluster: this.config.clusterName,
      role: 'secondary',
      revision: this.kv.revision(),
      synced: this.sync.synced,
      connected: this.sync.connected,
      bootstraps: this.sync.bootstraps,
      lastContactMsAgo: this.sync.lastContact === 0 ? null : Date.now() - this.sync.lastContact,
      join: this.config.join,
      streamBytes: this.sync.streamBytes,
      changesApplied: this.sync.changesApplied,
      health: this.health(),
    }));
    this.app.get('/api/leader-check', (_request, reply) =>
      reply.status(404).type('text/plain').send('Not leader (secondary)'),
    );
    this.app.get('/api/raft-health', (_request, reply) =>
      reply.status(500).type('text/plain').send('secondary: not a Raft member'),
    );
    this.app.get('/api/ping', (_request, reply) => reply.type('text/plain').send('pong'));
  }

  private primariesInOrder(): string[] {
    return [...this.config.join];
  }

  /** The saved replica, if the state file holds a good one (its checksum is verified by restore). */
  private loadStateFile(): void {
    const file = this.config.stateFile;
    if (file === undefined) return;
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch {
      return;
    }
    try {
      this.kv.restoreReplica(bytes);
      this.savedRevision = this.kv.revision();
      this.sync.loadedFromFile(statSync(file).mtimeMs);
      this.logger.info({ file, revision: this.kv.revision() }, 'serving the replica saved in the state file');
    } catch (error) {
      this.logger.warn(
        { file, err: (error as Error).message },
        'ignoring an unreadable state file; bootstrapping from the primaries',
      );
    }
  }

  /** Saves the replica to the state file if it changed since the last save; never rejects. */
  private saveStateFile(): Promise<void> {
    const file = this.config.stateFile;
    if (this.saving !== undefined) return this.saving;
    if (file === undefined || !this.sync.synced || this.kv.revision() === this.savedRevision) {
      return Promise.resolve();
    }
    const revision = this.kv.revision();
    let writing: Promise<void>;
    try {
      writing = writeStateFile(this.db, this.kv, file);
    } catch (error) {
      writing = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const saving = writing.then(
      () => {
        this.savedRevision = revision;
      },
      (error: unknown) => {
        this.logger.warn({ file, err: (error as Error).message }, 'could not save the state file');
      },
    );
    this.saving = saving.finally(() => {
      this.saving = undefined;
    });
    return this.saving;
  }
}
