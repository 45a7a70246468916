import type { KvStore } from '../kv/index.js';
import type { WatchHub } from './watch/watch-hub.js';

/** A node's own state and change feed, for an application that embeds the node (src/embed). */
export interface LocalState {
  readonly kv: KvStore;
  readonly watches: WatchHub;
  /** Whether the state may be served (a secondary before its first snapshot: not yet). */
  synced(): boolean;
}

/** What the health, status and metrics routes need to know about the node. */
export interface NodeView {
  isLeader(): boolean;
  /** Leader, or a follower that heard from its leader within an election timeout. */
  isRaftHealthy(): boolean;
  health(): HealthReport;
  status(): NodeStatus;
}

export interface HealthReport {
  readonly ok: boolean;
  readonly status: 'ready' | 'not-ready';
  readonly liveMembers: number;
  readonly minimumNodes: number;
  readonly raftHealthy: boolean;
  /** Why the node is not ready; empty when ok. */
  readonly reasons: readonly string[];
}

export interface MemberStatus {
  readonly name: string;
  readonly url: string;
  readonly voter: boolean;
  /** Milliseconds since this node last reached the member; null if never. */
  readonly lastContactMs: number | null;
  readonly live: boolean;
}

export interface NodeStatus {
  readonly name: string;
  readonly cluster: string;
  readonly role: 'primary';
  readonly version: string;
  readonly raft: {
    readonly state: string;
    readonly term: number;
    readonly leader: string | null;
    readonly leaderUrl: string | null;
    readonly commitIndex: number;
    readonly appliedIndex: number;
    readonly lastIndex: number;
  };
  readonly members: readonly MemberStatus[];
}
