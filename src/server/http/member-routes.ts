import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ServerError } from '../errors.js';
import type { Membership } from '../membership/membership.js';
import type { NodeStatus } from '../node-view.js';
import { parse } from './validation.js';

export interface MemberRouteDeps {
  readonly membership: Membership;
  isLeader(): boolean;
  status(): NodeStatus;
  forward(request: FastifyRequest, reply: FastifyReply, error: ServerError): Promise<FastifyReply>;
}

const addBody = z.strictObject({
  name: z.string(),
  url: z.string(),
  learner: z.boolean().optional(),
});
const nameParams = z.strictObject({ name: z.string() });

/**
 * Runtime membership of the primaries under /v1/cluster/members. Changes are made by the leader
 * (a follower forwards them) and answered once applied there.
 */
export function registerMemberRoutes(app: FastifyInstance, deps: MemberRouteDeps): void {
  app.get('/v1/cluster/members', () => {
    const status = deps.status();
    const contact = new Map(status.members.map((m) => [m.name, m]));
    return {
      leader: status.raft.leader,
      appliedIndex: status.raft.appliedIndex,
      members: deps.membership.members().map((m) => ({
        ...m,
        live: contact.get(m.name)?.live ?? false,
        lastContactMs: contact.get(m.name)?.lastContactMs ?? null,
      })),
    };
  });

  app.post('/v1/cluster/members', async (request, reply) => {
    const body = parse(addBody, request.body, 'body');
    if (!deps.isLeader()) return deps.forward(request, reply, notLeader());
    return deps.membership.add(body.name, body.url, body.learner === true);
  });

  app.post('/v1/cluster/members/:name/promote', async (request, reply) => {
    const { name } = parse(nameParams, request.params, 'params');
    if (!deps.isLeader()) return deps.forward(request, reply, notLeader());
    return deps.membership.promote(name);
  });

  app.delete('/v1/cluster/members/:name', async (request, reply) => {
    const { name } = parse(nameParams, request.params, 'params');
    if (!deps.isLeader()) return deps.forward(request, reply, notLeader());
    await deps.membership.remove(name);
    return { removed: name };
  });
}

function notLeader(): ServerError {
  return new ServerError('NOT_LEADER', 'membership changes are made by the leader');
}
