// Proposing a command from an HTTP request: exactly-once request ids, forwarding to the leader,
// and mapping the state machine's errors onto the API's stable codes.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApplyResult, Command } from '../../kv/index.js';
import { KvError, validateCommand } from '../../kv/index.js';
import { ServerError } from '../errors.js';
import type { ServerErrorCode } from '../errors.js';
import { CLIENT_ID_HEADER, FORWARDED_HEADER } from './forward.js';

/** What proposing needs from the node. */
export interface ProposeDeps {
  /** Proposes a command through Raft on this node; rejects NOT_LEADER on a follower. */
  propose(command: Command): Promise<ApplyResult>;
  /**
   * Sends the request on to the leader and relays its answer; answers 503 NO_LEADER when none is
   * known. `error` is the NOT_LEADER error that made forwarding necessary.
   */
  forward(request: FastifyRequest, reply: FastifyReply, error: ServerError): Promise<FastifyReply>;
}

/** Proposes `command` (or forwards the request to the leader) and answers with its result. */
export async function write(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: ProposeDeps,
  command: Command,
): Promise<unknown> {
  checkKv(() => {
    validateCommand(command);
  });
  let result: ApplyResult;
  try {
    result = await deps.propose(command);
  } catch (error) {
    if (error instanceof ServerError && error.code === 'NOT_LEADER')
      return deps.forward(request, reply, error);
    throw error;
  }
  if ('error' in result) {
    throw new ServerError(kvCodeToServer(result.error.code), result.error.message);
  }
  void reply.header('x-conclave-revision', String(result.revision));
  return result;
}

export /**
 * The client's own x-request-id doubles as the exactly-once key of its write. An id generated
 * by a follower that forwarded the request is for logs only (it is never retried).
 */
function withRequestId(request: FastifyRequest): { requestId?: string } {
  const given = request.headers['x-request-id'];
  if (typeof given !== 'string' || given !== request.id) return {};
  if (request.headers[FORWARDED_HEADER] !== undefined && request.headers[CLIENT_ID_HEADER] === undefined)
    return {};
  return { requestId: given };
}

export function checkKv(fn: () => void): void {
  try {
    fn();
  } catch (error) {
    if (error instanceof KvError) throw new ServerError(kvCodeToServer(error.code), error.message);
    throw error;
  }
}

function kvCodeToServer(code: KvError['code']): ServerErrorCode {
  switch (code) {
    case 'KEY_TOO_LARGE':
    case 'VALUE_TOO_LARGE':
    case 'INVALID_ARGUMENT':
    case 'COMPACTED':
    case 'FUTURE_REVISION':
    case 'LEASE_NOT_FOUND':
    case 'LEASE_EXISTS':
      return code;
    case 'BAD_COMMAND':
      return 'INVALID_ARGUMENT';
    default:
      return 'INTERNAL';
  }
}
