// Plain data exchanged with the key-value state machine: stored pairs, read options, apply
// results and change events. No behaviour here.

import type { KvErrorInfo } from './errors.js';

/**
 * One stored key, as etcd v3 reports it. Revisions are cluster revisions (see KvStore); a key
 * that does not exist has no KeyValue (compares treat it as version 0, create/mod revision 0).
 */
export interface KeyValue {
  readonly key: string;
  /** The value; `''` when the read asked for keys only. */
  readonly value: string;
  /** Revision of the put that created the key (since its last deletion). */
  readonly createRevision: number;
  /** Revision of the last put on the key. */
  readonly modRevision: number;
  /** Number of puts since the key was created: 1 after the creating put. */
  readonly version: number;
  /** Lease the key is attached to (deleted with it); null for none. */
  readonly lease: number | null;
}

/**
 * A key range, ordered by the keys' UTF-8 bytes. Either `prefix`, or `start` (inclusive) and/or
 * `end` (exclusive); none of them means every key. `after` narrows to keys strictly greater
 * (pagination: pass the last key of the previous page).
 */
export interface RangeOptions {
  readonly prefix?: string;
  readonly start?: string;
  readonly end?: string;
  readonly after?: string;
  /** At most this many pairs (a positive integer); absent means no limit. */
  readonly limit?: number;
  /** Values are left out (returned as `''`) and not read. */
  readonly keysOnly?: boolean;
  /** Only `count` is computed; `kvs` is empty. */
  readonly countOnly?: boolean;
}

export interface GetResult {
  readonly kv: KeyValue | undefined;
  /** The store's revision the read saw. */
  readonly revision: number;
}

export interface RangeResult {
  readonly kvs: readonly KeyValue[];
  /** Whether keys in the range follow the last one returned (the limit cut the answer short). */
  readonly more: boolean;
  /** Number of keys in the range (after `after`, regardless of `limit`). */
  readonly count: number;
  readonly revision: number;
}

// ---- apply results -------------------------------------------------------------------------

export interface PutResponse {
  readonly type: 'put';
  /** The pair before the put, when asked for with `prevKv` and the key existed. */
  readonly prevKv?: KeyValue;
}

export interface DeleteResponse {
  readonly type: 'delete';
  readonly deleted: number;
  /** The deleted pairs in key order, when asked for with `prevKv`. */
  readonly prevKvs?: readonly KeyValue[];
}

export interface GetResponse {
  readonly type: 'get';
  /** Absent when the key does not exist. */
  readonly kv?: KeyValue;
}

export interface RangeResponse {
  readonly type: 'range';
  readonly kvs: readonly KeyValue[];
  readonly more: boolean;
  readonly count: number;
}

/** The response to one operation of a txn branch, in the branch's order. */
export type OpResponse = PutResponse | DeleteResponse | GetResponse | RangeResponse;

/** `revision` is always the store's revision after the command. */
export type ApplyOk =
  | { readonly type: 'noop'; readonly revision: number }
  | (PutResponse & { readonly revision: number })
  | (DeleteResponse & { readonly revision: number })
  | {
      readonly type: 'txn';
      readonly revision: number;
      /** Whether every compare held (the success branch ran) or not (the failure branch ran). */
      readonly succeeded: boolean;
      readonly responses: readonly OpResponse[];
    }
  | { readonly type: 'compact'; readonly revision: number; readonly compactedRevision: number }
  | { readonly type: 'leaseGrant'; readonly revision: number; readonly id: number; readonly ttl: number }
  | {
      readonly type: 'leaseRevoke';
      readonly revision: number;
      readonly id: number;
      /** Keys deleted with the lease. */
      readonly deleted: number;
    };

export interface ApplyError {
  readonly error: KvErrorInfo;
}

/**
 * What apply() returns for a committed command. Never contains `undefined` values, so it
 * survives the JSON round trip through the exactly-once table unchanged.
 */
export type ApplyResult = ApplyOk | ApplyError;

// ---- change log ----------------------------------------------------------------------------

/**
 * One change of one key. Within a revision, `sub` numbers the changes from 0 in the order the
 * command made them. A delete's `kv` carries the key and the deleting revision (modRevision),
 * with version and createRevision 0 and value `''`, as etcd reports it.
 */
export interface ChangeEvent {
  readonly revision: number;
  readonly sub: number;
  readonly type: 'put' | 'delete';
  readonly kv: KeyValue;
  /** The pair just before this change, if the key existed then. */
  readonly prevKv?: KeyValue;
}

export type ChangesResult =
  | {
      readonly compacted: false;
      /** In (revision, sub) order. */
      readonly events: readonly ChangeEvent[];
      /** Whether more events follow the last one returned (resume from its revision and sub + 1). */
      readonly more: boolean;
      /** The store's current revision. */
      readonly revision: number;
    }
  | {
      readonly compacted: true;
      /** The oldest revision whose changes are still kept (compactedRevision + 1). */
      readonly oldest: number;
      readonly compactedRevision: number;
    };
