// Errors the client throws. Server errors keep the server's stable code (docs/API.md § Error
// codes); failures to reach any node get UNAVAILABLE with what each endpoint answered. A light
// second entry of the client: importing it loads no HTTP code (the CLI's start-up).

/** Codes the client adds to the server's: it could not get an answer, or the caller gave up. */
export type ClientErrorCode =
  'UNAVAILABLE' | 'ABORTED' | 'BAD_RESPONSE' | 'INVALID_ARGUMENT' | 'LEASE_EXPIRED';

export interface ConclaveErrorInit {
  readonly status?: number | undefined;
  readonly details?: Record<string, unknown> | null | undefined;
  readonly requestId?: string | undefined;
  readonly endpoint?: string | undefined;
  readonly cause?: unknown;
}

/**
 * An error answer from a node (`code` is the server's stable code, e.g. `KEY_NOT_FOUND`), or one
 * of the client's own codes. Switch on `code`, never on the message.
 */
export class ConclaveError extends Error {
  override readonly name: string = 'ConclaveError';
  readonly code: string;
  /** HTTP status of the answer; 0 when no node answered. */
  readonly status: number;
  readonly details: Record<string, unknown> | null;
  /** The request id sent (the write's exactly-once key). */
  readonly requestId: string | undefined;
  /** The node that gave this answer. */
  readonly endpoint: string | undefined;

  constructor(code: string, message: string, init: ConclaveErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = code;
    this.status = init.status ?? 0;
    this.details = init.details ?? null;
    this.requestId = init.requestId;
    this.endpoint = init.endpoint;
  }

  /** Whether the same request (same request id) may be tried again, later or elsewhere. */
  get retryable(): boolean {
    return this.status === 502 || this.status === 503 || this.status === 504 || this.code === 'UNAVAILABLE';
  }
}

/** One endpoint's last failure, as reported by UnavailableError. */
export interface EndpointFailure {
  readonly endpoint: string;
  /** `ECONNREFUSED`, `timeout`, `503 NO_LEADER`, … */
  readonly reason: string;
}

/** No endpoint gave a usable answer within the retries and the deadline. */
export class UnavailableError extends ConclaveError {
  override readonly name = 'UnavailableError';
  readonly attempts: number;
  readonly failures: readonly EndpointFailure[];

  constructor(failures: readonly EndpointFailure[], attempts: number, init: ConclaveErrorInit = {}) {
    super(
      'UNAVAILABLE',
      `no endpoint answered after ${attempts} attempt(s): ${failures
        .map((f) => `${f.endpoint} (${f.reason})`)
        .join(', ')}`,
      { ...init, details: { failures } },
    );
    this.attempts = attempts;
    this.failures = failures;
  }
}

/** The caller's AbortSignal fired (or the client was closed). */
export class AbortedError extends ConclaveError {
  override readonly name = 'AbortedError';
  constructor(reason: unknown) {
    super('ABORTED', 'the operation was aborted', { cause: reason });
  }
}
