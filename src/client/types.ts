// The shapes the client returns: the server's JSON answers (docs/API.md), typed.

import type { KeyValue } from '../kv/types.js';
import type { MemberStatus, NodeStatus } from '../server/node-view.js';
import type { MemberRecord as NodeMemberRecord } from '../server/registry/member-registry.js';

export type { KeyValue, OpResponse, RangeOptions } from '../kv/types.js';
export type { Compare, CompareOp, Op } from '../kv/commands.js';

export type Consistency = 'linearizable' | 'serializable';

export interface RangeAnswer {
  readonly kvs: readonly KeyValue[];
  /** Keys in the range follow the last one returned (the limit cut the answer short). */
  readonly more: boolean;
  /** Keys in the range (after `after`), regardless of the limit. */
  readonly count: number;
  readonly revision: number;
}

export interface PutAnswer {
  readonly revision: number;
  readonly prevKv?: KeyValue;
}

export interface DeleteAnswer {
  readonly revision: number;
  readonly deleted: number;
  readonly prevKvs?: readonly KeyValue[];
}

export interface TxnAnswer {
  readonly revision: number;
  /** Every compare held and the success branch ran. */
  readonly succeeded: boolean;
  readonly responses: readonly import('../kv/types.js').OpResponse[];
}

export interface LeaseGrantAnswer {
  readonly id: number;
  readonly ttl: number;
  readonly revision: number;
}

export interface LeaseInfoAnswer {
  readonly id: number;
  readonly ttl: number;
  /** Keys attached to it. */
  readonly keys: number;
  readonly remainingMs: number;
  readonly revision: number;
}

export interface LeaseListAnswer {
  readonly leases: readonly { readonly id: number; readonly ttl: number; readonly keys: number }[];
  readonly more: boolean;
  readonly revision: number;
}

/** A record of the member registry (`GET /v1/members`): what the node says of itself, plus what the answering node computed. */
export interface MemberRecord extends NodeMemberRecord {
  readonly ageSeconds: number;
  readonly heartbeatSecondsAgo: number;
  /** `up`, or `stale` (missed beats, not yet expired). */
  readonly state: 'up' | 'stale';
  /** The lease the record is attached to. */
  readonly lease: number;
}

export interface ActivityRecord {
  readonly seq: number;
  readonly revision: number;
  readonly member: string;
  readonly kind: string;
  readonly reason: string;
}

export interface MembersAnswer {
  readonly members: readonly MemberRecord[];
  readonly activity: readonly ActivityRecord[];
  readonly revision: number;
}

/** A primary of the Raft membership (`GET /v1/cluster/members`). */
export interface ClusterMember {
  readonly name: string;
  readonly url: string;
  readonly role: 'voter' | 'learner';
  readonly live: boolean;
  readonly lastContactMs: number | null;
}

export interface ClusterMembersAnswer {
  readonly leader: string | null;
  /** The answering node's applied Raft index. */
  readonly appliedIndex: number;
  readonly members: readonly ClusterMember[];
}

/** `GET /status` of one node; a secondary's carries `sync` instead of `raft`. */
export interface NodeStatusAnswer {
  readonly name: string;
  readonly cluster: string;
  readonly role: 'primary' | 'secondary';
  /** Primaries. */
  readonly version?: string;
  /** Secondaries: the replica's revision, and whether it has loaded its first state. */
  readonly revision?: number;
  readonly synced?: boolean;
  /** Primaries: as the node reports it (src/server/node-view.ts). */
  readonly raft?: NodeStatus['raft'];
  readonly members?: readonly MemberStatus[];
  readonly [field: string]: unknown;
}

/** One endpoint's status, or why it could not be read. */
export type EndpointStatus =
  | { readonly endpoint: string; readonly ok: true; readonly status: NodeStatusAnswer }
  | { readonly endpoint: string; readonly ok: false; readonly error: string };

export interface LeaderAnswer {
  readonly name: string;
  readonly url: string;
  readonly term: number;
}

/** A change to a watched key. */
export interface WatchEvent {
  readonly type: 'put' | 'delete';
  readonly revision: number;
  /** A delete's `kv` has the key and the deleting revision as modRevision; value `''`. */
  readonly kv: KeyValue;
  readonly prevKv?: KeyValue;
  /** The last change of its revision. */
  readonly revisionEnd?: boolean;
}
