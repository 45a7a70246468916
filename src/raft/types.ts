// Data types of the Raft core. Everything here is plain data: no behaviour, no I/O.

/** A member's stable identifier (a node name such as "n1"). The empty string means "none". */
export type NodeId = string;

/** `''` stands for "no node" (no vote cast, no leader known). */
export const NONE: NodeId = '';

/**
 * `normal`: application data; an empty normal entry is the no-op a new leader appends.
 * `conf`: a membership change; `data` is an encoded {@link ConfChange} (see confchange.ts).
 */
export type EntryType = 'normal' | 'conf';

export interface Entry {
  /** 1-based position in the log; consecutive within a log. */
  readonly index: number;
  /** Term of the leader that created the entry. */
  readonly term: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/** What must be on disk before a node replies to anything (Raft paper, Figure 2 "persistent state"). */
export interface HardState {
  readonly term: number;
  /** Candidate this node voted for in `term`, or NONE. */
  readonly vote: NodeId;
  /** Highest index known committed. Persisting it is an optimisation, not a safety requirement. */
  readonly commit: number;
}

/** The membership in force. Invariant: `voters` and `learners` are disjoint. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

export type ConfChangeType = 'addVoter' | 'addLearner' | 'removeNode';

/**
 * One-server-at-a-time membership change. `addVoter` on a learner promotes it.
 * A change takes effect on every node when its entry is applied (see RaftNode.advance).
 */
export interface ConfChange {
  readonly type: ConfChangeType;
  readonly nodeId: NodeId;
}

export interface SnapshotMeta {
  /** Last log index the snapshot covers. */
  readonly index: number;
  /** Term of the entry at `index`. */
  readonly term: number;
  /** Membership as of `index`. */
  readonly conf: ConfState;
}

export interface Snapshot {
  readonly meta: SnapshotMeta;
  /** The state machine's serialized state at `meta.index` (opaque to Raft). */
  readonly data: Uint8Array;
}

/** A linearizable read is safe to serve once the state machine has applied `index`. */
export interface ReadState {
  readonly index: number;
  /** The caller's identifier of the read, as passed to readIndex(). */
  readonly context: string;
}

export type RaftRole = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/** Volatile state worth telling the application about when it changes. */
export interface SoftState {
  readonly leader: NodeId;
  readonly role: RaftRole;
}

interface MessageBase {
  readonly from: NodeId;
  readonly to: NodeId;
  /** Sender's term. Pre-vote requests carry the term the sender would campaign in. */
  readonly term: number;
}

/** Leader → follower: entries after (index, logTerm), and the leader's commit index. */
export interface AppendMessage extends MessageBase {
  readonly type: 'append';
  readonly index: number;
  readonly logTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
}

/**
 * Follower → leader. Accepted: `index` is the last index now matching the leader.
 * Rejected: `index` is the rejected prev index, `hint`/`hintTerm` the follower's best guess of
 * where the logs may match (its last index, or the last index with a term <= the leader's).
 */
export interface AppendResponseMessage extends MessageBase {
  readonly type: 'appendResponse';
  readonly index: number;
  readonly reject: boolean;
  readonly hint: number;
  readonly hintTerm: number;
}

/** Leader → follower. `readSeq` > 0 asks the follower to confirm leadership for a ReadIndex round. */
export interface HeartbeatMessage extends MessageBase {
  readonly type: 'heartbeat';
  readonly commit: number;
  readonly readSeq: number;
}

export interface HeartbeatResponseMessage extends MessageBase {
  readonly type: 'heartbeatResponse';
  readonly readSeq: number;
}

/** Candidate → voter (`vote`), or pre-candidate → voter (`preVote`). */
export interface VoteMessage extends MessageBase {
  readonly type: 'vote' | 'preVote';
  readonly lastIndex: number;
  readonly lastTerm: number;
  /** Set for an election started by leadership transfer: voters skip their leader-lease check. */
  readonly transfer: boolean;
}

export interface VoteResponseMessage extends MessageBase {
  readonly type: 'voteResponse' | 'preVoteResponse';
  readonly reject: boolean;
}

/** Leader → follower: one chunk of a snapshot. Chunks are sent in order, one in flight. */
export interface SnapshotChunkMessage extends MessageBase {
  readonly type: 'snapshot';
  readonly meta: SnapshotMeta;
  /** Byte offset of `data` within the whole snapshot. */
  readonly offset: number;
  readonly totalBytes: number;
  readonly data: Uint8Array;
}

/** Follower → leader: bytes of the snapshot at `snapshotIndex` received so far (next expected offset). */
export interface SnapshotResponseMessage extends MessageBase {
  readonly type: 'snapshotResponse';
  readonly snapshotIndex: number;
  readonly received: number;
}

/** Leader → transferee: campaign now, without waiting for an election timeout. */
export interface TimeoutNowMessage extends MessageBase {
  readonly type: 'timeoutNow';
}

/** Follower → leader: a ReadIndex request forwarded on behalf of a local reader. */
export interface ReadIndexMessage extends MessageBase {
  readonly type: 'readIndex';
  readonly context: string;
}

/** Leader → follower: the read index for a forwarded request. */
export interface ReadIndexResponseMessage extends MessageBase {
  readonly type: 'readIndexResponse';
  readonly context: string;
  readonly index: number;
}

export type Message =
  | AppendMessage
  | AppendResponseMessage
  | HeartbeatMessage
  | HeartbeatResponseMessage
  | VoteMessage
  | VoteResponseMessage
  | SnapshotChunkMessage
  | SnapshotResponseMessage
  | TimeoutNowMessage
  | ReadIndexMessage
  | ReadIndexResponseMessage;

export type MessageType = Message['type'];

/**
 * Work for the application, produced by RaftNode.ready(). Handle it in this order, then call
 * RaftNode.advance(ready):
 *
 * 1. `messages` may be sent at once, before anything is persisted. They are the leader's
 *    replication traffic (thesis §10.2.1: the leader writes its log in parallel with sending),
 *    and only ever when `hardState` does not change the term or vote: a message never carries
 *    a term that is not durable yet.
 * 2. Persist atomically and durably: `snapshot` (if any; it replaces the WHOLE log: afterwards
 *    the log holds no entry, its compaction point is the snapshot's index),
 *    then `entries` (first truncating any stored entry at index >= entries[0].index), then
 *    `hardState` (if any).
 * 3. Only then send `messagesAfterPersist`: votes and acknowledgements that promise durability.
 * 4. Apply `snapshot.data` (if any) to the state machine, then `committedEntries` in order.
 * 5. Serve each of `readStates` once the state machine has applied its index.
 */
export interface Ready {
  readonly softState: SoftState | undefined;
  readonly hardState: HardState | undefined;
  readonly entries: readonly Entry[];
  readonly snapshot: Snapshot | undefined;
  readonly committedEntries: readonly Entry[];
  readonly messages: readonly Message[];
  readonly messagesAfterPersist: readonly Message[];
  readonly readStates: readonly ReadState[];
}
