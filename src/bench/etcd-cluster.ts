// A three-member etcd cluster on loopback, driven through etcd's v3 gRPC-gateway JSON API (etcd
// 3.4 serves it under /v3/). Each member has its own data dir; fsync stays on (the default).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BenchCluster, BenchNode, WriteRequest } from './bench-cluster.js';
import { freePorts, httpCall, makeTempDir, pollUntil, removeTempDir, TrackedProcess } from './bench-procs.js';

const INSTALL_SCRIPT = resolve(import.meta.dirname, '../../scripts/install-etcd.sh');

/** The etcd binary on PATH, installing it with scripts/install-etcd.sh when missing. */
export function ensureEtcd(): { binary: string; version: string } {
  const probe = (): string | undefined => {
    const res = spawnSync('etcd', ['--version'], { encoding: 'utf8', timeout: 10_000 });
    if (res.status !== 0) return undefined;
    return /etcd Version:\s*(\S+)/.exec(res.stdout)?.[1] ?? res.stdout.trim();
  };
  let version = probe();
  if (version === undefined) {
    if (!existsSync(INSTALL_SCRIPT)) throw new Error(`etcd is not on PATH and ${INSTALL_SCRIPT} is missing`);
    process.stderr.write('etcd is not on PATH: running scripts/install-etcd.sh\n');
    const res = spawnSync('bash', [INSTALL_SCRIPT], { stdio: 'inherit', timeout: 600_000 });
    if (res.status !== 0) throw new Error(`scripts/install-etcd.sh failed (exit ${res.status ?? 'signal'})`);
    version = probe();
    if (version === undefined) throw new Error('etcd is still not on PATH after scripts/install-etcd.sh');
  }
  return { binary: 'etcd', version };
}

interface EtcdMember extends BenchNode {
  readonly peerUrl: string;
  readonly dataDir: string;
}

export class EtcdCluster implements BenchCluster {
  readonly system = 'etcd';
  private readonly procs = new Map<string, TrackedProcess>();
  private readonly token = `bench-${randomBytes(6).toString('hex')}`;

  private constructor(
    readonly nodes: readonly EtcdMember[],
    private readonly root: string,
    private readonly binary: string,
  ) {}

  static async create(size: number, binary: string): Promise<EtcdCluster> {
    const root = makeTempDir('etcd-bench-');
    const ports = await freePorts(size * 2);
    const nodes = Array.from({ length: size }, (_, i) => ({
      name: `e${i + 1}`,
      clientUrl: `http://127.0.0.1:${ports[2 * i]!}`,
      peerUrl: `http://127.0.0.1:${ports[2 * i + 1]!}`,
      dataDir: join(root, `e${i + 1}`),
    }));
    return new EtcdCluster(nodes, root, binary);
  }

  private spec(name: string): EtcdMember {
    const spec = this.nodes.find((n) => n.name === name);
    if (spec === undefined) throw new Error(`etcd: no member ${name}`);
    return spec;
  }

  startAll(): void {
    for (const n of this.nodes) this.start(n.name);
  }

  /** Starts (or restarts: etcd ignores the initial-cluster flags once its data dir exists). */
  start(name: string): void {
    const spec = this.spec(name);
    const args = [
      '--name',
      name,
      '--data-dir',
      spec.dataDir,
      '--listen-client-urls',
      spec.clientUrl,
      '--advertise-client-urls',
      spec.clientUrl,
      '--listen-peer-urls',
      spec.peerUrl,
      '--initial-advertise-peer-urls',
      spec.peerUrl,
      '--initial-cluster',
      this.nodes.map((n) => `${n.name}=${n.peerUrl}`).join(','),
      '--initial-cluster-token',
      this.token,
      '--initial-cluster-state',
      'new',
      '--logger',
      'zap',
      '--log-outputs',
      'stderr',
    ];
    this.procs.set(name, new TrackedProcess(`etcd ${name}`, this.binary, args));
  }

  async kill(name: string): Promise<void> {
    await this.procs.get(name)?.kill('SIGKILL');
  }

  isRunning(name: string): boolean {
    return this.procs.get(name)?.running ?? false;
  }

  /** The member whose own id equals the leader id it reports (POST /v3/maintenance/status). */
  async leader(timeoutMs: number): Promise<string> {
    return pollUntil(`an etcd leader\n${this.logs()}`, timeoutMs, async () => {
      for (const n of this.nodes) {
        if (!this.isRunning(n.name)) continue;
        const res = await httpCall(`${n.clientUrl}/v3/maintenance/status`, {
          method: 'POST',
          body: '{}',
          headers: { 'content-type': 'application/json' },
          timeoutMs: 1_000,
        });
        if (res.status !== 200) continue;
        let status: { header?: { member_id?: string }; leader?: string };
        try {
          status = JSON.parse(res.text) as typeof status;
        } catch {
          continue;
        }
        const self = status.header?.member_id;
        if (self !== undefined && self === status.leader) return n.name;
      }
      return undefined;
    });
  }

  async waitHealthy(name: string, timeoutMs: number): Promise<void> {
    const url = `${this.spec(name).clientUrl}/health`;
    await pollUntil(`etcd ${name} healthy\n${this.logs()}`, timeoutMs, async () => {
      const res = await httpCall(url, { timeoutMs: 1_000 });
      return res.status === 200 && res.text.includes('"true"') ? true : undefined;
    });
  }

  write(key: string, value: string): WriteRequest {
    return {
      method: 'POST',
      path: '/v3/kv/put',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        key: Buffer.from(key).toString('base64'),
        value: Buffer.from(value).toString('base64'),
      }),
    };
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
}
