import type { Logger } from 'pino';
import type { Message, NodeId } from '../raft/index.js';
import { PeerLink } from './peer-link.js';

export interface PeerTransportOptions {
  readonly self: NodeId;
  readonly clusterName: string;
  readonly secret: string | undefined;
  readonly logger: Logger;
  /** A peer's process is gone (see PeerLinkOptions.onGone). */
  readonly onGone?: (peer: NodeId) => void;
}

/**
 * Sends Raft messages to peers, one PeerLink (one framed stream) per peer. Each send call puts
 * every peer's share of the messages into one frame, so a Ready costs one write per peer.
 */
export class PeerTransport {
  private readonly links = new Map<NodeId, PeerLink>();

  constructor(private readonly options: PeerTransportOptions) {}

  /** Adds or re-points a peer. */
  setPeer(id: NodeId, url: string): void {
    if (id === this.options.self) return;
    const existing = this.links.get(id);
    if (existing?.url === url) return;
    existing?.close();
    this.links.set(id, new PeerLink({ ...this.options, peer: id, url }));
  }

  removePeer(id: NodeId): void {
    this.links.get(id)?.close();
    this.links.delete(id);
  }

  peerUrl(id: NodeId): string | undefined {
    return this.links.get(id)?.url;
  }

  send(messages: readonly Message[]): void {
    if (messages.length === 1) {
      const m = messages[0]!;
      this.links.get(m.to)?.send(messages);
      return;
    }
    const byPeer = new Map<NodeId, Message[]>();
    for (const m of messages) {
      let list = byPeer.get(m.to);
      if (list === undefined) byPeer.set(m.to, (list = []));
      list.push(m);
    }
    for (const [id, list] of byPeer) this.links.get(id)?.send(list);
  }

  close(): Promise<void> {
    for (const link of this.links.values()) link.close();
    this.links.clear();
    return Promise.resolve();
  }
}
