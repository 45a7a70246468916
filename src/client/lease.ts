// A granted lease with its keep-alive loop: renewed every third of its TTL until revoked,
// closed, or lost: expired on the server, or its deadline passed here without a renewal. The
// deadline counts from when a renewal was sent, so the client never believes it holds a lease
// the leader has let go.

import type { Caller } from './caller.js';
import { ConclaveError } from './errors.js';

export class Lease {
  readonly id: number;
  /** Seconds. */
  readonly ttl: number;
  /** The store revision of the grant. */
  readonly revision: number;
  /** Resolves with the reason when the lease is lost; never rejects. */
  readonly lost: Promise<ConclaveError>;
  /** Aborted when the lease is lost, revoked or closed: tie work that needs the lease to it. */
  readonly signal: AbortSignal;
  private readonly caller: Caller;
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private deadline: number;
  private markLost!: (reason: ConclaveError) => void;
  private ended = false;

  constructor(caller: Caller, grant: { id: number; ttl: number; revision: number }, keepAlive: boolean) {
    const ttl = grant.ttl;
    this.caller = caller;
    this.id = grant.id;
    this.ttl = ttl;
    this.revision = grant.revision;
    this.signal = this.controller.signal;
    this.deadline = Date.now() + ttl * 1000;
    this.lost = new Promise((resolve) => {
      this.markLost = resolve;
    });
    if (keepAlive) {
      this.armDeadline();
      this.schedule(this.every());
    }
  }

  /** One renewal now; returns the milliseconds left. Throws LEASE_NOT_FOUND once it expired. */
  async keepAliveOnce(signal?: AbortSignal): Promise<number> {
    const sent = Date.now();
    const answer = await this.caller.json<{ remainingMs: number }>({
      method: 'POST',
      path: `/v1/leases/${this.id}/keepalive`,
      target: 'leader',
      signal,
    });
    this.deadline = sent + answer.body.remainingMs;
    if (this.deadlineTimer !== undefined) this.armDeadline();
    return answer.body.remainingMs;
  }

  /** Revokes it: its keys are deleted at once. A lease already gone counts as revoked. */
  async revoke(signal?: AbortSignal): Promise<{ revision: number; deleted: number } | undefined> {
    this.end();
    try {
      const answer = await this.caller.json<{ revision: number; deleted: number }>({
        method: 'DELETE',
        path: `/v1/leases/${this.id}`,
        target: 'leader',
        signal,
      });
      return { revision: answer.body.revision, deleted: answer.body.deleted };
    } catch (error) {
      if (error instanceof ConclaveError && error.code === 'LEASE_NOT_FOUND') return undefined;
      throw error;
    }
  }

  /** Stops renewing without revoking: the lease expires after its TTL. */
  close(): void {
    this.end();
  }

  private end(): void {
    this.ended = true;
    clearTimeout(this.timer);
    clearTimeout(this.deadlineTimer);
    this.controller.abort(new Error(`lease ${this.id} ended`));
  }

  /** A third of the TTL, so that two renewals can fail before the deadline. */
  private every(): number {
    return Math.max(100, (this.ttl * 1000) / 3);
  }

  private schedule(delayMs: number): void {
    if (this.ended) return;
    this.timer = setTimeout(() => {
      this.renew().catch(() => undefined);
    }, delayMs);
    // Not unref'd: a process that keeps a lease alive stays up until it closes or revokes it.
  }

  /** Lost the moment the deadline passes without a renewal, whatever the loop is doing. */
  private armDeadline(): void {
    clearTimeout(this.deadlineTimer);
    this.deadlineTimer = setTimeout(
      () => {
        if (this.ended) return;
        this.lose(this.expired());
      },
      Math.max(0, this.deadline - Date.now()),
    );
    this.deadlineTimer.unref();
  }

  private async renew(): Promise<void> {
    if (this.ended) return;
    try {
      // No timeout of its own: at the deadline the deadline timer loses the lease, which aborts
      // this call through this.signal.
      await this.keepAliveOnce(this.signal);
    } catch (error) {
      if (this.isEnded()) return;
      const e = error instanceof ConclaveError ? error : new ConclaveError('UNAVAILABLE', String(error));
      if (e.code === 'LEASE_NOT_FOUND') {
        this.lose(e);
        return;
      }
      // Failed past the deadline before its timer ran: the reason is the deadline all the same.
      if (Date.now() >= this.deadline) {
        this.lose(this.expired());
        return;
      }
      // Failed with time left: try again sooner than the usual period.
      this.schedule(Math.min(this.every(), Math.max(100, (this.deadline - Date.now()) / 3)));
      return;
    }
    this.schedule(this.every());
  }

  private expired(): ConclaveError {
    return new ConclaveError('LEASE_EXPIRED', `lease ${this.id} was not renewed before its deadline`, {
      details: { id: this.id },
    });
  }

  /** Read afresh after an await. */
  private isEnded(): boolean {
    return this.ended;
  }

  private lose(reason: ConclaveError): void {
    this.end();
    this.markLost(reason);
  }
}
