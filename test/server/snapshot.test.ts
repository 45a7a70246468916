// GET /v1/snapshot over a real process: the snapshot is produced by a worker thread on a read
// connection of its own and streamed, with its size and SHA-256 as HTTP trailers. Writes go on
// while a reader holds the stream half-read, and the snapshot is exactly the state at the
// revision it announced; a reader that goes away ends it without harm; past snapshot-concurrency
// a request is refused with SNAPSHOT_BUSY until one ends.
import { createHash, randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KvStore } from '../../src/kv/index.js';
import { http, ProcessCluster, sleep } from './process-cluster.js';

/** Incompressible values, so that the stream is large enough to push back on the worker. */
const KEYS = 8_000;
const VALUE_BYTES = 1_000;

async function load(url: string): Promise<void> {
  for (let first = 0; first < KEYS; first += 100) {
    const success = [];
    for (let k = first; k < first + 100; k++) {
      success.push({
        type: 'put',
        key: `snap/${String(k).padStart(5, '0')}`,
        value: randomBytes(VALUE_BYTES * 0.75).toString('base64'),
      });
    }
    const res = await http(`${url}/v1/txn`, { method: 'POST', json: { compare: [], success, failure: [] } });
    expect(res.status).toBe(200);
  }
}

describe('GET /v1/snapshot (real process)', () => {
  let cluster: ProcessCluster;
  let url: string;

  beforeAll(async () => {
    cluster = await ProcessCluster.create(1, ['--snapshot-compression', '-1', '--snapshot-concurrency', '1']);
    cluster.startAll();
    await cluster.waitReady();
    url = cluster.nodes[0]!.url;
    await load(url);
  });

  afterAll(async () => {
    await cluster.destroy();
  });

  it('streams a consistent snapshot with trailers while writes go on', async () => {
    const res = await request(`${url}/v1/snapshot`, { highWaterMark: 16 * 1024 });
    expect(res.statusCode).toBe(200);
    // Streamed: size and digest are trailers, announced up front.
    expect(res.headers['x-conclave-snapshot-sha256']).toBeUndefined();
    expect(String(res.headers.trailer).toLowerCase()).toContain('x-conclave-snapshot-sha256');
    const revision = Number(res.headers['x-conclave-revision']);
    const keyCount = Number(res.headers['x-conclave-key-count']);

    // The body is not read yet (about 8 MB, more than the worker may run ahead): writes and
    // reads must go on meanwhile, and must not show up in the snapshot.
    for (let i = 0; i < 20; i++) {
      const put = await http(`${url}/v1/kv/snap/00000`, { method: 'PUT', json: { value: `after-${i}` } });
      expect(put.status).toBe(200);
      expect(Number(put.headers['x-conclave-revision'])).toBeGreaterThan(revision);
    }
    const newKey = await http(`${url}/v1/kv/snap/new`, { method: 'PUT', json: { value: 'late' } });
    expect(newKey.status).toBe(200);

    const chunks: Buffer[] = [];
    for await (const chunk of res.body) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    expect(res.trailers['x-conclave-snapshot-bytes']).toBe(String(bytes.length));
    expect(res.trailers['x-conclave-snapshot-sha256']).toBe(createHash('sha256').update(bytes).digest('hex'));

    const db = new Database(':memory:');
    try {
      const copy = new KvStore(db);
      copy.restoreReplica(bytes);
      expect(copy.revision()).toBe(revision);
      expect(copy.range({ countOnly: true }).count).toBe(keyCount);
      expect(copy.range({ prefix: 'snap/', countOnly: true }).count).toBe(KEYS);
      expect(copy.get('snap/new').kv).toBeUndefined();
      const first = copy.get('snap/00000').kv;
      expect(first?.value.startsWith('after-')).toBe(false);
      expect(first?.modRevision).toBeLessThanOrEqual(revision);
    } finally {
      db.close();
    }
  });

  it('sends size and digest as headers with ?digest=header (for proxies that drop trailers)', async () => {
    const res = await request(`${url}/v1/snapshot?digest=header`);
    expect(res.statusCode).toBe(200);
    expect(res.headers.trailer).toBeUndefined();
    const bytes = Buffer.from(await res.body.arrayBuffer());
    expect(res.headers['x-conclave-snapshot-bytes']).toBe(String(bytes.length));
    expect(res.headers['x-conclave-snapshot-sha256']).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(res.trailers['x-conclave-snapshot-sha256']).toBeUndefined();
    const bad = await http(`${url}/v1/snapshot?digest=footer`);
    expect(bad.status).toBe(400);
  });

  it('ends the snapshot when its reader goes away, and serves the next one', async () => {
    const abort = new AbortController();
    const res = await request(`${url}/v1/snapshot`, { signal: abort.signal });
    expect(res.statusCode).toBe(200);
    const iterator = res.body[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    abort.abort();
    await sleep(200);
    expect((await http(`${url}/api/ping`)).status).toBe(200);
    const again = await request(`${url}/v1/snapshot`);
    const bytes = Buffer.from(await again.body.arrayBuffer());
    expect(again.trailers['x-conclave-snapshot-sha256']).toBe(
      createHash('sha256').update(bytes).digest('hex'),
    );
    // The keys loaded, snap/new, and the node's member record.
    expect(Number(again.headers['x-conclave-key-count'])).toBe(KEYS + 2);
  });

  it('serves snapshot-concurrency snapshots at once: one more gets 503 SNAPSHOT_BUSY until one ends', async () => {
    const held = await request(`${url}/v1/snapshot`, { highWaterMark: 16 * 1024 });
    expect(held.statusCode).toBe(200);
    const busy = await http(`${url}/v1/snapshot`);
    expect(busy.status).toBe(503);
    expect((busy.body as { error: { code: string } }).error.code).toBe('SNAPSHOT_BUSY');
    expect(busy.headers['retry-after']).toBe('1');
    // Reads and writes are not affected.
    expect((await http(`${url}/v1/kv/snap/00001`)).status).toBe(200);
    await held.body.dump();
    await sleep(100);
    const next = await request(`${url}/v1/snapshot`);
    expect(next.statusCode).toBe(200);
    await next.body.dump();
  });
});
