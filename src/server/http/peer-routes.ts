import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Message, NodeId } from '../../raft/index.js';
import { CodecError, decodeMessages } from '../../transport/codec.js';
import { PEER_HEADERS, verifyPeerSignature } from '../../transport/peer-auth.js';
import { PEER_MESSAGES_PATH } from '../../transport/peer-transport.js';

export interface PeerRouteOptions {
  readonly self: NodeId;
  readonly clusterName: string;
  readonly secret: string | undefined;
  readonly maxPeerBytes: number;
  readonly logger: Logger;
  readonly deliver: (messages: Message[]) => void;
}

/**
 * Raft traffic from peers, on the client port. A request must name our cluster (else 403
 * WRONG_CLUSTER) and be signed with the cluster secret (else 401 UNAUTHORIZED); both are logged.
 * The body is a binary batch (see src/transport/codec.ts); a malformed one is 400 BAD_PEER_MESSAGE.
 */
export function registerPeerRoutes(app: FastifyInstance, options: PeerRouteOptions): void {
  app.register((scope, _opts, done) => {
    scope.addContentTypeParser(
      'application/octet-stream',
      { parseAs: 'buffer', bodyLimit: options.maxPeerBytes },
      (_request, body, parsed) => {
        parsed(null, body);
      },
    );
    scope.post(PEER_MESSAGES_PATH, async (request, reply) => {
      const cluster = header(request.headers[PEER_HEADERS.cluster]);
      const from = header(request.headers[PEER_HEADERS.from]);
      const body = request.body as Buffer | undefined;
      if (cluster !== options.clusterName) {
        request.log.warn({ peerCluster: cluster, from }, 'refused a peer of another cluster');
        return reply
          .status(403)
          .send(errorBody('WRONG_CLUSTER', `this node belongs to cluster "${options.clusterName}"`));
      }
      if (from === undefined || !Buffer.isBuffer(body)) {
        return reply.status(400).send(errorBody('BAD_PEER_MESSAGE', 'missing sender or body'));
      }
      if (options.secret !== undefined) {
        const signature = header(request.headers[PEER_HEADERS.signature]);
        if (
          signature === undefined ||
          !verifyPeerSignature(options.secret, options.clusterName, from, options.self, body, signature)
        ) {
          request.log.warn(
            { from, ip: request.ip },
            'refused a peer request with a missing or wrong signature',
          );
          return reply
            .status(401)
            .send(errorBody('UNAUTHORIZED', 'missing or wrong cluster secret signature'));
        }
      }
      let messages: Message[];
      try {
        messages = decodeMessages(body);
      } catch (error) {
        if (error instanceof CodecError) {
          request.log.warn({ from, err: error.message }, 'malformed peer message');
          return reply.status(400).send(errorBody('BAD_PEER_MESSAGE', error.message));
        }
        throw error;
      }
      // A peer speaks only for itself and only to us.
      const valid = messages.filter((m) => m.from === from && m.to === options.self);
      options.deliver(valid);
      return reply.status(204).send();
    });
    done();
  });
}

function header(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function errorBody(
  code: string,
  message: string,
): { error: { code: string; message: string; details: null } } {
  return { error: { code, message, details: null } };
}
