// Embedding: nodes started inside an application's own process (the fixtures are such
// applications, run as real child processes on the compiled package).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePorts } from '../server/process-cluster.js';

const FIXTURES = resolve(import.meta.dirname, 'fixtures');
const root = mkdtempSync(join(tmpdir(), 'conclave-embed-'));

interface Run {
  readonly lines: Record<string, unknown>[];
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
  readonly kill: (signal: NodeJS.Signals) => void;
  waitFor(
    what: string,
    test: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
}

function run(script: string, args: readonly string[]): Run {
  const child = spawn(process.execPath, [join(FIXTURES, script), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    let cut: number;
    while ((cut = out.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(out.slice(0, cut)) as Record<string, unknown>);
      out = out.slice(cut + 1);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err = (err + chunk.toString()).slice(-20_000);
  });
  const exited = new Promise<number | null>((r) => {
    child.once('exit', (code) => {
      r(code);
    });
  });
  return {
    lines,
    stderr: () => err,
    exited,
    kill: (signal) => child.kill(signal),
    async waitFor(what, test, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = lines.find(test);
        if (found !== undefined) return found;
        if (Date.now() > deadline) throw new Error(`${script}: no ${what} in time; stderr:\n${err}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

/** Resolves with the exit code, or null when the process had not ended within `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  return Promise.race([
    promise,
    new Promise<'timeout'>((r) => {
      setTimeout(() => {
        r('timeout');
      }, ms);
    }),
  ]);
}

describe('startNode (in-process nodes)', () => {
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('runs a primary and a secondary in one process, with local reads and change callbacks, and stops leaving no handle open', async () => {
    const [p, s] = await freePorts(2);
    const app = run('primary-and-secondary.mjs', [String(p), String(s), join(root, 'solo')]);
    // The process ends by itself: nothing the nodes opened is left holding the event loop.
    expect(await within(app.exited, 20_000)).toBe(0);
    const report = app.lines[0];
    expect(report).toEqual({
      local: 'hello',
      primaryLocal: 'hello',
      viaSecondaryClient: 'hello',
      events: [['put', 'app/greeting', 'hello']],
      leaseKeptAlive: true,
      resources: [],
    });
  }, 30_000);

  it('forms a cluster of three application processes that embed a primary each, with no other service', async () => {
    const ports = await freePorts(3);
    const names = ['a1', 'a2', 'a3'];
    const initialCluster = names.map((n, i) => `${n}=http://127.0.0.1:${ports[i]}`).join(',');
    const apps = names.map((n, i) => run('app.mjs', [n, initialCluster, join(root, n), String(ports[i])]));
    try {
      for (const app of apps) {
        const line = await app.waitFor('convergence', (l) => Array.isArray(l.converged));
        expect(line.converged).toEqual(names);
      }
      for (const app of apps) app.kill('SIGTERM');
      for (const [i, app] of apps.entries()) {
        expect(
          await within(app.exited, 15_000),
          `app ${names[i]} ended by itself; stderr:\n${app.stderr().slice(-4000)}`,
        ).toBe(0);
        expect(app.lines.some((l) => l.stopped === true)).toBe(true);
      }
    } finally {
      for (const app of apps) app.kill('SIGKILL');
    }
  }, 60_000);
});
