import { quorumSize } from './quorum.js';
import type { NodeId } from './types.js';

/** A ReadIndex request waiting for its index: `from` is the node whose reader asked. */
export interface PendingRead {
  readonly context: string;
  readonly from: NodeId;
}

interface Round {
  readonly seq: number;
  /** The leader's commit index when the round started: the read index of its requests. */
  readonly index: number;
  readonly requests: readonly PendingRead[];
}

/**
 * Batched ReadIndex (thesis §6.4) on the leader. Requests arriving while a confirmation round is
 * in flight wait and share the next round, so many reads cost one heartbeat round trip.
 *
 * Invariant: round seqs strictly increase; an acknowledgement of seq s confirms every round <= s,
 * because the follower answered a heartbeat sent after those rounds started.
 */
export class ReadOnly {
  private seq = 0;
  private rounds: Round[] = [];
  private waiting: PendingRead[] = [];

  /** Queues a request; returns the seq of a round to broadcast, if one should start now. */
  add(request: PendingRead, commit: number): number | undefined {
    this.waiting.push(request);
    return this.rounds.length === 0 ? this.startRound(commit) : undefined;
  }

  /** Seq of the newest round in flight, to ride on heartbeats (0 if none). */
  latestSeq(): number {
    return this.rounds[this.rounds.length - 1]?.seq ?? 0;
  }

  /**
   * Called after an acknowledgement: releases every round that a quorum has confirmed, and
   * starts a new round for waiting requests. `ackedSeq(id)` is the highest seq `id` confirmed.
   */
  release(
    voters: readonly NodeId[],
    ackedSeq: (id: NodeId) => number,
    commit: number,
  ): { released: { index: number; request: PendingRead }[]; newRound: number | undefined } {
    const needed = quorumSize(voters.length);
    const released: { index: number; request: PendingRead }[] = [];
    while (this.rounds.length > 0) {
      const round = this.rounds[0]!;
      let acks = 0;
      for (const id of voters) if (ackedSeq(id) >= round.seq) acks++;
      if (acks < needed) break;
      this.rounds.shift();
      for (const request of round.requests) released.push({ index: round.index, request });
    }
    const newRound =
      this.rounds.length === 0 && this.waiting.length > 0 ? this.startRound(commit) : undefined;
    return { released, newRound };
  }

  /** Every request, in flight or waiting, is dropped (the leader stepped down). */
  reset(): void {
    this.rounds = [];
    this.waiting = [];
  }

  private startRound(commit: number): number {
    this.seq++;
    this.rounds.push({ seq: this.seq, index: commit, requests: this.waiting });
    this.waiting = [];
    return this.seq;
  }
}
