// A granted lease with its keep-alive loop: renewed every third of its TTL until revoked,
// closed, or lost (expired on the server, or not renewed before its deadline).

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
    if (keepAlive) this.schedule();
  }

  /** One renewal now; returns the milliseconds left. Throws LEASE_NOT_FOUND once it expired. */
  async keepAliveOnce(signal?: AbortSignal): Promise<number> {
    const answer = await this.caller.json<{ remainingMs: number }>({
      method: 'POST',
      path: `/v1/leases/${this.id}/keepalive`,
      target: 'leader',
      signal,
    });
    this.deadline = Date.now() + answer.body.remainingMs;
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
    this.controller.abort(new Error(`lease ${this.id} ended`));
  }

  private schedule(): void {
    if (this.ended) return;
    // A third of the TTL, so that two renewals can fail before the deadline.
    const every = Math.max(100, (this.ttl * 1000) / 3);
    this.timer = setTimeout(() => {
      this.renew().catch(() => undefined);
    }, every);
    this.timer.unref();
  }

  private async renew(): Promise<void> {
    if (this.ended) return;
    try {
      const left = Math.max(100, this.deadline - Date.now());
      await this.keepAliveOnce(AbortSignal.any([this.signal, AbortSignal.timeout(left)]));
    } catch (error) {
      if (this.isEnded()) return;
      const e = error instanceof ConclaveError ? error : new ConclaveError('UNAVAILABLE', String(error));
      if (e.code === 'LEASE_NOT_FOUND' || Date.now() >= this.deadline) {
        this.lose(e);
        return;
      }
    }
    this.schedule();
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
