// Backups streamed to disk: `client.snapshotTo` writes the bytes as they come and checks the
// size and digest from the trailers at the end, so neither the node nor the client holds the
// snapshot whole; behind a proxy that drops HTTP trailers it fails with `digestMissing`, and
// `client.snapshot()` and `conclave snapshot save` then ask for the digest up front and still
// get a good backup.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConclaveError, createClient } from '../../src/index.js';
import { ProcessCluster } from '../server/process-cluster.js';
import { runCli } from './helpers.js';

/** `conclave ...args` run to completion (a backup or restore may take a while). */
function conclave(args: readonly string[]): ReturnType<typeof runCli> {
  return runCli(args, { timeoutMs: 60_000 });
}

/** A reverse proxy that passes status, headers and body, and drops the trailers; `seen` gets each path asked. */
async function trailerDroppingProxy(target: string, seen: string[]): Promise<Server> {
  const upstream = new URL(target);
  const server = createServer((req, res) => {
    seen.push(req.url ?? '');
    const out = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        path: req.url,
        method: req.method,
        headers: req.headers,
      },
      (answer) => {
        const headers = { ...answer.headers };
        delete headers.trailer;
        res.writeHead(answer.statusCode ?? 502, headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

describe('snapshots streamed to disk (real process)', () => {
  let cluster: ProcessCluster;
  let proxy: Server;
  let proxyUrl: string;
  const proxied: string[] = [];

  beforeAll(async () => {
    cluster = await ProcessCluster.create(1);
    cluster.startAll();
    await cluster.waitReady();
    const client = createClient({ endpoints: [cluster.nodes[0]!.url] });
    try {
      for (let i = 0; i < 200; i++) await client.put(`stream/${i}`, `value ${i} ${'x'.repeat(200)}`);
    } finally {
      await client.close();
    }
    proxy = await trailerDroppingProxy(cluster.nodes[0]!.url, proxied);
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    proxy.close();
    await cluster.destroy();
  });

  it('snapshotTo gives the bytes snapshot() gives, checked, without holding them', async () => {
    const client = createClient({ endpoints: [cluster.nodes[0]!.url] });
    try {
      // The node's member record is rewritten every heartbeat, so the two downloads may see
      // different states: take pairs until both are of the same revision.
      let whole: Awaited<ReturnType<typeof client.snapshot>>;
      let written: Awaited<ReturnType<typeof client.snapshotTo>>;
      let streamed: Buffer;
      let attempts = 0;
      do {
        attempts++;
        whole = await client.snapshot({ history: true });
        const pieces: Buffer[] = [];
        written = await client.snapshotTo(
          (chunk) => {
            pieces.push(Buffer.from(chunk));
          },
          { history: true },
        );
        streamed = Buffer.concat(pieces);
      } while (written.revision !== whole.revision && attempts < 20);
      expect(written.revision).toBe(whole.revision);
      expect(written.size).toBe(streamed.length);
      expect(written.sha256).toBe(createHash('sha256').update(streamed).digest('hex'));
      expect(streamed.equals(Buffer.from(whole.bytes))).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('behind a proxy that drops trailers, snapshotTo refuses (digestMissing); digest "header" works', async () => {
    const client = createClient({ endpoints: [proxyUrl] });
    try {
      const error = await client
        .snapshotTo(() => undefined)
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(ConclaveError);
      expect((error as ConclaveError).code).toBe('BAD_RESPONSE');
      expect((error as ConclaveError).details?.digestMissing).toBe(true);
      const written = await client.snapshotTo(() => undefined, { digest: 'header' });
      expect(written.size).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
  });

  it('snapshot() asks for trailers, and behind that proxy downloads again with the digest up front', async () => {
    const client = createClient({ endpoints: [proxyUrl] });
    try {
      proxied.length = 0;
      const answer = await client.snapshot({ history: true });
      expect(proxied.filter((p) => p.startsWith('/v1/snapshot'))).toEqual([
        '/v1/snapshot?history=true',
        '/v1/snapshot?digest=header&history=true',
      ]);
      expect(answer.sha256).toBe(createHash('sha256').update(answer.bytes).digest('hex'));
      expect(answer.keyCount).toBeGreaterThanOrEqual(200);
    } finally {
      await client.close();
    }
  });

  it('conclave snapshot save streams to disk, directly and through that proxy', async () => {
    for (const endpoint of [cluster.nodes[0]!.url, proxyUrl]) {
      const file = join(cluster.root, `backup-${endpoint === proxyUrl ? 'proxy' : 'direct'}.snap`);
      const run = await conclave(['snapshot', 'save', file, '--endpoints', endpoint, '-o', 'json']);
      expect(run.code, run.stderr).toBe(0);
      const saved = JSON.parse(run.stdout) as { bytes: number; sha256: string };
      const bytes = readFileSync(file);
      expect(bytes.length).toBe(saved.bytes);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(saved.sha256);
      expect(existsSync(`${file}.tmp`)).toBe(false);
    }
  });
});
