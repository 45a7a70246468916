// A three-node cluster of real server processes on loopback, as the benchmarks drive it: the same
// interface for Conclave and etcd, so the load and failover code is shared and neither system gets
// a different client.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePorts, makeTempDir } from './bench-procs.js';
import { answers200, ProcessGroup } from './bench-process-group.js';

/** One write, ready to send: everything but the origin. */
export interface WriteRequest {
  readonly method: 'PUT' | 'POST';
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface BenchNode {
  readonly name: string;
  /** Where clients send requests, e.g. http://127.0.0.1:41234 */
  readonly clientUrl: string;
}

export interface BenchCluster {
  readonly system: string;
  readonly nodes: readonly BenchNode[];
  startAll(): void;
  start(name: string): void;
  /** SIGKILL; resolves once the process has exited. */
  kill(name: string): Promise<void>;
  isRunning(name: string): boolean;
  /** The node's process id while it runs (for CPU accounting). */
  pid(name: string): number | undefined;
  /** The name of the node that currently says it is the leader. */
  leader(timeoutMs: number): Promise<string>;
  /** Resolves once the node reports itself healthy (in touch with a leader). */
  waitHealthy(name: string, timeoutMs: number): Promise<void>;
  /**
   * A put of `value` under `key`. `requestId`, if given, makes retries of this write
   * exactly-once where the system supports it (Conclave's x-request-id; etcd has no equivalent).
   */
  write(key: string, value: string, requestId?: string): WriteRequest;
  /** Whether a response to write() means the write was acknowledged. */
  acknowledged(status: number): boolean;
  logs(): string;
  destroy(): Promise<void>;
}

export function node(cluster: BenchCluster, name: string): BenchNode {
  const found = cluster.nodes.find((n) => n.name === name);
  if (found === undefined) throw new Error(`${cluster.system}: no node ${name}`);
  return found;
}

const CONCLAVE_BIN = resolve(import.meta.dirname, '../../bin/conclave');

export interface ConclaveOptions {
  /** Extra server flags (the bench passes none by default: product defaults). */
  readonly extraArgs?: readonly string[];
}

/** `conclave server` primaries (Raft + SQLite), each with its own data dir. */
export class ConclaveCluster
  extends ProcessGroup<BenchNode & { readonly port: number; readonly dataDir: string }>
  implements BenchCluster
{
  readonly system = 'conclave';
  readonly secret = 'bench-secret-0123456789abcdef';

  private constructor(
    nodes: readonly (BenchNode & { readonly port: number; readonly dataDir: string })[],
    root: string,
    private readonly extraArgs: readonly string[],
  ) {
    super(nodes, root);
  }

  static async create(size: number, options: ConclaveOptions = {}): Promise<ConclaveCluster> {
    if (!existsSync(resolve(import.meta.dirname, '../cli/main.js'))) {
      throw new Error('dist/cli/main.js is missing: run `npm run build` first');
    }
    const root = makeTempDir('conclave-bench-');
    const ports = await freePorts(size);
    const nodes = ports.map((port, i) => ({
      name: `n${i + 1}`,
      port,
      clientUrl: `http://127.0.0.1:${port}`,
      dataDir: join(root, `n${i + 1}`),
    }));
    return new ConclaveCluster(nodes, root, options.extraArgs ?? []);
  }

  start(name: string): void {
    const spec = this.spec(name);
    const initialCluster = this.nodes.map((n) => `${n.name}=${n.clientUrl}`).join(',');
    this.launch(name, process.execPath, [
      CONCLAVE_BIN,
      'server',
      '--name',
      name,
      '--cluster-name',
      'bench',
      '--listen',
      `127.0.0.1:${spec.port}`,
      '--initial-cluster',
      initialCluster,
      '--data-dir',
      spec.dataDir,
      '--secret',
      this.secret,
      ...this.extraArgs,
    ]);
  }

  protected isLeader(n: BenchNode): Promise<boolean> {
    return answers200(`${n.clientUrl}/api/leader-check`);
  }

  protected isHealthy(n: BenchNode): Promise<boolean> {
    return answers200(`${n.clientUrl}/api/raft-health`);
  }

  write(key: string, value: string, requestId?: string): WriteRequest {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (requestId !== undefined) headers['x-request-id'] = requestId;
    return { method: 'PUT', path: `/v1/kv/${key}`, headers, body: JSON.stringify({ value }) };
  }
}
