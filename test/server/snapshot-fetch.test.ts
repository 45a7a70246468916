// A secondary's snapshot download (src/secondary/snapshot-fetch.ts) against a real HTTP server:
// a prefetch keeps the bytes flowing while nobody reads them, then gives the first attempt a
// snapshot checked like any other; a wrong digest, a cut body and a dead primary are refused
// and leave the replica empty.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchSnapshot, SnapshotFetchError, SnapshotPrefetch } from '../../src/secondary/snapshot-fetch.js';
import Database from 'better-sqlite3';
import { encodeCommand, KvStore } from '../../src/kv/index.js';
import { Harness } from '../kv/helpers.js';

interface Served {
  readonly url: string;
  /** Resolves when the server has handed the whole body to the socket. */
  readonly finished: Promise<void>;
  readonly server: Server;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Serves `body` as GET /v1/snapshot with the given size and digest trailers. */
async function serve(
  snapshot: Uint8Array,
  options: { gzip?: boolean; digest?: string; cutTo?: number } = {},
): Promise<Served> {
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const server = createServer((_req: IncomingMessage, res: ServerResponse) => {
    const whole = Buffer.from(snapshot.subarray(0, options.cutTo ?? snapshot.length));
    const body = options.gzip === true ? gzipSync(whole, { level: 1 }) : whole;
    res.writeHead(200, {
      'x-conclave-revision': '42',
      'x-conclave-key-count': '24000',
      trailer: 'x-conclave-snapshot-bytes, x-conclave-snapshot-sha256',
      ...(options.gzip === true ? { 'content-encoding': 'gzip' } : {}),
    });
    res.on('finish', finish);
    // In pieces, as a primary streams it.
    for (let i = 0; i < body.length; i += 64 * 1024) res.write(body.subarray(i, i + 64 * 1024));
    res.addTrailers({
      'x-conclave-snapshot-bytes': String(snapshot.length),
      'x-conclave-snapshot-sha256': options.digest ?? sha256(snapshot),
    });
    res.end();
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, finished, server };
}

function source(): { snapshot: Uint8Array; revision: number; whole: Buffer } {
  const db = new Database(':memory:');
  const kv = new KvStore(db);
  // About 24 MB: far more than loopback socket buffers hold while nobody reads
  // (about 4 MB here), so a reader that stops holds the server back.
  db.transaction(() => {
    for (let i = 0; i < 24_000; i++) {
      const put = encodeCommand({
        type: 'put',
        key: `k/${String(i).padStart(5, '0')}`,
        value: `v${i} ${'x'.repeat(1000)}`,
      });
      kv.apply(i + 1, put);
    }
  })();
  const snapshot = kv.serialize({ history: false });
  return { snapshot, revision: kv.revision(), whole: Buffer.from(snapshot) };
}

describe('secondary snapshot download', () => {
  const src = source();

  it('a prefetch reads the whole body while nobody consumes it; the first attempt then loads and checks it', async () => {
    const served = await serve(src.snapshot);
    const prefetch = new SnapshotPrefetch(served.url, {}, 10_000);
    // Nothing takes the response yet: the server still gets to send everything.
    await served.finished;
    const replica = new Harness();
    const load = replica.kv.beginReplicaLoad({ unserved: true });
    expect(load.inPlace).toBe(true);
    const fetched = await fetchSnapshot(served.url, 10_000, {}, undefined, load, prefetch.take());
    load.finish();
    expect(fetched).toMatchObject({ bytes: src.snapshot.length, revision: 42, keys: 24_000 });
    expect(replica.kv.revision()).toBe(src.revision);
    expect(Buffer.from(replica.kv.serialize({ history: false })).equals(src.whole)).toBe(true);
    // Once taken, it is gone: a later attempt downloads afresh.
    expect(prefetch.take()).toBeUndefined();
  });

  it('gzip on the wire gives the same state', async () => {
    const served = await serve(src.snapshot, { gzip: true });
    const replica = new Harness();
    const load = replica.kv.beginReplicaLoad({ unserved: true });
    const fetched = await fetchSnapshot(served.url, 10_000, {}, undefined, load);
    load.finish();
    expect(fetched.wireBytes).toBeLessThan(src.snapshot.length / 10);
    expect(Buffer.from(replica.kv.serialize({ history: false })).equals(src.whole)).toBe(true);
  });

  it('refuses a wrong digest and a cut body; the replica stays empty', async () => {
    for (const options of [{ digest: '0'.repeat(64) }, { cutTo: src.snapshot.length - 1000 }]) {
      const served = await serve(src.snapshot, options);
      const replica = new Harness();
      const load = replica.kv.beginReplicaLoad({ unserved: true });
      const error = await fetchSnapshot(served.url, 10_000, {}, undefined, load).then(
        () => undefined,
        (e: unknown) => e,
      );
      load.abort();
      expect(error).toBeInstanceOf(SnapshotFetchError);
      expect((error as SnapshotFetchError).code).toBe('SNAPSHOT_DIGEST_MISMATCH');
      expect(replica.kv.revision()).toBe(0);
      expect(replica.kv.range({ countOnly: true }).count).toBe(0);
    }
  });

  it('a prefetch of a primary that is down fails the attempt that takes it; cancel ends one untaken', async () => {
    const served = await serve(src.snapshot);
    const deadUrl = served.url;
    await new Promise((r) => served.server.close(r));
    servers.splice(servers.indexOf(served.server), 1);
    const prefetch = new SnapshotPrefetch(deadUrl, {}, 10_000);
    const replica = new Harness();
    const load = replica.kv.beginReplicaLoad({ unserved: true });
    await expect(fetchSnapshot(deadUrl, 10_000, {}, undefined, load, prefetch.take())).rejects.toThrow(
      /ECONNREFUSED/,
    );
    load.abort();

    const live = await serve(src.snapshot);
    const untaken = new SnapshotPrefetch(live.url, {}, 10_000);
    untaken.cancel();
    expect(untaken.take()).toBeUndefined();
  });
});
