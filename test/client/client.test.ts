// The client against real `conclave server` processes: every call, leader finding, writes through
// a leader SIGKILL (none lost, none doubled), a watch iterator across a node kill, leases with
// their keep-alive loop, typed errors, aborts, and a clear answer when no endpoint is up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConclaveError, createClient, UnavailableError } from '../../src/index.js';
import type { ConclaveClient, WatchEvent } from '../../src/index.js';
import { freePorts, ProcessCluster, sleep } from '../server/process-cluster.js';

describe('client (real processes)', () => {
  let cluster: ProcessCluster;
  let client: ConclaveClient;

  beforeAll(async () => {
    cluster = await ProcessCluster.create(3);
    cluster.startAll();
    await cluster.waitReady();
    await cluster.waitRegistered();
    client = createClient({ endpoints: cluster.nodes.map((n) => n.url).join(' ') });
  });

  afterAll(async () => {
    await client.close();
    await cluster.destroy();
  });

  it('puts, gets, deletes, ranges, pages and runs transactions', async () => {
    const first = await client.put('kv/a', '1');
    const second = await client.put('kv/a', '2', { prevKv: true });
    expect(second.revision).toBe(first.revision + 1);
    expect(second.prevKv?.value).toBe('1');
    expect(await client.get('kv/a')).toMatchObject({
      key: 'kv/a',
      value: '2',
      version: 2,
      modRevision: second.revision,
    });
    expect(await client.get('kv/missing')).toBeUndefined();
    expect(await client.get('kv/a', { consistency: 'serializable' })).toBeDefined();
    for (let i = 0; i < 5; i++) await client.put(`page/${i}`, `v${i}`);
    const page = await client.range({ prefix: 'page/', limit: 2 });
    expect(page.kvs.map((kv) => kv.key)).toEqual(['page/0', 'page/1']);
    expect(page).toMatchObject({ more: true, count: 5 });
    const all: string[] = [];
    for await (const kv of client.iterate({ prefix: 'page/', pageSize: 2 })) all.push(kv.key);
    expect(all).toEqual(['page/0', 'page/1', 'page/2', 'page/3', 'page/4']);
    const txn = await client.txn({
      compare: [{ key: 'kv/a', target: 'value', op: '=', value: '2' }],
      success: [
        { type: 'put', key: 'kv/b', value: 'x' },
        { type: 'get', key: 'kv/a' },
      ],
      failure: [],
    });
    expect(txn.succeeded).toBe(true);
    expect(txn.responses[1]).toMatchObject({ type: 'get', kv: { value: '2' } });
    const deleted = await client.delete('kv/b', { prevKv: true });
    expect(deleted).toMatchObject({ deleted: 1, prevKvs: [{ key: 'kv/b', value: 'x' }] });
    expect(await client.get('kv/b')).toBeUndefined();
    // Keys with characters that need encoding, and dot segments a URL would resolve, are kept as they are.
    const odd = ['odd/a b?c#d%e/café', '.', '..', 'dots/../b', 'dots/.', 'dots/%2e%2e/c'];
    for (const [i, key] of odd.entries()) await client.put(key, `v${i}`);
    for (const [i, key] of odd.entries()) expect((await client.get(key))?.value, key).toBe(`v${i}`);
    expect(await client.get('b')).toBeUndefined();
    expect((await client.range({ prefix: 'dots/' })).kvs.map((kv) => kv.key)).toEqual([
      'dots/%2e%2e/c',
      'dots/.',
      'dots/../b',
    ]);
  });

  it('throws typed errors with the server codes, and retries nothing that cannot succeed', async () => {
    const tooLong = 'k'.repeat(5_000);
    const error = await client.put(tooLong, 'v').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConclaveError);
    expect(error).toMatchObject({ code: 'KEY_TOO_LARGE', status: 400 });
    const lease = await client.leaseInfo(987_654).catch((e: unknown) => e);
    expect(lease).toMatchObject({ code: 'LEASE_NOT_FOUND', status: 404 });
    // A request id a node would replace is refused before sending: the write would lose its exactly-once key.
    const badId = await client.put('ids/k', 'v', { requestId: 'order 42' }).catch((e: unknown) => e);
    expect(badId).toMatchObject({ code: 'INVALID_ARGUMENT', status: 0 });
    expect(await client.get('ids/k')).toBeUndefined();
    const first = await client.put('ids/k', 'v', { requestId: 'order-42' });
    expect(await client.put('ids/k', 'v', { requestId: 'order-42' })).toEqual(first);
    expect((await client.get('ids/k'))?.version).toBe(1);
    const compacted = await client.compact(10_000_000).catch((e: unknown) => e);
    expect(compacted).toMatchObject({ code: 'FUTURE_REVISION' });
  });

  it('finds the leader and reads members and status', async () => {
    const leader = await client.leader();
    expect(leader.name).toBe(await cluster.leader());
    expect(leader.url).toBe(cluster.node(leader.name).url);
    const members = await client.members();
    expect(members.members.map((m) => m.name).sort()).toEqual(['n1', 'n2', 'n3']);
    const raft = await client.clusterMembers();
    expect(raft.leader).toBe(leader.name);
    const statuses = await client.statusAll();
    expect(statuses.every((s) => s.ok)).toBe(true);
  });

  it('keeps a lease alive past its TTL, and its keys go when it is closed', async () => {
    const lease = await client.grantLease(1);
    await client.put('leased/k', 'v', { leaseId: lease.id });
    await sleep(2_500);
    expect((await client.get('leased/k'))?.value).toBe('v');
    expect((await client.leaseInfo(lease.id)).keys).toBe(1);
    lease.close();
    const deadline = Date.now() + 5_000;
    while ((await client.get('leased/k')) !== undefined) {
      if (Date.now() > deadline) throw new Error('leased key outlived its lease');
      await sleep(100);
    }
    // A lease revoked elsewhere is reported lost by its keep-alive loop.
    const other = await client.grantLease(1);
    await client.revokeLease(other.id);
    const reason = await other.lost;
    expect(reason.code).toBe('LEASE_NOT_FOUND');
    expect(other.signal.aborted).toBe(true);
  });

  it('honours an AbortSignal', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(client.put('abort/k', 'v', { signal: controller.signal })).rejects.toMatchObject({
      code: 'ABORTED',
    });
    const watchAbort = new AbortController();
    const seen: WatchEvent[] = [];
    const done = (async () => {
      for await (const event of client.watch({ key: 'abort/w', signal: watchAbort.signal })) seen.push(event);
    })();
    await sleep(300);
    await client.put('abort/w', '1');
    await waitUntil(() => seen.length === 1);
    watchAbort.abort();
    await done;
    expect(seen).toHaveLength(1);
  });

  it('says which endpoints it tried and why, when none answers', async () => {
    const [a, b] = await freePorts(2);
    const lonely = createClient({
      endpoints: [`http://127.0.0.1:${a}`, `127.0.0.1:${b}`],
      timeoutMs: 1_000,
      retries: 3,
    });
    try {
      const error = await lonely.get('x').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnavailableError);
      const failures = (error as UnavailableError).failures;
      expect(failures.map((f) => f.endpoint).sort()).toEqual(
        [`http://127.0.0.1:${a}`, `http://127.0.0.1:${b}`].sort(),
      );
      expect(failures.every((f) => f.reason === 'ECONNREFUSED')).toBe(true);
    } finally {
      await lonely.close();
    }
  });

  it('writes through a leader SIGKILL with none lost and none applied twice, and a watch follows across it', async () => {
    const writers = 4;
    const perWriter = 60;
    const start = (await client.range({ prefix: 'nothing/', countOnly: true })).revision + 1;
    // The watch runs on the node that is about to be killed, so it must resume on another.
    const leaderName = await cluster.leader();
    const endpoints = [leaderName, ...cluster.nodes.map((n) => n.name).filter((n) => n !== leaderName)].map(
      (n) => cluster.node(n).url,
    );
    const watcher = createClient({ endpoints, followLeader: false });
    const events: WatchEvent[] = [];
    const watchAbort = new AbortController();
    const watching = (async () => {
      for await (const event of watcher.watch({
        prefix: 'ctr/',
        startRevision: start,
        signal: watchAbort.signal,
      })) {
        events.push(event);
      }
    })();
    const write = async (w: number): Promise<void> => {
      for (let i = 1; i <= perWriter; i++) await client.put(`ctr/${w}`, String(i));
    };
    const writing = Promise.all(Array.from({ length: writers }, (_, w) => write(w)));
    await sleep(400);
    await cluster.kill(leaderName);
    await writing;
    for (let w = 0; w < writers; w++) {
      const kv = await client.get(`ctr/${w}`);
      // One version per acknowledged put: a doubled put would show as an extra version.
      expect(kv).toMatchObject({ value: String(perWriter), version: perWriter });
    }
    await waitUntil(() => events.length === writers * perWriter, 15_000);
    watchAbort.abort();
    await watching;
    await watcher.close();
    for (let w = 0; w < writers; w++) {
      const values = events
        .filter((e) => e.type === 'put' && e.kv.key === `ctr/${w}`)
        .map((e) => (e.type === 'put' ? e.kv.value : ''));
      expect(values).toEqual(Array.from({ length: perWriter }, (_, i) => String(i + 1)));
    }
    const revisions = events.map((e) => e.revision);
    expect(revisions).toEqual([...revisions].sort((x, y) => x - y));
    cluster.start(leaderName);
    await cluster.waitReady();
  }, 60_000);

  it('reports a lease lost at its deadline when no node can renew it (the last test: every node goes)', async () => {
    const lease = await client.grantLease(2);
    await client.put('leased/held', 'x', { leaseId: lease.id });
    await lease.keepAliveOnce();
    const from = Date.now();
    await Promise.all(cluster.nodes.map((n) => cluster.kill(n.name)));
    const reason = await lease.lost;
    expect(reason.code).toBe('LEASE_EXPIRED');
    // Lost by the deadline (2 s from the last renewal sent), not a keep-alive period later.
    expect(Date.now() - from).toBeLessThan(2_300);
    expect(lease.signal.aborted).toBe(true);
  }, 20_000);
});

async function waitUntil(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}
