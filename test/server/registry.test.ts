// The member registry over real processes: records kept alive by heartbeats, gone after their
// TTL when a node is killed, revoked at once when a node stops cleanly, all in the activity log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, ProcessCluster, sleep } from './process-cluster.js';

interface MembersAnswer {
  members: {
    name: string;
    role: string;
    cluster: string;
    apiUrl: string;
    state: string;
    ageSeconds: number;
    heartbeatSecondsAgo: number;
    raftState: string;
    rssBytes: number;
  }[];
  activity: { member: string; kind: string; reason: string }[];
}

async function members(url: string): Promise<MembersAnswer> {
  const res = await http(`${url}/v1/members`, { timeoutMs: 2_000 });
  if (res.status !== 200) throw new Error(`members: ${res.status} ${res.text}`);
  return res.body as MembersAnswer;
}

async function until(what: string, url: () => string, ok: (m: MembersAnswer) => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = await members(url()).catch(() => undefined);
    if (m !== undefined && ok(m)) return m;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(m)}`);
    await sleep(100);
  }
}

describe('member registry (real processes)', () => {
  let cluster: ProcessCluster;

  beforeAll(async () => {
    cluster = await ProcessCluster.create(3, ['--member-heartbeat-interval', '300ms']);
    cluster.startAll();
    await cluster.waitReady();
  });

  afterAll(async () => {
    await cluster.destroy();
  });

  it('lists every node with its heartbeat, age and state', async () => {
    const url = cluster.nodes[0]!.url;
    const m = await until(
      'three members',
      () => url,
      (x) => x.members.length === 3,
    );
    expect(m.members.map((x) => x.name)).toEqual(['n1', 'n2', 'n3']);
    for (const x of m.members) {
      expect(x).toMatchObject({ role: 'primary', cluster: 'test', state: 'up' });
      expect(x.apiUrl).toBe(cluster.node(x.name).url);
      expect(x.heartbeatSecondsAgo).toBeLessThan(2);
      expect(x.rssBytes).toBeGreaterThan(0);
    }
    expect(m.members.filter((x) => x.raftState === 'leader')).toHaveLength(1);
    expect(
      m.activity
        .filter((a) => a.kind === 'join')
        .map((a) => a.member)
        .sort(),
    ).toEqual(['n1', 'n2', 'n3']);
  });

  it('a killed node disappears after its TTL (an expiry); a restarted one joins again', async () => {
    const leader = await cluster.leader();
    const victim = cluster.nodes.find((n) => n.name !== leader)!;
    const url = () => cluster.node(leader).url;
    await cluster.kill(victim.name, 'SIGKILL');
    const killedAt = Date.now();
    const m = await until('the record to expire', url, (x) => !x.members.some((y) => y.name === victim.name));
    expect(Date.now() - killedAt).toBeGreaterThan(300);
    const expiry = m.activity.filter((a) => a.member === victim.name).at(-1);
    expect(expiry?.kind).toBe('expire');
    cluster.start(victim.name);
    const back = await until('the record to come back', url, (x) =>
      x.members.some((y) => y.name === victim.name),
    );
    expect(back.activity.filter((a) => a.member === victim.name).at(-1)?.kind).toBe('join');
  });

  it('a node stopped cleanly leaves at once', async () => {
    const leader = await cluster.leader();
    const leaving = cluster.nodes.find((n) => n.name !== leader)!;
    await cluster.kill(leaving.name, 'SIGTERM');
    const m = await members(cluster.node(leader).url);
    expect(m.members.some((x) => x.name === leaving.name)).toBe(false);
    expect(m.activity.filter((a) => a.member === leaving.name).at(-1)?.kind).toBe('leave');
    cluster.start(leaving.name);
    await cluster.waitReady();
  });
});
