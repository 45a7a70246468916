import type { Rng } from './rng.js';
import type { NodeId } from './types.js';

/**
 * Bugs planted on purpose, each enabled only by name, to show that the simulator catches them.
 * Never set outside the simulator and its tests.
 */
export type Mutant =
  /** Commit an entry of an earlier term by counting replicas (the paper's Figure 8). */
  | 'commit-old-term'
  /** Grant a vote without checking that the candidate's log is at least as up to date. */
  | 'vote-without-log-check'
  /** Do not persist the vote before replying, so a restarted node forgets it. */
  | 'forget-vote-on-restart'
  /** Accept entries when the previous index exists, without matching its term. */
  | 'skip-prev-log-check'
  /** Serve ReadIndex from the commit index without confirming leadership with a quorum. */
  | 'stale-leader-read'
  /** On a hint that the leader is gone (leaderUnreachable), also forget this term's vote. */
  | 'hint-clears-vote';

export const MUTANTS: readonly Mutant[] = [
  'commit-old-term',
  'vote-without-log-check',
  'forget-vote-on-restart',
  'skip-prev-log-check',
  'stale-leader-read',
  'hint-clears-vote',
];

export interface RaftConfig {
  readonly id: NodeId;
  /** Injected randomness (election jitter). */
  readonly rng: Rng;
  /** A follower campaigns after a random timeout in [electionTicks, 2 * electionTicks). */
  readonly electionTicks: number;
  /** A leader sends heartbeats every heartbeatTicks. Invariant: heartbeatTicks < electionTicks. */
  readonly heartbeatTicks: number;
  /** Ask for pre-votes before a real election, so a partitioned node cannot disrupt the cluster. */
  readonly preVote: boolean;
  /** A leader that has not heard from a quorum within an election timeout steps down. */
  readonly checkQuorum: boolean;
  /** Upper bound on entry bytes in one append message (one entry is always allowed). */
  readonly maxSizePerMsg: number;
  /** Bound on append messages in flight to one follower in replicate state. */
  readonly maxInflightMsgs: number;
  /** Bound on entry bytes in flight to one follower in replicate state. */
  readonly maxInflightBytes: number;
  /** Proposals are refused with UNCOMMITTED_LIMIT once this many bytes await commit. */
  readonly maxUncommittedBytes: number;
  /** Bound on committed entry bytes handed out in one Ready (one entry is always allowed). */
  readonly maxCommittedBytesPerReady: number;
  /** Size of one snapshot chunk message. */
  readonly maxSnapshotChunkBytes: number;
  /** Index the state machine has already applied durably (it restarts from there). */
  readonly applied: number;
  /** Planted bug, for the simulator only. */
  readonly mutant: Mutant | undefined;
}

export type RaftConfigInput = Pick<RaftConfig, 'id' | 'rng'> & Partial<Omit<RaftConfig, 'id' | 'rng'>>;

export const RAFT_DEFAULTS = {
  electionTicks: 10,
  heartbeatTicks: 1,
  preVote: true,
  checkQuorum: true,
  maxSizePerMsg: 1024 * 1024,
  maxInflightMsgs: 256,
  maxInflightBytes: 32 * 1024 * 1024,
  maxUncommittedBytes: 64 * 1024 * 1024,
  maxCommittedBytesPerReady: 16 * 1024 * 1024,
  maxSnapshotChunkBytes: 1024 * 1024,
  applied: 0,
} as const;

/** Fills defaults and checks invariants; throws RangeError naming the bad field. */
export function resolveRaftConfig(input: RaftConfigInput): RaftConfig {
  const config: RaftConfig = { ...RAFT_DEFAULTS, mutant: undefined, ...input };
  if (config.id === '') throw new RangeError('raft config: id must not be empty');
  const positive = [
    'electionTicks',
    'heartbeatTicks',
    'maxSizePerMsg',
    'maxInflightMsgs',
    'maxInflightBytes',
    'maxUncommittedBytes',
    'maxCommittedBytesPerReady',
    'maxSnapshotChunkBytes',
  ] as const;
  for (const key of positive) {
    const value = config[key];
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(`raft config: ${key} must be a positive integer, got ${String(value)}`);
    }
  }
  if (config.heartbeatTicks >= config.electionTicks) {
    throw new RangeError('raft config: heartbeatTicks must be less than electionTicks');
  }
  if (!Number.isInteger(config.applied) || config.applied < 0) {
    throw new RangeError('raft config: applied must be a non-negative integer');
  }
  return config;
}
