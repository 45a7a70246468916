// The options every client command takes (--endpoints, --secret, -o, --timeout), and running a
// command with a client built from them: the client is always closed, and a failure becomes a
// message on stderr and an exit code.

import { Option } from 'commander';
import type { Command } from 'commander';
import type { ConclaveClient } from '../client/index.js';
import { integerAtLeast } from './arguments.js';
import { OUTPUT_FORMATS } from './output.js';
import type { OutputFormat } from './output.js';
import { reportError } from './report-error.js';

/** The first node of `conclave demo`. */
export const DEFAULT_ENDPOINTS = 'http://127.0.0.1:7401';
/** A whole call with its retries, ms. */
export const DEFAULT_TIMEOUT_MS = 10_000;
/** One attempt's limit: the client's default, or less when the whole call must end sooner. */
const ATTEMPT_TIMEOUT_MS = 15_000;

interface ClientFlags {
  readonly endpoints: string;
  readonly secret?: string;
  readonly output: OutputFormat;
  readonly timeout: number;
}

export interface ClientContext {
  readonly client: ConclaveClient;
  readonly output: OutputFormat;
}

/** Adds the client options to a command. */
export function withClientOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--endpoints <urls>', 'nodes to talk to, space- or comma-separated')
        .env('CONCLAVE_ENDPOINTS')
        .default(DEFAULT_ENDPOINTS),
    )
    .addOption(
      new Option('--secret <secret>', 'cluster secret, sent as a bearer token').env('CONCLAVE_SECRET'),
    )
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default('table'))
    .addOption(
      new Option('--timeout <ms>', 'limit of each call, retries included')
        .argParser(integerAtLeast(1))
        .default(DEFAULT_TIMEOUT_MS),
    );
}

/**
 * Runs `run` with a client made from the command's options and sets the exit code: what `run`
 * returns, or the code of the error it throws (printed to stderr).
 */
export async function runWithClient(
  command: Command,
  run: (context: ClientContext) => Promise<number>,
): Promise<void> {
  const flags = command.opts<ClientFlags>();
  // Loaded here, not at the top: `conclave server` shares this entry point and has no use for
  // the client's HTTP stack (about 0.1 s of start-up).
  const { createClient } = await import('../client/index.js');
  let client: ConclaveClient;
  try {
    client = createClient({
      endpoints: flags.endpoints,
      ...(flags.secret === undefined || flags.secret === '' ? {} : { secret: flags.secret }),
      timeoutMs: flags.timeout,
      requestTimeoutMs: Math.min(flags.timeout, ATTEMPT_TIMEOUT_MS),
    });
  } catch (error) {
    process.exitCode = reportError(error);
    return;
  }
  try {
    process.exitCode = await run({ client, output: flags.output });
  } catch (error) {
    process.exitCode = reportError(error);
  } finally {
    await client.close();
  }
}
