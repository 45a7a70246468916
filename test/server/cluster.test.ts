import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newNonce } from '../../src/transport/peer-auth.js';
import { handshake, helloHeaders } from '../transport/handshake.js';
import { http, ProcessCluster, sleep } from './process-cluster.js';

interface RangeBody {
  kvs: { key: string; value: string; version: number }[];
  count: number;
  revision: number;
}

async function put(url: string, key: string, value: string, requestId?: string): Promise<number> {
  const headers: Record<string, string> = requestId === undefined ? {} : { 'x-request-id': requestId };
  const res = await http(`${url}/v1/kv/${key}`, {
    method: 'PUT',
    json: { value },
    headers,
    timeoutMs: 3_000,
  });
  return res.status;
}

async function range(url: string, prefix: string, consistency = 'linearizable'): Promise<RangeBody> {
  const res = await http(`${url}/v1/kv?prefix=${encodeURIComponent(prefix)}&consistency=${consistency}`);
  if (res.status !== 200) throw new Error(`range on ${url}: ${res.status} ${res.text}`);
  return res.body as RangeBody;
}

/**
 * A client that writes unique keys, retrying each write with the same x-request-id (rotating
 * over the nodes) until it is acknowledged, as a real client does through a failover.
 */
async function writer(
  cluster: ProcessCluster,
  client: number,
  until: () => boolean,
  acked: Set<string>,
): Promise<void> {
  for (let seq = 0; !until(); seq++) {
    const key = `w/${client}/${seq}`;
    for (let attempt = 0; ; attempt++) {
      const node = cluster.nodes[(client + attempt) % cluster.nodes.length]!;
      if (!cluster.isRunning(node.name)) continue;
      const status = await put(node.url, key, `v${seq}`, `c${client}-${seq}`);
      if (status === 200) {
        acked.add(key);
        break;
      }
      if (attempt > 400) throw new Error(`write ${key} never acknowledged (last ${status})`);
      await sleep(20);
    }
  }
}

describe('server - three primaries (real processes, SQLite)', () => {
  let cluster: ProcessCluster;

  beforeAll(async () => {
    cluster = await ProcessCluster.create(3, [
      '--snapshot-threshold',
      '200',
      '--snapshot-trailing-entries',
      '20',
    ]);
    cluster.startAll();
    await cluster.waitReady();
  });

  afterAll(async () => {
    await cluster.destroy();
  });

  it('accepts writes on any node and serves linearizable reads everywhere', async () => {
    const [n1, n2, n3] = cluster.nodes;
    expect(await put(n2!.url, 'greeting', 'hello')).toBe(200);
    expect(await put(n3!.url, 'app/config/a', '1')).toBe(200);
    for (const n of cluster.nodes) {
      const res = await http(`${n.url}/v1/kv/greeting`);
      expect(res.status).toBe(200);
      expect((res.body as { kv: { value: string } }).kv.value).toBe('hello');
    }
    const r = await range(n1!.url, 'app/');
    expect(r.kvs.map((kv) => kv.key)).toEqual(['app/config/a']);
    const missing = await http(`${n1!.url}/v1/kv/nope`);
    expect(missing.status).toBe(404);
    expect((missing.body as { error: { code: string } }).error.code).toBe('KEY_NOT_FOUND');
  });

  it('answers the load-balancer checks exactly as orchestrator does', async () => {
    const leader = await cluster.leader();
    for (const n of cluster.nodes) {
      const check = await http(`${n.url}/api/leader-check`);
      const custom = await http(`${n.url}/api/leader-check/503`);
      const health = await http(`${n.url}/api/raft-health`);
      if (n.name === leader) {
        expect(check.status).toBe(200);
        expect(check.text).toBe('OK');
        expect(custom.status).toBe(200);
      } else {
        expect(check.status).toBe(404);
        expect(custom.status).toBe(503);
      }
      expect(health.status).toBe(200);
      expect((await http(`${n.url}/api/leader-check/99`)).status).toBe(400);
      expect((await http(`${n.url}/api/leader-check/abc`)).status).toBe(400);
    }
    const status = await http(`${cluster.node(leader).url}/status`);
    expect(status.body).toMatchObject({ name: leader, cluster: 'test', raft: { state: 'leader', leader } });
    const metrics = await http(`${cluster.node(leader).url}/metrics`);
    expect(metrics.text).toContain('conclave_raft_term');
    expect(metrics.text).toContain('conclave_storage_fsync_seconds_bucket');
  });

  it('loses no acknowledged write and applies none twice across a leader SIGKILL', async () => {
    const acked = new Set<string>();
    let stop = false;
    const clients = [0, 1, 2, 3].map((c) => writer(cluster, c, () => stop, acked));
    await sleep(800);
    const leader = await cluster.leader();
    await cluster.kill(leader, 'SIGKILL');
    const newLeader = await cluster.leader();
    expect(newLeader).not.toBe(leader);
    // The survivors learned from their transport that the leader's process was gone (its port
    // refused them) and campaigned without waiting out an election timeout. (One may hear of
    // the new leader first; at least one must have acted on the hint.)
    const hinted = 'the leader is gone (its address refuses connections)';
    const survivors = cluster.nodes.filter((x) => x.name !== leader).map((x) => x.name);
    const hintBy = Date.now() + 5_000;
    while (!survivors.some((name) => (cluster.logs.get(name) ?? '').includes(hinted))) {
      if (Date.now() > hintBy) throw new Error(`no survivor logged "${hinted}"\n${cluster.dumpLogs()}`);
      await sleep(20);
    }
    await sleep(800);
    stop = true;
    await Promise.all(clients);
    expect(acked.size).toBeGreaterThan(20);

    const survivor = cluster.nodes.find((n) => n.name !== leader)!;
    const all = await range(survivor.url, 'w/');
    const stored = new Map(all.kvs.map((kv) => [kv.key, kv]));
    for (const key of acked) expect(stored.has(key), `acknowledged ${key} is missing`).toBe(true);
    // Every key was written once (retries carry the same request id): version 1 everywhere.
    for (const kv of all.kvs) expect(kv.version, `${kv.key} applied twice`).toBe(1);

    // The killed node comes back and catches up.
    cluster.start(leader);
    await cluster.waitReady([leader]);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const r = await range(cluster.node(leader).url, 'w/', 'serializable');
      if (r.count === all.count) break;
      if (Date.now() > deadline) throw new Error(`restarted ${leader} has ${r.count} of ${all.count} keys`);
      await sleep(100);
    }
  });

  it('catches up a node kept down past the snapshot threshold by snapshot', async () => {
    const leader = await cluster.leader();
    const follower = cluster.nodes.find((n) => n.name !== leader)!.name;
    await cluster.kill(follower, 'SIGKILL');
    const leaderUrl = cluster.node(leader).url;
    for (let i = 0; i < 300; i++) expect(await put(leaderUrl, `snap/${i}`, 'x'.repeat(64))).toBe(200);
    cluster.start(follower);
    await cluster.waitReady([follower]);
    const deadline = Date.now() + 15_000;
    for (;;) {
      const r = await range(cluster.node(follower).url, 'snap/', 'serializable');
      if (r.count === 300) break;
      if (Date.now() > deadline)
        throw new Error(`${follower} has ${r.count} of 300 keys\n${cluster.dumpLogs()}`);
      await sleep(100);
    }
    await cluster.waitForLog(follower, 'installed snapshot');
    // Produced by a worker thread, not on the leader's event loop.
    await cluster.waitForLog(leader, 'produced a snapshot for a follower behind the log');
  });

  it('keeps its state when all three restart', async () => {
    const before = await range(cluster.nodes[0]!.url, '');
    await cluster.stopAll();
    cluster.startAll();
    await cluster.waitReady();
    await cluster.leader();
    const after = await range(cluster.nodes[1]!.url, '');
    // The nodes' own member records (_conclave/) are rewritten when they start again.
    const userKeys = (r: RangeBody): RangeBody['kvs'] =>
      r.kvs.filter((kv) => !kv.key.startsWith('_conclave/'));
    expect(userKeys(after).length).toBeGreaterThan(0);
    expect(userKeys(after)).toEqual(userKeys(before));
  });

  it('hands leadership over on SIGTERM before exiting cleanly', async () => {
    const leader = await cluster.leader();
    await cluster.kill(leader, 'SIGTERM');
    expect(await cluster.exitCode(leader)).toBe(0);
    await cluster.waitForLog(leader, 'transferring leadership before stopping');
    const next = await cluster.leader(3_000);
    expect(next).not.toBe(leader);
    cluster.start(leader);
    await cluster.waitReady([leader]);
  });

  it('answers each bad input with its documented error and changes nothing', async () => {
    const leader = await cluster.leader();
    const url = cluster.node(leader).url;
    await cluster.waitRegistered();
    const before = await range(url, '');
    const code = (res: { body: unknown }): string => (res.body as { error: { code: string } }).error.code;
    const errorCode = (body: string): string => (JSON.parse(body) as { error: { code: string } }).error.code;

    const malformed = await http(`${url}/v1/kv/k`, {
      method: 'PUT',
      body: '{"value":',
      headers: { 'content-type': 'application/json' },
    });
    expect([malformed.status, code(malformed)]).toEqual([400, 'MALFORMED_JSON']);
    const wrongType = await http(`${url}/v1/kv/k`, { method: 'PUT', json: { value: 5 } });
    expect([wrongType.status, code(wrongType)]).toEqual([400, 'VALIDATION_FAILED']);
    const unknownField = await http(`${url}/v1/kv/k`, { method: 'PUT', json: { value: 'x', colour: 'red' } });
    expect([unknownField.status, code(unknownField)]).toEqual([400, 'VALIDATION_FAILED']);
    const oversized = await http(`${url}/v1/kv/k`, {
      method: 'PUT',
      json: { value: 'x'.repeat(2 * 1024 * 1024) },
    });
    expect([oversized.status, code(oversized)]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    const longKey = await http(`${url}/v1/kv/${'k'.repeat(5000)}`, { method: 'PUT', json: { value: 'x' } });
    expect([longKey.status, code(longKey)]).toEqual([400, 'KEY_TOO_LARGE']);
    const route = await http(`${url}/v2/nothing`);
    expect([route.status, code(route)]).toEqual([404, 'ROUTE_NOT_FOUND']);
    const badQuery = await http(`${url}/v1/kv?limit=-3`);
    expect([badQuery.status, code(badQuery)]).toEqual([400, 'VALIDATION_FAILED']);

    // Peer traffic: wrong secret, no secret, other cluster, then a forged frame on a good stream.
    const fields = { cluster: 'test', from: 'n9', to: leader, nonce: newNonce() };
    const wrongSecret = await handshake(url, helloHeaders(fields, 'wrong-secret-000000000'));
    expect([wrongSecret.status, errorCode(wrongSecret.body)]).toEqual([401, 'UNAUTHORIZED']);
    const unsigned: Record<string, string> = helloHeaders(fields, cluster.secret);
    delete unsigned['x-conclave-signature'];
    const noSecret = await handshake(url, unsigned);
    expect([noSecret.status, errorCode(noSecret.body)]).toEqual([401, 'UNAUTHORIZED']);
    const otherCluster = await handshake(url, helloHeaders({ ...fields, cluster: 'other' }, cluster.secret));
    expect([otherCluster.status, errorCode(otherCluster.body)]).toEqual([403, 'WRONG_CLUSTER']);
    const stream = await handshake(url, helloHeaders(fields, cluster.secret));
    expect(stream.status).toBe(101);
    const closed = new Promise<void>((resolve) =>
      stream.socket!.once('close', () => {
        resolve();
      }),
    );
    stream.socket!.write(
      Buffer.concat([Buffer.from([0, 0, 0, 7]), Buffer.alloc(16), Buffer.from('garbage')]),
    );
    await closed;
    await cluster.waitForLog(leader, 'refused a peer request with a missing or wrong signature');
    await cluster.waitForLog(leader, 'refused a peer of another cluster');
    await cluster.waitForLog(leader, 'closing a peer stream: bad frame');

    // Still up, still leader, nothing changed.
    expect((await http(`${url}/api/leader-check`)).status).toBe(200);
    const after = await range(url, '');
    expect(after.revision).toBe(before.revision);
    expect(after.kvs).toEqual(before.kvs);
  });

  it('refuses to start on a corrupt database file or a bad config, saying why', async () => {
    const victim = cluster.nodes.find((n) => n.name !== 'n1')!;
    await cluster.kill(victim.name, 'SIGKILL');
    const file = join(victim.dataDir, 'conclave.db');
    // Garbage over the whole file; the WAL (which could still hold good pages) is gone too.
    const bytes = readFileSync(file);
    bytes.fill(0x41);
    writeFileSync(file, bytes);
    rmSync(`${file}-wal`, { force: true });
    rmSync(`${file}-shm`, { force: true });
    cluster.start(victim.name);
    expect(await cluster.exitCode(victim.name)).toBe(3);
    expect(cluster.logs.get(victim.name)).toContain(file);
    expect(cluster.logs.get(victim.name)).toContain('DATA_CORRUPT');

    cluster.start(victim.name, ['--election-timeout', 'soon']);
    expect(await cluster.exitCode(victim.name)).toBe(2);
    expect(cluster.logs.get(victim.name)).toContain('election-timeout');
  });
});
