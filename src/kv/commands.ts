// What a write proposes: the command union, and its encoding as Raft entry data.
//
// Encoding: one format tag byte (COMMAND_FORMAT_JSON = 0x01) followed by the command as UTF-8
// JSON. The tag leaves room for a binary format later; JSON keeps the Raft log readable. An empty
// payload is Raft's leader no-op and decodes as `{ type: 'noop' }`.
//
// decodeCommand checks the shape only (types, known fields). Sizes and argument ranges are
// checked by validateCommand (validate.ts), which both the HTTP layer and the state machine run.

import { z } from 'zod';
import { KvError } from './errors.js';
import type { RangeOptions } from './types.js';

export type CompareOp = '=' | '!=' | '<' | '>';

/**
 * A txn guard on one key, etcd semantics: a missing key has version, createRevision and
 * modRevision 0 and no value, so any `value` compare against a missing key is false. Values
 * compare by their UTF-8 bytes.
 */
export type Compare =
  | { readonly key: string; readonly target: 'value'; readonly op: CompareOp; readonly value: string }
  | {
      readonly key: string;
      readonly target: 'version' | 'createRevision' | 'modRevision';
      readonly op: CompareOp;
      readonly value: number;
    };

export type CompareTarget = Compare['target'];

export interface PutOp {
  readonly type: 'put';
  readonly key: string;
  readonly value: string;
  /** Stored with the key; leases are not enforced yet. */
  readonly leaseId?: number;
  /** Return the pair as it was before the put. */
  readonly prevKv?: boolean;
}

export interface DeleteOp {
  readonly type: 'delete';
  readonly key: string;
  readonly prevKv?: boolean;
}

/** Deletes every key starting with `prefix` (`''` deletes every key). */
export interface DeleteRangeOp {
  readonly type: 'deleteRange';
  readonly prefix: string;
  readonly prevKv?: boolean;
}

export interface GetOp {
  readonly type: 'get';
  readonly key: string;
}

export interface RangeOp extends RangeOptions {
  readonly type: 'range';
}

/** The operations that write. */
export type WriteOp = PutOp | DeleteOp | DeleteRangeOp;

/** An operation of a txn branch. Reads see the writes made before them in the same branch. */
export type Op = PutOp | DeleteOp | DeleteRangeOp | GetOp | RangeOp;

/** Client supplied; a command whose id was already applied is not applied again (exactly-once). */
interface Requested {
  readonly requestId?: string;
}

export type PutCommand = PutOp & Requested;
export type DeleteCommand = DeleteOp & Requested;
export type DeleteRangeCommand = DeleteRangeOp & Requested;

export interface TxnCommand extends Requested {
  readonly type: 'txn';
  readonly compare: readonly Compare[];
  readonly success: readonly Op[];
  readonly failure: readonly Op[];
}

/** Drops the change log up to and including `revision` (replicated, as in etcd). */
export interface CompactCommand extends Requested {
  readonly type: 'compact';
  readonly revision: number;
}

/** Grants a lease of `ttl` seconds; `id` is chosen by the store when absent. */
export interface LeaseGrantCommand extends Requested {
  readonly type: 'leaseGrant';
  readonly ttl: number;
  readonly id?: number;
}

/** Revokes a lease: deletes every key attached to it (at one new revision), then the lease. */
export interface LeaseRevokeCommand extends Requested {
  readonly type: 'leaseRevoke';
  readonly id: number;
  /** Why, for the record (`expired` when the leader's lessor revoked it). */
  readonly reason?: 'expired' | 'revoked';
}

export interface NoopCommand {
  readonly type: 'noop';
}

export type Command =
  | NoopCommand
  | PutCommand
  | DeleteCommand
  | DeleteRangeCommand
  | TxnCommand
  | CompactCommand
  | LeaseGrantCommand
  | LeaseRevokeCommand;

export const COMMAND_FORMAT_JSON = 0x01;

// ---- shape schema --------------------------------------------------------------------------

const compareOp = z.enum(['=', '!=', '<', '>']);
const requestId = z.string().exactOptional();
const flag = z.boolean().exactOptional();

const compareSchema = z.union([
  z.strictObject({ key: z.string(), target: z.literal('value'), op: compareOp, value: z.string() }),
  z.strictObject({
    key: z.string(),
    target: z.enum(['version', 'createRevision', 'modRevision']),
    op: compareOp,
    value: z.number(),
  }),
]);

const putFields = {
  type: z.literal('put'),
  key: z.string(),
  value: z.string(),
  leaseId: z.number().exactOptional(),
  prevKv: flag,
};
const deleteFields = { type: z.literal('delete'), key: z.string(), prevKv: flag };
const deleteRangeFields = { type: z.literal('deleteRange'), prefix: z.string(), prevKv: flag };

const opSchema = z.discriminatedUnion('type', [
  z.strictObject(putFields),
  z.strictObject(deleteFields),
  z.strictObject(deleteRangeFields),
  z.strictObject({ type: z.literal('get'), key: z.string() }),
  z.strictObject({
    type: z.literal('range'),
    prefix: z.string().exactOptional(),
    start: z.string().exactOptional(),
    end: z.string().exactOptional(),
    after: z.string().exactOptional(),
    limit: z.number().exactOptional(),
    keysOnly: flag,
    countOnly: flag,
  }),
]);

const commandSchema: z.ZodType<Command> = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('noop') }),
  z.strictObject({ ...putFields, requestId }),
  z.strictObject({ ...deleteFields, requestId }),
  z.strictObject({ ...deleteRangeFields, requestId }),
  z.strictObject({
    type: z.literal('txn'),
    compare: z.array(compareSchema),
    success: z.array(opSchema),
    failure: z.array(opSchema),
    requestId,
  }),
  z.strictObject({ type: z.literal('compact'), revision: z.number(), requestId }),
  z.strictObject({
    type: z.literal('leaseGrant'),
    ttl: z.number(),
    id: z.number().exactOptional(),
    requestId,
  }),
  z.strictObject({
    type: z.literal('leaseRevoke'),
    id: z.number(),
    reason: z.enum(['expired', 'revoked']).exactOptional(),
    requestId,
  }),
]);

// ---- encoding ------------------------------------------------------------------------------

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });

/** The command as Raft entry data. Pass plain data: unknown fields make the command undecodable. */
export function encodeCommand(cmd: Command): Uint8Array {
  const json = encoder.encode(JSON.stringify(cmd));
  const out = new Uint8Array(json.length + 1);
  out[0] = COMMAND_FORMAT_JSON;
  out.set(json, 1);
  return out;
}

/** Throws KvError BAD_COMMAND unless `bytes` is an encoded command of a known shape. */
export function decodeCommand(bytes: Uint8Array): Command {
  if (bytes.length === 0) return { type: 'noop' };
  const tag = bytes[0]!;
  if (tag !== COMMAND_FORMAT_JSON) {
    throw new KvError('BAD_COMMAND', `unknown command format tag 0x${tag.toString(16).padStart(2, '0')}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(strictDecoder.decode(bytes.subarray(1)));
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new KvError('BAD_COMMAND', `command is not UTF-8 JSON: ${reason}`);
  }
  const result = commandSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? '' : ` at ${issue.path.join('.')}`;
    throw new KvError('BAD_COMMAND', `malformed command${where}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}
