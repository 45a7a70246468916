// What every benchmarked cluster has in common: one tracked process per node under a temp dir,
// kill/restart bookkeeping, logs, teardown, and polling for the leader and for health. The
// systems differ only in how a node is started and how it answers those two questions.
import type { BenchNode } from './bench-cluster.js';
import { httpCall, pollUntil, removeTempDir, TrackedProcess } from './bench-procs.js';

export abstract class ProcessGroup<N extends BenchNode> {
  abstract readonly system: string;
  protected readonly procs = new Map<string, TrackedProcess>();

  protected constructor(
    readonly nodes: readonly N[],
    private readonly root: string,
  ) {}

  /** Starts (or restarts) one node. */
  abstract start(name: string): void;

  /** Whether `node` (running) says it is the leader. */
  protected abstract isLeader(node: N): Promise<boolean>;

  /** Whether `node` says it is healthy (in touch with a leader). */
  protected abstract isHealthy(node: N): Promise<boolean>;

  startAll(): void {
    for (const n of this.nodes) this.start(n.name);
  }

  async kill(name: string): Promise<void> {
    await this.procs.get(name)?.kill('SIGKILL');
  }

  isRunning(name: string): boolean {
    return this.procs.get(name)?.running ?? false;
  }

  pid(name: string): number | undefined {
    const proc = this.procs.get(name);
    return proc?.running === true ? proc.child.pid : undefined;
  }

  async leader(timeoutMs: number): Promise<string> {
    return pollUntil(`a ${this.system} leader\n${this.logs()}`, timeoutMs, async () => {
      for (const n of this.nodes) {
        if (this.isRunning(n.name) && (await this.isLeader(n))) return n.name;
      }
      return undefined;
    });
  }

  async waitHealthy(name: string, timeoutMs: number): Promise<void> {
    const spec = this.spec(name);
    await pollUntil(`${this.system} ${name} healthy\n${this.logs()}`, timeoutMs, async () =>
      (await this.isHealthy(spec)) ? true : undefined,
    );
  }

  acknowledged(status: number): boolean {
    return status === 200;
  }

  logs(): string {
    return [...this.procs.values()].map((p) => p.tail()).join('\n');
  }

  async destroy(): Promise<void> {
    await Promise.all([...this.procs.values()].map((p) => p.kill('SIGKILL')));
    removeTempDir(this.root);
  }

  protected spec(name: string): N {
    const spec = this.nodes.find((n) => n.name === name);
    if (spec === undefined) throw new Error(`${this.system}: no node ${name}`);
    return spec;
  }

  protected launch(name: string, command: string, args: readonly string[]): void {
    this.procs.set(name, new TrackedProcess(`${this.system} ${name}`, command, [...args]));
  }
}

/** GET `url`; true on 200 (with `bodyIncludes` in the body, if given). */
export async function answers200(url: string, bodyIncludes?: string): Promise<boolean> {
  const res = await httpCall(url, { timeoutMs: 1_000 });
  return res.status === 200 && (bodyIncludes === undefined || res.text.includes(bodyIncludes));
}
