// Watches over real `conclave server` processes: history then live events, progress notices,
// resume on another node after a SIGKILL with no gap and no duplicate, compaction and bad input.
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, ProcessCluster, sleep } from './process-cluster.js';
import type { SseEvent } from './sse-client.js';
import { openSse } from './sse-client.js';

interface WatchData {
  type: 'put' | 'delete';
  revision: number;
  kv: { key: string; value: string; version: number };
  prevKv?: { value: string };
}

const changes = (events: readonly SseEvent[]): SseEvent[] =>
  events.filter((e) => e.event === 'put' || e.event === 'delete');
const data = (e: SseEvent): WatchData => JSON.parse(e.data) as WatchData;

async function put(url: string, key: string, value: string): Promise<number> {
  const res = await http(`${url}/v1/kv/${key}`, { method: 'PUT', json: { value }, timeoutMs: 3_000 });
  if (res.status !== 200) throw new Error(`put ${key}: ${res.status} ${res.text}`);
  return Number(res.headers['x-conclave-revision']);
}

function errorCode(body: string): string {
  return (JSON.parse(body) as { error: { code: string } }).error.code;
}

describe('watch (real processes)', () => {
  let cluster: ProcessCluster;

  beforeAll(async () => {
    cluster = await ProcessCluster.create(3);
    cluster.startAll();
    await cluster.waitReady();
  });

  afterAll(async () => {
    await cluster.destroy();
  });

  it('streams the history from a revision, then live changes from any node, filtered by prefix', async () => {
    const [n1, n2, n3] = cluster.nodes;
    const first = await put(n1!.url, 'hist/a', '1');
    await put(n2!.url, 'other/x', '1');
    await put(n3!.url, 'hist/b', '2');
    const stream = await openSse(`${n2!.url}/v1/watch?prefix=hist/&startRevision=${first}&prevKv=true`);
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toContain('text/event-stream');
    await stream.waitFor('history', (e) => changes(e).length === 2);
    await put(n3!.url, 'hist/a', '3');
    await put(n1!.url, 'other/y', '1');
    const res = await http(`${n1!.url}/v1/kv/hist/b`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    await stream.waitFor('live events', (e) => changes(e).length === 4);
    stream.close();
    const got = changes(stream.events).map((e) => [e.event, data(e).kv.key, data(e).kv.value]);
    expect(got).toEqual([
      ['put', 'hist/a', '1'],
      ['put', 'hist/b', '2'],
      ['put', 'hist/a', '3'],
      ['delete', 'hist/b', ''],
    ]);
    expect(data(changes(stream.events)[2]!).prevKv?.value).toBe('1');
    const revisions = changes(stream.events).map((e) => data(e).revision);
    expect([...revisions].sort((a, b) => a - b)).toEqual(revisions);
    expect(changes(stream.events)[0]!.id).toBe(`${first}:0`);
  });

  it('gives watches of one node the same live events each in its own form (prevKv or not)', async () => {
    const url = cluster.nodes[1]!.url;
    await put(url, 'forms/k', 'old');
    const withPrev = await openSse(`${url}/v1/watch?prefix=forms/&prevKv=true`);
    const plain = await openSse(`${url}/v1/watch?prefix=forms/`);
    const alsoWithPrev = await openSse(`${url}/v1/watch?key=forms/k&prevKv=true`);
    await put(url, 'forms/k', 'new');
    await put(url, 'forms/other', 'x');
    await withPrev.waitFor('two events', (e) => changes(e).length === 2);
    await plain.waitFor('two events', (e) => changes(e).length === 2);
    await alsoWithPrev.waitFor('one event', (e) => changes(e).length === 1);
    for (const s of [withPrev, plain, alsoWithPrev]) s.close();
    const [a, b] = [changes(withPrev.events), changes(plain.events)];
    expect(a.map((e) => e.id)).toEqual(b.map((e) => e.id));
    expect(data(a[0]!).prevKv?.value).toBe('old');
    expect(data(b[0]!).prevKv).toBeUndefined();
    expect(data(b[0]!).kv).toEqual(data(a[0]!).kv);
    expect(changes(alsoWithPrev.events)[0]!.data).toBe(a[0]!.data);
  });

  it('sends progress notices carrying the current revision when idle', async () => {
    const url = cluster.nodes[0]!.url;
    const revision = await put(url, 'idle/k', 'v');
    const stream = await openSse(`${url}/v1/watch?key=idle/nothing&progressMs=200`);
    await stream.waitFor('a progress notice', (e) => e.some((x) => x.event === 'progress'));
    stream.close();
    const notice = stream.events.find((x) => x.event === 'progress')!;
    const noticed = (JSON.parse(notice.data) as { revision: number }).revision;
    expect(noticed).toBeGreaterThanOrEqual(revision);
    expect(notice.id).toBe(String(noticed));
  });

  it('with coalesceMs, sends the events of the window together, in order', async () => {
    const url = cluster.nodes[0]!.url;
    const res = await request(`${url}/v1/watch?prefix=coalesce/&coalesceMs=1000`);
    expect(res.statusCode).toBe(200);
    const chunks: string[] = [];
    const reading = (async () => {
      for await (const chunk of res.body) chunks.push((chunk as Buffer).toString());
    })().catch(() => undefined);
    await sleep(100);
    const before = chunks.length;
    const revisions = [];
    for (const value of ['1', '2', '3']) revisions.push(await put(url, 'coalesce/k', value));
    const deadline = Date.now() + 5_000;
    while (!chunks.join('').includes(`id: ${revisions[2]}:0`) && Date.now() < deadline) await sleep(20);
    res.body.destroy();
    await reading;
    // Without coalescing each put is its own write; here the three (well within 1 s) are one.
    const eventChunks = chunks.slice(before).filter((c) => c.includes('event: put'));
    expect(eventChunks).toHaveLength(1);
    const ids = [...eventChunks[0]!.matchAll(/^id: (\d+):0$/gm)].map((m) => Number(m[1]));
    expect(ids).toEqual(revisions);
  });

  it('answers bad input with documented errors', async () => {
    const url = cluster.nodes[0]!.url;
    const cases: [string, Record<string, string>, number, string][] = [
      ['/v1/watch?prefix=a&startRevision=-1', {}, 400, 'VALIDATION_FAILED'],
      ['/v1/watch?prefix=a&startRevision=abc', {}, 400, 'VALIDATION_FAILED'],
      ['/v1/watch?prefix=a&colour=red', {}, 400, 'VALIDATION_FAILED'],
      ['/v1/watch?prefix=a&key=b', {}, 400, 'INVALID_ARGUMENT'],
      ['/v1/watch', {}, 400, 'INVALID_ARGUMENT'],
      ['/v1/watch?key=', {}, 400, 'INVALID_ARGUMENT'],
      ['/v1/watch?prefix=a', { 'last-event-id': 'yesterday' }, 400, 'INVALID_ARGUMENT'],
      [`/v1/watch?key=${'k'.repeat(5000)}`, {}, 400, 'KEY_TOO_LARGE'],
      ['/v1/watch?prefix=a&coalesceMs=-1', {}, 400, 'VALIDATION_FAILED'],
      ['/v1/watch?prefix=a&coalesceMs=5000', {}, 400, 'VALIDATION_FAILED'],
    ];
    for (const [path, headers, status, code] of cases) {
      const stream = await openSse(`${url}${path}`, headers);
      expect([path, stream.status, errorCode(stream.body)]).toEqual([path, status, code]);
    }
  });

  it('answers 410 COMPACTED with the oldest revision for a compacted start', async () => {
    const url = cluster.nodes[1]!.url;
    const a = await put(url, 'compact/a', '1');
    const b = await put(url, 'compact/b', '2');
    const res = await http(`${url}/v1/compact`, { method: 'POST', json: { revision: a } });
    expect(res.status).toBe(200);
    const stream = await openSse(`${url}/v1/watch?prefix=compact/&startRevision=${a}`);
    expect(stream.status).toBe(410);
    const body = JSON.parse(stream.body) as { error: { code: string; details: { oldest: number } } };
    expect(body.error.code).toBe('COMPACTED');
    expect(body.error.details.oldest).toBe(a + 1);
    const ok = await openSse(`${url}/v1/watch?prefix=compact/&startRevision=${a + 1}`);
    await ok.waitFor('the kept change', (e) => changes(e).length === 1);
    ok.close();
    expect(data(changes(ok.events)[0]!).revision).toBe(b);
  });

  it('resumes on another node after a SIGKILL with no gap and no duplicate', async () => {
    const leader = await cluster.leader();
    const [victim, other] = cluster.nodes.filter((n) => n.name !== leader);
    const start = (await put(cluster.node(leader).url, 'stream/begin', 'x')) + 1;

    let stop = false;
    let written = 0;
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        const url = cluster.node(leader).url;
        await put(url, `stream/k${i % 50}`, `v${i}`);
        written++;
        await sleep(2);
      }
    })();

    const received: SseEvent[] = [];
    const first = await openSse(`${victim!.url}/v1/watch?prefix=stream/&startRevision=${start}`);
    await first.waitFor('some events', (e) => changes(e).length >= 40);
    await cluster.kill(victim!.name, 'SIGKILL');
    await first.ended;
    received.push(...changes(first.events));
    const lastId = received[received.length - 1]!.id!;

    const second = await openSse(`${other!.url}/v1/watch?prefix=stream/`, { 'last-event-id': lastId });
    expect(second.status).toBe(200);
    await second.waitFor('more events', (e) => changes(e).length >= 60);
    stop = true;
    await writer;
    const final = await put(cluster.node(leader).url, 'stream/end', 'x');
    await second.waitFor('the final write', (e) => changes(e).some((x) => data(x).revision === final));
    second.close();
    received.push(...changes(second.events));

    // The whole history, read in one go from the leader, is what the two streams gave together.
    const all = await openSse(`${cluster.node(leader).url}/v1/watch?prefix=stream/&startRevision=${start}`);
    await all.waitFor('the whole history', (e) => changes(e).some((x) => data(x).revision === final));
    all.close();
    const expected = changes(all.events).map((e) => e.id);
    expect(written).toBeGreaterThan(60);
    expect(received.map((e) => e.id)).toEqual(expected);
    expect(new Set(received.map((e) => e.id)).size).toBe(received.length);

    cluster.start(victim!.name);
    await cluster.waitReady();
  });
});
