import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Message, NodeId } from '../../raft/index.js';
import { CodecError, decodeMessages } from '../../transport/codec.js';
import { FrameError, FrameReader } from '../../transport/frames.js';
import {
  newNonce,
  PEER_HEADERS,
  PEER_PROTOCOL,
  sessionKey,
  signAccept,
  signatureMatches,
  signHello,
} from '../../transport/peer-auth.js';
import type { HandshakeFields } from '../../transport/peer-auth.js';
import { PEER_STREAM_PATH } from '../../transport/peer-link.js';

export interface PeerStreamOptions {
  readonly self: NodeId;
  readonly clusterName: string;
  readonly secret: string | undefined;
  /** Largest frame a peer may send: append batches and snapshot chunks. */
  readonly maxPeerBytes: number;
  readonly logger: Logger;
  readonly deliver: (messages: Message[]) => void;
}

const NONCE = /^[0-9a-f]{32}$/;

/**
 * Accepts the peer streams of other primaries on the client port (the incoming half of
 * PeerLink). The handshake is an HTTP/1.1 Upgrade to `conclave-raft/1` on /raft/v1/stream;
 * it is refused, with a JSON error and a log line, when it names another cluster (403
 * WRONG_CLUSTER), another node (421 WRONG_NODE), or is not signed with the cluster secret (401
 * UNAUTHORIZED). After the 101, every frame must carry a valid MAC and decode; the first that
 * does not closes the stream (logged), and the dialer reconnects.
 */
export function registerPeerStream(app: FastifyInstance, options: PeerStreamOptions): void {
  const streams = new Set<Duplex>();
  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    try {
      accept(req, socket, head, options, streams);
    } catch (error) {
      options.logger.error({ err: error }, 'peer stream handshake failed');
      socket.destroy();
    }
  });
  // Before the server closes: it waits for every connection, and a peer's stream never ends by itself.
  app.addHook('preClose', (done) => {
    for (const s of streams) s.destroy();
    streams.clear();
    done();
  });
}

function accept(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  options: PeerStreamOptions,
  streams: Set<Duplex>,
): void {
  socket.on('error', () => undefined);
  const path = (req.url ?? '').split('?')[0];
  // Node hands every request with an Upgrade header here once anyone listens for upgrades, so
  // an HTTP/2 (h2c) upgrade offer on the client API cannot fall back to HTTP/1.1: say so.
  if (
    path !== PEER_STREAM_PATH ||
    req.method !== 'GET' ||
    header(req.headers.upgrade)?.toLowerCase() !== PEER_PROTOCOL
  ) {
    refuse(
      socket,
      400,
      'UNSUPPORTED_UPGRADE',
      `only GET ${PEER_STREAM_PATH} upgrades (to ${PEER_PROTOCOL}); send other requests without an Upgrade header`,
    );
    return;
  }
  const cluster = header(req.headers[PEER_HEADERS.cluster]);
  const from = header(req.headers[PEER_HEADERS.from]);
  const to = header(req.headers[PEER_HEADERS.to]);
  const clientNonce = header(req.headers[PEER_HEADERS.nonce]);
  const ip = req.socket.remoteAddress;
  const log = options.logger;
  if (
    cluster === undefined ||
    from === undefined ||
    to === undefined ||
    clientNonce === undefined ||
    !NONCE.test(clientNonce)
  ) {
    refuse(socket, 400, 'BAD_PEER_MESSAGE', 'the handshake lacks cluster, sender, receiver or nonce');
    return;
  }
  const fields: HandshakeFields = { cluster, from, to, clientNonce };
  if (
    options.secret !== undefined &&
    !signatureMatches(signHello(options.secret, fields), header(req.headers[PEER_HEADERS.signature]))
  ) {
    log.warn({ from, ip }, 'refused a peer request with a missing or wrong signature');
    refuse(socket, 401, 'UNAUTHORIZED', 'missing or wrong cluster secret signature');
    return;
  }
  if (cluster !== options.clusterName) {
    log.warn({ peerCluster: cluster, from, ip }, 'refused a peer of another cluster');
    refuse(socket, 403, 'WRONG_CLUSTER', 'this node belongs to another cluster');
    return;
  }
  if (to !== options.self) {
    log.warn({ from, to, ip }, 'refused a peer stream meant for another node');
    refuse(socket, 421, 'WRONG_NODE', `this node is "${options.self}", not "${to}"`);
    return;
  }

  const serverNonce = newNonce();
  const lines = [
    'HTTP/1.1 101 Switching Protocols',
    'Connection: Upgrade',
    `Upgrade: ${PEER_PROTOCOL}`,
    `${PEER_HEADERS.nonce}: ${serverNonce}`,
  ];
  if (options.secret !== undefined) {
    lines.push(`${PEER_HEADERS.signature}: ${signAccept(options.secret, fields, serverNonce)}`);
  }
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  const reader = new FrameReader(
    options.maxPeerBytes,
    options.secret === undefined ? undefined : sessionKey(options.secret, fields, serverNonce),
  );
  streams.add(socket);
  log.info({ from, ip }, 'peer stream accepted');
  const onData = (chunk: Buffer): void => {
    let payloads: Buffer[];
    try {
      payloads = reader.push(chunk);
    } catch (error) {
      if (!(error instanceof FrameError)) throw error;
      log.warn({ from, ip, code: error.code, err: error.message }, 'closing a peer stream: bad frame');
      socket.destroy();
      return;
    }
    for (const payload of payloads) {
      let messages: Message[];
      try {
        messages = decodeMessages(payload);
      } catch (error) {
        if (!(error instanceof CodecError)) throw error;
        log.warn({ from, ip, err: error.message }, 'malformed peer message; closing the stream');
        socket.destroy();
        return;
      }
      // A peer speaks only for itself and only to us.
      const valid = messages.filter((m) => m.from === from && m.to === options.self);
      if (valid.length > 0) options.deliver(valid);
    }
  };
  socket.on('data', (chunk: Buffer) => {
    try {
      onData(chunk);
    } catch (error) {
      log.error({ from, err: error }, 'peer stream failed; closing it');
      socket.destroy();
    }
  });
  socket.on('close', () => {
    streams.delete(socket);
    log.info({ from }, 'peer stream closed');
  });
  if (head.length > 0) onData(head);
}

function refuse(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message, details: null } });
  setTimeout(() => socket.destroy(), 1_000).unref();
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

function header(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
