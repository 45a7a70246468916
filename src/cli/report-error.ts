// A client command's failure as the user sees it: one line on stderr (`conclave: message [CODE]`),
// the endpoints tried when none answered, and the exit code it maps to.

import { ConclaveError, UnavailableError } from '../client/errors.js';
import type { EndpointFailure } from '../client/errors.js';
import { EXIT } from './exit-codes.js';

const NOT_FOUND = new Set(['KEY_NOT_FOUND', 'LEASE_NOT_FOUND', 'MEMBER_NOT_FOUND']);

/** No node could give an answer: unreachable, or still "not now" (5xx) after every retry. */
function unavailable(error: ConclaveError): boolean {
  return error.code === 'UNAVAILABLE' || error.code === 'NO_LEADER' || error.retryable;
}

export function exitCodeOf(error: unknown): number {
  if (!(error instanceof ConclaveError)) return EXIT.failure;
  if (NOT_FOUND.has(error.code)) return EXIT.notFound;
  if (unavailable(error)) return EXIT.unavailable;
  // The client refused the arguments before sending anything (a bad endpoint URL, an empty key).
  if (error.status === 0 && error.code === 'INVALID_ARGUMENT') return EXIT.badConfig;
  return EXIT.failure;
}

/** The stderr text of a failure, ending with a newline. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return `conclave: ${String(error)}\n`;
  const code = (error as { code?: unknown }).code;
  const suffix = typeof code === 'string' ? ` [${code}]` : '';
  if (!(error instanceof ConclaveError)) return `conclave: ${error.message}${suffix}\n`;
  const headline =
    error instanceof UnavailableError
      ? `no endpoint answered after ${error.attempts} attempt(s)`
      : error.code === 'UNAVAILABLE'
        ? 'no endpoint answered'
        : error.message;
  const tried = failuresOf(error).map((f) => `  ${f.endpoint} — ${f.reason}\n`);
  return `conclave: ${headline}${suffix}\n${tried.join('')}`;
}

/** Prints the failure and returns its exit code. */
export function reportError(error: unknown): number {
  process.stderr.write(describeError(error));
  return exitCodeOf(error);
}

function failuresOf(error: ConclaveError): EndpointFailure[] {
  if (error instanceof UnavailableError) return [...error.failures];
  const list = error.details?.failures;
  if (!Array.isArray(list)) return [];
  return list.filter(
    (f): f is EndpointFailure =>
      typeof (f as Partial<EndpointFailure> | null)?.endpoint === 'string' &&
      typeof (f as Partial<EndpointFailure>).reason === 'string',
  );
}
