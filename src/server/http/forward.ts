import type { FastifyReply, FastifyRequest } from 'fastify';
import { request as httpRequest } from 'undici';
import { ServerError } from '../errors.js';

export const FORWARDED_HEADER = 'x-conclave-forwarded-by';
/** Present when the client itself chose the x-request-id, so it is the write's exactly-once key. */
export const CLIENT_ID_HEADER = 'x-conclave-client-request-id';
const RELAYED_HEADERS = ['content-type', 'retry-after', 'x-conclave-revision'] as const;

/**
 * Relays a client request to the leader (orchestrator's "followers reverse-proxy to the
 * leader") and its answer back, keeping the x-request-id so logs on both nodes line up and a
 * retried write stays exactly-once. A request already forwarded once is not forwarded again:
 * leadership is moving, and the client should retry.
 */
export async function forwardToLeader(
  request: FastifyRequest,
  reply: FastifyReply,
  leaderUrl: string | undefined,
  self: string,
  timeoutMs: number,
  /** Aborted when the node stops: a forward in flight then ends at once with SHUTTING_DOWN. */
  signal: AbortSignal,
): Promise<FastifyReply> {
  if (leaderUrl === undefined) {
    throw new ServerError('NO_LEADER', 'no leader is known; retry shortly');
  }
  if (request.headers[FORWARDED_HEADER] !== undefined) {
    throw new ServerError('NOT_LEADER', 'the node this request was forwarded to is no longer the leader', {
      leaderUrl,
    });
  }
  const headers: Record<string, string> = { 'x-request-id': request.id, [FORWARDED_HEADER]: self };
  if (request.headers['x-request-id'] === request.id) headers[CLIENT_ID_HEADER] = '1';
  try {
    return await relay(request, reply, leaderUrl, headers, timeoutMs, signal);
  } catch (cause) {
    if (signal.aborted) throw shuttingDown(cause);
    request.log.warn({ leaderUrl, err: (cause as Error).message }, 'forwarding to the leader failed');
    throw new ServerError(
      'FORWARD_FAILED',
      `could not reach the leader at ${leaderUrl}; retry`,
      { leaderUrl },
      { cause },
    );
  }
}

/**
 * A secondary's forwarding: to the first primary that answers, trying each in turn. Not marked
 * as forwarded, so a primary that is a follower forwards it once more, to its leader. The
 * x-request-id goes along, so a retried write stays exactly-once.
 */
export async function forwardToPrimary(
  request: FastifyRequest,
  reply: FastifyReply,
  primaries: readonly string[],
  timeoutMs: number,
  signal: AbortSignal,
): Promise<FastifyReply> {
  const headers: Record<string, string> = { 'x-request-id': request.id };
  const failures: string[] = [];
  for (const url of primaries) {
    try {
      return await relay(request, reply, url, headers, timeoutMs, signal);
    } catch (cause) {
      if (signal.aborted) throw shuttingDown(cause);
      failures.push(`${url}: ${(cause as Error).message}`);
    }
  }
  request.log.warn({ failures }, 'forwarding to the primaries failed');
  throw new ServerError('FORWARD_FAILED', 'no primary could be reached; retry', { failures });
}

async function relay(
  request: FastifyRequest,
  reply: FastifyReply,
  target: string,
  headers: Record<string, string>,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<FastifyReply> {
  const contentType = request.headers['content-type'];
  if (typeof contentType === 'string') headers['content-type'] = contentType;
  // The client's credentials go along: the next node checks them too (client-auth).
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string') headers.authorization = authorization;
  const res = await httpRequest(new URL(request.url, target), {
    method: request.method as 'GET' | 'PUT' | 'POST' | 'DELETE',
    headers,
    body: request.body === undefined ? null : JSON.stringify(request.body),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    signal,
  });
  const body = Buffer.from(await res.body.arrayBuffer());
  for (const name of RELAYED_HEADERS) {
    const value = res.headers[name];
    if (typeof value === 'string') void reply.header(name, value);
  }
  return reply.status(res.statusCode).send(body);
}

function shuttingDown(cause: unknown): ServerError {
  return new ServerError(
    'SHUTTING_DOWN',
    'the node is shutting down; the forwarded request may have been applied',
    undefined,
    {
      cause,
    },
  );
}
