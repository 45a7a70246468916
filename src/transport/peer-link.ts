import { request } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Message, NodeId } from '../raft/index.js';
import { encodeMessages } from './codec.js';
import { FrameWriter } from './frames.js';
import {
  newNonce,
  PEER_HEADERS,
  PEER_PROTOCOL,
  sessionKey,
  signAccept,
  signatureMatches,
  signHello,
} from './peer-auth.js';
import type { HandshakeFields } from './peer-auth.js';

export const PEER_STREAM_PATH = '/raft/v1/stream';

export interface PeerLinkOptions {
  readonly self: NodeId;
  readonly peer: NodeId;
  /** The peer's advertised base URL, e.g. http://10.0.0.2:7400 */
  readonly url: string;
  readonly clusterName: string;
  readonly secret: string | undefined;
  readonly logger: Logger;
  /**
   * Called when the peer's process is known to be gone: the connection broke (or could not be
   * made) and its address refused a new one, so nothing listens there.
   */
  readonly onGone?: (peer: NodeId) => void;
}

/** Messages held while the connection is being made; more than this are dropped. */
const MAX_PENDING = 10_000;
/** Entry bytes per frame, so one frame does not carry a whole backlog. */
const MAX_FRAME_ENTRY_BYTES = 4 * 1024 * 1024;
/**
 * Bytes the socket may hold unsent. Beyond it the peer is not keeping up (or the network is
 * gone): messages are dropped rather than buffered without bound; Raft resends what matters.
 */
const MAX_UNSENT_BYTES = 16 * 1024 * 1024;
const HANDSHAKE_TIMEOUT_MS = 2_000;
/** How long the check that a peer still listens may take after its connection broke. */
const PROBE_TIMEOUT_MS = 1_000;
/**
 * Checks made, this far apart, until one is refused. A process being killed closes its
 * connections before its listening port, which meanwhile still completes (or resets) new
 * connections: one accepted check right after the break proves nothing, three in 100 ms do.
 */
const PROBE_ATTEMPTS = 3;
const PROBE_RETRY_MS = 50;
const MIN_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 1_000;
const ERROR_LOG_EVERY_MS = 5_000;

type LinkState = 'idle' | 'connecting' | 'open' | 'closed';

/**
 * The outgoing half of the connection to one peer: a long-lived HTTP/1.1 Upgrade to a framed
 * binary stream on the peer's one port, authenticated once by the handshake and then frame by
 * frame. Messages to the peer travel only on this link, so they arrive in the order sent.
 * Delivery is best effort: while the peer is unreachable messages are dropped and the link
 * retries with backoff; Raft resends what matters.
 */
export class PeerLink {
  private state: LinkState = 'idle';
  private socket: Socket | undefined;
  private writer: FrameWriter | undefined;
  private pending: Message[] = [];
  private retryAt = 0;
  private backoffMs = MIN_BACKOFF_MS;
  private lastErrorLogged = 0;
  /** Messages dropped since the last report (peer down or not keeping up). */
  private dropped = 0;
  /**
   * The peer was reported gone and the link has not been open since: one report per outage, so
   * a peer that stays unreachable (or one refused in this direction only, by a REJECT firewall
   * rule or a stale address) does not unsettle Raft at every redial.
   */
  private reportedGone = false;
  /** Checks in flight (see probe), ended by close(). */
  private readonly probes = new Set<Socket>();

  constructor(readonly options: PeerLinkOptions) {}

  get url(): string {
    return this.options.url;
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  send(messages: readonly Message[]): void {
    if (this.state === 'closed' || messages.length === 0) return;
    if (this.state === 'open') {
      this.write(messages);
      return;
    }
    if (this.state === 'idle') {
      if (Date.now() < this.retryAt) {
        this.dropped += messages.length;
        return;
      }
      this.connect();
    }
    for (const m of messages) {
      if (this.pending.length >= MAX_PENDING) {
        this.dropped++;
        continue;
      }
      this.pending.push(m);
    }
  }

  close(): void {
    this.state = 'closed';
    for (const probe of this.probes) probe.destroy();
    this.probes.clear();
    this.pending = [];
    this.socket?.destroy();
    this.socket = undefined;
  }

  private write(messages: readonly Message[]): void {
    const socket = this.socket!;
    const writer = this.writer!;
    if (socket.writableLength > MAX_UNSENT_BYTES) {
      this.dropped += messages.length;
      return;
    }
    socket.cork();
    let start = 0;
    while (start < messages.length) {
      const end = batchEnd(messages, start);
      const payload = encodeMessages(
        start === 0 && end === messages.length ? messages : messages.slice(start, end),
      );
      socket.write(writer.header(payload));
      socket.write(payload);
      start = end;
    }
    socket.uncork();
  }

  private connect(): void {
    this.state = 'connecting';
    const { self, peer, clusterName, secret } = this.options;
    const fields: HandshakeFields = { cluster: clusterName, from: self, to: peer, clientNonce: newNonce() };
    const headers: Record<string, string> = {
      connection: 'Upgrade',
      upgrade: PEER_PROTOCOL,
      [PEER_HEADERS.cluster]: clusterName,
      [PEER_HEADERS.from]: self,
      [PEER_HEADERS.to]: peer,
      [PEER_HEADERS.nonce]: fields.clientNonce,
    };
    if (secret !== undefined) headers[PEER_HEADERS.signature] = signHello(secret, fields);
    let settled = false;
    const fail = (reason: string, code?: string): void => {
      if (settled) return;
      settled = true;
      this.onFailure(reason);
      // Only a connection-level failure raises the question; a peer that answered HTTP (a
      // refusal, a bad handshake) is plainly listening.
      if (code === 'ECONNREFUSED') this.reportGone();
      else if (code !== undefined) this.probe();
    };
    let req: ReturnType<typeof request>;
    try {
      req = request(new URL(PEER_STREAM_PATH, this.options.url), {
        method: 'GET',
        headers,
        agent: false,
        timeout: HANDSHAKE_TIMEOUT_MS,
      });
    } catch (error) {
      fail((error as Error).message);
      return;
    }
    req.on('timeout', () => {
      req.destroy(new Error('handshake timed out'));
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      fail(error.message, error.code);
    });
    req.on('response', (res) => {
      readErrorBody(res, (body) => {
        fail(`peer answered ${res.statusCode ?? 0}${body === '' ? '' : `: ${body}`}`);
      });
    });
    req.on('upgrade', (res, socket) => {
      if (settled || this.state !== 'connecting') {
        socket.destroy();
        return;
      }
      const serverNonce = header(res.headers[PEER_HEADERS.nonce]);
      if (serverNonce === undefined || !/^[0-9a-f]{32}$/.test(serverNonce)) {
        socket.destroy();
        fail('peer accepted without a valid nonce');
        return;
      }
      if (
        secret !== undefined &&
        !signatureMatches(
          signAccept(secret, fields, serverNonce),
          header(res.headers[PEER_HEADERS.signature]),
        )
      ) {
        socket.destroy();
        fail('peer could not prove it holds the cluster secret');
        return;
      }
      settled = true;
      this.open(socket, secret === undefined ? undefined : sessionKey(secret, fields, serverNonce));
    });
    req.end();
  }

  private open(socket: Socket, key: Buffer | undefined): void {
    socket.setTimeout(0);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 5_000);
    this.socket = socket;
    this.writer = new FrameWriter(key);
    this.state = 'open';
    this.reportedGone = false;
    this.backoffMs = MIN_BACKOFF_MS;
    this.options.logger.info({ peer: this.options.peer, url: this.options.url }, 'peer link open');
    // The acceptor never sends on this stream; reading keeps close and reset visible.
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.writer = undefined;
      if (this.state === 'closed') return;
      this.onFailure('connection closed');
      this.probe();
    });
    const pending = this.pending;
    this.pending = [];
    if (pending.length > 0) this.write(pending);
  }

  /**
   * After the connection broke: does anything still listen at the peer's address? A refusal
   * means its process is gone (killed, crashed, stopped), which Raft can act on at once instead
   * of waiting out an election timeout. Accepted (or reset) checks are repeated a few times, as
   * a dying process accepts for a moment after its connections close; a timeout or no route
   * says nothing and is left to the timers.
   */
  private probe(attempt = 1): void {
    if (this.state === 'closed') return;
    let target: URL;
    try {
      target = new URL(this.options.url);
    } catch {
      return;
    }
    const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
    const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
    const again = (): void => {
      if (attempt >= PROBE_ATTEMPTS) return;
      setTimeout(() => {
        this.probe(attempt + 1);
      }, PROBE_RETRY_MS).unref();
    };
    const socket = connect({ host, port, timeout: PROBE_TIMEOUT_MS });
    this.probes.add(socket);
    socket.once('close', () => this.probes.delete(socket));
    socket.once('connect', () => {
      socket.destroy();
      again();
    });
    socket.once('timeout', () => socket.destroy());
    socket.once('error', (error: NodeJS.ErrnoException) => {
      socket.destroy();
      if (error.code === 'ECONNREFUSED') this.reportGone();
      else if (error.code === 'ECONNRESET') again();
    });
  }

  private reportGone(): void {
    if (this.state === 'closed' || this.reportedGone) return;
    this.reportedGone = true;
    this.options.onGone?.(this.options.peer);
  }

  private onFailure(reason: string): void {
    if (this.state === 'closed') return;
    const now = Date.now();
    this.state = 'idle';
    this.dropped += this.pending.length;
    this.pending = [];
    this.retryAt = now + this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    if (now - this.lastErrorLogged >= ERROR_LOG_EVERY_MS) {
      this.lastErrorLogged = now;
      this.options.logger.warn(
        { peer: this.options.peer, url: this.options.url, err: reason, dropped: this.dropped },
        'peer unreachable',
      );
      this.dropped = 0;
    }
  }
}

/** End (exclusive) of the messages from `start` that fit in one frame (at least one). */
function batchEnd(messages: readonly Message[], start: number): number {
  let bytes = 0;
  let i = start;
  for (; i < messages.length; i++) {
    const m = messages[i]!;
    if (m.type === 'append') for (const e of m.entries) bytes += e.data.length;
    else if (m.type === 'snapshot') bytes += m.data.length;
    if (i > start && bytes > MAX_FRAME_ENTRY_BYTES) break;
  }
  return i;
}

function header(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Reads at most 1 KiB of a refusal body, for the log. */
function readErrorBody(res: IncomingMessage, done: (body: string) => void): void {
  let body = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    if (body.length < 1024) body += chunk;
  });
  res.on('end', () => {
    done(body.slice(0, 1024));
  });
  res.on('error', () => {
    done(body.slice(0, 1024));
  });
}
