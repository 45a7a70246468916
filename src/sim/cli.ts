// The simulator's command line, as a function (main.ts runs it; tests call it in-process).
//
//   npm run sim -- --seeds N [--start S] [--mutant NAME] [--nodes 1|3|5] [--keep-going] [--verbose]
//   npm run sim -- --seed S [--mutant NAME] [--nodes 1|3|5] [--trace-lines N] [--heartbeats]
//
// Exit status: 0 when every run passed, 1 on a violation, 2 on bad arguments.

import { parseArgs } from 'node:util';
import { MUTANTS } from '../raft/index.js';
import type { Mutant } from '../raft/index.js';
import { runSeed } from './run.js';
import type { SimOptions, SimResult } from './run.js';

const USAGE = `usage:
  npm run sim -- --seeds N [--start S] [--mutant NAME] [--nodes 1|3|5] [--keep-going] [--verbose]
  npm run sim -- --seed S [--mutant NAME] [--nodes 1|3|5] [--trace-lines N] [--heartbeats]

  --seeds N        run seeds S..S+N-1 (stops at the first violation unless --keep-going)
  --start S        first seed (default 1)
  --seed S         replay one seed and print its trace
  --mutant NAME    plant a bug in the core: ${MUTANTS.join(', ')}
  --nodes K        initial voters (default: drawn from the seed)
  --trace-lines N  trace lines to print (default 50)
  --heartbeats     include plain heartbeats in the trace
  --verbose        one line per seed`;

class UsageError extends Error {}

/** Where the CLI writes, and its wall clock (used only for the timing summary). */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  now(): number;
}

const HELP = Symbol('help');

interface Cli {
  readonly seeds: number | undefined;
  readonly start: number;
  readonly seed: number | undefined;
  readonly keepGoing: boolean;
  readonly verbose: boolean;
  readonly options: SimOptions;
}

function integer(name: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < min || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`--${name} must be an integer >= ${min}, got "${text}"`);
  }
  return Number(text);
}

function parseCli(argv: string[]): Cli | typeof HELP {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        seeds: { type: 'string' },
        start: { type: 'string' },
        seed: { type: 'string' },
        mutant: { type: 'string' },
        nodes: { type: 'string' },
        'trace-lines': { type: 'string' },
        heartbeats: { type: 'boolean' },
        'keep-going': { type: 'boolean' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    }));
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  if (values.help === true) return HELP;
  const seeds = integer('seeds', values.seeds, 1);
  const seed = integer('seed', values.seed, 0);
  if ((seeds === undefined) === (seed === undefined))
    throw new UsageError('give exactly one of --seeds N or --seed S');
  if (seed !== undefined && values.start !== undefined)
    throw new UsageError('--start goes with --seeds, not --seed');
  const mutant = values.mutant;
  if (mutant !== undefined && !(MUTANTS as readonly string[]).includes(mutant)) {
    throw new UsageError(`unknown mutant "${mutant}"; known: ${MUTANTS.join(', ')}`);
  }
  const nodes = values.nodes;
  if (nodes !== undefined && nodes !== '1' && nodes !== '3' && nodes !== '5') {
    throw new UsageError(`--nodes must be 1, 3 or 5, got "${nodes}"`);
  }
  const traceLines = integer('trace-lines', values['trace-lines'], 1);
  const options: SimOptions = {
    ...(mutant === undefined ? {} : { mutant: mutant as Mutant }),
    ...(nodes === undefined ? {} : { nodes: Number(nodes) as 1 | 3 | 5 }),
    ...(traceLines === undefined ? {} : { traceLines }),
    ...(values.heartbeats === true ? { traceHeartbeats: true } : {}),
  };
  return {
    seeds,
    start: integer('start', values.start, 0) ?? 1,
    seed,
    keepGoing: values['keep-going'] === true,
    verbose: values.verbose === true,
    options,
  };
}

function statsLine(r: SimResult): string {
  const s = r.stats;
  return (
    `${s.simTimeMs.toFixed(0)}ms simulated, ${s.events} events, ${s.messagesSent} messages (${s.messagesDropped} dropped), ` +
    `${s.leaders} leaders (max term ${s.maxTerm}), ${s.faults} faults, ${s.crashes} crashes, ${s.hintsGiven} "peer gone" hints, ` +
    `${s.membershipChanges} membership changes, ${s.snapshotsTaken} snapshots taken / ${s.snapshotsRestored} installed from the leader (${s.snapshotsBusy} times not ready yet), ` +
    `ops ${s.opsOk} ok / ${s.opsUnknown} unknown / ${s.opsFailed} failed, lincheck ${s.lincheck} (${s.lincheckSteps} steps)`
  );
}

function printFailure(io: CliIo, r: SimResult): void {
  const v = r.violation!;
  io.out('');
  io.out(`VIOLATION (${v.kind}) at seed ${r.seed}, ${v.time.toFixed(3)}ms simulated`);
  io.out(`  replay: ${r.replay}`);
  io.out(`  setup:  ${r.setup}`);
  io.out('');
  for (const line of v.message.split('\n')) io.out(`  ${line}`);
  io.out('');
  io.out(
    v.traceUntil === undefined
      ? `last ${r.trace.length} trace lines (oldest first):`
      : `${r.trace.length} trace lines up to ${v.traceUntil.toFixed(3)}ms, when the first operation that ` +
          'cannot be linearized returned (oldest first):',
  );
  for (const line of r.trace) io.out(`  ${line}`);
  io.out('');
  io.out(`  replay: ${r.replay}`);
}

/** Runs the CLI; returns the exit status. */
export function runCli(argv: string[], io: CliIo): number {
  let parsed: Cli | typeof HELP;
  try {
    parsed = parseCli(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`sim: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  if (parsed === HELP) {
    io.out(USAGE);
    return 0;
  }
  const cli = parsed;

  if (cli.seed !== undefined) {
    const started = io.now();
    const r = runSeed(cli.seed, cli.options);
    const ms = io.now() - started;
    io.out(`seed ${r.seed}: ${r.setup}`);
    io.out(`  ${statsLine(r)}`);
    io.out(`  wall time ${ms.toFixed(1)}ms`);
    if (!r.ok) {
      printFailure(io, r);
      return 1;
    }
    io.out(`\nlast ${r.trace.length} trace lines (oldest first):`);
    for (const line of r.trace) io.out(`  ${line}`);
    io.out(`\nseed ${r.seed}: OK`);
    return 0;
  }

  const count = cli.seeds!;
  const mutant = cli.options.mutant === undefined ? '' : ` with mutant ${cli.options.mutant}`;
  io.out(`running seeds ${cli.start}..${cli.start + count - 1}${mutant}`);
  const started = io.now();
  let lastReport = started;
  let violations = 0;
  let ran = 0;
  let unknown = 0;
  const failed: number[] = [];
  for (let seed = cli.start; seed < cli.start + count; seed++) {
    const r = runSeed(seed, cli.options);
    ran++;
    if (r.stats.lincheck === 'unknown') unknown++;
    if (cli.verbose)
      io.out(`seed ${seed}: ${r.ok ? 'ok' : `VIOLATION ${r.violation!.kind}`}; ${statsLine(r)}`);
    if (!r.ok) {
      violations++;
      failed.push(seed);
      printFailure(io, r);
      if (!cli.keepGoing) break;
    }
    const now = io.now();
    if (now - lastReport > 2000) {
      lastReport = now;
      io.out(
        `  ${ran}/${count} seeds, ${violations} violations, ${((ran * 1000) / (now - started)).toFixed(0)} seeds/s`,
      );
    }
  }
  const wall = (io.now() - started) / 1000;
  io.out('');
  io.out(
    `ran ${ran} seeds (${cli.start}..${cli.start + ran - 1})${mutant} in ${wall.toFixed(2)}s ` +
      `(${(ran / wall).toFixed(1)} seeds/s, ${((wall * 1000) / ran).toFixed(1)}ms/seed): ${violations} violation(s)` +
      (unknown > 0 ? `, ${unknown} linearizability check(s) out of budget` : ''),
  );
  if (failed.length > 0) io.out(`failing seeds: ${failed.join(', ')}`);
  return violations > 0 ? 1 : 0;
}
