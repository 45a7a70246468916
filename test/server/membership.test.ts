// Runtime membership over real processes: add a 4th and a 5th primary, remove a follower, remove
// the leader, with writes flowing throughout and none lost; refusals for bad changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, ProcessCluster, sleep } from './process-cluster.js';

interface Members {
  leader: string | null;
  members: { name: string; url: string | null; role: 'voter' | 'learner' }[];
}

const code = (res: { body: unknown }): string => (res.body as { error: { code: string } }).error.code;

async function members(url: string): Promise<Members> {
  const res = await http(`${url}/v1/cluster/members`, { timeoutMs: 2_000 });
  if (res.status !== 200) throw new Error(`members: ${res.status} ${res.text}`);
  return res.body as Members;
}

describe('runtime membership (real processes)', () => {
  let cluster: ProcessCluster;
  const acked = new Set<string>();
  let stop = false;
  let writers: Promise<void>[] = [];

  const live = (): { name: string; url: string }[] => cluster.nodes.filter((n) => cluster.isRunning(n.name));

  /** Writes unique keys through any running node, retrying each with its request id until acknowledged. */
  async function writer(id: number): Promise<void> {
    for (let seq = 0; !stop; seq++) {
      const key = `m/${id}/${seq}`;
      for (let attempt = 0; ; attempt++) {
        const nodes = live();
        const node = nodes[(id + attempt) % nodes.length]!;
        const res = await http(`${node.url}/v1/kv/${key}`, {
          method: 'PUT',
          json: { value: String(seq) },
          headers: { 'x-request-id': `w${id}-${seq}` },
          timeoutMs: 3_000,
        }).catch(() => ({ status: 0 }));
        if (res.status === 200) {
          acked.add(key);
          break;
        }
        if (attempt > 500) throw new Error(`write ${key} never acknowledged (last ${res.status})`);
        await sleep(20);
      }
      await sleep(5);
    }
  }

  async function waitFor(what: string, ok: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await ok().catch(() => false)) return;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${cluster.dumpLogs()}`);
      await sleep(100);
    }
  }

  /** Every running node but `except` lists exactly `expected` as voters. */
  async function votersEverywhere(expected: string[], except?: string): Promise<void> {
    await waitFor(`voters ${expected.join(',')} on every node`, async () => {
      for (const n of live()) {
        if (n.name === except) continue;
        const m = await members(n.url);
        const voters = m.members.filter((x) => x.role === 'voter').map((x) => x.name);
        if (voters.sort().join() !== [...expected].sort().join()) return false;
      }
      return true;
    });
  }

  beforeAll(async () => {
    cluster = await ProcessCluster.create(5);
    cluster.founders = 3;
    cluster.startAll();
    await cluster.waitReady();
  });

  afterAll(async () => {
    stop = true;
    await Promise.allSettled(writers);
    await cluster.destroy();
  });

  it('grows to five primaries and shrinks back to three, the leader too, losing no write', async () => {
    writers = [writer(0), writer(1)];
    const n1 = cluster.node('n1');

    for (const joiner of ['n4', 'n5']) {
      cluster.start(joiner);
      const res = await http(`${n1.url}/v1/cluster/members`, {
        method: 'POST',
        json: { name: joiner, url: cluster.node(joiner).url },
      });
      expect([res.status, res.body]).toEqual([
        200,
        { name: joiner, url: cluster.node(joiner).url, role: 'learner' },
      ]);
      const voters = ['n1', 'n2', 'n3', 'n4', 'n5'].slice(0, joiner === 'n4' ? 4 : 5);
      await votersEverywhere(voters);
    }

    // Remove a follower; it stays up until every remaining voter has applied its removal.
    const leader = await cluster.leader();
    const follower = ['n1', 'n2', 'n3'].find((n) => n !== leader)!;
    const removeFollower = await http(`${cluster.node(leader).url}/v1/cluster/members/${follower}`, {
      method: 'DELETE',
    });
    expect([removeFollower.status, removeFollower.body]).toEqual([200, { removed: follower }]);
    const afterFollower = ['n1', 'n2', 'n3', 'n4', 'n5'].filter((n) => n !== follower);
    await votersEverywhere(afterFollower, follower);
    await cluster.waitForLog(follower, 'this node was removed from the cluster');
    await cluster.kill(follower, 'SIGTERM');

    // Remove the leader, asking a follower (the request is forwarded).
    const asker = afterFollower.find((n) => n !== leader)!;
    const removeLeader = await http(`${cluster.node(asker).url}/v1/cluster/members/${leader}`, {
      method: 'DELETE',
    });
    expect([removeLeader.status, removeLeader.body]).toEqual([200, { removed: leader }]);
    const remaining = afterFollower.filter((n) => n !== leader);
    await votersEverywhere(remaining, leader);
    await waitFor('a new leader', async () => {
      const next = await cluster.leader(2_000);
      return next !== leader;
    });
    await cluster.kill(leader, 'SIGTERM');

    await sleep(500);
    stop = true;
    await Promise.all(writers);
    expect(acked.size).toBeGreaterThan(50);
    const final = await cluster.leader();
    const res = await http(`${cluster.node(final).url}/v1/kv?prefix=m/&limit=10000`);
    const keys = new Set((res.body as { kvs: { key: string }[] }).kvs.map((kv) => kv.key));
    const lost = [...acked].filter((k) => !keys.has(k));
    expect(lost).toEqual([]);
  });

  it('refuses bad changes with documented errors', async () => {
    const leader = await cluster.leader();
    const url = cluster.node(leader).url;
    const current = (await members(url)).members.map((m) => m.name);
    const dup = await http(`${url}/v1/cluster/members`, { method: 'POST', json: { name: current[0], url } });
    expect([dup.status, code(dup)]).toEqual([409, 'MEMBER_EXISTS']);
    const badUrl = await http(`${url}/v1/cluster/members`, {
      method: 'POST',
      json: { name: 'n9', url: 'ftp://x' },
    });
    expect([badUrl.status, code(badUrl)]).toEqual([400, 'INVALID_ARGUMENT']);
    const badName = await http(`${url}/v1/cluster/members`, { method: 'POST', json: { name: 'a b', url } });
    expect([badName.status, code(badName)]).toEqual([400, 'INVALID_ARGUMENT']);
    const unknown = await http(`${url}/v1/cluster/members/n42`, { method: 'DELETE' });
    expect([unknown.status, code(unknown)]).toEqual([404, 'MEMBER_NOT_FOUND']);

    // Three voters, one of them down: removing a live one would leave one live voter of two.
    const [down, victim] = current.filter((n) => n !== leader);
    await cluster.kill(down!, 'SIGKILL');
    await sleep(1_500);
    const refused = await http(`${url}/v1/cluster/members/${victim}`, { method: 'DELETE' });
    expect([refused.status, code(refused)]).toEqual([409, 'NO_QUORUM']);
    expect((await members(url)).members.map((m) => m.name).sort()).toEqual([...current].sort());
  });
});
