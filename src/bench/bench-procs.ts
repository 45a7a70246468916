// Child processes, temp dirs and HTTP helpers for the server benchmarks. Everything started here
// is registered, and killed (SIGKILL) with its temp dirs removed when the bench exits, whether it
// ends normally, throws, or gets SIGINT/SIGTERM.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let cleanupInstalled = false;

/** Kills every child still running and removes every temp dir; synchronous, safe to repeat. */
export function cleanupNow(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill('SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
  children.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/** Installs the exit, SIGINT and SIGTERM handlers that run cleanupNow (once per process). */
export function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', cleanupNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      process.stderr.write(`\n${signal}: stopping the cluster processes\n`);
      cleanupNow();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

export function makeTempDir(prefix: string): string {
  installCleanup();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** A child process whose output is kept (the last 64 KiB) for error messages. */
export class TrackedProcess {
  private log = '';
  readonly child: ChildProcess;
  private readonly exited: Promise<void>;

  constructor(
    readonly label: string,
    command: string,
    args: readonly string[],
  ) {
    installCleanup();
    this.child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(this.child);
    const append = (chunk: Buffer): void => {
      this.log += chunk.toString();
      if (this.log.length > 128 * 1024) this.log = this.log.slice(-64 * 1024);
    };
    this.child.stdout?.on('data', append);
    this.child.stderr?.on('data', append);
    this.exited = new Promise((resolveExit) => {
      this.child.once('exit', () => {
        children.delete(this.child);
        resolveExit();
      });
      this.child.once('error', (error) => {
        this.log += `\nspawn error: ${error.message}\n`;
        children.delete(this.child);
        resolveExit();
      });
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && children.has(this.child);
  }

  /** Sends the signal and waits (at most timeoutMs) for the process to exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 10_000): Promise<void> {
    if (this.running) this.child.kill(signal);
    const exited = await withTimeout(this.exited, timeoutMs);
    if (!exited) throw new Error(`${this.label} did not exit within ${timeoutMs} ms of ${signal}`);
  }

  tail(chars = 3_000): string {
    return `--- ${this.label}\n${this.log.slice(-chars)}`;
  }
}

async function withTimeout(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolveTimeout) => {
    timer = setTimeout(() => {
      resolveTimeout(false);
    }, ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolveServer, reject) => {
          const srv = createServer();
          srv.on('error', reject);
          srv.listen(0, '127.0.0.1', () => {
            resolveServer(srv);
          });
        }),
    ),
  );
  const ports = servers.map((srv) => {
    const address = srv.address();
    if (address === null || typeof address !== 'object') throw new Error('no port');
    return address.port;
  });
  await Promise.all(servers.map((srv) => new Promise((r) => srv.close(r))));
  return ports;
}

export interface HttpAnswer {
  readonly status: number;
  readonly text: string;
}

/** One HTTP call with a bounded wait; network errors and timeouts come back as status 0. */
export async function httpCall(
  url: string,
  options: {
    method?: 'GET' | 'PUT' | 'POST';
    body?: string;
    headers?: Record<string, string>;
    timeoutMs?: number;
  } = {},
): Promise<HttpAnswer> {
  try {
    const res = await request(url, {
      method: options.method ?? 'GET',
      headers: options.headers ?? {},
      body: options.body ?? null,
      headersTimeout: options.timeoutMs ?? 2_000,
      bodyTimeout: options.timeoutMs ?? 2_000,
    });
    return { status: res.statusCode, text: await res.body.text() };
  } catch (error) {
    return { status: 0, text: (error as Error).message };
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `probe` until it returns a value other than undefined, or throws after timeoutMs. */
export async function pollUntil<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
  intervalMs = 20,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Runs a benchmark's main: child processes are cleaned up however it ends; a failure exits 1. */
export function runBench(main: () => Promise<void>): void {
  main().then(
    () => {
      cleanupNow();
    },
    (error: unknown) => {
      process.stderr.write(
        `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      cleanupNow();
      process.exitCode = 1;
    },
  );
}
