// The peer stream end to end in one process: a real Fastify server with the upgrade handler, real
// sockets, and PeerLink dialing it.
import type { Socket } from 'node:net';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '../../src/raft/types.js';
import { createApp } from '../../src/server/http/app.js';
import { registerPeerStream } from '../../src/server/http/peer-stream.js';
import { encodeMessages } from '../../src/transport/codec.js';
import { FrameWriter } from '../../src/transport/frames.js';
import { newNonce, sessionKey, signAccept } from '../../src/transport/peer-auth.js';
import { PeerLink } from '../../src/transport/peer-link.js';
import { handshake, helloHeaders } from './handshake.js';

const SECRET = 'stream-secret-0123456789';

interface Captured {
  readonly logger: Logger;
  text(): string;
}

function captureLogs(): Captured {
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), text: () => text };
}

interface Server {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly port: number;
  readonly received: Message[];
  readonly logs: Captured;
}

const open: { close(): unknown }[] = [];

async function startServer(options: { secret?: string; port?: number } = {}): Promise<Server> {
  const logs = captureLogs();
  const app = createApp({ logger: logs.logger, maxRequestBytes: 1024 * 1024 });
  const received: Message[] = [];
  registerPeerStream(app, {
    self: 'b',
    clusterName: 'c',
    secret: options.secret,
    maxPeerBytes: 1024 * 1024,
    logger: logs.logger,
    deliver: (messages) => received.push(...messages),
  });
  await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  open.push(app);
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { app, url: `http://127.0.0.1:${address.port}`, port: address.port, received, logs };
}

function link(
  url: string,
  options: { secret?: string; cluster?: string; to?: string; onGone?: (peer: string) => void } = {},
): {
  link: PeerLink;
  logs: Captured;
} {
  const logs = captureLogs();
  const l = new PeerLink({
    self: 'a',
    peer: options.to ?? 'b',
    url,
    clusterName: options.cluster ?? 'c',
    secret: options.secret,
    logger: logs.logger,
    ...(options.onGone === undefined ? {} : { onGone: options.onGone }),
  });
  open.push(l);
  return { link: l, logs };
}

function heartbeat(term: number, to = 'b'): Message {
  return { type: 'heartbeat', from: 'a', to, term, commit: 0, readSeq: 0 };
}

async function until(what: string, ok: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function errorCode(body: string): string {
  return (JSON.parse(body) as { error: { code: string } }).error.code;
}

/** A link (recording its gone reports) to a port where a peer listened and no longer does. */
async function linkToClosedPort(): Promise<{ link: PeerLink; gone: string[] }> {
  const server = await startServer({ secret: SECRET });
  await server.app.close();
  const gone: string[] = [];
  const { link: l } = link(server.url, { secret: SECRET, onGone: (peer) => gone.push(peer) });
  return { link: l, gone };
}

afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

describe('peer stream', () => {
  it('delivers every message in the order sent, authenticated frame by frame', async () => {
    const server = await startServer({ secret: SECRET });
    const { link: l } = link(server.url, { secret: SECRET });
    const sent: Message[] = [];
    for (let i = 1; i <= 500; i++) {
      const batch = [heartbeat(i * 2), heartbeat(i * 2 + 1)];
      sent.push(...batch);
      l.send(batch);
      if (i % 50 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await until('all messages', () => server.received.length === sent.length);
    expect(server.received).toEqual(sent);
    expect(server.logs.text()).toContain('peer stream accepted');
  });

  it('works without a secret', async () => {
    const server = await startServer();
    const { link: l } = link(server.url);
    l.send([heartbeat(7)]);
    await until('the message', () => server.received.length === 1);
    expect(server.received).toEqual([heartbeat(7)]);
  });

  it('refuses a dialer with the wrong secret (401, logged) and delivers nothing', async () => {
    const server = await startServer({ secret: SECRET });
    const { link: l, logs } = link(server.url, { secret: 'not-the-secret-000000' });
    l.send([heartbeat(1)]);
    await until('the refusal', () => logs.text().includes('peer unreachable'));
    expect(logs.text()).toContain('peer answered 401');
    expect(server.logs.text()).toContain('refused a peer request with a missing or wrong signature');
    expect(server.received).toEqual([]);
  });

  it('answers each bad handshake with its documented error', async () => {
    const server = await startServer({ secret: SECRET });
    const nonce = newNonce();
    const fields = { cluster: 'c', from: 'a', to: 'b', nonce };

    const unsigned = await handshake(server.url, {
      ...helloHeaders(fields, SECRET),
      'x-conclave-signature': '',
    });
    expect([unsigned.status, errorCode(unsigned.body)]).toEqual([401, 'UNAUTHORIZED']);

    const other = await handshake(server.url, helloHeaders({ ...fields, cluster: 'other' }, SECRET));
    expect([other.status, errorCode(other.body)]).toEqual([403, 'WRONG_CLUSTER']);
    expect(other.body).not.toContain('"c"'); // our cluster's name is not given away
    expect(server.logs.text()).toContain('refused a peer of another cluster');

    const misdirected = await handshake(server.url, helloHeaders({ ...fields, to: 'z' }, SECRET));
    expect([misdirected.status, errorCode(misdirected.body)]).toEqual([421, 'WRONG_NODE']);

    const noNonce = await handshake(server.url, {
      ...helloHeaders(fields, SECRET),
      'x-conclave-nonce': 'xyz',
    });
    expect([noNonce.status, errorCode(noNonce.body)]).toEqual([400, 'BAD_PEER_MESSAGE']);

    const elsewhere = await handshake(server.url, helloHeaders(fields, SECRET), '/v1/kv/x');
    expect([elsewhere.status, errorCode(elsewhere.body)]).toEqual([400, 'UNSUPPORTED_UPGRADE']);

    // The server is still serving.
    const ok = await handshake(server.url, helloHeaders(fields, SECRET));
    expect(ok.status).toBe(101);
    expect(ok.res.headers['x-conclave-signature']).toBe(
      signAccept(SECRET, { ...fields, clientNonce: nonce }, ok.res.headers['x-conclave-nonce'] as string),
    );
    ok.socket?.destroy();
  });

  it('closes a stream on a forged frame, and keeps only what came before it', async () => {
    const server = await startServer({ secret: SECRET });
    const nonce = newNonce();
    const fields = { cluster: 'c', from: 'a', to: 'b', nonce };
    const answer = await handshake(server.url, helloHeaders(fields, SECRET));
    const socket = answer.socket!;
    const key = sessionKey(
      SECRET,
      { ...fields, clientNonce: nonce },
      answer.res.headers['x-conclave-nonce'] as string,
    );
    const writer = new FrameWriter(key);
    const good = encodeMessages([heartbeat(3)]);
    socket.write(writer.header(good));
    socket.write(good);
    await until('the good frame', () => server.received.length === 1);

    const forged = encodeMessages([heartbeat(4)]);
    const header = new FrameWriter(key).header(forged); // MAC of frame 0, sent as frame 1
    const closed = new Promise<void>((resolve) =>
      socket.once('close', () => {
        resolve();
      }),
    );
    socket.write(header);
    socket.write(forged);
    await closed;
    expect(server.received).toEqual([heartbeat(3)]);
    expect(server.logs.text()).toContain('closing a peer stream: bad frame');
  });

  it('closes a stream whose frame does not decode, or speaks for another sender', async () => {
    const server = await startServer();
    const nonce = newNonce();
    const answer = await handshake(server.url, {
      'x-conclave-cluster': 'c',
      'x-conclave-from': 'a',
      'x-conclave-to': 'b',
      'x-conclave-nonce': nonce,
    });
    const socket = answer.socket!;
    const writer = new FrameWriter(undefined);
    const spoofed = encodeMessages([{ ...heartbeat(5), from: 'someone-else' }]);
    socket.write(writer.header(spoofed));
    socket.write(spoofed);
    const garbage = Buffer.from('not a batch');
    const closed = new Promise<void>((resolve) =>
      socket.once('close', () => {
        resolve();
      }),
    );
    socket.write(writer.header(garbage));
    socket.write(garbage);
    await closed;
    expect(server.received).toEqual([]);
    expect(server.logs.text()).toContain('malformed peer message');
  });

  it('reconnects after the peer restarts', async () => {
    const first = await startServer({ secret: SECRET });
    const { link: l } = link(first.url, { secret: SECRET });
    l.send([heartbeat(1)]);
    await until('the first message', () => first.received.length === 1);
    await first.app.close();
    await until('the link to notice', () => !l.isOpen);
    const second = await startServer({ secret: SECRET, port: first.port });
    const deadline = Date.now() + 5_000;
    while (second.received.length === 0 && Date.now() < deadline) {
      l.send([heartbeat(2)]);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(second.received[0]).toEqual(heartbeat(2));
  });

  it('reports the peer gone when its stream breaks and its address refuses connections', async () => {
    const server = await startServer({ secret: SECRET });
    const gone: string[] = [];
    const { link: l } = link(server.url, { secret: SECRET, onGone: (peer) => gone.push(peer) });
    l.send([heartbeat(1)]);
    await until('the message', () => server.received.length === 1);
    expect(gone).toEqual([]);
    await server.app.close();
    await until('the peer reported gone', () => gone.length > 0);
    expect(gone[0]).toBe('b');
  });

  it('does not report a peer that still listens when only its stream broke', async () => {
    const server = await startServer({ secret: SECRET });
    const streams: Socket[] = [];
    server.app.server.on('upgrade', (_request, socket: Socket) => streams.push(socket));
    const gone: string[] = [];
    const { link: l } = link(server.url, { secret: SECRET, onGone: (peer) => gone.push(peer) });
    l.send([heartbeat(1)]);
    await until('the message', () => server.received.length === 1);
    for (const socket of streams) socket.destroy();
    await until('the link to notice', () => !l.isOpen);
    await new Promise((r) => setTimeout(r, 300));
    expect(gone).toEqual([]);
  });

  it('reports a peer gone whose address refuses the first connection', async () => {
    const { link: l, gone } = await linkToClosedPort();
    l.send([heartbeat(1)]);
    await until('the peer reported gone', () => gone.length > 0);
    expect(gone).toEqual(['b']);
  });

  it('reports a peer gone once per outage, however often the link redials', async () => {
    const { link: l, gone } = await linkToClosedPort();
    // The link redials at each send once its backoff (50 ms, doubling) has passed.
    const until = Date.now() + 1_000;
    while (Date.now() < until) {
      l.send([heartbeat(1)]);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(gone).toEqual(['b']);
  });

  it('reports nothing once closed, even for a dial already under way', async () => {
    const { link: l, gone } = await linkToClosedPort();
    l.send([heartbeat(1)]);
    l.close();
    await new Promise((r) => setTimeout(r, 300));
    expect(gone).toEqual([]);
  });
});
