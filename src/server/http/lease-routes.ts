import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { KvStore } from '../../kv/index.js';
import { ServerError } from '../errors.js';
import type { Lessor } from '../lease/lessor.js';
import { withRequestId, write } from './propose.js';
import type { ProposeDeps } from './propose.js';
import { parse } from './validation.js';

export interface LeaseRouteDeps extends ProposeDeps {
  readonly kv: KvStore;
  readonly lessor: Lessor;
  isLeader(): boolean;
  /** Resolves once this node's state is at least as new as the cluster's commit (ReadIndex). */
  readBarrier(): Promise<void>;
}

const consistency = z.enum(['linearizable', 'serializable']).default('linearizable');
const leaseId = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const idParams = z.strictObject({ id: leaseId });
const grantBody = z.strictObject({
  ttl: z.number().int().min(1),
  id: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
});
const listQuery = z.strictObject({
  consistency,
  after: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
});

/**
 * Leases: grant and revoke go through the log like writes; keep-alive and time-to-live are
 * answered by the leader (a follower forwards them), which alone keeps the deadlines.
 */
export function registerLeaseRoutes(app: FastifyInstance, deps: LeaseRouteDeps): void {
  app.post('/v1/leases', async (request, reply) => {
    const body = parse(grantBody, request.body, 'body');
    const command = { type: 'leaseGrant' as const, ttl: body.ttl, ...withRequestId(request) };
    return write(request, reply, deps, body.id === undefined ? command : { ...command, id: body.id });
  });

  app.delete('/v1/leases/:id', async (request, reply) => {
    const { id } = parse(idParams, request.params, 'params');
    return write(request, reply, deps, {
      type: 'leaseRevoke',
      id,
      reason: 'revoked',
      ...withRequestId(request),
    });
  });

  app.post('/v1/leases/:id/keepalive', async (request, reply) => {
    const { id } = parse(idParams, request.params, 'params');
    if (!deps.isLeader()) return deps.forward(request, reply, notLeader());
    await deps.readBarrier();
    const kept = deps.lessor.keepAlive(id);
    if (kept === undefined) throw notFound(id);
    return { id, ttl: kept.ttl, remainingMs: kept.ttl * 1000 };
  });

  app.get('/v1/leases/:id', async (request, reply) => {
    const { id } = parse(idParams, request.params, 'params');
    if (!deps.isLeader()) return deps.forward(request, reply, notLeader());
    await deps.readBarrier();
    const lease = deps.kv.lease(id);
    if (lease === undefined) throw notFound(id);
    return {
      ...lease,
      remainingMs: deps.lessor.remainingMs(id) ?? lease.ttl * 1000,
      revision: deps.kv.revision(),
    };
  });

  app.get('/v1/leases', async (request) => {
    const query = parse(listQuery, request.query, 'query');
    if (query.consistency === 'linearizable') await deps.readBarrier();
    const limit = query.limit ?? 1_000;
    const page = deps.kv.leases(query.after ?? 0, limit + 1);
    const more = page.length > limit;
    return { leases: more ? page.slice(0, limit) : page, more, revision: deps.kv.revision() };
  });
}

function notLeader(): ServerError {
  return new ServerError('NOT_LEADER', 'lease deadlines are kept by the leader');
}

function notFound(id: number): ServerError {
  return new ServerError('LEASE_NOT_FOUND', `no lease ${id} (never granted, revoked, or expired)`);
}
