import type { NodeId } from './types.js';

/** Stable codes of the failures the Raft core reports to its caller. */
export type RaftErrorCode =
  /** Only the leader accepts this request; `leader` names the leader if one is known. */
  | 'NOT_LEADER'
  /** No leader is known, so a follower cannot forward a ReadIndex request. */
  | 'NO_LEADER'
  /** The leader is handing leadership over and refuses proposals until it is done. */
  | 'LEADER_TRANSFER_IN_PROGRESS'
  /** Proposing would exceed maxUncommittedBytes; retry once earlier proposals commit. */
  | 'UNCOMMITTED_LIMIT'
  /** An earlier membership change is not applied yet; one change at a time. */
  | 'CONF_CHANGE_PENDING'
  /** The membership change is not valid against the current membership. */
  | 'INVALID_CONF_CHANGE'
  /** The leadership transfer target is not a voter of the cluster. */
  | 'INVALID_TRANSFER_TARGET';

export class RaftError extends Error {
  override readonly name = 'RaftError';
  readonly code: RaftErrorCode;
  /** The leader known to this node when the error was raised (NONE when unknown). */
  readonly leader: NodeId;

  constructor(code: RaftErrorCode, message: string, leader: NodeId) {
    super(message);
    this.code = code;
    this.leader = leader;
  }
}
