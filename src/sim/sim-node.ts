// One simulated server: a RaftNode, its "disk" (a MemoryStorage, which survives crashes), its
// state machine (in memory, lost on crash) and its clock. It drives the core through the Ready
// contract (src/raft/types.ts) with an honest model of persistence:
//
//   ready() -> send `messages` at once -> the disk write takes simulated time -> write snapshot,
//   entries, hard state -> send `messagesAfterPersist` -> apply -> serve reads -> advance().
//
// One Ready is in flight at a time (the contract forbids a second ready() before advance()); a
// crash during the disk write loses that Ready entirely. On restart the node is rebuilt from
// the storage alone, its state machine from the storage's snapshot.
//
// Per-node invariants checked here: leader append-only, commit index monotonic per
// incarnation, entries applied in order without gaps or repeats.

import { applyConfChange, decodeConfChange, RaftNode } from '../raft/index.js';
import type {
  ConfChange,
  ConfState,
  Entry,
  MemoryStorage,
  Message,
  NodeId,
  ProposeResult,
  RaftConfigInput,
  RaftError,
  RaftRole,
  RaftStatus,
  RaftStorage,
  ReadState,
  Ready,
  Snapshot,
} from '../raft/index.js';
import type { Invariants } from './invariants.js';
import { describeEntry } from './invariants.js';
import type { Network } from './network.js';
import type { SimRandom } from './random.js';
import type { Scheduler } from './scheduler.js';
import { KvStateMachine } from './state-machine.js';
import type { CommandOutput } from './state-machine.js';
import { ShadowLog } from './shadow-log.js';
import type { Trace } from './trace.js';
import { SimViolation, violation } from './violation.js';

export interface DiskParams {
  /** Every write takes at least this long (ms). */
  readonly min: number;
  /** Mean of the exponential extra delay (ms). */
  readonly mean: number;
  /** Probability of a slow write (an extra 5-30 ms). */
  readonly slowChance: number;
}

export interface SnapshotParams {
  /** Probability of taking a snapshot after applying, once `minGap` entries were applied since the last. */
  readonly chance: number;
  readonly minGap: number;
  /** At most this many entries are kept behind a new snapshot (drawn uniformly from 0..max). */
  readonly maxTrailing: number;
}

/** Tallies for the run's statistics. */
export interface NodeCounters {
  crashes: number;
  restarts: number;
  snapshotsTaken: number;
  snapshotsRestored: number;
  snapshotsBusy: number;
}

/** What a node needs from the rest of the simulation. */
export interface NodeEnv {
  readonly counters: NodeCounters;
  readonly sched: Scheduler;
  readonly rand: SimRandom;
  readonly net: Network;
  readonly trace: Trace;
  readonly inv: Invariants;
  readonly disk: DiskParams;
  readonly snapshots: SnapshotParams;
  raftConfig(id: NodeId, applied: number): RaftConfigInput;
  /** The proposal `reqId` made on `node` was applied there (`output`) or can never be (`undefined`). */
  onProposalResult(node: SimNode, reqId: string, output: CommandOutput | undefined): void;
  /** The read `ctx` asked on `node` may now be served from its state machine. */
  onReadReady(node: SimNode, ctx: string): void;
  /** `node` was observed as leader of `term` for the first time. */
  onLeader(node: SimNode, term: number): void;
  /** `node`, a leader, advanced its commit index to `commit`. */
  onLeaderCommit(node: SimNode, commit: number): void;
  /** `node` applied a membership change; `conf` is its membership as of its applied index. */
  onConfApplied(node: SimNode, conf: ConfState): void;
}

export type NodeState = 'up' | 'down' | 'stopped';

interface Proposal {
  readonly reqId: string;
  readonly term: number;
}

export class SimNode {
  state: NodeState = 'down';
  raft: RaftNode | undefined;
  sm = new KvStateMachine();
  /** Membership as of sm.applied, tracked from the snapshot plus applied conf entries. */
  appliedConf: ConfState;
  /** This node's tick interval (ms): its clock rate. The fault injector may change it. */
  tickMs: number;
  /** Its normal tick interval (its own drift from the nominal rate included). */
  readonly baseTickMs: number;
  /** Last observed role and term (valid while up). */
  role: RaftRole = 'follower';
  term = 0;
  leaderHint: NodeId = '';
  crashes = 0;

  /** Bumped by every start and crash: callbacks scheduled for an older incarnation do nothing. */
  private incarnation = 0;
  private diskBusy = false;
  private readonly log = new ShadowLog();
  private lastCommit = 0;
  /** Term in which this node has been leader at every observation since it became leader; 0 if not leader. */
  private leaderTerm = 0;
  /** leaderTerm when the previous Ready was taken. */
  private lastReadyLeaderTerm = 0;
  private completenessCheckedTerm = 0;
  /** Proposals made on this node, by log index. */
  private readonly proposals = new Map<number, Proposal>();
  /** ReadIndex contexts asked on this node and not yet answered. */
  private readonly readsAsked = new Set<string>();
  /** Answered reads waiting for the state machine to reach their index. */
  private readsWaiting: ReadState[] = [];

  constructor(
    readonly id: NodeId,
    readonly storage: MemoryStorage,
    private readonly env: NodeEnv,
    tickMs: number,
  ) {
    this.tickMs = tickMs;
    this.baseTickMs = tickMs;
    this.appliedConf = storage.snapshot().meta.conf;
  }

  get up(): boolean {
    return this.state === 'up';
  }

  /** Boots (or reboots) from the storage alone. */
  start(): void {
    const env = this.env;
    if (this.state === 'down' && this.incarnation > 0) env.counters.restarts++;
    this.state = 'up';
    this.incarnation++;
    this.diskBusy = false;
    const snap = this.storage.snapshot();
    this.sm = KvStateMachine.restore(snap.data);
    if (this.sm.applied !== snap.meta.index) {
      violation(
        'core-error',
        `${this.id}: snapshot at ${snap.meta.index} holds a state at ${this.sm.applied}`,
      );
    }
    this.appliedConf = snap.meta.conf;
    this.raft = this.core(
      'constructor',
      () => new RaftNode(env.raftConfig(this.id, snap.meta.index), new CoreStorageView(this.storage, env)),
    );
    this.log.loadFrom(this.storage);
    this.lastCommit = 0;
    this.leaderTerm = 0;
    this.lastReadyLeaderTerm = 0;
    this.completenessCheckedTerm = 0;
    this.role = 'follower';
    this.leaderHint = '';
    this.proposals.clear();
    this.readsAsked.clear();
    this.readsWaiting = [];
    env.trace.add(
      this.id,
      'start',
      `from disk: snapshot ${snap.meta.index}/t${snap.meta.term}, log ${this.log.baseIndex + 1}..${this.log.lastIndex()}, ` +
        `hard state t${this.storage.initialState().hardState.term} vote ${this.storage.initialState().hardState.vote || '-'} ` +
        `commit ${this.storage.initialState().hardState.commit}; tick ${this.tickMs.toFixed(2)}ms`,
    );
    this.scheduleTick(this.incarnation, env.rand.range(0, this.tickMs));
    this.afterInput();
  }

  /** Loses everything not on disk, including a disk write in progress. */
  crash(): void {
    if (this.state !== 'up') return;
    this.state = 'down';
    this.crashes++;
    this.env.counters.crashes++;
    this.goDown();
    this.env.trace.add(this.id, 'crash', 'lost: volatile state and any unfinished disk write');
  }

  /** Removed from the cluster (or never admitted): shut down for good. */
  stop(reason: string): void {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.goDown();
    this.env.trace.add(this.id, 'stop', reason);
  }

  receive(m: Message): void {
    const raft = this.raft;
    if (this.state !== 'up' || raft === undefined) {
      this.env.net.drop(m, `${this.id} is ${this.state}`);
      return;
    }
    this.env.trace.add(this.id, 'recv', '', m);
    this.core('step', () => {
      raft.step(m);
    });
    this.afterInput();
  }

  propose(reqId: string, data: Uint8Array): ProposeResult {
    const raft = this.raft!;
    const res = this.core('propose', () => raft.propose(data));
    if (res.ok) this.proposals.set(res.index, { reqId, term: res.term });
    this.afterInput();
    return res;
  }

  proposeConfChange(cc: ConfChange): ProposeResult {
    const raft = this.raft!;
    const res = this.core('proposeConfChange', () => raft.proposeConfChange(cc));
    this.afterInput();
    return res;
  }

  readIndex(ctx: string): RaftError | undefined {
    const raft = this.raft!;
    const err = this.core('readIndex', () => raft.readIndex(ctx));
    if (err === undefined) this.readsAsked.add(ctx);
    this.afterInput();
    return err;
  }

  /** The transport's hint that peer `id` is gone (see gone-hints.ts). */
  peerGone(id: NodeId): void {
    const raft = this.raft;
    if (this.state !== 'up' || raft === undefined) return;
    this.core('leaderUnreachable', () => {
      raft.leaderUnreachable(id);
    });
    this.afterInput();
  }

  transferLeadership(to: NodeId): RaftError | undefined {
    const raft = this.raft!;
    const err = this.core('transferLeadership', () => raft.transferLeadership(to));
    this.afterInput();
    return err;
  }

  status(): RaftStatus | undefined {
    const raft = this.raft;
    return raft === undefined ? undefined : this.core('status', () => raft.status());
  }

  /** Last index of this node's log (as last reported). */
  lastIndex(): number {
    return this.log.lastIndex();
  }

  // ------------------------------------------------------------------ internals

  private goDown(): void {
    this.incarnation++;
    this.raft = undefined;
    this.diskBusy = false;
    this.leaderTerm = 0;
    this.role = 'follower';
    this.proposals.clear();
    this.readsAsked.clear();
    this.readsWaiting = [];
  }

  private scheduleTick(inc: number, delay: number): void {
    this.env.sched.after(delay, () => {
      const raft = this.raft;
      if (inc !== this.incarnation || raft === undefined) return;
      this.core('tick', () => {
        raft.tick();
      });
      this.afterInput();
      // A little jitter on top of the node's own rate.
      this.scheduleTick(inc, this.tickMs * this.env.rand.range(0.98, 1.02));
    });
  }

  /** Runs a core call; anything it throws is a core failure, reported as a violation. */
  private core<T>(what: string, f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof SimViolation) throw e;
      const msg = e instanceof Error ? e.message : String(e);
      return violation('core-error', `${this.id}: RaftNode.${what}() threw: ${msg}`);
    }
  }

  private afterInput(): void {
    this.observe();
    this.pump();
  }

  /** Checks what can be seen of the node after any input. */
  private observe(): void {
    const raft = this.raft;
    if (raft === undefined) return;
    const st = this.core('status', () => raft.status());
    if (st.commit < this.lastCommit) {
      violation(
        'commit-regression',
        `${this.id}: commit index went from ${this.lastCommit} down to ${st.commit}`,
      );
    }
    const advanced = st.commit > this.lastCommit;
    if (advanced) {
      const commit = st.commit;
      this.env.trace.add(this.id, 'commit', () => `commit index ${commit}`);
      this.lastCommit = st.commit;
    }
    if (st.role !== this.role || st.term !== this.term || st.leader !== this.leaderHint) {
      if (st.role !== this.role || st.term !== this.term) {
        this.env.trace.add(this.id, 'role', `${st.role} term ${st.term} (leader ${st.leader || 'unknown'})`);
      }
      this.role = st.role;
      this.term = st.term;
      this.leaderHint = st.leader;
    }
    if (st.role === 'leader') {
      if (this.leaderTerm !== st.term) {
        this.leaderTerm = st.term;
        if (this.env.inv.onLeader(this.id, st.term)) this.env.onLeader(this, st.term);
      }
      if (advanced) this.env.onLeaderCommit(this, st.commit);
    } else {
      this.leaderTerm = 0;
    }
  }

  /** Takes Readys while the disk is free. */
  private pump(): void {
    while (this.state === 'up' && !this.diskBusy) {
      const raft = this.raft!;
      if (!this.core('hasReady', () => raft.hasReady())) return;
      const rd = this.core('ready', () => raft.ready());
      this.takeReady(rd);
    }
  }

  private takeReady(rd: Ready): void {
    const env = this.env;
    this.checkMessageTerms(rd.messages, this.storage.initialState().hardState.term, 'messages');
    for (const m of rd.messages) env.net.send(m);
    this.observeLog(rd);
    if (rd.hardState === undefined && rd.entries.length === 0 && rd.snapshot === undefined) {
      this.completeReady(rd);
      return;
    }
    this.diskBusy = true;
    const inc = this.incarnation;
    const d = env.disk;
    let delay = d.min + env.rand.exp(d.mean);
    if (env.rand.chance(d.slowChance)) delay += env.rand.range(5, 30);
    env.sched.after(delay, () => {
      if (inc !== this.incarnation) return; // crashed meanwhile: the write never happened
      this.persist(rd);
      this.diskBusy = false;
      this.completeReady(rd);
      this.pump();
    });
  }

  /** Invariants on the log a Ready reveals, then the shadow log update. */
  private observeLog(rd: Ready): void {
    const log = this.log;
    const lt = this.leaderTerm;
    if (lt !== 0 && this.lastReadyLeaderTerm === lt) {
      // Leader of `lt` at every observation since the previous Ready: its log may only grow.
      if (rd.snapshot !== undefined) {
        violation(
          'leader-append-only',
          `${this.id}, leader of term ${lt}, replaced its log with snapshot ${rd.snapshot.meta.index}`,
        );
      }
      const first = rd.entries[0];
      if (first !== undefined && first.index <= log.lastIndex()) {
        violation(
          'leader-append-only',
          `${this.id}, leader of term ${lt}, rewrote its log from index ${first.index} ` +
            `(it held ${describeEntry(log.entry(first.index) ?? first)}; last index ${log.lastIndex()})`,
        );
      }
    }
    this.lastReadyLeaderTerm = lt;

    if (rd.snapshot !== undefined) log.reset(rd.snapshot.meta.index, rd.snapshot.meta.term);
    let started = false;
    for (const e of rd.entries) {
      if (e.index <= log.baseIndex) continue; // covered by the snapshot (storage drops it too)
      if (!started) {
        if (e.index > log.lastIndex() + 1) {
          violation(
            'core-error',
            `${this.id}: Ready entries start at ${e.index}, past last index ${log.lastIndex()}`,
          );
        }
        log.truncateFrom(e.index);
        started = true;
      } else if (e.index !== log.lastIndex() + 1) {
        violation('core-error', `${this.id}: Ready entries are not consecutive at ${e.index}`);
      }
      this.env.inv.onLogEntry(this.id, e, log.term(e.index - 1)!);
      log.push(e);
    }
    if (rd.entries.length > 0 || rd.snapshot !== undefined || rd.hardState !== undefined) {
      const base = log.baseIndex;
      const last = log.lastIndex();
      this.env.trace.add(this.id, 'persist', () => describeReadyWrite(rd, base, last));
    }
    if (lt !== 0 && this.completenessCheckedTerm !== lt) {
      this.completenessCheckedTerm = lt;
      this.env.inv.checkLeaderCompleteness(this.id, lt, log);
    }
  }

  private persist(rd: Ready): void {
    const storage = this.storage;
    try {
      if (rd.snapshot !== undefined) storage.applySnapshot(rd.snapshot);
      if (rd.entries.length > 0) storage.append(rd.entries);
      if (rd.hardState !== undefined) storage.setHardState(rd.hardState);
    } catch (e) {
      violation(
        'core-error',
        `${this.id}: persisting a Ready failed: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }

  /**
   * Ready contract: a message never carries a term that is not durable yet (pre-votes, and
   * the grants that answer them, carry a prospective term and are exempt).
   */
  private checkMessageTerms(msgs: readonly Message[], durableTerm: number, which: string): void {
    for (const m of msgs) {
      if (m.term > durableTerm && m.type !== 'preVote' && m.type !== 'preVoteResponse') {
        violation(
          'core-error',
          `${this.id}: Ready.${which} holds ${m.type} of term ${m.term} but term ${durableTerm} is the durable one`,
        );
      }
    }
  }

  /** Steps 3-5 of the Ready contract, then advance(). */
  private completeReady(rd: Ready): void {
    const env = this.env;
    const raft = this.raft!;
    // Persisted by now (or nothing to persist): the storage holds the durable term.
    this.checkMessageTerms(
      rd.messagesAfterPersist,
      this.storage.initialState().hardState.term,
      'messagesAfterPersist',
    );
    for (const m of rd.messagesAfterPersist) env.net.send(m);

    if (rd.snapshot !== undefined) {
      const meta = rd.snapshot.meta;
      this.sm = KvStateMachine.restore(rd.snapshot.data);
      if (this.sm.applied !== meta.index) {
        violation('core-error', `${this.id}: snapshot ${meta.index} carries a state at ${this.sm.applied}`);
      }
      this.appliedConf = meta.conf;
      env.inv.onSnapshotRestored(this.id, meta.index, meta.term, this.sm.chain);
      env.counters.snapshotsRestored++;
      env.trace.add(this.id, 'snapshot', `restored state from snapshot ${meta.index}/t${meta.term}`);
      // Proposals inside the snapshot can no longer be observed here: their outcome stays unknown.
      for (const index of this.proposals.keys()) if (index <= meta.index) this.proposals.delete(index);
    }

    let confChanged = false;
    for (const e of rd.committedEntries) {
      if (e.index !== this.sm.applied + 1) {
        violation(
          'apply-order',
          `${this.id}: handed entry ${e.index} to apply after applying ${this.sm.applied} (expected ${this.sm.applied + 1})`,
        );
      }
      const res = this.sm.apply(e);
      env.inv.onApply(this.id, e, this.sm.chain, this.term);
      if (e.type === 'conf') {
        const cc = decodeConfChange(e.data);
        if (cc !== undefined) this.appliedConf = applyConfChange(this.appliedConf, cc);
        confChanged = true;
      }
      if (e.data.length > 0) env.trace.add(this.id, 'apply', () => describeEntry(e));
      this.settleProposal(e, res);
    }

    for (const rs of rd.readStates) {
      if (this.readsAsked.delete(rs.context)) this.readsWaiting.push(rs);
    }

    this.core('advance', () => {
      raft.advance(rd);
    });

    if (this.readsWaiting.length > 0) this.serveReads();
    if (confChanged) env.onConfApplied(this, this.appliedConf);
    if (rd.committedEntries.length > 0) this.maybeSnapshot();
    this.observe();
  }

  private settleProposal(e: Entry, res: { reqId: string; output: CommandOutput } | undefined): void {
    const p = this.proposals.get(e.index);
    if (p === undefined) return;
    this.proposals.delete(e.index);
    // Our entry was (index, p.term); a different entry is now committed there, so ours never will be.
    const ours = e.term === p.term && res?.reqId === p.reqId;
    this.env.onProposalResult(this, p.reqId, ours ? res.output : undefined);
  }

  private serveReads(): void {
    const ready: string[] = [];
    const still: ReadState[] = [];
    for (const rs of this.readsWaiting) {
      if (rs.index <= this.sm.applied) ready.push(rs.context);
      else still.push(rs);
    }
    this.readsWaiting = still;
    for (const ctx of ready) this.env.onReadReady(this, ctx);
  }

  /**
   * Sometimes snapshots the state machine at its applied index and compacts the log behind it.
   * The membership recorded is the one as of that index (tracked here, not taken from the core,
   * whose membership may already reflect a snapshot received but not yet applied).
   */
  private maybeSnapshot(): void {
    const env = this.env;
    const storage = this.storage;
    const index = this.sm.applied;
    const { chance, minGap, maxTrailing } = env.snapshots;
    if (index - storage.snapshot().meta.index < minGap || !env.rand.chance(chance)) return;
    if (index > storage.lastIndex() || storage.term(index) === undefined) return;
    const trailing = env.rand.intIn(0, maxTrailing);
    storage.createSnapshot(index, this.appliedConf, this.sm.serialize(), trailing);
    env.counters.snapshotsTaken++;
    env.trace.add(
      this.id,
      'snapshot',
      `took snapshot at ${index}, log now starts at ${storage.firstIndex()}`,
    );
  }
}

function describeReadyWrite(rd: Ready, base: number, lastIndex: number): string {
  const parts: string[] = [];
  if (rd.snapshot !== undefined) parts.push(`snapshot ${rd.snapshot.meta.index}/t${rd.snapshot.meta.term}`);
  const first = rd.entries[0];
  const last = rd.entries[rd.entries.length - 1];
  if (first !== undefined && last !== undefined) {
    parts.push(`entries ${first.index}..${last.index} (t${first.term}..t${last.term})`);
  }
  if (rd.hardState !== undefined) {
    parts.push(
      `hard state t${rd.hardState.term} vote ${rd.hardState.vote || '-'} commit ${rd.hardState.commit}`,
    );
  }
  return `writing ${parts.join(', ')}; log now ${base + 1}..${lastIndex}`;
}

/**
 * The node's disk as its Raft core reads it. Half the time the core asks for the snapshot, it
 * is "still being produced" (undefined), as a storage that serializes a large state off the
 * event loop answers (SqliteRaftStorage with a producer): the leader must retry later rather
 * than stall or send nothing forever. Draws happen only on those (rare) calls, in event order.
 */
class CoreStorageView implements RaftStorage {
  constructor(
    private readonly storage: MemoryStorage,
    private readonly env: NodeEnv,
  ) {}

  initialState(): ReturnType<RaftStorage['initialState']> {
    return this.storage.initialState();
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    return this.storage.entries(lo, hi, maxBytes);
  }

  term(index: number): number | undefined {
    return this.storage.term(index);
  }

  firstIndex(): number {
    return this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.storage.lastIndex();
  }

  snapshot(): Snapshot | undefined {
    if (!this.env.rand.chance(0.5)) return this.storage.snapshot();
    this.env.counters.snapshotsBusy++;
    return undefined;
  }
}
