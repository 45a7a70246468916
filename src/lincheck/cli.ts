// The check-history command, as a function of its arguments (so tests can call it in-process).
//
// Exit codes: 0 linearizable, 1 not linearizable, 2 bad usage or unreadable/malformed file,
// 3 timed out. The verdict is always the last line on stdout; diagnostics go to stderr.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { HistoryParseError } from './errors.js';
import { checkEvents } from './history.js';
import { kvModel } from './kv-model.js';
import { parseHistory } from './parse-history.js';

export const EXIT_OK = 0;
export const EXIT_NOT_LINEARIZABLE = 1;
export const EXIT_ERROR = 2;
export const EXIT_TIMEOUT = 3;

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

const USAGE = `usage: check-history [--timeout SECONDS] [--verbose] FILE

Checks a history for linearizability. FILE is a Jepsen log (lines with "jepsen.util - "),
an EDN history ({:process 0, :type :invoke, :f :get, :key "k", :value nil} per line) or
JSON lines ({"process": 0, "type": "invoke", "f": "write", "value": 1} per line).
Prints "linearizable" (exit 0) or "not linearizable" (exit 1); exit 2 on errors,
"unknown (timed out)" and exit 3 when --timeout is exceeded.`;

export function runCli(argv: readonly string[], io: CliIo): number {
  let values: { timeout?: string | undefined; verbose?: boolean | undefined; help?: boolean | undefined };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        timeout: { type: 'string' },
        verbose: { type: 'boolean', short: 'v' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    io.err(`check-history: ${err instanceof Error ? err.message : String(err)}`);
    io.err(USAGE);
    return EXIT_ERROR;
  }
  if (values.help) {
    io.out(USAGE);
    return EXIT_OK;
  }
  const file = positionals[0];
  if (file === undefined || positionals.length > 1) {
    io.err(file === undefined ? 'check-history: missing FILE' : 'check-history: expected exactly one FILE');
    io.err(USAGE);
    return EXIT_ERROR;
  }
  let timeoutMs: number | undefined;
  if (values.timeout !== undefined) {
    const seconds = Number(values.timeout);
    if (values.timeout.trim() === '' || !Number.isFinite(seconds) || seconds <= 0) {
      io.err(`check-history: --timeout must be a positive number of seconds, got "${values.timeout}"`);
      return EXIT_ERROR;
    }
    timeoutMs = seconds * 1000;
  }

  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    io.err(`check-history: cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT_ERROR;
  }

  const started = performance.now();
  try {
    const { format, events } = parseHistory(text);
    const result = checkEvents(events, timeoutMs === undefined ? {} : { timeoutMs });
    if (values.verbose) {
      const ms = (performance.now() - started).toFixed(0);
      io.err(
        `${file}: ${format}, ${events.length} events, ${result.partitions} partition(s), ${result.steps} steps, ${ms} ms`,
      );
    }
    switch (result.result) {
      case 'ok':
        io.out('linearizable');
        return EXIT_OK;
      case 'unknown':
        io.out('unknown (timed out)');
        return EXIT_TIMEOUT;
      case 'illegal': {
        const part = result.illegalPartition ?? [];
        const longest = result.longestLinearizable ?? [];
        const key = part[0]?.input.key;
        const what = key === undefined ? 'the history' : `key ${JSON.stringify(key)}`;
        io.err(
          `${what} (${part.length} operations) is not linearizable; ` +
            `the longest valid ordering found covers ${longest.length} of them`,
        );
        if (values.verbose) {
          for (const op of longest) io.err(`  ${kvModel.describe?.(op.input, op.output) ?? ''}`);
        }
        io.out('not linearizable');
        return EXIT_NOT_LINEARIZABLE;
      }
    }
  } catch (err) {
    if (err instanceof HistoryParseError) {
      io.err(`check-history: ${file}: ${err.message}`);
      return EXIT_ERROR;
    }
    throw err;
  }
}
