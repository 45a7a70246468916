import type { Logger } from 'pino';
import type { ApplyResult, Command, KvStore } from '../../kv/index.js';

export interface LessorDeps {
  readonly kv: KvStore;
  isLeader(): boolean;
  propose(command: Command): Promise<ApplyResult>;
  readonly logger: Logger;
}

/** How often the leader looks for expired leases. */
export const LESSOR_TICK_MS = 250;
/** A gap between ticks longer than this means the process was stalled: deadlines move by the gap. */
const STALL_MS = 2_000;
/** A revoke still unconfirmed after this long is proposed again. */
const REVOKE_RETRY_MS = 2_000;
/**
 * Every lease is read again at least this often: a safety net (grants and revokes are normally
 * followed through the store's lease journal). 100,000 leases take 0.1–0.2 s to read.
 */
const FULL_SYNC_MS = 60_000;
/** Revokes proposed per tick at most, so a mass expiry does not flood the log at once. */
const MAX_REVOKES_PER_TICK = 200;

/**
 * Lease deadlines, kept by the leader only, in memory. The replicated state holds each lease's
 * TTL, never a wall-clock deadline (clocks differ between nodes). Expiry is decided here and
 * enacted through the log (a `leaseRevoke` command), so every node deletes the same keys at the
 * same revision. When a node becomes leader, every lease gets its full TTL again: a new leader,
 * which cannot know how long ago the old one last heard a keep-alive, never revokes leases en
 * masse. A leader whose process was stalled (GC, paging, SIGSTOP) moves every deadline by the
 * stall, for the same reason.
 */
export class Lessor {
  private readonly deadlines = new Map<number, number>();
  /** Leases whose revoke was proposed, with when. */
  private readonly revoking = new Map<number, number>();
  private leading = false;
  private lastTick = 0;
  /** The store's lease version at the last read of every lease, and when that was. */
  private syncedVersion = -1;
  private syncedAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: LessorDeps) {}

  start(): void {
    this.timer = setInterval(() => {
      this.tick(Date.now());
    }, LESSOR_TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Renews a lease on the leader: its deadline becomes now + TTL. Returns the TTL, or undefined
   * if no such lease exists. The caller makes sure this node is the leader and is up to date.
   */
  keepAlive(id: number, now = Date.now()): { ttl: number } | undefined {
    // Expired with its revoke on the way: too late to renew.
    if (this.revoking.has(id)) return undefined;
    const lease = this.deps.kv.lease(id);
    if (lease === undefined) return undefined;
    this.deadlines.set(id, now + lease.ttl * 1000);
    return { ttl: lease.ttl };
  }

  /** Milliseconds left before the leader revokes the lease; undefined when unknown here. */
  remainingMs(id: number, now = Date.now()): number | undefined {
    const deadline = this.deadlines.get(id);
    return deadline === undefined ? undefined : Math.max(0, deadline - now);
  }

  tick(now: number): void {
    if (!this.deps.isLeader()) {
      if (this.leading) {
        this.leading = false;
        this.deadlines.clear();
        this.revoking.clear();
      }
      this.lastTick = now;
      return;
    }
    if (!this.leading) {
      this.leading = true;
      this.deadlines.clear();
      this.syncedVersion = -1;
      this.sync(now);
      if (this.deadlines.size > 0) {
        this.deps.logger.info(
          { leases: this.deadlines.size },
          'leases renewed for their full TTL on becoming leader',
        );
      }
    } else {
      const gap = now - this.lastTick;
      if (gap > STALL_MS) {
        for (const [id, deadline] of this.deadlines) this.deadlines.set(id, deadline + gap);
        this.deps.logger.warn({ stalledMs: gap }, 'the process stalled; lease deadlines moved by the stall');
      }
      this.sync(now);
    }
    this.lastTick = now;
    this.expire(now);
  }

  /**
   * Picks up leases granted (full TTL from now) and forgets revoked ones: from the store's
   * journal of lease changes since the last sync, or, when it does not reach back that far (and
   * every FULL_SYNC_MS), by reading every lease: 100,000 session leases took 0.1–0.2 s to read,
   * which every 250 ms kept the leader half busy.
   */
  private sync(now: number): void {
    const kv = this.deps.kv;
    const changes = kv.leaseChangesSince(this.syncedVersion);
    if (changes !== undefined && now - this.syncedAt < FULL_SYNC_MS) {
      for (const change of changes) {
        if (change.ttl === undefined) {
          this.deadlines.delete(change.id);
          this.revoking.delete(change.id);
        } else if (!this.deadlines.has(change.id)) {
          this.deadlines.set(change.id, now + change.ttl * 1000);
        }
      }
      this.syncedVersion = changes.at(-1)?.version ?? this.syncedVersion;
      return;
    }
    this.syncedVersion = kv.leasesVersion();
    this.syncedAt = now;
    const live = new Set<number>();
    for (const [id, ttl] of this.deps.kv.leaseTtls()) {
      live.add(id);
      if (!this.deadlines.has(id)) this.deadlines.set(id, now + ttl * 1000);
    }
    for (const id of this.deadlines.keys()) {
      if (!live.has(id)) {
        this.deadlines.delete(id);
        this.revoking.delete(id);
      }
    }
  }

  private expire(now: number): void {
    let proposed = 0;
    for (const [id, deadline] of this.deadlines) {
      if (deadline > now) continue;
      const since = this.revoking.get(id);
      if (since !== undefined && now - since < REVOKE_RETRY_MS) continue;
      if (proposed++ >= MAX_REVOKES_PER_TICK) return;
      this.revoking.set(id, now);
      this.deps.propose({ type: 'leaseRevoke', id, reason: 'expired' }).then(
        (result) => {
          if ('error' in result) return;
          if (result.type === 'leaseRevoke') {
            this.deps.logger.info({ lease: id, deletedKeys: result.deleted }, 'lease expired');
          }
        },
        () => {
          // Not leader any more, or a timeout: the next leader (or the next try) handles it.
        },
      );
    }
  }
}
