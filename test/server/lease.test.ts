// Leases over real `conclave server` processes: expiry deletes the attached keys through the log,
// keep-alives (on any node) prevent it, revoke is immediate, a new leader renews every lease.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, ProcessCluster, sleep } from './process-cluster.js';
import { openSse } from './sse-client.js';

interface Answer {
  status: number;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

const code = (res: Answer): string => (res.body as { error: { code: string } }).error.code;

async function grant(url: string, ttl: number): Promise<number> {
  const res = await http(`${url}/v1/leases`, { method: 'POST', json: { ttl } });
  if (res.status !== 200) throw new Error(`grant: ${res.status} ${res.text}`);
  return (res.body as { id: number }).id;
}

async function putLeased(url: string, key: string, lease: number): Promise<void> {
  const res = await http(`${url}/v1/kv/${key}`, { method: 'PUT', json: { value: 'v', leaseId: lease } });
  if (res.status !== 200) throw new Error(`put: ${res.status} ${res.text}`);
}

async function exists(url: string, key: string): Promise<boolean> {
  const res = await http(`${url}/v1/kv/${key}`);
  if (res.status !== 200 && res.status !== 404) throw new Error(`get: ${res.status} ${res.text}`);
  return res.status === 200;
}

async function waitGone(url: string, key: string, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (await exists(url, key)) {
    if (Date.now() - start > timeoutMs) throw new Error(`${key} still there after ${timeoutMs} ms`);
    await sleep(50);
  }
  return Date.now() - start;
}

describe('leases (real processes)', () => {
  let cluster: ProcessCluster;

  beforeAll(async () => {
    cluster = await ProcessCluster.create(3);
    cluster.startAll();
    await cluster.waitReady();
  });

  afterAll(async () => {
    await cluster.destroy();
  });

  it('keep-alives on any node keep the keys; without them the keys go at expiry', async () => {
    const leader = await cluster.leader();
    const follower = cluster.nodes.find((n) => n.name !== leader)!;
    const id = await grant(follower.url, 1);
    await putLeased(follower.url, 'session/a', id);
    await putLeased(cluster.node(leader).url, 'session/b', id);
    const watch = await openSse(`${follower.url}/v1/watch?prefix=session/`);

    const start = Date.now();
    while (Date.now() - start < 2_500) {
      const res = await http(`${follower.url}/v1/leases/${id}/keepalive`, { method: 'POST' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id, ttl: 1 });
      await sleep(250);
    }
    expect(await exists(follower.url, 'session/a')).toBe(true);
    const info = await http(`${follower.url}/v1/leases/${id}`);
    expect(info.body).toMatchObject({ id, ttl: 1, keys: 2 });

    const tookMs = await waitGone(follower.url, 'session/a', 5_000);
    expect(tookMs).toBeGreaterThan(500);
    expect(await exists(cluster.node(leader).url, 'session/b')).toBe(false);
    await watch.waitFor('both deletes', (events) => events.filter((e) => e.event === 'delete').length === 2);
    watch.close();
    const deletes = watch.events.filter((e) => e.event === 'delete').map((e) => e.id!.split(':')[0]);
    expect(new Set(deletes).size).toBe(1); // one revision for the whole lease
    const gone = await http(`${follower.url}/v1/leases/${id}/keepalive`, { method: 'POST' });
    expect([gone.status, code(gone)]).toEqual([404, 'LEASE_NOT_FOUND']);
    await cluster.waitForLog(leader, 'lease expired');
  });

  it('revoke deletes the keys at once', async () => {
    const url = cluster.nodes[0]!.url;
    const id = await grant(url, 60);
    await putLeased(url, 'rev/a', id);
    const res = await http(`${url}/v1/leases/${id}`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ type: 'leaseRevoke', id, deleted: 1 });
    expect(await exists(url, 'rev/a')).toBe(false);
    const list = await http(`${url}/v1/leases`);
    expect((list.body as { leases: { id: number }[] }).leases.map((l) => l.id)).not.toContain(id);
  });

  it('answers bad input with documented errors, changing nothing', async () => {
    const url = cluster.nodes[1]!.url;
    const cases: ['GET' | 'PUT' | 'POST' | 'DELETE', string, unknown, number, string][] = [
      ['POST', '/v1/leases', { ttl: 0 }, 400, 'VALIDATION_FAILED'],
      ['POST', '/v1/leases', { ttl: 'long' }, 400, 'VALIDATION_FAILED'],
      ['POST', '/v1/leases', { ttl: 5, colour: 'red' }, 400, 'VALIDATION_FAILED'],
      ['POST', '/v1/leases', { ttl: 10 ** 9 }, 400, 'INVALID_ARGUMENT'],
      ['POST', '/v1/leases/987654/keepalive', undefined, 404, 'LEASE_NOT_FOUND'],
      ['GET', '/v1/leases/987654', undefined, 404, 'LEASE_NOT_FOUND'],
      ['DELETE', '/v1/leases/987654', undefined, 404, 'LEASE_NOT_FOUND'],
      ['DELETE', '/v1/leases/abc', undefined, 400, 'VALIDATION_FAILED'],
      ['PUT', '/v1/kv/bad-lease', { value: 'x', leaseId: 987654 }, 404, 'LEASE_NOT_FOUND'],
    ];
    await cluster.waitRegistered();
    const before = await http(`${url}/v1/kv?prefix=`);
    for (const [method, path, json, status, expected] of cases) {
      const res = await http(`${url}${path}`, { method, ...(json === undefined ? {} : { json }) });
      expect([method, path, res.status, code(res)]).toEqual([method, path, status, expected]);
    }
    const after = await http(`${url}/v1/kv?prefix=`);
    expect((after.body as { revision: number }).revision).toBe(
      (before.body as { revision: number }).revision,
    );
    const id = await grant(url, 60);
    const dup = await http(`${url}/v1/leases`, { method: 'POST', json: { ttl: 5, id } });
    expect([dup.status, code(dup)]).toEqual([409, 'LEASE_EXISTS']);
  });

  it('a new leader gives every lease its full TTL again', async () => {
    const leader = await cluster.leader();
    const other = cluster.nodes.find((n) => n.name !== leader)!;
    const id = await grant(other.url, 3);
    await putLeased(other.url, 'renew/a', id);
    const granted = Date.now();
    await sleep(2_000);
    await cluster.kill(leader, 'SIGKILL');
    const next = await cluster.leader(10_000);
    // The old leader's deadline (grant + 3 s) has passed; the new leader's is election + 3 s.
    while (Date.now() - granted < 3_600) await sleep(50);
    expect(await exists(cluster.node(next).url, 'renew/a')).toBe(true);
    await waitGone(cluster.node(next).url, 'renew/a', 10_000);
    cluster.start(leader);
    await cluster.waitReady();
  });
});
