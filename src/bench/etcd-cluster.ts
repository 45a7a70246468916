// A three-member etcd cluster on loopback, driven through etcd's v3 gRPC-gateway JSON API (etcd
// 3.4 serves it under /v3/). Each member has its own data dir; fsync stays on (the default).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BenchCluster, BenchNode, WriteRequest } from './bench-cluster.js';
import { freePorts, httpCall, makeTempDir } from './bench-procs.js';
import { answers200, ProcessGroup } from './bench-process-group.js';

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

export class EtcdCluster extends ProcessGroup<EtcdMember> implements BenchCluster {
  readonly system = 'etcd';
  private readonly token = `bench-${randomBytes(6).toString('hex')}`;

  private constructor(
    nodes: readonly EtcdMember[],
    root: string,
    private readonly binary: string,
  ) {
    super(nodes, root);
  }

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

  /** Starts (or restarts: etcd ignores the initial-cluster flags once its data dir exists). */
  start(name: string): void {
    const spec = this.spec(name);
    this.launch(name, this.binary, [
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
    ]);
  }

  /** The member whose own id equals the leader id it reports (POST /v3/maintenance/status). */
  protected async isLeader(n: EtcdMember): Promise<boolean> {
    const res = await httpCall(`${n.clientUrl}/v3/maintenance/status`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
      timeoutMs: 1_000,
    });
    if (res.status !== 200) return false;
    let status: { header?: { member_id?: string }; leader?: string };
    try {
      status = JSON.parse(res.text) as typeof status;
    } catch {
      return false;
    }
    const self = status.header?.member_id;
    return self !== undefined && self === status.leader;
  }

  protected isHealthy(n: EtcdMember): Promise<boolean> {
    return answers200(`${n.clientUrl}/health`, '"true"');
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
}
