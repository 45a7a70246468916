// Secondaries over real processes: 3 primaries and 5 secondaries; writes seen everywhere; every
// primary killed (secondaries keep serving, degraded); primaries back (resume without a new
// bootstrap); compaction past a secondary's revision (it bootstraps again); a state file served
// while the primaries are down; a snapshot with a wrong digest refused and retried.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts, http, ProcessCluster, sleep } from './process-cluster.js';

const code = (res: { body: unknown }): string => (res.body as { error: { code: string } }).error.code;

describe('secondaries (real processes)', () => {
  let cluster: ProcessCluster;
  const secondaries: { name: string; url: string; port: number }[] = [];

  async function waitFor(what: string, ok: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await ok().catch(() => false)) return;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${cluster.dumpLogs()}`);
      await sleep(50);
    }
  }

  async function valueOn(url: string, key: string): Promise<string | undefined> {
    const res = await http(`${url}/v1/kv/${key}`, { timeoutMs: 2_000 });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new Error(`${res.status} ${res.text}`);
    return (res.body as { kv: { value: string } }).kv.value;
  }

  async function status(
    url: string,
  ): Promise<{ bootstraps: number; revision: number; health: { status: string } }> {
    const res = await http(`${url}/status`, { timeoutMs: 2_000 });
    return res.body as { bootstraps: number; revision: number; health: { status: string } };
  }

  beforeAll(async () => {
    cluster = await ProcessCluster.create(3);
    cluster.startAll();
    await cluster.waitReady();
    const ports = await freePorts(5);
    for (const [i, port] of ports.entries()) {
      const name = `s${i + 1}`;
      secondaries.push({ name, url: `http://127.0.0.1:${port}`, port });
      cluster.startSecondary(name, port, i === 0 ? ['--state-file', join(cluster.root, 's1.state')] : []);
    }
    for (const s of secondaries)
      await waitFor(`${s.name} synced`, async () => (await status(s.url)).health.status === 'ready');
  });

  afterAll(async () => {
    await cluster.destroy();
  });

  it('a write on any node is visible on every secondary, which also forwards writes', async () => {
    const put = await http(`${cluster.nodes[1]!.url}/v1/kv/app/greeting`, {
      method: 'PUT',
      json: { value: 'hello' },
    });
    expect(put.status).toBe(200);
    const viaSecondary = await http(`${secondaries[2]!.url}/v1/kv/app/other`, {
      method: 'PUT',
      json: { value: 'from-s3' },
    });
    expect(viaSecondary.status).toBe(200);
    for (const s of secondaries) {
      await waitFor(
        `${s.name} sees both`,
        async () =>
          (await valueOn(s.url, 'app/greeting')) === 'hello' &&
          (await valueOn(s.url, 'app/other')) === 'from-s3',
      );
      const res = await http(`${s.url}/v1/kv?prefix=app/`);
      expect(Number(res.headers['x-conclave-revision'])).toBeGreaterThanOrEqual(
        Number(viaSecondary.headers['x-conclave-revision']),
      );
    }
  });

  it('with every primary down, secondaries serve the last state and report degraded; then resume without a new bootstrap', async () => {
    await http(`${cluster.nodes[0]!.url}/v1/kv/app/last`, {
      method: 'PUT',
      json: { value: 'before-outage' },
    });
    for (const s of secondaries)
      await waitFor(`${s.name} has it`, async () => (await valueOn(s.url, 'app/last')) === 'before-outage');
    const before = await Promise.all(secondaries.map((s) => status(s.url)));
    for (const n of cluster.nodes) await cluster.kill(n.name, 'SIGKILL');
    for (const s of secondaries) {
      await waitFor(`${s.name} degraded`, async () => {
        const h = await http(`${s.url}/health`);
        return h.status === 200 && (h.body as { status: string }).status === 'degraded';
      });
      expect(await valueOn(s.url, 'app/last')).toBe('before-outage');
    }
    const write = await http(`${secondaries[0]!.url}/v1/kv/app/x`, {
      method: 'PUT',
      json: { value: 'y' },
      timeoutMs: 20_000,
    });
    expect([write.status, code(write)]).toEqual([502, 'FORWARD_FAILED']);

    // A secondary restarted with its state file while the primaries are down serves at once.
    const s1 = secondaries[0]!;
    await cluster.kill(s1.name, 'SIGTERM');
    cluster.startSecondary(s1.name, s1.port, ['--state-file', join(cluster.root, 's1.state')]);
    await waitFor('s1 back', async () => (await http(`${s1.url}/api/ping`)).status === 200);
    await cluster.waitForLog(s1.name, 'serving the replica saved in the state file');
    expect(await valueOn(s1.url, 'app/last')).toBe('before-outage');

    cluster.startAll();
    await cluster.waitReady(cluster.nodes.map((n) => n.name));
    await http(`${cluster.nodes[2]!.url}/v1/kv/app/after`, {
      method: 'PUT',
      json: { value: 'after-outage' },
    });
    for (const [i, s] of secondaries.entries()) {
      await waitFor(
        `${s.name} resumed`,
        async () => (await valueOn(s.url, 'app/after')) === 'after-outage',
        20_000,
      );
      if (i > 0) expect((await status(s.url)).bootstraps).toBe(before[i]!.bootstraps);
    }
    expect((await status(s1.url)).bootstraps).toBe(0); // it resumed from its file
  });

  it('bootstraps again when the primaries compacted past its revision', async () => {
    const s = secondaries[4]!;
    const child = (cluster as unknown as { procs: Map<string, { kill(sig: string): void }> }).procs.get(
      s.name,
    )!;
    const bootstraps = (await status(s.url)).bootstraps;
    // Cut it off: stopped, its stream dies with the primaries; meanwhile writes and a compaction.
    child.kill('SIGSTOP');
    for (const n of cluster.nodes) await cluster.kill(n.name, 'SIGKILL');
    cluster.startAll();
    await cluster.waitReady(cluster.nodes.map((n) => n.name));
    const url = cluster.nodes[0]!.url;
    let revision = 0;
    for (let i = 0; i < 5; i++) {
      const res = await http(`${url}/v1/kv/compact/k${i}`, { method: 'PUT', json: { value: String(i) } });
      revision = Number(res.headers['x-conclave-revision']);
    }
    const compact = await http(`${url}/v1/compact`, { method: 'POST', json: { revision } });
    expect(compact.status).toBe(200);
    child.kill('SIGCONT');
    await waitFor('a new bootstrap', async () => (await status(s.url)).bootstraps > bootstraps, 20_000);
    expect(await valueOn(s.url, 'compact/k4')).toBe('4');
    await cluster.waitForLog(s.name, 'our revision was compacted on the primaries');
  });

  it('refuses a snapshot whose digest does not match, and keeps retrying', async () => {
    const bogus = createServer((req, res) => {
      if (req.url?.startsWith('/v1/snapshot') === true) {
        res.writeHead(200, {
          'x-conclave-revision': '5',
          'x-conclave-key-count': '1',
          'x-conclave-snapshot-bytes': '4',
          'x-conclave-snapshot-sha256': '0'.repeat(64),
        });
        res.end('CKVS');
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => bogus.listen(0, '127.0.0.1', r));
    const bogusUrl = `http://127.0.0.1:${(bogus.address() as AddressInfo).port}`;
    const [port] = await freePorts(1);
    const url = `http://127.0.0.1:${port!}`;
    cluster.startSecondary('s-bogus', port!, ['--join', bogusUrl, '--join-retries', '1']);
    try {
      await cluster.waitForLog('s-bogus', 'rejected a snapshot', 10_000);
      await waitFor('s-bogus answering', async () => (await http(`${url}/api/ping`)).status === 200);
      const read = await http(`${url}/v1/kv/app/greeting`);
      expect([read.status, code(read)]).toEqual([503, 'NOT_SYNCED']);
      expect((await http(`${url}/health`)).status).toBe(503);
      await sleep(1_000);
      expect((cluster.logs.get('s-bogus') ?? '').split('rejected a snapshot').length).toBeGreaterThan(2);
    } finally {
      await cluster.kill('s-bogus', 'SIGKILL');
      bogus.close();
    }
  });
});
