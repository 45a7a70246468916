import type { Logger } from 'pino';
import { Client } from 'undici';
import type { Message, NodeId } from '../raft/index.js';
import { encodeMessages } from './codec.js';
import { PEER_HEADERS, signPeerRequest } from './peer-auth.js';

export const PEER_MESSAGES_PATH = '/raft/v1/messages';

export interface PeerTransportOptions {
  readonly self: NodeId;
  readonly clusterName: string;
  readonly secret: string | undefined;
  readonly logger: Logger;
}

/** Requests in flight per peer on one pipelined keep-alive connection (order is preserved). */
const MAX_IN_FLIGHT = 4;
/** Messages queued for a peer beyond this are dropped; Raft resends what matters. */
const MAX_QUEUED = 10_000;
/** Entry bytes per request, so one slow request does not carry the whole backlog. */
const MAX_BATCH_BYTES = 4 * 1024 * 1024;

interface Peer {
  url: string;
  client: Client;
  queue: Message[];
  inFlight: number;
  /** While the peer is unreachable, messages are dropped instead of queued (ms timestamp). */
  downUntil: number;
  backoffMs: number;
  lastErrorLogged: number;
}

/**
 * Sends Raft messages to peers over HTTP on their one port. Per peer, messages are batched into
 * one request body and pipelined on a single connection so they arrive in order. Delivery is
 * best effort: on failure the batch is dropped and the peer is backed off.
 */
export class PeerTransport {
  private readonly peers = new Map<NodeId, Peer>();

  constructor(private readonly options: PeerTransportOptions) {}

  /** Adds or re-points a peer. */
  setPeer(id: NodeId, url: string): void {
    if (id === this.options.self) return;
    const existing = this.peers.get(id);
    if (existing?.url === url) return;
    if (existing !== undefined) void existing.client.close().catch(() => undefined);
    this.peers.set(id, {
      url,
      client: new Client(url, { pipelining: MAX_IN_FLIGHT, keepAliveTimeout: 30_000, connectTimeout: 2_000 }),
      queue: [],
      inFlight: 0,
      downUntil: 0,
      backoffMs: 50,
      lastErrorLogged: 0,
    });
  }

  removePeer(id: NodeId): void {
    const peer = this.peers.get(id);
    if (peer === undefined) return;
    this.peers.delete(id);
    void peer.client.close().catch(() => undefined);
  }

  peerUrl(id: NodeId): string | undefined {
    return this.peers.get(id)?.url;
  }

  send(messages: readonly Message[]): void {
    const now = Date.now();
    const touched = new Set<Peer>();
    for (const m of messages) {
      const peer = this.peers.get(m.to);
      if (peer === undefined || peer.downUntil > now || peer.queue.length >= MAX_QUEUED) continue;
      peer.queue.push(m);
      touched.add(peer);
    }
    for (const [id, peer] of this.peers) if (touched.has(peer)) this.flush(id, peer);
  }

  async close(): Promise<void> {
    const peers = [...this.peers.values()];
    this.peers.clear();
    await Promise.all(peers.map((p) => p.client.destroy().catch(() => undefined)));
  }

  private flush(id: NodeId, peer: Peer): void {
    while (peer.inFlight < MAX_IN_FLIGHT && peer.queue.length > 0) {
      const batch = takeBatch(peer.queue);
      const body = encodeMessages(batch);
      const headers: Record<string, string> = {
        'content-type': 'application/octet-stream',
        [PEER_HEADERS.cluster]: this.options.clusterName,
        [PEER_HEADERS.from]: this.options.self,
      };
      if (this.options.secret !== undefined) {
        headers[PEER_HEADERS.signature] = signPeerRequest(
          this.options.secret,
          this.options.clusterName,
          this.options.self,
          id,
          body,
        );
      }
      peer.inFlight++;
      peer.client
        .request({
          method: 'POST',
          path: PEER_MESSAGES_PATH,
          headers,
          body,
          headersTimeout: 5_000,
          bodyTimeout: 5_000,
          // undici pipelines only requests it may resend and that do not block: Raft tolerates
          // duplicated messages and peers answer at once, so each append need not wait for the
          // previous answer (which would come only after the leader's own fsync).
          idempotent: true,
          blocking: false,
        })
        .then(async (res) => {
          await res.body.dump();
          if (res.statusCode >= 300) throw new Error(`peer answered ${res.statusCode}`);
          peer.backoffMs = 50;
        })
        .catch((error: unknown) => {
          this.markDown(id, peer, error);
        })
        .finally(() => {
          peer.inFlight--;
          if (this.peers.get(id) === peer) this.flush(id, peer);
        });
    }
  }

  private markDown(id: NodeId, peer: Peer, error: unknown): void {
    const now = Date.now();
    peer.downUntil = now + peer.backoffMs;
    peer.backoffMs = Math.min(peer.backoffMs * 2, 1_000);
    peer.queue = [];
    if (now - peer.lastErrorLogged > 5_000) {
      peer.lastErrorLogged = now;
      this.options.logger.warn(
        { peer: id, url: peer.url, err: (error as Error).message },
        'peer unreachable',
      );
    }
  }
}

function takeBatch(queue: Message[]): Message[] {
  let bytes = 0;
  let n = 0;
  for (; n < queue.length; n++) {
    const m = queue[n]!;
    if (m.type === 'append') for (const e of m.entries) bytes += e.data.length;
    else if (m.type === 'snapshot') bytes += m.data.length;
    if (n > 0 && bytes > MAX_BATCH_BYTES) break;
  }
  return queue.splice(0, Math.max(n, 1));
}
