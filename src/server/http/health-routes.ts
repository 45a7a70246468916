import type { FastifyInstance } from 'fastify';
import type { NodeView } from '../node-view.js';

/**
 * Load-balancer checks, with orchestrator's exact semantics, and Kuzzle-style readiness:
 * - GET /api/leader-check: 200 "OK" on the leader, 404 elsewhere;
 * - GET /api/leader-check/{code}: as above, but non-leaders answer {code} (400 if not 200–599);
 * - GET /api/raft-health: 200 when leader, or follower in touch with a leader (which, with
 *   check-quorum, has a quorum); 500 otherwise;
 * - GET /health: 200 only when at least minimum-nodes members are live and the node is
 *   raft-healthy; 503 with the reasons otherwise.
 */
export function registerHealthRoutes(app: FastifyInstance, view: NodeView): void {
  app.get('/api/leader-check', async (_request, reply) => {
    if (view.isLeader()) return reply.status(200).type('text/plain').send('OK');
    return reply.status(404).type('text/plain').send('Not leader');
  });

  app.get<{ Params: { code: string } }>('/api/leader-check/:code', async (request, reply) => {
    const code = request.params.code;
    const status = /^\d{3}$/.test(code) ? Number(code) : NaN;
    if (!(status >= 200 && status <= 599)) {
      return reply.status(400).send({
        error: {
          code: 'INVALID_ARGUMENT',
          message: `status code must be an integer from 200 to 599, got "${code}"`,
          details: { code },
        },
      });
    }
    if (view.isLeader()) return reply.status(200).type('text/plain').send('OK');
    return reply.status(status).type('text/plain').send('Not leader');
  });

  app.get('/api/raft-health', async (_request, reply) => {
    if (view.isRaftHealthy()) return reply.status(200).type('text/plain').send('healthy');
    return reply.status(500).type('text/plain').send('unhealthy');
  });

  app.get('/health', async (_request, reply) => {
    const health = view.health();
    return reply.status(health.ok ? 200 : 503).send(health);
  });

  app.get('/status', (_request, reply) => reply.send(view.status()));

  app.get('/api/ping', async (_request, reply) => reply.type('text/plain').send('pong'));
}
