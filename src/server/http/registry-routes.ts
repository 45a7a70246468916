import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { KvStore } from '../../kv/index.js';
import { MEMBERS_PREFIX } from '../../kv/index.js';
import type { MemberRecord } from '../registry/member-registry.js';
import { parse } from './validation.js';

export interface RegistryRouteDeps {
  readonly kv: KvStore;
  readBarrier(): Promise<void>;
}

const query = z.strictObject({
  consistency: z.enum(['linearizable', 'serializable']).default('linearizable'),
});

/**
 * GET /v1/members: every node that keeps a member record alive, with its age, state and
 * seconds since its last heartbeat (as `egctl get member` shows them), and the activity log.
 */
export function registerRegistryRoutes(app: FastifyInstance, deps: RegistryRouteDeps): void {
  app.get('/v1/members', async (request) => {
    const { consistency } = parse(query, request.query, 'query');
    if (consistency === 'linearizable') await deps.readBarrier();
    const now = Date.now();
    const range = deps.kv.range({ prefix: MEMBERS_PREFIX });
    const members = range.kvs.flatMap((kv) => {
      let record: MemberRecord;
      try {
        record = JSON.parse(kv.value) as MemberRecord;
      } catch {
        return [];
      }
      const heartbeatAgo = (now - Date.parse(record.lastHeartbeat)) / 1000;
      const interval = (record.heartbeatIntervalMs || 5_000) / 1000;
      return [
        {
          ...record,
          ageSeconds: Math.round((now - Date.parse(record.startedAt)) / 100) / 10,
          heartbeatSecondsAgo: Math.round(heartbeatAgo * 10) / 10,
          // Up: heard within two intervals. Stale: missed beats, not yet expired (its lease runs 3).
          state: heartbeatAgo <= 2 * interval ? 'up' : 'stale',
          lease: kv.lease,
        },
      ];
    });
    return { members, activity: deps.kv.activity(), revision: range.revision };
  });
}
