import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import type { RaftStatus } from '../raft/index.js';

/** Prometheus metrics of one node, in a registry of its own (several nodes may share a process). */
export class NodeMetrics {
  readonly registry = new Registry();
  readonly leaderChanges: Counter;
  readonly proposals: Counter<'result'>;
  readonly fsyncSeconds: Histogram;
  readonly httpSeconds: Histogram<'method' | 'route' | 'status'>;

  constructor(status: () => RaftStatus) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'conclave_process_' });
    new Gauge({
      name: 'conclave_raft_term',
      help: 'Current Raft term',
      registers,
      collect() {
        this.set(status().term);
      },
    });
    new Gauge({
      name: 'conclave_raft_is_leader',
      help: '1 when this node is the Raft leader',
      registers,
      collect() {
        this.set(status().role === 'leader' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'conclave_raft_commit_index',
      help: 'Highest log index known committed',
      registers,
      collect() {
        this.set(status().commit);
      },
    });
    new Gauge({
      name: 'conclave_raft_applied_index',
      help: 'Highest log index applied to the state machine',
      registers,
      collect() {
        this.set(status().applied);
      },
    });
    new Gauge({
      name: 'conclave_raft_apply_lag_entries',
      help: 'Committed entries not yet applied (commit - applied)',
      registers,
      collect() {
        const s = status();
        this.set(s.commit - s.applied);
      },
    });
    new Gauge({
      name: 'conclave_raft_commit_lag_entries',
      help: 'Entries in the log not yet committed (last - commit)',
      registers,
      collect() {
        const s = status();
        this.set(s.lastIndex - s.commit);
      },
    });
    this.leaderChanges = new Counter({
      name: 'conclave_raft_leader_changes_total',
      help: 'Times this node saw the leader change',
      registers,
    });
    this.proposals = new Counter({
      name: 'conclave_proposals_total',
      help: 'Write proposals by outcome',
      labelNames: ['result'],
      registers,
    });
    this.fsyncSeconds = new Histogram({
      name: 'conclave_storage_fsync_seconds',
      help: 'Duration of one Ready transaction (log append, hard state, apply; one fsync)',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.httpSeconds = new Histogram({
      name: 'conclave_http_request_duration_seconds',
      help: 'HTTP request duration by route',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers,
    });
  }

  /** Times every request and serves GET /metrics. */
  register(app: FastifyInstance): void {
    app.addHook('onResponse', (request, reply, done) => {
      const route = request.routeOptions.url ?? 'unmatched';
      this.httpSeconds.observe(
        { method: request.method, route, status: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
      done();
    });
    app.get('/metrics', async (_request, reply) => {
      const text = await this.registry.metrics();
      return reply.type(this.registry.contentType).send(text);
    });
  }
}
