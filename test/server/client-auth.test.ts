// client-auth: secret over real processes: every client request needs the cluster secret as a
// bearer token, load-balancer checks stay open, and the nodes' own calls (forwards, the member
// registry, a secondary's snapshot and change stream) carry it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src/index.js';
import type { ConclaveClient } from '../../src/index.js';
import { freePorts, http, ProcessCluster, sleep } from './process-cluster.js';

const code = (body: unknown): string | undefined => (body as { error?: { code?: string } }).error?.code;

describe('client-auth: secret (real processes)', () => {
  let cluster: ProcessCluster;
  let client: ConclaveClient;
  let secondaryUrl: string;

  beforeAll(async () => {
    cluster = await ProcessCluster.create(3, [
      '--client-auth',
      'secret',
      '--member-heartbeat-interval',
      '300ms',
    ]);
    cluster.startAll();
    await cluster.waitReady();
    const [port] = await freePorts(1);
    secondaryUrl = `http://127.0.0.1:${port}`;
    cluster.startSecondary('s1', port!, ['--client-auth', 'secret', '--member-heartbeat-interval', '300ms']);
    client = createClient({
      endpoints: [...cluster.nodes.map((n) => n.url), secondaryUrl],
      secret: cluster.secret,
    });
  });

  afterAll(async () => {
    await client.close();
    await cluster.destroy();
  });

  it('refuses requests without the secret or with another one, and changes nothing', async () => {
    const url = cluster.nodes[0]!.url;
    for (const headers of [
      {},
      { authorization: 'Bearer not-the-secret-at-all' },
      { authorization: cluster.secret },
    ]) {
      const put = await http(`${url}/v1/kv/auth/x`, { method: 'PUT', json: { value: '1' }, headers });
      expect(put.status).toBe(401);
      expect(code(put.body)).toBe('UNAUTHORIZED');
      for (const path of [
        '/v1/kv/auth/x',
        '/v1/members',
        '/status',
        '/metrics',
        '/v1/snapshot',
        '/v1/watch?prefix=',
      ]) {
        const read = await http(`${url}${path}`, { headers });
        expect(read.status, path).toBe(401);
      }
    }
    expect(await client.get('auth/x')).toBeUndefined();
  });

  it('downloads a snapshot with a secondary listed first (secondaries serve none)', async () => {
    const secondaryFirst = createClient({
      endpoints: [secondaryUrl, ...cluster.nodes.map((n) => n.url)],
      secret: cluster.secret,
    });
    try {
      const snapshot = await secondaryFirst.snapshot({ history: true });
      expect(cluster.nodes.map((n) => n.url)).toContain(snapshot.endpoint);
      expect(snapshot.bytes.length).toBeGreaterThan(0);
    } finally {
      await secondaryFirst.close();
    }
  });

  it('keeps the load-balancer checks open', async () => {
    const leader = cluster.node(await cluster.leader()).url;
    expect((await http(`${leader}/api/leader-check`)).status).toBe(200);
    expect((await http(`${leader}/api/raft-health`)).status).toBe(200);
    expect((await http(`${leader}/health`)).status).toBe(200);
    expect((await http(`${leader}/api/ping`)).status).toBe(200);
  });

  it('serves a client with the secret, through followers and the secondary, and the nodes register themselves', async () => {
    const leader = await cluster.leader();
    const follower = cluster.nodes.find((n) => n.name !== leader)!;
    // A follower forwards the write with the client's credentials.
    const viaFollower = createClient({
      endpoints: [follower.url],
      secret: cluster.secret,
      followLeader: false,
    });
    try {
      const put = await viaFollower.put('auth/k', 'v');
      // A secondary bootstraps and follows the change stream with the secret.
      const deadline = Date.now() + 15_000;
      for (;;) {
        const read = await http(`${secondaryUrl}/v1/kv/auth/k`, {
          headers: { authorization: `Bearer ${cluster.secret}` },
        });
        if (read.status === 200 && Number(read.headers['x-conclave-revision']) >= put.revision) break;
        if (Date.now() > deadline)
          throw new Error(`secondary never served the write: ${read.status} ${read.text}`);
        await sleep(100);
      }
      const unauthorized = await http(`${secondaryUrl}/v1/kv/auth/k`);
      expect(unauthorized.status).toBe(401);
    } finally {
      await viaFollower.close();
    }
    const deadline = Date.now() + 10_000;
    for (;;) {
      const names = (await client.members()).members.map((m) => m.name).sort();
      if (names.join() === 'n1,n2,n3,s1') break;
      if (Date.now() > deadline) throw new Error(`members: ${names.join()}`);
      await sleep(100);
    }
  }, 40_000);
});
