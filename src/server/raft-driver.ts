import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { createSeededRng, RaftNode } from '../raft/index.js';
import type { RaftError } from '../raft/index.js';
import type {
  ConfChange,
  Message,
  NodeId,
  RaftConfigInput,
  RaftStatus,
  Ready,
  SoftState,
} from '../raft/index.js';
import type { SqliteRaftStorage } from '../storage/index.js';
import { ServerError } from './errors.js';

/** Where outgoing peer messages go. Delivery is best effort: Raft tolerates loss. */
export interface PeerSender {
  send(messages: readonly Message[]): void;
}

export interface DriverOptions {
  readonly id: NodeId;
  readonly storage: SqliteRaftStorage;
  readonly sender: PeerSender;
  readonly logger: Logger;
  /** Milliseconds per Raft tick; the leader heartbeats every tick. */
  readonly tickMs: number;
  /** Election timeout in ticks (randomized up to twice this). */
  readonly electionTicks: number;
  readonly raft?: Partial<
    Omit<RaftConfigInput, 'id' | 'rng' | 'applied' | 'electionTicks' | 'heartbeatTicks'>
  >;
}

export interface DriverEvents {
  /** Leadership or role changed. */
  softState: [SoftState];
  /** A Ready was persisted; `seconds` is the transaction's duration (one fsync). */
  persisted: [{ seconds: number; entries: number }];
  /** Entries up to `index` are applied to the state machine. */
  applied: [{ index: number }];
}

interface PendingProposal {
  readonly term: number;
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: Error) => void;
}

interface PendingRead {
  index: number;
  readonly resolve: (index: number) => void;
  readonly reject: (error: Error) => void;
}

/**
 * Runs a RaftNode against real time, disk and network. All Raft work happens in process(), run
 * at most once per event-loop turn: everything that arrived meanwhile (peer messages, client
 * proposals) is stepped first, so one Ready, one SQLite transaction and one fsync serve the whole
 * batch (group commit).
 *
 * Ready handling follows the contract in src/raft/types.ts: leader messages go out before the
 * disk write, acknowledgements after it.
 */
export class RaftDriver extends EventEmitter<DriverEvents> {
  readonly id: NodeId;
  private readonly node: RaftNode;
  private readonly storage: SqliteRaftStorage;
  private readonly sender: PeerSender;
  private readonly logger: Logger;
  private readonly tickMs: number;
  private timer: NodeJS.Timeout | undefined;
  private scheduled = false;
  private stopped = false;
  private readonly proposals = new Map<number, PendingProposal>();
  private readonly reads = new Map<string, PendingRead>();
  /** Reads whose index is known, waiting for the state machine to reach it (scanned after each apply). */
  private readsAwaitingApply: PendingRead[] = [];
  private readSeq = 0;
  private inbox: Message[] = [];

  constructor(options: DriverOptions) {
    super();
    this.id = options.id;
    this.storage = options.storage;
    this.sender = options.sender;
    this.logger = options.logger;
    this.tickMs = options.tickMs;
    this.node = new RaftNode(
      {
        ...options.raft,
        id: options.id,
        rng: createSeededRng(hashSeed(options.id) ^ (Date.now() & 0x7fffffff)),
        electionTicks: options.electionTicks,
        heartbeatTicks: 1,
        applied: options.storage.appliedIndex(),
      },
      options.storage,
    );
  }

  start(): void {
    this.timer = setInterval(() => {
      this.node.tick();
      this.schedule();
    }, this.tickMs);
    this.schedule();
  }

  /** Stops ticking and fails every waiting request; the caller closes storage afterwards. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    const error = new ServerError('SHUTTING_DOWN', 'the node is shutting down');
    for (const p of this.proposals.values()) p.reject(error);
    this.proposals.clear();
    for (const r of this.reads.values()) r.reject(error);
    this.reads.clear();
    for (const r of this.readsAwaitingApply) r.reject(error);
    this.readsAwaitingApply = [];
  }

  /** Messages from a peer (already authenticated and decoded). */
  receive(messages: readonly Message[]): void {
    if (this.stopped) return;
    for (const m of messages) this.inbox.push(m);
    this.schedule();
  }

  /**
   * Proposes a command; resolves with the state machine's result once it is applied here, or
   * rejects: NOT_LEADER (with the leader), or PROPOSAL_DROPPED when another entry took its place.
   * A proposal may also never resolve (leadership lost before it committed): callers time out
   * and retry with the same request id, which the state machine deduplicates.
   */
  propose(data: Uint8Array, timeoutMs: number): Promise<unknown> {
    if (this.stopped) return Promise.reject(new ServerError('SHUTTING_DOWN', 'the node is shutting down'));
    return this.track(this.node.propose(data), timeoutMs);
  }

  proposeConfChange(change: ConfChange, timeoutMs: number): Promise<unknown> {
    if (this.stopped) return Promise.reject(new ServerError('SHUTTING_DOWN', 'the node is shutting down'));
    return this.track(this.node.proposeConfChange(change), timeoutMs);
  }

  private track(result: ReturnType<RaftNode['propose']>, timeoutMs: number): Promise<unknown> {
    if (!result.ok) return Promise.reject(fromRaftError(result.error));
    this.schedule();
    const { index, term } = result;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.proposals.get(index)?.term !== term) return;
        this.proposals.delete(index);
        reject(
          new ServerError(
            'TIMEOUT',
            'the write was not confirmed in time; it may still apply: retry it with the same request id',
          ),
        );
      }, timeoutMs);
      this.proposals.set(index, {
        term,
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
    });
  }

  /** Resolves once this node's state machine may serve a linearizable read (ReadIndex). */
  readIndex(timeoutMs: number): Promise<number> {
    if (this.stopped) return Promise.reject(new ServerError('SHUTTING_DOWN', 'the node is shutting down'));
    const context = `${this.id}:${++this.readSeq}`;
    const refused = this.node.readIndex(context);
    if (refused !== undefined) return Promise.reject(fromRaftError(refused));
    this.schedule();
    return new Promise((resolve, reject) => {
      const read: PendingRead = {
        index: 0,
        resolve: (index) => {
          clearTimeout(timer);
          resolve(index);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        this.reads.delete(context);
        this.readsAwaitingApply = this.readsAwaitingApply.filter((r) => r !== read);
        reject(new ServerError('TIMEOUT', 'the read could not be confirmed in time'));
      }, timeoutMs);
      this.reads.set(context, read);
    });
  }

  /**
   * The transport's hint that `id`'s process is gone. If it was the leader, this follower
   * campaigns at once or after its turn, rather than a whole election timeout
   * (RaftNode.leaderUnreachable); otherwise nothing changes.
   */
  peerGone(id: NodeId): void {
    if (this.stopped || !this.node.leaderUnreachable(id)) return;
    this.logger.info(
      { leader: id },
      'the leader is gone (its address refuses connections); campaigning early',
    );
    this.schedule();
  }

  transferLeadership(to: NodeId): void {
    const refused = this.node.transferLeadership(to);
    if (refused !== undefined) throw fromRaftError(refused);
    this.schedule();
  }

  status(): RaftStatus {
    return this.node.status();
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.process();
    });
  }

  private process(): void {
    if (this.stopped) return;
    const inbox = this.inbox;
    this.inbox = [];
    for (const m of inbox) this.node.step(m);
    while (this.node.hasReady()) {
      const rd = this.node.ready();
      this.handleReady(rd);
    }
  }

  private handleReady(rd: Ready): void {
    if (rd.softState !== undefined) {
      // Reads not yet given an index were dropped by the old leader: fail them fast for retry.
      const error = new ServerError('LEADER_CHANGED', 'leadership changed while confirming the read');
      for (const read of this.reads.values()) read.reject(error);
      this.reads.clear();
      if (rd.softState.role !== 'leader' && this.proposals.size > 0) {
        // Proposals of a deposed leader may still commit, or be replaced: the caller learns it
        // now rather than at its timeout, and retries with the same request id (exactly-once).
        const lost = new ServerError(
          'LEADER_CHANGED',
          'leadership changed before the write was confirmed; it may still apply: retry it with the same request id',
        );
        for (const p of this.proposals.values()) p.reject(lost);
        this.proposals.clear();
      }
      this.emit('softState', rd.softState);
    }
    if (rd.messages.length > 0) this.sender.send(rd.messages);
    const started = performance.now();
    let results: Map<number, unknown>;
    try {
      results = this.storage.persistReady(rd);
    } catch (error) {
      // The disk refused a write: continuing could acknowledge what is not durable. Stop hard.
      this.logger.fatal({ err: error }, 'persisting raft state failed; stopping the node');
      this.stop();
      throw error;
    }
    const seconds = (performance.now() - started) / 1000;
    if (rd.snapshot !== undefined) {
      this.logger.info(
        { index: rd.snapshot.meta.index, bytes: rd.snapshot.data.length },
        'installed snapshot',
      );
    }
    this.emit('persisted', { seconds, entries: rd.entries.length });
    if (rd.messagesAfterPersist.length > 0) this.sender.send(rd.messagesAfterPersist);
    for (const entry of rd.committedEntries) {
      const pending = this.proposals.get(entry.index);
      if (pending === undefined) continue;
      this.proposals.delete(entry.index);
      if (pending.term === entry.term) pending.resolve(results.get(entry.index));
      else
        pending.reject(new ServerError('PROPOSAL_DROPPED', 'a new leader replaced the proposal; retry it'));
    }
    for (const rs of rd.readStates) {
      const read = this.reads.get(rs.context);
      if (read === undefined) continue;
      this.reads.delete(rs.context);
      read.index = rs.index;
      this.readsAwaitingApply.push(read);
    }
    this.node.advance(rd);
    const applied = this.storage.appliedIndex();
    if (rd.committedEntries.length > 0 || rd.snapshot !== undefined) this.emit('applied', { index: applied });
    if (this.readsAwaitingApply.length > 0) {
      const waiting: PendingRead[] = [];
      for (const read of this.readsAwaitingApply) {
        if (read.index <= applied) read.resolve(read.index);
        else waiting.push(read);
      }
      this.readsAwaitingApply = waiting;
    }
  }
}

function fromRaftError(error: RaftError): ServerError {
  return new ServerError(error.code, error.message, { leader: error.leader });
}

function hashSeed(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
