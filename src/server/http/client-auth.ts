// Client authentication (`client-auth: secret`): requests must present the cluster secret as a
// bearer token. Load-balancer checks stay open (a balancer cannot be given a token everywhere),
// and the peer stream has its own handshake.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { NodeConfig } from '../../config/index.js';
import { ServerError } from '../errors.js';

/** Paths answered without a token: health checks and the peer stream (authenticated itself). */
const OPEN_PATHS =
  /^\/(api\/leader-check(\/[^/?]*)?|api\/raft-health|health|api\/ping|raft\/v1\/stream)(\?|$)/;

/** The header internal callers (forwards, secondaries, the member registry) add when it is on. */
/** The secret client requests must present: the cluster secret when client-auth is on. */
export function clientSecretOf(config: Pick<NodeConfig, 'clientAuth' | 'secret'>): string | undefined {
  return config.clientAuth === 'secret' ? config.secret : undefined;
}

export function authorizationHeader(secret: string | undefined): Record<string, string> {
  return secret === undefined ? {} : { authorization: `Bearer ${secret}` };
}

/** Adds the check to every request of `app` when `secret` is given. */
export function requireClientSecret(app: FastifyInstance, secret: string | undefined): void {
  if (secret === undefined) return;
  const expected = digest(secret);
  app.addHook('onRequest', (request, _reply, done) => {
    if (OPEN_PATHS.test(request.url)) {
      done();
      return;
    }
    const header = request.headers.authorization;
    const token = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : undefined;
    // Digests have one length, so the comparison takes the same time whatever was sent.
    if (token !== undefined && timingSafeEqual(digest(token), expected)) {
      done();
      return;
    }
    request.log.warn(
      { ip: request.ip, url: request.url, given: token !== undefined },
      'client not authorized',
    );
    done(
      new ServerError(
        'UNAUTHORIZED',
        token === undefined
          ? 'this node requires authorization: Bearer <cluster secret> (client-auth is secret)'
          : 'the bearer token is not the cluster secret',
      ),
    );
  });
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
