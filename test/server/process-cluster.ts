import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { request } from 'undici';

const BIN = resolve(import.meta.dirname, '../../bin/conclave');

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  text: string;
}

/** One HTTP call with a bounded wait; network errors come back as status 0. */
export async function http(
  url: string,
  options: {
    method?: 'GET' | 'PUT' | 'POST' | 'DELETE';
    json?: unknown;
    body?: string;
    headers?: Record<string, string>;
    timeoutMs?: number;
  } = {},
): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] ??= 'application/json';
  }
  try {
    const res = await request(url, {
      method: options.method ?? 'GET',
      headers,
      body: body ?? null,
      headersTimeout: options.timeoutMs ?? 12_000,
      bodyTimeout: options.timeoutMs ?? 12_000,
    });
    const text = await res.body.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Plain text answer.
    }
    return { status: res.statusCode, headers: res.headers, body: parsed, text };
  } catch (error) {
    return { status: 0, headers: {}, body: undefined, text: (error as Error).message };
  }
}

export async function freePorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    ports.push(
      await new Promise<number>((resolvePort, reject) => {
        const srv = createServer();
        srv.listen(0, '127.0.0.1', () => {
          const address = srv.address();
          const port = typeof address === 'object' && address !== null ? address.port : 0;
          srv.close(() => {
            resolvePort(port);
          });
        });
        srv.on('error', reject);
      }),
    );
  }
  return ports;
}

export interface NodeSpec {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly dataDir: string;
}

/**
 * A cluster of real `conclave server` processes on loopback, each with its own SQLite data dir.
 * Nodes can be SIGKILLed and restarted; stderr/stdout are kept for failure messages.
 */
export class ProcessCluster {
  readonly nodes: NodeSpec[];
  readonly root: string;
  readonly secret = 'test-secret-0123456789abcdef';
  private readonly procs = new Map<string, ChildProcess>();
  readonly logs = new Map<string, string>();

  private constructor(
    nodes: NodeSpec[],
    root: string,
    private readonly extraArgs: readonly string[],
  ) {
    this.nodes = nodes;
    this.root = root;
  }

  /** When each node was last started (ms epoch). */
  private readonly startedAt = new Map<string, number>();

  /** The first `founders` nodes form the cluster; the others join later (initial-cluster-state existing). */
  founders = Number.POSITIVE_INFINITY;

  static async create(size: number, extraArgs: readonly string[] = []): Promise<ProcessCluster> {
    const root = mkdtempSync(join(tmpdir(), 'conclave-cluster-'));
    const ports = await freePorts(size);
    const nodes = ports.map((port, i) => ({
      name: `n${i + 1}`,
      port,
      url: `http://127.0.0.1:${port}`,
      dataDir: join(root, `n${i + 1}`),
    }));
    return new ProcessCluster(nodes, root, extraArgs);
  }

  /** The founders, plus `joiner` when it is not one of them. */
  initialCluster(joiner?: string): string {
    return this.nodes
      .filter((n, i) => i < this.founders || n.name === joiner)
      .map((n) => `${n.name}=${n.url}`)
      .join(',');
  }

  isFounder(name: string): boolean {
    return this.nodes.findIndex((n) => n.name === name) < this.founders;
  }

  node(name: string): NodeSpec {
    const spec = this.nodes.find((n) => n.name === name);
    if (spec === undefined) throw new Error(`no node ${name}`);
    return spec;
  }

  start(name: string, args: readonly string[] = []): ChildProcess {
    const spec = this.node(name);
    const child = spawn(
      process.execPath,
      [
        BIN,
        'server',
        '--name',
        name,
        '--cluster-name',
        'test',
        '--listen',
        `127.0.0.1:${spec.port}`,
        '--initial-cluster',
        this.initialCluster(name),
        ...(this.isFounder(name) ? [] : ['--initial-cluster-state', 'existing']),
        '--data-dir',
        spec.dataDir,
        '--heartbeat-interval',
        '50ms',
        '--election-timeout',
        '500ms',
        '--secret',
        this.secret,
        '--log-level',
        'info',
        // Member records are written once at start, not every few seconds in the middle of
        // tests that compare revisions; the registry's own test sets a short interval.
        ...(this.extraArgs.includes('--member-heartbeat-interval')
          ? []
          : ['--member-heartbeat-interval', '1h']),
        ...this.extraArgs,
        ...args,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.track(name, child);
    return child;
  }

  /** Starts a secondary named `name` on `port`, joining every founder. */
  startSecondary(name: string, port: number, args: readonly string[] = []): ChildProcess {
    const join = this.nodes.filter((n) => this.isFounder(n.name)).map((n) => n.url);
    const child = spawn(
      process.execPath,
      [
        BIN,
        'server',
        '--role',
        'secondary',
        '--name',
        name,
        '--cluster-name',
        'test',
        '--listen',
        `127.0.0.1:${port}`,
        ...(args.includes('--join') ? [] : ['--join', join.join(',')]),
        '--secret',
        this.secret,
        '--log-level',
        'info',
        ...(args.includes('--member-heartbeat-interval') ? [] : ['--member-heartbeat-interval', '1h']),
        ...args,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.track(name, child);
    return child;
  }

  private track(name: string, child: ChildProcess): void {
    this.startedAt.set(name, Date.now());
    this.logs.set(name, '');
    const append = (chunk: Buffer): void => {
      const log = (this.logs.get(name) ?? '') + chunk.toString();
      this.logs.set(name, log.length > 200_000 ? log.slice(-100_000) : log);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    this.procs.set(name, child);
  }

  startAll(): void {
    for (const n of this.nodes) if (this.isFounder(n.name)) this.start(n.name);
  }

  isRunning(name: string): boolean {
    const p = this.procs.get(name);
    return p?.exitCode === null && p.signalCode === null;
  }

  async kill(name: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.procs.get(name);
    if (p === undefined || !this.isRunning(name)) return;
    const exited = new Promise<void>((r) =>
      p.once('exit', () => {
        r();
      }),
    );
    p.kill(signal);
    await exited;
  }

  /** Waits for a node to exit by itself; returns its exit code. */
  async exitCode(name: string, timeoutMs = 10_000): Promise<number | null> {
    const p = this.procs.get(name);
    if (p === undefined) return null;
    if (!this.isRunning(name)) return p.exitCode;
    return new Promise((r) => {
      const timer = setTimeout(() => {
        r(null);
      }, timeoutMs);
      p.once('exit', (code) => {
        clearTimeout(timer);
        r(code);
      });
    });
  }

  /** The current leader as seen by a majority-agreeing view of running nodes. */
  async leader(timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      for (const n of this.nodes) {
        if (!this.isRunning(n.name)) continue;
        const res = await http(`${n.url}/api/leader-check`, { timeoutMs: 1_000 });
        if (res.status === 200) return n.name;
      }
      await sleep(50);
    }
    throw new Error(`no leader within ${timeoutMs} ms\n${this.dumpLogs()}`);
  }

  async waitReady(
    names: readonly string[] = this.nodes.filter((n) => this.isRunning(n.name)).map((n) => n.name),
    timeoutMs = 15_000,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const name of names) {
      for (;;) {
        const res = await http(`${this.node(name).url}/api/raft-health`, { timeoutMs: 1_000 });
        if (res.status === 200) break;
        if (Date.now() > deadline) throw new Error(`${name} not healthy in time\n${this.dumpLogs()}`);
        await sleep(50);
      }
    }
  }

  /**
   * Waits until every running primary's member record is written, so that no background
   * registry write lands in a test that compares revisions (with the tests' one-hour heartbeat
   * interval, a node writes its record once after it starts).
   */
  async waitRegistered(timeoutMs = 10_000): Promise<void> {
    const running = this.nodes.filter((n) => this.isRunning(n.name));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await http(`${running[0]!.url}/v1/kv?prefix=_conclave/members/`, {
        timeoutMs: 1_000,
      }).catch(() => undefined);
      const beats = new Map<string, number>();
      for (const kv of (res?.body as { kvs?: { key: string; value: string }[] } | undefined)?.kvs ?? []) {
        const record = JSON.parse(kv.value) as { lastHeartbeat: string };
        beats.set(kv.key.slice('_conclave/members/'.length), Date.parse(record.lastHeartbeat));
      }
      // A record left by a killed incarnation does not count: its successor will rewrite it.
      if (running.every((n) => (beats.get(n.name) ?? 0) >= (this.startedAt.get(n.name) ?? 0))) return;
      if (Date.now() > deadline)
        throw new Error(`member records not all rewritten: ${[...beats.keys()].join(',')}`);
      await sleep(50);
    }
  }

  /** Waits until the node's output contains `text` (its log reaches us through a pipe, later). */
  async waitForLog(name: string, text: string, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(this.logs.get(name) ?? '').includes(text)) {
      if (Date.now() > deadline) throw new Error(`${name} never logged "${text}"\n${this.dumpLogs()}`);
      await sleep(20);
    }
  }

  dumpLogs(): string {
    return [...this.logs].map(([n, log]) => `--- ${n}\n${log.slice(-3_000)}`).join('\n');
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.procs.keys()].map((name) => this.kill(name, 'SIGKILL')));
  }

  async destroy(): Promise<void> {
    await this.stopAll();
    rmSync(this.root, { recursive: true, force: true });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
