// Running the real `bin/conclave` as a child process and reading what it prints.

import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const BIN = resolve(import.meta.dirname, '../../bin/conclave');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment without any CONCLAVE_* variable of the shell running the tests, plus `extra`. */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CONCLAVE_')) env[k] = v;
  return { ...env, ...extra };
}

/** Runs `conclave ...args` to completion (at most `timeoutMs`). */
export function runCli(
  args: readonly string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolveRun) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: cliEnv(options.env), timeout: options.timeoutMs ?? 20_000, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolveRun({ code, stdout, stderr });
      },
    );
  });
}

/** A long-running `conclave ...args` (a watch) with its output collected as it arrives. */
export class CliProcess {
  stdout = '';
  stderr = '';
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;

  constructor(args: readonly string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [BIN, ...args], {
      env: cliEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    this.child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((r) => {
      this.child.once('exit', (code) => {
        r(code);
      });
    });
  }

  /** Waits until stdout holds `count` lines (a line ends with a newline). */
  async lines(count: number, timeoutMs = 15_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = this.stdout.split('\n').slice(0, -1);
      if (lines.length >= count) return lines;
      if (Date.now() > deadline) {
        throw new Error(`only ${lines.length} of ${count} lines:\n${this.stdout}\nstderr:\n${this.stderr}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Sends `signal` and waits for the exit code (null: killed by a signal, or still running after 10 s). */
  async stop(signal: NodeJS.Signals): Promise<number | null> {
    this.child.kill(signal);
    const timer = new Promise<null>((r) => {
      setTimeout(() => {
        r(null);
      }, 10_000).unref();
    });
    const code = await Promise.race([this.exited, timer]);
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    return code;
  }
}

/**
 * The cells of a table printed by the CLI, checking its layout: the header is exactly `header`
 * (columns two spaces apart), every cell starts where its header does, no line ends in a space.
 */
export function parseTable(text: string, header: readonly string[]): string[][] {
  const lines = text.split('\n');
  if (lines.at(-1) !== '') throw new Error(`table does not end with a newline: ${JSON.stringify(text)}`);
  lines.pop();
  const [head, ...rows] = lines;
  const starts: number[] = [];
  for (const match of (head ?? '').matchAll(/\S+/g)) starts.push(match.index);
  const names = (head ?? '').split(/ {2,}/);
  if (names.join('|') !== header.join('|')) throw new Error(`header is ${JSON.stringify(head)}`);
  return rows.map((row) => {
    if (row !== row.trimEnd()) throw new Error(`trailing spaces: ${JSON.stringify(row)}`);
    return starts.map((start, i) => {
      const next = starts[i + 1];
      const cell = row.slice(start, next === undefined ? undefined : next - 2);
      if (i > 0 && row.slice(start - 2, start) !== '  ')
        throw new Error(`column ${header[i]} misaligned: ${JSON.stringify(row)}`);
      if (cell.startsWith(' ') || (next !== undefined && row.slice(next - 2, next).trim() !== ''))
        throw new Error(`column ${header[i]} misaligned: ${JSON.stringify(row)}`);
      return cell.trimEnd();
    });
  });
}
