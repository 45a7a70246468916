/**
 * Every error the server reports, with its HTTP status. The code is the stable contract
 * (documented in docs/API.md); messages are for people and may change.
 */
export const ERROR_STATUS = {
  // Request problems: nothing was changed.
  MALFORMED_JSON: 400,
  VALIDATION_FAILED: 400,
  INVALID_ARGUMENT: 400,
  KEY_TOO_LARGE: 400,
  VALUE_TOO_LARGE: 413,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  ROUTE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  KEY_NOT_FOUND: 404,
  COMPACTED: 410,
  FUTURE_REVISION: 400,
  LEASE_NOT_FOUND: 404,
  LEASE_EXISTS: 409,
  // Peer and admin authentication.
  UNAUTHORIZED: 401,
  WRONG_CLUSTER: 403,
  WRONG_NODE: 421,
  UNSUPPORTED_UPGRADE: 400,
  BAD_PEER_MESSAGE: 400,
  // Cluster state: retry later (503 responses carry Retry-After).
  NOT_LEADER: 503,
  NO_LEADER: 503,
  LEADER_CHANGED: 503,
  LEADER_TRANSFER_IN_PROGRESS: 503,
  UNCOMMITTED_LIMIT: 503,
  PROPOSAL_DROPPED: 503,
  SHUTTING_DOWN: 503,
  NOT_SYNCED: 503,
  STALE: 503,
  SNAPSHOT_FAILED: 503,
  SNAPSHOT_BUSY: 503,
  FORWARD_FAILED: 502,
  TIMEOUT: 504,
  // Membership administration.
  CONF_CHANGE_PENDING: 409,
  MEMBER_EXISTS: 409,
  MEMBER_NOT_FOUND: 404,
  NO_QUORUM: 409,
  INVALID_CONF_CHANGE: 400,
  INVALID_TRANSFER_TARGET: 400,
  // A bug: logged with the request id.
  INTERNAL: 500,
} as const;

export type ServerErrorCode = keyof typeof ERROR_STATUS;

export class ServerError extends Error {
  override readonly name = 'ServerError';
  readonly code: ServerErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ServerErrorCode,
    message: string,
    details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  /** Whether a client may retry the same request (with the same request id) elsewhere or later. */
  get retryable(): boolean {
    return this.status === 503 || this.status === 504 || this.status === 502;
  }
}
