// Reads and change callbacks on an embedded node's own state: no network, no consensus round.

import type { WatchEvent } from '../client/types.js';
import { ConclaveError } from '../client/errors.js';
import type { KeyValue, RangeOptions, RangeResult } from '../kv/types.js';
import type { LocalState } from '../server/node-view.js';
import type { WatchFilter } from '../server/watch/watch-hub.js';

export interface ChangeListenerOptions {
  /** Deliver changes from this revision (history from the change log); default: the next one. */
  readonly startRevision?: number;
  /** Called if the feed ends: COMPACTED (the start was compacted, or a secondary re-bootstrapped). */
  readonly onError?: (error: ConclaveError) => void;
}

/**
 * The state of this node, as it has applied it: on a primary, its SQLite state (serializable:
 * may trail the leader by the replication delay); on a secondary, its in-memory replica. The
 * revision never goes back. Listeners run synchronously as changes are applied: keep them short,
 * and a listener that throws is reported to `report` and kept.
 */
export class LocalReplica {
  private closed = false;

  constructor(
    private readonly state: LocalState,
    private readonly report: (error: unknown) => void,
  ) {}

  /** Whether the state may be read (a secondary before its first snapshot: not yet). */
  get synced(): boolean {
    return this.state.synced();
  }

  /** The revision this node has applied. */
  revision(): number {
    this.requireOpen();
    return this.state.kv.revision();
  }

  get(key: string): KeyValue | undefined {
    this.requireSynced();
    return this.state.kv.get(key).kv;
  }

  range(options: RangeOptions = {}): RangeResult {
    this.requireSynced();
    return this.state.kv.range(options);
  }

  /**
   * Calls `listener` with every change to `filter` (a key, or a prefix; `{ prefix: '' }` is
   * everything), in revision order, exactly once. Returns the function that stops it.
   */
  onChange(
    filter: WatchFilter,
    listener: (event: WatchEvent) => void,
    options: ChangeListenerOptions = {},
  ): () => void {
    this.requireOpen();
    const from = options.startRevision ?? this.state.kv.revision() + 1;
    const handle = this.state.watches.watch(
      filter,
      { revision: from, sub: 0 },
      {
        event: (change, revisionEnd) => {
          const event: WatchEvent = {
            type: change.type,
            revision: change.revision,
            kv: change.kv,
            ...(change.prevKv === undefined ? {} : { prevKv: change.prevKv }),
            ...(revisionEnd ? { revisionEnd: true } : {}),
          };
          try {
            listener(event);
          } catch (error) {
            this.report(error);
          }
          return true;
        },
        progress: () => undefined,
        fail: (code, details) => {
          const error = new ConclaveError(code, 'the change feed was compacted past this listener', {
            status: 410,
            details,
          });
          if (options.onError === undefined) {
            this.report(error);
            return;
          }
          try {
            options.onError(error);
          } catch (thrown) {
            this.report(thrown);
          }
        },
        drained: () => Promise.resolve(),
      },
    );
    return () => {
      handle.stop();
    };
  }

  /** Resolves once this node has applied `revision` (read your own writes locally). */
  async waitForRevision(
    revision: number,
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<void> {
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    for (;;) {
      this.requireOpen();
      if (this.state.kv.revision() >= revision) return;
      if (options.signal?.aborted === true) throw new ConclaveError('ABORTED', 'the wait was aborted');
      if (Date.now() > deadline) {
        throw new ConclaveError('TIMEOUT', `revision ${revision} not applied here in time`, {
          details: { revision, local: this.state.kv.revision() },
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  /** The node stopped: its state is closed. */
  close(): void {
    this.closed = true;
  }

  private requireOpen(): void {
    if (this.closed) throw new ConclaveError('SHUTTING_DOWN', 'this node was stopped', { status: 503 });
  }

  private requireSynced(): void {
    this.requireOpen();
    if (!this.state.synced()) {
      throw new ConclaveError('NOT_SYNCED', 'this secondary has not loaded its first snapshot yet', {
        status: 503,
      });
    }
  }
}
