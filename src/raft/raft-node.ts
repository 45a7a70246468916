import { applyConfChange, confChangeProblem, decodeConfChange, encodeConfChange } from './confchange.js';
import type { Mutant, RaftConfig, RaftConfigInput } from './config.js';
import { resolveRaftConfig } from './config.js';
import { RaftError } from './errors.js';
import { RaftLog } from './log.js';
import { Progress } from './progress.js';
import { committedIndex, hasQuorum, voteResult } from './quorum.js';
import { ReadOnly } from './read-only.js';
import type { RaftStorage } from './storage.js';
import type {
  AppendMessage,
  AppendResponseMessage,
  ConfChange,
  ConfState,
  Entry,
  HardState,
  HeartbeatMessage,
  HeartbeatResponseMessage,
  Message,
  NodeId,
  RaftRole,
  ReadIndexMessage,
  ReadState,
  Ready,
  SnapshotChunkMessage,
  SnapshotResponseMessage,
  SoftState,
  VoteMessage,
} from './types.js';
import { NONE } from './types.js';

export type ProposeResult =
  | { readonly ok: true; readonly index: number; readonly term: number }
  | { readonly ok: false; readonly error: RaftError };

export interface ProgressStatus {
  readonly match: number;
  readonly next: number;
  readonly state: Progress['state'];
  readonly recentActive: boolean;
  readonly isLearner: boolean;
}

export interface RaftStatus {
  readonly id: NodeId;
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly leader: NodeId;
  readonly role: RaftRole;
  readonly conf: ConfState;
  /** Ticks since this node last heard from its leader (a leader: from a quorum round). */
  readonly ticksSinceLeaderContact: number;
  readonly electionTicks: number;
  /** A leader's view of every member, keyed by id; empty on other roles. */
  readonly progress: ReadonlyMap<NodeId, ProgressStatus>;
  readonly leadTransferee: NodeId;
}

const EMPTY = new Uint8Array(0);
type MessageWithoutRouting<M extends Message> = M extends Message ? Omit<M, 'from' | 'term'> : never;

/**
 * A Raft peer as a pure, deterministic state machine (the model is etcd-io/raft's RawNode).
 * Inputs: tick(), step(), propose(), proposeConfChange(), readIndex(), transferLeadership(),
 * leaderUnreachable().
 * Output: ready() batches that the caller handles and acknowledges with advance().
 * It never does I/O, reads no clock and draws randomness only from config.rng.
 */
export class RaftNode {
  readonly id: NodeId;
  private readonly config: RaftConfig;
  private readonly mutant: Mutant | undefined;
  private readonly log: RaftLog;

  private term: number;
  private vote: NodeId;
  private role: RaftRole = 'follower';
  private leader: NodeId = NONE;
  private conf: ConfState;
  /** Log index that `conf` reflects; conf entries at or below it are already in `conf`. */
  private confIndex: number;
  /** Leader only: this node's own removal is proposed; it takes no new proposals, then hands over. */
  private removingSelf = false;

  /** Leader only: one entry per member other than learners removed; includes self. */
  private progress = new Map<NodeId, Progress>();
  /** Candidate / pre-candidate: votes received in the current election. */
  private votes = new Map<NodeId, boolean>();
  private readonly readOnly = new ReadOnly();
  /** Leader only: reads held until an entry of the current term commits (thesis §6.4 step 1). */
  private readsBeforeFirstCommit: { context: string; from: NodeId }[] = [];

  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout: number;
  /** Ticks since a follower heard from its leader; drives raft-health. */
  private ticksSinceLeaderContact: number;

  private leadTransferee: NodeId = NONE;
  /** Index of the latest conf-change entry; a new change waits until it is applied. */
  private pendingConfIndex = 0;
  private uncommittedBytes = 0;

  /** Follower: a snapshot being received in chunks. */
  private incomingSnapshot:
    { index: number; term: number; total: number; received: number; chunks: Uint8Array[] } | undefined;

  // Output accumulated for the next Ready.
  private msgs: Message[] = [];
  private msgsAfterPersist: Message[] = [];
  private readStates: ReadState[] = [];
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  private readyOutstanding = false;

  constructor(input: RaftConfigInput, storage: RaftStorage) {
    this.config = resolveRaftConfig(input);
    this.id = this.config.id;
    this.mutant = this.config.mutant;
    const { hardState, confState, confIndex } = storage.initialState();
    this.log = new RaftLog(storage, this.config.applied);
    this.term = hardState.term;
    this.vote = hardState.vote;
    this.conf = confState;
    this.confIndex = confIndex;
    // Conf changes already in the log but not in the storage's conf state are replayed as the
    // caller re-applies committed entries; those applied before restart are re-derived here.
    this.replayAppliedConfChanges(storage, confIndex);
    this.prevHardState = { term: this.term, vote: this.vote, commit: this.log.committed };
    this.prevSoftState = { leader: NONE, role: 'follower' };
    this.randomizedElectionTimeout = this.newElectionTimeout();
    this.ticksSinceLeaderContact = this.config.electionTicks;
  }

  // ------------------------------------------------------------------ inputs

  /** Advances logical time by one tick. */
  tick(): void {
    if (this.role === 'leader') this.tickLeader();
    else this.tickElection();
  }

  /** Feeds one message from a peer. Unknown, stale or malformed-in-context messages are ignored. */
  step(m: Message): void {
    if (m.to !== this.id || m.from === this.id) return;
    if (m.term > this.term) {
      if (m.type === 'vote' || m.type === 'preVote') {
        // Leader lease (check-quorum): while we hear from a leader, refuse to help unseat it.
        const inLease =
          this.config.checkQuorum &&
          this.leader !== NONE &&
          this.electionElapsed < this.config.electionTicks &&
          !m.transfer;
        if (inLease) return;
      }
      if (m.type === 'preVote' || (m.type === 'preVoteResponse' && !m.reject)) {
        // A pre-vote does not change anyone's term; a granted reply carries the prospective term.
      } else if (m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot') {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.term) {
      if (m.type === 'append' || m.type === 'heartbeat') {
        // A stale leader: our higher term in the reply makes it step down.
        this.send({ type: 'appendResponse', to: m.from, index: 0, reject: false, hint: 0, hintTerm: 0 });
      } else if (m.type === 'preVote') {
        this.send({ type: 'preVoteResponse', to: m.from, reject: true });
      }
      return;
    }

    if (m.type === 'vote' || m.type === 'preVote') {
      this.handleVoteRequest(m);
      return;
    }
    switch (this.role) {
      case 'leader':
        this.stepLeader(m);
        break;
      case 'candidate':
      case 'preCandidate':
        this.stepCandidate(m);
        break;
      case 'follower':
        this.stepFollower(m);
        break;
    }
  }

  propose(data: Uint8Array): ProposeResult {
    const refused = this.checkCanPropose(data.length);
    if (refused !== undefined) return { ok: false, error: refused };
    return this.appendProposal('normal', data);
  }

  proposeConfChange(change: ConfChange): ProposeResult {
    const refused = this.checkCanPropose(0);
    if (refused !== undefined) return { ok: false, error: refused };
    if (this.pendingConfIndex > this.log.applied) {
      return {
        ok: false,
        error: this.error('CONF_CHANGE_PENDING', 'an earlier membership change is not yet applied'),
      };
    }
    const problem = confChangeProblem(this.conf, change);
    if (problem !== undefined) {
      return { ok: false, error: this.error('INVALID_CONF_CHANGE', problem) };
    }
    const result = this.appendProposal('conf', encodeConfChange(change));
    this.pendingConfIndex = result.index;
    // Nothing may follow our own removal in the log, so every remaining voter that acknowledged
    // it holds a log as complete as ours and can win without us.
    if (change.type === 'removeNode' && change.nodeId === this.id) this.removingSelf = true;
    return result;
  }

  /**
   * Asks for a linearizable read point. The answer arrives as a ReadState carrying `context` in a
   * later Ready; it may never arrive (leadership lost), so callers time out.
   */
  readIndex(context: string): RaftError | undefined {
    if (this.role === 'leader') {
      this.leaderReadIndex({ context, from: this.id });
      return undefined;
    }
    if (this.leader === NONE) return this.error('NO_LEADER', 'no leader is known to serve a read index');
    this.send({ type: 'readIndex', to: this.leader, context });
    return undefined;
  }

  /**
   * A hint from outside that peer `id` is gone (its connection broke and its address refused a
   * new one: nothing listens there). When `id` is this follower's leader, the follower forgets
   * it and leaves the leader lease. It campaigns at once if no other voter's id (the gone one
   * aside, alive or not) sorts before its own, and then every tick while its pre-vote goes
   * unanswered (the others may not have been told yet); a follower with k voters ahead of it
   * campaigns after 2k or 2k + 1 ticks (at most an election timeout). So a crashed leader is
   * replaced in a fraction of an election timeout, and followers told at the same moment take
   * turns rather than split the vote.
   *
   * A hint changes only timers, the leader lease and the known leader, never a term, a vote or
   * the log, so even a wrong one cannot break safety. It is acted on only with pre-vote and
   * check-quorum both on (as in the server), which keep a wrong one harmless to a live leader:
   * the pre-vote it leads to is refused by followers in its lease, and its next heartbeat makes
   * this node its follower again (pending reads on this node fail with LEADER_CHANGED meanwhile).
   * Without them an early campaign could depose a live leader, so the hint is ignored.
   * Returns whether it was acted on.
   */
  leaderUnreachable(id: NodeId): boolean {
    if (!this.config.preVote || !this.config.checkQuorum) return false;
    if (this.role !== 'follower' || id === NONE || this.leader !== id) return false;
    this.leader = NONE;
    if (this.mutant === 'hint-clears-vote') this.vote = NONE;
    this.ticksSinceLeaderContact = Math.max(this.ticksSinceLeaderContact, this.config.electionTicks);
    // Out of the leader lease at once: step() refuses (pre-)votes only while a leader is known
    // and electionElapsed < electionTicks.
    this.electionElapsed = Math.max(this.electionElapsed, this.config.electionTicks);
    const ahead = this.conf.voters.filter((v) => v !== id && v < this.id).length;
    if (ahead === 0) {
      this.electionElapsed = 0;
      this.campaign('preVote', false);
      // Until a new term resets it (winning, or hearing from a leader), ask again every tick.
      this.randomizedElectionTimeout = 1;
      return true;
    }
    const wait = Math.min(this.config.electionTicks, 2 * ahead + this.config.rng.int(2));
    this.randomizedElectionTimeout = this.electionElapsed + wait;
    return true;
  }

  /** Hands leadership to `to` (thesis §3.10): proposals are refused until it completes or times out. */
  transferLeadership(to: NodeId): RaftError | undefined {
    if (this.role !== 'leader') return this.error('NOT_LEADER', 'only the leader can transfer leadership');
    if (!this.conf.voters.includes(to)) {
      return this.error('INVALID_TRANSFER_TARGET', `${to} is not a voter`);
    }
    if (to === this.id) return undefined;
    if (this.leadTransferee === to) return undefined;
    this.leadTransferee = to;
    // The transfer is abandoned if it does not complete within an election timeout.
    this.electionElapsed = 0;
    const pr = this.progress.get(to)!;
    if (pr.match === this.log.lastIndex()) this.send({ type: 'timeoutNow', to });
    return undefined;
  }

  // ------------------------------------------------------------------ output

  hasReady(): boolean {
    if (this.readyOutstanding) return false;
    if (this.role === 'leader') this.flushReplication();
    return (
      this.msgs.length > 0 ||
      this.msgsAfterPersist.length > 0 ||
      this.readStates.length > 0 ||
      this.log.hasEntriesToPersist() ||
      this.log.hasSnapshotToPersist() ||
      this.log.hasCommittedToApply() ||
      this.softStateChanged() ||
      this.hardStateChanged()
    );
  }

  /** Collects pending work. Call advance(ready) once it is handled, before the next ready(). */
  ready(): Ready {
    if (this.readyOutstanding) throw new Error('raft: ready() called again before advance()');
    if (this.role === 'leader') this.flushReplication();
    const softState = this.softStateChanged() ? this.softState() : undefined;
    if (softState !== undefined) this.prevSoftState = softState;
    const prevTerm = this.prevHardState.term;
    const prevVote = this.prevHardState.vote;
    let hardState: HardState | undefined;
    if (this.hardStateChanged()) {
      hardState = this.hardState();
      this.prevHardState = hardState;
    }
    const snapshot = this.log.snapshotToPersist();
    const entries = this.log.entriesToPersist();
    const committedEntries = this.log.committedToApply(this.config.maxCommittedBytesPerReady);
    // A term or vote change in this Ready must be durable before any message carries it
    // (e.g. a single voter becomes leader within one tick): then nothing leaves early.
    const termOrVoteChanged =
      hardState !== undefined && (hardState.term !== prevTerm || hardState.vote !== prevVote);
    const rd: Ready = {
      softState,
      hardState: hardState === undefined ? undefined : this.persistedView(hardState),
      entries,
      snapshot,
      committedEntries,
      messages: termOrVoteChanged ? [] : this.msgs,
      messagesAfterPersist: termOrVoteChanged
        ? [...this.msgs, ...this.msgsAfterPersist]
        : this.msgsAfterPersist,
      readStates: this.readStates,
    };
    this.msgs = [];
    this.msgsAfterPersist = [];
    this.readStates = [];
    this.readyOutstanding = true;
    return rd;
  }

  /** The caller has handled `rd`: its entries and snapshot are durable and its entries applied. */
  advance(rd: Ready): void {
    this.readyOutstanding = false;
    if (rd.snapshot !== undefined) {
      this.log.stableSnapshotTo(rd.snapshot.meta.index);
      this.log.appliedTo(rd.snapshot.meta.index);
      this.conf = rd.snapshot.meta.conf;
    }
    const lastPersisted = rd.entries[rd.entries.length - 1];
    if (lastPersisted !== undefined) {
      this.log.stableTo(lastPersisted.index, lastPersisted.term);
      if (this.role === 'leader') {
        this.progress.get(this.id)?.maybeUpdate(this.log.persistedIndex());
        this.maybeCommit();
      }
    }
    let appliedBytes = 0;
    for (const entry of rd.committedEntries) {
      appliedBytes += entry.data.length;
      if (entry.type === 'conf') this.applyConfEntry(entry);
    }
    const lastApplied = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastApplied !== undefined) this.log.appliedTo(lastApplied.index);
    if (this.role === 'leader') this.uncommittedBytes = Math.max(0, this.uncommittedBytes - appliedBytes);
  }

  status(): RaftStatus {
    const progress = new Map<NodeId, ProgressStatus>();
    if (this.role === 'leader') {
      for (const [id, pr] of this.progress) {
        progress.set(id, {
          match: pr.match,
          next: pr.next,
          state: pr.state,
          recentActive: pr.recentActive,
          isLearner: pr.isLearner,
        });
      }
    }
    return {
      id: this.id,
      term: this.term,
      vote: this.vote,
      commit: this.log.committed,
      applied: this.log.applied,
      lastIndex: this.log.lastIndex(),
      leader: this.leader,
      role: this.role,
      conf: this.conf,
      ticksSinceLeaderContact: this.role === 'leader' ? 0 : this.ticksSinceLeaderContact,
      electionTicks: this.config.electionTicks,
      progress,
      leadTransferee: this.leadTransferee,
    };
  }

  /** The membership as of the applied index (what a snapshot taken at applied must record). */
  confState(): ConfState {
    return this.conf;
  }

  // ------------------------------------------------------------------ roles

  private becomeFollower(term: number, leader: NodeId): void {
    this.reset(term);
    this.role = 'follower';
    this.leader = leader;
    if (leader !== NONE) this.ticksSinceLeaderContact = 0;
  }

  private becomePreCandidate(): void {
    // A pre-candidate keeps its term and vote: a failed pre-vote disturbs nobody.
    this.votes = new Map();
    this.progress = new Map();
    this.role = 'preCandidate';
    this.leader = NONE;
  }

  private becomeCandidate(): void {
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  private becomeLeader(): void {
    this.reset(this.term);
    this.role = 'leader';
    this.leader = this.id;
    const lastIndex = this.log.lastIndex();
    for (const id of [...this.conf.voters, ...this.conf.learners]) {
      const pr = this.newProgress(id, lastIndex + 1);
      if (id === this.id) {
        pr.match = this.log.persistedIndex();
        pr.becomeReplicate();
        pr.recentActive = true;
      }
      this.progress.set(id, pr);
    }
    // No conf change may be proposed until everything before our term is applied; that requires
    // our no-op to commit first, so the leader has committed an entry of its own term (§4.1 fix).
    this.pendingConfIndex = lastIndex + 1;
    this.appendEntries([{ index: lastIndex + 1, term: this.term, type: 'normal', data: EMPTY }]);
    // A removed node leads only to pass its log on to a remaining voter.
    this.maybeHandOverAfterRemoval();
  }

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.leader = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.newElectionTimeout();
    this.votes = new Map();
    this.progress = new Map();
    this.leadTransferee = NONE;
    this.removingSelf = false;
    this.readOnly.reset();
    this.readsBeforeFirstCommit = [];
    this.uncommittedBytes = 0;
  }

  private promotable(): boolean {
    return this.conf.voters.includes(this.id);
  }

  /**
   * Whether this node may start an election: a voter, or a node that applied its own removal
   * while its log may hold entries the remaining voters lack (e.g. the no-op of a term it led
   * after proposing its removal). Such a node would otherwise refuse every remaining voter its
   * vote (their logs are shorter) and never lead, wedging the cluster. It campaigns in the new
   * membership without counting itself, which keeps the single-server-change overlap argument,
   * and as leader only passes its log on and hands over (maybeHandOverAfterRemoval).
   */
  private canCampaign(): boolean {
    if (this.promotable()) return true;
    return (
      !this.conf.learners.includes(this.id) &&
      this.conf.voters.length > 0 &&
      this.log.lastIndex() > this.log.committed
    );
  }

  // ------------------------------------------------------------------ elections

  private tickElection(): void {
    this.electionElapsed++;
    this.ticksSinceLeaderContact++;
    if (this.canCampaign() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.campaign(this.config.preVote ? 'preVote' : 'vote', false);
    }
  }

  private campaign(kind: 'preVote' | 'vote', transfer: boolean): void {
    if (!this.canCampaign()) return;
    let term: number;
    if (kind === 'preVote') {
      this.becomePreCandidate();
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      term = this.term;
    }
    this.votes.set(this.id, true);
    if (this.tallyVotes()) return;
    for (const id of this.conf.voters) {
      if (id === this.id) continue;
      this.sendWithTerm(
        {
          type: kind,
          to: id,
          lastIndex: this.log.lastIndex(),
          lastTerm: this.log.lastTerm(),
          transfer,
        },
        term,
      );
    }
  }

  /** Returns true when the election ended (won or lost). */
  private tallyVotes(): boolean {
    const result = voteResult(this.conf.voters, this.votes);
    if (result === 'won') {
      if (!this.canCampaign()) {
        this.becomeFollower(this.term, NONE);
        return true;
      }
      if (this.role === 'preCandidate') this.campaign('vote', false);
      else this.becomeLeader();
      return true;
    }
    if (result === 'lost') {
      this.becomeFollower(this.term, NONE);
      return true;
    }
    return false;
  }

  private handleVoteRequest(m: VoteMessage): void {
    const responseType = m.type === 'vote' ? 'voteResponse' : 'preVoteResponse';
    const canVote =
      this.vote === m.from ||
      (this.vote === NONE && this.leader === NONE) ||
      (m.type === 'preVote' && m.term > this.term);
    const upToDate = this.mutant === 'vote-without-log-check' || this.log.isUpToDate(m.lastIndex, m.lastTerm);
    if (canVote && upToDate) {
      // A granted pre-vote answers in the prospective term so the candidate counts it.
      this.sendWithTerm({ type: responseType, to: m.from, reject: false }, m.term);
      if (m.type === 'vote') {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: responseType, to: m.from, reject: true });
    }
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case 'append':
      case 'heartbeat':
      case 'snapshot':
        // A leader exists in our term (a candidate's term equals m.term here).
        this.becomeFollower(m.term, m.from);
        this.stepFollower(m);
        return;
      case 'voteResponse':
      case 'preVoteResponse': {
        const expected = this.role === 'candidate' ? 'voteResponse' : 'preVoteResponse';
        if (m.type !== expected) return;
        if (!this.votes.has(m.from)) this.votes.set(m.from, !m.reject);
        this.tallyVotes();
        return;
      }
      default:
        return;
    }
  }

  // ------------------------------------------------------------------ follower

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'append':
        this.heardFromLeader(m.from);
        this.handleAppend(m);
        return;
      case 'heartbeat':
        this.heardFromLeader(m.from);
        this.handleHeartbeat(m);
        return;
      case 'snapshot':
        this.heardFromLeader(m.from);
        this.handleSnapshotChunk(m);
        return;
      case 'timeoutNow':
        // Leadership transfer: campaign at once, skipping pre-vote and the voters' lease check.
        this.campaign('vote', true);
        return;
      case 'readIndexResponse':
        this.readStates.push({ index: m.index, context: m.context });
        return;
      default:
        return;
    }
  }

  private heardFromLeader(leader: NodeId): void {
    this.electionElapsed = 0;
    this.ticksSinceLeaderContact = 0;
    this.leader = leader;
  }

  private handleAppend(m: AppendMessage): void {
    const log = this.log;
    for (let i = 0; i < m.entries.length; i++) {
      // A well-formed append carries consecutive entries right after (index, logTerm).
      if (m.entries[i]!.index !== m.index + 1 + i || m.entries[i]!.term > m.term) return;
    }
    if (m.index < log.committed) {
      this.send({
        type: 'appendResponse',
        to: m.from,
        index: log.committed,
        reject: false,
        hint: 0,
        hintTerm: 0,
      });
      return;
    }
    const prevMatches =
      this.mutant === 'skip-prev-log-check'
        ? m.index <= log.lastIndex() && log.term(m.index) !== undefined
        : log.matchTerm(m.index, m.logTerm);
    if (!prevMatches) {
      const hint = log.findConflictByTerm(Math.min(m.index, log.lastIndex()), m.logTerm);
      this.send({
        type: 'appendResponse',
        to: m.from,
        index: m.index,
        reject: true,
        hint,
        hintTerm: log.term(hint) ?? 0,
      });
      return;
    }
    const lastNew = m.index + m.entries.length;
    const conflict = log.findConflict(m.entries);
    if (conflict !== 0) {
      log.append(m.entries.slice(conflict - (m.index + 1)));
    }
    log.commitTo(Math.min(m.commit, lastNew));
    this.send({ type: 'appendResponse', to: m.from, index: lastNew, reject: false, hint: 0, hintTerm: 0 });
  }

  private handleHeartbeat(m: HeartbeatMessage): void {
    // The leader sends min(its commit, our match), so this never passes our last index.
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    this.send({ type: 'heartbeatResponse', to: m.from, readSeq: m.readSeq });
  }

  private handleSnapshotChunk(m: SnapshotChunkMessage): void {
    const meta = m.meta;
    let incoming = this.incomingSnapshot;
    if (
      m.offset === 0 &&
      !(incoming?.index === meta.index && incoming.term === meta.term && incoming.received > 0)
    ) {
      incoming = { index: meta.index, term: meta.term, total: m.totalBytes, received: 0, chunks: [] };
      this.incomingSnapshot = incoming;
    }
    if (incoming?.index === meta.index && incoming.term === meta.term && m.offset < incoming.received) {
      // A duplicate of a chunk we hold: say where we are (the leader sends nothing new for it
      // while a later chunk is in flight, so this does not multiply traffic).
      this.ackSnapshotChunk(m.from, meta.index, incoming.received);
      return;
    }
    if (
      incoming?.index !== meta.index ||
      incoming.term !== meta.term ||
      m.offset !== incoming.received ||
      incoming.received + m.data.length > incoming.total
    ) {
      // Out of order or from an older transfer: tell the leader where we are.
      this.ackSnapshotChunk(m.from, meta.index, incoming?.index === meta.index ? incoming.received : 0);
      return;
    }
    incoming.chunks.push(m.data);
    incoming.received += m.data.length;
    if (incoming.received < incoming.total) {
      this.ackSnapshotChunk(m.from, meta.index, incoming.received);
      return;
    }
    this.incomingSnapshot = undefined;
    const data = new Uint8Array(incoming.total);
    let at = 0;
    for (const chunk of incoming.chunks) {
      data.set(chunk, at);
      at += chunk.length;
    }
    this.restore({ meta, data }, m.from);
  }

  private ackSnapshotChunk(to: NodeId, snapshotIndex: number, received: number): void {
    this.send({ type: 'snapshotResponse', to, snapshotIndex, received });
  }

  private restore(snapshot: { meta: SnapshotChunkMessage['meta']; data: Uint8Array }, from: NodeId): void {
    const { index, term } = snapshot.meta;
    const log = this.log;
    if (index <= log.committed) {
      this.send({
        type: 'appendResponse',
        to: from,
        index: log.committed,
        reject: false,
        hint: 0,
        hintTerm: 0,
      });
      return;
    }
    if (log.matchTerm(index, term)) {
      // We already hold the snapshot's entries: fast-forward the commit index instead. Our
      // suffix beyond `index` may differ from the leader's, so acknowledge only `index`.
      log.commitTo(index);
    } else {
      log.restore(snapshot);
      // The snapshot's membership takes effect when the caller has installed it (advance), so
      // confState() always describes the applied state; conf entries below it are skipped now.
      this.confIndex = index;
    }
    this.send({ type: 'appendResponse', to: from, index, reject: false, hint: 0, hintTerm: 0 });
  }

  // ------------------------------------------------------------------ leader

  private tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.config.electionTicks) {
      this.electionElapsed = 0;
      if (this.config.checkQuorum) {
        const active = hasQuorum(
          this.conf.voters,
          (id) => id === this.id || this.progress.get(id)?.recentActive === true,
        );
        for (const [id, pr] of this.progress) if (id !== this.id) pr.recentActive = false;
        if (!active) {
          this.becomeFollower(this.term, NONE);
          return;
        }
      }
      this.leadTransferee = NONE;
      this.maybeHandOverAfterRemoval();
    }
    if (this.heartbeatElapsed >= this.config.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.broadcastHeartbeat(this.readOnly.latestSeq());
    }
  }

  private stepLeader(m: Message): void {
    const pr = this.progress.get(m.from);
    switch (m.type) {
      case 'appendResponse':
        if (pr !== undefined) this.handleAppendResponse(m, pr);
        return;
      case 'heartbeatResponse':
        if (pr !== undefined) this.handleHeartbeatResponse(m, pr);
        return;
      case 'snapshotResponse':
        if (pr !== undefined) this.handleSnapshotResponse(m, pr);
        return;
      case 'readIndex':
        this.handleForwardedRead(m);
        return;
      default:
        return;
    }
  }

  private handleAppendResponse(m: AppendResponseMessage, pr: Progress): void {
    pr.recentActive = true;
    if (m.reject) {
      const probeFrom = m.hintTerm > 0 ? this.log.findConflictByTerm(m.hint, m.hintTerm) : m.hint;
      if (pr.maybeDecrTo(m.index, probeFrom) && pr.state === 'replicate') pr.becomeProbe();
      return;
    }
    const updated = pr.maybeUpdate(m.index);
    if (pr.state === 'snapshot') {
      if (pr.match >= (pr.snapshot?.snap.meta.index ?? 0)) pr.becomeProbe();
    } else if (pr.state === 'probe' && updated) {
      pr.becomeReplicate();
    } else if (pr.state === 'replicate') {
      pr.inflights.freeLE(m.index);
    }
    if (updated) {
      this.maybeCommit();
      if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) this.sendTimeoutNow(m.from);
    }
  }

  private handleHeartbeatResponse(m: HeartbeatResponseMessage, pr: Progress): void {
    pr.recentActive = true;
    pr.probeSent = false;
    if (
      pr.state === 'replicate' &&
      pr.match < pr.lastIndexAtHeartbeat &&
      pr.match === pr.matchAtLastHeartbeat
    ) {
      // Entries we had at the previous heartbeat reply are still unacknowledged and nothing was
      // acknowledged since: the pipeline lost a message. (Entries appended since do not count:
      // their acknowledgements may simply be on the way.)
      pr.becomeProbe();
    }
    pr.matchAtLastHeartbeat = pr.match;
    pr.lastIndexAtHeartbeat = this.log.lastIndex();
    const sending = pr.state === 'snapshot' ? pr.snapshot : undefined;
    if (sending !== undefined) {
      // Resend the chunk the follower waits for, only if the transfer made no progress since
      // the previous heartbeat reply (a chunk in flight is not resent).
      if (sending.acked === sending.ackedAtLastHeartbeat) {
        sending.sent = sending.acked;
        this.sendSnapshotChunk(m.from, pr);
      }
      sending.ackedAtLastHeartbeat = sending.acked;
    }
    if (m.readSeq > pr.readSeqAcked && !pr.isLearner) {
      pr.readSeqAcked = m.readSeq;
      this.releaseReads();
    }
  }

  /**
   * One chunk in flight: the next goes out when the follower has everything sent so far. A
   * reply below what we sent means the follower lost its partial copy (restart): resume there.
   * Duplicate replies while a chunk is in flight send nothing.
   */
  private handleSnapshotResponse(m: SnapshotResponseMessage, pr: Progress): void {
    pr.recentActive = true;
    const sending = pr.snapshot;
    if (pr.state !== 'snapshot' || sending?.snap.meta.index !== m.snapshotIndex) return;
    const wentBack = m.received < sending.acked;
    sending.acked = m.received;
    if (m.received >= sending.sent || wentBack) {
      sending.sent = m.received;
      this.sendSnapshotChunk(m.from, pr);
    }
  }

  private maybeCommit(): void {
    const index = committedIndex(this.conf.voters, (id) => this.progress.get(id)?.match ?? 0);
    if (index <= this.log.committed) return;
    // Figure 8: only an entry of the current term is committed by counting replicas.
    if (this.mutant !== 'commit-old-term' && this.log.term(index) !== this.term) return;
    const hadCommittedInTerm = this.log.term(this.log.committed) === this.term;
    this.log.commitTo(index);
    if (!hadCommittedInTerm) {
      const held = this.readsBeforeFirstCommit;
      this.readsBeforeFirstCommit = [];
      for (const read of held) this.leaderReadIndex(read);
    }
  }

  private checkCanPropose(bytes: number): RaftError | undefined {
    if (this.role !== 'leader') {
      return this.error(
        'NOT_LEADER',
        this.leader === NONE ? 'no leader is known' : `the leader is ${this.leader}`,
      );
    }
    if (this.leadTransferee !== NONE) {
      return this.error('LEADER_TRANSFER_IN_PROGRESS', `leadership is moving to ${this.leadTransferee}`);
    }
    if (this.removingSelf || !this.promotable()) {
      return this.error('LEADER_TRANSFER_IN_PROGRESS', 'this leader is being removed from the cluster');
    }
    if (this.uncommittedBytes > 0 && this.uncommittedBytes + bytes > this.config.maxUncommittedBytes) {
      return this.error(
        'UNCOMMITTED_LIMIT',
        `${this.uncommittedBytes} bytes await commit (limit ${this.config.maxUncommittedBytes})`,
      );
    }
    return undefined;
  }

  private appendProposal(type: Entry['type'], data: Uint8Array): { ok: true; index: number; term: number } {
    const index = this.log.lastIndex() + 1;
    this.appendEntries([{ index, term: this.term, type, data }]);
    this.uncommittedBytes += data.length;
    return { ok: true, index, term: this.term };
  }

  /** The leader's own match advances only once the caller reports the entries persisted. */
  private appendEntries(entries: Entry[]): void {
    this.log.append(entries);
  }

  /** Sends appends to every follower that can take them (called when a Ready is built). */
  private flushReplication(): void {
    for (const [id, pr] of this.progress) {
      if (id === this.id) continue;
      this.sendAppends(id, pr);
    }
  }

  private sendAppends(to: NodeId, pr: Progress): void {
    const log = this.log;
    for (;;) {
      if (pr.isPaused()) return;
      const lastIndex = log.lastIndex();
      // A caught-up follower is owed an empty append to learn a new commit index; a lagging one
      // learns it from the next entries (an empty append behind in-flight ones could be rejected).
      const commitOwed = log.committed > pr.sentCommit && pr.match === lastIndex;
      // A probing follower behind our log gets an empty append at our last index even when no
      // new entries exist (e.g. a member just added to an idle cluster): its rejection starts
      // the backtracking that brings it the log.
      const probeOwed = pr.state === 'probe' && pr.match < lastIndex;
      if (pr.next > lastIndex && !commitOwed && !probeOwed) return;
      const prevIndex = pr.next - 1;
      const prevTerm = log.term(prevIndex);
      const entries = pr.next > lastIndex ? [] : log.slice(pr.next, lastIndex + 1, this.config.maxSizePerMsg);
      if (prevTerm === undefined || entries === undefined) {
        this.startSnapshot(to, pr);
        return;
      }
      let bytes = 0;
      for (const e of entries) bytes += e.data.length;
      const last = entries.length > 0 ? entries[entries.length - 1]!.index : prevIndex;
      const commit = Math.min(log.committed, last);
      this.send({ type: 'append', to, index: prevIndex, logTerm: prevTerm, entries, commit });
      pr.sentCommit = Math.max(pr.sentCommit, commit);
      if (entries.length === 0) {
        if (pr.state === 'probe') pr.probeSent = true;
        return;
      }
      pr.sentEntries(last, bytes);
      if (pr.state !== 'replicate') return;
    }
  }

  private startSnapshot(to: NodeId, pr: Progress): void {
    if (!pr.recentActive) return;
    const snap = this.log.latestSnapshot();
    // Still being produced: the follower stays as it is, and the next Ready asks again.
    if (snap === undefined) return;
    pr.becomeSnapshot(snap);
    this.sendSnapshotChunk(to, pr);
  }

  private sendSnapshotChunk(to: NodeId, pr: Progress): void {
    const sending = pr.snapshot;
    if (sending === undefined) return;
    const total = sending.snap.data.length;
    // `sent` runs past `total` once the last chunk is out (an empty snapshot is one empty chunk).
    if (sending.sent > total || (sending.sent === total && total > 0)) return;
    const end = Math.min(total, sending.sent + this.config.maxSnapshotChunkBytes);
    this.send({
      type: 'snapshot',
      to,
      meta: sending.snap.meta,
      offset: sending.sent,
      totalBytes: total,
      data: sending.snap.data.subarray(sending.sent, end),
    });
    sending.sent = end === total && total === 0 ? 1 : end;
  }

  private broadcastHeartbeat(readSeq: number): void {
    for (const [id, pr] of this.progress) {
      if (id === this.id) continue;
      this.send({ type: 'heartbeat', to: id, commit: Math.min(pr.match, this.log.committed), readSeq });
    }
  }

  // ------------------------------------------------------------------ ReadIndex

  private handleForwardedRead(m: ReadIndexMessage): void {
    this.leaderReadIndex({ context: m.context, from: m.from });
  }

  private leaderReadIndex(read: { context: string; from: NodeId }): void {
    if (this.mutant === 'stale-leader-read') {
      this.answerRead(read, this.log.committed);
      return;
    }
    if (this.log.term(this.log.committed) !== this.term) {
      this.readsBeforeFirstCommit.push(read);
      return;
    }
    if (this.conf.voters.length === 1 && this.conf.voters[0] === this.id) {
      this.answerRead(read, this.log.committed);
      return;
    }
    const seq = this.readOnly.add(read, this.log.committed);
    if (seq !== undefined) this.broadcastHeartbeat(seq);
  }

  private releaseReads(): void {
    const { released, newRound } = this.readOnly.release(
      this.conf.voters,
      (id) => (id === this.id ? Number.MAX_SAFE_INTEGER : (this.progress.get(id)?.readSeqAcked ?? 0)),
      this.log.committed,
    );
    for (const { index, request } of released) this.answerRead(request, index);
    if (newRound !== undefined) this.broadcastHeartbeat(newRound);
  }

  private answerRead(read: { context: string; from: NodeId }, index: number): void {
    if (read.from === this.id) this.readStates.push({ index, context: read.context });
    else this.send({ type: 'readIndexResponse', to: read.from, context: read.context, index });
  }

  // ------------------------------------------------------------------ membership

  private applyConfEntry(entry: Entry): void {
    // An entry already reflected (e.g. covered by a snapshot restored meanwhile) is not reapplied.
    if (entry.index <= this.confIndex) return;
    this.confIndex = entry.index;
    const change = decodeConfChange(entry.data);
    if (change === undefined) return;
    this.conf = applyConfChange(this.conf, change);
    if (this.role !== 'leader') {
      // A (pre-)candidate that was just removed must not go on to win.
      if (this.role !== 'follower' && !this.canCampaign()) this.becomeFollower(this.term, NONE);
      return;
    }
    const members = new Set([...this.conf.voters, ...this.conf.learners]);
    for (const id of this.progress.keys()) if (id !== this.id && !members.has(id)) this.progress.delete(id);
    for (const id of members) {
      const existing = this.progress.get(id);
      if (existing === undefined) {
        const pr = this.newProgress(id, this.log.lastIndex() + 1);
        pr.recentActive = true;
        this.progress.set(id, pr);
      } else {
        existing.isLearner = this.conf.learners.includes(id);
      }
    }
    // A smaller quorum may commit more; pending reads may now have their quorum.
    this.maybeCommit();
    this.releaseReads();
    // Removed leader: it keeps leading (not counting itself) until it has handed leadership to
    // an up-to-date voter, so the rest never wait for entries only it holds.
    this.maybeHandOverAfterRemoval();
  }

  /** A leader no longer in the membership transfers leadership to its most caught-up voter. */
  private maybeHandOverAfterRemoval(): void {
    if (this.role !== 'leader' || this.promotable() || this.leadTransferee !== NONE) return;
    let best: NodeId = NONE;
    let bestMatch = -1;
    for (const id of this.conf.voters) {
      const match = this.progress.get(id)?.match ?? 0;
      if (match > bestMatch) {
        best = id;
        bestMatch = match;
      }
    }
    if (best === NONE) return;
    this.leadTransferee = best;
    this.electionElapsed = 0;
    if (bestMatch === this.log.lastIndex()) this.sendTimeoutNow(best);
  }

  /**
   * Tells an up-to-date transferee to campaign. A leader that is no longer a member then steps
   * down at once: the transferee holds every entry, so nobody needs this node's log any more.
   */
  private sendTimeoutNow(to: NodeId): void {
    this.send({ type: 'timeoutNow', to });
    if (!this.promotable()) this.becomeFollower(this.term, NONE);
  }

  /** Re-derives the membership from conf-change entries already applied before a restart. */
  private replayAppliedConfChanges(storage: RaftStorage, confIndex: number): void {
    const from = Math.max(confIndex + 1, storage.firstIndex());
    const to = Math.min(this.log.applied, storage.lastIndex());
    for (let i = from; i <= to;) {
      const batch = storage.entries(i, to + 1, 16 * 1024 * 1024);
      for (const entry of batch) {
        if (entry.type === 'conf') {
          const change = decodeConfChange(entry.data);
          if (change !== undefined) this.conf = applyConfChange(this.conf, change);
        }
        this.confIndex = entry.index;
      }
      i += batch.length;
      if (batch.length === 0) break;
    }
  }

  // ------------------------------------------------------------------ helpers

  private newProgress(id: NodeId, next: number): Progress {
    return new Progress(
      next,
      this.config.maxInflightMsgs,
      this.config.maxInflightBytes,
      this.conf.learners.includes(id),
    );
  }

  private newElectionTimeout(): number {
    return this.config.electionTicks + this.config.rng.int(this.config.electionTicks);
  }

  private send(m: MessageWithoutRouting<Message>): void {
    this.sendWithTerm(m, this.term);
  }

  /**
   * Queues a message. Leader traffic may leave before the Ready is persisted (§10.2.1); anything
   * else (votes, acknowledgements) promises durable state and waits for the persist.
   */
  private sendWithTerm(m: MessageWithoutRouting<Message>, term: number): void {
    const full = { ...m, from: this.id, term } as Message;
    if (this.role === 'leader' && isLeaderTraffic(full)) this.msgs.push(full);
    else this.msgsAfterPersist.push(full);
  }

  private error(code: RaftError['code'], message: string): RaftError {
    return new RaftError(code, message, this.leader);
  }

  private softState(): SoftState {
    return { leader: this.leader, role: this.role };
  }

  private softStateChanged(): boolean {
    return this.prevSoftState.leader !== this.leader || this.prevSoftState.role !== this.role;
  }

  private hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  private hardStateChanged(): boolean {
    const prev = this.prevHardState;
    return prev.term !== this.term || prev.vote !== this.vote || prev.commit !== this.log.committed;
  }

  /** What the caller is asked to persist; the forget-vote mutant drops votes cast for others. */
  private persistedView(hardState: HardState): HardState {
    if (this.mutant === 'forget-vote-on-restart' && hardState.vote !== this.id) {
      return { ...hardState, vote: NONE };
    }
    return hardState;
  }
}

function isLeaderTraffic(m: Message): boolean {
  return (
    m.type === 'append' ||
    m.type === 'heartbeat' ||
    m.type === 'snapshot' ||
    m.type === 'timeoutNow' ||
    m.type === 'readIndexResponse'
  );
}
