import { Inflights } from './inflights.js';
import type { Snapshot } from './types.js';

/**
 * How the leader replicates to one follower:
 * - probe: one append at a time until the follower's match is found;
 * - replicate: optimistic pipelining, bounded by the in-flight window;
 * - snapshot: the follower needs compacted entries; a snapshot is being sent in chunks.
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** The leader's view of one follower. Invariant: 0 <= match < next. */
export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** In probe state: an append is in flight, send no other until a response or a heartbeat reply. */
  probeSent = false;
  /** Heard from the follower since the last check-quorum round. */
  recentActive = false;
  /** Highest commit index told to the follower, to know when an update is owed. */
  sentCommit = 0;
  /** Match and our last index when the previous heartbeat response arrived (stall detection). */
  matchAtLastHeartbeat = 0;
  lastIndexAtHeartbeat = 0;
  /** Highest ReadIndex round the follower has acknowledged. */
  readSeqAcked = 0;
  /** In snapshot state: the snapshot being sent and how many bytes the follower holds. */
  snapshot:
    { readonly snap: Snapshot; acked: number; sent: number; ackedAtLastHeartbeat: number } | undefined;
  readonly inflights: Inflights;

  constructor(
    next: number,
    maxInflightMsgs: number,
    maxInflightBytes: number,
    public isLearner: boolean,
  ) {
    this.next = next;
    this.inflights = new Inflights(maxInflightMsgs, maxInflightBytes);
  }

  /** Whether no append may be sent now. */
  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }

  becomeProbe(): void {
    // Leaving snapshot state, the follower holds at least the snapshot's index.
    const snapIndex = this.snapshot?.snap.meta.index ?? 0;
    this.state = 'probe';
    this.next = Math.max(this.match + 1, snapIndex + 1);
    this.resetState();
  }

  becomeReplicate(): void {
    this.state = 'replicate';
    this.next = this.match + 1;
    this.resetState();
  }

  becomeSnapshot(snap: Snapshot): void {
    this.state = 'snapshot';
    this.resetState();
    this.snapshot = { snap, acked: 0, sent: 0, ackedAtLastHeartbeat: -1 };
  }

  /** Applies an acknowledgement of `index`; false if it is stale. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /**
   * Handles a rejection of the append whose previous index was `rejected`, with the follower's
   * hint `matchHint` of where logs may match. Returns false if the rejection is stale.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  /** Records an append sent with entries up to `last` weighing `bytes`. */
  sentEntries(last: number, bytes: number): void {
    if (this.state === 'replicate') {
      this.next = last + 1;
      this.inflights.add(last, bytes);
    } else {
      this.probeSent = true;
    }
  }

  private resetState(): void {
    this.probeSent = false;
    this.snapshot = undefined;
    this.inflights.reset();
  }
}
