import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { request } from 'undici';
import type { Logger } from 'pino';
import type { NodeConfig } from '../config/index.js';
import { encodeCommand, KvStore } from '../kv/index.js';
import type { ApplyResult, Command } from '../kv/index.js';
import type { NodeId } from '../raft/index.js';
import { SqliteRaftStorage } from '../storage/index.js';
import { raftSnapshotProducer } from './snapshot/raft-snapshot.js';
import { PeerTransport } from '../transport/peer-transport.js';
import { ServerError } from './errors.js';
import { createApp } from './http/app.js';
import { authorizationHeader, clientSecretOf, requireClientSecret } from './http/client-auth.js';
import { forwardToLeader } from './http/forward.js';
import { registerHealthRoutes } from './http/health-routes.js';
import { registerKvRoutes } from './http/kv-routes.js';
import { registerLeaseRoutes } from './http/lease-routes.js';
import { registerWatchRoutes } from './http/watch-routes.js';
import { Lessor } from './lease/lessor.js';
import { registerMemberRoutes } from './http/member-routes.js';
import { Membership } from './membership/membership.js';
import { registerRegistryRoutes } from './http/registry-routes.js';
import { registerSnapshotRoutes } from './http/snapshot-routes.js';
import { localUrlOf, MemberRegistry } from './registry/member-registry.js';
import { registerPeerStream } from './http/peer-stream.js';
import { MemberProber } from './member-prober.js';
import { NodeMetrics } from './metrics.js';
import type { HealthReport, LocalState, NodeStatus, NodeView } from './node-view.js';
import { RaftDriver } from './raft-driver.js';
import { WatchHub } from './watch/watch-hub.js';
import { VERSION } from './version.js';

/** A node's configuration once its name and data dir are settled. */
export type ResolvedNodeConfig = NodeConfig & { readonly name: string; readonly dataDir: string };

/** How long a client write or linearizable read may wait for consensus before TIMEOUT. */
const REQUEST_TIMEOUT_MS = 10_000;
/** Bytes one peer frame may carry: append batches and snapshot chunks. */
const MAX_PEER_BYTES = 64 * 1024 * 1024;

/**
 * One primary: SQLite storage, the Raft driver, peer transport and the HTTP API on one port.
 * start() returns once the port listens; stop() hands leadership over (if leading), then
 * closes the port, the driver, the transport and the database, in that order.
 */
export class ConclaveNode implements NodeView {
  readonly name: string;
  private readonly config: ResolvedNodeConfig;
  private readonly logger: Logger;
  private readonly storage: SqliteRaftStorage;
  private readonly kv: KvStore;
  private readonly watches: WatchHub;
  private readonly lessor: Lessor;
  private readonly membership: Membership;
  private readonly registry: MemberRegistry;
  private requests = 0;
  private readonly driver: RaftDriver;
  private readonly transport: PeerTransport;
  private readonly prober: MemberProber;
  private readonly metrics: NodeMetrics;
  private readonly app: FastifyInstance;
  private readonly urls = new Map<NodeId, string>();
  private lastLeader: NodeId = '';
  /** A member is live if it answered a ping this recently (several missed probes tolerated). */
  private readonly liveWithinMs: number;
  private stopping: Promise<void> | undefined;
  /** What client requests must present (client-auth: secret); internal calls send it too. */
  private readonly clientSecret: string | undefined;
  /** Aborted when stopping: ends forwards in flight. */
  private readonly shutdown = new AbortController();

  private constructor(config: ResolvedNodeConfig, logger: Logger) {
    this.config = config;
    this.name = config.name;
    this.logger = logger;
    this.liveWithinMs = Math.max(3_000, config.heartbeatIntervalMs * 15);
    this.clientSecret = clientSecretOf(config);
    const members =
      config.initialCluster.length > 0
        ? config.initialCluster
        : [{ name: config.name, url: config.advertiseUrl }];
    for (const m of members) this.urls.set(m.name, m.url);
    this.urls.set(config.name, config.advertiseUrl);

    this.storage = SqliteRaftStorage.open({
      dataDir: config.dataDir,
      clusterName: config.clusterName,
      nodeName: config.name,
      bootstrap:
        config.initialClusterState === 'new'
          ? { voters: members.map((m) => m.name), learners: [] }
          : undefined,
    });
    this.kv = new KvStore(this.storage.db);
    const kv = this.kv;
    this.storage.attachStateMachine({
      apply: (index, data) => kv.apply(index, data),
      serialize: () => kv.serialize(),
      restore: (data) => {
        kv.restore(data);
      },
    });
    const produce = raftSnapshotProducer(kv, this.storage.file);
    if (produce !== undefined) {
      const raftLog = logger.child({ component: 'raft' });
      this.storage.setSnapshotProducer(async () => {
        const started = performance.now();
        try {
          const snap = await produce();
          raftLog.info(
            { index: snap.meta.index, bytes: snap.data.length, ms: Math.round(performance.now() - started) },
            'produced a snapshot for a follower behind the log',
          );
          return snap;
        } catch (error) {
          raftLog.warn({ err: error }, 'producing a snapshot for a follower failed; retrying');
          throw error;
        }
      });
    }

    this.transport = new PeerTransport({
      self: config.name,
      clusterName: config.clusterName,
      secret: config.secret,
      logger: logger.child({ component: 'transport' }),
      onGone: (peer) => {
        this.driver.peerGone(peer);
      },
    });
    for (const [name, url] of this.urls) this.transport.setPeer(name, url);

    this.driver = new RaftDriver({
      id: config.name,
      storage: this.storage,
      sender: this.transport,
      logger: logger.child({ component: 'raft' }),
      tickMs: config.heartbeatIntervalMs,
      electionTicks: Math.max(2, Math.round(config.electionTimeoutMs / config.heartbeatIntervalMs)),
    });

    this.prober = new MemberProber(Math.max(250, config.heartbeatIntervalMs * 5), 1_000);
    for (const [name, url] of this.urls) if (name !== config.name) this.prober.setMember(name, url);

    this.metrics = new NodeMetrics(() => this.driver.status());
    this.driver.on('softState', (soft) => {
      if (soft.leader !== this.lastLeader) {
        this.metrics.leaderChanges.inc();
        this.logger.info(
          { leader: soft.leader || null, role: soft.role, term: this.driver.status().term },
          'leader changed',
        );
        this.lastLeader = soft.leader;
      }
    });
    this.driver.on('persisted', ({ seconds }) => {
      this.metrics.fsyncSeconds.observe(seconds);
    });
    this.watches = new WatchHub(this.kv);
    this.membership = new Membership({
      self: config.name,
      kv: this.kv,
      configUrls: this.urls,
      status: () => this.driver.status(),
      propose: (command) => this.propose(command),
      proposeConfChange: (change) => this.driver.proposeConfChange(change, REQUEST_TIMEOUT_MS),
      isLive: (name) => this.prober.isLive(name, this.liveWithinMs),
      fetchMembers: async (url) => {
        const res = await request(new URL('/v1/cluster/members', url), {
          headers: authorizationHeader(this.clientSecret),
          headersTimeout: 1_000,
          bodyTimeout: 1_000,
        });
        if (res.statusCode !== 200) {
          await res.body.dump();
          throw new Error(`answered ${res.statusCode}`);
        }
        return (await res.body.json()) as { appliedIndex: number; members: { name: string }[] };
      },
      onPeers: (peers) => {
        for (const [name, url] of peers) {
          this.transport.setPeer(name, url);
          this.prober.setMember(name, url);
        }
        for (const name of [...this.prober.members.keys()]) {
          if (peers.has(name)) continue;
          this.transport.removePeer(name);
          this.prober.removeMember(name);
        }
      },
      logger,
    });
    this.driver.on('applied', ({ index }) => {
      this.membership.reconcile();
      this.watches.dispatch();
      this.maybeCompact(index);
    });

    this.app = createApp({ logger, maxRequestBytes: config.maxRequestBytes });
    requireClientSecret(this.app, this.clientSecret);
    this.metrics.register(this.app);
    registerPeerStream(this.app, {
      self: config.name,
      clusterName: config.clusterName,
      secret: config.secret,
      maxPeerBytes: MAX_PEER_BYTES,
      logger,
      deliver: (messages) => {
        this.driver.receive(messages);
      },
    });
    registerHealthRoutes(this.app, this);
    /** Linearizable reads (and watches, snapshots, lease calls) wait for a ReadIndex round. */
    const readBarrier = async (): Promise<void> => {
      await this.driver.readIndex(REQUEST_TIMEOUT_MS);
    };
    // The leader answers within REQUEST_TIMEOUT_MS; the margin keeps its TIMEOUT from turning
    // into our FORWARD_FAILED.
    const forward = (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> =>
      forwardToLeader(
        request,
        reply,
        this.leaderUrl(),
        config.name,
        REQUEST_TIMEOUT_MS + 2_000,
        this.shutdown.signal,
      );
    registerKvRoutes(this.app, {
      kv: this.kv,
      propose: (command) => this.propose(command),
      readBarrier,
      forward,
      maxKeyBytes: config.maxKeyBytes,
      maxValueBytes: config.maxValueBytes,
    });
    this.lessor = new Lessor({
      kv: this.kv,
      isLeader: () => this.isLeader(),
      propose: (command) => this.propose(command),
      logger,
    });
    registerLeaseRoutes(this.app, {
      kv: this.kv,
      lessor: this.lessor,
      isLeader: () => this.isLeader(),
      propose: (command) => this.propose(command),
      readBarrier,
      forward,
    });
    registerMemberRoutes(this.app, {
      membership: this.membership,
      isLeader: () => this.isLeader(),
      status: () => this.status(),
      forward,
    });
    registerSnapshotRoutes(this.app, {
      kv: this.kv,
      file: this.storage.file,
      readBarrier,
      compression: config.snapshotCompression,
      concurrency: config.snapshotConcurrency,
    });
    registerRegistryRoutes(this.app, {
      kv: this.kv,
      readBarrier,
    });
    this.app.addHook('onResponse', (_request, _reply, done) => {
      this.requests++;
      done();
    });
    const startedAt = new Date().toISOString();
    this.registry = new MemberRegistry({
      name: config.name,
      localUrl: localUrlOf(config.listen),
      headers: authorizationHeader(this.clientSecret),
      intervalMs: config.memberHeartbeatIntervalMs,
      describe: () => ({
        name: config.name,
        role: 'primary',
        cluster: config.clusterName,
        apiUrl: config.advertiseUrl,
        version: VERSION,
        startedAt,
        heartbeatIntervalMs: config.memberHeartbeatIntervalMs,
        raftState: this.driver.status().role,
        appliedRevision: this.kv.revision(),
      }),
      requestCount: () => this.requests,
      logger: logger.child({ component: 'registry' }),
    });
    registerWatchRoutes(this.app, {
      hub: this.watches,
      readBarrier,
      maxKeyBytes: config.maxKeyBytes,
    });
  }

  static async start(config: ResolvedNodeConfig, logger: Logger): Promise<ConclaveNode> {
    const node = new ConclaveNode(config, logger);
    try {
      await node.app.listen({ host: config.listen.host, port: config.listen.port });
    } catch (error) {
      node.storage.close();
      throw error;
    }
    node.driver.start();
    node.prober.start();
    node.lessor.start();
    node.membership.start();
    node.registry.start();
    logger.info(
      { name: config.name, cluster: config.clusterName, url: config.advertiseUrl, dataDir: config.dataDir },
      'node started',
    );
    return node;
  }

  /** Graceful stop: a leader first hands leadership to an up-to-date voter. Idempotent. */
  stop(options: { transferLeadership?: boolean } = {}): Promise<void> {
    this.stopping ??= this.doStop(options.transferLeadership ?? true);
    return this.stopping;
  }

  private async doStop(transfer: boolean): Promise<void> {
    // The record goes at once (a clean leave) while the cluster can still take the revoke.
    await this.registry.stop();
    if (transfer) await this.handOverLeadership();
    this.lessor.stop();
    this.membership.stop();
    this.prober.stop();
    // Requests waiting on consensus or on a forward end now with SHUTTING_DOWN, instead of
    // holding the port open until their own timeouts (up to 12 s) while the cluster stops too.
    const closed = this.app.close();
    this.shutdown.abort();
    this.driver.stop();
    await closed;
    await this.transport.close();
    this.storage.close();
    this.logger.info({ name: this.name }, 'node stopped');
  }

  private async handOverLeadership(): Promise<void> {
    const status = this.driver.status();
    if (status.role !== 'leader') return;
    let best: NodeId | undefined;
    let bestMatch = -1;
    for (const [id, pr] of status.progress) {
      if (id === this.name || pr.isLearner || !status.conf.voters.includes(id)) continue;
      if (pr.match > bestMatch) {
        best = id;
        bestMatch = pr.match;
      }
    }
    if (best === undefined) return;
    this.logger.info({ to: best }, 'transferring leadership before stopping');
    try {
      this.driver.transferLeadership(best);
    } catch {
      return;
    }
    const deadline = Date.now() + this.config.electionTimeoutMs * 2;
    while (Date.now() < deadline && this.driver.status().role === 'leader') {
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** This node's state and change feed, for an application embedding it. */
  local(): LocalState {
    return { kv: this.kv, watches: this.watches, synced: () => true };
  }

  // ------------------------------------------------------------------ NodeView

  isLeader(): boolean {
    return this.driver.status().role === 'leader';
  }

  isRaftHealthy(): boolean {
    const s = this.driver.status();
    if (s.role === 'leader') return true;
    return s.leader !== '' && s.ticksSinceLeaderContact < s.electionTicks;
  }

  health(): HealthReport {
    const voters = this.driver.status().conf.voters;
    let live = 1;
    for (const id of voters) if (id !== this.name && this.prober.isLive(id, this.liveWithinMs)) live++;
    const raftHealthy = this.isRaftHealthy();
    const reasons: string[] = [];
    if (live < this.config.minimumNodes) {
      reasons.push(`${live} live member(s), minimum-nodes is ${this.config.minimumNodes}`);
    }
    if (!raftHealthy) reasons.push('not in contact with a leader that has quorum');
    if (this.membership.isRemoved) reasons.push('this node was removed from the cluster');
    const ok = reasons.length === 0;
    return {
      ok,
      status: ok ? 'ready' : 'not-ready',
      liveMembers: live,
      minimumNodes: this.config.minimumNodes,
      raftHealthy,
      reasons,
    };
  }

  status(): NodeStatus {
    const s = this.driver.status();
    const now = Date.now();
    const members = [...new Set([...s.conf.voters, ...s.conf.learners])].map((id) => {
      const contact = id === this.name ? now : this.prober.members.get(id)?.lastContact;
      return {
        name: id,
        url: this.membership.urlOf(id) ?? '',
        voter: s.conf.voters.includes(id),
        lastContactMs: contact === undefined ? null : now - contact,
        live: id === this.name || this.prober.isLive(id, this.liveWithinMs, now),
      };
    });
    return {
      name: this.name,
      cluster: this.config.clusterName,
      role: 'primary',
      version: VERSION,
      raft: {
        state: s.role,
        term: s.term,
        leader: s.leader === '' ? null : s.leader,
        leaderUrl: this.leaderUrl() ?? null,
        commitIndex: s.commit,
        appliedIndex: s.applied,
        lastIndex: s.lastIndex,
      },
      members,
    };
  }

  // ------------------------------------------------------------------ internals

  private async propose(command: Command): Promise<ApplyResult> {
    try {
      const result = (await this.driver.propose(encodeCommand(command), REQUEST_TIMEOUT_MS)) as ApplyResult;
      this.metrics.proposals.inc({ result: 'ok' });
      return result;
    } catch (error) {
      this.metrics.proposals.inc({ result: error instanceof ServerError ? error.code : 'error' });
      throw error;
    }
  }

  private leaderUrl(): string | undefined {
    const leader = this.driver.status().leader;
    return leader === '' ? undefined : this.membership.urlOf(leader);
  }

  /** Compacts the log once snapshot-threshold entries were applied since the last compaction. */
  private maybeCompact(applied: number): void {
    const keep = this.config.snapshotTrailingEntries;
    if (applied - this.storage.firstIndex() < this.config.snapshotThreshold + keep) return;
    this.storage.compact(applied - keep);
  }
}
